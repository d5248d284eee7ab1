/* informer.h — list+watch informers (client-go reflector + indexer, simplified) and their cache.
 *
 * State machine (one informer = one resource [+ namespace, selectors]):
 *   LIST   pages of `limit` items with `continue`, collected into a fresh snapshot; when the last
 *          page arrives the snapshot replaces the cache (add/update handlers for present objects,
 *          delete handlers for vanished ones) and the list's resourceVersion becomes last_rv.
 *   WATCH  watch=1&resourceVersion=last_rv&allowWatchBookmarks=true&timeoutSeconds=T. Every event
 *          advances last_rv; BOOKMARK only advances it. The stream ending normally re-watches at
 *          once from last_rv. 410 Gone (HTTP status or ERROR event with code 410 / reason Expired)
 *          relists from scratch. Any other failure waits a backoff and resumes (re-watch from
 *          last_rv; relist if the list itself failed).
 *   Pipelined pages: when a page's body names its `continue` token before its items (metadata
 *          first, as the API server writes it), the next page is requested before this one is
 *          validated and parsed, so the server builds page N+1 while the client parses page N.
 *          At most one page is in flight. If page N then fails, the request for N+1 is cancelled
 *          and the list fails as before (relist after a backoff). Bodies with items first, or a
 *          custom transport without opts.list_cancel, get one page after the other.
 *   Backoff: initial_ms doubling to max_ms (0.5 s -> 30 s by default), reset once a watch has
 *          been healthy (delivered an event or lasted healthy_ms). jitter is a fraction (0 = fully
 *          deterministic, the default).
 * Threading: loop thread only. Handlers run on the loop thread; they usually enqueue keys into
 * a work queue (workqueue.h) whose workers may be threads.
 * Transport: by default the real API server (async.h for lists, watch.h for watches); tests pass
 * their own lh_informer_transport and feed results back with lh_informer_on_* functions.
 * Cache ownership: objects are produced by the transform (or are json_t references when there
 * is none), owned by the cache and passed to handlers borrowed. */
#ifndef LAHAR_KUBE_INFORMER_H
#define LAHAR_KUBE_INFORMER_H

#include "kube/async.h"
#include "kube/client.h"
#include "kube/loop.h"
#include "kube/watch.h"

#include <jansson.h>

typedef struct lh_informer lh_informer;
typedef struct lh_kube_cache lh_kube_cache;

/* Turns an object's full JSON into what the cache keeps. Returns NULL on failure (the object is
 * skipped and counted). */
typedef void *lh_informer_transform_fn(const json_t *obj, void *ud);
typedef void lh_informer_free_fn(void *obj, void *ud);
/* The same transform from an object's JSON text (validated by util/jscan.h), e.g.
 * lh_pod_transform_bytes. NULL with *fallback = 1 hands the object to jansson + transform;
 * NULL with *fallback = 0 is a failure (skipped and counted). */
typedef void *lh_informer_transform_bytes_fn(const char *json, size_t len, void *ud, int *fallback);

typedef struct lh_informer_handlers {
  void (*on_add)(lh_informer *inf, const void *obj, void *data);
  void (*on_update)(lh_informer *inf, const void *old_obj, const void *new_obj, void *data);
  void (*on_delete)(lh_informer *inf, const void *obj, void *data); /* obj freed afterwards */
  void *data;
} lh_informer_handlers;

/* A transport fakes or implements the two server calls. Both are asynchronous: results come
 * back through lh_informer_on_list / on_event / on_watch_end, never from inside the call. */
typedef struct lh_informer_transport {
  int (*list)(void *t, lh_informer *inf, const char *path); /* path: resource URL + query */
  int (*watch)(void *t, lh_informer *inf, const char *path);
  void (*watch_stop)(void *t, lh_informer *inf); /* no on_event/on_watch_end afterwards */
  void *t;
} lh_informer_transport;
/* Drops the list request in flight of a custom transport (no on_list* for it afterwards). */
typedef void lh_informer_list_cancel_fn(void *t, lh_informer *inf);

