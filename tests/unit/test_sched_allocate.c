/* test_sched_allocate.c — enqueue, gang allocate (all-or-nothing, one cluster), queue order and
 * DRF, backfill, serverless bursting, pending reasons, determinism, and the two Volcano pain
 * points: the 100/100 deadlock and the drained gang. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "scheduler/testkit.h"

#define CONF_NO_ENQ                                                                  \
  "actions: \"allocate, backfill\"\n"                                                \
  "tiers:\n- plugins:\n  - name: priority\n  - name: gang\n"                         \
  "- plugins:\n  - name: drf\n  - name: predicates\n  - name: proportion\n  - name: nodeorder\n"

/* 1.0 all-or-nothing: a gang of 4 two-GPU tasks on 3 nodes of 3 GPUs (9 free, 8 needed, but
 * only one task per node) gets nothing, with an exact reason */
static void gang_all_or_nothing(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "cce-a");
  tk_nodes(s, c, "n", 3, tk_res(4000, 8 * TK_GI, 3), 110);
  tk_queue(s, "q1", 1);
  int g = tk_group(s, "job", "q1", 4, 0, 1, LH_GROUP_INQUEUE);
  tk_tasks(s, g, 4, tk_res(1000, TK_GI, 2));
  lh_conf *cf = lh_conf_default();
  lh_result *r = tk_run(cf, s);
  assert_int_equal(tk_binds_of(r, g), 0);
  assert_string_equal(lh_result_group_reason(r, g),
                      "gang 3/4: insufficient nvidia.com/gpu on 3 nodes of cluster cce-a");
  lh_result_free(r);
  lh_conf_free(cf);
  lh_snapshot_free(s);
}

/* 1.1 one cluster: 2+2 free slots in two clusters cannot host a gang of 3 */
static void gang_stays_in_one_cluster(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int a = tk_cluster(s, "a"), b = tk_cluster(s, "b");
  tk_nodes(s, a, "a", 2, tk_res(1000, TK_GI, 0), 110);
  tk_nodes(s, b, "b", 2, tk_res(1000, TK_GI, 0), 110);
  tk_queue(s, "q", 1);
  int g3 = tk_group(s, "three", "q", 3, 0, 1, LH_GROUP_INQUEUE);
  tk_tasks(s, g3, 3, tk_res(1000, TK_GI, 0));
  int g2 = tk_group(s, "two", "q", 2, 0, 2, LH_GROUP_INQUEUE);
  tk_tasks(s, g2, 2, tk_res(1000, TK_GI, 0));
  lh_conf *cf = tk_conf(CONF_NO_ENQ);
  lh_result *r = tk_run(cf, s);
  assert_int_equal(tk_binds_of(r, g3), 0);
  assert_int_equal(tk_binds_of(r, g2), 2);
  size_t n;
  const lh_bind *bd = lh_result_binds(r, &n);
  for (size_t i = 0; i < n; i++) assert_int_equal(bd[i].cluster, bd[0].cluster);
  assert_non_null(lh_result_group_reason(r, g3));
  lh_result_free(r);
  lh_conf_free(cf);
  lh_snapshot_free(s);
}

/* 2.0 the deadlock: two jobs of 100 pods, minAvailable 100, 100 nodes of one pod each */
static void deadlock_one_job_gets_all(void **st) {
  (void)st;
  for (int with_enqueue = 0; with_enqueue < 2; with_enqueue++) {
    lh_snapshot *s = lh_snapshot_new();
    int c = tk_cluster(s, "a");
    tk_nodes(s, c, "n", 100, tk_res(1000, TK_GI, 0), 110);
    tk_queue(s, "q", 1);
    lh_group_phase ph = with_enqueue ? LH_GROUP_PENDING : LH_GROUP_INQUEUE;
    int g1 = tk_group(s, "job-1", "q", 100, 0, 1, ph);
    int g2 = tk_group(s, "job-2", "q", 100, 0, 1, ph);
    /* job-2's tasks are inserted first: the winner must not depend on insertion order */
    tk_tasks(s, g2, 100, tk_res(1000, TK_GI, 0));
    tk_tasks(s, g1, 100, tk_res(1000, TK_GI, 0));
    lh_conf *cf = with_enqueue ? lh_conf_default() : tk_conf(CONF_NO_ENQ);
    lh_result *r = tk_run(cf, s);
    int b1 = tk_binds_of(r, g1), b2 = tk_binds_of(r, g2);
    assert_true((b1 == 100 && b2 == 0) || (b1 == 0 && b2 == 100));
    assert_int_equal(b1, 100); /* same creation time: uid "job-1" < "job-2" */
    assert_non_null(lh_result_group_reason(r, g2));
    assert_null(lh_result_group_reason(r, g1));
    lh_result_free(r);
    lh_conf_free(cf);
    lh_snapshot_free(s);
  }
}

