/* fairshare.c — Volcano's proportion plugin: each queue's request, its deserved share by weighted
 * water-filling (guarantees reserved first, nobody above min(capability, request), children of a
 * hierarchical queue splitting their parent's deserved by weight), share, overuse and capability.
 * Integer arithmetic only, so deserved values are exact and identical on every run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/session.h"

static void add_up(lh_session *s, int32_t q, const lh_res *r, bool inq) {
  for (; q >= 0; q = s->snap->queues[q].parent)
    lh_res_add(inq ? &s->queues[q].inqueue : &s->queues[q].request, r);
}

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

typedef struct {
  int32_t q;
  int64_t lim;
  int32_t w;
} fill_item;

static int fill_cmp(const void *a, const void *b) {
  const fill_item *x = a, *y = b;
  __int128 l = (__int128)x->lim * y->w, r = (__int128)y->lim * x->w;
  if (l != r) return l < r ? -1 : 1;
  return x->q < y->q ? -1 : x->q > y->q;
}

/* Splits pool among the children of parent (-1 = top level), then recurses. */
static void distribute(lh_session *s, int32_t parent, const lh_res *pool, fill_item *tmp) {
  const lh_snapshot *sn = s->snap;
  size_t n = 0;
  for (size_t q = 0; q < sn->n_queues; q++)
    if (sn->queues[q].parent == parent) tmp[n++].q = (int32_t)q;
  if (!n) return;
  for (int d = 0; d < LH_RES_N; d++) {
    int64_t P = pool->v[d];
    int64_t W = 0;
    for (size_t i = 0; i < n; i++) {
      const lh_m_queue *mq = &sn->queues[tmp[i].q];
      int64_t cap = mq->capability.v[d];
      int64_t g = min64(mq->guarantee.v[d], cap);
      int64_t want = min64(cap, s->queues[tmp[i].q].request.v[d]);
      s->queues[tmp[i].q].deserved.v[d] = g;
      P -= g;
      tmp[i].lim = want > g ? want - g : 0;
      tmp[i].w = mq->weight;
      W += mq->weight;
    }
    if (P < 0) P = 0;
    qsort(tmp, n, sizeof(*tmp), fill_cmp);
    for (size_t i = 0; i < n; i++) {
      int64_t fair = (int64_t)((__int128)P * tmp[i].w / W);
      int64_t x = tmp[i].lim < fair ? tmp[i].lim : fair;
      s->queues[tmp[i].q].deserved.v[d] += x;
      P -= x;
      W -= tmp[i].w;
    }
  }
  /* children of each child, in index order; tmp is reused below, so copy the ids first */
  int32_t *kids = lh_malloc(n * sizeof(int32_t));
  if (!kids) {
    s->oom = 1;
    return;
  }
  for (size_t i = 0; i < n; i++) kids[i] = tmp[i].q;
  for (size_t i = 0; i < n; i++)
    if (!s->queues[kids[i]].leaf) distribute(s, kids[i], &s->queues[kids[i]].deserved, tmp);
  free(kids);
}

