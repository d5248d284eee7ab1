/* lahar_sched.h — the public API of lahar's scheduling core: a snapshot model of clusters, nodes,
 * queues, pod groups and tasks; a Volcano-style configuration; one scheduling cycle
 * (enqueue / allocate / backfill / reclaim / preempt) that turns a snapshot into decisions.
 *
 * OWNERSHIP (read this first; it holds for every function below)
 *   - lh_snapshot_add_* COPY every string and array they are given (strings are interned in the
 *     snapshot's arena). The caller may free or reuse its own memory as soon as the call returns.
 *   - The snapshot owns all model memory; lh_snapshot_free releases it. Names returned by
 *     lh_snapshot_*_name are borrowed and valid until lh_snapshot_free.
 *   - lh_schedule BORROWS the conf and the snapshot for the duration of the call and never changes
 *     them: scheduling the same snapshot twice gives byte-identical results.
 *   - *out of lh_schedule belongs to the caller; free it with lh_result_free. Arrays and strings
 *     returned by lh_result_* accessors are borrowed from the result and valid until
 *     lh_result_free. Indices in a result refer to the snapshot it was computed from.
 *   - lh_conf objects belong to the caller; free with lh_conf_free. Every free accepts NULL.
 *
 * ERRORS: functions return 0 (or an index >= 0) on success and a negative LH_E* code on failure;
 * lh_strerror names a code. A failed lh_snapshot_add_* leaves the snapshot as it was.
 *
 * DETERMINISM: no global state, no clock reads (`now` is an argument), no I/O. Ties are broken by
 * creation time, then UID, then name or insertion index — never by pointer or hash order.
 */
#ifndef LAHAR_SCHED_H
#define LAHAR_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- error codes ---------------------------------------------------------------------------- */
#define LH_OK 0
#define LH_ENOMEM (-1)  /* allocation failed */
#define LH_EINVAL (-2)  /* bad argument (NULL, empty name, negative quantity, weight < 1 ...) */
#define LH_ENOENT (-3)  /* a referenced cluster / node / queue / group does not exist */
#define LH_EEXIST (-4)  /* a name (or uid) is already taken in its scope */
#define LH_ECONF (-5)   /* configuration rejected (see the err text of lh_conf_parse) */
#define LH_ELIMIT (-6)  /* a count would pass an internal limit (2^31-1 objects, string > 64 KiB) */

const char *lh_strerror(int code);

/* ---- resources -------------------------------------------------------------------------------- */
enum {
  LH_RES_CPU = 0, /* millicores */
  LH_RES_MEM = 1, /* bytes */
  LH_RES_GPU = 2, /* nvidia.com/gpu, whole devices */
  LH_RES_N = 3
};
typedef struct {
  int64_t v[LH_RES_N];
} lh_res;

/* A capability dimension set to LH_UNLIMITED has no limit (Volcano: capability not set). */
#define LH_UNLIMITED INT64_MAX

/* ---- model inputs ----------------------------------------------------------------------------- */
typedef enum { LH_CLUSTER_DEDICATED = 0, LH_CLUSTER_SERVERLESS = 1 } lh_cluster_kind;

typedef struct {
  const char *key;
  const char *value;
} lh_kv;

typedef enum {
  LH_EFFECT_NO_SCHEDULE = 0,
  LH_EFFECT_PREFER_NO_SCHEDULE = 1, /* soft: never blocks placement */
  LH_EFFECT_NO_EXECUTE = 2,
  LH_EFFECT_ANY = 3 /* tolerations only: an empty effect, tolerates every effect */
} lh_effect;

typedef struct {
  const char *key;
  const char *value; /* may be NULL (= "") */
  lh_effect effect;  /* not LH_EFFECT_ANY */
} lh_taint;

typedef enum { LH_TOL_EQUAL = 0, LH_TOL_EXISTS = 1 } lh_tol_op;
typedef struct {
  const char *key;   /* NULL or "" with LH_TOL_EXISTS tolerates every taint */
  lh_tol_op op;
  const char *value; /* LH_TOL_EQUAL only; NULL = "" */
  lh_effect effect;  /* LH_EFFECT_ANY matches every effect */
} lh_toleration;