/* 2.1 node drain: a gang with 3/4 running and one pending replacement is refilled before a
 * fresh zero-share job of another queue takes the single free slot */
static void drained_gang_refilled_first(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 4, tk_res(1000, TK_GI, 0), 110);
  tk_queue(s, "busy", 1);
  tk_queue(s, "idle", 1);
  int old = tk_group(s, "old", "busy", 4, 0, 1, LH_GROUP_RUNNING);
  lh_res one = tk_res(1000, TK_GI, 0);
  tk_running(s, old, "r0", one, "a", "n-0");
  tk_running(s, old, "r1", one, "a", "n-1");
  tk_running(s, old, "r2", one, "a", "n-2");
  lh_task_spec t;
  lh_task_spec_init(&t);
  t.name = "replacement";
  t.request = one;
  assert_true(lh_snapshot_add_task(s, old, &t) >= 0);
  int fresh = tk_group(s, "fresh", "idle", 1, 0, 0, LH_GROUP_INQUEUE);
  tk_tasks(s, fresh, 1, one);
  lh_conf *cf = lh_conf_default();
  lh_result *r = tk_run(cf, s);
  assert_int_equal(tk_binds_of(r, old), 1);
  assert_int_equal(tk_binds_of(r, fresh), 0);
  lh_result_free(r);
  lh_conf_free(cf);
  lh_snapshot_free(s);
}

/* 2.2 node drain, no room anywhere: the broken gang is released whole */
static void drained_gang_released_whole(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 3, tk_res(1000, TK_GI, 0), 110);
  tk_queue(s, "q", 1);
  int old = tk_group(s, "old", "q", 4, 0, 1, LH_GROUP_RUNNING);
  lh_res one = tk_res(1000, TK_GI, 0);
  tk_running(s, old, "r0", one, "a", "n-0");
  tk_running(s, old, "r1", one, "a", "n-1");
  tk_running(s, old, "r2", one, "a", "n-2");
  lh_task_spec t;
  lh_task_spec_init(&t);
  t.name = "replacement";
  t.request = one;
  assert_true(lh_snapshot_add_task(s, old, &t) >= 0);
  lh_conf *cf = lh_conf_default();
  lh_result *r = tk_run(cf, s);
  assert_int_equal(tk_binds_of(r, old), 0);
  assert_int_equal(tk_evictions_of(r, old), 3);
  size_t n;
  const lh_eviction *e = lh_result_evictions(r, &n);
  assert_int_equal(e[0].reason, LH_EVICT_GANG_BROKEN);
  assert_string_equal(lh_result_group_reason(r, old),
                      "gang 3/4 broken and released: gang 3/4: insufficient cpu in cluster a: "
                      "0 free, 1 needed");
  lh_result_free(r);
  lh_conf_free(cf);
  /* with lahar.releaseBrokenGang: false it keeps running */
  cf = tk_conf("actions: \"enqueue, allocate\"\ntiers:\n- plugins:\n  - name: gang\n"
               "configurations:\n- name: gang\n  arguments:\n    lahar.releaseBrokenGang: false\n");
  r = tk_run(cf, s);
  assert_int_equal(tk_evictions_of(r, old), 0);
  lh_result_free(r);
  lh_conf_free(cf);
  lh_snapshot_free(s);
}

