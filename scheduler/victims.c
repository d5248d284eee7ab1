/* victims.c — making room for a starving gang by eviction, shared by reclaim (victims from other,
 * reclaimable queues above their deserved share) and preempt (lower-priority groups of the same
 * queue). Beneficiary tasks are pipelined (bound next cycle, once the victims have gone); the
 * whole attempt is one statement, committed only if the gang is then ready.
 *
 * INDEX. Once per cycle (on the first attempt) the session gets a victim index: for every
 * (queue, cluster) the ascending list of dedicated nodes running tasks of that queue. An attempt
 * in cluster c looks only at the union of the lists of the queues that may lose tasks (reclaim:
 * other reclaimable queues above their deserved share; preempt: the group's own queue) plus the
 * nodes whose future free room (releasing tasks included) can already hold one of the tasks.
 * Every other node can neither hold the task nor be freed, so it is never visited: an attempt
 * costs O(nodes) once for the free-room list, then O(candidates x tasks on them) per task.
 *
 * VICTIM CHOICE (per task, per candidate node). A node whose future free room fits costs nothing
 * and wins at once (first in node order). Otherwise its eligible victims are sorted lowest group
 * priority, then task priority first; surplus gang members before whole gangs; among equals the
 * larger first (one big victim beats several small ones of the same priority), then youngest.
 * They are taken greedily until the task fits, then every taken victim the others make
 * unnecessary is dropped again (highest priority first). Nodes compare by the highest victim
 * priority (lower wins), then by the number of evicted tasks, then node order. So the rule is
 * "lowest priority first, then fewest": a higher-priority task is never evicted to spare several
 * lower-priority ones, because priority is a promise to users while the victim count is only a
 * cost — Volcano orders victims by priority the same way.
 *
 * QUEUE RULES. Reclaim simulates the victim queues: a victim is taken only while its queue, minus
 * everything already chosen in this attempt (earlier tasks of the gang through the statement,
 * earlier victims for this task through a per-queue tally), is still above its deserved share in
 * some dimension — Volcano proportion's Reclaimable rule, so a queue can drop below deserved by
 * at most the last victim taken from it, never by several. The reclaiming queue (and each
 * ancestor) must stay within its deserved share with the whole gang's new tasks counted
 * (proportion's Preemptive, switch enablePreemptive) and within its capability.
 * GANG RULE. A victim whose gang would drop below minMember takes its whole gang with it, so no
 * other gang is ever left broken. Members bound (ALLOCATED) or pipelined earlier in this cycle
 * count towards minMember like running ones (Volcano's gang plugin counts Allocated/Pipelined
 * tasks as occupied), and they are never victims themselves: their statement was committed —
 * Volcano dispatches a committed bind and no later statement of the session can take it back.
 * So a gang that got tasks in this cycle may lose surplus running members, but is never chosen
 * as a whole-gang victim in the same cycle (that would evict its running members and leave the
 * fresh binds behind, the gang partly placed); it becomes one next cycle, once those tasks run.
 * Only the binds of the evicting statement itself are discarded, by its own discard. CONFORMANCE. Tasks of groups in namespace kube-system and
 * critical tasks (group or task priority >= 2000000000, Kubernetes' system-critical range) are
 * never victims. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/session.h"

/* Kubernetes' SystemCriticalPriority: system-cluster-critical / system-node-critical and above */
#define CRITICAL_PRIORITY 2000000000

typedef struct {
  int32_t task, group;
  int32_t gprio, tprio;
  bool whole; /* evicting it takes the whole gang */
  double size; /* fraction of the node it frees (its own request) */
  int64_t ctime;
} victim;

struct lh_vindex {
  int32_t *off;   /* key q * n_clusters + c -> qn[off[key] .. off[key+1]) */
  int32_t *qn;    /* dedicated node bins, ascending, distinct per key */
  int32_t maxv;   /* most tasks on one bin */
  victim *vs, *best_vs;
  lh_res *ufreed; /* per taken unit: what it frees on the node being costed */
  int32_t *upods, *ucnt;
  int32_t *gtaken; /* per group while costing one node: members taken singly, -1 = whole gang */
  lh_res *qtake;  /* per queue: taken while costing one node */
  int32_t *qtouched;
  uint32_t *stamp; /* per bin: candidate mark */
  uint32_t epoch;
  int32_t *cand;  /* candidate bins of one attempt */
};

