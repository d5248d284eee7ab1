/* test_nodesim_pod.c — the pod side of hack/nodesim: what is read from a pod's JSON, the state
 * machine (pod JSON + events + time -> actions), and the status patches it asks for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "nodesim/sim.h"

static json_t *mkpod(const char *restart, const char *dur, const char *code, const char *phase,
                     int deleting) {
  json_t *ann = json_object();
  if (dur) json_object_set_new(ann, SIM_ANN_DURATION, json_string(dur));
  if (code) json_object_set_new(ann, SIM_ANN_EXIT_CODE, json_string(code));
  json_t *p = json_pack("{s:{s:s, s:s, s:s, s:o}, s:{s:s, s:[{s:s, s:s}]}, s:{s:s}}", "metadata",
                        "name", "p1", "namespace", "ns1", "uid", "u-1", "annotations", ann, "spec",
                        "nodeName", "nodesim-0", "containers", "name", "main", "image", "busybox",
                        "status", "phase", phase ? phase : "Pending");
  if (restart) json_object_set_new(json_object_get(p, "spec"), "restartPolicy", json_string(restart));
  if (deleting)
    json_object_set_new(json_object_get(p, "metadata"), "deletionTimestamp", json_string("2026-01-01T00:00:00Z"));
  assert_non_null(p);
  return p;
}

static const sim_pod_params P = {500, 5000, 0};
static const sim_pod_params PX = {500, 5000, 1};

/* 1.0 pod info */
static void info_reads_annotations_and_policy(void **state) {
  (void)state;
  json_t *p = mkpod("Never", "1m30s", "3", "Running", 1);
  sim_pod_info pi;
  assert_int_equal(sim_pod_info_parse(p, &pi), 0);
  assert_string_equal(pi.ns, "ns1");
  assert_string_equal(pi.name, "p1");
  assert_string_equal(pi.uid, "u-1");
  assert_string_equal(pi.node, "nodesim-0");
  assert_true(pi.deleting);
  assert_int_equal(pi.phase, SIM_PHASE_RUNNING);
  assert_int_equal(pi.restart, SIM_RESTART_NEVER);
  assert_true(pi.has_duration);
  assert_int_equal(pi.duration_ms, 90000);
  assert_int_equal(pi.exit_code, 3);
  assert_false(pi.bad_annotation);
  json_decref(p);

  p = mkpod(NULL, "soon", "x", NULL, 0);
  assert_int_equal(sim_pod_info_parse(p, &pi), 0);
  assert_int_equal(pi.restart, SIM_RESTART_ALWAYS);
  assert_false(pi.has_duration);
  assert_true(pi.bad_annotation);
  assert_int_equal(pi.exit_code, 0);
  json_decref(p);

  json_t *bad = json_pack("{s:{s:s}}", "metadata", "name", "x");
  assert_int_equal(sim_pod_info_parse(bad, &pi), LH_ENODESIM_INVAL);
  json_decref(bad);
}

/* Runs one step and returns its actions. */
static unsigned step(sim_pod_sm *sm, json_t *pod, sim_event_kind ev, int code, int64_t now,
                     const sim_pod_params *p) {
  sim_pod_info pi;
  if (pod) assert_int_equal(sim_pod_info_parse(pod, &pi), 0);
  return sim_pod_step(sm, pod ? &pi : NULL, ev, code, now, p);
}

/* 2.0 bound -> (delay) Running -> (duration) Succeeded */
static void sm_runs_then_succeeds(void **state) {
  (void)state;
  json_t *pod = mkpod("Never", "30s", NULL, NULL, 0);
  sim_pod_sm sm = {0};
  assert_int_equal(step(&sm, pod, SIM_EV_OBSERVE, 0, 1000, &P), 0);
  assert_int_equal(sm.st, SIM_ST_WAITING);
  assert_int_equal(sm.deadline, 1500);
  assert_int_equal(step(&sm, pod, SIM_EV_TIMER, 0, 1400, &P), 0); /* early timer: ignored */
  assert_int_equal(step(&sm, pod, SIM_EV_OBSERVE, 0, 1450, &P), 0); /* updates change nothing */
  assert_int_equal(step(&sm, pod, SIM_EV_TIMER, 0, 1500, &P), SIM_ACT_WRITE_STATUS);
  assert_int_equal(sm.st, SIM_ST_RUNNING);
  assert_int_equal(sm.deadline, 31500);
  assert_int_equal(step(&sm, pod, SIM_EV_TIMER, 0, 31500, &P), SIM_ACT_WRITE_STATUS);
  assert_int_equal(sm.st, SIM_ST_TERMINATED);
  assert_int_equal(sm.exit_code, 0);
  assert_int_equal(sm.deadline, 0);
  json_decref(pod);
}