/* 3.0 enqueue: admit within deserved, reject at capability / closed queue with exact reasons */
static void enqueue_rules(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 8, tk_res(8000, 32 * TK_GI, 0), 110);
  lh_queue_spec q;
  lh_queue_spec_init(&q);
  q.name = "q1";
  q.capability.v[LH_RES_CPU] = 64000;
  assert_true(lh_snapshot_add_queue(s, &q) >= 0);
  lh_queue_spec_init(&q);
  q.name = "shut";
  q.state = LH_QUEUE_CLOSED;
  assert_true(lh_snapshot_add_queue(s, &q) >= 0);
  /* q1 is full: a running group uses all 64 cpu */
  int run = tk_group(s, "run", "q1", 1, 0, 0, LH_GROUP_RUNNING);
  for (int i = 0; i < 8; i++) {
    char tn[16], nn[16];
    snprintf(tn, sizeof tn, "r%d", i);
    snprintf(nn, sizeof nn, "n-%d", i);
    tk_running(s, run, tn, tk_res(8000, TK_GI, 0), "a", nn);
  }
  lh_group_spec g;
  lh_group_spec_init(&g);
  g.name = g.uid = "more";
  g.queue = "q1";
  g.min_resources = tk_res(8000, 0, 0);
  int more = lh_snapshot_add_group(s, &g);
  tk_tasks(s, more, 1, tk_res(8000, 0, 0));
  g.name = g.uid = "closed";
  g.queue = "shut";
  int closed = lh_snapshot_add_group(s, &g);
  tk_tasks(s, closed, 1, tk_res(8000, 0, 0));
  lh_conf *cf = lh_conf_default();
  lh_result *r = tk_run(cf, s);
  size_t na;
  lh_result_admitted(r, &na);
  assert_int_equal(na, 0);
  assert_string_equal(lh_result_group_reason(r, more), "queue q1 at capability: cpu 64/64");
  assert_string_equal(lh_result_group_reason(r, closed), "queue shut is closed");
  lh_result_free(r);
  lh_conf_free(cf);
  lh_snapshot_free(s);
}

/* 3.1 enqueue never admits more than the deserved share: 3 groups of 40 cpu, 100 cpu cluster,
 * two queues of equal weight and equal demand: each queue may admit only one (deserved 50) */
static void enqueue_within_deserved(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 10, tk_res(10000, 0, 0), 110);
  tk_queue(s, "qa", 1);
  tk_queue(s, "qb", 1);
  int gs[4];
  const char *qn[4] = {"qa", "qa", "qb", "qb"};
  for (int i = 0; i < 4; i++) {
    char nm[16];
    snprintf(nm, sizeof nm, "g%d", i);
    lh_group_spec g;
    lh_group_spec_init(&g);
    g.name = g.uid = nm;
    g.queue = qn[i];
    g.min_resources = tk_res(40000, 0, 0);
    g.creation_time = i;
    gs[i] = lh_snapshot_add_group(s, &g);
    tk_tasks(s, gs[i], 1, tk_res(40000, 0, 0));
  }
  lh_conf *cf = lh_conf_default();
  lh_result *r = tk_run(cf, s);
  size_t na;
  const int32_t *adm = lh_result_admitted(r, &na);
  assert_int_equal(na, 2);
  assert_int_equal(adm[0], gs[0]);
  assert_int_equal(adm[1], gs[2]);
  assert_string_equal(lh_result_group_reason(r, gs[1]),
                      "queue qa deserved share exhausted: cpu 40/50");
  lh_result_free(r);
  lh_conf_free(cf);
  lh_snapshot_free(s);
}

/* 3.2 one queue, 100 pending gangs of 10 pods and room for all of them: one cycle admits and
 * binds every gang, however minResources is set (the queue's request, which caps its deserved
 * share, counts every pending task, not only minResources: with minResources standing in for
 * the tasks, deserved was 1/10 of what the gangs ask and allocate stopped the queue as overused
 * after 10 gangs: "queue default over its deserved share: memory 25Gi/0"). */
