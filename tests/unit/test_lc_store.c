/* test_lc_store.c — the local cluster's SQLite object store (hack/localcluster/store_sqlite.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "localcluster/store.h"

static char tmpdir[64];

static void rmtree(const char *dir) {
  char cmd[256];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
}

static lh_store *open_dir(const char *dir, int64_t retention, size_t ring) {
  lh_store_options o = {.dir = dir, .event_retention = retention, .watch_cache_events = ring};
  lh_store *s = NULL;
  char err[256] = "";
  int rc = lh_store_open_sqlite(&o, &s, err, sizeof(err));
  if (rc) fail_msg("open %s: %d %s", dir ? dir : "mem", rc, err);
  return s;
}

static int setup_dir(void **state) {
  strcpy(tmpdir, "/tmp/lh-store-XXXXXX");
  assert_non_null(mkdtemp(tmpdir));
  *state = tmpdir;
  return 0;
}
static int teardown_dir(void **state) {
  rmtree(*state);
  return 0;
}

static json_t *pod(const char *name, const char *uid) {
  return json_pack("{s:s,s:s,s:{s:s,s:s,s:s}}", "apiVersion", "v1", "kind", "Pod", "metadata", "name", name,
                   "namespace", "default", "uid", uid);
}

static int create(lh_store *s, const char *res, const char *ns, const char *name) {
  json_t *o = json_pack("{s:{s:s,s:s}}", "metadata", "name", name, "namespace", ns);
  int rc = lh_store_create(s, res, ns, name, o, NULL);
  json_decref(o);
  return rc;
}

static void crud_and_conflicts(void **state) {
  (void)state;
  lh_store *s = open_dir(NULL, 0, 0);
  assert_int_equal(lh_store_current_rv(s), 0);
  json_t *p = pod("a", "u-1");
  lh_store_obj o = {0};
  assert_int_equal(lh_store_create(s, "pods", "default", "a", p, &o), 0);
  assert_int_equal(o.rv, 1);
  assert_string_equal(json_string_value(json_object_get(json_object_get(p, "metadata"), "resourceVersion")), "1");
  assert_non_null(strstr(o.json, "\"resourceVersion\":\"1\""));
  lh_store_obj_clear(&o);
  assert_int_equal(lh_store_create(s, "pods", "default", "a", p, NULL), LH_STORE_EEXISTS);
  assert_int_equal(lh_store_current_rv(s), 1);

  assert_int_equal(lh_store_get(s, "pods", "default", "a", &o), 0);
  assert_int_equal(o.rv, 1);
  lh_store_obj_clear(&o);
  assert_int_equal(lh_store_get(s, "pods", "other", "a", &o), LH_STORE_ENOTFOUND);
  assert_null(o.json);

  lh_store_precond stale = {.rv = 7};
  assert_int_equal(lh_store_update(s, "pods", "default", "a", p, &stale, NULL), LH_STORE_ECONFLICT);
  lh_store_precond good = {.rv = 1};
  json_object_set_new(p, "spec", json_pack("{s:s}", "nodeName", "n1"));
  assert_int_equal(lh_store_update(s, "pods", "default", "a", p, &good, &o), 0);
  assert_int_equal(o.rv, 2);
  lh_store_obj_clear(&o);
  assert_int_equal(lh_store_update(s, "pods", "default", "a", p, &good, NULL), LH_STORE_ECONFLICT);
  assert_int_equal(lh_store_update(s, "pods", "default", "zz", p, NULL, NULL), LH_STORE_ENOTFOUND);

  lh_store_precond baduid = {.uid = "u-other"};
  assert_int_equal(lh_store_delete(s, "pods", "default", "a", &baduid, NULL), LH_STORE_ECONFLICT);
  lh_store_precond uid = {.uid = "u-1", .rv = 2};
  assert_int_equal(lh_store_delete(s, "pods", "default", "a", &uid, &o), 0);
  assert_int_equal(o.rv, 3);
  assert_non_null(strstr(o.json, "\"resourceVersion\":\"3\""));
  assert_non_null(strstr(o.json, "\"nodeName\":\"n1\""));
  lh_store_obj_clear(&o);
  assert_int_equal(lh_store_delete(s, "pods", "default", "a", NULL, NULL), LH_STORE_ENOTFOUND);
  int64_t n = -1;
  assert_int_equal(lh_store_count(s, "pods", NULL, &n), 0);
  assert_int_equal(n, 0);
  /* not an object */
  json_t *arr = json_array();
  assert_int_equal(lh_store_create(s, "pods", "default", "b", arr, NULL), LH_STORE_EINVAL);
  json_decref(arr);
  json_decref(p);
  lh_store_close(s);
}

