/* ctl.h — the controller context of lahar-controller: one event loop, one async and one blocking
 * REST client, the shared informers (created once, shared by every reconciler), cache lookups,
 * an event recorder, leader election state and a registry of reconcilers (work queue + worker).
 *
 * Lifecycle (main.c drives it; reconcilers such as controller/jobs/ plug in between new and start):
 *   lh_ctl_new(opts)                     loop, clients, informers (not started yet)
 *   lh_ctl_add_handlers(ctl, res, h)     extra informer handlers   } only before lh_ctl_start
 *   lh_ctl_add_reconciler(ctl, &r, &rec) a work queue + its worker }
 *   lh_ctl_start(ctl)                    informers list+watch, leader election, HTTP endpoints
 *   lh_ctl_run(ctl)                      the loop, until lh_ctl_shutdown (SIGINT/SIGTERM)
 *   lh_ctl_free(ctl)
 *
 * The jobs library (controller/jobs/) is expected to provide `int lh_jobs_register(lh_ctl *ctl);`
 * in "jobs/jobs.h"; main.c calls it after lh_ctl_new and before lh_ctl_start when that header
 * exists. It returns 0 or a negative LH_EKUBE_* code (start-up then fails with exit 2).
 *
 * THREADING: everything here runs on the loop thread (informer handlers, reconcile functions,
 * async callbacks, event posting). The caches are not locked: read them on the loop thread only.
 * A reconciler that wants its own threads must touch the caches through lh_ctl_call_on_loop().
 *
 * CACHE OBJECTS: pods are `const lh_pod *` (kube/pod.h, the compact transform); nodes, queues,
 * podgroups and jobs are `const json_t *` (the full object, borrowed: json_incref to keep one
 * past the current callback). Keys are "ns/name" (namespaced) or "name".
 *
 * ERRORS: functions return 0 or a negative LH_EKUBE_* code (kube/kube.h). */
#ifndef LAHAR_CORE_CTL_H
#define LAHAR_CORE_CTL_H

#include "kube/async.h"
#include "kube/client.h"
#include "kube/informer.h"
#include "kube/loop.h"
#include "kube/workqueue.h"

#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lh_ctl lh_ctl;

/* The shared informers. */
typedef enum {
  LH_CTL_PODS = 0,  /* v1 pods, compact (const lh_pod *) */
  LH_CTL_NODES,     /* v1 nodes (const json_t *) */
  LH_CTL_QUEUES,    /* scheduling.volcano.sh/v1beta1 queues (const json_t *) */
  LH_CTL_PODGROUPS, /* scheduling.volcano.sh/v1beta1 podgroups (const json_t *) */
  LH_CTL_JOBS,      /* batch.volcano.sh/v1alpha1 jobs (const json_t *) */
  LH_CTL_NRES
} lh_ctl_res;

/* Configuration, normally filled by lh_ctl_parse_args (args.h). Strings are borrowed from argv
 * or static storage and must outlive the lh_ctl. */
typedef struct lh_ctl_opts {
  const char *kubeconfig;       /* NULL: in-cluster configuration */
  const char *scheduler_name;   /* default "lahar"; "volcano" is always accepted as well */
  const char *scheduler_conf;   /* YAML file of the scheduling core, NULL: built-in default */
  int leader_elect;             /* 0/1 */
  const char *le_namespace;     /* Lease namespace (default "kube-system") */
  const char *le_name;          /* Lease name (default "lahar-controller") */
  const char *le_identity;      /* default hostname_pid */
  long le_lease_ms;             /* lease duration, default 15000 */
  long le_renew_ms;             /* renew deadline, default 10000 */
  long le_retry_ms;             /* retry period, default 2000 */
  const char *metrics_listen;   /* "host:port" of /healthz /readyz /metrics, NULL: off */
  const char *api_listen;       /* validated only (REST API is a later issue), NULL: off */
  int log_level;                /* lh_log_level */
  long cycle_debounce_ms;       /* first change -> cycle, default 10 */
  long cycle_min_interval_ms;   /* at most one cycle per this, default 100 */
  long cycle_resync_ms;         /* a cycle at least this often while anything is pending, 1000 */
  const char *default_cluster;  /* cluster name of nodes without lahar.io/cluster, "local" */
  long max_binds_in_flight;     /* default 256 */
  long list_page_size;          /* informer list page (limit=), default 5000 */
} lh_ctl_opts;