typedef struct lh_informer_opts {
  const lh_kube_resource *resource;
  const char *ns;              /* NULL/"": all namespaces */
  const char *label_selector;
  const char *field_selector;
  long page_limit;             /* list page size, default 500 */
  long watch_timeout_s;        /* timeoutSeconds of watches, default 300 */
  long backoff_initial_ms;     /* default 500 */
  long backoff_max_ms;         /* default 30000 */
  double jitter;               /* 0..1, default 0 */
  long healthy_ms;             /* default 30000 */
  lh_informer_transform_fn *transform; /* NULL: keep the json_t (incref) */
  lh_informer_free_fn *free_obj;       /* required with transform */
  /* Byte-level twin of transform (requires transform): list items and watch objects go
   * through it without a jansson tree. Default: lh_pod_transform_bytes when transform is
   * lh_pod_transform. */
  lh_informer_transform_bytes_fn *transform_bytes;
  void *transform_ud;
  lh_kube_watch_mode watch_mode;       /* for the real transport */
  const lh_informer_transport *transport; /* NULL: real server via async (+ ws) */
  /* With a custom transport: its list cancel; only then are its pages pipelined (see above).
   * (Here rather than in the transport so that transports written as {list, watch, stop, t}
   * stay complete initializers.) */
  lh_informer_list_cancel_fn *list_cancel;
} lh_informer_opts;

typedef enum { LH_INF_IDLE, LH_INF_LISTING, LH_INF_WATCHING, LH_INF_BACKOFF, LH_INF_STOPPED } lh_informer_state;

/* Creates an informer on loop. a (and ws, optional) are used by the real transport; both may be
 * NULL with a custom transport. Returns 0 or LH_EKUBE_NOMEM / LH_EKUBE_INVAL. */
int lh_informer_new(lh_loop *loop, lh_kube_async *a, lh_kube_wsclient *ws,
                    const lh_informer_opts *o, const lh_informer_handlers *h, lh_informer **out);
/* Starts the first list (asynchronously). Returns 0 or the transport's error. */
int lh_informer_start(lh_informer *inf);
/* Stops the watch/timers, frees the cache (no delete handlers). NULL ok. Not from a handler. */
void lh_informer_free(lh_informer *inf);

lh_informer_state lh_informer_get_state(const lh_informer *inf);
const char *lh_informer_last_rv(const lh_informer *inf);
int lh_informer_has_synced(const lh_informer *inf); /* the first full list was applied */
long lh_informer_last_backoff_ms(const lh_informer *inf); /* delay of the last backoff, 0 none */
lh_kube_cache *lh_informer_cache(lh_informer *inf);
/* Transport of the current watch of the built-in transport: "websocket", "http", "connecting"
 * (WebSocket handshake in progress) or "none" (no watch running, or a custom transport). */
const char *lh_informer_watch_transport(const lh_informer *inf);
/* Counters for tests and metrics. */
typedef struct lh_informer_stats {
  unsigned long lists, list_pages, watches, relists_410, backoffs, events, bookmarks,
      transform_failures, list_prefetches; /* pages requested before the previous was parsed */
} lh_informer_stats;
void lh_informer_get_stats(const lh_informer *inf, lh_informer_stats *st);

/* Transport results (also used by the built-in transport). list_doc and ev are borrowed. */
void lh_informer_on_list(lh_informer *inf, int rc, const json_t *list_doc);
/* The same from the page's raw body (borrowed): validated strictly (util/jscan.h; invalid JSON
 * fails the page as LH_EKUBE_PARSE with the reason logged), then each item is cut out in place:
 * through transform_bytes when set, else json_loadb of that item alone. */
void lh_informer_on_list_bytes(lh_informer *inf, int rc, const char *body, size_t len);
void lh_informer_on_event(lh_informer *inf, const lh_kube_watch_event *ev);
void lh_informer_on_watch_end(lh_informer *inf, int rc);

/* --- the cache ---------------------------------------------------------------------------- */
typedef void lh_kube_cache_fn(const char *key, const void *obj, void *ud);
size_t lh_kube_cache_len(const lh_kube_cache *c);
/* Key is "ns/name" for namespaced objects, "name" otherwise. Returns NULL if absent. */
const void *lh_kube_cache_get(const lh_kube_cache *c, const char *key);
void lh_kube_cache_each(const lh_kube_cache *c, lh_kube_cache_fn *fn, void *ud);
/* Objects in namespace ns / with label k=v; returns how many fn was called for. */
size_t lh_kube_cache_by_namespace(const lh_kube_cache *c, const char *ns, lh_kube_cache_fn *fn,
                                  void *ud);
size_t lh_kube_cache_by_label(const lh_kube_cache *c, const char *k, const char *v,
                              lh_kube_cache_fn *fn, void *ud);
/* Bytes held by the cache's own structures (entries, keys, indexes), objects excluded. */
size_t lh_kube_cache_overhead_bytes(const lh_kube_cache *c);

#endif
