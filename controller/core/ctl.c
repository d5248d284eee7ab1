/* ctl.c — the controller context (see ctl.h): configuration, the loop and clients, the shared
 * informers and their handler fan-out, cache lookups, reconcilers drained on the loop, leader
 * election I/O on a Lease, housekeeping and the run/shutdown path.
 * Sections: helpers · informers · lookups · reconcilers · leader election · lifecycle. */
#include "core/ctl_int.h"

#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define C "ctl"

/* ---- helpers ----------------------------------------------------------------------------- */
static uint64_t mono_ms(void *ud) {
  (void)ud;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
uint64_t lh_ctl_now(lh_ctl *ctl) { return lh_loop_now(ctl->loop); }
int64_t lh_ctl_wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...) {
  if (!err || !errlen) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}


const char *lh_ctl_jstr(const json_t *obj, const char *path) {
  char seg[128];
  const json_t *v = obj;
  const char *p = path;
  while (v && *p) {
    const char *dot = strchr(p, '.');
    size_t n = dot ? (size_t)(dot - p) : strlen(p);
    if (n >= sizeof(seg)) return NULL;
    memcpy(seg, p, n);
    seg[n] = 0;
    v = json_object_get(v, seg);
    p = dot ? dot + 1 : p + n;
  }
  return json_is_string(v) ? json_string_value(v) : NULL;
}

long long lh_ctl_jint(const json_t *obj, const char *path, long long def) {
  char seg[128];
  const json_t *v = obj;
  const char *p = path;
  while (v && *p) {
    const char *dot = strchr(p, '.');
    size_t n = dot ? (size_t)(dot - p) : strlen(p);
    if (n >= sizeof(seg)) return def;
    memcpy(seg, p, n);
    seg[n] = 0;
    v = json_object_get(v, seg);
    p = dot ? dot + 1 : p + n;
  }
  return json_is_integer(v) ? (long long)json_integer_value(v) : def;
}

int lh_ctl_scheduler_ok(const lh_ctl *ctl, const char *name) {
  return name && *name && (!strcmp(name, "volcano") || !strcmp(name, ctl->o.scheduler_name));
}

/* ---- informers --------------------------------------------------------------------------- */
typedef struct fan {
  lh_ctl *ctl;
  lh_ctl_res res;
} fan;
static fan FANS[LH_CTL_NRES]; /* per-process; one lh_ctl per process */

static const json_t *jpath(const json_t *o, const char *a, const char *b) {
  const json_t *v = json_object_get(o, a);
  return b ? json_object_get(v, b) : v;
}
static int jsame(const json_t *a, const json_t *b) { return (!a && !b) || (a && b && json_equal((json_t *)a, (json_t *)b)); }
static const char *node_ready_status(const json_t *n) {
  size_t i;
  const json_t *c;
  json_array_foreach(jpath(n, "status", "conditions"), i, c) {
    const json_t *t = json_object_get(c, "type");
    if (json_is_string(t) && !strcmp(json_string_value(t), "Ready")) {
      const json_t *st = json_object_get(c, "status");
      return json_is_string(st) ? json_string_value(st) : "";
    }
  }
  return NULL;
}
/* 1 when a node update leaves everything the snapshot reads as it was (snap.c: labels,
 * allocatable, taints, unschedulable, the Ready condition's status). Node heartbeats change
 * only timestamps: at thousands of nodes they would otherwise keep cycles running back to
 * back. */
static int node_same_for_sched(const json_t *o, const json_t *n) {
  const char *ro = node_ready_status(o), *rn = node_ready_status(n);
  return jsame(jpath(o, "metadata", "labels"), jpath(n, "metadata", "labels")) &&
         jsame(jpath(o, "status", "allocatable"), jpath(n, "status", "allocatable")) &&
         jsame(jpath(o, "spec", "taints"), jpath(n, "spec", "taints")) &&
         jsame(jpath(o, "spec", "unschedulable"), jpath(n, "spec", "unschedulable")) &&
         ((!ro && !rn) || (ro && rn && !strcmp(ro, rn)));
}

int lh_ctl_queue_same_for_sched(const json_t *o, const json_t *n) {
  const char *so = lh_ctl_jstr(o, "status.state"), *sn = lh_ctl_jstr(n, "status.state");
  return jsame(jpath(o, "spec", NULL), jpath(n, "spec", NULL)) &&
         jsame(jpath(o, "metadata", "annotations"), jpath(n, "metadata", "annotations")) &&
         jsame(jpath(o, "metadata", "deletionTimestamp"), jpath(n, "metadata", "deletionTimestamp")) &&
         ((!so && !sn) || (so && sn && !strcmp(so, sn)));
}

