/* test_lc_store_paging.c — the store's in-memory object counts, remainingItemCount on paged lists,
 * consistent continued pages after concurrent writes, counts of an existing data dir, and the plan
 * of the corrections query (hack/localcluster/store_sqlite.c, store_counts.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "localcluster/store.h"

static char tmpdir[64];

static int setup_dir(void **state) {
  strcpy(tmpdir, "/tmp/lh-store-paging-XXXXXX");
  assert_non_null(mkdtemp(tmpdir));
  *state = tmpdir;
  return 0;
}
static int teardown_dir(void **state) {
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", (const char *)*state);
  if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", (const char *)*state);
  return 0;
}

static lh_store *open_dir(const char *dir) {
  lh_store_options o = {.dir = dir};
  lh_store *s = NULL;
  char err[256] = "";
  int rc = lh_store_open_sqlite(&o, &s, err, sizeof(err));
  if (rc) fail_msg("open %s: %d %s", dir ? dir : "mem", rc, err);
  return s;
}

static int create(lh_store *s, const char *res, const char *ns, const char *name) {
  json_t *o = json_pack("{s:{s:s,s:s}}", "metadata", "name", name, "namespace", ns);
  int rc = lh_store_create(s, res, ns, name, o, NULL);
  json_decref(o);
  return rc;
}

static int update(lh_store *s, const char *res, const char *ns, const char *name) {
  json_t *o = json_pack("{s:{s:s,s:s},s:{s:b}}", "metadata", "name", name, "namespace", ns, "spec", "changed", 1);
  int rc = lh_store_update(s, res, ns, name, o, NULL, NULL);
  json_decref(o);
  return rc;
}

static int64_t count(lh_store *s, const char *res, const char *ns) {
  int64_t n = -1;
  assert_int_equal(lh_store_count(s, res, ns, &n), 0);
  return n;
}

/* The counts every check compares with: SELECT count(*) through a second list call. */
static int count_item(void *ud, const char *ns, const char *name, const char *json, size_t len, int64_t rv) {
  (void)ns, (void)name, (void)json, (void)len, (void)rv;
  (*(int64_t *)ud)++;
  return 0;
}
static int64_t listed(lh_store *s, const char *res, const char *ns) {
  int64_t n = 0;
  lh_store_list_opts o = {.ns = ns};
  lh_store_list_result r;
  assert_int_equal(lh_store_list(s, res, &o, count_item, &n, &r), 0);
  return n;
}

static void assert_counts(lh_store *s, int64_t a, int64_t b, int64_t all, int64_t nodes) {
  assert_int_equal(count(s, "pods", "a"), a);
  assert_int_equal(count(s, "pods", "b"), b);
  assert_int_equal(count(s, "pods", NULL), all);
  assert_int_equal(count(s, "nodes", NULL), nodes);
  assert_int_equal(listed(s, "pods", "a"), a);
  assert_int_equal(listed(s, "pods", "b"), b);
  assert_int_equal(listed(s, "pods", NULL), all);
  assert_int_equal(listed(s, "nodes", NULL), nodes);
}