typedef struct {
  const char *name;
  lh_res allocatable;
  int32_t max_pods; /* > 0 */
  const lh_kv *labels;
  size_t n_labels;
  const lh_taint *taints;
  size_t n_taints;
  bool unschedulable; /* cordoned */
} lh_node_spec;

typedef enum { LH_QUEUE_OPEN = 0, LH_QUEUE_CLOSED = 1, LH_QUEUE_CLOSING = 2 } lh_queue_state;
typedef struct {
  const char *name;
  const char *parent;  /* NULL/"" = top level; the parent must already be in the snapshot */
  int32_t weight;      /* >= 1 */
  lh_res capability;   /* per dimension; LH_UNLIMITED = none */
  lh_res guarantee;    /* reserved for this queue before water-filling */
  bool reclaimable;    /* may other queues reclaim from it */
  lh_queue_state state;
} lh_queue_spec;

typedef enum {
  LH_GROUP_PENDING = 0, /* not admitted yet: enqueue decides */
  LH_GROUP_INQUEUE = 1, /* admitted, waiting for allocation */
  LH_GROUP_RUNNING = 2
} lh_group_phase;
typedef struct {
  const char *ns;
  const char *name;
  const char *uid;      /* unique within the snapshot; a tie-breaker */
  const char *queue;    /* must exist */
  int32_t min_member;   /* >= 0 */
  lh_res min_resources; /* all zero = not set (Volcano: always enqueueable) */
  int32_t priority;
  int64_t creation_time; /* any monotonic unit (e.g. seconds); older = smaller */
  lh_group_phase phase;
} lh_group_spec;

typedef enum {
  LH_TASK_PENDING = 0,
  LH_TASK_RUNNING = 1,   /* placed (bound or running): uses node resources, counts for the gang */
  LH_TASK_RELEASING = 2, /* being deleted: still uses node resources, does not count */
  LH_TASK_SUCCEEDED = 3, /* counts for the gang, uses nothing */
  LH_TASK_FAILED = 4     /* ignored */
} lh_task_state;
typedef struct {
  const char *name;
  const char *uid;
  lh_res request; /* all zero = best effort (placed by backfill) */
  int32_t priority;
  const lh_kv *node_selector;
  size_t n_node_selector;
  const lh_toleration *tolerations;
  size_t n_tolerations;
  const char *required_cluster; /* NULL = any */
  lh_task_state state;
  const char *cluster; /* RUNNING / RELEASING: where it is */
  const char *node;    /* RUNNING / RELEASING on a dedicated cluster; NULL on serverless */
} lh_task_spec;

/* Spec initialisers: fill the defaults (weight 1, capability unlimited, reclaimable, open,
 * max_pods 110, min_member 1 ...) so callers only set what they need. Cannot fail. */
void lh_node_spec_init(lh_node_spec *s);
void lh_queue_spec_init(lh_queue_spec *s);
void lh_group_spec_init(lh_group_spec *s);
void lh_task_spec_init(lh_task_spec *s);

/* ---- snapshot --------------------------------------------------------------------------------- */
typedef struct lh_snapshot lh_snapshot;

lh_snapshot *lh_snapshot_new(void); /* NULL on out of memory */
void lh_snapshot_free(lh_snapshot *s);

/* Each add returns the new object's index (>= 0, dense, in insertion order) or a negative code:
 * LH_EINVAL for a bad spec, LH_ENOENT for an unknown reference, LH_EEXIST for a duplicate name,
 * LH_ENOMEM. `quota` is the namespace quota of a serverless cluster (ignored, may be NULL, for a
 * dedicated one). Node names are unique per cluster; queue names, cluster names and group uids
 * are unique per snapshot; task names are unique per group. */
int lh_snapshot_add_cluster(lh_snapshot *s, const char *name, lh_cluster_kind kind,
                            const lh_res *quota);
int lh_snapshot_add_node(lh_snapshot *s, int cluster, const lh_node_spec *spec);
int lh_snapshot_add_queue(lh_snapshot *s, const lh_queue_spec *spec);
int lh_snapshot_add_group(lh_snapshot *s, const lh_group_spec *spec);
int lh_snapshot_add_task(lh_snapshot *s, int group, const lh_task_spec *spec);