static void rv_survives_reopen(void **state) {
  const char *dir = *state;
  lh_store *s = open_dir(dir, 0, 0);
  for (int i = 0; i < 10; i++) {
    char name[16];
    snprintf(name, sizeof(name), "p%d", i);
    assert_int_equal(create(s, "pods", "default", name), 0);
  }
  assert_int_equal(lh_store_delete(s, "pods", "default", "p9", NULL, NULL), 0);
  assert_int_equal(lh_store_current_rv(s), 11);
  lh_store_close(s);

  s = open_dir(dir, 0, 0);
  assert_int_equal(lh_store_current_rv(s), 11); /* the delete's rv is remembered */
  int64_t n;
  assert_int_equal(lh_store_count(s, "pods", "default", &n), 0);
  assert_int_equal(n, 9);
  assert_int_equal(create(s, "pods", "default", "again"), 0);
  assert_int_equal(lh_store_current_rv(s), 12);
  lh_store_close(s);
}

typedef struct collect {
  char names[64][32];
  int64_t rvs[64];
  int types[64];
  int n;
} collect;

static int collect_item(void *ud, const char *ns, const char *name, const char *json, size_t len, int64_t rv) {
  collect *c = ud;
  (void)json;
  (void)len;
  assert_true(c->n < 64);
  snprintf(c->names[c->n], sizeof(c->names[0]), "%s/%s", ns, name);
  c->rvs[c->n++] = rv;
  return 0;
}

static int collect_event(void *ud, const lh_store_event *ev) {
  collect *c = ud;
  assert_true(c->n < 64);
  snprintf(c->names[c->n], sizeof(c->names[0]), "%s", ev->name);
  /* the event object's resourceVersion is the event's rv */
  char want[48];
  snprintf(want, sizeof(want), "\"resourceVersion\":\"%lld\"", (long long)ev->rv);
  assert_non_null(strstr(ev->json, want));
  c->types[c->n] = ev->type;
  c->rvs[c->n++] = ev->rv;
  return 0;
}