static void counts_follow_writes_and_rollbacks(void **state) {
  const char *dir = *state;
  lh_store *s = open_dir(dir);
  assert_int_equal(count(s, "pods", NULL), 0);
  assert_int_equal(count(s, "pods", "nowhere"), 0);
  for (int i = 0; i < 5; i++) {
    char n[16];
    snprintf(n, sizeof(n), "p%d", i);
    assert_int_equal(create(s, "pods", "a", n), 0);
    if (i < 3) assert_int_equal(create(s, "pods", "b", n), 0);
  }
  assert_int_equal(create(s, "nodes", "", "n1"), 0);
  assert_counts(s, 5, 3, 8, 1);

  /* updates and failed writes change nothing */
  assert_int_equal(update(s, "pods", "a", "p0"), 0);
  assert_int_equal(create(s, "pods", "a", "p0"), LH_STORE_EEXISTS);
  assert_int_equal(lh_store_delete(s, "pods", "a", "zz", NULL, NULL), LH_STORE_ENOTFOUND);
  lh_store_precond stale = {.rv = 1};
  assert_int_equal(lh_store_delete(s, "pods", "b", "p2", &stale, NULL), LH_STORE_ECONFLICT);
  for (int k = 0; k < 5; k++) { /* every statement of the write path failing in turn */
    lh_store_fault_inject(s, k, SQLITE_IOERR);
    assert_int_equal(create(s, "pods", "a", "faulty"), LH_STORE_EIO);
    lh_store_fault_inject(s, k, SQLITE_IOERR);
    assert_int_equal(lh_store_delete(s, "pods", "a", "p1", NULL, NULL), LH_STORE_EIO);
  }
  lh_store_fault_inject(s, -1, 0);
  assert_counts(s, 5, 3, 8, 1);

  assert_int_equal(lh_store_delete(s, "pods", "a", "p4", NULL, NULL), 0);
  assert_counts(s, 4, 3, 7, 1);

  /* a rolled-back txn leaves the counts as before; reads inside it see its writes */
  assert_int_equal(lh_store_txn_begin(s), 0);
  assert_int_equal(create(s, "pods", "c", "x"), 0);
  assert_int_equal(create(s, "pods", "a", "p4"), 0);
  assert_int_equal(create(s, "pods", "a", "p4"), LH_STORE_EEXISTS); /* undone alone */
  assert_int_equal(lh_store_delete(s, "pods", "b", "p0", NULL, NULL), 0);
  assert_int_equal(lh_store_delete(s, "pods", "b", "p0", NULL, NULL), LH_STORE_ENOTFOUND);
  assert_int_equal(count(s, "pods", "c"), 1);
  assert_int_equal(count(s, "pods", NULL), 8);
  lh_store_txn_rollback(s);
  assert_int_equal(count(s, "pods", "c"), 0);
  assert_counts(s, 4, 3, 7, 1);

  /* a txn whose COMMIT fails is rolled back, counts included */
  assert_int_equal(lh_store_txn_begin(s), 0);
  assert_int_equal(create(s, "pods", "b", "new"), 0);
  assert_int_equal(lh_store_delete(s, "pods", "a", "p0", NULL, NULL), 0);
  lh_store_fault_inject(s, 0, SQLITE_FULL);
  assert_int_equal(lh_store_txn_commit(s), LH_STORE_EIO);
  assert_counts(s, 4, 3, 7, 1);

  /* a committed txn keeps them, a failing write inside it included */
  assert_int_equal(lh_store_txn_begin(s), 0);
  assert_int_equal(create(s, "pods", "b", "new"), 0);
  lh_store_fault_inject(s, 1, SQLITE_IOERR);
  assert_int_equal(create(s, "pods", "b", "newer"), LH_STORE_EIO);
  assert_int_equal(lh_store_delete(s, "pods", "a", "p0", NULL, NULL), 0);
  assert_int_equal(lh_store_txn_commit(s), 0);
  assert_counts(s, 3, 4, 7, 1);
  lh_store_close(s);

  /* reopening counts what is stored */
  s = open_dir(dir);
  assert_counts(s, 3, 4, 7, 1);
  lh_store_close(s);
}

typedef struct page {
  char (*keys)[40];
  int64_t *rvs;
  int n, cap;
} page;

static int page_item(void *ud, const char *ns, const char *name, const char *json, size_t len, int64_t rv) {
  (void)json, (void)len;
  page *p = ud;
  assert_true(p->n < p->cap);
  snprintf(p->keys[p->n], sizeof(p->keys[0]), "%s/%s", ns, name);
  p->rvs[p->n++] = rv;
  return 0;
}

static page page_new(int cap) {
  page p = {.keys = calloc((size_t)cap, sizeof(*p.keys)), .rvs = calloc((size_t)cap, sizeof(int64_t)), .cap = cap};
  assert_non_null(p.keys);
  assert_non_null(p.rvs);
  return p;
}
static void page_free(page *p) {
  free(p->keys);
  free(p->rvs);
}

