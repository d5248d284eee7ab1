/* fuzz_jobs_spec.c — Volcano Job spec parsing (controller/jobs/spec.c): any JSON goes through
 * lh_job_spec_parse + lh_job_spec_validate; a valid spec drives the policy matcher, the phase
 * machine and the object builders (pods, PodGroup, svc/ssh plugin objects). */
#include "tests/fuzz/fuzz.h"
#include "jobs/build.h"
#include "jobs/spec.h"
#include "jobs/state.h"

#include <stdlib.h>
#include <string.h>

static void built(const lh_job_spec *s, const json_t *job) {
  for (size_t t = 0; t < s->ntasks && t < 8; t++) {
    for (int i = 0; i < s->tasks[t].replicas && i < 3; i++) json_decref(lh_job_build_pod(job, s, t, i, 1));
    (void)lh_job_apply_policies(s, LH_EV_POD_FAILED, (int)t, 1, 1);
  }
  char name[64];
  (void)lh_job_podgroup_name(name, sizeof(name), s);
  json_decref(lh_job_owner_ref(s));
  json_decref(lh_job_min_resources(s));
  json_decref(lh_job_build_podgroup(job, s));
  json_decref(lh_job_build_service(s));
  json_decref(lh_job_svc_data(s));
  json_decref(lh_job_build_svc_configmap(s));
  free(lh_job_ssh_config(s));
  json_decref(lh_job_build_ssh_secret(s, "-----BEGIN KEY-----\n", "ssh-rsa AAAA x\n"));
  lh_job_sm_in in;
  memset(&in, 0, sizeof(in));
  lh_job_sm_out out;
  for (int ph = 0; ph < 10; ph++) {
    in.phase = (lh_job_phase)ph;
    in.action = (lh_job_action)(ph % 6);
    in.restart_task = s->ntasks ? ph % (int)s->ntasks : 0; /* a valid index (the caller's contract) */
    in.counts.running = ph;
    lh_job_sm_step(s, &in, &out);
  }
}

int fuzz_jobs_spec_one(const uint8_t *data, size_t size) {
  json_t *job = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
  if (!job) return 0;
  static const lh_job_defaults D = {"volcano", "q", 5};
  lh_job_spec s;
  char err[200];
  for (int k = 0; k < 2; k++) {
    memset(&s, 0x5a, sizeof(s));
    memset(err, 'x', sizeof(err));
    int rc = lh_job_spec_parse(job, k ? &D : NULL, &s, err, sizeof(err));
    if (rc != 0) {
      if (!memchr(err, 0, sizeof(err)) || s.tasks || s.ntasks) abort(); /* zeroed on error */
      continue;
    }
    memset(err, 'x', sizeof(err));
    rc = lh_job_spec_validate(&s, err, sizeof(err));
    if (rc != 0 && !memchr(err, 0, sizeof(err))) abort();
    for (size_t t = 0; t < s.ntasks; t++) (void)lh_job_spec_task_index(&s, s.tasks[t].name);
    if (rc == 0) built(&s, job);
    lh_job_spec_free(&s);
  }
  json_decref(job);
  return 0;
}

#ifdef LAHAR_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_jobs_spec_one(data, size); }
#endif
