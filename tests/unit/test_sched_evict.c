/* test_sched_evict.c — reclaim (fewest, lowest-priority victims; gang rule; reclaimable=false;
 * victim queues simulated per attempt; the reclaimer capped at its deserved share), preempt
 * (same queue, higher priority over lower, gang rule), conformance (protected victims). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

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


static lh_res cpu(int64_t m) { return tk_res(m, 0, 0); }

/* queues a (weight 1, the reclaimer), h (weight 1, the hog) and b (weight 2, demand that fits
 * nowhere: its selector matches no node) over 10 one-cpu nodes; h runs on all 10. With a gang of
 * a needing 4: deserved a 2.5, h 2.5, b 5 — the gang would take a beyond its deserved share, so
 * it is refused with a reason, though h stays above its own deserved throughout. A gang needing
 * 2 (deserved a 2) is allowed. */
static lh_snapshot *deserved_cap_snapshot(int min) {
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 10, cpu(1000), 110);
  tk_queue(s, "a", 1);
  tk_queue(s, "h", 1);
  tk_queue(s, "b", 2);
  for (int i = 0; i < 10; i++) {
    char gn[16], nn[16];
    snprintf(gn, sizeof gn, "h%d", i);
    snprintf(nn, sizeof nn, "n-%d", i);
    int g = tk_group(s, gn, "h", 1, 0, i, LH_GROUP_RUNNING);
    tk_running(s, g, "r", cpu(1000), "a", nn);
  }
  int hm = tk_group(s, "h-more", "h", 1, 0, 50, LH_GROUP_INQUEUE);
  tk_tasks(s, hm, 2, cpu(1000));
  int bg = tk_group(s, "b-want", "b", 1, 0, 0, LH_GROUP_INQUEUE);
  lh_kv nosuch = {"disk", "none"};
  for (int i = 0; i < 10; i++) {
    char tn[16];
    snprintf(tn, sizeof tn, "t%d", i);
    lh_task_spec t;
    lh_task_spec_init(&t);
    t.name = tn;
    t.request = cpu(1000);
    t.node_selector = &nosuch;
    t.n_node_selector = 1;
    assert_true(lh_snapshot_add_task(s, bg, &t) >= 0);
  }
  int ag = tk_group(s, "a-want", "a", min, 0, 0, LH_GROUP_INQUEUE);
  tk_tasks(s, ag, min, cpu(1000));
  return s;
}

static void reclaim_stops_at_deserved(void **st) {
  (void)st;
  lh_conf *cf = tk_conf(CONF_EV("reclaim"));
  lh_snapshot *s = deserved_cap_snapshot(4);
  int a = lh_snapshot_find_queue(s, "a"), h = lh_snapshot_find_queue(s, "h");
  lh_result *r = tk_run(cf, s);
  assert_int_equal(tk_share(r, a)->deserved.v[LH_RES_CPU], 2500);
  assert_int_equal(tk_share(r, h)->deserved.v[LH_RES_CPU], 2500);
  size_t n;
  lh_result_evictions(r, &n);
  assert_int_equal(n, 0);
  int ag = (int)lh_snapshot_n_groups(s) - 1;
  assert_string_equal(lh_result_group_reason(r, ag),
                      "reclaim would take queue a beyond its deserved share: cpu 4/2.5");
  lh_result_free(r);
  lh_snapshot_free(s);
  s = deserved_cap_snapshot(2);
  r = tk_run(cf, s);
  lh_result_evictions(r, &n);
  assert_int_equal(n, 2);
  assert_int_equal(tk_share(r, a)->deserved.v[LH_RES_CPU], 2000);
  assert_int_equal(tk_share(r, a)->allocated.v[LH_RES_CPU], 2000); /* pipelined, = deserved */
  lh_result_free(r);
  lh_snapshot_free(s);
  /* enablePreemptive: false on proportion lifts the cap (Volcano's switch) */
  lh_conf_free(cf);
  cf = tk_conf("actions: \"reclaim\"\ntiers:\n- plugins:\n  - name: priority\n  - name: gang\n"
               "- plugins:\n  - name: predicates\n  - name: proportion\n    enablePreemptive: false\n");
  s = deserved_cap_snapshot(4);
  r = tk_run(cf, s);
  lh_result_evictions(r, &n);
  assert_int_equal(n, 4);
  lh_result_free(r);
  lh_snapshot_free(s);
  lh_conf_free(cf);
}

