/* spec.h — a Volcano Job's spec as lahar reads it: parsing from the object's JSON (with
 * Volcano's admission-webhook defaults applied), validation with the webhook's rules, and the
 * vocabulary shared by the jobs library (phases, events, actions, policies).
 *
 * Ownership: an lh_job_spec owns its arrays and copied strings, but BORROWS json_t pointers
 * (task templates, volumes) and metadata strings from the job object it was parsed from: keep
 * that object alive (json_incref) while the spec is used. Free with lh_job_spec_free.
 * Pure: no I/O, no clock, no globals. */
#ifndef LAHAR_JOBS_SPEC_H
#define LAHAR_JOBS_SPEC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define LH_JOBS_OK 0
#define LH_JOBS_ENOMEM -1   /* allocation failed */
#define LH_JOBS_EPARSE -2   /* the object is not a Job we can read (wrong types, no metadata) */
#define LH_JOBS_EINVALID -3 /* readable but refused by Volcano's admission rules */

const char *lh_jobs_strerror(int rc);

/* Job phases (status.state.phase). "" reads as Pending. */
typedef enum {
  LH_JOB_PENDING = 0,
  LH_JOB_RUNNING,
  LH_JOB_RESTARTING,
  LH_JOB_COMPLETING,
  LH_JOB_COMPLETED,
  LH_JOB_ABORTING,
  LH_JOB_ABORTED,
  LH_JOB_TERMINATING,
  LH_JOB_TERMINATED,
  LH_JOB_FAILED,
  LH_JOB_NPHASES
} lh_job_phase;
const char *lh_job_phase_name(lh_job_phase p);
/* Returns the phase for a status string; NULL/"" is Pending; unknown strings give -1. */
int lh_job_phase_parse(const char *s);
/* Completed, Terminated, Failed, Aborted: nothing more happens without a command. */
int lh_job_phase_finished(lh_job_phase p);

/* Policy events (Volcano bus/v1alpha1 Event). */
typedef enum {
  LH_EV_ANY = 0,        /* "*" */
  LH_EV_POD_FAILED,     /* "PodFailed" */
  LH_EV_POD_EVICTED,    /* "PodEvicted" */
  LH_EV_UNKNOWN,        /* "Unknown" (JobUnknown) */
  LH_EV_TASK_COMPLETED, /* "TaskCompleted" */
  LH_EV_TASK_FAILED,    /* "TaskFailed" (accepted; lahar never raises it, see README) */
  LH_EV_OUT_OF_SYNC,    /* "OutOfSync" */
  LH_EV_COMMAND_ISSUED, /* "CommandIssued" */
  LH_EV_JOB_UPDATED,    /* "JobUpdated" */
  LH_EV_NEVENTS
} lh_job_event;
const char *lh_job_event_name(lh_job_event e);
int lh_job_event_parse(const char *s); /* -1 when unknown; "JobUnknown" is accepted too */

/* Policy actions (Volcano bus/v1alpha1 Action). */
typedef enum {
  LH_ACT_SYNC = 0,      /* "SyncJob" (no policy matched) */
  LH_ACT_RESTART_JOB,   /* "RestartJob" */
  LH_ACT_ABORT_JOB,     /* "AbortJob" */
  LH_ACT_COMPLETE_JOB,  /* "CompleteJob" */
  LH_ACT_TERMINATE_JOB, /* "TerminateJob" */
  LH_ACT_RESTART_TASK,  /* "RestartTask" */
  LH_ACT_RESUME_JOB,    /* "ResumeJob" */
  LH_ACT_NACTIONS
} lh_job_action;
const char *lh_job_action_name(lh_job_action a);
int lh_job_action_parse(const char *s); /* -1 when unknown */

typedef struct lh_job_policy {
  unsigned events;   /* bit (1u << lh_job_event) per event named by event/events */
  lh_job_action action;
  int has_exit_code; /* exitCode was given */
  int exit_code;
} lh_job_policy;

typedef struct lh_job_task {
  char *name;                /* task name (Volcano default "default<i>" when empty) */
  int replicas;
  int min_available;         /* task minAvailable, default replicas */
  int has_min_available;     /* spec gave it */
  int max_retry;             /* task maxRetry (parsed; pod restart counting is not modelled) */
  lh_job_policy *policies;
  size_t npolicies;
  char **depends_on;         /* dependsOn.name: tasks that must be running first */
  size_t ndepends;
  int depends_any;           /* dependsOn.iteration == "any" (else "all") */
  const json_t *tmpl;        /* the task's pod template (borrowed), never NULL */
  const char *hostname;      /* template.spec.hostname or NULL (borrowed) */
  const char *subdomain;     /* template.spec.subdomain or NULL (borrowed) */
} lh_job_task;

#define LH_JOB_PLUGIN_ENV 1u
#define LH_JOB_PLUGIN_SVC 2u
#define LH_JOB_PLUGIN_SSH 4u

typedef struct lh_job_spec {
  const char *ns, *name, *uid;  /* metadata (borrowed) */
  char *scheduler;              /* spec.schedulerName or the default given to parse */
  char *queue;                  /* spec.queue or the default */
  char *priority_class;         /* spec.priorityClassName or NULL */
  int min_available;            /* spec.minAvailable, default sum of task minAvailable */
  int has_min_success, min_success;
  int max_retry;                /* default 3 */
  int has_ttl;
  long ttl_seconds;             /* ttlSecondsAfterFinished */
  unsigned plugins;             /* LH_JOB_PLUGIN_* */
  int svc_publish_not_ready;    /* svc plugin: --publish-not-ready-addresses (default true) */
  char *ssh_key_path;           /* ssh plugin: --ssh-key-file-path, default "/root/.ssh" */
  lh_job_policy *policies;
  size_t npolicies;
  lh_job_task *tasks;
  size_t ntasks;
  int total_replicas;
  const json_t *volumes;        /* spec.volumes (borrowed) or NULL */
} lh_job_spec;

typedef struct lh_job_defaults {
  const char *scheduler; /* NULL: "lahar" */
  const char *queue;     /* NULL: "default" */
  int max_retry;         /* <= 0: 3 */
} lh_job_defaults;

/* Parses job (a whole Job object) into *out, applying the defaults of Volcano's mutating
 * webhook (task names, task minAvailable, job minAvailable, queue, maxRetry, schedulerName).
 * Unknown fields are ignored. Returns 0, LH_JOBS_EPARSE (err says which field) or
 * LH_JOBS_ENOMEM; on error *out is zeroed and owns nothing. d may be NULL. */
int lh_job_spec_parse(const json_t *job, const lh_job_defaults *d, lh_job_spec *out, char *err,
                      size_t errlen);
void lh_job_spec_free(lh_job_spec *s); /* zeroes; NULL ok */

/* Volcano's validating-webhook rules: at least one task, unique DNS-1123 task names, replicas
 * and minAvailable >= 0, minAvailable <= total replicas, task minAvailable <= replicas,
 * minSuccess <= total replicas, known plugins, policies with an event or an exitCode (not both,
 * exitCode != 0), dependsOn naming existing tasks. Returns 0 or LH_JOBS_EINVALID with the
 * message (Volcano's wording where it has one) in err. */
int lh_job_spec_validate(const lh_job_spec *s, char *err, size_t errlen);

/* Index of task name in s, or -1. */
int lh_job_spec_task_index(const lh_job_spec *s, const char *name);

#endif
