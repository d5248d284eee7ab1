/* test_sched_props.c — property tests of the scheduling core (scheduler/lahar_sched.h) over
 * thousands of seeded random snapshots from scheduler/bench/gen.h. Every property is checked
 * against the generator's own model with code written here, never with the core's helpers:
 *   1 no node over-committed (cpu, memory, gpu, pods) by binds on top of existing usage
 *   2 no gang partly placed; 3 a group's tasks land in one cluster
 *   4 no queue (or ancestor) passes its capability; 5 serverless quotas hold
 *   6 required clusters and predicates (nodeSelector, taints/tolerations, cordon) respected
 *   7 evictions: only running tasks; reclaim never takes from a non-reclaimable queue and never
 *     from the reclaimer's own queue; preemption stays in the queue; no gang left below
 *     minMember unless all of its running tasks go
 *   8 determinism: same snapshot twice, same model built twice, and groups/tasks inserted in a
 *     shuffled order (the header promises ties break on creation time, then uid, then name) give
 *     the same decisions
 *   9 fairness: with uniform tasks and demand above supply, each queue's allocation is within
 *     one task of an independent weighted water-filling (with capabilities), and the core's
 *     reported deserved share equals that water-filling
 *  10 result bookkeeping: pending reasons match lh_result_group_reason; each queue's reported
 *     allocation lies between running + binds - evictions and that plus unbound pending requests
 *     (pipelined tasks are not listed in a result)
 *  11 fault run: every allocation of lh_schedule failed in turn gives a clean LH_ENOMEM or a
 *     result that still holds the invariants, without leaks
 * Hand-made regression cases pin the minimal forms of failures the random runs found (preemption
 * splitting a gang on one node, a whole-gang eviction orphaning a same-cycle bind, victim ties
 * decided by insertion order, lowest-share-first queue order missing the lower quota).
 * Node insertion order is not shuffled: the header lets ties fall to insertion index, and the
 * placement scan starts from a rotating cursor over nodes in insertion order (Kubernetes'
 * nextStartNodeIndex), so node order legitimately changes which equal node is chosen.
 * Seeds: LAHAR_PROPS_SEED (base, default 1) and LAHAR_PROPS_N (snapshots, default 2000; a quarter as many fairness cases); every
 * failure prints the snapshot's seed and the configuration so it can be replayed alone with
 * LAHAR_PROPS_SEED=<seed> LAHAR_PROPS_N=1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/arena.h" /* lh_test_alloc_fail_at: the core's fault injector (test builds) */
#include "scheduler/bench/gen.h"
#include "scheduler/lahar_sched.h"

/* ---- configurations under test ------------------------------------------------------------ */
#define TIERS                                                                                  \
  "tiers:\n"                                                                                   \
  "- plugins:\n"                                                                               \
  "  - name: priority\n"                                                                       \
  "  - name: gang\n"                                                                           \
  "  - name: conformance\n"                                                                    \
  "- plugins:\n"                                                                               \
  "  - name: drf\n"                                                                            \
  "  - name: predicates\n"                                                                     \
  "  - name: proportion\n"                                                                     \
  "  - name: nodeorder\n"

static const struct {
  const char *name;
  const char *yaml; /* NULL = lh_conf_default() */
} CONFS[] = {
    {"default", NULL},
    {"reclaim-preempt", "actions: \"enqueue, allocate, backfill, reclaim, preempt\"\n" TIERS
                        "  - name: binpack\n"},
    {"spread-burst", "actions: \"enqueue, allocate, backfill\"\n" TIERS
                     "configurations:\n"
                     "- name: allocate\n"
                     "  arguments:\n"
                     "    lahar.placement: spread\n"
                     "    lahar.serverlessBurst: true\n"
                     "    lahar.nodesToScore: 0\n"
                     "- name: gang\n"
                     "  arguments:\n"
                     "    lahar.releaseBrokenGang: false\n"},
    {"binpack-score2", "actions: \"enqueue, allocate, backfill, preempt, reclaim\"\n" TIERS
                       "  - name: binpack\n"
                       "configurations:\n"
                       "- name: allocate\n"
                       "  arguments:\n"
                       "    lahar.placement: binpack\n"
                       "    lahar.nodesToScore: 2\n"
                       "- name: gang\n"
                       "  arguments:\n"
                       "    lahar.releaseBrokenGang: true\n"},
};
#define N_CONFS (sizeof CONFS / sizeof CONFS[0])

static lh_conf *confs[N_CONFS];
/* configurations that may release broken gangs (lahar.releaseBrokenGang, default true) */
static int conf_releases_broken(size_t k) { return strcmp(CONFS[k].name, "spread-burst") != 0; }

static int setup_confs(void **state) {
  (void)state;
  for (size_t i = 0; i < N_CONFS; i++) {
    char err[256] = "";
    if (!CONFS[i].yaml) confs[i] = lh_conf_default();
    else {
      int rc = lh_conf_parse(CONFS[i].yaml, strlen(CONFS[i].yaml), &confs[i], err, sizeof err);
      if (rc) fprintf(stderr, "conf %s rejected: %s (%s)\n", CONFS[i].name, lh_strerror(rc), err);
    }
    if (!confs[i]) return -1;
  }
  return 0;
}

static int teardown_confs(void **state) {
  (void)state;
  for (size_t i = 0; i < N_CONFS; i++) lh_conf_free(confs[i]);
  return 0;
}

static uint64_t env_u64(const char *name, uint64_t dflt) {
  const char *s = getenv(name);
  return s && *s ? strtoull(s, NULL, 0) : dflt;
}

/* A distinct, reproducible seed per snapshot. */
static uint64_t case_seed(uint64_t base, uint64_t i) { return base * 1000003ULL + i; }

/* ---- helpers ------------------------------------------------------------------------------ */
typedef struct {
  char msg[600];
} verdict;

__attribute__((format(printf, 2, 3))) static int bad(verdict *v, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(v->msg, sizeof v->msg, fmt, ap);
  va_end(ap);
  return 1;
}

static const char *DIM[LH_RES_N] = {"cpu", "memory", "gpu"};

static void radd(lh_res *a, const lh_res *b, int sign) {
  for (int d = 0; d < LH_RES_N; d++) a->v[d] += sign * b->v[d];
}

/* first dimension where used > limit (LH_UNLIMITED = none), or -1 */
static int over(const lh_res *used, const lh_res *limit) {
  for (int d = 0; d < LH_RES_N; d++)
    if (limit->v[d] != LH_UNLIMITED && used->v[d] > limit->v[d]) return d;
  return -1;
}

static int uses_resources(lh_task_state st) { return st == LH_TASK_RUNNING || st == LH_TASK_RELEASING; }

