/* score.c — node scoring: Volcano's binpack plugin and nodeorder's leastrequested /
 * mostrequested / balancedresource, each weighted by its configured weight and summed (each
 * component is 0..1 before its weight, as Volcano's are 0..100):
 *   binpack          binpack.weight x sum_d(binpack.<d> x util_d) / sum_d(binpack.<d>) over the
 *                    dimensions the task requests (every dimension for a best-effort task);
 *   leastrequested   leastrequested.weight x (1 - mean(util_cpu, util_memory));
 *   mostrequested    mostrequested.weight x mean(util_cpu, util_memory);
 *   balancedresource balancedresource.weight x (1 - standard deviation of the utilisations of
 *                    cpu, memory and, when requested, gpu);
 * where util_d = (used + pipelined + this task) / allocatable on the node. An explicit
 * lahar.placement (binpack | spread) replaces the sum with the binpack utilisation (or its
 * negation), one direction only. Higher scores win. */
#include <math.h>

#include "scheduler/session.h"

double lh_score(const lh_session *s, int32_t bi, const lh_res *r) {
  const lh_conf *c = s->conf;
  bool no = lh_conf_hook(c, LH_PL_NODEORDER, LH_HOOK_NODE_ORDER);
  bool bp = lh_conf_hook(c, LH_PL_BINPACK, LH_HOOK_NODE_ORDER);
  if (!no && !bp) return 0;
  const lh_bin *b = &s->bins[bi];
  bool be = lh_res_is_zero(r);
  double u[LH_RES_N];
  double sum = 0, wsum = 0;
  for (int d = 0; d < LH_RES_N; d++) {
    u[d] = b->alloc.v[d] > 0
               ? (double)(b->used.v[d] + b->pipe.v[d] + r->v[d]) / (double)b->alloc.v[d]
               : -1;
    if ((!be && r->v[d] == 0) || u[d] < 0) continue;
    double w = c->binpack_res[d];
    sum += w * u[d];
    wsum += w;
  }
  double util = wsum > 0 ? sum / wsum : 0;
  if (c->placement_set) return c->placement == LH_PLACE_BINPACK ? util : -util;
  double score = bp ? c->binpack_weight * util : 0;
  if (!no) return score;
  /* leastrequested / mostrequested over cpu and memory, as Kubernetes */
  double m = 0;
  int k = 0;
  for (int d = LH_RES_CPU; d <= LH_RES_MEM; d++)
    if (u[d] >= 0) m += u[d], k++;
  if (k) {
    m /= k;
    score += c->least_w * (1 - m) + c->most_w * m;
  }
  if (c->balanced_w > 0) {
    double mean = 0, var = 0;
    int n = 0;
    for (int d = 0; d < LH_RES_N; d++)
      if (u[d] >= 0 && (d != LH_RES_GPU || r->v[d] > 0)) mean += u[d], n++;
    if (n > 1) {
      mean /= n;
      for (int d = 0; d < LH_RES_N; d++)
        if (u[d] >= 0 && (d != LH_RES_GPU || r->v[d] > 0)) var += (u[d] - mean) * (u[d] - mean);
      score += c->balanced_w * (1 - sqrt(var / n));
    } else {
      score += c->balanced_w;
    }
  }
  return score;
}
