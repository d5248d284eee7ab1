/* test_jobs_build.c — objects built from a Volcano Job (controller/jobs/build.h): pod names,
 * labels, annotations, ownerReference, env/svc/ssh plugin effects, the PodGroup (minMember,
 * minTaskMember, minResources, queue, priorityClassName), svc Service/ConfigMap, ssh Secret. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "jobs/build.h"

static const char *JOB =
    "{\"apiVersion\":\"batch.volcano.sh/v1alpha1\",\"kind\":\"Job\","
    "\"metadata\":{\"name\":\"tf\",\"namespace\":\"ml\",\"uid\":\"u-42\","
    "\"labels\":{\"team\":\"x\",\"volcano.sh/preemptable\":\"true\"}},"
    "\"spec\":{\"minAvailable\":3,\"queue\":\"q1\",\"priorityClassName\":\"high\","
    "\"plugins\":{\"env\":[],\"svc\":[],\"ssh\":[]},"
    "\"tasks\":[{\"name\":\"ps\",\"replicas\":1,\"template\":{\"metadata\":{\"name\":\"ignored\","
    "\"labels\":{\"app\":\"tf\"},\"annotations\":{\"lahar.io/sim-duration\":\"2s\"}},"
    "\"spec\":{\"containers\":[{\"name\":\"c\",\"env\":[{\"name\":\"A\",\"value\":\"1\"}],"
    "\"resources\":{\"requests\":{\"cpu\":\"500m\",\"memory\":\"1Gi\"}}}],"
    "\"initContainers\":[{\"name\":\"i\",\"resources\":{\"requests\":{\"cpu\":\"2\"}}}]}}},"
    "{\"name\":\"worker-gpu\",\"replicas\":4,\"minAvailable\":2,\"template\":{\"spec\":{"
    "\"schedulerName\":\"volcano\",\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":"
    "{\"cpu\":\"1\",\"nvidia.com/gpu\":1}}},{\"name\":\"d\",\"resources\":{\"requests\":"
    "{\"cpu\":\"250m\"}}}]}}}]}}";

typedef struct fx {
  json_t *job;
  lh_job_spec s;
} fx;

static int setup(void **st) {
  fx *f = calloc(1, sizeof *f);
  json_error_t e;
  f->job = json_loads(JOB, 0, &e);
  assert_non_null(f->job);
  lh_job_defaults d = {"lahar", NULL, 0};
  char err[128];
  assert_int_equal(lh_job_spec_parse(f->job, &d, &f->s, err, sizeof err), 0);
  *st = f;
  return 0;
}
static int teardown(void **st) {
  fx *f = *st;
  lh_job_spec_free(&f->s);
  json_decref(f->job);
  free(f);
  return 0;
}

static const char *js(const json_t *o, const char *a, const char *b, const char *c) {
  const json_t *x = json_object_get(o, a);
  if (b) x = json_object_get(x, b);
  if (c) x = json_object_get(x, c);
  return json_string_value(x);
}

/* Finds env var name in container c; returns it or NULL. */
static const json_t *env(const json_t *c, const char *name) {
  size_t i;
  json_t *e;
  json_array_foreach(json_object_get(c, "env"), i, e) if (!strcmp(json_string_value(json_object_get(e, "name")), name)) return e;
  return NULL;
}