/* Lookups: index or LH_ENOENT. */
int lh_snapshot_find_cluster(const lh_snapshot *s, const char *name);
int lh_snapshot_find_queue(const lh_snapshot *s, const char *name);
int lh_snapshot_find_node(const lh_snapshot *s, int cluster, const char *name);

size_t lh_snapshot_n_clusters(const lh_snapshot *s);
size_t lh_snapshot_n_nodes(const lh_snapshot *s);
size_t lh_snapshot_n_queues(const lh_snapshot *s);
size_t lh_snapshot_n_groups(const lh_snapshot *s);
size_t lh_snapshot_n_tasks(const lh_snapshot *s);

/* Names for mapping results back. NULL for an out-of-range index. group_name is "ns/name". */
const char *lh_snapshot_cluster_name(const lh_snapshot *s, int cluster);
const char *lh_snapshot_node_name(const lh_snapshot *s, int node);
int lh_snapshot_node_cluster(const lh_snapshot *s, int node); /* LH_ENOENT if out of range */
const char *lh_snapshot_queue_name(const lh_snapshot *s, int queue);
const char *lh_snapshot_group_name(const lh_snapshot *s, int group);
const char *lh_snapshot_group_uid(const lh_snapshot *s, int group);
const char *lh_snapshot_task_name(const lh_snapshot *s, int task);
int lh_snapshot_task_group(const lh_snapshot *s, int task); /* LH_ENOENT if out of range */

/* Bytes of model memory held by the snapshot (arena + arrays), for the memory budget. */
size_t lh_snapshot_mem_bytes(const lh_snapshot *s);

/* ---- configuration ---------------------------------------------------------------------------- */
/* The YAML shape of Volcano's volcano-scheduler.conf:
 *
 *   actions: "enqueue, allocate, backfill"      # order matters; reclaim and preempt available
 *   tiers:
 *   - plugins:
 *     - name: priority
 *     - name: gang
 *     - name: conformance
 *   - plugins:
 *     - name: drf
 *     - name: predicates
 *     - name: proportion
 *     - name: nodeorder
 *       arguments: { leastrequested.weight: 1, balancedresource.weight: 1 }
 *     - name: binpack
 *       arguments: { binpack.weight: 10, binpack.cpu: 1, binpack.memory: 1,
 *                    binpack.resources: nvidia.com/gpu, binpack.resources.nvidia.com/gpu: 2 }
 *   configurations:                               # Volcano's per-action arguments
 *   - name: allocate
 *     arguments:
 *       lahar.placement: binpack                  # binpack | spread (default: binpack when the
 *                                                 #   binpack plugin is enabled, else spread)
 *       lahar.serverlessBurst: true               # burst to serverless when no dedicated fits
 *       lahar.nodesToScore: 100                   # candidate nodes scored per batch, 0 = all
 *   - name: gang
 *     arguments:
 *       lahar.releaseBrokenGang: true             # evict a gang below minMember that can't refill
 *
 * Scoring (score.c): without lahar.placement the node score is the weighted sum of binpack
 * (binpack.weight x the binpack.cpu/memory/resources.* weighted utilisation after placement) and
 * nodeorder's leastrequested.weight x (1 - mean cpu/memory utilisation), mostrequested.weight x
 * that mean, balancedresource.weight x (1 - std deviation of the utilisations); an explicit
 * lahar.placement scores by that one direction only. nodeorder's other weights (nodeaffinity,
 * podaffinity, tainttoleration, imagelocality, podtopologyspread, selectorspread) and the
 * predicates plugin's predicate.* switches are accepted and have no effect (no such inputs).
 * Queue order in allocate walks the queue tree: at each level the child with the lowest share of
 * its deserved (hdrf-style) counting the next task it would get, that still has work, down to a
 * leaf, so each queue ends within one task of its water-filling share when demand exceeds
 * supply; groups on a queue with children are refused. Enqueue and reclaim walk the same tree by
 * the shares before allocating. Reclaim: victim queues are simulated per attempt (a queue loses tasks only while
 * still above its deserved share), the reclaiming queue stays within its deserved share, victims
 * are lowest priority first, then fewest (see scheduler/victims.c); a gang that got tasks earlier
 * in the cycle is never evicted whole in that cycle.
 * Implemented plugins: priority, gang, conformance (kube-system and priority >= 2000000000 are
 * never victims), drf, predicates, proportion, nodeorder, binpack, overcommit
 * (overcommit-factor). Per-plugin switches honoured: enableJobOrder, enableQueueOrder,
 * enableTaskOrder, enableJobReady, enablePreemptable, enableReclaimable, enablePreemptive,
 * enablePredicate, enableNodeOrder, enableJobEnqueued, enabledOverused, enabledAllocatable,
 * enableHierarchy (drf: without proportion's queue order, queues compare by dominant share over
 * weight, level by level). Accepted with no effect (nothing to act on in lahar's model):
 * enableNamespaceOrder, enableJobPipelined, enableJobStarving, enabledVictim, enableBestNode,
 * enableTargetJob, enableReservedNodes, enabledClusterOrder, enabledHyperNodeOrder,
 * enabledSubJobReady, enabledSubJobPipelined, enabledSubJobOrder, enabledHyperNodeGradient.
 * Other Volcano plugin/action names and unknown names are errors naming the line. */
