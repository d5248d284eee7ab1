/* ctlbench.c — lahar-ctlbench: load generator and binding observer for the controller benchmarks
 * (controller/bench/bench-e2e.sh drives it; see docs/performance.md, "Controller").
 *
 *   lahar-ctlbench populate [--kubeconfig F] [--ns NS] --prefix P --groups G [--gang K]
 *       [--state pending|running|succeeded] [--pg-phase PHASE] [--nodes N] [--cpu Q]
 *       [--run R] [--plain] [--inflight K] [--queue Q]
 *     Creates G PodGroups (none with --plain) of K pods each with K requests in flight. Pods are
 *     shaped like Volcano job pods (labels, group annotation, requests; no ownerReferences: the
 *     local cluster's garbage collector would delete pods of a missing owner); with
 *     --state running/succeeded they are created already bound (spec.nodeName = sim-NNNNN,
 *     round-robin over --nodes) with that status.phase, and the PodGroups get status.phase
 *     --pg-phase. Label lahar.io/bench=R marks them. Prints one JSON line (objects, seconds, rate).
 *
 *   lahar-ctlbench watch [--kubeconfig F] --run R --expect N [--timeout S] [--ready-file F]
 *       [--create-groups G --gang K --prefix P [--ns NS] [--inflight K]]
 *     Lists (namespace NS) then watches pods with lahar.io/bench=R and prints, once N distinct pods were seen
 *     with spec.nodeName set, one JSON line: wall-clock ms (CLOCK_REALTIME) of the first and last
 *     binding observed, and of the first create when it creates pods itself (live mode: it starts
 *     creating G gangs of K pending pods right after its watch is established). The ready file is
 *     written once the watch runs (the script starts the controller after that).
 * Exit: 0 ok, 1 timeout or error, 2 usage. */
#include "kube/async.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/loop.h"
#include "kube/watch.h"
#include "util/buf.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
static double mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct opts {
  const char *kubeconfig, *ns, *prefix, *state, *pg_phase, *cpu, *run, *queue, *ready_file;
  long groups, gang, nodes, inflight, expect, timeout_s, create_groups;
  int plain;
} opts;

/* ---- object bodies ---------------------------------------------------------------------------- */
static char *pg_body(const opts *o, long g) {
  char *s = NULL;
  char st[96] = "";
  if (o->pg_phase && *o->pg_phase) {
    long run = !strcmp(o->state, "running") ? o->gang : 0, ok = !strcmp(o->state, "succeeded") ? o->gang : 0;
    snprintf(st, sizeof st, ",\"status\":{\"phase\":\"%s\",\"running\":%ld,\"succeeded\":%ld}", o->pg_phase, run, ok);
  }
  if (asprintf(&s,
               "{\"apiVersion\":\"scheduling.volcano.sh/v1beta1\",\"kind\":\"PodGroup\",\"metadata\":{\"name\":\"%s%06ld\","
               "\"labels\":{\"lahar.io/bench\":\"%s\"}},\"spec\":{\"minMember\":%ld,\"queue\":\"%s\","
               "\"minResources\":{\"cpu\":\"%s\"}}%s}",
               o->prefix, g, o->run, o->gang, o->queue, o->cpu, st) < 0)
    return NULL;
  return s;
}

static char *pod_body(const opts *o, long g, long k, long seq) {
  char *s = NULL;
  char node[64] = "", st[64] = "";
  int bound = strcmp(o->state, "pending") != 0;
  if (bound) snprintf(node, sizeof node, "\"nodeName\":\"sim-%05ld\",", o->nodes > 0 ? seq % o->nodes : 0);
  snprintf(st, sizeof st, ",\"status\":{\"phase\":\"%s\"}",
           !strcmp(o->state, "running") ? "Running" : !strcmp(o->state, "succeeded") ? "Succeeded" : "Pending");
  char grp[200] = "";
  if (!o->plain) {
    snprintf(grp, sizeof grp, ",\"annotations\":{\"scheduling.k8s.io/group-name\":\"%s%06ld\",\"volcano.sh/task-spec\":\"worker\"}",
             o->prefix, g);
  } else {
    snprintf(grp, sizeof grp, ",\"annotations\":{\"scheduling.volcano.sh/queue-name\":\"%s\"}", o->queue);
  }
  if (asprintf(&s,
               "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s%06ld-worker-%ld\","
               "\"labels\":{\"lahar.io/bench\":\"%s\",\"volcano.sh/job-name\":\"%s%06ld\",\"volcano.sh/task-spec\":\"worker\"}"
               "%s},\"spec\":{%s\"schedulerName\":\"lahar\",\"priority\":100,\"restartPolicy\":\"Never\","
               "\"containers\":[{\"name\":\"main\",\"image\":\"registry.local/train:1.4\",\"command\":[\"python\",\"train.py\"],"
               "\"env\":[{\"name\":\"RANK\",\"value\":\"%ld\"}],\"resources\":{\"requests\":{\"cpu\":\"%s\",\"memory\":\"256Mi\"},"
               "\"limits\":{\"cpu\":\"%s\",\"memory\":\"256Mi\"}}}]}%s}",
               o->prefix, g, k, o->run, o->prefix, g, grp, node, k, o->cpu, o->cpu, st) < 0)
    return NULL;
  return s;
}

