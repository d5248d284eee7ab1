/* sim.h — the pure parts of the simulated nodes, internal to hack/nodesim/ and unit-tested on
 * their own: Kubernetes quantities and Go durations, "k=v,..." lists, node JSON, the per-pod
 * state machine and its status bodies, and exec argv/env building from a pod spec.
 * Nothing here does I/O, reads a clock or holds globals: times come in as arguments.
 *
 * Sections (files): quantity.c (quantities, durations, lists), node.c (node JSON),
 * podsm.c (pod info, state machine, status JSON), podslim.c (the kept fields of a pod's
 * JSON text), execspec.c (argv/env). */
#ifndef LAHAR_NODESIM_SIM_H
#define LAHAR_NODESIM_SIM_H

#include "nodesim/nodesim.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* --- quantities, durations, lists (quantity.c) ------------------------------------------- */

/* Parses a Kubernetes quantity ("500m", "2", "1.5", "128Gi", "1e3", "4k", "100M") into
 * milli-units, rounding up, through the client library's lh_kube_quantity_parse (pod.h).
 * Returns 0 or LH_ENODESIM_INVAL (syntax, negative, or too large for int64 milli-units). */
int sim_quantity_parse(const char *s, int64_t *milli);
/* Writes milli-units as a quantity: "32", "500m", and with binary != 0 the largest exact binary
 * suffix for whole values ("128Gi", "1536Mi"). Returns the length or -1 if out is too small. */
int sim_quantity_format(int64_t milli, int binary, char *out, size_t outlen);

/* Parses a Go duration ("30s", "1m30s", "500ms", "1h", "1.5s", "2us") or plain seconds ("30",
 * "0.5") into milliseconds, rounding sub-millisecond remainders up. Negative durations are
 * refused. Returns 0, LH_ENODESIM_INVAL or LH_ENODESIM_RANGE. */
int sim_duration_parse(const char *s, int64_t *ms);

/* A parsed "k=v,k2=v2" list: key/value pairs pointing into one owned copy of the text. */
typedef struct sim_kv {
  char *key;
  char *value; /* "" when the item had no '=' (only allowed where the caller accepts it) */
} sim_kv;
typedef struct sim_kvlist {
  sim_kv *items;
  size_t n;
  char *text; /* owned storage the items point into */
} sim_kvlist;
/* Parses s (NULL or "" gives an empty list). Items are separated by ',', whitespace around
 * items is trimmed, every item needs a non-empty key and, if need_value, an '='. Returns 0,
 * LH_ENODESIM_INVAL (with what was wrong in err) or LH_ENODESIM_NOMEM; on failure *l is empty. */
int sim_kvlist_parse(const char *s, int need_value, sim_kvlist *l, char *err, size_t errlen);
void sim_kvlist_free(sim_kvlist *l);
const char *sim_kvlist_get(const sim_kvlist *l, const char *key); /* NULL if absent */

/* A node taint "key[=value]:Effect"; effect NoSchedule, PreferNoSchedule or NoExecute. */
typedef struct sim_taint {
  char key[254];
  char value[64];
  char effect[20];
} sim_taint;
/* Parses "k=v:NoSchedule,k2:NoExecute" into at most max taints. Returns the count (>= 0) or
 * LH_ENODESIM_INVAL with a message in err. */
int sim_taints_parse(const char *s, sim_taint *out, size_t max, char *err, size_t errlen);

/* Parses a pool quota "cpu=64,memory=256Gi,nvidia.com/gpu=8,pods=500" into q (fields not
 * named keep their value). Unknown resource names are refused. Returns 0 or
 * LH_ENODESIM_INVAL / LH_ENODESIM_RANGE with a message in err. */
int sim_quota_parse(const char *s, lh_nodesim_pool *q, char *err, size_t errlen);

/* --- nodes (node.c) ---------------------------------------------------------------------- */

#define SIM_NAME_MAX 254
#define SIM_MAX_TAINTS 16

/* Everything one simulated node is made of, resolved from the configuration. */
typedef struct sim_node_spec {
  char name[SIM_NAME_MAX];
  int index;                 /* position among the regular nodes, or -1-k for pool k */
  int64_t cpu_milli;
  int64_t memory_bytes;
  int64_t gpu;
  int64_t max_pods;
  const sim_kvlist *labels;  /* user labels (borrowed), may be NULL */
  const char *cluster;       /* lahar.io/cluster value or NULL */
  const char *pool;          /* serverless pool name or NULL */
  const sim_taint *taints;   /* configured taints (borrowed) */
  size_t ntaints;
  char host_ip[16];          /* "172.16.x.y" */
  char pod_cidr[20];         /* "10.x.y.0/24" */
} sim_node_spec;

/* Fills the addresses of node number idx (>= 0; pools use negative idx) deterministically:
 * hostIP 172.(16 + idx/65536 % 16).(idx/256 % 256).(idx % 256 + 1 ...), podCIDR 10.a.b.0/24.
 * Wraps silently past about a million nodes (addresses are cosmetic). */
