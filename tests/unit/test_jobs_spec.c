/* test_jobs_spec.c — Volcano Job spec parsing, defaults and validation (controller/jobs/spec.h),
 * including every Volcano example job of ../shared/corpus/volcano/example/, read unchanged.
 * The YAML -> JSON conversion below (libyaml events) is test-only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "jobs/spec.h"

/* --- YAML -> JSON (plain scalars typed as YAML 1.2 core: int, float, bool, null) ----------- */
static json_t *scalar(const yaml_event_t *ev) {
  const char *v = (const char *)ev->data.scalar.value;
  if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return json_string(v);
  if (!*v || !strcmp(v, "~") || !strcmp(v, "null")) return json_null();
  if (!strcmp(v, "true")) return json_true();
  if (!strcmp(v, "false")) return json_false();
  char *end;
  long long i = strtoll(v, &end, 10);
  if (*end == 0) return json_integer(i);
  double d = strtod(v, &end);
  if (*end == 0) return json_real(d);
  return json_string(v);
}

static json_t *node(yaml_parser_t *p, yaml_event_t *ev);

static json_t *next_node(yaml_parser_t *p, int *end) {
  yaml_event_t ev;
  if (!yaml_parser_parse(p, &ev)) return NULL;
  if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT) {
    *end = 1;
    yaml_event_delete(&ev);
    return NULL;
  }
  json_t *j = node(p, &ev);
  yaml_event_delete(&ev);
  return j;
}

static json_t *node(yaml_parser_t *p, yaml_event_t *ev) {
  if (ev->type == YAML_SCALAR_EVENT) return scalar(ev);
  if (ev->type == YAML_SEQUENCE_START_EVENT) {
    json_t *a = json_array();
    for (;;) {
      int end = 0;
      json_t *c = next_node(p, &end);
      if (end) return a;
      if (!c) break;
      json_array_append_new(a, c);
    }
    json_decref(a);
    return NULL;
  }
  if (ev->type == YAML_MAPPING_START_EVENT) {
    json_t *o = json_object();
    for (;;) {
      int end = 0;
      json_t *k = next_node(p, &end);
      if (end) return o;
      if (!k) break;
      json_t *v = next_node(p, &end);
      if (!v || !json_is_string(k)) {
        json_decref(k);
        json_decref(v);
        break;
      }
      json_object_set_new(o, json_string_value(k), v);
      json_decref(k);
    }
    json_decref(o);
  }
  return NULL;
}

/* All non-empty documents of a YAML file, as a JSON array. */
static json_t *load_yaml_docs(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  yaml_parser_t p;
  yaml_parser_initialize(&p);
  yaml_parser_set_input_file(&p, f);
  json_t *docs = json_array();
  for (;;) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&p, &ev)) {
      json_decref(docs);
      docs = NULL;
      break;
    }
    int type = ev.type;
    if (type == YAML_DOCUMENT_START_EVENT) {
      yaml_event_delete(&ev);
      if (!yaml_parser_parse(&p, &ev)) break;
      if (ev.type != YAML_DOCUMENT_END_EVENT) {
        json_t *d = node(&p, &ev);
        if (d && !json_is_null(d)) json_array_append_new(docs, d);
        else json_decref(d);
      }
    }
    yaml_event_delete(&ev);
    if (type == YAML_STREAM_END_EVENT) break;
  }
  yaml_parser_delete(&p);
  fclose(f);
  return docs;
}

#define CORPUS "../shared/corpus/volcano/example/"

/* Parses document i of a corpus file; returns the job (caller decrefs) and fills s. */
static json_t *corpus_job(const char *file, size_t i, lh_job_spec *s, int *rc, char *err,
                          size_t errlen) {
  json_t *docs = load_yaml_docs(file);
  assert_non_null(docs);
  json_t *job = json_incref(json_array_get(docs, i));
  json_decref(docs);
  assert_non_null(job);
  /* the API server adds these */
  json_object_set_new(json_object_get(job, "metadata"), "namespace", json_string("default"));
  json_object_set_new(json_object_get(job, "metadata"), "uid", json_string("u-1"));
  *rc = lh_job_spec_parse(job, NULL, s, err, errlen);
  return job;
}

