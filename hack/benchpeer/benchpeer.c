/* benchpeer.c — bin/lahar-benchpeer: the load and measurement tool of `make bench-peer`.
 *
 * It creates pods (optionally Queues and PodGroups first) against an API server, with many
 * creates in flight on one lh_kube_async, and watches the namespace's pods on a second
 * connection pool (chunked HTTP). It records for every measured pod the client-side time its
 * create was sent and acknowledged, and the time the watch first showed spec.nodeName set.
 * Whichever scheduler binds the pods (kube-scheduler or lahar-controller) is started by the
 * caller (hack/benchpeer/run.sh); this tool only needs the pods' schedulerName.
 *
 * Phases: [setup: namespace, queues, podgroups] -> [probe: one pod, wait bound: the scheduler is
 * up and its caches are synced] -> [warmup: W pods, wait all bound; not measured] -> [measured:
 * N pods]. The measured phase ends when every created pod is bound, or (gang runs, where the
 * cluster is deliberately too small) when no binding was seen for --quiet-s after the last
 * create was acknowledged, or at --timeout-s.
 *
 * Null scheduler (--null-bind): no scheduler runs; this tool binds every pod itself, round-robin
 * over the cluster's nodes, without any scheduling logic, over its own HTTP/2 connections with
 * --bind-in-flight binds outstanding. A pod is bound as soon as its create is acknowledged (the
 * uid comes from the create's answer), in backlog runs all at once when PATH.go appears. Its
 * rate is what the apiserver can write on this machine: the ceiling of any scheduler.
 *
 * Output: one JSON line on stdout (rates, latency percentiles, CPU seconds and nice values of the
 * processes named with --cpu-pid during the measured phase — and, in backlog runs, during the
 * creation of the backlog — apiserver+etcd CPU per create and per bound pod, gang/queue results).
 * Progress goes to stderr. */
#include "kube/async.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/kube.h"
#include "kube/loop.h"
#include "kube/watch.h"
#include "util/buf.h"

#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_QUEUES 16
#define MAX_CPU_PIDS 8

static const lh_kube_resource QUEUES = {"scheduling.volcano.sh", "v1beta1", "queues", 0};
static const lh_kube_resource PODGROUPS = {"scheduling.volcano.sh", "v1beta1", "podgroups", 1};

typedef struct opts {
  const char *kubeconfig, *ns, *scheduler, *label, *cpu, *memory, *backlog;
  long pods, warmup, gangs, gang_size, in_flight, connections, timeout_s, quiet_s;
  int probe, http2, no_wait, null_bind;
  long bind_in_flight;
  int nq;
  char qname[MAX_QUEUES][64];
  long qweight[MAX_QUEUES];
  int ncpu;
  char cpu_name[MAX_CPU_PIDS][32];
  long cpu_pid[MAX_CPU_PIDS];
} opts;

/* One pod of a phase. Times are ms on CLOCK_MONOTONIC, 0 = not yet. */
typedef struct pod_t {
  double sent, acked, bound;
  int failed;
  char uid[40]; /* from the create's answer (null scheduler: the binding's uid precondition) */
} pod_t;

typedef enum { PH_PROBE = 0, PH_WARMUP, PH_MEASURED, PH_SETUP } phase_id;
static const char PH_PREFIX[] = {'p', 'w', 'm'};

typedef struct phase {
  phase_id id;
  long n;
  pod_t *pods;
  long next, in_flight, acked, failed, bound;
  double first_sent, last_acked, last_bound;
  char first_err[300];
} phase;

typedef struct bench {
  opts o;
  lh_loop *loop;
  lh_kube_async *wa, *sa;
  lh_kube_watch *watch;
  char rv[32];
  int watch_restart;
  long watch_ends, watch_events;
  double watch_last_event;
  phase ph[3];
  phase *cur;
  /* setup writes (queues, podgroups) */
  long setup_pending, setup_failed;
  char setup_err[300];
  /* null scheduler: nodes to bind to (round-robin), a FIFO of pods waiting for a bind slot */
  lh_kube_async *ba;
  char **nodes;
  long nnodes, rr;
  struct bindq { phase *p; long i; } *bq;
  long bq_head, bq_tail, bq_cap;
  long binds_sent, binds_ok, binds_failed, binds_in_flight;
  double bind_first_sent, bind_last_ok;
  char bind_err[300];
} bench;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static volatile sig_atomic_t g_stop;
static void on_sig(int s) { (void)s; g_stop = 1; }

/* ---- pod bodies ------------------------------------------------------------------------- */
/* Group and queue of measured pod i in gang runs: pods are created gang by gang, gangs round-
 * robin over the queues, so no queue gets its pods to the server earlier than another. */
static long gang_of(const opts *o, long i) { return i / o->gang_size; }
static int queue_of(const opts *o, long g) { return (int)(g % o->nq); }

static char *pod_body(const bench *b, phase_id ph, long i) {
  const opts *o = &b->o;
  lh_buf s;
  lh_buf_init(&s, 1 << 16);
  char name[64];
  if (ph == PH_PROBE) snprintf(name, sizeof name, "probe");
  else snprintf(name, sizeof name, "%c-%06ld", PH_PREFIX[ph], i);
  int gang = ph == PH_MEASURED && o->gangs > 0;
  lh_buf_addf(&s, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\","
                  "\"labels\":{\"bench\":\"%s\"}",
              name, o->ns, o->label);
  if (gang) {
    long g = gang_of(o, i);
    lh_buf_addf(&s, ",\"annotations\":{\"scheduling.k8s.io/group-name\":\"pg-%04ld\",\"volcano.sh/queue-name\":\"%s\"}",
                g, o->qname[queue_of(o, g)]);
  }
  lh_buf_addf(&s, "},\"spec\":{\"schedulerName\":\"%s\",\"containers\":[{\"name\":\"pause\","
                  "\"image\":\"k8s.gcr.io/pause:3.2\",\"ports\":[{\"containerPort\":80}]",
              o->scheduler);
  if (ph == PH_PROBE) /* requests nothing: it must not take capacity from the workload */
    lh_buf_adds(&s, "}]}}");
  else
    lh_buf_addf(&s, ",\"resources\":{\"limits\":{\"cpu\":\"%s\",\"memory\":\"%s\"},"
                    "\"requests\":{\"cpu\":\"%s\",\"memory\":\"%s\"}}}]}}",
                o->cpu, o->memory, o->cpu, o->memory);
  return lh_buf_take(&s);
}

