/* kubewatch_main.c — lahar-kubewatch, a small debug client for controller/kube/ used by the
 * e2e tests (tests/e2e/3x-kube-client-*.sh):
 *   get/list/create/delete/bind  the blocking client (curl easy)
 *   watch RES [RV]               one watch handle: prints the transport, each event and the end
 *   inform RES                   an informer (list + watch, WebSocket or chunked HTTP): one line per
 *                                event, the transport in use and relist counters
 *   bindbench N INFLIGHT         creates N pods, binds them all through lh_kube_async_bind with
 *                                INFLIGHT requests in flight, checks through an informer (compact
 *                                pod cache) that every pod ended bound exactly once, prints pods/s
 *                                and the cache's bytes per pod, then deletes the pods
 * Output lines start with an upper-case tag (SYNCED, ADD, TRANSPORT, END, BINDBENCH, ...) so
 * scripts can grep them. SIGTERM/SIGINT end `inform` and `watch` cleanly (STATS is printed). */
#include "kube/async.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/informer.h"
#include "kube/loop.h"
#include "kube/pod.h"
#include "kube/watch.h"
#include "util/log.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) { g_stop = sig; }

static const lh_kube_resource *resource_named(const char *n) {
  static const struct { const char *name; const lh_kube_resource *r; } tab[] = {
      {"pods", &LH_KUBE_PODS}, {"nodes", &LH_KUBE_NODES}, {"namespaces", &LH_KUBE_NAMESPACES},
      {"queues", &LH_KUBE_VOLCANO_QUEUES}, {"podgroups", &LH_KUBE_VOLCANO_PODGROUPS},
      {"jobs", &LH_KUBE_VOLCANO_JOBS}, {"workflows", &LH_KUBE_ARGO_WORKFLOWS}};
  for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
    if (strcmp(tab[i].name, n) == 0) return tab[i].r;
  return NULL;
}

static lh_kube_watch_mode mode_of(const char *m) {
  return strcmp(m, "ws") == 0 ? LH_WATCH_WS_ONLY : strcmp(m, "http") == 0 ? LH_WATCH_HTTP_ONLY : LH_WATCH_AUTO;
}

static const char *rc_name(int rc) {
  switch (rc) {
  case 0: return "OK";
  case LH_EKUBE_TRANSPORT: return "TRANSPORT";
  case LH_EKUBE_HTTP: return "HTTP";
  case LH_EKUBE_GONE: return "GONE";
  case LH_EKUBE_UPGRADE: return "UPGRADE";
  case LH_EKUBE_CLOSED: return "CLOSED";
  case LH_EKUBE_PARSE: return "PARSE";
  case LH_EKUBE_TOOBIG: return "TOOBIG";
  default: return lh_kube_strerror(rc);
  }
}

static uint64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* --- shared loop/async/ws setup -------------------------------------------------------------- */

typedef struct env {
  lh_loop *loop;
  lh_kube_async *a;
  lh_kube_wsclient *ws;
} env;

static int env_open(env *e, const lh_kube_config *cfg, const char *mode, int no_origin,
                    const lh_kube_async_opts *ao) {
  memset(e, 0, sizeof(*e));
  int rc;
  if (!(e->loop = lh_loop_new())) return LH_EKUBE_NOMEM;
  if ((rc = lh_kube_async_new(e->loop, cfg, ao, &e->a)) != 0) return rc;
  if (strcmp(mode, "http") != 0) {
    if ((rc = lh_kube_wsclient_new(e->loop, cfg, &e->ws)) != 0) {
      fprintf(stderr, "websocket client: %s\n", lh_kube_strerror(rc));
      return rc;
    }
    if (no_origin) lh_kube_wsclient_set_origin(e->ws, NULL);
  }
  return 0;
}

static void env_close(env *e) {
  lh_kube_async_free(e->a);
  lh_kube_wsclient_free(e->ws);
  lh_loop_free(e->loop);
}

/* --- watch ------------------------------------------------------------------------------------ */

typedef struct wctx {
  lh_kube_watch *w;
  const char *shown;
  int ended, rc;
} wctx;

