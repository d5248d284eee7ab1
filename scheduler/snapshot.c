/* snapshot.c — building the model: lh_snapshot_add_* (validate, intern, dedupe node classes and
 * task templates), lookups and name accessors, spec initialisers and lh_strerror.
 * Sections: errors, spec init, lifecycle, helpers, add_*, lookups. */
#include <stdlib.h>
#include <string.h>

#include "scheduler/model.h"

/* ---- errors ---- */
const char *lh_strerror(int code) {
  switch (code) {
    case LH_OK: return "ok";
    case LH_ENOMEM: return "out of memory";
    case LH_EINVAL: return "invalid argument";
    case LH_ENOENT: return "no such object";
    case LH_EEXIST: return "name already exists";
    case LH_ECONF: return "invalid configuration";
    case LH_ELIMIT: return "internal limit exceeded";
    default: return "unknown error";
  }
}

/* ---- spec initialisers ---- */
void lh_node_spec_init(lh_node_spec *s) {
  memset(s, 0, sizeof(*s));
  s->max_pods = 110;
}
void lh_queue_spec_init(lh_queue_spec *s) {
  memset(s, 0, sizeof(*s));
  s->weight = 1;
  for (int d = 0; d < LH_RES_N; d++) s->capability.v[d] = LH_UNLIMITED;
  s->reclaimable = true;
  s->state = LH_QUEUE_OPEN;
}
void lh_group_spec_init(lh_group_spec *s) {
  memset(s, 0, sizeof(*s));
  s->ns = "default";
  s->min_member = 1;
  s->phase = LH_GROUP_PENDING;
}
void lh_task_spec_init(lh_task_spec *s) {
  memset(s, 0, sizeof(*s));
  s->state = LH_TASK_PENDING;
}

/* ---- lifecycle ---- */
enum { K_CLUSTER = 1, K_QUEUE = 2, K_GROUP = 3, K_NODE = 4, K_TASK = 5 };
static uint64_t key(int kind, int32_t scope, int32_t id) {
  return ((uint64_t)kind << 60) | ((uint64_t)(uint32_t)scope << 32) | (uint32_t)id;
}

lh_snapshot *lh_snapshot_new(void) {
  lh_snapshot *s = lh_calloc(1, sizeof(*s));
  if (!s) return NULL;
  lh_arena_init(&s->arena);
  lh_strtab_init(&s->names);
  s->empty_str = lh_strtab_put(&s->names, &s->arena, "");
  if (s->empty_str < 0) {
    lh_snapshot_free(s);
    return NULL;
  }
  return s;
}

void lh_snapshot_free(lh_snapshot *s) {
  if (!s) return;
  lh_strtab_free(&s->names);
  lh_map_free(&s->index);
  lh_map_free(&s->class_by_hash);
  lh_map_free(&s->tmpl_by_hash);
  free(s->clusters);
  free(s->nodes);
  free(s->classes);
  free(s->queues);
  free(s->groups);
  free(s->tmpls);
  free(s->tasks);
  lh_arena_release(&s->arena);
  free(s);
}

size_t lh_snapshot_mem_bytes(const lh_snapshot *s) {
  return sizeof(*s) + s->arena.bytes + lh_strtab_bytes(&s->names) + lh_map_bytes(&s->index) +
         lh_map_bytes(&s->class_by_hash) + lh_map_bytes(&s->tmpl_by_hash) +
         s->cap_clusters * sizeof(*s->clusters) + s->cap_nodes * sizeof(*s->nodes) +
         s->cap_classes * sizeof(*s->classes) + s->cap_queues * sizeof(*s->queues) +
         s->cap_groups * sizeof(*s->groups) + s->cap_tmpls * sizeof(*s->tmpls) +
         s->cap_tasks * sizeof(*s->tasks);
}

/* ---- helpers ---- */
static bool str_ok(const char *p) { return p && *p && strlen(p) <= 65536; }

