/* test_ctl_loop.c — lh_ctl_call_on_loop (core/ctl.c): inline before the loop runs and on the
 * loop thread; from other threads it runs fn on the loop thread and returns only once fn ran.
 * Also the Event recorder creating an Event again when its aggregation patch answers 404, the
 * loop's rules for what may start a cycle (Queue echoes), and the PodGroup status
 * patch sched.c writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/ctl.h"
#include "core/ctl_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
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

static json_t *queue_obj(const char *status_state, int running) {
  json_t *o = json_pack("{s:{s:s, s:{s:s}}, s:{s:i, s:b}, s:{s:i, s:i}}", "metadata", "name", "q", "annotations",
                        "volcano.sh/hierarchy", "root/q", "spec", "weight", 2, "reclaimable", 1, "status", "running",
                        running, "pending", 0);
  assert_non_null(o);
  if (status_state) json_object_set_new(json_object_get(o, "status"), "state", json_string(status_state));
  return o;
}

/* A Queue update that changes only the counts in status (lahar's own status write coming back)
 * starts no cycle; anything the snapshot reads does. */
static void t_queue_same_for_sched(void **state) {
  (void)state;
  json_t *a = queue_obj("Open", 0), *b = queue_obj("Open", 7);
  json_object_set_new(json_object_get(b, "metadata"), "resourceVersion", json_string("42"));
  assert_int_equal(lh_ctl_queue_same_for_sched(a, b), 1);
  json_decref(b);
  b = queue_obj("Closing", 0); /* state: the snapshot closes the queue */
  assert_int_equal(lh_ctl_queue_same_for_sched(a, b), 0);
  json_decref(b);
  b = queue_obj(NULL, 0); /* state dropped */
  assert_int_equal(lh_ctl_queue_same_for_sched(a, b), 0);
  json_decref(b);
  b = queue_obj("Open", 0);
  json_object_set_new(json_object_get(b, "spec"), "weight", json_integer(3));
  assert_int_equal(lh_ctl_queue_same_for_sched(a, b), 0);
  json_decref(b);
  b = queue_obj("Open", 0);
  json_object_set_new(json_object_get(json_object_get(b, "metadata"), "annotations"), "volcano.sh/hierarchy-weights",
                      json_string("1/2"));
  assert_int_equal(lh_ctl_queue_same_for_sched(a, b), 0);
  json_decref(b);
  b = queue_obj("Open", 0);
  json_object_set_new(json_object_get(b, "metadata"), "deletionTimestamp", json_string("2026-01-01T00:00:00Z"));
  assert_int_equal(lh_ctl_queue_same_for_sched(a, b), 0);
  json_decref(b);
  json_decref(a);
}

/* A PodGroup's own status write coming back starts no cycle when the snapshot reads its phase
 * as before (a new group's first "Pending" after no phase at all), or sets Running/Unknown
 * (derived from placed pods); admission (-> Inqueue) and completion still do. */
static void t_pg_phase_same_for_sched(void **state) {
  (void)state;
  assert_int_equal(lh_sched_pg_phase_same_for_sched(NULL, "Pending"), 1);
  assert_int_equal(lh_sched_pg_phase_same_for_sched("Pending", "Pending"), 1);
  assert_int_equal(lh_sched_pg_phase_same_for_sched("Inqueue", "Running"), 1);
  assert_int_equal(lh_sched_pg_phase_same_for_sched("Pending", "Unknown"), 1);
  assert_int_equal(lh_sched_pg_phase_same_for_sched("Inqueue", "Inqueue"), 1);
  assert_int_equal(lh_sched_pg_phase_same_for_sched("Pending", "Inqueue"), 0); /* admitted */
  assert_int_equal(lh_sched_pg_phase_same_for_sched(NULL, "Inqueue"), 0);
  assert_int_equal(lh_sched_pg_phase_same_for_sched("Running", "Completed"), 0); /* leaves */
  assert_int_equal(lh_sched_pg_phase_same_for_sched("Running", "Pending"), 0);
  assert_int_equal(lh_sched_pg_phase_same_for_sched("Pending", NULL), 0);
}

