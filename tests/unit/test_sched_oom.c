/* test_sched_oom.c — out-of-memory fault injection (test builds only, see scheduler/arena.h):
 * the Nth allocation of the core fails, for every N from 1 until a whole run (snapshot building
 * and lh_schedule with every action) sees no failure. A failed lh_snapshot_add_* must return
 * LH_ENOMEM and leave the snapshot usable (retrying the same add then gives a snapshot that
 * schedules exactly like one built without failures); a failed lh_schedule must return LH_ENOMEM
 * with *out NULL. ASan (these tests are built with it) reports any leak or bad access. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "scheduler/arena.h"
#include "scheduler/testkit.h"

/* Runs `expr` (an lh_snapshot_add_* call) until it does not fail with LH_ENOMEM; counts
 * failures. Injection is one-shot, so the retry succeeds. */
#define ADD(var, expr)                    \
  do {                                    \
    for (;;) {                            \
      int rc_ = (expr);                   \
      if (rc_ == LH_ENOMEM) {             \
        (*fails)++;                       \
        continue;                         \
      }                                   \
      assert_true(rc_ >= 0);              \
      var = rc_;                          \
      break;                              \
    }                                     \
  } while (0)

static const char *CONF =
    "actions: \"enqueue, allocate, backfill, reclaim, preempt\"\n"
    "tiers:\n- plugins:\n  - name: priority\n  - name: gang\n  - name: conformance\n"
    "- plugins:\n  - name: overcommit\n  - name: drf\n    enableHierarchy: true\n"
    "  - name: predicates\n  - name: proportion\n  - name: nodeorder\n  - name: binpack\n";

/* Builds a snapshot touching every model feature: two dedicated clusters (labels, taints,
 * cordon), a serverless one, hierarchical queues, running / releasing / pending tasks,
 * selectors, tolerations, required clusters, best-effort tasks. */
static lh_snapshot *build(int *fails) {
  lh_snapshot *s = NULL;
  while (!(s = lh_snapshot_new())) (*fails)++;
  int c, d, x;
  ADD(c, lh_snapshot_add_cluster(s, "a", LH_CLUSTER_DEDICATED, NULL));
  ADD(d, lh_snapshot_add_cluster(s, "b", LH_CLUSTER_DEDICATED, NULL));
  lh_res quota = tk_res(16000, 64 * TK_GI, 0);
  ADD(x, lh_snapshot_add_cluster(s, "sls", LH_CLUSTER_SERVERLESS, &quota));
  lh_kv lab[2] = {{"zone", "z1"}, {"accel", "gpu"}};
  lh_taint tn = {"dedicated", "ml", LH_EFFECT_NO_SCHEDULE};
  for (int i = 0; i < 10; i++) {
    char nm[16];
    snprintf(nm, sizeof nm, "n%d", i);
    lh_node_spec ns;
    lh_node_spec_init(&ns);
    ns.name = nm;
    ns.allocatable = tk_res(4000, 8 * TK_GI, i % 4 == 0 ? 2 : 0);
    ns.labels = lab;
    ns.n_labels = i % 3 ? 1 : 2;
    ns.taints = &tn;
    ns.n_taints = i % 4 == 0;
    ns.unschedulable = i == 7;
    ADD(x, lh_snapshot_add_node(s, i < 8 ? c : d, &ns));
  }
  const char *qn[5] = {"root", "eng", "sci", "eng-prod", "sci-dev"};
  const char *qp[5] = {NULL, "root", "root", "eng", "sci"};
  for (int i = 0; i < 5; i++) {
    lh_queue_spec q;
    lh_queue_spec_init(&q);
    q.name = qn[i];
    q.parent = qp[i];
    q.weight = 1 + i;
    q.reclaimable = i != 4;
    ADD(x, lh_snapshot_add_queue(s, &q));
  }
  for (int gi = 0; gi < 10; gi++) {
    char gn[16];
    snprintf(gn, sizeof gn, "g%d", gi);
    lh_group_spec g;
    lh_group_spec_init(&g);
    g.name = g.uid = gn;
    g.ns = gi == 9 ? "kube-system" : "default";
    g.queue = gi % 2 ? "eng-prod" : "sci-dev";
    g.min_member = 1 + gi % 3;
    g.priority = gi < 4 ? gi % 2 : 5;
    g.creation_time = gi;
    g.phase = gi < 4 ? LH_GROUP_RUNNING : gi < 7 ? LH_GROUP_INQUEUE : LH_GROUP_PENDING;
    if (gi >= 7) g.min_resources = tk_res(2000, 2 * TK_GI, 0);
    int grp;
    ADD(grp, lh_snapshot_add_group(s, &g));
    for (int k = 0; k < 4; k++) {
      char tnm[16];
      snprintf(tnm, sizeof tnm, "t%d", k);
      lh_task_spec t;
      lh_task_spec_init(&t);
      t.name = tnm;
      t.request = gi == 6 ? tk_res(0, 0, 0) : tk_res(gi < 4 ? 2000 : 3000, TK_GI, gi == 5);
      t.priority = k;
      lh_kv sel = {"zone", "z1"};
      lh_toleration tol = {"dedicated", LH_TOL_EQUAL, "ml", LH_EFFECT_ANY};
      if (gi == 5) {
        t.node_selector = &sel;
        t.n_node_selector = 1;
        t.tolerations = &tol;
        t.n_tolerations = 1;
      }
      if (gi == 8) t.required_cluster = "b";
      if (gi < 4 && k < 3) {
        t.state = k == 2 && gi == 3 ? LH_TASK_RELEASING : LH_TASK_RUNNING;
        t.cluster = "a";
        char node[16];
        snprintf(node, sizeof node, "n%d", (gi * 3 + k) % 6);
        t.node = node;
        ADD(x, lh_snapshot_add_task(s, grp, &t));
      } else {
        ADD(x, lh_snapshot_add_task(s, grp, &t));
      }
    }
  }
  (void)x;
  return s;
}

