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
 *       N pods: accounted bytes and RSS delta); watch fan-out latency to W watchers, paced at R
 *       creates/s for M pods, and again M pods unpaced (writes/s while fanning out to W watchers,
 *       and the latency under that saturation). Every delivery of the fan-out is verified as in
 *       the load test (each pod ADDED once per watcher, resourceVersions strictly increasing);
 *       a phase with a missing, duplicate, out-of-order or unexpected event fails the run.
 *
 * What the fan-out latency measures: the write thread stamps each create with CLOCK_MONOTONIC ns
 * (annotation loadtest.lahar.io/sent) just before handing it to curl; a watcher's sample is the
 * CLOCK_MONOTONIC time read first thing in its event callback minus that stamp. So it covers
 * the client's request queue, the server (admission, commit, fan-out, socket writes), loopback,
 * and on the receiving side the library's read and JSON parse of the event (and of any events
 * ahead of it in the same read or post queue): controller/kube/watch.h hands events over only
 * parsed, so there is no earlier point to read the clock at. DELETED events and late watchers
 * (replaying history) are not sampled.
 *
 * Threads: the main thread runs the writes (one lh_loop, one lh_kube_async). The watchers are
 * spread over --watch-threads threads (default 2, one per core of the development machine), each
 * with its own lh_loop, its own lh_kube_async for chunked-HTTP streams (curl counts streams
 * against CURLMOPT_MAX_HOST_CONNECTIONS: W long-lived streams in the write client would starve
 * the writes) and its own wsclient (whose lws service thread posts WebSocket messages to that
 * loop), so parsing and checking 50 streams is not serialised behind one core. The main thread
 * touches a watcher thread's state only through thread_call() (a posted function it waits for)
 * or after joining it; event counts are read atomically. */
#include "kube/async.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/informer.h"
#include "kube/loop.h"
#include "kube/pod.h"
#include "kube/watch.h"
#include "util/buf.h"
#include "util/jscan.h"
#include "util/log.h"

#include <dirent.h>
#include <inttypes.h>
#include <jansson.h>
#include <malloc.h>
#include <pthread.h>
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

#ifdef LAHAR_TEST_BUILD
/* LeakSanitizer reads this at exit (ASan build only). libwebsockets 4.1.6 (Debian) with OpenSSL 3:
 * when two lws contexts exist in one process, one context's client SSL_CTX (the system CA store:
 * ~11,300 allocations, 704 KB) is never freed by lws_context_destroy, even when no WebSocket
 * connection was ever made. This program runs one wsclient (one lws context) per watcher thread.
 * The leaked stacks end in libcrypto (built without frame pointers), so the module is named; the
 * load test talks plain HTTP to the local cluster, so nothing else of it allocates there. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libcrypto.so\n"; }
#endif

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
typedef struct wthread wthread;

/* Latency samples (µs): all watchers, WebSocket ones, chunked-HTTP ones; events without a usable
 * send time are counted in missing. */
typedef struct lat_set {
  uint32_t *v;
  size_t n, cap;
} lat_set;
typedef struct lat_all {
  lat_set all, ws, http;
  long missing;
} lat_all;

typedef struct watcher {
  lt *t;
  wthread *th; /* the thread whose loop runs this watch (every callback of it runs there) */
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
  int started, need_restart;
  const char *prefix; /* names of the pods this watcher must see: prefix + index < npods */
  long npods;
  int64_t last_rv;    /* highest rv seen (event or bookmark): where a resumed watch starts */
  int64_t last_ev_rv; /* highest rv of an object event */
  uint8_t *step;      /* per pod: events received so far (next expected step) */
  long events; /* written by the watcher's thread, read by the main thread (__atomic) */
  long bookmark_n, resumes, lost, dups, order, unexpected, err_events, end_errors;
  uint64_t rv_sum, rv_sq; /* over event rvs: compared with the writes' rvs */
  char first_err[320];
  const char *transport; /* last transport seen while connected */
} watcher;

/* A watcher thread: its own loop, its own async client for chunked-HTTP streams and its own
 * wsclient (whose lws service thread posts WebSocket messages to this loop). It runs watchers
 * idx, idx + nth, idx + 2 nth, ... and restarts those the server closed. The main thread talks
 * to it only through thread_call() (and reads watcher.events atomically). */
struct wthread {
  lt *t;
  int idx;
  pthread_t thread;
  int started;       /* pthread_create succeeded */
  int stop;          /* atomic: leave the loop */
  int active;        /* its watchers were handed over (start_watchers): touch t->w only then */
  lh_loop *loop;
  lh_kube_async *sa; /* chunked watch streams */
  lh_kube_wsclient *ws;
  lat_all lat;       /* this thread's samples, merged into lt.lat by lat_collect() */
};