static void show_transport(wctx *x) {
  const char *t = x->w ? lh_kube_watch_transport(x->w) : NULL;
  if (t && t != x->shown && strcmp(t, "connecting") != 0) {
    printf("TRANSPORT %s\n", t);
    fflush(stdout);
    x->shown = t;
  }
}

static void w_event(lh_kube_watch *w, const lh_kube_watch_event *ev, void *ud) {
  wctx *x = ud;
  show_transport(x);
  json_t *o = ev->object;
  if (ev->type == LH_WATCH_ERROR) {
    json_t *code = json_object_get(o, "code");
    const char *reason = json_string_value(json_object_get(o, "reason"));
    printf("EVENT ERROR code=%lld reason=%s\n", (long long)json_integer_value(code), reason ? reason : "");
  } else {
    const char *n = json_string_value(json_object_get(json_object_get(o, "metadata"), "name"));
    printf("EVENT %s %s rv=%s\n", lh_kube_watch_type_name(ev->type), n ? n : "?", ev->rv ? ev->rv : "");
  }
  fflush(stdout);
}

static void w_end(lh_kube_watch *w, int rc, const lh_kube_status *st, void *ud) {
  wctx *x = ud;
  x->w = NULL;
  x->ended = 1;
  x->rc = rc;
  printf("END rc=%s code=%d reason=%s message=%s\n", rc_name(rc), st->code, st->reason, st->message);
  fflush(stdout);
}

static int cmd_watch(const lh_kube_config *cfg, const lh_kube_resource *res, const char *ns,
                     const char *rv, const char *mode, int no_origin, long timeout_s) {
  env e;
  if (env_open(&e, cfg, mode, no_origin, NULL) != 0) return 1;
  lh_buf p;
  lh_buf_init(&p, 1u << 16);
  lh_kube_list_opts q = {.watch = 1, .resource_version = rv, .timeout_seconds = timeout_s};
  if (lh_kube_path(&p, res, ns, NULL, NULL) || lh_kube_query(&p, &q)) return 1;
  wctx x = {0};
  lh_kube_watch_opts wo = {mode_of(mode), 0};
  int rc = lh_kube_watch_start(e.a, e.ws, lh_buf_str(&p), &wo, w_event, w_end, &x, &x.w);
  lh_buf_free(&p);
  if (rc) {
    fprintf(stderr, "watch: %s\n", lh_kube_strerror(rc));
    return 1;
  }
  uint64_t end = mono_ms() + (uint64_t)(timeout_s > 0 ? timeout_s : 3600) * 1000;
  while (!x.ended && !g_stop && mono_ms() < end) {
    lh_loop_run_once(e.loop, 100);
    show_transport(&x);
  }
  if (!x.ended) {
    printf("END rc=TIMEOUT\n");
    lh_kube_watch_stop(x.w);
  }
  env_close(&e);
  return x.ended && x.rc != 0 ? 1 : 0;
}

/* --- inform ----------------------------------------------------------------------------------- */

static const char *name_of(const void *o) {
  const char *n = json_string_value(json_object_get(json_object_get((json_t *)o, "metadata"), "name"));
  return n ? n : "?";
}
static void on_add(lh_informer *i, const void *o, void *d) { printf("ADD %s\n", name_of(o)), fflush(stdout); }
static void on_upd(lh_informer *i, const void *a, const void *b, void *d) { printf("UPDATE %s\n", name_of(b)), fflush(stdout); }
static void on_del(lh_informer *i, const void *o, void *d) { printf("DELETE %s\n", name_of(o)), fflush(stdout); }

/* A transport equal to the built-in one except that its first watch asks for resourceVersion=1:
 * a real apiserver then answers HTTP 200 + an ERROR event with code 410 (its watch cache starts
 * far later), which deterministically exercises the informer's relist-on-410 path. */
typedef struct xport {
  lh_informer *inf;
  lh_kube_async *a;
  lh_kube_wsclient *ws;
  lh_kube_watch_mode mode;
  lh_kube_watch *w;
  int expire_next;
} xport;

static int g_inf_alive; /* list callbacks can outlive the informer (async freed after it) */

