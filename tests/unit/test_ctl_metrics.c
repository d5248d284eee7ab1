/* test_ctl_metrics.c — Prometheus text rendering (core/metrics.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"

static void t_render(void **s) {
  (void)s;
  lh_metrics m;
  lh_metrics_init(&m);
  lh_metrics_observe_cycle(&m, 0.0004);
  lh_metrics_observe_cycle(&m, 0.02);
  lh_metrics_observe_cycle(&m, 100);
  m.binds = 7;
  m.bind_conflict = 1;
  lh_met_queue *q = calloc(1, sizeof(*q));
  q->name = strdup("a\"b");
  q->deserved[0] = 1500;
  q->allocated[1] = 1024;
  q->pending_groups = 2;
  lh_metrics_set_queues(&m, q, 1);
  m.cycle_triggers[LH_TRIG_QUEUE] = 4;
  m.cycle_triggers[LH_TRIG_RESYNC] = 2;
  m.n_watch = 1;
  m.watch_names[0] = "pods";
  m.watch_restarts[0] = 3;
  lh_buf b;
  lh_buf_init(&b, 1 << 20);
  assert_int_equal(lh_metrics_render(&m, &b), 0);
  const char *t = lh_buf_str(&b);
  assert_non_null(strstr(t, "# TYPE lahar_cycle_duration_seconds histogram\n"));
  assert_non_null(strstr(t, "lahar_cycle_duration_seconds_bucket{le=\"0.0005\"} 1\n"));
  assert_non_null(strstr(t, "lahar_cycle_duration_seconds_bucket{le=\"0.025\"} 2\n"));
  assert_non_null(strstr(t, "lahar_cycle_duration_seconds_bucket{le=\"2.5\"} 2\n"));
  assert_non_null(strstr(t, "lahar_cycle_duration_seconds_bucket{le=\"+Inf\"} 3\n"));
  assert_non_null(strstr(t, "lahar_cycle_duration_seconds_count 3\n"));
  assert_non_null(strstr(t, "lahar_queue_deserved{queue=\"a\\\"b\",resource=\"cpu\"} 1.5\n"));
  assert_non_null(strstr(t, "lahar_queue_allocated{queue=\"a\\\"b\",resource=\"memory\"} 1024\n"));
  assert_non_null(strstr(t, "lahar_queue_pending_groups{queue=\"a\\\"b\"} 2\n"));
  assert_non_null(strstr(t, "# TYPE lahar_binds_total counter\nlahar_binds_total 7\n"));
  assert_non_null(strstr(t, "lahar_bind_failures_total{reason=\"conflict\"} 1\n"));
  assert_non_null(strstr(t, "lahar_watch_restarts_total{resource=\"pods\"} 3\n"));
  assert_non_null(strstr(t, "# TYPE lahar_cycle_triggers_total counter\n"));
  assert_non_null(strstr(t, "lahar_cycle_triggers_total{source=\"queue\"} 4\n"));
  assert_non_null(strstr(t, "lahar_cycle_triggers_total{source=\"resync\"} 2\n"));
  assert_non_null(strstr(t, "lahar_cycle_triggers_total{source=\"pod\"} 0\n"));
  /* every non-comment line is "name{labels} value" or "name value" */
  for (const char *l = t; *l;) {
    const char *nl = strchr(l, '\n');
    assert_non_null(nl);
    if (*l != '#') assert_non_null(memchr(l, ' ', (size_t)(nl - l)));
    l = nl + 1;
  }
  lh_buf_free(&b);
  /* a tiny cap fails cleanly */
  lh_buf_init(&b, 64);
  assert_int_not_equal(lh_metrics_render(&m, &b), 0);
  lh_buf_free(&b);
  lh_metrics_free(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(t_render)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
