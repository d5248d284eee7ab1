/* test_jobs_state.c — the Volcano Job phase machine and policy matching as pure functions
 * (controller/jobs/state.h): every action from Pending/Running, the kill phases, maxRetry and
 * the lastRetry soft kill, Running's completion rules, task- vs job-level and exitCode policies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "jobs/state.h"

/* Specs borrow from their job object: the objects live until the group teardown. */
static json_t *g_keep[64];
static int g_nkeep;
static int teardown(void **st) {
  (void)st;
  for (int i = 0; i < g_nkeep; i++) json_decref(g_keep[i]);
  return 0;
}

static lh_job_spec spec_from(const char *txt) {
  json_error_t e;
  json_t *j = json_loads(txt, 0, &e);
  assert_non_null(j);
  assert_true(g_nkeep < 64);
  g_keep[g_nkeep++] = j;
  lh_job_spec s;
  char err[128];
  assert_int_equal(lh_job_spec_parse(j, NULL, &s, err, sizeof err), 0);
  return s;
}

#define JOB2 "{\"metadata\":{\"name\":\"j\"},\"spec\":{\"minAvailable\":2,\"maxRetry\":2,%s\"tasks\":[" \
             "{\"name\":\"a\",\"replicas\":1,\"template\":{}%s},{\"name\":\"b\",\"replicas\":1,\"template\":{}}]}}"

static lh_job_spec job2(const char *jobpol, const char *taskpol) {
  char buf[2048];
  snprintf(buf, sizeof buf, JOB2, jobpol, taskpol);
  return spec_from(buf);
}

static lh_job_sm_out step(const lh_job_spec *s, lh_job_phase ph, lh_job_action a, int retry,
                          lh_job_counts c, int to_create, const int *succ) {
  lh_job_sm_in in = {0};
  in.phase = ph;
  in.action = a;
  in.retry_count = retry;
  in.counts = c;
  in.to_create = to_create;
  in.task_succeeded = succ;
  in.restart_task = -1;
  lh_job_sm_out out;
  lh_job_sm_step(s, &in, &out);
  return out;
}

/* 1.0 Pending: sync creates, becomes Running once minAvailable pods run/finished. */
static void t_pending(void **st) {
  (void)st;
  lh_job_spec s = job2("", "");
  lh_job_counts c = {0};
  lh_job_sm_out o = step(&s, LH_JOB_PENDING, LH_ACT_SYNC, 0, c, 2, NULL);
  assert_int_equal(o.op, LH_SM_SYNC);
  assert_int_equal(o.phase, LH_JOB_PENDING);
  assert_int_equal(o.counts.pending, 2);
  assert_false(o.transitioned);
  c.running = 1;
  c.succeeded = 1;
  o = step(&s, LH_JOB_PENDING, LH_ACT_SYNC, 0, c, 0, NULL);
  assert_int_equal(o.phase, LH_JOB_RUNNING);
  assert_true(o.transitioned);
  assert_int_equal(o.bump_version, 0);
  lh_job_spec_free(&s);
}

/* 1.1 every killing action from Pending and Running. */
static void t_actions(void **st) {
  (void)st;
  lh_job_spec s = job2("", "");
  lh_job_counts c = {.pending = 1, .running = 1, .failed = 1};
  static const struct {
    lh_job_action a;
    lh_job_sm_op op;
    lh_job_phase ph;
    int retry;
  } cases[] = {
      {LH_ACT_RESTART_JOB, LH_SM_KILL_NONE, LH_JOB_RESTARTING, 1},
      {LH_ACT_ABORT_JOB, LH_SM_KILL_SOFT, LH_JOB_ABORTING, 0},
      {LH_ACT_COMPLETE_JOB, LH_SM_KILL_SOFT, LH_JOB_COMPLETING, 0},
      {LH_ACT_TERMINATE_JOB, LH_SM_KILL_SOFT, LH_JOB_TERMINATING, 0},
  };
  for (int from = 0; from < 2; from++)
    for (size_t i = 0; i < 4; i++) {
      lh_job_sm_out o = step(&s, from ? LH_JOB_RUNNING : LH_JOB_PENDING, cases[i].a, 0, c, 0, NULL);
      assert_int_equal(o.op, cases[i].op);
      assert_int_equal(o.phase, cases[i].ph);
      assert_int_equal(o.retry_count, cases[i].retry);
      assert_int_equal(o.bump_version, 1);
      assert_true(o.transitioned);
      if (cases[i].op == LH_SM_KILL_NONE) {
        assert_int_equal(o.counts.terminating, 3);
        assert_int_equal(o.counts.failed, 0);
      } else {
        assert_int_equal(o.counts.terminating, 2); /* Failed retained */
        assert_int_equal(o.counts.failed, 1);
      }
      assert_int_equal(o.counts.pending + o.counts.running, 0);
    }
  lh_job_spec_free(&s);
}

