/* place.c — placing a batch of identical tasks (same template and request) in one cluster.
 * Dedicated clusters: scan nodes from a rotating cursor (Kubernetes' nextStartNodeIndex), skip
 * classes the template cannot use (cached verdicts), stop once the candidates can hold the batch
 * and nodesToScore of them were seen, then hand tasks one by one to the best-scored candidate
 * through a max-heap (only the chosen node is re-scored). A shortfall implies every node was
 * examined, so the failure histogram is complete. Serverless: one quota bin. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/session.h"

/* heap order: higher score first, then lower bin index */
static bool better(const lh_session *s, int32_t a, int32_t b) {
  if (s->cand_score[a] != s->cand_score[b]) return s->cand_score[a] > s->cand_score[b];
  return s->cand_bin[a] < s->cand_bin[b];
}

static void sift_down(lh_session *s, size_t n, size_t i) {
  int32_t *h = s->heap;
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < n && better(s, h[l], h[m])) m = l;
    if (r < n && better(s, h[r], h[m])) m = r;
    if (m == i) return;
    int32_t t = h[i];
    h[i] = h[m];
    h[m] = t;
    i = m;
  }
}

static void hist_add(lh_fail *f, unsigned why) {
  for (int r = 0; r < R_N; r++)
    if (why & (1u << r)) f->hist[r]++;
}

int32_t lh_place_batch(lh_session *s, int32_t c, const int32_t *tasks, int32_t n, lh_fail *f) {
  const lh_snapshot *sn = s->snap;
  const lh_m_task *t0 = &sn->tasks[tasks[0]];
  const lh_res *r = &t0->req;
  unsigned why;
  memset(f, 0, sizeof(*f));
  if (sn->clusters[c].kind == LH_CLUSTER_SERVERLESS) {
    int32_t bin = (int32_t)sn->n_nodes + c;
    int32_t k = lh_bin_fit(s, bin, r, false, &why);
    int32_t placed = k < n ? k : n;
    for (int32_t i = 0; i < placed; i++) lh_stmt_allocate(s, tasks[i], c, bin);
    if (placed < n) {
      f->serverless = true;
      lh_bin_fit(s, bin, r, false, &why);
      hist_add(f, why);
    }
    return placed;
  }
  int32_t N = s->cl_off[c + 1] - s->cl_off[c];
  const int32_t *nodes = s->cl_nodes + s->cl_off[c];
  if (N == 0) return 0;
  if ((size_t)N > s->cap_cand) { /* four parallel scratch arrays, grown together */
    size_t nc0 = (size_t)N;
    void *p1 = lh_realloc(s->cand_bin, nc0 * sizeof(int32_t));
    if (p1) s->cand_bin = p1;
    void *p2 = lh_realloc(s->cand_k, nc0 * sizeof(int32_t));
    if (p2) s->cand_k = p2;
    void *p3 = lh_realloc(s->heap, nc0 * sizeof(int32_t));
    if (p3) s->heap = p3;
    void *p4 = lh_realloc(s->cand_score, nc0 * sizeof(double));
    if (p4) s->cand_score = p4;
    if (!p1 || !p2 || !p3 || !p4) goto oom;
    s->cap_cand = nc0;
  }
  int32_t limit = s->conf->nodes_to_score > 0 ? s->conf->nodes_to_score : N;
  int32_t cur = s->cl_cursor[c] % N, scanned = 0, nc = 0;
  int64_t sumk = 0;
  while (scanned < N) {
    int32_t b = nodes[(cur + scanned) % N];
    scanned++;
    unsigned v = lh_class_verdict(s, t0->tmpl, sn->nodes[b].klass);
    if (v) {
      hist_add(f, v);
      continue;
    }
    int32_t k = lh_bin_fit(s, b, r, false, &why);
    if (!k) {
      hist_add(f, why);
      continue;
    }
    s->cand_bin[nc] = b;
    s->cand_k[nc] = k;
    s->cand_score[nc] = lh_score(s, b, r);
    nc++;
    sumk += k;
    if (sumk >= n && nc >= limit) break;
  }
  s->cl_cursor[c] = (cur + scanned) % N;
  size_t hn = (size_t)nc;
  for (int32_t i = 0; i < nc; i++) s->heap[i] = i;
  for (size_t i = hn / 2; i-- > 0;) sift_down(s, hn, i);
  int32_t placed = 0;
  while (placed < n && hn > 0) {
    int32_t ci = s->heap[0];
    int32_t b = s->cand_bin[ci];
    lh_stmt_allocate(s, tasks[placed++], c, b);
    if (--s->cand_k[ci] == 0) {
      lh_bin_fit(s, b, r, false, &why);
      hist_add(f, why); /* exhausted by this batch: counts for the next task's failure */
      s->heap[0] = s->heap[--hn];
    } else {
      s->cand_score[ci] = lh_score(s, b, r);
    }
    sift_down(s, hn, 0);
  }
  f->nodes = N;
  return placed;
oom:
  s->oom = 1;
  return 0;
}

void lh_fail_text(const lh_session *s, const lh_fail *f, int32_t c, char *buf, size_t n) {
  static const char *const what[R_N] = {"node unschedulable", "node selector mismatch",
                                        "untolerated taint", "too many pods",
                                        "insufficient cpu", "insufficient memory",
                                        "insufficient nvidia.com/gpu"};
  const char *cname = lh_strtab_str(&s->snap->names, s->snap->clusters[c].name);
  size_t k = 0;
  buf[0] = 0;
  if (f->serverless) {
    for (int r = 0; r < R_N; r++) {
      if (!f->hist[r]) continue;
      const char *w = r == R_PODS ? "too many pods" : what[r];
      int m = snprintf(buf + k, n - k, "%s%s", k ? ", " : "", w);
      if (m < 0 || (size_t)m >= n - k) return;
      k += (size_t)m;
    }
    snprintf(buf + k, n - k, " quota in serverless cluster %s", cname);
    return;
  }
  if (f->nodes == 0) {
    snprintf(buf, n, "no nodes in cluster %s", cname);
    return;
  }
  bool used[R_N] = {false};
  for (;;) {
    int best = -1;
    for (int r = 0; r < R_N; r++)
      if (!used[r] && f->hist[r] && (best < 0 || f->hist[r] > f->hist[best])) best = r;
    if (best < 0) break;
    used[best] = true;
    int m = snprintf(buf + k, n - k, "%s%s on %d node%s", k ? ", " : "", what[best],
                     (int)f->hist[best], f->hist[best] == 1 ? "" : "s");
    if (m < 0 || (size_t)m >= n - k) return;
    k += (size_t)m;
  }
  if (k == 0) snprintf(buf, n, "no feasible node");
  else snprintf(buf + k, n - k, " of cluster %s", cname);
}
