/* gc.c — garbage collection, namespace and CRD cleanup (see gc.h). */
#include "localcluster/gc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "localcluster/logs.h"
#include "util/log.h"

#define NBUCKETS 4096
/* seconds (whole, of the deletionTimestamp) a deleted namespace stays Terminating before its
 * contents are removed */
#define NS_TERMINATING_S 2

typedef struct dep {
  struct dep *next;
  char *key, *ns, *name;
} dep;

typedef struct owner {
  struct owner *next;
  char uid[40];
  dep *deps;
} owner;

enum { W_OWNER_GONE = 1, W_OWNER_FIN, W_NAMESPACE, W_CRD };

typedef struct work {
  int type;
  char key[260];
  char ns[254];
  char name[254];
  char uid[40];
} work;

struct lc_gc {
  owner *b[NBUCKETS];
  size_t n_owners;
  work *q;
  size_t qn, qcap;
};

struct lc_gc *lc_gc_new(void) { return calloc(1, sizeof(struct lc_gc)); }

static unsigned hash(const char *s) {
  unsigned h = 2166136261u;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
  return h % NBUCKETS;
}

static owner *find_owner(struct lc_gc *g, const char *uid, int create) {
  unsigned h = hash(uid);
  for (owner *o = g->b[h]; o; o = o->next)
    if (!strcmp(o->uid, uid)) return o;
  if (!create) return NULL;
  owner *o = calloc(1, sizeof *o);
  if (!o) return NULL;
  snprintf(o->uid, sizeof o->uid, "%s", uid);
  o->next = g->b[h];
  g->b[h] = o;
  g->n_owners++;
  return o;
}

static void free_owner(owner *o) {
  dep *d = o->deps;
  while (d) {
    dep *n = d->next;
    free(d->key);
    free(d->ns);
    free(d->name);
    free(d);
    d = n;
  }
  free(o);
}

static void drop_owner(struct lc_gc *g, const char *uid) {
  unsigned h = hash(uid);
  for (owner **pp = &g->b[h]; *pp; pp = &(*pp)->next) {
    if (!strcmp((*pp)->uid, uid)) {
      owner *o = *pp;
      *pp = o->next;
      free_owner(o);
      g->n_owners--;
      return;
    }
  }
}

static void add_dep(struct lc_gc *g, const char *uid, const char *key, const char *ns, const char *name) {
  owner *o = find_owner(g, uid, 1);
  if (!o) return;
  for (dep *d = o->deps; d; d = d->next)
    if (!strcmp(d->key, key) && !strcmp(d->ns, ns) && !strcmp(d->name, name)) return;
  dep *d = calloc(1, sizeof *d);
  if (!d) return;
  d->key = strdup(key);
  d->ns = strdup(ns);
  d->name = strdup(name);
  if (!d->key || !d->ns || !d->name) {
    free(d->key);
    free(d->ns);
    free(d->name);
    free(d);
    return;
  }
  d->next = o->deps;
  o->deps = d;
}

void lc_gc_free(struct lc_gc *g) {
  if (!g) return;
  for (int i = 0; i < NBUCKETS; i++) {
    owner *o = g->b[i];
    while (o) {
      owner *n = o->next;
      free_owner(o);
      o = n;
    }
  }
  free(g->q);
  free(g);
}

static void queue_k(lc_server *s, int type, const char *key, const char *ns, const char *name, const char *uid,
                    int kick) {
  struct lc_gc *g = s->gc;
  if (!g) return;
  for (size_t i = 0; i < g->qn; i++) {
    work *w = &g->q[i];
    if (w->type == type && !strcmp(w->key, key) && !strcmp(w->ns, ns) && !strcmp(w->name, name) &&
        !strcmp(w->uid, uid))
      return;
  }
  if (g->qn == g->qcap) {
    size_t nc = g->qcap ? g->qcap * 2 : 32;
    work *nq = realloc(g->q, nc * sizeof *nq);
    if (!nq) return;
    g->q = nq;
    g->qcap = nc;
  }
  work *w = &g->q[g->qn++];
  w->type = type;
  snprintf(w->key, sizeof w->key, "%s", key);
  snprintf(w->ns, sizeof w->ns, "%s", ns);
  snprintf(w->name, sizeof w->name, "%s", name);
  snprintf(w->uid, sizeof w->uid, "%s", uid);
  if (kick && s->kick) s->kick(s, 0);
}

