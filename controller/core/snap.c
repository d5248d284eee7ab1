/* snap.c — informer caches -> lh_snapshot (see snap.h for the model mapping).
 * Sections: helpers (quantities, times, sorted cache views) · pods pre-pass (foreign usage,
 * group membership) · clusters and nodes (with the per-node facts cache, lh_snap_cache) ·
 * queues (hierarchy) · groups · tasks.
 */
#include "kube/pod.h"
#include "scheduler/lahar_sched.h"

#include "core/snap.h"
#include "util/log.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define C "snapshot"

/* ---- helpers ---------------------------------------------------------------------------- */
int lh_snap_qty(const json_t *v, int milli, int64_t *out) {
  if (json_is_integer(v)) {
    json_int_t n = json_integer_value(v);
    if (n < 0 || (milli && n > INT64_MAX / 1000)) return -1;
    *out = milli ? (int64_t)n * 1000 : (int64_t)n;
    return 0;
  }
  if (json_is_real(v)) {
    double d = json_real_value(v) * (milli ? 1000.0 : 1.0);
    if (d < 0 || d > 9e18) return -1;
    *out = (int64_t)(d + 0.999999);
    return 0;
  }
  if (!json_is_string(v)) return -1;
  int64_t r;
  if (lh_kube_quantity_parse(json_string_value(v), milli, &r) || r < 0) return -1;
  *out = r;
  return 0;
}

int64_t lh_snap_time(const char *s) {
  if (!s) return 0;
  struct tm tm;
  memset(&tm, 0, sizeof(tm));
  const char *e = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
  if (!e) return 0;
  return (int64_t)timegm(&tm);
}

