/* sched.c — the scheduling loop: a debounced cycle trigger; each cycle turns the caches into a
 * snapshot (snap.c), runs the core, and issues its decisions: pods/binding (async, tracked in
 * flight so a pod is never bound twice), evictions as deletes, PodGroup phase/conditions, and
 * an Event for every group left pending with the core's reason.
 */
#include "core/ctl_int.h"
#include "scheduler/lahar_sched.h"

#include "core/snap.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define C "sched"
#define INFLIGHT_TTL_MS 60000
#define EVICT_TTL_MS 120000
#define PENDING_EVENT_EVERY_MS 60000
/* a resync with no change waits max(--cycle-resync, this many times the last cycle's length),
 * at most IDLE_RESYNC_MAX_MS (below PENDING_EVENT_EVERY_MS: pending Events still repeat) */
#define IDLE_RESYNC_FACTOR 10
#define IDLE_RESYNC_MAX_MS 30000

struct lh_sched {
  lh_conf *conf;
  lh_snap_cache *snapcache; /* node facts kept across cycles by resourceVersion (snap.h) */
  lh_timer timer;
  uint64_t last_end;   /* end of the last cycle (loop ms, read after the cycle) */
  uint64_t last_ms;    /* how long the last cycle took (ms) */
  int have_last;
  int changed;         /* a change was signalled since the last cycle began */
  json_t *inflight;    /* pod uid -> [node, issued_ms or answered_ms, answered] */
  json_t *evicting;    /* pod uid -> issued_ms */
  json_t *written;     /* "ns/name" of PodGroups -> last status signature written */
  json_t *evsent;      /* group key -> [reason, ms] of the last pending Event */
  json_t *shares;      /* queue -> [d0,d1,d2,a0,a1,a2] */
};

static long sched_timer_cb(lh_loop *loop, lh_timer *t, void *data);

static const char *inflight_fn(const char *uid, void *ud) {
  lh_sched *s = ud;
  json_t *e = json_object_get(s->inflight, uid);
  return e ? json_string_value(json_array_get(e, 0)) : NULL;
}

int lh_sched_new(lh_ctl *ctl, char *err, size_t errlen) {
  lh_sched *s = calloc(1, sizeof(*s));
  if (!s) return LH_EKUBE_NOMEM;
  ctl->sched = s;
  s->inflight = json_object();
  s->evicting = json_object();
  s->written = json_object();
  s->evsent = json_object();
  s->shares = json_object();
  lh_timer_init(ctl->loop, &s->timer);
  if (!s->inflight || !s->evicting || !s->written || !s->evsent || !s->shares) return LH_EKUBE_NOMEM;
  if (ctl->o.scheduler_conf) {
    char *text = NULL;
    size_t len = 0;
    int rc = lh_kube_read_file(ctl->o.scheduler_conf, 1 << 20, &text, &len);
    if (rc) {
      snprintf(err, errlen, "--scheduler-conf %s: %s", ctl->o.scheduler_conf, lh_kube_strerror(rc));
      return LH_EKUBE_CONFIG;
    }
    char cerr[256] = "";
    rc = lh_conf_parse(text, len, &s->conf, cerr, sizeof(cerr));
    free(text);
    if (rc) {
      snprintf(err, errlen, "--scheduler-conf %s: %s", ctl->o.scheduler_conf, cerr);
      return LH_EKUBE_CONFIG;
    }
  } else if (!(s->conf = lh_conf_default())) {
    return LH_EKUBE_NOMEM;
  }
  return 0;
}

void lh_sched_free(lh_ctl *ctl) {
  lh_sched *s = ctl->sched;
  if (!s) return;
  if (ctl->loop) lh_timer_stop(&s->timer);
  lh_snap_cache_free(s->snapcache);
  lh_conf_free(s->conf);
  json_decref(s->inflight), json_decref(s->evicting), json_decref(s->written);
  json_decref(s->evsent), json_decref(s->shares);
  free(s);
  ctl->sched = NULL;
}

const json_t *lh_sched_queue_shares(lh_ctl *ctl) { return ctl->sched ? ctl->sched->shares : NULL; }