/* Every event that cannot change a decision is dropped here: in a backlog run, Queue status
 * echoes (one per queue write, and a write follows every cycle) kept a cycle running while
 * thousands of binds waited for the loop. */
static void own_event(lh_ctl *ctl, lh_ctl_res res, const void *old_obj, const void *new_obj) {
  switch (res) {
  case LH_CTL_PODS:
    lh_sched_pod_changed(ctl, old_obj, new_obj);
    break;
  case LH_CTL_NODES:
    if (old_obj && new_obj && node_same_for_sched(old_obj, new_obj)) break;
    lh_sched_trigger(ctl, LH_TRIG_NODE);
    break;
  case LH_CTL_PODGROUPS:
    if (!new_obj && old_obj)
      lh_sched_podgroup_gone(ctl, lh_ctl_jstr(old_obj, "metadata.namespace"), lh_ctl_jstr(old_obj, "metadata.name"));
    if (old_obj && new_obj && lh_sched_podgroup_own_write(ctl, old_obj, new_obj)) {
      lh_queue_ctl_enqueue_all(ctl); /* queue counts by phase change; decisions do not */
      break;
    }
    lh_sched_trigger(ctl, LH_TRIG_PODGROUP);
    lh_queue_ctl_enqueue_all(ctl);
    break;
  case LH_CTL_QUEUES:
    if (old_obj && new_obj && lh_ctl_queue_same_for_sched(old_obj, new_obj)) {
      /* only the counts changed (our write, or someone else's): reconcile this queue, which
       * rewrites foreign counts and forgets a write it sees arrived; nothing to recount */
      lh_queue_ctl_enqueue(ctl, lh_ctl_jstr(new_obj, "metadata.name"));
      break;
    }
    lh_sched_trigger(ctl, LH_TRIG_QUEUE);
    lh_queue_ctl_enqueue_all(ctl);
    break;
  default:
    break;
  }
}

static void fan_add(lh_informer *inf, const void *obj, void *data) {
  fan *f = data;
  own_event(f->ctl, f->res, NULL, obj);
  lh_ctl_handlers_list *l = &f->ctl->extra[f->res];
  for (size_t i = 0; i < l->n; i++)
    if (l->h[i].on_add) l->h[i].on_add(inf, obj, l->h[i].data);
}
static void fan_update(lh_informer *inf, const void *o, const void *n, void *data) {
  fan *f = data;
  own_event(f->ctl, f->res, o, n);
  lh_ctl_handlers_list *l = &f->ctl->extra[f->res];
  for (size_t i = 0; i < l->n; i++)
    if (l->h[i].on_update) l->h[i].on_update(inf, o, n, l->h[i].data);
}
static void fan_delete(lh_informer *inf, const void *obj, void *data) {
  fan *f = data;
  own_event(f->ctl, f->res, obj, NULL);
  lh_ctl_handlers_list *l = &f->ctl->extra[f->res];
  for (size_t i = 0; i < l->n; i++)
    if (l->h[i].on_delete) l->h[i].on_delete(inf, obj, l->h[i].data);
}

static const lh_kube_resource *res_desc(lh_ctl_res r) {
  switch (r) {
  case LH_CTL_PODS: return &LH_KUBE_PODS;
  case LH_CTL_NODES: return &LH_KUBE_NODES;
  case LH_CTL_QUEUES: return &LH_KUBE_VOLCANO_QUEUES;
  case LH_CTL_PODGROUPS: return &LH_KUBE_VOLCANO_PODGROUPS;
  case LH_CTL_JOBS: return &LH_KUBE_VOLCANO_JOBS;
  default: return NULL;
  }
}
static const char *RES_NAMES[LH_CTL_NRES] = {"pods", "nodes", "queues", "podgroups", "jobs"};

int lh_ctl_add_handlers(lh_ctl *ctl, lh_ctl_res res, const lh_informer_handlers *h) {
  if (!ctl || !h || ctl->started || (int)res < 0 || res >= LH_CTL_NRES) return LH_EKUBE_INVAL;
  lh_ctl_handlers_list *l = &ctl->extra[res];
  lh_informer_handlers *nh = realloc(l->h, (l->n + 1) * sizeof(*nh));
  if (!nh) return LH_EKUBE_NOMEM;
  nh[l->n++] = *h;
  l->h = nh;
  return 0;
}