/* Pages through resource (ns or all) with limit, checking remainingItemCount on every page. */
static void page_through(lh_store *s, const char *ns, int64_t limit, int64_t total) {
  page p = page_new((int)total + 1);
  char tok[1024] = "";
  int64_t seen = 0;
  for (;;) {
    lh_store_list_opts o = {.ns = ns, .limit = limit, .continue_token = tok[0] ? tok : NULL};
    lh_store_list_result r;
    int before = p.n;
    assert_int_equal(lh_store_list(s, "pods", &o, page_item, &p, &r), 0);
    seen += p.n - before;
    if (!r.continue_token[0]) {
      assert_int_equal(r.remaining, -1);
      break;
    }
    assert_int_equal(p.n - before, limit);
    assert_int_equal(r.remaining, total - seen);
    strcpy(tok, r.continue_token);
  }
  assert_int_equal(seen, total);
  for (int i = 1; i < p.n; i++) assert_true(strcmp(p.keys[i - 1], p.keys[i]) < 0); /* key order, no repeats */
  page_free(&p);
}

static void remaining_item_count_on_every_page(void **state) {
  (void)state;
  lh_store *s = open_dir(NULL);
  const char *nss[] = {"a", "b", "c"};
  for (int i = 0; i < 300; i++) {
    char n[16];
    snprintf(n, sizeof(n), "p%03d", i);
    assert_int_equal(create(s, "pods", nss[i % 3], n), 0);
  }
  assert_int_equal(create(s, "pods", "d", "only"), 0);
  assert_int_equal(create(s, "nodes", "", "n1"), 0); /* other resources do not count */
  page_through(s, NULL, 7, 301);
  page_through(s, NULL, 100, 301);
  page_through(s, "b", 9, 100);
  page_through(s, "d", 1, 1);
  page_through(s, "none", 5, 0);

  /* deletes and creates between complete lists are counted */
  for (int i = 0; i < 300; i += 2) {
    char n[16];
    snprintf(n, sizeof(n), "p%03d", i);
    assert_int_equal(lh_store_delete(s, "pods", nss[i % 3], n, NULL, NULL), 0);
  }
  page_through(s, NULL, 13, 151);
  page_through(s, "a", 4, 50);

  /* a token from an all-namespaces list used for one namespace: no remainingItemCount from the
   * other scope's position (the apiserver rejects such a mix; the store must not lie) */
  lh_store_list_opts all = {.limit = 2};
  lh_store_list_result r;
  page p = page_new(400);
  assert_int_equal(lh_store_list(s, "pods", &all, page_item, &p, &r), 0);
  lh_store_list_opts one = {.ns = "a", .limit = 2, .continue_token = r.continue_token};
  lh_store_list_result r2;
  assert_int_equal(lh_store_list(s, "pods", &one, page_item, &p, &r2), 0);
  assert_int_equal(p.n, 4);
  assert_string_equal(p.keys[2], "a/p015"); /* after a/p003, a/p009 of the first page */
  assert_int_equal(r2.remaining, 50 - 4);  /* counted in SQLite, not from the token's position */

  /* a write between pages: the snapshot is older than now, no count is given (as before) */
  assert_int_equal(create(s, "pods", "a", "late"), 0);
  lh_store_list_opts next = {.limit = 2, .continue_token = r.continue_token};
  assert_int_equal(lh_store_list(s, "pods", &next, page_item, &p, &r2), 0);
  assert_int_equal(r2.remaining, -1);
  page_free(&p);
  lh_store_close(s);
}

static int only_even(void *ud, const char *ns, const char *name, const char *json, size_t len) {
  (void)ud, (void)ns, (void)json, (void)len;
  return (name[strlen(name) - 1] - '0') % 2 == 0;
}

