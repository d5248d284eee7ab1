/* metrics.c — Prometheus text rendering of lahar-controller's metrics (see metrics.h). */
#include "core/metrics.h"

#include <stdlib.h>
#include <string.h>

const double LH_MET_BUCKETS[LH_MET_NBUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                0.05,   0.1,   0.25,   0.5,   1,    2.5};

const char *const LH_MET_TRIGGER_NAMES[LH_TRIG_N] = {
    "pod", "node", "podgroup", "queue", "bind_failed", "expired", "leader", "resync", "other"};

void lh_metrics_init(lh_metrics *m) { memset(m, 0, sizeof(*m)); }

static void free_queues(lh_met_queue *q, size_t n) {
  for (size_t i = 0; i < n; i++) free(q[i].name);
  free(q);
}

void lh_metrics_free(lh_metrics *m) {
  if (!m) return;
  free_queues(m->queues, m->nqueues);
  m->queues = NULL;
  m->nqueues = 0;
}

void lh_metrics_observe_cycle(lh_metrics *m, double s) {
  m->cycle_count++;
  m->cycle_sum += s;
  for (int i = 0; i < LH_MET_NBUCKETS; i++)
    if (s <= LH_MET_BUCKETS[i]) {
      m->cycle_buckets[i]++;
      return;
    }
  /* above the last bound: only +Inf (cycle_count) sees it */
}

void lh_metrics_set_queues(lh_metrics *m, lh_met_queue *q, size_t n) {
  free_queues(m->queues, m->nqueues);
  m->queues = q;
  m->nqueues = n;
}

/* Label values escape \, " and newline (exposition format rules). */
static int add_label(lh_buf *b, const char *v) {
  int rc = 0;
  for (const char *p = v; *p && !rc; p++) {
    if (*p == '\\') rc = lh_buf_adds(b, "\\\\");
    else if (*p == '"') rc = lh_buf_adds(b, "\\\"");
    else if (*p == '\n') rc = lh_buf_adds(b, "\\n");
    else rc = lh_buf_add(b, p, 1);
  }
  return rc;
}

