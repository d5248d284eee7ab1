/* watch.h — Kubernetes watch streams: event parsing, newline splitting, and a watch handle that
 * uses a WebSocket upgrade (libwebsockets) and falls back to a chunked HTTP GET (curl).
 *
 * Transport choice: with a wsclient and mode AUTO the watch first tries the WebSocket upgrade
 * (Origin header set to the server URL: a 1.20 apiserver answers 403 without one; bearer token
 * in the handshake; TLS verified against the config's CA; client certificate if configured).
 * Each text message is one event; fragments are reassembled up to max_event bytes. If the
 * upgrade fails before any message arrived, the same URL is streamed over chunked HTTP, where
 * events are newline-delimited JSON. Without a wsclient, HTTP is used directly.
 *
 * Threads: the wsclient owns an lws context serviced on its own thread (lws cannot join lh_loop:
 * see loop.h); events are delivered on the loop thread through lh_loop_post(). All watch
 * callbacks run on the loop thread.
 * Lifetime: a watch ends exactly once with end_cb (after which the library frees it), unless
 * lh_kube_watch_stop() is called first (then no callback runs again). stop is safe from inside
 * the watch's own event callback. */
#ifndef LAHAR_KUBE_WATCH_H
#define LAHAR_KUBE_WATCH_H

#include "kube/async.h"
#include "kube/client.h"
#include "kube/loop.h"
#include "util/buf.h"

#include <jansson.h>

typedef enum {
  LH_WATCH_ADDED = 1,
  LH_WATCH_MODIFIED,
  LH_WATCH_DELETED,
  LH_WATCH_BOOKMARK,
  LH_WATCH_ERROR,
} lh_watch_type;

typedef struct lh_kube_watch_event {
  lh_watch_type type;
  json_t *object;  /* borrowed: valid during the callback (json_incref to keep it); NULL for
                      raw events other than ERROR */
  const char *rv;  /* object.metadata.resourceVersion or NULL (borrowed likewise) */
  const char *raw; /* raw events: the object's JSON text (validated, not NUL-terminated) */
  size_t raw_len;
} lh_kube_watch_event;

/* Parses one watch event {"type":..., "object":{...}}. On success returns 0, fills ev and sets
 * *root to the parsed document (the caller json_decref()s it; ev points into it). Returns
 * LH_EKUBE_PARSE for malformed JSON, an unknown type or a missing object. */
int lh_kube_watch_parse(const char *data, size_t len, lh_kube_watch_event *ev, json_t **root);
const char *lh_kube_watch_type_name(lh_watch_type t);
/* The same without a jansson tree for the object (watches with raw set): validates the event
 * strictly (util/jscan.h), sets ev->raw/raw_len to the object's bytes and ev->rv to a copy in
 * rvbuf (rvcap bytes; a longer resourceVersion is refused). Only an ERROR event's object is
 * parsed into ev->object (*root, the caller json_decref()s it; NULL otherwise). Duplicate
 * "type"/"object" members are refused; duplicates inside the object are left to its consumer.
 * Returns 0 or LH_EKUBE_PARSE. */
int lh_kube_watch_parse_raw(const char *data, size_t len, lh_kube_watch_event *ev, json_t **root,
                            char *rvbuf, size_t rvcap);

/* Splits a byte stream into lines ('\n'; a trailing '\r' and empty lines are dropped) whose
 * length is capped: a line longer than cap fails the feed with LH_EKUBE_TOOBIG. */
typedef struct lh_kube_linesplit {
  lh_buf partial; /* bytes of the unfinished line */
} lh_kube_linesplit;
/* Called per complete line (not NUL-terminated, borrowed). Return non-zero to stop the feed. */
typedef int lh_kube_line_cb(const char *line, size_t len, void *ud);
void lh_kube_linesplit_init(lh_kube_linesplit *ls, size_t cap);
void lh_kube_linesplit_free(lh_kube_linesplit *ls);
/* Returns 0, LH_EKUBE_TOOBIG / LH_EKUBE_NOMEM, or the first non-zero value cb returned. */
int lh_kube_linesplit_feed(lh_kube_linesplit *ls, const char *data, size_t len,
                           lh_kube_line_cb *cb, void *ud);