void lh_vindex_free(lh_vindex *x) {
  if (!x) return;
  free(x->off);
  free(x->qn);
  free(x->vs);
  free(x->best_vs);
  free(x->ufreed);
  free(x->upods);
  free(x->ucnt);
  free(x->gtaken);
  free(x->qtake);
  free(x->qtouched);
  free(x->stamp);
  free(x->cand);
  free(x);
}

/* Builds the index from the session's current task states. NULL on out of memory. */
static lh_vindex *vindex_build(const lh_session *s) {
  const lh_snapshot *sn = s->snap;
  size_t nn = sn->n_nodes, nc = sn->n_clusters, nq = sn->n_queues, nb = nn + nc;
  size_t nkeys = nq * nc;
  lh_vindex *x = lh_calloc(1, sizeof(*x));
  if (!x) return NULL;
  int32_t maxv = 1;
  for (size_t b = 0; b < nb; b++)
    if (s->b_off[b + 1] - s->b_off[b] > maxv) maxv = s->b_off[b + 1] - s->b_off[b];
  x->maxv = maxv;
  x->off = lh_calloc(nkeys + 1, sizeof(int32_t));
  int32_t *last = lh_malloc((nkeys + 1) * sizeof(int32_t));
  x->vs = lh_malloc((size_t)maxv * sizeof(victim));
  x->best_vs = lh_malloc((size_t)maxv * sizeof(victim));
  x->ufreed = lh_malloc((size_t)maxv * sizeof(lh_res));
  x->upods = lh_malloc((size_t)maxv * sizeof(int32_t));
  x->ucnt = lh_malloc((size_t)maxv * sizeof(int32_t));
  x->gtaken = lh_calloc(sn->n_groups + 1, sizeof(int32_t));
  x->qtake = lh_calloc(nq + 1, sizeof(lh_res));
  x->qtouched = lh_malloc((nq + 1) * sizeof(int32_t));
  x->stamp = lh_calloc(nb + 1, sizeof(uint32_t));
  x->cand = lh_malloc((nn + 1) * sizeof(int32_t));
  if (!x->off || !last || !x->vs || !x->best_vs || !x->ufreed || !x->upods || !x->ucnt ||
      !x->gtaken || !x->qtake || !x->qtouched || !x->stamp || !x->cand)
    goto oom;
  /* two passes over the bins in ascending order: lists come out sorted and, with `last`,
     distinct; the second pass fills through a cursor per key (cur) */
  int32_t *cur = NULL;
  for (int pass = 0; pass < 2; pass++) {
    for (size_t k = 0; k < nkeys; k++) last[k] = -1;
    for (size_t b = 0; b < nn; b++)
      for (int32_t i = s->b_off[b]; i < s->b_off[b + 1]; i++) {
        int32_t t = s->b_tasks[i];
        if (s->tst[t] != TS_RUNNING) continue;
        size_t key = (size_t)sn->groups[sn->tasks[t].group].queue * nc + (size_t)sn->nodes[b].cluster;
        if (last[key] == (int32_t)b) continue;
        last[key] = (int32_t)b;
        if (pass == 0) x->off[key + 1]++;
        else x->qn[cur[key]++] = (int32_t)b;
      }
    if (pass == 0) {
      for (size_t k = 0; k < nkeys; k++) x->off[k + 1] += x->off[k];
      x->qn = lh_malloc(((size_t)x->off[nkeys] + 1) * sizeof(int32_t));
      cur = lh_malloc((nkeys + 1) * sizeof(int32_t));
      if (!x->qn || !cur) {
        free(cur);
        goto oom;
      }
      memcpy(cur, x->off, (nkeys + 1) * sizeof(int32_t));
    }
  }
  free(cur);
  free(last);
  return x;
oom:
  free(last);
  lh_vindex_free(x);
  return NULL;
}

