/* state.c — the Volcano Job phase machine and policy matching (see state.h). Each phase's rule is
 * a transcription of the matching volcano-sh/volcano pkg/controllers/job/state/<phase>.go. */
#include "jobs/state.h"

#include <string.h>

static int policy_matches(const lh_job_policy *p, lh_job_event ev, int has_exit, int exit_code) {
  if (p->events && ((p->events & (1u << ev)) || (p->events & (1u << LH_EV_ANY)))) return 1;
  /* 0 is not an error code (refused by validation), so exitCode only matches failures. */
  return p->has_exit_code && has_exit && p->exit_code == exit_code;
}

lh_job_action lh_job_apply_policies(const lh_job_spec *s, lh_job_event ev, int task_idx,
                                    int has_exit, int exit_code) {
  if (ev == LH_EV_OUT_OF_SYNC) return LH_ACT_SYNC;
  if (task_idx >= 0 && (size_t)task_idx < s->ntasks) {
    const lh_job_task *t = &s->tasks[task_idx];
    for (size_t i = 0; i < t->npolicies; i++)
      if (t->policies[i].action < LH_ACT_NACTIONS &&
          policy_matches(&t->policies[i], ev, has_exit, exit_code))
        return t->policies[i].action;
  }
  for (size_t i = 0; i < s->npolicies; i++)
    if (s->policies[i].action < LH_ACT_NACTIONS &&
        policy_matches(&s->policies[i], ev, has_exit, exit_code))
      return s->policies[i].action;
  return LH_ACT_SYNC;
}

/* KillJob's accounting: pods that are deleted become "terminating". Soft keeps Succeeded and
 * Failed pods; at the last retry Volcano always retains softly (so the failed pods stay for
 * inspection). */
static void kill_counts(lh_job_counts *c, lh_job_sm_op op) {
  if (op == LH_SM_KILL_NONE) {
    c->terminating += c->pending + c->running + c->unknown + c->succeeded + c->failed;
    c->succeeded = c->failed = 0;
  } else {
    c->terminating += c->pending + c->running + c->unknown;
  }
  c->pending = c->running = c->unknown = 0;
}

static int alive(const lh_job_counts *c) { return c->terminating || c->pending || c->running; }

static int total_task_min_available(const lh_job_spec *s) {
  int n = 0;
  for (size_t i = 0; i < s->ntasks; i++) n += s->tasks[i].min_available;
  return n;
}

/* running.go's SyncJob rule: decides Completed/Failed once every pod finished. */
static lh_job_phase running_rule(const lh_job_spec *s, const lh_job_sm_in *in,
                                 const lh_job_counts *c) {
  if (s->total_replicas == 0) return LH_JOB_RUNNING; /* scaled to zero: keep the phase */
  if (s->has_min_success && c->succeeded >= s->min_success) return LH_JOB_COMPLETED;
  if (c->succeeded + c->failed != s->total_replicas) return LH_JOB_RUNNING;
  if (s->min_available >= total_task_min_available(s)) {
    for (size_t i = 0; i < s->ntasks; i++) {
      int succ = in->task_succeeded ? in->task_succeeded[i] : 0;
      if (s->tasks[i].replicas > 0 && succ < s->tasks[i].min_available) return LH_JOB_FAILED;
    }
  }
  if (s->has_min_success && c->succeeded < s->min_success) return LH_JOB_FAILED;
  if (c->succeeded >= s->min_available) return LH_JOB_COMPLETED;
  return LH_JOB_FAILED;
}

/* The kill that an action asks for in Pending/Running (pending.go/running.go). Returns 1 and
 * fills out when action is one of the job-killing actions. */
static int action_kill(const lh_job_sm_in *in, lh_job_sm_out *out) {
  switch (in->action) {
  case LH_ACT_RESTART_JOB:
    out->op = LH_SM_KILL_NONE;
    out->phase = LH_JOB_RESTARTING;
    out->retry_count = in->retry_count + 1;
    return 1;
  case LH_ACT_ABORT_JOB: out->op = LH_SM_KILL_SOFT; out->phase = LH_JOB_ABORTING; return 1;
  case LH_ACT_COMPLETE_JOB: out->op = LH_SM_KILL_SOFT; out->phase = LH_JOB_COMPLETING; return 1;
  case LH_ACT_TERMINATE_JOB: out->op = LH_SM_KILL_SOFT; out->phase = LH_JOB_TERMINATING; return 1;
  default: return 0;
  }
}

