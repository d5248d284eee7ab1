/* test_sched_fairshare.c — proportion: weighted water-filling, guarantee, capability cap,
 * request cap, hierarchical queues (scheduler/fairshare.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "scheduler/testkit.h"

/* one dedicated cluster of 10 nodes x 10 cpu = 100 cpu; each queue gets one pending group
 * whose minResources (= its request) is req cpu */
static lh_snapshot *base(void) {
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 10, tk_res(10000, 0, 0), 110);
  return s;
}

static void add_demand(lh_snapshot *s, const char *q, int64_t cpu_m) {
  char name[32];
  snprintf(name, sizeof name, "g-%s", q);
  lh_group_spec g;
  lh_group_spec_init(&g);
  g.name = name;
  g.uid = name;
  g.queue = q;
  g.min_member = 1;
  g.min_resources = tk_res(cpu_m, 0, 0);
  int gi = lh_snapshot_add_group(s, &g);
  assert_true(gi >= 0);
}

static int64_t deserved_cpu(const lh_result *r, int q) { return tk_share(r, q)->deserved.v[LH_RES_CPU]; }

static void weights_split_by_ratio(void **st) {
  (void)st;
  lh_snapshot *s = base();
  int q1 = tk_queue(s, "q1", 1), q2 = tk_queue(s, "q2", 3);
  add_demand(s, "q1", 1000000);
  add_demand(s, "q2", 1000000);
  lh_conf *c = lh_conf_default();
  lh_result *r = tk_run(c, s);
  assert_int_equal(deserved_cpu(r, q1), 25000);
  assert_int_equal(deserved_cpu(r, q2), 75000);
  lh_result_free(r);
  lh_conf_free(c);
  lh_snapshot_free(s);
}

static void request_cap_gives_surplus_to_others(void **st) {
  (void)st;
  lh_snapshot *s = base();
  int q1 = tk_queue(s, "q1", 1), q2 = tk_queue(s, "q2", 1), q3 = tk_queue(s, "q3", 1);
  add_demand(s, "q1", 10000); /* wants 10 of its 33 */
  add_demand(s, "q2", 1000000);
  add_demand(s, "q3", 1000000);
  lh_conf *c = lh_conf_default();
  lh_result *r = tk_run(c, s);
  assert_int_equal(deserved_cpu(r, q1), 10000);
  assert_int_equal(deserved_cpu(r, q2), 45000);
  assert_int_equal(deserved_cpu(r, q3), 45000);
  assert_int_equal(tk_share(r, q1)->request.v[LH_RES_CPU], 10000);
  lh_result_free(r);
  lh_conf_free(c);
  lh_snapshot_free(s);
}

static void capability_caps_deserved(void **st) {
  (void)st;
  lh_snapshot *s = base();
  lh_queue_spec q;
  lh_queue_spec_init(&q);
  q.name = "capped";
  q.capability.v[LH_RES_CPU] = 20000;
  int q1 = lh_snapshot_add_queue(s, &q);
  int q2 = tk_queue(s, "free", 1);
  add_demand(s, "capped", 1000000);
  add_demand(s, "free", 1000000);
  lh_conf *c = lh_conf_default();
  lh_result *r = tk_run(c, s);
  assert_int_equal(deserved_cpu(r, q1), 20000);
  assert_int_equal(deserved_cpu(r, q2), 80000);
  lh_result_free(r);
  lh_conf_free(c);
  lh_snapshot_free(s);
}

static void guarantee_reserved_first(void **st) {
  (void)st;
  lh_snapshot *s = base();
  lh_queue_spec q;
  lh_queue_spec_init(&q);
  q.name = "g";
  q.weight = 1;
  q.guarantee.v[LH_RES_CPU] = 60000;
  int q1 = lh_snapshot_add_queue(s, &q);
  int q2 = tk_queue(s, "other", 1);
  add_demand(s, "g", 1000000);
  add_demand(s, "other", 1000000);
  lh_conf *c = lh_conf_default();
  lh_result *r = tk_run(c, s);
  /* 60 reserved, the remaining 40 split 1:1 */
  assert_int_equal(deserved_cpu(r, q1), 80000);
  assert_int_equal(deserved_cpu(r, q2), 20000);
  lh_result_free(r);
  lh_conf_free(c);
  lh_snapshot_free(s);
}

static void hierarchy_children_share_parent(void **st) {
  (void)st;
  lh_snapshot *s = base();
  int eng = tk_queue(s, "eng", 1), sci = tk_queue(s, "sci", 1);
  lh_queue_spec q;
  lh_queue_spec_init(&q);
  q.parent = "eng";
  q.name = "eng-prod";
  q.weight = 3;
  int prod = lh_snapshot_add_queue(s, &q);
  q.name = "eng-dev";
  q.weight = 1;
  int dev = lh_snapshot_add_queue(s, &q);
  add_demand(s, "eng-prod", 1000000);
  add_demand(s, "eng-dev", 1000000);
  add_demand(s, "sci", 1000000);
  lh_conf *c = lh_conf_default();
  lh_result *r = tk_run(c, s);
  assert_int_equal(deserved_cpu(r, eng), 50000);
  assert_int_equal(deserved_cpu(r, sci), 50000);
  assert_int_equal(deserved_cpu(r, prod), 37500);
  assert_int_equal(deserved_cpu(r, dev), 12500);
  assert_int_equal(tk_share(r, eng)->request.v[LH_RES_CPU], 2000000);
  lh_result_free(r);
  lh_conf_free(c);
  lh_snapshot_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(weights_split_by_ratio),
      cmocka_unit_test(request_cap_gives_surplus_to_others),
      cmocka_unit_test(capability_caps_deserved),
      cmocka_unit_test(guarantee_reserved_first),
      cmocka_unit_test(hierarchy_children_share_parent),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