/* 1.2 Restarting: Pending when enough pods are gone, Failed at maxRetry; last retry is soft. */
static void t_restarting(void **st) {
  (void)st;
  lh_job_spec s = job2("", ""); /* maxRetry 2, 2 replicas, minAvailable 2 */
  lh_job_counts c = {.terminating = 1};
  lh_job_sm_out o = step(&s, LH_JOB_RESTARTING, LH_ACT_SYNC, 1, c, 0, NULL);
  assert_int_equal(o.phase, LH_JOB_RESTARTING); /* 2 - 1 < minAvailable */
  c.terminating = 0;
  o = step(&s, LH_JOB_RESTARTING, LH_ACT_SYNC, 1, c, 0, NULL);
  assert_int_equal(o.phase, LH_JOB_PENDING);
  assert_int_equal(o.op, LH_SM_KILL_SOFT); /* retry 1 >= maxRetry-1: last retry */
  o = step(&s, LH_JOB_RESTARTING, LH_ACT_SYNC, 0, c, 0, NULL);
  assert_int_equal(o.op, LH_SM_KILL_NONE);
  o = step(&s, LH_JOB_RESTARTING, LH_ACT_SYNC, 2, c, 0, NULL);
  assert_int_equal(o.phase, LH_JOB_FAILED);
  assert_true(o.transitioned);
  /* RestartJob at the last retry keeps the failed pods (soft) */
  lh_job_counts f = {.failed = 1, .running = 1};
  o = step(&s, LH_JOB_RUNNING, LH_ACT_RESTART_JOB, 1, f, 0, NULL);
  assert_int_equal(o.op, LH_SM_KILL_SOFT);
  assert_int_equal(o.retry_count, 2);
  assert_int_equal(o.counts.failed, 1);
  lh_job_spec_free(&s);
}

/* 1.3 maxRetry end to end through the machine: fail, restart, fail, restart -> Failed. */
static void t_max_retry_sequence(void **st) {
  (void)st;
  lh_job_spec s = job2("\"policies\":[{\"event\":\"PodFailed\",\"action\":\"RestartJob\"}],", "");
  lh_job_phase ph = LH_JOB_RUNNING;
  int retry = 0, version = 0, restarts = 0;
  for (int round = 0; round < 10 && ph != LH_JOB_FAILED; round++) {
    lh_job_counts c = {0};
    lh_job_action a = LH_ACT_SYNC;
    if (ph == LH_JOB_RUNNING) {
      c.failed = 1;
      c.running = 1;
      a = lh_job_apply_policies(&s, LH_EV_POD_FAILED, 0, 1, 1);
      assert_int_equal(a, LH_ACT_RESTART_JOB);
    }
    lh_job_sm_out o = step(&s, ph, a, retry, c, 0, NULL);
    if (ph == LH_JOB_RUNNING) restarts++;
    version += o.bump_version;
    retry = o.retry_count;
    ph = o.phase == LH_JOB_PENDING ? LH_JOB_RUNNING : o.phase; /* pods come back up */
  }
  assert_int_equal(ph, LH_JOB_FAILED);
  assert_int_equal(retry, 2);
  assert_int_equal(version, 2);
  assert_int_equal(restarts, 2);
  lh_job_spec_free(&s);
}