/* ---- null scheduler: binds ------------------------------------------------------------------ */
typedef struct breq {
  bench *b;
  phase *p;
  long i;
} breq;

static void bind_more(bench *b);

static void bind_enqueue(bench *b, phase *p, long i) {
  if (b->bq_tail >= b->bq_cap) return; /* cannot happen: the FIFO holds every pod of every phase */
  b->bq[b->bq_tail].p = p, b->bq[b->bq_tail].i = i;
  b->bq_tail++;
}

static void bind_done(lh_kube_async *a, int rc, lh_kube_response *resp, void *data) {
  (void)a;
  breq *r = data;
  bench *b = r->b;
  if (rc == LH_EKUBE_CLOSED) {
    free(r);
    return;
  }
  b->binds_in_flight--;
  if (rc == 0) {
    b->binds_ok++;
    b->bind_last_ok = now_ms();
  } else {
    b->binds_failed++;
    if (!b->bind_err[0])
      snprintf(b->bind_err, sizeof b->bind_err, "bind %c-%06ld: %s %d %s: %.150s", PH_PREFIX[r->p->id], r->i,
               lh_kube_strerror(rc), resp->status.code, resp->status.reason,
               resp->status.message[0] ? resp->status.message : resp->error);
  }
  free(r);
  bind_more(b);
}

/* Keeps bind_in_flight binds outstanding while pods wait in the FIFO; node = next round-robin. */
static void bind_more(bench *b) {
  char name[64];
  while (b->bq_head < b->bq_tail && b->binds_in_flight < b->o.bind_in_flight) {
    struct bindq q = b->bq[b->bq_head++];
    const pod_t *pd = &q.p->pods[q.i];
    breq *r = malloc(sizeof *r);
    if (!r) {
      b->binds_failed++;
      continue;
    }
    r->b = b, r->p = q.p, r->i = q.i;
    if (q.p->id == PH_PROBE) snprintf(name, sizeof name, "probe");
    else snprintf(name, sizeof name, "%c-%06ld", PH_PREFIX[q.p->id], q.i);
    const char *node = b->nodes[b->rr++ % b->nnodes];
    double t = now_ms();
    if (!b->bind_first_sent) b->bind_first_sent = t;
    if (lh_kube_async_bind(b->ba, b->o.ns, name, node, pd->uid[0] ? pd->uid : NULL, bind_done, r)) {
      free(r);
      b->binds_failed++;
      continue;
    }
    b->binds_sent++;
    b->binds_in_flight++;
  }
}

/* The null scheduler's node list: names of every node (GET /api/v1/nodes at setup, not
 * measured). Returns 0, or -1 with a message on stderr. */
static int load_nodes(bench *b, const lh_kube_config *cfg) {
  lh_kube_client *cl = NULL;
  lh_kube_response r = {0};
  int rc = -1;
  if (lh_kube_client_new(cfg, NULL, &cl) || lh_kube_request(cl, "GET", "/api/v1/nodes", NULL, NULL, 0, &r)) {
    fprintf(stderr, "benchpeer: list nodes: %s %s\n", r.error, r.status.message);
    goto out;
  }
  json_t *doc = json_loadb(r.body, r.len, 0, NULL);
  json_t *items = json_object_get(doc, "items");
  size_t n = json_array_size(items);
  b->nodes = n ? calloc(n, sizeof(char *)) : NULL;
  for (size_t k = 0; b->nodes && k < n; k++) {
    const char *nm = json_string_value(json_object_get(json_object_get(json_array_get(items, k), "metadata"), "name"));
    if (nm && (b->nodes[b->nnodes] = strdup(nm))) b->nnodes++;
  }
  json_decref(doc);
  if (b->nnodes > 0) rc = 0;
  else fprintf(stderr, "benchpeer: --null-bind: the cluster has no nodes\n");
out:
  lh_kube_response_free(&r);
  lh_kube_client_free(cl);
  return rc;
}

/* ---- creates ------------------------------------------------------------------------------ */
typedef struct creq {
  bench *b;
  phase *p;
  long i;
} creq;

static void issue_more(bench *b, phase *p);

static void create_done(lh_kube_async *a, int rc, lh_kube_response *resp, void *data) {
  (void)a;
  creq *c = data;
  if (rc == LH_EKUBE_CLOSED) {
    free(c);
    return;
  }
  phase *p = c->p;
  double t = now_ms();
  p->in_flight--;
  pod_t *pd = &p->pods[c->i];
  bench *b = c->b;
  if (rc == 0) {
    pd->acked = t;
    p->acked++;
    if (t > p->last_acked) p->last_acked = t;
    if (b->o.null_bind) {
      json_t *doc = resp->body ? json_loadb(resp->body, resp->len, 0, NULL) : NULL;
      const char *uid = json_string_value(json_object_get(json_object_get(doc, "metadata"), "uid"));
      if (uid && strlen(uid) < sizeof pd->uid) memcpy(pd->uid, uid, strlen(uid) + 1);
      json_decref(doc);
      /* backlog runs: the measured pods are bound only once the gate opens */
      if (!(b->o.backlog && p->id == PH_MEASURED)) bind_enqueue(b, p, c->i);
    }
  } else {
    pd->failed = 1;
    p->failed++;
    if (!p->first_err[0])
      snprintf(p->first_err, sizeof p->first_err, "create %c-%06ld: %s %d %s: %.150s", PH_PREFIX[p->id], c->i,
               lh_kube_strerror(rc), resp->status.code, resp->status.reason,
               resp->status.message[0] ? resp->status.message : resp->error);
  }
  free(c);
  issue_more(b, p);
  bind_more(b);
}