static void remaining_item_count_with_filters_and_old_tokens(void **state) {
  (void)state;
  lh_store *s = open_dir(NULL);
  for (int i = 0; i < 20; i++) {
    char n[16];
    snprintf(n, sizeof(n), "p%02d", i);
    assert_int_equal(create(s, "pods", "a", n), 0);
  }
  page p = page_new(64);
  lh_store_list_opts f = {.limit = 3, .filter = only_even};
  lh_store_list_result r;
  assert_int_equal(lh_store_list(s, "pods", &f, page_item, &p, &r), 0);
  assert_int_equal(p.n, 3);
  assert_int_equal(r.remaining, -1); /* filtered: unknown, like the apiserver */
  /* continuing that token without the filter still answers correctly (counted in SQLite) */
  lh_store_list_opts nf = {.limit = 3, .continue_token = r.continue_token};
  lh_store_list_result r2;
  assert_int_equal(lh_store_list(s, "pods", &nf, page_item, &p, &r2), 0);
  assert_string_equal(p.keys[3], "a/p05");
  assert_int_equal(r2.remaining, 20 - 8);

  /* a token made before tokens carried a position: {"rv":R,"ns":"a","name":"p09"} */
  char raw[128], tok[256];
  snprintf(raw, sizeof(raw), "{\"rv\":%lld,\"ns\":\"a\",\"name\":\"p09\"}", (long long)lh_store_current_rv(s));
  /* base64url by hand: the store's alphabet, '=' padding */
  static const char B[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t n = strlen(raw), o = 0;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)(unsigned char)raw[i] << 16;
    if (i + 1 < n) v |= (uint32_t)(unsigned char)raw[i + 1] << 8;
    if (i + 2 < n) v |= (unsigned char)raw[i + 2];
    tok[o++] = B[(v >> 18) & 63];
    tok[o++] = B[(v >> 12) & 63];
    tok[o++] = i + 1 < n ? B[(v >> 6) & 63] : '=';
    tok[o++] = i + 2 < n ? B[v & 63] : '=';
  }
  tok[o] = '\0';
  lh_store_list_opts old = {.limit = 4, .continue_token = tok};
  p.n = 0;
  assert_int_equal(lh_store_list(s, "pods", &old, page_item, &p, &r2), 0);
  assert_string_equal(p.keys[0], "a/p10");
  assert_int_equal(r2.remaining, 20 - 14);
  /* a following page carries no position either (it never knew it): still counted */
  lh_store_list_opts old2 = {.limit = 4, .continue_token = r2.continue_token};
  assert_int_equal(lh_store_list(s, "pods", &old2, page_item, &p, &r), 0);
  assert_int_equal(r.remaining, 20 - 18);
  page_free(&p);
  lh_store_close(s);
}

/* Continued pages after writes everywhere in the key space return exactly the snapshot. */
static void continued_pages_are_a_consistent_snapshot(void **state) {
  (void)state;
  lh_store *s = open_dir(NULL);
  for (int i = 0; i < 200; i++) {
    char n[16];
    snprintf(n, sizeof(n), "p%03d", i);
    assert_int_equal(create(s, "pods", i % 2 ? "a" : "b", n), 0);
  }
  page want = page_new(400);
  lh_store_list_result r;
  assert_int_equal(lh_store_list(s, "pods", NULL, page_item, &want, &r), 0);
  int64_t R = r.rv;

  page got = page_new(400);
  lh_store_list_opts o = {.limit = 30};
  assert_int_equal(lh_store_list(s, "pods", &o, page_item, &got, &r), 0);
  assert_int_equal(r.remaining, 170);
  char tok[1024];
  strcpy(tok, r.continue_token);
  for (int round = 0; tok[0]; round++) {
    /* writes before and after the position: creates, updates, deletes, re-creates */
    for (int i = round; i < 200; i += 17) {
      char n[32];
      const char *ns = i % 2 ? "a" : "b";
      snprintf(n, sizeof(n), "p%03d", i);
      if (round % 3 == 0) {
        int rc = lh_store_delete(s, "pods", ns, n, NULL, NULL);
        assert_true(rc == 0 || rc == LH_STORE_ENOTFOUND);
      } else if (round % 3 == 1) {
        int rc = update(s, "pods", ns, n);
        if (rc == LH_STORE_ENOTFOUND) rc = create(s, "pods", ns, n);
        assert_int_equal(rc, 0);
      } else {
        snprintf(n, sizeof(n), "p%03d-x%d", i, round);
        assert_int_equal(create(s, "pods", ns, n), 0);
      }
    }
    lh_store_list_opts c = {.limit = 30, .continue_token = tok};
    assert_int_equal(lh_store_list(s, "pods", &c, page_item, &got, &r), 0);
    assert_int_equal(r.rv, R);
    if (r.continue_token[0]) assert_int_equal(r.remaining, -1);
    strcpy(tok, r.continue_token);
  }
  assert_int_equal(got.n, want.n);
  for (int i = 0; i < want.n; i++) {
    assert_string_equal(got.keys[i], want.keys[i]);
    assert_int_equal(got.rvs[i], want.rvs[i]);
  }
  /* the same snapshot read as at_rv, one namespace */
  page b = page_new(400);
  lh_store_list_opts at = {.ns = "b", .at_rv = R};
  assert_int_equal(lh_store_list(s, "pods", &at, page_item, &b, &r), 0);
  assert_int_equal(b.n, 100);
  for (int i = 0, j = 0; i < want.n; i++)
    if (strncmp(want.keys[i], "b/", 2) == 0) assert_string_equal(b.keys[j++], want.keys[i]);
  page_free(&b);
  page_free(&want);
  page_free(&got);
  lh_store_close(s);
}

