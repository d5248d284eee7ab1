/* informer.c — the informer state machine (list -> watch -> relist/backoff), its indexed cache,
 * and the built-in transport over async.h + watch.h.
 * List pages and (for informers with a byte transform) watch events are handled from their raw
 * bytes: the page is validated once by util/jscan.h, each item is cut out in place and goes
 * through transform_bytes, or through json_loadb of that item alone. Why: one jansson tree of a
 * 6 MB page of pods cost more CPU than everything else the controller does at startup.
 * Pages are pipelined (see informer.h): the next page is requested from the continue token
 * read off the head of a page, before that page is validated and parsed.
 * Sections: cache; informer core; keys from bytes; page head; transport results; built-in
 * transport; public. */
#include "kube/informer.h"
#include "kube/kmap.h"
#include "kube/pod.h"
#include "util/jscan.h"
#include "util/log.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#define COMP "kube-informer"

/* --- cache --------------------------------------------------------------------------------- */

typedef struct idx_link {
  struct idx_link *prev, *next;
  struct centry *e;
  lh_kmap_node *head; /* index node whose value is the idx_head */
} idx_link;

typedef struct idx_head {
  idx_link *first;
  size_t n;
} idx_head;

typedef struct centry {
  void *obj;
  lh_kmap_node *node; /* node in byKey (its key is the object key) */
  char *ikeys;        /* NUL-separated index keys ("n\x1f<ns>", "l\x1f<k>=<v>"), ends with "" */
  size_t nlinks;
  idx_link links[];
} centry;

struct lh_kube_cache {
  lh_kmap by_key;  /* key -> centry */
  lh_kmap index;   /* index key -> idx_head */
  lh_informer_free_fn *free_obj; /* NULL: json_decref */
  void *ud;
};

static void obj_free(lh_kube_cache *c, void *obj) {
  if (!obj) return;
  if (c->free_obj) c->free_obj(obj, c->ud);
  else json_decref(obj);
}

/* Builds the index keys of obj (namespace + labels) as a NUL-separated block. NULL on no memory. */
static char *index_keys(const json_t *obj, size_t *count) {
  lh_buf b;
  lh_buf_init(&b, 1u << 20);
  json_t *meta = json_object_get(obj, "metadata");
  const char *ns = json_string_value(json_object_get(meta, "namespace"));
  size_t n = 0;
  int bad = 0;
  if (ns) {
    bad |= lh_buf_addf(&b, "n\x1f%s", ns) || lh_buf_add(&b, "", 1);
    n++;
  }
  const char *k;
  json_t *v;
  json_object_foreach(json_object_get(meta, "labels"), k, v) {
    if (!json_is_string(v)) continue;
    bad |= lh_buf_addf(&b, "l\x1f%s=%s", k, json_string_value(v)) || lh_buf_add(&b, "", 1);
    n++;
  }
  bad |= lh_buf_add(&b, "", 1);
  if (bad) {
    lh_buf_free(&b);
    return NULL;
  }
  *count = n;
  return lh_buf_take(&b);
}

static void cache_unlink(lh_kube_cache *c, centry *e) {
  for (size_t i = 0; i < e->nlinks; i++) {
    idx_link *l = &e->links[i];
    if (!l->head) continue;
    idx_head *h = l->head->value;
    if (l->prev) l->prev->next = l->next;
    else h->first = l->next;
    if (l->next) l->next->prev = l->prev;
    if (--h->n == 0) {
      lh_kmap_del(&c->index, l->head->key);
      free(h);
    }
    l->head = NULL;
  }
}

static void centry_free(lh_kube_cache *c, centry *e, int free_obj) {
  cache_unlink(c, e);
  if (free_obj) obj_free(c, e->obj);
  free(e->ikeys);
  free(e);
}

/* Inserts (or replaces) key -> obj with the given index keys (taken). On success returns 0 and
 * *old gets the replaced object (caller frees it) or NULL. On failure nothing changed except
 * that obj and ikeys are freed. */
static int cache_put(lh_kube_cache *c, const char *key, void *obj, char *ikeys, size_t nk,
                     void **old) {
  *old = NULL;
  centry *e = calloc(1, sizeof(*e) + nk * sizeof(idx_link));
  int created = 0;
  lh_kmap_node *node = e ? lh_kmap_upsert(&c->by_key, key, strlen(key), &created) : NULL;
  if (!node) goto nomem;
  e->obj = obj;
  e->ikeys = ikeys;
  e->nlinks = nk;
  e->node = node;
  const char *p = ikeys;
  for (size_t i = 0; i < nk; i++, p += strlen(p) + 1) {
    int hc = 0;
    lh_kmap_node *hn = lh_kmap_upsert(&c->index, p, strlen(p), &hc);
    if (hn && hc) {
      hn->value = calloc(1, sizeof(idx_head));
      if (!hn->value) {
        lh_kmap_del(&c->index, p);
        hn = NULL;
      }
    }
    if (!hn) continue; /* an index entry lost to OOM: lookups by that index miss this object */
    idx_head *h = hn->value;
    idx_link *l = &e->links[i];
    l->e = e;
    l->head = hn;
    l->next = h->first;
    if (h->first) h->first->prev = l;
    h->first = l;
    h->n++;
  }
  if (!created) {
    centry *oe = node->value;
    *old = oe->obj;
    centry_free(c, oe, 0);
  }
  node->value = e;
  return 0;
nomem:
  free(e);
  obj_free(c, obj);
  free(ikeys);
  return LH_EKUBE_NOMEM;
}