static void one_cycle_admits_and_binds_all_gangs(void **st) {
  (void)st;
  const int64_t mi = INT64_C(1) << 20;
  const lh_res pod = tk_res(1000, 256 * mi, 0);
  struct {
    int32_t min_member;
    lh_res min_res;
  } v[] = {
      {10, {{10000, 2560 * mi, 0}}}, /* minResources = the whole gang */
      {10, {{1000, 0, 0}}},          /* one pod's cpu, no memory (the reported case) */
      {1, {{1000, 256 * mi, 0}}},    /* minAvailable 1: one pod */
      {10, {{0, 0, 0}}},             /* not set: always enqueueable */
      {10, {{0, 2560 * mi, 0}}},     /* memory only */
  };
  for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
    lh_snapshot *s = lh_snapshot_new();
    int c = tk_cluster(s, "a");
    tk_nodes(s, c, "n", 20, tk_res(64000, 256 * TK_GI, 0), 110);
    tk_queue(s, "default", 1);
    for (int i = 0; i < 100; i++) {
      char nm[16];
      snprintf(nm, sizeof nm, "g%03d", i);
      lh_group_spec g;
      lh_group_spec_init(&g);
      g.name = g.uid = nm;
      g.queue = "default";
      g.min_member = v[k].min_member;
      g.min_resources = v[k].min_res;
      g.creation_time = i;
      int gi = lh_snapshot_add_group(s, &g);
      assert_true(gi >= 0);
      tk_tasks(s, gi, 10, pod);
    }
    lh_conf *cf = tk_conf(TK_CONF_ALL);
    lh_result *r = tk_run(cf, s);
    size_t nb, na, np;
    lh_result_binds(r, &nb);
    lh_result_admitted(r, &na);
    const lh_pending *p = lh_result_pending(r, &np);
    if (np) fprintf(stderr, "variant %zu: %s\n", k, p[0].reason);
    assert_int_equal(na, 100);
    assert_int_equal(np, 0);
    assert_int_equal(nb, 1000);
    const lh_queue_share *q = tk_share(r, 0);
    assert_int_equal(q->request.v[LH_RES_CPU], 1000 * pod.v[LH_RES_CPU]);
    assert_int_equal(q->request.v[LH_RES_MEM], 1000 * pod.v[LH_RES_MEM]);
    assert_int_equal(q->deserved.v[LH_RES_CPU], 1000 * pod.v[LH_RES_CPU]);
    assert_int_equal(q->deserved.v[LH_RES_MEM], 1000 * pod.v[LH_RES_MEM]);
    assert_int_equal(q->deserved.v[LH_RES_GPU], 0);
    lh_result_free(r);
    lh_conf_free(cf);
    lh_snapshot_free(s);
  }
}

/* 4.0 queue order: the queue with the lower share is served first */
static void lowest_share_queue_first(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 4, tk_res(1000, TK_GI, 0), 110);
  tk_queue(s, "rich", 1);
  tk_queue(s, "poor", 1);
  int rg = tk_group(s, "rich-run", "rich", 1, 0, 0, LH_GROUP_RUNNING);
  tk_running(s, rg, "r", tk_res(1000, TK_GI, 0), "a", "n-0");
  int rich = tk_group(s, "rich-new", "rich", 1, 0, 0, LH_GROUP_INQUEUE);
  tk_tasks(s, rich, 1, tk_res(1000, TK_GI, 0));
  int poor = tk_group(s, "poor-new", "poor", 3, 0, 5, LH_GROUP_INQUEUE);
  tk_tasks(s, poor, 3, tk_res(1000, TK_GI, 0));
  lh_conf *cf = tk_conf(CONF_NO_ENQ);
  lh_result *r = tk_run(cf, s);
  assert_int_equal(tk_binds_of(r, poor), 3);
  assert_int_equal(tk_binds_of(r, rich), 0);
  lh_result_free(r);
  lh_conf_free(cf);
  lh_snapshot_free(s);
}

