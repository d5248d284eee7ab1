/* events.c — the core/v1 Event recorder of lh_ctl (see lh_ctl_event in ctl.h): aggregation of
 * repeats into count/lastTimestamp patches, a per-object token bucket, an in-flight cap. */
#include "core/ctl_int.h"

#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define C "events"
#define AGG_WINDOW_MS (10 * 60 * 1000)
#define BURST 25.0
#define REFILL_MS (5 * 60 * 1000) /* one token per 5 minutes (client-go: qps 1/300) */
#define MAX_IN_FLIGHT 64
#define MAX_KEYS 8192

struct lh_events {
  json_t *agg;    /* aggregation key -> [event name, count, first_wall_ms, last_mono_ms, ns] */
  json_t *bucket; /* object key -> [tokens*1000, last_refill_mono_ms] */
  int in_flight;
};

int lh_events_new(lh_ctl *ctl) {
  lh_events *e = calloc(1, sizeof(*e));
  if (!e) return LH_EKUBE_NOMEM;
  e->agg = json_object();
  e->bucket = json_object();
  if (!e->agg || !e->bucket) {
    json_decref(e->agg), json_decref(e->bucket), free(e);
    return LH_EKUBE_NOMEM;
  }
  ctl->events = e;
  return 0;
}

void lh_events_free(lh_ctl *ctl) {
  if (!ctl->events) return;
  json_decref(ctl->events->agg);
  json_decref(ctl->events->bucket);
  free(ctl->events);
  ctl->events = NULL;
}

static int take_token(lh_events *e, const char *key, uint64_t now) {
  json_t *b = json_object_get(e->bucket, key);
  if (!b) {
    if (json_object_size(e->bucket) > MAX_KEYS) json_object_clear(e->bucket);
    json_object_set_new(e->bucket, key, json_pack("[I,I]", (json_int_t)((BURST - 1) * 1000), (json_int_t)now));
    return 1;
  }
  double tokens = (double)json_integer_value(json_array_get(b, 0)) / 1000.0;
  uint64_t last = (uint64_t)json_integer_value(json_array_get(b, 1));
  tokens += (double)(now - last) / REFILL_MS;
  if (tokens > BURST) tokens = BURST;
  if (tokens < 1.0) {
    json_array_set_new(b, 0, json_integer((json_int_t)(tokens * 1000)));
    json_array_set_new(b, 1, json_integer((json_int_t)now));
    return 0;
  }
  json_array_set_new(b, 0, json_integer((json_int_t)((tokens - 1) * 1000)));
  json_array_set_new(b, 1, json_integer((json_int_t)now));
  return 1;
}

typedef struct ev_req {
  lh_ctl *ctl;
  char *aggkey;
  int patch;
  /* for a patch: the whole Event and its collection path, created instead when the patch
   * answers 404 (the apiserver dropped the Event: its TTL, or a compaction), as client-go's
   * recorder does */
  char *create_body;
  char *create_path;
} ev_req;

static void ev_req_free(ev_req *r) {
  free(r->aggkey);
  free(r->create_body);
  free(r->create_path);
  free(r);
}

static void ev_done(lh_kube_async *a, int rc, lh_kube_response *resp, void *data) {
  ev_req *r = data;
  if (rc != LH_EKUBE_CLOSED) {
    lh_events *e = r->ctl->events;
    e->in_flight--;
    if (rc == LH_EKUBE_HTTP && r->patch && resp->status.code == 404 && r->create_body && r->create_path) {
      /* same request object, now a create: its callback counts it as created */
      LH_DEBUG(C, "event to aggregate is gone: creating it again");
      r->patch = 0;
      if (!lh_kube_async_request(a, "POST", r->create_path, "application/json", r->create_body,
                                 strlen(r->create_body), ev_done, r)) {
        e->in_flight++;
        return;
      }
      rc = LH_EKUBE_NOMEM;
      r->patch = 1;
    }
    if (rc) {
      r->ctl->met.events_failed++;
      LH_DEBUG(C, "event post failed: %s %d %s", lh_kube_strerror(rc), resp->status.code, resp->status.reason);
      if (r->patch || rc == LH_EKUBE_HTTP) json_object_del(e->agg, r->aggkey); /* recreate next time */
    } else if (r->patch) r->ctl->met.events_aggregated++;
    else r->ctl->met.events_posted++;
  }
  ev_req_free(r);
}