/* Victim order; the last ties go to the group uid and task name, never to insertion order. */
static int victim_cmp(const void *a, const void *b, void *ctx) {
  const victim *x = a, *y = b;
  const lh_snapshot *sn = ctx;
  if (x->gprio != y->gprio) return x->gprio < y->gprio ? -1 : 1;
  if (x->tprio != y->tprio) return x->tprio < y->tprio ? -1 : 1;
  if (x->whole != y->whole) return x->whole ? 1 : -1;
  if (x->size != y->size) return x->size > y->size ? -1 : 1;
  if (x->ctime != y->ctime) return x->ctime > y->ctime ? -1 : 1;
  int c = strcmp(lh_strtab_str(&sn->names, sn->groups[x->group].uid),
                 lh_strtab_str(&sn->names, sn->groups[y->group].uid));
  if (c) return c > 0 ? -1 : 1; /* mirrors "youngest first": the larger uid first */
  c = strcmp(lh_strtab_str(&sn->names, sn->tasks[x->task].name),
             lh_strtab_str(&sn->names, sn->tasks[y->task].name));
  return c > 0 ? -1 : c < 0;
}

static bool reclaim_checks_queues(const lh_session *s) {
  return lh_conf_hook(s->conf, LH_PL_PROPORTION, LH_HOOK_RECLAIMABLE);
}

/* Is queue q, less `take`, still above its deserved share in some dimension? */
static bool queue_over_less(const lh_session *s, int32_t q, const lh_res *take) {
  for (int d = 0; d < LH_RES_N; d++)
    if (s->queues[q].alloc.v[d] - take->v[d] > s->queues[q].deserved.v[d]) return true;
  return false;
}

/* May tasks of group G be victims for group J? (queue-level state is checked by the caller) */
static bool eligible(const lh_session *s, int32_t J, int32_t G, lh_evict_reason mode) {
  const lh_snapshot *sn = s->snap;
  const lh_m_group *mj = &sn->groups[J], *mg = &sn->groups[G];
  unsigned hook = mode == LH_EVICT_RECLAIM ? LH_HOOK_RECLAIMABLE : LH_HOOK_PREEMPTABLE;
  if (G == J) return false;
  if (lh_conf_hook(s->conf, LH_PL_CONFORMANCE, hook) &&
      (mg->priority >= CRITICAL_PRIORITY ||
       !strcmp(lh_strtab_str(&sn->names, mg->ns), "kube-system")))
    return false;
  if (mode == LH_EVICT_RECLAIM)
    return mg->queue != mj->queue && sn->queues[mg->queue].reclaimable;
  if (mg->queue != mj->queue) return false;
  if (!lh_conf_hook(s->conf, LH_PL_PRIORITY, LH_HOOK_PREEMPTABLE)) return false;
  return mg->priority < mj->priority;
}

/* May queue q lose tasks in this attempt at all (the per-attempt candidate filter)? */
static bool queue_may_lose(const lh_session *s, int32_t q, int32_t jq, lh_evict_reason mode) {
  const lh_snapshot *sn = s->snap;
  if (mode == LH_EVICT_PREEMPT) return q == jq;
  if (q == jq || !sn->queues[q].reclaimable) return false;
  static const lh_res zero = {{0}};
  return !reclaim_checks_queues(s) || queue_over_less(s, q, &zero);
}

static bool fits_with(const lh_bin *b, const lh_res *r, const lh_res *freed, int32_t pods_freed) {
  if (b->max_pods != INT32_MAX &&
      b->pods_used - b->pods_rel + b->pods_pipe - pods_freed + 1 > b->max_pods)
    return false;
  for (int d = 0; d < LH_RES_N; d++)
    if (r->v[d] > b->alloc.v[d] - b->used.v[d] + b->rel.v[d] - b->pipe.v[d] + freed->v[d])
      return false;
  return true;
}

/* Costs bin b for task t. Returns false if no victim set fits; else x->vs[0..*nv) holds the
 * chosen victims (one entry per unit: a task, or a gang when .whole), *maxprio the highest victim
 * group priority and *count the number of tasks evicted. */
