/* test_kube_informer.c — the informer state machine driven by a fake transport and a fake
 * clock: list (paged) -> watch -> bookmark -> 410 -> relist; backoff sequence; resume rv;
 * cache indexes and handlers; pipelined list pages (same cache, failure with the next page in
 * flight, bodies with items first). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "kube/informer.h"

#include <stdlib.h>
#include <string.h>

typedef struct fake {
  int lists, watches, stops;
  char last_path[1024];
  int fail_watch; /* watch() returns an error */
} fake;

static int f_list(void *t, lh_informer *inf, const char *path) {
  fake *f = t;
  f->lists++;
  snprintf(f->last_path, sizeof(f->last_path), "%s", path);
  return 0;
}
static int f_watch(void *t, lh_informer *inf, const char *path) {
  fake *f = t;
  f->watches++;
  snprintf(f->last_path, sizeof(f->last_path), "%s", path);
  return f->fail_watch ? LH_EKUBE_TRANSPORT : 0;
}
static void f_stop(void *t, lh_informer *inf) { ((fake *)t)->stops++; }

typedef struct counts {
  int add, upd, del;
  char last[128];
} counts;
static void h_add(lh_informer *i, const void *o, void *d) { ((counts *)d)->add++; }
static void h_upd(lh_informer *i, const void *a, const void *b, void *d) { ((counts *)d)->upd++; }
static void h_del(lh_informer *i, const void *o, void *d) {
  counts *c = d;
  c->del++;
  const char *n = json_string_value(json_object_get(json_object_get((json_t *)o, "metadata"), "name"));
  snprintf(c->last, sizeof(c->last), "%s", n ? n : "");
}

static uint64_t now_ms;
static uint64_t clk(void *ud) { return now_ms; }

static json_t *pod(const char *name, const char *rv, const char *app) {
  return json_pack("{s:{s:s, s:s, s:s, s:{s:s}}}", "metadata", "name", name, "namespace", "ns1",
                   "resourceVersion", rv, "labels", "app", app);
}

static json_t *list_doc(const char *rv, const char *cont, json_t *items) {
  json_t *d = json_pack("{s:s, s:{s:s}, s:o}", "kind", "PodList", "metadata", "resourceVersion", rv, "items", items);
  if (cont) json_object_set_new(json_object_get(d, "metadata"), "continue", json_string(cont));
  return d;
}