static int32_t intern(lh_snapshot *s, const char *p) {
  return lh_strtab_put(&s->names, &s->arena, p ? p : "");
}

static bool res_ok(const lh_res *r) {
  for (int d = 0; d < LH_RES_N; d++)
    if (r->v[d] < 0) return false;
  return true;
}

static int cmp_pair(const void *a, const void *b) {
  const int32_t *x = a, *y = b;
  return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* Interns n key/value pairs into an arena array sorted by key id; LH_EINVAL on a duplicate or
 * empty key. *out is NULL when n == 0. */
static int intern_kvs(lh_snapshot *s, const lh_kv *kv, size_t n, int32_t **out) {
  *out = NULL;
  if (n == 0) return 0;
  if (!kv || n > 4096) return LH_EINVAL;
  int32_t *p = lh_arena_alloc(&s->arena, n * 2 * sizeof(int32_t));
  if (!p) return LH_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    if (!str_ok(kv[i].key)) return LH_EINVAL;
    p[2 * i] = intern(s, kv[i].key);
    p[2 * i + 1] = intern(s, kv[i].value);
    if (p[2 * i] < 0 || p[2 * i + 1] < 0) return p[2 * i] < 0 ? p[2 * i] : p[2 * i + 1];
  }
  qsort(p, n, 2 * sizeof(int32_t), cmp_pair);
  for (size_t i = 1; i < n; i++)
    if (p[2 * i] == p[2 * i - 2]) return LH_EINVAL;
  *out = p;
  return 0;
}

static uint64_t hash_ints(uint64_t h, const int32_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) h = lh_hash_mix(h, (uint32_t)p[i]);
  return h;
}
static bool ints_eq(const int32_t *a, const int32_t *b, size_t n) {
  return n == 0 || memcmp(a, b, n * sizeof(int32_t)) == 0;
}

/* ---- add_* ---- */
int lh_snapshot_add_cluster(lh_snapshot *s, const char *name, lh_cluster_kind kind,
                            const lh_res *quota) {
  if (!s || !str_ok(name)) return LH_EINVAL;
  if (kind != LH_CLUSTER_DEDICATED && kind != LH_CLUSTER_SERVERLESS) return LH_EINVAL;
  if (kind == LH_CLUSTER_SERVERLESS && (!quota || !res_ok(quota))) return LH_EINVAL;
  int32_t nm = intern(s, name);
  if (nm < 0) return nm;
  if (lh_map_get(&s->index, key(K_CLUSTER, 0, nm)) >= 0) return LH_EEXIST;
  if (LH_GROW(s->clusters, s->cap_clusters, s->n_clusters + 1)) return LH_ENOMEM;
  int32_t id = (int32_t)s->n_clusters;
  if (lh_map_put(&s->index, key(K_CLUSTER, 0, nm), id)) return LH_ENOMEM;
  lh_m_cluster *c = &s->clusters[s->n_clusters++];
  memset(c, 0, sizeof(*c));
  c->name = nm;
  c->kind = kind;
  if (kind == LH_CLUSTER_SERVERLESS) c->quota = *quota;
  return id;
}