static bool cost_bin(lh_session *s, lh_vindex *x, int32_t J, int32_t t, int32_t b,
                     lh_evict_reason mode, int32_t *nv, int32_t *maxprio, int32_t *count) {
  const lh_snapshot *sn = s->snap;
  const lh_res *r = &sn->tasks[t].req;
  const lh_bin *bin = &s->bins[b];
  static const lh_res zero = {{0}};
  *nv = 0;
  *maxprio = INT32_MIN;
  *count = 0;
  if (fits_with(bin, r, &zero, 0)) return true;
  victim *vs = x->vs;
  int32_t n = 0;
  bool gang = lh_conf_hook(s->conf, LH_PL_GANG,
                           mode == LH_EVICT_RECLAIM ? LH_HOOK_RECLAIMABLE : LH_HOOK_PREEMPTABLE);
  for (int32_t k = s->b_off[b]; k < s->b_off[b + 1]; k++) {
    int32_t v = s->b_tasks[k];
    if (s->tst[v] != TS_RUNNING) continue;
    int32_t G = sn->tasks[v].group;
    if (!eligible(s, J, G, mode)) continue;
    if (sn->tasks[v].priority >= CRITICAL_PRIORITY &&
        lh_conf_hook(s->conf, LH_PL_CONFORMANCE,
                     mode == LH_EVICT_RECLAIM ? LH_HOOK_RECLAIMABLE : LH_HOOK_PREEMPTABLE))
      continue;
    double size = 0;
    for (int d = 0; d < LH_RES_N; d++)
      if (bin->alloc.v[d] > 0) size += (double)sn->tasks[v].req.v[d] / (double)bin->alloc.v[d];
    vs[n++] = (victim){.task = v, .group = G, .gprio = sn->groups[G].priority,
                       .tprio = sn->tasks[v].priority,
                       .whole = gang && s->groups[G].ready - 1 < sn->groups[G].min_member,
                       .size = size, .ctime = sn->groups[G].ctime};
  }
  if (n == 0) return false;
  qsort_r(vs, (size_t)n, sizeof(*vs), victim_cmp, (void *)sn);
  bool qcheck = mode == LH_EVICT_RECLAIM && reclaim_checks_queues(s);
  int32_t nt = 0; /* queues touched in qtake */
  lh_res freed = {{0}};
  int32_t pods = 0, m = 0;
  bool ok = false;
  for (int32_t i = 0; i < n && !ok; i++) {
    int32_t G = vs[i].group, q = sn->groups[G].queue;
    if (x->gtaken[G] < 0) continue; /* already going as a whole gang */
    /* the gang rule counts the members this costing already took: the one that would leave
       the gang below minMember takes the whole gang instead */
    if (gang && s->groups[G].ready - x->gtaken[G] - 1 < sn->groups[G].min_member)
      vs[i].whole = true;
    /* a gang placed in this very cycle (binds committed, or pipelined tasks waiting) is never a
       whole-gang victim: its new tasks are decisions already made, so evicting its running
       members would leave it partly placed (see GANG RULE above) */
    if (vs[i].whole && s->groups[G].fresh > 0) continue;
    lh_res uf = {{0}}, ut = {{0}}; /* freed on this node; taken from the queue */
    int32_t up = 0, uc = 0;
    if (vs[i].whole) {
      for (int32_t k = s->g_off[G]; k < s->g_off[G + 1]; k++) {
        int32_t y = s->g_tasks[k];
        if (s->tst[y] != TS_RUNNING) continue;
        bool single = false; /* already a unit of its own */
        for (int32_t j = 0; j < m && !single; j++) single = !vs[j].whole && vs[j].task == y;
        if (single) continue;
        uc++;
        lh_res_add(&ut, &sn->tasks[y].req);
        if (s->tbin[y] == b) {
          lh_res_add(&uf, &sn->tasks[y].req);
          up++;
        }
      }
    } else {
      uc = 1, up = 1;
      uf = ut = sn->tasks[vs[i].task].req;
    }
    if (qcheck) {
      /* Volcano's rule: the queue, less what this attempt already took, must still be above
         its deserved share before this unit goes */
      if (!queue_over_less(s, q, &x->qtake[q])) continue;
      bool seen = false;
      for (int32_t j = 0; j < nt && !seen; j++) seen = x->qtouched[j] == q;
      if (!seen) x->qtouched[nt++] = q;
      lh_res_add(&x->qtake[q], &ut);
    }
    x->gtaken[G] = vs[i].whole ? -1 : x->gtaken[G] + 1;
    lh_res_add(&freed, &uf);
    pods += up;
    x->ufreed[m] = uf, x->upods[m] = up, x->ucnt[m] = uc;
    vs[m++] = vs[i];
    ok = fits_with(bin, r, &freed, pods);
  }
  for (int32_t i = 0; i < m; i++) x->gtaken[vs[i].group] = 0;
  for (int32_t j = 0; j < nt; j++) x->qtake[x->qtouched[j]] = zero;
  if (!ok) return false;
  /* drop what the others make unnecessary, highest priority first (the last one taken is the
     one that made the task fit; dropping others never raises the highest victim priority) */
  for (int32_t i = m - 2; i >= 0; i--) {
    lh_res f = freed;
    lh_res_sub(&f, &x->ufreed[i]);
    if (!fits_with(bin, r, &f, pods - x->upods[i])) continue;
    freed = f;
    pods -= x->upods[i];
    memmove(&vs[i], &vs[i + 1], (size_t)(m - i - 1) * sizeof(*vs));
    memmove(&x->ufreed[i], &x->ufreed[i + 1], (size_t)(m - i - 1) * sizeof(lh_res));
    memmove(&x->upods[i], &x->upods[i + 1], (size_t)(m - i - 1) * sizeof(int32_t));
    memmove(&x->ucnt[i], &x->ucnt[i + 1], (size_t)(m - i - 1) * sizeof(int32_t));
    m--;
  }
  for (int32_t i = 0; i < m; i++) {
    *count += x->ucnt[i];
    if (vs[i].gprio > *maxprio) *maxprio = vs[i].gprio;
  }
  *nv = m;
  return true;
}