/* 1.0 names, labels, annotations, owner reference, scheduler name. */
static void t_pod_meta(void **st) {
  fx *f = *st;
  char buf[64];
  assert_int_equal(lh_job_pod_name(buf, sizeof buf, "tf", "ps", 0), 0);
  assert_string_equal(buf, "tf-ps-0");
  assert_int_equal(lh_job_pod_name(buf, 5, "tf", "ps", 0), -1);
  json_t *pod = lh_job_build_pod(f->job, &f->s, 1, 3, 7);
  assert_non_null(pod);
  const json_t *md = json_object_get(pod, "metadata");
  assert_string_equal(js(md, "name", NULL, NULL), "tf-worker-gpu-3");
  assert_string_equal(js(md, "namespace", NULL, NULL), "ml");
  assert_string_equal(js(md, "labels", "volcano.sh/job-name", NULL), "tf");
  assert_string_equal(js(md, "labels", "volcano.sh/job-namespace", NULL), "ml");
  assert_string_equal(js(md, "labels", "volcano.sh/task-spec", NULL), "worker-gpu");
  assert_string_equal(js(md, "labels", "volcano.sh/task-index", NULL), "3");
  assert_string_equal(js(md, "labels", "volcano.sh/queue-name", NULL), "q1");
  assert_string_equal(js(md, "labels", "volcano.sh/preemptable", NULL), "true");
  assert_string_equal(js(md, "annotations", "scheduling.k8s.io/group-name", NULL), "tf-u-42");
  assert_string_equal(js(md, "annotations", "volcano.sh/job-version", NULL), "7");
  assert_string_equal(js(md, "annotations", "volcano.sh/task-spec", NULL), "worker-gpu");
  assert_string_equal(js(md, "annotations", "volcano.sh/task-index", NULL), "3");
  assert_string_equal(js(md, "annotations", "volcano.sh/job-name", NULL), "tf");
  assert_string_equal(js(md, "annotations", "volcano.sh/queue-name", NULL), "q1");
  assert_string_equal(js(md, "annotations", "volcano.sh/template-uid", NULL), "tf-worker-gpu");
  const json_t *ref = json_array_get(json_object_get(md, "ownerReferences"), 0);
  assert_string_equal(js(ref, "kind", NULL, NULL), "Job");
  assert_string_equal(js(ref, "apiVersion", NULL, NULL), "batch.volcano.sh/v1alpha1");
  assert_string_equal(js(ref, "uid", NULL, NULL), "u-42");
  assert_true(json_is_true(json_object_get(ref, "controller")));
  /* the template's schedulerName wins; the job's priorityClassName is applied */
  assert_string_equal(js(pod, "spec", "schedulerName", NULL), "volcano");
  assert_string_equal(js(pod, "spec", "priorityClassName", NULL), "high");
  json_decref(pod);
  pod = lh_job_build_pod(f->job, &f->s, 0, 0, 0);
  md = json_object_get(pod, "metadata");
  assert_string_equal(js(pod, "spec", "schedulerName", NULL), "lahar"); /* job default */
  assert_string_equal(js(md, "labels", "app", NULL), "tf");             /* template kept */
  assert_string_equal(js(md, "annotations", "lahar.io/sim-duration", NULL), "2s");
  assert_string_equal(js(md, "name", NULL, NULL), "tf-ps-0");           /* not "ignored" */
  json_decref(pod);
  assert_null(lh_job_build_pod(f->job, &f->s, 2, 0, 0)); /* no such task */
}