static void queue(lc_server *s, int type, const char *key, const char *ns, const char *name, const char *uid) {
  queue_k(s, type, key, ns, name, uid, 1);
}

/* re-queue for a later retry (the server runs again after a delay when lc_gc_run returns 1) */
static void requeue(lc_server *s, int type, const char *key, const char *ns, const char *name, const char *uid) {
  queue_k(s, type, key, ns, name, uid, 0);
}

void lc_gc_queue_namespace(lc_server *s, const char *ns) { queue(s, W_NAMESPACE, "namespaces", "", ns, ""); }
void lc_gc_queue_crd(lc_server *s, const char *crd) {
  queue(s, W_CRD, "apiextensions.k8s.io/customresourcedefinitions", "", crd, "");
}
int lc_gc_pending(const lc_server *s) { return s->gc && s->gc->qn > 0; }

static int has_str(const json_t *arr, const char *v) {
  size_t i;
  const json_t *x;
  json_array_foreach(arr, i, x) if (json_is_string(x) && !strcmp(json_string_value(x), v)) return 1;
  return 0;
}

/* Indexing and queueing for one object state. */
/* parsed: the object already parsed (the store event's obj), or NULL to parse json here. */
static void observe(lc_server *s, lh_store_event_type type, const char *key, const char *ns, const char *name,
                    const char *json, size_t len, const json_t *parsed) {
  int has_owners = strstr(json, "\"ownerReferences\"") != NULL;
  int deleting = strstr(json, "\"deletionTimestamp\"") != NULL;
  int is_ns = !strcmp(key, "namespaces");
  int is_crd = !strcmp(key, "apiextensions.k8s.io/customresourcedefinitions");
  int need_uid = type == LH_STORE_DELETED && s->gc->n_owners > 0;
  if (!has_owners && !deleting && !need_uid && !(is_crd && type == LH_STORE_DELETED)) return;
  json_t *o = parsed ? json_incref((json_t *)parsed) : json_loadb(json, len, 0, NULL);
  if (!o) return;
  json_t *md = json_object_get(o, "metadata");
  const char *uid = json_string_value(json_object_get(md, "uid"));
  if (type != LH_STORE_DELETED && has_owners) {
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(md, "ownerReferences"), i, r) {
      const char *ou = json_string_value(json_object_get(r, "uid"));
      if (ou) add_dep(s->gc, ou, key, ns, name);
    }
  }
  if (type == LH_STORE_DELETED) {
    if (uid && find_owner(s->gc, uid, 0)) queue(s, W_OWNER_GONE, key, ns, name, uid);
    if (is_crd) lc_registry_crd_remove(&s->reg, name);
  } else if (deleting) {
    json_t *fins = json_object_get(md, "finalizers");
    if (uid && (has_str(fins, "orphan") || has_str(fins, "foregroundDeletion")))
      queue(s, W_OWNER_FIN, key, ns, name, uid);
    if (is_ns) queue(s, W_NAMESPACE, key, "", name, "");
    if (is_crd) queue(s, W_CRD, key, "", name, "");
  }
  json_decref(o);
}

void lc_gc_on_event(lc_server *s, const lh_store_event *ev) {
  if (!s->gc) return;
  if (ev->type == LH_STORE_DELETED && s->logs && !strcmp(ev->resource, "pods"))
    lc_logs_delete_pod(s->logs, ev->ns, ev->name);
  observe(s, ev->type, ev->resource, ev->ns, ev->name, ev->json, ev->len, ev->obj);
}