/* 2.1 exit code annotation -> Failed */
static void sm_fails_with_exit_code(void **state) {
  (void)state;
  json_t *pod = mkpod("Never", "2s", "7", NULL, 0);
  sim_pod_sm sm = {0};
  step(&sm, pod, SIM_EV_OBSERVE, 0, 0, &P);
  step(&sm, pod, SIM_EV_TIMER, 0, 500, &P);
  assert_int_equal(step(&sm, pod, SIM_EV_TIMER, 0, 2500, &P), SIM_ACT_WRITE_STATUS);
  assert_int_equal(sm.st, SIM_ST_TERMINATED);
  assert_int_equal(sm.exit_code, 7);
  json_decref(pod);
}

/* 2.2 no annotation: runs until deleted; deletion is confirmed and retried; gone forgets */
static void sm_runs_until_deleted(void **state) {
  (void)state;
  json_t *pod = mkpod("Never", NULL, NULL, NULL, 0);
  sim_pod_sm sm = {0};
  step(&sm, pod, SIM_EV_OBSERVE, 0, 0, &P);
  assert_int_equal(step(&sm, pod, SIM_EV_TIMER, 0, 500, &P), SIM_ACT_WRITE_STATUS);
  assert_int_equal(sm.deadline, 0); /* no end */
  json_t *del = mkpod("Never", NULL, NULL, "Running", 1);
  assert_int_equal(step(&sm, del, SIM_EV_OBSERVE, 0, 9000, &P), SIM_ACT_CONFIRM_DELETE);
  assert_int_equal(sm.st, SIM_ST_DELETING);
  assert_int_equal(sm.deadline, 14000);
  assert_int_equal(step(&sm, del, SIM_EV_OBSERVE, 0, 9100, &P), 0); /* once */
  assert_int_equal(step(&sm, del, SIM_EV_TIMER, 0, 14000, &P), SIM_ACT_CONFIRM_DELETE); /* retry */
  assert_int_equal(step(&sm, NULL, SIM_EV_GONE, 0, 15000, &P), SIM_ACT_FORGET);
  json_decref(pod);
  json_decref(del);
}

/* 2.3 restartPolicy Always: an "exit" restarts the container and counts it */
static void sm_always_restarts(void **state) {
  (void)state;
  json_t *pod = mkpod("Always", "10s", "0", NULL, 0);
  sim_pod_sm sm = {0};
  step(&sm, pod, SIM_EV_OBSERVE, 0, 0, &P);
  step(&sm, pod, SIM_EV_TIMER, 0, 500, &P);
  assert_int_equal(step(&sm, pod, SIM_EV_TIMER, 0, 10500, &P), 0);
  assert_int_equal(sm.st, SIM_ST_RESTARTING);
  assert_int_equal(sm.deadline, 11000);
  assert_int_equal(step(&sm, pod, SIM_EV_TIMER, 0, 11000, &P), SIM_ACT_WRITE_STATUS);
  assert_int_equal(sm.st, SIM_ST_RUNNING);
  assert_int_equal(sm.restarts, 1);
  assert_int_equal(sm.deadline, 21000);
  assert_int_equal(step(&sm, pod, SIM_EV_TIMER, 0, 21000, &P), 0);
  assert_int_equal(sm.deadline, 22000); /* backoff doubles: 500, 1000, ... */
  for (int i = 0; i < 20; i++) {
    step(&sm, pod, SIM_EV_TIMER, 0, sm.deadline, &P);
    step(&sm, pod, SIM_EV_TIMER, 0, sm.deadline, &P);
  }
  assert_int_equal(sm.st, SIM_ST_RESTARTING);
  step(&sm, pod, SIM_EV_TIMER, 0, sm.deadline, &P); /* runs again for 10 s */
  assert_int_equal(sm.st, SIM_ST_RUNNING);
  int64_t end = sm.deadline;
  step(&sm, pod, SIM_EV_TIMER, 0, end, &P);
  assert_int_equal(sm.st, SIM_ST_RESTARTING);
  assert_int_equal(sm.deadline - end, SIM_RESTART_BACKOFF_MAX_MS); /* capped */
  json_decref(pod);
}