static void x_list_done(lh_kube_async *a, int rc, lh_kube_response *resp, void *data) {
  xport *x = data;
  if (!g_inf_alive) return;
  json_t *doc = NULL;
  if (rc == 0 && !(doc = json_loadb(resp->body ? resp->body : "", resp->len, 0, NULL))) rc = LH_EKUBE_PARSE;
  lh_informer_on_list(x->inf, rc, doc);
  json_decref(doc);
}
static int x_list(void *t, lh_informer *inf, const char *path) {
  xport *x = t;
  return lh_kube_async_request(x->a, "GET", path, NULL, NULL, 0, x_list_done, x);
}
static void x_event(lh_kube_watch *w, const lh_kube_watch_event *ev, void *ud) {
  lh_informer_on_event(((xport *)ud)->inf, ev);
}
static void x_end(lh_kube_watch *w, int rc, const lh_kube_status *st, void *ud) {
  xport *x = ud;
  x->w = NULL;
  if (rc == LH_EKUBE_HTTP && st->code == 410) rc = LH_EKUBE_GONE;
  lh_informer_on_watch_end(x->inf, rc);
}
static int x_watch(void *t, lh_informer *inf, const char *path) {
  xport *x = t;
  char buf[4096];
  const char *p = path;
  const char *rv = strstr(path, "resourceVersion=");
  if (x->expire_next && rv) {
    const char *rest = rv + strlen("resourceVersion=");
    rest += strcspn(rest, "&");
    snprintf(buf, sizeof(buf), "%.*sresourceVersion=1%s", (int)(rv - path), path, rest);
    p = buf;
    x->expire_next = 0;
    printf("EXPIRE watching from resourceVersion=1\n");
    fflush(stdout);
  }
  lh_kube_watch_opts wo = {x->mode, 0};
  return lh_kube_watch_start(x->a, x->ws, p, &wo, x_event, x_end, x, &x->w);
}
static void x_watch_stop(void *t, lh_informer *inf) {
  xport *x = t;
  lh_kube_watch_stop(x->w);
  x->w = NULL;
}

static int cmd_inform(const lh_kube_config *cfg, const lh_kube_resource *res, const char *ns,
                      const char *mode, int no_origin, int expire_first, long timeout_s) {
  env e;
  if (env_open(&e, cfg, mode, no_origin, NULL) != 0) return 1;
  lh_informer_opts o = {.resource = res, .ns = res->namespaced ? ns : NULL, .watch_timeout_s = 60,
                        .watch_mode = mode_of(mode)};
  xport x = {.a = e.a, .ws = e.ws, .mode = mode_of(mode), .expire_next = 1};
  lh_informer_transport tr = {x_list, x_watch, x_watch_stop, &x};
  if (expire_first) o.transport = &tr;
  lh_informer_handlers h = {on_add, on_upd, on_del, NULL};
  lh_informer *inf;
  if (lh_informer_new(e.loop, e.a, e.ws, &o, &h, &inf) != 0) return 1;
  x.inf = inf;
  g_inf_alive = 1;
  if (lh_informer_start(inf) != 0) return 1;
  uint64_t end = mono_ms() + (uint64_t)timeout_s * 1000;
  int synced = 0;
  const char *shown = "none";
  unsigned long shown_relists = 0, shown_lists = 0;
  while ((!timeout_s || mono_ms() < end) && !g_stop) {
    lh_loop_run_once(e.loop, 100);
    if (!synced && lh_informer_has_synced(inf)) {
      synced = 1;
      printf("SYNCED rv=%s count=%zu\n", lh_informer_last_rv(inf), lh_kube_cache_len(lh_informer_cache(inf)));
    }
    const char *t = expire_first ? (x.w ? lh_kube_watch_transport(x.w) : "none") : lh_informer_watch_transport(inf);
    if (strcmp(t, shown) != 0 && strcmp(t, "connecting") != 0 && strcmp(t, "none") != 0) {
      printf("TRANSPORT %s\n", t);
      shown = t;
    }
    lh_informer_stats st;
    lh_informer_get_stats(inf, &st);
    if (st.lists != shown_lists) printf("LISTS %lu\n", shown_lists = st.lists);
    if (st.relists_410 != shown_relists) printf("RELISTS410 %lu\n", shown_relists = st.relists_410);
    fflush(stdout);
  }
  lh_informer_stats st;
  lh_informer_get_stats(inf, &st);
  printf("STATS lists=%lu watches=%lu relists410=%lu backoffs=%lu events=%lu bookmarks=%lu\n", st.lists,
         st.watches, st.relists_410, st.backoffs, st.events, st.bookmarks);
  fflush(stdout);
  lh_informer_free(inf);
  g_inf_alive = 0;
  env_close(&e);
  return 0;
}