typedef struct scan_ctx {
  lc_server *s;
  const char *key;
} scan_ctx;

static int scan_item(void *ud, const char *ns, const char *name, const char *json, size_t len, int64_t rv) {
  (void)rv;
  scan_ctx *c = ud;
  observe(c->s, LH_STORE_MODIFIED, c->key, ns, name, json, len, NULL);
  return 0;
}

int lc_gc_scan(lc_server *s) {
  for (size_t i = 0; i < s->reg.n; i++) {
    const lc_rtype *t = s->reg.v[i];
    if (t->create_only || lc_registry_find_key(&s->reg, t->key) != t) continue;
    scan_ctx c = {s, t->key};
    lh_store_list_opts o = {0};
    lh_store_list_result res;
    int rc = lh_store_list(s->store, t->key, &o, scan_item, &c, &res);
    if (rc) return rc;
  }
  return 0;
}

/* ---- work ------------------------------------------------------------------------------------ */

static int get_obj(lc_server *s, const char *key, const char *ns, const char *name, json_t **out) {
  lh_store_obj o = {0};
  int rc = lh_store_get(s->store, key, ns, name, &o);
  if (rc) return rc;
  *out = json_loadb(o.json, o.len, 0, NULL);
  lh_store_obj_clear(&o);
  return *out ? 0 : LH_STORE_EIO;
}

/* Writes obj back; completes the deletion when it is being deleted and has no finalizers left. */
static int put_back(lc_server *s, const char *key, const char *ns, const char *name, json_t *obj) {
  json_t *md = json_object_get(obj, "metadata");
  const char *rvs = json_string_value(json_object_get(md, "resourceVersion"));
  lh_store_precond pre = {.rv = rvs ? strtoll(rvs, NULL, 10) : 0};
  int pending = json_array_size(json_object_get(md, "finalizers")) > 0;
  if (!strcmp(key, "namespaces"))
    pending |= json_array_size(json_object_get(json_object_get(obj, "spec"), "finalizers")) > 0;
  if (json_object_get(md, "deletionTimestamp") && !pending)
    return lh_store_delete(s->store, key, ns, name, &pre, NULL);
  json_object_del(md, "resourceVersion");
  return lh_store_update(s->store, key, ns, name, obj, &pre, NULL);
}

static void remove_str(json_t *arr, const char *v) {
  for (size_t i = json_array_size(arr); i-- > 0;) {
    const char *x = json_string_value(json_array_get(arr, i));
    if (x && !strcmp(x, v)) json_array_remove(arr, i);
  }
}

static int remove_finalizer(lc_server *s, const char *key, const char *ns, const char *name, const char *fin,
                            int spec_list) {
  json_t *o = NULL;
  int rc = get_obj(s, key, ns, name, &o);
  if (rc) return rc == LH_STORE_ENOTFOUND ? 0 : rc;
  json_t *arr = spec_list ? json_object_get(json_object_get(o, "spec"), "finalizers")
                          : json_object_get(json_object_get(o, "metadata"), "finalizers");
  remove_str(arr, fin);
  rc = put_back(s, key, ns, name, o);
  json_decref(o);
  return rc;
}

static const lc_rtype *type_for_key(lc_server *s, const char *key) { return lc_registry_find_key(&s->reg, key); }

/* Does the dependent still reference uid? Returns the number of owner references (0 when not). */
static size_t refs_to(json_t *o, const char *uid, int *refs_uid) {
  json_t *refs = json_object_get(json_object_get(o, "metadata"), "ownerReferences");
  *refs_uid = 0;
  size_t i;
  json_t *r;
  json_array_foreach(refs, i, r) {
    const char *u = json_string_value(json_object_get(r, "uid"));
    if (u && !strcmp(u, uid)) *refs_uid = 1;
  }
  return json_array_size(refs);
}