/* ---- the invariant checker ----------------------------------------------------------------- */
/* Checks properties 1-7 of one result against the model. Returns 0, or 1 with v->msg set. */
static int check_result(const gen_model *m, const gen_map *mp, const lh_snapshot *s, const lh_result *res,
                        int allow_broken, verdict *v) {
  int rc = 0;
  size_t nb = 0, ne = 0, na = 0;
  const lh_bind *b = lh_result_binds(res, &nb);
  const lh_eviction *e = lh_result_evictions(res, &ne);
  const int32_t *adm = lh_result_admitted(res, &na);
  int nn = m->n_nodes, nc = m->n_clusters, nq = m->n_queues, ng = m->n_groups, nt = m->n_tasks;
  lh_res *node_use = calloc((size_t)nn + 1, sizeof *node_use);
  int *node_pods = calloc((size_t)nn + 1, sizeof *node_pods);
  lh_res *cl_use = calloc((size_t)nc, sizeof *cl_use);
  lh_res *q_use = calloc((size_t)nq, sizeof *q_use), *q_unbound = calloc((size_t)nq, sizeof *q_unbound);
  assert_non_null(q_unbound);
  int *g_binds = calloc((size_t)ng, sizeof *g_binds), *g_evicted = calloc((size_t)ng, sizeof *g_evicted);
  int *g_broken = calloc((size_t)ng, sizeof *g_broken);
  assert_non_null(g_broken);
  int *g_cluster = malloc(sizeof(int) * (size_t)ng), *g_admitted = calloc((size_t)ng, sizeof(int));
  char *t_bound = calloc((size_t)nt + 1, 1), *t_evicted = calloc((size_t)nt + 1, 1);
  assert_non_null(node_use);
  assert_non_null(node_pods);
  assert_non_null(cl_use);
  assert_non_null(q_use);
  assert_non_null(g_binds);
  assert_non_null(g_evicted);
  assert_non_null(g_cluster);
  assert_non_null(g_admitted);
  assert_non_null(t_bound);
  assert_non_null(t_evicted);
  for (int g = 0; g < ng; g++) g_cluster[g] = -1;

  /* existing usage, as the model placed it */
  for (int t = 0; t < nt; t++) {
    const gen_task *tk = &m->tasks[t];
    if (!uses_resources(tk->spec.state)) continue;
    if (tk->node >= 0) {
      radd(&node_use[tk->node], &tk->spec.request, 1);
      node_pods[tk->node]++;
    } else {
      radd(&cl_use[tk->cluster], &tk->spec.request, 1);
    }
    if (tk->spec.state == LH_TASK_RUNNING)
      for (int q = m->groups[tk->group].queue; q >= 0; q = m->queues[q].parent) radd(&q_use[q], &tk->spec.request, 1);
    /* a group is pinned by its RUNNING tasks; a RELEASING one is on its way out and does not
     * pin (the core may restart a group whose only placed task is being deleted elsewhere) */
    if (tk->spec.state == LH_TASK_RUNNING) g_cluster[tk->group] = tk->cluster;
  }
  for (size_t i = 0; i < na; i++) {
    if (adm[i] < 0 || adm[i] >= ng) {
      rc = bad(v, "admitted group index %d out of range", adm[i]);
      goto out;
    }
    g_admitted[mp->model_group[adm[i]]] = 1;
  }

  /* evictions first: they tell which running tasks leave (for gang and queue accounting) */
  for (size_t i = 0; i < ne; i++) {
    if (e[i].task < 0 || e[i].task >= nt) {
      rc = bad(v, "eviction %zu: task index %d out of range", i, e[i].task);
      goto out;
    }
    int t = mp->model_task[e[i].task];
    const gen_task *tk = &m->tasks[t];
    int g = tk->group;
    const char *tname = tk->spec.name;
    if (e[i].group != mp->snap_group[g]) {
      rc = bad(v, "eviction of %s names group %d, task is in %d", tname, e[i].group, mp->snap_group[g]);
      goto out;
    }
    if (tk->spec.state != LH_TASK_RUNNING) {
      rc = bad(v, "eviction of %s which is not RUNNING (state %d)", tname, tk->spec.state);
      goto out;
    }
    if (t_evicted[t]++) {
      rc = bad(v, "task %s evicted twice", tname);
      goto out;
    }
    g_evicted[g]++;
    int vq = m->groups[g].queue;
    if (e[i].reason == LH_EVICT_RECLAIM || e[i].reason == LH_EVICT_PREEMPT) {
      if (e[i].for_group < 0 || e[i].for_group >= ng) {
        rc = bad(v, "eviction of %s: for_group %d out of range", tname, e[i].for_group);
        goto out;
      }
      int fq = m->groups[mp->model_group[e[i].for_group]].queue;
      if (e[i].reason == LH_EVICT_RECLAIM && !m->queues[vq].spec.reclaimable) {
        rc = bad(v, "reclaim took %s from non-reclaimable queue %s", tname, m->queues[vq].spec.name);
        goto out;
      }
      if (e[i].reason == LH_EVICT_RECLAIM && fq == vq) {
        rc = bad(v, "reclaim of %s for a group of the same queue %s", tname, m->queues[vq].spec.name);
        goto out;
      }
      if (e[i].reason == LH_EVICT_PREEMPT && fq != vq) {
        rc = bad(v, "preemption of %s (queue %s) for a group of queue %s", tname, m->queues[vq].spec.name,
                 m->queues[fq].spec.name);
        goto out;
      }
    } else if (e[i].reason == LH_EVICT_GANG_BROKEN) {
      if (!allow_broken) {
        rc = bad(v, "gang-broken eviction of %s with lahar.releaseBrokenGang: false", tname);
        goto out;
      }
      g_broken[g]++;
    } else {
      rc = bad(v, "eviction of %s with unknown reason %d", tname, (int)e[i].reason);
      goto out;
    }
    for (int q = vq; q >= 0; q = m->queues[q].parent) radd(&q_use[q], &tk->spec.request, -1);
  }

  for (size_t i = 0; i < nb; i++) {
    if (b[i].task < 0 || b[i].task >= nt) {
      rc = bad(v, "bind %zu: task index %d out of range", i, b[i].task);
      goto out;
    }
    int t = mp->model_task[b[i].task];
    const gen_task *tk = &m->tasks[t];
    int g = tk->group;
    const gen_group *gg = &m->groups[g];
    const char *tname = tk->spec.name;
    if (b[i].group != mp->snap_group[g]) {
      rc = bad(v, "bind of %s names group %d, task is in %d", tname, b[i].group, mp->snap_group[g]);
      goto out;
    }
    if (tk->spec.state != LH_TASK_PENDING) {
      rc = bad(v, "bind of %s which is not PENDING (state %d)", tname, tk->spec.state);
      goto out;
    }
    if (t_bound[t]++) {
      rc = bad(v, "task %s bound twice", tname);
      goto out;
    }
    if (b[i].cluster < 0 || b[i].cluster >= nc) {
      rc = bad(v, "bind of %s: cluster %d out of range", tname, b[i].cluster);
      goto out;
    }
    int c = mp->model_cluster[b[i].cluster];
    const gen_cluster *gc = &m->clusters[c];
    if (gc->kind == LH_CLUSTER_SERVERLESS) {
      if (b[i].node != -1) {
        rc = bad(v, "bind of %s on serverless %s names node %d", tname, gc->name, b[i].node);
        goto out;
      }
      radd(&cl_use[c], &tk->spec.request, 1);
    } else {
      if (b[i].node < 0 || b[i].node >= nn) {
        rc = bad(v, "bind of %s on dedicated %s: node %d out of range", tname, gc->name, b[i].node);
        goto out;
      }
      int n = mp->model_node[b[i].node];
      if (m->nodes[n].cluster != c) {
        rc = bad(v, "bind of %s: node %s is not in cluster %s", tname, m->nodes[n].spec.name, gc->name);
        goto out;
      }
      if (!gen_node_fits_predicates(&m->nodes[n].spec, &tk->spec)) {
        rc = bad(v, "bind of %s on %s breaks a predicate (selector/taint/cordon)", tname, m->nodes[n].spec.name);
        goto out;
      }
      radd(&node_use[n], &tk->spec.request, 1);
      node_pods[n]++;
    }
    if (gg->req_cluster >= 0 && gg->req_cluster != c) {
      rc = bad(v, "bind of %s on %s but it requires %s", tname, gc->name, m->clusters[gg->req_cluster].name);
      goto out;
    }
    if (g_cluster[g] >= 0 && g_cluster[g] != c) {
      rc = bad(v, "group %s/%s split over clusters %s and %s", gg->spec.ns, gg->spec.name,
               m->clusters[g_cluster[g]].name, gc->name);
      goto out;
    }
    g_cluster[g] = c;
    g_binds[g]++;
    if (gg->spec.phase == LH_GROUP_PENDING && !g_admitted[g]) {
      rc = bad(v, "bind of %s whose group is PENDING and was not admitted", tname);
      goto out;
    }
    for (int q = gg->queue; q >= 0; q = m->queues[q].parent) radd(&q_use[q], &tk->spec.request, 1);
  }

  /* 1: nodes */
  for (int n = 0; n < nn; n++) {
    const lh_node_spec *ns = &m->nodes[n].spec;
    int d = over(&node_use[n], &ns->allocatable);
    if (d >= 0) {
      rc = bad(v, "node %s over-committed in %s: %" PRId64 " > %" PRId64, ns->name, DIM[d], node_use[n].v[d],
               ns->allocatable.v[d]);
      goto out;
    }
    if (node_pods[n] > ns->max_pods) {
      rc = bad(v, "node %s holds %d pods > max %d", ns->name, node_pods[n], ns->max_pods);
      goto out;
    }
  }
  /* 5: serverless quotas */
  for (int c = 0; c < nc; c++) {
    if (m->clusters[c].kind != LH_CLUSTER_SERVERLESS) continue;
    int d = over(&cl_use[c], &m->clusters[c].quota);
    if (d >= 0) {
      rc = bad(v, "serverless %s over quota in %s: %" PRId64 " > %" PRId64, m->clusters[c].name, DIM[d],
               cl_use[c].v[d], m->clusters[c].quota.v[d]);
      goto out;
    }
  }
  /* 4: queue capabilities (own and descendants' running + binds - evictions) */
  for (int q = 0; q < nq; q++) {
    int d = over(&q_use[q], &m->queues[q].spec.capability);
    if (d >= 0) {
      rc = bad(v, "queue %s past its capability in %s: %" PRId64 " > %" PRId64, m->queues[q].spec.name, DIM[d],
               q_use[q].v[d], m->queues[q].spec.capability.v[d]);
      goto out;
    }
  }
  /* 2 and 7: gangs */
  for (int g = 0; g < ng; g++) {
    const gen_group *gg = &m->groups[g];
    int running = 0, succeeded = 0;
    for (int i = 0; i < gg->n_tasks; i++) {
      lh_task_state st = m->tasks[gg->first_task + i].spec.state;
      running += st == LH_TASK_RUNNING;
      succeeded += st == LH_TASK_SUCCEEDED;
    }
    int left = running - g_evicted[g];
    if (g_broken[g] && (running + succeeded >= gg->spec.min_member || left != 0 || g_binds[g] != 0)) {
      rc = bad(v, "gang-broken eviction in %s/%s: %d running + %d succeeded vs minMember %d, %d left, %d binds",
               gg->spec.ns, gg->spec.name, running, succeeded, gg->spec.min_member, left, g_binds[g]);
      goto out;
    }
    if (g_binds[g] > 0 && left + succeeded + g_binds[g] < gg->spec.min_member) {
      rc = bad(v, "gang %s/%s partly placed: %d running + %d succeeded + %d new binds - %d evicted < minMember %d",
               gg->spec.ns, gg->spec.name, running, succeeded, g_binds[g], g_evicted[g], gg->spec.min_member);
      goto out;
    }
    if (g_evicted[g] > 0 && left > 0 && left + succeeded + g_binds[g] < gg->spec.min_member) {
      rc = bad(v, "evictions leave gang %s/%s below minMember: %d of %d running left (+%d succeeded), min %d",
               gg->spec.ns, gg->spec.name, left, running, succeeded, gg->spec.min_member);
      goto out;
    }
  }
  /* the result's own accounting: pending reasons agree with lh_result_group_reason, and each
   * queue's reported allocation is its (and its descendants') running tasks + binds - evictions */
  {
    size_t np_ = 0, nqs = 0;
    const lh_pending *pd = lh_result_pending(res, &np_);
    char *is_pending = calloc((size_t)ng + 1, 1);
    assert_non_null(is_pending);
    for (size_t i = 0; i < np_ && !rc; i++) {
      const char *r2 = lh_result_group_reason(res, pd[i].group);
      if (pd[i].group < 0 || pd[i].group >= ng || !pd[i].reason || !r2 || strcmp(r2, pd[i].reason))
        rc = bad(v, "pending entry %zu (group %d) disagrees with lh_result_group_reason", i, pd[i].group);
      else is_pending[pd[i].group] = 1;
    }
    for (int g = 0; g < ng && !rc; g++)
      if (!is_pending[g] && lh_result_group_reason(res, g))
        rc = bad(v, "group %d has a reason but is not in the pending list", g);
    free(is_pending);
    if (rc) goto out;
    for (int t = 0; t < nt; t++)
      if (m->tasks[t].spec.state == LH_TASK_PENDING && !t_bound[t])
        for (int q = m->groups[m->tasks[t].group].queue; q >= 0; q = m->queues[q].parent)
          radd(&q_unbound[q], &m->tasks[t].spec.request, 1);
    const lh_queue_share *qs = lh_result_queues(res, &nqs);
    if ((int)nqs != nq) {
      rc = bad(v, "%zu queue shares for %d queues", nqs, nq);
      goto out;
    }
    for (size_t i = 0; i < nqs; i++) {
      int q = mp->model_queue[qs[i].queue];
      /* tasks pipelined onto releasing or evicted room count too, and the result does not list
       * them: so running + binds - evictions <= allocated <= that + unbound pending requests */
      for (int d = 0; d < LH_RES_N; d++)
        if (qs[i].allocated.v[d] < q_use[q].v[d] || qs[i].allocated.v[d] > q_use[q].v[d] + q_unbound[q].v[d]) {
          rc = bad(v, "queue %s reports allocated %s %" PRId64 ", running + binds - evictions = %" PRId64
                   " (+ %" PRId64 " unbound pending)",
                   m->queues[q].spec.name, DIM[d], qs[i].allocated.v[d], q_use[q].v[d], q_unbound[q].v[d]);
          goto out;
        }
    }
  }
  for (int t = 0; t < nt; t++)
    if (t_bound[t] && t_evicted[t]) {
      rc = bad(v, "task %s both bound and evicted", m->tasks[t].spec.name);
      goto out;
    }
  (void)s;
out:
  free(node_use);
  free(node_pods);
  free(cl_use);
  free(q_use);
  free(q_unbound);
  free(g_binds);
  free(g_evicted);
  free(g_broken);
  free(g_cluster);
  free(g_admitted);
  free(t_bound);
  free(t_evicted);
  return rc;
}

