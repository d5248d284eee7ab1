/* watch.h — watch fan-out. Every committed store event is serialized once into a shared,
 * reference-counted buffer ({"type":...,"object":...}\n) and queued to each matching watcher;
 * the HTTP layer drains a watcher's queue when its socket is writable (chunked HTTP or one
 * WebSocket text frame per event). A watcher whose queue passes s->watch_queue_max bytes is
 * ended with an in-stream 410 Expired ERROR event (the client relists) so one slow reader never
 * holds memory or the loop. Timeouts and BOOKMARK events come from lc_hub_tick().
 * Two kinds of watcher get events built for them alone: watchers with a label/field selector,
 * which remember what they sent so that an object that starts matching arrives as ADDED and one
 * that stops matching as DELETED (with its last matching content, like the real watch cache),
 * and watchers that asked for Table output (kubectl get -w), whose events carry a one-row
 * meta.k8s.io Table (column definitions on the first event only, as the real server does). */
#ifndef LAHAR_LC_WATCH_H
#define LAHAR_LC_WATCH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "localcluster/lc.h"

typedef struct lc_evbuf {
  int refs;
  size_t len;
  char data[]; /* JSON event + "\n" */
} lc_evbuf;

typedef struct lc_watcher lc_watcher;

/* Called when a watcher has new data (the HTTP layer asks for a writable callback). */
typedef void (*lc_wake_fn)(void *conn);

struct lc_hub *lc_hub_new(void);
void lc_hub_free(struct lc_hub *h);

/* Fan-out of one committed event (from the store subscription). */
void lc_hub_on_event(lc_server *s, const lh_store_event *ev);
/* Timeouts and bookmarks; call about once a second. */
void lc_hub_tick(lc_server *s, time_t now);
size_t lc_hub_count(const lc_server *s);

/* Starts a watcher: queues the initial events (synthetic ADDED, or the replay since the rv, or an
 * ERROR 410 when that rv is compacted) and registers for live events. conn is handed back to
 * wake. Returns NULL on ENOMEM or a bad selector (then *status holds a 400 Status). */
lc_watcher *lc_watcher_start(lc_server *s, const lc_watch_spec *spec, void *conn, lc_wake_fn wake,
                             json_t **status);
/* Stops and frees (on connection close); accepts NULL. */
void lc_watcher_stop(lc_server *s, lc_watcher *w);
/* Next queued event (borrowed) or NULL. */
const lc_evbuf *lc_watcher_peek(const lc_watcher *w);
void lc_watcher_pop(lc_watcher *w);
/* True once the stream must end after the queue drains (timeout, overflow, expired rv). */
int lc_watcher_finished(const lc_watcher *w);

#endif
