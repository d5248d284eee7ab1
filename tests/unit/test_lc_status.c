/* test_lc_status.c — metav1.Status bodies match the recorded 1.20 shapes; kubeconfig output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "localcluster/kubeconfig_out.h"
#include "localcluster/status.h"

static void check(json_t *st, const char *expect) {
  char *s = lc_status_dump(st);
  assert_non_null(s);
  assert_string_equal(s, expect);
  free(s);
  json_decref(st);
}

static void test_shapes(void **unused) {
  (void)unused;
  check(lc_status_not_found("pods", "", "nope"),
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"pods "
        "\\\"nope\\\" not found\",\"reason\":\"NotFound\",\"details\":{\"name\":\"nope\",\"kind\":\"pods\"},\"code\":404}");
  check(lc_status_path_not_found(),
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"the server "
        "could not find the requested resource\",\"reason\":\"NotFound\",\"details\":{},\"code\":404}");
  check(lc_status_unsupported_media(),
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"415: "
        "Unsupported Media Type\",\"reason\":\"UnsupportedMediaType\",\"details\":{},\"code\":415}");
  check(lc_status_already_exists("queues", "scheduling.volcano.sh", "q"),
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"queues."
        "scheduling.volcano.sh \\\"q\\\" already exists\",\"reason\":\"AlreadyExists\",\"details\":{\"name\":\"q\","
        "\"group\":\"scheduling.volcano.sh\",\"kind\":\"queues\"},\"code\":409}");
  check(lc_status_invalid("Pod", "", "bad", "spec.containers", "FieldValueRequired", "Required value"),
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"Pod "
        "\\\"bad\\\" is invalid: spec.containers: Required value\",\"reason\":\"Invalid\",\"details\":{\"name\":"
        "\"bad\",\"kind\":\"Pod\",\"causes\":[{\"reason\":\"FieldValueRequired\",\"message\":\"Required value\","
        "\"field\":\"spec.containers\"}]},\"code\":422}");
  check(lc_status_success(201, NULL, NULL, NULL),
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Success\",\"code\":201}");
  json_t *c = lc_status_conflict("pods", "", "demo", NULL);
  assert_non_null(strstr(json_string_value(json_object_get(c, "message")), "the object has been modified"));
  json_decref(c);
  json_t *b = lc_status_bad_request("x");
  lc_status_add_cause(b, "r", "m", "f"); /* details added before code */
  check(b, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"x\","
           "\"reason\":\"BadRequest\",\"details\":{\"causes\":[{\"reason\":\"r\",\"message\":\"m\",\"field\":\"f\"}]},"
           "\"code\":400}");
}

static void test_kubeconfig(void **unused) {
  (void)unused;
  char *k = lc_kubeconfig_render("lahar-local", "127.0.0.1", 6443, NULL);
  assert_non_null(strstr(k, "server: http://127.0.0.1:6443\n"));
  assert_non_null(strstr(k, "current-context: lahar-local\n"));
  assert_null(strstr(k, "certificate-authority"));
  free(k);
  k = lc_kubeconfig_render("c", "127.0.0.1", 1, "/tmp/ca.pem");
  assert_non_null(strstr(k, "server: https://127.0.0.1:1\n"));
  assert_non_null(strstr(k, "certificate-authority: \"/tmp/ca.pem\""));
  free(k);
  char err[256];
  assert_int_equal(lc_kubeconfig_write("/nonexistent-dir/x", "c", "h", 1, NULL, err, sizeof err), -1);
  assert_non_null(strstr(err, "cannot write"));
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_shapes), cmocka_unit_test(test_kubeconfig)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
