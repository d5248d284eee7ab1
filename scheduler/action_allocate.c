/* action_allocate.c — Volcano's allocate. Phase 1 (lahar's answer to the node-drain problem):
 * gangs that already run but fell below minMember are refilled first, before any fresh group can
 * take the room; one that cannot be refilled is released whole (lahar.releaseBrokenGang).
 * Phase 2: queues are walked as a tree (hierarchy-aware, see pick_queue) to the leaf with the
 * lowest share, which is served one group at a time in job order; an overused leaf is skipped. Each group is tried all-or-nothing by lh_allocate_group. */
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
                lh_strtab_str(&s->snap->names, s->snap->queues[q].name), lh_res_name(best), a, b);
}

/* A group on a queue with child queues is never scheduled (Volcano: jobs go to leaf queues);
 * enqueue refuses it, and so do allocate and backfill when the snapshot says it is admitted. */
static bool on_leaf(lh_session *s, int32_t g) {
  int32_t q = s->snap->groups[g].queue;
  if (s->queues[q].leaf) return true;
  if (!s->groups[g].reason)
    lh_set_reason(s, g, "queue %s has child queues; groups must use a leaf queue",
                  lh_strtab_str(&s->snap->names, s->snap->queues[q].name));
  return false;
}

static bool wants_allocate(lh_session *s, int32_t g) {
  return admitted(s, g) && !s->groups[g].tried &&
         (has_pending(s, g, true) || (lh_group_need(s, g) > 0 && has_pending(s, g, false)));
}

/* Hierarchical queue order (Volcano's hdrf idea over proportion's shares): starting at the top
 * level, take the child with the lowest share of its deserved (lh_queue_cmp) among those whose
 * subtree still has groups to try, and descend until a leaf. With flat queues this is simply
 * the lowest-share queue. kids[koff[p+1] .. koff[p+2]) are the children of p (p = -1: roots);
 * work[q] counts groups left in q's subtree. Returns -1 when nothing is left. */
static int32_t pick_queue(const lh_session *s, const int32_t *koff, const int32_t *kids,
                          const int32_t *work) {
  int32_t at = -1;
  for (;;) {
    int32_t best = -1;
    for (int32_t i = koff[at + 1]; i < koff[at + 2]; i++) {
      int32_t q = kids[i];
      if (work[q] > 0 && (best < 0 || lh_queue_cmp(s, q, best) < 0)) best = q;
    }
    if (best < 0) return at;
    at = best;
  }
}

static void work_sub(const lh_snapshot *sn, int32_t *work, int32_t q, int32_t n) {
  for (; q >= 0; q = sn->queues[q].parent) work[q] -= n;
}

int lh_action_allocate(lh_session *s) {
  const lh_snapshot *sn = s->snap;
  size_t nq = sn->n_queues, ng = sn->n_groups;
  int32_t *list = lh_malloc((ng + 1) * sizeof(int32_t)), *off = lh_calloc(nq + 1, sizeof(int32_t));
  int32_t *pos = lh_calloc(nq + 1, sizeof(int32_t)), *work = lh_calloc(nq + 1, sizeof(int32_t));
  int32_t *koff = lh_calloc(nq + 2, sizeof(int32_t)), *kids = lh_malloc((nq + 1) * sizeof(int32_t));
  if (!list || !off || !pos || !work || !koff || !kids) {
    free(list), free(off), free(pos), free(work), free(koff), free(kids);
    return LH_ENOMEM;
  }
  repair_phase(s, list);
  /* per-queue lists of admitted groups with pending non-best-effort work (or a gang need) */
  for (size_t g = 0; g < ng; g++)
    if (wants_allocate(s, (int32_t)g) && on_leaf(s, (int32_t)g)) off[sn->groups[g].queue + 1]++;
  for (size_t q = 0; q < nq; q++) off[q + 1] += off[q];
  memcpy(pos, off, nq * sizeof(int32_t));
  for (size_t g = 0; g < ng; g++)
    if (wants_allocate(s, (int32_t)g) && s->queues[sn->groups[g].queue].leaf)
      list[pos[sn->groups[g].queue]++] = (int32_t)g;
  for (size_t q = 0; q < nq; q++) {
    lh_sort_groups(s, list + off[q], (size_t)(off[q + 1] - off[q]));
    pos[q] = off[q];
    work_sub(sn, work, (int32_t)q, -(off[q + 1] - off[q]));
  }
  /* children lists by parent (index order), the roots under the virtual parent -1 */
  for (size_t q = 0; q < nq; q++) koff[sn->queues[q].parent + 2]++;
  for (size_t i = 0; i < nq + 1; i++) koff[i + 1] += koff[i];
  {
    int32_t *cur = lh_malloc((nq + 2) * sizeof(int32_t));
    if (!cur) {
      free(list), free(off), free(pos), free(work), free(koff), free(kids);
      return LH_ENOMEM;
    }
    memcpy(cur, koff, (nq + 2) * sizeof(int32_t));
    for (size_t q = 0; q < nq; q++) kids[cur[sn->queues[q].parent + 1]++] = (int32_t)q;
    free(cur);
  }
  while (!s->oom) {
    int32_t best = pick_queue(s, koff, kids, work);
    if (best < 0) break;
    if (lh_queue_overused(s, best)) {
      work_sub(sn, work, best, off[best + 1] - pos[best]);
      for (; pos[best] < off[best + 1]; pos[best]++)
        if (lh_group_need(s, list[pos[best]]) > 0) overused_reason(s, best, list[pos[best]]);
      continue;
    }
    int32_t g = list[pos[best]++];
    work_sub(sn, work, best, 1);
    s->groups[g].tried = true;
    lh_allocate_group(s, g, LH_MODE_ALLOCATE);
  }
  free(list), free(off), free(pos), free(work), free(koff), free(kids);
  return s->oom ? LH_ENOMEM : 0;
}

/* Backfill: best-effort tasks (no requests) of admitted groups fill what is left, ignoring queue
 * shares (they use no share), still all-or-nothing for a gang that needs them. */
int lh_action_backfill(lh_session *s) {
  const lh_snapshot *sn = s->snap;
  int32_t *list = lh_malloc((sn->n_groups + 1) * sizeof(int32_t));
  if (!list) return LH_ENOMEM;
  size_t n = 0;
  for (size_t g = 0; g < sn->n_groups; g++) {
    int32_t gi = (int32_t)g;
    if (!admitted(s, gi) || !on_leaf(s, gi)) continue;
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