static int plan_row(void *ud, int n, char **vals, char **cols) {
  (void)cols;
  for (int i = 0; i < n; i++)
    if (vals[i] && strstr(vals[i], "SCAN events")) *(int *)ud = -1; /* a full scan anywhere fails */
    else if (vals[i] && strstr(vals[i], "SEARCH events USING INTEGER PRIMARY KEY (rowid>?)") && *(int *)ud == 0)
      *(int *)ud = 1;
  return 0;
}

/* A data dir written earlier (rows only, events compacted away) opens with its counts and rv, and
 * the corrections read the events after the snapshot by rowid range, never the whole table. */
static void existing_data_dir_counts_and_corrections_plan(void **state) {
  const char *dir = *state;
  char path[128];
  snprintf(path, sizeof(path), "%s/state.db", dir);
  lh_store *s = open_dir(dir); /* creates the schema */
  lh_store_close(s);
  sqlite3 *db;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  const char *rows =
      "INSERT INTO objects VALUES('pods','a','p1',7,'u1','{\"metadata\":{\"name\":\"p1\"}}');"
      "INSERT INTO objects VALUES('pods','a','p2',9,'u2','{\"metadata\":{\"name\":\"p2\"}}');"
      "INSERT INTO objects VALUES('pods','b','p1',8,'u3','{\"metadata\":{\"name\":\"p1\"}}');"
      "INSERT INTO objects VALUES('nodes','','n1',3,'u4','{\"metadata\":{\"name\":\"n1\"}}');"
      "INSERT INTO meta VALUES('compacted_rv', 5);";
  char *err = NULL;
  assert_int_equal(sqlite3_exec(db, rows, NULL, NULL, &err), SQLITE_OK);
  sqlite3_close(db);

  s = open_dir(dir);
  assert_int_equal(lh_store_current_rv(s), 9); /* the highest object rv: no event is left */
  assert_int_equal(count(s, "pods", "a"), 2);
  assert_int_equal(count(s, "pods", NULL), 3);
  assert_int_equal(count(s, "nodes", NULL), 1);
  assert_int_equal(create(s, "pods", "a", "p3"), 0);
  assert_int_equal(lh_store_current_rv(s), 10);
  assert_int_equal(count(s, "pods", NULL), 4);
  lh_store_list_opts at = {.at_rv = 9};
  page p = page_new(8);
  lh_store_list_result r;
  assert_int_equal(lh_store_list(s, "pods", &at, page_item, &p, &r), 0);
  assert_int_equal(p.n, 3); /* p3 did not exist at 9 */
  page_free(&p);
  lh_store_close(s);

  /* the corrections query (ST_CORR_ALL / ST_CORR_NS in store_sqlite.c) */
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  const char *q[] = {"EXPLAIN QUERY PLAN SELECT ns, name, type, prev_rv, old, min(rv) FROM events WHERE "
                     "resource='pods' AND rv > 1 GROUP BY ns, name ORDER BY ns, name",
                     "EXPLAIN QUERY PLAN SELECT ns, name, type, prev_rv, old, min(rv) FROM events WHERE "
                     "resource='pods' AND ns='a' AND rv > 1 GROUP BY ns, name ORDER BY ns, name"};
  for (int i = 0; i < 2; i++) {
    int plan = 0;
    assert_int_equal(sqlite3_exec(db, q[i], plan_row, &plan, &err), SQLITE_OK);
    assert_int_equal(plan, 1);
  }
  sqlite3_close(db);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(counts_follow_writes_and_rollbacks, setup_dir, teardown_dir),
      cmocka_unit_test(remaining_item_count_on_every_page),
      cmocka_unit_test(remaining_item_count_with_filters_and_old_tokens),
      cmocka_unit_test(continued_pages_are_a_consistent_snapshot),
      cmocka_unit_test_setup_teardown(existing_data_dir_counts_and_corrections_plan, setup_dir, teardown_dir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