/* Removes key; returns its object (caller frees) or NULL. */
static void *cache_del(lh_kube_cache *c, const char *key) {
  centry *e = lh_kmap_del(&c->by_key, key);
  if (!e) return NULL;
  void *obj = e->obj;
  centry_free(c, e, 0);
  return obj;
}

size_t lh_kube_cache_len(const lh_kube_cache *c) { return c->by_key.count; }

const void *lh_kube_cache_get(const lh_kube_cache *c, const char *key) {
  centry *e = lh_kmap_get(&c->by_key, key);
  return e ? e->obj : NULL;
}

typedef struct each_ctx {
  lh_kube_cache_fn *fn;
  void *ud;
} each_ctx;

static void each_node(lh_kmap_node *n, void *ud) {
  each_ctx *x = ud;
  x->fn(n->key, ((centry *)n->value)->obj, x->ud);
}

void lh_kube_cache_each(const lh_kube_cache *c, lh_kube_cache_fn *fn, void *ud) {
  each_ctx x = {fn, ud};
  lh_kmap_each(&c->by_key, each_node, &x);
}

static size_t by_index(const lh_kube_cache *c, const char *ikey, lh_kube_cache_fn *fn, void *ud) {
  idx_head *h = lh_kmap_get(&c->index, ikey);
  size_t n = 0;
  for (idx_link *l = h ? h->first : NULL; l; l = l->next, n++)
    fn(l->e->node->key, l->e->obj, ud);
  return n;
}

size_t lh_kube_cache_by_namespace(const lh_kube_cache *c, const char *ns, lh_kube_cache_fn *fn,
                                  void *ud) {
  char k[512];
  if ((size_t)snprintf(k, sizeof(k), "n\x1f%s", ns) >= sizeof(k)) return 0;
  return by_index(c, k, fn, ud);
}

size_t lh_kube_cache_by_label(const lh_kube_cache *c, const char *key, const char *v,
                              lh_kube_cache_fn *fn, void *ud) {
  char k[1024];
  if ((size_t)snprintf(k, sizeof(k), "l\x1f%s=%s", key, v) >= sizeof(k)) return 0;
  return by_index(c, k, fn, ud);
}

static void add_entry_bytes(lh_kmap_node *n, void *ud) {
  centry *e = n->value;
  *(size_t *)ud += malloc_usable_size(e) + malloc_usable_size(e->ikeys);
}
static void add_head_bytes(lh_kmap_node *n, void *ud) { *(size_t *)ud += malloc_usable_size(n->value); }

size_t lh_kube_cache_overhead_bytes(const lh_kube_cache *c) {
  size_t b = lh_kmap_bytes(&c->by_key) + lh_kmap_bytes(&c->index);
  lh_kmap_each(&c->by_key, add_entry_bytes, &b);
  lh_kmap_each(&c->index, add_head_bytes, &b);
  return b;
}

static void free_entry_node(lh_kmap_node *n, void *ud) {
  centry *e = n->value;
  lh_kube_cache *c = ud;
  obj_free(c, e->obj);
  free(e->ikeys);
  free(e);
}
static void free_head_node(lh_kmap_node *n, void *ud) { free(n->value); }

static void cache_clear(lh_kube_cache *c) {
  lh_kmap_each(&c->by_key, free_entry_node, c);
  lh_kmap_each(&c->index, free_head_node, NULL);
  lh_kmap_free(&c->by_key);
  lh_kmap_free(&c->index);
}

/* --- informer core ------------------------------------------------------------------------ */

typedef struct pending {
  char *key;
  void *obj;
  char *ikeys;
  size_t nk;
} pending;

typedef struct list_token { /* a list request of the built-in transport */
  lh_informer *inf;         /* NULL once the informer no longer wants the answer */
} list_token;

struct lh_informer {
  lh_loop *loop;
  lh_kube_async *a;
  lh_kube_wsclient *ws;
  lh_informer_opts o;
  lh_informer_handlers h;
  lh_informer_transport tr;    /* ops in use */
  lh_informer_list_cancel_fn *list_cancel; /* of tr; NULL: no pipelined pages */
  lh_kube_cache cache;
  char *base_path;             /* resource URL without query */
  lh_informer_state state;
  char last_rv[64];            /* resume point */
  char cont[2048];             /* continue token of the list in progress */
  pending *pend;               /* list snapshot being collected */
  size_t npend, apend;
  int synced;                  /* first list applied */
  int relist;                  /* the next attempt must relist */
  int prefetched;              /* the next page (inf->cont) was requested from this page's head */
  lh_timer timer;              /* backoff */
  long backoff_ms;             /* next backoff delay */
  long last_backoff_ms;
  uint64_t watch_started;      /* loop time the current watch began */
  unsigned long watch_events;  /* events on the current watch */
  lh_informer_stats st;
  /* built-in transport state */
  lh_kube_watch *kw;
  list_token *lt;
};

static void start_list(lh_informer *inf);
static void start_watch(lh_informer *inf);