/* 2.4 OnFailure: restarts after a failure, finishes after a success */
static void sm_on_failure(void **state) {
  (void)state;
  json_t *fail = mkpod("OnFailure", "1s", "2", NULL, 0);
  sim_pod_sm sm = {0};
  step(&sm, fail, SIM_EV_OBSERVE, 0, 0, &P);
  step(&sm, fail, SIM_EV_TIMER, 0, 500, &P);
  step(&sm, fail, SIM_EV_TIMER, 0, 1500, &P);
  assert_int_equal(sm.st, SIM_ST_RESTARTING);
  assert_int_equal(sm.exit_code, 2);
  json_decref(fail);
  json_t *ok = mkpod("OnFailure", "1s", NULL, NULL, 0);
  sim_pod_sm sm2 = {0};
  step(&sm2, ok, SIM_EV_OBSERVE, 0, 0, &P);
  step(&sm2, ok, SIM_EV_TIMER, 0, 500, &P);
  assert_int_equal(step(&sm2, ok, SIM_EV_TIMER, 0, 1500, &P), SIM_ACT_WRITE_STATUS);
  assert_int_equal(sm2.st, SIM_ST_TERMINATED);
  json_decref(ok);
}

/* 2.5 exec: the process decides; deletion kills it */
static void sm_exec_mode(void **state) {
  (void)state;
  json_t *pod = mkpod("Never", "1s", "9", NULL, 0);
  sim_pod_sm sm = {0};
  step(&sm, pod, SIM_EV_OBSERVE, 0, 0, &PX);
  assert_int_equal(step(&sm, pod, SIM_EV_TIMER, 0, 500, &PX), SIM_ACT_WRITE_STATUS | SIM_ACT_START_PROC);
  assert_int_equal(sm.deadline, 0); /* the annotation is not used */
  assert_true(sm.proc);
  assert_int_equal(step(&sm, pod, SIM_EV_EXIT, 3, 800, &PX), SIM_ACT_WRITE_STATUS);
  assert_int_equal(sm.st, SIM_ST_TERMINATED);
  assert_int_equal(sm.exit_code, 3);
  assert_int_equal(step(&sm, pod, SIM_EV_EXIT, 4, 900, &PX), 0); /* once */

  sim_pod_sm sm2 = {0};
  step(&sm2, pod, SIM_EV_OBSERVE, 0, 0, &PX);
  step(&sm2, pod, SIM_EV_TIMER, 0, 500, &PX);
  json_t *del = mkpod("Never", NULL, NULL, "Running", 1);
  assert_int_equal(step(&sm2, del, SIM_EV_OBSERVE, 0, 600, &PX), SIM_ACT_CONFIRM_DELETE | SIM_ACT_KILL_PROC);
  assert_int_equal(step(&sm2, pod, SIM_EV_EXIT, 137, 700, &PX), 0); /* killed: not reported */
  json_decref(pod);
  json_decref(del);
}

/* 2.6 adoption after a simulator restart; finished pods are left alone; bad annotations warn */
static void sm_adopts_existing_pods(void **state) {
  (void)state;
  json_t *run = mkpod("Never", "5s", NULL, "Running", 0);
  sim_pod_sm sm = {0};
  assert_int_equal(step(&sm, run, SIM_EV_OBSERVE, 0, 100, &P), 0);
  assert_int_equal(sm.st, SIM_ST_RUNNING);
  assert_int_equal(sm.deadline, 5100);
  sim_pod_sm smx = {0};
  step(&smx, run, SIM_EV_OBSERVE, 0, 100, &PX); /* exec: the process is lost, start again */
  assert_int_equal(smx.st, SIM_ST_WAITING);
  json_decref(run);
  json_t *done = mkpod("Never", "5s", NULL, "Succeeded", 0);
  sim_pod_sm sm2 = {0};
  assert_int_equal(step(&sm2, done, SIM_EV_OBSERVE, 0, 100, &P), 0);
  assert_int_equal(sm2.st, SIM_ST_TERMINATED);
  assert_int_equal(sm2.deadline, 0);
  json_decref(done);
  json_t *bad = mkpod("Never", "later", NULL, NULL, 0);
  sim_pod_sm sm3 = {0};
  assert_int_equal(step(&sm3, bad, SIM_EV_OBSERVE, 0, 0, &P), SIM_ACT_WARN_ANNOT);
  step(&sm3, bad, SIM_EV_TIMER, 0, 500, &P);
  assert_int_equal(sm3.deadline, 0); /* runs until deleted */
  json_decref(bad);
}

