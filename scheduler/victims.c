/* victims.c — making room for a starving gang by eviction, shared by reclaim (victims from other,
 * reclaimable queues above their deserved share) and preempt (lower-priority groups of the same
 * queue). For each task the gang still needs, every feasible node is costed: a node whose future
 * free capacity (releasing tasks included) already fits costs nothing; otherwise victims on it
 * are taken lowest priority first, surplus gang members before whole gangs, youngest first, and
 * the node with the lowest (highest victim priority, number of evicted tasks) wins. A victim
 * whose gang would drop below minMember takes its whole gang with it (gang plugin), so no other
 * gang is ever left broken. Beneficiary tasks are pipelined (bound next cycle, once the victims
 * have gone); the whole attempt is one statement, committed only if the gang is then ready. */
#include <stdlib.h>
#include <string.h>

#include "scheduler/session.h"

typedef struct {
  int32_t task, group;
  int32_t gprio, tprio;
  bool whole; /* evicting it takes the whole gang */
  int64_t ctime;
} victim;

typedef struct {
  const lh_session *s;
} vctx;

static int victim_cmp(const void *a, const void *b) {
  const victim *x = a, *y = b;
  if (x->gprio != y->gprio) return x->gprio < y->gprio ? -1 : 1;
  if (x->tprio != y->tprio) return x->tprio < y->tprio ? -1 : 1;
  if (x->whole != y->whole) return x->whole ? 1 : -1;
  if (x->ctime != y->ctime) return x->ctime > y->ctime ? -1 : 1;
  return x->task > y->task ? -1 : x->task < y->task;
}

static bool queue_over(const lh_session *s, int32_t q) {
  if (!s->conf->on[LH_PL_PROPORTION]) return true;
  for (int d = 0; d < LH_RES_N; d++)
    if (s->queues[q].alloc.v[d] > s->queues[q].deserved.v[d]) return true;
  return false;
}

