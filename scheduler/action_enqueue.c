/* action_enqueue.c — Volcano's enqueue: admit a Pending group (phase -> Inqueue) only when its
 * queue is open, is a leaf, and can still hold the group's minResources within its capability
 * and deserved share counting what is allocated and what earlier admitted groups reserved
 * (proportion's JobEnqueueable), and, with overcommit, within the cluster times
 * overcommit-factor. Queues take turns in allocate's hierarchical queue order (a queue tree is
 * walked top down, lowest share first at every level), groups inside a queue in job order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/session.h"

static bool deserved_ok(lh_session *s, int32_t q, const lh_res *r, char *why, size_t n) {
  if (!lh_conf_hook(s->conf, LH_PL_PROPORTION, LH_HOOK_JOB_ENQUEUED)) return true;
  for (; q >= 0; q = s->snap->queues[q].parent) {
    const lh_squeue *sq = &s->queues[q];
    for (int d = 0; d < LH_RES_N; d++) {
      int64_t used = sq->alloc.v[d] + sq->inqueue.v[d];
      if (r->v[d] == 0 || used + r->v[d] <= sq->deserved.v[d]) continue;
      char a[32], b[32];
      lh_fmt_qty(a, sizeof a, d, used);
      lh_fmt_qty(b, sizeof b, d, sq->deserved.v[d]);
      snprintf(why, n, "queue %s deserved share exhausted: %s %s/%s",
               lh_strtab_str(&s->snap->names, s->snap->queues[q].name), lh_res_name(d), a, b);
      return false;
    }
  }
  return true;
}

static bool overcommit_ok(lh_session *s, const lh_res *r, char *why, size_t n) {
  if (!lh_conf_hook(s->conf, LH_PL_OVERCOMMIT, LH_HOOK_JOB_ENQUEUED)) return true;
  const lh_snapshot *sn = s->snap;
  for (int d = 0; d < LH_RES_N; d++) {
    if (r->v[d] == 0) continue;
    int64_t used = 0;
    for (size_t q = 0; q < sn->n_queues; q++)
      if (sn->queues[q].parent < 0) used += s->queues[q].alloc.v[d] + s->queues[q].inqueue.v[d];
    int64_t limit = (int64_t)((double)s->total.v[d] * s->conf->overcommit_factor);
    if (used + r->v[d] <= limit) continue;
    char a[32], b[32];
    lh_fmt_qty(a, sizeof a, d, used);
    lh_fmt_qty(b, sizeof b, d, limit);
    snprintf(why, n, "cluster overcommitted: %s %s/%s", lh_res_name(d), a, b);
    return false;
  }
  return true;
}

static void admit(lh_session *s, int32_t g) {
  const lh_m_group *mg = &s->snap->groups[g];
  s->groups[g].phase = LH_GROUP_INQUEUE;
  s->groups[g].admitted = true;
  for (int32_t q = mg->queue; q >= 0; q = s->snap->queues[q].parent)
    lh_res_add(&s->queues[q].inqueue, &mg->min_res);
  if (LH_GROW(s->admitted, s->cap_admitted, s->n_admitted + 1)) {
    s->oom = 1;
    return;
  }
  s->admitted[s->n_admitted++] = g;
}

static void try_enqueue(lh_session *s, int32_t g) {
  const lh_snapshot *sn = s->snap;
  const lh_m_group *mg = &sn->groups[g];
  const lh_m_queue *mq = &sn->queues[mg->queue];
  const char *qn = lh_strtab_str(&sn->names, mq->name);
  char why[256];
  if (mq->state != LH_QUEUE_OPEN) {
    lh_set_reason(s, g, "queue %s is %s", qn, mq->state == LH_QUEUE_CLOSED ? "closed" : "closing");
    return;
  }
  if (!s->queues[mg->queue].leaf) {
    lh_set_reason(s, g, "queue %s has child queues; groups must use a leaf queue", qn);
    return;
  }
  if (lh_res_is_zero(&mg->min_res)) {
    admit(s, g);
    return;
  }
  if ((lh_conf_hook(s->conf, LH_PL_PROPORTION, LH_HOOK_JOB_ENQUEUED) &&
       !lh_queue_fits_capability(s, mg->queue, &mg->min_res, true, why, sizeof why)) ||
      !deserved_ok(s, mg->queue, &mg->min_res, why, sizeof why) ||
      !overcommit_ok(s, &mg->min_res, why, sizeof why)) {
    lh_set_reason(s, g, "%s", why);
    return;
  }
  admit(s, g);
}

int lh_action_enqueue(lh_session *s) {
  const lh_snapshot *sn = s->snap;
  size_t nq = sn->n_queues;
  int32_t *off = lh_calloc(nq + 1, sizeof(int32_t)), *list = lh_malloc((sn->n_groups + 1) * sizeof(int32_t));
  int32_t *pos = lh_calloc(nq + 1, sizeof(int32_t)), *qs = lh_malloc((nq + 1) * sizeof(int32_t));
  lh_qtree tr = {0};
  if (!off || !list || !pos || !qs || lh_qtree_init(s, &tr)) {
    free(off), free(list), free(pos), free(qs);
    return LH_ENOMEM;
  }
  for (size_t g = 0; g < sn->n_groups; g++)
    if (s->groups[g].phase == LH_GROUP_PENDING) off[sn->groups[g].queue + 1]++;
  for (size_t q = 0; q < nq; q++) off[q + 1] += off[q];
  memcpy(pos, off, nq * sizeof(int32_t));
  for (size_t g = 0; g < sn->n_groups; g++)
    if (s->groups[g].phase == LH_GROUP_PENDING) list[pos[sn->groups[g].queue]++] = (int32_t)g;
  for (size_t q = 0; q < nq; q++) {
    lh_sort_groups(s, list + off[q], (size_t)(off[q + 1] - off[q]));
    pos[q] = off[q];
  }
  /* queue order is allocate's hierarchical walk (lowest share first at every level of the queue
     tree), and shares depend on allocations, which enqueue does not change: fix the order once
     (depth first, children by share), then take one group per queue per round */
  lh_qtree_order(s, &tr, qs);
  lh_qtree_free(&tr);
  for (bool any = true; any && !s->oom;) {
    any = false;
    for (size_t i = 0; i < nq; i++) {
      int32_t q = qs[i];
      if (pos[q] == off[q + 1]) continue;
      any = true;
      try_enqueue(s, list[pos[q]++]);
    }
  }
  free(off), free(list), free(pos), free(qs);
  return s->oom ? LH_ENOMEM : 0;
}
