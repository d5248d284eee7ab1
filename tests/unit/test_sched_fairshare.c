/* test_sched_fairshare.c — proportion: weighted water-filling, guarantee, capability cap,
 * request cap, hierarchical queues (scheduler/fairshare.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

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


/* Volcano's example/hierarchical-jobs/queues.yaml: root/eng/prod 1/2/8, root/eng/dev 1/2/2,
 * root/sci/prod 1/8/8, root/sci/dev 1/8/2, modelled as queues root(1) -> eng(2), sci(8) ->
 * eng-prod(8), eng-dev(2), sci-prod(8), sci-dev(2). Leaf deserved shares of a saturated cluster:
 * eng 2/10 x prod 8/10 = 16%, eng-dev 4%, sci-prod 64%, sci-dev 16%. */
static const char *const HQ[7] = {"root", "eng", "sci", "eng-prod", "eng-dev", "sci-prod", "sci-dev"};
static const char *const HP[7] = {NULL, "root", "root", "eng", "eng", "sci", "sci"};
static const int HW[7] = {1, 2, 8, 8, 2, 8, 2};

static void hier_queues(lh_snapshot *s) {
  for (int i = 0; i < 7; i++) {
    lh_queue_spec q;
    lh_queue_spec_init(&q);
    q.name = HQ[i];
    q.parent = HP[i];
    q.weight = HW[i];
    assert_true(lh_snapshot_add_queue(s, &q) >= 0);
  }
}

/* n single-task groups of one cpu on leaf queue q, created at ctime base.. */
static void one_cpu_groups(lh_snapshot *s, const char *q, int n, lh_group_phase ph, int running,
                           int *next_node) {
  for (int i = 0; i < n; i++) {
    char gn[48];
    snprintf(gn, sizeof gn, "%s-%s%03d", q, i < running ? "run" : "job", i);
    int g = tk_group(s, gn, q, 1, 0, i, i < running ? LH_GROUP_RUNNING : ph);
    if (i < running) {
      char nn[16];
      snprintf(nn, sizeof nn, "n-%d", (*next_node)++);
      tk_running(s, g, "r", tk_res(1000, 0, 0), "a", nn);
    } else {
      tk_tasks(s, g, 1, tk_res(1000, 0, 0));
    }
  }
}

/* all four leaves saturated (200 one-cpu jobs each) on 100 usable one-cpu nodes plus 100 nodes
 * nobody tolerates (they count in the total, so deserved is twice what can be used): allocate
 * must hand out the usable 100 in the hierarchy's proportions 16 / 4 / 64 / 16 */
static void hierarchy_allocates_in_proportion(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 100, tk_res(1000, 0, 0), 110);
  lh_taint tn = {"reserved", "x", LH_EFFECT_NO_SCHEDULE};
  for (int i = 0; i < 100; i++) {
    char nm[16];
    snprintf(nm, sizeof nm, "t-%d", i);
    lh_node_spec ns;
    lh_node_spec_init(&ns);
    ns.name = nm;
    ns.allocatable = tk_res(1000, 0, 0);
    ns.taints = &tn;
    ns.n_taints = 1;
    assert_true(lh_snapshot_add_node(s, c, &ns) >= 0);
  }
  hier_queues(s);
  int nn = 0;
  for (int i = 3; i < 7; i++) one_cpu_groups(s, HQ[i], 200, LH_GROUP_INQUEUE, 0, &nn);
  lh_conf *cf = tk_conf("actions: \"allocate\"\ntiers:\n- plugins:\n  - name: priority\n"
                        "  - name: gang\n- plugins:\n  - name: drf\n    enableHierarchy: true\n"
                        "  - name: predicates\n  - name: proportion\n  - name: nodeorder\n");
  lh_result *r = tk_run(cf, s);
  const int64_t want_deserved[7] = {200000, 40000, 160000, 32000, 8000, 128000, 32000};
  const int64_t want_alloc[7] = {100000, 20000, 80000, 16000, 4000, 64000, 16000};
  for (int q = 0; q < 7; q++) {
    assert_int_equal(deserved_cpu(r, q), want_deserved[q]);
    assert_int_equal(tk_share(r, q)->allocated.v[LH_RES_CPU], want_alloc[q]);
  }
  lh_result_free(r);
  lh_conf_free(cf);
  lh_snapshot_free(s);
}