static void list_paging_is_consistent(void **state) {
  (void)state;
  lh_store *s = open_dir(NULL, 0, 0);
  const char *names[] = {"e", "a", "c", "g", "b", "f", "d"};
  for (int i = 0; i < 7; i++) assert_int_equal(create(s, "pods", "ns1", names[i]), 0);
  assert_int_equal(create(s, "pods", "ns0", "z"), 0);
  assert_int_equal(create(s, "nodes", "", "n1"), 0);
  int64_t rv0 = lh_store_current_rv(s);

  collect c = {0};
  lh_store_list_result res;
  lh_store_list_opts o = {.ns = "ns1", .limit = 3};
  assert_int_equal(lh_store_list(s, "pods", &o, collect_item, &c, &res), 0);
  assert_int_equal(c.n, 3);
  assert_string_equal(c.names[0], "ns1/a");
  assert_string_equal(c.names[2], "ns1/c");
  assert_int_equal(res.rv, rv0);
  assert_true(res.continue_token[0] != '\0');
  assert_int_equal(res.remaining, 4);

  /* concurrent writes between pages: add "bb" and "dd", delete "e", update "f" */
  assert_int_equal(create(s, "pods", "ns1", "dd"), 0);
  assert_int_equal(create(s, "pods", "ns1", "bb"), 0);
  assert_int_equal(lh_store_delete(s, "pods", "ns1", "e", NULL, NULL), 0);
  json_t *f = json_pack("{s:{s:s}}", "metadata", "name", "f");
  assert_int_equal(lh_store_update(s, "pods", "ns1", "f", f, NULL, NULL), 0);
  json_decref(f);

  char tok[1024];
  strcpy(tok, res.continue_token);
  o.continue_token = tok;
  o.limit = 10;
  assert_int_equal(lh_store_list(s, "pods", &o, collect_item, &c, &res), 0);
  /* the snapshot at rv0: d e f g — no dd, e still there, f at its old rv */
  assert_int_equal(c.n, 7);
  assert_string_equal(c.names[3], "ns1/d");
  assert_string_equal(c.names[4], "ns1/e");
  assert_string_equal(c.names[5], "ns1/f");
  assert_true(c.rvs[5] <= rv0);
  assert_string_equal(c.names[6], "ns1/g");
  assert_int_equal(res.rv, rv0);
  assert_string_equal(res.continue_token, "");

  /* a fresh list sees the new state; all namespaces ordered by (ns, name) */
  memset(&c, 0, sizeof(c));
  lh_store_list_opts all = {0};
  assert_int_equal(lh_store_list(s, "pods", &all, collect_item, &c, &res), 0);
  assert_int_equal(c.n, 9);
  assert_string_equal(c.names[0], "ns0/z");
  assert_string_equal(c.names[3], "ns1/bb");
  assert_int_equal(res.rv, lh_store_current_rv(s));

  /* bad token, expired token */
  lh_store_list_opts bad = {.continue_token = "!!notatoken"};
  assert_int_equal(lh_store_list(s, "pods", &bad, collect_item, &c, &res), LH_STORE_EINVAL);
  assert_int_equal(lh_store_compact(s, rv0 + 2), 0);
  memset(&c, 0, sizeof(c));
  assert_int_equal(lh_store_list(s, "pods", &o, collect_item, &c, &res), LH_STORE_EEXPIRED);
  lh_store_close(s);
}

static void events_and_compaction(void **state) {
  const char *dir = *state;
  lh_store *s = open_dir(dir, 8, 4); /* keep 8 events durable, 4 in memory */
  collect sub = {0};
  int id = lh_store_subscribe(s, collect_event, &sub);
  assert_true(id > 0);
  for (int i = 0; i < 6; i++) {
    char name[16];
    snprintf(name, sizeof(name), "p%d", i);
    assert_int_equal(create(s, "pods", "default", name), 0);
  }
  assert_int_equal(create(s, "nodes", "", "n"), 0);
  assert_int_equal(lh_store_delete(s, "pods", "default", "p0", NULL, NULL), 0);
  /* subscription saw all 8 in order */
  assert_int_equal(sub.n, 8);
  for (int i = 0; i < 8; i++) assert_int_equal(sub.rvs[i], i + 1);
  assert_int_equal(sub.types[7], LH_STORE_DELETED);
  lh_store_unsubscribe(s, id);

  /* events since 2 (older than the 4-event ring: the table serves the start) */
  collect c = {0};
  assert_int_equal(lh_store_events_since(s, 2, "pods", NULL, collect_event, &c), 0);
  assert_int_equal(c.n, 5); /* p2..p5 ADDED, p0 DELETED (the node filtered out) */
  assert_int_equal(c.rvs[0], 3);
  assert_int_equal(c.rvs[4], 8);
  assert_int_equal(c.types[4], LH_STORE_DELETED);

  /* automatic compaction: retention 8 + slack 1 → at rv 10 keep (2, 10] */
  assert_int_equal(create(s, "pods", "default", "x1"), 0);
  assert_int_equal(lh_store_compacted_rv(s), 0);
  assert_int_equal(create(s, "pods", "default", "x2"), 0);
  assert_int_equal(lh_store_compacted_rv(s), 2);
  memset(&c, 0, sizeof(c));
  assert_int_equal(lh_store_events_since(s, 1, NULL, NULL, collect_event, &c), LH_STORE_EEXPIRED);
  assert_int_equal(lh_store_events_since(s, 2, NULL, NULL, collect_event, &c), 0);
  assert_int_equal(c.n, 8);
  lh_store_close(s);

  /* after a restart the same answers (ring refilled from the table) */
  s = open_dir(dir, 8, 4);
  assert_int_equal(lh_store_compacted_rv(s), 2);
  memset(&c, 0, sizeof(c));
  assert_int_equal(lh_store_events_since(s, 1, NULL, NULL, collect_event, &c), LH_STORE_EEXPIRED);
  assert_int_equal(lh_store_events_since(s, 5, NULL, NULL, collect_event, &c), 0);
  assert_int_equal(c.n, 5);
  assert_int_equal(c.rvs[0], 6);
  memset(&c, 0, sizeof(c));
  assert_int_equal(lh_store_events_since(s, 100, NULL, NULL, collect_event, &c), 0);
  assert_int_equal(c.n, 0);
  lh_store_close(s);
}