static bool eligible(const lh_session *s, int32_t J, int32_t G, lh_evict_reason mode) {
  const lh_snapshot *sn = s->snap;
  const lh_m_group *mj = &sn->groups[J], *mg = &sn->groups[G];
  unsigned hook = mode == LH_EVICT_RECLAIM ? LH_HOOK_RECLAIMABLE : LH_HOOK_PREEMPTABLE;
  if (G == J) return false;
  if (lh_conf_hook(s->conf, LH_PL_CONFORMANCE, hook) &&
      !strcmp(lh_intern_str(&sn->names, mg->ns), "kube-system"))
    return false;
  if (mode == LH_EVICT_RECLAIM) {
    if (mg->queue == mj->queue || !sn->queues[mg->queue].reclaimable) return false;
    if (lh_conf_hook(s->conf, LH_PL_PROPORTION, LH_HOOK_RECLAIMABLE) && !queue_over(s, mg->queue))
      return false;
    return true;
  }
  if (mg->queue != mj->queue) return false;
  if (!lh_conf_hook(s->conf, LH_PL_PRIORITY, LH_HOOK_PREEMPTABLE)) return false;
  return mg->priority < mj->priority;
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

/* Costs bin b for task t. Returns false if no victim set fits; else fills the chosen victims
 * (vs[0..*nv)), the cost (max victim group priority, evicted task count). */
static bool cost_bin(lh_session *s, int32_t J, int32_t t, int32_t b, lh_evict_reason mode,
                     victim *vs, int32_t *nv, int32_t *maxprio, int32_t *count, bool *taken) {
  const lh_snapshot *sn = s->snap;
  const lh_res *r = &sn->tasks[t].req;
  lh_res freed = {{0}};
  int32_t pods = 0;
  *nv = 0;
  *maxprio = INT32_MIN;
  *count = 0;
  if (fits_with(&s->bins[b], r, &freed, 0)) return true;
  int32_t n = 0;
  bool gang = lh_conf_hook(s->conf, LH_PL_GANG,
                           mode == LH_EVICT_RECLAIM ? LH_HOOK_RECLAIMABLE : LH_HOOK_PREEMPTABLE);
  for (int32_t k = s->b_off[b]; k < s->b_off[b + 1]; k++) {
    int32_t v = s->b_tasks[k];
    if (s->tst[v] != TS_RUNNING) continue;
    int32_t G = sn->tasks[v].group;
    if (!eligible(s, J, G, mode)) continue;
    const lh_sgroup *sg = &s->groups[G];
    vs[n++] = (victim){.task = v, .group = G, .gprio = sn->groups[G].priority,
                       .tprio = sn->tasks[v].priority,
                       .whole = gang && sg->ready - 1 < sn->groups[G].min_member,
                       .ctime = sn->groups[G].ctime};
  }
  qsort(vs, (size_t)n, sizeof(*vs), victim_cmp);
  int32_t m = 0;
  for (int32_t i = 0; i < n; i++) {
    int32_t G = vs[i].group;
    if (taken[G]) continue; /* already going as a whole gang */
    if (vs[i].whole) {
      taken[G] = true;
      for (int32_t k = s->g_off[G]; k < s->g_off[G + 1]; k++) {
        int32_t x = s->g_tasks[k];
        if (s->tst[x] != TS_RUNNING) continue;
        (*count)++;
        if (s->tbin[x] == b) {
          lh_res_add(&freed, &sn->tasks[x].req);
          pods++;
        }
      }
    } else {
      (*count)++;
      lh_res_add(&freed, &sn->tasks[vs[i].task].req);
      pods++;
    }
    if (vs[i].gprio > *maxprio) *maxprio = vs[i].gprio;
    vs[m++] = vs[i];
    if (fits_with(&s->bins[b], r, &freed, pods)) break;
  }
  for (int32_t i = 0; i < m; i++) taken[vs[i].group] = false;
  *nv = m;
  return fits_with(&s->bins[b], r, &freed, pods);
}

bool lh_evict_for(lh_session *s, int32_t J, lh_evict_reason mode) {
  const lh_snapshot *sn = s->snap;
  lh_sgroup *sj = &s->groups[J];
  int32_t need = lh_group_need(s, J);
  if (need <= 0) return false;
  int32_t *P = lh_arena_alloc(&s->arena, (size_t)need * sizeof(int32_t));
  int32_t maxv = 1;
  for (int32_t b = 0; b < (int32_t)(sn->n_nodes + sn->n_clusters); b++)
    if (s->b_off[b + 1] - s->b_off[b] > maxv) maxv = s->b_off[b + 1] - s->b_off[b];
  victim *vs = malloc((size_t)maxv * sizeof(victim)), *best_vs = malloc((size_t)maxv * sizeof(victim));
  bool *taken = calloc(sn->n_groups + 1, sizeof(bool));
  if (!P || !vs || !best_vs || !taken) {
    free(vs), free(best_vs), free(taken);
    s->oom = 1;
    return false;
  }
  int32_t np = 0;
  for (int pass = 0; pass < 2 && np < need; pass++)
    for (int32_t k = s->g_off[J]; k < s->g_off[J + 1] && np < need; k++) {
      int32_t t = s->g_tasks[k];
      if (s->tst[t] == TS_PENDING && lh_task_is_be(&sn->tasks[t]) == (pass == 1)) P[np++] = t;
    }
  bool done = false;
  if (np < need) goto out;
  int32_t rc = sj->pinned;
  for (int32_t i = 0; i < np && rc < 0; i++) rc = sn->tmpls[sn->tasks[P[i]].tmpl].req_cluster;
  for (size_t ci = 0; ci < sn->n_clusters && !done && !s->oom; ci++) {
    int32_t c = (int32_t)ci;
    bool sls = sn->clusters[c].kind == LH_CLUSTER_SERVERLESS;
    if (rc >= 0 ? c != rc : (sls && !s->conf->serverless_burst)) continue;
    size_t mark = lh_stmt_begin(s);
    int32_t evicted = 0;
    bool ok = true;
    for (int32_t i = 0; i < np && ok; i++) {
      int32_t t = P[i], bestb = -1, bestp = 0, bestc = 0, bestn = 0;
      int32_t lo = sls ? (int32_t)sn->n_nodes + c : 0, hi = sls ? lo + 1 : s->cl_off[c + 1] - s->cl_off[c];
      for (int32_t k = sls ? lo : 0; k < hi; k++) {
        int32_t b = sls ? k : s->cl_nodes[s->cl_off[c] + k];
        if (!sls && lh_class_verdict(s, sn->tasks[t].tmpl, sn->nodes[b].klass)) continue;
        int32_t nv, mp, cnt;
        if (!cost_bin(s, J, t, b, mode, vs, &nv, &mp, &cnt, taken)) continue;
        if (bestb < 0 || mp < bestp || (mp == bestp && cnt < bestc)) {
          bestb = b, bestp = mp, bestc = cnt, bestn = nv;
          memcpy(best_vs, vs, (size_t)nv * sizeof(victim));
        }
        if (cnt == 0) break; /* free room: nothing beats it */
      }
      if (bestb < 0) {
        ok = false;
        break;
      }
      for (int32_t v = 0; v < bestn; v++) {
        int32_t G = best_vs[v].group;
        if (best_vs[v].whole) {
          for (int32_t k = s->g_off[G]; k < s->g_off[G + 1]; k++)
            if (s->tst[s->g_tasks[k]] == TS_RUNNING) {
              lh_stmt_evict(s, s->g_tasks[k], mode, J);
              evicted++;
            }
        } else if (s->tst[best_vs[v].task] == TS_RUNNING) {
          lh_stmt_evict(s, best_vs[v].task, mode, J);
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
out:
  free(vs), free(best_vs), free(taken);
  return done;
}
