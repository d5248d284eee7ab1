/* test_lc_table.c — server-side printing (hack/localcluster/table.c): Accept negotiation,
 * HumanDuration, the JSONPath subset, column definitions, and rows of pods, nodes, services,
 * configmaps, secrets, quotas, events and custom resources (additionalPrinterColumns). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "localcluster/registry.h"
#include "localcluster/table.h"

static const char kubectl_accept[] =
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

static void test_accept(void **unused) {
  (void)unused;
  assert_int_equal(lc_table_accept(kubectl_accept), 1);
  assert_int_equal(lc_table_accept("application/json;as=Table;v=v1beta1;g=meta.k8s.io, application/json"), 2);
  assert_int_equal(lc_table_accept("application/json"), 0);
  assert_int_equal(lc_table_accept(""), 0);
  assert_int_equal(lc_table_accept(NULL), 0);
  assert_int_equal(lc_table_accept("application/vnd.kubernetes.protobuf,application/json"), 0);
  /* protobuf Table first: lahar does not produce protobuf, the JSON Table is next */
  assert_int_equal(lc_table_accept("application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,"
                                   "application/json;as=Table;v=v1;g=meta.k8s.io"),
                   1);
  /* plain JSON listed first wins */
  assert_int_equal(lc_table_accept("application/json, application/json;as=Table;v=v1;g=meta.k8s.io"), 0);
  assert_int_equal(lc_table_accept("application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json"), 0);
  assert_int_equal(lc_table_accept("application/json;as=Table;v=v2;g=meta.k8s.io"), 0);
  assert_int_equal(lc_table_include_parse(""), LC_INCLUDE_METADATA);
  assert_int_equal(lc_table_include_parse("Object"), LC_INCLUDE_OBJECT);
  assert_int_equal(lc_table_include_parse("None"), LC_INCLUDE_NONE);
  assert_int_equal(lc_table_include_parse("bogus"), -1);
}

static void dur(long long s, const char *want) {
  char b[32];
  lc_human_duration(s, b, sizeof b);
  assert_string_equal(b, want);
}

static void test_duration(void **unused) {
  (void)unused;
  dur(-5, "<invalid>");
  dur(-1, "0s");
  dur(0, "0s");
  dur(119, "119s");
  dur(120, "2m");
  dur(125, "2m5s");
  dur(600, "10m");
  dur(179 * 60, "179m");
  dur(3 * 3600, "3h");
  dur(3 * 3600 + 5 * 60, "3h5m");
  dur(8 * 3600 + 60, "8h");
  dur(49 * 3600, "2d1h");
  dur(10 * 86400, "10d");
  dur(800LL * 86400, "2y70d");
  dur(9LL * 365 * 86400, "9y");
  char b[32];
  lc_table_age(NULL, 1000, b, sizeof b);
  assert_string_equal(b, "<unknown>");
  lc_table_age("garbage", 1000, b, sizeof b);
  assert_string_equal(b, "<invalid>");
  time_t t = lc_parse_rfc3339("2024-01-01T00:00:00Z");
  assert_int_equal((long long)t, 1704067200LL);
  assert_int_equal((long long)lc_parse_rfc3339("2024-01-01T01:00:00.5+01:00"), 1704067200LL);
  assert_int_equal((long long)lc_parse_rfc3339("2024-01-01T00:00:00"), -1);
  lc_table_age("2024-01-01T00:00:00Z", t + 90, b, sizeof b);
  assert_string_equal(b, "90s");
}

static void test_jsonpath(void **unused) {
  (void)unused;
  json_t *o = json_loads("{\"a\":{\"b\":1,\"l\":[{\"x\":\"first\"},{\"y\":2},{\"x\":\"third\"}]},"
                         "\"m\":{\"x.y\":\"dotted\"},\"s\":\"str\"}",
                         0, NULL);
  assert_int_equal(json_integer_value(lc_jsonpath_first(o, ".a.b")), 1);
  assert_int_equal(json_integer_value(lc_jsonpath_first(o, "{.a.b}")), 1);
  assert_string_equal(json_string_value(lc_jsonpath_first(o, ".a.l[0].x")), "first");
  assert_int_equal(json_integer_value(lc_jsonpath_first(o, ".a.l[*].y")), 2);
  assert_string_equal(json_string_value(lc_jsonpath_first(o, ".a.l[*].x")), "first");
  assert_string_equal(json_string_value(lc_jsonpath_first(o, ".a.l[-1].x")), "third");
  assert_string_equal(json_string_value(lc_jsonpath_first(o, ".m['x.y']")), "dotted");
  assert_null(lc_jsonpath_first(o, ".a.l[5].x"));
  assert_null(lc_jsonpath_first(o, ".a.missing"));
  assert_null(lc_jsonpath_first(o, ".s.x"));
  assert_null(lc_jsonpath_first(o, ".a.l[x]"));
  assert_null(lc_jsonpath_first(o, ".a.l[0"));
  assert_null(lc_jsonpath_first(o, NULL));
  json_decref(o);
}

