/* test_sched_predicates.c — placement predicates (resources, nodeSelector, taints/tolerations
 * with Exists/Equal and effects, max pods, unschedulable) and scoring (binpack vs spread). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "scheduler/testkit.h"

#define CONF_P(extra)                                                                \
  "actions: \"allocate\"\ntiers:\n- plugins:\n  - name: gang\n  - name: predicates\n" \
  "  - name: nodeorder\n" extra

static int add_node(lh_snapshot *s, int c, const char *name, const lh_kv *labels, size_t nl,
                    const lh_taint *taints, size_t nt, int max_pods, bool unsched) {
  lh_node_spec n;
  lh_node_spec_init(&n);
  n.name = name;
  n.allocatable = tk_res(4000, 8 * TK_GI, 0);
  n.labels = labels;
  n.n_labels = nl;
  n.taints = taints;
  n.n_taints = nt;
  n.max_pods = max_pods;
  n.unschedulable = unsched;
  int i = lh_snapshot_add_node(s, c, &n);
  assert_true(i >= 0);
  return i;
}

static int one_task_group(lh_snapshot *s, const char *name, const lh_kv *sel, size_t ns,
                          const lh_toleration *tol, size_t nt) {
  int g = tk_group(s, name, "q", 1, 0, 0, LH_GROUP_INQUEUE);
  lh_task_spec t;
  lh_task_spec_init(&t);
  t.name = "t";
  t.request = tk_res(1000, TK_GI, 0);
  t.node_selector = sel;
  t.n_node_selector = ns;
  t.tolerations = tol;
  t.n_tolerations = nt;
  assert_true(lh_snapshot_add_task(s, g, &t) >= 0);
  return g;
}

static int node_of(const lh_result *r, int g) {
  size_t n;
  const lh_bind *b = lh_result_binds(r, &n);
  for (size_t i = 0; i < n; i++)
    if (b[i].group == g) return b[i].node;
  return -1;
}

static void selector_and_taints(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  lh_kv gpu = {"accel", "a100"}, cpu = {"accel", "none"};
  lh_taint ded = {"dedicated", "ml", LH_EFFECT_NO_SCHEDULE};
  lh_taint soft = {"soft", "x", LH_EFFECT_PREFER_NO_SCHEDULE};
  lh_taint exec = {"evict", NULL, LH_EFFECT_NO_EXECUTE};
  int n_plain = add_node(s, c, "plain", &cpu, 1, &soft, 1, 110, false);
  int n_ml = add_node(s, c, "ml", &gpu, 1, &ded, 1, 110, false);
  int n_ex = add_node(s, c, "exec", &gpu, 1, &exec, 1, 110, false);
  tk_queue(s, "q", 1);
  /* selector matches ml and exec; tolerates only dedicated=ml (Equal, NoSchedule) */
  lh_toleration eq = {"dedicated", LH_TOL_EQUAL, "ml", LH_EFFECT_NO_SCHEDULE};
  int g_eq = one_task_group(s, "eq", &gpu, 1, &eq, 1);
  /* wrong value: Equal with another value tolerates nothing */
  lh_toleration bad = {"dedicated", LH_TOL_EQUAL, "web", LH_EFFECT_NO_SCHEDULE};
  int g_bad = one_task_group(s, "bad", &gpu, 1, &bad, 1);
  /* Exists on key "evict" with any effect -> exec node */
  lh_toleration ex = {"evict", LH_TOL_EXISTS, NULL, LH_EFFECT_ANY};
  int g_ex = one_task_group(s, "ex", &gpu, 1, &ex, 1);
  /* no selector, no toleration: only the plain node (PreferNoSchedule does not block) */
  int g_none = one_task_group(s, "none", NULL, 0, NULL, 0);
  lh_conf *cf = tk_conf(CONF_P(""));
  lh_result *r = tk_run(cf, s);
  assert_int_equal(node_of(r, g_eq), n_ml);
  assert_int_equal(node_of(r, g_ex), n_ex);
  assert_int_equal(node_of(r, g_none), n_plain);
  assert_int_equal(node_of(r, g_bad), -1);
  assert_string_equal(lh_result_group_reason(r, g_bad),
                      "gang 0/1: untolerated taint on 2 nodes, node selector mismatch on 1 node "
                      "of cluster a");
  lh_result_free(r);
  lh_conf_free(cf);
  lh_snapshot_free(s);
}