/* Owner gone (Background) or foreground: delete dependents that only had this owner.
 * Returns the number of dependents still present. */
static int delete_dependents(lc_server *s, const char *uid) {
  owner *ow = find_owner(s->gc, uid, 0);
  if (!ow) return 0;
  int left = 0;
  for (dep *d = ow->deps; d; d = d->next) {
    json_t *o = NULL;
    if (get_obj(s, d->key, d->ns, d->name, &o)) continue;
    int mine;
    size_t n = refs_to(o, uid, &mine);
    if (mine) {
      const lc_rtype *t = type_for_key(s, d->key);
      if (n > 1) {
        /* other owners remain: drop only this reference */
        json_t *refs = json_object_get(json_object_get(o, "metadata"), "ownerReferences");
        for (size_t i = json_array_size(refs); i-- > 0;) {
          const char *u = json_string_value(json_object_get(json_array_get(refs, i), "uid"));
          if (u && !strcmp(u, uid)) json_array_remove(refs, i);
        }
        put_back(s, d->key, d->ns, d->name, o);
      } else if (t && !json_object_get(json_object_get(o, "metadata"), "deletionTimestamp")) {
        int gone = 0;
        lc_obj_delete(s, t, d->ns, d->name, "Background", NULL, 0, NULL, &gone, NULL);
        if (!gone) left++;
      } else {
        left++;
      }
    }
    json_decref(o);
  }
  return left;
}

static void orphan_dependents(lc_server *s, const char *uid) {
  owner *ow = find_owner(s->gc, uid, 0);
  if (!ow) return;
  for (dep *d = ow->deps; d; d = d->next) {
    json_t *o = NULL;
    if (get_obj(s, d->key, d->ns, d->name, &o)) continue;
    int mine;
    refs_to(o, uid, &mine);
    if (mine) {
      json_t *md = json_object_get(o, "metadata");
      json_t *refs = json_object_get(md, "ownerReferences");
      for (size_t i = json_array_size(refs); i-- > 0;) {
        const char *u = json_string_value(json_object_get(json_array_get(refs, i), "uid"));
        if (u && !strcmp(u, uid)) json_array_remove(refs, i);
      }
      if (!json_array_size(refs)) json_object_del(md, "ownerReferences");
      put_back(s, d->key, d->ns, d->name, o);
    }
    json_decref(o);
  }
}

typedef struct ns_ctx {
  char (*names)[2][254];
  size_t n, cap;
} ns_ctx;

static int collect(void *ud, const char *ns, const char *name, const char *json, size_t len, int64_t rv) {
  (void)json;
  (void)len;
  (void)rv;
  ns_ctx *c = ud;
  if (c->n == c->cap) {
    size_t nc = c->cap ? c->cap * 2 : 64;
    void *nv = realloc(c->names, nc * sizeof *c->names);
    if (!nv) return 1;
    c->names = nv;
    c->cap = nc;
  }
  snprintf(c->names[c->n][0], 254, "%s", ns);
  snprintf(c->names[c->n][1], 254, "%s", name);
  c->n++;
  return 0;
}

/* Deletes every object of t (in ns, or everywhere when ns NULL). Returns how many remain. */
static int64_t purge(lc_server *s, const lc_rtype *t, const char *ns) {
  ns_ctx c = {0};
  lh_store_list_opts o = {.ns = ns};
  lh_store_list_result res;
  lh_store_list(s->store, t->key, &o, collect, &c, &res);
  for (size_t i = 0; i < c.n; i++) {
    int gone;
    lc_obj_delete(s, t, c.names[i][0], c.names[i][1], "Background", NULL, 0, NULL, &gone, NULL);
  }
  free(c.names);
  int64_t left = 0;
  lh_store_count(s->store, t->key, ns, &left);
  return left;
}