/* ---- a pump of creates with K in flight ------------------------------------------------------ */
typedef struct pump {
  const opts *o;
  lh_kube_async *a;
  long groups, gang;
  long next;       /* next object index: per group 1 PodGroup (unless plain) + gang pods */
  long total, done, failed, outstanding;
  int64_t first_ms;
  char err[300];
} pump;

static void pump_fill(pump *p);
static void create_done(lh_kube_async *a, int rc, lh_kube_response *resp, void *data) {
  (void)a;
  pump *p = data;
  p->outstanding--;
  if (rc == LH_EKUBE_CLOSED) return;
  p->done++;
  if (rc && !(rc == LH_EKUBE_HTTP && resp->status.code == 409)) {
    if (!p->failed++)
      snprintf(p->err, sizeof p->err, "%d %s %.200s", resp->status.code, lh_kube_strerror(rc),
               resp->status.message[0] ? resp->status.message : resp->error);
  }
  pump_fill(p);
}

static void pump_fill(pump *p) {
  long per = p->gang + (p->o->plain ? 0 : 1);
  while (p->outstanding < p->o->inflight && p->next < p->total) {
    long i = p->next++, g = i / per, k = i % per;
    char path[300], *body;
    if (!p->o->plain && k == 0) {
      snprintf(path, sizeof path, "/apis/scheduling.volcano.sh/v1beta1/namespaces/%s/podgroups", p->o->ns);
      body = pg_body(p->o, g);
    } else {
      snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods", p->o->ns);
      body = pod_body(p->o, g, p->o->plain ? k : k - 1, g * p->gang + (p->o->plain ? k : k - 1));
    }
    if (!p->first_ms) p->first_ms = wall_ms();
    if (!body || lh_kube_async_request(p->a, "POST", path, "application/json", body, strlen(body), create_done, p)) {
      free(body);
      p->failed++;
      p->done++;
      continue;
    }
    free(body);
    p->outstanding++;
  }
}

static void pump_init(pump *p, const opts *o, lh_kube_async *a, long groups, long gang) {
  memset(p, 0, sizeof *p);
  p->o = o;
  p->a = a;
  p->groups = groups;
  p->gang = gang;
  p->total = groups * (gang + (o->plain ? 0 : 1));
}

static volatile sig_atomic_t g_stop;
static void on_sig(int s) { g_stop = s; }

static int env_new(const opts *o, lh_kube_config **cfg, lh_loop **loop, lh_kube_async **a, long conns, long inflight) {
  char err[256] = "";
  if (lh_kube_config_load_file(o->kubeconfig, NULL, cfg, err, sizeof err)) {
    fprintf(stderr, "ctlbench: %s\n", err);
    return -1;
  }
  *loop = lh_loop_new();
  lh_kube_async_opts ao = {.max_connections = conns, .max_in_flight = inflight};
  if (!*loop || lh_kube_async_new(*loop, *cfg, &ao, a)) {
    fprintf(stderr, "ctlbench: cannot create the client\n");
    return -1;
  }
  return 0;
}

static int cmd_populate(const opts *o) {
  lh_kube_config *cfg = NULL;
  lh_loop *loop = NULL;
  lh_kube_async *a = NULL;
  if (env_new(o, &cfg, &loop, &a, 16, o->inflight)) return 1;
  pump p;
  pump_init(&p, o, a, o->groups, o->gang);
  double t0 = mono_s();
  pump_fill(&p);
  double last = t0;
  while (p.done < p.total && !g_stop) {
    lh_loop_run_once(loop, 100);
    if (mono_s() - last > 10) {
      last = mono_s();
      fprintf(stderr, "ctlbench: %ld/%ld objects (%.0f/s)\n", p.done, p.total, p.done / (last - t0));
    }
  }
  double dt = mono_s() - t0;
  printf("{\"op\":\"populate\",\"prefix\":\"%s\",\"objects\":%ld,\"failed\":%ld,\"seconds\":%.2f,\"per_s\":%.0f%s%s%s}\n",
         o->prefix, p.done, p.failed, dt, p.done / dt, p.failed ? ",\"first_error\":\"" : "", p.failed ? p.err : "",
         p.failed ? "\"" : "");
  lh_kube_async_free(a);
  lh_loop_free(loop);
  lh_kube_config_free(cfg);
  return p.failed || g_stop ? 1 : 0;
}

