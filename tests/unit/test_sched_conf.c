/* test_sched_conf.c — volcano-scheduler.conf parsing: Volcano's default and real-shaped configs
 * accepted; bad ones rejected with the line number in the error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/testkit.h"

static const char *VOLCANO_DEFAULT =
    "actions: \"enqueue, allocate, backfill\"\n"
    "tiers:\n"
    "- plugins:\n"
    "  - name: priority\n"
    "  - name: gang\n"
    "    enablePreemptable: false\n"
    "  - name: conformance\n"
    "- plugins:\n"
    "  - name: overcommit\n"
    "  - name: drf\n"
    "    enablePreemptable: false\n"
    "  - name: predicates\n"
    "  - name: proportion\n"
    "  - name: nodeorder\n"
    "  - name: binpack\n";

static const char *FULL =
    "actions: \"enqueue, allocate, backfill, reclaim, preempt\"\n"
    "tiers:\n"
    "- plugins:\n"
    "  - name: priority\n"
    "  - name: gang\n"
    "  - name: conformance\n"
    "- plugins:\n"
    "  - name: drf\n"
    "  - name: predicates\n"
    "    arguments:\n"
    "      predicate.GPUSharingEnable: false\n"
    "  - name: proportion\n"
    "  - name: nodeorder\n"
    "    arguments:\n"
    "      leastrequested.weight: 1\n"
    "      balancedresource.weight: 1\n"
    "      nodeaffinity.weight: 1\n"
    "  - name: binpack\n"
    "    arguments:\n"
    "      binpack.weight: 10\n"
    "      binpack.cpu: 2\n"
    "      binpack.memory: 1\n"
    "      binpack.resources: nvidia.com/gpu\n"
    "      binpack.resources.nvidia.com/gpu: 4\n"
    "configurations:\n"
    "- name: allocate\n"
    "  arguments:\n"
    "    lahar.placement: spread\n"
    "    lahar.serverlessBurst: false\n"
    "    lahar.nodesToScore: 0\n";

static void good_configs(void **st) {
  (void)st;
  char err[256];
  lh_conf *c = NULL;
  assert_int_equal(lh_conf_parse(VOLCANO_DEFAULT, strlen(VOLCANO_DEFAULT), &c, err, sizeof err), 0);
  assert_non_null(c);
  lh_conf_free(c);
  c = NULL;
  assert_int_equal(lh_conf_parse(FULL, strlen(FULL), &c, err, sizeof err), 0);
  lh_conf_free(c);
  c = lh_conf_default();
  assert_non_null(c);
  lh_conf_free(c);
  lh_conf_free(NULL);
}

static void expect_error(const char *yaml, const char *want) {
  char err[256];
  lh_conf *c = (lh_conf *)1;
  assert_int_equal(lh_conf_parse(yaml, strlen(yaml), &c, err, sizeof err), LH_ECONF);
  assert_null(c);
  if (!strstr(err, want)) fail_msg("error '%s' does not contain '%s'", err, want);
}

static void bad_configs(void **st) {
  (void)st;
  expect_error("actions: \"enqueue, alocate\"\ntiers:\n- plugins:\n  - name: gang\n",
               "line 1: unknown action 'alocate'");
  expect_error("actions: \"allocate\"\ntiers:\n- plugins:\n  - name: gang\n  - name: gnag\n",
               "line 5: unknown plugin 'gnag'");
  expect_error("actions: \"allocate\"\ntiers:\n- plugins:\n  - name: tdm\n",
               "line 4: plugin 'tdm' is a Volcano plugin that lahar does not implement");
  expect_error("actions: \"allocate\"\ntiers:\n- plugins:\n  - name: binpack\n"
               "    arguments:\n      binpack.weight: heavy\n",
               "line 6: binpack.weight: 'heavy' is not a non-negative number");
  expect_error("actions: \"allocate\"\ntiers:\n- plugins:\n  - name: gang\n"
               "    enableFoo: true\n",
               "line 5: unknown option 'enableFoo' for plugin 'gang'");
  expect_error("actions: \"allocate\"\ntiers:\n- plugins:\n  - name: gang\n"
               "configurations:\n- name: allocate\n  arguments:\n    lahar.placement: tight\n",
               "line 8: lahar.placement must be binpack or spread");
  expect_error("actions: \"allocate\"\ntiers: [\n", "line 3:");
  expect_error("tiers:\n- plugins:\n  - name: gang\n", "missing 'actions'");
  expect_error("actions: \"allocate\"\ntier:\n- plugins:\n  - name: gang\n",
               "line 2: unknown key 'tier'");
  expect_error("actions: \"allocate, shuffle\"\ntiers:\n- plugins:\n  - name: gang\n",
               "action 'shuffle' is a Volcano action that lahar does not implement");
  /* deep flow nesting is refused up front (libyaml's scanner is quadratic in depth) */
  static char deep[2 * 20000 + 16];
  size_t n = 0;
  n += (size_t)sprintf(deep, "\nactions: ");
  for (int i = 0; i < 20000; i++) deep[n++] = '[';
  for (int i = 0; i < 20000; i++) deep[n++] = ']';
  deep[n] = 0;
  expect_error(deep, "line 2: nested deeper than 64 levels");
}

