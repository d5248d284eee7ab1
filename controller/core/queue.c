/* queue.c — the Queue reconciler: status (state, group counts by phase — PodGroups and our
 * plain pods as groups of one, as Volcano counts the PodGroups it creates for them —, allocated and
 * deserved from the last scheduling cycle), Open/Closed/Closing with draining, and the
 * `default` queue created when missing. Writes only while leading. */
#include "core/queue.h"

#include "core/ctl_int.h"
#include "core/snap.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define C "queue"

struct lh_queue_ctl {
  lh_ctl_reconciler *rec;
  int default_done;
  json_t *counts; /* queue -> [pending, inqueue, running, unknown, completed], one pass */
  int dirty;      /* counts must be recomputed */
  json_t *sending;/* queue -> status patch body sent and not yet seen in the cache: the same
                   * write is not sent again while it is on its way (a slow server or a busy
                   * loop would otherwise pile up one identical write per reconcile) */
};

typedef struct patch_req {
  lh_ctl *ctl;
  char name[254];
} patch_req;

/* Queue status writes wait this long after a change, so a burst of changes (a cycle binding
 * thousands of pods, a relist) costs one pass over the caches and one write per queue. */
#define QUEUE_STATUS_DELAY_MS 200

const char *lh_queue_state(const json_t *q, const lh_queue_counts *c) {
  const char *want = lh_ctl_jstr(q, "spec.state");
  const char *cur = lh_ctl_jstr(q, "status.state");
  int closing = (want && !strcmp(want, "Closed")) ||
                (!want && cur && (!strcmp(cur, "Closed") || !strcmp(cur, "Closing")));
  if (!closing) return "Open";
  int busy = c->pending + c->inqueue + c->running + c->unknown;
  if (cur && !strcmp(cur, "Closed") && !(want && !strcmp(want, "Closed")) ) return "Closed";
  return busy ? "Closing" : "Closed";
}

void lh_queue_qty(char *out, size_t n, int64_t v, int milli) {
  if (milli && v % 1000) snprintf(out, n, "%lldm", (long long)v);
  else snprintf(out, n, "%lld", (long long)(milli ? v / 1000 : v));
}

static json_t *res_obj(const int64_t *v) {
  static const char *K[3] = {"cpu", "memory", "nvidia.com/gpu"};
  json_t *o = json_object();
  for (int i = 0; o && i < 3; i++) {
    if (v[i] < 0) continue;
    char b[32];
    lh_queue_qty(b, sizeof(b), v[i], i == 0);
    json_object_set_new(o, K[i], json_string(b));
  }
  return o;
}

json_t *lh_queue_status(const json_t *q, const lh_queue_counts *c, const int64_t *share) {
  json_t *st = json_pack("{s:s, s:i, s:i, s:i, s:i, s:i}", "state", lh_queue_state(q, c), "pending", c->pending,
                         "inqueue", c->inqueue, "running", c->running, "unknown", c->unknown, "completed",
                         c->completed);
  if (st && share) {
    json_object_set_new(st, "deserved", res_obj(share));
    json_object_set_new(st, "allocated", res_obj(share + 3));
  }
  return st;
}

int lh_queue_status_equal(const json_t *q, const json_t *want) {
  const json_t *cur = json_object_get(q, "status");
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)want, k, v) if (!json_equal(json_object_get(cur, k), (json_t *)v)) return 0;
  return 1;
}

void lh_queue_count_phase(lh_queue_counts *c, const char *ph) {
  if (!ph || !*ph || !strcmp(ph, "Pending")) c->pending++;
  else if (!strcmp(ph, "Inqueue")) c->inqueue++;
  else if (!strcmp(ph, "Running")) c->running++;
  else if (!strcmp(ph, "Unknown")) c->unknown++;
  else if (!strcmp(ph, "Completed")) c->completed++;
}

const char *lh_queue_single_pod_phase(const struct lh_pod *p) {
  if (p->group) return NULL; /* counted through its PodGroup */
  if (p->phase == LH_POD_SUCCEEDED || p->phase == LH_POD_FAILED) return "Completed";
  if (p->node) return "Running";
  if (p->deletion_ts) return NULL; /* pending and going away */
  return "Pending";
}