static void event(lh_informer *inf, lh_watch_type t, json_t *obj) {
  lh_kube_watch_event ev = {.type = t, .object = obj,
                            .rv = json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"))};
  lh_informer_on_event(inf, &ev);
  json_decref(obj);
}

static void count_cb(const char *k, const void *o, void *ud) { (*(int *)ud)++; }

static void test_list_watch_relist(void **state) {
  lh_loop *loop = lh_loop_new();
  now_ms = 0;
  lh_loop_set_clock(loop, clk, NULL);
  fake f = {0};
  lh_informer_transport tr = {f_list, f_watch, f_stop, &f};
  lh_informer_opts o = {.resource = &LH_KUBE_PODS, .ns = "ns1", .page_limit = 2, .transport = &tr,
                        .label_selector = "app"};
  counts c = {0};
  lh_informer_handlers h = {h_add, h_upd, h_del, &c};
  lh_informer *inf;
  assert_int_equal(lh_informer_new(loop, NULL, NULL, &o, &h, &inf), 0);
  assert_int_equal(lh_informer_start(inf), 0);
  /* 1.0 paged list */
  assert_int_equal(f.lists, 1);
  assert_string_equal(f.last_path, "/api/v1/namespaces/ns1/pods?labelSelector=app&limit=2");
  json_t *d = list_doc("100", "tok1", json_pack("[o,o]", pod("a", "90", "x"), pod("b", "91", "y")));
  lh_informer_on_list(inf, 0, d);
  json_decref(d);
  assert_int_equal(f.lists, 2);
  assert_string_equal(f.last_path, "/api/v1/namespaces/ns1/pods?labelSelector=app&limit=2&continue=tok1");
  assert_false(lh_informer_has_synced(inf));
  d = list_doc("100", NULL, json_pack("[o]", pod("c", "92", "x")));
  lh_informer_on_list(inf, 0, d);
  json_decref(d);
  assert_true(lh_informer_has_synced(inf));
  assert_int_equal(c.add, 3);
  assert_int_equal(lh_kube_cache_len(lh_informer_cache(inf)), 3);
  int n = 0;
  assert_int_equal(lh_kube_cache_by_label(lh_informer_cache(inf), "app", "x", count_cb, &n), 2);
  n = 0;
  assert_int_equal(lh_kube_cache_by_namespace(lh_informer_cache(inf), "ns1", count_cb, &n), 3);
  /* 1.1 watch from the list rv with bookmarks */
  assert_int_equal(lh_informer_get_state(inf), LH_INF_WATCHING);
  assert_int_equal(f.watches, 1);
  assert_string_equal(f.last_path, "/api/v1/namespaces/ns1/pods?watch=1&allowWatchBookmarks=true"
                                   "&labelSelector=app&resourceVersion=100&timeoutSeconds=300");
  event(inf, LH_WATCH_MODIFIED, pod("a", "101", "y"));
  assert_int_equal(c.upd, 1);
  n = 0;
  assert_int_equal(lh_kube_cache_by_label(lh_informer_cache(inf), "app", "x", count_cb, &n), 1);
  event(inf, LH_WATCH_ADDED, pod("d", "102", "x"));
  event(inf, LH_WATCH_DELETED, pod("b", "103", "y"));
  assert_int_equal(c.add, 4);
  assert_int_equal(c.del, 1);
  assert_string_equal(c.last, "b");
  assert_null(lh_kube_cache_get(lh_informer_cache(inf), "ns1/b"));
  assert_non_null(lh_kube_cache_get(lh_informer_cache(inf), "ns1/d"));
  event(inf, LH_WATCH_BOOKMARK, json_pack("{s:{s:s}}", "metadata", "resourceVersion", "150"));
  assert_string_equal(lh_informer_last_rv(inf), "150");
  /* 1.2 the stream closes normally: resume at once from the bookmark rv */
  lh_informer_on_watch_end(inf, 0);
  assert_int_equal(f.watches, 2);
  assert_non_null(strstr(f.last_path, "resourceVersion=150"));
  /* 1.3 in-stream ERROR 410 Expired: stop the watch, relist; objects gone meanwhile are deleted */
  event(inf, LH_WATCH_ERROR, json_pack("{s:s, s:s, s:s, s:i}", "kind", "Status", "status", "Failure",
                                       "reason", "Expired", "code", 410));
  assert_int_equal(f.stops, 1);
  assert_int_equal(f.lists, 3);
  assert_int_equal(lh_informer_get_state(inf), LH_INF_LISTING);
  assert_string_equal(f.last_path, "/api/v1/namespaces/ns1/pods?labelSelector=app&limit=2");
  d = list_doc("200", NULL, json_pack("[o,o]", pod("a", "101", "y"), pod("e", "190", "x")));
  lh_informer_on_list(inf, 0, d);
  json_decref(d);
  assert_int_equal(lh_kube_cache_len(lh_informer_cache(inf)), 2);
  assert_int_equal(c.del, 3); /* c and d vanished */
  assert_int_equal(c.add, 5); /* e */
  assert_int_equal(c.upd, 2); /* a (resync) */
  assert_non_null(strstr(f.last_path, "resourceVersion=200"));
  /* 1.4 HTTP 410 on the watch also relists */
  lh_informer_on_watch_end(inf, LH_EKUBE_GONE);
  assert_int_equal(f.lists, 4);
  lh_informer_stats st;
  lh_informer_get_stats(inf, &st);
  assert_int_equal(st.relists_410, 2);
  assert_int_equal(st.bookmarks, 1);
  lh_informer_free(inf);
  lh_loop_free(loop);
}

/* 2.0 backoff: 0.5 s doubling to 30 s on failures, reset after a healthy watch; resume rv kept */
static void test_backoff(void **state) {
  lh_loop *loop = lh_loop_new();
  now_ms = 0;
  lh_loop_set_clock(loop, clk, NULL);
  fake f = {0};
  lh_informer_transport tr = {f_list, f_watch, f_stop, &f};
  lh_informer_opts o = {.resource = &LH_KUBE_VOLCANO_QUEUES, .transport = &tr};
  lh_informer *inf;
  assert_int_equal(lh_informer_new(loop, NULL, NULL, &o, NULL, &inf), 0);
  lh_informer_start(inf);
  assert_string_equal(f.last_path, "/apis/scheduling.volcano.sh/v1beta1/queues?limit=500");
  /* list fails: backoff then relist */
  lh_informer_on_list(inf, LH_EKUBE_TRANSPORT, NULL);
  assert_int_equal(lh_informer_get_state(inf), LH_INF_BACKOFF);
  assert_int_equal(lh_informer_last_backoff_ms(inf), 500);
  now_ms += 499;
  lh_loop_run_once(loop, 0);
  assert_int_equal(f.lists, 1);
  now_ms += 1;
  lh_loop_run_once(loop, 0);
  assert_int_equal(f.lists, 2);
  json_t *d = list_doc("10", NULL, json_array());
  lh_informer_on_list(inf, 0, d);
  json_decref(d);
  assert_int_equal(f.watches, 1);
  /* watches keep failing at once: 1 s, 2 s, 4 s, ... capped at 30 s, always from rv 10 */
  long expect[] = {1000, 2000, 4000, 8000, 16000, 30000, 30000};
  for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
    lh_informer_on_watch_end(inf, LH_EKUBE_TRANSPORT);
    assert_int_equal(lh_informer_last_backoff_ms(inf), expect[i]);
    now_ms += (uint64_t)expect[i];
    lh_loop_run_once(loop, 0);
    assert_int_equal(f.watches, (int)i + 2);
    assert_non_null(strstr(f.last_path, "resourceVersion=10"));
  }
  /* a watch that delivered an event is healthy: backoff resets */
  event(inf, LH_WATCH_ADDED, json_pack("{s:{s:s, s:s}}", "metadata", "name", "q1", "resourceVersion", "11"));
  lh_informer_on_watch_end(inf, LH_EKUBE_TRANSPORT);
  assert_int_equal(lh_informer_last_backoff_ms(inf), 500);
  now_ms += 500;
  lh_loop_run_once(loop, 0);
  assert_non_null(strstr(f.last_path, "resourceVersion=11"));
  assert_non_null(lh_kube_cache_get(lh_informer_cache(inf), "q1"));
  /* an early clean close without events is not healthy: backoff, not a hot loop */
  lh_informer_on_watch_end(inf, 0);
  assert_int_equal(lh_informer_get_state(inf), LH_INF_BACKOFF);
  assert_int_equal(lh_informer_last_backoff_ms(inf), 1000);
  /* a non-410 ERROR event: backoff and re-watch from the last rv */
  now_ms += 1000;
  lh_loop_run_once(loop, 0);
  event(inf, LH_WATCH_ERROR, json_pack("{s:s, s:i, s:s}", "reason", "InternalError", "code", 500, "message", "boom"));
  assert_int_equal(lh_informer_get_state(inf), LH_INF_BACKOFF);
  lh_informer_free(inf);
  lh_loop_free(loop);
}