/* 4.0b queue order counts a queue's share after its next task (Jefferson): 6 one-cpu slots,
 * queue "big" (weight 8) and s1..s4 (weight 1), six one-task groups each: deserved 4 and 0.5 x 4.
 * Lowest share *before* allocating gives big 1, s1..s4 1 each, big 1 more: big ends 2 short of
 * its 4. Every queue must end within one task of its share: big 4 (or 3), the s queues 0 or 1. */
static void queues_get_share_within_one_task(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 6, tk_res(1000, TK_GI, 0), 110);
  const char *qn[5] = {"big", "s1", "s2", "s3", "s4"};
  int gs[5][6];
  for (int q = 0; q < 5; q++) {
    tk_queue(s, qn[q], q == 0 ? 8 : 1);
    for (int i = 0; i < 6; i++) {
      char gn[16];
      snprintf(gn, sizeof gn, "%s-%d", qn[q], i);
      gs[q][i] = tk_group(s, gn, qn[q], 1, 0, i, LH_GROUP_INQUEUE);
      tk_tasks(s, gs[q][i], 1, tk_res(1000, TK_GI, 0));
    }
  }
  lh_conf *cf = tk_conf(CONF_NO_ENQ);
  lh_result *r = tk_run(cf, s);
  int got[5] = {0}, total = 0;
  for (int q = 0; q < 5; q++) {
    for (int i = 0; i < 6; i++) got[q] += tk_binds_of(r, gs[q][i]);
    total += got[q];
    assert_int_equal(tk_share(r, q)->deserved.v[LH_RES_CPU], q == 0 ? 4000 : 500);
  }
  assert_int_equal(total, 6);
  if (got[0] < 3) fail_msg("big (deserved 4 of 6) got %d; s1..s4 got %d %d %d %d", got[0], got[1], got[2], got[3], got[4]);
  for (int q = 1; q < 5; q++) assert_true(got[q] <= 1);
  lh_result_free(r);
  lh_conf_free(cf);
  lh_snapshot_free(s);
}

/* 4.1 inside a queue: priority first, then DRF (lower dominant share), then age */
static void job_order_priority_drf_age(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 3, tk_res(1000, TK_GI, 0), 110);
  tk_queue(s, "q", 1);
  /* big already holds 1 slot -> higher DRF share than small */
  int big = tk_group(s, "big", "q", 1, 0, 0, LH_GROUP_RUNNING);
  tk_running(s, big, "r", tk_res(1000, TK_GI, 0), "a", "n-0");
  tk_tasks(s, big, 1, tk_res(1000, TK_GI, 0));
  int small = tk_group(s, "small", "q", 1, 0, 9, LH_GROUP_INQUEUE); /* younger */
  tk_tasks(s, small, 1, tk_res(1000, TK_GI, 0));
  int vip = tk_group(s, "vip", "q", 1, 10, 99, LH_GROUP_INQUEUE);
  tk_tasks(s, vip, 1, tk_res(1000, TK_GI, 0));
  lh_conf *cf = tk_conf(CONF_NO_ENQ);
  lh_result *r = tk_run(cf, s);
  assert_int_equal(tk_binds_of(r, vip), 1);
  assert_int_equal(tk_binds_of(r, small), 1);
  assert_int_equal(tk_binds_of(r, big), 0);
  size_t n;
  const lh_bind *b = lh_result_binds(r, &n);
  assert_int_equal(n, 2);
  assert_int_equal(b[0].group, vip);
  lh_result_free(r);
  lh_conf_free(cf);
  lh_snapshot_free(s);
}