/* ---- decisions --------------------------------------------------------------------------- */
typedef struct bind_req {
  lh_ctl *ctl;
  char uid[128], ns[254], name[254], node[254];
} bind_req;

static void bind_done(lh_kube_async *a, int rc, lh_kube_response *resp, void *data) {
  (void)a;
  bind_req *b = data;
  if (rc == LH_EKUBE_CLOSED) { /* the controller is shutting down: ctl may be half freed */
    free(b);
    return;
  }
  lh_ctl *ctl = b->ctl;
  lh_sched *s = ctl->sched;
  ctl->met.binds_in_flight--;
  if (rc == 0) {
    ctl->met.binds++;
    LH_DEBUG(C, "bound %s/%s to %s", b->ns, b->name, b->node);
    /* the TTL of an in-flight entry counts from here: while the request is outstanding (a slow
     * server can take longer than the TTL) the pod must not look pending, or it is bound twice */
    json_t *e = json_object_get(s->inflight, b->uid);
    if (e) json_array_set_new(e, 1, json_integer((json_int_t)lh_ctl_now(ctl)));
    if (e) json_array_set_new(e, 2, json_true());
  } else {
    int code = resp->status.code;
    if (code == 409) ctl->met.bind_conflict++;
    else if (code == 404) ctl->met.bind_notfound++;
    else ctl->met.bind_other++;
    LH_WARN(C, "bind %s/%s to %s failed: %d %s: %.200s", b->ns, b->name, b->node, code,
            resp->status.reason[0] ? resp->status.reason : lh_kube_strerror(rc),
            resp->status.message[0] ? resp->status.message : resp->error);
    /* 409: already bound (by us before a restart, or someone else): the cache will show where.
     * 404: the pod is gone. Others: retry on a later cycle. Either way stop counting it here. */
    json_object_del(s->inflight, b->uid);
    lh_sched_trigger(ctl, LH_TRIG_BIND_FAILED);
  }
  free(b);
}

static void issue_bind(lh_ctl *ctl, const lh_snap_task *t, const char *node) {
  lh_sched *s = ctl->sched;
  if (json_object_get(s->inflight, t->uid)) return;
  bind_req *b = calloc(1, sizeof(*b));
  if (!b) return;
  b->ctl = ctl;
  snprintf(b->uid, sizeof(b->uid), "%s", t->uid);
  snprintf(b->ns, sizeof(b->ns), "%s", t->ns);
  snprintf(b->name, sizeof(b->name), "%s", t->name);
  snprintf(b->node, sizeof(b->node), "%s", node);
  if (lh_kube_async_bind(ctl->async, t->ns, t->name, node, t->uid, bind_done, b)) {
    free(b);
    ctl->met.bind_other++;
    return;
  }
  json_object_set_new(s->inflight, t->uid, json_pack("[s,I,b]", node, (json_int_t)lh_ctl_now(ctl), 0));
  ctl->met.binds_in_flight++;
}

typedef struct evict_req {
  lh_ctl *ctl;
  char uid[128], ns[254], name[254];
} evict_req;

static void evict_done(lh_kube_async *a, int rc, lh_kube_response *resp, void *data) {
  (void)a;
  evict_req *e = data;
  if (rc != LH_EKUBE_CLOSED) {
    if (rc && resp->status.code != 404) {
      e->ctl->met.evict_failures++;
      json_object_del(e->ctl->sched->evicting, e->uid);
      LH_WARN(C, "evict %s/%s failed: %d %s", e->ns, e->name, resp->status.code, resp->status.reason);
    } else {
      e->ctl->met.evictions++;
    }
  }
  free(e);
}