static const json_t *jget(const json_t *o, const char *a, const char *b) {
  const json_t *v = json_object_get(o, a);
  return b ? json_object_get(v, b) : v;
}
static const char *jstr2(const json_t *o, const char *a, const char *b) {
  const json_t *v = jget(o, a, b);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Reads {cpu, memory, nvidia.com/gpu} of a ResourceList; absent dimensions get def. */
static int res_list(const json_t *rl, int64_t def, lh_res *out) {
  static const char *K[3] = {"cpu", "memory", "nvidia.com/gpu"};
  for (int i = 0; i < 3; i++) {
    const json_t *v = json_object_get(rl, K[i]);
    out->v[i] = def;
    if (v && lh_snap_qty(v, i == 0, &out->v[i])) return -1;
  }
  return 0;
}

typedef struct kv_obj {
  const char *key;
  const void *obj;
} kv_obj;
typedef struct kv_vec {
  kv_obj *a;
  size_t n, cap;
  int nomem;
} kv_vec;
static void vec_add(const char *key, const void *obj, void *ud) {
  kv_vec *v = ud;
  if (v->n == v->cap) {
    size_t nc = v->cap ? v->cap * 2 : 64;
    kv_obj *na = realloc(v->a, nc * sizeof(*na));
    if (!na) {
      v->nomem = 1;
      return;
    }
    v->a = na;
    v->cap = nc;
  }
  v->a[v->n].key = key;
  v->a[v->n++].obj = obj;
}
static int kv_cmp(const void *a, const void *b) {
  return strcmp(((const kv_obj *)a)->key, ((const kv_obj *)b)->key);
}
/* A sorted view of a cache: determinism (the core breaks ties by insertion index). */
static int sorted(lh_kube_cache *c, kv_vec *v) {
  memset(v, 0, sizeof(*v));
  if (!c) return 0;
  lh_kube_cache_each(c, vec_add, v);
  if (v->nomem) return LH_EKUBE_NOMEM;
  if (v->n) qsort(v->a, v->n, sizeof(kv_obj), kv_cmp);
  return 0;
}

static int ours(const lh_snap_input *in, const char *sched) {
  return sched && (!strcmp(sched, "volcano") || (in->sched_name && !strcmp(sched, in->sched_name)));
}

static char *dupz(const char *s) { return strdup(s ? s : ""); }

static const char *pod_anno(const lh_pod *p, const char *k) {
  for (unsigned i = 0; i < p->nannotations; i++)
    if (!strcmp(p->annotations[i].k, k)) return p->annotations[i].v;
  return NULL;
}

const char *lh_snap_pod_queue(const struct lh_pod *p) {
  const char *q = pod_anno(p, "scheduling.volcano.sh/queue-name");
  if (!q || !*q) q = pod_anno(p, "volcano.sh/queue-name");
  return q && *q ? q : NULL;
}

static int pod_done(const lh_pod *p) {
  return p->phase == LH_POD_SUCCEEDED || p->phase == LH_POD_FAILED;
}

void lh_snap_free(lh_snap *s) {
  if (!s) return;
  lh_snapshot_free(s->snap);
  for (size_t i = 0; i < s->ntasks; i++) free(s->tasks[i].ns), free(s->tasks[i].name), free(s->tasks[i].uid);
  free(s->tasks);
  for (size_t i = 0; i < s->ngroups; i++) {
    lh_snap_group *g = &s->groups[i];
    free(g->ns), free(g->name), free(g->queue), free(g->cur_phase), free(g->cur_reason);
  }
  free(s->groups);
  for (size_t i = 0; i < s->nclusters; i++) free(s->bind_node[i]);
  free(s->bind_node);
  for (size_t i = 0; i < s->nlocal; i++)
    free(s->local[i].ns), free(s->local[i].name), free(s->local[i].queue), free(s->local[i].reason);
  free(s->local);
  memset(s, 0, sizeof(*s));
}

/* ---- build state ------------------------------------------------------------------------- */
typedef struct bstate {
  const lh_snap_input *in;
  lh_snap *out;
  json_t *foreign;   /* node name -> [cpu, mem, gpu, pods] used by other schedulers */
  json_t *nodeidx;   /* node name -> [cluster, node index or -1 (serverless)] */
  json_t *groupidx;  /* "ns/name" of PodGroups -> core group index */
  json_t *gprio;     /* "ns/name" -> [highest priority of its pods, pods placed and live] */
  lh_snap_cache *cache; /* NULL: nothing kept across builds */
  size_t gcap, tcap;
} bstate;

static int grow(void **a, size_t *cap, size_t need, size_t el) {
  if (need <= *cap) return 0;
  size_t nc = *cap ? *cap * 2 : 64;
  while (nc < need) nc *= 2;
  void *na = realloc(*a, nc * el);
  if (!na) return LH_EKUBE_NOMEM;
  memset((char *)na + *cap * el, 0, (nc - *cap) * el);
  *a = na;
  *cap = nc;
  return 0;
}

/* ---- pods pre-pass ----------------------------------------------------------------------- */
static void add_foreign(bstate *b, const lh_pod *p) {
  json_t *u = json_object_get(b->foreign, p->node);
  if (!u) {
    u = json_pack("[I,I,I,I]", (json_int_t)0, (json_int_t)0, (json_int_t)0, (json_int_t)0);
    if (!u || json_object_set_new(b->foreign, p->node, u)) return;
  }
  int64_t add[4] = {p->cpu_milli, p->mem_bytes, p->gpu, 1};
  for (int i = 0; i < 4; i++)
    json_array_set_new(u, i, json_integer(json_integer_value(json_array_get(u, i)) + add[i]));
}

static void sub_foreign(bstate *b, const char *node, lh_res *r, int32_t *max_pods) {
  json_t *u = json_object_get(b->foreign, node);
  if (!u) return;
  for (int i = 0; i < 3; i++) {
    r->v[i] -= (int64_t)json_integer_value(json_array_get(u, i));
    if (r->v[i] < 0) r->v[i] = 0;
  }
  if (max_pods) {
    *max_pods -= (int32_t)json_integer_value(json_array_get(u, 3));
    if (*max_pods < 1) *max_pods = 1; /* the core wants > 0; resources still bound it */
  }
}

/* ---- clusters and nodes ------------------------------------------------------------------ */
/* The facts of one Node object. Every string and both arrays live in buf (one allocation), so
 * an entry can move between cycles without the informer's object it came from. */
typedef struct nfacts {
  char *buf;
  const char *key, *rv;  /* cache key; resourceVersion (NULL: never reused) */
  const char *name;      /* NULL: malformed, skipped */
  const char *cluster;   /* NULL: the input's default cluster */
  int serverless, bad;   /* bad: no name or a bad allocatable quantity (skipped) */
  lh_res alloc;          /* allocatable, before other schedulers' usage */
  int32_t max_pods;      /* likewise */
  int unsched;           /* cordoned or not Ready */
  lh_kv *labels;
  size_t nl;
  lh_taint *taints;
  size_t nt;
} nfacts;

struct lh_snap_cache {
  nfacts *nodes; /* sorted by key: the previous build's sorted node view */
  size_t nnodes;
  size_t reused, parsed;
};

static void nfacts_free(nfacts *f) {
  free(f->buf);
  memset(f, 0, sizeof(*f));
}

lh_snap_cache *lh_snap_cache_new(void) { return calloc(1, sizeof(lh_snap_cache)); }

void lh_snap_cache_free(lh_snap_cache *c) {
  if (!c) return;
  for (size_t i = 0; i < c->nnodes; i++) nfacts_free(&c->nodes[i]);
  free(c->nodes);
  free(c);
}

void lh_snap_cache_stats(const lh_snap_cache *c, size_t *reused, size_t *parsed) {
  *reused = c ? c->reused : 0;
  *parsed = c ? c->parsed : 0;
}

typedef struct nodeinfo {
  const nfacts *f;
  const char *name;
  const char *cluster;
  int serverless;
} nodeinfo;

static int ni_cmp(const void *a, const void *b) {
  const nodeinfo *x = a, *y = b;
  if (x->serverless != y->serverless) return x->serverless - y->serverless;
  int c = strcmp(x->cluster, y->cluster);
  return c ? c : strcmp(x->name, y->name);
}

static int node_ready(const json_t *node) {
  const json_t *conds = jget(node, "status", "conditions");
  size_t i;
  const json_t *c;
  json_array_foreach(conds, i, c) {
    const char *t = jstr2(c, "type", NULL), *s = jstr2(c, "status", NULL);
    if (t && !strcmp(t, "Ready")) return !s || !strcmp(s, "True");
  }
  return 1; /* no Ready condition (a node without a kubelet yet): trust spec.unschedulable */
}

static lh_effect effect_of(const char *e) {
  if (!e || !*e) return LH_EFFECT_ANY;
  if (!strcmp(e, "NoExecute")) return LH_EFFECT_NO_EXECUTE;
  if (!strcmp(e, "PreferNoSchedule")) return LH_EFFECT_PREFER_NO_SCHEDULE;
  return LH_EFFECT_NO_SCHEDULE;
}

static size_t zlen(const char *s) { return s ? strlen(s) + 1 : 0; }
static const char *zput(char **p, const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  memcpy(*p, s, n);
  const char *r = *p;
  *p += n;
  return r;
}

/* Reads one Node object into f (the only place node JSON is read). */
static int parse_node(const char *key, const json_t *o, nfacts *f) {
  memset(f, 0, sizeof(*f));
  const char *name = jstr2(o, "metadata", "name");
  const char *rv = jstr2(o, "metadata", "resourceVersion");
  const json_t *labels = jget(o, "metadata", "labels");
  const json_t *spec = json_object_get(o, "spec");
  const json_t *taints = json_object_get(spec, "taints");
  const char *sl = jstr2(labels, "lahar.io/serverless", NULL);
  f->serverless = sl && !strcmp(sl, "true");
  const char *cl = f->serverless ? jstr2(labels, "lahar.io/serverless-pool", NULL)
                                 : jstr2(labels, "lahar.io/cluster", NULL);
  if (!cl || !*cl) cl = f->serverless ? name : NULL;
  f->bad = !name;
  f->max_pods = 110;
  if (name) {
    const json_t *al = jget(o, "status", "allocatable");
    if (res_list(al, 0, &f->alloc)) {
      LH_WARN(C, "node %s: bad allocatable quantity, skipped", name);
      f->bad = 1;
    }
    int64_t pods = 110;
    const json_t *pv = json_object_get(al, "pods");
    if (pv && lh_snap_qty(pv, 0, &pods)) pods = 110;
    f->max_pods = pods > 0 && pods < INT32_MAX ? (int32_t)pods : 110;
    f->unsched = json_is_true(json_object_get(spec, "unschedulable")) || !node_ready(o);
  }
  /* sizes first, then one allocation: arrays, then strings */
  size_t nl = 0, nt = 0, bytes = zlen(key) + zlen(rv) + zlen(name) + zlen(cl), j;
  const char *lk;
  const json_t *lv, *tv;
  if (!f->bad) {
    json_object_foreach((json_t *)labels, lk, lv) if (json_is_string(lv)) {
      nl++;
      bytes += zlen(lk) + zlen(json_string_value(lv));
    }
    json_array_foreach(taints, j, tv) {
      const char *tk = jstr2(tv, "key", NULL);
      if (!tk) continue;
      nt++;
      bytes += zlen(tk) + zlen(jstr2(tv, "value", NULL));
    }
  }
  size_t hdr = nl * sizeof(lh_kv) + nt * sizeof(lh_taint);
  f->buf = malloc(hdr + bytes);
  if (!f->buf) return LH_EKUBE_NOMEM;
  f->labels = (lh_kv *)f->buf;
  f->taints = (lh_taint *)(f->buf + nl * sizeof(lh_kv));
  char *p = f->buf + hdr;
  f->key = zput(&p, key);
  f->rv = zput(&p, rv);
  f->name = zput(&p, name);
  f->cluster = zput(&p, cl);
  if (f->bad) return 0;
  json_object_foreach((json_t *)labels, lk, lv) if (json_is_string(lv)) {
    f->labels[f->nl].key = zput(&p, lk);
    f->labels[f->nl++].value = zput(&p, json_string_value(lv));
  }
  json_array_foreach(taints, j, tv) {
    const char *tk = jstr2(tv, "key", NULL);
    if (!tk) continue;
    lh_taint *t = &f->taints[f->nt++];
    t->key = zput(&p, tk);
    t->value = zput(&p, jstr2(tv, "value", NULL));
    t->effect = effect_of(jstr2(tv, "effect", NULL));
    if (t->effect == LH_EFFECT_ANY) t->effect = LH_EFFECT_NO_SCHEDULE;
  }
  return 0;
}

/* nf[i] <- the facts of the sorted node view v: reused from the cache when the key and the
 * resourceVersion match the previous build's entry, else parsed. Both lists are sorted by key,
 * so one merge walk pairs them. Entries not reused are freed here. */
static int node_facts(bstate *b, const kv_vec *v, nfacts *nf) {
  lh_snap_cache *c = b->cache;
  size_t j = 0, reused = 0;
  int rc = 0;
  for (size_t i = 0; i < v->n && !rc; i++) {
    const char *key = v->a[i].key;
    if (c) {
      while (j < c->nnodes && strcmp(c->nodes[j].key, key) < 0) nfacts_free(&c->nodes[j++]);
      if (j < c->nnodes && !strcmp(c->nodes[j].key, key)) {
        const char *rv = jstr2(v->a[i].obj, "metadata", "resourceVersion");
        nfacts *old = &c->nodes[j++];
        if (rv && old->rv && !strcmp(rv, old->rv)) {
          nf[i] = *old;
          memset(old, 0, sizeof(*old));
          reused++;
          continue;
        }
        nfacts_free(old);
      }
    }
    rc = parse_node(key, v->a[i].obj, &nf[i]);
  }
  if (c) {
    for (; j < c->nnodes; j++) nfacts_free(&c->nodes[j]);
    free(c->nodes);
    c->nodes = NULL;
    c->nnodes = 0;
    c->reused = reused;
    c->parsed = v->n - reused;
  }
  return rc;
}

static int build_nodes(bstate *b) {
  kv_vec v;
  int rc = sorted(b->in->nodes, &v);
  if (rc) return rc;
  nfacts *nf = calloc(v.n ? v.n : 1, sizeof(*nf));
  nodeinfo *ni = calloc(v.n ? v.n : 1, sizeof(*ni));
  if (!nf || !ni) return free(nf), free(ni), free(v.a), LH_EKUBE_NOMEM;
  rc = node_facts(b, &v, nf);
  size_t n = 0;
  for (size_t i = 0; i < v.n && !rc; i++) {
    if (nf[i].bad) {
      b->out->skipped++;
      continue;
    }
    ni[n].f = &nf[i];
    ni[n].name = nf[i].name;
    ni[n].serverless = nf[i].serverless;
    ni[n].cluster = nf[i].cluster ? nf[i].cluster : b->in->default_cluster;
    n++;
  }
  qsort(ni, n, sizeof(*ni), ni_cmp);
  lh_snapshot *s = b->out->snap;
  const char *prev = NULL;
  int cidx = -1;
  for (size_t i = 0; i < n && !rc; i++) {
    const nfacts *f = ni[i].f;
    lh_res alloc = f->alloc;
    int32_t max_pods = f->max_pods;
    sub_foreign(b, ni[i].name, &alloc, &max_pods);
    if (ni[i].serverless) {
      int ci = lh_snapshot_add_cluster(s, ni[i].cluster, LH_CLUSTER_SERVERLESS, &alloc);
      if (ci == LH_EEXIST) { /* a pool name equal to a dedicated cluster: use the node name */
        ci = lh_snapshot_add_cluster(s, ni[i].name, LH_CLUSTER_SERVERLESS, &alloc);
      }
      if (ci < 0) {
        if (ci == LH_ENOMEM) rc = LH_EKUBE_NOMEM;
        b->out->skipped++;
        continue;
      }
      if (grow((void **)&b->out->bind_node, &b->out->nclusters, (size_t)ci + 1, sizeof(char *))) {
        rc = LH_EKUBE_NOMEM;
        break;
      }
      b->out->bind_node[ci] = strdup(ni[i].name);
      json_object_set_new(b->nodeidx, ni[i].name, json_pack("[i,i]", ci, -1));
      continue;
    }
    if (!prev || strcmp(prev, ni[i].cluster)) {
      cidx = lh_snapshot_add_cluster(s, ni[i].cluster, LH_CLUSTER_DEDICATED, NULL);
      if (cidx < 0) {
        if (cidx == LH_ENOMEM) rc = LH_EKUBE_NOMEM;
        continue;
      }
      prev = ni[i].cluster;
    }
    lh_node_spec ns;
    lh_node_spec_init(&ns);
    ns.name = ni[i].name;
    ns.allocatable = alloc;
    ns.max_pods = max_pods;
    ns.unschedulable = f->unsched;
    ns.labels = f->labels; /* borrowed, copied by the core */
    ns.n_labels = f->nl;
    ns.taints = f->taints;
    ns.n_taints = f->nt;
    int nidx = lh_snapshot_add_node(s, cidx, &ns);
    if (nidx < 0) {
      if (nidx == LH_ENOMEM) rc = LH_EKUBE_NOMEM;
      b->out->skipped++;
      continue;
    }
    json_object_set_new(b->nodeidx, ni[i].name, json_pack("[i,i]", cidx, nidx));
  }
  if (!rc && (size_t)lh_snapshot_n_clusters(s) > b->out->nclusters &&
      grow((void **)&b->out->bind_node, &b->out->nclusters, lh_snapshot_n_clusters(s), sizeof(char *)))
    rc = LH_EKUBE_NOMEM;
  /* the facts go back to the cache for the next build (sorted by key), unless it failed */
  lh_snap_cache *c = b->cache;
  if (c && !rc) {
    c->nodes = nf;
    c->nnodes = v.n;
  } else {
    for (size_t i = 0; i < v.n; i++) nfacts_free(&nf[i]);
    free(nf);
  }
  free(ni);
  free(v.a);
  return rc;
}

/* ---- queues ------------------------------------------------------------------------------ */
typedef struct qinfo {
  char *name;
  char *parent; /* NULL: top level */
  lh_queue_spec spec;
  int added;
} qinfo;

static int qi_find(qinfo *q, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(q[i].name, name)) return (int)i;
  return -1;
}

