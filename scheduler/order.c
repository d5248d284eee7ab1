/* order.c — job and queue order, Volcano's combination rule: the enabled plugins are asked in
 * tier order and the first non-zero answer wins; otherwise creation time, then UID (groups) or
 * name (queues). Job order plugins: priority (higher first), gang (not ready before ready; among
 * not ready, a started gang — one that lost pods — before a fresh one, so a drained gang is
 * refilled first), drf (lower dominant share first). Queue order: proportion (lower share), over
 * the queue tree (lh_qtree_*) that allocate, enqueue, reclaim and preempt all walk top down. */
#include <stdlib.h>
#include <string.h>

#include "scheduler/session.h"

static double drf_share(const lh_session *s, int32_t g) {
  double m = 0;
  for (int d = 0; d < LH_RES_N; d++) {
    if (s->total.v[d] <= 0) continue;
    double v = (double)s->groups[g].alloc.v[d] / (double)s->total.v[d];
    if (v > m) m = v;
  }
  return m;
}

int lh_job_cmp(const lh_session *s, int32_t a, int32_t b) {
  const lh_snapshot *sn = s->snap;
  const lh_m_group *ga = &sn->groups[a], *gb = &sn->groups[b];
  for (int i = 0; i < s->conf->n_plugins; i++) {
    lh_plugin_id p = s->conf->order[i];
    if (!lh_conf_hook(s->conf, p, LH_HOOK_JOB_ORDER)) continue;
    if (p == LH_PL_PRIORITY) {
      if (ga->priority != gb->priority) return ga->priority > gb->priority ? -1 : 1;
    } else if (p == LH_PL_GANG) {
      bool ra = lh_group_need(s, a) == 0, rb = lh_group_need(s, b) == 0;
      if (ra != rb) return ra ? 1 : -1;
      if (!ra) {
        bool sa = s->groups[a].running > 0, sb = s->groups[b].running > 0;
        if (sa != sb) return sa ? -1 : 1;
      }
    } else if (p == LH_PL_DRF) {
      double da = drf_share(s, a), db = drf_share(s, b);
      if (da != db) return da < db ? -1 : 1;
    }
  }
  if (ga->ctime != gb->ctime) return ga->ctime < gb->ctime ? -1 : 1;
  int c = strcmp(lh_strtab_str(&sn->names, ga->uid), lh_strtab_str(&sn->names, gb->uid));
  return c ? c : (a < b ? -1 : a > b);
}

int lh_queue_cmp(const lh_session *s, int32_t a, int32_t b) {
  double sa = lh_queue_share_of(s, a), sb = lh_queue_share_of(s, b);
  if (sa != sb) return sa < sb ? -1 : 1;
  const lh_snapshot *sn = s->snap;
  return strcmp(lh_strtab_str(&sn->names, sn->queues[a].name),
                lh_strtab_str(&sn->names, sn->queues[b].name));
}

static int job_cmp_r(const void *a, const void *b, void *ctx) {
  return lh_job_cmp(ctx, *(const int32_t *)a, *(const int32_t *)b);
}

void lh_sort_groups(const lh_session *s, int32_t *g, size_t n) {
  qsort_r(g, n, sizeof(*g), job_cmp_r, (void *)s);
}

/* ---- the queue tree ------------------------------------------------------------------------ */
int lh_qtree_init(const lh_session *s, lh_qtree *t) {
  const lh_snapshot *sn = s->snap;
  size_t nq = sn->n_queues;
  t->koff = lh_calloc(nq + 2, sizeof(int32_t));
  t->kids = lh_malloc((nq + 1) * sizeof(int32_t));
  t->work = lh_calloc(nq + 1, sizeof(int32_t));
  int32_t *cur = lh_malloc((nq + 2) * sizeof(int32_t));
  if (!t->koff || !t->kids || !t->work || !cur) {
    free(cur);
    lh_qtree_free(t);
    return LH_ENOMEM;
  }
  for (size_t q = 0; q < nq; q++) t->koff[sn->queues[q].parent + 2]++;
  for (size_t i = 0; i < nq + 1; i++) t->koff[i + 1] += t->koff[i];
  memcpy(cur, t->koff, (nq + 2) * sizeof(int32_t));
  for (size_t q = 0; q < nq; q++) t->kids[cur[sn->queues[q].parent + 1]++] = (int32_t)q;
  free(cur);
  return 0;
}

void lh_qtree_free(lh_qtree *t) {
  free(t->koff);
  free(t->kids);
  free(t->work);
  t->koff = t->kids = t->work = NULL;
}

void lh_qtree_add(const lh_session *s, lh_qtree *t, int32_t q, int32_t n) {
  for (; q >= 0; q = s->snap->queues[q].parent) t->work[q] += n;
}

/* The best child of p (see lh_qtree_pick); *leaf receives the queue the walk ends at below it and
 * *u that queue's unit. */
static int32_t walk(const lh_session *s, const lh_qtree *t, const lh_res *unit, int32_t p,
                    int32_t *leaf, lh_res *u) {
  const lh_snapshot *sn = s->snap;
  int32_t best = -1;
  double bkey = 0;
  for (int32_t i = t->koff[p + 1]; i < t->koff[p + 2]; i++) {
    int32_t q = t->kids[i], ql = q;
    if (t->work[q] <= 0) continue;
    lh_res cu = {{0}};
    if (t->koff[q + 2] > t->koff[q + 1]) {
      if (walk(s, t, unit, q, &ql, &cu) < 0) continue;
    } else if (unit) {
      cu = unit[q];
    }
    double key = lh_queue_share_after(s, q, unit ? &cu : NULL);
    if (best >= 0 && (key > bkey || (key == bkey && strcmp(lh_strtab_str(&sn->names, sn->queues[q].name),
                                                           lh_strtab_str(&sn->names, sn->queues[best].name)) >= 0)))
      continue;
    best = q, bkey = key, *leaf = ql, *u = cu;
  }
  return best;
}

int32_t lh_qtree_pick(const lh_session *s, const lh_qtree *t, const lh_res *unit) {
  int32_t leaf = -1;
  lh_res u;
  return walk(s, t, unit, -1, &leaf, &u) < 0 ? -1 : leaf;
}

static int queue_cmp_r(const void *a, const void *b, void *ctx) {
  return lh_queue_cmp(ctx, *(const int32_t *)a, *(const int32_t *)b);
}

static size_t emit(const lh_session *s, const lh_qtree *t, int32_t p, int32_t *out, size_t n) {
  for (int32_t i = t->koff[p + 1]; i < t->koff[p + 2]; i++) {
    out[n++] = t->kids[i];
    n = emit(s, t, t->kids[i], out, n);
  }
  return n;
}

void lh_qtree_order(const lh_session *s, const lh_qtree *t, int32_t *out) {
  size_t nq = s->snap->n_queues;
  for (size_t p = 0; p < nq + 1; p++) /* each sibling range by share (p = 0 holds the roots) */
    qsort_r(t->kids + t->koff[p], (size_t)(t->koff[p + 1] - t->koff[p]), sizeof(int32_t),
            queue_cmp_r, (void *)s);
  emit(s, t, -1, out, 0);
}
