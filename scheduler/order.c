/* order.c — job and queue order, Volcano's combination rule: the enabled plugins are asked in
 * tier order and the first non-zero answer wins; otherwise creation time, then UID (groups) or
 * name (queues). Job order plugins: priority (higher first), gang (not ready before ready; among
 * not ready, a started gang — one that lost pods — before a fresh one, so a drained gang is
 * refilled first), drf (lower dominant share first). Queue order: proportion (lower share). */
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