/* Paged list from raw bytes: the continue token (escaped in the JSON) is decoded into the next
 * page's query, the snapshot is applied on the last page, and a token too long for the
 * informer fails the list instead of being cut. */
static void test_list_bytes_paged(void **state) {
  lh_loop *loop = lh_loop_new();
  now_ms = 0;
  lh_loop_set_clock(loop, clk, NULL);
  fake f = {0};
  lh_informer_transport tr = {f_list, f_watch, f_stop, &f};
  lh_informer_opts o = {.resource = &LH_KUBE_PODS, .ns = "ns1", .page_limit = 1, .transport = &tr};
  counts c = {0};
  lh_informer_handlers h = {h_add, h_upd, h_del, &c};
  lh_informer *inf;
  assert_int_equal(lh_informer_new(loop, NULL, NULL, &o, &h, &inf), 0);
  assert_int_equal(lh_informer_start(inf), 0);
  const char *p1 = "{\"metadata\":{\"resourceVersion\":\"5\",\"continue\":\"t\\u006fk1\"},"
                   "\"items\":[{\"metadata\":{\"name\":\"a\",\"namespace\":\"ns1\"}}]}";
  lh_informer_on_list_bytes(inf, 0, p1, strlen(p1));
  assert_int_equal(f.lists, 2);
  assert_non_null(strstr(f.last_path, "continue=tok1"));
  assert_int_equal(c.add, 0); /* nothing applied before the last page */
  const char *p2 = "{\"metadata\":{\"resourceVersion\":\"6\"},\"items\":[{\"metadata\":{\"name\":\"b\",\"namespace\":\"ns1\"}}]}";
  lh_informer_on_list_bytes(inf, 0, p2, strlen(p2));
  assert_int_equal(c.add, 2);
  assert_string_equal(lh_informer_last_rv(inf), "6");
  assert_int_equal(lh_informer_get_state(inf), LH_INF_WATCHING);
  assert_non_null(lh_kube_cache_get(lh_informer_cache(inf), "ns1/a"));
  lh_informer_free(inf);
  /* a continue token longer than the informer keeps */
  assert_int_equal(lh_informer_new(loop, NULL, NULL, &o, &h, &inf), 0);
  assert_int_equal(lh_informer_start(inf), 0);
  size_t n = 5000;
  char *big = malloc(n + 100);
  int off = snprintf(big, n + 100, "{\"metadata\":{\"continue\":\"");
  memset(big + off, 'x', 4000);
  snprintf(big + off + 4000, n + 100 - (size_t)off - 4000, "\"},\"items\":[]}");
  lh_informer_on_list_bytes(inf, 0, big, strlen(big));
  assert_int_equal(lh_informer_get_state(inf), LH_INF_BACKOFF);
  free(big);
  lh_informer_free(inf);
  lh_loop_free(loop);
}