/* Keeps in_flight creates outstanding until all n were sent. The send time is taken just before
 * the request is handed to curl (the window equals the library's in-flight limit, so the request
 * does not wait in the library's queue). */
static void issue_more(bench *b, phase *p) {
  char path[300];
  snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods", b->o.ns);
  while (p->next < p->n && p->in_flight < b->o.in_flight) {
    long i = p->next++;
    char *body = pod_body(b, p->id, i);
    creq *c = malloc(sizeof *c);
    if (!body || !c) {
      free(body), free(c);
      p->pods[i].failed = 1, p->failed++;
      continue;
    }
    c->b = b, c->p = p, c->i = i;
    double t = now_ms();
    if (!p->first_sent) p->first_sent = t;
    p->pods[i].sent = t;
    int rc = lh_kube_async_request(b->wa, "POST", path, "application/json", body, strlen(body), create_done, c);
    free(body);
    if (rc) {
      free(c);
      p->pods[i].failed = 1, p->failed++;
      continue;
    }
    p->in_flight++;
  }
}

/* ---- watch -------------------------------------------------------------------------------- */
static void start_watch(bench *b);

static void on_event(lh_kube_watch *w, const lh_kube_watch_event *ev, void *ud) {
  (void)w;
  bench *b = ud;
  double t = now_ms();
  b->watch_events++;
  b->watch_last_event = t;
  if (ev->rv) snprintf(b->rv, sizeof b->rv, "%s", ev->rv);
  if (ev->type == LH_WATCH_ERROR) {
    fprintf(stderr, "benchpeer: watch ERROR event: %s\n", json_string_value(json_object_get(ev->object, "message")));
    return;
  }
  if (ev->type != LH_WATCH_ADDED && ev->type != LH_WATCH_MODIFIED) return;
  json_t *md = json_object_get(ev->object, "metadata");
  const char *name = json_string_value(json_object_get(md, "name"));
  const char *node = json_string_value(json_object_get(json_object_get(ev->object, "spec"), "nodeName"));
  if (!name || !node || !*node) return;
  phase *p = NULL;
  long i = 0;
  if (!strcmp(name, "probe")) p = &b->ph[PH_PROBE];
  else if (strlen(name) == 8 && name[1] == '-') {
    for (int k = 0; k < 3; k++)
      if (name[0] == PH_PREFIX[k]) p = &b->ph[k];
    i = strtol(name + 2, NULL, 10);
  }
  if (!p || i < 0 || i >= p->n || p->pods[i].bound) return;
  p->pods[i].bound = t;
  p->bound++;
  if (t > p->last_bound) p->last_bound = t;
}

static void on_end(lh_kube_watch *w, int rc, const lh_kube_status *st, void *ud) {
  (void)w;
  bench *b = ud;
  b->watch = NULL;
  b->watch_ends++;
  if (rc) fprintf(stderr, "benchpeer: watch ended: %s (%d %s: %.200s); resuming from rv %s\n",
                  lh_kube_strerror(rc), st->code, st->reason, st->message, b->rv);
  b->watch_restart = 1; /* resumed from the main loop, not from inside the callback */
}

static void start_watch(bench *b) {
  lh_buf p;
  lh_buf_init(&p, 4096);
  lh_kube_list_opts q = {.resource_version = b->rv, .timeout_seconds = 3600, .watch = 1};
  int rc = lh_kube_path(&p, &LH_KUBE_PODS, b->o.ns, NULL, NULL);
  if (!rc) rc = lh_kube_query(&p, &q);
  lh_kube_watch_opts wo = {.mode = LH_WATCH_HTTP_ONLY};
  if (!rc) rc = lh_kube_watch_start(b->sa, NULL, lh_buf_str(&p), &wo, on_event, on_end, b, &b->watch);
  lh_buf_free(&p);
  b->watch_restart = 0;
  if (rc) {
    fprintf(stderr, "benchpeer: watch start: %s\n", lh_kube_strerror(rc));
    b->watch_restart = 1;
  }
}

static void pump(bench *b, long ms) {
  lh_loop_run_once(b->loop, ms);
  if (b->watch_restart && !b->watch) start_watch(b);
}

/* ---- setup writes ------------------------------------------------------------------------- */
static void setup_done(lh_kube_async *a, int rc, lh_kube_response *resp, void *data) {
  (void)a;
  bench *b = data;
  if (rc == LH_EKUBE_CLOSED) return;
  b->setup_pending--;
  if (rc && resp->status.code != 409) {
    b->setup_failed++;
    if (!b->setup_err[0])
      snprintf(b->setup_err, sizeof b->setup_err, "%s %d %s: %.200s", lh_kube_strerror(rc), resp->status.code,
               resp->status.reason, resp->status.message[0] ? resp->status.message : resp->error);
  }
}

static int setup_post(bench *b, const lh_kube_resource *r, const char *ns, const char *body) {
  lh_buf p;
  lh_buf_init(&p, 4096);
  int rc = lh_kube_path(&p, r, ns, NULL, NULL);
  if (!rc) rc = lh_kube_async_request(b->wa, "POST", lh_buf_str(&p), "application/json", body, strlen(body),
                                      setup_done, b);
  lh_buf_free(&p);
  if (!rc) b->setup_pending++;
  return rc;
}

static int setup_wait(bench *b, const char *what) {
  double end = now_ms() + 120000;
  while (b->setup_pending > 0 && now_ms() < end && !g_stop) pump(b, 100);
  if (b->setup_pending > 0 || b->setup_failed) {
    fprintf(stderr, "benchpeer: setup (%s): %ld pending, %ld failed: %s\n", what, b->setup_pending, b->setup_failed,
            b->setup_err);
    return -1;
  }
  return 0;
}