/* n-0 (2 cpu) runs two 1-cpu tasks of queue h, n-1 (2 cpu) two of queue k (not reclaimable).
 * Weights a 2, h 1, k 1 give deserved a 2, h 1, k 1: h is above its deserved by one task. a's
 * one 2-cpu task would need both of h's tasks: the second would take h below its deserved, so
 * reclaim refuses (the old live-state check let both go). With one 2-cpu victim it is allowed. */
static void reclaim_refuses_second_victim_below_deserved(void **st) {
  (void)st;
  for (int big = 0; big < 2; big++) {
    lh_snapshot *s = lh_snapshot_new();
    int c = tk_cluster(s, "a");
    tk_nodes(s, c, "n", 2, cpu(2000), 110);
    tk_queue(s, "a", 2);
    tk_queue(s, "h", 1);
    lh_queue_spec q;
    lh_queue_spec_init(&q);
    q.name = "k";
    q.reclaimable = false;
    assert_true(lh_snapshot_add_queue(s, &q) >= 0);
    int hv[2];
    if (big) {
      hv[0] = hv[1] = tk_group(s, "h0", "h", 1, 0, 0, LH_GROUP_RUNNING);
      tk_running(s, hv[0], "r", cpu(2000), "a", "n-0");
    } else {
      for (int i = 0; i < 2; i++) {
        char gn[16];
        snprintf(gn, sizeof gn, "h%d", i);
        hv[i] = tk_group(s, gn, "h", 1, 0, i, LH_GROUP_RUNNING);
        tk_running(s, hv[i], "r", cpu(1000), "a", "n-0");
      }
    }
    int hm = tk_group(s, "h-more", "h", 1, 0, 9, LH_GROUP_INQUEUE);
    tk_tasks(s, hm, 2, cpu(1000));
    int kg = tk_group(s, "k0", "k", 1, 0, 0, LH_GROUP_RUNNING);
    tk_running(s, kg, "r0", cpu(1000), "a", "n-1");
    tk_running(s, kg, "r1", cpu(1000), "a", "n-1");
    int want = tk_group(s, "want", "a", 1, 0, 0, LH_GROUP_INQUEUE);
    tk_tasks(s, want, 1, cpu(2000));
    lh_conf *cf = tk_conf(CONF_EV("reclaim"));
    lh_result *r = tk_run(cf, s);
    assert_int_equal(tk_share(r, 0)->deserved.v[LH_RES_CPU], 2000);
    assert_int_equal(tk_share(r, 1)->deserved.v[LH_RES_CPU], 1000);
    size_t n;
    lh_result_evictions(r, &n);
    assert_int_equal(n, big ? 1 : 0);
    assert_int_equal(tk_binds_of(r, want), 0);
    assert_int_equal(tk_evictions_of(r, kg), 0);
    lh_result_free(r);
    lh_conf_free(cf);
    lh_snapshot_free(s);
  }
}

/* Fewest victims: one 8-cpu node full with four 1-cpu tasks (younger) and one 4-cpu task, all of
 * priority 0; a 4-cpu task needs room. Rule: lowest priority first, then fewest tasks: the one
 * big victim goes, not the four small ones. A lower-priority small victim still goes before a
 * higher-priority big one, and a small one made unnecessary by the big one is dropped. */
static void fewest_victims(void **st) {
  (void)st;
  for (int variant = 0; variant < 2; variant++) {
    lh_snapshot *s = lh_snapshot_new();
    int c = tk_cluster(s, "a");
    tk_nodes(s, c, "n", 1, cpu(8000), 110);
    tk_queue(s, "q", 1);
    int small[4], bigg;
    for (int i = 0; i < 4; i++) {
      char gn[16];
      snprintf(gn, sizeof gn, "s%d", i);
      /* variant 1: small s0 has priority -1, the others 1, the big one 0 */
      int prio = variant == 0 ? 0 : (i == 0 ? -1 : 1);
      small[i] = tk_group(s, gn, "q", 1, prio, 10 + i, LH_GROUP_RUNNING);
      tk_running(s, small[i], "r", cpu(1000), "a", "n-0");
    }
    bigg = tk_group(s, "big", "q", 1, 0, 0, LH_GROUP_RUNNING);
    tk_running(s, bigg, "r", cpu(4000), "a", "n-0");
    int want = tk_group(s, "want", "q", 1, 5, 20, LH_GROUP_INQUEUE);
    tk_tasks(s, want, 1, cpu(4000));
    lh_conf *cf = tk_conf(CONF_EV("preempt"));
    lh_result *r = tk_run(cf, s);
    size_t n;
    const lh_eviction *e = lh_result_evictions(r, &n);
    /* variant 0: the big one alone; variant 1: s0 (priority -1) is taken first but the big one
       (priority 0) is needed anyway and makes s0 unnecessary: again the big one alone, never the
       priority-1 small ones */
    assert_int_equal(n, 1);
    assert_int_equal(e[0].group, bigg);
    lh_result_free(r);
    lh_conf_free(cf);
    lh_snapshot_free(s);
  }
}