/* 1.0 example/job.yaml: plugins, policy, maxRetry, defaults. */
static void t_job_yaml(void **st) {
  (void)st;
  lh_job_spec s;
  int rc;
  char err[256];
  json_t *job = corpus_job(CORPUS "job.yaml", 0, &s, &rc, err, sizeof err);
  assert_int_equal(rc, 0);
  assert_int_equal(lh_job_spec_validate(&s, err, sizeof err), 0);
  assert_string_equal(s.name, "test-job");
  assert_int_equal(s.min_available, 3);
  assert_int_equal(s.max_retry, 5);
  assert_string_equal(s.queue, "default");
  assert_string_equal(s.scheduler, "volcano");
  assert_int_equal(s.plugins, LH_JOB_PLUGIN_ENV | LH_JOB_PLUGIN_SVC | LH_JOB_PLUGIN_SSH);
  assert_int_equal(s.npolicies, 1);
  assert_int_equal(s.policies[0].events, 1u << LH_EV_POD_EVICTED);
  assert_int_equal(s.policies[0].action, LH_ACT_RESTART_JOB);
  assert_int_equal(s.ntasks, 1);
  assert_string_equal(s.tasks[0].name, "default-nginx");
  assert_int_equal(s.tasks[0].replicas, 6);
  assert_int_equal(s.tasks[0].min_available, 6); /* webhook default: replicas */
  assert_int_equal(s.total_replicas, 6);
  assert_string_equal(s.ssh_key_path, "/root/.ssh");
  lh_job_spec_free(&s);
  json_decref(job);
}

/* 1.1 hierarchical-jobs/jobs.yaml: four jobs (a leading empty document), queues by name. */
static void t_hierarchical(void **st) {
  (void)st;
  static const char *const q[] = {"root-eng-prod", "root-eng-dev", "root-sci-prod",
                                  "root-sci-dev"};
  json_t *docs = load_yaml_docs(CORPUS "hierarchical-jobs/jobs.yaml");
  assert_non_null(docs);
  assert_int_equal(json_array_size(docs), 4);
  json_decref(docs);
  for (size_t i = 0; i < 4; i++) {
    lh_job_spec s;
    int rc;
    char err[256];
    json_t *job = corpus_job(CORPUS "hierarchical-jobs/jobs.yaml", i, &s, &rc, err, sizeof err);
    assert_int_equal(rc, 0);
    assert_int_equal(lh_job_spec_validate(&s, err, sizeof err), 0);
    assert_string_equal(s.queue, q[i]);
    assert_int_equal(s.min_available, 1);
    assert_int_equal(s.total_replicas, 6);
    lh_job_spec_free(&s);
    json_decref(job);
  }
}

/* 1.2 task-start-dependency/mpi.yaml: task policies, dependsOn, no maxRetry (default 3). */
static void t_mpi(void **st) {
  (void)st;
  lh_job_spec s;
  int rc;
  char err[256];
  json_t *job = corpus_job(CORPUS "task-start-dependency/mpi.yaml", 0, &s, &rc, err, sizeof err);
  assert_int_equal(rc, 0);
  assert_int_equal(lh_job_spec_validate(&s, err, sizeof err), 0);
  assert_int_equal(s.max_retry, 3);
  assert_int_equal(s.plugins, LH_JOB_PLUGIN_SSH | LH_JOB_PLUGIN_SVC);
  assert_int_equal(s.ntasks, 2);
  assert_string_equal(s.tasks[0].name, "mpimaster");
  assert_int_equal(s.tasks[0].npolicies, 1);
  assert_int_equal(s.tasks[0].policies[0].events, 1u << LH_EV_TASK_COMPLETED);
  assert_int_equal(s.tasks[0].policies[0].action, LH_ACT_COMPLETE_JOB);
  assert_int_equal(s.tasks[0].ndepends, 1);
  assert_string_equal(s.tasks[0].depends_on[0], "mpiworker");
  assert_int_equal(s.tasks[0].depends_any, 0);
  assert_int_equal(s.tasks[1].replicas, 10);
  assert_string_equal(s.queue, "default"); /* no queue: the default */
  lh_job_spec_free(&s);
  json_decref(job);
}

