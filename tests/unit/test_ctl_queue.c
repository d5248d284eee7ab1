/* test_ctl_queue.c — Queue state and status computation (core/queue.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "core/queue.h"
#include "kube/pod.h"

static json_t *q(const char *spec_state, const char *status_state) {
  json_t *o = json_pack("{s:{s:s}, s:{}, s:{}}", "metadata", "name", "q", "spec", "status");
  if (spec_state) json_object_set_new(json_object_get(o, "spec"), "state", json_string(spec_state));
  if (status_state) json_object_set_new(json_object_get(o, "status"), "state", json_string(status_state));
  return o;
}

static void t_state(void **s) {
  (void)s;
  lh_queue_counts idle = {0}, busy = {0};
  busy.running = 1;
  json_t *a = q(NULL, NULL);
  assert_string_equal(lh_queue_state(a, &busy), "Open");
  json_decref(a);
  a = q("Closed", "Open");
  assert_string_equal(lh_queue_state(a, &busy), "Closing");
  assert_string_equal(lh_queue_state(a, &idle), "Closed");
  json_decref(a);
  a = q(NULL, "Closing"); /* closed by an operator through status: drains */
  assert_string_equal(lh_queue_state(a, &busy), "Closing");
  assert_string_equal(lh_queue_state(a, &idle), "Closed");
  json_decref(a);
  a = q(NULL, "Closed");
  assert_string_equal(lh_queue_state(a, &busy), "Closed");
  json_decref(a);
  a = q("Open", "Closed");
  assert_string_equal(lh_queue_state(a, &busy), "Open");
  json_decref(a);
}

static void t_status(void **s) {
  (void)s;
  lh_queue_counts c = {2, 1, 3, 0, 4};
  int64_t share[6] = {4000, 8589934592LL, -1, 1500, 1073741824LL, 0};
  json_t *a = q(NULL, NULL);
  json_t *st = lh_queue_status(a, &c, share);
  assert_string_equal(json_string_value(json_object_get(st, "state")), "Open");
  assert_int_equal(json_integer_value(json_object_get(st, "pending")), 2);
  assert_int_equal(json_integer_value(json_object_get(st, "running")), 3);
  assert_int_equal(json_integer_value(json_object_get(st, "completed")), 4);
  json_t *al = json_object_get(st, "allocated"), *de = json_object_get(st, "deserved");
  assert_string_equal(json_string_value(json_object_get(al, "cpu")), "1500m");
  assert_string_equal(json_string_value(json_object_get(al, "memory")), "1073741824");
  assert_string_equal(json_string_value(json_object_get(de, "cpu")), "4");
  assert_null(json_object_get(de, "nvidia.com/gpu")); /* unlimited: left out */
  assert_false(lh_queue_status_equal(a, st));
  json_object_set(a, "status", st);
  assert_true(lh_queue_status_equal(a, st));
  json_decref(st);
  json_decref(a);
  char b[32];
  lh_queue_qty(b, sizeof(b), 250, 1);
  assert_string_equal(b, "250m");
  lh_queue_qty(b, sizeof(b), 3000, 1);
  assert_string_equal(b, "3");
}

/* Plain pods count as groups of one (Volcano creates a PodGroup per plain pod). */
static void t_single_pod(void **s) {
  (void)s;
  lh_pod p;
  memset(&p, 0, sizeof(p));
  assert_string_equal(lh_queue_single_pod_phase(&p), "Pending");
  p.node = "n1";
  assert_string_equal(lh_queue_single_pod_phase(&p), "Running");
  p.phase = LH_POD_SUCCEEDED;
  assert_string_equal(lh_queue_single_pod_phase(&p), "Completed");
  p.phase = LH_POD_FAILED;
  assert_string_equal(lh_queue_single_pod_phase(&p), "Completed");
  p.phase = LH_POD_PENDING;
  p.node = NULL;
  p.deletion_ts = 5;
  assert_null(lh_queue_single_pod_phase(&p)); /* pending and going away */
  p.deletion_ts = 0;
  p.group = "pg";
  assert_null(lh_queue_single_pod_phase(&p)); /* counted through its PodGroup */
  lh_queue_counts c = {0};
  lh_queue_count_phase(&c, NULL);
  lh_queue_count_phase(&c, "Pending");
  lh_queue_count_phase(&c, "Running");
  lh_queue_count_phase(&c, "Inqueue");
  lh_queue_count_phase(&c, "Unknown");
  lh_queue_count_phase(&c, "Completed");
  lh_queue_count_phase(&c, "Bogus");
  assert_int_equal(c.pending, 2);
  assert_int_equal(c.running, 1);
  assert_int_equal(c.inqueue, 1);
  assert_int_equal(c.unknown, 1);
  assert_int_equal(c.completed, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(t_state), cmocka_unit_test(t_status),
                                     cmocka_unit_test(t_single_pod)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