/* Volcano-style priority case: one 10-cpu node runs 10 one-cpu tasks of priorities 1..10 (one
 * group each); a task needing 4 cpu evicts exactly the 4 lowest-priority ones — by preempt inside
 * the queue, and by reclaim from a hog queue that stays at or above its deserved share. */
static void ten_tasks_four_victims(void **st) {
  (void)st;
  for (int mode = 0; mode < 2; mode++) {
    lh_snapshot *s = lh_snapshot_new();
    int c = tk_cluster(s, "a");
    tk_nodes(s, c, "n", 1, cpu(10000), 110);
    tk_queue(s, "hog", 1);
    tk_queue(s, "want", 1);
    int g[10];
    for (int i = 0; i < 10; i++) {
      char gn[16];
      snprintf(gn, sizeof gn, "p%02d", i + 1);
      g[i] = tk_group(s, gn, "hog", 1, (i * 7) % 10 + 1, i, LH_GROUP_RUNNING); /* shuffled */
      tk_running(s, g[i], "r", cpu(1000), "a", "n-0");
    }
    int more = tk_group(s, "more", "hog", 1, 0, 99, LH_GROUP_INQUEUE);
    tk_tasks(s, more, 5, cpu(1000));
    int want = tk_group(s, "w", mode ? "want" : "hog", 1, 100, 0, LH_GROUP_INQUEUE);
    tk_tasks(s, want, 1, cpu(4000));
    lh_conf *cf = tk_conf(mode ? CONF_EV("reclaim") : CONF_EV("preempt"));
    lh_result *r = tk_run(cf, s);
    size_t n;
    const lh_eviction *e = lh_result_evictions(r, &n);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++) {
      int prio = -1;
      for (int k = 0; k < 10; k++)
        if (g[k] == e[i].group) prio = (k * 7) % 10 + 1;
      assert_true(prio >= 1 && prio <= 4);
      assert_int_equal(e[i].reason, mode ? LH_EVICT_RECLAIM : LH_EVICT_PREEMPT);
    }
    lh_result_free(r);
    lh_conf_free(cf);
    lh_snapshot_free(s);
  }
}

/* Conformance: tasks of kube-system groups and critical tasks (priority >= 2000000000, the
 * system-critical range) are never victims; without the conformance plugin they are. */
static void conformance_protects_victims(void **st) {
  (void)st;
  for (int what = 0; what < 3; what++) {
    lh_snapshot *s = lh_snapshot_new();
    int c = tk_cluster(s, "a");
    tk_nodes(s, c, "n", 2, cpu(1000), 110);
    tk_queue(s, "hog", 1);
    tk_queue(s, "want", 1);
    lh_group_spec gs;
    lh_group_spec_init(&gs);
    gs.name = gs.uid = "sys";
    gs.queue = "hog";
    gs.phase = LH_GROUP_RUNNING;
    gs.ns = what == 0 ? "kube-system" : "default";
    gs.priority = what == 1 ? 2000000000 : 0;
    int sys = lh_snapshot_add_group(s, &gs);
    lh_task_spec t;
    lh_task_spec_init(&t);
    t.name = "r";
    t.request = cpu(1000);
    t.state = LH_TASK_RUNNING;
    t.cluster = "a";
    t.node = "n-0";
    t.priority = what == 2 ? 2000001000 : 0; /* system-node-critical on the task */
    assert_true(lh_snapshot_add_task(s, sys, &t) >= 0);
    t.name = "r2";
    t.node = "n-1";
    assert_true(lh_snapshot_add_task(s, sys, &t) >= 0);
    int more = tk_group(s, "more", "hog", 1, 0, 9, LH_GROUP_INQUEUE);
    tk_tasks(s, more, 2, cpu(1000));
    int want = tk_group(s, "w", "want", 1, 0, 0, LH_GROUP_INQUEUE);
    tk_tasks(s, want, 1, cpu(1000));
    for (int with = 1; with >= 0; with--) {
      lh_conf *cf = tk_conf(with ? CONF_EV("reclaim")
                                 : "actions: \"reclaim\"\ntiers:\n- plugins:\n  - name: priority\n"
                                   "  - name: gang\n- plugins:\n  - name: proportion\n");
      lh_result *r = tk_run(cf, s);
      assert_int_equal(tk_evictions_of(r, sys), with ? 0 : 1);
      lh_result_free(r);
      lh_conf_free(cf);
    }
    lh_snapshot_free(s);
  }
}

