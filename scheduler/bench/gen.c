/* gen.c — seeded random scheduling models and their snapshots (see gen.h). Sections: random
 * numbers, storage, presets, model generation (clusters, nodes, queues, groups, running state),
 * the uniform (fairness) variant, building a snapshot, the predicate restatement. */
#include "scheduler/bench/gen.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GIB ((int64_t)1 << 30)
#define MIB ((int64_t)1 << 20)

/* ---- random numbers ---------------------------------------------------------------------- */
static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void gen_rng_seed(gen_rng *r, uint64_t seed) {
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t gen_rng_next(gen_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

uint64_t gen_rng_below(gen_rng *r, uint64_t n) { return n ? gen_rng_next(r) % n : 0; }
double gen_rng_unit(gen_rng *r) { return (double)(gen_rng_next(r) >> 11) * 0x1.0p-53; }
int gen_rng_chance(gen_rng *r, double p) { return p > 0 && gen_rng_unit(r) < p; }
static int64_t pick64(gen_rng *r, const int64_t *v, size_t n) { return v[gen_rng_below(r, n)]; }
static int range(gen_rng *r, int lo, int hi) { return lo + (int)gen_rng_below(r, (uint64_t)(hi - lo + 1)); }

/* ---- storage: bump chunks owned by the model ------------------------------------------- */
struct gen_chunk {
  struct gen_chunk *next;
  size_t used, cap;
  _Alignas(16) char data[];
};

static void *galloc(gen_model *m, size_t n) {
  n = (n + 15) & ~(size_t)15;
  struct gen_chunk *c = m->mem;
  if (!c || c->cap - c->used < n) {
    size_t cap = n > (1u << 20) ? n : (1u << 20);
    c = malloc(sizeof *c + cap);
    if (!c) return NULL;
    c->next = m->mem;
    c->used = 0;
    c->cap = cap;
    m->mem = c;
  }
  void *p = c->data + c->used;
  c->used += n;
  memset(p, 0, n);
  return p;
}

__attribute__((format(printf, 2, 3))) static const char *gstr(gen_model *m, const char *fmt, ...) {
  char tmp[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0) return NULL;
  if ((size_t)n >= sizeof tmp) n = sizeof tmp - 1;
  char *s = galloc(m, (size_t)n + 1);
  if (s) memcpy(s, tmp, (size_t)n + 1);
  return s;
}

/* A Kubernetes-shaped UID (36 characters): model memory is measured with realistic strings. */
static const char *guid(gen_model *m, gen_rng *r) {
  uint64_t a = gen_rng_next(r), b = gen_rng_next(r);
  return gstr(m, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff,
              (unsigned)a & 0xfff, (unsigned)(0x8000 | ((b >> 48) & 0x3fff)),
              (unsigned long long)(b & 0xffffffffffffULL));
}

/* ---- presets ------------------------------------------------------------------------------ */
gen_params gen_params_props(uint64_t seed) {
  gen_rng r;
  gen_rng_seed(&r, seed ^ 0x5eedULL);
  gen_params p = {0};
  p.seed = seed;
  p.kind = GEN_MIXED;
  p.n_dedicated = range(&r, 1, 3);
  p.n_serverless = range(&r, 0, 2);
  p.n_nodes = range(&r, p.n_dedicated, 24);
  p.n_queues = range(&r, 1, 6);
  p.n_groups = range(&r, 1, 24);
  p.n_tasks = p.n_groups * range(&r, 1, 5);
  p.max_gang = range(&r, 1, 8);
  p.big_nodes = 0;
  p.p_hierarchy = gen_rng_chance(&r, 0.3) ? 0.4 : 0;
  p.p_capability = 0.3;
  p.p_guarantee = 0.15;
  p.p_unreclaimable = 0.3;
  p.p_gpu_node = 0.25;
  p.p_taint = 0.25;
  p.p_cordon = 0.08;
  p.p_zone_sel = 0.2;
  p.p_gpu_group = 0.2;
  p.p_required = 0.25;
  p.p_best_effort = 0.05;
  /* a third of the snapshots start saturated, so reclaim and preempt have something to take */
  p.p_running = gen_rng_chance(&r, 0.33) ? 0.8 : gen_rng_chance(&r, 0.6) ? 0.4 : 0;
  p.p_min_res = 0.3;
  p.p_pending_phase = 0.5;
  p.serverless_cores = range(&r, 2, 24);
  return p;
}

gen_params gen_params_uniform(uint64_t seed) {
  gen_rng r;
  gen_rng_seed(&r, seed ^ 0xfa1eULL);
  gen_params p = {0};
  p.seed = seed;
  p.kind = GEN_UNIFORM;
  p.n_dedicated = 1;
  p.n_nodes = range(&r, 2, 24);
  p.n_queues = range(&r, 2, 6);
  p.max_gang = 1;
  p.p_capability = 0.3;
  p.p_pending_phase = 0.5;
  return p;
}

gen_params gen_params_bench(int n_nodes, int n_tasks, int n_groups, uint64_t seed) {
  gen_params p = {0};
  p.seed = seed;
  p.kind = GEN_MIXED;
  p.n_dedicated = 4;
  p.n_serverless = 2;
  p.n_nodes = n_nodes;
  p.n_queues = 20;
  p.n_groups = n_groups;
  p.n_tasks = n_tasks;
  p.max_gang = 64;
  p.big_nodes = 1;
  p.p_hierarchy = 0;
  p.p_capability = 0.25;
  p.p_guarantee = 0.1;
  p.p_unreclaimable = 0.2;
  p.p_gpu_node = 0.1;
  p.p_taint = 0.05;
  p.p_cordon = 0.01;
  p.p_zone_sel = 0.1;
  p.p_gpu_group = 0.05;
  p.p_required = 0.1;
  p.p_best_effort = 0.01;
  p.p_running = 0;
  p.p_min_res = 0.2;
  p.p_pending_phase = 0.5;
  p.serverless_cores = (int64_t)n_tasks / 20 + 64; /* each serverless cluster takes ~5% of pods */
  return p;
}

/* ---- model generation --------------------------------------------------------------------- */
typedef struct {
  lh_res *node_used;
  int *node_pods;
  lh_res *cluster_used; /* serverless quota use */
  lh_res *queue_used;   /* own and descendants' running use */
  int **cluster_nodes;  /* node indices per cluster */
  int *cluster_n_nodes;
} gen_state;

static int fits_res(const lh_res *used, const lh_res *add, const lh_res *limit) {
  for (int d = 0; d < LH_RES_N; d++) {
    if (limit->v[d] == LH_UNLIMITED) continue;
    if (used->v[d] + add->v[d] > limit->v[d]) return 0;
  }
  return 1;
}

static void res_add(lh_res *a, const lh_res *b, int sign) {
  for (int d = 0; d < LH_RES_N; d++) a->v[d] += sign * b->v[d];
}

static int gen_clusters(gen_model *m, gen_rng *r) {
  const gen_params *p = &m->p;
  m->n_clusters = p->n_dedicated + p->n_serverless;
  m->clusters = galloc(m, sizeof *m->clusters * (size_t)(m->n_clusters ? m->n_clusters : 1));
  if (!m->clusters) return -1;
  for (int c = 0; c < m->n_clusters; c++) {
    gen_cluster *gc = &m->clusters[c];
    if (c < p->n_dedicated) {
      gc->kind = LH_CLUSTER_DEDICATED;
      gc->name = gstr(m, "cce-dedicated-%d", c);
    } else {
      gc->kind = LH_CLUSTER_SERVERLESS;
      gc->name = gstr(m, "cci-serverless-%d", c - p->n_dedicated);
      int64_t cores = p->serverless_cores > 0 ? p->serverless_cores : 8;
      if (p->big_nodes == 0) cores = cores / 2 + (int64_t)gen_rng_below(r, (uint64_t)cores + 1);
      gc->quota.v[LH_RES_CPU] = cores * 1000;
      gc->quota.v[LH_RES_MEM] = cores * 4 * GIB;
      gc->quota.v[LH_RES_GPU] = gen_rng_chance(r, 0.3) ? (int64_t)gen_rng_below(r, 3) : 0;
    }
    if (!gc->name) return -1;
  }
  return 0;
}

static const char *const ZONES[] = {"zone-a", "zone-b", "zone-c"};

static int gen_nodes(gen_model *m, gen_rng *r) {
  const gen_params *p = &m->p;
  m->n_nodes = p->n_nodes;
  m->nodes = galloc(m, sizeof *m->nodes * (size_t)(m->n_nodes ? m->n_nodes : 1));
  if (!m->nodes) return -1;
  for (int i = 0; i < m->n_nodes; i++) {
    gen_node *n = &m->nodes[i];
    lh_node_spec_init(&n->spec);
    /* contiguous blocks per cluster, like real node lists */
    n->cluster = p->n_dedicated ? (int)((int64_t)i * p->n_dedicated / m->n_nodes) : 0;
    n->spec.name = gstr(m, "node-%d-%05d.%s", n->cluster, i, "cluster.local");
    int gpu = gen_rng_chance(r, p->p_gpu_node);
    int64_t cores;
    if (p->big_nodes) {
      static const int64_t big[] = {32, 64, 64, 96};
      cores = pick64(r, big, 4);
      n->spec.allocatable.v[LH_RES_MEM] = cores * 4 * GIB;
      n->spec.max_pods = 110;
    } else {
      static const int64_t small[] = {2, 4, 8, 16};
      static const int64_t pods[] = {3, 5, 8, 16, 110};
      cores = pick64(r, small, 4);
      n->spec.allocatable.v[LH_RES_MEM] = cores * (int64_t)range(r, 1, 3) * 2 * GIB;
      n->spec.max_pods = (int32_t)pick64(r, pods, 5);
    }
    n->spec.allocatable.v[LH_RES_CPU] = cores * 1000;
    if (gpu) n->spec.allocatable.v[LH_RES_GPU] = p->big_nodes ? 8 : range(r, 1, 4);

    lh_kv *labels = galloc(m, sizeof *labels * 4);
    lh_taint *taints = galloc(m, sizeof *taints * 2);
    if (!labels || !taints || !n->spec.name) return -1;
    size_t nl = 0, nt = 0;
    labels[nl++] = (lh_kv){"topology.kubernetes.io/zone", ZONES[gen_rng_below(r, 3)]};
    labels[nl++] = (lh_kv){"node.kubernetes.io/pool", gpu ? "gpu" : "cpu"};
    if (p->hostname_label) labels[nl++] = (lh_kv){"kubernetes.io/hostname", n->spec.name};
    if (gpu) {
      labels[nl++] = (lh_kv){"accelerator", "nvidia"};
      if (p->big_nodes || gen_rng_chance(r, 0.5))
        taints[nt++] = (lh_taint){"nvidia.com/gpu", "present", LH_EFFECT_NO_SCHEDULE};
    } else if (gen_rng_chance(r, p->p_taint)) {
      switch (gen_rng_below(r, 3)) {
      case 0: taints[nt++] = (lh_taint){"dedicated", "batch", LH_EFFECT_NO_SCHEDULE}; break;
      case 1: taints[nt++] = (lh_taint){"spot", "true", LH_EFFECT_PREFER_NO_SCHEDULE}; break;
      default: taints[nt++] = (lh_taint){"maintenance", NULL, LH_EFFECT_NO_EXECUTE}; break;
      }
    }
    n->spec.labels = labels;
    n->spec.n_labels = nl;
    n->spec.taints = taints;
    n->spec.n_taints = nt;
    n->spec.unschedulable = gen_rng_chance(r, p->p_cordon);
  }
  return 0;
}

static int64_t total_cpu(const gen_model *m) {
  int64_t t = 0;
  for (int i = 0; i < m->n_nodes; i++) t += m->nodes[i].spec.allocatable.v[LH_RES_CPU];
  for (int c = 0; c < m->n_clusters; c++)
    if (m->clusters[c].kind == LH_CLUSTER_SERVERLESS) t += m->clusters[c].quota.v[LH_RES_CPU];
  return t;
}

static int gen_queues(gen_model *m, gen_rng *r) {
  const gen_params *p = &m->p;
  m->n_queues = p->n_queues;
  m->queues = galloc(m, sizeof *m->queues * (size_t)m->n_queues);
  if (!m->queues) return -1;
  int64_t tot = total_cpu(m);
  for (int q = 0; q < m->n_queues; q++) {
    gen_queue *gq = &m->queues[q];
    lh_queue_spec_init(&gq->spec);
    gq->spec.name = gstr(m, "queue-%02d", q);
    if (!gq->spec.name) return -1;
    gq->parent = -1;
    gq->leaf = 1;
    if (q > 0 && gen_rng_chance(r, p->p_hierarchy)) {
      int cand = (int)gen_rng_below(r, (uint64_t)q);
      if (m->queues[cand].parent == -1) {
        gq->parent = cand;
        m->queues[cand].leaf = 0;
        m->queues[cand].spec.guarantee = (lh_res){{0, 0, 0}};
        gq->spec.parent = m->queues[cand].spec.name;
      }
    }
    static const int64_t w_bench[] = {1, 1, 2, 2, 4, 8};
    gq->spec.weight = p->big_nodes ? (int32_t)pick64(r, w_bench, 6) : range(r, 1, 10);
    if (gen_rng_chance(r, p->p_capability)) {
      int64_t cpu = tot * range(r, 10, 60) / 100;
      if (p->kind == GEN_UNIFORM) cpu = (cpu / 1000 + 1) * 1000; /* whole tasks */
      gq->spec.capability.v[LH_RES_CPU] = cpu;
      if (p->kind != GEN_UNIFORM && gen_rng_chance(r, 0.5))
        gq->spec.capability.v[LH_RES_MEM] = cpu / 1000 * 3 * GIB;
      if (p->kind != GEN_UNIFORM && gen_rng_chance(r, 0.2))
        gq->spec.capability.v[LH_RES_GPU] = range(r, 0, 4);
    }
    if (p->kind != GEN_UNIFORM && gen_rng_chance(r, p->p_guarantee) && gq->parent == -1) {
      gq->spec.guarantee.v[LH_RES_CPU] = range(r, 1, 4) * 1000;
      gq->spec.guarantee.v[LH_RES_MEM] = gq->spec.guarantee.v[LH_RES_CPU] / 1000 * 2 * GIB;
    }
    gq->spec.reclaimable = !gen_rng_chance(r, p->p_unreclaimable);
  }
  /* a parent's guarantee was cleared above when it got a child; only leaves keep one */
  for (int q = 0; q < m->n_queues; q++)
    if (!m->queues[q].leaf) m->queues[q].spec.guarantee = (lh_res){{0, 0, 0}};
  return 0;
}

/* Gang sizes: log-uniform targets in [1, max_gang], scaled so they sum exactly to n_tasks. */
static int gen_sizes(gen_model *m, gen_rng *r, int *sizes) {
  const gen_params *p = &m->p;
  int n = p->n_groups;
  double sum = 0;
  double *t = malloc(sizeof *t * (size_t)n);
  if (!t) return -1;
  int lg = 0;
  while ((1 << (lg + 1)) <= p->max_gang) lg++;
  for (int g = 0; g < n; g++) {
    int e = (int)gen_rng_below(r, (uint64_t)lg + 1);
    int lo = 1 << e, hi = (2 << e) - 1;
    if (hi > p->max_gang) hi = p->max_gang;
    t[g] = range(r, lo, hi);
    sum += t[g];
  }
  long total = 0;
  for (int g = 0; g < n; g++) {
    sizes[g] = (int)(t[g] * p->n_tasks / sum);
    if (sizes[g] < 1) sizes[g] = 1;
    total += sizes[g];
  }
  free(t);
  /* fix rounding one task at a time on random groups */
  while (total < p->n_tasks) {
    sizes[gen_rng_below(r, (uint64_t)n)]++;
    total++;
  }
  for (long guard = 0; total > p->n_tasks && guard < 100L * n; guard++) {
    int g = (int)gen_rng_below(r, (uint64_t)n);
    if (sizes[g] > 1) {
      sizes[g]--;
      total--;
    }
  }
  return 0;
}

static int leaf_queue(const gen_model *m, gen_rng *r) {
  for (;;) {
    int q = (int)gen_rng_below(r, (uint64_t)m->n_queues);
    if (m->queues[q].leaf) return q;
  }
}

static int queue_fits(const gen_model *m, gen_state *st, int q, const lh_res *add) {
  for (; q >= 0; q = m->queues[q].parent)
    if (!fits_res(&st->queue_used[q], add, &m->queues[q].spec.capability)) return 0;
  return 1;
}

static void queue_charge(const gen_model *m, gen_state *st, int q, const lh_res *add, int sign) {
  for (; q >= 0; q = m->queues[q].parent) res_add(&st->queue_used[q], add, sign);
}

/* Try to make group g running: place k tasks (k >= min_member) in one cluster, honouring
 * predicates, node capacity, max pods, serverless quota and queue capabilities. Rolls back and
 * returns 0 when it cannot. */
static int place_running(gen_model *m, gen_rng *r, gen_state *st, int g) {
  gen_group *gg = &m->groups[g];
  int minm = gg->spec.min_member > 0 ? gg->spec.min_member : 1;
  int k = range(r, minm, gg->n_tasks);
  int c = gg->req_cluster >= 0 ? gg->req_cluster : (int)gen_rng_below(r, (uint64_t)m->n_clusters);
  gen_cluster *gc = &m->clusters[c];
  int placed = 0;
  for (int i = 0; i < k; i++) {
    gen_task *t = &m->tasks[gg->first_task + i];
    if (!queue_fits(m, st, gg->queue, &t->spec.request)) break;
    if (gc->kind == LH_CLUSTER_SERVERLESS) {
      if (!fits_res(&st->cluster_used[c], &t->spec.request, &gc->quota)) break;
      res_add(&st->cluster_used[c], &t->spec.request, 1);
      t->node = -1;
    } else {
      int nn = st->cluster_n_nodes[c], found = -1;
      if (nn == 0) break;
      int start = (int)gen_rng_below(r, (uint64_t)nn);
      for (int j = 0; j < nn && found < 0; j++) {
        int ni = st->cluster_nodes[c][(start + j) % nn];
        gen_node *n = &m->nodes[ni];
        if (!gen_node_fits_predicates(&n->spec, &t->spec)) continue;
        if (st->node_pods[ni] + 1 > n->spec.max_pods) continue;
        if (!fits_res(&st->node_used[ni], &t->spec.request, &n->spec.allocatable)) continue;
        found = ni;
      }
      if (found < 0) break;
      res_add(&st->node_used[found], &t->spec.request, 1);
      st->node_pods[found]++;
      t->node = found;
    }
    queue_charge(m, st, gg->queue, &t->spec.request, 1);
    t->cluster = c;
    placed++;
  }
  if (placed < k) { /* roll back */
    for (int i = 0; i < placed; i++) {
      gen_task *t = &m->tasks[gg->first_task + i];
      if (t->node >= 0) {
        res_add(&st->node_used[t->node], &t->spec.request, -1);
        st->node_pods[t->node]--;
      } else {
        res_add(&st->cluster_used[c], &t->spec.request, -1);
      }
      queue_charge(m, st, gg->queue, &t->spec.request, -1);
      t->cluster = t->node = -1;
    }
    return 0;
  }
  for (int i = 0; i < k; i++) {
    gen_task *t = &m->tasks[gg->first_task + i];
    t->spec.cluster = gc->name;
    t->spec.node = t->node >= 0 ? m->nodes[t->node].spec.name : NULL;
    t->spec.state = LH_TASK_RUNNING;
    /* a few running tasks are being deleted (dedicated only: they keep holding the node) */
    if (t->node >= 0 && gen_rng_chance(r, 0.08)) t->spec.state = LH_TASK_RELEASING;
  }
  gg->spec.phase = LH_GROUP_RUNNING;
  /* some of the not-yet-placed tasks already finished (they count for the gang, use nothing) */
  for (int i = k; i < gg->n_tasks; i++)
    if (gen_rng_chance(r, 0.1)) m->tasks[gg->first_task + i].spec.state = LH_TASK_SUCCEEDED;
  return 1;
}

static int gen_groups(gen_model *m, gen_rng *r, gen_state *st) {
  const gen_params *p = &m->p;
  int *sizes = malloc(sizeof *sizes * (size_t)p->n_groups);
  if (!sizes || gen_sizes(m, r, sizes)) {
    free(sizes);
    return -1;
  }
  m->n_groups = p->n_groups;
  m->n_tasks = 0;
  for (int g = 0; g < m->n_groups; g++) m->n_tasks += sizes[g];
  m->groups = galloc(m, sizeof *m->groups * (size_t)m->n_groups);
  m->tasks = galloc(m, sizeof *m->tasks * (size_t)m->n_tasks);
  if (!m->groups || !m->tasks) {
    free(sizes);
    return -1;
  }
  int next_task = 0;
  for (int g = 0; g < m->n_groups; g++) {
    gen_group *gg = &m->groups[g];
    lh_group_spec_init(&gg->spec);
    gg->queue = leaf_queue(m, r);
    gg->first_task = next_task;
    gg->n_tasks = sizes[g];
    next_task += sizes[g];
    const char *ns = gstr(m, "team-%d", (int)gen_rng_below(r, 8));
    const char *name = gstr(m, "job-%06d", g);
    gg->spec.ns = ns;
    gg->spec.name = name;
    gg->spec.uid = guid(m, r);
    gg->spec.queue = m->queues[gg->queue].spec.name;
    if (!ns || !name || !gg->spec.uid) goto oom;
    /* ties in creation time are common in props runs so the uid tie-break is exercised */
    gg->spec.creation_time = p->big_nodes ? g : (int64_t)gen_rng_below(r, 40);
    static const int64_t prio[] = {0, 0, 0, 0, 10, 100};
    gg->spec.priority = p->big_nodes ? (gen_rng_chance(r, 0.1) ? 100 : 0) : (int32_t)pick64(r, prio, 6);

    int best_effort = gen_rng_chance(r, p->p_best_effort);
    int gpu = !best_effort && gen_rng_chance(r, p->p_gpu_group);
    /* gang or array job */
    if (best_effort) gg->spec.min_member = gen_rng_chance(r, 0.5) ? 1 : 0;
    else if (p->big_nodes) gg->spec.min_member = gen_rng_chance(r, 0.6) ? gg->n_tasks : 1;
    else {
      switch (gen_rng_below(r, 4)) {
      case 0: gg->spec.min_member = 1; break;
      case 1: gg->spec.min_member = range(r, 1, gg->n_tasks); break;
      case 2: gg->spec.min_member = gen_rng_chance(r, 0.1) ? 0 : gg->n_tasks; break;
      default: gg->spec.min_member = gg->n_tasks; break;
      }
    }
    /* one pod template per group */
    lh_res req = {{0, 0, 0}};
    if (!best_effort) {
      static const int64_t cpu_small[] = {100, 250, 500, 1000, 2000, 4000};
      static const int64_t cpu_big[] = {250, 500, 1000, 1000, 2000, 4000, 8000};
      req.v[LH_RES_CPU] = p->big_nodes ? pick64(r, cpu_big, 7) : pick64(r, cpu_small, 6);
      req.v[LH_RES_MEM] = req.v[LH_RES_CPU] * range(r, 1, 4) * MIB;
      if (gpu) req.v[LH_RES_GPU] = p->big_nodes ? pick64(r, (const int64_t[]){1, 2, 4, 8}, 4) : range(r, 1, 2);
    }
    lh_kv *sel = galloc(m, sizeof *sel * 2);
    lh_toleration *tol = galloc(m, sizeof *tol * 2);
    if (!sel || !tol) goto oom;
    size_t ns_ = 0, nt = 0;
    if (gpu) {
      sel[ns_++] = (lh_kv){"accelerator", "nvidia"};
      tol[nt++] = (lh_toleration){"nvidia.com/gpu", LH_TOL_EXISTS, NULL, LH_EFFECT_NO_SCHEDULE};
    }
    if (gen_rng_chance(r, p->p_zone_sel))
      sel[ns_++] = (lh_kv){"topology.kubernetes.io/zone", ZONES[gen_rng_below(r, 3)]};
    if (nt < 2 && gen_rng_chance(r, 0.3)) {
      switch (gen_rng_below(r, 4)) {
      case 0: tol[nt++] = (lh_toleration){"dedicated", LH_TOL_EQUAL, "batch", LH_EFFECT_NO_SCHEDULE}; break;
      case 1: tol[nt++] = (lh_toleration){"dedicated", LH_TOL_EQUAL, "other", LH_EFFECT_ANY}; break;
      case 2: tol[nt++] = (lh_toleration){"maintenance", LH_TOL_EXISTS, NULL, LH_EFFECT_ANY}; break;
      default:
        if (!p->big_nodes) tol[nt++] = (lh_toleration){NULL, LH_TOL_EXISTS, NULL, LH_EFFECT_ANY};
        break;
      }
    }
    gg->req_cluster = -1;
    if (gen_rng_chance(r, p->p_required) && m->n_clusters > 0) {
      gg->req_cluster = (int)gen_rng_below(r, (uint64_t)m->n_clusters);
      if (gpu && m->clusters[gg->req_cluster].kind == LH_CLUSTER_SERVERLESS && p->big_nodes)
        gg->req_cluster = 0;
    }
    lh_res minres = {{0, 0, 0}};
    for (int i = 0; i < gg->n_tasks; i++) {
      gen_task *t = &m->tasks[gg->first_task + i];
      lh_task_spec_init(&t->spec);
      t->group = g;
      t->cluster = t->node = -1;
      t->spec.name = gstr(m, "%s-worker-%d", name, i);
      t->spec.uid = guid(m, r);
      if (!t->spec.name || !t->spec.uid) goto oom;
      t->spec.request = req;
      t->spec.priority = gg->spec.priority;
      t->spec.node_selector = sel;
      t->spec.n_node_selector = ns_;
      t->spec.tolerations = tol;
      t->spec.n_tolerations = nt;
      t->spec.required_cluster = gg->req_cluster >= 0 ? m->clusters[gg->req_cluster].name : NULL;
      t->spec.state = LH_TASK_PENDING;
      if (i < gg->spec.min_member) res_add(&minres, &req, 1);
    }
    gg->spec.phase = gen_rng_chance(r, p->p_pending_phase) ? LH_GROUP_PENDING : LH_GROUP_INQUEUE;
    if (gen_rng_chance(r, p->p_min_res)) gg->spec.min_resources = minres;
    if (gen_rng_chance(r, p->p_running)) place_running(m, r, st, g);
  }
  free(sizes);
  return 0;
oom:
  free(sizes);
  return -1;
}

/* GEN_UNIFORM: 1-core/2-GiB tasks, nodes holding exactly 4 or 8 of them, per-queue demands of
 * which some are small (below any fair share) and the rest exceed the whole cluster. */
static int gen_uniform_groups(gen_model *m, gen_rng *r) {
  int64_t cap_tasks = 0;
  for (int i = 0; i < m->n_nodes; i++) {
    gen_node *n = &m->nodes[i];
    int k = gen_rng_chance(r, 0.5) ? 4 : 8;
    n->spec.allocatable = (lh_res){{k * 1000, k * 2 * GIB, 0}};
    n->spec.max_pods = 110;
    n->spec.n_labels = n->spec.n_taints = 0;
    n->spec.unschedulable = false;
    cap_tasks += k;
  }
  int *demand = malloc(sizeof *demand * (size_t)m->n_queues);
  if (!demand) return -1;
  int total = 0, big = 0;
  for (int q = 0; q < m->n_queues; q++) {
    if (gen_rng_chance(r, 0.4)) demand[q] = (int)gen_rng_below(r, (uint64_t)(cap_tasks / (2 * m->n_queues) + 1));
    else {
      demand[q] = (int)(cap_tasks / 2 + (int64_t)gen_rng_below(r, (uint64_t)cap_tasks * 3 / 2 + 1));
      big++;
    }
    total += demand[q];
  }
  if (!big || total <= cap_tasks) {
    demand[m->n_queues - 1] += (int)cap_tasks * 2;
    total += (int)cap_tasks * 2;
  }
  m->n_groups = m->n_tasks = total;
  m->groups = galloc(m, sizeof *m->groups * (size_t)(total ? total : 1));
  m->tasks = galloc(m, sizeof *m->tasks * (size_t)(total ? total : 1));
  if (!m->groups || !m->tasks) {
    free(demand);
    return -1;
  }
  int g = 0;
  for (int q = 0; q < m->n_queues; q++) {
    for (int i = 0; i < demand[q]; i++, g++) {
      gen_group *gg = &m->groups[g];
      gen_task *t = &m->tasks[g];
      lh_group_spec_init(&gg->spec);
      gg->queue = q;
      gg->first_task = g;
      gg->n_tasks = 1;
      gg->req_cluster = -1;
      gg->spec.ns = "fair";
      gg->spec.name = gstr(m, "job-%06d", g);
      gg->spec.uid = guid(m, r);
      gg->spec.queue = m->queues[q].spec.name;
      gg->spec.min_member = 1;
      gg->spec.creation_time = (int64_t)gen_rng_below(r, 1000);
      gg->spec.phase = gen_rng_chance(r, m->p.p_pending_phase) ? LH_GROUP_PENDING : LH_GROUP_INQUEUE;
      lh_task_spec_init(&t->spec);
      t->group = g;
      t->cluster = t->node = -1;
      t->spec.name = gstr(m, "job-%06d-0", g);
      t->spec.uid = guid(m, r);
      t->spec.request = (lh_res){{1000, 2 * GIB, 0}};
      if (!gg->spec.name || !gg->spec.uid || !t->spec.name || !t->spec.uid) {
        free(demand);
        return -1;
      }
    }
  }
  free(demand);
  return 0;
}

gen_model *gen_model_new(const gen_params *p) {
  if (!p || p->n_queues < 1 || (p->kind == GEN_MIXED && (p->n_groups < 1 || p->n_tasks < p->n_groups)) ||
      p->max_gang < 1 || (p->n_nodes > 0 && p->n_dedicated < 1) || p->n_dedicated + p->n_serverless < 1)
    return NULL;
  gen_model *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->p = *p;
  gen_rng r;
  gen_rng_seed(&r, p->seed);
  gen_state st = {0};
  if (gen_clusters(m, &r) || gen_nodes(m, &r) || gen_queues(m, &r)) goto fail;
  if (p->kind == GEN_UNIFORM) {
    if (gen_uniform_groups(m, &r)) goto fail;
    return m;
  }
  st.node_used = calloc((size_t)m->n_nodes + 1, sizeof *st.node_used);
  st.node_pods = calloc((size_t)m->n_nodes + 1, sizeof *st.node_pods);
  st.cluster_used = calloc((size_t)m->n_clusters, sizeof *st.cluster_used);
  st.queue_used = calloc((size_t)m->n_queues, sizeof *st.queue_used);
  st.cluster_nodes = calloc((size_t)m->n_clusters, sizeof *st.cluster_nodes);
  st.cluster_n_nodes = calloc((size_t)m->n_clusters, sizeof *st.cluster_n_nodes);
  if (!st.node_used || !st.node_pods || !st.cluster_used || !st.queue_used || !st.cluster_nodes ||
      !st.cluster_n_nodes)
    goto fail;
  for (int c = 0; c < m->n_clusters; c++) {
    st.cluster_nodes[c] = malloc(sizeof(int) * ((size_t)m->n_nodes + 1));
    if (!st.cluster_nodes[c]) goto fail;
  }
  for (int i = 0; i < m->n_nodes; i++) {
    int c = m->nodes[i].cluster;
    st.cluster_nodes[c][st.cluster_n_nodes[c]++] = i;
  }
  if (gen_groups(m, &r, &st)) goto fail;
  goto done;
fail:
  gen_model_free(m);
  m = NULL;
done:
  if (st.cluster_nodes)
    for (int c = 0; c < (m ? m->n_clusters : p->n_dedicated + p->n_serverless); c++) free(st.cluster_nodes[c]);
  free(st.cluster_nodes);
  free(st.cluster_n_nodes);
  free(st.node_used);
  free(st.node_pods);
  free(st.cluster_used);
  free(st.queue_used);
  return m;
}

void gen_model_free(gen_model *m) {
  if (!m) return;
  for (struct gen_chunk *c = m->mem, *n; c; c = n) {
    n = c->next;
    free(c);
  }
  free(m);
}

/* ---- building a snapshot ------------------------------------------------------------------ */
static void shuffle_ints(int *a, int n, gen_rng *r) {
  for (int i = n - 1; i > 0; i--) {
    int j = (int)gen_rng_below(r, (uint64_t)i + 1), t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

static int *ints(int n) { return malloc(sizeof(int) * ((size_t)n + 1)); }

void gen_map_free(gen_map *map) {
  if (!map) return;
  free(map->snap_cluster);
  free(map->snap_node);
  free(map->snap_queue);
  free(map->snap_group);
  free(map->snap_task);
  free(map->model_cluster);
  free(map->model_node);
  free(map->model_queue);
  free(map->model_group);
  free(map->model_task);
  memset(map, 0, sizeof *map);
}

int gen_build(const gen_model *m, unsigned shuffle, uint64_t shuffle_seed, lh_snapshot **out,
              gen_map *map) {
  gen_map mp = {0};
  *out = NULL;
  lh_snapshot *s = lh_snapshot_new();
  gen_rng r;
  gen_rng_seed(&r, shuffle_seed);
  int rc = LH_ENOMEM;
  int *order = NULL, *next = NULL;
  mp.snap_cluster = ints(m->n_clusters);
  mp.model_cluster = ints(m->n_clusters);
  mp.snap_node = ints(m->n_nodes);
  mp.model_node = ints(m->n_nodes);
  mp.snap_queue = ints(m->n_queues);
  mp.model_queue = ints(m->n_queues);
  mp.snap_group = ints(m->n_groups);
  mp.model_group = ints(m->n_groups);
  mp.snap_task = ints(m->n_tasks);
  mp.model_task = ints(m->n_tasks);
  int maxn = m->n_nodes > m->n_tasks ? m->n_nodes : m->n_tasks;
  if (m->n_groups > maxn) maxn = m->n_groups;
  order = ints(maxn);
  next = ints(m->n_groups);
  if (!s || !mp.snap_cluster || !mp.model_cluster || !mp.snap_node || !mp.model_node || !mp.snap_queue ||
      !mp.model_queue || !mp.snap_group || !mp.model_group || !mp.snap_task || !mp.model_task || !order || !next)
    goto fail;

  for (int c = 0; c < m->n_clusters; c++) {
    const gen_cluster *gc = &m->clusters[c];
    rc = lh_snapshot_add_cluster(s, gc->name, gc->kind, gc->kind == LH_CLUSTER_SERVERLESS ? &gc->quota : NULL);
    if (rc < 0) goto fail;
    mp.snap_cluster[c] = rc;
    mp.model_cluster[rc] = c;
  }
  for (int i = 0; i < m->n_nodes; i++) order[i] = i;
  if (shuffle & GEN_SHUFFLE_NODES) shuffle_ints(order, m->n_nodes, &r);
  for (int k = 0; k < m->n_nodes; k++) {
    int i = order[k];
    rc = lh_snapshot_add_node(s, mp.snap_cluster[m->nodes[i].cluster], &m->nodes[i].spec);
    if (rc < 0) goto fail;
    mp.snap_node[i] = rc;
    mp.model_node[rc] = i;
  }
  for (int q = 0; q < m->n_queues; q++) {
    rc = lh_snapshot_add_queue(s, &m->queues[q].spec);
    if (rc < 0) goto fail;
    mp.snap_queue[q] = rc;
    mp.model_queue[rc] = q;
  }
  if (shuffle & GEN_NODES_ONLY) goto done;
  for (int g = 0; g < m->n_groups; g++) order[g] = g;
  if (shuffle & GEN_SHUFFLE_GROUPS) shuffle_ints(order, m->n_groups, &r);
  for (int k = 0; k < m->n_groups; k++) {
    int g = order[k];
    rc = lh_snapshot_add_group(s, &m->groups[g].spec);
    if (rc < 0) goto fail;
    mp.snap_group[g] = rc;
    mp.model_group[rc] = g;
  }
  /* tasks: one slot per task naming its group; shuffled slots interleave groups while each
   * group's tasks keep their order */
  if (shuffle & GEN_SHUFFLE_TASKS) {
    for (int t = 0; t < m->n_tasks; t++) order[t] = m->tasks[t].group;
    shuffle_ints(order, m->n_tasks, &r);
  } else {
    /* groups' tasks in group insertion order */
    int k = 0;
    for (int sg = 0; sg < m->n_groups; sg++) {
      const gen_group *gg = &m->groups[mp.model_group[sg]];
      for (int i = 0; i < gg->n_tasks; i++) order[k++] = mp.model_group[sg];
    }
  }
  for (int g = 0; g < m->n_groups; g++) next[g] = 0;
  for (int k = 0; k < m->n_tasks; k++) {
    int g = order[k];
    int t = m->groups[g].first_task + next[g]++;
    rc = lh_snapshot_add_task(s, mp.snap_group[g], &m->tasks[t].spec);
    if (rc < 0) goto fail;
    mp.snap_task[t] = rc;
    mp.model_task[rc] = t;
  }
done:
  free(order);
  free(next);
  *out = s;
  if (map) *map = mp;
  else gen_map_free(&mp);
  return 0;
fail:
  free(order);
  free(next);
  gen_map_free(&mp);
  lh_snapshot_free(s);
  return rc < 0 ? rc : LH_ENOMEM;
}

/* ---- predicates (Kubernetes' rules, restated independently of the core) -------------------- */
static int str_eq(const char *a, const char *b) { return strcmp(a ? a : "", b ? b : "") == 0; }

static int tolerates(const lh_toleration *tol, size_t n, const char *key, const char *value, lh_effect effect) {
  for (size_t i = 0; i < n; i++) {
    const lh_toleration *t = &tol[i];
    if (t->effect != LH_EFFECT_ANY && t->effect != effect) continue;
    if (!t->key || !t->key[0]) {
      if (t->op == LH_TOL_EXISTS) return 1;
      continue;
    }
    if (strcmp(t->key, key) != 0) continue;
    if (t->op == LH_TOL_EXISTS || str_eq(t->value, value)) return 1;
  }
  return 0;
}

int gen_node_fits_predicates(const lh_node_spec *n, const lh_task_spec *t) {
  if (n->unschedulable &&
      !tolerates(t->tolerations, t->n_tolerations, "node.kubernetes.io/unschedulable", NULL, LH_EFFECT_NO_SCHEDULE))
    return 0;
  for (size_t i = 0; i < t->n_node_selector; i++) {
    int ok = 0;
    for (size_t j = 0; j < n->n_labels && !ok; j++)
      ok = strcmp(n->labels[j].key, t->node_selector[i].key) == 0 && str_eq(n->labels[j].value, t->node_selector[i].value);
    if (!ok) return 0;
  }
  for (size_t i = 0; i < n->n_taints; i++) {
    const lh_taint *tt = &n->taints[i];
    if (tt->effect == LH_EFFECT_PREFER_NO_SCHEDULE) continue;
    if (!tolerates(t->tolerations, t->n_tolerations, tt->key, tt->value, tt->effect)) return 0;
  }
  return 1;
}