static void rfc3339(int64_t wall_ms, char *out, size_t n) {
  time_t t = (time_t)(wall_ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The core/v1 Event as created (or created again after a 404 on its aggregation patch). */
static char *event_body(lh_ctl *ctl, const lh_ctl_ref *obj, const char *ns, const char *name, const char *type,
                        const char *reason, const char *msg, json_int_t count, const char *first_ts,
                        const char *last_ts) {
  json_t *inv = json_pack("{s:s, s:s, s:s}", "kind", obj->kind, "apiVersion", obj->api_version ? obj->api_version : "v1",
                          "name", obj->name);
  if (inv && obj->ns && *obj->ns) json_object_set_new(inv, "namespace", json_string(obj->ns));
  if (inv && obj->uid && *obj->uid) json_object_set_new(inv, "uid", json_string(obj->uid));
  json_t *ev = inv ? json_pack("{s:s, s:s, s:{s:s, s:s}, s:o, s:s, s:s, s:s, s:{s:s}, s:s, s:s, s:I, s:s, s:s}",
                               "apiVersion", "v1", "kind", "Event", "metadata", "name", name, "namespace", ns,
                               "involvedObject", inv, "type", type, "reason", reason, "message", msg, "source",
                               "component", "lahar-controller", "reportingComponent", "lahar-controller",
                               "reportingInstance", ctl->identity, "count", count, "firstTimestamp", first_ts,
                               "lastTimestamp", last_ts)
                   : NULL;
  char *body = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
  json_decref(ev);
  return body;
}

int lh_ctl_event(lh_ctl *ctl, const lh_ctl_ref *obj, const char *type, const char *reason,
                 const char *fmt, ...) {
  lh_events *e = ctl->events;
  if (!e || !obj || !obj->name || !type || !reason) return 1;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  const char *ns = obj->ns && *obj->ns ? obj->ns : "default";
  uint64_t now = lh_ctl_now(ctl);
  int64_t wall = lh_ctl_wall_ms();
  char okey[700], akey[2000];
  snprintf(okey, sizeof(okey), "%s/%s/%s/%s", obj->kind, ns, obj->name, obj->uid ? obj->uid : "");
  snprintf(akey, sizeof(akey), "%s|%s|%s|%s", okey, type, reason, msg);
  if (e->in_flight >= MAX_IN_FLIGHT) {
    ctl->met.events_dropped++;
    return 1;
  }
  json_t *ag = json_object_get(e->agg, akey);
  if (ag && now - (uint64_t)json_integer_value(json_array_get(ag, 3)) > AGG_WINDOW_MS) {
    json_object_del(e->agg, akey);
    ag = NULL;
  }
  if (!take_token(e, okey, now)) {
    ctl->met.events_dropped++;
    return 1;
  }
  char ts[40];
  rfc3339(wall, ts, sizeof(ts));
  ev_req *r = calloc(1, sizeof(*r));
  if (!r || !(r->aggkey = strdup(akey))) {
    free(r);
    return 1;
  }
  r->ctl = ctl;
  lh_buf path;
  lh_buf_init(&path, 2048);
  char *body = NULL;
  int rc;
  if (ag) {
    json_int_t count = json_integer_value(json_array_get(ag, 1)) + 1;
    json_array_set_new(ag, 1, json_integer(count));
    json_array_set_new(ag, 3, json_integer((json_int_t)now));
    json_t *p = json_pack("{s:I, s:s}", "count", count, "lastTimestamp", ts);
    body = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    r->patch = 1;
    char first[40];
    rfc3339((int64_t)json_integer_value(json_array_get(ag, 2)), first, sizeof(first));
    const char *evname = json_string_value(json_array_get(ag, 0));
    r->create_body = event_body(ctl, obj, ns, evname, type, reason, msg, count, first, ts);
    lh_buf cpath;
    lh_buf_init(&cpath, 512);
    if (!lh_buf_addf(&cpath, "/api/v1/namespaces/%s/events", ns)) r->create_path = strdup(lh_buf_str(&cpath));
    lh_buf_free(&cpath);
    rc = lh_buf_addf(&path, "/api/v1/namespaces/%s/events/", ns);
    if (!rc) rc = lh_kube_escape(&path, evname);
    if (!rc && body && r->create_body && r->create_path)
      rc = lh_kube_async_request(ctl->async, "PATCH", lh_buf_str(&path), lh_kube_patch_content_type(LH_PATCH_MERGE),
                                 body, strlen(body), ev_done, r);
    else rc = LH_EKUBE_NOMEM;
  } else {
    char name[400];
    snprintf(name, sizeof(name), "%.200s.%llx", obj->name, (unsigned long long)wall * 1000000ull + (now % 1000000ull));
    body = event_body(ctl, obj, ns, name, type, reason, msg, 1, ts, ts);
    if (json_object_size(e->agg) > MAX_KEYS) json_object_clear(e->agg);
    json_object_set_new(e->agg, akey, json_pack("[s,i,I,I]", name, 1, (json_int_t)wall, (json_int_t)now));
    rc = lh_buf_addf(&path, "/api/v1/namespaces/%s/events", ns);
    if (!rc && body)
      rc = lh_kube_async_request(ctl->async, "POST", lh_buf_str(&path), "application/json", body, strlen(body),
                                 ev_done, r);
    else rc = LH_EKUBE_NOMEM;
  }
  lh_buf_free(&path);
  free(body);
  if (rc) {
    ev_req_free(r);
    ctl->met.events_failed++;
    return 1;
  }
  e->in_flight++;
  LH_DEBUG(C, "%s %s %s/%s: %s: %s", type, obj->kind, ns, obj->name, reason, msg);
  return 0;
}