/* Finds or creates the node class for (cluster, labels, taints, unschedulable). */
static int32_t node_class(lh_snapshot *s, int32_t cluster, int32_t *labels, int32_t nl,
                          int32_t *taints, int32_t nt, bool unsched) {
  uint64_t h = lh_hash_mix(lh_hash_mix(0x51, (uint64_t)cluster), unsched);
  h = hash_ints(lh_hash_mix(h, (uint64_t)nl), labels, 2 * (size_t)nl);
  h = hash_ints(lh_hash_mix(h, (uint64_t)nt), taints, 3 * (size_t)nt);
  if (h == UINT64_MAX) h = 0;
  int32_t first = lh_map_get(&s->class_by_hash, h);
  for (int32_t c = first; c >= 0; c = s->classes[c].next) {
    lh_m_class *k = &s->classes[c];
    if (k->cluster == cluster && k->unschedulable == unsched && k->n_labels == nl &&
        k->n_taints == nt && ints_eq(k->labels, labels, 2 * (size_t)nl) &&
        ints_eq(k->taints, taints, 3 * (size_t)nt))
      return c;
  }
  if (LH_GROW(s->classes, s->cap_classes, s->n_classes + 1)) return LH_ENOMEM;
  int32_t id = (int32_t)s->n_classes;
  if (lh_map_put(&s->class_by_hash, h, id)) return LH_ENOMEM;
  lh_m_class *k = &s->classes[s->n_classes++];
  *k = (lh_m_class){.cluster = cluster, .labels = labels, .n_labels = nl, .taints = taints,
                    .n_taints = nt, .unschedulable = unsched, .next = first};
  return id;
}

int lh_snapshot_add_node(lh_snapshot *s, int cluster, const lh_node_spec *sp) {
  if (!s || !sp || !str_ok(sp->name) || !res_ok(&sp->allocatable) || sp->max_pods <= 0)
    return LH_EINVAL;
  if (cluster < 0 || (size_t)cluster >= s->n_clusters) return LH_ENOENT;
  if (s->clusters[cluster].kind != LH_CLUSTER_DEDICATED) return LH_EINVAL;
  if (sp->n_taints > 4096 || (sp->n_taints && !sp->taints)) return LH_EINVAL;
  int32_t nm = intern(s, sp->name);
  if (nm < 0) return nm;
  if (lh_map_get(&s->index, key(K_NODE, cluster, nm)) >= 0) return LH_EEXIST;
  int32_t *labels, *taints = NULL;
  int rc = intern_kvs(s, sp->labels, sp->n_labels, &labels);
  if (rc) return rc;
  if (sp->n_taints) {
    taints = lh_arena_alloc(&s->arena, sp->n_taints * 3 * sizeof(int32_t));
    if (!taints) return LH_ENOMEM;
    for (size_t i = 0; i < sp->n_taints; i++) {
      const lh_taint *t = &sp->taints[i];
      if (!str_ok(t->key) || t->effect < LH_EFFECT_NO_SCHEDULE || t->effect > LH_EFFECT_NO_EXECUTE)
        return LH_EINVAL;
      taints[3 * i] = intern(s, t->key);
      taints[3 * i + 1] = intern(s, t->value);
      taints[3 * i + 2] = (int32_t)t->effect;
      if (taints[3 * i] < 0 || taints[3 * i + 1] < 0) return LH_ENOMEM;
    }
  }
  if (LH_GROW(s->nodes, s->cap_nodes, s->n_nodes + 1)) return LH_ENOMEM;
  int32_t k = node_class(s, cluster, labels, (int32_t)sp->n_labels, taints, (int32_t)sp->n_taints,
                         sp->unschedulable);
  if (k < 0) return k;
  int32_t id = (int32_t)s->n_nodes;
  if (lh_map_put(&s->index, key(K_NODE, cluster, nm), id)) return LH_ENOMEM;
  s->classes[k].n_nodes++;
  s->nodes[s->n_nodes++] = (lh_m_node){.name = nm, .cluster = cluster, .klass = k,
                                       .max_pods = sp->max_pods, .alloc = sp->allocatable};
  return id;
}