void lh_fairshare(lh_session *s) {
  const lh_snapshot *sn = s->snap;
  for (size_t g = 0; g < sn->n_groups; g++) {
    const lh_m_group *mg = &sn->groups[g];
    lh_res r = {{0}};
    for (int32_t k = s->g_off[g]; k < s->g_off[g + 1]; k++) {
      int32_t t = s->g_tasks[k];
      if (s->tst[t] == TS_PENDING || s->tst[t] == TS_RUNNING) lh_res_add(&r, &sn->tasks[t].req);
    }
    /* A queue's request is what all its groups ask for, pending ones included (proportion adds
       every Pending and allocated task's request): deserved is capped by it, and enqueue admits
       against deserved. A group not yet running asks for at least its minResources (its pods
       may not exist yet), but never less than its tasks: taking minResources *instead of* the
       tasks capped deserved at the sum of minResources, far below what the admitted gangs
       request whenever minMember < replicas or minResources leaves a dimension out, and allocate
       then stopped the queue as overused after that fraction of its gangs (a cluster with room
       for all of them bound ~10% per cycle, "over its deserved share: memory 25Gi/0"). */
    if (mg->phase != LH_GROUP_RUNNING)
      for (int d = 0; d < LH_RES_N; d++)
        if (mg->min_res.v[d] > r.v[d]) r.v[d] = mg->min_res.v[d];
    add_up(s, mg->queue, &r, false);
    if (mg->phase == LH_GROUP_INQUEUE) {
      lh_res in = {{0}};
      for (int d = 0; d < LH_RES_N; d++) {
        int64_t v = mg->min_res.v[d] - s->groups[g].alloc.v[d];
        in.v[d] = v > 0 ? v : 0;
      }
      add_up(s, mg->queue, &in, true);
    }
  }
  fill_item *tmp = lh_malloc((sn->n_queues + 1) * sizeof(*tmp));
  if (!tmp) {
    s->oom = 1;
    return;
  }
  distribute(s, -1, &s->total, tmp);
  free(tmp);
}

double lh_queue_share_of(const lh_session *s, int32_t q) { return lh_queue_share_after(s, q, NULL); }

double lh_queue_share_after(const lh_session *s, int32_t q, const lh_res *r) {
  const lh_squeue *sq = &s->queues[q];
  double share = 0;
  if (!lh_conf_hook(s->conf, LH_PL_PROPORTION, LH_HOOK_QUEUE_ORDER)) {
    /* drf with enableHierarchy (Volcano's hdrf): dominant share of the cluster over weight */
    if (!lh_conf_hook(s->conf, LH_PL_DRF, LH_HOOK_HIERARCHY)) return 0;
    for (int d = 0; d < LH_RES_N; d++)
      if (s->total.v[d] > 0) {
        double v = (double)(sq->alloc.v[d] + (r ? r->v[d] : 0)) / (double)s->total.v[d];
        if (v > share) share = v;
      }
    return share / (double)s->snap->queues[q].weight;
  }
  for (int d = 0; d < LH_RES_N; d++) {
    int64_t a = sq->alloc.v[d] + (r ? r->v[d] : 0);
    double v;
    if (sq->deserved.v[d] == 0) v = a > 0 ? 1 : 0;
    else v = (double)a / (double)sq->deserved.v[d];
    if (v > share) share = v;
  }
  return share;
}

bool lh_queue_overused(const lh_session *s, int32_t q) {
  if (!lh_conf_hook(s->conf, LH_PL_PROPORTION, LH_HOOK_OVERUSED)) return false;
  const lh_squeue *sq = &s->queues[q];
  for (int d = 0; d < LH_RES_N; d++)
    if (sq->deserved.v[d] > sq->alloc.v[d]) return false;
  return true;
}

bool lh_queue_fits_capability(lh_session *s, int32_t q, const lh_res *r, bool inq, char *why,
                               size_t n) {
  if (!s->conf->on[LH_PL_PROPORTION]) return true;
  for (; q >= 0; q = s->snap->queues[q].parent) {
    const lh_m_queue *mq = &s->snap->queues[q];
    for (int d = 0; d < LH_RES_N; d++) {
      int64_t cap = mq->capability.v[d];
      if (cap == LH_UNLIMITED || r->v[d] == 0) continue;
      int64_t used = s->queues[q].alloc.v[d] + (inq ? s->queues[q].inqueue.v[d] : 0);
      if (used + r->v[d] <= cap) continue;
      if (why && n) {
        char a[32], b[32];
        lh_fmt_qty(a, sizeof a, d, used);
        lh_fmt_qty(b, sizeof b, d, cap);
        snprintf(why, n, "queue %s at capability: %s %s/%s",
                 lh_strtab_str(&s->snap->names, mq->name), lh_res_name(d), a, b);
      }
      return false;
    }
  }
  return true;
}