/* ---- phases ------------------------------------------------------------------------------- */
static int phase_init(phase *p, phase_id id, long n) {
  memset(p, 0, sizeof *p);
  p->id = id;
  p->n = n;
  p->pods = calloc(n > 0 ? (size_t)n : 1, sizeof(pod_t));
  return p->pods ? 0 : -1;
}

/* Runs one phase: issues its creates and pumps the loop until every created pod is bound, or
 * quiet_s passed without a new binding after the last ack (quiet_s > 0), or the timeout. */
static double g_cpu0[MAX_CPU_PIDS], g_self0;
static double g_cpu_create0[MAX_CPU_PIDS], g_cpu_created[MAX_CPU_PIDS]; /* backlog creation phase */
static double proc_cpu_s(long pid);
static double g_go; /* backlog runs: when the scheduler was told to start (0: not a backlog run) */
static void backlog_gate(bench *b, phase *p);

static void phase_run(bench *b, phase *p, long quiet_s) {
  double start = now_ms(), deadline = start + (double)b->o.timeout_s * 1e3;
  b->cur = p;
  if (p->id == PH_MEASURED && b->o.backlog)
    for (int k = 0; k < b->o.ncpu; k++) g_cpu_create0[k] = proc_cpu_s(b->o.cpu_pid[k]);
  issue_more(b, p);
  if (p->id == PH_MEASURED && b->o.backlog) {
    backlog_gate(b, p);
    start = now_ms(), deadline = start + (double)b->o.timeout_s * 1e3;
  }
  double last_report = start;
  while (!g_stop) {
    pump(b, 50);
    double t = now_ms();
    int all_sent = p->next >= p->n && p->in_flight == 0;
    /* null scheduler: also wait for the last bind answers, so its counters are complete */
    int binds_done = !b->o.null_bind || (b->binds_in_flight == 0 && b->bq_head >= b->bq_tail);
    if (all_sent && ((p->bound >= p->acked && binds_done) || b->o.no_wait)) break;
    /* backlog runs: the scheduler's start (list, sync) must not count as quiet: wait for a binding */
    if (all_sent && quiet_s > 0 && (!g_go || p->bound > 0)) {
      double last = p->last_bound > p->last_acked ? p->last_bound : p->last_acked;
      if (g_go > last) last = g_go;
      if (t - last > (double)quiet_s * 1e3) break;
    }
    if (t > deadline) {
      fprintf(stderr, "benchpeer: phase %c: timeout after %ld s\n", PH_PREFIX[p->id], b->o.timeout_s);
      break;
    }
    if (t - last_report > 5000) {
      last_report = t;
      /* a scheduler that died (crash) would otherwise leave us waiting for the timeout */
      for (int k = 0; k < b->o.ncpu; k++)
        if (!strcmp(b->o.cpu_name[k], "scheduler") && proc_cpu_s(b->o.cpu_pid[k]) < 0) {
          fprintf(stderr, "benchpeer: phase %c: the scheduler (pid %ld) is gone\n", PH_PREFIX[p->id], b->o.cpu_pid[k]);
          g_stop = 1;
        }
      fprintf(stderr, "benchpeer: phase %c: %.0f s: sent %ld acked %ld failed %ld bound %ld (watch events %ld)\n",
              PH_PREFIX[p->id], (t - start) / 1e3, p->next, p->acked, p->failed, p->bound, b->watch_events);
    }
  }
  if (p->first_err[0]) fprintf(stderr, "benchpeer: phase %c: first error: %s\n", PH_PREFIX[p->id], p->first_err);
}

/* Backlog runs: every measured pod is created while no scheduler runs; then PATH.created is
 * written and we wait (pumping the watch) for PATH.go, which the caller creates right before it
 * starts the scheduler. The measurement starts at that moment. */
static void backlog_gate(bench *b, phase *p) {
  while (!g_stop && (p->next < p->n || p->in_flight > 0)) pump(b, 50);
  for (int k = 0; k < b->o.ncpu; k++) g_cpu_created[k] = proc_cpu_s(b->o.cpu_pid[k]);
  char path[4096];
  snprintf(path, sizeof path, "%s.created", b->o.backlog);
  FILE *f = fopen(path, "w");
  if (f) fprintf(f, "%ld\n", p->acked), fclose(f);
  fprintf(stderr, "benchpeer: backlog of %ld pods created (%ld bound already); waiting for %s.go\n", p->acked,
          p->bound, b->o.backlog);
  snprintf(path, sizeof path, "%s.go", b->o.backlog);
  double until = now_ms() + 600e3;
  while (!g_stop && access(path, F_OK) != 0 && now_ms() < until) pump(b, 20);
  g_go = now_ms();
  if (b->o.null_bind) {
    for (long i = 0; i < p->n; i++)
      if (p->pods[i].acked) bind_enqueue(b, p, i);
    bind_more(b);
  }
  /* CPU accounting of the measured phase starts here (the scheduler's pid is not known to us:
   * run.sh passes --cpu-pid only for processes running already; the scheduler's whole life is
   * inside the measurement anyway) */
  for (int k = 0; k < b->o.ncpu; k++) g_cpu0[k] = proc_cpu_s(b->o.cpu_pid[k]);
  g_self0 = proc_cpu_s(getpid());
}

static int cmp_d(const void *x, const void *y) {
  double a = *(const double *)x, c = *(const double *)y;
  return a < c ? -1 : a > c;
}
static double pct(const double *v, long n, double q) {
  if (n <= 0) return 0;
  long k = (long)(q * (double)(n - 1) + 0.5);
  return v[k < 0 ? 0 : k >= n ? n - 1 : k];
}

/* 1-minute load average (other work on the machine disturbs the run: it is reported). */
static double load1(void) {
  double l = -1;
  FILE *f = fopen("/proc/loadavg", "r");
  if (f) {
    if (fscanf(f, "%lf", &l) != 1) l = -1;
    fclose(f);
  }
  return l;
}

