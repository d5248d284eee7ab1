/* action_allocate.c — Volcano's allocate. Phase 1 (lahar's answer to the node-drain problem):
 * gangs that already run but fell below minMember are refilled first, before any fresh group can
 * take the room; one that cannot be refilled is released whole (lahar.releaseBrokenGang).
 * Phase 2: the queue with the lowest share is served next, one group at a time in job order;
 * an overused queue is skipped. Each group is tried all-or-nothing by lh_allocate_group. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/session.h"

static bool admitted(const lh_session *s, int32_t g) {
  return s->groups[g].phase != LH_GROUP_PENDING;
}

static bool has_pending(const lh_session *s, int32_t g, bool nonbe_only) {
  for (int32_t k = s->g_off[g]; k < s->g_off[g + 1]; k++) {
    int32_t t = s->g_tasks[k];
    if (s->tst[t] == TS_PENDING && (!nonbe_only || !lh_task_is_be(&s->snap->tasks[t])))
      return true;
  }
  return false;
}

static void release_gang(lh_session *s, int32_t g) {
  size_t mark = lh_stmt_begin(s);
  for (int32_t k = s->g_off[g]; k < s->g_off[g + 1]; k++) {
    int32_t t = s->g_tasks[k];
    if (s->tst[t] == TS_RUNNING) lh_stmt_evict(s, t, LH_EVICT_GANG_BROKEN, -1);
  }
  lh_stmt_commit(s, mark);
}

static void repair_phase(lh_session *s, int32_t *list) {
  const lh_snapshot *sn = s->snap;
  size_t n = 0;
  for (size_t g = 0; g < sn->n_groups; g++)
    if (admitted(s, (int32_t)g) && s->groups[g].running > 0 && lh_group_need(s, (int32_t)g) > 0 &&
        lh_group_gang_on(s))
      list[n++] = (int32_t)g;
  lh_sort_groups(s, list, n);
  for (size_t i = 0; i < n && !s->oom; i++) {
    int32_t g = list[i];
    s->groups[g].tried = true;
    int32_t before = s->groups[g].ready + s->groups[g].waiting;
    if (lh_allocate_group(s, g, LH_MODE_ALLOCATE)) continue;
    if (!s->conf->release_broken_gang) continue;
    char why[512];
    snprintf(why, sizeof why, "%s", s->groups[g].reason ? s->groups[g].reason : "");
    release_gang(s, g);
    lh_set_reason(s, g, "gang %d/%d broken and released: %s", before, sn->groups[g].min_member,
                  why);
  }
}

static void overused_reason(lh_session *s, int32_t q, int32_t g) {
  const lh_squeue *sq = &s->queues[q];
  int best = 0;
  double bv = -1;
  for (int d = 0; d < LH_RES_N; d++) {
    double v = sq->deserved.v[d] ? (double)sq->alloc.v[d] / (double)sq->deserved.v[d]
                                 : (sq->alloc.v[d] ? 1e300 : 0);
    if (v > bv) bv = v, best = d;
  }
  char a[32], b[32];
  lh_fmt_qty(a, sizeof a, best, sq->alloc.v[best]);
  lh_fmt_qty(b, sizeof b, best, sq->deserved.v[best]);
  lh_set_reason(s, g, "queue %s over its deserved share: %s %s/%s",
                lh_intern_str(&s->snap->names, s->snap->queues[q].name), lh_res_name(best), a, b);
}

int lh_action_allocate(lh_session *s) {
  const lh_snapshot *sn = s->snap;
  size_t nq = sn->n_queues, ng = sn->n_groups;
  int32_t *list = malloc((ng + 1) * sizeof(int32_t)), *off = calloc(nq + 1, sizeof(int32_t));
  int32_t *pos = calloc(nq + 1, sizeof(int32_t));
  if (!list || !off || !pos) {
    free(list), free(off), free(pos);
    return LH_ENOMEM;
  }
  repair_phase(s, list);
  /* per-queue lists of admitted groups with pending non-best-effort work (or a gang need) */
  for (size_t g = 0; g < ng; g++) {
    int32_t gi = (int32_t)g;
    if (admitted(s, gi) && !s->groups[g].tried &&
        (has_pending(s, gi, true) || (lh_group_need(s, gi) > 0 && has_pending(s, gi, false))))
      off[sn->groups[g].queue + 1]++;
  }
  for (size_t q = 0; q < nq; q++) off[q + 1] += off[q];
  memcpy(pos, off, nq * sizeof(int32_t));
  for (size_t g = 0; g < ng; g++) {
    int32_t gi = (int32_t)g;
    if (admitted(s, gi) && !s->groups[g].tried &&
        (has_pending(s, gi, true) || (lh_group_need(s, gi) > 0 && has_pending(s, gi, false))))
      list[pos[sn->groups[g].queue]++] = gi;
  }
  for (size_t q = 0; q < nq; q++) {
    lh_sort_groups(s, list + off[q], (size_t)(off[q + 1] - off[q]));
    pos[q] = off[q];
  }
  while (!s->oom) {
    int32_t best = -1;
    for (size_t q = 0; q < nq; q++)
      if (pos[q] < off[q + 1] && (best < 0 || lh_queue_cmp(s, (int32_t)q, best) < 0))
        best = (int32_t)q;
    if (best < 0) break;
    if (lh_queue_overused(s, best)) {
      for (; pos[best] < off[best + 1]; pos[best]++)
        if (lh_group_need(s, list[pos[best]]) > 0) overused_reason(s, best, list[pos[best]]);
      continue;
    }
    int32_t g = list[pos[best]++];
    s->groups[g].tried = true;
    lh_allocate_group(s, g, LH_MODE_ALLOCATE);
  }
  free(list), free(off), free(pos);
  return s->oom ? LH_ENOMEM : 0;
}

/* Backfill: best-effort tasks (no requests) of admitted groups fill what is left, ignoring queue
 * shares (they use no share), still all-or-nothing for a gang that needs them. */
int lh_action_backfill(lh_session *s) {
  const lh_snapshot *sn = s->snap;
  int32_t *list = malloc((sn->n_groups + 1) * sizeof(int32_t));
  if (!list) return LH_ENOMEM;
  size_t n = 0;
  for (size_t g = 0; g < sn->n_groups; g++) {
    int32_t gi = (int32_t)g;
    if (!admitted(s, gi)) continue;
    int32_t be = 0;
    for (int32_t k = s->g_off[g]; k < s->g_off[g + 1]; k++)
      be += s->tst[s->g_tasks[k]] == TS_PENDING && lh_task_is_be(&sn->tasks[s->g_tasks[k]]);
    /* a gang that best-effort tasks alone cannot make ready keeps allocate's reason */
    if (be > 0 && lh_group_need(s, gi) <= be) list[n++] = gi;
  }
  lh_sort_groups(s, list, n);
  for (size_t i = 0; i < n && !s->oom; i++) lh_allocate_group(s, list[i], LH_MODE_BACKFILL);
  free(list);
  return s->oom ? LH_ENOMEM : 0;
}
