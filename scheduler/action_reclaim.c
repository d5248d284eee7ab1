/* action_reclaim.c — Volcano's reclaim: a queue below its deserved share takes room back from
 * queues above theirs (only reclaimable ones), for its admitted groups that are still not ready,
 * queues in share order and groups in job order. Victim choice lives in victims.c. */
#include <stdlib.h>

#include "scheduler/session.h"

static int starving_pass(lh_session *s, lh_evict_reason mode) {
  const lh_snapshot *sn = s->snap;
  int32_t *list = lh_malloc((sn->n_groups + 1) * sizeof(int32_t));
  int32_t *qs = lh_malloc((sn->n_queues + 1) * sizeof(int32_t));
  if (!list || !qs) {
    free(list), free(qs);
    return LH_ENOMEM;
  }
  for (size_t q = 0; q < sn->n_queues; q++) qs[q] = (int32_t)q;
  for (size_t i = 1; i < sn->n_queues; i++)
    for (size_t j = i; j > 0 && lh_queue_cmp(s, qs[j], qs[j - 1]) < 0; j--) {
      int32_t t = qs[j];
      qs[j] = qs[j - 1];
      qs[j - 1] = t;
    }
  for (size_t qi = 0; qi < sn->n_queues && !s->oom; qi++) {
    int32_t q = qs[qi];
    if (mode == LH_EVICT_RECLAIM && lh_queue_overused(s, q)) continue;
    size_t n = 0;
    for (size_t g = 0; g < sn->n_groups; g++)
      if (sn->groups[g].queue == q && s->groups[g].phase != LH_GROUP_PENDING &&
          lh_group_need(s, (int32_t)g) > 0)
        list[n++] = (int32_t)g;
    lh_sort_groups(s, list, n);
    for (size_t i = 0; i < n && !s->oom; i++) {
      if (mode == LH_EVICT_RECLAIM && lh_queue_overused(s, q)) break;
      lh_evict_for(s, list[i], mode);
    }
  }
  free(list), free(qs);
  return s->oom ? LH_ENOMEM : 0;
}

int lh_action_reclaim(lh_session *s) { return starving_pass(s, LH_EVICT_RECLAIM); }

/* Volcano's preempt: inside one queue, a higher-priority starving group evicts lower-priority
 * ones (priority plugin), with the same gang rule. */
int lh_action_preempt(lh_session *s) { return starving_pass(s, LH_EVICT_PREEMPT); }
