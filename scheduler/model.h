/* model.h — the snapshot's internal layout (shared by snapshot.c and the session). Objects live
 * in dense arrays indexed like the public API; strings are interned ids; labels, selectors, taints
 * and tolerations live once per equivalence class (node class / task template), not per object,
 * so a node costs ~40 bytes and a task ~56 bytes of model. */
#ifndef LAHAR_SCHED_MODEL_H
#define LAHAR_SCHED_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "scheduler/arena.h"
#include "scheduler/lahar_sched.h"

typedef struct {
  int32_t name;        /* interned */
  lh_cluster_kind kind;
  lh_res quota;        /* serverless only */
} lh_m_cluster;

/* Nodes with equal (cluster, labels, taints, unschedulable) share a class: every predicate but
 * resources and pod count depends on the class alone, so it is evaluated once per class. */
typedef struct {
  int32_t cluster;
  int32_t *labels; /* n_labels (key id, value id) pairs sorted by key */
  int32_t n_labels;
  int32_t *taints; /* n_taints (key, value, effect) triples in input order */
  int32_t n_taints;
  bool unschedulable;
  int32_t next;    /* hash chain */
  int32_t n_nodes;
} lh_m_class;

typedef struct {
  int32_t name;
  int32_t cluster;
  int32_t klass;
  int32_t max_pods;
  lh_res alloc;
} lh_m_node;

typedef struct {
  int32_t name;
  int32_t parent; /* queue index or -1 */
  int32_t weight;
  lh_queue_state state;
  bool reclaimable;
  lh_res capability;
  lh_res guarantee;
} lh_m_queue;

typedef struct {
  int32_t ns, name, full, uid; /* interned; full = "ns/name" */
  int32_t queue;
  int32_t min_member;
  int32_t priority;
  lh_group_phase phase;
  int64_t ctime;
  lh_res min_res;
  int32_t n_tasks;
} lh_m_group;

/* Tasks with equal (node selector, tolerations, required cluster) share a template. */
typedef struct {
  int32_t *sel; /* (key, value) pairs sorted by key */
  int32_t n_sel;
  int32_t *tol; /* (key or -1, op, value or -1, effect) quads in input order */
  int32_t n_tol;
  int32_t req_cluster; /* -1 = any */
  int32_t next;
} lh_m_tmpl;

typedef struct {
  int32_t name, uid;
  int32_t group;
  int32_t tmpl;
  int32_t priority;
  int32_t cluster, node; /* placement of running/releasing tasks, else -1 */
  lh_task_state state;
  lh_res req;
} lh_m_task;

struct lh_snapshot {
  lh_arena arena;
  lh_strtab names;
  lh_map index; /* (kind << 56 | scope << 28 | name id) -> object index, see snapshot.c */
  lh_map class_by_hash, tmpl_by_hash;
  lh_m_cluster *clusters;
  size_t n_clusters, cap_clusters;
  lh_m_node *nodes;
  size_t n_nodes, cap_nodes;
  lh_m_class *classes;
  size_t n_classes, cap_classes;
  lh_m_queue *queues;
  size_t n_queues, cap_queues;
  lh_m_group *groups;
  size_t n_groups, cap_groups;
  lh_m_tmpl *tmpls;
  size_t n_tmpls, cap_tmpls;
  lh_m_task *tasks;
  size_t n_tasks, cap_tasks;
  int32_t empty_str; /* interned "" */
};

static inline bool lh_res_is_zero(const lh_res *r) {
  for (int d = 0; d < LH_RES_N; d++)
    if (r->v[d]) return false;
  return true;
}
static inline void lh_res_add(lh_res *a, const lh_res *b) {
  for (int d = 0; d < LH_RES_N; d++) a->v[d] += b->v[d];
}
static inline void lh_res_sub(lh_res *a, const lh_res *b) {
  for (int d = 0; d < LH_RES_N; d++) a->v[d] -= b->v[d];
}
/* a <= b in every dimension (LH_UNLIMITED in b always fits) */
static inline bool lh_res_le(const lh_res *a, const lh_res *b) {
  for (int d = 0; d < LH_RES_N; d++)
    if (b->v[d] != LH_UNLIMITED && a->v[d] > b->v[d]) return false;
  return true;
}

#endif