/* ---- result comparison (determinism) ------------------------------------------------------- */
/* Byte-for-byte (field by field where structs may hold padding) comparison of two results of the
 * same snapshot layout. Returns 0 when equal. */
static int same_result(const lh_result *a, const lh_result *b, verdict *v) {
  size_t na, nb;
  const lh_bind *ba = lh_result_binds(a, &na), *bb = lh_result_binds(b, &nb);
  if (na != nb) return bad(v, "bind counts differ: %zu vs %zu", na, nb);
  if (na && memcmp(ba, bb, na * sizeof *ba)) return bad(v, "binds differ");
  const lh_eviction *ea = lh_result_evictions(a, &na), *eb = lh_result_evictions(b, &nb);
  if (na != nb) return bad(v, "eviction counts differ: %zu vs %zu", na, nb);
  if (na && memcmp(ea, eb, na * sizeof *ea)) return bad(v, "evictions differ");
  const lh_pending *pa = lh_result_pending(a, &na), *pb = lh_result_pending(b, &nb);
  if (na != nb) return bad(v, "pending counts differ: %zu vs %zu", na, nb);
  for (size_t i = 0; i < na; i++)
    if (pa[i].group != pb[i].group || strcmp(pa[i].reason ? pa[i].reason : "", pb[i].reason ? pb[i].reason : ""))
      return bad(v, "pending entry %zu differs: %d '%s' vs %d '%s'", i, pa[i].group, pa[i].reason, pb[i].group,
                 pb[i].reason);
  const int32_t *aa = lh_result_admitted(a, &na), *ab = lh_result_admitted(b, &nb);
  if (na != nb || (na && memcmp(aa, ab, na * sizeof *aa))) return bad(v, "admitted lists differ");
  const lh_queue_share *qa = lh_result_queues(a, &na), *qb = lh_result_queues(b, &nb);
  if (na != nb) return bad(v, "queue counts differ");
  for (size_t i = 0; i < na; i++)
    if (qa[i].queue != qb[i].queue || memcmp(&qa[i].deserved, &qb[i].deserved, sizeof qa[i].deserved) ||
        memcmp(&qa[i].allocated, &qb[i].allocated, sizeof qa[i].allocated) ||
        memcmp(&qa[i].request, &qb[i].request, sizeof qa[i].request))
      return bad(v, "queue share %zu differs", i);
  return 0;
}