/* 1.4 Running: Completed / Failed by succeeded vs minAvailable, task minAvailable, minSuccess. */
static void t_running_rules(void **st) {
  (void)st;
  lh_job_spec s = job2("", "");
  int succ2[2] = {1, 1}, succ1[2] = {1, 0};
  lh_job_counts c = {.succeeded = 2};
  assert_int_equal(step(&s, LH_JOB_RUNNING, LH_ACT_SYNC, 0, c, 0, succ2).phase, LH_JOB_COMPLETED);
  c = (lh_job_counts){.succeeded = 1, .failed = 1};
  assert_int_equal(step(&s, LH_JOB_RUNNING, LH_ACT_SYNC, 0, c, 0, succ1).phase, LH_JOB_FAILED);
  c = (lh_job_counts){.succeeded = 1, .running = 1};
  assert_int_equal(step(&s, LH_JOB_RUNNING, LH_ACT_SYNC, 0, c, 0, succ1).phase, LH_JOB_RUNNING);
  lh_job_spec ms = spec_from("{\"metadata\":{\"name\":\"j\"},\"spec\":{\"minAvailable\":1,"
                             "\"minSuccess\":1,\"tasks\":[{\"name\":\"a\",\"replicas\":3,"
                             "\"minAvailable\":1,\"template\":{}}]}}");
  int one[1] = {1};
  c = (lh_job_counts){.succeeded = 1, .running = 2};
  assert_int_equal(step(&ms, LH_JOB_RUNNING, LH_ACT_SYNC, 0, c, 0, one).phase, LH_JOB_COMPLETED);
  lh_job_spec_free(&ms);
  lh_job_spec_free(&s);
}

/* 1.5 Completing/Aborting/Terminating end when nothing is alive; finished phases stay. */
static void t_kill_phases(void **st) {
  (void)st;
  lh_job_spec s = job2("", "");
  lh_job_counts alive = {.running = 1}, none = {.succeeded = 1};
  static const lh_job_phase from[] = {LH_JOB_COMPLETING, LH_JOB_ABORTING, LH_JOB_TERMINATING};
  static const lh_job_phase to[] = {LH_JOB_COMPLETED, LH_JOB_ABORTED, LH_JOB_TERMINATED};
  for (int i = 0; i < 3; i++) {
    lh_job_sm_out o = step(&s, from[i], LH_ACT_SYNC, 0, alive, 0, NULL);
    assert_int_equal(o.op, LH_SM_KILL_SOFT);
    assert_int_equal(o.phase, from[i]); /* the running pod is now terminating */
    o = step(&s, from[i], LH_ACT_SYNC, 0, none, 0, NULL);
    assert_int_equal(o.phase, to[i]);
    assert_int_equal(o.counts.succeeded, 1);
  }
  static const lh_job_phase fin[] = {LH_JOB_COMPLETED, LH_JOB_TERMINATED, LH_JOB_FAILED,
                                     LH_JOB_ABORTED};
  for (int i = 0; i < 4; i++) {
    lh_job_sm_out o = step(&s, fin[i], LH_ACT_RESTART_JOB, 0, alive, 0, NULL);
    assert_int_equal(o.phase, fin[i]);
    assert_int_equal(o.op, LH_SM_KILL_SOFT);
    assert_false(o.bump_version);
  }
  /* ResumeJob from Aborted restarts */
  lh_job_sm_out o = step(&s, LH_JOB_ABORTED, LH_ACT_RESUME_JOB, 0, none, 0, NULL);
  assert_int_equal(o.phase, LH_JOB_RESTARTING);
  assert_int_equal(o.retry_count, 1);
  lh_job_spec_free(&s);
}

