/* test_sched_evict.c — reclaim (fewest, lowest-priority victims; gang rule; reclaimable=false)
 * and preempt (same queue, higher priority over lower, gang rule). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "scheduler/testkit.h"

#define CONF_EV(acts)                                                                \
  "actions: \"" acts "\"\ntiers:\n- plugins:\n  - name: priority\n  - name: gang\n"  \
  "  - name: conformance\n- plugins:\n  - name: drf\n  - name: predicates\n"        \
  "  - name: proportion\n  - name: nodeorder\n"

static const lh_res ONE = {{1000, TK_GI, 0}};

/* 4 nodes of one slot; queue "hog" runs 4 single-task groups (priorities 1,2,3,4); queue
 * "starve" (equal weight) wants 1 slot: reclaim takes exactly one victim, the lowest priority */
static void reclaim_lowest_priority_fewest(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 4, ONE, 110);
  tk_queue(s, "hog", 1);
  tk_queue(s, "starve", 1);
  int hg[4];
  for (int i = 0; i < 4; i++) {
    char gn[16], nn[16];
    snprintf(gn, sizeof gn, "hog%d", i);
    snprintf(nn, sizeof nn, "n-%d", i);
    hg[i] = tk_group(s, gn, "hog", 1, 4 - i, i, LH_GROUP_RUNNING);
    tk_running(s, hg[i], "r", ONE, "a", nn);
  }
  /* more hog demand keeps hog's request (and deserved) high */
  int more = tk_group(s, "hog-more", "hog", 1, 0, 9, LH_GROUP_INQUEUE);
  tk_tasks(s, more, 4, ONE);
  int want = tk_group(s, "want", "starve", 1, 0, 0, LH_GROUP_INQUEUE);
  tk_tasks(s, want, 1, ONE);
  lh_conf *cf = tk_conf(CONF_EV("enqueue, allocate, reclaim"));
  lh_result *r = tk_run(cf, s);
  size_t n;
  const lh_eviction *e = lh_result_evictions(r, &n);
  assert_int_equal(n, 1);
  assert_int_equal(e[0].group, hg[3]); /* priority 1 */
  assert_int_equal(e[0].reason, LH_EVICT_RECLAIM);
  assert_int_equal(e[0].for_group, want);
  assert_string_equal(lh_result_group_reason(r, want),
                      "waiting for 1 evicted task to terminate (reclaim)");
  lh_result_free(r);
  lh_conf_free(cf);
  lh_snapshot_free(s);
}

/* gang rule: the only victim candidate belongs to a gang at exactly minMember: the whole gang
 * goes (never leaving it broken) */
static void reclaim_takes_whole_gang(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 4, ONE, 110);
  tk_queue(s, "hog", 1);
  tk_queue(s, "starve", 1);
  int gang = tk_group(s, "gang", "hog", 4, 0, 0, LH_GROUP_RUNNING);
  for (int i = 0; i < 4; i++) {
    char tn[16], nn[16];
    snprintf(tn, sizeof tn, "r%d", i);
    snprintf(nn, sizeof nn, "n-%d", i);
    tk_running(s, gang, tn, ONE, "a", nn);
  }
  int more = tk_group(s, "hog-more", "hog", 1, 0, 9, LH_GROUP_INQUEUE);
  tk_tasks(s, more, 4, ONE);
  int want = tk_group(s, "want", "starve", 1, 0, 0, LH_GROUP_INQUEUE);
  tk_tasks(s, want, 1, ONE);
  lh_conf *cf = tk_conf(CONF_EV("enqueue, allocate, reclaim"));
  lh_result *r = tk_run(cf, s);
  assert_int_equal(tk_evictions_of(r, gang), 4);
  lh_result_free(r);
  lh_conf_free(cf);
  lh_snapshot_free(s);
}

/* surplus members above minMember are taken one by one instead */
static void reclaim_surplus_member_first(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 4, ONE, 110);
  tk_queue(s, "hog", 1);
  tk_queue(s, "starve", 1);
  int gang = tk_group(s, "gang", "hog", 2, 0, 0, LH_GROUP_RUNNING);
  for (int i = 0; i < 4; i++) {
    char tn[16], nn[16];
    snprintf(tn, sizeof tn, "r%d", i);
    snprintf(nn, sizeof nn, "n-%d", i);
    tk_running(s, gang, tn, ONE, "a", nn);
  }
  int more = tk_group(s, "hog-more", "hog", 1, 0, 9, LH_GROUP_INQUEUE);
  tk_tasks(s, more, 4, ONE);
  int want = tk_group(s, "want", "starve", 1, 0, 0, LH_GROUP_INQUEUE);
  tk_tasks(s, want, 1, ONE);
  lh_conf *cf = tk_conf(CONF_EV("enqueue, allocate, reclaim"));
  lh_result *r = tk_run(cf, s);
  assert_int_equal(tk_evictions_of(r, gang), 1);
  lh_result_free(r);
  lh_conf_free(cf);
  lh_snapshot_free(s);
}