/* Same decisions, in the same order, from two snapshots of one model built in different insertion
 * orders: compare through the model's indices. */
static int same_decisions(const gen_model *m, const gen_map *ma, const lh_result *a, const gen_map *mb,
                          const lh_result *b, verdict *v) {
  size_t na, nb;
  const lh_bind *ba = lh_result_binds(a, &na), *bb = lh_result_binds(b, &nb);
  if (na != nb) return bad(v, "bind counts differ: %zu vs %zu", na, nb);
  for (size_t i = 0; i < na; i++) {
    int ta = ma->model_task[ba[i].task], tb = mb->model_task[bb[i].task];
    int ca = ma->model_cluster[ba[i].cluster], cb = mb->model_cluster[bb[i].cluster];
    int na_ = ba[i].node >= 0 ? ma->model_node[ba[i].node] : -1, nb_ = bb[i].node >= 0 ? mb->model_node[bb[i].node] : -1;
    if (ta != tb || ca != cb || na_ != nb_)
      return bad(v, "bind %zu differs: %s on %s vs %s on %s", i, m->tasks[ta].spec.name,
                 na_ >= 0 ? m->nodes[na_].spec.name : m->clusters[ca].name, m->tasks[tb].spec.name,
                 nb_ >= 0 ? m->nodes[nb_].spec.name : m->clusters[cb].name);
  }
  const lh_eviction *ea = lh_result_evictions(a, &na), *eb = lh_result_evictions(b, &nb);
  if (na != nb) return bad(v, "eviction counts differ: %zu vs %zu", na, nb);
  for (size_t i = 0; i < na; i++) {
    int fa = ea[i].for_group >= 0 ? ma->model_group[ea[i].for_group] : -1;
    int fb = eb[i].for_group >= 0 ? mb->model_group[eb[i].for_group] : -1;
    if (ma->model_task[ea[i].task] != mb->model_task[eb[i].task] || ea[i].reason != eb[i].reason || fa != fb)
      return bad(v, "eviction %zu differs", i);
  }
  /* pending and admitted are listed by group index, which differs: compare as sets */
  int ng = m->n_groups;
  const char **ra = calloc((size_t)ng, sizeof *ra), **rb = calloc((size_t)ng, sizeof *rb);
  char *aa = calloc((size_t)ng, 1), *ab = calloc((size_t)ng, 1);
  assert_non_null(ra);
  assert_non_null(rb);
  assert_non_null(aa);
  assert_non_null(ab);
  int rc = 0;
  const lh_pending *pa = lh_result_pending(a, &na), *pb = lh_result_pending(b, &nb);
  for (size_t i = 0; i < na; i++) ra[ma->model_group[pa[i].group]] = pa[i].reason ? pa[i].reason : "";
  for (size_t i = 0; i < nb; i++) rb[mb->model_group[pb[i].group]] = pb[i].reason ? pb[i].reason : "";
  const int32_t *xa = lh_result_admitted(a, &na), *xb = lh_result_admitted(b, &nb);
  for (size_t i = 0; i < na; i++) aa[ma->model_group[xa[i]]] = 1;
  for (size_t i = 0; i < nb; i++) ab[mb->model_group[xb[i]]] = 1;
  for (int g = 0; g < ng && !rc; g++) {
    if (!ra[g] != !rb[g] || (ra[g] && strcmp(ra[g], rb[g])))
      rc = bad(v, "pending reason of %s/%s differs: '%s' vs '%s'", m->groups[g].spec.ns, m->groups[g].spec.name,
               ra[g] ? ra[g] : "(none)", rb[g] ? rb[g] : "(none)");
    else if (aa[g] != ab[g])
      rc = bad(v, "admission of %s/%s differs", m->groups[g].spec.ns, m->groups[g].spec.name);
  }
  free(ra);
  free(rb);
  free(aa);
  free(ab);
  return rc;
}

/* ---- the random-snapshot properties -------------------------------------------------------- */
/* LAHAR_PROPS_DUMP=1 with LAHAR_PROPS_CASE=<seed>: print the model and the result, to turn a
 * failing seed into a minimal case by hand. */
