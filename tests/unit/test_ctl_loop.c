/* test_ctl_loop.c — lh_ctl_call_on_loop (core/ctl.c): inline before the loop runs and on the
 * loop thread; from other threads it runs fn on the loop thread and returns only once fn ran. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/ctl.h"
#include "core/ctl_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct probe {
  pthread_t ran_on;
  int calls;
  lh_ctl *ctl;
  int nested_done;
} probe;

static void record(lh_ctl *ctl, void *data) {
  (void)ctl;
  probe *p = data;
  p->ran_on = pthread_self();
  p->calls++; /* no lock: always on the loop thread (or before it runs) */
}

static void nested_inner(lh_ctl *ctl, void *data) {
  (void)ctl;
  ((probe *)data)->nested_done = 1;
}
static void nested_outer(lh_ctl *ctl, void *data) {
  probe *p = data;
  /* from the loop thread: runs at once, no deadlock */
  lh_ctl_call_on_loop(ctl, nested_inner, p);
  assert_int_equal(p->nested_done, 1);
  p->ran_on = pthread_self();
}

static pthread_t g_loop_thread;
static volatile int g_loop_up;
static void mark_up(lh_loop *loop, void *data) {
  (void)loop;
  (void)data;
  g_loop_thread = pthread_self();
  __atomic_store_n(&g_loop_up, 1, __ATOMIC_RELEASE);
}
static void *run_loop(void *data) {
  lh_ctl_run(data);
  return NULL;
}

typedef struct worker {
  lh_ctl *ctl;
  probe *p;
  int n;
} worker;
static void *hammer(void *data) {
  worker *w = data;
  for (int i = 0; i < w->n; i++) assert_int_equal(lh_ctl_call_on_loop(w->ctl, record, w->p), 0);
  return NULL;
}

static void t_call_on_loop(void **state) {
  (void)state;
  char kc[] = "/tmp/lahar-test-ctl-loop-XXXXXX";
  int fd = mkstemp(kc);
  assert_true(fd >= 0);
  /* a server nobody listens on: informers fail and back off, which does not matter here */
  const char *cfg = "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"http://127.0.0.1:9\"}\n"
                    "users:\n- name: u\n  user: {token: t}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
                    "current-context: x\n";
  assert_int_equal(write(fd, cfg, strlen(cfg)), (ssize_t)strlen(cfg));
  close(fd);
  lh_ctl_opts o;
  lh_ctl_opts_init(&o);
  o.kubeconfig = kc;
  o.log_level = 4;
  lh_ctl *ctl = NULL;
  char err[256] = "";
  assert_int_equal(lh_ctl_new(&o, &ctl, err, sizeof(err)), 0);
  probe p;
  memset(&p, 0, sizeof(p));
  /* before start: inline on the caller */
  assert_int_equal(lh_ctl_call_on_loop(ctl, record, &p), 0);
  assert_int_equal(p.calls, 1);
  assert_true(pthread_equal(p.ran_on, pthread_self()));
  assert_int_equal(lh_ctl_start(ctl, err, sizeof(err)), 0);
  pthread_t th;
  assert_int_equal(lh_loop_post(lh_ctl_loop(ctl), mark_up, NULL), 0);
  assert_int_equal(pthread_create(&th, NULL, run_loop, ctl), 0);
  while (!__atomic_load_n(&g_loop_up, __ATOMIC_ACQUIRE)) usleep(1000);
  /* from another thread: runs on the loop thread, and has run when the call returns */
  assert_int_equal(lh_ctl_call_on_loop(ctl, record, &p), 0);
  assert_int_equal(p.calls, 2);
  assert_true(pthread_equal(p.ran_on, th));
  assert_true(pthread_equal(p.ran_on, g_loop_thread));
  /* nested call from the loop thread runs inline */
  assert_int_equal(lh_ctl_call_on_loop(ctl, nested_outer, &p), 0);
  assert_int_equal(p.nested_done, 1);
  assert_true(pthread_equal(p.ran_on, th));
  /* several threads at once: every call ran exactly once, serialized on the loop */
  enum { NT = 4, PER = 200 };
  pthread_t ws[NT];
  worker w = {ctl, &p, PER};
  for (int i = 0; i < NT; i++) assert_int_equal(pthread_create(&ws[i], NULL, hammer, &w), 0);
  for (int i = 0; i < NT; i++) pthread_join(ws[i], NULL);
  assert_int_equal(p.calls, 2 + NT * PER);
  lh_ctl_shutdown(ctl);
  pthread_join(th, NULL);
  lh_ctl_free(ctl);
  unlink(kc);
}

/* A resync with nothing changed waits max(--cycle-resync, 10 cycle lengths), at most 30 s: a
 * backlog that cannot be placed must not keep the loop busy with identical expensive cycles
 * (at 140k pods a cycle took 0.8 s and ran back to back, starving status writes). */
static void t_idle_resync(void **state) {
  (void)state;
  assert_int_equal(lh_sched_idle_resync_ms(1000, 5), 1000);     /* cheap cycles: the flag */
  assert_int_equal(lh_sched_idle_resync_ms(1000, 800), 8000);   /* 0.8 s cycles: <= 10% busy */
  assert_int_equal(lh_sched_idle_resync_ms(1000, 9000), 30000); /* capped */
  assert_int_equal(lh_sched_idle_resync_ms(45000, 9000), 45000);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(t_call_on_loop), cmocka_unit_test(t_idle_resync)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
