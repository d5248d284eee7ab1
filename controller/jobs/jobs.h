/* jobs.h — the Volcano Job reconciler of lahar-controller (batch.volcano.sh/v1alpha1 Job):
 * a PodGroup plus pods for each task, the env/svc/ssh plugins, policies, maxRetry, TTL and the
 * Volcano job phases, written through the status subresource.
 *
 * How it plugs in: it uses the shared informers of core/ctl.h (pods, podgroups, jobs), adds
 * handlers to them and registers one reconciler (a rate-limited work queue keyed "ns/name",
 * drained on the loop thread). Everything runs on the loop thread; pods, services, config maps
 * and secrets are written with the async client, many requests in flight.
 * State is derived from the cluster (job status + pods + podgroup), so a restarted controller
 * carries on where the previous one stopped; memory only holds in-flight bookkeeping.
 *
 * Ownership: the controller belongs to the caller; free it after lh_ctl_free's loop has stopped
 * (lh_jobs_controller_free cancels nothing on the server). */
#ifndef LAHAR_JOBS_JOBS_H
#define LAHAR_JOBS_JOBS_H

#include "core/ctl.h"

typedef struct lh_jobs_opts {
  const char *default_scheduler; /* schedulerName of jobs without one; NULL: the ctl's name */
  const char *default_queue;     /* spec.queue when empty, default "default" */
  int default_max_retry;         /* spec.maxRetry when 0/absent, default 3 (Volcano's) */
  long pod_delete_grace_s;       /* gracePeriodSeconds of pod deletions, -1: server default */
  int wait_for_inqueue;          /* 1: create pods only once the PodGroup left phase Pending
                                    (Volcano with its enqueue action); default 0 */
  long resync_ms;                /* re-reconcile live jobs this often, default 30000 */
  int max_per_iteration;         /* keys per loop iteration, default 64 */
} lh_jobs_opts;

/* Fills the defaults above. Cannot fail. */
void lh_jobs_opts_init(lh_jobs_opts *o);

typedef struct lh_jobs_controller lh_jobs_controller;

/* Registers the Job reconciler on ctl: informer handlers (pods, podgroups, jobs) and a
 * reconciler named "jobs". Must be called after lh_ctl_new and BEFORE lh_ctl_start (ctl refuses
 * handlers afterwards); work starts when the ctl starts and this replica leads. o may be NULL
 * (defaults). Returns 0 with *out set, or LH_EKUBE_NOMEM / LH_EKUBE_INVAL (nothing registered
 * that needs freeing beyond *out == NULL). */
int lh_jobs_controller_start(lh_ctl *ctl, const lh_jobs_opts *o, lh_jobs_controller **out);
/* Frees the controller's memory. Call after the ctl's loop stopped (the ctl keeps pointers to
 * its handlers: free the ctl first, or never run its loop again). NULL ok. */
void lh_jobs_controller_free(lh_jobs_controller *jc);

/* The hook core/ctl.h documents for main.c: lh_jobs_controller_start with default options,
 * the controller kept in this module until lh_jobs_unregister (process lifetime otherwise).
 * Returns 0 or a negative LH_EKUBE_* code. */
int lh_jobs_register(lh_ctl *ctl);
void lh_jobs_unregister(void);

/* Counters, for tests and metrics. */
typedef struct lh_jobs_stats {
  unsigned long reconciles, pods_created, pods_already_existed, pods_deleted, status_writes,
      status_conflicts, podgroups_created, restarts, errors;
} lh_jobs_stats;
void lh_jobs_get_stats(const lh_jobs_controller *jc, lh_jobs_stats *st);

#endif
