/* state.h — the Volcano Job state machine as pure functions: policy matching (event + task +
 * exit code -> action) and one step of the phase machine (phase + action + pod counts -> next
 * phase, what to do with the pods, retryCount and version).
 *
 * It follows volcano-sh/volcano pkg/controllers/job/state/ (one file per phase): every phase either "syncs" (creates
 * missing pods, Pending and Running only) or "kills" (deletes pods; "soft" keeps Succeeded and
 * Failed ones), then a phase-specific rule looks at the counts AFTER that operation. Differences
 * (documented in controller/jobs/README.md): the version is bumped once per action that kills the
 * job (Volcano bumps on every kill pass); RestartTask counts as a retry and fails the job once
 * retryCount reached maxRetry (Volcano bounds it with task-level maxRetry instead).
 * Pure: no I/O, no clock. */
#ifndef LAHAR_JOBS_STATE_H
#define LAHAR_JOBS_STATE_H

#include "jobs/spec.h"

typedef struct lh_job_counts {
  int pending, running, succeeded, failed, terminating, unknown;
} lh_job_counts;

typedef enum {
  LH_SM_SYNC = 0,  /* create missing pods, keep the rest */
  LH_SM_KILL_NONE, /* delete every pod (PodRetainPhaseNone) */
  LH_SM_KILL_SOFT, /* delete pods that are not Succeeded/Failed (PodRetainPhaseSoft) */
} lh_job_sm_op;

typedef struct lh_job_sm_in {
  lh_job_phase phase;       /* current status.state.phase */
  lh_job_action action;     /* from lh_job_apply_policies (LH_ACT_SYNC when no event) */
  int restart_task;         /* task index for LH_ACT_RESTART_TASK, else ignored */
  int retry_count;          /* status.retryCount */
  lh_job_counts counts;     /* live pods of the current version, by phase; terminating = pods
                               already being deleted */
  int to_create;            /* pods missing that a sync would create (counted as pending) */
  const int *task_succeeded; /* per spec task: Succeeded pods (NULL: all 0) */
  const int *task_alive;     /* per spec task: pending+running+unknown pods (for RestartTask) */
} lh_job_sm_in;

typedef struct lh_job_sm_out {
  lh_job_sm_op op;
  int kill_task;            /* >= 0: RestartTask — delete this task's pods (op stays SYNC) */
  lh_job_phase phase;       /* next phase */
  int retry_count;          /* next status.retryCount */
  int bump_version;         /* 1: status.version++ (pods of older versions are stale) */
  int transitioned;         /* phase changed: new lastTransitionTime + condition */
  lh_job_counts counts;     /* counts after the operation (what status reports) */
} lh_job_sm_out;

/* Volcano's applyPolicies: task-level policies of task_idx first (if >= 0), then job-level; a
 * policy matches when its events contain ev or "*", or when it has exitCode == exit_code (only
 * if has_exit). Returns the first match's action, LH_ACT_SYNC when none matches. */
lh_job_action lh_job_apply_policies(const lh_job_spec *s, lh_job_event ev, int task_idx,
                                    int has_exit, int exit_code);

/* One step of the state machine for job spec s. Cannot fail; out is fully written. */
void lh_job_sm_step(const lh_job_spec *s, const lh_job_sm_in *in, lh_job_sm_out *out);

#endif