static void max_pods_and_unschedulable(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  add_node(s, c, "cordoned", NULL, 0, NULL, 0, 110, true);
  int small = add_node(s, c, "small", NULL, 0, NULL, 0, 2, false);
  tk_queue(s, "q", 1);
  int g = tk_group(s, "g", "q", 3, 0, 0, LH_GROUP_INQUEUE);
  tk_tasks(s, g, 3, tk_res(100, 0, 0));
  int g2 = tk_group(s, "g2", "q", 2, 0, 1, LH_GROUP_INQUEUE);
  tk_tasks(s, g2, 2, tk_res(100, 0, 0));
  lh_conf *cf = tk_conf(CONF_P(""));
  lh_result *r = tk_run(cf, s);
  assert_int_equal(tk_binds_of(r, g), 0);
  assert_string_equal(lh_result_group_reason(r, g),
                      "gang 2/3: node unschedulable on 1 node, too many pods on 1 node of cluster a");
  assert_int_equal(tk_binds_of(r, g2), 2);
  assert_int_equal(node_of(r, g2), small);
  lh_result_free(r);
  lh_conf_free(cf);
  lh_snapshot_free(s);
}

static void resources_fit(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 2, tk_res(4000, 5 * TK_GI, 0), 110); /* 10Gi free >= 9Gi */
  tk_queue(s, "q", 1);
  int g = tk_group(s, "mem", "q", 3, 0, 0, LH_GROUP_INQUEUE);
  tk_tasks(s, g, 3, tk_res(1000, 3 * TK_GI, 0)); /* memory: one per node */
  lh_conf *cf = tk_conf(CONF_P(""));
  lh_result *r = tk_run(cf, s);
  assert_int_equal(tk_binds_of(r, g), 0);
  assert_string_equal(lh_result_group_reason(r, g),
                      "gang 2/3: insufficient memory on 2 nodes of cluster a");
  lh_result_free(r);
  lh_conf_free(cf);
  lh_snapshot_free(s);
}

/* binpack piles 4 tasks onto one node; spread puts one on each */
static void binpack_vs_spread(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 4, tk_res(4000, 8 * TK_GI, 0), 110);
  tk_queue(s, "q", 1);
  int g = tk_group(s, "g", "q", 4, 0, 0, LH_GROUP_INQUEUE);
  tk_tasks(s, g, 4, tk_res(1000, TK_GI, 0));
  const char *modes[2] = {"binpack", "spread"};
  for (int m = 0; m < 2; m++) {
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             CONF_P("configurations:\n- name: allocate\n  arguments:\n    lahar.placement: %s\n"),
             modes[m]);
    lh_conf *cf = tk_conf(yaml);
    lh_result *r = tk_run(cf, s);
    size_t n;
    const lh_bind *b = lh_result_binds(r, &n);
    assert_int_equal(n, 4);
    int distinct = 0;
    for (size_t i = 0; i < n; i++) {
      bool seen = false;
      for (size_t j = 0; j < i; j++) seen |= b[j].node == b[i].node;
      distinct += !seen;
    }
    assert_int_equal(distinct, m == 0 ? 1 : 4);
    lh_result_free(r);
    lh_conf_free(cf);
  }
  /* the binpack plugin alone selects binpack */
  lh_conf *cf = tk_conf("actions: \"allocate\"\ntiers:\n- plugins:\n  - name: gang\n"
                        "  - name: binpack\n    arguments:\n      binpack.weight: 10\n");
  lh_result *r = tk_run(cf, s);
  size_t n;
  const lh_bind *b = lh_result_binds(r, &n);
  assert_int_equal(n, 4);
  for (size_t i = 1; i < n; i++) assert_int_equal(b[i].node, b[0].node);
  lh_result_free(r);
  lh_conf_free(cf);
  lh_snapshot_free(s);
}


/* Taint effects, one node per taint, one single-task group per toleration (no selector):
 *   ns: NoSchedule k=v   ex: NoExecute k=v   pref: PreferNoSchedule k=v (never blocks)
 * A toleration must match the effect (or have none): Equal k=v NoSchedule tolerates ns only;
 * Exists k with NoExecute tolerates ex only; an empty key with Exists tolerates every taint. */
