/* watch.c — watchers and event fan-out (see watch.h). */
#include "localcluster/watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "localcluster/selector.h"
#include "localcluster/status.h"

struct lc_watcher {
  struct lc_watcher *prev, *next;
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

void lc_hub_on_event(lc_server *s, const lh_store_event *ev) {
  struct lc_hub *h = s->hub;
  if (!h || !h->head) return;
  lc_evbuf *e = NULL;
  json_t *parsed = NULL;
  for (lc_watcher *w = h->head; w; w = w->next) {
    if (w->finished || ev->rv <= w->last_rv) continue;
    if (strcmp(w->spec.key, ev->resource)) continue;
    if (!w->spec.all_ns && strcmp(w->spec.ns, ev->ns)) continue;
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
  if (matches(c->w, ev->json, ev->len, &parsed)) {
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
  (void)ns;
  (void)name;
  (void)rv;
  start_ctx *c = ud;
  lc_evbuf *e = evbuf_make("ADDED", json, len);
  if (!e) return 1;
  enqueue(c->s, c->w, e);
  evbuf_unref(e);
  return c->w->finished ? 1 : 0;
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
  time_t now = time(NULL);
  if (spec->timeout_s > 0) w->deadline = now + spec->timeout_s;
  if (spec->bookmarks) w->next_bookmark = now + (s->bookmark_interval_s > 0 ? s->bookmark_interval_s : 60);
  start_ctx c = {.s = s, .w = w};
  const char *ns = spec->all_ns ? NULL : spec->ns;
  if (spec->send_initial) {
    lh_store_list_opts o = {.ns = ns, .filter = initial_filter, .filter_ud = &c};
    lh_store_list_result res;
    int rc = lh_store_list(s->store, spec->key, &o, initial_item, &c, &res);
    if (rc == 0) w->last_rv = res.rv;
    else if (!w->finished) finish_with_error(w, 500, "InternalError", lh_store_strerror(rc));
  } else {
    w->last_rv = spec->since_rv;
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
    if (w->deadline && now >= w->deadline) {
      if (w->spec.bookmarks) bookmark(s, w);
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
    free(w->q);
    lh_label_selector_free(w->ls);
    lh_field_selector_free(w->fs);
    free(w);
    w = n;
  }
  free(h);
}
