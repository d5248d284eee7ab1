/* score.c — node scoring (Volcano's binpack and nodeorder in one number). Placement strategy
 * binpack prefers the node that is fullest after placing the task, spread the emptiest; per
 * dimension weights come from binpack.cpu / binpack.memory / binpack.resources.<name>. Only
 * dimensions the task requests count (as Volcano's binpack); a best-effort task uses all. */
#include "scheduler/session.h"

double lh_score(const lh_session *s, int32_t bi, const lh_res *r) {
  const lh_conf *c = s->conf;
  if (!lh_conf_hook(c, LH_PL_NODEORDER, LH_HOOK_NODE_ORDER) &&
      !lh_conf_hook(c, LH_PL_BINPACK, LH_HOOK_NODE_ORDER))
    return 0;
  const lh_bin *b = &s->bins[bi];
  bool be = lh_res_is_zero(r);
  double sum = 0, wsum = 0;
  for (int d = 0; d < LH_RES_N; d++) {
    if ((!be && r->v[d] == 0) || b->alloc.v[d] == 0) continue;
    double w = c->binpack_res[d];
    double u = (double)(b->used.v[d] + b->pipe.v[d] + r->v[d]) / (double)b->alloc.v[d];
    sum += w * u;
    wsum += w;
  }
  double util = wsum > 0 ? sum / wsum : 0;
  return c->placement == LH_PLACE_BINPACK ? util : -util;
}