static void issue_evict(lh_ctl *ctl, const lh_snap *sn, const lh_eviction *ev) {
  lh_sched *s = ctl->sched;
  const lh_snap_task *t = &sn->tasks[ev->task];
  if (json_object_get(s->evicting, t->uid)) return;
  evict_req *e = calloc(1, sizeof(*e));
  if (!e) return;
  e->ctl = ctl;
  snprintf(e->uid, sizeof(e->uid), "%s", t->uid);
  snprintf(e->ns, sizeof(e->ns), "%s", t->ns);
  snprintf(e->name, sizeof(e->name), "%s", t->name);
  lh_buf p;
  lh_buf_init(&p, 2048);
  lh_kube_delete_opts dopts = LH_KUBE_DELETE_OPTS_INIT;
  dopts.precondition_uid = t->uid;
  char *body = lh_kube_delete_body(&dopts);
  int rc = body ? lh_kube_path(&p, &LH_KUBE_PODS, t->ns, t->name, NULL) : LH_EKUBE_NOMEM;
  if (!rc)
    rc = lh_kube_async_request(ctl->async, "DELETE", lh_buf_str(&p), "application/json", body, strlen(body),
                               evict_done, e);
  lh_buf_free(&p);
  free(body);
  if (rc) {
    free(e);
    return;
  }
  json_object_set_new(s->evicting, t->uid, json_integer((json_int_t)lh_ctl_now(ctl)));
  const char *why = ev->reason == LH_EVICT_RECLAIM ? "reclaimed by queue of"
                  : ev->reason == LH_EVICT_PREEMPT ? "preempted by"
                  : "gang broken";
  const char *forg = ev->for_group >= 0 ? lh_snapshot_group_name(sn->snap, ev->for_group) : "";
  LH_INFO(C, "evicting %s/%s: %s %s", t->ns, t->name, why, forg ? forg : "");
  lh_ctl_ref ref = {"Pod", "v1", t->ns, t->name, t->uid};
  lh_ctl_event(ctl, &ref, LH_CTL_EVENT_WARNING, "Evict", "%s %s", why, forg ? forg : "");
}

typedef struct pg_req {
  lh_ctl *ctl;
  char key[520];
} pg_req;
static void pg_done(lh_kube_async *a, int rc, lh_kube_response *resp, void *data) {
  (void)a;
  pg_req *r = data;
  if (rc == LH_EKUBE_HTTP && resp->status.code == 404) {
    /* the PodGroup is gone (deleted by its job, say) and the cache has not seen it yet: final.
     * The written entry stays until the informer's delete drops it (lh_sched_podgroup_gone), so
     * no later cycle writes it again. */
    LH_DEBUG(C, "podgroup %s is gone; status not written", r->key);
  } else if (rc && rc != LH_EKUBE_CLOSED) {
    json_object_del(r->ctl->sched->written, r->key); /* write again next cycle */
    LH_WARN(C, "podgroup %s status update failed: %d %s: %.200s", r->key, resp->status.code, resp->status.reason,
            resp->status.message);
  }
  free(r);
}