/* 1 when some string anywhere in v is "". */
static int has_empty_string(const json_t *v) {
  if (json_is_string(v)) return json_string_length(v) == 0;
  const char *k;
  const json_t *x;
  size_t i;
  if (json_is_object(v)) {
    json_object_foreach((json_t *)v, k, x) if (has_empty_string(x)) return 1;
  } else if (json_is_array(v)) {
    json_array_foreach(v, i, x) if (has_empty_string(x)) return 1;
  }
  return 0;
}

/* The PodGroup status lahar writes holds no "": the apiserver build in the peer benchmark
 * rejected the whole patch (422) for an empty condition message. */
static void t_pg_status_no_empty_strings(void **state) {
  (void)state;
  json_t *p = lh_sched_pg_status_patch("Running", 3, 1, 0, NULL, "2026-11-24T06:00:00Z");
  assert_non_null(p);
  assert_int_equal(has_empty_string(p), 0);
  const json_t *st = json_object_get(p, "status");
  assert_string_equal(json_string_value(json_object_get(st, "phase")), "Running");
  assert_int_equal(json_integer_value(json_object_get(st, "running")), 3);
  assert_int_equal(json_integer_value(json_object_get(st, "succeeded")), 1);
  const json_t *c = json_array_get(json_object_get(st, "conditions"), 0);
  assert_string_equal(json_string_value(json_object_get(c, "type")), "Scheduled");
  assert_null(json_object_get(c, "message"));
  json_decref(p);
  p = lh_sched_pg_status_patch("Pending", 0, 0, 0, "0/3 nodes are available", "2026-11-24T06:00:00Z");
  assert_int_equal(has_empty_string(p), 0);
  c = json_array_get(json_object_get(json_object_get(p, "status"), "conditions"), 0);
  assert_string_equal(json_string_value(json_object_get(c, "type")), "Unschedulable");
  assert_string_equal(json_string_value(json_object_get(c, "message")), "0/3 nodes are available");
  json_decref(p);
  /* an empty reason from the core still writes no "" */
  p = lh_sched_pg_status_patch("Pending", 0, 0, 0, "", "");
  assert_non_null(p);
  assert_int_equal(has_empty_string(p), 0);
  json_decref(p);
}

/* A one-connection-at-a-time HTTP/1.1 server: Event POSTs answer 201, everything else 404 (the
 * informers back off; an aggregation PATCH finds its Event gone). Records the Event requests. */
typedef struct evsrv {
  int lfd;
  int stop_fd[2];
  pthread_mutex_t mu;
  char log[8][16]; /* "POST" / "PATCH" of the Event requests, in order */
  int nlog;
} evsrv;

static void *evsrv_run(void *data) {
  evsrv *v = data;
  for (;;) {
    struct pollfd pf[2] = {{v->lfd, POLLIN, 0}, {v->stop_fd[0], POLLIN, 0}};
    if (poll(pf, 2, -1) < 0 || pf[1].revents) return NULL;
    int fd = accept(v->lfd, NULL, NULL);
    if (fd < 0) continue;
    char req[8192];
    size_t n = 0;
    char *end = NULL;
    while (!end && n < sizeof(req) - 1) { /* headers */
      ssize_t r = read(fd, req + n, sizeof(req) - 1 - n);
      if (r <= 0) break;
      n += (size_t)r;
      req[n] = 0;
      end = strstr(req, "\r\n\r\n");
    }
    if (end) {
      const char *cl = strcasestr(req, "content-length:");
      size_t want = (size_t)(end + 4 - req) + (cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0);
      while (n < want && n < sizeof(req) - 1) {
        ssize_t r = read(fd, req + n, sizeof(req) - 1 - n);
        if (r <= 0) break;
        n += (size_t)r;
      }
      int post = !strncmp(req, "POST /api/v1/namespaces/default/events ", 39);
      int patch = !strncmp(req, "PATCH /api/v1/namespaces/default/events/", 40);
      if (post || patch) {
        pthread_mutex_lock(&v->mu);
        if (v->nlog < 8) snprintf(v->log[v->nlog++], sizeof(v->log[0]), "%s", post ? "POST" : "PATCH");
        pthread_mutex_unlock(&v->mu);
      }
      const char *ans = post ? "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
                               "Connection: close\r\n\r\n{}"
                             : "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
                               "Connection: close\r\n\r\n{}";
      ssize_t w = write(fd, ans, strlen(ans));
      (void)w;
    }
    close(fd);
  }
}