/* 3.0 status patches */
static void status_running_and_failed(void **state) {
  (void)state;
  json_t *pod = mkpod("Never", "1s", "3", NULL, 0);
  sim_pod_times t;
  memset(&t, 0, sizeof(t));
  strcpy(t.scheduled, "2026-01-01T00:00:00Z");
  strcpy(t.start, "2026-01-01T00:00:01Z");
  strcpy(t.started, "2026-01-01T00:00:01Z");
  strcpy(t.finished, "2026-01-01T00:00:02Z");
  sim_pod_sm sm = {0};
  assert_null(sim_pod_status_patch(pod, &sm, &t, "172.16.0.0", "10.64.0.2")); /* NEW: none */
  sm.st = SIM_ST_RUNNING;
  json_t *r = sim_pod_status_patch(pod, &sm, &t, "172.16.0.0", "10.64.0.2");
  assert_non_null(r);
  json_t *st = json_object_get(r, "status");
  assert_string_equal(json_string_value(json_object_get(st, "phase")), "Running");
  assert_string_equal(json_string_value(json_object_get(st, "podIP")), "10.64.0.2");
  assert_string_equal(json_string_value(json_object_get(st, "hostIP")), "172.16.0.0");
  assert_string_equal(json_string_value(json_object_get(st, "startTime")), t.start);
  json_t *conds = json_object_get(st, "conditions");
  assert_int_equal(json_array_size(conds), 4);
  size_t i;
  json_t *c;
  json_array_foreach(conds, i, c) assert_string_equal(json_string_value(json_object_get(c, "status")), "True");
  json_t *cs = json_array_get(json_object_get(st, "containerStatuses"), 0);
  assert_string_equal(json_string_value(json_object_get(cs, "name")), "main");
  assert_true(json_is_true(json_object_get(cs, "ready")));
  assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(cs, "state"), "running"), "startedAt")), t.started);
  json_decref(r);

  sm.st = SIM_ST_TERMINATED;
  sm.exit_code = 3;
  r = sim_pod_status_patch(pod, &sm, &t, "172.16.0.0", "10.64.0.2");
  st = json_object_get(r, "status");
  assert_string_equal(json_string_value(json_object_get(st, "phase")), "Failed");
  cs = json_array_get(json_object_get(st, "containerStatuses"), 0);
  json_t *term = json_object_get(json_object_get(cs, "state"), "terminated");
  assert_int_equal(json_integer_value(json_object_get(term, "exitCode")), 3);
  assert_string_equal(json_string_value(json_object_get(term, "reason")), "Error");
  assert_string_equal(json_string_value(json_object_get(term, "finishedAt")), t.finished);
  assert_true(json_is_false(json_object_get(cs, "ready")));
  json_decref(r);

  sm.exit_code = 0;
  r = sim_pod_status_patch(pod, &sm, &t, "h", "p");
  st = json_object_get(r, "status");
  assert_string_equal(json_string_value(json_object_get(st, "phase")), "Succeeded");
  term = json_object_get(json_object_get(json_array_get(json_object_get(st, "containerStatuses"), 0), "state"), "terminated");
  assert_string_equal(json_string_value(json_object_get(term, "reason")), "Completed");
  json_decref(r);

  /* after a restart: restartCount and lastState */
  sm.st = SIM_ST_RUNNING;
  sm.restarts = 2;
  sm.exit_code = 1;
  r = sim_pod_status_patch(pod, &sm, &t, "h", "p");
  cs = json_array_get(json_object_get(json_object_get(r, "status"), "containerStatuses"), 0);
  assert_int_equal(json_integer_value(json_object_get(cs, "restartCount")), 2);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(cs, "lastState"), "terminated"), "exitCode")), 1);
  json_decref(r);
  json_decref(pod);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(info_reads_annotations_and_policy),
      cmocka_unit_test(sm_runs_then_succeeds),
      cmocka_unit_test(sm_fails_with_exit_code),
      cmocka_unit_test(sm_runs_until_deleted),
      cmocka_unit_test(sm_always_restarts),
      cmocka_unit_test(sm_on_failure),
      cmocka_unit_test(sm_exec_mode),
      cmocka_unit_test(sm_adopts_existing_pods),
      cmocka_unit_test(status_running_and_failed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
