/* loadtest.c — lahar-loadtest: the local cluster's bounded load test and its benchmarks, written
 * against lahar's own client library (controller/kube/) so both sides are exercised at once.
 *
 *   lahar-loadtest [--kubeconfig F] load  [--pods N] [--watchers W] [--inflight K] [--timeout S]
 *       Creates N pods (4 namespaces, 8 label shards) with K requests in flight through the async
 *       client; 10% are then updated twice and deleted, 10% updated once, 10% deleted. W watchers
 *       (even: WebSocket, odd: chunked HTTP; all-namespace, one-namespace and label-selector
 *       watches; some with bookmarks; some with a 3 s timeoutSeconds so they are closed by the
 *       server and resume from their last resourceVersion) all start from the resourceVersion
 *       read before the first write; half of them start only once a quarter of the creates were
 *       acknowledged, so they replay history and then switch to live events mid-load.
 *       Every watcher must receive, per pod it may see, exactly the events of the writes that
 *       succeeded (ADDED, MODIFIED per update, DELETED), each once, in write order; its event
 *       resourceVersions must strictly increase (bookmarks never go back); the multiset of event
 *       resourceVersions must equal the one the writes' responses reported. Bounded: N, W and
 *       the timeout cap the run; exit 0 only if every check passed.
 *
 *   lahar-loadtest [--kubeconfig F] bench [--pods N] [--watchers W] [--inflight K]
 *                                         [--rate R] [--lat-pods M] [--phases LIST]
 *       Prints one JSON line per measurement: creates/s, updates/s (merge patch), deletes/s
 *       with K in flight and no watcher; informer memory per cached pod (compact transform over
 *       N pods: accounted bytes and RSS delta); watch fan-out latency to W watchers (the send
 *       time rides in an annotation as CLOCK_MONOTONIC ns; latency = receipt in each watcher's
 *       event callback minus that), paced at R creates/s for M pods, and again M pods unpaced
 *       (writes/s while fanning out to W watchers, and the latency under that saturation).
 *
 * Everything runs on one lh_loop (WebSocket messages arrive from the wsclient's lws thread
 * through lh_loop_post). Writes go through one lh_kube_async; chunked-HTTP watch streams through
 * a second one, because curl counts streams against CURLMOPT_MAX_HOST_CONNECTIONS and W
 * long-lived streams would otherwise starve the writes. */
#include "kube/async.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/informer.h"
#include "kube/loop.h"
#include "kube/pod.h"
#include "kube/watch.h"
#include "util/buf.h"
#include "util/log.h"

#include <dirent.h>
#include <inttypes.h>
#include <jansson.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NNS 4
#define NSHARD 8
#define MAXSTEPS 4 /* create + up to 2 updates + delete */
#define ANN_GEN "loadtest.lahar.io/gen"
#define ANN_SENT "loadtest.lahar.io/sent"

static const char *const NS_NAMES[NNS] = {"lt-0", "lt-1", "lt-2", "lt-3"};
static volatile sig_atomic_t g_stop;
static void on_signal(int sig) { g_stop = sig; }

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
static double secs_since(uint64_t t0) { return (double)(mono_ns() - t0) / 1e9; }

/* --- the write plan of the load test ------------------------------------------------------------
 * Pod i lives in namespace i % 4 with label shard=s((i / 4) % 8). Step 0 creates it (ADDED,
 * gen 0); steps 1..u update annotation gen to the step (MODIFIED, gen s); step u+1 deletes it
 * (DELETED, object at gen u) when the plan deletes it. */
static int pod_ns(long i) { return (int)(i % NNS); }
static int pod_shard(long i) { return (int)((i / NNS) % NSHARD); }
static int pod_updates(long i) { long r = i % 10; return r == 0 ? 2 : r == 3 ? 1 : 0; }
static int pod_deleted(long i) { long r = i % 10; return r == 0 || r == 7; }
static int pod_steps(long i) { return 1 + pod_updates(i) + pod_deleted(i); }

/* --- shared state ----------------------------------------------------------------------------- */

typedef struct lt lt;

typedef struct watcher {
  lt *t;
  int idx;
  /* spec */
  int ws;            /* 1: WebSocket only, 0: chunked HTTP only */
  int ns;            /* namespace index, -1: all namespaces */
  unsigned mask;     /* shards the label selector admits (all bits: no selector) */
  const char *sel;   /* label selector or NULL */
  int bookmarks;     /* allowWatchBookmarks */
  long timeout_s;    /* timeoutSeconds (0: unset) */
  int late;          /* started after a quarter of the creates were acknowledged */
  /* state */
  lh_kube_watch *h;
  int started, need_restart, check;
  int64_t last_rv;    /* highest rv seen (event or bookmark): where a resumed watch starts */
  int64_t last_ev_rv; /* highest rv of an object event */
  uint8_t *step;      /* per pod: events received so far (next expected step) */
  long events, bookmark_n, resumes, lost, dups, order, unexpected, err_events, end_errors;
  uint64_t rv_sum, rv_sq; /* over event rvs: compared with the writes' rvs */
  char first_err[320];
  const char *transport; /* last transport seen while connected */
} watcher;

struct lt {
  lh_loop *loop;
  lh_kube_async *wa; /* writes */
  lh_kube_async *sa; /* chunked watch streams */
  lh_kube_wsclient *ws;
  long n, inflight;
  const char *prefix; /* pod name prefix */
  /* load-test writes */
  long next_create, outstanding, writes_ok, write_errors, acked_creates;
  long *fq; /* ring of pods with a follow-up write due */
  long fq_head, fq_len;
  uint8_t *wdone;  /* per pod: successful write steps */
  int64_t *rv_of;  /* per pod and step: resourceVersion reported by the write's response */
  long rv_missing; /* write responses without a resourceVersion */
  char first_write_err[320];
  /* watchers */
  watcher *w;
  long nw;
  int64_t rv0;
  /* latency samples (µs): all watchers, WebSocket ones, chunked-HTTP ones */
  struct lat_set {
    uint32_t *v;
    size_t n, cap;
  } lat, lat_ws, lat_http;
  long lat_missing;
};
typedef struct lat_set lat_set;