static int build_queues(bstate *b) {
  kv_vec v;
  int rc = sorted(b->in->queues, &v);
  if (rc) return rc;
  size_t cap = v.n * 4 + 2, n = 0;
  qinfo *q = calloc(cap, sizeof(*q));
  if (!q) return free(v.a), LH_EKUBE_NOMEM;
  for (size_t i = 0; i < v.n && !rc; i++) {
    const json_t *o = v.a[i].obj;
    const char *name = jstr2(o, "metadata", "name");
    if (!name) continue;
    qinfo *e = &q[n];
    lh_queue_spec_init(&e->spec);
    const json_t *spec = json_object_get(o, "spec");
    const json_t *w = json_object_get(spec, "weight");
    if (json_is_integer(w) && json_integer_value(w) >= 1 && json_integer_value(w) <= 65535)
      e->spec.weight = (int32_t)json_integer_value(w);
    if (res_list(json_object_get(spec, "capability"), LH_UNLIMITED, &e->spec.capability) ||
        res_list(jget(spec, "guarantee", "resource"), 0, &e->spec.guarantee)) {
      LH_WARN(C, "queue %s: bad resource quantity in capability/guarantee, ignored", name);
      res_list(NULL, LH_UNLIMITED, &e->spec.capability);
      res_list(NULL, 0, &e->spec.guarantee);
    }
    const json_t *rec = json_object_get(spec, "reclaimable");
    if (json_is_boolean(rec)) e->spec.reclaimable = json_is_true(rec);
    const char *st = jstr2(o, "status", "state");
    const char *want = jstr2(spec, "state", NULL);
    if (st && !strcmp(st, "Closed")) e->spec.state = LH_QUEUE_CLOSED;
    else if ((st && !strcmp(st, "Closing")) || (want && !strcmp(want, "Closed")))
      e->spec.state = LH_QUEUE_CLOSING;
    e->name = strdup(name);
    const char *parent = jstr2(spec, "parent", NULL);
    e->parent = parent && *parent && strcmp(parent, name) ? strdup(parent) : NULL;
    if (!e->name) rc = LH_EKUBE_NOMEM;
    n++;
    /* Volcano's hierarchy annotations: "root/eng/prod" + "1/2/8" */
    const char *h = jstr2(jget(o, "metadata", "annotations"), "volcano.sh/hierarchy", NULL);
    const char *hw = jstr2(jget(o, "metadata", "annotations"), "volcano.sh/hierarchy-weights", NULL);
    if (h && *h && !e->parent) {
      char path[1024], wbuf[256];
      snprintf(path, sizeof(path), "%s", h);
      snprintf(wbuf, sizeof(wbuf), "%s", hw ? hw : "");
      char *segs[32], *ws[32];
      int ns = 0, nw = 0;
      for (char *sv = NULL, *t = strtok_r(path, "/", &sv); t && ns < 32; t = strtok_r(NULL, "/", &sv)) segs[ns++] = t;
      for (char *sv = NULL, *t = strtok_r(wbuf, "/", &sv); t && nw < 32; t = strtok_r(NULL, "/", &sv)) ws[nw++] = t;
      if (nw == ns && ns > 0) {
        long lw = atol(ws[ns - 1]);
        if (lw >= 1 && lw <= 65535 && !json_object_get(spec, "weight")) e->spec.weight = (int32_t)lw;
        else if (lw >= 1 && lw <= 65535) e->spec.weight = (int32_t)lw;
      }
      char prefix[1100] = "";
      char *last_parent = NULL;
      for (int k = 0; k < ns - 1 && !rc; k++) {
        size_t pl = strlen(prefix);
        snprintf(prefix + pl, sizeof(prefix) - pl, "/%s", segs[k]);
        if (qi_find(q, n, prefix) < 0) {
          if (n + 1 >= cap) break;
          qinfo *p = &q[n++];
          lh_queue_spec_init(&p->spec);
          p->name = strdup(prefix);
          p->parent = last_parent ? strdup(last_parent) : NULL;
          long pw = k < nw ? atol(ws[k]) : 1;
          p->spec.weight = pw >= 1 && pw <= 65535 ? (int32_t)pw : 1;
          if (!p->name) rc = LH_EKUBE_NOMEM;
        }
        last_parent = q[qi_find(q, n, prefix)].name;
      }
      if (last_parent) q[qi_find(q, n, name)].parent = strdup(last_parent);
    }
  }
  if (!rc && qi_find(q, n, "default") < 0) { /* the queue created at start, maybe not seen yet */
    lh_queue_spec_init(&q[n].spec);
    q[n++].name = strdup("default");
  }
  /* add parents before children; what is left (unknown parent, cycle) goes top level */
  for (int progress = 1; progress && !rc;) {
    progress = 0;
    for (size_t i = 0; i < n && !rc; i++) {
      if (q[i].added || !q[i].name) continue;
      if (q[i].parent) {
        int pi = qi_find(q, n, q[i].parent);
        if (pi >= 0 && !q[pi].added) continue;
        if (pi < 0) {
          LH_WARN(C, "queue %s: parent %s does not exist, treated as top level", q[i].name, q[i].parent);
          free(q[i].parent);
          q[i].parent = NULL;
        }
      }
      q[i].spec.name = q[i].name;
      q[i].spec.parent = q[i].parent;
      int r = lh_snapshot_add_queue(b->out->snap, &q[i].spec);
      if (r == LH_ENOMEM) rc = LH_EKUBE_NOMEM;
      q[i].added = 1;
      progress = 1;
    }
  }
  for (size_t i = 0; i < n && !rc; i++)
    if (!q[i].added && q[i].name) {
      LH_WARN(C, "queue %s: parent cycle, treated as top level", q[i].name);
      q[i].spec.name = q[i].name;
      q[i].spec.parent = NULL;
      if (lh_snapshot_add_queue(b->out->snap, &q[i].spec) == LH_ENOMEM) rc = LH_EKUBE_NOMEM;
    }
  for (size_t i = 0; i < n; i++) free(q[i].name), free(q[i].parent);
  free(q);
  free(v.a);
  return rc;
}