static const char *STATE[] = {"pending", "running", "releasing", "succeeded", "failed"};
static void dump_case(const gen_model *m, const gen_map *mp, const lh_result *r) {
  if (!getenv("LAHAR_PROPS_DUMP")) return;
  for (int c = 0; c < m->n_clusters; c++)
    printf("cluster %s %s quota cpu=%" PRId64 " mem=%" PRId64 " gpu=%" PRId64 "\n", m->clusters[c].name,
           m->clusters[c].kind == LH_CLUSTER_SERVERLESS ? "serverless" : "dedicated", m->clusters[c].quota.v[0],
           m->clusters[c].quota.v[1], m->clusters[c].quota.v[2]);
  for (int n = 0; n < m->n_nodes; n++) {
    const lh_node_spec *ns = &m->nodes[n].spec;
    printf("node %s cluster=%s cpu=%" PRId64 " mem=%" PRId64 " gpu=%" PRId64 " pods=%d%s", ns->name,
           m->clusters[m->nodes[n].cluster].name, ns->allocatable.v[0], ns->allocatable.v[1], ns->allocatable.v[2],
           ns->max_pods, ns->unschedulable ? " cordoned" : "");
    for (size_t i = 0; i < ns->n_labels; i++) printf(" %s=%s", ns->labels[i].key, ns->labels[i].value);
    for (size_t i = 0; i < ns->n_taints; i++)
      printf(" taint:%s=%s:%d", ns->taints[i].key, ns->taints[i].value ? ns->taints[i].value : "", ns->taints[i].effect);
    printf("\n");
  }
  for (int q = 0; q < m->n_queues; q++) {
    const lh_queue_spec *qs = &m->queues[q].spec;
    printf("queue %s parent=%s weight=%d cap=%" PRId64 "/%" PRId64 "/%" PRId64 " guarantee=%" PRId64 " reclaimable=%d\n",
           qs->name, qs->parent ? qs->parent : "-", qs->weight, qs->capability.v[0], qs->capability.v[1],
           qs->capability.v[2], qs->guarantee.v[0], qs->reclaimable);
  }
  for (int g = 0; g < m->n_groups; g++) {
    const gen_group *gg = &m->groups[g];
    printf("group %s/%s queue=%s min=%d phase=%d prio=%d ctime=%" PRId64 " req_cluster=%s minres_cpu=%" PRId64 "\n",
           gg->spec.ns, gg->spec.name, gg->spec.queue, gg->spec.min_member, gg->spec.phase, gg->spec.priority,
           gg->spec.creation_time, gg->req_cluster >= 0 ? m->clusters[gg->req_cluster].name : "-",
           gg->spec.min_resources.v[0]);
    for (int i = 0; i < gg->n_tasks; i++) {
      const lh_task_spec *ts = &m->tasks[gg->first_task + i].spec;
      printf("  task %s %s req=%" PRId64 "/%" PRId64 "/%" PRId64 " at %s/%s sel=%zu tol=%zu\n", ts->name,
             STATE[ts->state], ts->request.v[0], ts->request.v[1], ts->request.v[2], ts->cluster ? ts->cluster : "-",
             ts->node ? ts->node : "-", ts->n_node_selector, ts->n_tolerations);
    }
  }
  size_t n;
  const lh_bind *b = lh_result_binds(r, &n);
  for (size_t i = 0; i < n; i++)
    printf("BIND %s -> %s/%s\n", m->tasks[mp->model_task[b[i].task]].spec.name,
           m->clusters[mp->model_cluster[b[i].cluster]].name,
           b[i].node >= 0 ? m->nodes[mp->model_node[b[i].node]].spec.name : "-");
  const lh_eviction *e = lh_result_evictions(r, &n);
  for (size_t i = 0; i < n; i++)
    printf("EVICT %s reason=%d for=%s\n", m->tasks[mp->model_task[e[i].task]].spec.name, e[i].reason,
           e[i].for_group >= 0 ? m->groups[mp->model_group[e[i].for_group]].spec.name : "-");
  const lh_pending *pd = lh_result_pending(r, &n);
  for (size_t i = 0; i < n; i++) printf("PENDING %s: %s\n", m->groups[mp->model_group[pd[i].group]].spec.name, pd[i].reason);
  const lh_queue_share *qs = lh_result_queues(r, &n);
  for (size_t i = 0; i < n; i++)
    printf("SHARE %s deserved=%" PRId64 " alloc=%" PRId64 " request=%" PRId64 "\n", m->queues[mp->model_queue[qs[i].queue]].spec.name,
           qs[i].deserved.v[0], qs[i].allocated.v[0], qs[i].request.v[0]);
}

static void fail_case(uint64_t seed, const char *conf, const char *what, const verdict *v) {
  if (getenv("LAHAR_PROPS_SURVEY")) { /* count every violation instead of stopping at the first */
    printf("VIOLATION seed %" PRIu64 " conf %s: %s: %s\n", seed, conf, what, v->msg);
    return;
  }
  fail_msg("seed %" PRIu64 " conf %s: %s: %s (replay alone: LAHAR_PROPS_CASE=%" PRIu64 ")", seed, conf, what,
           v->msg, seed);
}

static lh_result *run(const lh_conf *c, const lh_snapshot *s) {
  lh_result *r = NULL;
  int rc = lh_schedule(c, s, 1000, &r);
  if (rc) fail_msg("lh_schedule failed: %s", lh_strerror(rc));
  assert_non_null(r);
  return r;
}

/* One random snapshot: invariants under every configuration, determinism under one. */
static void props_one(uint64_t seed) {
  gen_params p = gen_params_props(seed);
  gen_model *m = gen_model_new(&p);
  assert_non_null(m);
  lh_snapshot *s = NULL, *s2 = NULL, *s3 = NULL;
  gen_map mp = {0}, mp2 = {0}, mp3 = {0};
  int rc = gen_build(m, 0, 0, &s, &mp);
  if (rc) fail_msg("seed %" PRIu64 ": snapshot build failed: %s", seed, lh_strerror(rc));
  verdict v = {{0}};
  size_t ci = seed % N_CONFS;
  for (size_t k = 0; k < N_CONFS; k++) {
    lh_result *r = run(confs[k], s);
    if (check_result(m, &mp, s, r, conf_releases_broken(k), &v)) {
      dump_case(m, &mp, r);
      fail_case(seed, CONFS[k].name, "invariant", &v);
    }
    if (k == ci) {
      lh_result *r2 = run(confs[k], s);
      if (same_result(r, r2, &v)) fail_case(seed, CONFS[k].name, "same snapshot scheduled twice", &v);
      lh_result_free(r2);
      assert_int_equal(gen_build(m, 0, 0, &s2, &mp2), 0);
      r2 = run(confs[k], s2);
      if (same_result(r, r2, &v)) fail_case(seed, CONFS[k].name, "same model built twice", &v);
      lh_result_free(r2);
      assert_int_equal(gen_build(m, GEN_SHUFFLE_GROUPS | GEN_SHUFFLE_TASKS, seed ^ 0xabcdef, &s3, &mp3), 0);
      r2 = run(confs[k], s3);
      if (check_result(m, &mp3, s3, r2, conf_releases_broken(k), &v)) fail_case(seed, CONFS[k].name, "invariant (shuffled build)", &v);
      if (same_decisions(m, &mp, r, &mp3, r2, &v))
        fail_case(seed, CONFS[k].name, "groups/tasks inserted in shuffled order", &v);
      lh_result_free(r2);
    }
    lh_result_free(r);
  }
  lh_snapshot_free(s);
  lh_snapshot_free(s2);
  lh_snapshot_free(s3);
  gen_map_free(&mp);
  gen_map_free(&mp2);
  gen_map_free(&mp3);
  gen_model_free(m);
}

static void random_snapshots_hold_invariants(void **state) {
  (void)state;
  uint64_t one = env_u64("LAHAR_PROPS_CASE", 0);
  if (one) {
    props_one(one);
    return;
  }
  uint64_t base = env_u64("LAHAR_PROPS_SEED", 1), n = env_u64("LAHAR_PROPS_N", 2000);
  for (uint64_t i = 0; i < n; i++) props_one(case_seed(base, i));
}

