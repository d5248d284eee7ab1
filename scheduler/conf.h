/* conf.h — the resolved scheduler configuration (internal layout of lh_conf): which actions run
 * in which order, which plugins are on (and in which tier order), and their arguments. */
#ifndef LAHAR_SCHED_CONF_H
#define LAHAR_SCHED_CONF_H

#include <stdbool.h>

#include "scheduler/lahar_sched.h"

typedef enum { LH_ACT_ENQUEUE, LH_ACT_ALLOCATE, LH_ACT_BACKFILL, LH_ACT_RECLAIM, LH_ACT_PREEMPT,
               LH_ACT_N } lh_action_id;

typedef enum {
  LH_PL_PRIORITY, LH_PL_GANG, LH_PL_CONFORMANCE, LH_PL_DRF, LH_PL_PREDICATES, LH_PL_PROPORTION,
  LH_PL_NODEORDER, LH_PL_BINPACK, LH_PL_OVERCOMMIT, LH_PL_N
} lh_plugin_id;

/* Per-plugin hook switches (Volcano's enableXxx options); a set bit means the hook is OFF. */
enum {
  LH_HOOK_JOB_ORDER = 1u << 0,
  LH_HOOK_QUEUE_ORDER = 1u << 1,
  LH_HOOK_JOB_READY = 1u << 2,
  LH_HOOK_PREEMPTABLE = 1u << 3,
  LH_HOOK_RECLAIMABLE = 1u << 4,
  LH_HOOK_PREDICATE = 1u << 5,
  LH_HOOK_NODE_ORDER = 1u << 6,
  LH_HOOK_JOB_ENQUEUED = 1u << 7,
  LH_HOOK_TASK_ORDER = 1u << 8,  /* priority: tasks of a group by priority */
  LH_HOOK_HIERARCHY = 1u << 9,   /* drf: hierarchical (hdrf) queue order; off unless enabled */
  LH_HOOK_PREEMPTIVE = 1u << 10, /* proportion: a reclaiming queue stays within its deserved */
  LH_HOOK_OVERUSED = 1u << 11,   /* proportion: an overused queue is skipped by allocate */
  LH_HOOK_ALLOCATABLE = 1u << 12 /* proportion: allocate keeps queues within capability */
};

typedef enum { LH_PLACE_BINPACK = 1, LH_PLACE_SPREAD = 2 } lh_placement;

struct lh_conf {
  int n_actions;
  lh_action_id actions[16];
  int n_plugins;                /* enabled plugins in tier order */
  lh_plugin_id order[LH_PL_N];
  bool on[LH_PL_N];
  unsigned off_hooks[LH_PL_N];
  /* arguments */
  double binpack_weight;        /* binpack.weight */
  double binpack_res[LH_RES_N]; /* binpack.cpu / .memory / .resources.nvidia.com/gpu */
  double least_w, most_w, balanced_w; /* nodeorder */
  double overcommit_factor;     /* overcommit-factor */
  lh_placement placement;       /* resolved: explicit lahar.placement, else binpack plugin */
  bool placement_set;           /* lahar.placement given: score by that direction alone */
  bool serverless_burst;        /* lahar.serverlessBurst */
  int nodes_to_score;           /* lahar.nodesToScore, 0 = all */
  bool release_broken_gang;     /* lahar.releaseBrokenGang */
};

/* Is plugin p on with hook h not switched off? */
static inline bool lh_conf_hook(const struct lh_conf *c, lh_plugin_id p, unsigned h) {
  return c->on[p] && !(c->off_hooks[p] & h);
}

#endif