void lh_job_sm_step(const lh_job_spec *s, const lh_job_sm_in *in, lh_job_sm_out *out) {
  memset(out, 0, sizeof *out);
  out->kill_task = -1;
  out->phase = in->phase;
  out->retry_count = in->retry_count;
  out->counts = in->counts;
  int max_retry = s->max_retry > 0 ? s->max_retry : 3;

  switch (in->phase) {
  case LH_JOB_PENDING:
  case LH_JOB_RUNNING:
    if (action_kill(in, out)) {
      out->bump_version = 1;
      break;
    }
    out->op = LH_SM_SYNC;
    if (in->action == LH_ACT_RESTART_TASK && in->restart_task >= 0 &&
        (size_t)in->restart_task < s->ntasks) {
      if (in->retry_count >= max_retry) { /* out of retries: fail like a job restart would */
        out->op = LH_SM_KILL_SOFT;
        out->phase = LH_JOB_FAILED;
        out->bump_version = 1;
        break;
      }
      out->kill_task = in->restart_task;
      out->retry_count = in->retry_count + 1;
      int n = in->task_alive ? in->task_alive[in->restart_task] : 0;
      /* the task's pods become terminating; which phases they were in is not known per task,
         so they are taken from pending first, then running */
      int from_pending = n < out->counts.pending ? n : out->counts.pending;
      out->counts.pending -= from_pending;
      out->counts.running -= n - from_pending < out->counts.running ? n - from_pending
                                                                     : out->counts.running;
      out->counts.terminating += n;
      break;
    }
    out->counts.pending += in->to_create;
    if (in->phase == LH_JOB_PENDING) {
      if (s->min_available <= out->counts.running + out->counts.succeeded + out->counts.failed)
        out->phase = LH_JOB_RUNNING;
    } else {
      out->phase = running_rule(s, in, &out->counts);
    }
    break;
  case LH_JOB_RESTARTING:
    /* restarting.go: kill everything (softly at the last retry), then Failed when out of
       retries, or Pending once enough pods are gone to bring up minAvailable again. */
    out->op = in->retry_count >= max_retry - 1 ? LH_SM_KILL_SOFT : LH_SM_KILL_NONE;
    kill_counts(&out->counts, out->op);
    if (in->retry_count >= max_retry)
      out->phase = LH_JOB_FAILED;
    else if (s->total_replicas - out->counts.terminating >= s->min_available)
      out->phase = LH_JOB_PENDING;
    break;
  case LH_JOB_ABORTING:
  case LH_JOB_ABORTED:
    if (in->action == LH_ACT_RESUME_JOB) {
      out->op = LH_SM_KILL_SOFT;
      kill_counts(&out->counts, out->op);
      out->phase = LH_JOB_RESTARTING;
      out->retry_count = in->retry_count + 1;
      out->bump_version = 1;
      break;
    }
    out->op = LH_SM_KILL_SOFT;
    kill_counts(&out->counts, out->op);
    if (in->phase == LH_JOB_ABORTING && !alive(&out->counts)) out->phase = LH_JOB_ABORTED;
    break;
  case LH_JOB_COMPLETING:
  case LH_JOB_TERMINATING:
    out->op = LH_SM_KILL_SOFT;
    kill_counts(&out->counts, out->op);
    if (!alive(&out->counts))
      out->phase = in->phase == LH_JOB_COMPLETING ? LH_JOB_COMPLETED : LH_JOB_TERMINATED;
    break;
  default: /* Completed, Terminated, Failed: finished.go always kills softly */
    out->op = LH_SM_KILL_SOFT;
    kill_counts(&out->counts, out->op);
    break;
  }
  /* A kill decided by an action: the counts are those after the kill. */
  if (out->bump_version && out->op != LH_SM_SYNC && in->phase != LH_JOB_ABORTING &&
      in->phase != LH_JOB_ABORTED) {
    lh_job_sm_op op = out->op;
    if (op == LH_SM_KILL_NONE && in->retry_count >= max_retry - 1) op = LH_SM_KILL_SOFT;
    out->op = op;
    kill_counts(&out->counts, op);
  }
  out->transitioned = out->phase != in->phase;
}