/* utime+stime of a process in seconds, -1 if unreadable. */
static double proc_cpu_s(long pid) {
  char path[64], buf[2048];
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  if (!p) return -1;
  unsigned long ut = 0, st = 0;
  /* after ") ": state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15) */
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) return -1;
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Nice value of a process (field 19 of /proc/PID/stat); 99 if unreadable. Reported so that a
 * run where the two schedulers (or their apiservers) ran at different priorities shows it. */
static long proc_nice(long pid) {
  char path[64], buf[2048];
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) return 99;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  long ni = 99;
  /* after ") ": state(3) ... cstime(17) priority(18) nice(19) */
  if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %ld", &ni) != 1) return 99;
  return ni;
}

/* Sum of the CPU seconds of the --cpu-pid processes named "apiserver" and "etcd" between two
 * samples (-1 if one was unreadable): the apiserver's side of every write. */
static double api_cpu(const opts *o, const double *c0, const double *c1) {
  double s = 0;
  int seen = 0;
  for (int k = 0; k < o->ncpu; k++)
    if (!strcmp(o->cpu_name[k], "apiserver") || !strcmp(o->cpu_name[k], "etcd")) {
      if (c0[k] < 0 || c1[k] < 0) return -1;
      s += c1[k] - c0[k], seen = 1;
    }
  return seen ? s : -1;
}

/* Events in the namespace (kube-scheduler writes one per binding; lahar one per pending group):
 * these are apiserver writes too. limit=1 returns remainingItemCount. -1 on failure. */
static long count_events(const lh_kube_config *cfg, const char *ns) {
  lh_kube_client *cl = NULL;
  lh_kube_response r = {0};
  char path[300];
  long n = -1;
  snprintf(path, sizeof path, "/api/v1/namespaces/%s/events?limit=1", ns);
  if (!lh_kube_client_new(cfg, NULL, &cl) && !lh_kube_request(cl, "GET", path, NULL, NULL, 0, &r)) {
    json_t *doc = json_loadb(r.body, r.len, 0, NULL);
    size_t items = json_array_size(json_object_get(doc, "items"));
    json_t *rem = json_object_get(json_object_get(doc, "metadata"), "remainingItemCount");
    n = (long)items + (json_is_integer(rem) ? (long)json_integer_value(rem) : 0);
    json_decref(doc);
  }
  lh_kube_response_free(&r);
  lh_kube_client_free(cl);
  return n;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: lahar-benchpeer --kubeconfig FILE [flags]\n"
          "  --namespace NS          namespace of the pods (created if missing; default bench)\n"
          "  --scheduler-name S      spec.schedulerName of every pod (default default-scheduler)\n"
          "  --label L               free text copied to the output's \"run\" field and pod label bench=L\n"
          "  --pods N                measured pods (default 1000)\n"
          "  --warmup N              pods created and bound before the measurement (default 0)\n"
          "  --probe                 first one pod without requests, waited for (scheduler ready)\n"
          "  --cpu Q --memory Q      requests (= limits) of every pod (default 100m, 500Mi)\n"
          "  --gangs G --gang-size K measured pods form G PodGroups of K (minMember K); pods = G*K\n"
          "  --queues q:w,...        Queues created with these weights; gangs round-robin over them\n"
          "  --in-flight N           concurrent creates (default 64)\n"
          "  --connections N         connections for creates (default 2; with --http1 use as many as --in-flight)\n"
          "  --http1                 creates over HTTP/1.1 instead of HTTP/2 multiplexing (the default)\n"
          "  --quiet-s S             end the measured phase S s after the last binding (gang runs)\n"
          "  --timeout-s S           per phase (default 600)\n"
          "  --backlog PATH          create all measured pods first, write PATH.created, wait for PATH.go\n"
          "                          (the caller then starts the scheduler); measure from that moment\n"
          "  --no-wait               measured phase ends when the creates are acknowledged (create rate only)\n"
          "  --cpu-pid NAME=PID      report PID's CPU seconds during the measured phase (repeatable)\n"
          "  --null-bind             null scheduler: bind every pod itself, round-robin over the nodes\n"
          "  --bind-in-flight N      concurrent binds of --null-bind (default 256, lahar's default; HTTP/2, 2 connections)\n");
}

