/* test_lc_registry.c — built-in kinds, CRD registration, discovery documents, CR schema checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "localcluster/crd_schema.h"
#include "localcluster/registry.h"
#include "localcluster/sim_nodes.h"

static const char *crd_text =
    "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
    "\"metadata\":{\"name\":\"queues.scheduling.volcano.sh\"},\"spec\":{\"group\":\"scheduling.volcano.sh\","
    "\"names\":{\"kind\":\"Queue\",\"plural\":\"queues\",\"singular\":\"queue\",\"shortNames\":[\"q\"]},"
    "\"scope\":\"Cluster\",\"versions\":[{\"name\":\"v1beta1\",\"served\":true,\"storage\":true,"
    "\"subresources\":{\"status\":{}},\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\",\"properties\":{"
    "\"spec\":{\"type\":\"object\",\"properties\":{\"weight\":{\"type\":\"integer\"},\"cap\":{"
    "\"x-kubernetes-int-or-string\":true}}},\"status\":{\"type\":\"object\",\"x-kubernetes-preserve-unknown-fields\":true}}}}},"
    "{\"name\":\"v1alpha1\",\"served\":true,\"storage\":false}]}}";

static void test_builtins(void **unused) {
  (void)unused;
  lc_registry reg;
  assert_int_equal(lc_registry_init(&reg), 0);
  const lc_rtype *t = lc_registry_find(&reg, "", "v1", "pods");
  assert_non_null(t);
  assert_true(t->namespaced);
  assert_string_equal(t->key, "pods");
  assert_true(t->subres & LC_SUB_BINDING);
  t = lc_registry_find(&reg, "coordination.k8s.io", "v1", "leases");
  assert_non_null(t);
  assert_string_equal(t->key, "coordination.k8s.io/leases");
  assert_null(lc_registry_find(&reg, "", "v1", "deployments"));
  assert_non_null(lc_registry_find_kind(&reg, "v1", "Namespace"));
  json_t *d = lc_discovery_resources(&reg, "", "v1");
  assert_non_null(d);
  assert_string_equal(json_string_value(json_object_get(d, "groupVersion")), "v1");
  /* storageVersionHash = base64(sha256("group/version/Kind")[:8]), none on subresources */
  size_t i;
  json_t *r;
  int seen = 0;
  json_array_foreach(json_object_get(d, "resources"), i, r) {
    const char *n = json_string_value(json_object_get(r, "name"));
    const char *h = json_string_value(json_object_get(r, "storageVersionHash"));
    if (!strcmp(n, "pods")) assert_string_equal(h, "xPOwRZ+Yhw8="), seen++;
    if (!strcmp(n, "configmaps")) assert_string_equal(h, "qFsyl6wFWjQ="), seen++;
    if (strchr(n, '/')) assert_null(h);
  }
  assert_int_equal(seen, 2);
  assert_true(lc_registry_serves(&reg, "coordination.k8s.io", "v1"));
  assert_false(lc_registry_serves(&reg, "nope.example.com", "v1"));
  json_decref(d);
  assert_null(lc_discovery_group(&reg, "nope.io"));
  lc_registry_free(&reg);
}