static void pend_clear(lh_informer *inf) {
  for (size_t i = 0; i < inf->npend; i++) {
    free(inf->pend[i].key);
    obj_free(&inf->cache, inf->pend[i].obj);
    free(inf->pend[i].ikeys);
  }
  inf->npend = 0;
}

static long backoff_next(lh_informer *inf) {
  long d = inf->backoff_ms;
  long next = d * 2;
  inf->backoff_ms = next > inf->o.backoff_max_ms ? inf->o.backoff_max_ms : next;
  if (inf->o.jitter > 0) d += (long)((double)d * inf->o.jitter * ((double)rand() / RAND_MAX));
  return d;
}

static long on_backoff(lh_loop *loop, lh_timer *t, void *data) {
  lh_informer *inf = data;
  if (inf->relist) start_list(inf);
  else start_watch(inf);
  return LH_TIMER_STOP;
}

/* Waits a backoff, then relists (relist=1) or re-watches from last_rv. */
static void schedule_retry(lh_informer *inf, int relist) {
  inf->relist = relist;
  inf->state = LH_INF_BACKOFF;
  inf->last_backoff_ms = backoff_next(inf);
  inf->st.backoffs++;
  LH_INFO(COMP, "%s: retrying (%s) in %ld ms", inf->base_path, relist ? "list" : "watch",
          inf->last_backoff_ms);
  lh_timer_start(&inf->timer, inf->last_backoff_ms, on_backoff, inf);
}

static int make_path(lh_informer *inf, lh_buf *p, int watch) {
  lh_kube_list_opts q = {0};
  q.label_selector = inf->o.label_selector;
  q.field_selector = inf->o.field_selector;
  if (watch) {
    q.watch = 1;
    q.allow_bookmarks = 1;
    q.resource_version = inf->last_rv;
    q.timeout_seconds = inf->o.watch_timeout_s;
  } else {
    q.limit = inf->o.page_limit;
    q.continue_token = inf->cont;
  }
  if (lh_buf_adds(p, inf->base_path)) return LH_EKUBE_TOOBIG;
  return lh_kube_query(p, &q);
}

static void start_list(lh_informer *inf) {
  inf->state = LH_INF_LISTING;
  inf->relist = 0;
  lh_buf p;
  lh_buf_init(&p, 1u << 16);
  int rc = make_path(inf, &p, 0);
  if (!rc) rc = inf->tr.list(inf->tr.t, inf, lh_buf_str(&p));
  lh_buf_free(&p);
  inf->st.list_pages++;
  if (!inf->cont[0]) inf->st.lists++;
  if (rc) {
    pend_clear(inf);
    inf->cont[0] = '\0';
    schedule_retry(inf, 1);
  }
}

static void start_watch(lh_informer *inf) {
  inf->state = LH_INF_WATCHING;
  inf->watch_started = lh_loop_now(inf->loop);
  inf->watch_events = 0;
  lh_buf p;
  lh_buf_init(&p, 1u << 16);
  int rc = make_path(inf, &p, 1);
  if (!rc) rc = inf->tr.watch(inf->tr.t, inf, lh_buf_str(&p));
  lh_buf_free(&p);
  inf->st.watches++;
  if (rc) schedule_retry(inf, 0);
}

/* Key of obj: "ns/name" or "name"; writes into k. Returns 0 or LH_EKUBE_PARSE. */
static int obj_key(const json_t *obj, char *k, size_t cap) {
  json_t *meta = json_object_get(obj, "metadata");
  const char *name = json_string_value(json_object_get(meta, "name"));
  const char *ns = json_string_value(json_object_get(meta, "namespace"));
  if (!name || !*name) return LH_EKUBE_PARSE;
  int n = ns && *ns ? snprintf(k, cap, "%s/%s", ns, name) : snprintf(k, cap, "%s", name);
  return n < 0 || (size_t)n >= cap ? LH_EKUBE_PARSE : 0;
}

/* Transforms obj into the cached representation. NULL on failure (counted). */
static void *transform(lh_informer *inf, const json_t *obj) {
  void *o = inf->o.transform ? inf->o.transform(obj, inf->o.transform_ud) : json_incref((json_t *)obj);
  if (!o) inf->st.transform_failures++;
  return o;
}

/* Applies one object (ADDED/MODIFIED or a list item) to the cache and runs the handler. */
static void upsert(lh_informer *inf, const char *key, void *obj, char *ikeys, size_t nk) {
  void *old = NULL;
  if (cache_put(&inf->cache, key, obj, ikeys, nk, &old) != 0) return;
  if (old) {
    if (inf->h.on_update) inf->h.on_update(inf, old, obj, inf->h.data);
    obj_free(&inf->cache, old);
  } else if (inf->h.on_add) {
    inf->h.on_add(inf, obj, inf->h.data);
  }
}

typedef struct del_ctx {
  lh_informer *inf;
  lh_kmap *keep;
  char **gone;
  size_t n, a;
} del_ctx;

static void collect_gone(lh_kmap_node *n, void *ud) {
  del_ctx *d = ud;
  if (lh_kmap_find(d->keep, n->key)) return;
  if (d->n == d->a) {
    size_t na = d->a ? d->a * 2 : 64;
    char **g = realloc(d->gone, na * sizeof(*g));
    if (!g) return;
    d->gone = g;
    d->a = na;
  }
  d->gone[d->n] = strdup(n->key);
  if (d->gone[d->n]) d->n++;
}