static void taint_effects(void **st) {
  (void)st;
  const lh_effect eff[3] = {LH_EFFECT_NO_SCHEDULE, LH_EFFECT_NO_EXECUTE,
                            LH_EFFECT_PREFER_NO_SCHEDULE};
  const char *nn[3] = {"ns", "ex", "pref"};
  const struct {
    lh_toleration tol;
    int ntol;
    bool fits[3];
  } cases[] = {
      {{"k", LH_TOL_EQUAL, "v", LH_EFFECT_NO_SCHEDULE}, 1, {true, false, true}},
      {{"k", LH_TOL_EQUAL, "other", LH_EFFECT_ANY}, 1, {false, false, true}},
      {{"k", LH_TOL_EXISTS, NULL, LH_EFFECT_NO_EXECUTE}, 1, {false, true, true}},
      {{"k", LH_TOL_EXISTS, NULL, LH_EFFECT_ANY}, 1, {true, true, true}},
      {{NULL, LH_TOL_EXISTS, NULL, LH_EFFECT_ANY}, 1, {true, true, true}},
      {{"", LH_TOL_EXISTS, NULL, LH_EFFECT_NO_SCHEDULE}, 1, {true, false, true}},
      {{"other", LH_TOL_EXISTS, NULL, LH_EFFECT_ANY}, 1, {false, false, true}},
      {{NULL, 0, NULL, 0}, 0, {false, false, true}},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
    for (int n = 0; n < 3; n++) {
      lh_snapshot *s = lh_snapshot_new();
      int c = tk_cluster(s, "a");
      lh_taint t = {"k", "v", eff[n]};
      int node = add_node(s, c, nn[n], NULL, 0, &t, 1, 110, false);
      tk_queue(s, "q", 1);
      int g = one_task_group(s, "g", NULL, 0, &cases[k].tol, (size_t)cases[k].ntol);
      lh_conf *cf = tk_conf(CONF_P(""));
      lh_result *r = tk_run(cf, s);
      if ((node_of(r, g) == node) != cases[k].fits[n])
        fail_msg("toleration case %zu on node %s: expected %s", k, nn[n],
                 cases[k].fits[n] ? "placed" : "pending");
      if (!cases[k].fits[n])
        assert_string_equal(lh_result_group_reason(r, g),
                            "gang 0/1: untolerated taint on 1 node of cluster a");
      lh_result_free(r);
      lh_conf_free(cf);
      lh_snapshot_free(s);
    }
}

/* nodeorder weights weight the score: n-0 is half full, n-1 empty. leastrequested (default)
 * picks n-1, mostrequested.weight 2 picks n-0. balancedresource: node "cpuheavy" has 3 of 4 cpu
 * used, "memheavy" 4 of 8 Gi memory; the task (1 cpu, 4 Gi) leaves cpuheavy at cpu 1.0 / mem 0.5
 * and memheavy at 0.25 / 1.0: leastrequested alone prefers memheavy (mean .625 < .75), a heavy
 * balancedresource.weight prefers the better balanced cpuheavy. */
static void nodeorder_weights(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 2, tk_res(4000, 8 * TK_GI, 0), 110);
  tk_queue(s, "q", 1);
  int run = tk_group(s, "run", "q", 1, 0, 0, LH_GROUP_RUNNING);
  tk_running(s, run, "r", tk_res(2000, 4 * TK_GI, 0), "a", "n-0");
  int g = tk_group(s, "g", "q", 1, 0, 1, LH_GROUP_INQUEUE);
  tk_tasks(s, g, 1, tk_res(1000, TK_GI, 0));
  const char *args[2] = {"", "    arguments:\n      mostrequested.weight: 2\n"};
  const int want[2] = {1, 0};
  for (int i = 0; i < 2; i++) {
    char yaml[512];
    snprintf(yaml, sizeof yaml, "actions: \"allocate\"\ntiers:\n- plugins:\n  - name: gang\n"
             "  - name: predicates\n  - name: nodeorder\n%s", args[i]);
    lh_conf *cf = tk_conf(yaml);
    lh_result *r = tk_run(cf, s);
    assert_int_equal(node_of(r, g), want[i]);
    lh_result_free(r);
    lh_conf_free(cf);
  }
  lh_snapshot_free(s);

  s = lh_snapshot_new();
  c = tk_cluster(s, "a");
  int cpuheavy = add_node(s, c, "cpuheavy", NULL, 0, NULL, 0, 110, false);
  int memheavy = add_node(s, c, "memheavy", NULL, 0, NULL, 0, 110, false);
  tk_queue(s, "q", 1);
  run = tk_group(s, "run", "q", 1, 0, 0, LH_GROUP_RUNNING);
  tk_running(s, run, "r0", tk_res(3000, 0, 0), "a", "cpuheavy");
  tk_running(s, run, "r1", tk_res(0, 4 * TK_GI, 0), "a", "memheavy");
  g = tk_group(s, "g", "q", 1, 0, 1, LH_GROUP_INQUEUE);
  tk_tasks(s, g, 1, tk_res(1000, 4 * TK_GI, 0));
  for (int i = 0; i < 2; i++) {
    char yaml[512];
    snprintf(yaml, sizeof yaml, "actions: \"allocate\"\ntiers:\n- plugins:\n  - name: gang\n"
             "  - name: predicates\n  - name: nodeorder\n    arguments:\n"
             "      leastrequested.weight: 1\n      balancedresource.weight: %d\n", i ? 10 : 0);
    lh_conf *cf = tk_conf(yaml);
    lh_result *r = tk_run(cf, s);
    assert_int_equal(node_of(r, g), i ? cpuheavy : memheavy);
    lh_result_free(r);
    lh_conf_free(cf);
  }
  lh_snapshot_free(s);
}