static void count_add(json_t *counts, const char *q, const char *ph) {
  json_t *a = json_object_get(counts, q);
  if (!a) {
    a = json_pack("[i,i,i,i,i]", 0, 0, 0, 0, 0);
    if (!a || json_object_set_new(counts, q, a)) return;
  }
  lh_queue_counts c = {(int)json_integer_value(json_array_get(a, 0)), (int)json_integer_value(json_array_get(a, 1)),
                       (int)json_integer_value(json_array_get(a, 2)), (int)json_integer_value(json_array_get(a, 3)),
                       (int)json_integer_value(json_array_get(a, 4))};
  lh_queue_count_phase(&c, ph);
  int v[5] = {c.pending, c.inqueue, c.running, c.unknown, c.completed};
  for (size_t i = 0; i < 5; i++) json_integer_set(json_array_get(a, i), v[i]);
}
static void count_pg(const char *key, const void *obj, void *ud) {
  (void)key;
  const char *q = lh_ctl_jstr(obj, "spec.queue");
  count_add(ud, q && *q ? q : "default", lh_ctl_jstr(obj, "status.phase"));
}
typedef struct pod_count_ctx {
  lh_ctl *ctl;
  json_t *counts;
} pod_count_ctx;
static void count_pod(const char *key, const void *obj, void *ud) {
  (void)key;
  pod_count_ctx *pc = ud;
  const lh_pod *p = obj;
  if (!lh_ctl_scheduler_ok(pc->ctl, p->scheduler)) return;
  const char *ph = lh_queue_single_pod_phase(p);
  if (!ph) return;
  const char *q = lh_snap_pod_queue(p);
  /* as the snapshot does: an unknown queue means "default" */
  if (!q || !lh_ctl_queue(pc->ctl, q)) q = "default";
  count_add(pc->counts, q, ph);
}

/* PodGroups and groups of one (our plain pods) per queue, in one pass over both caches. */
static void recount(lh_ctl *ctl) {
  lh_queue_ctl *qc = ctl->qctl;
  if (!qc->dirty && qc->counts) return;
  json_t *counts = json_object();
  if (!counts) return;
  lh_kube_cache_each(lh_ctl_cache(ctl, LH_CTL_PODGROUPS), count_pg, counts);
  pod_count_ctx pc = {ctl, counts};
  lh_kube_cache_each(lh_ctl_cache(ctl, LH_CTL_PODS), count_pod, &pc);
  json_decref(qc->counts);
  qc->counts = counts;
  qc->dirty = 0;
}

static void patch_done(lh_kube_async *a, int rc, lh_kube_response *resp, void *data) {
  (void)a;
  patch_req *r = data;
  const char *name = r->name;
  /* a failed write is sent again; a good one stays recorded until the cache shows it */
  if (rc && rc != LH_EKUBE_CLOSED && r->ctl->qctl) json_object_del(r->ctl->qctl->sending, name);
  if (rc && rc != LH_EKUBE_CLOSED)
    LH_WARN(C, "queue %s status update failed: %d %s: %.200s", name, resp->status.code,
            resp->status.reason[0] ? resp->status.reason : lh_kube_strerror(rc),
            resp->status.message[0] ? resp->status.message : resp->error);
  else if (!rc)
    LH_DEBUG(C, "queue %s status written", name);
  free(r);
}

typedef struct count_ctx {
  const char *queue;
  lh_queue_counts c;
} count_ctx;

