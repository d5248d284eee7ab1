/* queue.c — the Queue reconciler: status (state, PodGroup counts by phase, allocated and
 * deserved from the last scheduling cycle), Open/Closed/Closing with draining, and the
 * `default` queue created when missing. Writes only while leading. */
#include "core/queue.h"

#include "core/ctl_int.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define C "queue"

struct lh_queue_ctl {
  lh_ctl_reconciler *rec;
  int default_done;
};

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

typedef struct count_ctx {
  const char *queue;
  lh_queue_counts c;
} count_ctx;
static void count_pg(const char *key, const void *obj, void *ud) {
  (void)key;
  count_ctx *cc = ud;
  const char *q = lh_ctl_jstr(obj, "spec.queue");
  if (!q || !*q) q = "default";
  if (strcmp(q, cc->queue)) return;
  const char *ph = lh_ctl_jstr(obj, "status.phase");
  if (!ph || !strcmp(ph, "Pending")) cc->c.pending++;
  else if (!strcmp(ph, "Inqueue")) cc->c.inqueue++;
  else if (!strcmp(ph, "Running")) cc->c.running++;
  else if (!strcmp(ph, "Unknown")) cc->c.unknown++;
  else if (!strcmp(ph, "Completed")) cc->c.completed++;
}

static void patch_done(lh_kube_async *a, int rc, lh_kube_response *resp, void *data) {
  (void)a;
  char *name = data;
  if (rc && rc != LH_EKUBE_CLOSED && resp->status.code != 404)
    LH_WARN(C, "queue %s status update failed: %d %s", name, resp->status.code, resp->status.reason);
  free(name);
}

static int reconcile(lh_ctl *ctl, const char *key, void *data) {
  (void)data;
  const json_t *q = lh_ctl_queue(ctl, key);
  if (!q) return 0;
  count_ctx cc = {key, {0}};
  lh_kube_cache_each(lh_ctl_cache(ctl, LH_CTL_PODGROUPS), count_pg, &cc);
  const json_t *sh = lh_sched_queue_shares(ctl) ? json_object_get(lh_sched_queue_shares(ctl), key) : NULL;
  int64_t share[6];
  for (int i = 0; i < 6 && sh; i++) share[i] = (int64_t)json_integer_value(json_array_get(sh, (size_t)i));
  json_t *st = lh_queue_status(q, &cc.c, sh ? share : NULL);
  if (!st) return LH_EKUBE_NOMEM;
  if (lh_queue_status_equal(q, st)) {
    json_decref(st);
    return 0;
  }
  const char *old = lh_ctl_jstr(q, "status.state");
  const char *now = json_string_value(json_object_get(st, "state"));
  if (!old || strcmp(old, now)) {
    LH_INFO(C, "queue %s: state %s -> %s", key, old ? old : "(none)", now);
    lh_ctl_ref ref;
    lh_ctl_ref_from_json(&ref, q, "Queue", "scheduling.volcano.sh/v1beta1");
    lh_ctl_event(ctl, &ref, LH_CTL_EVENT_NORMAL, now, "queue %s is %s", key, now);
  }
  json_t *patch = json_pack("{s:o}", "status", st);
  char *body = patch ? json_dumps(patch, JSON_COMPACT) : NULL;
  json_decref(patch);
  lh_buf p;
  lh_buf_init(&p, 1024);
  char *name = strdup(key);
  int rc = body && name ? lh_kube_path(&p, &LH_KUBE_VOLCANO_QUEUES, NULL, key, "status") : LH_EKUBE_NOMEM;
  if (!rc)
    rc = lh_kube_async_request(lh_ctl_async(ctl), "PATCH", lh_buf_str(&p), lh_kube_patch_content_type(LH_PATCH_MERGE),
                               body, strlen(body), patch_done, name);
  if (rc) free(name);
  lh_buf_free(&p);
  free(body);
  return rc;
}

int lh_queue_ctl_new(lh_ctl *ctl) {
  lh_queue_ctl *qc = calloc(1, sizeof(*qc));
  if (!qc) return LH_EKUBE_NOMEM;
  ctl->qctl = qc;
  lh_ctl_reconciler_opts o;
  memset(&o, 0, sizeof(o));
  o.name = "queues";
  o.fn = reconcile;
  o.leader_only = 1;
  o.wq.qps = -1;
  return lh_ctl_add_reconciler(ctl, &o, &qc->rec);
}

void lh_queue_ctl_free(lh_ctl *ctl) {
  free(ctl->qctl);
  ctl->qctl = NULL;
}

static void enq(const char *key, const void *obj, void *ud) {
  (void)obj;
  lh_ctl_enqueue(ud, key);
}
void lh_queue_ctl_enqueue_all(lh_ctl *ctl) {
  if (!ctl->qctl || !ctl->qctl->rec || !ctl->leading) return;
  lh_kube_cache_each(lh_ctl_cache(ctl, LH_CTL_QUEUES), enq, ctl->qctl->rec);
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
      lh_kube_async_request(lh_ctl_async(ctl), "POST", lh_buf_str(&p), "application/json", body, sizeof(body) - 1,
                            create_done, ctl))
    qc->default_done = 0;
  lh_buf_free(&p);
}
