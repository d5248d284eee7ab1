/* predicates.c — Volcano's predicates plugin over lahar's model: unschedulable, nodeSelector,
 * taints/tolerations (Equal/Exists, NoSchedule/NoExecute; PreferNoSchedule never blocks),
 * evaluated once per (task template, node class) and cached; max pods and resource fit per bin. */
#include "scheduler/session.h"

static bool selector_ok(const lh_m_tmpl *t, const lh_m_class *k) {
  /* both sorted by key id: one merge pass */
  int32_t i = 0, j = 0;
  while (i < t->n_sel) {
    while (j < k->n_labels && k->labels[2 * j] < t->sel[2 * i]) j++;
    if (j == k->n_labels || k->labels[2 * j] != t->sel[2 * i] ||
        k->labels[2 * j + 1] != t->sel[2 * i + 1])
      return false;
    i++;
  }
  return true;
}

static bool tolerated(const lh_m_tmpl *t, const int32_t *taint) {
  for (int32_t i = 0; i < t->n_tol; i++) {
    const int32_t *tol = &t->tol[4 * i];
    if (tol[3] != LH_EFFECT_ANY && tol[3] != taint[2]) continue;
    if (tol[0] < 0) return true; /* empty key + Exists: everything */
    if (tol[0] != taint[0]) continue;
    if (tol[1] == LH_TOL_EXISTS || tol[2] == taint[1]) return true;
  }
  return false;
}

static unsigned verdict(const lh_session *s, int32_t tmpl, int32_t klass) {
  const lh_m_tmpl *t = &s->snap->tmpls[tmpl];
  const lh_m_class *k = &s->snap->classes[klass];
  unsigned why = 0;
  if (!lh_conf_hook(s->conf, LH_PL_PREDICATES, LH_HOOK_PREDICATE)) return 0;
  if (k->unschedulable) why |= 1u << R_UNSCHED;
  if (!selector_ok(t, k)) why |= 1u << R_SELECTOR;
  for (int32_t i = 0; i < k->n_taints; i++) {
    const int32_t *tn = &k->taints[3 * i];
    if (tn[2] == LH_EFFECT_PREFER_NO_SCHEDULE) continue;
    if (!tolerated(t, tn)) {
      why |= 1u << R_TAINT;
      break;
    }
  }
  return why;
}

unsigned lh_class_verdict(lh_session *s, int32_t tmpl, int32_t klass) {
  if (!s->feas) return verdict(s, tmpl, klass);
  uint8_t *c = &s->feas[(size_t)tmpl * s->snap->n_classes + (size_t)klass];
  if (!*c) *c = (uint8_t)(1 + verdict(s, tmpl, klass));
  return (unsigned)(*c - 1);
}

int32_t lh_bin_fit(const lh_session *s, int32_t bi, const lh_res *r, bool pipeline, unsigned *why) {
  const lh_bin *b = &s->bins[bi];
  int64_t k;
  *why = 0;
  if (b->max_pods == INT32_MAX) {
    k = INT32_MAX;
  } else {
    int64_t now = (int64_t)b->max_pods - b->pods_used;
    int64_t fut = now + b->pods_rel - b->pods_pipe;
    k = pipeline ? fut : (now < fut ? now : fut);
    if (k <= 0) {
      *why |= 1u << R_PODS;
      k = 0;
    }
  }
  for (int d = 0; d < LH_RES_N; d++) {
    if (r->v[d] == 0) continue;
    int64_t now = b->alloc.v[d] - b->used.v[d];
    int64_t fut = now + b->rel.v[d] - b->pipe.v[d];
    int64_t avail = pipeline ? fut : (now < fut ? now : fut);
    int64_t kd = avail > 0 ? avail / r->v[d] : 0;
    if (kd == 0) *why |= 1u << (R_CPU + d);
    if (kd < k) k = kd;
  }
  return (int32_t)(k > INT32_MAX ? INT32_MAX : k);
}