/* lahar.nodesToScore: with spread placement, n-0 is half full and n-1 empty. Scoring all nodes
 * (0) or 2 picks n-1; scoring only the first feasible node found (1) takes n-0, where the scan
 * starts. */
static void nodes_to_score(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 2, tk_res(4000, 8 * TK_GI, 0), 110);
  tk_queue(s, "q", 1);
  int run = tk_group(s, "run", "q", 1, 0, 0, LH_GROUP_RUNNING);
  tk_running(s, run, "r", tk_res(2000, 4 * TK_GI, 0), "a", "n-0");
  int g = tk_group(s, "g", "q", 1, 0, 1, LH_GROUP_INQUEUE);
  tk_tasks(s, g, 1, tk_res(1000, TK_GI, 0));
  const int nts[3] = {0, 1, 2}, want[3] = {1, 0, 1};
  for (int i = 0; i < 3; i++) {
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             CONF_P("configurations:\n- name: allocate\n  arguments:\n"
                    "    lahar.placement: spread\n    lahar.nodesToScore: %d\n"),
             nts[i]);
    lh_conf *cf = tk_conf(yaml);
    lh_result *r = tk_run(cf, s);
    assert_int_equal(node_of(r, g), want[i]);
    lh_result_free(r);
    lh_conf_free(cf);
  }
  lh_snapshot_free(s);
}

/* required_cluster: a task naming cluster b goes to b though a has room; a group whose tasks
 * name different clusters stays pending with a clear reason. */
static void required_clusters(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int a = tk_cluster(s, "a"), b = tk_cluster(s, "b");
  tk_nodes(s, a, "a", 2, tk_res(4000, 8 * TK_GI, 0), 110);
  tk_nodes(s, b, "b", 2, tk_res(4000, 8 * TK_GI, 0), 110);
  tk_queue(s, "q", 1);
  int g = tk_group(s, "to-b", "q", 2, 0, 0, LH_GROUP_INQUEUE);
  int split = tk_group(s, "split", "q", 2, 0, 1, LH_GROUP_INQUEUE);
  for (int i = 0; i < 2; i++) {
    lh_task_spec t;
    lh_task_spec_init(&t);
    t.name = i ? "t1" : "t0";
    t.request = tk_res(1000, TK_GI, 0);
    t.required_cluster = "b";
    assert_true(lh_snapshot_add_task(s, g, &t) >= 0);
    t.required_cluster = i ? "b" : "a";
    assert_true(lh_snapshot_add_task(s, split, &t) >= 0);
  }
  lh_conf *cf = tk_conf(CONF_P(""));
  lh_result *r = tk_run(cf, s);
  size_t n;
  const lh_bind *bd = lh_result_binds(r, &n);
  assert_int_equal(n, 2);
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(bd[i].group, g);
    assert_int_equal(bd[i].cluster, b);
  }
  assert_int_equal(tk_binds_of(r, split), 0);
  assert_string_equal(lh_result_group_reason(r, split), "tasks require different clusters (a, b)");
  lh_result_free(r);
  lh_conf_free(cf);
  lh_snapshot_free(s);
}

static void snapshot_validation(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  assert_int_equal(lh_snapshot_add_cluster(s, "a", LH_CLUSTER_DEDICATED, NULL), LH_EEXIST);
  assert_int_equal(lh_snapshot_add_cluster(s, "sls", LH_CLUSTER_SERVERLESS, NULL), LH_EINVAL);
  lh_node_spec n;
  lh_node_spec_init(&n);
  n.name = "x";
  assert_int_equal(lh_snapshot_add_node(s, 7, &n), LH_ENOENT);
  assert_true(lh_snapshot_add_node(s, c, &n) >= 0);
  assert_int_equal(lh_snapshot_add_node(s, c, &n), LH_EEXIST);
  lh_group_spec g;
  lh_group_spec_init(&g);
  g.name = g.uid = "g";
  g.queue = "nope";
  assert_int_equal(lh_snapshot_add_group(s, &g), LH_ENOENT);
  assert_string_equal(lh_strerror(LH_ENOENT), "no such object");
  assert_string_equal(lh_snapshot_node_name(s, 0), "x");
  assert_int_equal(lh_snapshot_find_node(s, c, "x"), 0);
  assert_true(lh_snapshot_mem_bytes(s) > 0);
  lh_snapshot_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(selector_and_taints), cmocka_unit_test(max_pods_and_unschedulable),
      cmocka_unit_test(resources_fit),       cmocka_unit_test(binpack_vs_spread),
      cmocka_unit_test(snapshot_validation), cmocka_unit_test(taint_effects),
      cmocka_unit_test(nodeorder_weights),   cmocka_unit_test(nodes_to_score),
      cmocka_unit_test(required_clusters),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