/* 1.1 env, svc and ssh plugin effects on every container and init container. */
static void t_pod_plugins(void **st) {
  fx *f = *st;
  json_t *pod = lh_job_build_pod(f->job, &f->s, 0, 0, 0);
  const json_t *spec = json_object_get(pod, "spec");
  assert_string_equal(js(spec, "hostname", NULL, NULL), "tf-ps-0");
  assert_string_equal(js(spec, "subdomain", NULL, NULL), "tf");
  const char *kinds[] = {"containers", "initContainers"};
  for (int k = 0; k < 2; k++) {
    const json_t *c = json_array_get(json_object_get(spec, kinds[k]), 0);
    assert_string_equal(js(env(c, "VK_TASK_INDEX"), "value", NULL, NULL), "0");
    assert_string_equal(js(env(c, "VC_TASK_INDEX"), "value", NULL, NULL), "0");
    const json_t *h = env(c, "VC_WORKER_GPU_HOSTS");
    assert_non_null(h);
    assert_string_equal(js(h, "valueFrom", "configMapKeyRef", "name"), "tf-svc");
    assert_string_equal(js(h, "valueFrom", "configMapKeyRef", "key"), "VC_WORKER_GPU_HOSTS");
    assert_non_null(env(c, "VC_PS_NUM"));
    int svc = 0, ssh = 0;
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(c, "volumeMounts"), i, m) {
      if (!strcmp(js(m, "name", NULL, NULL), "tf-svc")) {
        svc++;
        assert_string_equal(js(m, "mountPath", NULL, NULL), "/etc/volcano");
      }
      if (!strcmp(js(m, "name", NULL, NULL), "tf-ssh")) {
        ssh++;
        assert_string_equal(js(m, "mountPath", NULL, NULL), "/root/.ssh");
        assert_string_equal(js(m, "subPath", NULL, NULL), ".ssh");
      }
    }
    assert_int_equal(svc, 1);
    assert_int_equal(ssh, 1);
  }
  /* the user's env var stays first */
  assert_string_equal(js(json_array_get(json_object_get(json_array_get(json_object_get(spec, "containers"), 0), "env"), 0), "name", NULL, NULL), "A");
  int vols = 0;
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(spec, "volumes"), i, v) {
    if (!strcmp(js(v, "name", NULL, NULL), "tf-svc")) {
      vols++;
      assert_string_equal(js(v, "configMap", "name", NULL), "tf-svc");
    }
    if (!strcmp(js(v, "name", NULL, NULL), "tf-ssh")) {
      vols++;
      assert_string_equal(js(v, "secret", "secretName", NULL), "tf-ssh");
      assert_int_equal(json_integer_value(json_object_get(json_object_get(v, "secret"), "defaultMode")), 0600);
    }
  }
  assert_int_equal(vols, 2);
  json_decref(pod);
}

/* 2.0 PodGroup: minMember, minTaskMember, queue, priorityClassName, minResources of the first
 * minAvailable (3) pods: ps (max(0.5, init 2) = 2 cpu, 1Gi) + 2 workers (1.25 cpu, 1 gpu). */
static void t_podgroup(void **st) {
  fx *f = *st;
  json_t *pg = lh_job_build_podgroup(f->job, &f->s);
  assert_non_null(pg);
  assert_string_equal(js(pg, "metadata", "name", NULL), "tf-u-42");
  assert_string_equal(js(pg, "metadata", "labels", "team"), "x");
  const json_t *spec = json_object_get(pg, "spec");
  assert_int_equal(json_integer_value(json_object_get(spec, "minMember")), 3);
  assert_string_equal(js(spec, "queue", NULL, NULL), "q1");
  assert_string_equal(js(spec, "priorityClassName", NULL, NULL), "high");
  assert_int_equal(json_integer_value(json_object_get(json_object_get(spec, "minTaskMember"), "ps")), 1);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(spec, "minTaskMember"), "worker-gpu")), 2);
  assert_string_equal(js(spec, "minResources", "cpu", NULL), "4500m");
  assert_string_equal(js(spec, "minResources", "memory", NULL), "1073741824");
  assert_string_equal(js(spec, "minResources", "nvidia.com/gpu", NULL), "2");
  const json_t *ref = json_array_get(json_object_get(json_object_get(pg, "metadata"), "ownerReferences"), 0);
  assert_string_equal(js(ref, "name", NULL, NULL), "tf");
  json_decref(pg);
}