typedef struct lh_conf lh_conf;

lh_conf *lh_conf_default(void); /* Volcano's default conf; NULL on out of memory */
/* Parses yaml[0..len). On success *out is a new conf (caller frees). On failure returns LH_ECONF
 * (or LH_ENOMEM), *out is NULL and err holds "line N: what is wrong" (always NUL-terminated when
 * errlen > 0). */
int lh_conf_parse(const char *yaml, size_t len, lh_conf **out, char *err, size_t errlen);
void lh_conf_free(lh_conf *c);

/* ---- one scheduling cycle --------------------------------------------------------------------- */
typedef struct {
  int32_t task;
  int32_t group;
  int32_t cluster;
  int32_t node; /* -1 on a serverless cluster */
} lh_bind;

typedef enum {
  LH_EVICT_RECLAIM = 1,     /* another queue reclaimed its deserved share */
  LH_EVICT_PREEMPT = 2,     /* a higher-priority group of the same queue */
  LH_EVICT_GANG_BROKEN = 3  /* the gang fell below minMember and could not be refilled */
} lh_evict_reason;
typedef struct {
  int32_t task;
  int32_t group;
  lh_evict_reason reason;
  int32_t for_group; /* the group the room was made for; -1 for LH_EVICT_GANG_BROKEN */
} lh_eviction;

typedef struct {
  int32_t group;
  const char *reason; /* human readable, e.g. "queue q1 at capability: cpu 64/64" */
} lh_pending;

typedef struct {
  int32_t queue;
  lh_res deserved;
  lh_res allocated; /* after this cycle's binds and evictions */
  lh_res request;
} lh_queue_share;

typedef struct lh_result lh_result;

/* Runs the configured actions over the snapshot. `now` is the caller's clock (same unit as
 * creation_time). Returns 0 and a new result in *out, or LH_EINVAL / LH_ENOMEM with *out NULL. */
int lh_schedule(const lh_conf *conf, const lh_snapshot *snap, int64_t now, lh_result **out);

/* Accessors: arrays in a deterministic order (binds and evictions in decision order, pending and
 * admitted by group index, queues by queue index). *n receives the count; never NULL arrays
 * when *n > 0. */
const lh_bind *lh_result_binds(const lh_result *r, size_t *n);
const lh_eviction *lh_result_evictions(const lh_result *r, size_t *n);
const lh_pending *lh_result_pending(const lh_result *r, size_t *n);
const int32_t *lh_result_admitted(const lh_result *r, size_t *n);
const lh_queue_share *lh_result_queues(const lh_result *r, size_t *n);
/* The pending reason of one group, or NULL when the group is not pending. */
const char *lh_result_group_reason(const lh_result *r, int group);
void lh_result_free(lh_result *r);

#ifdef __cplusplus
}
#endif
#endif /* LAHAR_SCHED_H */