/* ---- watch ---------------------------------------------------------------------------------- */
typedef struct watcher {
  json_t *seen;  /* names seen bound */
  long bound;
  int64_t first_ms, last_ms;
  int ended, rc;
  char rv[64];
} watcher;

static void note_pod(watcher *w, json_t *pod) {
  const char *node = json_string_value(json_object_get(json_object_get(pod, "spec"), "nodeName"));
  if (!node || !*node) return;
  json_t *md = json_object_get(pod, "metadata");
  const char *name = json_string_value(json_object_get(md, "name"));
  const char *ns = json_string_value(json_object_get(md, "namespace"));
  if (!name) return;
  char key[600];
  snprintf(key, sizeof key, "%s/%s", ns ? ns : "", name);
  if (json_object_get(w->seen, key)) return;
  json_object_set_new(w->seen, key, json_true());
  int64_t now = wall_ms();
  if (!w->bound++) w->first_ms = now;
  w->last_ms = now;
}

static void w_event(lh_kube_watch *h, const lh_kube_watch_event *ev, void *ud) {
  (void)h;
  watcher *w = ud;
  if (ev->rv) snprintf(w->rv, sizeof w->rv, "%s", ev->rv);
  if (ev->type == LH_WATCH_ADDED || ev->type == LH_WATCH_MODIFIED) note_pod(w, ev->object);
}
static void w_end(lh_kube_watch *h, int rc, const lh_kube_status *st, void *ud) {
  (void)h;
  watcher *w = ud;
  w->ended = 1;
  w->rc = rc;
  if (rc) fprintf(stderr, "ctlbench: watch ended: %s %d %s\n", lh_kube_strerror(rc), st->code, st->message);
}

typedef struct sync_req {
  int done, rc;
  char *body;
  size_t len;
} sync_req;
static void sync_done(lh_kube_async *a, int rc, lh_kube_response *resp, void *data) {
  (void)a;
  sync_req *s = data;
  s->done = 1;
  s->rc = rc;
  s->body = resp->body;
  s->len = resp->len;
  resp->body = NULL;
}

static int start_watch(const opts *o, lh_kube_async *a, watcher *w, lh_kube_watch **out) {
  lh_buf p;
  lh_buf_init(&p, 4096);
  char sel[200];
  snprintf(sel, sizeof sel, "lahar.io/bench=%s", o->run);
  lh_kube_list_opts q = {0};
  q.label_selector = sel;
  q.watch = 1;
  q.resource_version = w->rv;
  q.timeout_seconds = 3600;
  int rc = lh_kube_path(&p, &LH_KUBE_PODS, NULL, NULL, NULL);
  if (!rc) rc = lh_kube_query(&p, &q);
  lh_kube_watch_opts wo = {LH_WATCH_HTTP_ONLY, 0};
  if (!rc) rc = lh_kube_watch_start(a, NULL, lh_buf_str(&p), &wo, w_event, w_end, w, out);
  lh_buf_free(&p);
  return rc;
}