int lh_snapshot_add_queue(lh_snapshot *s, const lh_queue_spec *sp) {
  if (!s || !sp || !str_ok(sp->name) || sp->weight < 1 || !res_ok(&sp->capability) ||
      !res_ok(&sp->guarantee) || sp->state < LH_QUEUE_OPEN || sp->state > LH_QUEUE_CLOSING)
    return LH_EINVAL;
  int32_t parent = -1;
  if (sp->parent && *sp->parent) {
    parent = lh_snapshot_find_queue(s, sp->parent);
    if (parent < 0) return LH_ENOENT;
  }
  int32_t nm = intern(s, sp->name);
  if (nm < 0) return nm;
  if (lh_map_get(&s->index, key(K_QUEUE, 0, nm)) >= 0) return LH_EEXIST;
  if (LH_GROW(s->queues, s->cap_queues, s->n_queues + 1)) return LH_ENOMEM;
  int32_t id = (int32_t)s->n_queues;
  if (lh_map_put(&s->index, key(K_QUEUE, 0, nm), id)) return LH_ENOMEM;
  s->queues[s->n_queues++] =
      (lh_m_queue){.name = nm, .parent = parent, .weight = sp->weight, .state = sp->state,
                   .reclaimable = sp->reclaimable, .capability = sp->capability,
                   .guarantee = sp->guarantee};
  return id;
}

int lh_snapshot_add_group(lh_snapshot *s, const lh_group_spec *sp) {
  if (!s || !sp || !str_ok(sp->name) || !str_ok(sp->uid) || !str_ok(sp->queue) ||
      sp->min_member < 0 || !res_ok(&sp->min_resources) || sp->phase < LH_GROUP_PENDING ||
      sp->phase > LH_GROUP_RUNNING || (sp->ns && strlen(sp->ns) > 65536))
    return LH_EINVAL;
  int32_t q = lh_snapshot_find_queue(s, sp->queue);
  if (q < 0) return LH_ENOENT;
  int32_t uid = intern(s, sp->uid);
  if (uid < 0) return uid;
  if (lh_map_get(&s->index, key(K_GROUP, 0, uid)) >= 0) return LH_EEXIST;
  const char *ns = sp->ns && *sp->ns ? sp->ns : "default";
  size_t ln = strlen(ns), lm = strlen(sp->name);
  char *full = lh_malloc(ln + lm + 2);
  if (!full) return LH_ENOMEM;
  memcpy(full, ns, ln);
  full[ln] = '/';
  memcpy(full + ln + 1, sp->name, lm + 1);
  int32_t fid = intern(s, full);
  free(full);
  int32_t nsid = intern(s, ns), nmid = intern(s, sp->name);
  if (fid < 0 || nsid < 0 || nmid < 0) return LH_ENOMEM;
  if (LH_GROW(s->groups, s->cap_groups, s->n_groups + 1)) return LH_ENOMEM;
  int32_t id = (int32_t)s->n_groups;
  if (lh_map_put(&s->index, key(K_GROUP, 0, uid), id)) return LH_ENOMEM;
  s->groups[s->n_groups++] =
      (lh_m_group){.ns = nsid, .name = nmid, .full = fid, .uid = uid, .queue = q,
                   .min_member = sp->min_member, .priority = sp->priority, .phase = sp->phase,
                   .ctime = sp->creation_time, .min_res = sp->min_resources};
  return id;
}