/* ---- fairness against an independent water-filling ------------------------------------------ */
/* Weighted max-min water-filling of `total` over queues with limits lim[q] (= min(demand,
 * capability)): ideal[q] = min(lim[q], level * w[q]) with the level found by raising it until
 * the supply is spent or every queue is at its limit. */
static void waterfill(int n, const double *w, const double *lim, double total, double *ideal) {
  char *done = calloc((size_t)n, 1);
  assert_non_null(done);
  for (int q = 0; q < n; q++) ideal[q] = 0;
  double left = total;
  for (;;) {
    double wsum = 0;
    for (int q = 0; q < n; q++)
      if (!done[q]) wsum += w[q];
    if (wsum <= 0 || left <= 1e-9) break;
    /* the smallest level increment that saturates some queue */
    double step = left / wsum;
    int sat = 0;
    for (int q = 0; q < n; q++)
      if (!done[q] && (lim[q] - ideal[q]) / w[q] <= step) step = (lim[q] - ideal[q]) / w[q];
    for (int q = 0; q < n; q++) {
      if (done[q]) continue;
      ideal[q] += step * w[q];
      left -= step * w[q];
      if (ideal[q] >= lim[q] - 1e-9) {
        ideal[q] = lim[q];
        done[q] = 1;
        sat = 1;
      }
    }
    if (!sat) break; /* supply spent */
  }
  free(done);
}

static void fair_one(uint64_t seed, const lh_conf *conf) {
  gen_params p = gen_params_uniform(seed);
  gen_model *m = gen_model_new(&p);
  assert_non_null(m);
  lh_snapshot *s = NULL;
  gen_map mp = {0};
  assert_int_equal(gen_build(m, 0, 0, &s, &mp), 0);
  lh_result *r = run(conf, s);
  verdict v = {{0}};
  if (check_result(m, &mp, s, r, 1, &v)) fail_case(seed, "default", "invariant (uniform)", &v);
  dump_case(m, &mp, r);

  int nq = m->n_queues;
  double *w = calloc((size_t)nq, sizeof *w), *lim = calloc((size_t)nq, sizeof *lim);
  double *ideal = calloc((size_t)nq, sizeof *ideal), *got = calloc((size_t)nq, sizeof *got);
  assert_non_null(w);
  assert_non_null(lim);
  assert_non_null(ideal);
  assert_non_null(got);
  double total = 0, task = 1000;
  for (int n = 0; n < m->n_nodes; n++) total += (double)m->nodes[n].spec.allocatable.v[LH_RES_CPU];
  for (int q = 0; q < nq; q++) w[q] = m->queues[q].spec.weight;
  for (int g = 0; g < m->n_groups; g++) lim[m->groups[g].queue] += task;
  for (int q = 0; q < nq; q++) {
    int64_t cap = m->queues[q].spec.capability.v[LH_RES_CPU];
    if (cap != LH_UNLIMITED && (double)cap < lim[q]) lim[q] = (double)cap;
  }
  waterfill(nq, w, lim, total, ideal);
  size_t nb;
  const lh_bind *b = lh_result_binds(r, &nb);
  for (size_t i = 0; i < nb; i++) got[m->groups[mp.model_group[b[i].group]].queue] += task;
  /* the core's own deserved share must be the same water-filling (Volcano's proportion with a
   * single effective dimension converges to it exactly, up to integer rounding) */
  size_t nsh;
  const lh_queue_share *sh = lh_result_queues(r, &nsh);
  for (size_t i = 0; i < nsh; i++) {
    int q = mp.model_queue[sh[i].queue];
    if (lim[q] > 0 && fabs((double)sh[i].deserved.v[LH_RES_CPU] - ideal[q]) > 2.0 * nq)
      fail_msg("seed %" PRIu64 ": queue %s deserved cpu %" PRId64 " but the water-filling ideal is %.1f", seed,
               m->queues[q].spec.name, sh[i].deserved.v[LH_RES_CPU], ideal[q]);
  }
  if (getenv("LAHAR_FAIR_SURVEY")) {
    double worst = 0;
    for (int q = 0; q < nq; q++)
      if (fabs(got[q] - ideal[q]) > worst) worst = fabs(got[q] - ideal[q]);
    printf("FAIR seed %" PRIu64 " queues %d total %.0f worst %.3f\n", seed, nq, total / task, worst / task);
    goto done;
  }
  for (int q = 0; q < nq; q++) {
    if (fabs(got[q] - ideal[q]) > task + 1e-6) {
      const char *why = got[q] > ideal[q] ? "above" : "below";
      char line[2048];
      int off = 0;
      for (int k = 0; k < nq && off < (int)sizeof line - 120; k++)
        off += snprintf(line + off, sizeof line - (size_t)off, " [%s w=%d limit=%.0f ideal=%.2f got=%.0f]",
                        m->queues[k].spec.name, m->queues[k].spec.weight, lim[k] / task, ideal[k] / task,
                        got[k] / task);
      fail_msg("seed %" PRIu64 ": queue %s got %.0f tasks, more than one task %s its water-filling ideal %.2f"
               " (cluster holds %.0f tasks):%s (replay alone: LAHAR_FAIR_CASE=%" PRIu64 ")",
               seed, m->queues[q].spec.name, got[q] / task, why, ideal[q] / task, total / task, line, seed);
    }
  }
done:
  free(w);
  free(lim);
  free(ideal);
  free(got);
  lh_result_free(r);
  lh_snapshot_free(s);
  gen_map_free(&mp);
  gen_model_free(m);
}

static void allocation_matches_waterfilling(void **state) {
  (void)state;
  uint64_t one = env_u64("LAHAR_FAIR_CASE", 0);
  if (one) {
    fair_one(one, confs[0]);
    return;
  }
  uint64_t base = env_u64("LAHAR_PROPS_SEED", 1), n = env_u64("LAHAR_PROPS_N", 2000) / 4;
  for (uint64_t i = 0; i < n; i++) fair_one(case_seed(base, i) ^ 0xfa15ULL, confs[0]);
}

/* The reference water-filling itself, on a hand-computed case, so the fairness test stands on a
 * checked oracle: 12 units over weights 1,1,2 with limits 2, inf, inf -> 2, 10/3, 20/3. */
static void reference_waterfilling_is_right(void **state) {
  (void)state;
  double w[3] = {1, 1, 2}, lim[3] = {2, 1e18, 1e18}, ideal[3];
  waterfill(3, w, lim, 12, ideal);
  assert_true(fabs(ideal[0] - 2) < 1e-9);
  assert_true(fabs(ideal[1] - 10.0 / 3) < 1e-9);
  assert_true(fabs(ideal[2] - 20.0 / 3) < 1e-9);
  double w2[2] = {1, 3}, lim2[2] = {5, 5}, ideal2[2];
  waterfill(2, w2, lim2, 20, ideal2); /* supply above demand: everyone at its limit */
  assert_true(fabs(ideal2[0] - 5) < 1e-9 && fabs(ideal2[1] - 5) < 1e-9);
}