static int cmd_watch(const opts *o) {
  lh_kube_config *cfg = NULL;
  lh_loop *loop = NULL;
  lh_kube_async *a = NULL, *wa = NULL;
  if (env_new(o, &cfg, &loop, &a, 16, o->inflight)) return 1;
  lh_kube_async_opts so = {.max_connections = 2, .max_in_flight = 2, .timeout_ms = 300000};
  if (lh_kube_async_new(loop, cfg, &so, &wa)) return 1;
  watcher w;
  memset(&w, 0, sizeof w);
  w.seen = json_object();
  /* the current resourceVersion from a small list (a label-selected list of a big cluster
   * scans every pod on the server); the watcher starts before the controller, so nothing of
   * this run is bound yet. Pods of the run that are already bound count when listed below. */
  char path[300];
  snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods?labelSelector=lahar.io%%2Fbench%%3D%s&limit=%ld", o->ns,
           o->run, o->expect < 1000 ? 1000 : o->expect);
  sync_req s = {0};
  if (lh_kube_async_request(wa, "GET", path, NULL, NULL, 0, sync_done, &s)) return 1;
  while (!s.done && !g_stop) lh_loop_run_once(loop, 100);
  json_t *doc = s.rc ? NULL : json_loadb(s.body ? s.body : "", s.len, 0, NULL);
  free(s.body);
  if (!doc) {
    fprintf(stderr, "ctlbench: list failed: %s\n", lh_kube_strerror(s.rc));
    return 1;
  }
  snprintf(w.rv, sizeof w.rv, "%s", json_string_value(json_object_get(json_object_get(doc, "metadata"), "resourceVersion")) ?: "0");
  size_t i;
  json_t *it;
  json_array_foreach(json_object_get(doc, "items"), i, it) note_pod(&w, it);
  json_decref(doc);
  long already = w.bound;
  lh_kube_watch *h = NULL;
  if (start_watch(o, wa, &w, &h)) {
    fprintf(stderr, "ctlbench: watch failed\n");
    return 1;
  }
  /* let the stream connect before declaring readiness */
  for (int k = 0; k < 5; k++) lh_loop_run_once(loop, 20);
  if (o->ready_file) {
    FILE *f = fopen(o->ready_file, "w");
    if (f) fclose(f);
  }
  pump p;
  memset(&p, 0, sizeof p);
  if (o->create_groups > 0) {
    pump_init(&p, o, a, o->create_groups, o->gang);
    pump_fill(&p);
  }
  double deadline = mono_s() + (double)o->timeout_s;
  while (w.bound < o->expect && !g_stop && mono_s() < deadline) {
    lh_loop_run_once(loop, 100);
    if (w.ended) { /* resume from the last resourceVersion seen */
      w.ended = 0;
      h = NULL;
      if (start_watch(o, wa, &w, &h)) break;
    }
  }
  int ok = w.bound >= o->expect;
  printf("{\"op\":\"watch\",\"run\":\"%s\",\"expect\":%ld,\"bound\":%ld,\"bound_before_start\":%ld,"
         "\"first_bind_ms\":%lld,\"last_bind_ms\":%lld,\"first_create_ms\":%lld,\"created\":%ld,\"create_failed\":%ld}\n",
         o->run, o->expect, w.bound, already, (long long)w.first_ms, (long long)w.last_ms, (long long)p.first_ms, p.done,
         p.failed);
  fflush(stdout);
  if (h && !w.ended) lh_kube_watch_stop(h);
  lh_kube_async_free(a);
  lh_kube_async_free(wa);
  lh_loop_free(loop);
  lh_kube_config_free(cfg);
  json_decref(w.seen);
  return ok ? 0 : 1;
}

static void usage(void) {
  fprintf(stderr, "usage: lahar-ctlbench populate|watch [options] (see controller/bench/ctlbench.c)\n");
}

int main(int argc, char **argv) {
  if (argc < 2) return usage(), 2;
  opts o = {0};
  o.kubeconfig = getenv("KUBECONFIG");
  o.ns = "default";
  o.prefix = "bench-";
  o.state = "pending";
  o.pg_phase = "";
  o.cpu = "100m";
  o.run = "run";
  o.queue = "default";
  o.gang = 1;
  o.nodes = 1;
  o.inflight = 256;
  o.expect = 1;
  o.timeout_s = 600;
  for (int i = 2; i < argc; i++) {
    const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define S(name, field) if (!strcmp(f, name) && v) { o.field = v; i++; continue; }
#define L(name, field) if (!strcmp(f, name) && v) { o.field = atol(v); i++; continue; }
    S("--kubeconfig", kubeconfig) S("--ns", ns) S("--prefix", prefix) S("--state", state) S("--pg-phase", pg_phase)
    S("--cpu", cpu) S("--run", run) S("--queue", queue) S("--ready-file", ready_file)
    L("--groups", groups) L("--gang", gang) L("--nodes", nodes) L("--inflight", inflight) L("--expect", expect)
    L("--timeout", timeout_s) L("--create-groups", create_groups)
    if (!strcmp(f, "--plain")) { o.plain = 1; continue; }
#undef S
#undef L
    fprintf(stderr, "ctlbench: unknown or incomplete flag %s\n", f);
    return 2;
  }
  if (!o.kubeconfig || o.gang < 1 || o.inflight < 1) return usage(), 2;
  signal(SIGINT, on_sig);
  signal(SIGTERM, on_sig);
  signal(SIGPIPE, SIG_IGN);
  if (!strcmp(argv[1], "populate")) return cmd_populate(&o);
  if (!strcmp(argv[1], "watch")) return cmd_watch(&o);
  usage();
  return 2;
}
