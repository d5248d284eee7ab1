/* test_kube_workqueue.c — dedup, no concurrent processing of one key, delayed adds, rate
 * limiter timings with an injected clock, forget, shutdown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "kube/kube.h"
#include "kube/workqueue.h"

#include <stdlib.h>
#include <string.h>

static uint64_t now;
static uint64_t clk(void *ud) { return now; }

static lh_wq *mk(void) {
  lh_wq_opts o = {.base_delay_ms = 5, .max_delay_ms = 1000, .qps = 10, .burst = 3, .clock = clk};
  return lh_wq_new(&o);
}

/* 1.0 dedup and FIFO order */
static void test_dedup(void **state) {
  lh_wq *q = mk();
  lh_wq_add(q, "a");
  lh_wq_add(q, "b");
  lh_wq_add(q, "a");
  assert_int_equal(lh_wq_len(q), 2);
  char *k;
  assert_int_equal(lh_wq_get(q, &k, 0), 0);
  assert_string_equal(k, "a");
  lh_wq_done(q, k);
  free(k);
  assert_int_equal(lh_wq_get(q, &k, 0), 0);
  assert_string_equal(k, "b");
  lh_wq_done(q, k);
  free(k);
  assert_int_equal(lh_wq_get(q, &k, 0), LH_WQ_TIMEOUT);
  lh_wq_free(q);
}

/* 1.1 a key re-added while processing is not handed out until done() */
static void test_no_concurrent(void **state) {
  lh_wq *q = mk();
  char *k, *k2;
  lh_wq_add(q, "a");
  assert_int_equal(lh_wq_get(q, &k, 0), 0);
  lh_wq_add(q, "a");
  lh_wq_add(q, "a");
  assert_int_equal(lh_wq_len(q), 0);
  assert_int_equal(lh_wq_get(q, &k2, 0), LH_WQ_TIMEOUT);
  lh_wq_done(q, k);
  free(k);
  assert_int_equal(lh_wq_len(q), 1);
  assert_int_equal(lh_wq_get(q, &k, 0), 0);
  assert_string_equal(k, "a");
  lh_wq_done(q, k);
  free(k);
  assert_int_equal(lh_wq_len(q), 0);
  lh_wq_free(q);
}

/* 2.0 per-item exponential backoff and the token bucket, with forget */
static void test_rate_limiter(void **state) {
  now = 100000;
  lh_wq_opts o = {.base_delay_ms = 5, .max_delay_ms = 1000, .qps = -1, .clock = clk};
  lh_wq *q = lh_wq_new(&o);
  long expect[] = {5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000};
  for (size_t i = 0; i < 10; i++) assert_int_equal(lh_wq_when(q, "a"), expect[i]);
  assert_int_equal(lh_wq_num_requeues(q, "a"), 10);
  assert_int_equal(lh_wq_when(q, "b"), 5);
  lh_wq_forget(q, "a");
  assert_int_equal(lh_wq_num_requeues(q, "a"), 0);
  assert_int_equal(lh_wq_when(q, "a"), 5);
  lh_wq_free(q);
  /* bucket: burst 3 at 10 qps -> 3 free tokens, then 100 ms apart */
  q = mk();
  assert_int_equal(lh_wq_when(q, "k1"), 5);
  assert_int_equal(lh_wq_when(q, "k2"), 5);
  assert_int_equal(lh_wq_when(q, "k3"), 5);
  assert_int_equal(lh_wq_when(q, "k4"), 100);
  assert_int_equal(lh_wq_when(q, "k5"), 200);
  now += 200; /* refills 2 tokens */
  assert_int_equal(lh_wq_when(q, "k6"), 100);
  lh_wq_free(q);
}

/* 2.1 delayed adds become ready at their time; the earliest time wins; dedup with ready */
static void test_add_after(void **state) {
  now = 5000;
  lh_wq *q = mk();
  char *k;
  lh_wq_add_after(q, "x", 100);
  lh_wq_add_after(q, "x", 50);
  lh_wq_add_after(q, "y", 70);
  assert_int_equal(lh_wq_delayed(q), 2);
  assert_int_equal(lh_wq_get(q, &k, 0), LH_WQ_TIMEOUT);
  now += 50;
  assert_int_equal(lh_wq_get(q, &k, 0), 0);
  assert_string_equal(k, "x");
  lh_wq_done(q, k);
  free(k);
  assert_int_equal(lh_wq_get(q, &k, 0), LH_WQ_TIMEOUT);
  now += 20;
  assert_int_equal(lh_wq_get(q, &k, 0), 0);
  assert_string_equal(k, "y");
  lh_wq_done(q, k);
  free(k);
  lh_wq_add_rate_limited(q, "z"); /* 5 ms */
  now += 4;
  assert_int_equal(lh_wq_len(q), 0);
  now += 1;
  assert_int_equal(lh_wq_len(q), 1);
  lh_wq_free(q);
}

/* 3.0 shutdown */
static void test_shutdown(void **state) {
  lh_wq *q = mk();
  lh_wq_add(q, "a");
  lh_wq_shutdown(q);
  char *k;
  assert_int_equal(lh_wq_get(q, &k, -1), LH_EKUBE_CLOSED);
  assert_int_equal(lh_wq_add(q, "b"), LH_EKUBE_CLOSED);
  lh_wq_free(q);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dedup),        cmocka_unit_test(test_no_concurrent),
      cmocka_unit_test(test_rate_limiter), cmocka_unit_test(test_add_after),
      cmocka_unit_test(test_shutdown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