/* a conf actually changes behaviour: without gang, a partial group is placed */
static void conf_changes_behaviour(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 2, tk_res(1000, TK_GI, 0), 110);
  tk_queue(s, "q", 1);
  int g = tk_group(s, "g", "q", 3, 0, 0, LH_GROUP_INQUEUE);
  tk_tasks(s, g, 3, tk_res(1000, TK_GI, 0));
  lh_conf *with = tk_conf("actions: \"allocate\"\ntiers:\n- plugins:\n  - name: gang\n");
  lh_conf *without = tk_conf("actions: \"allocate\"\ntiers:\n- plugins:\n  - name: priority\n");
  lh_result *r1 = tk_run(with, s), *r2 = tk_run(without, s);
  assert_int_equal(tk_binds_of(r1, g), 0);
  assert_int_equal(tk_binds_of(r2, g), 2);
  lh_result_free(r1);
  lh_result_free(r2);
  lh_conf_free(with);
  lh_conf_free(without);
  lh_snapshot_free(s);
}


/* Volcano's per-plugin switches: every PluginOption name loads; the ones lahar models act. */
static void volcano_switches(void **st) {
  (void)st;
  static const char *names[] = {
      "enableJobOrder", "enableNamespaceOrder", "enableHierarchy", "enableJobReady",
      "enableJobPipelined", "enableTaskOrder", "enablePreemptable", "enableReclaimable",
      "enablePreemptive", "enableQueueOrder", "enabledClusterOrder", "enablePredicate",
      "enableBestNode", "enableNodeOrder", "enableTargetJob", "enableReservedNodes",
      "enableJobEnqueued", "enabledVictim", "enableJobStarving", "enabledOverused",
      "enabledAllocatable", "enabledHyperNodeOrder", "enabledSubJobReady",
      "enabledSubJobPipelined", "enabledSubJobOrder", "enabledHyperNodeGradient"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    char yaml[256];
    snprintf(yaml, sizeof yaml, "actions: \"allocate\"\ntiers:\n- plugins:\n  - name: drf\n    %s: %s\n",
             names[i], i % 2 ? "true" : "false");
    lh_conf_free(tk_conf(yaml));
  }
  expect_error("actions: \"allocate\"\ntiers:\n- plugins:\n  - name: drf\n    enableHierarchy: maybe\n",
               "line 5: enableHierarchy: expected true or false");
  /* enableTaskOrder (priority): one slot, a group of two tasks "a" (priority 0) and "b"
     (priority 10), minMember 1: with task order the priority-10 task is placed, without it the
     first by name */
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 1, tk_res(1000, TK_GI, 0), 110);
  tk_queue(s, "q", 1);
  int g = tk_group(s, "g", "q", 1, 0, 0, LH_GROUP_INQUEUE);
  int ta = -1, tb = -1;
  for (int i = 0; i < 2; i++) {
    lh_task_spec t;
    lh_task_spec_init(&t);
    t.name = i ? "b" : "a";
    t.priority = i ? 10 : 0;
    t.request = tk_res(1000, TK_GI, 0);
    int ti = lh_snapshot_add_task(s, g, &t);
    assert_true(ti >= 0);
    *(i ? &tb : &ta) = ti;
  }
  for (int on = 1; on >= 0; on--) {
    char yaml[256];
    snprintf(yaml, sizeof yaml, "actions: \"allocate\"\ntiers:\n- plugins:\n  - name: priority\n"
             "    enableTaskOrder: %s\n  - name: gang\n", on ? "true" : "false");
    lh_conf *cf = tk_conf(yaml);
    lh_result *r = tk_run(cf, s);
    size_t n;
    const lh_bind *b = lh_result_binds(r, &n);
    assert_int_equal(n, 1);
    assert_int_equal(b[0].task, on ? tb : ta);
    lh_result_free(r);
    lh_conf_free(cf);
  }
  lh_snapshot_free(s);
}

/* overcommit-factor: enqueue admits minResources up to cluster x factor (10 cpu here); 15 cpu is
 * refused at the default 1.2 and admitted at 2.0 (plugin argument or enqueue argument) */
static void overcommit_factor(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 10, tk_res(1000, TK_GI, 0), 110);
  tk_queue(s, "q", 1);
  lh_group_spec gs;
  lh_group_spec_init(&gs);
  gs.name = gs.uid = "big";
  gs.queue = "q";
  gs.min_resources = tk_res(15000, 0, 0);
  int g = lh_snapshot_add_group(s, &gs);
  assert_true(g >= 0);
  tk_tasks(s, g, 1, tk_res(1000, TK_GI, 0));
  const char *confs[3] = {
      "actions: \"enqueue\"\ntiers:\n- plugins:\n  - name: overcommit\n",
      "actions: \"enqueue\"\ntiers:\n- plugins:\n  - name: overcommit\n    arguments:\n"
      "      overcommit-factor: 2.0\n",
      "actions: \"enqueue\"\ntiers:\n- plugins:\n  - name: overcommit\nconfigurations:\n"
      "- name: enqueue\n  arguments:\n    overcommit-factor: 2.0\n"};
  for (int i = 0; i < 3; i++) {
    lh_conf *cf = tk_conf(confs[i]);
    lh_result *r = tk_run(cf, s);
    size_t na;
    lh_result_admitted(r, &na);
    assert_int_equal(na, i ? 1 : 0);
    if (!i)
      assert_string_equal(lh_result_group_reason(r, g), "cluster overcommitted: cpu 0/12");
    lh_result_free(r);
    lh_conf_free(cf);
  }
  expect_error("actions: \"enqueue\"\ntiers:\n- plugins:\n  - name: overcommit\n    arguments:\n"
               "      overcommit-factor: 0.5\n",
               "line 6: overcommit-factor must be >= 1.0");
  lh_snapshot_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(good_configs),
      cmocka_unit_test(bad_configs),
      cmocka_unit_test(conf_changes_behaviour),
      cmocka_unit_test(volcano_switches),
      cmocka_unit_test(overcommit_factor),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
