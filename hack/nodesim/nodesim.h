/* nodesim.h — simulated Kubernetes nodes (after kwok), built on controller/kube so they work
 * against any API server: the local cluster (in-process or not) or a real kube-apiserver.
 *
 * What a simulator does, on its own thread and lh_loop:
 *   - registers `nodes` Nodes named <prefix>0..N-1 (plus one virtual node per serverless pool)
 *     with the async client, many requests in flight: create (an existing node is adopted),
 *     then status (Ready=True, pressure conditions False, capacity = allocatable, addresses,
 *     nodeInfo) through nodes/NAME/status, then labels and spec.taints, which drops the
 *     node.kubernetes.io/not-ready taint a real apiserver adds on create (nothing else removes
 *     it without kube-controller-manager);
 *   - watches bound pods (one informer, all namespaces, fieldSelector spec.nodeName!=) and keeps
 *     those on its nodes; each goes Pending -> Running after running_delay_ms, then Succeeded,
 *     or Failed with the exit code of annotation lahar.io/sim-exit-code, after the Go duration
 *     in annotation lahar.io/sim-duration ("30s", "1m30s", "500ms" or plain seconds); without
 *     the annotation the pod runs until deleted (an invalid annotation is ignored with a
 *     warning; annotations are read once, when the pod is first seen). restartPolicy Always
 *     (and OnFailure after a failure) restarts the container instead: restartCount + 1,
 *     lastState terminated, the pod stays Running, after a delay doubling from
 *     running_delay_ms up to 5 minutes (CrashLoopBackOff);
 *   - adopts pods after a restart of the simulator: finished pods are left alone, Running pods
 *     keep running with their duration counted from the restart (exec: the process is started
 *     again), Pending pods start normally;
 *   - with exec, runs the first container's command + args as a local process (no shell; env
 *     values from the pod; cwd a per-pod sandbox directory; its own process group), streams
 *     stdout+stderr to the pod log (POST pods/NAME/log, a local-cluster extension; elsewhere a
 *     warning once and the file <sandbox>/<ns>_<pod>_<uid>/<container>.log only) and finishes the
 *     pod with the process's exit code (128+N for signal N) once its output was delivered;
 *     the duration/exit-code annotations are not used then. A command that cannot be started
 *     ends the pod Failed with 127 and the reason in its log. The host process must not reap
 *     children it did not start (waitpid(-1) / SIGCHLD SIG_IGN) or exit codes are lost;
 *   - confirms deletions: a pod with deletionTimestamp has its process group killed and is
 *     deleted with gracePeriodSeconds=0 (and a uid precondition), as a kubelet does.
 *
 * Serverless pools: a pool is one virtual node (virtual-kubelet style: labels type=virtual-kubelet,
 * lahar.io/serverless=true, lahar.io/serverless-pool=NAME; taint lahar.io/serverless=true:
 * NoSchedule unless pool_no_taint) whose capacity is the pool's quota, so any scheduler sees
 * the pool bounded by the quota: one node rather than many, because a quota is one budget and
 * splitting it over several nodes would add fragmentation a serverless pool does not have.
 *
 * Threading: lh_nodesim_start/stop/wait_registered/stats are called from the owner's thread;
 * everything else happens on the simulator's thread.
 * Ownership: the configuration is copied by lh_nodesim_start; the handle is freed by
 * lh_nodesim_stop. */
#ifndef LAHAR_NODESIM_NODESIM_H
#define LAHAR_NODESIM_NODESIM_H

#include "kube/config.h"

#include <stddef.h>
#include <stdint.h>

#define LH_NODESIM_OK 0
#define LH_ENODESIM_NOMEM -1  /* allocation failed */
#define LH_ENODESIM_INVAL -2  /* bad configuration or malformed input */
#define LH_ENODESIM_RANGE -3  /* a number does not fit */
#define LH_ENODESIM_KUBE -4   /* the client library failed (config, loop, informer) */
#define LH_ENODESIM_SYS -5    /* thread, directory or process creation failed */
#define LH_ENODESIM_TIMEOUT -6 /* lh_nodesim_wait_registered gave up */
#define LH_ENODESIM_REGISTER -7 /* some nodes could not be registered */