/* --- bindbench -------------------------------------------------------------------------------- */

typedef struct bb {
  long n;
  const char *ns;
  const char *prefix;
  char **node_of;          /* expected node per pod index */
  int *bound_seen;         /* unbound -> bound transitions seen by the informer, per pod */
  int *bind_rc;            /* per pod: 1 ok, -1 failed, 0 pending */
  long bind_ok, bind_err, done, wrong_node, create_err, delete_err, conflicts;
} bb;

static long pod_index(bb *b, const char *name) {
  size_t pl = strlen(b->prefix);
  if (strncmp(name, b->prefix, pl) != 0) return -1;
  char *end;
  long i = strtol(name + pl, &end, 10);
  return *end || i < 0 || i >= b->n ? -1 : i;
}

static void bb_seen(bb *b, const lh_pod *old, const lh_pod *p) {
  if (!p->node || (old && old->node) || strcmp(p->ns, b->ns) != 0) return;
  long i = pod_index(b, p->name);
  if (i < 0) return;
  b->bound_seen[i]++;
  if (strcmp(p->node, b->node_of[i]) != 0) b->wrong_node++;
}
static void bb_add(lh_informer *inf, const void *o, void *d) { bb_seen(d, NULL, o); }
static void bb_upd(lh_informer *inf, const void *a, const void *o, void *d) { bb_seen(d, a, o); }

typedef struct bb_req {
  bb *b;
  long i;
} bb_req;
static bb_req *g_reqs;

static void bb_create_done(lh_kube_async *a, int rc, lh_kube_response *resp, void *data) {
  bb_req *r = data;
  r->b->done++;
  if (rc) {
    r->b->create_err++;
    if (r->b->create_err <= 3) fprintf(stderr, "create %ld: %s %s\n", r->i, lh_kube_strerror(rc), resp->status.message);
  }
}
static void bb_bind_done(lh_kube_async *a, int rc, lh_kube_response *resp, void *data) {
  bb_req *r = data;
  r->b->done++;
  r->b->bind_rc[r->i] = rc == 0 ? 1 : -1;
  if (rc == 0) r->b->bind_ok++;
  else {
    r->b->bind_err++;
    if (r->b->bind_err <= 3) fprintf(stderr, "bind %ld: %s %ld %s\n", r->i, lh_kube_strerror(rc), resp->http_code, resp->status.message);
  }
}
static void bb_rebind_done(lh_kube_async *a, int rc, lh_kube_response *resp, void *data) {
  bb_req *r = data;
  r->b->done++;
  if (rc == LH_EKUBE_HTTP && resp->status.code == 409) r->b->conflicts++;
  else fprintf(stderr, "second bind of pod %ld: expected 409, got %s %ld\n", r->i, lh_kube_strerror(rc), resp->http_code);
}
static void bb_delete_done(lh_kube_async *a, int rc, lh_kube_response *resp, void *data) {
  bb_req *r = data;
  r->b->done++;
  if (rc) r->b->delete_err++;
}

/* Runs the loop until b->done reaches want or the deadline passes. Returns 0 or -1. */
static int bb_wait(env *e, bb *b, long want, uint64_t deadline) {
  while (b->done < want && !g_stop) {
    if (mono_ms() > deadline) return -1;
    lh_loop_run_once(e->loop, 100);
  }
  return b->done >= want ? 0 : -1;
}