/* ---- groups ------------------------------------------------------------------------------ */
static int add_group_ref(bstate *b, int gi, const char *ns, const char *name, const char *queue,
                         int is_pg, int min_member, int phase, const json_t *pg) {
  if (grow((void **)&b->out->groups, &b->gcap, (size_t)gi + 1, sizeof(lh_snap_group)))
    return LH_EKUBE_NOMEM;
  lh_snap_group *g = &b->out->groups[gi];
  g->ns = dupz(ns);
  g->name = dupz(name);
  g->queue = dupz(queue);
  g->is_pg = is_pg;
  g->min_member = min_member;
  g->phase = phase;
  g->cur_phase = dupz(pg ? jstr2(pg, "status", "phase") : NULL);
  const char *reason = NULL;
  size_t i;
  const json_t *c;
  json_array_foreach(pg ? jget(pg, "status", "conditions") : NULL, i, c) {
    const char *t = jstr2(c, "type", NULL), *st = jstr2(c, "status", NULL);
    if (t && !strcmp(t, "Unschedulable") && st && !strcmp(st, "True")) reason = jstr2(c, "message", NULL);
  }
  g->cur_reason = dupz(reason);
  b->out->ngroups = (size_t)gi + 1;
  return g->ns && g->name && g->queue && g->cur_phase && g->cur_reason ? 0 : LH_EKUBE_NOMEM;
}