const char *lh_nodesim_strerror(int rc); /* static text, never NULL */

/* A serverless pool: one virtual node whose capacity is the quota. */
typedef struct lh_nodesim_pool {
  const char *name;     /* pool name (label value, DNS-1123 label); node <prefix>pool-<name> */
  int64_t cpu_milli;    /* quota; 0 = unbounded is NOT offered: give every resource */
  int64_t memory_bytes;
  int64_t gpu;          /* nvidia.com/gpu */
  int64_t max_pods;     /* pods capacity of the virtual node, default 1000 */
} lh_nodesim_pool;

typedef struct lh_nodesim_config {
  const lh_kube_config *kube;   /* server + credentials (copied); NULL: load kubeconfig */
  const char *kubeconfig;       /* used when kube is NULL; NULL: $KUBECONFIG / ~/.kube/config */
  int nodes;                    /* regular nodes, >= 0 */
  const char *name_prefix;      /* default "nodesim-" */
  int64_t cpu_milli;            /* per node, default 32 cores */
  int64_t memory_bytes;         /* per node, default 128Gi */
  int64_t gpu;                  /* nvidia.com/gpu per node, default 0 (not advertised) */
  int64_t max_pods;             /* default 110 */
  const char *labels;           /* extra node labels "k=v,..." or NULL */
  const char *taints;           /* extra node taints "k=v:Effect,..." or NULL */
  const char *cluster;          /* label lahar.io/cluster=<cluster> when non-NULL */
  const lh_nodesim_pool *pools; /* serverless pools (copied) */
  size_t npools;
  int pool_no_taint;            /* pools without the lahar.io/serverless taint */
  long running_delay_ms;        /* bound -> Running (and restart delay); <0: default 500 */
  int exec;                     /* run container commands as local processes */
  const char *sandbox_dir;      /* exec sandboxes; NULL: $TMPDIR/lahar-nodesim-<pid> */
  long max_in_flight;           /* concurrent registration requests, default 128 */
  long heartbeat_s;             /* re-post node status every N s (0: never, the default) */
} lh_nodesim_config;

/* Defaults for every field (cpu 32, memory 128Gi, max pods 110, delay 500 ms ...). */
void lh_nodesim_config_init(lh_nodesim_config *c);

typedef struct lh_nodesim lh_nodesim;

/* Validates cfg, creates the loop, the async client and the pod informer on a new thread, and
 * starts registering nodes (asynchronously: see lh_nodesim_wait_registered). Returns 0 with
 * *out set, or LH_ENODESIM_INVAL / LH_ENODESIM_KUBE / LH_ENODESIM_SYS / LH_ENODESIM_NOMEM with
 * a message in err (nothing left running). */
int lh_nodesim_start(const lh_nodesim_config *cfg, lh_nodesim **out, char *err, size_t errlen);
/* Waits until every node has been registered (created or adopted, status posted, taints set)
 * or timeout_ms passes (-1: forever). Returns 0, LH_ENODESIM_REGISTER (some nodes failed for
 * good) or LH_ENODESIM_TIMEOUT. */
int lh_nodesim_wait_registered(lh_nodesim *s, long timeout_ms);
/* Stops the thread: kills every exec process group, cancels requests, frees everything.
 * Nodes stay registered (a restart adopts them). NULL ok. */
void lh_nodesim_stop(lh_nodesim *s);

typedef struct lh_nodesim_stats {
  unsigned long nodes_registered, nodes_failed;
  unsigned long pods_tracked, pods_started, pods_succeeded, pods_failed, pods_restarted,
      pods_deleted, status_writes, write_errors, procs_started, log_bytes;
} lh_nodesim_stats;
void lh_nodesim_get_stats(lh_nodesim *s, lh_nodesim_stats *st); /* thread-safe snapshot */

#endif