typedef struct ev_counts {
  unsigned long long posted, aggregated, failed;
} ev_counts;
static void read_counts(lh_ctl *ctl, void *data) {
  ev_counts *c = data;
  c->posted = ctl->met.events_posted;
  c->aggregated = ctl->met.events_aggregated;
  c->failed = ctl->met.events_failed;
}
static void send_event(lh_ctl *ctl, void *data) {
  (void)data;
  lh_ctl_ref ref = {"Pod", "v1", "default", "p1", "uid-1"};
  assert_int_equal(lh_ctl_event(ctl, &ref, LH_CTL_EVENT_WARNING, "FailedScheduling", "%s", "no nodes"), 0);
}

/* An Event repeated within the aggregation window is PATCHed (count, lastTimestamp); when the
 * apiserver has dropped it (404), the recorder creates it again instead of losing it. */
static void t_event_recreated_after_404(void **state) {
  (void)state;
  evsrv v;
  memset(&v, 0, sizeof(v));
  pthread_mutex_init(&v.mu, NULL);
  v.lfd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(v.lfd >= 0);
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(v.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
  socklen_t sl = sizeof(sa);
  assert_int_equal(getsockname(v.lfd, (struct sockaddr *)&sa, &sl), 0);
  assert_int_equal(listen(v.lfd, 64), 0);
  assert_int_equal(pipe(v.stop_fd), 0);
  pthread_t srv;
  assert_int_equal(pthread_create(&srv, NULL, evsrv_run, &v), 0);

  char kc[] = "/tmp/lahar-test-ctl-ev-XXXXXX";
  int fd = mkstemp(kc);
  assert_true(fd >= 0);
  char cfg[512];
  snprintf(cfg, sizeof(cfg),
           "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"http://127.0.0.1:%d\"}\n"
           "users:\n- name: u\n  user: {token: t}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
           "current-context: x\n",
           ntohs(sa.sin_port));
  assert_int_equal(write(fd, cfg, strlen(cfg)), (ssize_t)strlen(cfg));
  close(fd);
  lh_ctl_opts o;
  lh_ctl_opts_init(&o);
  o.kubeconfig = kc;
  o.log_level = 4;
  lh_ctl *ctl = NULL;
  char err[256] = "";
  assert_int_equal(lh_ctl_new(&o, &ctl, err, sizeof(err)), 0);
  assert_int_equal(lh_ctl_start(ctl, err, sizeof(err)), 0);
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, run_loop, ctl), 0);

  ev_counts c = {0};
  assert_int_equal(lh_ctl_call_on_loop(ctl, send_event, NULL), 0);
  /* wait for the create's answer to reach the recorder: a repeat sent before would be a
   * second create, not the patch under test */
  while (c.posted + c.failed < 1) {
    usleep(2000);
    assert_int_equal(lh_ctl_call_on_loop(ctl, read_counts, &c), 0);
  }
  assert_int_equal(c.posted, 1);
  assert_int_equal(lh_ctl_call_on_loop(ctl, send_event, NULL), 0);
  while (c.posted + c.failed + c.aggregated < 2) {
    usleep(2000);
    assert_int_equal(lh_ctl_call_on_loop(ctl, read_counts, &c), 0);
  }
  assert_int_equal(c.posted, 2); /* created again, not failed and not counted as aggregated */
  assert_int_equal(c.failed, 0);
  assert_int_equal(c.aggregated, 0);
  pthread_mutex_lock(&v.mu);
  assert_int_equal(v.nlog, 3);
  assert_string_equal(v.log[0], "POST");
  assert_string_equal(v.log[1], "PATCH");
  assert_string_equal(v.log[2], "POST");
  pthread_mutex_unlock(&v.mu);

  lh_ctl_shutdown(ctl);
  pthread_join(th, NULL);
  lh_ctl_free(ctl);
  unlink(kc);
  assert_int_equal(write(v.stop_fd[1], "x", 1), 1);
  pthread_join(srv, NULL);
  close(v.stop_fd[0]);
  close(v.stop_fd[1]);
  close(v.lfd);
  pthread_mutex_destroy(&v.mu);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(t_call_on_loop), cmocka_unit_test(t_idle_resync),
                                     cmocka_unit_test(t_queue_same_for_sched),
                                     cmocka_unit_test(t_pg_status_no_empty_strings),
                                     cmocka_unit_test(t_pg_phase_same_for_sched),
                                     cmocka_unit_test(t_event_recreated_after_404)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