/* --- pipelined pages ---------------------------------------------------------------------- */

static int cancels;
static void f_cancel(void *t, lh_informer *inf) { cancels++; }

typedef struct keys {
  char all[512];
} keys;
static void key_cb(const char *k, const void *o, void *ud) {
  keys *x = ud;
  size_t n = strlen(x->all);
  snprintf(x->all + n, sizeof(x->all) - n, "%s%s", n ? "," : "", k);
}

/* A real server's page: kind/apiVersion, then metadata (with continue), then items. */
static const char *const PAGES[] = {
    "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"7\","
    "\"continue\":\"t\\u006fk1\"},\"items\":[{\"metadata\":{\"name\":\"a\",\"namespace\":\"ns1\","
    "\"labels\":{\"app\":\"x\"}}},{\"metadata\":{\"name\":\"b\",\"namespace\":\"ns1\"}}]}",
    "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"7\","
    "\"continue\":\"tok2\"},\"items\":[{\"metadata\":{\"name\":\"c\",\"namespace\":\"ns1\","
    "\"labels\":{\"app\":\"x\"}}}]}",
    "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"7\"},"
    "\"items\":[{\"metadata\":{\"name\":\"d\",\"namespace\":\"ns2\"}}]}",
};

/* Runs the three PAGES through a fresh informer; the transport has a cancel iff pipelined.
 * Checks the request sequence and returns the cache's keys in *out. */
