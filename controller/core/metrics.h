/* metrics.h — lahar-controller's Prometheus metrics: the counters and gauges the controller
 * keeps, and their rendering in the Prometheus text exposition format (version 0.0.4).
 * Pure data + formatting (no I/O): unit-tested by tests/unit/test_ctl_metrics.c.
 * Loop thread only. */
#ifndef LAHAR_CORE_METRICS_H
#define LAHAR_CORE_METRICS_H

#include "util/buf.h"

#include <stddef.h>
#include <stdint.h>

#define LH_MET_NBUCKETS 12
extern const double LH_MET_BUCKETS[LH_MET_NBUCKETS]; /* cycle duration bounds, seconds */

/* What asked for a scheduling cycle (lahar_cycle_triggers_total{source=...}): informer events
 * that may change a decision, lahar's own retries, and resyncs with nothing changed. */
typedef enum lh_met_trigger {
  LH_TRIG_POD,
  LH_TRIG_NODE,
  LH_TRIG_PODGROUP,
  LH_TRIG_QUEUE,
  LH_TRIG_BIND_FAILED,  /* a bind failed: the pod is pending again */
  LH_TRIG_EXPIRED,      /* an in-flight bind or eviction was forgotten (housekeeping) */
  LH_TRIG_LEADER,       /* became leader / informers synced */
  LH_TRIG_RESYNC,       /* a resync timer ran a cycle with no change signalled */
  LH_TRIG_OTHER,        /* lh_ctl_trigger_cycle from other modules */
  LH_TRIG_N
} lh_met_trigger;
extern const char *const LH_MET_TRIGGER_NAMES[LH_TRIG_N];

typedef struct lh_met_queue {
  char *name;           /* owned */
  int64_t deserved[3];  /* cpu milli, memory bytes, gpu */
  int64_t allocated[3];
  long pending_groups;
} lh_met_queue;

typedef struct lh_metrics {
  unsigned long long cycles;
  unsigned long long cycle_triggers[LH_TRIG_N];
  unsigned long long cycle_buckets[LH_MET_NBUCKETS]; /* non-cumulative counts per bucket */
  unsigned long long cycle_count;
  double cycle_sum;                                   /* seconds */
  unsigned long long binds, bind_conflict, bind_notfound, bind_other;
  unsigned long long evictions, evict_failures;
  unsigned long long events_posted, events_aggregated, events_dropped, events_failed;
  unsigned long long watch_restarts[8];               /* per informer (index = lh_ctl_res) */
  const char *watch_names[8];
  int n_watch;
  /* informer caches (per watch_names index): objects, and bytes of the cache's own structures */
  unsigned long long cache_objects[8], cache_overhead[8];
  unsigned long long pod_cache_bytes;                 /* compact pods + interned strings */
  long pending_groups;                                /* all queues */
  long binds_in_flight;
  int leader;                                         /* 0/1 */
  int ready;                                          /* 0/1 */
  size_t nqueues;
  lh_met_queue *queues;                               /* owned */
} lh_metrics;

void lh_metrics_init(lh_metrics *m);
void lh_metrics_free(lh_metrics *m);
/* Records one cycle's duration. */
void lh_metrics_observe_cycle(lh_metrics *m, double seconds);
/* Replaces the per-queue table (entries moved in; m frees them). */
void lh_metrics_set_queues(lh_metrics *m, lh_met_queue *q, size_t n);
/* Appends the exposition text to out. Returns 0 or an lh_buf error (LH_BUF_TOOBIG/NOMEM). */
int lh_metrics_render(const lh_metrics *m, lh_buf *out);

#endif