struct lt {
  lh_loop *loop;     /* the main thread's: writes and setup */
  lh_kube_async *wa; /* writes */
  const lh_kube_config *cfg;
  wthread *th;       /* watcher threads */
  long nth;
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
  lat_all lat; /* samples merged from the watcher threads */
};

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

/* Appends us; returns -1 (sample dropped) when out of memory. */
static int lat_push(lat_set *l, uint32_t us) {
  if (l->n == l->cap) {
    size_t nc = l->cap ? l->cap * 2 : 65536;
    uint32_t *n = realloc(l->v, nc * sizeof *n);
    if (!n) return -1;
    l->v = n;
    l->cap = nc;
  }
  l->v[l->n++] = us;
  return 0;
}
static void lat_add(lat_all *l, int ws, uint64_t sent, uint64_t now) {
  if (!sent || now < sent) {
    l->missing++;
    return;
  }
  uint64_t us = (now - sent) / 1000;
  uint32_t v = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
  if (lat_push(&l->all, v) || lat_push(ws ? &l->ws : &l->http, v)) l->missing++;
}
static void lat_reset(lat_all *l) {
  l->all.n = l->ws.n = l->http.n = 0;
  l->missing = 0;
}
static void lat_free(lat_all *l) {
  free(l->all.v);
  free(l->ws.v);
  free(l->http.v);
}
static void lat_set_merge(lat_set *d, const lat_set *s, long *missing) {
  for (size_t k = 0; k < s->n; k++)
    if (lat_push(d, s->v[k])) (*missing)++;
}
/* Appends src's samples to dst (src unchanged). */
static void lat_merge(lat_all *dst, const lat_all *src) {
  lat_set_merge(&dst->all, &src->all, &dst->missing);
  lat_set_merge(&dst->ws, &src->ws, &dst->missing);
  lat_set_merge(&dst->http, &src->http, &dst->missing);
  dst->missing += src->missing;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}