static int cmd_bindbench(const lh_kube_config *cfg, const char *ns, long n, long inflight,
                         const char *mode, long timeout_s, int keep) {
  lh_kube_async_opts ao = {.max_connections = inflight < 8 ? inflight : 8, .max_in_flight = inflight};
  env e;
  if (env_open(&e, cfg, mode, 0, &ao) != 0) return 1;
  bb b = {.n = n, .ns = ns};
  char prefix[64];
  snprintf(prefix, sizeof(prefix), "bb%lx-", (unsigned long)(mono_ms() & 0xfffff));
  b.prefix = prefix;
  b.node_of = calloc((size_t)n, sizeof(char *));
  b.bound_seen = calloc((size_t)n, sizeof(int));
  b.bind_rc = calloc((size_t)n, sizeof(int));
  g_reqs = calloc((size_t)n, sizeof(bb_req));
  if (!b.node_of || !b.bound_seen || !b.bind_rc || !g_reqs) return 1;
  uint64_t deadline = mono_ms() + (uint64_t)timeout_s * 1000;
  int ok = 1;
  /* 1. create the pods (async, same in-flight limit) */
  uint64_t t0 = mono_ms();
  for (long i = 0; i < n; i++) {
    char body[1024], node[48];
    snprintf(node, sizeof(node), "bb-node-%03ld", i % 100);
    b.node_of[i] = strdup(node);
    g_reqs[i] = (bb_req){&b, i};
    snprintf(body, sizeof(body),
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s%ld\",\"namespace\":\"%s\","
             "\"labels\":{\"app\":\"bindbench\"}},\"spec\":{\"schedulerName\":\"lahar\",\"containers\":"
             "[{\"name\":\"c\",\"image\":\"busybox\",\"resources\":{\"requests\":{\"cpu\":\"100m\"}}}]}}",
             prefix, i, ns);
    char path[512];
    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods", ns);
    if (lh_kube_async_request(e.a, "POST", path, "application/json", body, strlen(body), bb_create_done, &g_reqs[i]))
      return 1;
  }
  if (bb_wait(&e, &b, n, deadline) || b.create_err) {
    printf("BINDBENCH FAIL created=%ld create_errors=%ld\n", b.done - b.create_err, b.create_err);
    return 1;
  }
  printf("CREATED %ld pods in %.2f s\n", n, (double)(mono_ms() - t0) / 1000.0);
  /* 2. an informer with the compact pod cache sees every binding */
  lh_intern *in = lh_intern_new();
  lh_informer_opts o = {.resource = &LH_KUBE_PODS, .ns = ns, .watch_timeout_s = 300,
                        .transform = lh_pod_transform, .free_obj = lh_pod_free, .transform_ud = in,
                        .watch_mode = mode_of(mode)};
  lh_informer_handlers h = {bb_add, bb_upd, NULL, &b};
  lh_informer *inf;
  if (!in || lh_informer_new(e.loop, e.a, e.ws, &o, &h, &inf) || lh_informer_start(inf)) return 1;
  while (!lh_informer_has_synced(inf) || strcmp(lh_informer_watch_transport(inf), "connecting") == 0) {
    if (mono_ms() > deadline || g_stop) {
      printf("BINDBENCH FAIL informer did not sync\n");
      return 1;
    }
    lh_loop_run_once(e.loop, 100);
  }
  printf("TRANSPORT %s\n", lh_informer_watch_transport(inf));
  /* 3. bind them all, INFLIGHT at a time */
  b.done = 0;
  t0 = mono_ms();
  for (long i = 0; i < n; i++) {
    char name[128];
    snprintf(name, sizeof(name), "%s%ld", prefix, i);
    if (lh_kube_async_bind(e.a, ns, name, b.node_of[i], NULL, bb_bind_done, &g_reqs[i])) return 1;
  }
  int wrc = bb_wait(&e, &b, n, deadline);
  uint64_t t1 = mono_ms();
  double secs = (double)(t1 - t0) / 1000.0;
  /* 4. wait until the informer saw every pod bound */
  long seen = 0;
  while (!g_stop && mono_ms() < deadline) {
    seen = 0;
    for (long i = 0; i < n; i++) seen += b.bound_seen[i] > 0;
    if (seen == n) break;
    lh_loop_run_once(e.loop, 100);
  }
  /* let any duplicate transition arrive before judging "exactly once" */
  for (uint64_t settle = mono_ms() + 500; mono_ms() < settle;) lh_loop_run_once(e.loop, 50);
  long once = 0, twice = 0;
  for (long i = 0; i < n; i++) once += b.bound_seen[i] == 1, twice += b.bound_seen[i] > 1;
  /* 5. a second binding of a few pods must be refused (409): a pod is bound once */
  long sample = n < 20 ? n : 20;
  b.done = 0;
  for (long i = 0; i < sample; i++) {
    char name[128];
    snprintf(name, sizeof(name), "%s%ld", prefix, i * (n / sample));
    g_reqs[i * (n / sample)].i = i * (n / sample);
    if (lh_kube_async_bind(e.a, ns, name, "bb-other-node", NULL, bb_rebind_done, &g_reqs[i * (n / sample)])) return 1;
  }
  bb_wait(&e, &b, sample, deadline);
  size_t objb = lh_pod_cache_bytes(in), ovh = lh_kube_cache_overhead_bytes(lh_informer_cache(inf));
  size_t cached = lh_kube_cache_len(lh_informer_cache(inf));
  printf("CACHE pods=%zu bytes_per_pod=%zu (objects+interned %zu, cache entries/indexes %zu)\n", cached,
         cached ? (objb + ovh) / cached : 0, objb, ovh);
  printf("BINDBENCH pods=%ld inflight=%ld transport=%s bind_ok=%ld bind_errors=%ld bound_seen=%ld "
         "bound_exactly_once=%ld bound_twice=%ld wrong_node=%ld rebind_409=%ld/%ld seconds=%.2f pods_per_s=%.0f\n",
         n, inflight, lh_informer_watch_transport(inf), b.bind_ok, b.bind_err, seen, once, twice, b.wrong_node,
         b.conflicts, sample, secs, secs > 0 ? (double)n / secs : 0.0);
  ok = wrc == 0 && b.bind_ok == n && b.bind_err == 0 && seen == n && once == n && twice == 0 &&
       b.wrong_node == 0 && b.conflicts == sample;
  lh_informer_free(inf);
  lh_intern_free(in);
  /* 6. clean up (grace period 0: no kubelet will confirm) */
  if (!keep) {
    b.done = 0;
    char *body = lh_kube_delete_body(&(lh_kube_delete_opts){NULL, 0, NULL, NULL});
    for (long i = 0; i < n && body; i++) {
      char path[512];
      snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s%ld", ns, prefix, i);
      lh_kube_async_request(e.a, "DELETE", path, "application/json", body, strlen(body), bb_delete_done, &g_reqs[i]);
    }
    free(body);
    bb_wait(&e, &b, n, deadline + 60000);
    if (b.delete_err) printf("DELETE errors=%ld\n", b.delete_err);
  }
  printf(ok ? "BINDBENCH OK\n" : "BINDBENCH FAIL\n");
  for (long i = 0; i < n; i++) free(b.node_of[i]);
  free(b.node_of), free(b.bound_seen), free(b.bind_rc), free(g_reqs);
  env_close(&e);
  return ok ? 0 : 1;
}

