/* action_allocate.c — Volcano's allocate. Phase 1 (lahar's answer to the node-drain problem):
 * gangs that already run but fell below minMember are refilled first, before any fresh group can
 * take the room; one that cannot be refilled is released whole (lahar.releaseBrokenGang).
 * Phase 2: queues are walked as a tree (hierarchy-aware, lh_qtree_pick) to the leaf with the
 * lowest share counting its next task (QUEUE ORDER below), which is served one group at a time in
 * job order; an overused leaf is skipped. Each group is tried all-or-nothing by lh_allocate_group. */
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

/* Evicts the gang's running members. It has no tasks bound or pipelined in this cycle (which
 * would stay behind): lh_allocate_group discarded its own attempt, commits happen only once a gang
 * is ready, and victims.c never takes a gang with such tasks below minMember. */
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

/* The request of the next task group g would get: its first pending task with a request (task
 * order), all zero when it has none. The unit of Jefferson's divisor rule in the queue order. */
static lh_res next_unit(const lh_session *s, int32_t g) {
  for (int32_t k = s->g_off[g]; k < s->g_off[g + 1]; k++) {
    int32_t t = s->g_tasks[k];
    if (s->tst[t] == TS_PENDING && !lh_task_is_be(&s->snap->tasks[t])) return s->snap->tasks[t].req;
  }
  lh_res z = {{0}};
  return z;
}

/* QUEUE ORDER. Queues are walked as a tree (lh_qtree_pick, Volcano's hdrf idea over proportion's
 * shares): from the top, the child with the lowest share, down to a leaf. A queue's share is
 * counted *after* the next task it would get (Jefferson / D'Hondt apportionment) rather than
 * before it (Volcano's plain lowest-share order, which is Adams' method): with the overuse rule
 * (a leaf at or above its deserved share in every dimension is skipped) this keeps every queue
 * within one task of its water-filling share when demand exceeds supply. Ordering by the share
 * before allocating hands every small queue its first task first, even one that deserves half a
 * task, and a large queue can end several tasks short (4 one-task slots, weights 1, 1, 1, 5:
 * deserved 0.5, 0.5, 0.5, 2.5: Adams gives 1, 1, 1, 1; this order gives 1, 0, 0, 3). A gang
 * counts by one task, not by all of its members, so a starved queue's large gang is not put
 * behind every small group of the others (its first task, not its size, decides its turn).
 * Proof sketch for equal tasks of size T: if queue x ends below its share by more than T, every
 * task another queue y got while x was that low had (y's allocation + T) / y's share at most
 * (x's + T) / x's share < 1, so y stayed within its share; then the cluster is not full while x
 * still has work — a contradiction unless x's tasks do not fit on the nodes left. */
int lh_action_allocate(lh_session *s) {
  const lh_snapshot *sn = s->snap;
  size_t nq = sn->n_queues, ng = sn->n_groups;
  int32_t *list = lh_malloc((ng + 1) * sizeof(int32_t)), *off = lh_calloc(nq + 1, sizeof(int32_t));
  int32_t *pos = lh_calloc(nq + 1, sizeof(int32_t));
  lh_res *unit = lh_calloc(nq + 1, sizeof(lh_res));
  lh_qtree tr = {0};
  if (!list || !off || !pos || !unit || lh_qtree_init(s, &tr)) {
    free(list), free(off), free(pos), free(unit);
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
    lh_qtree_add(s, &tr, (int32_t)q, off[q + 1] - off[q]);
    if (off[q + 1] > off[q]) unit[q] = next_unit(s, list[off[q]]);
  }
  while (!s->oom) {
    int32_t best = lh_qtree_pick(s, &tr, unit);
    if (best < 0) break;
    if (lh_queue_overused(s, best)) {
      lh_qtree_add(s, &tr, best, -(off[best + 1] - pos[best]));
      for (; pos[best] < off[best + 1]; pos[best]++)
        if (lh_group_need(s, list[pos[best]]) > 0) overused_reason(s, best, list[pos[best]]);
      continue;
    }
    int32_t g = list[pos[best]++];
    lh_qtree_add(s, &tr, best, -1);
    if (pos[best] < off[best + 1]) unit[best] = next_unit(s, list[pos[best]]);
    s->groups[g].tried = true;
    lh_allocate_group(s, g, LH_MODE_ALLOCATE);
  }
  free(list), free(off), free(pos), free(unit);
  lh_qtree_free(&tr);
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
