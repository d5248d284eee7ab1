/* action_reclaim.c — Volcano's reclaim: a queue below its deserved share takes room back from
 * queues above theirs (only reclaimable ones), for its admitted groups that are still not ready,
 * groups in job order. Queues are taken in allocate's hierarchical order (lh_qtree_pick: from the
 * top of the queue tree, the child with the lowest share now, down to a leaf), one queue's groups
 * at a time, the tree walked again before each queue since reclaiming moves shares. Victim choice
 * lives in victims.c. */
#include <stdlib.h>
#include <string.h>

#include "scheduler/session.h"

static bool starving(const lh_session *s, int32_t g) {
  return s->queues[s->snap->groups[g].queue].leaf && s->groups[g].phase != LH_GROUP_PENDING &&
         lh_group_need(s, g) > 0;
}

static int starving_pass(lh_session *s, lh_evict_reason mode) {
  const lh_snapshot *sn = s->snap;
  size_t nq = sn->n_queues, ng = sn->n_groups;
  int32_t *list = lh_malloc((ng + 1) * sizeof(int32_t)), *off = lh_calloc(nq + 1, sizeof(int32_t));
  int32_t *pos = lh_calloc(nq + 1, sizeof(int32_t));
  lh_qtree tr = {0};
  if (!list || !off || !pos || lh_qtree_init(s, &tr)) {
    free(list), free(off), free(pos);
    return LH_ENOMEM;
  }
  /* per-leaf-queue lists of admitted groups short of minMember (groups on a queue with children
     are never scheduled, see action_allocate.c) */
  for (size_t g = 0; g < ng; g++)
    if (starving(s, (int32_t)g)) off[sn->groups[g].queue + 1]++;
  for (size_t q = 0; q < nq; q++) off[q + 1] += off[q];
  memcpy(pos, off, nq * sizeof(int32_t));
  for (size_t g = 0; g < ng; g++)
    if (starving(s, (int32_t)g)) list[pos[sn->groups[g].queue]++] = (int32_t)g;
  for (size_t q = 0; q < nq; q++) {
    pos[q] = off[q];
    lh_qtree_add(s, &tr, (int32_t)q, off[q + 1] - off[q]);
  }
  /* one queue at a time: its groups in job order until it has none left or (reclaim) is no
     longer below its deserved share, then the walk picks the next queue with today's shares */
  while (!s->oom) {
    int32_t q = lh_qtree_pick(s, &tr, NULL);
    if (q < 0) break;
    lh_qtree_add(s, &tr, q, -(off[q + 1] - pos[q]));
    lh_sort_groups(s, list + pos[q], (size_t)(off[q + 1] - pos[q]));
    for (; pos[q] < off[q + 1] && !s->oom; pos[q]++) {
      if (mode == LH_EVICT_RECLAIM && lh_queue_overused(s, q)) break;
      lh_evict_for(s, list[pos[q]], mode);
    }
  }
  free(list), free(off), free(pos);
  lh_qtree_free(&tr);
  return s->oom ? LH_ENOMEM : 0;
}

int lh_action_reclaim(lh_session *s) { return starving_pass(s, LH_EVICT_RECLAIM); }

/* Volcano's preempt: inside one queue, a higher-priority starving group evicts lower-priority
 * ones (priority plugin), with the same gang rule. */
int lh_action_preempt(lh_session *s) { return starving_pass(s, LH_EVICT_PREEMPT); }
