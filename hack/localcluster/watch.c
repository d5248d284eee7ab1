/* watch.c — watchers and event fan-out (see watch.h). */
#include "localcluster/watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "localcluster/selector.h"
#include "localcluster/status.h"
#include "localcluster/table.h"

/* What a selector watcher has told its client: key "ns/name" → the object text last sent, so an
 * object that stops matching can be reported DELETED with its last matching content (like the
 * real watch cache, which compares each event's object with the previous one). */
typedef struct sent_ent {
  struct sent_ent *next;
  char *key;
  char *json;
  size_t len;
} sent_ent;

struct lc_watcher {
  struct lc_watcher *prev, *next;
  int track;         /* has a selector: synthesize ADDED/DELETED on match transitions */
  sent_ent **sent;   /* hash buckets (track only) */
  size_t nbuckets, nsent;
  int table_headers_sent; /* Table watch: column definitions went out with the first event */
  lc_watch_spec spec;
  lh_label_selector *ls;
  lh_field_selector *fs;
  void *conn;
  lc_wake_fn wake;
  lc_evbuf **q; /* ring of queued events */
  size_t qcap, qhead, qlen;
  size_t qbytes;
  int64_t last_rv;   /* highest rv queued (events ≤ it are not queued again) */
  time_t deadline;   /* 0 = none */
  time_t next_bookmark;
  time_t last_bookmark;
  int saw_event;     /* an event of the watched resource happened (or was replayed) */
  int finished;
};

struct lc_hub {
  lc_watcher *head;
  size_t n;
};

struct lc_hub *lc_hub_new(void) { return calloc(1, sizeof(struct lc_hub)); }

static void evbuf_unref(lc_evbuf *e) {
  if (e && --e->refs == 0) free(e);
}

static lc_evbuf *evbuf_make(const char *type, const char *obj, size_t len) {
  static const char pre[] = "{\"type\":\"";
  static const char mid[] = "\",\"object\":";
  static const char post[] = "}\n";
  size_t tl = strlen(type);
  size_t total = sizeof pre - 1 + tl + sizeof mid - 1 + len + sizeof post - 1;
  lc_evbuf *e = malloc(sizeof *e + total + 1);
  if (!e) return NULL;
  e->refs = 1;
  e->len = total;
  char *p = e->data;
  memcpy(p, pre, sizeof pre - 1);
  p += sizeof pre - 1;
  memcpy(p, type, tl);
  p += tl;
  memcpy(p, mid, sizeof mid - 1);
  p += sizeof mid - 1;
  memcpy(p, obj, len);
  p += len;
  memcpy(p, post, sizeof post);
  return e;
}

static void queue_clear(lc_watcher *w) {
  while (w->qlen) {
    evbuf_unref(w->q[w->qhead]);
    w->qhead = (w->qhead + 1) % w->qcap;
    w->qlen--;
  }
  w->qbytes = 0;
}

static int push_raw(lc_watcher *w, lc_evbuf *e) {
  if (w->qlen == w->qcap) {
    size_t nc = w->qcap ? w->qcap * 2 : 64;
    lc_evbuf **nq = malloc(nc * sizeof *nq);
    if (!nq) return -1;
    for (size_t i = 0; i < w->qlen; i++) nq[i] = w->q[(w->qhead + i) % w->qcap];
    free(w->q);
    w->q = nq;
    w->qcap = nc;
    w->qhead = 0;
  }
  w->q[(w->qhead + w->qlen) % w->qcap] = e;
  w->qlen++;
  w->qbytes += e->len;
  return 0;
}

/* Ends the watch with an in-stream ERROR event carrying a Status. */
static void finish_with_error(lc_watcher *w, int code, const char *reason, const char *msg) {
  json_t *st = lc_status_new(code, reason, msg, 0, NULL, NULL, NULL);
  char *txt = st ? lc_status_dump(st) : NULL;
  json_decref(st);
  if (txt) {
    lc_evbuf *e = evbuf_make("ERROR", txt, strlen(txt));
    free(txt);
    if (e && push_raw(w, e)) evbuf_unref(e);
  }
  w->finished = 1;
}

static void enqueue(lc_server *s, lc_watcher *w, lc_evbuf *e) {
  if (w->finished) return;
  if (w->qbytes + e->len > s->watch_queue_max) {
    queue_clear(w);
    finish_with_error(w, 410, "Expired",
                      "the watch fell too far behind (client too slow); start a new list and watch");
    if (w->wake) w->wake(w->conn);
    return;
  }
  e->refs++;
  if (push_raw(w, e)) {
    e->refs--;
    finish_with_error(w, 500, "InternalError", "out of memory");
  }
}