void sim_node_addresses(int idx, char host_ip[16], char pod_cidr[20]);
/* The labels a node carries: kubernetes.io/{hostname,os,arch}, node.kubernetes.io/instance-type,
 * type=kwok (or virtual-kubelet for a pool), lahar.io/nodesim=true, the cluster label, pool
 * labels, then the user's labels (which win). New reference or NULL (no memory). */
json_t *sim_node_labels(const sim_node_spec *n);
/* spec.taints as configured, plus for a pool the taint lahar.io/serverless=true:NoSchedule
 * unless pool_no_taint. New reference (an empty array when none) or NULL. */
json_t *sim_node_taints(const sim_node_spec *n, int pool_no_taint);
/* The node's status: Ready=True, MemoryPressure/DiskPressure/PIDPressure/NetworkUnavailable
 * False (heartbeat and transition times = now_rfc3339), capacity = allocatable (cpu, memory,
 * pods, nvidia.com/gpu when > 0, ephemeral-storage), addresses, nodeInfo, daemonEndpoints.
 * New reference or NULL. */
json_t *sim_node_status(const sim_node_spec *n, const char *now_rfc3339);
/* The whole Node object for POST /api/v1/nodes (metadata, spec.podCIDR(s), taints, status).
 * New reference or NULL. */
json_t *sim_node_object(const sim_node_spec *n, int pool_no_taint, const char *now_rfc3339);

/* --- pods: what the simulator reads from a pod (podsm.c) --------------------------------- */

#define SIM_ANN_DURATION "lahar.io/sim-duration"
#define SIM_ANN_EXIT_CODE "lahar.io/sim-exit-code"

typedef enum { SIM_RESTART_ALWAYS = 0, SIM_RESTART_ON_FAILURE, SIM_RESTART_NEVER } sim_restart;
typedef enum {
  SIM_PHASE_PENDING = 0, SIM_PHASE_RUNNING, SIM_PHASE_SUCCEEDED, SIM_PHASE_FAILED,
  SIM_PHASE_UNKNOWN
} sim_phase;

/* The facts of one pod the state machine needs. Strings point into the pod JSON it was parsed
 * from (borrowed: valid while that json_t lives). */
typedef struct sim_pod_info {
  const char *ns, *name, *uid, *node;
  int deleting;              /* metadata.deletionTimestamp set */
  sim_phase phase;           /* status.phase */
  sim_restart restart;       /* spec.restartPolicy (default Always) */
  int has_duration;          /* annotation present and valid */
  int64_t duration_ms;
  int exit_code;             /* annotation value, 0 when absent */
  int bad_annotation;        /* an annotation was present but invalid (it is ignored) */
  int restart_count;         /* containerStatuses[0].restartCount (adoption) */
} sim_pod_info;

/* Parses pod into pi. Returns 0 or LH_ENODESIM_INVAL (no metadata.name/namespace/uid). */
int sim_pod_info_parse(const json_t *pod, sim_pod_info *pi);

/* The fields of pod JSON text (validated by util/jscan.h) that sim_pod_info_parse and
 * sim_pod_status_patch read, as a small tree of the same shape (podslim.c): both give the same
 * answers on it as on the whole pod. NULL with *fallback = 1 when jansson's duplicate-key rules
 * would matter (or the text is not an object): parse the whole pod instead; NULL with
 * *fallback = 0: no memory. */
json_t *sim_pod_slim(const char *json, size_t len, int *fallback);
/* spec.nodeName of pod JSON text, decoded into out (cap bytes): 1 found, 0 absent / not a
 * string / cap bytes or longer, -1 "spec" or "nodeName" occurs twice (ask jansson). */
int sim_pod_node_name(const char *json, size_t len, char *out, size_t cap);

/* --- the per-pod state machine (podsm.c) ------------------------------------------------- */

typedef enum {
  SIM_ST_NEW = 0,    /* not yet seen */
  SIM_ST_WAITING,    /* bound; "starting" until the running delay passes */
  SIM_ST_RUNNING,    /* status Running written (or being written) */
  SIM_ST_RESTARTING, /* exited under restartPolicy Always/OnFailure; restarts after the delay */
  SIM_ST_TERMINATED, /* Succeeded or Failed written */
  SIM_ST_DELETING,   /* deletionTimestamp seen: deletion confirmed (and retried) */
} sim_pod_state;

typedef struct sim_pod_sm {
  sim_pod_state st;
  int64_t deadline;  /* loop ms of the next TIMER event, 0 = none */
  int64_t started;   /* loop ms the current run began */
  int restarts;      /* containerStatuses[].restartCount */
  int exit_code;     /* exit code of the final (TERMINATED) or last (restart) run */
  int proc;          /* a local process runs for this pod (exec mode) */
} sim_pod_sm;