int main(int argc, char **argv) {
  static bench B;
  bench *b = &B;
  opts *o = &b->o;
  o->ns = "bench", o->scheduler = "default-scheduler", o->label = "", o->cpu = "100m", o->memory = "500Mi";
  o->pods = 1000, o->in_flight = 64, o->connections = 2, o->timeout_s = 600, o->http2 = 1, o->bind_in_flight = 256;
  enum { O_KC = 256, O_NS, O_SCHED, O_LABEL, O_PODS, O_WARM, O_PROBE, O_CPU, O_MEM, O_GANGS, O_GSIZE, O_QUEUES,
         O_INFL, O_CONN, O_H1, O_QUIET, O_TO, O_CPUPID, O_NOWAIT, O_BACKLOG, O_NULL, O_BINFL, O_HELP };
  static const struct option lo[] = {
      {"kubeconfig", 1, 0, O_KC}, {"namespace", 1, 0, O_NS}, {"scheduler-name", 1, 0, O_SCHED},
      {"label", 1, 0, O_LABEL}, {"pods", 1, 0, O_PODS}, {"warmup", 1, 0, O_WARM}, {"probe", 0, 0, O_PROBE},
      {"cpu", 1, 0, O_CPU}, {"memory", 1, 0, O_MEM}, {"gangs", 1, 0, O_GANGS}, {"gang-size", 1, 0, O_GSIZE},
      {"queues", 1, 0, O_QUEUES}, {"in-flight", 1, 0, O_INFL}, {"connections", 1, 0, O_CONN},
      {"http1", 0, 0, O_H1}, {"quiet-s", 1, 0, O_QUIET}, {"timeout-s", 1, 0, O_TO}, {"cpu-pid", 1, 0, O_CPUPID}, {"no-wait", 0, 0, O_NOWAIT}, {"backlog", 1, 0, O_BACKLOG},
      {"null-bind", 0, 0, O_NULL}, {"bind-in-flight", 1, 0, O_BINFL},
      {"help", 0, 0, O_HELP}, {0, 0, 0, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
    switch (c) {
    case O_KC: o->kubeconfig = optarg; break;
    case O_NS: o->ns = optarg; break;
    case O_SCHED: o->scheduler = optarg; break;
    case O_LABEL: o->label = optarg; break;
    case O_PODS: o->pods = atol(optarg); break;
    case O_WARM: o->warmup = atol(optarg); break;
    case O_PROBE: o->probe = 1; break;
    case O_CPU: o->cpu = optarg; break;
    case O_MEM: o->memory = optarg; break;
    case O_GANGS: o->gangs = atol(optarg); break;
    case O_GSIZE: o->gang_size = atol(optarg); break;
    case O_QUEUES: {
      char *save = NULL, *dup = strdup(optarg);
      for (char *t = strtok_r(dup, ",", &save); t && o->nq < MAX_QUEUES; t = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(t, ':');
        if (!colon || colon - t >= 63 || atol(colon + 1) < 1) {
          fprintf(stderr, "benchpeer: --queues: want name:weight,...\n");
          return 2;
        }
        snprintf(o->qname[o->nq], sizeof o->qname[0], "%.*s", (int)(colon - t), t);
        o->qweight[o->nq++] = atol(colon + 1);
      }
      free(dup);
      break;
    }
    case O_INFL: o->in_flight = atol(optarg); break;
    case O_CONN: o->connections = atol(optarg); break;
    case O_H1: o->http2 = 0; break;
    case O_QUIET: o->quiet_s = atol(optarg); break;
    case O_TO: o->timeout_s = atol(optarg); break;
    case O_CPUPID: {
      char *eq = strchr(optarg, '=');
      if (!eq || o->ncpu == MAX_CPU_PIDS || eq - optarg >= 31) {
        fprintf(stderr, "benchpeer: --cpu-pid NAME=PID\n");
        return 2;
      }
      snprintf(o->cpu_name[o->ncpu], sizeof o->cpu_name[0], "%.*s", (int)(eq - optarg), optarg);
      o->cpu_pid[o->ncpu++] = atol(eq + 1);
      break;
    }
    case O_NOWAIT: o->no_wait = 1; break;
    case O_BACKLOG: o->backlog = optarg; break;
    case O_NULL: o->null_bind = 1; break;
    case O_BINFL: o->bind_in_flight = atol(optarg); break;
    case O_HELP: usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (!o->kubeconfig || o->in_flight < 1 || o->connections < 1 || o->warmup < 0 || o->warmup > 999999 ||
      o->bind_in_flight < 1 || o->bind_in_flight > 100000) {
    usage(stderr);
    return 2;
  }
  if (o->gangs > 0) {
    if (o->gang_size < 1 || o->nq < 1) {
      fprintf(stderr, "benchpeer: --gangs needs --gang-size and --queues\n");
      return 2;
    }
    o->pods = o->gangs * o->gang_size;
  }
  if (o->pods < 1 || o->pods > 999999) {
    fprintf(stderr, "benchpeer: --pods must be 1..999999\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  signal(SIGINT, on_sig);
  signal(SIGTERM, on_sig);

  char err[512] = "";
  lh_kube_config *cfg = NULL;
  int rc = lh_kube_config_load_file(o->kubeconfig, NULL, &cfg, err, sizeof err);
  if (rc) {
    fprintf(stderr, "benchpeer: %s: %s\n", o->kubeconfig, err);
    return 1;
  }
  b->loop = lh_loop_new();
  lh_kube_async_opts wo = {.max_connections = o->connections, .max_in_flight = o->in_flight, .http2 = o->http2};
  lh_kube_async_opts so = {.max_connections = 2, .max_in_flight = 2};
  /* the null scheduler's binds: own connections, multiplexed like the creates */
  lh_kube_async_opts bo = {.max_connections = 2, .max_in_flight = o->bind_in_flight, .http2 = 1};
  if (!b->loop || lh_kube_async_new(b->loop, cfg, &wo, &b->wa) || lh_kube_async_new(b->loop, cfg, &so, &b->sa) ||
      (o->null_bind && lh_kube_async_new(b->loop, cfg, &bo, &b->ba))) {
    fprintf(stderr, "benchpeer: client setup failed\n");
    return 1;
  }
  if (o->null_bind) {
    b->bq_cap = (o->probe ? 1 : 0) + o->warmup + o->pods;
    b->bq = calloc((size_t)b->bq_cap, sizeof *b->bq);
    if (!b->bq || load_nodes(b, cfg)) return 1;
  }
  if (phase_init(&b->ph[PH_PROBE], PH_PROBE, o->probe ? 1 : 0) || phase_init(&b->ph[PH_WARMUP], PH_WARMUP, o->warmup) ||
      phase_init(&b->ph[PH_MEASURED], PH_MEASURED, o->pods))
    return 1;

  /* setup: namespace, then queues and podgroups (not measured) */
  char body[1024];
  snprintf(body, sizeof body, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"%s\"}}", o->ns);
  setup_post(b, &LH_KUBE_NAMESPACES, NULL, body);
  if (setup_wait(b, "namespace")) return 1;
  double setup_ms = 0;
  if (o->gangs > 0) {
    double t0 = now_ms();
    for (int q = 0; q < o->nq; q++) {
      snprintf(body, sizeof body,
               "{\"apiVersion\":\"scheduling.volcano.sh/v1beta1\",\"kind\":\"Queue\",\"metadata\":{\"name\":\"%s\"},"
               "\"spec\":{\"weight\":%ld,\"reclaimable\":false}}",
               o->qname[q], o->qweight[q]);
      setup_post(b, &QUEUES, NULL, body);
    }
    if (setup_wait(b, "queues")) return 1;
    for (long g = 0; g < o->gangs; g++) {
      snprintf(body, sizeof body,
               "{\"apiVersion\":\"scheduling.volcano.sh/v1beta1\",\"kind\":\"PodGroup\",\"metadata\":{\"name\":\"pg-%04ld\","
               "\"namespace\":\"%s\"},\"spec\":{\"minMember\":%ld,\"queue\":\"%s\"}}",
               g, o->ns, o->gang_size, o->qname[queue_of(o, g)]);
      setup_post(b, &PODGROUPS, o->ns, body);
    }
    if (setup_wait(b, "podgroups")) return 1;
    setup_ms = now_ms() - t0;
  }
  /* the watch starts at the namespace's current resourceVersion (no synthetic ADDED events) */
  {
    lh_kube_client *cl = NULL;
    lh_kube_response r = {0};
    char path[300];
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods?limit=1", o->ns);
    if (lh_kube_client_new(cfg, NULL, &cl) || lh_kube_request(cl, "GET", path, NULL, NULL, 0, &r)) {
      fprintf(stderr, "benchpeer: list pods: %s %s\n", r.error, r.status.message);
      return 1;
    }
    json_t *doc = json_loadb(r.body, r.len, 0, NULL);
    const char *rv = json_string_value(json_object_get(json_object_get(doc, "metadata"), "resourceVersion"));
    snprintf(b->rv, sizeof b->rv, "%s", rv ? rv : "0");
    json_decref(doc);
    lh_kube_response_free(&r);
    lh_kube_client_free(cl);
  }
  start_watch(b);

  double probe_ms = 0;
  if (o->probe) {
    double t0 = now_ms();
    phase_run(b, &b->ph[PH_PROBE], 0);
    probe_ms = now_ms() - t0;
    if (b->ph[PH_PROBE].bound != 1) {
      fprintf(stderr, "benchpeer: the probe pod was not bound\n");
      return 1;
    }
  }
  phase *w = &b->ph[PH_WARMUP];
  if (o->warmup > 0) {
    phase_run(b, w, 0);
    fprintf(stderr, "benchpeer: warmup: %ld created, %ld bound in %.1f s\n", w->acked, w->bound,
            (w->last_bound - w->first_sent) / 1e3);
  }
  for (int k = 0; k < o->ncpu; k++) g_cpu0[k] = proc_cpu_s(o->cpu_pid[k]);
  g_self0 = proc_cpu_s(getpid());
  double load_start = load1();
  phase *m = &b->ph[PH_MEASURED];
  phase_run(b, m, o->gangs > 0 ? (o->quiet_s > 0 ? o->quiet_s : 10) : 0);
  double cpu1[MAX_CPU_PIDS];
  for (int k = 0; k < o->ncpu; k++) cpu1[k] = proc_cpu_s(o->cpu_pid[k]);
  double self1 = proc_cpu_s(getpid());
  double load_end = load1();
  long events = count_events(cfg, o->ns);

  /* ---- results ---- */
  double *lat = calloc((size_t)m->n, sizeof(double)), *lat_ack = calloc((size_t)m->n, sizeof(double));
  long nl = 0;
  for (long i = 0; i < m->n; i++)
    if (m->pods[i].bound && !m->pods[i].failed) {
      lat[nl] = m->pods[i].bound - (g_go > m->pods[i].sent ? g_go : m->pods[i].sent);
      lat_ack[nl++] = m->pods[i].bound - m->pods[i].acked;
    }
  qsort(lat, (size_t)nl, sizeof(double), cmp_d);
  qsort(lat_ack, (size_t)nl, sizeof(double), cmp_d);
  double t_start = g_go ? g_go : m->first_sent;
  double span_s = m->bound ? (m->last_bound - t_start) / 1e3 : 0;
  double create_s = m->acked ? (m->last_acked - m->first_sent) / 1e3 : 0;
  lh_buf out;
  lh_buf_init(&out, 1 << 20);
  lh_buf_addf(&out, "{\"run\":\"%s\",\"scheduler\":\"%s\",\"pods\":%ld,\"warmup\":%ld,\"created\":%ld,"
                    "\"create_errors\":%ld,\"bound\":%ld,",
              o->label, o->scheduler, m->n, o->warmup, m->acked, m->failed, m->bound);
  lh_buf_addf(&out, "\"bound_per_s\":%.1f,\"span_s\":%.2f,\"create_per_s\":%.1f,\"create_span_s\":%.2f,",
              span_s > 0 ? (double)m->bound / span_s : 0, span_s, create_s > 0 ? (double)m->acked / create_s : 0,
              create_s);
  lh_buf_addf(&out, "\"lat_p50_ms\":%.0f,\"lat_p99_ms\":%.0f,\"lat_max_ms\":%.0f,\"ack_to_bind_p50_ms\":%.0f,"
                    "\"ack_to_bind_p99_ms\":%.0f,",
              pct(lat, nl, 0.5), pct(lat, nl, 0.99), nl ? lat[nl - 1] : 0, pct(lat_ack, nl, 0.5),
              pct(lat_ack, nl, 0.99));
  if (o->warmup > 0)
    lh_buf_addf(&out, "\"warmup_bound_per_s\":%.1f,",
                w->last_bound > w->first_sent ? (double)w->bound / ((w->last_bound - w->first_sent) / 1e3) : 0);
  if (o->probe) lh_buf_addf(&out, "\"probe_ms\":%.0f,", probe_ms);
  if (o->backlog) lh_buf_adds(&out, "\"backlog\":true,");
  lh_buf_adds(&out, "\"cpu_s\":{");
  for (int k = 0; k < o->ncpu; k++)
    lh_buf_addf(&out, "%s\"%s\":%.1f", k ? "," : "", o->cpu_name[k],
                g_cpu0[k] >= 0 && cpu1[k] >= 0 ? cpu1[k] - g_cpu0[k] : -1.0);
  long spid = 0; /* backlog runs: the scheduler's pid, written by the caller after the gate */
  if (o->backlog) { /* the scheduler started after the gate: its whole life is the measurement */
    char pp[4096];
    snprintf(pp, sizeof pp, "%s.pid", o->backlog);
    FILE *pf = fopen(pp, "r");
    if (pf && (fscanf(pf, "%ld", &spid) != 1 || spid < 1)) spid = 0;
    if (pf) fclose(pf);
    if (spid > 0) lh_buf_addf(&out, "%s\"scheduler\":%.1f", o->ncpu ? "," : "", proc_cpu_s(spid));
    if (spid > 0 || o->ncpu) lh_buf_adds(&out, ",");
  } else if (o->ncpu) {
    lh_buf_adds(&out, ",");
  }
  lh_buf_addf(&out, "\"benchpeer\":%.1f},", self1 - g_self0);
  lh_buf_adds(&out, "\"nice\":{");
  for (int k = 0; k < o->ncpu; k++)
    lh_buf_addf(&out, "%s\"%s\":%ld", k ? "," : "", o->cpu_name[k], proc_nice(o->cpu_pid[k]));
  if (spid > 0) lh_buf_addf(&out, "%s\"scheduler\":%ld", o->ncpu ? "," : "", proc_nice(spid));
  lh_buf_addf(&out, "%s\"benchpeer\":%ld},", o->ncpu || spid > 0 ? "," : "", proc_nice(getpid()));
  {
    double api = api_cpu(o, g_cpu0, cpu1);
    if (api >= 0 && m->bound > 0) lh_buf_addf(&out, "\"api_cpu_ms_per_bound\":%.2f,", api * 1e3 / (double)m->bound);
  }
  if (o->backlog && m->acked > 0) {
    lh_buf_adds(&out, "\"create_cpu_s\":{");
    for (int k = 0; k < o->ncpu; k++)
      lh_buf_addf(&out, "%s\"%s\":%.1f", k ? "," : "", o->cpu_name[k],
                  g_cpu_create0[k] >= 0 && g_cpu_created[k] >= 0 ? g_cpu_created[k] - g_cpu_create0[k] : -1.0);
    lh_buf_adds(&out, "},");
    double api = api_cpu(o, g_cpu_create0, g_cpu_created);
    if (api >= 0) lh_buf_addf(&out, "\"api_cpu_ms_per_create\":%.2f,", api * 1e3 / (double)m->acked);
  }
  if (o->null_bind) {
    double bs = b->bind_last_ok > b->bind_first_sent ? (b->bind_last_ok - b->bind_first_sent) / 1e3 : 0;
    lh_buf_addf(&out, "\"null_binds\":{\"sent\":%ld,\"ok\":%ld,\"failed\":%ld,\"in_flight\":%ld,\"per_s\":%.1f,"
                      "\"nodes\":%ld},",
                b->binds_sent, b->binds_ok, b->binds_failed, o->bind_in_flight, bs > 0 ? (double)b->binds_ok / bs : 0,
                b->nnodes);
    if (b->bind_err[0]) fprintf(stderr, "benchpeer: first bind error: %s\n", b->bind_err);
  }
  lh_buf_addf(&out, "\"events_in_ns\":%ld,", events);
  lh_buf_addf(&out, "\"load1_start\":%.2f,\"load1_end\":%.2f,", load_start, load_end);
  lh_buf_addf(&out, "\"in_flight\":%ld,\"connections\":%ld,\"http2\":%s,\"watch_events\":%ld,\"watch_restarts\":%ld",
              o->in_flight, o->connections, o->http2 ? "true" : "false", b->watch_events, b->watch_ends);
  if (o->gangs > 0) {
    long whole = 0, partial = 0, qb[MAX_QUEUES] = {0}, qg[MAX_QUEUES] = {0}, wsum = 0, tot = 0;
    for (long g = 0; g < o->gangs; g++) {
      long nb = 0;
      for (long k = 0; k < o->gang_size; k++)
        if (m->pods[g * o->gang_size + k].bound) nb++;
      int q = queue_of(o, g);
      qb[q] += nb;
      tot += nb;
      if (nb == o->gang_size) whole++, qg[q]++;
      else if (nb) partial++;
    }
    for (int q = 0; q < o->nq; q++) wsum += o->qweight[q];
    lh_buf_addf(&out, ",\"gangs\":%ld,\"gang_size\":%ld,\"gangs_whole\":%ld,\"gangs_partial\":%ld,\"setup_ms\":%.0f,"
                      "\"queues\":[",
                o->gangs, o->gang_size, whole, partial, setup_ms);
    for (int q = 0; q < o->nq; q++)
      lh_buf_addf(&out, "%s{\"name\":\"%s\",\"weight\":%ld,\"weight_share\":%.3f,\"bound\":%ld,\"share\":%.3f,"
                        "\"gangs_whole\":%ld}",
                  q ? "," : "", o->qname[q], o->qweight[q], (double)o->qweight[q] / (double)wsum, qb[q],
                  tot ? (double)qb[q] / (double)tot : 0, qg[q]);
    lh_buf_adds(&out, "]");
  }
  lh_buf_adds(&out, "}");
  printf("%s\n", lh_buf_str(&out));
  fflush(stdout);
  lh_buf_free(&out);
  free(lat), free(lat_ack);
  lh_kube_watch_stop(b->watch);
  lh_kube_async_free(b->wa);
  lh_kube_async_free(b->sa);
  lh_kube_async_free(b->ba);
  for (long k = 0; k < b->nnodes; k++) free(b->nodes[k]);
  free(b->nodes);
  free(b->bq);
  lh_loop_free(b->loop);
  lh_kube_config_free(cfg);
  for (int k = 0; k < 3; k++) free(b->ph[k].pods);
  return g_stop ? 1 : 0;
}