static void note(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note(char *dst, size_t cap, const char *fmt, ...) {
  if (dst[0]) return; /* keep the first */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(dst, cap, fmt, ap);
  va_end(ap);
}

static int64_t rv_of_body(const char *body, size_t len) {
  json_t *j = body ? json_loadb(body, len, 0, NULL) : NULL;
  const char *rv = json_string_value(json_object_get(json_object_get(j, "metadata"), "resourceVersion"));
  int64_t v = rv ? strtoll(rv, NULL, 10) : 0;
  json_decref(j);
  return v;
}

static void lat_push(lat_set *l, uint32_t us) {
  if (l->n == l->cap) {
    size_t nc = l->cap ? l->cap * 2 : 65536;
    uint32_t *n = realloc(l->v, nc * sizeof *n);
    if (!n) return;
    l->v = n;
    l->cap = nc;
  }
  l->v[l->n++] = us;
}
static void lat_add(lt *t, int ws, uint64_t sent, uint64_t now) {
  if (!sent || now < sent) {
    t->lat_missing++;
    return;
  }
  uint64_t us = (now - sent) / 1000;
  uint32_t v = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
  lat_push(&t->lat, v);
  lat_push(ws ? &t->lat_ws : &t->lat_http, v);
}
static void lat_reset(lt *t) {
  t->lat.n = t->lat_ws.n = t->lat_http.n = 0;
  t->lat_missing = 0;
}
static void lat_free(lt *t) {
  free(t->lat.v);
  free(t->lat_ws.v);
  free(t->lat_http.v);
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}
static void lat_sort(lt *t) {
  qsort(t->lat.v, t->lat.n, sizeof *t->lat.v, cmp_u32);
  qsort(t->lat_ws.v, t->lat_ws.n, sizeof *t->lat_ws.v, cmp_u32);
  qsort(t->lat_http.v, t->lat_http.n, sizeof *t->lat_http.v, cmp_u32);
}
/* The q-quantile in ms of sorted samples (0 if none). */
static double lat_q(const lat_set *l, double q) {
  if (!l->n) return 0;
  size_t k = (size_t)(q * (double)(l->n - 1) + 0.5);
  return l->v[k] / 1000.0;
}

/* --- pod bodies -------------------------------------------------------------------------------- */

/* A small pod (load test). */
static int pod_json_small(char *out, size_t cap, const char *prefix, long i, uint64_t sent) {
  return snprintf(out, cap,
                  "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s%06ld\",\"namespace\":\"%s\","
                  "\"labels\":{\"app\":\"loadtest\",\"shard\":\"s%d\"},\"annotations\":{\"" ANN_GEN "\":\"0\",\""
                  ANN_SENT "\":\"%" PRIu64 "\"}},\"spec\":{\"schedulerName\":\"lahar\",\"containers\":[{\"name\":\"c\","
                  "\"image\":\"busybox\",\"resources\":{\"requests\":{\"cpu\":\"100m\"}}}]}}",
                  prefix, i, NS_NAMES[pod_ns(i)], pod_shard(i), sent);
}

/* A pod shaped like a lahar batch workload (bench: what the informer caches). */
static int pod_json_full(char *out, size_t cap, const char *prefix, long i, uint64_t sent) {
  long job = i / 8;
  return snprintf(
      out, cap,
      "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s%06ld\",\"namespace\":\"%s\","
      "\"labels\":{\"app\":\"train\",\"shard\":\"s%d\",\"volcano.sh/job-name\":\"job-%ld\","
      "\"volcano.sh/task-spec\":\"worker\"},\"annotations\":{\"scheduling.k8s.io/group-name\":\"job-%ld\","
      "\"volcano.sh/task-spec\":\"worker\",\"" ANN_GEN "\":\"0\",\"" ANN_SENT "\":\"%" PRIu64 "\"},"
      "\"ownerReferences\":[{\"apiVersion\":\"batch.volcano.sh/v1alpha1\",\"kind\":\"Job\",\"name\":\"job-%ld\","
      "\"uid\":\"0b0e5c2a-7f3d-4c1e-9a61-%012ld\",\"controller\":true,\"blockOwnerDeletion\":true}]},"
      "\"spec\":{\"schedulerName\":\"lahar\",\"priority\":100,\"nodeSelector\":{\"pool\":\"batch\"},"
      "\"tolerations\":[{\"key\":\"nvidia.com/gpu\",\"operator\":\"Exists\",\"effect\":\"NoSchedule\"}],"
      "\"containers\":[{\"name\":\"main\",\"image\":\"registry.local/train:1.4\",\"command\":[\"python\","
      "\"train.py\",\"--epochs\",\"10\"],\"env\":[{\"name\":\"RANK\",\"value\":\"%ld\"}],"
      "\"resources\":{\"requests\":{\"cpu\":\"500m\",\"memory\":\"1Gi\"},\"limits\":{\"cpu\":\"1\","
      "\"memory\":\"2Gi\"}}}]}}",
      prefix, i, NS_NAMES[pod_ns(i)], pod_shard(i), job, job, sent, job, job, i % 8);
}

static void pod_path(char *out, size_t cap, const char *prefix, long i, int with_name) {
  if (with_name) snprintf(out, cap, "/api/v1/namespaces/%s/pods/%s%06ld", NS_NAMES[pod_ns(i)], prefix, i);
  else snprintf(out, cap, "/api/v1/namespaces/%s/pods", NS_NAMES[pod_ns(i)]);
}

static int patch_body(char *out, size_t cap, int gen, uint64_t sent) {
  return snprintf(out, cap, "{\"metadata\":{\"annotations\":{\"" ANN_GEN "\":\"%d\",\"" ANN_SENT "\":\"%" PRIu64 "\"}}}",
                  gen, sent);
}

/* --- watchers ---------------------------------------------------------------------------------- */

static int watcher_sees(const watcher *w, long i) {
  return (w->ns < 0 || w->ns == pod_ns(i)) && (w->mask >> pod_shard(i) & 1u);
}

static const char *annot(json_t *meta, const char *k) {
  return json_string_value(json_object_get(json_object_get(meta, "annotations"), k));
}

static void w_event(lh_kube_watch *h, const lh_kube_watch_event *ev, void *ud) {
  watcher *w = ud;
  lt *t = w->t;
  uint64_t now = mono_ns();
  (void)h;
  if (ev->type == LH_WATCH_ERROR) {
    w->err_events++;
    note(w->first_err, sizeof w->first_err, "ERROR event code=%lld reason=%s message=%s",
         (long long)json_integer_value(json_object_get(ev->object, "code")),
         json_string_value(json_object_get(ev->object, "reason")) ?: "",
         json_string_value(json_object_get(ev->object, "message")) ?: "");
    return;
  }
  char *end = NULL;
  int64_t rv = ev->rv ? strtoll(ev->rv, &end, 10) : 0;
  if (!ev->rv || *end || rv <= 0) {
    w->order++;
    note(w->first_err, sizeof w->first_err, "%s event without a numeric resourceVersion (%s)",
         lh_kube_watch_type_name(ev->type), ev->rv ? ev->rv : "null");
    return;
  }
  if (ev->type == LH_WATCH_BOOKMARK) {
    w->bookmark_n++;
    if (rv < w->last_rv) {
      w->order++;
      note(w->first_err, sizeof w->first_err, "BOOKMARK rv %" PRId64 " after rv %" PRId64, rv, w->last_rv);
    }
    if (rv > w->last_rv) w->last_rv = rv;
    return;
  }
  w->events++;
  if (rv <= w->last_ev_rv || rv < w->last_rv) {
    w->order++;
    note(w->first_err, sizeof w->first_err, "%s rv %" PRId64 " after rv %" PRId64 " (bookmark/last %" PRId64 ")",
         lh_kube_watch_type_name(ev->type), rv, w->last_ev_rv, w->last_rv);
  }
  if (rv > w->last_ev_rv) w->last_ev_rv = rv;
  if (rv > w->last_rv) w->last_rv = rv;
  w->rv_sum += (uint64_t)rv;
  w->rv_sq += (uint64_t)rv * (uint64_t)rv;
  json_t *meta = json_object_get(ev->object, "metadata");
  const char *sent = annot(meta, ANN_SENT);
  if (ev->type != LH_WATCH_DELETED && !w->late) lat_add(t, w->ws, sent ? strtoull(sent, NULL, 10) : 0, now);
  if (!w->check) return;
  const char *name = json_string_value(json_object_get(meta, "name"));
  const char *ns = json_string_value(json_object_get(meta, "namespace"));
  const char *gens = annot(meta, ANN_GEN);
  size_t pl = strlen(t->prefix);
  long i = -1;
  if (name && strncmp(name, t->prefix, pl) == 0) {
    i = strtol(name + pl, &end, 10);
    if (*end || i < 0 || i >= t->n) i = -1;
  }
  if (i < 0 || !ns || strcmp(ns, NS_NAMES[pod_ns(i)]) != 0 || !gens || !watcher_sees(w, i)) {
    w->unexpected++;
    note(w->first_err, sizeof w->first_err, "unexpected %s %s/%s rv %" PRId64, lh_kube_watch_type_name(ev->type),
         ns ? ns : "?", name ? name : "?", rv);
    return;
  }
  int gen = atoi(gens), u = pod_updates(i), s;
  if (ev->type == LH_WATCH_ADDED && gen == 0) s = 0;
  else if (ev->type == LH_WATCH_MODIFIED && gen >= 1 && gen <= u) s = gen;
  else if (ev->type == LH_WATCH_DELETED && pod_deleted(i) && gen == u) s = u + 1;
  else s = -1;
  if (s < 0) {
    w->unexpected++;
    note(w->first_err, sizeof w->first_err, "%s of %s with gen %d does not belong to its plan (rv %" PRId64 ")",
         lh_kube_watch_type_name(ev->type), name, gen, rv);
    return;
  }
  if (s == w->step[i]) {
    w->step[i]++;
  } else if (s < w->step[i]) {
    w->dups++;
    note(w->first_err, sizeof w->first_err, "duplicate %s of %s (step %d, already at %d) rv %" PRId64,
         lh_kube_watch_type_name(ev->type), name, s, w->step[i], rv);
  } else {
    w->lost += s - w->step[i];
    note(w->first_err, sizeof w->first_err, "%s of %s (step %d) arrived while step %d was still missing, rv %" PRId64,
         lh_kube_watch_type_name(ev->type), name, s, w->step[i], rv);
    w->step[i] = (uint8_t)(s + 1);
  }
}

static void w_end(lh_kube_watch *h, int rc, const lh_kube_status *st, void *ud) {
  watcher *w = ud;
  (void)h;
  w->h = NULL;
  if (rc == 0) {
    w->need_restart = 1; /* the server closed the stream (timeoutSeconds): resume */
    return;
  }
  w->end_errors++;
  note(w->first_err, sizeof w->first_err, "watch ended: %s (code %d %s: %s)", lh_kube_strerror(rc), st->code,
       st->reason, st->message);
}

static int watcher_start(watcher *w) {
  lt *t = w->t;
  lh_buf p;
  lh_buf_init(&p, 1u << 14);
  char rv[32];
  snprintf(rv, sizeof rv, "%" PRId64, w->last_rv);
  lh_kube_list_opts q = {.label_selector = w->sel, .resource_version = rv, .timeout_seconds = w->timeout_s,
                         .watch = 1, .allow_bookmarks = w->bookmarks};
  int rc = lh_kube_path(&p, &LH_KUBE_PODS, w->ns < 0 ? NULL : NS_NAMES[w->ns], NULL, NULL);
  if (!rc) rc = lh_kube_query(&p, &q);
  lh_kube_watch_opts o = {w->ws ? LH_WATCH_WS_ONLY : LH_WATCH_HTTP_ONLY, 0};
  if (!rc) rc = lh_kube_watch_start(t->sa, w->ws ? t->ws : NULL, lh_buf_str(&p), &o, w_event, w_end, w, &w->h);
  lh_buf_free(&p);
  if (rc) {
    w->end_errors++;
    note(w->first_err, sizeof w->first_err, "watch start: %s", lh_kube_strerror(rc));
    return rc;
  }
  if (w->started) w->resumes++;
  w->started = 1;
  return 0;
}

static const char *watcher_desc(const watcher *w, char *buf, size_t cap) {
  snprintf(buf, cap, "%s %s%s%s%s%s", w->ws ? "websocket" : "http", w->ns < 0 ? "all-namespaces" : NS_NAMES[w->ns],
           w->sel ? " selector=" : "", w->sel ? w->sel : "", w->bookmarks ? " bookmarks" : "",
           w->timeout_s ? " timeout=3s" : "");
  return buf;
}

/* Builds the load test's watcher mix: even index WebSocket, odd chunked HTTP; 2 in 5 watch all
 * namespaces; three use label selectors (equality, set, inequality); every third asks for
 * bookmarks; every seventh (from 3) has a 3 s timeout; the second half starts late. */
static int g_transport = 0; /* --watch-transport: 0 mix, 1 websocket only, 2 chunked HTTP only */

static void watchers_plan(lt *t, int check) {
  for (long k = 0; k < t->nw; k++) {
    watcher *w = &t->w[k];
    memset(w, 0, sizeof *w);
    w->t = t;
    w->idx = (int)k;
    w->check = check;
    w->ws = g_transport == 0 ? k % 2 == 0 : g_transport == 1;
    w->ns = k % 5 < 2 ? -1 : (int)(k % NNS);
    w->mask = (1u << NSHARD) - 1;
    w->bookmarks = k % 3 == 0;
    w->timeout_s = k % 7 == 3 ? 3 : 0;
    w->late = k >= t->nw / 2;
    w->last_rv = t->rv0;
    if (!check) continue;
    if (k == 2) w->ns = -1, w->sel = "shard=s3", w->mask = 1u << 3;
    if (k == 7) w->sel = "app=loadtest,shard in (s1,s6)", w->mask = 1u << 1 | 1u << 6;
    if (k == 13) w->sel = "shard!=s0", w->mask = ((1u << NSHARD) - 1) & ~1u;
  }
}

/* --- environment ------------------------------------------------------------------------------- */

static long g_connections = 8; /* --connections: keep-alive connections of the write client */

static int env_open(lt *t, const lh_kube_config *cfg, long inflight, long streams) {
  int rc;
  if (!(t->loop = lh_loop_new())) return LH_EKUBE_NOMEM;
  /* 120 s per write, not the library's 30 s: this one-threaded client also parses every
   * watcher's events, and when 25 watchers replay thousands of events at once (ASan build, shared
   * machine) it did not get to read the server's answers, already in its sockets, for over 30 s.
   * The run as a whole stays bounded by --timeout. */
  lh_kube_async_opts wo = {.max_connections = inflight < g_connections ? inflight : g_connections,
                           .max_in_flight = inflight, .timeout_ms = 120000};
  lh_kube_async_opts so = {.max_connections = streams + 4, .max_in_flight = streams + 4};
  if ((rc = lh_kube_async_new(t->loop, cfg, &wo, &t->wa)) || (rc = lh_kube_async_new(t->loop, cfg, &so, &t->sa)) ||
      (rc = lh_kube_wsclient_new(t->loop, cfg, &t->ws)))
    return rc;
  return 0;
}

static void env_close(lt *t) {
  for (long k = 0; k < t->nw; k++) {
    lh_kube_watch_stop(t->w[k].h);
    t->w[k].h = NULL;
  }
  /* let the wsclient thread see the closes before it is torn down */
  for (int i = 0; i < 5; i++) lh_loop_run_once(t->loop, 10);
  lh_kube_async_free(t->wa);
  lh_kube_async_free(t->sa);
  lh_kube_wsclient_free(t->ws);
  lh_loop_free(t->loop);
}

/* Blocking helpers through the write async (used at setup). */
typedef struct sync_req {
  int done, rc;
  long http;
  char *body;
  size_t len;
  char msg[256];
} sync_req;
static void sync_done(lh_kube_async *a, int rc, lh_kube_response *resp, void *data) {
  sync_req *s = data;
  (void)a;
  s->done = 1;
  s->rc = rc;
  s->http = resp->http_code;
  s->body = resp->body;
  s->len = resp->len;
  resp->body = NULL;
  snprintf(s->msg, sizeof s->msg, "%.200s", rc ? (resp->status.message[0] ? resp->status.message : resp->error) : "");
}
static int sync_call(lt *t, const char *method, const char *path, const char *body, sync_req *s) {
  memset(s, 0, sizeof *s);
  int rc = lh_kube_async_request(t->wa, method, path, body ? "application/json" : NULL, body, body ? strlen(body) : 0,
                                 sync_done, s);
  if (rc) return rc;
  uint64_t end = mono_ns() + 30ull * 1000000000u;
  while (!s->done && mono_ns() < end && !g_stop) lh_loop_run_once(t->loop, 50);
  return s->done ? s->rc : LH_EKUBE_TRANSPORT;
}

static int ensure_namespaces(lt *t) {
  for (int k = 0; k < NNS; k++) {
    char body[256];
    snprintf(body, sizeof body, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"%s\"}}", NS_NAMES[k]);
    sync_req s;
    int rc = sync_call(t, "POST", "/api/v1/namespaces", body, &s);
    free(s.body);
    if (rc && !(rc == LH_EKUBE_HTTP && s.http == 409)) {
      fprintf(stderr, "create namespace %s: %s %ld %s\n", NS_NAMES[k], lh_kube_strerror(rc), s.http, s.msg);
      return -1;
    }
  }
  return 0;
}

/* The current resourceVersion of the pod collection (a list with limit=1). */
static int64_t current_rv(lt *t) {
  sync_req s;
  int rc = sync_call(t, "GET", "/api/v1/pods?limit=1", NULL, &s);
  int64_t rv = rc ? -1 : rv_of_body(s.body, s.len);
  free(s.body);
  return rv;
}

static void run_for(lt *t, long ms) {
  for (uint64_t end = mono_ns() + (uint64_t)ms * 1000000u; mono_ns() < end && !g_stop;) lh_loop_run_once(t->loop, 20);
}

static void restart_ended(lt *t) {
  for (long k = 0; k < t->nw; k++)
    if (t->w[k].need_restart && !g_stop) {
      t->w[k].need_restart = 0;
      watcher_start(&t->w[k]);
    }
}

/* --- load test: writes --------------------------------------------------------------------- */

typedef struct op_ctx {
  lt *t;
  long i;
} op_ctx;
static op_ctx *g_ops;

static void pump(lt *t);

static void write_done(lh_kube_async *a, int rc, lh_kube_response *resp, void *data) {
  op_ctx *o = data;
  lt *t = o->t;
  long i = o->i;
  int s = t->wdone[i];
  (void)a;
  t->outstanding--;
  if (rc == LH_EKUBE_CLOSED) return;
  if (rc) {
    t->write_errors++;
    note(t->first_write_err, sizeof t->first_write_err, "write step %d of pod %ld: %s (HTTP %ld %s: %s)", s, i,
         lh_kube_strerror(rc), resp->http_code, resp->status.reason, resp->status.message[0] ? resp->status.message : resp->error);
    pump(t);
    return; /* the pod stops here: no event is expected for later steps */
  }
  t->writes_ok++;
  if (s == 0) t->acked_creates++;
  int64_t rv = rv_of_body(resp->body, resp->len);
  if (rv <= 0) t->rv_missing++;
  t->rv_of[i * MAXSTEPS + s] = rv;
  t->wdone[i] = (uint8_t)(s + 1);
  if (s + 1 < pod_steps(i)) t->fq[(t->fq_head + t->fq_len++) % t->n] = i;
  pump(t);
}

static void issue(lt *t, long i) {
  int s = t->wdone[i], u = pod_updates(i);
  char path[256], body[2048];
  const char *method, *ctype = "application/json", *b = body;
  uint64_t now = mono_ns();
  char *del = NULL;
  if (s == 0) {
    method = "POST";
    pod_path(path, sizeof path, t->prefix, i, 0);
    pod_json_small(body, sizeof body, t->prefix, i, now);
  } else if (s <= u) {
    method = "PATCH";
    ctype = "application/merge-patch+json";
    pod_path(path, sizeof path, t->prefix, i, 1);
    patch_body(body, sizeof body, s, now);
  } else {
    method = "DELETE";
    pod_path(path, sizeof path, t->prefix, i, 1);
    b = del = lh_kube_delete_body(&(lh_kube_delete_opts){NULL, 0, NULL, NULL});
  }
  g_ops[i] = (op_ctx){t, i};
  int rc = b ? lh_kube_async_request(t->wa, method, path, ctype, b, strlen(b), write_done, &g_ops[i]) : LH_EKUBE_NOMEM;
  free(del);
  if (rc) {
    t->write_errors++;
    note(t->first_write_err, sizeof t->first_write_err, "queueing write step %d of pod %ld: %s", s, i, lh_kube_strerror(rc));
    return;
  }
  t->outstanding++;
}

/* Keeps `inflight` writes outstanding, follow-up writes (updates, deletes) first. */
static void pump(lt *t) {
  while (t->outstanding < t->inflight && !g_stop) {
    long i;
    if (t->fq_len) {
      i = t->fq[t->fq_head];
      t->fq_head = (t->fq_head + 1) % t->n;
      t->fq_len--;
    } else if (t->next_create < t->n) {
      i = t->next_create++;
    } else {
      break;
    }
    long before = t->write_errors;
    issue(t, i);
    if (t->write_errors != before) break;
  }
}

static int writes_finished(const lt *t) { return t->outstanding == 0 && t->fq_len == 0 && t->next_create >= t->n; }

static long expected_events(const lt *t, const watcher *w) {
  long e = 0;
  for (long i = 0; i < t->n; i++)
    if (watcher_sees(w, i)) e += t->wdone[i];
  return e;
}

static int all_watchers_complete(lt *t, const long *expect) {
  for (long k = 0; k < t->nw; k++)
    if (t->w[k].events < expect[k]) return 0;
  return 1;
}

static int cmd_load(const lh_kube_config *cfg, long n, long nw, long inflight, long timeout_s, int verbose) {
  lt T = {0}, *t = &T;
  t->n = n;
  t->nw = nw;
  t->inflight = inflight;
  t->prefix = "p";
  uint64_t deadline = mono_ns() + (uint64_t)timeout_s * 1000000000u;
  int rc = env_open(t, cfg, inflight, nw);
  if (rc) {
    fprintf(stderr, "loadtest: client setup: %s\n", lh_kube_strerror(rc));
    return 1;
  }
  t->w = calloc((size_t)nw, sizeof *t->w);
  t->fq = calloc((size_t)n, sizeof *t->fq);
  t->wdone = calloc((size_t)n, 1);
  t->rv_of = calloc((size_t)n * MAXSTEPS, sizeof *t->rv_of);
  g_ops = calloc((size_t)n, sizeof *g_ops);
  long *expect = calloc((size_t)nw, sizeof *expect);
  if (!t->w || !t->fq || !t->wdone || !t->rv_of || !g_ops || !expect) return 1;
  if (ensure_namespaces(t)) return 1;
  /* the known resourceVersion every watcher starts from */
  t->rv0 = current_rv(t);
  if (t->rv0 < 0) {
    fprintf(stderr, "loadtest: cannot read the pods' resourceVersion\n");
    return 1;
  }
  watchers_plan(t, 1);
  for (long k = 0; k < nw; k++) {
    if (!(t->w[k].step = calloc((size_t)n, 1))) return 1;
    if (!t->w[k].late && watcher_start(&t->w[k])) return 1;
  }
  printf("LOADTEST start pods=%ld watchers=%ld inflight=%ld from rv=%" PRId64 "\n", n, nw, inflight, t->rv0);
  fflush(stdout);
  uint64_t t0 = mono_ns();
  pump(t);
  int late_started = 0, writes_reported = 0;
  double write_s = 0;
  while (!g_stop && mono_ns() < deadline) {
    lh_loop_run_once(t->loop, 20);
    restart_ended(t);
    if (!late_started && t->acked_creates >= n / 4) {
      late_started = 1;
      for (long k = 0; k < nw; k++)
        if (t->w[k].late) watcher_start(&t->w[k]);
    }
    if (!writes_reported && writes_finished(t) && late_started) {
      writes_reported = 1;
      write_s = secs_since(t0);
      for (long k = 0; k < nw; k++) expect[k] = expected_events(t, &t->w[k]);
      printf("LOADTEST writes done ok=%ld errors=%ld in %.2f s (%.0f writes/s)\n", t->writes_ok, t->write_errors,
             write_s, write_s > 0 ? (double)t->writes_ok / write_s : 0.0);
      fflush(stdout);
    }
    if (writes_reported && all_watchers_complete(t, expect)) break;
    if (t->write_errors && !t->outstanding && t->next_create < n) break; /* could not queue */
  }
  double total_s = secs_since(t0);
  int timed_out = !writes_reported || !all_watchers_complete(t, expect);
  /* settle: any duplicate or late extra event would show up now */
  run_for(t, 700);
  /* verify */
  int ok = !timed_out && t->write_errors == 0 && !g_stop;
  long total_events = 0, total_expected = 0, ws_n = 0, http_n = 0, resumes = 0, bookmarks = 0;
  for (long k = 0; k < nw; k++) {
    watcher *w = &t->w[k];
    long lost_end = 0;
    uint64_t xs = 0, xq = 0;
    for (long i = 0; i < n; i++) {
      if (!watcher_sees(w, i)) continue;
      if (w->step[i] < t->wdone[i]) lost_end += t->wdone[i] - w->step[i];
      for (int s = 0; s < t->wdone[i]; s++) {
        uint64_t rv = (uint64_t)t->rv_of[i * MAXSTEPS + s];
        xs += rv;
        xq += rv * rv;
      }
    }
    int rv_mismatch = !t->rv_missing && (xs != w->rv_sum || xq != w->rv_sq);
    int wok = w->events == expect[k] && lost_end == 0 && !w->lost && !w->dups && !w->order && !w->unexpected &&
              !w->err_events && !w->end_errors && !rv_mismatch;
    total_events += w->events;
    total_expected += expect[k];
    resumes += w->resumes;
    bookmarks += w->bookmark_n;
    if (w->ws) ws_n++;
    else http_n++;
    if (!wok || verbose) {
      char d[160];
      printf("WATCHER %ld %s: %s events=%ld expected=%ld missing_at_end=%ld gaps=%ld duplicates=%ld order_errors=%ld "
             "unexpected=%ld error_events=%ld end_errors=%ld resumes=%ld bookmarks=%ld rv_multiset=%s%s%s\n",
             k, watcher_desc(w, d, sizeof d), wok ? "ok" : "FAIL", w->events, expect[k], lost_end, w->lost, w->dups,
             w->order, w->unexpected, w->err_events, w->end_errors, w->resumes, w->bookmark_n,
             t->rv_missing ? "unchecked" : rv_mismatch ? "MISMATCH" : "equal", w->first_err[0] ? " first_error: " : "",
             w->first_err);
    }
    if (!wok) ok = 0;
  }
  if (t->first_write_err[0]) printf("WRITE first_error: %s\n", t->first_write_err);
  if (timed_out)
    printf("LOADTEST timed out after %ld s (writes %s: next_create=%ld outstanding=%ld follow_ups=%ld "
           "async_pending=%zu)\n",
           timeout_s, writes_reported ? "done" : "not done", t->next_create, t->outstanding, t->fq_len,
           lh_kube_async_pending(t->wa));
  lat_sort(t);
  printf("LOADTEST %s pods=%ld watchers=%ld (websocket=%ld http=%ld) writes=%ld write_errors=%ld events=%ld/%ld "
         "resumes=%ld bookmarks=%ld rv_checked=%s write_seconds=%.2f total_seconds=%.2f latency_ms_p50=%.1f p99=%.1f\n",
         ok ? "OK" : "FAIL", n, nw, ws_n, http_n, t->writes_ok, t->write_errors, total_events, total_expected, resumes,
         bookmarks, t->rv_missing ? "no" : "yes", write_s, total_s, lat_q(&t->lat, 0.5), lat_q(&t->lat, 0.99));
  fflush(stdout);
  env_close(t);
  for (long k = 0; k < nw; k++) free(t->w[k].step);
  free(t->w), free(t->fq), free(t->wdone), free(t->rv_of), free(g_ops), free(expect);
  lat_free(t);
  return ok ? 0 : 1;
}

/* --- benchmarks ------------------------------------------------------------------------------ */

enum { B_CREATE, B_PATCH, B_DELETE };
typedef struct bulk {
  lt *t;
  int kind;
  long n, next, done, errors, outstanding, inflight;
  double rate; /* ops/s, 0: as fast as `inflight` allows */
  uint64_t t0;
  lh_timer timer;
  char first_err[256];
} bulk;
static bulk *g_bulk;

static void bulk_pump(bulk *b);
static void bulk_done(lh_kube_async *a, int rc, lh_kube_response *resp, void *data) {
  bulk *b = g_bulk;
  (void)a;
  (void)data;
  b->outstanding--;
  b->done++;
  if (rc) {
    b->errors++;
    note(b->first_err, sizeof b->first_err, "%s (HTTP %ld: %s)", lh_kube_strerror(rc), resp->http_code,
         resp->status.message[0] ? resp->status.message : resp->error);
  }
  bulk_pump(b);
}
static void bulk_issue(bulk *b) {
  lt *t = b->t;
  long i = b->next++;
  char path[256], body[4096];
  uint64_t now = mono_ns();
  const char *method = "POST", *ctype = "application/json";
  char *del = NULL;
  const char *bp = body;
  if (b->kind == B_CREATE) {
    pod_path(path, sizeof path, t->prefix, i, 0);
    pod_json_full(body, sizeof body, t->prefix, i, now);
  } else if (b->kind == B_PATCH) {
    method = "PATCH";
    ctype = "application/merge-patch+json";
    pod_path(path, sizeof path, t->prefix, i, 1);
    patch_body(body, sizeof body, 1, now);
  } else {
    method = "DELETE";
    pod_path(path, sizeof path, t->prefix, i, 1);
    bp = del = lh_kube_delete_body(&(lh_kube_delete_opts){NULL, 0, NULL, NULL});
  }
  int rc = bp ? lh_kube_async_request(t->wa, method, path, ctype, bp, strlen(bp), bulk_done, NULL) : LH_EKUBE_NOMEM;
  free(del);
  if (rc) {
    b->errors++;
    b->done++;
    return;
  }
  b->outstanding++;
}
static void bulk_pump(bulk *b) {
  long allowed = b->n;
  if (b->rate > 0) {
    long due = (long)(secs_since(b->t0) * b->rate) + 1;
    if (due < allowed) allowed = due;
  }
  while (b->next < allowed && b->outstanding < b->inflight) bulk_issue(b);
}
static long bulk_tick(lh_loop *loop, lh_timer *tm, void *data) {
  bulk *b = data;
  (void)loop;
  (void)tm;
  bulk_pump(b);
  return b->next < b->n ? 1 : LH_TIMER_STOP;
}
/* Runs n writes of one kind; returns the seconds from the first send to the last answer. */
static double bulk_run(lt *t, int kind, long n, long inflight, double rate, long *errors) {
  bulk b = {.t = t, .kind = kind, .n = n, .inflight = inflight, .rate = rate};
  g_bulk = &b;
  b.t0 = mono_ns();
  if (rate > 0) {
    lh_timer_init(t->loop, &b.timer);
    lh_timer_start(&b.timer, 1, bulk_tick, &b);
  }
  bulk_pump(&b);
  uint64_t end = mono_ns() + 300ull * 1000000000u;
  while (b.done < n && !g_stop && mono_ns() < end) {
    lh_loop_run_once(t->loop, 20);
    restart_ended(t);
  }
  double s = secs_since(b.t0);
  if (rate > 0) lh_timer_stop(&b.timer);
  if (b.first_err[0]) fprintf(stderr, "bench: first write error: %s\n", b.first_err);
  *errors = b.errors + (n - b.done);
  g_bulk = NULL;
  return s;
}

static long rss_kib(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long pages = 0, res = 0;
  if (f) {
    if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = 0;
    fclose(f);
  }
  return res * (sysconf(_SC_PAGESIZE) / 1024);
}

/* CPU seconds (user + system) of the server process named by $LAHAR_LOADTEST_SERVER_PID (set by
 * with-localcluster.sh), or -1. On a shared machine wall-clock rates depend on other load; the
 * server's CPU time per write does not, and 1 / that is the rate one core could sustain. */
static double server_cpu_s(void) {
  const char *pid = getenv("LAHAR_LOADTEST_SERVER_PID");
  if (!pid || !*pid) return -1;
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%s/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  const char *p = strrchr(buf, ')'); /* comm may hold spaces: fields count from after it */
  unsigned long ut = 0, st = 0;
  if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) return -1;
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}
static double self_cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
/* Seconds the threads of process pid ("self" allowed) spent runnable but waiting for a CPU
 * (second field of /proc/PID/task/TID/schedstat), or -1. Large values mean the machine, not
 * lahar, set the pace of a measurement. */