/* The walk decides at the top first: eng-prod runs 15 of its 16 (share .94), eng-dev nothing
 * (share 0), sci-prod 40/64 and sci-dev 10/16 (.625 each). eng as a whole is at 15/20 = .75,
 * sci at 50/80 = .625 (after one more task: .8 and .6375), so the next slot goes to sci (to
 * sci-prod: 41/64 after it beats sci-dev's 11/16) — a flat leaf order would give it to eng-dev
 * (share 0). */
static void hierarchy_orders_top_down(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 100, tk_res(1000, 0, 0), 110);
  hier_queues(s);
  int nn = 0;
  const int running[4] = {15, 0, 40, 10};
  for (int i = 3; i < 7; i++) one_cpu_groups(s, HQ[i], 100, LH_GROUP_INQUEUE, running[i - 3], &nn);
  lh_conf *cf = tk_conf("actions: \"allocate\"\ntiers:\n- plugins:\n  - name: priority\n"
                        "  - name: gang\n- plugins:\n  - name: drf\n  - name: predicates\n"
                        "  - name: proportion\n  - name: nodeorder\n");
  lh_result *r = tk_run(cf, s);
  size_t n;
  const lh_bind *b = lh_result_binds(r, &n);
  assert_int_equal(n, 35);
  const char *first = lh_snapshot_group_name(s, b[0].group);
  if (strncmp(first, "default/sci-prod-", 17)) fail_msg("first bind went to %s", first);
  /* and the end state is the deserved split */
  const int64_t want_alloc[7] = {100000, 20000, 80000, 16000, 4000, 64000, 16000};
  for (int q = 0; q < 7; q++) assert_int_equal(tk_share(r, q)->allocated.v[LH_RES_CPU], want_alloc[q]);
  lh_result_free(r);
  lh_conf_free(cf);
  lh_snapshot_free(s);
}

/* Enqueue takes queues in allocate's hierarchical order. Queues p1 -> a1, a2 and p2 -> b (all
 * weight 1) on 15 one-cpu nodes, 14 used: a1 runs 2 (deserved 3, share .67), a2 6 (deserved 5),
 * p1 8/8 = 1.0; b runs 6 of deserved 7 (.86, p2 too). One new 1-cpu group each in a1 and b, and
 * overcommit room for one (factor 1.0; proportion's own enqueue check off). The walk serves p2
 * (.86) before p1 (1.0), so b's group is admitted — a flat order by own share would pick a1's
 * (.67). */