static json_t *row_of(const lc_rtype *t, const char *obj, time_t now) {
  json_t *o = json_loads(obj, 0, NULL);
  assert_non_null(o);
  json_t *r = lc_table_row(t, o, LC_INCLUDE_METADATA, now);
  assert_non_null(r);
  json_decref(o);
  return r;
}

static void cells_are(json_t *row, const char *want) {
  char *s = json_dumps(json_object_get(row, "cells"), JSON_COMPACT);
  if (strcmp(s, want)) fail_msg("cells %s\nwant  %s", s, want);
  free(s);
}

static void test_builtin_rows(void **unused) {
  (void)unused;
  lc_registry reg;
  assert_int_equal(lc_registry_init(&reg), 0);
  time_t now = lc_parse_rfc3339("2024-01-01T00:10:00Z");
  const lc_rtype *pods = lc_registry_find(&reg, "", "v1", "pods");
  json_t *cols = lc_table_columns(pods);
  assert_int_equal(json_array_size(cols), 9);
  assert_string_equal(json_string_value(json_object_get(json_array_get(cols, 0), "name")), "Name");
  assert_string_equal(json_string_value(json_object_get(json_array_get(cols, 0), "format")), "name");
  assert_string_equal(json_string_value(json_object_get(json_array_get(cols, 3), "type")), "integer");
  assert_int_equal(json_integer_value(json_object_get(json_array_get(cols, 5), "priority")), 1);
  assert_string_equal(json_string_value(json_object_get(json_array_get(cols, 6), "name")), "Node");
  json_decref(cols);

  json_t *r = row_of(pods,
                     "{\"metadata\":{\"name\":\"p\",\"creationTimestamp\":\"2024-01-01T00:00:00Z\",\"uid\":\"u\"},"
                     "\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]},"
                     "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.5\",\"containerStatuses\":["
                     "{\"name\":\"a\",\"ready\":true,\"restartCount\":2,\"state\":{\"running\":{}}},"
                     "{\"name\":\"b\",\"ready\":false,\"restartCount\":1,\"state\":{\"waiting\":{\"reason\":"
                     "\"CrashLoopBackOff\"}}}]}}",
                     now);
  cells_are(r, "[\"p\",\"1/2\",\"CrashLoopBackOff\",3,\"10m\",\"10.0.0.5\",\"n1\",\"<none>\",\"<none>\"]");
  json_t *obj = json_object_get(r, "object");
  assert_string_equal(json_string_value(json_object_get(obj, "kind")), "PartialObjectMetadata");
  assert_string_equal(json_string_value(json_object_get(obj, "apiVersion")), "meta.k8s.io/v1");
  assert_string_equal(json_string_value(json_object_get(json_object_get(obj, "metadata"), "uid")), "u");
  json_decref(r);
  r = row_of(pods,
             "{\"metadata\":{\"name\":\"p\",\"deletionTimestamp\":\"2024-01-01T00:00:00Z\"},\"spec\":{\"containers\":[{}],"
             "\"readinessGates\":[{\"conditionType\":\"x\"}]},\"status\":{\"phase\":\"Pending\",\"initContainerStatuses\":"
             "[{\"state\":{\"waiting\":{\"reason\":\"PodInitializing\"}}}],\"conditions\":[{\"type\":\"x\",\"status\":\"True\"}]}}",
             now);
  cells_are(r, "[\"p\",\"0/1\",\"Terminating\",0,\"<unknown>\",\"<none>\",\"<none>\",\"<none>\",\"1/1\"]");
  json_decref(r);
  r = row_of(pods, "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{}]},\"status\":{\"phase\":\"Succeeded\"}}", now);
  assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r, "conditions"), 0), "type")),
                      "Completed");
  json_decref(r);

  const lc_rtype *nodes = lc_registry_find(&reg, "", "v1", "nodes");
  r = row_of(nodes,
             "{\"metadata\":{\"name\":\"n1\",\"labels\":{\"node-role.kubernetes.io/master\":\"\",\"kubernetes.io/role\":"
             "\"gpu\"}},\"spec\":{\"unschedulable\":true},\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":"
             "\"True\"}],\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"10.1.1.1\"}],\"nodeInfo\":{"
             "\"kubeletVersion\":\"v1.20.2\",\"osImage\":\"Debian\",\"containerRuntimeVersion\":\"cri://1\"}}}",
             now);
  cells_are(r, "[\"n1\",\"Ready,SchedulingDisabled\",\"gpu,master\",\"<unknown>\",\"v1.20.2\",\"10.1.1.1\",\"<none>\","
               "\"Debian\",\"<unknown>\",\"cri://1\"]");
  json_decref(r);

  const lc_rtype *svc = lc_registry_find(&reg, "", "v1", "services");
  r = row_of(svc,
             "{\"metadata\":{\"name\":\"s\"},\"spec\":{\"type\":\"NodePort\",\"clusterIP\":\"10.96.0.3\",\"ports\":["
             "{\"port\":80,\"protocol\":\"TCP\"},{\"port\":443,\"nodePort\":30443,\"protocol\":\"TCP\"}],"
             "\"selector\":{\"b\":\"2\",\"a\":\"1\"}}}",
             now);
  cells_are(r, "[\"s\",\"NodePort\",\"10.96.0.3\",\"<none>\",\"80/TCP,443:30443/TCP\",\"<unknown>\",\"a=1,b=2\"]");
  json_decref(r);
  r = row_of(svc, "{\"metadata\":{\"name\":\"lb\"},\"spec\":{\"type\":\"LoadBalancer\"}}", now);
  cells_are(r, "[\"lb\",\"LoadBalancer\",\"<none>\",\"<pending>\",\"<none>\",\"<unknown>\",\"<none>\"]");
  json_decref(r);

  r = row_of(lc_registry_find(&reg, "", "v1", "configmaps"),
             "{\"metadata\":{\"name\":\"c\",\"creationTimestamp\":\"2024-01-01T00:09:00Z\"},\"data\":{\"a\":\"1\"},"
             "\"binaryData\":{\"b\":\"AA==\"}}",
             now);
  cells_are(r, "[\"c\",2,\"60s\"]");
  json_decref(r);
  r = row_of(lc_registry_find(&reg, "", "v1", "secrets"),
             "{\"metadata\":{\"name\":\"s\"},\"type\":\"Opaque\",\"data\":{\"a\":\"YQ==\"}}", now);
  cells_are(r, "[\"s\",\"Opaque\",1,\"<unknown>\"]");
  json_decref(r);
  r = row_of(lc_registry_find(&reg, "", "v1", "namespaces"), "{\"metadata\":{\"name\":\"n\"},\"status\":{\"phase\":\"Active\"}}",
             now);
  cells_are(r, "[\"n\",\"Active\",\"<unknown>\"]");
  json_decref(r);
  r = row_of(lc_registry_find(&reg, "", "v1", "resourcequotas"),
             "{\"metadata\":{\"name\":\"q\"},\"spec\":{\"hard\":{\"pods\":\"10\",\"cpu\":\"1\",\"limits.cpu\":\"2\"}},"
             "\"status\":{\"used\":{\"cpu\":\"500m\"}}}",
             now);
  cells_are(r, "[\"q\",\"<unknown>\",\"cpu: 500m/1, pods: 0/10\",\"limits.cpu: 0/2\"]");
  json_decref(r);
  r = row_of(lc_registry_find(&reg, "", "v1", "events"),
             "{\"metadata\":{\"name\":\"e\"},\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"p\"},\"reason\":\"Started\","
             "\"message\":\" hi \\n\",\"type\":\"Normal\",\"count\":3,\"source\":{\"component\":\"kubelet\",\"host\":\"n1\"},"
             "\"lastTimestamp\":\"2024-01-01T00:09:30Z\"}",
             now);
  cells_are(r, "[\"30s\",\"Normal\",\"Started\",\"pod/p\",\"\",\"kubelet, n1\",\"hi\",\"<unknown>\",3,\"e\"]");
  json_decref(r);
  r = row_of(lc_registry_find(&reg, "coordination.k8s.io", "v1", "leases"), "{\"metadata\":{\"name\":\"l\"},\"spec\":{}}", now);
  cells_are(r, "[\"l\",\"<none>\",\"<unknown>\"]");
  json_decref(r);
  const lc_rtype *crd = lc_registry_find(&reg, "apiextensions.k8s.io", "v1", "customresourcedefinitions");
  cols = lc_table_columns(crd);
  assert_string_equal(json_string_value(json_object_get(json_array_get(cols, 1), "name")), "Created At");
  json_decref(cols);
  r = row_of(crd, "{\"metadata\":{\"name\":\"x.y\",\"creationTimestamp\":\"2024-01-01T00:00:00Z\"}}", now);
  cells_are(r, "[\"x.y\",\"2024-01-01T00:00:00Z\"]");
  json_decref(r);
  lc_registry_free(&reg);
}