static double runq_wait_s(const char *pid) {
  if (!pid || !*pid) return -1;
  char dir[64];
  snprintf(dir, sizeof dir, "/proc/%s/task", pid);
  DIR *d = opendir(dir);
  if (!d) return -1;
  double sum = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char path[400];
    snprintf(path, sizeof path, "%.63s/%.255s/schedstat", dir, e->d_name);
    FILE *f = fopen(path, "r");
    unsigned long long run = 0, wait = 0;
    if (f) {
      if (fscanf(f, "%llu %llu", &run, &wait) == 2) sum += (double)wait / 1e9;
      fclose(f);
    }
  }
  closedir(d);
  return sum;
}
static double g_srv_cpu0, g_cli_cpu0, g_srv_wait0, g_cli_wait0;
static void cpu_mark(void) {
  g_srv_cpu0 = server_cpu_s();
  g_cli_cpu0 = self_cpu_s();
  g_srv_wait0 = runq_wait_s(getenv("LAHAR_LOADTEST_SERVER_PID"));
  g_cli_wait0 = runq_wait_s("self");
}
/* ,"server_cpu_s":..,"server_cpu_us_per_write":..,"client_cpu_s":.. since cpu_mark(). */
static void print_cpu(long writes) {
  double s1 = server_cpu_s(), c1 = self_cpu_s();
  if (s1 >= 0 && g_srv_cpu0 >= 0)
    printf(",\"server_cpu_s\":%.2f,\"server_cpu_us_per_write\":%.0f", s1 - g_srv_cpu0,
           writes ? (s1 - g_srv_cpu0) * 1e6 / (double)writes : 0.0);
  printf(",\"client_cpu_s\":%.2f", c1 - g_cli_cpu0);
  double sw = runq_wait_s(getenv("LAHAR_LOADTEST_SERVER_PID")), cw = runq_wait_s("self");
  if (sw >= 0 && g_srv_wait0 >= 0) printf(",\"server_runqueue_wait_s\":%.2f", sw - g_srv_wait0);
  if (cw >= 0 && g_cli_wait0 >= 0) printf(",\"client_runqueue_wait_s\":%.2f", cw - g_cli_wait0);
}

