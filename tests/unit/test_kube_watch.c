/* test_kube_watch.c — watch event parsing, line splitting across chunk boundaries, oversized
 * events, and the event loop's timer ordering with an injected clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "kube/loop.h"
#include "kube/watch.h"

#include <stdlib.h>
#include <string.h>

typedef struct lines {
  int n;
  char got[8][256];
} lines;

static int on_line(const char *l, size_t len, void *ud) {
  lines *x = ud;
  assert_true(len < 256);
  memcpy(x->got[x->n], l, len);
  x->got[x->n][len] = '\0';
  x->n++;
  return 0;
}

/* 1.0 lines split at every possible chunk boundary give the same events */
static void test_split_boundaries(void **state) {
  const char *stream = "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"5\"}}}\n"
                       "\r\n{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"9\"}}}\r\n";
  size_t n = strlen(stream);
  for (size_t cut = 0; cut <= n; cut++) {
    lh_kube_linesplit ls;
    lh_kube_linesplit_init(&ls, 1024);
    lines x = {0};
    assert_int_equal(lh_kube_linesplit_feed(&ls, stream, cut, on_line, &x), 0);
    assert_int_equal(lh_kube_linesplit_feed(&ls, stream + cut, n - cut, on_line, &x), 0);
    assert_int_equal(x.n, 2);
    lh_kube_watch_event ev;
    json_t *root;
    assert_int_equal(lh_kube_watch_parse(x.got[0], strlen(x.got[0]), &ev, &root), 0);
    assert_int_equal(ev.type, LH_WATCH_ADDED);
    assert_string_equal(ev.rv, "5");
    json_decref(root);
    assert_int_equal(lh_kube_watch_parse(x.got[1], strlen(x.got[1]), &ev, &root), 0);
    assert_int_equal(ev.type, LH_WATCH_BOOKMARK);
    assert_string_equal(ev.rv, "9");
    json_decref(root);
    lh_kube_linesplit_free(&ls);
  }
  /* byte-at-a-time */
  lh_kube_linesplit ls;
  lh_kube_linesplit_init(&ls, 1024);
  lines x = {0};
  for (size_t i = 0; i < n; i++) assert_int_equal(lh_kube_linesplit_feed(&ls, stream + i, 1, on_line, &x), 0);
  assert_int_equal(x.n, 2);
  lh_kube_linesplit_free(&ls);
}

/* 1.1 an event longer than the cap is rejected, split or whole */
static void test_oversized(void **state) {
  char big[200];
  memset(big, 'x', sizeof(big));
  big[199] = '\n';
  lh_kube_linesplit ls;
  lh_kube_linesplit_init(&ls, 100);
  lines x = {0};
  assert_int_equal(lh_kube_linesplit_feed(&ls, big, 200, on_line, &x), LH_EKUBE_TOOBIG);
  assert_int_equal(lh_kube_linesplit_feed(&ls, big, 60, on_line, &x), 0);
  assert_int_equal(lh_kube_linesplit_feed(&ls, big + 60, 60, on_line, &x), LH_EKUBE_TOOBIG);
  assert_int_equal(x.n, 0);
  lh_kube_linesplit_free(&ls);
}

/* 1.2 malformed events */
static void test_parse_errors(void **state) {
  lh_kube_watch_event ev;
  json_t *root;
  const char *bad[] = {"{", "{\"type\":\"ADDED\"}", "{\"type\":\"WAT\",\"object\":{}}",
                       "{\"type\":3,\"object\":{}}", "[]"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    assert_int_equal(lh_kube_watch_parse(bad[i], strlen(bad[i]), &ev, &root), LH_EKUBE_PARSE);
    assert_null(root);
  }
  const char *err = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                    "\"status\":\"Failure\",\"message\":\"too old resource version: 1 (92280)\","
                    "\"reason\":\"Expired\",\"code\":410}}";
  assert_int_equal(lh_kube_watch_parse(err, strlen(err), &ev, &root), 0);
  assert_int_equal(ev.type, LH_WATCH_ERROR);
  assert_int_equal(json_integer_value(json_object_get(ev.object, "code")), 410);
  json_decref(root);
}

/* The raw parse: same types and errors as the tree parse, the object's bytes in place, the
 * resourceVersion copied, and a tree only for ERROR events. */
