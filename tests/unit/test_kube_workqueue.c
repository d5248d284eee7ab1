/* test_kube_workqueue.c — dedup, no concurrent processing of one key, delayed adds, rate
 * limiter timings with an injected clock, forget, shutdown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "kube/kube.h"
#include "kube/workqueue.h"

#include <pthread.h>
#include <time.h>
#include <stdio.h>
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

/* next_due: -1 empty, 0 when ready, else ms to the earliest delayed key (what an event-loop
 * consumer sleeps for instead of polling) */
static void test_next_due(void **state) {
  now = 1000;
  lh_wq *q = mk();
  char *k;
  assert_int_equal(lh_wq_next_due(q), -1);
  lh_wq_add_after(q, "a", 300);
  assert_int_equal(lh_wq_next_due(q), 300);
  lh_wq_add_after(q, "b", 120);
  assert_int_equal(lh_wq_next_due(q), 120);
  lh_wq_add_after(q, "a", 40); /* an earlier add of a waiting key wins */
  assert_int_equal(lh_wq_next_due(q), 40);
  now += 39;
  assert_int_equal(lh_wq_next_due(q), 1);
  now += 1;
  assert_int_equal(lh_wq_next_due(q), 0); /* due: promoted, ready */
  assert_int_equal(lh_wq_len(q), 1);
  assert_int_equal(lh_wq_get(q, &k, 0), 0);
  assert_string_equal(k, "a");
  lh_wq_done(q, k);
  free(k);
  assert_int_equal(lh_wq_next_due(q), 80); /* b at 1120 */
  lh_wq_add(q, "c");
  assert_int_equal(lh_wq_next_due(q), 0);
  assert_int_equal(lh_wq_get(q, &k, 0), 0);
  lh_wq_done(q, k);
  free(k);
  now += 80;
  assert_int_equal(lh_wq_get(q, &k, 0), 0);
  assert_string_equal(k, "b");
  lh_wq_done(q, k);
  free(k);
  assert_int_equal(lh_wq_next_due(q), -1);
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

/* 1.5 real worker threads: 4 workers, 10,000 adds spread over 100 keys from a producer thread
 * while the workers run. Asserts that no key is ever processed by two workers at once (a per-key
 * in-flight flag checked with an atomic exchange) and that none is lost: after the last add,
 * every key is processed at least once more (a key added while processing is requeued at done()). */
enum { WQ_KEYS = 100, WQ_ADDS = 10000, WQ_WORKERS = 4 };
typedef struct wq_mt {
  lh_wq *q;
  int busy[WQ_KEYS];           /* atomic: 1 while a worker holds the key */
  unsigned long processed[WQ_KEYS];  /* atomic */
  unsigned long added[WQ_KEYS];  /* atomic: adds of the key so far (bumped just before lh_wq_add) */
  unsigned long seen[WQ_KEYS];   /* atomic: the highest `added` a processing read after lh_wq_get */
  int overlaps;                /* atomic */
  int bad_keys;                /* atomic */
} wq_mt;

static void *wq_worker(void *arg) {
  wq_mt *m = arg;
  for (;;) {
    char *k;
    int rc = lh_wq_get(m->q, &k, -1);
    if (rc == LH_EKUBE_CLOSED) return NULL;
    if (rc != 0) continue;
    int i = atoi(k + 1);
    if (k[0] != 'k' || i < 0 || i >= WQ_KEYS) {
      __atomic_add_fetch(&m->bad_keys, 1, __ATOMIC_RELAXED);
    } else {
      if (__atomic_exchange_n(&m->busy[i], 1, __ATOMIC_ACQ_REL) != 0)
        __atomic_add_fetch(&m->overlaps, 1, __ATOMIC_RELAXED);
      /* Every add must be followed by a processing that starts after it: an add before this
       * dequeue was counted before it (so it is read here); one during the processing marks the
       * key dirty and brings another processing, which reads it. */
      unsigned long g = __atomic_load_n(&m->added[i], __ATOMIC_ACQUIRE);
      if (g > m->seen[i]) __atomic_store_n(&m->seen[i], g, __ATOMIC_RELEASE); /* one worker per key */
      for (volatile int spin = 0; spin < 2000; spin++) { /* widen the window for overlaps */
      }
      __atomic_add_fetch(&m->processed[i], 1, __ATOMIC_RELAXED);
      __atomic_store_n(&m->busy[i], 0, __ATOMIC_RELEASE);
    }
    lh_wq_done(m->q, k);
    free(k);
  }
}

static void *wq_producer(void *arg) {
  wq_mt *m = arg;
  for (int n = 0; n < WQ_ADDS; n++) {
    char key[16];
    int i = (n * 37) % WQ_KEYS;
    snprintf(key, sizeof(key), "k%d", i);
    __atomic_add_fetch(&m->added[i], 1, __ATOMIC_ACQ_REL);
    lh_wq_add(m->q, key);
  }
  return NULL;
}

static void test_threads(void **state) {
  wq_mt *m = calloc(1, sizeof(*m));
  m->q = lh_wq_new(NULL); /* real clock */
  pthread_t w[WQ_WORKERS], p;
  for (int i = 0; i < WQ_WORKERS; i++) assert_int_equal(pthread_create(&w[i], NULL, wq_worker, m), 0);
  assert_int_equal(pthread_create(&p, NULL, wq_producer, m), 0);
  pthread_join(p, NULL);
  /* drained: every key processed after its last add; bounded wait (60 s) */
  for (int tries = 0; tries < 60000; tries++) {
    int all = lh_wq_len(m->q) == 0;
    for (int i = 0; all && i < WQ_KEYS; i++)
      all = __atomic_load_n(&m->seen[i], __ATOMIC_ACQUIRE) == __atomic_load_n(&m->added[i], __ATOMIC_ACQUIRE);
    if (all) break;
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  lh_wq_shutdown(m->q);
  for (int i = 0; i < WQ_WORKERS; i++) pthread_join(w[i], NULL);
  unsigned long total = 0;
  int missing = 0;
  for (int i = 0; i < WQ_KEYS; i++) {
    total += m->processed[i];
    if (m->seen[i] != m->added[i]) missing++;
  }
  print_message("4 workers: %d adds of %d keys -> %lu processings (dedup), %d overlaps, %d keys lost\n",
                WQ_ADDS, WQ_KEYS, total, m->overlaps, missing);
  assert_int_equal(m->overlaps, 0);
  assert_int_equal(m->bad_keys, 0);
  assert_int_equal(missing, 0);
  assert_true(total >= WQ_KEYS && total <= WQ_ADDS);
  lh_wq_free(m->q);
  free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dedup),        cmocka_unit_test(test_no_concurrent),
      cmocka_unit_test(test_rate_limiter), cmocka_unit_test(test_add_after),
      cmocka_unit_test(test_next_due),
      cmocka_unit_test(test_shutdown),     cmocka_unit_test(test_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
