/* workqueue.h — rate-limited work queues with client-go semantics.
 *
 *  - A key is queued at most once (dedup while waiting), and is never handed to two workers at
 *    once: a key added while being processed is queued again only when done() is called.
 *  - add_after() delays an add (the earliest pending time per key wins).
 *  - add_rate_limited() delays by max(per-key exponential backoff base*2^failures capped at
 *    max_delay, an overall token bucket of qps/burst); forget() resets the key's failures.
 *  - shutdown() wakes all getters; get() then drains nothing and returns LH_EKUBE_CLOSED.
 * Thread-safe (one mutex); workers may be threads. The clock is injectable for tests.
 * Ownership: get() returns a malloc'ed copy of the key; pass it to done() and free() it. */
#ifndef LAHAR_KUBE_WORKQUEUE_H
#define LAHAR_KUBE_WORKQUEUE_H

#include <stddef.h>
#include <stdint.h>

typedef struct lh_wq lh_wq;
typedef uint64_t lh_wq_clock_fn(void *ud); /* monotonic milliseconds */

typedef struct lh_wq_opts {
  long base_delay_ms; /* per-key backoff base, default 5 */
  long max_delay_ms;  /* per-key backoff cap, default 1000000 (1000 s) */
  double qps;         /* token bucket rate, default 10 (<0: no bucket) */
  long burst;         /* token bucket size, default 100 */
  lh_wq_clock_fn *clock; /* NULL: CLOCK_MONOTONIC */
  void *clock_ud;
} lh_wq_opts;

#define LH_WQ_TIMEOUT 1 /* get(): nothing became ready within the timeout */

/* o may be NULL. Returns NULL on allocation failure. */
lh_wq *lh_wq_new(const lh_wq_opts *o);
void lh_wq_free(lh_wq *q); /* NULL ok; no getter may still be inside get() */
/* Returns 0, LH_EKUBE_NOMEM, or LH_EKUBE_CLOSED after shutdown (ignored). */
int lh_wq_add(lh_wq *q, const char *key);
int lh_wq_add_after(lh_wq *q, const char *key, long delay_ms);
int lh_wq_add_rate_limited(lh_wq *q, const char *key);
/* The rate limiter's delay for key now (counts as a failure, takes a token). */
long lh_wq_when(lh_wq *q, const char *key);
void lh_wq_forget(lh_wq *q, const char *key);
int lh_wq_num_requeues(lh_wq *q, const char *key);
/* Waits up to timeout_ms (-1 forever, 0 poll) for a key. Returns 0 with *key set,
 * LH_WQ_TIMEOUT, or LH_EKUBE_CLOSED (shut down). */
int lh_wq_get(lh_wq *q, char **key, long timeout_ms);
void lh_wq_done(lh_wq *q, const char *key);
void lh_wq_shutdown(lh_wq *q);
size_t lh_wq_len(lh_wq *q);     /* keys ready to be got */
size_t lh_wq_delayed(lh_wq *q); /* keys waiting for their time */
/* Milliseconds until a key can be got: 0 when one is ready now, the time to the earliest
 * delayed key otherwise, -1 when the queue holds none. Lets an event-loop consumer sleep
 * exactly until the next key is due instead of polling. */
long lh_wq_next_due(lh_wq *q);

#endif