static void test_crd(void **unused) {
  (void)unused;
  lc_registry reg;
  lc_registry_init(&reg);
  json_t *crd = json_loads(crd_text, 0, NULL);
  assert_non_null(crd);
  assert_int_equal(lc_registry_crd_add(&reg, crd), 0);
  const lc_rtype *t = lc_registry_find(&reg, "scheduling.volcano.sh", "v1beta1", "queues");
  assert_non_null(t);
  assert_false(t->namespaced);
  assert_true(t->is_cr);
  assert_true(t->subres & LC_SUB_STATUS);
  assert_string_equal(t->key, "scheduling.volcano.sh/queues");
  assert_non_null(lc_registry_find(&reg, "scheduling.volcano.sh", "v1alpha1", "queues"));
  json_t *g = lc_discovery_group(&reg, "scheduling.volcano.sh");
  assert_string_equal(json_string_value(json_object_get(json_object_get(g, "preferredVersion"), "version")), "v1beta1");
  json_decref(g);
  json_t *rl = lc_discovery_resources(&reg, "scheduling.volcano.sh", "v1beta1");
  json_t *r0 = json_array_get(json_object_get(rl, "resources"), 0);
  assert_string_equal(json_string_value(json_object_get(r0, "name")), "queues");
  assert_string_equal(json_string_value(json_object_get(r0, "storageVersionHash")), "Xss8xwFDxtc=");
  assert_string_equal(json_string_value(json_array_get(json_object_get(r0, "shortNames"), 0)), "q");
  assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(rl, "resources"), 1), "name")),
                      "queues/status");
  json_decref(rl);
  /* schema: type check, int-or-string, pruning */
  json_t *ok = json_loads("{\"apiVersion\":\"scheduling.volcano.sh/v1beta1\",\"kind\":\"Queue\",\"metadata\":{\"name\":"
                          "\"q\"},\"spec\":{\"weight\":1,\"cap\":\"5\",\"junk\":1},\"extra\":true}", 0, NULL);
  assert_null(lc_crd_validate(t, ok));
  assert_null(json_object_get(json_object_get(ok, "spec"), "junk"));
  assert_null(json_object_get(ok, "extra"));
  assert_non_null(json_object_get(ok, "metadata"));
  json_decref(ok);
  json_t *bad = json_loads("{\"metadata\":{\"name\":\"q\"},\"spec\":{\"weight\":\"x\"}}", 0, NULL);
  json_t *st = lc_crd_validate(t, bad);
  assert_non_null(st);
  assert_int_equal(json_integer_value(json_object_get(st, "code")), 422);
  assert_non_null(strstr(json_string_value(json_object_get(st, "message")),
                         "spec.weight in body must be of type integer: \"string\""));
  json_decref(st);
  json_decref(bad);
  /* the type error names the value's type, as kube-openapi does */
  bad = json_loads("{\"metadata\":{\"name\":\"q\"},\"spec\":{\"weight\":\"x\"}}", 0, NULL);
  st = lc_crd_validate(t, bad);
  assert_string_equal(json_string_value(json_object_get(st, "message")),
                      "Queue.scheduling.volcano.sh \"q\" is invalid: spec.weight: Invalid value: \"string\": "
                      "spec.weight in body must be of type integer: \"string\"");
  json_decref(st);
  json_decref(bad);
  /* defaults, minimum, maximum, enum, maxLength, pattern */
  lc_rtype lim;
  memcpy(&lim, t, sizeof lim);
  lim.schema = json_loads("{\"type\":\"object\",\"properties\":{\"spec\":{\"type\":\"object\",\"default\":{},"
                          "\"properties\":{\"weight\":{\"type\":\"integer\",\"default\":1,\"minimum\":1,\"maximum\":9},"
                          "\"mode\":{\"type\":\"string\",\"enum\":[\"a\",\"b\"]},\"tag\":{\"type\":\"string\","
                          "\"maxLength\":3,\"pattern\":\"^[a-z]+$\"}}}}}", 0, NULL);
  assert_non_null(lim.schema);
  json_t *o = json_loads("{\"metadata\":{\"name\":\"q\"}}", 0, NULL);
  lc_crd_default(&lim, o);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "spec"), "weight")), 1);
  assert_null(lc_crd_validate(&lim, o));
  json_decref(o);
  static const struct { const char *spec, *msg; } V[] = {
      {"{\"weight\":0}", "spec.weight: Invalid value: 0: spec.weight in body should be greater than or equal to 1"},
      {"{\"weight\":10}", "spec.weight: Invalid value: 10: spec.weight in body should be less than or equal to 9"},
      {"{\"mode\":\"c\"}", "spec.mode: Unsupported value: \"c\": supported values: \"a\", \"b\""},
      {"{\"tag\":\"abcd\"}", "spec.tag: Too long: must have at most 3 bytes"},
      {"{\"tag\":\"A\"}", "spec.tag: Invalid value: \"A\": spec.tag in body should match '^[a-z]+$'"},
  };
  for (size_t k = 0; k < sizeof V / sizeof V[0]; k++) {
    char doc[200];
    snprintf(doc, sizeof doc, "{\"metadata\":{\"name\":\"q\"},\"spec\":%s}", V[k].spec);
    o = json_loads(doc, 0, NULL);
    st = lc_crd_validate(&lim, o);
    if (!st || !strstr(json_string_value(json_object_get(st, "message")), V[k].msg))
      fail_msg("%s: %s", V[k].spec, st ? json_string_value(json_object_get(st, "message")) : "valid");
    json_decref(st);
    json_decref(o);
  }
  json_decref(lim.schema);
  /* a second CRD claiming the same plural.group is refused; removal unserves */
  json_t *dup = json_deep_copy(crd);
  json_object_set_new(json_object_get(dup, "metadata"), "name", json_string("other"));
  assert_int_not_equal(lc_registry_crd_add(&reg, dup), 0);
  json_decref(dup);
  lc_registry_crd_remove(&reg, "queues.scheduling.volcano.sh");
  assert_null(lc_registry_find(&reg, "scheduling.volcano.sh", "v1beta1", "queues"));
  /* malformed CRDs */
  char f[64], m[256];
  json_object_set_new(json_object_get(crd, "spec"), "scope", json_string("Galaxy"));
  assert_int_equal(lc_registry_crd_check(crd, f, sizeof f, m, sizeof m), -1);
  assert_string_equal(f, "spec.scope");
  json_decref(crd);
  lc_registry_free(&reg);
}

static void test_versions_and_quantities(void **unused) {
  (void)unused;
  assert_true(lc_version_cmp("v1", "v1beta1") < 0);
  assert_true(lc_version_cmp("v1beta2", "v1beta1") < 0);
  assert_true(lc_version_cmp("v1beta1", "v1alpha1") < 0);
  assert_true(lc_version_cmp("v2", "v1") < 0);
  assert_true(lc_version_cmp("v1alpha1", "foo") < 0);
  assert_int_equal(lc_quantity_check("8"), 0);
  assert_int_equal(lc_quantity_check("500m"), 0);
  assert_int_equal(lc_quantity_check("32Gi"), 0);
  assert_int_equal(lc_quantity_check("1.5"), 0);
  assert_int_equal(lc_quantity_check("1e3"), 0);
  assert_int_equal(lc_quantity_check("lots"), -1);
  assert_int_equal(lc_quantity_check("5Xi"), -1);
  assert_int_equal(lc_quantity_check(""), -1);
  char err[256];
  lc_sim_nodes_opts o = {.n = 2, .labels = "a=b,bad key=x"};
  assert_int_equal(lc_sim_nodes_check(&o, err, sizeof err), -1);
  o.labels = "pool=a,example.com/zone=z1";
  assert_int_equal(lc_sim_nodes_check(&o, err, sizeof err), 0);
  o.n = -1;
  assert_int_equal(lc_sim_nodes_check(&o, err, sizeof err), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_builtins), cmocka_unit_test(test_crd),
                                     cmocka_unit_test(test_versions_and_quantities)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
