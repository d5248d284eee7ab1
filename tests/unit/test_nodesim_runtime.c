/* test_nodesim_runtime.c — the simulator's lifecycle without a server: configuration errors are
 * reported by lh_nodesim_start, and a simulator whose server is unreachable starts, times out
 * waiting for registration, and stops cleanly (thread joined, nothing leaked under ASan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "nodesim/nodesim.h"

static lh_kube_config *unreachable(void) {
  lh_kube_config *k = calloc(1, sizeof(*k));
  k->server = strdup("http://127.0.0.1:1");
  k->namespace = strdup("default");
  return k;
}

/* 1.0 bad configurations are refused with a message */
static void start_refuses_bad_config(void **state) {
  (void)state;
  lh_kube_config *k = unreachable();
  lh_nodesim_config c;
  lh_nodesim *s = NULL;
  char err[256];
  lh_nodesim_config_init(&c);
  c.kube = k;
  c.labels = "novalue";
  assert_int_equal(lh_nodesim_start(&c, &s, err, sizeof(err)), LH_ENODESIM_INVAL);
  assert_null(s);
  assert_non_null(strstr(err, "novalue"));
  lh_nodesim_config_init(&c);
  c.kube = k;
  lh_nodesim_pool pool = {"Bad_Name", 1000, 1 << 30, 0, 0};
  c.pools = &pool;
  c.npools = 1;
  assert_int_equal(lh_nodesim_start(&c, &s, err, sizeof(err)), LH_ENODESIM_INVAL);
  assert_non_null(strstr(err, "Bad_Name"));
  lh_nodesim_config_init(&c);
  c.kube = k;
  c.taints = "a=b:Never";
  assert_int_equal(lh_nodesim_start(&c, &s, err, sizeof(err)), LH_ENODESIM_INVAL);
  lh_nodesim_config_init(&c);
  c.kube = k;
  c.cpu_milli = 0;
  assert_int_equal(lh_nodesim_start(&c, &s, err, sizeof(err)), LH_ENODESIM_INVAL);
  lh_kube_config_free(k);
}

/* 1.1 start, time out, stop */
static void start_and_stop_without_server(void **state) {
  (void)state;
  lh_kube_config *k = unreachable();
  lh_nodesim_config c;
  lh_nodesim_config_init(&c);
  c.kube = k;
  c.nodes = 3;
  lh_nodesim_pool pool = {"burst", 8000, 1LL << 34, 0, 0};
  c.pools = &pool;
  c.npools = 1;
  lh_nodesim *s = NULL;
  char err[256] = "";
  assert_int_equal(lh_nodesim_start(&c, &s, err, sizeof(err)), 0);
  lh_kube_config_free(k); /* copied */
  assert_int_equal(lh_nodesim_wait_registered(s, 100), LH_ENODESIM_TIMEOUT);
  lh_nodesim_stats st;
  lh_nodesim_get_stats(s, &st);
  assert_int_equal(st.nodes_registered, 0);
  lh_nodesim_stop(s);
  lh_nodesim_stop(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(start_refuses_bad_config),
      cmocka_unit_test(start_and_stop_without_server),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