static void test_parse_raw(void **state) {
  lh_kube_watch_event ev;
  json_t *root;
  char rv[16];
  const char *bad[] = {"{", "{\"type\":\"ADDED\"}", "{\"type\":\"WAT\",\"object\":{}}",
                       "{\"type\":3,\"object\":{}}", "[]", "{\"type\":\"ADDED\",\"object\":[]}",
                       "{\"type\":\"ADDED\",\"type\":\"DELETED\",\"object\":{}}",
                       "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"resourceVersion\":\"12345678901234567890\"}}}",
                       "{\"type\":\"ADDED\",\"object\":{\"a\":\"\\u0000\"}}"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    assert_int_equal(lh_kube_watch_parse_raw(bad[i], strlen(bad[i]), &ev, &root, rv, sizeof(rv)), LH_EKUBE_PARSE);
    assert_null(root);
  }
  const char *add = "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"p\",\"resourceVersion\":\"4\\u0032\"}}}\r";
  assert_int_equal(lh_kube_watch_parse_raw(add, strlen(add), &ev, &root, rv, sizeof(rv)), 0);
  assert_int_equal(ev.type, LH_WATCH_MODIFIED);
  assert_null(ev.object);
  assert_null(root);
  assert_string_equal(ev.rv, "42");
  assert_int_equal(ev.raw_len, strlen("{\"metadata\":{\"name\":\"p\",\"resourceVersion\":\"4\\u0032\"}}"));
  assert_memory_equal(ev.raw, "{\"metadata\"", 11);
  const char *err = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,\"reason\":\"Expired\"}}";
  assert_int_equal(lh_kube_watch_parse_raw(err, strlen(err), &ev, &root, rv, sizeof(rv)), 0);
  assert_int_equal(ev.type, LH_WATCH_ERROR);
  assert_non_null(root);
  assert_int_equal(json_integer_value(json_object_get(ev.object, "code")), 410);
  assert_null(ev.rv);
  json_decref(root);
}

/* --- loop --------------------------------------------------------------------------------- */
static uint64_t fake_now;
static uint64_t fake_clock(void *ud) { return fake_now; }
static char order[64];
static int norder;
static long tcb(lh_loop *l, lh_timer *t, void *data) {
  order[norder++] = *(const char *)data;
  return LH_TIMER_STOP;
}
static int rearm_count;
static long rearm(lh_loop *l, lh_timer *t, void *data) { return ++rearm_count < 3 ? 10 : LH_TIMER_STOP; }

/* 2.0 timers fire by deadline, ties in start order, re-arm by return value */
static void test_loop_timers(void **state) {
  lh_loop *l = lh_loop_new();
  assert_non_null(l);
  fake_now = 1000;
  lh_loop_set_clock(l, fake_clock, NULL);
  lh_timer a, b, c, d, r;
  lh_timer_init(l, &a), lh_timer_init(l, &b), lh_timer_init(l, &c), lh_timer_init(l, &d), lh_timer_init(l, &r);
  lh_timer_start(&a, 20, tcb, "a");
  lh_timer_start(&b, 10, tcb, "b");
  lh_timer_start(&c, 20, tcb, "c");
  lh_timer_start(&d, 5, tcb, "d");
  lh_timer_stop(&d);
  lh_timer_start(&r, 10, rearm, NULL);
  assert_int_equal(lh_loop_next_timeout(l), 10);
  lh_loop_run_once(l, 0);
  assert_int_equal(norder, 0);
  fake_now = 1010;
  lh_loop_run_once(l, 0);
  assert_int_equal(norder, 1);
  assert_int_equal(rearm_count, 1);
  fake_now = 1020;
  lh_loop_run_once(l, 0);
  order[norder] = '\0';
  assert_string_equal(order, "bac");
  assert_int_equal(rearm_count, 2);
  fake_now = 1030;
  lh_loop_run_once(l, 0);
  assert_int_equal(rearm_count, 3);
  assert_false(lh_timer_active(&r));
  assert_int_equal(lh_loop_next_timeout(l), -1);
  lh_loop_free(l);
}

static int posted;
static void post_fn(lh_loop *l, void *d) { posted += *(int *)d; }

/* 2.1 posts run on the next iteration */
static void test_loop_post(void **state) {
  lh_loop *l = lh_loop_new();
  int v = 7;
  assert_int_equal(lh_loop_post(l, post_fn, &v), 0);
  lh_loop_run_once(l, 1000);
  assert_int_equal(posted, 7);
  lh_loop_free(l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_split_boundaries), cmocka_unit_test(test_oversized),
      cmocka_unit_test(test_parse_errors),     cmocka_unit_test(test_parse_raw),
      cmocka_unit_test(test_loop_timers),
      cmocka_unit_test(test_loop_post),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