/* Replaces the cache with the collected snapshot (client-go Replace). */
static void apply_snapshot(lh_informer *inf) {
  lh_kmap keep;
  lh_kmap_init(&keep);
  for (size_t i = 0; i < inf->npend; i++) lh_kmap_put(&keep, inf->pend[i].key, NULL, NULL);
  del_ctx d = {inf, &keep, NULL, 0, 0};
  lh_kmap_each(&inf->cache.by_key, collect_gone, &d);
  for (size_t i = 0; i < d.n; i++) {
    void *obj = cache_del(&inf->cache, d.gone[i]);
    if (obj && inf->h.on_delete) inf->h.on_delete(inf, obj, inf->h.data);
    obj_free(&inf->cache, obj);
    free(d.gone[i]);
  }
  free(d.gone);
  lh_kmap_free(&keep);
  for (size_t i = 0; i < inf->npend; i++) {
    pending *p = &inf->pend[i];
    upsert(inf, p->key, p->obj, p->ikeys, p->nk);
    free(p->key);
  }
  inf->npend = 0;
}

/* --- keys from bytes (lists through transform_bytes) ------------------------------------ */

#define SIMPLE_MAX 64 /* labels checked for duplicates on the byte path */

/* Appends decoded string s to b. Returns 0 or -1. */
static int buf_add_str(lh_buf *b, const lh_js_val *s) {
  if (!s->esc) return lh_buf_add(b, s->p, s->n) ? -1 : 0;
  char tmp[4096];
  long l = lh_js_str_decode(s, tmp, sizeof(tmp));
  return l < 0 || lh_buf_add(b, tmp, (size_t)l) ? -1 : 0;
}

/* As obj_key + index_keys, from bytes, in one pass over the object and its metadata.
 * Returns 0 with k and *ik (index keys, caller frees) set, -1 when the object has no usable key
 * (skipped, as item_json does), or 1 when jansson must decide (a duplicated name, labels with
 * duplicates / escaped keys / more than SIMPLE_MAX entries, a long escaped value, no memory). */
static int keys_bytes(const char *p, size_t n, char *k, size_t cap, char **ik, size_t *count) {
  static const char *const top_keys[] = {"metadata"};
  static const char *const meta_keys[] = {"name", "namespace", "labels"};
  lh_js_val obj, meta, m[3], lk, lv;
  *ik = NULL;
  if (lh_js_value(p, n, &obj) != 0) return -1;
  if (lh_js_obj_pick(&obj, top_keys, 1, &meta) || lh_js_obj_pick(&meta, meta_keys, 3, m)) return 1;
  const lh_js_val *name = &m[0], *ns = &m[1], *labels = &m[2];
  /* the key: "ns/name" or "name" */
  if (name->type != LH_JS_STRING || name->n == 0) return -1;
  size_t off = 0;
  if (ns->type == LH_JS_STRING && ns->n > 0) {
    long l = lh_js_str_decode(ns, k, cap);
    if (l < 0 || (size_t)l + 1 >= cap) return -1;
    k[l] = '/';
    off = (size_t)l + 1;
  }
  if (lh_js_str_decode(name, k + off, cap - off) < 0) return -1;
  /* the index keys: namespace, then each string label in order */
  if (labels->type == LH_JS_OBJECT && !lh_js_obj_simple(labels, SIMPLE_MAX)) return 1;
  lh_buf b;
  lh_buf_init(&b, 1u << 20);
  size_t c = 0;
  int bad = 0;
  if (ns->type == LH_JS_STRING) {
    bad |= lh_buf_add(&b, "n\x1f", 2) || buf_add_str(&b, ns) || lh_buf_add(&b, "", 1);
    c++;
  }
  lh_js_iter it;
  lh_js_iter_init(&it, labels);
  while (labels->type == LH_JS_OBJECT && lh_js_obj_next(&it, &lk, &lv)) {
    if (lv.type != LH_JS_STRING) continue;
    bad |= lh_buf_add(&b, "l\x1f", 2) || lh_buf_add(&b, lk.p, lk.n) || lh_buf_add(&b, "=", 1) ||
           buf_add_str(&b, &lv) || lh_buf_add(&b, "", 1);
    c++;
  }
  bad |= lh_buf_add(&b, "", 1);
  if (bad) {
    lh_buf_free(&b);
    return 1;
  }
  *count = c;
  *ik = lh_buf_take(&b);
  return 0;
}

/* --- page head: the continue token before the items ------------------------------------- */

#define HEAD_MAX 65536 /* bytes of a page searched for its metadata; beyond that: no prefetch */

static const char *skip_ws(const char *p, const char *e) {
  while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  return p;
}

/* p at '"': returns the byte after the closing quote, or NULL if it is not within [p, e). */
static const char *skip_str(const char *p, const char *e) {
  for (p++; p < e; p++) {
    if (*p == '\\') p++;
    else if (*p == '"') return p + 1;
  }
  return NULL;
}