static int cmp_i32(const void *a, const void *b) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return x < y ? -1 : x > y;
}

/* Candidate bins of dedicated cluster c for this attempt (ascending): nodes of the queues that
 * may lose tasks, and nodes whose future free room holds the componentwise smallest task. */
static int32_t candidates(lh_session *s, lh_vindex *x, int32_t c, int32_t jq,
                          lh_evict_reason mode, const lh_res *minreq) {
  const lh_snapshot *sn = s->snap;
  size_t nc = sn->n_clusters;
  static const lh_res zero = {{0}};
  if (++x->epoch == 0) { /* wrapped: clear the marks once */
    memset(x->stamp, 0, (sn->n_nodes + nc + 1) * sizeof(uint32_t));
    x->epoch = 1;
  }
  int32_t n = 0;
  for (size_t q = 0; q < sn->n_queues; q++) {
    if (!queue_may_lose(s, (int32_t)q, jq, mode)) continue;
    size_t key = q * nc + (size_t)c;
    for (int32_t i = x->off[key]; i < x->off[key + 1]; i++) {
      int32_t b = x->qn[i];
      if (x->stamp[b] == x->epoch) continue;
      x->stamp[b] = x->epoch;
      x->cand[n++] = b;
    }
  }
  for (int32_t k = s->cl_off[c]; k < s->cl_off[c + 1]; k++) {
    int32_t b = s->cl_nodes[k];
    if (x->stamp[b] != x->epoch && fits_with(&s->bins[b], minreq, &zero, 0)) {
      x->stamp[b] = x->epoch;
      x->cand[n++] = b;
    }
  }
  qsort(x->cand, (size_t)n, sizeof(int32_t), cmp_i32);
  return n;
}

/* Would the gang's new tasks P[0..np) keep queue chain of q within deserved (reclaim) and
 * capability? On false writes the reason into why. */
static bool within_share(lh_session *s, int32_t q, const int32_t *P, int32_t np,
                         lh_evict_reason mode, char *why, size_t n) {
  const lh_snapshot *sn = s->snap;
  lh_res sum = {{0}};
  for (int32_t i = 0; i < np; i++) lh_res_add(&sum, &sn->tasks[P[i]].req);
  if (lh_conf_hook(s->conf, LH_PL_PROPORTION, LH_HOOK_ALLOCATABLE) &&
      !lh_queue_fits_capability(s, q, &sum, false, why, n))
    return false;
  if (mode != LH_EVICT_RECLAIM || !lh_conf_hook(s->conf, LH_PL_PROPORTION, LH_HOOK_PREEMPTIVE))
    return true;
  for (; q >= 0; q = sn->queues[q].parent)
    for (int d = 0; d < LH_RES_N; d++) {
      if (sum.v[d] == 0) continue;
      int64_t after = s->queues[q].alloc.v[d] + sum.v[d];
      if (after <= s->queues[q].deserved.v[d]) continue;
      char a[32], b[32];
      lh_fmt_qty(a, sizeof a, d, after);
      lh_fmt_qty(b, sizeof b, d, s->queues[q].deserved.v[d]);
      snprintf(why, n, "reclaim would take queue %s beyond its deserved share: %s %s/%s",
               lh_strtab_str(&sn->names, sn->queues[q].name), lh_res_name(d), a, b);
      return false;
    }
  return true;
}