/* 5.0 backfill: best-effort tasks take what is left, beyond the resources */
static void backfill_best_effort(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 2, tk_res(1000, TK_GI, 0), 3);
  tk_queue(s, "q", 1);
  int full = tk_group(s, "full", "q", 2, 0, 0, LH_GROUP_INQUEUE);
  tk_tasks(s, full, 2, tk_res(1000, TK_GI, 0));
  int be = tk_group(s, "be", "q", 1, 0, 1, LH_GROUP_INQUEUE);
  tk_tasks(s, be, 5, tk_res(0, 0, 0));
  lh_conf *cf = lh_conf_default();
  lh_result *r = tk_run(cf, s);
  assert_int_equal(tk_binds_of(r, full), 2);
  assert_int_equal(tk_binds_of(r, be), 4); /* max 3 pods per node: 2 left on each */
  lh_result_free(r);
  lh_conf_free(cf);
  /* without backfill allocate places only the best-effort tasks minMember needs */
  cf = tk_conf("actions: \"enqueue, allocate\"\ntiers:\n- plugins:\n  - name: gang\n");
  r = tk_run(cf, s);
  assert_int_equal(tk_binds_of(r, be), 1);
  lh_result_free(r);
  lh_conf_free(cf);
  lh_snapshot_free(s);
}

/* 6.0 serverless: burst only when no dedicated cluster fits; off by configuration */
static void serverless_burst(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int d = tk_cluster(s, "cce-a");
  tk_nodes(s, d, "n", 2, tk_res(4000, 8 * TK_GI, 0), 110);
  int sl = tk_serverless(s, "bci", tk_res(100000, 400 * TK_GI, 0));
  tk_queue(s, "q", 1);
  int small = tk_group(s, "small", "q", 2, 0, 0, LH_GROUP_INQUEUE);
  tk_tasks(s, small, 2, tk_res(4000, 8 * TK_GI, 0));
  int big = tk_group(s, "big", "q", 4, 0, 1, LH_GROUP_INQUEUE);
  tk_tasks(s, big, 4, tk_res(4000, 8 * TK_GI, 0));
  lh_conf *cf = tk_conf(CONF_NO_ENQ);
  lh_result *r = tk_run(cf, s);
  size_t n;
  const lh_bind *b = lh_result_binds(r, &n);
  assert_int_equal(n, 6);
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(b[i].cluster, b[i].group == small ? d : sl);
    if (b[i].cluster == sl) assert_int_equal(b[i].node, -1);
  }
  lh_result_free(r);
  lh_conf_free(cf);
  cf = tk_conf(CONF_NO_ENQ "configurations:\n- name: allocate\n  arguments:\n"
                           "    lahar.serverlessBurst: false\n");
  r = tk_run(cf, s);
  assert_int_equal(tk_binds_of(r, big), 0);
  assert_string_equal(lh_result_group_reason(r, big),
                      "gang 0/4: insufficient cpu in cluster cce-a: 0 free, 16 needed");
  lh_result_free(r);
  lh_conf_free(cf);
  lh_snapshot_free(s);
}

/* 6.1 serverless quota is a hard limit with its own reason */
static void serverless_quota_reason(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  tk_serverless(s, "bci", tk_res(8000, 64 * TK_GI, 0));
  tk_queue(s, "q", 1);
  int g = tk_group(s, "g", "q", 3, 0, 0, LH_GROUP_INQUEUE);
  tk_tasks(s, g, 3, tk_res(2000, 32 * TK_GI, 0));
  lh_conf *cf = tk_conf(CONF_NO_ENQ);
  lh_result *r = tk_run(cf, s);
  assert_int_equal(tk_binds_of(r, g), 0);
  assert_string_equal(lh_result_group_reason(r, g),
                      "gang 0/3: insufficient memory in cluster bci: 64Gi free, 96Gi needed");
  lh_result_free(r);
  lh_conf_free(cf);
  lh_snapshot_free(s);
}

/* 7.0 determinism: same snapshot -> byte-identical decisions; rebuilt snapshot -> same */
static lh_snapshot *mixed(void) {
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a"), c2 = tk_cluster(s, "b");
  tk_nodes(s, c, "a", 50, tk_res(8000, 32 * TK_GI, 1), 110);
  tk_nodes(s, c2, "b", 30, tk_res(16000, 64 * TK_GI, 0), 110);
  tk_queue(s, "q1", 1);
  tk_queue(s, "q2", 2);
  for (int i = 0; i < 60; i++) {
    char nm[16];
    snprintf(nm, sizeof nm, "job%02d", i);
    int g = tk_group(s, nm, i % 2 ? "q1" : "q2", 1 + i % 5, i % 3, i / 7, LH_GROUP_PENDING);
    tk_tasks(s, g, 1 + i % 5, tk_res(1000 * (1 + i % 4), TK_GI * (1 + i % 3), i % 7 == 0));
  }
  return s;
}