/* 3.0 svc plugin: headless Service and host lists like Volcano's generateHost. */
static void t_svc(void **st) {
  fx *f = *st;
  json_t *svc = lh_job_build_service(&f->s);
  assert_string_equal(js(svc, "metadata", "name", NULL), "tf");
  assert_string_equal(js(svc, "spec", "clusterIP", NULL), "None");
  assert_string_equal(js(svc, "spec", "selector", "volcano.sh/job-name"), "tf");
  assert_string_equal(js(svc, "spec", "selector", "volcano.sh/job-namespace"), "ml");
  assert_true(json_is_true(json_object_get(json_object_get(svc, "spec"), "publishNotReadyAddresses")));
  json_decref(svc);
  json_t *cm = lh_job_build_svc_configmap(&f->s);
  assert_string_equal(js(cm, "metadata", "name", NULL), "tf-svc");
  const json_t *d = json_object_get(cm, "data");
  assert_string_equal(js(d, "ps.host", NULL, NULL), "tf-ps-0.tf");
  assert_string_equal(js(d, "worker-gpu.host", NULL, NULL),
                      "tf-worker-gpu-0.tf\ntf-worker-gpu-1.tf\ntf-worker-gpu-2.tf\ntf-worker-gpu-3.tf");
  assert_string_equal(js(d, "VC_WORKER_GPU_HOSTS", NULL, NULL),
                      "tf-worker-gpu-0.tf,tf-worker-gpu-1.tf,tf-worker-gpu-2.tf,tf-worker-gpu-3.tf");
  assert_string_equal(js(d, "VC_WORKER_GPU_NUM", NULL, NULL), "4");
  assert_string_equal(js(d, "VC_PS_NUM", NULL, NULL), "1");
  json_decref(cm);
}

/* 3.1 a fixed hostname/subdomain in the template: one host for the task. */
static void t_svc_fixed_host(void **st) {
  (void)st;
  json_error_t e;
  json_t *job = json_loads("{\"metadata\":{\"name\":\"j\",\"namespace\":\"n\"},\"spec\":{\"tasks\":"
                           "[{\"name\":\"m\",\"replicas\":3,\"template\":{\"spec\":{\"hostname\":"
                           "\"h\",\"subdomain\":\"sd\",\"containers\":[]}}}]}}", 0, &e);
  lh_job_spec s;
  char err[64];
  assert_int_equal(lh_job_spec_parse(job, NULL, &s, err, sizeof err), 0);
  json_t *d = lh_job_svc_data(&s);
  assert_string_equal(js(d, "m.host", NULL, NULL), "h.sd");
  assert_string_equal(js(d, "VC_M_NUM", NULL, NULL), "1");
  json_decref(d);
  char *conf = lh_job_ssh_config(&s);
  assert_string_equal(conf, "StrictHostKeyChecking no\nUserKnownHostsFile /dev/null\nHost h\n  HostName h.sd\n");
  free(conf);
  lh_job_spec_free(&s);
  json_decref(job);
}

/* 4.0 ssh plugin: a real key pair, in the Secret's four keys. */
static void t_ssh(void **st) {
  fx *f = *st;
  char *priv = NULL, *pub = NULL;
  assert_int_equal(lh_job_ssh_keygen(&priv, &pub), 0);
  assert_non_null(strstr(priv, "-----BEGIN RSA PRIVATE KEY-----"));
  assert_int_equal(strncmp(pub, "ssh-rsa AAAAB3NzaC1yc2E", 23), 0);
  assert_int_equal(pub[strlen(pub) - 1], '\n');
  json_t *sec = lh_job_build_ssh_secret(&f->s, priv, pub);
  assert_string_equal(js(sec, "metadata", "name", NULL), "tf-ssh");
  const json_t *d = json_object_get(sec, "data");
  assert_non_null(js(d, "id_rsa", NULL, NULL));
  assert_string_equal(js(d, "id_rsa.pub", NULL, NULL), js(d, "authorized_keys", NULL, NULL));
  assert_non_null(js(d, "config", NULL, NULL));
  json_decref(sec);
  free(priv);
  free(pub);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(t_pod_meta, setup, teardown),
      cmocka_unit_test_setup_teardown(t_pod_plugins, setup, teardown),
      cmocka_unit_test_setup_teardown(t_podgroup, setup, teardown),
      cmocka_unit_test_setup_teardown(t_svc, setup, teardown),
      cmocka_unit_test(t_svc_fixed_host),
      cmocka_unit_test_setup_teardown(t_ssh, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