static void txn_group_commit(void **state) {
  (void)state;
  lh_store *s = open_dir(NULL, 0, 0);
  collect sub = {0};
  lh_store_subscribe(s, collect_event, &sub);
  assert_int_equal(lh_store_txn_begin(s), 0);
  assert_int_equal(lh_store_txn_begin(s), LH_STORE_EMISUSE);
  assert_int_equal(create(s, "pods", "d", "a"), 0);
  assert_int_equal(create(s, "pods", "d", "a"), LH_STORE_EEXISTS); /* fails alone */
  assert_int_equal(create(s, "pods", "d", "b"), 0);
  assert_int_equal(sub.n, 0); /* nothing published before commit */
  assert_int_equal(lh_store_txn_commit(s), 0);
  assert_int_equal(sub.n, 2);
  assert_int_equal(sub.rvs[0], 1);
  assert_int_equal(sub.rvs[1], 2);
  assert_int_equal(lh_store_txn_begin(s), 0);
  assert_int_equal(create(s, "pods", "d", "c"), 0);
  lh_store_txn_rollback(s);
  assert_int_equal(lh_store_current_rv(s), 2);
  assert_int_equal(lh_store_get(s, "pods", "d", "c", NULL), LH_STORE_ENOTFOUND);
  assert_int_equal(sub.n, 2);
  assert_int_equal(lh_store_txn_commit(s), LH_STORE_EMISUSE);
  lh_store_close(s);
}