/* Skips one value (not checked: the page is validated later). NULL if it does not end in e. */
static const char *skip_value(const char *p, const char *e) {
  if (p >= e) return NULL;
  if (*p == '"') return skip_str(p, e);
  if (*p == '{' || *p == '[') {
    size_t depth = 0;
    while (p < e) {
      if (*p == '"') {
        p = skip_str(p, e);
        if (!p) return NULL;
        continue;
      }
      if (*p == '{' || *p == '[') depth++;
      else if ((*p == '}' || *p == ']') && --depth == 0) return p + 1;
      p++;
    }
    return NULL;
  }
  while (p < e && !strchr(",}] \t\r\n", *p)) p++;
  return p < e ? p : NULL;
}

/* Reads the continue token of a list body from its top-level members that precede "items"
 * (within HEAD_MAX bytes) into out. Returns 1 with a non-empty token, else 0: no metadata
 * before the items, no token, a token that does not fit, or text that is not well formed there
 * (the full validation that follows reports it). */
static int head_continue(const char *body, size_t len, char *out, size_t cap) {
  const char *p = body, *e = body + (len < HEAD_MAX ? len : HEAD_MAX);
  p = skip_ws(p, e);
  if (p >= e || *p != '{') return 0;
  for (p++;;) {
    p = skip_ws(p, e);
    if (p >= e || *p != '"') return 0;
    const char *k = p + 1, *q = skip_str(p, e);
    if (!q) return 0;
    size_t kn = (size_t)(q - 1 - k);
    p = skip_ws(q, e);
    if (p >= e || *p != ':') return 0;
    p = skip_ws(p + 1, e);
    if (kn == 5 && memcmp(k, "items", 5) == 0) return 0; /* items first: nothing to pipeline */
    const char *v = p;
    p = skip_value(p, e);
    if (!p) return 0;
    if (kn == 8 && memcmp(k, "metadata", 8) == 0) {
      lh_js_val meta, c;
      if (lh_js_validate(v, (size_t)(p - v), 0, NULL) != 0 || lh_js_value(v, (size_t)(p - v), &meta) != 0 ||
          lh_js_obj_get(&meta, "continue", &c) == 0 || c.type != LH_JS_STRING)
        return 0;
      return lh_js_str_decode(&c, out, cap) > 0;
    }
    p = skip_ws(p, e);
    if (p >= e || *p != ',') return 0;
    p++;
  }
}

/* Cancels the page requested from the head of the page being handled (it is failing). */
static void prefetch_drop(lh_informer *inf) {
  if (!inf->prefetched) return;
  inf->prefetched = 0;
  inf->list_cancel(inf->tr.t, inf);
}

/* --- transport results -------------------------------------------------------------------- */

/* Fails the list in progress: logs, drops the partial snapshot, relists after a backoff. */
static void list_failed(lh_informer *inf, int rc) {
  /* 410 on a page means the continue token expired: start over without it */
  LH_WARN(COMP, "%s: list failed: %s", inf->base_path, lh_kube_strerror(rc));
  prefetch_drop(inf);
  pend_clear(inf);
  inf->cont[0] = '\0';
  if (rc == LH_EKUBE_GONE) inf->st.relists_410++;
  schedule_retry(inf, 1);
}

/* Appends one list item to the snapshot (key copied; obj and ik taken, freed on failure). */
static void pend_add(lh_informer *inf, const char *key, void *obj, char *ik, size_t nk) {
  char *kd = strdup(key);
  if (inf->npend == inf->apend && kd) {
    size_t na = inf->apend ? inf->apend * 2 : 256;
    pending *np = realloc(inf->pend, na * sizeof(*np));
    if (np) inf->pend = np, inf->apend = na;
  }
  if (!kd || inf->npend == inf->apend) {
    free(kd);
    free(ik);
    obj_free(&inf->cache, obj);
    return;
  }
  inf->pend[inf->npend++] = (pending){kd, obj, ik, nk};
}

/* One list item from its parsed JSON. */
static void item_json(lh_informer *inf, const json_t *it) {
  char key[512];
  if (obj_key(it, key, sizeof(key)) != 0) return;
  size_t nk = 0;
  char *ik = index_keys(it, &nk);
  void *obj = ik ? transform(inf, it) : NULL;
  if (!obj) {
    free(ik);
    return;
  }
  pend_add(inf, key, obj, ik, nk);
}

/* After a page's items: asks for the next page or applies the snapshot. cont/rv may be NULL. */
static void list_page_done(lh_informer *inf, const char *cont, const char *rv) {
  if (inf->prefetched) {
    /* the next page is on its way, unless the full parse disagrees with the head (duplicate
     * keys): then that request is dropped and the page ends as without pipelining */
    if (cont && strcmp(cont, inf->cont) == 0) {
      inf->prefetched = 0;
      return;
    }
    prefetch_drop(inf);
  }
  if (cont && *cont) {
    if (strlen(cont) >= sizeof(inf->cont)) {
      LH_WARN(COMP, "%s: continue token too long", inf->base_path);
      pend_clear(inf);
      inf->cont[0] = '\0';
      schedule_retry(inf, 1);
      return;
    }
    strcpy(inf->cont, cont);
    start_list(inf);
    return;
  }
  inf->cont[0] = '\0';
  snprintf(inf->last_rv, sizeof(inf->last_rv), "%s", rv ? rv : "");
  apply_snapshot(inf);
  inf->synced = 1;
  LH_INFO(COMP, "%s: listed %zu objects at rv %s", inf->base_path, lh_kube_cache_len(&inf->cache),
          inf->last_rv);
  start_watch(inf);
}