typedef enum { SIM_EV_OBSERVE = 0, SIM_EV_TIMER, SIM_EV_EXIT, SIM_EV_GONE } sim_event_kind;

/* Action bits returned by sim_pod_step. */
#define SIM_ACT_WRITE_STATUS   0x01 /* write the status for the current state */
#define SIM_ACT_START_PROC     0x02 /* exec: start the container process */
#define SIM_ACT_KILL_PROC      0x04 /* exec: kill the process group */
#define SIM_ACT_CONFIRM_DELETE 0x08 /* DELETE with gracePeriodSeconds=0 (and uid precondition) */
#define SIM_ACT_FORGET         0x10 /* the pod is gone: drop its state */
#define SIM_ACT_WARN_ANNOT     0x20 /* first sight of a pod whose sim annotation is invalid */

typedef struct sim_pod_params {
  int64_t running_delay_ms;  /* bound -> Running, and exit -> restart */
  int64_t delete_retry_ms;   /* re-confirm a deletion the server has not finished */
  int exec;                  /* processes instead of annotation timers */
} sim_pod_params;

/* Advances sm by one event at loop time now (ms). pi is the pod's latest state (NULL only for
 * SIM_EV_GONE); exit_code is used by SIM_EV_EXIT. Returns the SIM_ACT_* bits the caller must
 * carry out; sm->deadline says when to deliver SIM_EV_TIMER next (0: no timer). A TIMER before
 * the deadline is ignored. Pure: no I/O, no clock.
 *
 * Rules (restartPolicy): a run that ends with code c finishes the pod (Succeeded if c == 0,
 * else Failed) under Never, and under OnFailure when c == 0; otherwise (Always, or OnFailure
 * with c != 0) the container restarts, restartCount + 1, the pod stays Running and the run
 * repeats (annotation duration again, or a new process). The restart waits running_delay_ms
 * doubled per earlier restart, at most SIM_RESTART_BACKOFF_MAX_MS (a CrashLoopBackOff). */
#define SIM_RESTART_BACKOFF_MAX_MS 300000
unsigned sim_pod_step(sim_pod_sm *sm, const sim_pod_info *pi, sim_event_kind ev, int exit_code,
                      int64_t now, const sim_pod_params *p);
const char *sim_pod_state_name(sim_pod_state st);

/* Times and addresses of a pod's status, kept by the runtime (RFC 3339 strings). */
typedef struct sim_pod_times {
  char scheduled[32]; /* first seen bound */
  char start[32];     /* status.startTime (first Running) */
  char started[32];   /* current run's startedAt */
  char finished[32];  /* end of the final run (or the last run, while restarting) */
  char last_started[32]; /* startedAt of the previous run (lastState) */
} sim_pod_times;

/* Builds the merge patch {"status":{...}} for sm's state: Running (conditions PodScheduled,
 * Initialized, ContainersReady, Ready True; containerStatuses running, restartCount,
 * lastState after a restart; initContainerStatuses terminated Completed; startTime, hostIP,
 * podIP(s)) or Succeeded/Failed (containers terminated with exitCode, reason Completed/Error;
 * Ready False). pod is the full pod JSON (for container names/images). Returns a new reference,
 * or NULL for states without a status (NEW, WAITING, DELETING) or no memory. */
json_t *sim_pod_status_patch(const json_t *pod, const sim_pod_sm *sm, const sim_pod_times *t,
                             const char *host_ip, const char *pod_ip);

/* --- exec (execspec.c) ------------------------------------------------------------------- */

/* What runs for a pod: argv (NULL-terminated) and the pod's own environment entries. */
typedef struct sim_exec_spec {
  char **argv;      /* command + args of the first container, $(VAR) expanded */
  size_t argc;
  char **env;       /* "NAME=value" from env[].value (valueFrom entries are skipped) */
  size_t nenv;
  char *container;  /* the container's name */
} sim_exec_spec;
/* Builds the spec from the pod's first container: argv = command ++ args (args alone when no
 * command: the image entrypoint is unknown here), $(VAR) references expanded from the
 * container's env like the kubelet ($$ escapes, unknown references are kept). Returns 0,
 * LH_ENODESIM_INVAL (no containers, nothing to run, non-string items; msg says which) or
 * LH_ENODESIM_NOMEM. On failure out is empty. */
int sim_exec_build(const json_t *pod, sim_exec_spec *out, char *msg, size_t msglen);
void sim_exec_spec_free(sim_exec_spec *s);
/* Builds the environment for the process: base (NULL-terminated, e.g. environ) with the pod's
 * entries and HOSTNAME=<pod> overriding same-named ones. Returns a NULL-terminated malloc'ed
 * array of malloc'ed strings (free with sim_strv_free) or NULL. */
char **sim_exec_envp(char *const *base, const sim_exec_spec *s, const char *pod_name);
void sim_strv_free(char **v);

#endif