static void enqueue_walks_queue_tree(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 15, tk_res(1000, 0, 0), 110);
  const char *qn[5] = {"p1", "p2", "a1", "a2", "b"}, *qp[5] = {NULL, NULL, "p1", "p1", "p2"};
  for (int i = 0; i < 5; i++) {
    lh_queue_spec q;
    lh_queue_spec_init(&q);
    q.name = qn[i];
    q.parent = qp[i];
    assert_true(lh_snapshot_add_queue(s, &q) >= 0);
  }
  int nn = 0;
  one_cpu_groups(s, "a1", 2, LH_GROUP_RUNNING, 2, &nn);
  one_cpu_groups(s, "a2", 6, LH_GROUP_RUNNING, 6, &nn);
  one_cpu_groups(s, "b", 6, LH_GROUP_RUNNING, 6, &nn);
  int ga = -1, gb = -1;
  for (int k = 0; k < 2; k++) {
    lh_group_spec g;
    lh_group_spec_init(&g);
    g.name = k ? "b-new" : "a1-new";
    g.uid = g.name;
    g.queue = k ? "b" : "a1";
    g.min_resources = tk_res(1000, 0, 0);
    int gi = lh_snapshot_add_group(s, &g);
    assert_true(gi >= 0);
    tk_tasks(s, gi, 1, tk_res(1000, 0, 0));
    *(k ? &gb : &ga) = gi;
  }
  lh_conf *cf = tk_conf("actions: \"enqueue\"\ntiers:\n- plugins:\n  - name: priority\n"
                        "  - name: gang\n- plugins:\n  - name: drf\n  - name: predicates\n"
                        "  - name: proportion\n    enableJobEnqueued: false\n  - name: nodeorder\n"
                        "  - name: overcommit\n    arguments:\n      overcommit-factor: 1.0\n");
  lh_result *r = tk_run(cf, s);
  assert_int_equal(deserved_cpu(r, 2), 3000);
  assert_int_equal(deserved_cpu(r, 0), 8000);
  assert_int_equal(deserved_cpu(r, 4), 7000);
  size_t n;
  const int32_t *adm = lh_result_admitted(r, &n);
  assert_int_equal(n, 1);
  if (adm[0] != gb) fail_msg("admitted %s, not default/b-new", lh_snapshot_group_name(s, adm[0]));
  assert_string_equal(lh_result_group_reason(r, ga), "cluster overcommitted: cpu 15/15");
  lh_result_free(r);
  lh_conf_free(cf);
  lh_snapshot_free(s);
}

/* Groups on a queue with children are refused with a reason, by enqueue and (when the snapshot
 * already says admitted) by allocate; the leaves are unaffected. */
static void hierarchy_group_on_inner_queue(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 4, tk_res(1000, 0, 0), 110);
  hier_queues(s);
  int pend = tk_group(s, "on-eng", "eng", 1, 0, 0, LH_GROUP_PENDING);
  tk_tasks(s, pend, 1, tk_res(1000, 0, 0));
  int inq = tk_group(s, "on-sci", "sci", 1, 0, 0, LH_GROUP_INQUEUE);
  tk_tasks(s, inq, 1, tk_res(1000, 0, 0));
  int leaf = tk_group(s, "on-leaf", "sci-dev", 1, 0, 0, LH_GROUP_INQUEUE);
  tk_tasks(s, leaf, 1, tk_res(1000, 0, 0));
  lh_conf *cf = lh_conf_default();
  lh_result *r = tk_run(cf, s);
  assert_string_equal(lh_result_group_reason(r, pend),
                      "queue eng has child queues; groups must use a leaf queue");
  assert_string_equal(lh_result_group_reason(r, inq),
                      "queue sci has child queues; groups must use a leaf queue");
  assert_int_equal(tk_binds_of(r, inq), 0);
  assert_int_equal(tk_binds_of(r, leaf), 1);
  lh_result_free(r);
  lh_conf_free(cf);
  lh_snapshot_free(s);
}

/* Demand above supply, two queues of weight 1 on 100 cpu: qa's gangs set minResources to one
 * pod (minAvailable 1), qb's to the whole gang of 10. Each queue requests 200 cpu (every pending
 * task counts, not minResources alone, which would have left qa a deserved share of 20), so
 * each deserves 50 and gets 50; qb's enqueue stops at its deserved share. */