void lh_informer_on_list(lh_informer *inf, int rc, const json_t *doc) {
  if (inf->state != LH_INF_LISTING) return;
  if (rc == 0 && !json_is_object(doc)) rc = LH_EKUBE_PARSE;
  if (rc) {
    list_failed(inf, rc);
    return;
  }
  size_t i;
  json_t *it;
  json_array_foreach(json_object_get(doc, "items"), i, it) item_json(inf, it);
  json_t *meta = json_object_get(doc, "metadata");
  list_page_done(inf, json_string_value(json_object_get(meta, "continue")),
                 json_string_value(json_object_get(meta, "resourceVersion")));
}

/* One list item from its bytes (inside a validated page). */
static void item_bytes(lh_informer *inf, const char *p, size_t n) {
  if (inf->o.transform_bytes) {
    char key[512];
    size_t nk = 0;
    char *ik = NULL;
    int fb = 0;
    int k = keys_bytes(p, n, key, sizeof(key), &ik, &nk);
    if (k < 0) return; /* no usable key: skipped, as item_json does */
    if (k == 0) {
      void *obj = inf->o.transform_bytes(p, n, inf->o.transform_ud, &fb);
      if (obj) {
        pend_add(inf, key, obj, ik, nk);
        return;
      }
      free(ik);
      if (!fb) {
        inf->st.transform_failures++;
        return;
      }
    }
  }
  /* no byte transform, or an object the byte path leaves to jansson */
  json_t *it = json_loadb(p, n, JSON_DECODE_ANY, NULL);
  if (!it) return; /* cannot happen after validation, short of memory */
  item_json(inf, it);
  json_decref(it);
}

void lh_informer_on_list_bytes(lh_informer *inf, int rc, const char *body, size_t len) {
  if (inf->state != LH_INF_LISTING) return;
  lh_js_err err = {0, NULL};
  lh_js_val doc, items, meta, v;
  /* pipelining: ask for the next page now, so the server builds it while this one is parsed */
  char next[sizeof(inf->cont)];
  if (rc == 0 && body && inf->list_cancel && head_continue(body, len, next, sizeof(next))) {
    memcpy(inf->cont, next, sizeof(next));
    start_list(inf);
    if (inf->state != LH_INF_LISTING) return; /* the request failed: the list is retried */
    inf->prefetched = 1;
    inf->st.list_prefetches++;
  }
  if (rc == 0 && lh_js_validate(body ? body : "", body ? len : 0, 0, &err) != 0) {
    LH_WARN(COMP, "%s: list page is not valid JSON: %s at byte %zu", inf->base_path, err.msg,
            err.offset);
    rc = LH_EKUBE_PARSE;
  }
  if (rc == 0 && (lh_js_value(body, len, &doc) != 0 || doc.type != LH_JS_OBJECT)) rc = LH_EKUBE_PARSE;
  if (rc) {
    list_failed(inf, rc);
    return;
  }
  lh_js_iter iter;
  lh_js_obj_get(&doc, "items", &items);
  if (items.type == LH_JS_ARRAY) {
    lh_js_iter_init(&iter, &items);
    while (lh_js_arr_next(&iter, &v)) item_bytes(inf, v.p, v.n);
  }
  char cont[sizeof(inf->cont)], rv[4096];
  const char *cp = NULL, *rp = NULL;
  lh_js_obj_get(&doc, "metadata", &meta);
  if (lh_js_obj_get(&meta, "continue", &v) && v.type == LH_JS_STRING) {
    if (lh_js_str_decode(&v, cont, sizeof(cont)) < 0) {
      LH_WARN(COMP, "%s: continue token too long", inf->base_path);
      prefetch_drop(inf);
      pend_clear(inf);
      inf->cont[0] = '\0';
      schedule_retry(inf, 1);
      return;
    }
    cp = cont;
  }
  if (lh_js_obj_get(&meta, "resourceVersion", &v) && v.type == LH_JS_STRING &&
      lh_js_str_decode(&v, rv, sizeof(rv)) >= 0)
    rp = rv;
  list_page_done(inf, cp, rp);
}

static void watch_healthy(lh_informer *inf) { inf->backoff_ms = inf->o.backoff_initial_ms; }

/* Stops the current watch and relists at once (410 Gone). */
static void relist_now(lh_informer *inf) {
  inf->st.relists_410++;
  if (inf->tr.watch_stop) inf->tr.watch_stop(inf->tr.t, inf);
  inf->last_rv[0] = '\0';
  LH_INFO(COMP, "%s: resource version expired, relisting", inf->base_path);
  start_list(inf);
}

static void delete_key(lh_informer *inf, const char *key) {
  void *obj = cache_del(&inf->cache, key);
  if (obj && inf->h.on_delete) inf->h.on_delete(inf, obj, inf->h.data);
  obj_free(&inf->cache, obj);
}