/* 1.6 RestartTask deletes the task's pods, counts a retry, fails at maxRetry. */
static void t_restart_task(void **st) {
  (void)st;
  lh_job_spec s = job2("", "");
  lh_job_sm_in in = {0};
  in.phase = LH_JOB_RUNNING;
  in.action = LH_ACT_RESTART_TASK;
  in.restart_task = 1;
  in.counts = (lh_job_counts){.running = 2};
  int alive[2] = {1, 1};
  in.task_alive = alive;
  lh_job_sm_out o;
  lh_job_sm_step(&s, &in, &o);
  assert_int_equal(o.op, LH_SM_SYNC);
  assert_int_equal(o.kill_task, 1);
  assert_int_equal(o.retry_count, 1);
  assert_int_equal(o.counts.terminating, 1);
  assert_int_equal(o.counts.running, 1);
  assert_int_equal(o.phase, LH_JOB_RUNNING);
  in.retry_count = 2;
  lh_job_sm_step(&s, &in, &o);
  assert_int_equal(o.phase, LH_JOB_FAILED);
  lh_job_spec_free(&s);
}

/* 2.0 policies: task level first, then job level; "*" matches; exitCode only with a code. */
static void t_policies(void **st) {
  (void)st;
  lh_job_spec s = job2("\"policies\":[{\"event\":\"*\",\"action\":\"AbortJob\"},"
                       "{\"exitCode\":3,\"action\":\"TerminateJob\"}],",
                       ",\"policies\":[{\"events\":[\"PodEvicted\",\"Unknown\"],"
                       "\"action\":\"RestartTask\"},{\"exitCode\":3,\"action\":\"CompleteJob\"}]");
  assert_int_equal(lh_job_apply_policies(&s, LH_EV_POD_EVICTED, 0, 0, 0), LH_ACT_RESTART_TASK);
  assert_int_equal(lh_job_apply_policies(&s, LH_EV_UNKNOWN, 0, 0, 0), LH_ACT_RESTART_TASK);
  assert_int_equal(lh_job_apply_policies(&s, LH_EV_POD_EVICTED, 1, 0, 0), LH_ACT_ABORT_JOB);
  /* task level first: its exitCode policy beats the job-level "*" */
  assert_int_equal(lh_job_apply_policies(&s, LH_EV_POD_FAILED, 0, 1, 3), LH_ACT_COMPLETE_JOB);
  assert_int_equal(lh_job_apply_policies(&s, LH_EV_POD_FAILED, 1, 1, 3), LH_ACT_ABORT_JOB);
  assert_int_equal(lh_job_apply_policies(&s, LH_EV_OUT_OF_SYNC, 0, 0, 0), LH_ACT_SYNC);
  lh_job_spec_free(&s);
  lh_job_spec e = job2("\"policies\":[{\"exitCode\":3,\"action\":\"TerminateJob\"},"
                       "{\"event\":\"TaskCompleted\",\"action\":\"CompleteJob\"}],",
                       ",\"policies\":[{\"exitCode\":4,\"action\":\"RestartJob\"}]");
  assert_int_equal(lh_job_apply_policies(&e, LH_EV_POD_FAILED, 0, 1, 3), LH_ACT_TERMINATE_JOB);
  assert_int_equal(lh_job_apply_policies(&e, LH_EV_POD_FAILED, 0, 1, 4), LH_ACT_RESTART_JOB);
  assert_int_equal(lh_job_apply_policies(&e, LH_EV_POD_FAILED, 1, 1, 4), LH_ACT_SYNC);
  assert_int_equal(lh_job_apply_policies(&e, LH_EV_POD_FAILED, 0, 0, 0), LH_ACT_SYNC);
  assert_int_equal(lh_job_apply_policies(&e, LH_EV_TASK_COMPLETED, 1, 0, 0), LH_ACT_COMPLETE_JOB);
  lh_job_spec_free(&e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(t_pending),        cmocka_unit_test(t_actions),
      cmocka_unit_test(t_restarting),     cmocka_unit_test(t_max_retry_sequence),
      cmocka_unit_test(t_running_rules),  cmocka_unit_test(t_kill_phases),
      cmocka_unit_test(t_restart_task),   cmocka_unit_test(t_policies),
  };
  return cmocka_run_group_tests(tests, NULL, teardown);
}
