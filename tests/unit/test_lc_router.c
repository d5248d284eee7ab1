/* test_lc_router.c — path routing and query parsing of the local cluster. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "localcluster/router.h"

static void test_discovery_paths(void **st) {
  (void)st;
  lc_route r;
  lc_route_parse("/version", &r); assert_int_equal(r.kind, LC_R_VERSION);
  lc_route_parse("/readyz", &r); assert_int_equal(r.kind, LC_R_HEALTH);
  lc_route_parse("/api", &r); assert_int_equal(r.kind, LC_R_API);
  lc_route_parse("/api/v1", &r); assert_int_equal(r.kind, LC_R_API_V1);
  lc_route_parse("/apis", &r); assert_int_equal(r.kind, LC_R_APIS);
  lc_route_parse("/apis/batch.volcano.sh", &r); assert_int_equal(r.kind, LC_R_GROUP);
  lc_route_parse("/apis/batch.volcano.sh/v1alpha1", &r); assert_int_equal(r.kind, LC_R_GROUP_VERSION);
  assert_string_equal(r.version, "v1alpha1");
  lc_route_parse("/openapi/v2", &r); assert_int_equal(r.kind, LC_R_OPENAPI_V2);
  lc_route_parse("/openapi/v3", &r); assert_int_equal(r.kind, LC_R_OPENAPI_V3);
  lc_route_parse("/nope", &r); assert_int_equal(r.kind, LC_R_NONE);
  lc_route_parse("/api/v2/pods", &r); assert_int_equal(r.kind, LC_R_NONE);
  lc_route_parse("", &r); assert_int_equal(r.kind, LC_R_NONE);
}

static void test_resource_paths(void **st) {
  (void)st;
  lc_route r;
  lc_route_parse("/api/v1/namespaces/ns1/pods/p1/binding", &r);
  assert_int_equal(r.kind, LC_R_RESOURCE);
  assert_string_equal(r.ns, "ns1");
  assert_string_equal(r.resource, "pods");
  assert_string_equal(r.name, "p1");
  assert_string_equal(r.sub, "binding");
  assert_true(r.has_ns);
  lc_route_parse("/api/v1/namespaces/ns1", &r);
  assert_string_equal(r.resource, "namespaces");
  assert_string_equal(r.name, "ns1");
  assert_false(r.has_ns);
  lc_route_parse("/api/v1/namespaces/ns1/finalize", &r);
  assert_string_equal(r.resource, "namespaces");
  assert_string_equal(r.sub, "finalize");
  lc_route_parse("/api/v1/namespaces/ns1/status", &r);
  assert_string_equal(r.name, "ns1");
  assert_string_equal(r.sub, "status");
  lc_route_parse("/apis/scheduling.volcano.sh/v1beta1/queues/q1/status", &r);
  assert_string_equal(r.group, "scheduling.volcano.sh");
  assert_string_equal(r.resource, "queues");
  assert_string_equal(r.name, "q1");
  assert_string_equal(r.sub, "status");
  lc_route_parse("/api/v1/watch/namespaces/a/pods", &r);
  assert_true(r.legacy_watch);
  assert_string_equal(r.resource, "pods");
  lc_route_parse("/api/v1/pods", &r);
  assert_false(r.has_ns);
  assert_string_equal(r.resource, "pods");
  lc_route_parse("/api/v1/namespaces/a/pods/p/log/extra", &r);
  assert_int_equal(r.kind, LC_R_NONE);
  char longp[1200] = "/api/v1/namespaces/";
  memset(longp + strlen(longp), 'a', 600);
  lc_route_parse(longp, &r); /* over-long segment: not routed, no crash */
  assert_int_equal(r.kind, LC_R_NONE);
}

static void test_query(void **st) {
  (void)st;
  lc_query q;
  lc_query_init(&q);
  assert_int_equal(lc_query_parse(&q, "labelSelector=app+in+%28a%2Cb%29&limit=5&watch=true&resourceVersion=12"
                                      "&allowWatchBookmarks=1&timeoutSeconds=30&fieldSelector=spec.nodeName%3D"),
                   0);
  assert_string_equal(q.label_selector, "app in (a,b)");
  assert_int_equal(q.limit, 5);
  assert_true(q.watch);
  assert_true(q.has_rv);
  assert_string_equal(q.resource_version, "12");
  assert_true(q.allow_bookmarks);
  assert_int_equal(q.timeout_seconds, 30);
  assert_string_equal(q.field_selector, "spec.nodeName=");
  lc_query_init(&q);
  assert_int_equal(lc_query_parse(&q, "limit=abc"), -1);
  assert_string_equal(q.bad, "limit");
  lc_query_init(&q);
  assert_int_equal(lc_query_parse(&q, "labelSelector=%zz"), -1);
  lc_query_init(&q);
  assert_int_equal(lc_query_parse(&q, "fieldManager=kubectl&fieldValidation=Strict&pretty"), 0);
  assert_string_equal(q.field_manager, "kubectl");
  char out[8];
  assert_int_equal(lc_url_decode(out, sizeof out, "%41b+c", 6, 1), 4);
  assert_string_equal(out, "Ab c");
  assert_int_equal(lc_url_decode(out, sizeof out, "123456789", 9, 0), -1);
  assert_int_equal(lc_url_decode(out, sizeof out, "%4", 2, 0), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_discovery_paths),
      cmocka_unit_test(test_resource_paths),
      cmocka_unit_test(test_query),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