/* The generator's models are consistent, so a violation is the core's and not the generator's:
 * existing usage fits every node, quota and capability, and running tasks obey predicates unless
 * their node was cordoned afterwards. */
static void generator_models_are_consistent(void **state) {
  (void)state;
  for (uint64_t i = 0; i < 300; i++) {
    gen_params p = gen_params_props(case_seed(7, i));
    gen_model *m = gen_model_new(&p);
    assert_non_null(m);
    lh_res *nu = calloc((size_t)m->n_nodes + 1, sizeof *nu), *cu = calloc((size_t)m->n_clusters, sizeof *cu);
    lh_res *qu = calloc((size_t)m->n_queues, sizeof *qu);
    int *np = calloc((size_t)m->n_nodes + 1, sizeof *np);
    assert_true(nu && cu && qu && np);
    for (int t = 0; t < m->n_tasks; t++) {
      const gen_task *tk = &m->tasks[t];
      if (!uses_resources(tk->spec.state)) continue;
      assert_true(tk->cluster >= 0);
      if (tk->node >= 0) {
        assert_int_equal(m->nodes[tk->node].cluster, tk->cluster);
        if (!m->nodes[tk->node].spec.unschedulable)
          assert_true(gen_node_fits_predicates(&m->nodes[tk->node].spec, &tk->spec));
        radd(&nu[tk->node], &tk->spec.request, 1);
        np[tk->node]++;
      } else {
        assert_int_equal(m->clusters[tk->cluster].kind, LH_CLUSTER_SERVERLESS);
        radd(&cu[tk->cluster], &tk->spec.request, 1);
      }
      for (int q = m->groups[tk->group].queue; q >= 0; q = m->queues[q].parent) radd(&qu[q], &tk->spec.request, 1);
    }
    for (int n = 0; n < m->n_nodes; n++) {
      assert_int_equal(over(&nu[n], &m->nodes[n].spec.allocatable), -1);
      assert_true(np[n] <= m->nodes[n].spec.max_pods);
    }
    for (int c = 0; c < m->n_clusters; c++)
      if (m->clusters[c].kind == LH_CLUSTER_SERVERLESS) assert_int_equal(over(&cu[c], &m->clusters[c].quota), -1);
    for (int q = 0; q < m->n_queues; q++) assert_int_equal(over(&qu[q], &m->queues[q].spec.capability), -1);
    free(nu);
    free(cu);
    free(qu);
    free(np);
    gen_model_free(m);
  }
}

/* ---- hand-made regression cases (minimal forms of failures the random runs found) ----------- */
static const char CONF_EVICT[] = "actions: \"enqueue, allocate, backfill, reclaim, preempt\"\n" TIERS;

static void h_node(lh_snapshot *s, int c, const char *name, int64_t cpu) {
  lh_node_spec n;
  lh_node_spec_init(&n);
  n.name = name;
  n.allocatable = (lh_res){{cpu, 64LL << 30, 0}};
  assert_true(lh_snapshot_add_node(s, c, &n) >= 0);
}

static void h_queue(lh_snapshot *s, const char *name, int32_t weight) {
  lh_queue_spec q;
  lh_queue_spec_init(&q);
  q.name = name;
  q.weight = weight;
  assert_true(lh_snapshot_add_queue(s, &q) >= 0);
}

static int h_group(lh_snapshot *s, const char *name, const char *uid, const char *queue, int32_t min, int32_t prio,
                   int64_t ctime, lh_group_phase phase) {
  lh_group_spec g;
  lh_group_spec_init(&g);
  g.ns = "default";
  g.name = name;
  g.uid = uid;
  g.queue = queue;
  g.min_member = min;
  g.priority = prio;
  g.creation_time = ctime;
  g.phase = phase;
  int rc = lh_snapshot_add_group(s, &g);
  assert_true(rc >= 0);
  return rc;
}

static void h_task(lh_snapshot *s, int g, const char *name, int64_t cpu, int32_t prio, const char *node) {
  lh_task_spec t;
  lh_task_spec_init(&t);
  t.name = name;
  t.uid = name;
  t.priority = prio;
  t.request = (lh_res){{cpu, 1LL << 30, 0}};
  if (node) {
    t.state = LH_TASK_RUNNING;
    t.cluster = "c0";
    t.node = node;
  }
  assert_true(lh_snapshot_add_task(s, g, &t) >= 0);
}

static lh_conf *evict_conf(void) {
  lh_conf *c = NULL;
  char err[256];
  assert_int_equal(lh_conf_parse(CONF_EVICT, strlen(CONF_EVICT), &c, err, sizeof err), 0);
  return c;
}

/* Running tasks of group g left after the result's evictions, plus its new binds. */
static int h_left(const lh_snapshot *s, const lh_result *r, int g, int running) {
  size_t n;
  const lh_eviction *e = lh_result_evictions(r, &n);
  for (size_t i = 0; i < n; i++) running -= lh_snapshot_task_group(s, e[i].task) == g;
  const lh_bind *b = lh_result_binds(r, &n);
  for (size_t i = 0; i < n; i++) running += b[i].group == g;
  return running;
}

/* Preemption needs 2 cpu on n0, which holds two members of a 3-member gang (minMember 2): taking
 * both leaves the gang at 1. The gang must go whole (3 evictions) or not at all. */
static void preempt_never_leaves_gang_below_min(void **state) {
  (void)state;
  lh_snapshot *s = lh_snapshot_new();
  assert_non_null(s);
  int c = lh_snapshot_add_cluster(s, "c0", LH_CLUSTER_DEDICATED, NULL);
  h_node(s, c, "n0", 2000);
  h_node(s, c, "n1", 1000);
  h_queue(s, "q", 1);
  int v = h_group(s, "victim", "uid-v", "q", 2, 0, 1, LH_GROUP_RUNNING);
  h_task(s, v, "v0", 1000, 0, "n0");
  h_task(s, v, "v1", 1000, 0, "n0");
  h_task(s, v, "v2", 1000, 0, "n1");
  int p = h_group(s, "urgent", "uid-p", "q", 1, 100, 2, LH_GROUP_INQUEUE);
  h_task(s, p, "p0", 2000, 100, NULL);
  lh_conf *conf = evict_conf();
  lh_result *r = run(conf, s);
  int left = h_left(s, r, v, 3);
  if (left != 0 && left < 2) fail_msg("preempt left gang 'victim' with %d of minMember 2 running", left);
  lh_result_free(r);
  lh_conf_free(conf);
  lh_snapshot_free(s);
}

/* Reclaim evicts a whole gang: the member allocate bound in the same cycle must not stay behind
 * alone. Queue a: gang (minMember 3) running g0@n0, g1@n1, g2@n2 plus g3 that allocate binds on
 * n2's free half. Queue b's 2-task gang reclaims n0 and n1; the second victim makes the gang
 * "whole", whose RUNNING members all go, but g3's fresh bind stays: 1 of 3. */