bool lh_evict_for(lh_session *s, int32_t J, lh_evict_reason mode) {
  const lh_snapshot *sn = s->snap;
  lh_sgroup *sj = &s->groups[J];
  int32_t need = lh_group_need(s, J);
  if (need <= 0) return false;
  if (!s->vx && !(s->vx = vindex_build(s))) {
    s->oom = 1;
    return false;
  }
  lh_vindex *x = s->vx;
  int32_t *P = lh_arena_alloc(&s->arena, (size_t)need * sizeof(int32_t));
  if (!P) {
    s->oom = 1;
    return false;
  }
  int32_t np = 0;
  for (int pass = 0; pass < 2 && np < need; pass++)
    for (int32_t k = s->g_off[J]; k < s->g_off[J + 1] && np < need; k++) {
      int32_t t = s->g_tasks[k];
      if (s->tst[t] == TS_PENDING && lh_task_is_be(&sn->tasks[t]) == (pass == 1)) P[np++] = t;
    }
  if (np < need) return false;
  int32_t jq = sn->groups[J].queue;
  char why[256];
  if (!within_share(s, jq, P, np, mode, why, sizeof why)) {
    lh_set_reason(s, J, "%s", why);
    return false;
  }
  lh_res minreq = sn->tasks[P[0]].req;
  for (int32_t i = 1; i < np; i++)
    for (int d = 0; d < LH_RES_N; d++)
      if (sn->tasks[P[i]].req.v[d] < minreq.v[d]) minreq.v[d] = sn->tasks[P[i]].req.v[d];
  int32_t rc = sj->pinned;
  for (int32_t i = 0; i < np && rc < 0; i++) rc = sn->tmpls[sn->tasks[P[i]].tmpl].req_cluster;
  bool done = false;
  for (size_t ci = 0; ci < sn->n_clusters && !done && !s->oom; ci++) {
    int32_t c = (int32_t)ci;
    bool sls = sn->clusters[c].kind == LH_CLUSTER_SERVERLESS;
    if (rc >= 0 ? c != rc : (sls && !s->conf->serverless_burst)) continue;
    int32_t ncand = 1, sbin = (int32_t)sn->n_nodes + c;
    if (!sls) ncand = candidates(s, x, c, jq, mode, &minreq);
    if (ncand == 0) continue;
    size_t mark = lh_stmt_begin(s);
    int32_t evicted = 0;
    bool ok = true;
    for (int32_t i = 0; i < np && ok; i++) {
      int32_t t = P[i], bestb = -1, bestp = 0, bestc = 0, bestn = 0;
      for (int32_t k = 0; k < ncand; k++) {
        int32_t b = sls ? sbin : x->cand[k];
        if (!sls && lh_class_verdict(s, sn->tasks[t].tmpl, sn->nodes[b].klass)) continue;
        int32_t nv, mp, cnt;
        if (!cost_bin(s, x, J, t, b, mode, &nv, &mp, &cnt)) continue;
        if (bestb < 0 || mp < bestp || (mp == bestp && cnt < bestc)) {
          bestb = b, bestp = mp, bestc = cnt, bestn = nv;
          memcpy(x->best_vs, x->vs, (size_t)nv * sizeof(victim));
        }
        if (cnt == 0) break; /* free room: nothing beats it */
      }
      if (bestb < 0) {
        ok = false;
        break;
      }
      for (int32_t v = 0; v < bestn; v++) {
        int32_t G = x->best_vs[v].group;
        if (x->best_vs[v].whole) {
          for (int32_t k = s->g_off[G]; k < s->g_off[G + 1]; k++)
            if (s->tst[s->g_tasks[k]] == TS_RUNNING) {
              lh_stmt_evict(s, s->g_tasks[k], mode, J);
              evicted++;
            }
        } else if (s->tst[x->best_vs[v].task] == TS_RUNNING) {
          lh_stmt_evict(s, x->best_vs[v].task, mode, J);
          evicted++;
        }
      }
      lh_stmt_pipeline(s, t, c, bestb);
    }
    if (ok && !s->oom && lh_group_need(s, J) == 0) {
      lh_stmt_commit(s, mark);
      lh_set_reason(s, J, "waiting for %d evicted task%s to terminate (%s)", evicted,
                    evicted == 1 ? "" : "s", mode == LH_EVICT_RECLAIM ? "reclaim" : "preempt");
      done = true;
    } else {
      lh_stmt_discard(s, mark);
    }
  }
  return done;
}