static void list_pages(int pipelined, keys *out, int *app_x) {
  lh_loop *loop = lh_loop_new();
  now_ms = 0;
  lh_loop_set_clock(loop, clk, NULL);
  fake f = {0};
  cancels = 0;
  lh_informer_transport tr = {f_list, f_watch, f_stop, &f};
  lh_informer_opts o = {.resource = &LH_KUBE_PODS, .page_limit = 2, .transport = &tr,
                        .list_cancel = pipelined ? f_cancel : NULL};
  counts c = {0};
  lh_informer_handlers h = {h_add, h_upd, h_del, &c};
  lh_informer *inf;
  assert_int_equal(lh_informer_new(loop, NULL, NULL, &o, &h, &inf), 0);
  assert_int_equal(lh_informer_start(inf), 0);
  for (int i = 0; i < 3; i++) {
    lh_informer_on_list_bytes(inf, 0, PAGES[i], strlen(PAGES[i]));
    if (i < 2) {
      assert_int_equal(f.lists, i + 2);
      assert_non_null(strstr(f.last_path, i == 0 ? "continue=tok1" : "continue=tok2"));
      assert_int_equal(c.add, 0);
    }
  }
  assert_int_equal(f.lists, 3);
  assert_int_equal(f.watches, 1);
  assert_int_equal(cancels, 0);
  lh_informer_stats st;
  lh_informer_get_stats(inf, &st);
  assert_int_equal(st.list_prefetches, pipelined ? 2 : 0);
  assert_int_equal(st.list_pages, 3);
  assert_int_equal(st.lists, 1);
  assert_true(lh_informer_has_synced(inf));
  assert_string_equal(lh_informer_last_rv(inf), "7");
  assert_int_equal(c.add, 4);
  memset(out, 0, sizeof(*out));
  const char *names[] = {"ns1/a", "ns1/b", "ns1/c", "ns2/d"};
  for (size_t i = 0; i < 4; i++)
    if (lh_kube_cache_get(lh_informer_cache(inf), names[i])) key_cb(names[i], NULL, out);
  assert_int_equal(lh_kube_cache_len(lh_informer_cache(inf)), 4);
  int n = 0;
  *app_x = (int)lh_kube_cache_by_label(lh_informer_cache(inf), "app", "x", count_cb, &n);
  lh_informer_free(inf);
  lh_loop_free(loop);
}

/* The same pages with and without pipelining give the same requests and the same cache. */
static void test_list_pipelined(void **state) {
  keys a, b;
  int xa = 0, xb = 0;
  list_pages(1, &a, &xa);
  list_pages(0, &b, &xb);
  assert_string_equal(a.all, "ns1/a,ns1/b,ns1/c,ns2/d");
  assert_string_equal(a.all, b.all);
  assert_int_equal(xa, 2);
  assert_int_equal(xa, xb);
}

/* Page N fails after page N+1 was requested from its head: that request is cancelled, nothing
 * of the list reaches the cache, and the retry relists from the start (ASan: nothing leaks). */