static int local_pending(bstate *b, const char *ns, const char *name, const char *queue,
                         const char *reason) {
  lh_snap_local_pending *l = realloc(b->out->local, (b->out->nlocal + 1) * sizeof(*l));
  if (!l) return LH_EKUBE_NOMEM;
  b->out->local = l;
  l = &l[b->out->nlocal++];
  l->ns = dupz(ns), l->name = dupz(name), l->queue = dupz(queue), l->reason = dupz(reason);
  return 0;
}

static int build_podgroups(bstate *b) {
  kv_vec v;
  int rc = sorted(b->in->podgroups, &v);
  if (rc) return rc;
  for (size_t i = 0; i < v.n && !rc; i++) {
    const json_t *o = v.a[i].obj;
    const char *ns = jstr2(o, "metadata", "namespace"), *name = jstr2(o, "metadata", "name");
    const char *uid = jstr2(o, "metadata", "uid");
    if (!ns || !name) {
      b->out->skipped++;
      continue;
    }
    const char *phase = jstr2(o, "status", "phase");
    if (phase && !strcmp(phase, "Completed")) continue;
    const json_t *spec = json_object_get(o, "spec");
    const char *queue = jstr2(spec, "queue", NULL);
    if (!queue || !*queue) queue = "default";
    if (lh_snapshot_find_queue(b->out->snap, queue) < 0) {
      char r[300];
      snprintf(r, sizeof(r), "queue %s does not exist", queue);
      rc = local_pending(b, ns, name, queue, r);
      continue;
    }
    lh_group_spec gs;
    lh_group_spec_init(&gs);
    gs.ns = ns;
    gs.name = name;
    gs.uid = uid ? uid : v.a[i].key;
    gs.queue = queue;
    const json_t *mm = json_object_get(spec, "minMember");
    if (json_is_integer(mm) && json_integer_value(mm) >= 0 && json_integer_value(mm) < INT32_MAX)
      gs.min_member = (int32_t)json_integer_value(mm);
    if (res_list(json_object_get(spec, "minResources"), 0, &gs.min_resources)) {
      char r[300];
      snprintf(r, sizeof(r), "bad quantity in spec.minResources");
      rc = local_pending(b, ns, name, queue, r);
      continue;
    }
    const json_t *pr = json_object_get(b->gprio, v.a[i].key);
    gs.priority = pr ? (int32_t)json_integer_value(json_array_get(pr, 0)) : 0;
    gs.creation_time = lh_snap_time(jstr2(o, "metadata", "creationTimestamp"));
    gs.phase = !phase ? LH_GROUP_PENDING : !strcmp(phase, "Running") ? LH_GROUP_RUNNING
             : (!strcmp(phase, "Inqueue") || !strcmp(phase, "Unknown")) ? LH_GROUP_INQUEUE
             : LH_GROUP_PENDING;
    /* The phase the cycle writes for placed pods (sched.c: Running when placed >= minMember,
     * else Unknown = in queue), taken from the pods rather than from our status write: until
     * that write comes back through the watch, a group whose pods were just bound would
     * otherwise look "not admitted" and keep resync cycles running. */
    int placed = pr ? (int)json_integer_value(json_array_get(pr, 1)) : 0;
    if (placed > 0 && placed >= gs.min_member) gs.phase = LH_GROUP_RUNNING;
    else if (placed > 0 && gs.phase == LH_GROUP_PENDING) gs.phase = LH_GROUP_INQUEUE;
    int gi = lh_snapshot_add_group(b->out->snap, &gs);
    if (gi < 0) {
      if (gi == LH_ENOMEM) rc = LH_EKUBE_NOMEM;
      b->out->skipped++;
      continue;
    }
    json_object_set_new(b->groupidx, v.a[i].key, json_integer(gi));
    rc = add_group_ref(b, gi, ns, name, queue, 1, gs.min_member, gs.phase, o);
  }
  free(v.a);
  return rc;
}