static void lat_sort(lat_all *l) {
  if (l->all.n) qsort(l->all.v, l->all.n, sizeof *l->all.v, cmp_u32);
  if (l->ws.n) qsort(l->ws.v, l->ws.n, sizeof *l->ws.v, cmp_u32);
  if (l->http.n) qsort(l->http.v, l->http.n, sizeof *l->http.v, cmp_u32);
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

/* The fields of a pod event the checks read, decoded from the object's validated JSON text in
 * place (util/jscan.h: no tree, no allocation). A field that is absent, not a string or too long
 * stays "". Returns -1 when a member the checks read occurs twice (jansson would keep the last
 * one; a watch stream should never send that). */
typedef struct pod_fields {
  char name[128], ns[64], gen[16], sent[32];
} pod_fields;
static int pod_fields_of(const char *raw, size_t len, pod_fields *f) {
  static const char *const top[] = {"metadata"};
  static const char *const meta_keys[] = {"name", "namespace", "annotations"};
  static const char *const ann_keys[] = {ANN_GEN, ANN_SENT};
  lh_js_val obj, meta, m[3], a[2];
  memset(f, 0, sizeof *f);
  if (lh_js_value(raw, len, &obj) || lh_js_obj_pick(&obj, top, 1, &meta) || lh_js_obj_pick(&meta, meta_keys, 3, m) ||
      lh_js_obj_pick(&m[2], ann_keys, 2, a))
    return -1;
  if (m[0].type == LH_JS_STRING && lh_js_str_decode(&m[0], f->name, sizeof f->name) < 0) f->name[0] = 0;
  if (m[1].type == LH_JS_STRING && lh_js_str_decode(&m[1], f->ns, sizeof f->ns) < 0) f->ns[0] = 0;
  if (a[0].type == LH_JS_STRING && lh_js_str_decode(&a[0], f->gen, sizeof f->gen) < 0) f->gen[0] = 0;
  if (a[1].type == LH_JS_STRING && lh_js_str_decode(&a[1], f->sent, sizeof f->sent) < 0) f->sent[0] = 0;
  return 0;
}

/* Runs on the watcher's thread for every event, right after the library read it and validated
 * its JSON (raw watch: no jansson tree; controller/kube/watch.c offers no earlier hook): the
 * receipt time is read first, so the checks below (a few in-place field reads) only delay later
 * events, never this one's sample. Every delivery is checked: numeric and strictly increasing
 * resourceVersion, a pod of the current plan the watcher may see, the next step of that pod
 * (else lost or duplicate). */
static void w_event(lh_kube_watch *h, const lh_kube_watch_event *ev, void *ud) {
  uint64_t now = mono_ns();
  watcher *w = ud;
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
  __atomic_store_n(&w->events, w->events + 1, __ATOMIC_RELEASE);
  if (rv <= w->last_ev_rv || rv < w->last_rv) {
    w->order++;
    note(w->first_err, sizeof w->first_err, "%s rv %" PRId64 " after rv %" PRId64 " (bookmark/last %" PRId64 ")",
         lh_kube_watch_type_name(ev->type), rv, w->last_ev_rv, w->last_rv);
  }
  if (rv > w->last_ev_rv) w->last_ev_rv = rv;
  if (rv > w->last_rv) w->last_rv = rv;
  w->rv_sum += (uint64_t)rv;
  w->rv_sq += (uint64_t)rv * (uint64_t)rv;
  pod_fields pf;
  if (!ev->raw || pod_fields_of(ev->raw, ev->raw_len, &pf)) {
    w->unexpected++;
    note(w->first_err, sizeof w->first_err, "%s rv %" PRId64 ": object missing or with a duplicate metadata member",
         lh_kube_watch_type_name(ev->type), rv);
    return;
  }
  if (ev->type != LH_WATCH_DELETED && !w->late) lat_add(&w->th->lat, w->ws, strtoull(pf.sent, NULL, 10), now);
  const char *name = pf.name[0] ? pf.name : NULL;
  const char *ns = pf.ns[0] ? pf.ns : NULL;
  const char *gens = pf.gen[0] ? pf.gen : NULL;
  size_t pl = strlen(w->prefix);
  long i = -1;
  if (name && strncmp(name, w->prefix, pl) == 0) {
    i = strtol(name + pl, &end, 10);
    if (*end || i < 0 || i >= w->npods) i = -1;
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

/* Starts (or resumes, from last_rv) w's watch; call on w's thread. Returns 0 or the library's
 * error (also noted in w). */
static int watcher_start(watcher *w) {
  lh_buf p;
  lh_buf_init(&p, 1u << 14);
  char rv[32];
  snprintf(rv, sizeof rv, "%" PRId64, w->last_rv);
  lh_kube_list_opts q = {.label_selector = w->sel, .resource_version = rv, .timeout_seconds = w->timeout_s,
                         .watch = 1, .allow_bookmarks = w->bookmarks};
  int rc = lh_kube_path(&p, &LH_KUBE_PODS, w->ns < 0 ? NULL : NS_NAMES[w->ns], NULL, NULL);
  if (!rc) rc = lh_kube_query(&p, &q);
  lh_kube_watch_opts o = {.mode = w->ws ? LH_WATCH_WS_ONLY : LH_WATCH_HTTP_ONLY};
  if (!rc) rc = lh_kube_watch_start(w->th->sa, w->ws ? w->th->ws : NULL, lh_buf_str(&p), &o, w_event, w_end, w, &w->h);
  /* raw: the library validates each event but builds no jansson tree; w_event reads the few
   * fields it checks in place. Set before this thread's loop runs again (no event before). */
  if (!rc) lh_kube_watch_set_raw(w->h, 1);
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

static void watchers_plan(lt *t, int selectors) {
  for (long k = 0; k < t->nw; k++) {
    watcher *w = &t->w[k];
    memset(w, 0, sizeof *w);
    w->t = t;
    w->th = &t->th[k % t->nth];
    w->idx = (int)k;
    w->prefix = t->prefix;
    w->npods = t->n;
    w->ws = g_transport == 0 ? k % 2 == 0 : g_transport == 1;
    w->ns = k % 5 < 2 ? -1 : (int)(k % NNS);
    w->mask = (1u << NSHARD) - 1;
    w->bookmarks = k % 3 == 0;
    w->timeout_s = k % 7 == 3 ? 3 : 0;
    w->late = k >= t->nw / 2;
    w->last_rv = t->rv0;
    if (!selectors) continue;
    if (k == 2) w->ns = -1, w->sel = "shard=s3", w->mask = 1u << 3;
    if (k == 7) w->sel = "app=loadtest,shard in (s1,s6)", w->mask = 1u << 1 | 1u << 6;
    if (k == 13) w->sel = "shard!=s0", w->mask = ((1u << NSHARD) - 1) & ~1u;
  }
}

/* --- environment ------------------------------------------------------------------------------- */

static long g_connections = 8; /* --connections: keep-alive connections of the write client */
static long g_threads = 2;     /* --watch-threads: threads the watchers are spread over */

/* Synchronous call of fn(th, arg) on th's thread: posted to its loop, the caller blocks until it
 * ran. The mutex hand-off orders everything fn wrote before the caller's next read, so the main
 * thread reads and resets a thread's state only through this. Returns 0 or LH_EKUBE_NOMEM (the
 * post failed; fn did not run). */
typedef void thread_fn(wthread *th, void *arg);
typedef struct tcall {
  wthread *th;
  thread_fn *fn;
  void *arg;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int done;
} tcall;
static void tcall_run(lh_loop *loop, void *data) {
  tcall *c = data;
  (void)loop;
  c->fn(c->th, c->arg);
  pthread_mutex_lock(&c->mu);
  c->done = 1;
  pthread_cond_signal(&c->cv);
  pthread_mutex_unlock(&c->mu);
}
static void tcall_noop(lh_loop *loop, void *data) {
  (void)loop;
  (void)data;
}
static int thread_call(wthread *th, thread_fn *fn, void *arg) {
  tcall c = {.th = th, .fn = fn, .arg = arg};
  pthread_mutex_init(&c.mu, NULL);
  pthread_cond_init(&c.cv, NULL);
  int rc = lh_loop_post(th->loop, tcall_run, &c);
  if (!rc) {
    pthread_mutex_lock(&c.mu);
    while (!c.done) pthread_cond_wait(&c.cv, &c.mu);
    pthread_mutex_unlock(&c.mu);
  }
  pthread_cond_destroy(&c.cv);
  pthread_mutex_destroy(&c.mu);
  return rc;
}
/* thread_call on every watcher thread in turn; returns the first failure. */
static int threads_call(lt *t, thread_fn *fn, void *arg) {
  int rc = 0;
  for (long j = 0; j < t->nth; j++) {
    int r = thread_call(&t->th[j], fn, arg);
    if (!rc) rc = r;
  }
  return rc;
}

/* Resumes the watches the server closed (timeoutSeconds) from their last resourceVersion. */
static void restart_ended(wthread *th) {
  lt *t = th->t;
  if (!th->active) return;
  for (long k = th->idx; k < t->nw; k += t->nth)
    if (t->w[k].need_restart && !g_stop) {
      t->w[k].need_restart = 0;
      watcher_start(&t->w[k]);
    }
}

static void stop_watchers(wthread *th);
static void *thread_main(void *arg) {
  wthread *th = arg;
  while (!__atomic_load_n(&th->stop, __ATOMIC_ACQUIRE)) {
    lh_loop_run_once(th->loop, 50);
    restart_ended(th);
  }
  stop_watchers(th);
  /* let the wsclient's service thread see the closes before the main thread frees it */
  for (int i = 0; i < 5; i++) lh_loop_run_once(th->loop, 10);
  return NULL;
}

/* Starts this thread's watchers that are late (arg points to 1) or not (0); the first failure is
 * stored in ((int *)arg)[1]. */
static void start_watchers(wthread *th, void *arg) {
  int *a = arg;
  lt *t = th->t;
  th->active = 1;
  for (long k = th->idx; k < t->nw; k += t->nth)
    if (t->w[k].late == a[0] && !t->w[k].started) {
      int rc = watcher_start(&t->w[k]);
      if (rc && !a[1]) a[1] = rc;
    }
}
static int watchers_start(lt *t, int late) {
  int a[2] = {late, 0};
  int rc = threads_call(t, start_watchers, a);
  return rc ? rc : a[1];
}

/* Stops this thread's watches, on its own loop. A WebSocket watch stopped before the lws thread
 * took its connect command gets its connection queued twice on the wsclient's command list (a
 * controller/kube/watch.c bug: next_cmd is overwritten, the list loops: use-after-free), so first
 * let every WebSocket watch leave "connecting" (a resumed watch may have just started), for at
 * most 5 s. */
static void stop_watchers(wthread *th) {
  lt *t = th->t;
  if (!th->active) return;
  for (uint64_t end = mono_ns() + 5000000000ull; mono_ns() < end;) {
    int connecting = 0;
    for (long k = th->idx; k < t->nw; k += t->nth)
      if (t->w[k].h && !strcmp(lh_kube_watch_transport(t->w[k].h), "connecting")) connecting = 1;
    if (!connecting) break;
    lh_loop_run_once(th->loop, 10);
  }
  for (long k = th->idx; k < t->nw; k += t->nth) {
    lh_kube_watch_stop(t->w[k].h);
    t->w[k].h = NULL;
  }
}

/* Stops every watch and joins the watcher threads: afterwards the main thread owns all watcher
 * state. Idempotent. */
static void threads_stop(lt *t) {
  for (long j = 0; j < t->nth; j++) {
    wthread *th = &t->th[j];
    if (!th->started) continue;
    __atomic_store_n(&th->stop, 1, __ATOMIC_RELEASE);
    lh_loop_post(th->loop, tcall_noop, NULL);
    pthread_join(th->thread, NULL);
    th->started = 0;
  }
}

/* The main loop and write client, then g_threads watcher threads each with its loop, stream
 * client and wsclient, started. Returns 0 or the library's error (env_close cleans up either
 * way). */
static int env_open(lt *t, const lh_kube_config *cfg, long inflight, long streams) {
  int rc;
  t->cfg = cfg;
  if (!(t->loop = lh_loop_new())) return LH_EKUBE_NOMEM;
  /* 120 s per write, not the library's 30 s: under ASan on a loaded shared machine the watcher
   * threads replaying thousands of events compete with the write thread for the CPU, and answers
   * already in its sockets were read late. The run as a whole stays bounded by --timeout. */
  lh_kube_async_opts wo = {.max_connections = inflight < g_connections ? inflight : g_connections,
                           .max_in_flight = inflight, .timeout_ms = 120000};
  if ((rc = lh_kube_async_new(t->loop, cfg, &wo, &t->wa))) return rc;
  t->nth = g_threads < streams ? g_threads : streams;
  if (!(t->th = calloc((size_t)t->nth, sizeof *t->th))) return LH_EKUBE_NOMEM;
  /* curl counts streams against CURLMOPT_MAX_HOST_CONNECTIONS: each thread's stream client
   * gets room for all its watchers, and writes have a client of their own so long-lived streams
   * never starve them */
  long per = (streams + t->nth - 1) / t->nth;
  lh_kube_async_opts so = {.max_connections = per + 4, .max_in_flight = per + 4};
  for (long j = 0; j < t->nth; j++) {
    wthread *th = &t->th[j];
    th->t = t;
    th->idx = (int)j;
    if (!(th->loop = lh_loop_new())) return LH_EKUBE_NOMEM;
    if ((rc = lh_kube_async_new(th->loop, cfg, &so, &th->sa)) || (rc = lh_kube_wsclient_new(th->loop, cfg, &th->ws)))
      return rc;
  }
  for (long j = 0; j < t->nth; j++) {
    if (pthread_create(&t->th[j].thread, NULL, thread_main, &t->th[j])) return LH_EKUBE_NOMEM;
    t->th[j].started = 1;
  }
  return 0;
}

static void env_close(lt *t) {
  threads_stop(t);
  for (long j = t->nth - 1; t->th && j >= 0; j--) {
    wthread *th = &t->th[j];
    lh_kube_async_free(th->sa);
    lh_kube_wsclient_free(th->ws);
    lh_loop_free(th->loop);
    lat_free(&th->lat);
  }
  free(t->th);
  t->th = NULL;
  lh_kube_async_free(t->wa);
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
    if (__atomic_load_n(&t->w[k].events, __ATOMIC_ACQUIRE) < expect[k]) return 0;
  return 1;
}

static int cmd_load(const lh_kube_config *cfg, long n, long nw, long inflight, long timeout_s, int verbose) {
  lt T = {0}, *t = &T;
  t->n = n;
  t->nw = nw;
  t->inflight = inflight;
  t->prefix = "p";
  uint64_t deadline = mono_ns() + (uint64_t)timeout_s * 1000000000u;
  int ok = 0; /* set by the verification; the setup failures jump to fail */
  t->w = calloc((size_t)nw, sizeof *t->w);
  t->fq = calloc((size_t)n, sizeof *t->fq);
  t->wdone = calloc((size_t)n, 1);
  t->rv_of = calloc((size_t)n * MAXSTEPS, sizeof *t->rv_of);
  g_ops = calloc((size_t)n, sizeof *g_ops);
  long *expect = calloc((size_t)nw, sizeof *expect);
  int rc = t->w && t->fq && t->wdone && t->rv_of && g_ops && expect ? env_open(t, cfg, inflight, nw) : LH_EKUBE_NOMEM;
  if (rc) {
    fprintf(stderr, "loadtest: client setup: %s\n", lh_kube_strerror(rc));
    goto fail;
  }
  if (ensure_namespaces(t)) goto fail;
  /* the known resourceVersion every watcher starts from */
  t->rv0 = current_rv(t);
  if (t->rv0 < 0) {
    fprintf(stderr, "loadtest: cannot read the pods' resourceVersion\n");
    goto fail;
  }
  watchers_plan(t, 1);
  for (long k = 0; k < nw; k++)
    if (!(t->w[k].step = calloc((size_t)n, 1))) goto fail;
  if ((rc = watchers_start(t, 0))) {
    fprintf(stderr, "loadtest: starting the watchers: %s\n", lh_kube_strerror(rc));
    goto fail;
  }
  printf("LOADTEST start pods=%ld watchers=%ld inflight=%ld from rv=%" PRId64 "\n", n, nw, inflight, t->rv0);
  fflush(stdout);
  uint64_t t0 = mono_ns();
  pump(t);
  int late_started = 0, writes_reported = 0;
  double write_s = 0;
  while (!g_stop && mono_ns() < deadline) {
    lh_loop_run_once(t->loop, 20);
    if (!late_started && t->acked_creates >= n / 4) {
      late_started = 1;
      watchers_start(t, 1); /* a failure is noted in the watcher and fails it */
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
  /* verify, once the watcher threads are gone */
  threads_stop(t);
  ok = !timed_out && t->write_errors == 0 && !g_stop;
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
  for (long j = 0; j < t->nth; j++) lat_merge(&t->lat, &t->th[j].lat);
  lat_sort(&t->lat);
  printf("LOADTEST %s pods=%ld watchers=%ld (websocket=%ld http=%ld) writes=%ld write_errors=%ld events=%ld/%ld "
         "resumes=%ld bookmarks=%ld rv_checked=%s write_seconds=%.2f total_seconds=%.2f latency_ms_p50=%.1f p99=%.1f\n",
         ok ? "OK" : "FAIL", n, nw, ws_n, http_n, t->writes_ok, t->write_errors, total_events, total_expected, resumes,
         bookmarks, t->rv_missing ? "no" : "yes", write_s, total_s, lat_q(&t->lat.all, 0.5), lat_q(&t->lat.all, 0.99));
  fflush(stdout);
fail:
  env_close(t);
  for (long k = 0; t->w && k < nw; k++) free(t->w[k].step);
  free(t->w), free(t->fq), free(t->wdone), free(t->rv_of), free(g_ops), free(expect);
  lat_free(&t->lat);
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
  while (b.done < n && !g_stop && mono_ns() < end) lh_loop_run_once(t->loop, 20);
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
                        .transform_ud = in, .watch_mode = LH_WATCH_HTTP_ONLY};
  lh_informer_handlers h = {0};
  lh_informer *inf = NULL;
  /* the informer's own client on the main loop (the watcher threads are idle in this phase).
   * Its watch is chunked HTTP: what is measured is the list it syncs from, and a WebSocket watch
   * stopped before lws took its connect command trips a controller/kube/watch.c bug (the
   * connection is queued twice on the command list). */
  lh_kube_async_opts so = {.max_connections = 4, .max_in_flight = 4};
  lh_kube_async *sa = NULL;
  if (!in || lh_kube_async_new(t->loop, t->cfg, &so, &sa) || lh_informer_new(t->loop, sa, NULL, &o, &h, &inf) ||
      lh_informer_start(inf)) {
    lh_informer_free(inf);
    lh_kube_async_free(sa);
    lh_intern_free(in);
    return -1;
  }
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
  lh_kube_async_free(sa);
  lh_intern_free(in);
  return cached >= (size_t)n ? 0 : -1;
}

/* Waits until every watcher has `want` events (or the deadline); returns how many reached it.
 * The main thread only runs its own loop (writes) meanwhile. */
static long wait_watchers(lt *t, long want, long ms) {
  uint64_t end = mono_ns() + (uint64_t)ms * 1000000u;
  for (;;) {
    long ok = 0;
    for (long k = 0; k < t->nw; k++) ok += __atomic_load_n(&t->w[k].events, __ATOMIC_ACQUIRE) >= want;
    if (ok == t->nw || mono_ns() >= end || g_stop) return ok;
    lh_loop_run_once(t->loop, 20);
  }
}

/* A phase of the fan-out bench: every watcher must see pods prefix000000 .. prefix(n-1), each
 * ADDED once, in increasing resourceVersion order. */
typedef struct phase {
  const char *prefix;
  long n;
} phase;
/* What the watchers' checks found over a phase (see w_event). */
typedef struct verdict {
  long events, missing, dups, order, unexpected;
} verdict;

/* On each watcher thread: point its watchers at the new phase, clear their per-pod steps, event
 * counts and the thread's latency samples. */
static void phase_begin_fn(wthread *th, void *arg) {
  const phase *p = arg;
  lt *t = th->t;
  for (long k = th->idx; k < t->nw; k += t->nth) {
    watcher *w = &t->w[k];
    w->prefix = p->prefix;
    w->npods = p->n;
    memset(w->step, 0, (size_t)p->n);
    __atomic_store_n(&w->events, 0, __ATOMIC_RELEASE);
  }
  lat_reset(&th->lat);
}
static int phase_begin(lt *t, const char *prefix, long n) {
  phase p = {prefix, n};
  t->prefix = prefix;
  lat_reset(&t->lat);
  return threads_call(t, phase_begin_fn, &p);
}
/* On each watcher thread: add its watchers' findings to the verdict (pods never seen count as
 * missing), clear their counters and hand its latency samples to the main thread's set. */
static void phase_end_fn(wthread *th, void *arg) {
  verdict *v = arg;
  lt *t = th->t;
  for (long k = th->idx; k < t->nw; k += t->nth) {
    watcher *w = &t->w[k];
    for (long i = 0; i < w->npods; i++) v->missing += w->step[i] == 0;
    v->events += w->events;
    v->missing += w->lost;
    v->dups += w->dups;
    v->order += w->order;
    v->unexpected += w->unexpected;
    w->lost = w->dups = w->order = w->unexpected = 0;
  }
  lat_merge(&t->lat, &th->lat);
  lat_reset(&th->lat);
}
static verdict phase_end(lt *t) {
  verdict v = {0};
  threads_call(t, phase_end_fn, &v);
  return v;
}
static int verdict_ok(const verdict *v) { return !v->missing && !v->dups && !v->order && !v->unexpected; }

static void print_latency(lt *t, const char *what, long pods, double rate, double s, long errors, long got,
                          const verdict *v) {
  lat_sort(&t->lat);
  double p99 = lat_q(&t->lat.all, 0.99);
  printf("{\"bench\":\"localcluster_%s\",\"pods\":%ld,\"watchers\":%ld,\"watch_threads\":%ld,"
         "\"rate_target_per_s\":%.0f,\"writes_per_s\":%.0f,\"write_errors\":%ld,\"deliveries\":%ld,"
         "\"deliveries_expected\":%ld,\"latency_samples\":%zu,\"watchers_complete\":%ld,\"verify_missing\":%ld,"
         "\"verify_duplicates\":%ld,\"verify_order_errors\":%ld,\"verify_unexpected\":%ld,"
         "\"latency_ms_p50\":%.2f,\"latency_ms_p90\":%.2f,\"latency_ms_p99\":%.2f,"
         "\"latency_ms_max\":%.2f,\"websocket_p50\":%.2f,\"websocket_p99\":%.2f,\"http_p50\":%.2f,\"http_p99\":%.2f",
         what, pods, t->nw, t->nth, rate, s > 0 ? (double)pods / s : 0, errors, v->events, pods * t->nw,
         t->lat.all.n, got, v->missing, v->dups, v->order, v->unexpected, lat_q(&t->lat.all, 0.5),
         lat_q(&t->lat.all, 0.9), p99, lat_q(&t->lat.all, 1.0), lat_q(&t->lat.ws, 0.5), lat_q(&t->lat.ws, 0.99),
         lat_q(&t->lat.http, 0.5), lat_q(&t->lat.http, 0.99));
  print_cpu(pods);
  printf(",\"target_p99_ms\":50,\"meets_target\":%s}\n",
         p99 < 50 && got == t->nw && !errors && verdict_ok(v) ? "true" : "false");
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

/* The fan-out phases of cmd_bench: nw watchers (half WebSocket, half chunked HTTP, all
 * namespaces) on the watcher threads; a sentinel pod first (every watcher connected and live),
 * then lat_pods creates paced at rate, then lat_pods unpaced. Returns the number of failures. */
static int bench_fanout(lt *t, long nw, long inflight, double rate, long lat_pods) {
  long errs, got;
  double s;
  int fails = 0;
  t->rv0 = current_rv(t);
  if (t->rv0 < 0) {
    fprintf(stderr, "bench: cannot read the pods' resourceVersion\n");
    return 1;
  }
  t->prefix = "bs";
  t->n = 1;
  watchers_plan(t, 0);
  for (long k = 0; k < nw; k++) {
    t->w[k].ns = -1;
    t->w[k].timeout_s = 0;
    t->w[k].bookmarks = 0;
    t->w[k].late = 0;
    if (!(t->w[k].step = calloc((size_t)lat_pods, 1))) return 1;
  }
  int rc = watchers_start(t, 0);
  if (rc) {
    fprintf(stderr, "bench: starting the watchers: %s\n", lh_kube_strerror(rc));
    return 1;
  }
  /* warm-up: every watcher connected and live */
  bulk_run(t, B_CREATE, 1, 1, 0, &errs);
  got = wait_watchers(t, 1, 30000);
  verdict v = phase_end(t);
  if (got != nw || errs || !verdict_ok(&v)) {
    fprintf(stderr, "bench: only %ld of %ld watchers saw the sentinel pod (missing %ld, unexpected %ld)\n", got, nw,
            v.missing, v.unexpected);
    return 1;
  }
  /* 2a. paced creates: the latency of the fan-out itself */
  if (phase_begin(t, "bl", lat_pods)) return 1;
  cpu_mark();
  s = bulk_run(t, B_CREATE, lat_pods, inflight, rate, &errs);
  got = wait_watchers(t, lat_pods, 30000);
  v = phase_end(t);
  print_latency(t, "watch_fanout_latency_paced", lat_pods, rate, s, errs, got, &v);
  fails += got != nw || errs || !verdict_ok(&v);
  /* 2b. unpaced creates with nw watchers: write throughput while fanning out, latency under it */
  if (phase_begin(t, "bf", lat_pods)) return 1;
  cpu_mark();
  s = bulk_run(t, B_CREATE, lat_pods, inflight, 0, &errs);
  got = wait_watchers(t, lat_pods, 120000);
  v = phase_end(t);
  print_writes("create_with_watchers", lat_pods, inflight, nw, s, errs);
  print_latency(t, "watch_fanout_latency_saturated", lat_pods, 0, s, errs, got, &v);
  fails += got != nw || errs || !verdict_ok(&v);
  threads_stop(t);
  for (long k = 0; k < nw; k++)
    if (t->w[k].end_errors || t->w[k].err_events) {
      fprintf(stderr, "bench: watcher %ld: %s\n", k, t->w[k].first_err);
      fails++;
    }
  return fails;
}

static int cmd_bench(const lh_kube_config *cfg, long n, long nw, long inflight, double rate, long lat_pods,
                     const char *phases) {
  lt T = {0}, *t = &T;
  t->n = n;
  t->inflight = inflight;
  /* the watchers exist from the start (idle until the fan-out phases) so the watcher threads
   * never see t->w change */
  t->nw = nw;
  t->w = calloc((size_t)nw, sizeof *t->w);
  int rc = t->w ? env_open(t, cfg, inflight, nw) : LH_EKUBE_NOMEM;
  int fails = 0;
  if (rc) {
    fprintf(stderr, "bench: client setup: %s\n", lh_kube_strerror(rc));
    fails++;
  } else if (ensure_namespaces(t)) {
    fails++;
  }
  long errs;
  double s;
  /* 1. writes with no watcher: creates, updates, then the informer's memory, then deletes */
  t->prefix = "bw";
  if (!fails && has_phase(phases, "create")) { /* update, memory and delete use these pods */
    cpu_mark();
    s = bulk_run(t, B_CREATE, n, inflight, 0, &errs);
    print_writes("create", n, inflight, 0, s, errs);
    fails += errs > 0;
  }
  if (!fails && has_phase(phases, "update")) {
    cpu_mark();
    s = bulk_run(t, B_PATCH, n, inflight, 0, &errs);
    print_writes("update_merge_patch", n, inflight, 0, s, errs);
    fails += errs > 0;
  }
  if (!fails && has_phase(phases, "memory") && informer_memory(t, n)) fails++;
  if (!fails && has_phase(phases, "delete")) {
    cpu_mark();
    s = bulk_run(t, B_DELETE, n, inflight, 0, &errs);
    print_writes("delete", n, inflight, 0, s, errs);
    fails += errs > 0;
  }
  /* 2. fan-out */
  if (!fails && has_phase(phases, "fanout")) fails += bench_fanout(t, nw, inflight, rate, lat_pods);
  env_close(t);
  for (long k = 0; t->w && k < nw; k++) free(t->w[k].step);
  free(t->w);
  lat_free(&t->lat);
  return fails ? 1 : 0;
}

/* --- main ------------------------------------------------------------------------------------ */

static int usage(void) {
  fprintf(stderr,
          "usage: lahar-loadtest [--kubeconfig F] [--connections C] [--watch-transport mix|ws|http] [--watch-threads T]\n"
          "                      load  [--pods N] [--watchers W] [--inflight K] [--timeout S] [--verbose 1]\n"
          "       lahar-loadtest [--kubeconfig F] [--connections C] [--watch-transport mix|ws|http] [--watch-threads T]\n"
          "                      bench [--pods N] [--watchers W] [--inflight K] [--rate R] [--lat-pods M]\n"
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
    else if (!strcmp(a, "--watch-threads")) g_threads = atol(v);
    else if (!strcmp(a, "--watch-transport")) g_transport = !strcmp(v, "ws") ? 1 : !strcmp(v, "http") ? 2 : 0;
    else return usage();
  }
  if (!cmd || pods < 1 || pods > 1000000 || watchers < 1 || watchers > 1000 || inflight < 1 || inflight > 4096 ||
      timeout_s < 1 || lat_pods < 1 || rate <= 0 || g_connections < 1 || g_connections > 256 ||
      g_threads < 1 || g_threads > 64)
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