static int matches(const lc_watcher *w, const char *json, size_t len, json_t **parsed) {
  if (!w->ls && !w->fs) return 1;
  if (!*parsed) *parsed = json_loadb(json, len, 0, NULL);
  if (!*parsed) return 0;
  return (!w->ls || lh_label_selector_matches_object(w->ls, *parsed)) &&
         (!w->fs || lh_field_selector_matches(w->fs, *parsed));
}

/* ---- the sent set ---- */

static size_t hash_key(const char *k) {
  size_t h = 1469598103934665603ull;
  for (; *k; k++) h = (h ^ (unsigned char)*k) * 1099511628211ull;
  return h;
}

static void make_key(char *out, size_t sz, const char *ns, const char *name) {
  snprintf(out, sz, "%s/%s", ns ? ns : "", name ? name : "");
}

static sent_ent **sent_find(lc_watcher *w, const char *key) {
  if (!w->nbuckets) return NULL;
  sent_ent **pp = &w->sent[hash_key(key) % w->nbuckets];
  for (; *pp; pp = &(*pp)->next)
    if (!strcmp((*pp)->key, key)) return pp;
  return NULL;
}

static void sent_del(lc_watcher *w, const char *key) {
  sent_ent **pp = sent_find(w, key);
  if (!pp) return;
  sent_ent *e = *pp;
  *pp = e->next;
  free(e->key);
  free(e->json);
  free(e);
  w->nsent--;
}

/* Records (or replaces) the text sent for key. -1 on ENOMEM. */
static int sent_put(lc_watcher *w, const char *key, const char *json, size_t len) {
  if (w->nsent >= w->nbuckets) {
    size_t nb = w->nbuckets ? w->nbuckets * 2 : 64;
    sent_ent **b = calloc(nb, sizeof *b);
    if (!b) return -1;
    for (size_t i = 0; i < w->nbuckets; i++) {
      sent_ent *e = w->sent[i];
      while (e) {
        sent_ent *n = e->next;
        size_t h = hash_key(e->key) % nb;
        e->next = b[h];
        b[h] = e;
        e = n;
      }
    }
    free(w->sent);
    w->sent = b;
    w->nbuckets = nb;
  }
  char *copy = malloc(len + 1);
  if (!copy) return -1;
  memcpy(copy, json, len);
  copy[len] = 0;
  sent_ent **pp = sent_find(w, key);
  if (pp) {
    free((*pp)->json);
    (*pp)->json = copy;
    (*pp)->len = len;
    return 0;
  }
  sent_ent *e = malloc(sizeof *e);
  char *k = strdup(key);
  if (!e || !k) {
    free(e);
    free(k);
    free(copy);
    return -1;
  }
  size_t h = hash_key(key) % w->nbuckets;
  e->key = k;
  e->json = copy;
  e->len = len;
  e->next = w->sent[h];
  w->sent[h] = e;
  w->nsent++;
  return 0;
}

static void sent_free(lc_watcher *w) {
  for (size_t i = 0; i < w->nbuckets; i++) {
    sent_ent *e = w->sent[i];
    while (e) {
      sent_ent *n = e->next;
      free(e->key);
      free(e->json);
      free(e);
      e = n;
    }
  }
  free(w->sent);
  w->sent = NULL;
  w->nbuckets = w->nsent = 0;
}

/* Watchers whose events are their own text: selector transitions and Table output. */
static int per_watcher(const lc_watcher *w) { return w->track || w->spec.table; }

/* The event for this watcher: the object as a one-row Table when it asked for Table output
 * (column definitions only on its first event, like the real server), else the object. */