static void print_writes(const char *what, long n, long inflight, long watchers, double s, long errors) {
  double rate = s > 0 ? (double)n / s : 0;
  printf("{\"bench\":\"localcluster_%s\",\"writes\":%ld,\"inflight\":%ld,\"watchers\":%ld,\"seconds\":%.3f,"
         "\"writes_per_s\":%.0f,\"errors\":%ld",
         what, n, inflight, watchers, s, rate, errors);
  print_cpu(n);
  printf(",\"target_writes_per_s\":5000,\"meets_target\":%s}\n", rate >= 5000 && !errors ? "true" : "false");
  fflush(stdout);
}

static int informer_memory(lt *t, long n) {
  malloc_trim(0);
  long rss0 = rss_kib();
  lh_intern *in = lh_intern_new();
  lh_informer_opts o = {.resource = &LH_KUBE_PODS, .transform = lh_pod_transform, .free_obj = lh_pod_free,
                        .transform_ud = in, .watch_mode = LH_WATCH_WS_ONLY};
  lh_informer_handlers h = {0};
  lh_informer *inf;
  if (!in || lh_informer_new(t->loop, t->sa, t->ws, &o, &h, &inf) || lh_informer_start(inf)) return -1;
  uint64_t t0 = mono_ns(), end = t0 + 120ull * 1000000000u;
  while (!lh_informer_has_synced(inf) && mono_ns() < end && !g_stop) lh_loop_run_once(t->loop, 20);
  double sync_s = secs_since(t0);
  size_t cached = lh_kube_cache_len(lh_informer_cache(inf));
  size_t objb = lh_pod_cache_bytes(in), ovh = lh_kube_cache_overhead_bytes(lh_informer_cache(inf));
  malloc_trim(0);
  long rss1 = rss_kib();
  double per = cached ? (double)(objb + ovh) / (double)cached : 0;
  double rss_per = cached ? (double)(rss1 - rss0) * 1024.0 / (double)cached : 0;
  printf("{\"bench\":\"informer_pod_cache_memory\",\"pods\":%zu,\"expected_pods\":%ld,\"list_sync_seconds\":%.3f,"
         "\"pod_cache_bytes\":%zu,\"cache_overhead_bytes\":%zu,\"bytes_per_pod\":%.0f,\"rss_delta_bytes_per_pod\":%.0f,"
         "\"interned_strings\":%zu,\"target_bytes_per_pod\":1024,\"meets_target\":%s}\n",
         cached, n, sync_s, objb, ovh, per, rss_per, lh_intern_count(in), per <= 1024 && cached >= (size_t)n ? "true" : "false");
  fflush(stdout);
  lh_informer_free(inf);
  lh_intern_free(in);
  return cached >= (size_t)n ? 0 : -1;
}