/* ---- tasks ------------------------------------------------------------------------------- */
static int add_task(bstate *b, int gi, const lh_pod *p) {
  lh_task_spec ts;
  lh_task_spec_init(&ts);
  ts.name = p->name;
  ts.uid = p->uid;
  ts.request.v[LH_RES_CPU] = p->cpu_milli;
  ts.request.v[LH_RES_MEM] = p->mem_bytes;
  ts.request.v[LH_RES_GPU] = p->gpu;
  ts.priority = p->priority;
  const char *node = p->node;
  if (!node && b->in->inflight) node = b->in->inflight(p->uid, b->in->inflight_ud);
  lh_snap_group *g = &b->out->groups[gi];
  g->total++;
  if (p->phase == LH_POD_SUCCEEDED) ts.state = LH_TASK_SUCCEEDED, g->succeeded++;
  else if (p->phase == LH_POD_FAILED) ts.state = LH_TASK_FAILED, g->failed++;
  else if (node) {
    json_t *ix = json_object_get(b->nodeidx, node);
    if (!ix) {
      /* bound to a node we do not know (deleted, not yet listed): it must never look pending,
       * and it uses nothing we could give away; SUCCEEDED keeps it counted for the gang. */
      ts.state = LH_TASK_SUCCEEDED;
    } else {
      ts.state = p->deletion_ts ? LH_TASK_RELEASING : LH_TASK_RUNNING;
      int ci = (int)json_integer_value(json_array_get(ix, 0));
      int ni = (int)json_integer_value(json_array_get(ix, 1));
      ts.cluster = lh_snapshot_cluster_name(b->out->snap, ci);
      ts.node = ni >= 0 ? node : NULL;
    }
    if (!p->deletion_ts) g->running++;
  } else if (p->deletion_ts) {
    return 0; /* pending and being deleted: nothing to do */
  } else {
    ts.state = LH_TASK_PENDING;
    g->pending++;
    b->out->ours_pending++;
  }
  lh_toleration tol[64];
  lh_kv sel[64];
  size_t nt = 0, nsel = 0;
  for (unsigned i = 0; i < p->ntolerations && nt < 64; i++) {
    const lh_pod_toleration *t = &p->tolerations[i];
    tol[nt].key = t->key;
    tol[nt].op = t->op && !strcmp(t->op, "Exists") ? LH_TOL_EXISTS : LH_TOL_EQUAL;
    tol[nt].value = t->value;
    tol[nt].effect = effect_of(t->effect);
    nt++;
  }
  for (unsigned i = 0; i < p->nnode_selector && nsel < 64; i++) {
    sel[nsel].key = p->node_selector[i].k;
    sel[nsel].value = p->node_selector[i].v;
    if (!strcmp(sel[nsel].key, "lahar.io/cluster")) ts.required_cluster = sel[nsel].value;
    nsel++;
  }
  ts.tolerations = tol;
  ts.n_tolerations = nt;
  ts.node_selector = sel;
  ts.n_node_selector = nsel;
  int ti = lh_snapshot_add_task(b->out->snap, gi, &ts);
  if (ti < 0) {
    b->out->skipped++;
    return ti == LH_ENOMEM ? LH_EKUBE_NOMEM : 0;
  }
  if (grow((void **)&b->out->tasks, &b->tcap, (size_t)ti + 1, sizeof(lh_snap_task)))
    return LH_EKUBE_NOMEM;
  lh_snap_task *t = &b->out->tasks[ti];
  t->ns = dupz(p->ns), t->name = dupz(p->name), t->uid = dupz(p->uid);
  b->out->ntasks = (size_t)ti + 1;
  return t->ns && t->name && t->uid ? 0 : LH_EKUBE_NOMEM;
}