/* Gang rule counts members taken for the same task: a gang of minMember 2 runs v0, v1 on n-0
 * (2 cpu) and v2 on n-1; a 2-cpu task on n-0 needs v0 and v1. Taking both singly would leave 1 of
 * 2, so the second one takes the whole gang (v2 too). */
static void gang_rule_cumulative(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 1, cpu(2000), 110);
  lh_node_spec ns;
  lh_node_spec_init(&ns);
  ns.name = "n-1";
  ns.allocatable = cpu(1000);
  assert_true(lh_snapshot_add_node(s, c, &ns) >= 0);
  tk_queue(s, "q", 1);
  int v = tk_group(s, "victim", "q", 2, 0, 1, LH_GROUP_RUNNING);
  tk_running(s, v, "v0", cpu(1000), "a", "n-0");
  tk_running(s, v, "v1", cpu(1000), "a", "n-0");
  tk_running(s, v, "v2", cpu(1000), "a", "n-1");
  int p = tk_group(s, "urgent", "q", 1, 100, 2, LH_GROUP_INQUEUE);
  tk_tasks(s, p, 1, cpu(2000));
  lh_conf *cf = tk_conf(CONF_EV("preempt"));
  lh_result *r = tk_run(cf, s);
  assert_int_equal(tk_evictions_of(r, v), 3);
  lh_result_free(r);
  lh_conf_free(cf);
  lh_snapshot_free(s);
}

/* A gang that got tasks in this cycle is never a whole-gang victim in the same cycle: its new
 * tasks are committed decisions, so evicting its running members would leave it partly placed.
 * Gang "g" (minMember 3) runs g0..g2 on n-0..n-2; allocate binds its pending g3 on n-3 (the
 * priority-100 pair "h" does not fit in one free slot). Preempt for "h" may take one surplus
 * member, but the second would break the gang, so it must not go whole: h waits. */
static void fresh_bind_gang_not_whole_victim(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 4, ONE, 110);
  tk_queue(s, "q", 1);
  int g = tk_group(s, "g", "q", 3, 0, 0, LH_GROUP_RUNNING);
  for (int i = 0; i < 3; i++) {
    char tn[16], nn[16];
    snprintf(tn, sizeof tn, "g%d", i);
    snprintf(nn, sizeof nn, "n-%d", i);
    tk_running(s, g, tn, ONE, "a", nn);
  }
  tk_tasks(s, g, 1, ONE);
  int h = tk_group(s, "h", "q", 2, 100, 5, LH_GROUP_INQUEUE);
  tk_tasks(s, h, 2, ONE);
  lh_conf *cf = tk_conf(CONF_EV("allocate, preempt"));
  lh_result *r = tk_run(cf, s);
  assert_int_equal(tk_binds_of(r, g), 1);
  int left = 3 - tk_evictions_of(r, g) + tk_binds_of(r, g);
  if (left != 0 && left < 3) fail_msg("gang g left with %d of minMember 3", left);
  assert_int_equal(tk_evictions_of(r, g), 0);
  assert_int_equal(tk_binds_of(r, h), 0);
  lh_result_free(r);
  lh_conf_free(cf);
  lh_snapshot_free(s);
}

/* The same for pipelined tasks: reclaim pipelines the third member of gang "g" (minMember 3, two
 * running) on the node it takes from queue "o"; preempt for the priority-100 pair "h" in g's
 * queue must then not evict g's two running members (whole gang), stranding the pipelined one. */
static void fresh_pipeline_gang_not_whole_victim(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 4, ONE, 110);
  tk_queue(s, "q", 3);
  tk_queue(s, "o", 1);
  int g = tk_group(s, "g", "q", 3, 0, 0, LH_GROUP_RUNNING);
  tk_running(s, g, "g0", ONE, "a", "n-0");
  tk_running(s, g, "g1", ONE, "a", "n-1");
  tk_tasks(s, g, 1, ONE);
  for (int i = 0; i < 2; i++) {
    char gn[16], nn[16];
    snprintf(gn, sizeof gn, "o%d", i);
    snprintf(nn, sizeof nn, "n-%d", i + 2);
    int o = tk_group(s, gn, "o", 1, 0, i, LH_GROUP_RUNNING);
    tk_running(s, o, "r", ONE, "a", nn);
  }
  int h = tk_group(s, "h", "q", 2, 100, 5, LH_GROUP_INQUEUE);
  tk_tasks(s, h, 2, ONE);
  lh_conf *cf = tk_conf(CONF_EV("reclaim, preempt"));
  lh_result *r = tk_run(cf, s);
  size_t n;
  const lh_eviction *e = lh_result_evictions(r, &n);
  int for_g = 0;
  for (size_t i = 0; i < n; i++) for_g += e[i].for_group == g;
  assert_int_equal(for_g, 1); /* reclaim made room for g's third member */
  assert_string_equal(lh_result_group_reason(r, g),
                      "waiting for 1 evicted task to terminate (reclaim)");
  assert_int_equal(tk_evictions_of(r, g), 0); /* and preempt left g alone */
  lh_result_free(r);
  lh_conf_free(cf);
  lh_snapshot_free(s);
}