/* Finds or creates the template for (selector, tolerations, required cluster). */
static int32_t task_tmpl(lh_snapshot *s, const lh_task_spec *sp, int32_t req_cluster) {
  int32_t *sel, *tol = NULL;
  int rc = intern_kvs(s, sp->node_selector, sp->n_node_selector, &sel);
  if (rc) return rc;
  size_t nt = sp->n_tolerations;
  if (nt > 4096 || (nt && !sp->tolerations)) return LH_EINVAL;
  if (nt) {
    tol = lh_arena_alloc(&s->arena, nt * 4 * sizeof(int32_t));
    if (!tol) return LH_ENOMEM;
    for (size_t i = 0; i < nt; i++) {
      const lh_toleration *t = &sp->tolerations[i];
      if (t->op != LH_TOL_EQUAL && t->op != LH_TOL_EXISTS) return LH_EINVAL;
      if (t->effect < LH_EFFECT_NO_SCHEDULE || t->effect > LH_EFFECT_ANY) return LH_EINVAL;
      bool anykey = !t->key || !*t->key;
      if (anykey && t->op != LH_TOL_EXISTS) return LH_EINVAL; /* as Kubernetes validation */
      tol[4 * i] = anykey ? -1 : intern(s, t->key);
      tol[4 * i + 1] = (int32_t)t->op;
      tol[4 * i + 2] = intern(s, t->value);
      tol[4 * i + 3] = (int32_t)t->effect;
      if (tol[4 * i + 2] < 0 || (!anykey && tol[4 * i] < 0)) return LH_ENOMEM;
    }
  }
  int32_t ns = (int32_t)sp->n_node_selector, ntl = (int32_t)nt;
  uint64_t h = lh_hash_mix(0x7e, (uint64_t)(uint32_t)req_cluster);
  h = hash_ints(lh_hash_mix(h, (uint64_t)ns), sel, 2 * (size_t)ns);
  h = hash_ints(lh_hash_mix(h, (uint64_t)ntl), tol, 4 * (size_t)ntl);
  if (h == UINT64_MAX) h = 0;
  int32_t first = lh_map_get(&s->tmpl_by_hash, h);
  for (int32_t t = first; t >= 0; t = s->tmpls[t].next) {
    lh_m_tmpl *m = &s->tmpls[t];
    if (m->req_cluster == req_cluster && m->n_sel == ns && m->n_tol == ntl &&
        ints_eq(m->sel, sel, 2 * (size_t)ns) && ints_eq(m->tol, tol, 4 * (size_t)ntl))
      return t;
  }
  if (LH_GROW(s->tmpls, s->cap_tmpls, s->n_tmpls + 1)) return LH_ENOMEM;
  int32_t id = (int32_t)s->n_tmpls;
  if (lh_map_put(&s->tmpl_by_hash, h, id)) return LH_ENOMEM;
  s->tmpls[s->n_tmpls++] = (lh_m_tmpl){.sel = sel, .n_sel = ns, .tol = tol, .n_tol = ntl,
                                       .req_cluster = req_cluster, .next = first};
  return id;
}

int lh_snapshot_add_task(lh_snapshot *s, int group, const lh_task_spec *sp) {
  if (!s || !sp || !str_ok(sp->name) || !res_ok(&sp->request) || sp->state < LH_TASK_PENDING ||
      sp->state > LH_TASK_FAILED || (sp->uid && strlen(sp->uid) > 65536))
    return LH_EINVAL;
  if (group < 0 || (size_t)group >= s->n_groups) return LH_ENOENT;
  int32_t req_cluster = -1, cluster = -1, node = -1;
  if (sp->required_cluster && *sp->required_cluster) {
    req_cluster = lh_snapshot_find_cluster(s, sp->required_cluster);
    if (req_cluster < 0) return LH_ENOENT;
  }
  if (sp->state == LH_TASK_RUNNING || sp->state == LH_TASK_RELEASING) {
    if (!sp->cluster) return LH_EINVAL;
    cluster = lh_snapshot_find_cluster(s, sp->cluster);
    if (cluster < 0) return LH_ENOENT;
    if (s->clusters[cluster].kind == LH_CLUSTER_DEDICATED) {
      if (!sp->node) return LH_EINVAL;
      node = lh_snapshot_find_node(s, cluster, sp->node);
      if (node < 0) return LH_ENOENT;
    } else if (sp->node && *sp->node) {
      return LH_EINVAL;
    }
  }
  int32_t nm = intern(s, sp->name);
  if (nm < 0) return nm;
  if (lh_map_get(&s->index, key(K_TASK, group, nm)) >= 0) return LH_EEXIST;
  int32_t uid = intern(s, sp->uid && *sp->uid ? sp->uid : sp->name);
  if (uid < 0) return uid;
  int32_t t = task_tmpl(s, sp, req_cluster);
  if (t < 0) return t;
  if (LH_GROW(s->tasks, s->cap_tasks, s->n_tasks + 1)) return LH_ENOMEM;
  int32_t id = (int32_t)s->n_tasks;
  if (lh_map_put(&s->index, key(K_TASK, group, nm), id)) return LH_ENOMEM;
  s->tasks[s->n_tasks++] =
      (lh_m_task){.name = nm, .uid = uid, .group = group, .tmpl = t, .priority = sp->priority,
                  .cluster = cluster, .node = node, .state = sp->state, .req = sp->request};
  s->groups[group].n_tasks++;
  return id;
}