static void rfc3339(char *out, size_t n) {
  time_t t = (time_t)(lh_ctl_wall_ms() / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Sets key to v when v is a non-empty string (see lh_sched_pg_status_patch). */
static void set_nonempty(json_t *o, const char *key, const char *v) {
  if (o && v && *v) json_object_set_new(o, key, json_string(v));
}

json_t *lh_sched_pg_status_patch(const char *phase, int running, int succeeded, int failed,
                                 const char *reason, const char *ts) {
  json_t *cond = json_object();
  set_nonempty(cond, "type", reason ? "Unschedulable" : "Scheduled");
  set_nonempty(cond, "status", "True");
  set_nonempty(cond, "reason", reason ? "NotEnoughResources" : "tasks-scheduled");
  set_nonempty(cond, "message", reason);
  set_nonempty(cond, "lastTransitionTime", ts);
  json_t *st = cond ? json_pack("{s:i, s:i, s:i, s:[o]}", "running", running, "succeeded", succeeded, "failed",
                                failed, "conditions", cond)
                    : NULL;
  set_nonempty(st, "phase", phase);
  return st ? json_pack("{s:o}", "status", st) : NULL;
}

/* Writes a PodGroup's status (merge patch of the object: crds/ declares no status subresource
 * for PodGroups, so /status answers 404 there) when it differs from what we last wrote. */
static void pg_status(lh_ctl *ctl, const lh_snap_group *g, const char *phase, int running,
                      const char *reason) {
  lh_sched *s = ctl->sched;
  char key[520], sig[1400];
  snprintf(key, sizeof(key), "%s/%s", g->ns, g->name);
  snprintf(sig, sizeof(sig), "%s|%d|%d|%d|%s", phase, running, g->succeeded, g->failed, reason ? reason : "");
  const char *last = json_string_value(json_object_get(s->written, key));
  if (last && !strcmp(last, sig)) return;
  /* nothing written yet by this process (a restart): the cached object may already say all of
   * it — same phase, same Unschedulable message, no counts — and then there is nothing to send
   * (1,000 pending groups would otherwise be rewritten at every controller start) */
  if (!last && !strcmp(g->cur_phase, phase) && !strcmp(g->cur_reason, reason ? reason : "") &&
      !running && !g->succeeded && !g->failed) {
    json_object_set_new(s->written, key, json_string(sig));
    return;
  }
  if (!lh_ctl_podgroup(ctl, g->ns, g->name)) return; /* deleted meanwhile: nothing to write */
  char ts[40];
  rfc3339(ts, sizeof(ts));
  json_t *patch = lh_sched_pg_status_patch(phase, running, g->succeeded, g->failed, reason, ts);
  char *body = patch ? json_dumps(patch, JSON_COMPACT) : NULL;
  json_decref(patch);
  lh_buf p;
  lh_buf_init(&p, 2048);
  pg_req *r = calloc(1, sizeof(*r));
  int rc = body && r ? lh_kube_path(&p, &LH_KUBE_VOLCANO_PODGROUPS, g->ns, g->name, NULL) : LH_EKUBE_NOMEM;
  if (!rc) {
    r->ctl = ctl;
    snprintf(r->key, sizeof(r->key), "%s", key);
    rc = lh_kube_async_request(ctl->ctl_async, "PATCH", lh_buf_str(&p), lh_kube_patch_content_type(LH_PATCH_MERGE),
                               body, strlen(body), pg_done, r);
  }
  if (rc) free(r);
  else json_object_set_new(s->written, key, json_string(sig));
  lh_buf_free(&p);
  free(body);
}

static void pending_event(lh_ctl *ctl, const lh_snap_group *g, const char *reason) {
  lh_sched *s = ctl->sched;
  char key[600];
  snprintf(key, sizeof(key), "%s/%s/%d", g->ns, g->name, g->is_pg);
  json_t *e = json_object_get(s->evsent, key);
  uint64_t now = lh_ctl_now(ctl);
  if (e && !strcmp(json_string_value(json_array_get(e, 0)), reason) &&
      now - (uint64_t)json_integer_value(json_array_get(e, 1)) < PENDING_EVENT_EVERY_MS)
    return;
  if (json_object_size(s->evsent) > 50000) json_object_clear(s->evsent);
  json_object_set_new(s->evsent, key, json_pack("[s,I]", reason, (json_int_t)now));
  lh_ctl_ref ref = {g->is_pg ? "PodGroup" : "Pod", g->is_pg ? "scheduling.volcano.sh/v1beta1" : "v1", g->ns, g->name,
                    NULL};
  if (g->is_pg) {
    const json_t *pg = lh_ctl_podgroup(ctl, g->ns, g->name);
    if (pg) ref.uid = lh_ctl_jstr(pg, "metadata.uid");
  }
  lh_ctl_event(ctl, &ref, LH_CTL_EVENT_WARNING, g->is_pg ? "Unschedulable" : "FailedScheduling", "%s", reason);
}

/* ---- the cycle --------------------------------------------------------------------------- */
static double mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run_cycle(lh_ctl *ctl) {
  lh_sched *s = ctl->sched;
  double t0 = mono_s();
  s->changed = 0;
  lh_snap_input in = {lh_ctl_cache(ctl, LH_CTL_PODS), lh_ctl_cache(ctl, LH_CTL_NODES),
                      lh_ctl_cache(ctl, LH_CTL_QUEUES), lh_ctl_cache(ctl, LH_CTL_PODGROUPS),
                      ctl->o.scheduler_name, ctl->o.default_cluster, inflight_fn, s};
  lh_snap sn;
  if (!s->snapcache) s->snapcache = lh_snap_cache_new(); /* NULL (no memory): an uncached build */
  int rc = lh_snap_build_cached(&in, s->snapcache, &sn);
  if (rc) {
    LH_ERROR(C, "snapshot: %s", lh_kube_strerror(rc));
    return;
  }
  lh_result *res = NULL;
  rc = lh_schedule(s->conf, sn.snap, lh_ctl_wall_ms() / 1000, &res);
  if (rc) {
    LH_ERROR(C, "scheduling core: %s", lh_strerror(rc));
    lh_snap_free(&sn);
    return;
  }
  size_t nb, ne, np, na, nq;
  const lh_bind *binds = lh_result_binds(res, &nb);
  const lh_eviction *evs = lh_result_evictions(res, &ne);
  (void)lh_result_pending(res, &np);
  const int32_t *adm = lh_result_admitted(res, &na);
  const lh_queue_share *qs = lh_result_queues(res, &nq);
  int *gbinds = calloc(sn.ngroups ? sn.ngroups : 1, sizeof(int));
  char *admitted = calloc(sn.ngroups ? sn.ngroups : 1, 1);
  /* binds: stop at once if leadership was lost while we were computing */
  for (size_t i = 0; i < nb && ctl->leading; i++) {
    const lh_bind *b = &binds[i];
    if ((size_t)b->task >= sn.ntasks) continue;
    const char *node = b->node >= 0 ? lh_snapshot_node_name(sn.snap, b->node)
                     : (size_t)b->cluster < sn.nclusters ? sn.bind_node[b->cluster] : NULL;
    if (!node) continue;
    issue_bind(ctl, &sn.tasks[b->task], node);
    if (gbinds && (size_t)b->group < sn.ngroups) gbinds[b->group]++;
  }
  for (size_t i = 0; i < ne && ctl->leading; i++)
    if ((size_t)evs[i].task < sn.ntasks) issue_evict(ctl, &sn, &evs[i]);
  for (size_t i = 0; i < na && admitted; i++)
    if ((size_t)adm[i] < sn.ngroups) admitted[adm[i]] = 1;
  /* group status and pending reasons */
  long *qpend = calloc(lh_snapshot_n_queues(sn.snap) + 1, sizeof(long));
  for (size_t g = 0; g < sn.ngroups && ctl->leading; g++) {
    const lh_snap_group *gr = &sn.groups[g];
    const char *reason = lh_result_group_reason(res, (int)g);
    int running = gr->running + (gbinds ? gbinds[g] : 0);
    if (reason) {
      int qi = lh_snapshot_find_queue(sn.snap, gr->queue);
      if (qpend && qi >= 0) qpend[qi]++;
      pending_event(ctl, gr, reason);
    }
    if (!gr->is_pg) continue;
    int mm = gr->min_member;
    const char *phase;
    if (gr->total > 0 && gr->succeeded + gr->failed == gr->total && gr->succeeded >= (mm > 0 ? mm : 1))
      phase = "Completed";
    else if (running > 0 && running >= mm) phase = "Running";
    else if (running > 0) phase = "Unknown";
    else if ((admitted && admitted[g]) || gr->phase != LH_GROUP_PENDING) phase = "Inqueue";
    else phase = "Pending";
    pg_status(ctl, gr, phase, running, reason);
  }
  for (size_t i = 0; i < sn.nlocal && ctl->leading; i++) {
    lh_snap_group g = {sn.local[i].ns, sn.local[i].name, sn.local[i].queue, 1, 1, 0, "", "", 0, 0, 0, 0, 0};
    pending_event(ctl, &g, sn.local[i].reason);
    pg_status(ctl, &g, "Pending", 0, sn.local[i].reason);
  }
  /* queue shares: metrics and the queue reconciler */
  lh_met_queue *mq = calloc(nq ? nq : 1, sizeof(*mq));
  size_t nmq = 0;
  json_object_clear(s->shares);
  long total_pending = (long)np + (long)sn.nlocal;
  for (size_t i = 0; i < nq && mq; i++) {
    const char *name = lh_snapshot_queue_name(sn.snap, qs[i].queue);
    if (!name || name[0] == '/') continue;
    mq[nmq].name = strdup(name);
    for (int r = 0; r < 3; r++) {
      mq[nmq].deserved[r] = qs[i].deserved.v[r] == LH_UNLIMITED ? -1 : qs[i].deserved.v[r];
      mq[nmq].allocated[r] = qs[i].allocated.v[r];
    }
    mq[nmq].pending_groups = qpend ? qpend[qs[i].queue] : 0;
    json_object_set_new(s->shares, name,
                        json_pack("[I,I,I,I,I,I]", (json_int_t)mq[nmq].deserved[0], (json_int_t)mq[nmq].deserved[1],
                                  (json_int_t)mq[nmq].deserved[2], (json_int_t)mq[nmq].allocated[0],
                                  (json_int_t)mq[nmq].allocated[1], (json_int_t)mq[nmq].allocated[2]));
    nmq++;
  }
  if (mq) lh_metrics_set_queues(&ctl->met, mq, nmq);
  ctl->met.pending_groups = total_pending;
  ctl->met.cycles++;
  double dt = mono_s() - t0;
  lh_metrics_observe_cycle(&ctl->met, dt);
  if (nb || ne) LH_INFO(C, "cycle: %zu binds, %zu evictions, %ld pending groups, %.1f ms", nb, ne, total_pending, dt * 1e3);
  else LH_DEBUG(C, "cycle: no decisions, %ld pending groups, %.1f ms", total_pending, dt * 1e3);
  free(gbinds);
  free(admitted);
  free(qpend);
  lh_result_free(res);
  size_t still_pending = sn.ours_pending;
  lh_snap_free(&sn);
  /* The loop caches its clock per iteration: a cycle of seconds would otherwise arm the next
   * timers in the past, and the resync cycle would start again at once, leaving the loop no
   * time for I/O (binds, status writes, watches). */
  lh_loop_update_time(ctl->loop);
  s->last_end = lh_ctl_now(ctl);
  s->last_ms = (uint64_t)(dt * 1e3);
  s->have_last = 1;
  lh_queue_ctl_enqueue_all(ctl);
  /* pending work without any change event (e.g. capacity freed by a bind that failed) must be
   * retried: resync while anything waits */
  if ((still_pending || total_pending) && !lh_timer_active(&s->timer)) {
    lh_timer_start(&s->timer, ctl->o.cycle_resync_ms, sched_timer_cb, ctl);
  }
}

long lh_sched_idle_resync_ms(long resync_ms, uint64_t last_cycle_ms) {
  uint64_t r = resync_ms > 0 ? (uint64_t)resync_ms : 0;
  uint64_t scaled = last_cycle_ms * IDLE_RESYNC_FACTOR;
  if (scaled > IDLE_RESYNC_MAX_MS) scaled = IDLE_RESYNC_MAX_MS;
  return (long)(scaled > r ? scaled : r);
}

static long sched_timer_cb(lh_loop *loop, lh_timer *t, void *data) {
  (void)loop;
  (void)t;
  lh_ctl *ctl = data;
  lh_sched *s = ctl->sched;
  if (!ctl->leading || !lh_ctl_synced(ctl)) return LH_TIMER_STOP;
  /* A resync with nothing changed gives the same decisions (the core reads no clock): when
   * cycles are expensive, repeat them at most every IDLE_RESYNC_FACTOR cycle lengths, so an
   * unschedulable backlog cannot keep the loop busy with identical cycles. */
  if (!s->changed && s->have_last) {
    uint64_t due = s->last_end + (uint64_t)lh_sched_idle_resync_ms(ctl->o.cycle_resync_ms, s->last_ms);
    uint64_t now = lh_ctl_now(ctl);
    if (due > now) return (long)(due - now);
  }
  if (!s->changed) ctl->met.cycle_triggers[LH_TRIG_RESYNC]++;
  run_cycle(ctl);
  return LH_TIMER_STOP; /* run_cycle re-arms the resync timer when needed */
}

void lh_ctl_trigger_cycle(lh_ctl *ctl) { lh_sched_trigger(ctl, LH_TRIG_OTHER); }

/* Debounce: the first change arms the timer debounce_ms ahead; later changes do not move it
 * (so a stream of changes cannot starve the cycle); cycles are at least min_interval apart. */
void lh_sched_trigger(lh_ctl *ctl, lh_met_trigger source) {
  lh_sched *s = ctl->sched;
  if (!s || !ctl->started || !ctl->leading) return;
  if ((int)source >= 0 && source < LH_TRIG_N) ctl->met.cycle_triggers[source]++;
  s->changed = 1;
  uint64_t now = lh_ctl_now(ctl);
  long delay = ctl->o.cycle_debounce_ms;
  /* The gap after a cycle is at least half its length: the cycle runs on the loop thread, and
   * the binds it issued, the answers and the watch events only move between cycles (back-to-back
   * cycles of 1 s at 140,000 pods held a bind back for a whole extra cycle). */
  uint64_t gap = (uint64_t)ctl->o.cycle_min_interval_ms;
  if (s->have_last && (uint64_t)s->last_ms / 2 > gap) gap = (uint64_t)s->last_ms / 2;
  if (s->have_last && s->last_end + gap > now + (uint64_t)delay) delay = (long)(s->last_end + gap - now);
  if (lh_timer_active(&s->timer) && s->timer.deadline <= now + (uint64_t)delay) return;
  lh_timer_start(&s->timer, delay, sched_timer_cb, ctl);
}

void lh_sched_on_leading(lh_ctl *ctl, int leading) {
  lh_sched *s = ctl->sched;
  if (!s) return;
  if (!leading) {
    lh_timer_stop(&s->timer);
    json_object_clear(s->written);
    json_object_clear(s->evsent);
    return;
  }
  lh_sched_trigger(ctl, LH_TRIG_LEADER);
}

/* What of a pod the snapshot reads and may change: where it runs, whether it finished, whether
 * it is going away, and its group. Pending -> Running of a bound pod changes none of it. */
static int pod_same_for_sched(const lh_pod *o, const lh_pod *n) {
  int od = o->phase == LH_POD_SUCCEEDED || o->phase == LH_POD_FAILED;
  int nd = n->phase == LH_POD_SUCCEEDED || n->phase == LH_POD_FAILED;
  return n->node == o->node && od == nd && (o->phase == n->phase || !od) && !o->deletion_ts == !n->deletion_ts &&
         n->group == o->group;
}

void lh_sched_pod_changed(lh_ctl *ctl, const lh_pod *o, const lh_pod *n) {
  lh_sched *s = ctl->sched;
  if (!s) return;
  const lh_pod *p = n ? n : o;
  int mine = lh_ctl_scheduler_ok(ctl, p->scheduler);
  int accounted = 0; /* the change is one the last snapshot already assumed */
  if (!n) { /* deleted */
    json_object_del(s->inflight, p->uid);
    json_object_del(s->evicting, p->uid);
  } else if (n->node) {
    /* our own bind arriving in the cache: the snapshot already counted the pod as running on
     * that node (inflight_fn), so no decision depends on it. Without this, every binding seen
     * would trigger a full cycle while thousands of binds are still in flight, and the cycles
     * would starve the binder of loop time. */
    json_t *e = json_object_get(s->inflight, n->uid);
    const char *want = e ? json_string_value(json_array_get(e, 0)) : NULL;
    accounted = o && !o->node && want && !strcmp(want, n->node) && o->phase == n->phase &&
                !o->deletion_ts == !n->deletion_ts && o->group == n->group;
    json_object_del(s->inflight, n->uid); /* the cache shows the binding: trust it now */
  }
  if (accounted) return;
  /* what changes a decision: our pods; other pods only when bound (node usage) */
  if (mine || p->node || (o && o->node)) {
    if (n && o && pod_same_for_sched(o, n)) return;
    lh_sched_trigger(ctl, LH_TRIG_POD);
  }
}

/* How snap.c reads a PodGroup phase: no phase and any unknown one are Pending. */
static char phase_class(const char *ph) {
  if (!ph) return 'P';
  if (!strcmp(ph, "Running")) return 'R';
  if (!strcmp(ph, "Inqueue") || !strcmp(ph, "Unknown")) return 'I';
  if (!strcmp(ph, "Completed")) return 'C';
  return 'P';
}

int lh_sched_pg_phase_same_for_sched(const char *old_phase, const char *new_phase) {
  if (!new_phase) return 0;
  /* the snapshot derives Running/Unknown from placed pods (snap.c) */
  if (!strcmp(new_phase, "Running") || !strcmp(new_phase, "Unknown")) return 1;
  /* no phase -> Pending (a new group's first status) reads the same; any other change
   * (Inqueue: admitted; Completed: leaves the snapshot) is one the core must see */
  return phase_class(old_phase) == phase_class(new_phase);
}

int lh_sched_podgroup_own_write(lh_ctl *ctl, const json_t *o, const json_t *n) {
  lh_sched *s = ctl->sched;
  if (!s || !o || !n) return 0;
  static const char *same[] = {"spec", "metadata.deletionTimestamp", "metadata.annotations",
                               "metadata.creationTimestamp"};
  for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
    const char *dot = strchr(same[i], '.');
    const json_t *a = dot ? json_object_get(json_object_get(o, "metadata"), dot + 1) : json_object_get(o, same[i]);
    const json_t *b = dot ? json_object_get(json_object_get(n, "metadata"), dot + 1) : json_object_get(n, same[i]);
    if (!a != !b || (a && !json_equal((json_t *)a, (json_t *)b))) return 0;
  }
  const char *ns = lh_ctl_jstr(n, "metadata.namespace"), *name = lh_ctl_jstr(n, "metadata.name");
  const char *phase = lh_ctl_jstr(n, "status.phase"), *ophase = lh_ctl_jstr(o, "status.phase");
  if (!ns || !name || !phase) return 0;
  if (!lh_sched_pg_phase_same_for_sched(ophase, phase)) return 0;
  char key[600];
  snprintf(key, sizeof(key), "%s/%s", ns, name);
  const char *sig = json_string_value(json_object_get(s->written, key));
  size_t pl = strlen(phase);
  return sig && !strncmp(sig, phase, pl) && sig[pl] == '|';
}

void lh_sched_podgroup_gone(lh_ctl *ctl, const char *ns, const char *name) {
  lh_sched *s = ctl->sched;
  if (!s || !ns || !name) return;
  char key[600];
  snprintf(key, sizeof(key), "%s/%s", ns, name);
  json_object_del(s->written, key);
  snprintf(key, sizeof(key), "%s/%s/1", ns, name);
  json_object_del(s->evsent, key);
}

static int expired(json_t *map, const char *key, json_t *v, uint64_t now, uint64_t ttl, int arr) {
  (void)map;
  (void)key;
  uint64_t t = (uint64_t)json_integer_value(arr ? json_array_get(v, 1) : v);
  return now > t + ttl;
}

void lh_sched_housekeeping(lh_ctl *ctl) {
  lh_sched *s = ctl->sched;
  if (!s) return;
  uint64_t now = lh_ctl_now(ctl);
  const char *k;
  json_t *v;
  void *tmp;
  /* only answered binds expire (answered OK but never seen in the cache); a failed one was
   * dropped in bind_done, an outstanding one ends with its request (timeout included) */
  json_object_foreach_safe(s->inflight, tmp, k, v) if (json_is_true(json_array_get(v, 2)) &&
                                                        expired(s->inflight, k, v, now, INFLIGHT_TTL_MS, 1)) {
    LH_WARN(C, "bind of pod uid %s not seen in the cache after %ds: forgetting it", k, INFLIGHT_TTL_MS / 1000);
    json_object_del(s->inflight, k);
    lh_sched_trigger(ctl, LH_TRIG_EXPIRED); /* the pod looks pending again */
  }
  json_object_foreach_safe(s->evicting, tmp, k, v) if (expired(s->evicting, k, v, now, EVICT_TTL_MS, 0)) {
    json_object_del(s->evicting, k);
    lh_sched_trigger(ctl, LH_TRIG_EXPIRED); /* its eviction may be issued again */
  }
}