static void same_result(const lh_result *a, const lh_result *b) {
  size_t na, nb;
  const lh_bind *ba = lh_result_binds(a, &na), *bb = lh_result_binds(b, &nb);
  assert_int_equal(na, nb);
  if (na) assert_memory_equal(ba, bb, na * sizeof(*ba));
  const lh_eviction *ea = lh_result_evictions(a, &na), *eb = lh_result_evictions(b, &nb);
  assert_int_equal(na, nb);
  if (na) assert_memory_equal(ea, eb, na * sizeof(*ea));
  const lh_pending *pa = lh_result_pending(a, &na), *pb = lh_result_pending(b, &nb);
  assert_int_equal(na, nb);
  for (size_t i = 0; i < na; i++) {
    assert_int_equal(pa[i].group, pb[i].group);
    assert_string_equal(pa[i].reason, pb[i].reason);
  }
  const lh_queue_share *qa = lh_result_queues(a, &na), *qb = lh_result_queues(b, &nb);
  assert_int_equal(na, nb);
  assert_memory_equal(qa, qb, na * sizeof(*qa));
}

static void fail_every_allocation(void **st) {
  (void)st;
  lh_conf *cf = tk_conf(CONF);
  int fails = 0;
  lh_test_alloc_fail_at(0);
  lh_snapshot *ref = build(&fails);
  assert_int_equal(fails, 0);
  lh_result *want = tk_run(cf, ref);
  size_t nb, ne;
  lh_result_binds(want, &nb);
  lh_result_evictions(want, &ne);
  assert_true(nb > 0); /* the snapshot exercises allocation ... */
  assert_true(ne > 0); /* ... and eviction */
  int build_fails = 0, sched_fails = 0;
  for (long n = 1;; n++) {
    assert_true(n < 100000);
    fails = 0;
    lh_test_alloc_fail_at(n);
    lh_snapshot *s = build(&fails);
    lh_result *r = (lh_result *)&r; /* must be reset to NULL on failure */
    int rc = lh_schedule(cf, s, 1000, &r);
    lh_test_alloc_fail_at(0);
    if (fails) {
      /* the failure hit the build: the retried adds gave an equivalent snapshot */
      assert_int_equal(fails, 1);
      assert_int_equal(rc, 0);
      same_result(want, r);
      assert_int_equal(lh_snapshot_n_tasks(s), lh_snapshot_n_tasks(ref));
      assert_int_equal(lh_snapshot_n_nodes(s), lh_snapshot_n_nodes(ref));
      build_fails++;
    } else if (rc) {
      assert_int_equal(rc, LH_ENOMEM);
      assert_null(r);
      sched_fails++;
    } else {
      /* n passed the number of allocations of a whole run: done */
      same_result(want, r);
      lh_result_free(r);
      lh_snapshot_free(s);
      print_message("%ld allocations per run: %d failed in the build, %d in lh_schedule\n", n - 1,
                    build_fails, sched_fails);
      break;
    }
    lh_result_free(r);
    lh_snapshot_free(s);
  }
  assert_true(build_fails > 10);
  assert_true(sched_fails > 10);
  /* lh_conf_default fails cleanly too */
  lh_test_alloc_fail_at(1);
  assert_null(lh_conf_default());
  lh_test_alloc_fail_at(0);
  lh_result_free(want);
  lh_snapshot_free(ref);
  lh_conf_free(cf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(fail_every_allocation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