/* Waits until every watcher has `want` events (or the deadline); returns how many reached it. */
static long wait_watchers(lt *t, long want, long ms) {
  uint64_t end = mono_ns() + (uint64_t)ms * 1000000u;
  for (;;) {
    long ok = 0;
    for (long k = 0; k < t->nw; k++) ok += t->w[k].events >= want;
    if (ok == t->nw || mono_ns() >= end || g_stop) return ok;
    lh_loop_run_once(t->loop, 20);
    restart_ended(t);
  }
}

static void print_latency(lt *t, const char *what, long pods, double rate, double s, long errors, long got) {
  lat_sort(t);
  double p99 = lat_q(&t->lat, 0.99);
  printf("{\"bench\":\"localcluster_%s\",\"pods\":%ld,\"watchers\":%ld,\"rate_target_per_s\":%.0f,"
         "\"writes_per_s\":%.0f,\"write_errors\":%ld,\"deliveries\":%zu,\"deliveries_expected\":%ld,"
         "\"watchers_complete\":%ld,\"latency_ms_p50\":%.2f,\"latency_ms_p90\":%.2f,\"latency_ms_p99\":%.2f,"
         "\"latency_ms_max\":%.2f,\"websocket_p50\":%.2f,\"websocket_p99\":%.2f,\"http_p50\":%.2f,\"http_p99\":%.2f",
         what, pods, t->nw, rate, s > 0 ? (double)pods / s : 0, errors, t->lat.n, pods * t->nw, got,
         lat_q(&t->lat, 0.5), lat_q(&t->lat, 0.9), p99, lat_q(&t->lat, 1.0), lat_q(&t->lat_ws, 0.5),
         lat_q(&t->lat_ws, 0.99), lat_q(&t->lat_http, 0.5), lat_q(&t->lat_http, 0.99));
  print_cpu(pods);
  printf(",\"target_p99_ms\":50,\"meets_target\":%s}\n", p99 < 50 && got == t->nw && !errors ? "true" : "false");
  fflush(stdout);
}