int lh_snap_build(const lh_snap_input *in, lh_snap *out) { return lh_snap_build_cached(in, NULL, out); }

int lh_snap_build_cached(const lh_snap_input *in, lh_snap_cache *cache, lh_snap *out) {
  memset(out, 0, sizeof(*out));
  bstate b = {in, out, json_object(), json_object(), json_object(), json_object(), cache, 0, 0};
  out->snap = lh_snapshot_new();
  int rc = out->snap && b.foreign && b.nodeidx && b.groupidx && b.gprio ? 0 : LH_EKUBE_NOMEM;
  kv_vec pods = {0};
  if (!rc) rc = sorted(in->pods, &pods);
  /* pre-pass: other schedulers' usage, and each PodGroup's highest pod priority */
  for (size_t i = 0; i < pods.n && !rc; i++) {
    const lh_pod *p = pods.a[i].obj;
    if (!ours(in, p->scheduler)) {
      if (p->node && !pod_done(p)) add_foreign(&b, p);
      continue;
    }
    if (p->group) {
      char key[600];
      snprintf(key, sizeof(key), "%s/%s", p->ns, p->group);
      json_t *cur = json_object_get(b.gprio, key);
      if (!cur) {
        cur = json_pack("[I,i]", (json_int_t)p->priority, 0);
        if (!cur || json_object_set_new(b.gprio, key, cur)) {
          rc = LH_EKUBE_NOMEM;
          break;
        }
      } else if (json_integer_value(json_array_get(cur, 0)) < p->priority) {
        json_array_set_new(cur, 0, json_integer(p->priority));
      }
      /* pods placed (bound, or a bind in flight) and not finished or going away */
      const char *node = p->node;
      if (!node && in->inflight) node = in->inflight(p->uid, in->inflight_ud);
      if (node && !pod_done(p) && !p->deletion_ts)
        json_array_set_new(cur, 1, json_integer(json_integer_value(json_array_get(cur, 1)) + 1));
    }
  }
  if (!rc) rc = build_nodes(&b);
  if (!rc) rc = build_queues(&b);
  if (!rc) rc = build_podgroups(&b);
  for (size_t i = 0; i < pods.n && !rc; i++) {
    const lh_pod *p = pods.a[i].obj;
    if (!ours(in, p->scheduler)) continue;
    int gi;
    if (p->group) {
      char key[600];
      snprintf(key, sizeof(key), "%s/%s", p->ns, p->group);
      json_t *ix = json_object_get(b.groupidx, key);
      if (!ix) {
        if (!p->node && !pod_done(p)) LH_DEBUG(C, "pod %s/%s waits for podgroup %s", p->ns, p->name, p->group);
        continue;
      }
      gi = (int)json_integer_value(ix);
    } else {
      if (pod_done(p) || p->deletion_ts) continue; /* nothing to account for a finished single pod */
      const char *queue = lh_snap_pod_queue(p);
      if (!queue || lh_snapshot_find_queue(out->snap, queue) < 0) queue = "default";
      const char *node = p->node;
      if (!node && in->inflight) node = in->inflight(p->uid, in->inflight_ud);
      lh_group_spec gs;
      lh_group_spec_init(&gs);
      gs.ns = p->ns;
      gs.name = p->name;
      gs.uid = p->uid;
      gs.queue = queue;
      gs.min_member = 1;
      gs.priority = p->priority;
      gs.phase = node ? LH_GROUP_RUNNING : LH_GROUP_PENDING;
      gi = lh_snapshot_add_group(out->snap, &gs);
      if (gi < 0) {
        if (gi == LH_ENOMEM) rc = LH_EKUBE_NOMEM;
        out->skipped++;
        continue;
      }
      rc = add_group_ref(&b, gi, p->ns, p->name, queue, 0, 1, gs.phase, NULL);
      if (rc) break;
    }
    rc = add_task(&b, gi, p);
  }
  free(pods.a);
  json_decref(b.foreign), json_decref(b.nodeidx), json_decref(b.groupidx), json_decref(b.gprio);
  if (rc) lh_snap_free(out);
  return rc;
}
