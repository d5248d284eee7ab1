/* async.h — concurrent REST requests on an lh_loop through one curl multi handle.
 *
 * Why: the controller binds thousands of pods per second. A blocking client pays one round
 * trip per call; here N requests are in flight at once over a pool of keep-alive connections
 * (max_connections; HTTP/1.1 by default, or HTTP/2 multiplexing over TLS when http2 is set),
 * and further requests wait in a FIFO inside the library. The curl multi is driven by the
 * loop's fd and timer callbacks (CURLMOPT_SOCKETFUNCTION/TIMERFUNCTION), so everything runs on
 * the loop thread: lh_kube_async is not thread-safe (post to its loop from other threads).
 *
 * Streams: lh_kube_async_stream() runs a long GET (a chunked-HTTP watch) whose body is handed
 * to a data callback as it arrives. Each stream holds a connection of its own for its lifetime,
 * outside the max_connections request pool (the per-host limit is max_connections + the live
 * streams), so any number of streams never blocks requests on the same object.
 * Ownership: request bodies are copied. The lh_kube_response given to a done callback belongs to
 * the library and is valid only during the callback (the callback may steal resp->body by
 * setting it to NULL and freeing it later itself). */
#ifndef LAHAR_KUBE_ASYNC_H
#define LAHAR_KUBE_ASYNC_H

#include "kube/client.h"
#include "kube/config.h"
#include "kube/loop.h"

typedef struct lh_kube_async lh_kube_async;
typedef struct lh_kube_stream lh_kube_stream;

typedef struct lh_kube_async_opts {
  long max_connections;    /* keep-alive connections for requests (default 8; streams extra) */
  long max_in_flight;      /* requests handed to curl at once (default 4 * max_connections) */
  long connect_timeout_ms; /* default 5000 */
  long timeout_ms;         /* per request (not streams), default 30000 */
  size_t max_response;     /* body cap per response, default 64 MiB */
  int http2;               /* negotiate HTTP/2 over TLS and multiplex requests */
} lh_kube_async_opts;

/* rc: 0 (2xx), LH_EKUBE_HTTP / LH_EKUBE_GONE (resp->status filled), LH_EKUBE_TRANSPORT,
 * LH_EKUBE_TOOBIG, or LH_EKUBE_CLOSED (the async object was freed first). */
typedef void lh_kube_async_cb(lh_kube_async *a, int rc, lh_kube_response *resp, void *data);
/* Body bytes of a 2xx stream as they arrive (not NUL-terminated; owned by the library). Return
 * 0 to go on, non-zero to end the stream (its end callback then gets LH_EKUBE_CLOSED). */
typedef int lh_kube_stream_data_cb(lh_kube_stream *s, const char *data, size_t len, void *ud);
/* The stream ended: rc 0 when the server closed a 2xx stream normally, else as for requests
 * (a non-2xx answer's body is in resp and parsed in resp->status). Not called after cancel. */
typedef void lh_kube_stream_end_cb(lh_kube_stream *s, int rc, lh_kube_response *resp, void *ud);

/* Creates the multi handle on loop. Returns 0, LH_EKUBE_NOMEM or LH_EKUBE_CONFIG. */
int lh_kube_async_new(lh_loop *loop, const lh_kube_config *cfg, const lh_kube_async_opts *o,
                      lh_kube_async **out);
/* Aborts everything: pending request callbacks run with LH_EKUBE_CLOSED, streams are dropped
 * silently. Must not be called from inside one of its callbacks. NULL ok. */
void lh_kube_async_free(lh_kube_async *a);
lh_loop *lh_kube_async_loop(const lh_kube_async *a);
const lh_kube_config *lh_kube_async_config(const lh_kube_async *a);

/* Queues a request (path starts with '/'; body may be NULL). Returns 0 (cb will run exactly
 * once, never from inside this call) or LH_EKUBE_NOMEM / LH_EKUBE_INVAL (cb will not run). */
int lh_kube_async_request(lh_kube_async *a, const char *method, const char *path,
                          const char *content_type, const char *body, size_t body_len,
                          lh_kube_async_cb *cb, void *data);
/* POST pods/NAME/binding, as lh_kube_bind. */
int lh_kube_async_bind(lh_kube_async *a, const char *ns, const char *pod, const char *node,
                       const char *pod_uid, lh_kube_async_cb *cb, void *data);
/* Requests queued or in flight (streams not counted). */
size_t lh_kube_async_pending(const lh_kube_async *a);
/* Runs the loop until no request is pending or timeout_ms passes (-1: no limit).
 * Returns 0 or LH_EKUBE_TRANSPORT on timeout. For batch use from a plain thread. */
int lh_kube_async_wait(lh_kube_async *a, long timeout_ms);

/* Starts a streaming GET of path. Returns 0 with *out set, or an error (nothing started). */
int lh_kube_async_stream(lh_kube_async *a, const char *path, lh_kube_stream_data_cb *data_cb,
                         lh_kube_stream_end_cb *end_cb, void *ud, lh_kube_stream **out);
/* Ends a stream; no callback runs afterwards. Safe from inside its own data callback. */
void lh_kube_stream_cancel(lh_kube_stream *s);

#endif
