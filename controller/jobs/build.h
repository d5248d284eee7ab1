/* build.h — the objects a Volcano Job owns, built as JSON from its spec (pure, no I/O):
 * pods (Volcano's names, labels, annotations, ownerReference, env/svc/ssh plugin effects), the
 * PodGroup (minMember, minTaskMember, minResources, queue, priorityClassName), and the svc and
 * ssh plugins' Service, ConfigMap and Secret.
 *
 * Ownership: every builder returns a new json_t reference (json_decref it) or NULL when out of
 * memory (or, for pods, when the task index is out of range). Inputs are borrowed. */
#ifndef LAHAR_JOBS_BUILD_H
#define LAHAR_JOBS_BUILD_H

#include "jobs/spec.h"

#include <jansson.h>

/* Label and annotation keys (Volcano's batch/v1alpha1 and scheduling/v1beta1 constants). */
#define LH_JOB_KEY_JOB_NAME "volcano.sh/job-name"
#define LH_JOB_KEY_JOB_NS "volcano.sh/job-namespace"
#define LH_JOB_KEY_TASK_SPEC "volcano.sh/task-spec"
#define LH_JOB_KEY_TASK_INDEX "volcano.sh/task-index"
#define LH_JOB_KEY_QUEUE "volcano.sh/queue-name"
#define LH_JOB_KEY_VERSION "volcano.sh/job-version"
#define LH_JOB_KEY_TEMPLATE "volcano.sh/template-uid"
#define LH_JOB_KEY_GROUP "scheduling.k8s.io/group-name"

/* "<job>-<task>-<index>" into buf. Returns 0, or -1 when it does not fit. */
int lh_job_pod_name(char *buf, size_t len, const char *job, const char *task, int index);
/* The PodGroup name, "<job>-<uid>" (Volcano >= 1.5), or "<job>" for a job without a uid. */
int lh_job_podgroup_name(char *buf, size_t len, const lh_job_spec *s);

/* ownerReferences entry to the job: apiVersion, kind Job, name, uid, controller and
 * blockOwnerDeletion true. */
json_t *lh_job_owner_ref(const lh_job_spec *s);

/* Pod `index` of task `task` for job version `version`. The template's metadata.name is ignored
 * (Volcano names the task spec after the task). Returns NULL on no memory or bad task/index. */
json_t *lh_job_build_pod(const json_t *job, const lh_job_spec *s, size_t task, int index,
                         int version);

/* Sum of the effective requests (max(sum(containers), max(init)) + overhead) of the first
 * minAvailable pods, tasks in spec order, as a ResourceList object ({"cpu": "1500m", ...}). */
json_t *lh_job_min_resources(const lh_job_spec *s);
json_t *lh_job_build_podgroup(const json_t *job, const lh_job_spec *s);

/* svc plugin: the headless Service named after the job and the ConfigMap "<job>-svc" with
 * "<task>.host" (newline-separated), "VC_<TASK>_HOSTS" (comma-separated) and "VC_<TASK>_NUM". */
json_t *lh_job_build_service(const lh_job_spec *s);
json_t *lh_job_svc_data(const lh_job_spec *s);
json_t *lh_job_build_svc_configmap(const lh_job_spec *s);
/* ssh plugin: the ssh client config listing every pod host (Volcano's generateSSHConfig),
 * malloc'ed, and the Secret "<job>-ssh" holding id_rsa, id_rsa.pub, authorized_keys, config. */
char *lh_job_ssh_config(const lh_job_spec *s);
json_t *lh_job_build_ssh_secret(const lh_job_spec *s, const char *priv_pem, const char *pub_line);
/* Generates an RSA-2048 key pair: *priv_pem ("RSA PRIVATE KEY" PEM) and *pub_line
 * ("ssh-rsa AAAA...\n"), both malloc'ed. Returns 0, LH_JOBS_ENOMEM or LH_JOBS_EPARSE (OpenSSL
 * failed). */
int lh_job_ssh_keygen(char **priv_pem, char **pub_line);

#endif