static void determinism(void **st) {
  (void)st;
  lh_conf *cf = lh_conf_default();
  lh_snapshot *s1 = mixed(), *s2 = mixed();
  lh_result *r1 = tk_run(cf, s1), *r2 = tk_run(cf, s1), *r3 = tk_run(cf, s2);
  size_t n1, n2, n3;
  const lh_bind *b1 = lh_result_binds(r1, &n1), *b2 = lh_result_binds(r2, &n2),
                *b3 = lh_result_binds(r3, &n3);
  assert_true(n1 > 0);
  assert_int_equal(n1, n2);
  assert_int_equal(n1, n3);
  assert_memory_equal(b1, b2, n1 * sizeof(*b1));
  assert_memory_equal(b1, b3, n1 * sizeof(*b1));
  size_t p1, p3;
  const lh_pending *q1 = lh_result_pending(r1, &p1), *q3 = lh_result_pending(r3, &p3);
  assert_int_equal(p1, p3);
  for (size_t i = 0; i < p1; i++) assert_string_equal(q1[i].reason, q3[i].reason);
  lh_result_free(r1);
  lh_result_free(r2);
  lh_result_free(r3);
  lh_snapshot_free(s1);
  lh_snapshot_free(s2);
  lh_conf_free(cf);
}

/* 8.0 pending reasons for too few tasks and for queue capability inside allocate */
static void reasons_misc(void **st) {
  (void)st;
  lh_snapshot *s = lh_snapshot_new();
  int c = tk_cluster(s, "a");
  tk_nodes(s, c, "n", 4, tk_res(4000, 8 * TK_GI, 0), 110);
  lh_queue_spec q;
  lh_queue_spec_init(&q);
  q.name = "small";
  q.capability.v[LH_RES_CPU] = 2000;
  assert_true(lh_snapshot_add_queue(s, &q) >= 0);
  int few = tk_group(s, "few", "small", 5, 0, 0, LH_GROUP_INQUEUE);
  tk_tasks(s, few, 2, tk_res(1000, 0, 0));
  int capped = tk_group(s, "capped", "small", 3, 0, 1, LH_GROUP_INQUEUE);
  tk_tasks(s, capped, 3, tk_res(1000, 0, 0));
  lh_conf *cf = tk_conf(CONF_NO_ENQ);
  lh_result *r = tk_run(cf, s);
  assert_string_equal(lh_result_group_reason(r, few), "gang 0/5: the group has only 2 tasks");
  assert_string_equal(lh_result_group_reason(r, capped), "queue small at capability: cpu 2/2");
  assert_int_equal(tk_binds_of(r, capped), 0);
  lh_result_free(r);
  lh_conf_free(cf);
  lh_snapshot_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(gang_all_or_nothing),     cmocka_unit_test(gang_stays_in_one_cluster),
      cmocka_unit_test(deadlock_one_job_gets_all), cmocka_unit_test(drained_gang_refilled_first),
      cmocka_unit_test(drained_gang_released_whole), cmocka_unit_test(enqueue_rules),
      cmocka_unit_test(enqueue_within_deserved),
      cmocka_unit_test(one_cycle_admits_and_binds_all_gangs),
      cmocka_unit_test(lowest_share_queue_first),
      cmocka_unit_test(queues_get_share_within_one_task),
      cmocka_unit_test(job_order_priority_drf_age), cmocka_unit_test(backfill_best_effort),
      cmocka_unit_test(serverless_burst),        cmocka_unit_test(serverless_quota_reason),
      cmocka_unit_test(determinism),             cmocka_unit_test(reasons_misc),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