/* Applies an ADDED/MODIFIED/DELETED object given as parsed JSON. */
static void event_object(lh_informer *inf, lh_watch_type type, const json_t *object) {
  char key[512];
  if (obj_key(object, key, sizeof(key)) != 0) return;
  if (type == LH_WATCH_DELETED) {
    delete_key(inf, key);
    return;
  }
  size_t nk = 0;
  char *ik = index_keys(object, &nk);
  void *obj = ik ? transform(inf, object) : NULL;
  if (!obj) {
    free(ik);
    return;
  }
  upsert(inf, key, obj, ik, nk);
}

/* The same from the object's bytes (raw watch events): the byte path as for list items, jansson
 * for what it leaves over. */
static void event_bytes(lh_informer *inf, const lh_kube_watch_event *ev) {
  char key[512];
  char *ik = NULL;
  size_t nk = 0;
  int fb = 0;
  int k = keys_bytes(ev->raw, ev->raw_len, key, sizeof(key), &ik, &nk);
  if (k < 0) return;
  if (k == 0) {
    if (ev->type == LH_WATCH_DELETED) {
      free(ik);
      delete_key(inf, key);
      return;
    }
    void *obj = inf->o.transform_bytes ? inf->o.transform_bytes(ev->raw, ev->raw_len, inf->o.transform_ud, &fb) : NULL;
    if (obj) {
      upsert(inf, key, obj, ik, nk);
      return;
    }
    free(ik);
    if (inf->o.transform_bytes && !fb) {
      inf->st.transform_failures++;
      return;
    }
  }
  json_t *o = json_loadb(ev->raw, ev->raw_len, 0, NULL);
  if (!o) return; /* validated text: only short of memory */
  event_object(inf, ev->type, o);
  json_decref(o);
}

void lh_informer_on_event(lh_informer *inf, const lh_kube_watch_event *ev) {
  if (inf->state != LH_INF_WATCHING) return;
  inf->st.events++;
  if (ev->type == LH_WATCH_ERROR) {
    json_t *code = json_object_get(ev->object, "code");
    const char *reason = json_string_value(json_object_get(ev->object, "reason"));
    if ((json_is_integer(code) && json_integer_value(code) == 410) ||
        (reason && (strcmp(reason, "Expired") == 0 || strcmp(reason, "Gone") == 0))) {
      relist_now(inf);
      return;
    }
    const char *msg = json_string_value(json_object_get(ev->object, "message"));
    LH_WARN(COMP, "%s: watch error event: %s", inf->base_path, msg ? msg : "(no message)");
    if (inf->tr.watch_stop) inf->tr.watch_stop(inf->tr.t, inf);
    schedule_retry(inf, 0);
    return;
  }
  inf->watch_events++;
  watch_healthy(inf);
  if (ev->rv && strlen(ev->rv) < sizeof(inf->last_rv)) strcpy(inf->last_rv, ev->rv);
  if (ev->type == LH_WATCH_BOOKMARK) {
    inf->st.bookmarks++;
    return;
  }
  if (!ev->object && ev->raw) event_bytes(inf, ev);
  else event_object(inf, ev->type, ev->object);
}

void lh_informer_on_watch_end(lh_informer *inf, int rc) {
  if (inf->state != LH_INF_WATCHING) return;
  uint64_t lasted = lh_loop_now(inf->loop) - inf->watch_started;
  int healthy = inf->watch_events > 0 || lasted >= (uint64_t)inf->o.healthy_ms;
  if (rc == LH_EKUBE_GONE) {
    inf->st.relists_410++;
    inf->last_rv[0] = '\0';
    start_list(inf);
    return;
  }
  if (healthy) watch_healthy(inf);
  if (rc == 0 && healthy) {
    start_watch(inf); /* the server closed a good stream (timeoutSeconds): resume at once */
    return;
  }
  LH_INFO(COMP, "%s: watch ended: %s", inf->base_path, rc ? lh_kube_strerror(rc) : "closed early");
  schedule_retry(inf, 0);
}

/* --- built-in transport: async.h lists, watch.h watches ---------------------------------- */

static void kt_list_done(lh_kube_async *a, int rc, lh_kube_response *resp, void *data) {
  list_token *t = data;
  lh_informer *inf = t->inf;
  free(t);
  if (!inf) return; /* the informer was freed or moved on */
  inf->lt = NULL;
  if (rc == 0) {
    lh_informer_on_list_bytes(inf, 0, resp->body, resp->len);
    return;
  }
  if (rc == LH_EKUBE_HTTP || rc == LH_EKUBE_GONE) {
    LH_WARN(COMP, "%s: list: %ld %s: %s", inf->base_path, resp->http_code, resp->status.reason,
            resp->status.message);
  } else if (resp->error[0]) {
    LH_WARN(COMP, "%s: list: %s", inf->base_path, resp->error);
  }
  lh_informer_on_list(inf, rc, NULL);
}

static int kt_list(void *t, lh_informer *inf, const char *path) {
  list_token *tok = calloc(1, sizeof(*tok));
  if (!tok) return LH_EKUBE_NOMEM;
  tok->inf = inf;
  int rc = lh_kube_async_request(inf->a, "GET", path, NULL, NULL, 0, kt_list_done, tok);
  if (rc) {
    free(tok);
    return rc;
  }
  if (inf->lt) inf->lt->inf = NULL;
  inf->lt = tok;
  return 0;
}