/* 1.3 tensorflow dist-mnist: resources {}, restartPolicy Never, two tasks. */
static void t_tf(void **st) {
  (void)st;
  lh_job_spec s;
  int rc;
  char err[256];
  json_t *job = corpus_job(CORPUS "integrations/tensorflow/dist-mnist/tf-dist-mnist-example.yaml",
                           0, &s, &rc, err, sizeof err);
  assert_int_equal(rc, 0);
  assert_int_equal(lh_job_spec_validate(&s, err, sizeof err), 0);
  assert_int_equal(s.ntasks, 2);
  assert_string_equal(s.tasks[0].name, "ps");
  assert_string_equal(s.tasks[1].name, "worker");
  assert_int_equal(s.tasks[1].policies[0].action, LH_ACT_COMPLETE_JOB);
  assert_int_equal(s.min_available, 3);
  lh_job_spec_free(&s);
  json_decref(job);
}

/* 1.4 invalid_jobs/minAvailable-webhook-deny.yaml: parses, but validation refuses it with the
 * webhook's message (the controller then marks it Failed, reason InvalidJob). */
static void t_invalid(void **st) {
  (void)st;
  lh_job_spec s;
  int rc;
  char err[256];
  json_t *job = corpus_job(CORPUS "invalid_jobs/minAvailable-webhook-deny.yaml", 0, &s, &rc, err,
                           sizeof err);
  assert_int_equal(rc, 0);
  assert_int_equal(lh_job_spec_validate(&s, err, sizeof err), LH_JOBS_EINVALID);
  assert_non_null(strstr(err, "minAvailable' should not be greater than total replicas"));
  lh_job_spec_free(&s);
  json_decref(job);
}

static json_t *jparse(const char *txt) {
  json_error_t e;
  json_t *j = json_loads(txt, 0, &e);
  assert_non_null(j);
  return j;
}

/* 2.0 defaults: task names, minAvailable = sum of task minAvailable, maxRetry 0 -> 3, queue. */
static void t_defaults(void **st) {
  (void)st;
  json_t *j = jparse("{\"metadata\":{\"name\":\"j\"},\"spec\":{\"maxRetry\":0,\"tasks\":["
                     "{\"replicas\":2,\"minAvailable\":1,\"template\":{}},"
                     "{\"replicas\":3,\"template\":{}}]}}");
  lh_job_defaults d = {"lahar", "q0", 7};
  lh_job_spec s;
  char err[128];
  assert_int_equal(lh_job_spec_parse(j, &d, &s, err, sizeof err), 0);
  assert_string_equal(s.tasks[0].name, "default0");
  assert_string_equal(s.tasks[1].name, "default1");
  assert_int_equal(s.min_available, 4);
  assert_int_equal(s.max_retry, 7);
  assert_string_equal(s.queue, "q0");
  assert_string_equal(s.scheduler, "lahar");
  assert_string_equal(s.ns, "default");
  lh_job_spec_free(&s);
  json_decref(j);
}

/* 2.1 malformed input is an error, never a crash. */
static void t_malformed(void **st) {
  (void)st;
  static const char *const bad[] = {
      "[]", "{\"spec\":{}}", "{\"metadata\":{\"name\":\"j\"}}",
      "{\"metadata\":{\"name\":\"j\"},\"spec\":{\"tasks\":{}}}",
      "{\"metadata\":{\"name\":\"j\"},\"spec\":{\"minAvailable\":\"x\",\"tasks\":[]}}",
      "{\"metadata\":{\"name\":\"j\"},\"spec\":{\"tasks\":[{\"replicas\":1}]}}",
      "{\"metadata\":{\"name\":\"j\"},\"spec\":{\"tasks\":[{\"replicas\":1,\"template\":[]}]}}",
      "{\"metadata\":{\"name\":\"j\"},\"spec\":{\"policies\":[1],\"tasks\":[]}}",
      "{\"metadata\":{\"name\":\"j\"},\"spec\":{\"plugins\":[],\"tasks\":[]}}",
      "{\"metadata\":{\"name\":\"j\"},\"spec\":{\"maxRetry\":99999999999,\"tasks\":[]}}",
      /* task replicas summing past INT32_MAX (found by fuzzing: a signed overflow before) */
      "{\"metadata\":{\"name\":\"j\",\"namespace\":\"n\"},\"spec\":{\"tasks\":["
      "{\"replicas\":2147483647,\"template\":{}},{\"replicas\":1,\"template\":{}}]}}"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    json_t *j = jparse(bad[i]);
    lh_job_spec s;
    char err[128];
    assert_int_equal(lh_job_spec_parse(j, NULL, &s, err, sizeof err), LH_JOBS_EPARSE);
    assert_true(err[0] != 0);
    json_decref(j);
  }
}

