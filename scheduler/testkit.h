/* testkit.h — small snapshot builders for the scheduler's unit tests (tests/unit/test_sched_*.c).
 * Header-only, test code only: every helper asserts success through the caller's assert macro
 * (cmocka), so a broken builder fails the test instead of silently producing another model. */
#ifndef LAHAR_SCHED_TESTKIT_H
#define LAHAR_SCHED_TESTKIT_H

#include <stdio.h>
#include <string.h>

#include "scheduler/lahar_sched.h"

#define TK_GI (INT64_C(1) << 30)

static inline lh_res tk_res(int64_t cpu_m, int64_t mem, int64_t gpu) {
  lh_res r = {{cpu_m, mem, gpu}};
  return r;
}

static inline int tk_cluster(lh_snapshot *s, const char *name) {
  int c = lh_snapshot_add_cluster(s, name, LH_CLUSTER_DEDICATED, NULL);
  assert_true(c >= 0);
  return c;
}

static inline int tk_serverless(lh_snapshot *s, const char *name, lh_res quota) {
  int c = lh_snapshot_add_cluster(s, name, LH_CLUSTER_SERVERLESS, &quota);
  assert_true(c >= 0);
  return c;
}

/* n nodes "<prefix>-<i>" with the given capacity */
static inline void tk_nodes(lh_snapshot *s, int c, const char *prefix, int n, lh_res cap,
                            int max_pods) {
  for (int i = 0; i < n; i++) {
    char name[64];
    snprintf(name, sizeof name, "%s-%d", prefix, i);
    lh_node_spec ns;
    lh_node_spec_init(&ns);
    ns.name = name;
    ns.allocatable = cap;
    ns.max_pods = max_pods;
    assert_true(lh_snapshot_add_node(s, c, &ns) >= 0);
  }
}

static inline int tk_queue(lh_snapshot *s, const char *name, int weight) {
  lh_queue_spec q;
  lh_queue_spec_init(&q);
  q.name = name;
  q.weight = weight;
  int i = lh_snapshot_add_queue(s, &q);
  assert_true(i >= 0);
  return i;
}

static inline int tk_group(lh_snapshot *s, const char *name, const char *queue, int min,
                           int prio, int64_t ctime, lh_group_phase phase) {
  lh_group_spec g;
  lh_group_spec_init(&g);
  g.name = name;
  g.uid = name;
  g.queue = queue;
  g.min_member = min;
  g.priority = prio;
  g.creation_time = ctime;
  g.phase = phase;
  int i = lh_snapshot_add_group(s, &g);
  assert_true(i >= 0);
  return i;
}

/* n pending tasks "<group>-<i>" of one request */
static inline void tk_tasks(lh_snapshot *s, int g, int n, lh_res req) {
  for (int i = 0; i < n; i++) {
    char name[64];
    snprintf(name, sizeof name, "t%04d", i);
    lh_task_spec t;
    lh_task_spec_init(&t);
    t.name = name;
    t.request = req;
    assert_true(lh_snapshot_add_task(s, g, &t) >= 0);
  }
}

static inline int tk_running(lh_snapshot *s, int g, const char *name, lh_res req,
                             const char *cluster, const char *node) {
  lh_task_spec t;
  lh_task_spec_init(&t);
  t.name = name;
  t.request = req;
  t.state = LH_TASK_RUNNING;
  t.cluster = cluster;
  t.node = node;
  int i = lh_snapshot_add_task(s, g, &t);
  assert_true(i >= 0);
  return i;
}

static inline lh_result *tk_run(const lh_conf *c, const lh_snapshot *s) {
  lh_result *r = NULL;
  assert_int_equal(lh_schedule(c, s, 1000, &r), 0);
  assert_non_null(r);
  return r;
}

static inline lh_conf *tk_conf(const char *yaml) {
  char err[256];
  lh_conf *c = NULL;
  int rc = lh_conf_parse(yaml, strlen(yaml), &c, err, sizeof err);
  if (rc) fprintf(stderr, "conf: %s\n", err);
  assert_int_equal(rc, 0);
  return c;
}

static inline int tk_binds_of(const lh_result *r, int g) {
  size_t n;
  const lh_bind *b = lh_result_binds(r, &n);
  int k = 0;
  for (size_t i = 0; i < n; i++) k += b[i].group == g;
  return k;
}

static inline int tk_evictions_of(const lh_result *r, int g) {
  size_t n;
  const lh_eviction *e = lh_result_evictions(r, &n);
  int k = 0;
  for (size_t i = 0; i < n; i++) k += e[i].group == g;
  return k;
}

static inline const lh_queue_share *tk_share(const lh_result *r, int q) {
  size_t n;
  const lh_queue_share *qs = lh_result_queues(r, &n);
  assert_true((size_t)q < n);
  return &qs[q];
}

#define TK_CONF_ALL                                                                  \
  "actions: \"enqueue, allocate, backfill, reclaim, preempt\"\n"                     \
  "tiers:\n- plugins:\n  - name: priority\n  - name: gang\n  - name: conformance\n"  \
  "- plugins:\n  - name: drf\n  - name: predicates\n  - name: proportion\n"         \
  "  - name: nodeorder\n"

#endif
