/* test_ctl_args.c — lahar-controller flag parsing and validation (core/args.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "core/args.h"
#include "util/log.h"

static int parse(lh_ctl_opts *o, char *err, int n, ...) {
  char *argv[32] = {"lahar-controller"};
  va_list ap;
  va_start(ap, n);
  for (int i = 0; i < n; i++) argv[i + 1] = va_arg(ap, char *);
  va_end(ap);
  lh_ctl_opts_init(o);
  return lh_ctl_parse_args(n + 1, argv, o, err, 256);
}

static void t_defaults(void **s) {
  (void)s;
  lh_ctl_opts o;
  char err[256];
  assert_int_equal(parse(&o, err, 0), 0);
  assert_string_equal(o.scheduler_name, "lahar");
  assert_null(o.kubeconfig);
  assert_int_equal(o.le_lease_ms, 15000);
  assert_int_equal(o.le_renew_ms, 10000);
  assert_int_equal(o.le_retry_ms, 2000);
  assert_int_equal(o.leader_elect, 0);
}

static void t_values(void **s) {
  (void)s;
  lh_ctl_opts o;
  char err[256];
  assert_int_equal(parse(&o, err, 11, "--kubeconfig", "/k", "--scheduler-name=volc", "--leader-elect",
                         "--leader-elect-namespace", "lahar-system", "--leader-elect-lease-duration", "1m",
                         "--metrics-listen", "127.0.0.1:8080", "--log-level=debug"),
                   0);
  assert_string_equal(o.kubeconfig, "/k");
  assert_string_equal(o.scheduler_name, "volc");
  assert_int_equal(o.leader_elect, 1);
  assert_string_equal(o.le_namespace, "lahar-system");
  assert_int_equal(o.le_lease_ms, 60000);
  assert_string_equal(o.metrics_listen, "127.0.0.1:8080");
  assert_int_equal(o.log_level, LH_LOG_DEBUG);
  assert_int_equal(parse(&o, err, 1, "--help"), LH_ARGS_HELP);
}

static void t_errors(void **s) {
  (void)s;
  lh_ctl_opts o;
  char err[256];
  assert_int_equal(parse(&o, err, 1, "--nope"), LH_EKUBE_INVAL);
  assert_non_null(strstr(err, "--nope"));
  assert_int_equal(parse(&o, err, 1, "--kubeconfig"), LH_EKUBE_INVAL);
  assert_non_null(strstr(err, "needs a value"));
  assert_int_equal(parse(&o, err, 2, "--metrics-listen", "nohost"), LH_EKUBE_INVAL);
  assert_int_equal(parse(&o, err, 2, "--metrics-listen", "1.2.3.4:70000"), LH_EKUBE_INVAL);
  assert_int_equal(parse(&o, err, 2, "--api-listen", ":0"), LH_EKUBE_INVAL);
  assert_int_equal(parse(&o, err, 2, "--log-level", "loud"), LH_EKUBE_INVAL);
  assert_int_equal(parse(&o, err, 2, "--leader-elect-retry-period", "2x"), LH_EKUBE_INVAL);
  assert_int_equal(parse(&o, err, 1, "stray"), LH_EKUBE_INVAL);
  assert_int_equal(parse(&o, err, 1, "--leader-elect=maybe"), LH_EKUBE_INVAL);
  /* lease timing rules */
  assert_int_equal(parse(&o, err, 3, "--leader-elect", "--leader-elect-lease-duration", "10s"), LH_EKUBE_INVAL);
  assert_non_null(strstr(err, "lease-duration"));
  assert_int_equal(parse(&o, err, 3, "--leader-elect", "--leader-elect-retry-period", "9s"), LH_EKUBE_INVAL);
  assert_int_equal(parse(&o, err, 3, "--leader-elect", "--leader-elect-namespace", "Bad_NS"), LH_EKUBE_INVAL);
  assert_int_equal(parse(&o, err, 2, "--scheduler-name", "UPPER"), LH_EKUBE_INVAL);
  assert_int_equal(parse(&o, err, 4, "--metrics-listen", ":9000", "--api-listen", ":9000"), LH_EKUBE_INVAL);
}

static void t_duration_listen(void **s) {
  (void)s;
  long ms;
  assert_int_equal(lh_ctl_parse_duration("1m30s", &ms), 0);
  assert_int_equal(ms, 90000);
  assert_int_equal(lh_ctl_parse_duration("500ms", &ms), 0);
  assert_int_equal(ms, 500);
  assert_int_equal(lh_ctl_parse_duration("15", &ms), 0);
  assert_int_equal(ms, 15000);
  assert_int_equal(lh_ctl_parse_duration("", &ms), LH_EKUBE_INVAL);
  assert_int_equal(lh_ctl_parse_duration("-1s", &ms), LH_EKUBE_INVAL);
  assert_int_equal(lh_ctl_parse_duration("1m30", &ms), LH_EKUBE_INVAL);
  char host[64];
  int port;
  assert_int_equal(lh_ctl_parse_listen("[::1]:8443", host, sizeof(host), &port), 0);
  assert_string_equal(host, "::1");
  assert_int_equal(port, 8443);
  assert_int_equal(lh_ctl_parse_listen(":9090", host, sizeof(host), &port), 0);
  assert_string_equal(host, "");
  assert_int_equal(lh_ctl_parse_listen("::1:80", host, sizeof(host), &port), LH_EKUBE_INVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(t_defaults), cmocka_unit_test(t_values),
                                     cmocka_unit_test(t_errors), cmocka_unit_test(t_duration_listen)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
