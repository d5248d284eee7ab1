/* snap.h — the snapshot builder: informer caches (pods, nodes, queues, podgroups) -> an
 * lh_snapshot for the scheduling core, plus the maps that turn the core's indices back into
 * Kubernetes objects (task -> pod, group -> PodGroup or single pod, cluster -> bind target).
 *
 * Model mapping:
 *   clusters  nodes grouped by label lahar.io/cluster (else the default cluster name). A node
 *             labelled lahar.io/serverless=true is a serverless cluster of its own (named by
 *             lahar.io/serverless-pool, else the node name) whose quota is its allocatable;
 *             pods placed there are bound to that (virtual) node.
 *   nodes     status.allocatable cpu/memory/nvidia.com/gpu/pods minus the requests of bound,
 *             unfinished pods of OTHER schedulers; taints; unschedulable (cordoned or not Ready).
 *   queues    spec.weight/capability/guarantee.resource/reclaimable/parent, status.state;
 *             Volcano's volcano.sh/hierarchy + volcano.sh/hierarchy-weights annotations become
 *             synthetic inner queues named "/root", "/root/eng" ... (a '/' cannot appear in a
 *             Kubernetes name, so they never collide). A "default" queue always exists.
 *   groups    every PodGroup not Completed (spec.queue, minMember, minResources, status.phase,
 *             creationTimestamp); pods of our schedulers with annotation
 *             scheduling.k8s.io/group-name join their PodGroup; our pods without one are groups
 *             of one (queue from annotation scheduling.volcano.sh/queue-name or
 *             volcano.sh/queue-name, else "default").
 *   tasks     state from phase/nodeName/deletionTimestamp; a pod with a bind in flight counts as
 *             running on its target, so it is never bound twice.
 * Loop thread only (reads informer caches). */
#ifndef LAHAR_CORE_SNAP_H
#define LAHAR_CORE_SNAP_H

#include "kube/informer.h"

#include <stddef.h>
#include <stdint.h>

typedef struct lh_snapshot lh_snapshot;

/* Facts parsed from each Node object (allocatable, labels, taints, readiness, cluster), kept
 * across cycles keyed by the object's metadata.resourceVersion so that unchanged nodes are not
 * re-read from JSON every cycle. Owned by the caller, used by one builder at a time (loop
 * thread). Objects without a resourceVersion are always re-read. */
typedef struct lh_snap_cache lh_snap_cache;
lh_snap_cache *lh_snap_cache_new(void); /* NULL on out of memory */
void lh_snap_cache_free(lh_snap_cache *c); /* NULL ok */
/* Nodes whose facts were reused / re-parsed by the last build that used c (for tests, logs). */
void lh_snap_cache_stats(const lh_snap_cache *c, size_t *reused, size_t *parsed);

/* Returns the node name of a bind in flight for pod uid, or NULL. */
typedef const char *lh_snap_inflight_fn(const char *uid, void *ud);

typedef struct lh_snap_input {
  lh_kube_cache *pods, *nodes, *queues, *podgroups;
  const char *sched_name;      /* ours besides "volcano" */
  const char *default_cluster; /* e.g. "local" */
  lh_snap_inflight_fn *inflight;
  void *inflight_ud;
} lh_snap_input;

typedef struct lh_snap_task {
  char *ns, *name, *uid; /* owned */
} lh_snap_task;

typedef struct lh_snap_group {
  char *ns, *name; /* PodGroup (is_pg) or the single pod's name (owned) */
  char *queue;     /* owned */
  int is_pg;
  int min_member;
  int phase;       /* lh_group_phase as given to the core */
  char *cur_phase; /* status.phase text in the cache ("" none), owned */
  char *cur_reason;/* message of the cached Unschedulable condition ("" none), owned */
  int running, succeeded, failed, pending, total; /* pods by state */
} lh_snap_group;

typedef struct lh_snap_local_pending {
  char *ns, *name, *queue, *reason; /* PodGroups the builder could not give the core (owned) */
} lh_snap_local_pending;

typedef struct lh_snap {
  lh_snapshot *snap;
  lh_snap_task *tasks;   size_t ntasks;  /* by core task index */
  lh_snap_group *groups; size_t ngroups; /* by core group index */
  char **bind_node;      size_t nclusters; /* serverless cluster -> virtual node, else NULL */
  lh_snap_local_pending *local; size_t nlocal;
  size_t skipped;        /* objects skipped as malformed */
  size_t ours_pending;   /* our pods waiting for a node */
} lh_snap;

/* Builds out from the caches. Returns 0, or LH_EKUBE_NOMEM (out is freed and zeroed). */
int lh_snap_build(const lh_snap_input *in, lh_snap *out);
/* The same with facts kept across builds in cache (NULL: lh_snap_build). The snapshot is the
 * one lh_snap_build gives for the same caches. */
int lh_snap_build_cached(const lh_snap_input *in, lh_snap_cache *cache, lh_snap *out);
void lh_snap_free(lh_snap *s); /* NULL ok; zeroes s */

/* The queue a plain pod (group of one) asks for: annotation scheduling.volcano.sh/queue-name,
 * else volcano.sh/queue-name; NULL when neither is set. Borrowed from the pod. */
struct lh_pod;
const char *lh_snap_pod_queue(const struct lh_pod *p);

/* Quantity helpers over JSON values (string or number), Kubernetes notation.
 * Return 0 or -1 (bad quantity). */
int lh_snap_qty(const json_t *v, int milli, int64_t *out);
/* "2006-01-02T15:04:05Z" -> Unix seconds (0 when absent or malformed). */
int64_t lh_snap_time(const char *s);

#endif