/* 2.2 validation rules of the webhook. */
static void t_validate(void **st) {
  (void)st;
  static const struct {
    const char *spec;
    const char *want;
  } cases[] = {
      {"\"tasks\":[]", "No task"},
      {"\"tasks\":[{\"name\":\"A\",\"replicas\":1,\"template\":{}}]", "DNS-1123"},
      {"\"tasks\":[{\"name\":\"a\",\"replicas\":1,\"template\":{}},{\"name\":\"a\",\"replicas\":1,"
       "\"template\":{}}]", "duplicated"},
      {"\"tasks\":[{\"name\":\"a\",\"replicas\":1,\"minAvailable\":2,\"template\":{}}]",
       "greater than 'replicas'"},
      {"\"policies\":[{\"event\":\"Nope\",\"action\":\"RestartJob\"}],\"tasks\":[{\"name\":\"a\","
       "\"replicas\":1,\"template\":{}}]", "invalid policy event"},
      {"\"policies\":[{\"event\":\"PodFailed\",\"action\":\"Nope\"}],\"tasks\":[{\"name\":\"a\","
       "\"replicas\":1,\"template\":{}}]", "invalid policy action"},
      {"\"policies\":[{\"exitCode\":0,\"action\":\"AbortJob\"}],\"tasks\":[{\"name\":\"a\","
       "\"replicas\":1,\"template\":{}}]", "0 is not a valid"},
      {"\"policies\":[{\"event\":\"PodFailed\",\"exitCode\":3,\"action\":\"AbortJob\"}],\"tasks\":"
       "[{\"name\":\"a\",\"replicas\":1,\"template\":{}}]", "simultaneously"},
      {"\"plugins\":{\"mpi\":[]},\"tasks\":[{\"name\":\"a\",\"replicas\":1,\"template\":{}}]",
       "plugin"},
      {"\"minSuccess\":3,\"tasks\":[{\"name\":\"a\",\"replicas\":1,\"template\":{}}]",
       "minSuccess"},
      {"\"tasks\":[{\"name\":\"a\",\"replicas\":1,\"template\":{},\"dependsOn\":{\"name\":[\"b\"]}}]",
       "unknown task"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char buf[1024];
    snprintf(buf, sizeof buf, "{\"metadata\":{\"name\":\"j\"},\"spec\":{%s}}", cases[i].spec);
    json_t *j = jparse(buf);
    lh_job_spec s;
    char err[256];
    assert_int_equal(lh_job_spec_parse(j, NULL, &s, err, sizeof err), 0);
    assert_int_equal(lh_job_spec_validate(&s, err, sizeof err), LH_JOBS_EINVALID);
    if (!strstr(err, cases[i].want)) fail_msg("case %zu: %s", i, err);
    lh_job_spec_free(&s);
    json_decref(j);
  }
}

/* 2.3 names round-trip. */
static void t_names(void **st) {
  (void)st;
  for (int p = 0; p < LH_JOB_NPHASES; p++)
    assert_int_equal(lh_job_phase_parse(lh_job_phase_name((lh_job_phase)p)), p);
  assert_int_equal(lh_job_phase_parse(""), LH_JOB_PENDING);
  assert_int_equal(lh_job_phase_parse("Bogus"), -1);
  for (int e = 0; e < LH_EV_NEVENTS; e++)
    assert_int_equal(lh_job_event_parse(lh_job_event_name((lh_job_event)e)), e);
  assert_int_equal(lh_job_event_parse("JobUnknown"), LH_EV_UNKNOWN);
  for (int a = 0; a < LH_ACT_NACTIONS; a++)
    assert_int_equal(lh_job_action_parse(lh_job_action_name((lh_job_action)a)), a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(t_job_yaml),   cmocka_unit_test(t_hierarchical), cmocka_unit_test(t_mpi),
      cmocka_unit_test(t_tf),         cmocka_unit_test(t_invalid),      cmocka_unit_test(t_defaults),
      cmocka_unit_test(t_malformed),  cmocka_unit_test(t_validate),     cmocka_unit_test(t_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