static void pending_demand_counts_every_task(void **st) {
  (void)st;
  lh_snapshot *s = base();
  int qa = tk_queue(s, "qa", 1), qb = tk_queue(s, "qb", 1);
  int ga[20], gb[20];
  for (int i = 0; i < 20; i++) {
    char nm[16];
    lh_group_spec g;
    lh_group_spec_init(&g);
    snprintf(nm, sizeof nm, "a%02d", i);
    g.name = g.uid = nm;
    g.queue = "qa";
    g.min_member = 1;
    g.min_resources = tk_res(1000, 0, 0);
    g.creation_time = i;
    ga[i] = lh_snapshot_add_group(s, &g);
    assert_true(ga[i] >= 0);
    tk_tasks(s, ga[i], 10, tk_res(1000, 0, 0));
    snprintf(nm, sizeof nm, "b%02d", i);
    g.name = g.uid = nm;
    g.queue = "qb";
    g.min_member = 10;
    g.min_resources = tk_res(10000, 0, 0);
    gb[i] = lh_snapshot_add_group(s, &g);
    assert_true(gb[i] >= 0);
    tk_tasks(s, gb[i], 10, tk_res(1000, 0, 0));
  }
  lh_conf *c = tk_conf(TK_CONF_ALL);
  lh_result *r = tk_run(c, s);
  assert_int_equal(tk_share(r, qa)->request.v[LH_RES_CPU], 200000);
  assert_int_equal(tk_share(r, qb)->request.v[LH_RES_CPU], 200000);
  assert_int_equal(deserved_cpu(r, qa), 50000);
  assert_int_equal(deserved_cpu(r, qb), 50000);
  int bound_a = 0, bound_b = 0;
  for (int i = 0; i < 20; i++) bound_a += tk_binds_of(r, ga[i]), bound_b += tk_binds_of(r, gb[i]);
  assert_int_equal(bound_a, 50);
  assert_int_equal(bound_b, 50);
  for (int i = 0; i < 5; i++) assert_int_equal(tk_binds_of(r, gb[i]), 10);
  assert_string_equal(lh_result_group_reason(r, gb[5]), "queue qb deserved share exhausted: cpu 50/50");
  lh_result_free(r);
  lh_conf_free(c);
  lh_snapshot_free(s);
}

/* A dimension a queue does not request (deserved 0 there) never holds it back: a cpu/memory
 * queue next to a gpu queue whose minResources name gpu alone, room for everything: all bound. */
static void unrequested_dimension_does_not_block(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int cl = tk_cluster(s, "a");
  tk_nodes(s, cl, "n", 10, tk_res(16000, 64 * TK_GI, 8), 110);
  int qc = tk_queue(s, "cpu", 1), qg = tk_queue(s, "gpu", 1);
  int gc[10], gg[10];
  for (int i = 0; i < 10; i++) {
    char nm[16];
    lh_group_spec g;
    lh_group_spec_init(&g);
    snprintf(nm, sizeof nm, "c%02d", i);
    g.name = g.uid = nm;
    g.queue = "cpu";
    g.min_member = 4;
    g.min_resources = tk_res(0, 4 * TK_GI, 0);
    g.creation_time = i;
    gc[i] = lh_snapshot_add_group(s, &g);
    assert_true(gc[i] >= 0);
    tk_tasks(s, gc[i], 4, tk_res(1000, TK_GI, 0));
    snprintf(nm, sizeof nm, "g%02d", i);
    g.name = g.uid = nm;
    g.queue = "gpu";
    g.min_resources = tk_res(0, 0, 1);
    gg[i] = lh_snapshot_add_group(s, &g);
    assert_true(gg[i] >= 0);
    tk_tasks(s, gg[i], 4, tk_res(500, 0, 1));
  }
  lh_conf *c = tk_conf(TK_CONF_ALL);
  lh_result *r = tk_run(c, s);
  size_t np;
  lh_result_pending(r, &np);
  assert_int_equal(np, 0);
  for (int i = 0; i < 10; i++) {
    assert_int_equal(tk_binds_of(r, gc[i]), 4);
    assert_int_equal(tk_binds_of(r, gg[i]), 4);
  }
  assert_int_equal(tk_share(r, qc)->deserved.v[LH_RES_GPU], 0);
  assert_int_equal(tk_share(r, qg)->deserved.v[LH_RES_MEM], 0);
  assert_int_equal(tk_share(r, qg)->deserved.v[LH_RES_CPU], 20000);
  assert_int_equal(tk_share(r, qg)->deserved.v[LH_RES_GPU], 40);
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
      cmocka_unit_test(hierarchy_allocates_in_proportion),
      cmocka_unit_test(hierarchy_orders_top_down),
      cmocka_unit_test(hierarchy_group_on_inner_queue),
      cmocka_unit_test(enqueue_walks_queue_tree),
      cmocka_unit_test(pending_demand_counts_every_task),
      cmocka_unit_test(unrequested_dimension_does_not_block),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