static int do_namespace(lc_server *s, const char *name) {
  json_t *o = NULL;
  if (get_obj(s, "namespaces", "", name, &o)) return 0;
  const char *dts = json_string_value(json_object_get(json_object_get(o, "metadata"), "deletionTimestamp"));
  int deleting = dts != NULL;
  /* like the real namespace controller, start removing the contents a moment after the DELETE
   * (the namespace is observably Terminating, and creating in it is refused, meanwhile) */
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  int young = dts && strptime(dts, "%Y-%m-%dT%H:%M:%SZ", &tm) && time(NULL) < timegm(&tm) + NS_TERMINATING_S;
  json_decref(o);
  if (!deleting) return 0;
  if (young) return 1;
  int64_t left = 0;
  for (size_t i = 0; i < s->reg.n; i++) {
    const lc_rtype *t = s->reg.v[i];
    if (!t->namespaced || t->create_only || lc_registry_find_key(&s->reg, t->key) != t) continue;
    left += purge(s, t, name);
  }
  if (left) return 1;
  remove_finalizer(s, "namespaces", "", name, "kubernetes", 1);
  return 0;
}

static int do_crd(lc_server *s, const char *name) {
  json_t *o = NULL;
  if (get_obj(s, "apiextensions.k8s.io/customresourcedefinitions", "", name, &o)) return 0;
  int deleting = json_object_get(json_object_get(o, "metadata"), "deletionTimestamp") != NULL;
  const json_t *spec = json_object_get(o, "spec");
  char key[300];
  snprintf(key, sizeof key, "%s/%s", json_string_value(json_object_get(spec, "group")),
           json_string_value(json_object_get(json_object_get(spec, "names"), "plural")));
  json_decref(o);
  if (!deleting) return 0;
  const lc_rtype *t = lc_registry_find_key(&s->reg, key);
  if (t && purge(s, t, NULL) > 0) return 1;
  remove_finalizer(s, "apiextensions.k8s.io/customresourcedefinitions", "", name,
                   "customresourcecleanup.apiextensions.k8s.io", 0);
  return 0;
}

int lc_gc_run(lc_server *s) {
  struct lc_gc *g = s->gc;
  if (!g || !g->qn) return 0;
  /* take the queue: work may queue more (handled on the next run) */
  work *items = g->q;
  size_t n = g->qn;
  g->q = NULL;
  g->qn = g->qcap = 0;
  int again = 0;
  for (size_t i = 0; i < n; i++) {
    work *w = &items[i];
    switch (w->type) {
    case W_OWNER_GONE:
      if (delete_dependents(s, w->uid) == 0) drop_owner(g, w->uid);
      else {
        again = 1;
        requeue(s, W_OWNER_GONE, w->key, w->ns, w->name, w->uid);
      }
      break;
    case W_OWNER_FIN: {
      json_t *o = NULL;
      if (get_obj(s, w->key, w->ns, w->name, &o)) break;
      json_t *fins = json_object_get(json_object_get(o, "metadata"), "finalizers");
      int orphan = has_str(fins, "orphan"), fg = has_str(fins, "foregroundDeletion");
      json_decref(o);
      if (orphan) {
        orphan_dependents(s, w->uid);
        remove_finalizer(s, w->key, w->ns, w->name, "orphan", 0);
      } else if (fg) {
        if (delete_dependents(s, w->uid) == 0) remove_finalizer(s, w->key, w->ns, w->name, "foregroundDeletion", 0);
        else {
          again = 1;
          requeue(s, W_OWNER_FIN, w->key, w->ns, w->name, w->uid);
        }
      }
      break;
    }
    case W_NAMESPACE:
      if (do_namespace(s, w->name)) {
        again = 1;
        requeue(s, W_NAMESPACE, w->key, "", w->name, "");
      }
      break;
    case W_CRD:
      if (do_crd(s, w->name)) {
        again = 1;
        requeue(s, W_CRD, w->key, "", w->name, "");
      }
      break;
    }
  }
  free(items);
  return again;
}
