/* result.c — lh_schedule (open a session, run the configured actions in order, build the
 * result) and the lh_result accessors. The result copies everything it returns (one string
 * buffer for all reasons), so it outlives the session but not the snapshot's indices. */
#include <stdlib.h>
#include <string.h>

#include "scheduler/session.h"

struct lh_result {
  lh_bind *binds;
  size_t n_binds;
  lh_eviction *evs;
  size_t n_evs;
  lh_pending *pend;
  size_t n_pend;
  int32_t *adm;
  size_t n_adm;
  lh_queue_share *qs;
  size_t n_qs;
  int32_t *pend_of_group; /* group -> index in pend or -1 */
  size_t n_groups;
  char *strs;
};

static const char *pending_reason(const lh_session *s, int32_t g) {
  const lh_sgroup *sg = &s->groups[g];
  if (sg->phase == LH_GROUP_PENDING) return sg->reason ? sg->reason : "not admitted: waiting for enqueue";
  if (lh_group_need(s, g) > 0) return sg->reason ? sg->reason : "not scheduled in this cycle";
  if (sg->waiting > 0) return sg->reason ? sg->reason : "waiting for evicted tasks to terminate";
  if (!lh_group_gang_on(s) && sg->ready == 0) {
    for (int32_t k = s->g_off[g]; k < s->g_off[g + 1]; k++)
      if (s->tst[s->g_tasks[k]] == TS_PENDING)
        return sg->reason ? sg->reason : "not scheduled in this cycle";
  }
  return NULL;
}

static lh_result *build(const lh_session *s) {
  const lh_snapshot *sn = s->snap;
  lh_result *r = lh_calloc(1, sizeof(*r));
  if (!r) return NULL;
  size_t ng = sn->n_groups, strlen_total = 0, np = 0;
  for (size_t g = 0; g < ng; g++) {
    const char *why = pending_reason(s, (int32_t)g);
    if (why) {
      np++;
      strlen_total += strlen(why) + 1;
    }
  }
  r->binds = lh_malloc((s->n_binds + 1) * sizeof(lh_bind));
  r->evs = lh_malloc((s->n_evs + 1) * sizeof(lh_eviction));
  r->pend = lh_malloc((np + 1) * sizeof(lh_pending));
  r->adm = lh_malloc((s->n_admitted + 1) * sizeof(int32_t));
  r->qs = lh_malloc((sn->n_queues + 1) * sizeof(lh_queue_share));
  r->pend_of_group = lh_malloc((ng + 1) * sizeof(int32_t));
  r->strs = lh_malloc(strlen_total + 1);
  if (!r->binds || !r->evs || !r->pend || !r->adm || !r->qs || !r->pend_of_group || !r->strs) {
    lh_result_free(r);
    return NULL;
  }
  if (s->n_binds) memcpy(r->binds, s->binds, s->n_binds * sizeof(lh_bind));
  r->n_binds = s->n_binds;
  if (s->n_evs) memcpy(r->evs, s->evs, s->n_evs * sizeof(lh_eviction));
  r->n_evs = s->n_evs;
  if (s->n_admitted) memcpy(r->adm, s->admitted, s->n_admitted * sizeof(int32_t));
  r->n_adm = s->n_admitted;
  /* admitted in group order, as documented */
  for (size_t i = 1; i < r->n_adm; i++)
    for (size_t j = i; j > 0 && r->adm[j] < r->adm[j - 1]; j--) {
      int32_t t = r->adm[j];
      r->adm[j] = r->adm[j - 1];
      r->adm[j - 1] = t;
    }
  char *p = r->strs;
  r->n_groups = ng;
  for (size_t g = 0; g < ng; g++) {
    const char *why = pending_reason(s, (int32_t)g);
    r->pend_of_group[g] = -1;
    if (!why) continue;
    size_t l = strlen(why);
    memcpy(p, why, l + 1);
    r->pend_of_group[g] = (int32_t)r->n_pend;
    r->pend[r->n_pend++] = (lh_pending){.group = (int32_t)g, .reason = p};
    p += l + 1;
  }
  for (size_t q = 0; q < sn->n_queues; q++)
    r->qs[q] = (lh_queue_share){.queue = (int32_t)q, .deserved = s->queues[q].deserved,
                                .allocated = s->queues[q].alloc, .request = s->queues[q].request};
  r->n_qs = sn->n_queues;
  return r;
}

static bool configured(const lh_conf *c, lh_action_id a) {
  for (int i = 0; i < c->n_actions; i++)
    if (c->actions[i] == a) return true;
  return false;
}

int lh_schedule(const lh_conf *conf, const lh_snapshot *snap, int64_t now, lh_result **out) {
  if (!out) return LH_EINVAL;
  *out = NULL;
  if (!conf || !snap) return LH_EINVAL;
  lh_session s;
  int rc = lh_session_open(&s, conf, snap, now);
  if (rc) return rc;
  if (s.oom) {
    lh_session_close(&s);
    return LH_ENOMEM;
  }
  /* Without an enqueue action every group counts as admitted (as Volcano does). */
  if (!configured(conf, LH_ACT_ENQUEUE))
    for (size_t g = 0; g < snap->n_groups; g++)
      if (s.groups[g].phase == LH_GROUP_PENDING) s.groups[g].phase = LH_GROUP_INQUEUE;
  for (int i = 0; i < conf->n_actions && !rc; i++) {
    switch (conf->actions[i]) {
      case LH_ACT_ENQUEUE: rc = lh_action_enqueue(&s); break;
      case LH_ACT_ALLOCATE: rc = lh_action_allocate(&s); break;
      case LH_ACT_BACKFILL: rc = lh_action_backfill(&s); break;
      case LH_ACT_RECLAIM: rc = lh_action_reclaim(&s); break;
      case LH_ACT_PREEMPT: rc = lh_action_preempt(&s); break;
      default: rc = LH_EINVAL; break;
    }
    if (!rc && s.oom) rc = LH_ENOMEM;
  }
  if (!rc) {
    *out = build(&s);
    if (!*out) rc = LH_ENOMEM;
  }
  lh_session_close(&s);
  return rc;
}

const lh_bind *lh_result_binds(const lh_result *r, size_t *n) {
  *n = r ? r->n_binds : 0;
  return r ? r->binds : NULL;
}
const lh_eviction *lh_result_evictions(const lh_result *r, size_t *n) {
  *n = r ? r->n_evs : 0;
  return r ? r->evs : NULL;
}
const lh_pending *lh_result_pending(const lh_result *r, size_t *n) {
  *n = r ? r->n_pend : 0;
  return r ? r->pend : NULL;
}
const int32_t *lh_result_admitted(const lh_result *r, size_t *n) {
  *n = r ? r->n_adm : 0;
  return r ? r->adm : NULL;
}
const lh_queue_share *lh_result_queues(const lh_result *r, size_t *n) {
  *n = r ? r->n_qs : 0;
  return r ? r->qs : NULL;
}
const char *lh_result_group_reason(const lh_result *r, int g) {
  if (!r || g < 0 || (size_t)g >= r->n_groups || r->pend_of_group[g] < 0) return NULL;
  return r->pend[r->pend_of_group[g]].reason;
}

void lh_result_free(lh_result *r) {
  if (!r) return;
  free(r->binds);
  free(r->evs);
  free(r->pend);
  free(r->adm);
  free(r->qs);
  free(r->pend_of_group);
  free(r->strs);
  free(r);
}