lh_informer *lh_ctl_informer(lh_ctl *ctl, lh_ctl_res res) {
  return (int)res >= 0 && res < LH_CTL_NRES ? ctl->inf[res] : NULL;
}
lh_kube_cache *lh_ctl_cache(lh_ctl *ctl, lh_ctl_res res) {
  lh_informer *i = lh_ctl_informer(ctl, res);
  return i ? lh_informer_cache(i) : NULL;
}
int lh_ctl_synced(const lh_ctl *ctl) {
  for (int i = 0; i < LH_CTL_NRES; i++)
    if (!ctl->inf[i] || !lh_informer_has_synced(ctl->inf[i])) return 0;
  return 1;
}
int lh_ctl_is_leader(const lh_ctl *ctl) { return ctl->leading; }
lh_loop *lh_ctl_loop(lh_ctl *ctl) { return ctl->loop; }
lh_kube_async *lh_ctl_async(lh_ctl *ctl) { return ctl->async; }
lh_kube_client *lh_ctl_client(lh_ctl *ctl) { return ctl->client; }
const lh_kube_config *lh_ctl_kube_config(const lh_ctl *ctl) { return ctl->cfg; }
const lh_ctl_opts *lh_ctl_get_opts(const lh_ctl *ctl) { return &ctl->o; }

/* ---- lookups ----------------------------------------------------------------------------- */
const void *lh_ctl_get(lh_ctl *ctl, lh_ctl_res res, const char *ns, const char *name) {
  lh_kube_cache *c = lh_ctl_cache(ctl, res);
  if (!c || !name) return NULL;
  char key[600];
  if (ns && *ns && res_desc(res)->namespaced) snprintf(key, sizeof(key), "%s/%s", ns, name);
  else snprintf(key, sizeof(key), "%s", name);
  return lh_kube_cache_get(c, key);
}
const json_t *lh_ctl_podgroup(lh_ctl *ctl, const char *ns, const char *name) {
  return lh_ctl_get(ctl, LH_CTL_PODGROUPS, ns, name);
}
const json_t *lh_ctl_job(lh_ctl *ctl, const char *ns, const char *name) {
  return lh_ctl_get(ctl, LH_CTL_JOBS, ns, name);
}
const json_t *lh_ctl_queue(lh_ctl *ctl, const char *name) {
  return lh_ctl_get(ctl, LH_CTL_QUEUES, NULL, name);
}

typedef struct by_label {
  const char *ns;
  lh_kube_cache_fn *fn;
  void *ud;
  size_t n;
} by_label;
static void by_label_cb(const char *key, const void *obj, void *ud) {
  by_label *b = ud;
  const lh_pod *p = obj;
  if (b->ns && *b->ns && strcmp(p->ns, b->ns)) return;
  b->n++;
  b->fn(key, obj, b->ud);
}
size_t lh_ctl_pods_by_label(lh_ctl *ctl, const char *ns, const char *k, const char *v,
                            lh_kube_cache_fn *fn, void *ud) {
  lh_kube_cache *c = lh_ctl_cache(ctl, LH_CTL_PODS);
  if (!c || !k || !v || !fn) return 0;
  by_label b = {ns, fn, ud, 0};
  lh_kube_cache_by_label(c, k, v, by_label_cb, &b);
  return b.n;
}