static lc_evbuf *make_event(lc_server *s, lc_watcher *w, const char *type, const char *json, size_t len) {
  if (!w->spec.table) return evbuf_make(type, json, len);
  const lc_rtype *t = lc_registry_find(&s->reg, w->spec.group, w->spec.version, w->spec.plural);
  json_t *obj = t ? json_loadb(json, len, 0, NULL) : NULL;
  if (!obj) return evbuf_make(type, json, len);
  if (t->is_cr) {
    char av[200];
    snprintf(av, sizeof av, "%s/%s", t->group, t->version);
    json_object_set_new(obj, "apiVersion", json_string(av));
  }
  json_t *tb = lc_table_new(t, w->spec.table, !w->table_headers_sent);
  json_t *row = tb ? lc_table_row(t, obj, w->spec.include_object, time(NULL)) : NULL;
  lc_evbuf *e = NULL;
  if (row) {
    const char *rv = json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
    if (rv) json_object_set_new(json_object_get(tb, "metadata"), "resourceVersion", json_string(rv));
    json_array_append_new(json_object_get(tb, "rows"), row);
    char *txt = json_dumps(tb, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (txt) {
      e = evbuf_make(type, txt, strlen(txt));
      free(txt);
      if (e) w->table_headers_sent = 1;
    }
  }
  json_decref(tb);
  json_decref(obj);
  return e;
}

/* Queues one event built for w alone. */
static void enqueue_own(lc_server *s, lc_watcher *w, const char *type, const char *json, size_t len) {
  lc_evbuf *e = make_event(s, w, type, json, len);
  if (!e) {
    finish_with_error(w, 500, "InternalError", "out of memory");
    return;
  }
  enqueue(s, w, e);
  evbuf_unref(e);
}

/* text with metadata.resourceVersion replaced by rv (malloc'd), or NULL. */
static char *restamp(const char *json, size_t len, int64_t rv, size_t *outlen) {
  json_t *o = json_loadb(json, len, 0, NULL);
  json_t *md = json_object_get(o, "metadata");
  if (!json_is_object(md)) {
    json_decref(o);
    return NULL;
  }
  char b[32];
  snprintf(b, sizeof b, "%lld", (long long)rv);
  json_object_set_new(md, "resourceVersion", json_string(b));
  char *t = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(o);
  if (t) *outlen = strlen(t);
  return t;
}

/* Delivers one store event to a per-watcher watcher, turning match transitions into synthetic
 * ADDED / DELETED (cacheWatcher.convertToWatchEvent): matches now and was sent → the event as
 * is; matches now, not sent → ADDED; was sent, no longer matches (or deleted) → DELETED carrying
 * the last sent content stamped with the event's rv; neither → nothing. */
static void deliver_tracked(lc_server *s, lc_watcher *w, const lh_store_event *ev, json_t **parsed) {
  if (!w->track) {
    if (matches(w, ev->json, ev->len, parsed)) enqueue_own(s, w, lh_store_event_type_name(ev->type), ev->json, ev->len);
    return;
  }
  char key[600];
  make_key(key, sizeof key, ev->ns, ev->name);
  int now_match = ev->type != LH_STORE_DELETED && matches(w, ev->json, ev->len, parsed);
  sent_ent **pp = sent_find(w, key);
  if (now_match) {
    enqueue_own(s, w, pp ? lh_store_event_type_name(ev->type) : "ADDED", ev->json, ev->len);
    if (sent_put(w, key, ev->json, ev->len)) finish_with_error(w, 500, "InternalError", "out of memory");
  } else if (pp) {
    size_t n = 0;
    char *old = ev->type == LH_STORE_DELETED ? NULL : restamp((*pp)->json, (*pp)->len, ev->rv, &n);
    if (old) enqueue_own(s, w, "DELETED", old, n);
    else enqueue_own(s, w, "DELETED", ev->json, ev->len);
    free(old);
    sent_del(w, key);
  }
}

void lc_hub_on_event(lc_server *s, const lh_store_event *ev) {
  struct lc_hub *h = s->hub;
  if (!h || !h->head) return;
  lc_evbuf *e = NULL;
  json_t *parsed = ev->obj ? json_incref((json_t *)ev->obj) : NULL; /* read-only: selectors */
  for (lc_watcher *w = h->head; w; w = w->next) {
    if (w->finished || ev->rv <= w->last_rv) continue;
    if (strcmp(w->spec.key, ev->resource)) continue;
    w->saw_event = 1;
    if (!w->spec.all_ns && strcmp(w->spec.ns, ev->ns)) continue;
    if (per_watcher(w)) {
      w->last_rv = ev->rv;
      size_t before = w->qlen;
      deliver_tracked(s, w, ev, &parsed);
      if (w->wake && (w->qlen != before || w->finished)) w->wake(w->conn);
      continue;
    }
    if (!matches(w, ev->json, ev->len, &parsed)) continue;
    if (!e) {
      e = evbuf_make(lh_store_event_type_name(ev->type), ev->json, ev->len);
      if (!e) break;
    }
    w->last_rv = ev->rv;
    size_t before = w->qlen;
    enqueue(s, w, e);
    if (w->wake && (w->qlen != before || w->finished)) w->wake(w->conn);
  }
  json_decref(parsed);
  evbuf_unref(e);
}

typedef struct start_ctx {
  lc_server *s;
  lc_watcher *w;
  int err;
} start_ctx;

static int replay_ev(void *ud, const lh_store_event *ev) {
  start_ctx *c = ud;
  json_t *parsed = NULL;
  if (per_watcher(c->w)) {
    deliver_tracked(c->s, c->w, ev, &parsed);
  } else if (matches(c->w, ev->json, ev->len, &parsed)) {
    lc_evbuf *e = evbuf_make(lh_store_event_type_name(ev->type), ev->json, ev->len);
    if (!e) c->err = 1;
    else {
      enqueue(c->s, c->w, e);
      evbuf_unref(e);
    }
  }
  json_decref(parsed);
  if (ev->rv > c->w->last_rv) c->w->last_rv = ev->rv;
  return c->w->finished ? 1 : 0;
}

static int initial_item(void *ud, const char *ns, const char *name, const char *json, size_t len, int64_t rv) {
  (void)rv;
  start_ctx *c = ud;
  if (c->w->track) {
    char key[600];
    make_key(key, sizeof key, ns, name);
    if (sent_put(c->w, key, json, len)) return 1;
  }
  lc_evbuf *e = make_event(c->s, c->w, "ADDED", json, len);
  if (!e) return 1;
  enqueue(c->s, c->w, e);
  evbuf_unref(e);
  return c->w->finished ? 1 : 0;
}

/* The sent set of a watch from a resourceVersion: what matched at that rv. */
static int seed_item(void *ud, const char *ns, const char *name, const char *json, size_t len, int64_t rv) {
  (void)rv;
  start_ctx *c = ud;
  char key[600];
  make_key(key, sizeof key, ns, name);
  return sent_put(c->w, key, json, len) ? 1 : 0;
}

static int initial_filter(void *ud, const char *ns, const char *name, const char *json, size_t len) {
  (void)ns;
  (void)name;
  start_ctx *c = ud;
  json_t *parsed = NULL;
  int ok = matches(c->w, json, len, &parsed);
  json_decref(parsed);
  return ok;
}

lc_watcher *lc_watcher_start(lc_server *s, const lc_watch_spec *spec, void *conn, lc_wake_fn wake,
                             json_t **status) {
  lc_watcher *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  w->spec = *spec;
  w->conn = conn;
  w->wake = wake;
  char err[512];
  if ((*spec->label_selector && lh_label_selector_parse(spec->label_selector, &w->ls, err, sizeof err)) ||
      (*spec->field_selector && lh_field_selector_parse(spec->field_selector, spec->key, 0, &w->fs, err, sizeof err))) {
    if (status) *status = lc_status_bad_request(err);
    lh_label_selector_free(w->ls);
    lh_field_selector_free(w->fs);
    free(w);
    return NULL;
  }
  w->track = w->ls || w->fs;
  time_t now = time(NULL);
  if (spec->timeout_s > 0) w->deadline = now + spec->timeout_s;
  /* periodic BOOKMARKs only for watches without a deadline (those with one get them just before
   * it, below in lc_hub_tick, like the 1.20 watch cache) */
  if (spec->bookmarks && !w->deadline) w->next_bookmark = now + (s->bookmark_interval_s > 0 ? s->bookmark_interval_s : 60);
  start_ctx c = {.s = s, .w = w};
  const char *ns = spec->all_ns ? NULL : spec->ns;
  if (spec->send_initial) {
    lh_store_list_opts o = {.ns = ns, .filter = initial_filter, .filter_ud = &c};
    lh_store_list_result res;
    int rc = lh_store_list(s->store, spec->key, &o, initial_item, &c, &res);
    if (rc == 0) w->last_rv = res.rv;
    else if (!w->finished) finish_with_error(w, 500, "InternalError", lh_store_strerror(rc));
  } else if (spec->min_rv > 0 && spec->since_rv < spec->min_rv) {
    /* before the resource's watch history (a CR's CRD was established later): expired */
    char m[200];
    snprintf(m, sizeof m, "too old resource version: %lld (%lld)", (long long)spec->since_rv,
             (long long)spec->min_rv);
    w->last_rv = lh_store_current_rv(s->store);
    finish_with_error(w, 410, "Expired", m);
  } else {
    w->last_rv = spec->since_rv;
    if (w->track && spec->since_rv > 0) {
      /* what matched at since_rv; a compacted rv fails below with 410 anyway, and an rv in
       * the future has nothing to seed */
      lh_store_list_opts o = {.ns = ns, .at_rv = spec->since_rv, .filter = initial_filter, .filter_ud = &c};
      lh_store_list_result res;
      int rc = lh_store_list(s->store, spec->key, &o, seed_item, &c, &res);
      if (rc == 1) finish_with_error(w, 500, "InternalError", "out of memory");
    }
    int rc = lh_store_events_since(s->store, spec->since_rv, spec->key, ns, replay_ev, &c);
    if (rc == LH_STORE_EEXPIRED) {
      char m[200];
      snprintf(m, sizeof m, "too old resource version: %lld (%lld)", (long long)spec->since_rv,
               (long long)lh_store_compacted_rv(s->store) + 1);
      queue_clear(w);
      finish_with_error(w, 410, "Expired", m);
    } else if (rc < 0 && !w->finished) {
      finish_with_error(w, 500, "InternalError", lh_store_strerror(rc));
    }
    int64_t cur = lh_store_current_rv(s->store);
    if (w->last_rv < spec->since_rv) w->last_rv = spec->since_rv;
    (void)cur;
  }
  if (w->qlen) w->saw_event = 1;
  struct lc_hub *h = s->hub;
  w->next = h->head;
  if (h->head) h->head->prev = w;
  h->head = w;
  h->n++;
  return w;
}

void lc_watcher_stop(lc_server *s, lc_watcher *w) {
  if (!w) return;
  struct lc_hub *h = s->hub;
  if (w->prev) w->prev->next = w->next;
  else if (h->head == w) h->head = w->next;
  if (w->next) w->next->prev = w->prev;
  h->n--;
  queue_clear(w);
  sent_free(w);
  free(w->q);
  lh_label_selector_free(w->ls);
  lh_field_selector_free(w->fs);
  free(w);
}

const lc_evbuf *lc_watcher_peek(const lc_watcher *w) { return w->qlen ? w->q[w->qhead] : NULL; }

void lc_watcher_pop(lc_watcher *w) {
  if (!w->qlen) return;
  lc_evbuf *e = w->q[w->qhead];
  w->qhead = (w->qhead + 1) % w->qcap;
  w->qlen--;
  w->qbytes -= e->len;
  evbuf_unref(e);
}

int lc_watcher_finished(const lc_watcher *w) { return w->finished; }

static void bookmark(lc_server *s, lc_watcher *w) {
  char obj[600];
  int64_t rv = w->last_rv;
  int64_t cur = lh_store_current_rv(s->store);
  if (cur > rv) rv = cur; /* nothing for this watcher up to cur: events are delivered in order */
  w->last_rv = rv;
  int n = snprintf(obj, sizeof obj,
                   "{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":{\"resourceVersion\":\"%lld\","
                   "\"creationTimestamp\":null}}",
                   w->spec.kind, w->spec.api_version, (long long)rv);
  if (n <= 0 || n >= (int)sizeof obj) return;
  lc_evbuf *e = evbuf_make("BOOKMARK", obj, (size_t)n);
  if (!e) return;
  enqueue(s, w, e);
  evbuf_unref(e);
}

void lc_hub_tick(lc_server *s, time_t now) {
  struct lc_hub *h = s->hub;
  if (!h) return;
  for (lc_watcher *w = h->head; w; w = w->next) {
    if (w->finished) continue;
    int wake = 0;
    if (w->spec.bookmarks && w->next_bookmark && now >= w->next_bookmark) {
      bookmark(s, w);
      w->next_bookmark = now + (s->bookmark_interval_s > 0 ? s->bookmark_interval_s : 60);
      wake = 1;
    }
    /* 1.20's watch cache: a watcher's next bookmark time is its deadline - 2 s; once due it is
     * sent on each ~1 s bookmark tick until the deadline, and only when the cache saw an event */
    if (w->spec.bookmarks && w->deadline && now < w->deadline && now >= w->deadline - 2 && w->saw_event &&
        w->last_bookmark != now) {
      bookmark(s, w);
      w->last_bookmark = now;
      wake = 1;
    }
    if (w->deadline && now >= w->deadline) {
      w->finished = 1;
      wake = 1;
    }
    if (wake && w->wake) w->wake(w->conn);
  }
}

size_t lc_hub_count(const lc_server *s) { return s->hub ? s->hub->n : 0; }

void lc_hub_free(struct lc_hub *h) {
  if (!h) return;
  /* watchers belong to connections, which lws closes first; free stragglers */
  lc_watcher *w = h->head;
  while (w) {
    lc_watcher *n = w->next;
    queue_clear(w);
    sent_free(w);
    free(w->q);
    lh_label_selector_free(w->ls);
    lh_field_selector_free(w->fs);
    free(w);
    w = n;
  }
  free(h);
}