/* Fills the defaults above. Cannot fail. */
void lh_ctl_opts_init(lh_ctl_opts *o);

/* Creates the context: loads the kube configuration, creates the loop, clients and informers
 * (nothing is started). Returns 0 with *out set, or LH_EKUBE_CONFIG / LH_EKUBE_NOMEM /
 * LH_EKUBE_INVAL with a one-line message in err (never secret material). */
int lh_ctl_new(const lh_ctl_opts *o, lh_ctl **out, char *err, size_t errlen);
/* Starts informers, leader election and the HTTP endpoints. Returns 0 or an error (err). */
int lh_ctl_start(lh_ctl *ctl, char *err, size_t errlen);
/* Runs the loop until lh_ctl_shutdown. Returns 0. */
int lh_ctl_run(lh_ctl *ctl);
/* Stops the loop (async-signal-safe: only writes to an eventfd/flag). */
void lh_ctl_shutdown(lh_ctl *ctl);
/* Releases the lease (if held), stops everything, frees. NULL ok. */
void lh_ctl_free(lh_ctl *ctl);

/* --- accessors ---------------------------------------------------------------------------- */
lh_loop *lh_ctl_loop(lh_ctl *ctl);
lh_kube_async *lh_ctl_async(lh_ctl *ctl);        /* loop thread */
lh_kube_client *lh_ctl_client(lh_ctl *ctl);      /* blocking; loop thread only (blocks the loop) */
const lh_kube_config *lh_ctl_kube_config(const lh_ctl *ctl); /* for clients of other threads */
const lh_ctl_opts *lh_ctl_get_opts(const lh_ctl *ctl);
lh_informer *lh_ctl_informer(lh_ctl *ctl, lh_ctl_res res);
lh_kube_cache *lh_ctl_cache(lh_ctl *ctl, lh_ctl_res res);
/* All informers have applied their first list. */
int lh_ctl_synced(const lh_ctl *ctl);
/* This replica holds the lease (always 1 without --leader-elect). Reconcilers must not write
 * while it is 0; registered reconcilers are simply not run then (their keys wait). */
int lh_ctl_is_leader(const lh_ctl *ctl);
/* Is name (a pod's or job's schedulerName) ours: the configured name or "volcano".
 * NULL/"" is not ours (the default scheduler's). */
int lh_ctl_scheduler_ok(const lh_ctl *ctl, const char *name);

/* --- handlers ----------------------------------------------------------------------------- */
/* Registers h (copied) to receive the add/update/delete callbacks of informer res, after the
 * controller's own handlers. Only before lh_ctl_start. Returns 0, LH_EKUBE_INVAL (started, bad
 * res) or LH_EKUBE_NOMEM. */
int lh_ctl_add_handlers(lh_ctl *ctl, lh_ctl_res res, const lh_informer_handlers *h);

/* --- cache lookups (loop thread; results borrowed until the callback/iteration ends) -------- */
const void *lh_ctl_get(lh_ctl *ctl, lh_ctl_res res, const char *ns, const char *name);
const json_t *lh_ctl_podgroup(lh_ctl *ctl, const char *ns, const char *name);
const json_t *lh_ctl_job(lh_ctl *ctl, const char *ns, const char *name);
const json_t *lh_ctl_queue(lh_ctl *ctl, const char *name);
/* Calls fn(key, const lh_pod *, ud) for the pods in namespace ns (NULL: all) with label k=v.
 * Returns how many. Example: lh_ctl_pods_by_label(ctl, ns, "volcano.sh/job-name", job, fn, ud). */
size_t lh_ctl_pods_by_label(lh_ctl *ctl, const char *ns, const char *k, const char *v,
                            lh_kube_cache_fn *fn, void *ud);

/* Runs fn(ctl, data) on the loop thread and waits for it; from the loop thread it runs at once.
 * For reconcilers with their own threads. Returns 0 or LH_EKUBE_NOMEM. */
int lh_ctl_call_on_loop(lh_ctl *ctl, void (*fn)(lh_ctl *ctl, void *data), void *data);