/* Every step of a write fails in turn; the store must look untouched after each failure. */
static void fault_injection_leaves_no_partial_state(void **state) {
  (void)state;
  lh_store *s = open_dir(NULL, 0, 0);
  assert_int_equal(create(s, "pods", "d", "base"), 0);
  collect sub = {0};
  lh_store_subscribe(s, collect_event, &sub);
  int ops[] = {0, 1, 2};
  for (int op = 0; op < 3; op++) {
    int failures = 0;
    for (int n = 0; n < 10; n++) {
      int64_t rv = lh_store_current_rv(s);
      lh_store_fault_inject(s, n, n % 2 ? SQLITE_IOERR : SQLITE_BUSY);
      int rc;
      json_t *o = json_pack("{s:{s:s}}", "metadata", "name", "x");
      if (ops[op] == 0) rc = lh_store_create(s, "pods", "d", "x", o, NULL);
      else if (ops[op] == 1) rc = lh_store_update(s, "pods", "d", "base", o, NULL, NULL);
      else rc = lh_store_delete(s, "pods", "d", "base", NULL, NULL);
      json_decref(o);
      lh_store_fault_inject(s, -1, 0);
      if (rc == 0) {
        /* the fault lay beyond this write's steps: it succeeded; undo for the next round */
        assert_int_equal(lh_store_current_rv(s), rv + 1);
        if (ops[op] == 0) assert_int_equal(lh_store_delete(s, "pods", "d", "x", NULL, NULL), 0);
        if (ops[op] == 2) assert_int_equal(create(s, "pods", "d", "base"), 0);
        break;
      }
      failures++;
      assert_true(rc == LH_STORE_EIO || rc == LH_STORE_EBUSY);
      assert_int_equal(rc, n % 2 ? LH_STORE_EIO : LH_STORE_EBUSY);
      assert_int_equal(lh_store_current_rv(s), rv);
      int64_t cnt;
      assert_int_equal(lh_store_count(s, "pods", "d", &cnt), 0);
      assert_int_equal(cnt, 1);
      assert_int_equal(lh_store_get(s, "pods", "d", "x", NULL), LH_STORE_ENOTFOUND);
      lh_store_obj g = {0};
      assert_int_equal(lh_store_get(s, "pods", "d", "base", &g), 0);
      assert_int_equal(g.rv, (ops[op] == 0) ? 1 : g.rv);
      lh_store_obj_clear(&g);
      collect c = {0};
      assert_int_equal(lh_store_events_since(s, rv, NULL, NULL, collect_event, &c), 0);
      assert_int_equal(c.n, 0);
    }
    assert_true(failures >= 3); /* BEGIN, read, row write, event, COMMIT: several steps can fail */
  }
  /* the store still works */
  int64_t rv = lh_store_current_rv(s);
  assert_int_equal(create(s, "pods", "d", "after"), 0);
  assert_int_equal(lh_store_current_rv(s), rv + 1);
  lh_store_close(s);
}

/* Not a timing assertion: prints the throughput of 20,000 single-object writes to a file store. */
static void write_throughput_report(void **state) {
  const char *dir = *state;
  lh_store *s = open_dir(dir, 0, 0);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  int N = 20000;
  for (int i = 0; i < N; i++) {
    char name[32];
    snprintf(name, sizeof(name), "pod-%06d", i);
    json_t *o = json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s}},s:{s:[{s:s,s:s}]}}", "apiVersion", "v1", "kind", "Pod",
                          "metadata", "name", name, "namespace", "bench", "labels", "app", "x", "spec",
                          "containers", "name", "c", "image", "busybox");
    assert_int_equal(lh_store_create(s, "pods", "bench", name, o, NULL), 0);
    json_decref(o);
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
  collect c = {0};
  (void)c;
  lh_store_list_result res;
  int64_t count = 0;
  clock_gettime(CLOCK_MONOTONIC, &a);
  lh_store_list_opts lo = {.ns = "bench"};
  assert_int_equal(lh_store_list(s, "pods", &lo, NULL, NULL, &res), 0);
  assert_int_equal(lh_store_count(s, "pods", "bench", &count), 0);
  clock_gettime(CLOCK_MONOTONIC, &b);
  double lsecs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
  printf("# store: %d creates in %.2fs = %.0f writes/s (ASan build); list of %lld in %.3fs\n", N, secs, N / secs,
         (long long)count, lsecs);
  assert_int_equal(count, N);
  lh_store_close(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(crud_and_conflicts),
      cmocka_unit_test_setup_teardown(rv_survives_reopen, setup_dir, teardown_dir),
      cmocka_unit_test(list_paging_is_consistent),
      cmocka_unit_test_setup_teardown(events_and_compaction, setup_dir, teardown_dir),
      cmocka_unit_test(txn_group_commit),
      cmocka_unit_test(fault_injection_leaves_no_partial_state),
      cmocka_unit_test_setup_teardown(write_throughput_report, setup_dir, teardown_dir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