static int head(lh_buf *b, const char *name, const char *type, const char *help) {
  return lh_buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static const char *RES[3] = {"cpu", "memory", "nvidia.com/gpu"};

static int queue_res(lh_buf *b, const lh_metrics *m, const char *name, const char *help,
                     int alloc) {
  int rc = head(b, name, "gauge", help);
  for (size_t i = 0; i < m->nqueues && !rc; i++)
    for (int r = 0; r < 3 && !rc; r++) {
      const int64_t *v = alloc ? m->queues[i].allocated : m->queues[i].deserved;
      double val = r == 0 ? (double)v[r] / 1000.0 : (double)v[r];
      rc = lh_buf_addf(b, "%s{queue=\"", name);
      if (!rc) rc = add_label(b, m->queues[i].name);
      if (!rc) rc = lh_buf_addf(b, "\",resource=\"%s\"} %.17g\n", RES[r], val);
    }
  return rc;
}

int lh_metrics_render(const lh_metrics *m, lh_buf *b) {
  int rc = 0;
#define CHK(x)               \
  do {                       \
    if (!rc) rc = (x);       \
  } while (0)
  CHK(queue_res(b, m, "lahar_queue_deserved", "Deserved share of a queue (cpu in cores, memory "
                "in bytes, gpus) from the last scheduling cycle.", 0));
  CHK(queue_res(b, m, "lahar_queue_allocated", "Resources allocated to a queue after the last "
                "scheduling cycle (cpu in cores, memory in bytes, gpus).", 1));
  CHK(head(b, "lahar_queue_pending_groups", "gauge", "Groups of a queue left pending by the last cycle."));
  for (size_t i = 0; i < m->nqueues && !rc; i++) {
    CHK(lh_buf_adds(b, "lahar_queue_pending_groups{queue=\""));
    CHK(add_label(b, m->queues[i].name));
    CHK(lh_buf_addf(b, "\"} %ld\n", m->queues[i].pending_groups));
  }
  CHK(head(b, "lahar_pending_groups", "gauge", "Groups left pending by the last cycle."));
  CHK(lh_buf_addf(b, "lahar_pending_groups %ld\n", m->pending_groups));
  CHK(head(b, "lahar_cycle_duration_seconds", "histogram", "Duration of scheduling cycles "
           "(snapshot, core, issuing decisions)."));
  unsigned long long cum = 0;
  for (int i = 0; i < LH_MET_NBUCKETS && !rc; i++) {
    cum += m->cycle_buckets[i];
    CHK(lh_buf_addf(b, "lahar_cycle_duration_seconds_bucket{le=\"%g\"} %llu\n", LH_MET_BUCKETS[i], cum));
  }
  CHK(lh_buf_addf(b, "lahar_cycle_duration_seconds_bucket{le=\"+Inf\"} %llu\n", m->cycle_count));
  CHK(lh_buf_addf(b, "lahar_cycle_duration_seconds_sum %.9g\n", m->cycle_sum));
  CHK(lh_buf_addf(b, "lahar_cycle_duration_seconds_count %llu\n", m->cycle_count));
  CHK(head(b, "lahar_binds_total", "counter", "Pods bound (successful pods/binding calls); "
           "rate() gives binds per second."));
  CHK(lh_buf_addf(b, "lahar_binds_total %llu\n", m->binds));
  CHK(head(b, "lahar_bind_failures_total", "counter", "Failed pods/binding calls by reason."));
  CHK(lh_buf_addf(b, "lahar_bind_failures_total{reason=\"conflict\"} %llu\n", m->bind_conflict));
  CHK(lh_buf_addf(b, "lahar_bind_failures_total{reason=\"notfound\"} %llu\n", m->bind_notfound));
  CHK(lh_buf_addf(b, "lahar_bind_failures_total{reason=\"other\"} %llu\n", m->bind_other));
  CHK(head(b, "lahar_binds_in_flight", "gauge", "Bindings issued and not yet seen in the cache."));
  CHK(lh_buf_addf(b, "lahar_binds_in_flight %ld\n", m->binds_in_flight));
  CHK(head(b, "lahar_evictions_total", "counter", "Pods deleted to reclaim or preempt."));
  CHK(lh_buf_addf(b, "lahar_evictions_total %llu\n", m->evictions));
  CHK(head(b, "lahar_eviction_failures_total", "counter", "Failed eviction deletes."));
  CHK(lh_buf_addf(b, "lahar_eviction_failures_total %llu\n", m->evict_failures));
  CHK(head(b, "lahar_watch_restarts_total", "counter", "Watches restarted per informer "
           "(re-watch after the stream ended, backoff or 410 relist)."));
  for (int i = 0; i < m->n_watch && !rc; i++)
    CHK(lh_buf_addf(b, "lahar_watch_restarts_total{resource=\"%s\"} %llu\n", m->watch_names[i],
                    m->watch_restarts[i]));
  CHK(head(b, "lahar_cache_objects", "gauge", "Objects in each informer cache."));
  for (int i = 0; i < m->n_watch && !rc; i++)
    CHK(lh_buf_addf(b, "lahar_cache_objects{resource=\"%s\"} %llu\n", m->watch_names[i], m->cache_objects[i]));
  CHK(head(b, "lahar_kube_cache_overhead_bytes", "gauge", "Bytes of each informer cache's own "
           "structures (entries, keys, indexes; objects excluded)."));
  for (int i = 0; i < m->n_watch && !rc; i++)
    CHK(lh_buf_addf(b, "lahar_kube_cache_overhead_bytes{resource=\"%s\"} %llu\n", m->watch_names[i],
                    m->cache_overhead[i]));
  CHK(head(b, "lahar_pod_cache_bytes", "gauge", "Bytes of the compact pods and interned strings "
           "of the pod cache."));
  CHK(lh_buf_addf(b, "lahar_pod_cache_bytes %llu\n", m->pod_cache_bytes));
  CHK(head(b, "lahar_events_total", "counter", "core/v1 Events by outcome."));
  CHK(lh_buf_addf(b, "lahar_events_total{outcome=\"created\"} %llu\n", m->events_posted));
  CHK(lh_buf_addf(b, "lahar_events_total{outcome=\"aggregated\"} %llu\n", m->events_aggregated));
  CHK(lh_buf_addf(b, "lahar_events_total{outcome=\"dropped\"} %llu\n", m->events_dropped));
  CHK(lh_buf_addf(b, "lahar_events_total{outcome=\"failed\"} %llu\n", m->events_failed));
  CHK(head(b, "lahar_cycles_total", "counter", "Scheduling cycles run."));
  CHK(lh_buf_addf(b, "lahar_cycles_total %llu\n", m->cycles));
  CHK(head(b, "lahar_cycle_triggers_total", "counter", "Requests for a scheduling cycle by source "
           "(several within one debounce window make one cycle; resync counts cycles run with "
           "no change signalled)."));
  for (int i = 0; i < LH_TRIG_N && !rc; i++)
    CHK(lh_buf_addf(b, "lahar_cycle_triggers_total{source=\"%s\"} %llu\n", LH_MET_TRIGGER_NAMES[i],
                    m->cycle_triggers[i]));
  CHK(head(b, "lahar_leader", "gauge", "1 while this replica holds the lease (or runs without "
           "leader election)."));
  CHK(lh_buf_addf(b, "lahar_leader %d\n", m->leader));
  CHK(head(b, "lahar_ready", "gauge", "1 once the informers have synced."));
  CHK(lh_buf_addf(b, "lahar_ready %d\n", m->ready));
#undef CHK
  return rc;
}