typedef struct lh_kube_wsclient lh_kube_wsclient;
/* Creates the lws context (TLS configured from cfg) and starts its service thread. Returns 0,
 * LH_EKUBE_NOMEM, LH_EKUBE_CONFIG (bad server URL) or LH_EKUBE_TRANSPORT (lws init failed). */
int lh_kube_wsclient_new(lh_loop *loop, const lh_kube_config *cfg, lh_kube_wsclient **out);
/* Stops the thread and frees the context. All watches using it must be stopped/ended first. */
void lh_kube_wsclient_free(lh_kube_wsclient *ws);
/* Replaces the Origin header of later handshakes (default: the server URL, e.g.
 * "https://127.0.0.1:6443"); NULL sends none (a 1.20 apiserver then answers 403, which is how
 * tests exercise the fallback). Call from the loop thread before starting the watches it should
 * apply to. Returns 0 or LH_EKUBE_INVAL (too long, CR/LF). */
int lh_kube_wsclient_set_origin(lh_kube_wsclient *ws, const char *origin);

typedef struct lh_kube_watch lh_kube_watch;
typedef enum { LH_WATCH_AUTO = 0, LH_WATCH_WS_ONLY, LH_WATCH_HTTP_ONLY } lh_kube_watch_mode;
typedef struct lh_kube_watch_opts {
  lh_kube_watch_mode mode;
  size_t max_event; /* bytes per event (message or line), default 16 MiB */
} lh_kube_watch_opts;

typedef void lh_kube_watch_event_cb(lh_kube_watch *w, const lh_kube_watch_event *ev, void *ud);
/* The watch ended. rc: 0 (server closed the stream), LH_EKUBE_GONE (HTTP 410), LH_EKUBE_HTTP
 * (st filled), LH_EKUBE_TRANSPORT (connect/TLS failure or a dropped stream; for WebSocket
 * st->message holds lws's reason, e.g. a certificate verify failure), LH_EKUBE_TOOBIG (event over
 * max_event), LH_EKUBE_PARSE (bad event), LH_EKUBE_UPGRADE (WS_ONLY and the server answered the
 * handshake with a non-101 status: st->code). In AUTO mode a refused upgrade (the server was
 * reached, answered a non-101 status or closed without answering) falls back to chunked HTTP
 * instead of ending; connect and TLS failures end the watch with LH_EKUBE_TRANSPORT. A 1.20 apiserver reports
 * an expired resourceVersion as HTTP 200 + an ERROR event (code 410), delivered to event_cb.
 * st is never NULL. */
typedef void lh_kube_watch_end_cb(lh_kube_watch *w, int rc, const lh_kube_status *st, void *ud);

/* Starts watching path (with its query, e.g. from lh_kube_path + lh_kube_query with watch=1).
 * ws may be NULL (HTTP only). Returns 0 with *out set, or an error (no callback will run). */
int lh_kube_watch_start(lh_kube_async *a, lh_kube_wsclient *ws, const char *path,
                        const lh_kube_watch_opts *o, lh_kube_watch_event_cb *event_cb,
                        lh_kube_watch_end_cb *end_cb, void *ud, lh_kube_watch **out);
void lh_kube_watch_stop(lh_kube_watch *w); /* NULL ok */
/* raw=1: deliver events through lh_kube_watch_parse_raw (the object's bytes, no jansson tree
 * except for ERROR). Call right after lh_kube_watch_start, before the loop runs again: events
 * are never delivered from inside start. */
void lh_kube_watch_set_raw(lh_kube_watch *w, int raw);
/* "websocket", "http" or "connecting" (WS handshake not finished). */
const char *lh_kube_watch_transport(const lh_kube_watch *w);

#endif