/* --- main ------------------------------------------------------------------------------------- */

static int usage(void) {
  fprintf(stderr,
          "usage: lahar-kubewatch [--kubeconfig F] [--ns NS] [--mode auto|ws|http] [--timeout S]\n"
          "                       [--no-origin 1] [--expire-first-watch 1] [--keep 1]\n"
          "  get RES NAME | list RES [LIMIT] | create RES FILE | delete RES NAME | bind POD NODE |\n"
          "  watch RES [RV] | inform RES | bindbench N INFLIGHT\n");
  return 2;
}

int main(int argc, char **argv) {
  const char *kc = NULL, *ns = NULL, *mode = "auto";
  long timeout_s = 0;
  int no_origin = 0, expire_first = 0, keep = 0;
  int i = 1;
  for (; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
    if (i + 1 >= argc) return usage();
    if (strcmp(argv[i], "--kubeconfig") == 0) kc = argv[i + 1];
    else if (strcmp(argv[i], "--ns") == 0) ns = argv[i + 1];
    else if (strcmp(argv[i], "--mode") == 0) mode = argv[i + 1];
    else if (strcmp(argv[i], "--timeout") == 0) timeout_s = atol(argv[i + 1]);
    else if (strcmp(argv[i], "--no-origin") == 0) no_origin = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--expire-first-watch") == 0) expire_first = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--keep") == 0) keep = atoi(argv[i + 1]);
    else return usage();
  }
  if (i + 1 >= argc) return usage();
  const char *cmd = argv[i];
  const lh_kube_resource *res = strcmp(cmd, "bind") == 0 || strcmp(cmd, "bindbench") == 0
                                    ? &LH_KUBE_PODS
                                    : resource_named(argv[i + 1]);
  if (!res) return usage();
  char err[512];
  lh_kube_config *cfg = NULL;
  int rc = kc ? lh_kube_config_load_file(kc, NULL, &cfg, err, sizeof(err)) : lh_kube_config_auto(&cfg, err, sizeof(err));
  if (rc) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  if (!ns) ns = cfg->namespace;
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  if (strcmp(cmd, "inform") == 0) {
    rc = cmd_inform(cfg, res, ns, mode, no_origin, expire_first, timeout_s);
    lh_kube_config_free(cfg);
    return rc;
  }
  if (strcmp(cmd, "watch") == 0) {
    rc = cmd_watch(cfg, res, res->namespaced ? ns : NULL, i + 2 < argc ? argv[i + 2] : NULL, mode,
                   no_origin, timeout_s);
    lh_kube_config_free(cfg);
    return rc;
  }
  if (strcmp(cmd, "bindbench") == 0) {
    if (i + 2 >= argc) return usage();
    rc = cmd_bindbench(cfg, ns, atol(argv[i + 1]), atol(argv[i + 2]), mode, timeout_s ? timeout_s : 600, keep);
    lh_kube_config_free(cfg);
    return rc;
  }
  lh_kube_client *c;
  if (lh_kube_client_new(cfg, NULL, &c) != 0) return 1;
  lh_kube_response r;
  const char *rns = res->namespaced ? ns : NULL;
  if (strcmp(cmd, "get") == 0 && i + 2 < argc) {
    rc = lh_kube_get(c, res, rns, argv[i + 2], &r);
  } else if (strcmp(cmd, "list") == 0) {
    lh_kube_list_opts lo = {.limit = i + 2 < argc ? atol(argv[i + 2]) : 0};
    rc = lh_kube_list(c, res, rns, &lo, &r);
  } else if (strcmp(cmd, "create") == 0 && i + 2 < argc) {
    char *body = NULL;
    if (lh_kube_read_file(argv[i + 2], 1u << 24, &body, NULL) != 0) return 1;
    rc = lh_kube_create(c, res, rns, body, &r);
    free(body);
  } else if (strcmp(cmd, "delete") == 0 && i + 2 < argc) {
    lh_kube_delete_opts d = LH_KUBE_DELETE_OPTS_INIT;
    d.grace_period_seconds = 0;
    rc = lh_kube_delete(c, res, rns, argv[i + 2], &d, &r);
  } else if (strcmp(cmd, "bind") == 0 && i + 2 < argc) {
    rc = lh_kube_bind(c, ns, argv[i + 1], argv[i + 2], NULL, &r);
  } else {
    return usage();
  }
  if (rc == 0) printf("%s\n", r.body ? r.body : "");
  else if (rc == LH_EKUBE_HTTP || rc == LH_EKUBE_GONE)
    fprintf(stderr, "HTTP %ld %s: %s\n", r.http_code, r.status.reason, r.status.message);
  else fprintf(stderr, "%s: %s\n", lh_kube_strerror(rc), r.error);
  lh_kube_response_free(&r);
  lh_kube_client_free(c);
  lh_kube_config_free(cfg);
  return rc ? 1 : 0;
}