/* ---- lookups ---- */
int lh_snapshot_find_cluster(const lh_snapshot *s, const char *name) {
  if (!s || !name) return LH_ENOENT;
  int32_t nm = lh_strtab_find(&s->names, name);
  int32_t v = nm < 0 ? -1 : lh_map_get(&s->index, key(K_CLUSTER, 0, nm));
  return v < 0 ? LH_ENOENT : v;
}
int lh_snapshot_find_queue(const lh_snapshot *s, const char *name) {
  if (!s || !name) return LH_ENOENT;
  int32_t nm = lh_strtab_find(&s->names, name);
  int32_t v = nm < 0 ? -1 : lh_map_get(&s->index, key(K_QUEUE, 0, nm));
  return v < 0 ? LH_ENOENT : v;
}
int lh_snapshot_find_node(const lh_snapshot *s, int cluster, const char *name) {
  if (!s || !name || cluster < 0) return LH_ENOENT;
  int32_t nm = lh_strtab_find(&s->names, name);
  int32_t v = nm < 0 ? -1 : lh_map_get(&s->index, key(K_NODE, cluster, nm));
  return v < 0 ? LH_ENOENT : v;
}

size_t lh_snapshot_n_clusters(const lh_snapshot *s) { return s ? s->n_clusters : 0; }
size_t lh_snapshot_n_nodes(const lh_snapshot *s) { return s ? s->n_nodes : 0; }
size_t lh_snapshot_n_queues(const lh_snapshot *s) { return s ? s->n_queues : 0; }
size_t lh_snapshot_n_groups(const lh_snapshot *s) { return s ? s->n_groups : 0; }
size_t lh_snapshot_n_tasks(const lh_snapshot *s) { return s ? s->n_tasks : 0; }

#define IN(i, n) (s && (i) >= 0 && (size_t)(i) < s->n)
const char *lh_snapshot_cluster_name(const lh_snapshot *s, int i) {
  return IN(i, n_clusters) ? lh_strtab_str(&s->names, s->clusters[i].name) : NULL;
}
const char *lh_snapshot_node_name(const lh_snapshot *s, int i) {
  return IN(i, n_nodes) ? lh_strtab_str(&s->names, s->nodes[i].name) : NULL;
}
int lh_snapshot_node_cluster(const lh_snapshot *s, int i) {
  return IN(i, n_nodes) ? s->nodes[i].cluster : LH_ENOENT;
}
const char *lh_snapshot_queue_name(const lh_snapshot *s, int i) {
  return IN(i, n_queues) ? lh_strtab_str(&s->names, s->queues[i].name) : NULL;
}
const char *lh_snapshot_group_name(const lh_snapshot *s, int i) {
  return IN(i, n_groups) ? lh_strtab_str(&s->names, s->groups[i].full) : NULL;
}
const char *lh_snapshot_group_uid(const lh_snapshot *s, int i) {
  return IN(i, n_groups) ? lh_strtab_str(&s->names, s->groups[i].uid) : NULL;
}
const char *lh_snapshot_task_name(const lh_snapshot *s, int i) {
  return IN(i, n_tasks) ? lh_strtab_str(&s->names, s->tasks[i].name) : NULL;
}
int lh_snapshot_task_group(const lh_snapshot *s, int i) {
  return IN(i, n_tasks) ? s->tasks[i].group : LH_ENOENT;
}