typedef struct call_ctx {
  lh_ctl *ctl;
  void (*fn)(lh_ctl *, void *);
  void *data;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int done;
} call_ctx;
static void call_post(lh_loop *loop, void *d) {
  (void)loop;
  call_ctx *c = d;
  c->fn(c->ctl, c->data);
  pthread_mutex_lock(&c->mu);
  c->done = 1;
  pthread_cond_signal(&c->cv);
  pthread_mutex_unlock(&c->mu);
}
int lh_ctl_call_on_loop(lh_ctl *ctl, void (*fn)(lh_ctl *, void *), void *data) {
  if (!ctl->started || pthread_equal(pthread_self(), ctl->loop_thread)) {
    fn(ctl, data);
    return 0;
  }
  call_ctx c = {ctl, fn, data, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
  int rc = lh_loop_post(ctl->loop, call_post, &c);
  if (rc) return rc;
  pthread_mutex_lock(&c.mu);
  while (!c.done) pthread_cond_wait(&c.cv, &c.mu);
  pthread_mutex_unlock(&c.mu);
  return 0;
}

void lh_ctl_ref_from_json(lh_ctl_ref *ref, const json_t *obj, const char *kind,
                          const char *api_version) {
  ref->kind = kind;
  ref->api_version = api_version;
  ref->ns = lh_ctl_jstr(obj, "metadata.namespace");
  ref->name = lh_ctl_jstr(obj, "metadata.name");
  ref->uid = lh_ctl_jstr(obj, "metadata.uid");
}

/* ---- reconcilers ------------------------------------------------------------------------- */
static long rec_drain(lh_loop *loop, lh_timer *t, void *data) {
  (void)loop;
  (void)t;
  lh_ctl_reconciler *r = data;
  if (r->leader_only && !r->ctl->leading) return 500;
  if (!lh_ctl_synced(r->ctl)) return 100;
  for (int i = 0; i < r->max_per_iteration; i++) {
    char *key = NULL;
    if (lh_wq_get(r->q, &key, 0) != 0) break;
    r->current = key;
    r->requeue_after = -1;
    int rc = r->fn(r->ctl, key, r->data);
    r->current = NULL;
    if (rc < 0) {
      LH_WARN(C, "reconciler %s: %s: %s (retrying)", r->name, key, lh_kube_strerror(rc));
      lh_wq_add_rate_limited(r->q, key);
    } else if (rc == LH_CTL_REQUEUE) {
      lh_wq_add_rate_limited(r->q, key);
    } else {
      lh_wq_forget(r->q, key);
      if (r->requeue_after >= 0) lh_wq_add_after(r->q, key, r->requeue_after);
    }
    lh_wq_done(r->q, key);
    free(key);
  }
  /* sleep until the earliest delayed key is due (an add meanwhile wakes us through rec_wake) */
  long due = lh_wq_next_due(r->q);
  return due < 0 ? LH_TIMER_STOP : due;
}

static void rec_wake_post(lh_loop *loop, void *data) {
  (void)loop;
  lh_ctl_reconciler *r = data;
  __atomic_store_n(&r->wake_posted, 0, __ATOMIC_RELEASE);
  /* the drain may be sleeping until a later delayed key: the new one may be due sooner */
  if (!lh_timer_active(&r->timer) || r->timer.deadline > lh_loop_now(loop))
    lh_timer_start(&r->timer, 0, rec_drain, r);
}

static void rec_wake(lh_ctl_reconciler *r) {
  if (!r->ctl->started || pthread_equal(pthread_self(), r->ctl->loop_thread)) {
    if (!lh_timer_active(&r->timer) || r->timer.deadline > lh_loop_now(r->ctl->loop))
      lh_timer_start(&r->timer, 0, rec_drain, r);
    return;
  }
  if (!__atomic_exchange_n(&r->wake_posted, 1, __ATOMIC_ACQ_REL))
    lh_loop_post(r->ctl->loop, rec_wake_post, r);
}

int lh_ctl_add_reconciler(lh_ctl *ctl, const lh_ctl_reconciler_opts *o, lh_ctl_reconciler **out) {
  if (!ctl || !o || !o->fn || ctl->started) return LH_EKUBE_INVAL;
  lh_ctl_reconciler *r = calloc(1, sizeof(*r));
  lh_ctl_reconciler **nr = realloc(ctl->recs, (ctl->nrecs + 1) * sizeof(*nr));
  if (!r || !nr) {
    free(r);
    if (nr) ctl->recs = nr;
    return LH_EKUBE_NOMEM;
  }
  ctl->recs = nr;
  r->ctl = ctl;
  r->name = strdup(o->name ? o->name : "reconciler");
  r->fn = o->fn;
  r->data = o->data;
  r->max_per_iteration = o->max_per_iteration > 0 ? o->max_per_iteration : 64;
  r->leader_only = o->leader_only;
  r->q = lh_wq_new(&o->wq);
  if (!r->name || !r->q) {
    free(r->name);
    lh_wq_free(r->q);
    free(r);
    return LH_EKUBE_NOMEM;
  }
  lh_timer_init(ctl->loop, &r->timer);
  ctl->recs[ctl->nrecs++] = r;
  if (out) *out = r;
  return 0;
}

int lh_ctl_enqueue(lh_ctl_reconciler *r, const char *key) {
  int rc = lh_wq_add(r->q, key);
  if (!rc) rec_wake(r);
  return rc == LH_EKUBE_CLOSED ? 0 : rc;
}
int lh_ctl_enqueue_after(lh_ctl_reconciler *r, const char *key, long delay_ms) {
  int rc = lh_wq_add_after(r->q, key, delay_ms);
  if (!rc) rec_wake(r);
  return rc == LH_EKUBE_CLOSED ? 0 : rc;
}
void lh_ctl_requeue_after(lh_ctl_reconciler *r, const char *key, long delay_ms) {
  if (r->current && !strcmp(r->current, key)) r->requeue_after = delay_ms < 0 ? 0 : delay_ms;
  else lh_ctl_enqueue_after(r, key, delay_ms);
}
lh_wq *lh_ctl_reconciler_queue(lh_ctl_reconciler *r) { return r->q; }

static void recs_kick(lh_ctl *ctl) {
  for (size_t i = 0; i < ctl->nrecs; i++)
    if (lh_wq_len(ctl->recs[i]->q) || lh_wq_delayed(ctl->recs[i]->q)) rec_wake(ctl->recs[i]);
}

/* ---- leader election I/O ----------------------------------------------------------------- */
static int le_path(lh_ctl *ctl, lh_buf *b, int with_name) {
  return lh_buf_addf(b, "/apis/coordination.k8s.io/v1/namespaces/%s/leases%s%s", ctl->o.le_namespace,
                     with_name ? "/" : "", with_name ? ctl->o.le_name : "");
}

static void set_leading(lh_ctl *ctl, int leading) {
  if (ctl->leading == leading) return;
  ctl->leading = leading;
  ctl->met.leader = leading;
  if (leading) LH_INFO(C, "became leader (lease %s/%s, identity %s)", ctl->o.le_namespace, ctl->o.le_name, ctl->identity);
  else LH_WARN(C, "lost leadership (lease %s/%s): scheduling stopped", ctl->o.le_namespace, ctl->o.le_name);
  lh_sched_on_leading(ctl, leading);
  if (leading) {
    lh_queue_ctl_on_leading(ctl);
    recs_kick(ctl);
  }
}

typedef struct le_write {
  lh_ctl *ctl;
  lh_le_record rec;
} le_write;

static void le_write_done(lh_kube_async *a, int rc, lh_kube_response *resp, void *data) {
  (void)a;
  le_write *w = data;
  lh_ctl *ctl = w->ctl;
  ctl->le_busy = 0;
  if (rc == LH_EKUBE_CLOSED) {
    free(w);
    return;
  }
  lh_le_record got = w->rec;
  int ok = rc == 0;
  if (ok) {
    json_t *doc = json_loadb(resp->body ? resp->body : "", resp->len, 0, NULL);
    if (!doc || lh_le_record_from_json(doc, &got)) ok = 0;
    json_decref(doc);
  } else {
    LH_DEBUG(C, "lease write failed: %s %d %s", lh_kube_strerror(rc), resp->status.code, resp->status.reason);
  }
  lh_le_on_write(&ctl->le, lh_ctl_now(ctl), ok, &got);
  set_leading(ctl, ctl->le.leading);
  free(w);
}

static void le_get_done(lh_kube_async *a, int rc, lh_kube_response *resp, void *data) {
  lh_ctl *ctl = data;
  if (rc == LH_EKUBE_CLOSED) return;
  uint64_t now = lh_ctl_now(ctl);
  int exists = 1;
  lh_le_record got;
  memset(&got, 0, sizeof(got));
  if (rc == LH_EKUBE_HTTP && resp->status.code == 404) {
    exists = 0;
  } else if (rc != 0) {
    LH_WARN(C, "lease get failed: %s (%s)", lh_kube_strerror(rc), resp->status.reason[0] ? resp->status.reason : resp->error);
    ctl->le_busy = 0;
    lh_le_tick(&ctl->le, now);
    set_leading(ctl, ctl->le.leading);
    return;
  } else {
    json_t *doc = json_loadb(resp->body ? resp->body : "", resp->len, 0, NULL);
    int bad = !doc || lh_le_record_from_json(doc, &got);
    json_decref(doc);
    if (bad) {
      ctl->le_busy = 0;
      LH_WARN(C, "lease %s/%s: unreadable answer", ctl->o.le_namespace, ctl->o.le_name);
      return;
    }
  }
  char wall[40];
  lh_le_microtime(lh_ctl_wall_ms(), wall, sizeof(wall));
  le_write *w = calloc(1, sizeof(*w));
  if (!w) {
    ctl->le_busy = 0;
    return;
  }
  w->ctl = ctl;
  lh_le_action act = lh_le_decide(&ctl->le, now, exists, &got, wall, &w->rec);
  if (act == LH_LE_NOOP) {
    free(w);
    ctl->le_busy = 0;
    lh_le_tick(&ctl->le, now);
    set_leading(ctl, ctl->le.leading);
    return;
  }
  json_t *obj = lh_le_record_to_json(&w->rec, ctl->o.le_namespace, ctl->o.le_name);
  char *body = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
  json_decref(obj);
  lh_buf p;
  lh_buf_init(&p, 1024);
  int r = body ? le_path(ctl, &p, act == LH_LE_UPDATE) : LH_EKUBE_NOMEM;
  if (!r)
    r = lh_kube_async_request(a, act == LH_LE_CREATE ? "POST" : "PUT", lh_buf_str(&p),
                              "application/json", body, strlen(body), le_write_done, w);
  lh_buf_free(&p);
  free(body);
  if (r) {
    free(w);
    ctl->le_busy = 0;
  }
}

static long le_timer_cb(lh_loop *loop, lh_timer *t, void *data) {
  (void)loop;
  (void)t;
  lh_ctl *ctl = data;
  lh_le_tick(&ctl->le, lh_ctl_now(ctl));
  set_leading(ctl, ctl->le.leading);
  if (ctl->le_busy) return ctl->o.le_retry_ms;
  lh_buf p;
  lh_buf_init(&p, 1024);
  if (!le_path(ctl, &p, 1)) {
    ctl->le_busy = 1;
    if (lh_kube_async_request(ctl->ctl_async, "GET", lh_buf_str(&p), NULL, NULL, 0, le_get_done, ctl))
      ctl->le_busy = 0;
  }
  lh_buf_free(&p);
  /* a leader renews every retry period; a candidate also polls every retry period */
  return ctl->o.le_retry_ms;
}

static const lh_kube_resource LH_KUBE_COORD_LEASES_LOCAL = {"coordination.k8s.io", "v1", "leases", 1};

/* Gives the lease up on a clean shutdown (client-go's ReleaseOnCancel), so a standby takes
 * over at its next retry instead of after the lease duration. Best effort, blocking. */
static void le_release(lh_ctl *ctl) {
  if (!ctl->o.leader_elect || !ctl->le.leading) return;
  lh_le_record r = ctl->le.obs;
  r.holder[0] = 0;
  r.duration_s = 1;
  json_t *obj = lh_le_record_to_json(&r, ctl->o.le_namespace, ctl->o.le_name);
  char *body = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
  json_decref(obj);
  lh_kube_response resp = {0};
  if (body && !lh_kube_update(ctl->client, &LH_KUBE_COORD_LEASES_LOCAL, ctl->o.le_namespace,
                              ctl->o.le_name, NULL, body, &resp))
    LH_INFO(C, "released lease %s/%s", ctl->o.le_namespace, ctl->o.le_name);
  lh_kube_response_free(&resp);
  free(body);
  ctl->leading = 0;
}

/* Cache sizes for /metrics (walks the caches: computed per scrape, not per tick). */
void lh_ctl_update_cache_metrics(lh_ctl *ctl) {
  ctl->met.n_watch = LH_CTL_NRES;
  for (int i = 0; i < LH_CTL_NRES; i++) {
    ctl->met.watch_names[i] = RES_NAMES[i];
    ctl->met.cache_objects[i] = lh_kube_cache_len(lh_ctl_cache(ctl, (lh_ctl_res)i));
    ctl->met.cache_overhead[i] = lh_kube_cache_overhead_bytes(lh_ctl_cache(ctl, (lh_ctl_res)i));
  }
  ctl->met.pod_cache_bytes = lh_pod_cache_bytes(ctl->intern);
}

/* ---- lifecycle --------------------------------------------------------------------------- */
static void sig_readable(lh_loop *loop, int fd, int events, void *data) {
  (void)events;
  (void)data;
  char b[16];
  while (read(fd, b, sizeof(b)) > 0) {
  }
  lh_loop_stop(loop);
}

static long tick_cb(lh_loop *loop, lh_timer *t, void *data) {
  (void)loop;
  (void)t;
  lh_ctl *ctl = data;
  int synced = lh_ctl_synced(ctl);
  ctl->met.ready = synced;
  if (synced && !ctl->synced_logged) {
    ctl->synced_logged = 1;
    LH_INFO(C, "informers synced (%zu pods, %zu nodes, %zu queues, %zu podgroups, %zu jobs)",
            lh_kube_cache_len(lh_ctl_cache(ctl, LH_CTL_PODS)), lh_kube_cache_len(lh_ctl_cache(ctl, LH_CTL_NODES)),
            lh_kube_cache_len(lh_ctl_cache(ctl, LH_CTL_QUEUES)), lh_kube_cache_len(lh_ctl_cache(ctl, LH_CTL_PODGROUPS)),
            lh_kube_cache_len(lh_ctl_cache(ctl, LH_CTL_JOBS)));
    lh_queue_ctl_on_leading(ctl);
    lh_sched_trigger(ctl, LH_TRIG_LEADER);
    recs_kick(ctl);
  }
  ctl->met.n_watch = LH_CTL_NRES;
  for (int i = 0; i < LH_CTL_NRES; i++) {
    lh_informer_stats st;
    lh_informer_get_stats(ctl->inf[i], &st);
    ctl->met.watch_names[i] = RES_NAMES[i];
    ctl->met.watch_restarts[i] = st.watches > 0 ? st.watches - 1 : 0;
  }
  lh_sched_housekeeping(ctl);
  return synced ? 1000 : 100;
}

static lh_ctl *g_sig_ctl;
static void on_signal(int sig) {
  (void)sig;
  if (g_sig_ctl) lh_ctl_shutdown(g_sig_ctl);
}

int lh_ctl_new(const lh_ctl_opts *o, lh_ctl **out, char *err, size_t errlen) {
  *out = NULL;
  lh_ctl *ctl = calloc(1, sizeof(*ctl));
  if (!ctl) return seterr(err, errlen, "out of memory"), LH_EKUBE_NOMEM;
  ctl->o = *o;
  ctl->sig_pipe[0] = ctl->sig_pipe[1] = -1;
  ctl->leading = !o->leader_elect;
  ctl->met.leader = ctl->leading;
  lh_metrics_init(&ctl->met);
  ctl->met.leader = ctl->leading;
  if (o->le_identity) snprintf(ctl->identity, sizeof(ctl->identity), "%s", o->le_identity);
  else {
    char host[100] = "lahar";
    gethostname(host, sizeof(host) - 1);
    snprintf(ctl->identity, sizeof(ctl->identity), "%s_%ld", host, (long)getpid());
  }
  char cerr[256] = "";
  int rc = o->kubeconfig ? lh_kube_config_load_file(o->kubeconfig, NULL, &ctl->cfg, cerr, sizeof(cerr))
                         : lh_kube_config_in_cluster(NULL, &ctl->cfg, cerr, sizeof(cerr));
  if (rc) {
    seterr(err, errlen, "%s: %s", o->kubeconfig ? "--kubeconfig" : "in-cluster configuration", cerr);
    lh_ctl_free(ctl);
    return LH_EKUBE_CONFIG;
  }
  ctl->loop = lh_loop_new();
  ctl->intern = lh_intern_new();
  if (!ctl->loop || !ctl->intern) goto nomem;
  lh_loop_set_clock(ctl->loop, mono_ms, NULL);
  lh_kube_async_opts ao = {0};
  /* Binds are the write path that sets lahar's rate. Over TLS, HTTP/2 multiplexes many binds on
   * few connections (measured 1.8x the bind rate of 8 HTTP/1.1 connections on a real 1.20
   * apiserver). Over plain HTTP/1.1 one connection carries one request at a time, so never
   * hand curl more transfers than connections: queued transfers would run out their connect
   * timeout inside curl before they start. */
  int tls = ctl->cfg->server && strncmp(ctl->cfg->server, "https://", 8) == 0;
  ao.http2 = tls;
  ao.max_connections = tls ? 8 : 32;
  ao.max_in_flight = o->max_binds_in_flight > 0 ? o->max_binds_in_flight : (tls ? 256 : 32);
  ao.max_response = 512u << 20; /* list pages of large objects (default cap 64 MiB) */
  ao.timeout_ms = 120000;       /* a 5000-pod page from a busy server can take > 30 s */
  /* control writes: a few at a time on their own connections; a lease renewal must not wait
   * behind binds either, or a busy leader loses its lease */
  lh_kube_async_opts co = {0};
  co.http2 = tls;
  co.max_connections = 2;
  co.max_in_flight = tls ? 32 : 2;
  co.timeout_ms = 30000;
  if ((rc = lh_kube_async_new(ctl->loop, ctl->cfg, &ao, &ctl->async)) ||
      (rc = lh_kube_async_new(ctl->loop, ctl->cfg, &co, &ctl->ctl_async)) ||
      (rc = lh_kube_client_new(ctl->cfg, NULL, &ctl->client))) {
    seterr(err, errlen, "kube client: %s", lh_kube_strerror(rc));
    lh_ctl_free(ctl);
    return rc;
  }
  if (lh_kube_wsclient_new(ctl->loop, ctl->cfg, &ctl->ws)) {
    LH_WARN(C, "websocket watch unavailable, watching over chunked HTTP");
    ctl->ws = NULL;
  }
  lh_informer_handlers h = {fan_add, fan_update, fan_delete, NULL};
  for (int i = 0; i < LH_CTL_NRES; i++) {
    lh_informer_opts io;
    memset(&io, 0, sizeof(io));
    io.resource = res_desc((lh_ctl_res)i);
    /* Large pages: each list request has a fixed server cost (a paged list re-counts what
     * remains on a local cluster, etcd range reads on a real one), so 500-object pages make
     * the first sync of 140,000 pods take minutes; 5000 keeps a page under ~10 MB of JSON. */
    io.page_limit = o->list_page_size > 0 ? o->list_page_size : 5000;
    if (i == LH_CTL_PODS) {
      io.transform = lh_pod_transform;
      io.free_obj = lh_pod_free;
      io.transform_ud = ctl->intern;
    }
    FANS[i].ctl = ctl;
    FANS[i].res = (lh_ctl_res)i;
    h.data = &FANS[i];
    if ((rc = lh_informer_new(ctl->loop, ctl->async, ctl->ws, &io, &h, &ctl->inf[i]))) {
      seterr(err, errlen, "informer %s: %s", RES_NAMES[i], lh_kube_strerror(rc));
      lh_ctl_free(ctl);
      return rc;
    }
  }
  lh_timer_init(ctl->loop, &ctl->le_timer);
  lh_timer_init(ctl->loop, &ctl->tick);
  lh_le_init(&ctl->le, ctl->identity, o->le_lease_ms, o->le_renew_ms, o->le_retry_ms);
  if ((rc = lh_events_new(ctl)) || (rc = lh_queue_ctl_new(ctl))) goto nomem;
  if ((rc = lh_sched_new(ctl, err, errlen))) {
    lh_ctl_free(ctl);
    return rc;
  }
  *out = ctl;
  return 0;
nomem:
  seterr(err, errlen, "out of memory");
  lh_ctl_free(ctl);
  return LH_EKUBE_NOMEM;
}

int lh_ctl_start(lh_ctl *ctl, char *err, size_t errlen) {
  ctl->loop_thread = pthread_self();
  if (pipe2(ctl->sig_pipe, O_NONBLOCK | O_CLOEXEC)) return seterr(err, errlen, "pipe failed"), LH_EKUBE_NOMEM;
  lh_loop_fd_set(ctl->loop, ctl->sig_pipe[0], LH_READABLE, sig_readable, ctl);
  g_sig_ctl = ctl;
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  if (ctl->o.metrics_listen) {
    int rc = lh_http_start(ctl, ctl->o.metrics_listen, err, errlen);
    if (rc) return rc;
  }
  ctl->started = 1;
  for (int i = 0; i < LH_CTL_NRES; i++) {
    int rc = lh_informer_start(ctl->inf[i]);
    if (rc) return seterr(err, errlen, "informer %s: %s", RES_NAMES[i], lh_kube_strerror(rc)), rc;
  }
  if (ctl->o.leader_elect) {
    LH_INFO(C, "leader election on lease %s/%s as %s (lease %ldms, renew %ldms, retry %ldms)",
            ctl->o.le_namespace, ctl->o.le_name, ctl->identity, ctl->o.le_lease_ms, ctl->o.le_renew_ms,
            ctl->o.le_retry_ms);
    lh_timer_start(&ctl->le_timer, 0, le_timer_cb, ctl);
  }
  lh_timer_start(&ctl->tick, 100, tick_cb, ctl);
  return 0;
}

int lh_ctl_run(lh_ctl *ctl) {
  ctl->loop_thread = pthread_self();
  return lh_loop_run(ctl->loop);
}

void lh_ctl_shutdown(lh_ctl *ctl) {
  if (ctl->sig_pipe[1] >= 0) {
    int e = errno;
    ssize_t w = write(ctl->sig_pipe[1], "x", 1);
    (void)w;
    errno = e;
  }
}

void lh_ctl_free(lh_ctl *ctl) {
  if (!ctl) return;
  if (ctl->client) le_release(ctl);
  g_sig_ctl = NULL;
  lh_http_free(ctl);
  if (ctl->loop) {
    lh_timer_stop(&ctl->le_timer);
    lh_timer_stop(&ctl->tick);
  }
  for (size_t i = 0; i < ctl->nrecs; i++) {
    lh_ctl_reconciler *r = ctl->recs[i];
    lh_timer_stop(&r->timer);
    lh_wq_shutdown(r->q);
    lh_wq_free(r->q);
    free(r->name);
    free(r);
  }
  free(ctl->recs);
  for (int i = 0; i < LH_CTL_NRES; i++) lh_informer_free(ctl->inf[i]);
  lh_sched_free(ctl);
  lh_queue_ctl_free(ctl);
  lh_events_free(ctl);
  lh_kube_async_free(ctl->async); /* callbacks of pending requests run with LH_EKUBE_CLOSED */
  lh_kube_async_free(ctl->ctl_async);
  lh_kube_wsclient_free(ctl->ws);
  for (int i = 0; i < LH_CTL_NRES; i++) free(ctl->extra[i].h);
  lh_kube_client_free(ctl->client);
  if (ctl->sig_pipe[0] >= 0) {
    if (ctl->loop) lh_loop_fd_del(ctl->loop, ctl->sig_pipe[0]);
    close(ctl->sig_pipe[0]);
    close(ctl->sig_pipe[1]);
  }
  lh_loop_free(ctl->loop);
  if (ctl->intern) lh_intern_free(ctl->intern);
  lh_kube_config_free(ctl->cfg);
  lh_metrics_free(&ctl->met);
  free(ctl);
}
