/* ctl_int.h — the inside of lh_ctl, shared by the files of controller/core/ (ctl.c, sched.c,
 * queue.c, events.c, http.c); not for other modules. */
#ifndef LAHAR_CORE_CTL_INT_H
#define LAHAR_CORE_CTL_INT_H

#include "core/ctl.h"
#include "core/leader.h"
#include "core/metrics.h"
#include "kube/pod.h"

#include <pthread.h>

typedef struct lh_ctl_handlers_list {
  lh_informer_handlers *h;
  size_t n;
} lh_ctl_handlers_list;

struct lh_ctl_reconciler {
  lh_ctl *ctl;
  char *name;
  lh_ctl_reconcile_fn *fn;
  void *data;
  int max_per_iteration;
  int leader_only;
  lh_wq *q;
  lh_timer timer;      /* drains the queue; polls while keys are delayed */
  int wake_posted;     /* a wake is queued on the loop (cross-thread adds) */
  const char *current; /* key being reconciled (for lh_ctl_requeue_after) */
  long requeue_after;  /* set by lh_ctl_requeue_after during fn */
};

typedef struct lh_http lh_http;
typedef struct lh_events lh_events;
typedef struct lh_sched lh_sched;
typedef struct lh_queue_ctl lh_queue_ctl;

struct lh_ctl {
  lh_ctl_opts o;
  char identity[160];
  lh_kube_config *cfg;
  lh_loop *loop;
  lh_kube_async *async;       /* informers, binds, evictions, Events */
  /* control writes (lease, default Queue, Queue/PodGroup status): their own connections and
   * FIFO, so thousands of outstanding binds cannot hold them back for tens of seconds */
  lh_kube_async *ctl_async;
  lh_kube_client *client;
  lh_kube_wsclient *ws;
  lh_intern *intern;
  lh_informer *inf[LH_CTL_NRES];
  lh_ctl_handlers_list extra[LH_CTL_NRES];
  lh_ctl_reconciler **recs;
  size_t nrecs;
  int started;
  int sig_pipe[2];
  pthread_t loop_thread;
  /* leader election */
  lh_le le;
  lh_timer le_timer;
  int le_busy;          /* a GET/write is in flight */
  int leading;          /* effective: 1 without --leader-elect */
  /* parts */
  lh_metrics met;
  lh_sched *sched;
  lh_queue_ctl *qctl;
  lh_events *events;
  lh_http *http;
  lh_timer tick;        /* 1 s housekeeping: leader deadline, metrics, synced */
  int synced_logged;
};

/* sched.c */
/* lh_ctl_trigger_cycle with the source counted in lahar_cycle_triggers_total. */
void lh_sched_trigger(lh_ctl *ctl, lh_met_trigger source);
/* The merge patch pg_status sends for a PodGroup: status phase, counts and one condition
 * (Unschedulable with reason as message, or Scheduled). Empty strings are left out: the
 * apiserver's structural schema check rejects "" in some builds (422). NULL on no memory. */
json_t *lh_sched_pg_status_patch(const char *phase, int running, int succeeded, int failed,
                                 const char *reason, const char *ts);
int lh_sched_new(lh_ctl *ctl, char *err, size_t errlen);
void lh_sched_free(lh_ctl *ctl);
void lh_sched_on_leading(lh_ctl *ctl, int leading);
void lh_sched_pod_changed(lh_ctl *ctl, const lh_pod *old_pod, const lh_pod *new_pod);
void lh_sched_housekeeping(lh_ctl *ctl);
/* A PodGroup left the cache: forget what was written/sent for it (a new one of the same name
 * starts afresh). */
void lh_sched_podgroup_gone(lh_ctl *ctl, const char *ns, const char *name);
/* How long a resync waits when nothing changed since the last cycle: max(resync_ms, 10x the
 * last cycle's length), at most 30 s. Pure; exposed for tests. */
long lh_sched_idle_resync_ms(long resync_ms, uint64_t last_cycle_ms);
/* 1 when a PodGroup update changed nothing but a status whose phase is the one this controller
 * last wrote for it, and either kept the phase (as the snapshot reads it) or set
 * Running/Unknown: our own write coming back, which no decision depends on (the snapshot derives those phases from placed pods). */
int lh_sched_podgroup_own_write(lh_ctl *ctl, const json_t *old_obj, const json_t *new_obj);
/* The phase rule of lh_sched_podgroup_own_write: 1 when the snapshot cannot tell old_phase
 * from new_phase (either may be NULL: no status yet), or new_phase is Running/Unknown. Pure. */
int lh_sched_pg_phase_same_for_sched(const char *old_phase, const char *new_phase);
/* name -> [deserved cpu,mem,gpu, allocated cpu,mem,gpu] of the last cycle (borrowed), or NULL. */
const json_t *lh_sched_queue_shares(lh_ctl *ctl);
/* queue.c */
int lh_queue_ctl_new(lh_ctl *ctl);
void lh_queue_ctl_free(lh_ctl *ctl);
void lh_queue_ctl_enqueue_all(lh_ctl *ctl);
/* Queues the status reconcile of one queue, without a recount of the group counts. */
void lh_queue_ctl_enqueue(lh_ctl *ctl, const char *name);
void lh_queue_ctl_on_leading(lh_ctl *ctl);
/* events.c */
int lh_events_new(lh_ctl *ctl);
void lh_events_free(lh_ctl *ctl);
/* http.c */
int lh_http_start(lh_ctl *ctl, const char *listen, char *err, size_t errlen);
void lh_http_free(lh_ctl *ctl);

/* ctl.c: 1 when a Queue update leaves spec, annotations, deletionTimestamp and status.state as
 * they were (what the snapshot reads): lahar's own status writes coming back. Pure. */
int lh_ctl_queue_same_for_sched(const json_t *old_obj, const json_t *new_obj);

/* ctl.c: refreshes the cache size gauges of ctl->met (walks the caches). */
void lh_ctl_update_cache_metrics(lh_ctl *ctl);

/* Monotonic ms of the loop and the wall clock in ms. */
uint64_t lh_ctl_now(lh_ctl *ctl);
int64_t lh_ctl_wall_ms(void);

#endif