static void kt_event(lh_kube_watch *w, const lh_kube_watch_event *ev, void *ud) {
  lh_informer_on_event(ud, ev);
}

static void kt_end(lh_kube_watch *w, int rc, const lh_kube_status *st, void *ud) {
  lh_informer *inf = ud;
  inf->kw = NULL; /* freed by the library after this callback */
  if (rc == LH_EKUBE_HTTP && st->code == 410) rc = LH_EKUBE_GONE;
  lh_informer_on_watch_end(inf, rc);
}

static int kt_watch(void *t, lh_informer *inf, const char *path) {
  lh_kube_watch_opts wo = {inf->o.watch_mode, 0};
  int rc = lh_kube_watch_start(inf->a, inf->ws, path, &wo, kt_event, kt_end, inf, &inf->kw);
  /* pods (a byte transform) are watched without building a jansson tree per event */
  if (rc == 0) lh_kube_watch_set_raw(inf->kw, inf->o.transform_bytes != NULL);
  return rc;
}

static void kt_list_cancel(void *t, lh_informer *inf) {
  /* the request runs to its end inside async; its answer is dropped by kt_list_done */
  if (inf->lt) inf->lt->inf = NULL;
  inf->lt = NULL;
}

static void kt_watch_stop(void *t, lh_informer *inf) {
  lh_kube_watch_stop(inf->kw);
  inf->kw = NULL;
}

/* --- public -------------------------------------------------------------------------------- */

int lh_informer_new(lh_loop *loop, lh_kube_async *a, lh_kube_wsclient *ws,
                    const lh_informer_opts *o, const lh_informer_handlers *h, lh_informer **out) {
  *out = NULL;
  if (!loop || !o || !o->resource || (o->transform && !o->free_obj) || (o->transform_bytes && !o->transform) ||
      (!o->transport && !a))
    return LH_EKUBE_INVAL;
  lh_informer *inf = calloc(1, sizeof(*inf));
  if (!inf) return LH_EKUBE_NOMEM;
  inf->loop = loop;
  inf->a = a;
  inf->ws = ws;
  inf->o = *o;
  if (h) inf->h = *h;
  /* the compact pod transform has a byte-level twin: every pod informer gets it */
  if (o->transform == lh_pod_transform && !o->transform_bytes) inf->o.transform_bytes = lh_pod_transform_bytes;
  if (inf->o.page_limit <= 0) inf->o.page_limit = 500;
  if (inf->o.watch_timeout_s <= 0) inf->o.watch_timeout_s = 300;
  if (inf->o.backoff_initial_ms <= 0) inf->o.backoff_initial_ms = 500;
  if (inf->o.backoff_max_ms <= 0) inf->o.backoff_max_ms = 30000;
  if (inf->o.healthy_ms <= 0) inf->o.healthy_ms = 30000;
  inf->backoff_ms = inf->o.backoff_initial_ms;
  if (o->transport) inf->tr = *o->transport;
  else inf->tr = (lh_informer_transport){kt_list, kt_watch, kt_watch_stop, NULL};
  inf->list_cancel = o->transport ? o->list_cancel : kt_list_cancel;
  lh_kmap_init(&inf->cache.by_key);
  lh_kmap_init(&inf->cache.index);
  inf->cache.free_obj = o->transform ? o->free_obj : NULL;
  inf->cache.ud = o->transform_ud;
  lh_timer_init(loop, &inf->timer);
  lh_buf p;
  lh_buf_init(&p, 4096);
  if (lh_kube_path(&p, o->resource, o->ns, NULL, NULL) != 0) {
    lh_buf_free(&p);
    free(inf);
    return LH_EKUBE_INVAL;
  }
  inf->base_path = lh_buf_take(&p);
  *out = inf;
  return 0;
}

int lh_informer_start(lh_informer *inf) {
  if (inf->state != LH_INF_IDLE) return LH_EKUBE_INVAL;
  start_list(inf);
  return 0;
}

void lh_informer_free(lh_informer *inf) {
  if (!inf) return;
  if (inf->state == LH_INF_WATCHING && inf->tr.watch_stop) inf->tr.watch_stop(inf->tr.t, inf);
  inf->state = LH_INF_STOPPED;
  if (inf->lt) inf->lt->inf = NULL;
  lh_timer_stop(&inf->timer);
  pend_clear(inf);
  free(inf->pend);
  cache_clear(&inf->cache);
  free(inf->base_path);
  free(inf);
}

lh_informer_state lh_informer_get_state(const lh_informer *inf) { return inf->state; }
const char *lh_informer_last_rv(const lh_informer *inf) { return inf->last_rv; }
int lh_informer_has_synced(const lh_informer *inf) { return inf->synced; }
long lh_informer_last_backoff_ms(const lh_informer *inf) { return inf->last_backoff_ms; }
lh_kube_cache *lh_informer_cache(lh_informer *inf) { return &inf->cache; }
const char *lh_informer_watch_transport(const lh_informer *inf) {
  return inf->kw ? lh_kube_watch_transport(inf->kw) : "none";
}
void lh_informer_get_stats(const lh_informer *inf, lh_informer_stats *st) { *st = inf->st; }