static void test_custom_resource(void **unused) {
  (void)unused;
  lc_registry reg;
  assert_int_equal(lc_registry_init(&reg), 0);
  json_t *crd = json_loads(
      "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\",\"metadata\":{\"name\":"
      "\"jobs.batch.volcano.sh\"},\"spec\":{\"group\":\"batch.volcano.sh\",\"scope\":\"Namespaced\",\"names\":{"
      "\"plural\":\"jobs\",\"kind\":\"Job\"},\"versions\":[{\"name\":\"v1alpha1\",\"served\":true,\"storage\":true,"
      "\"additionalPrinterColumns\":[{\"name\":\"STATUS\",\"type\":\"string\",\"jsonPath\":\".status.state.phase\"},"
      "{\"name\":\"RUNNINGS\",\"type\":\"integer\",\"jsonPath\":\".status.running\"},"
      "{\"name\":\"OK\",\"type\":\"boolean\",\"jsonPath\":\".status.ok\"},"
      "{\"name\":\"RATIO\",\"type\":\"number\",\"jsonPath\":\".status.ratio\"},"
      "{\"name\":\"TASKS\",\"type\":\"string\",\"jsonPath\":\".spec.tasks[*].name\"},"
      "{\"name\":\"MAP\",\"type\":\"string\",\"jsonPath\":\".spec.plugins\"},"
      "{\"name\":\"AGE\",\"type\":\"date\",\"jsonPath\":\".metadata.creationTimestamp\"},"
      "{\"name\":\"QUEUE\",\"type\":\"string\",\"jsonPath\":\".spec.queue\",\"priority\":1,\"description\":\"the queue\"}]},"
      "{\"name\":\"v1beta1\",\"served\":true,\"storage\":false}]}}",
      0, NULL);
  assert_int_equal(lc_registry_crd_add(&reg, crd), 0);
  json_decref(crd);
  const lc_rtype *t = lc_registry_find(&reg, "batch.volcano.sh", "v1alpha1", "jobs");
  assert_non_null(t);
  json_t *cols = lc_table_columns(t);
  assert_int_equal(json_array_size(cols), 9);
  json_t *q = json_array_get(cols, 8);
  assert_string_equal(json_string_value(json_object_get(q, "name")), "QUEUE");
  assert_int_equal(json_integer_value(json_object_get(q, "priority")), 1);
  assert_string_equal(json_string_value(json_object_get(q, "description")), "the queue");
  assert_string_equal(json_string_value(json_object_get(json_array_get(cols, 1), "description")),
                      "Custom resource definition column (in JSONPath format): .status.state.phase");
  json_decref(cols);
  time_t now = lc_parse_rfc3339("2024-01-01T01:00:00Z");
  json_t *r = row_of(t,
                     "{\"metadata\":{\"name\":\"j\",\"creationTimestamp\":\"2024-01-01T00:00:00Z\"},\"spec\":{\"queue\":"
                     "\"default\",\"tasks\":[{\"replicas\":1},{\"name\":\"w\"}],\"plugins\":{\"ssh\":[]}},"
                     "\"status\":{\"state\":{\"phase\":\"Running\"},\"running\":2.0,\"ok\":true,\"ratio\":1}}",
                     now);
  cells_are(r, "[\"j\",\"Running\",2,true,1.0,\"w\",\"{\\\"ssh\\\":[]}\",\"60m\",\"default\"]");
  json_decref(r);
  r = row_of(t, "{\"metadata\":{\"name\":\"k\"},\"status\":{\"running\":\"x\"}}", now);
  cells_are(r, "[\"k\",null,null,null,null,null,null,null,null]");
  json_decref(r);
  /* a version without columns: Name + Age */
  t = lc_registry_find(&reg, "batch.volcano.sh", "v1beta1", "jobs");
  cols = lc_table_columns(t);
  assert_int_equal(json_array_size(cols), 2);
  assert_string_equal(json_string_value(json_object_get(json_array_get(cols, 1), "type")), "date");
  json_decref(cols);
  /* tables */
  json_t *tb = lc_table_new(t, 2, 0);
  assert_string_equal(json_string_value(json_object_get(tb, "apiVersion")), "meta.k8s.io/v1beta1");
  assert_true(json_is_null(json_object_get(tb, "columnDefinitions")));
  assert_int_equal(json_array_size(json_object_get(tb, "rows")), 0);
  json_decref(tb);
  json_t *o = json_loads("{\"metadata\":{\"name\":\"z\"}}", 0, NULL);
  r = lc_table_row(t, o, LC_INCLUDE_OBJECT, now);
  assert_ptr_equal(json_object_get(r, "object"), o);
  json_decref(r);
  r = lc_table_row(t, o, LC_INCLUDE_NONE, now);
  assert_true(json_is_null(json_object_get(r, "object")));
  json_decref(r);
  json_decref(o);
  lc_registry_free(&reg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_accept),       cmocka_unit_test(test_duration),
      cmocka_unit_test(test_jsonpath),     cmocka_unit_test(test_builtin_rows),
      cmocka_unit_test(test_custom_resource),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