static void whole_gang_eviction_takes_this_cycles_binds(void **state) {
  (void)state;
  lh_snapshot *s = lh_snapshot_new();
  assert_non_null(s);
  int c = lh_snapshot_add_cluster(s, "c0", LH_CLUSTER_DEDICATED, NULL);
  h_node(s, c, "n0", 1000);
  h_node(s, c, "n1", 1000);
  h_node(s, c, "n2", 2000);
  h_queue(s, "a", 1);
  h_queue(s, "b", 1);
  int g = h_group(s, "gang", "uid-g", "a", 3, 0, 1, LH_GROUP_RUNNING);
  h_task(s, g, "g0", 1000, 0, "n0");
  h_task(s, g, "g1", 1000, 0, "n1");
  h_task(s, g, "g2", 1000, 0, "n2");
  h_task(s, g, "g3", 1000, 0, NULL);
  int b = h_group(s, "big", "uid-b", "b", 2, 0, 2, LH_GROUP_INQUEUE);
  h_task(s, b, "b0", 1000, 0, NULL);
  h_task(s, b, "b1", 1000, 0, NULL);
  lh_conf *conf = evict_conf();
  lh_result *r = run(conf, s);
  int left = h_left(s, r, g, 3);
  if (left != 0 && left < 3) fail_msg("reclaim left gang 'gang' with %d (running + bound) of minMember 3", left);
  lh_result_free(r);
  lh_conf_free(conf);
  lh_snapshot_free(s);
}

/* Two equally ranked victim groups (same priority and creation time, different uids) on one
 * node: which one is preempted must not depend on insertion order (header: ties break on
 * creation time, then UID). */
static void victim_choice_ignores_insertion_order(void **state) {
  (void)state;
  const char *chosen[2] = {NULL, NULL};
  for (int order = 0; order < 2; order++) {
    lh_snapshot *s = lh_snapshot_new();
    assert_non_null(s);
    int c = lh_snapshot_add_cluster(s, "c0", LH_CLUSTER_DEDICATED, NULL);
    h_node(s, c, "n0", 2000);
    h_queue(s, "q", 1);
    for (int k = 0; k < 2; k++) {
      int which = order ? 1 - k : k;
      int g = h_group(s, which ? "low-b" : "low-a", which ? "uid-b" : "uid-a", "q", 1, 0, 5, LH_GROUP_RUNNING);
      h_task(s, g, which ? "b0" : "a0", 1000, 0, "n0");
    }
    int p = h_group(s, "urgent", "uid-p", "q", 1, 100, 9, LH_GROUP_INQUEUE);
    h_task(s, p, "p0", 1000, 100, NULL);
    lh_conf *conf = evict_conf();
    lh_result *r = run(conf, s);
    size_t n;
    const lh_eviction *e = lh_result_evictions(r, &n);
    assert_int_equal(n, 1);
    chosen[order] = lh_snapshot_group_uid(s, e[0].group)[4] == 'a' ? "uid-a" : "uid-b";
    lh_result_free(r);
    lh_conf_free(conf);
    lh_snapshot_free(s);
  }
  if (strcmp(chosen[0], chosen[1]))
    fail_msg("victim depends on insertion order: %s when a is added first, %s when b is", chosen[0], chosen[1]);
}

/* Room for 4 one-cpu tasks, queues a, b, c (weight 1) and d (weight 5), each with 4 one-task
 * groups: the water-filling ideal is 0.5, 0.5, 0.5, 2.5 tasks. Lowest-share-first order with
 * "overused once allocated >= deserved" (Adams apportionment) hands every queue its first task
 * before d gets a second: 1, 1, 1, 1, which leaves d 1.5 tasks short. */
static void fair_share_keeps_lower_quota(void **state) {
  (void)state;
  lh_snapshot *s = lh_snapshot_new();
  assert_non_null(s);
  int c = lh_snapshot_add_cluster(s, "c0", LH_CLUSTER_DEDICATED, NULL);
  h_node(s, c, "n0", 4000);
  const char *qn[4] = {"a", "b", "c", "d"};
  h_queue(s, "a", 1);
  h_queue(s, "b", 1);
  h_queue(s, "c", 1);
  h_queue(s, "d", 5);
  for (int q = 0; q < 4; q++)
    for (int i = 0; i < 4; i++) {
      char name[32], uid[32];
      snprintf(name, sizeof name, "%s-%d", qn[q], i);
      snprintf(uid, sizeof uid, "uid-%s-%d", qn[q], i);
      int g = h_group(s, name, uid, qn[q], 1, 0, i, LH_GROUP_INQUEUE);
      h_task(s, g, name, 1000, 0, NULL);
    }
  lh_result *r = run(confs[0], s);
  size_t n;
  const lh_bind *b = lh_result_binds(r, &n);
  int got[4] = {0};
  for (size_t i = 0; i < n; i++) got[lh_snapshot_group_name(s, b[i].group)[8] - 'a']++;
  if (got[3] < 2)
    fail_msg("queue d (weight 5 of 8, ideal 2.5 of 4 tasks) got %d; a, b, c got %d, %d, %d (ideal 0.5 each)",
             got[3], got[0], got[1], got[2]);
  lh_result_free(r);
  lh_snapshot_free(s);
}

/* Fault run: on random snapshots under the reclaim/preempt configuration, fail each of
 * lh_schedule's allocations in turn. Every run must either succeed with a result that holds the
 * invariants or return LH_ENOMEM with *out NULL; ASan's leak check at exit covers "no leak". */
static void schedule_survives_every_allocation_failure(void **state) {
  (void)state;
  verdict v = {{0}};
  for (uint64_t i = 0; i < 12; i++) {
    uint64_t seed = case_seed(env_u64("LAHAR_PROPS_SEED", 1), i) ^ 0x00f1ULL;
    gen_params p = gen_params_props(seed);
    gen_model *m = gen_model_new(&p);
    assert_non_null(m);
    lh_snapshot *s = NULL;
    gen_map mp = {0};
    assert_int_equal(gen_build(m, 0, 0, &s, &mp), 0);
    lh_result *r = NULL;
    lh_test_alloc_fail_at(0);
    assert_int_equal(lh_schedule(confs[1], s, 1000, &r), 0);
    long total = lh_test_alloc_count();
    lh_result_free(r);
    for (long n = 1; n <= total; n++) {
      r = NULL;
      lh_test_alloc_fail_at(n);
      int rc = lh_schedule(confs[1], s, 1000, &r);
      lh_test_alloc_fail_at(0);
      if (rc == 0) {
        assert_non_null(r);
        if (check_result(m, &mp, s, r, 1, &v)) fail_case(seed, "reclaim-preempt", "invariant after a failed allocation", &v);
      } else {
        if (rc != LH_ENOMEM || r != NULL)
          fail_msg("seed %" PRIu64 ": allocation %ld of %ld failed: rc %d (%s), out %p", seed, n, total, rc,
                   lh_strerror(rc), (void *)r);
      }
      lh_result_free(r);
    }
    lh_snapshot_free(s);
    gen_map_free(&mp);
    gen_model_free(m);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(reference_waterfilling_is_right),
      cmocka_unit_test(preempt_never_leaves_gang_below_min),
      cmocka_unit_test(whole_gang_eviction_takes_this_cycles_binds),
      cmocka_unit_test(victim_choice_ignores_insertion_order),
      cmocka_unit_test(fair_share_keeps_lower_quota),
      cmocka_unit_test(generator_models_are_consistent),
      cmocka_unit_test(random_snapshots_hold_invariants),
      cmocka_unit_test(allocation_matches_waterfilling),
      cmocka_unit_test(schedule_survives_every_allocation_failure),
  };
  return cmocka_run_group_tests(tests, setup_confs, teardown_confs);
}