/* --- events ------------------------------------------------------------------------------- */
/* The involved object of an Event. */
typedef struct lh_ctl_ref {
  const char *kind;        /* "Pod", "PodGroup", "Job", "Queue" */
  const char *api_version; /* "v1", "scheduling.volcano.sh/v1beta1", "batch.volcano.sh/v1alpha1" */
  const char *ns;          /* NULL/"" for cluster-scoped objects (Events then go to "default") */
  const char *name;
  const char *uid;         /* may be NULL */
} lh_ctl_ref;
/* Fills ref from an object's metadata (strings borrowed from obj). */
void lh_ctl_ref_from_json(lh_ctl_ref *ref, const json_t *obj, const char *kind,
                          const char *api_version);

#define LH_CTL_EVENT_NORMAL "Normal"
#define LH_CTL_EVENT_WARNING "Warning"
/* Records a core/v1 Event (asynchronously, best effort; failures are logged and counted).
 * Aggregation as client-go: the same (object, type, reason, message) within 10 minutes bumps
 * count/lastTimestamp of the first Event (PATCH) instead of creating another. Rate limit per
 * involved object: a token bucket of burst 25 refilled 1 per 5 minutes (client-go's), plus a cap
 * on Events in flight; dropped Events are counted. Messages are truncated to 1 KiB.
 * Returns 0, or 1 when the event was dropped by the rate limit / in-flight cap. */
int lh_ctl_event(lh_ctl *ctl, const lh_ctl_ref *obj, const char *type, const char *reason,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* --- reconcilers -------------------------------------------------------------------------- */
/* Reconcile one key. Return 0 (done: forget the key's failures), LH_CTL_REQUEUE (again after
 * the rate limiter's delay, without counting as an error), LH_CTL_REQUEUE_AFTER(ms) encoded via
 * lh_ctl_requeue_after(), or a negative error (rate-limited retry, logged). */
typedef int lh_ctl_reconcile_fn(lh_ctl *ctl, const char *key, void *data);
#define LH_CTL_REQUEUE 1

typedef struct lh_ctl_reconciler_opts {
  const char *name;            /* for logs and metrics, e.g. "jobs" (copied) */
  lh_ctl_reconcile_fn *fn;
  void *data;
  int max_per_iteration;       /* keys reconciled per loop iteration, default 64 */
  int leader_only;             /* run only while leading (default behaviour: set 1) */
  lh_wq_opts wq;               /* work queue options (zero: workqueue.h defaults) */
} lh_ctl_reconciler_opts;

typedef struct lh_ctl_reconciler lh_ctl_reconciler;
/* Creates a work queue drained on the loop thread by r->fn. Only before lh_ctl_start.
 * Returns 0 with *out (owned by ctl), LH_EKUBE_INVAL or LH_EKUBE_NOMEM. */
int lh_ctl_add_reconciler(lh_ctl *ctl, const lh_ctl_reconciler_opts *r, lh_ctl_reconciler **out);
/* Queues key (wakes the reconciler). Thread-safe. Returns 0 or LH_EKUBE_NOMEM. */
int lh_ctl_enqueue(lh_ctl_reconciler *rec, const char *key);
int lh_ctl_enqueue_after(lh_ctl_reconciler *rec, const char *key, long delay_ms);
/* Within a reconcile fn: ask for key to come back after delay_ms (then return 0). */
void lh_ctl_requeue_after(lh_ctl_reconciler *rec, const char *key, long delay_ms);
lh_wq *lh_ctl_reconciler_queue(lh_ctl_reconciler *rec);

/* --- scheduling ---------------------------------------------------------------------------- */
/* Asks for a scheduling cycle soon (debounced). Informer changes already do this. */
void lh_ctl_trigger_cycle(lh_ctl *ctl);

/* --- small JSON helpers shared with reconcilers ------------------------------------------- */
/* obj.a.b.c as a string (NULL if absent or not a string). path is dot-separated. */
const char *lh_ctl_jstr(const json_t *obj, const char *path);
/* obj.a.b as an integer (def if absent or not a number). */
long long lh_ctl_jint(const json_t *obj, const char *path, long long def);

#endif