/* Reclaim serves queues in allocate's hierarchical order. Top level p1, p2, v1 (reclaimable),
 * v2 (not), weight 1, on 41 full one-cpu nodes; p1 -> a1, a2 and p2 -> b. a1 runs 2 and wants 3
 * more (deserved 5, share .4), a2 runs 5 (deserved 5), so p1 is at 7/10; b runs 5 and wants 5
 * more (deserved 10, share .5, p2 too); v1 runs 11 of deserved 10.5, so exactly one task can be
 * reclaimed; v2 runs 18 of 10.5 but is not reclaimable. The walk serves p2 (.5) before p1 (.7):
 * b's group gets the one victim — a flat order by own share would give it to a1 (.4). */
static void reclaim_walks_queue_tree(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 41, cpu(1000), 110);
  const char *qn[7] = {"p1", "p2", "v1", "v2", "a1", "a2", "b"};
  const char *qp[7] = {NULL, NULL, NULL, NULL, "p1", "p1", "p2"};
  for (int i = 0; i < 7; i++) {
    lh_queue_spec q;
    lh_queue_spec_init(&q);
    q.name = qn[i];
    q.parent = qp[i];
    q.reclaimable = strcmp(qn[i], "v2") != 0;
    assert_true(lh_snapshot_add_queue(s, &q) >= 0);
  }
  const char *rq[5] = {"a1", "a2", "b", "v1", "v2"};
  const int rn[5] = {2, 5, 5, 11, 18};
  int node = 0;
  for (int k = 0; k < 5; k++)
    for (int i = 0; i < rn[k]; i++) {
      char gn[16], nn[16];
      snprintf(gn, sizeof gn, "%s-run%d", rq[k], i);
      snprintf(nn, sizeof nn, "n-%d", node++);
      int g = tk_group(s, gn, rq[k], 1, 0, i, LH_GROUP_RUNNING);
      tk_running(s, g, "r", cpu(1000), "a", nn);
    }
  int wa = tk_group(s, "a1-want", "a1", 1, 0, 0, LH_GROUP_INQUEUE);
  tk_tasks(s, wa, 3, cpu(1000));
  int wb = tk_group(s, "b-want", "b", 1, 0, 0, LH_GROUP_INQUEUE);
  tk_tasks(s, wb, 5, cpu(1000));
  lh_conf *cf = tk_conf(CONF_EV("reclaim"));
  lh_result *r = tk_run(cf, s);
  assert_int_equal(tk_share(r, 4)->deserved.v[LH_RES_CPU], 5000);
  assert_int_equal(tk_share(r, 6)->deserved.v[LH_RES_CPU], 10000);
  assert_int_equal(tk_share(r, 2)->deserved.v[LH_RES_CPU], 10500);
  size_t n;
  const lh_eviction *e = lh_result_evictions(r, &n);
  assert_int_equal(n, 1);
  if (e[0].for_group != wb)
    fail_msg("the victim went to %s, not default/b-want", lh_snapshot_group_name(s, e[0].for_group));
  assert_int_equal(strncmp(lh_snapshot_group_name(s, e[0].group), "default/v1-", 11), 0);
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
      cmocka_unit_test(reclaim_stops_at_deserved),
      cmocka_unit_test(reclaim_refuses_second_victim_below_deserved),
      cmocka_unit_test(fewest_victims),
      cmocka_unit_test(ten_tasks_four_victims),
      cmocka_unit_test(conformance_protects_victims),
      cmocka_unit_test(gang_rule_cumulative),
      cmocka_unit_test(fresh_bind_gang_not_whole_victim),
      cmocka_unit_test(fresh_pipeline_gang_not_whole_victim),
      cmocka_unit_test(reclaim_walks_queue_tree),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