static void test_list_pipelined_failure(void **state) {
  lh_loop *loop = lh_loop_new();
  now_ms = 0;
  lh_loop_set_clock(loop, clk, NULL);
  fake f = {0};
  cancels = 0;
  lh_informer_transport tr = {f_list, f_watch, f_stop, &f};
  lh_informer_opts o = {.resource = &LH_KUBE_PODS, .page_limit = 2, .transport = &tr, .list_cancel = f_cancel};
  counts c = {0};
  lh_informer_handlers h = {h_add, h_upd, h_del, &c};
  lh_informer *inf;
  assert_int_equal(lh_informer_new(loop, NULL, NULL, &o, &h, &inf), 0);
  assert_int_equal(lh_informer_start(inf), 0);
  lh_informer_on_list_bytes(inf, 0, PAGES[0], strlen(PAGES[0])); /* two items collected */
  assert_int_equal(f.lists, 2);
  /* page 2: a good head, then the body breaks off in the items */
  const char *bad = "{\"metadata\":{\"resourceVersion\":\"7\",\"continue\":\"tok2\"},"
                    "\"items\":[{\"metadata\":{\"name\":\"c\",\"namespace\":\"ns1\"}},{\"meta";
  lh_informer_on_list_bytes(inf, 0, bad, strlen(bad));
  assert_int_equal(f.lists, 3); /* page 3 was asked for from the head ... */
  assert_non_null(strstr(f.last_path, "continue=tok2"));
  assert_int_equal(cancels, 1); /* ... and dropped when page 2 failed */
  assert_int_equal(lh_informer_get_state(inf), LH_INF_BACKOFF);
  assert_int_equal(lh_kube_cache_len(lh_informer_cache(inf)), 0);
  assert_int_equal(c.add, 0);
  assert_false(lh_informer_has_synced(inf));
  /* a late answer for the dropped page is ignored (the informer is not listing) */
  lh_informer_on_list_bytes(inf, 0, PAGES[2], strlen(PAGES[2]));
  assert_int_equal(lh_kube_cache_len(lh_informer_cache(inf)), 0);
  /* the retry lists from scratch; the whole list then lands as one snapshot */
  now_ms += 500;
  lh_loop_run_once(loop, 0);
  assert_int_equal(f.lists, 4);
  assert_null(strstr(f.last_path, "continue="));
  for (int i = 0; i < 3; i++) lh_informer_on_list_bytes(inf, 0, PAGES[i], strlen(PAGES[i]));
  assert_int_equal(lh_kube_cache_len(lh_informer_cache(inf)), 4);
  assert_int_equal(c.add, 4);
  assert_int_equal(cancels, 1);
  lh_informer_free(inf);
  lh_loop_free(loop);
}

/* Bodies whose items come before the metadata (or whose head is not an object member list we
 * can read) are handled as without pipelining: the next page is requested after the parse. */
static void test_list_items_first(void **state) {
  const char *pages[] = {
      "{\"items\":[{\"metadata\":{\"name\":\"a\",\"namespace\":\"ns1\"}}],"
      "\"metadata\":{\"continue\":\"tok1\",\"resourceVersion\":\"3\"}}",
      /* metadata without a continue before the items, token after: no prefetch either */
      "{\"metadata\":{\"resourceVersion\":\"3\"},\"items\":[{\"metadata\":{\"name\":\"b\","
      "\"namespace\":\"ns1\"}}],\"kind\":\"PodList\"}",
  };
  lh_loop *loop = lh_loop_new();
  now_ms = 0;
  lh_loop_set_clock(loop, clk, NULL);
  fake f = {0};
  cancels = 0;
  lh_informer_transport tr = {f_list, f_watch, f_stop, &f};
  lh_informer_opts o = {.resource = &LH_KUBE_PODS, .page_limit = 1, .transport = &tr, .list_cancel = f_cancel};
  lh_informer *inf;
  assert_int_equal(lh_informer_new(loop, NULL, NULL, &o, NULL, &inf), 0);
  assert_int_equal(lh_informer_start(inf), 0);
  lh_informer_on_list_bytes(inf, 0, pages[0], strlen(pages[0]));
  assert_int_equal(f.lists, 2);
  assert_non_null(strstr(f.last_path, "continue=tok1"));
  lh_informer_on_list_bytes(inf, 0, pages[1], strlen(pages[1]));
  lh_informer_stats st;
  lh_informer_get_stats(inf, &st);
  assert_int_equal(st.list_prefetches, 0);
  assert_int_equal(cancels, 0);
  assert_int_equal(f.lists, 2);
  assert_int_equal(lh_kube_cache_len(lh_informer_cache(inf)), 2);
  assert_string_equal(lh_informer_last_rv(inf), "3");
  lh_informer_free(inf);
  lh_loop_free(loop);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_list_watch_relist),
      cmocka_unit_test(test_backoff),
      cmocka_unit_test(test_list_bytes_paged),
      cmocka_unit_test(test_list_pipelined),
      cmocka_unit_test(test_list_pipelined_failure),
      cmocka_unit_test(test_list_items_first),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