static int has_phase(const char *phases, const char *p) {
  size_t l = strlen(p);
  for (const char *q = phases; q && *q;) {
    if (!strncmp(q, p, l) && (q[l] == ',' || !q[l])) return 1;
    q = strchr(q, ',');
    if (q) q++;
  }
  return 0;
}

static int cmd_bench(const lh_kube_config *cfg, long n, long nw, long inflight, double rate, long lat_pods,
                     const char *phases) {
  lt T = {0}, *t = &T;
  t->n = n;
  t->inflight = inflight;
  int rc = env_open(t, cfg, inflight, nw);
  if (rc) {
    fprintf(stderr, "bench: client setup: %s\n", lh_kube_strerror(rc));
    return 1;
  }
  if (ensure_namespaces(t)) return 1;
  int fails = 0;
  long errs;
  double s;
  /* 1. writes with no watcher: creates, updates, then the informer's memory, then deletes */
  t->prefix = "bw";
  if (has_phase(phases, "create")) { /* update, memory and delete use these pods */
    cpu_mark();
    s = bulk_run(t, B_CREATE, n, inflight, 0, &errs);
    print_writes("create", n, inflight, 0, s, errs);
    fails += errs > 0;
  }
  if (has_phase(phases, "update")) {
    cpu_mark();
    s = bulk_run(t, B_PATCH, n, inflight, 0, &errs);
    print_writes("update_merge_patch", n, inflight, 0, s, errs);
    fails += errs > 0;
  }
  if (has_phase(phases, "memory") && informer_memory(t, n)) fails++;
  if (has_phase(phases, "delete")) {
    cpu_mark();
    s = bulk_run(t, B_DELETE, n, inflight, 0, &errs);
    print_writes("delete", n, inflight, 0, s, errs);
    fails += errs > 0;
  }
  if (!has_phase(phases, "fanout")) {
    env_close(t);
    return fails ? 1 : 0;
  }
  /* 2. fan-out to nw watchers (half WebSocket, half chunked HTTP, all namespaces) */
  t->nw = nw;
  if (!(t->w = calloc((size_t)nw, sizeof *t->w))) return 1;
  t->rv0 = current_rv(t);
  watchers_plan(t, 0);
  for (long k = 0; k < nw; k++) {
    t->w[k].ns = -1;
    t->w[k].timeout_s = 0;
    t->w[k].bookmarks = 0;
    t->w[k].late = 0;
    if (watcher_start(&t->w[k])) return 1;
  }
  /* warm-up: every watcher connected and live (a sentinel pod seen by all) */
  t->prefix = "bs";
  bulk_run(t, B_CREATE, 1, 1, 0, &errs);
  long got = wait_watchers(t, 1, 30000);
  if (got != nw || errs) {
    fprintf(stderr, "bench: only %ld of %ld watchers saw the sentinel pod\n", got, nw);
    return 1;
  }
  for (long k = 0; k < nw; k++) t->w[k].events = 0;
  lat_reset(t);
  /* 2a. paced creates: the latency of the fan-out itself */
  t->prefix = "bl";
  cpu_mark();
  s = bulk_run(t, B_CREATE, lat_pods, inflight, rate, &errs);
  got = wait_watchers(t, lat_pods, 30000);
  print_latency(t, "watch_fanout_latency_paced", lat_pods, rate, s, errs, got);
  fails += got != nw || errs;
  for (long k = 0; k < nw; k++) t->w[k].events = 0;
  lat_reset(t);
  /* 2b. unpaced creates with nw watchers: write throughput while fanning out, latency under it */
  t->prefix = "bf";
  cpu_mark();
  s = bulk_run(t, B_CREATE, lat_pods, inflight, 0, &errs);
  got = wait_watchers(t, lat_pods, 120000);
  print_writes("create_with_watchers", lat_pods, inflight, nw, s, errs);
  print_latency(t, "watch_fanout_latency_saturated", lat_pods, 0, s, errs, got);
  fails += got != nw || errs;
  for (long k = 0; k < nw; k++)
    if (t->w[k].end_errors || t->w[k].err_events) {
      fprintf(stderr, "bench: watcher %ld: %s\n", k, t->w[k].first_err);
      fails++;
    }
  env_close(t);
  free(t->w);
  lat_free(t);
  return fails ? 1 : 0;
}