static int reconcile(lh_ctl *ctl, const char *key, void *data) {
  (void)data;
  const json_t *q = lh_ctl_queue(ctl, key);
  if (!q) return 0;
  recount(ctl);
  count_ctx cc = {key, {0}};
  json_t *a = ctl->qctl->counts ? json_object_get(ctl->qctl->counts, key) : NULL;
  if (a) {
    cc.c.pending = (int)json_integer_value(json_array_get(a, 0));
    cc.c.inqueue = (int)json_integer_value(json_array_get(a, 1));
    cc.c.running = (int)json_integer_value(json_array_get(a, 2));
    cc.c.unknown = (int)json_integer_value(json_array_get(a, 3));
    cc.c.completed = (int)json_integer_value(json_array_get(a, 4));
  }
  const json_t *sh = lh_sched_queue_shares(ctl) ? json_object_get(lh_sched_queue_shares(ctl), key) : NULL;
  int64_t share[6];
  for (int i = 0; i < 6 && sh; i++) share[i] = (int64_t)json_integer_value(json_array_get(sh, (size_t)i));
  json_t *st = lh_queue_status(q, &cc.c, sh ? share : NULL);
  if (!st) return LH_EKUBE_NOMEM;
  if (lh_queue_status_equal(q, st)) {
    json_decref(st);
    json_object_del(ctl->qctl->sending, key);
    return 0;
  }
  char state[16]; /* st is gone with the patch below */
  snprintf(state, sizeof(state), "%s", json_string_value(json_object_get(st, "state")));
  json_t *patch = json_pack("{s:o}", "status", st);
  char *body = patch ? json_dumps(patch, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
  json_decref(patch);
  if (!body) return LH_EKUBE_NOMEM;
  const char *inflight = json_string_value(json_object_get(ctl->qctl->sending, key));
  if (inflight && !strcmp(inflight, body)) { /* already on its way */
    free(body);
    return 0;
  }
  const char *old = lh_ctl_jstr(q, "status.state");
  const char *now = state;
  if (!old || strcmp(old, now)) {
    LH_INFO(C, "queue %s: state %s -> %s", key, old ? old : "(none)", now);
    lh_ctl_ref ref;
    lh_ctl_ref_from_json(&ref, q, "Queue", "scheduling.volcano.sh/v1beta1");
    lh_ctl_event(ctl, &ref, LH_CTL_EVENT_NORMAL, now, "queue %s is %s", key, now);
  }
  lh_buf p;
  lh_buf_init(&p, 1024);
  patch_req *r = calloc(1, sizeof(*r));
  int rc = r && strlen(key) < sizeof(r->name) ? lh_kube_path(&p, &LH_KUBE_VOLCANO_QUEUES, NULL, key, "status")
                                              : LH_EKUBE_NOMEM;
  if (!rc) {
    r->ctl = ctl;
    snprintf(r->name, sizeof(r->name), "%s", key);
    rc = lh_kube_async_request(ctl->ctl_async, "PATCH", lh_buf_str(&p), lh_kube_patch_content_type(LH_PATCH_MERGE),
                               body, strlen(body), patch_done, r);
  }
  if (rc) free(r);
  else json_object_set_new(ctl->qctl->sending, key, json_string(body));
  lh_buf_free(&p);
  free(body);
  return rc;
}

int lh_queue_ctl_new(lh_ctl *ctl) {
  lh_queue_ctl *qc = calloc(1, sizeof(*qc));
  if (!qc) return LH_EKUBE_NOMEM;
  ctl->qctl = qc;
  if (!(qc->sending = json_object())) return LH_EKUBE_NOMEM;
  lh_ctl_reconciler_opts o;
  memset(&o, 0, sizeof(o));
  o.name = "queues";
  o.fn = reconcile;
  o.leader_only = 1;
  o.wq.qps = -1;
  return lh_ctl_add_reconciler(ctl, &o, &qc->rec);
}

void lh_queue_ctl_free(lh_ctl *ctl) {
  if (ctl->qctl) json_decref(ctl->qctl->counts), json_decref(ctl->qctl->sending);
  free(ctl->qctl);
  ctl->qctl = NULL;
}

static void enq(const char *key, const void *obj, void *ud) {
  (void)obj;
  lh_ctl_enqueue_after(ud, key, QUEUE_STATUS_DELAY_MS);
}
void lh_queue_ctl_enqueue_all(lh_ctl *ctl) {
  if (!ctl->qctl || !ctl->qctl->rec) return;
  ctl->qctl->dirty = 1;
  if (!ctl->leading) return;
  lh_kube_cache_each(lh_ctl_cache(ctl, LH_CTL_QUEUES), enq, ctl->qctl->rec);
}

void lh_queue_ctl_enqueue(lh_ctl *ctl, const char *name) {
  if (!ctl->qctl || !ctl->qctl->rec || !name || !ctl->leading) return;
  lh_ctl_enqueue_after(ctl->qctl->rec, name, QUEUE_STATUS_DELAY_MS);
}

static void create_done(lh_kube_async *a, int rc, lh_kube_response *resp, void *data) {
  (void)a;
  lh_ctl *ctl = data;
  if (rc == LH_EKUBE_CLOSED) return;
  if (rc == 0) LH_INFO(C, "created queue default");
  else if (resp->status.code != 409) {
    LH_WARN(C, "creating queue default failed: %d %s", resp->status.code, resp->status.reason);
    ctl->qctl->default_done = 0;
  }
}

/* Called when we become leader and when the informers first sync. */
void lh_queue_ctl_on_leading(lh_ctl *ctl) {
  lh_queue_ctl *qc = ctl->qctl;
  if (!qc || !ctl->leading || !lh_ctl_synced(ctl)) return;
  lh_queue_ctl_enqueue_all(ctl);
  if (qc->default_done || lh_ctl_queue(ctl, "default")) return;
  qc->default_done = 1;
  static const char body[] = "{\"apiVersion\":\"scheduling.volcano.sh/v1beta1\",\"kind\":\"Queue\","
                             "\"metadata\":{\"name\":\"default\"},\"spec\":{\"weight\":1,\"reclaimable\":true}}";
  lh_buf p;
  lh_buf_init(&p, 256);
  if (lh_kube_path(&p, &LH_KUBE_VOLCANO_QUEUES, NULL, NULL, NULL) ||
      lh_kube_async_request(ctl->ctl_async, "POST", lh_buf_str(&p), "application/json", body, sizeof(body) - 1,
                            create_done, ctl))
    qc->default_done = 0;
  lh_buf_free(&p);
}