static void reclaim_respects_reclaimable_false(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 2, ONE, 110);
  lh_queue_spec q;
  lh_queue_spec_init(&q);
  q.name = "keep";
  q.reclaimable = false;
  assert_true(lh_snapshot_add_queue(s, &q) >= 0);
  tk_queue(s, "starve", 1);
  int hold = tk_group(s, "hold", "keep", 1, 0, 0, LH_GROUP_RUNNING);
  tk_running(s, hold, "r0", ONE, "a", "n-0");
  tk_running(s, hold, "r1", ONE, "a", "n-1");
  int want = tk_group(s, "want", "starve", 1, 0, 0, LH_GROUP_INQUEUE);
  tk_tasks(s, want, 1, ONE);
  lh_conf *cf = tk_conf(CONF_EV("enqueue, allocate, reclaim"));
  lh_result *r = tk_run(cf, s);
  size_t n;
  lh_result_evictions(r, &n);
  assert_int_equal(n, 0);
  assert_non_null(lh_result_group_reason(r, want));
  lh_result_free(r);
  lh_conf_free(cf);
  lh_snapshot_free(s);
}

/* preempt: inside one queue, priority 10 evicts the priority-1 group, never the priority-20 */
static void preempt_lower_priority_same_queue(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 2, ONE, 110);
  tk_queue(s, "q", 1);
  tk_queue(s, "other", 1);
  int low = tk_group(s, "low", "q", 1, 1, 0, LH_GROUP_RUNNING);
  tk_running(s, low, "r", ONE, "a", "n-0");
  int high = tk_group(s, "high", "q", 1, 20, 0, LH_GROUP_RUNNING);
  tk_running(s, high, "r", ONE, "a", "n-1");
  int mid = tk_group(s, "mid", "q", 1, 10, 5, LH_GROUP_INQUEUE);
  tk_tasks(s, mid, 1, ONE);
  lh_conf *cf = tk_conf(CONF_EV("allocate, preempt"));
  lh_result *r = tk_run(cf, s);
  size_t n;
  const lh_eviction *e = lh_result_evictions(r, &n);
  assert_int_equal(n, 1);
  assert_int_equal(e[0].group, low);
  assert_int_equal(e[0].reason, LH_EVICT_PREEMPT);
  assert_string_equal(lh_result_group_reason(r, mid),
                      "waiting for 1 evicted task to terminate (preempt)");
  lh_result_free(r);
  lh_conf_free(cf);
  /* a group of equal or lower priority preempts nothing */
  lh_snapshot_free(s);
  s = lh_snapshot_new();
  c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 1, ONE, 110);
  tk_queue(s, "q", 1);
  low = tk_group(s, "low", "q", 1, 5, 0, LH_GROUP_RUNNING);
  tk_running(s, low, "r", ONE, "a", "n-0");
  mid = tk_group(s, "same", "q", 1, 5, 5, LH_GROUP_INQUEUE);
  tk_tasks(s, mid, 1, ONE);
  cf = tk_conf(CONF_EV("allocate, preempt"));
  r = tk_run(cf, s);
  lh_result_evictions(r, &n);
  assert_int_equal(n, 0);
  lh_result_free(r);
  lh_conf_free(cf);
  lh_snapshot_free(s);
}

/* preempt gang rule: a 2-task gang needs both slots held by a 2-task gang at minMember 2 and a
 * priority-0 singleton elsewhere; result: evictions never leave a gang below minMember */
static void preempt_gang_rule(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 3, ONE, 110);
  tk_queue(s, "q", 1);
  int g2 = tk_group(s, "pair", "q", 2, 1, 0, LH_GROUP_RUNNING);
  tk_running(s, g2, "r0", ONE, "a", "n-0");
  tk_running(s, g2, "r1", ONE, "a", "n-1");
  int solo = tk_group(s, "solo", "q", 1, 0, 0, LH_GROUP_RUNNING);
  tk_running(s, solo, "r", ONE, "a", "n-2");
  int big = tk_group(s, "big", "q", 2, 10, 5, LH_GROUP_INQUEUE);
  tk_tasks(s, big, 2, ONE);
  lh_conf *cf = tk_conf(CONF_EV("allocate, preempt"));
  lh_result *r = tk_run(cf, s);
  int ep = tk_evictions_of(r, g2);
  assert_true(ep == 0 || ep == 2);
  assert_int_equal(tk_evictions_of(r, solo), 1); /* lowest priority goes first */
  assert_int_equal(ep, 2);
  lh_result_free(r);
  lh_conf_free(cf);
  lh_snapshot_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(reclaim_lowest_priority_fewest),
      cmocka_unit_test(reclaim_takes_whole_gang),
      cmocka_unit_test(reclaim_surplus_member_first),
      cmocka_unit_test(reclaim_respects_reclaimable_false),
      cmocka_unit_test(preempt_lower_priority_same_queue),
      cmocka_unit_test(preempt_gang_rule),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