/* --- main ------------------------------------------------------------------------------------ */

static int usage(void) {
  fprintf(stderr,
          "usage: lahar-loadtest [--kubeconfig F] [--connections C] [--watch-transport mix|ws|http] load  [--pods N] [--watchers W] [--inflight K] [--timeout S] [--verbose 1]\n"
          "       lahar-loadtest [--kubeconfig F] [--connections C] [--watch-transport mix|ws|http] bench [--pods N] [--watchers W] [--inflight K] [--rate R] [--lat-pods M]\n"
          "                                         [--phases create,update,memory,delete,fanout]\n");
  return 2;
}

int main(int argc, char **argv) {
  const char *kc = NULL, *cmd = NULL;
  long pods = 10000, watchers = 50, inflight = 64, timeout_s = 120, lat_pods = 2000, verbose = 0;
  const char *phases = "create,update,memory,delete,fanout";
  double rate = 500;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strncmp(a, "--", 2) != 0) {
      if (cmd) return usage();
      cmd = a;
      continue;
    }
    if (i + 1 >= argc) return usage();
    const char *v = argv[++i];
    if (!strcmp(a, "--kubeconfig")) kc = v;
    else if (!strcmp(a, "--pods")) pods = atol(v);
    else if (!strcmp(a, "--watchers")) watchers = atol(v);
    else if (!strcmp(a, "--inflight")) inflight = atol(v);
    else if (!strcmp(a, "--timeout")) timeout_s = atol(v);
    else if (!strcmp(a, "--rate")) rate = atof(v);
    else if (!strcmp(a, "--lat-pods")) lat_pods = atol(v);
    else if (!strcmp(a, "--verbose")) verbose = atol(v);
    else if (!strcmp(a, "--phases")) phases = v;
    else if (!strcmp(a, "--connections")) g_connections = atol(v);
    else if (!strcmp(a, "--watch-transport")) g_transport = !strcmp(v, "ws") ? 1 : !strcmp(v, "http") ? 2 : 0;
    else return usage();
  }
  if (!cmd || pods < 1 || pods > 1000000 || watchers < 1 || watchers > 1000 || inflight < 1 || inflight > 4096 ||
      timeout_s < 1 || lat_pods < 1 || rate <= 0 || g_connections < 1 || g_connections > 256)
    return usage();
  char err[512];
  lh_kube_config *cfg = NULL;
  int rc = kc ? lh_kube_config_load_file(kc, NULL, &cfg, err, sizeof err) : lh_kube_config_auto(&cfg, err, sizeof err);
  if (rc) {
    fprintf(stderr, "lahar-loadtest: %s\n", err);
    return 1;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  if (!getenv("LAHAR_LOG_LEVEL")) lh_log_set_level(LH_LOG_WARN); /* keep stdout to results */
  if (!strcmp(cmd, "load")) rc = cmd_load(cfg, pods, watchers, inflight, timeout_s, (int)verbose);
  else if (!strcmp(cmd, "bench")) rc = cmd_bench(cfg, pods, watchers, inflight, rate, lat_pods, phases);
  else rc = usage();
  lh_kube_config_free(cfg);
  return rc;
}
