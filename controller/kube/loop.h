/* loop.h — the event loop of controller/kube/ (after Redis ae and libuv).
 *
 * Design (why it looks like this):
 *   - One loop per thread. Informers, the async REST path (curl multi, driven through its socket
 *     and timer callbacks) and the chunked-HTTP watch all run on it. Work-queue workers may be
 *     other threads; they talk to the loop through lh_loop_post(), the only thread-safe call.
 *   - libwebsockets 4.1.6 in Debian is built without LWS_WITH_EXTERNAL_POLL, so its sockets
 *     cannot be put on this loop. The WebSocket watch runs an lws context on one service thread
 *     (watch.c) and hands complete messages to the loop with lh_loop_post().
 *   - Each iteration: read the clock once (every callback of the iteration sees the same "now"),
 *     run the before-sleep hook, poll (epoll) for at most the time to the nearest timer, dispatch
 *     fd callbacks, run posted functions, then due timers.
 *   - Timers live in a binary min-heap ordered by (deadline, start sequence), so equal deadlines
 *     fire in start order. A timer is removed from the heap before its callback runs; the callback
 *     returns its next delay in ms (re-armed from "now") or LH_TIMER_STOP. Timers started during
 *     the timer phase do not fire in that same phase.
 *   - The clock can be replaced (lh_loop_set_clock) so tests drive time by hand.
 * Ownership: lh_timer memory belongs to the caller (libuv style); the loop never frees it. */
#ifndef LAHAR_KUBE_LOOP_H
#define LAHAR_KUBE_LOOP_H

#include <stddef.h>
#include <stdint.h>

typedef struct lh_loop lh_loop;
typedef struct lh_timer lh_timer;

#define LH_READABLE 1
#define LH_WRITABLE 2
#define LH_TIMER_STOP (-1L)

/* fd is ready for the LH_READABLE/LH_WRITABLE bits in events (error/hangup report both). */
typedef void lh_fd_cb(lh_loop *loop, int fd, int events, void *data);
/* Returns the next delay in ms (>= 0) or LH_TIMER_STOP. */
typedef long lh_timer_cb(lh_loop *loop, lh_timer *t, void *data);
typedef void lh_before_sleep_cb(lh_loop *loop, void *data);
/* Runs on the loop thread; posted from any thread. */
typedef void lh_post_cb(lh_loop *loop, void *data);
/* Returns monotonic milliseconds. */
typedef uint64_t lh_clock_fn(void *data);

struct lh_timer {
  lh_loop *loop;     /* set by lh_timer_init */
  uint64_t deadline; /* ms on the loop clock */
  uint64_t seq;      /* start order, breaks deadline ties */
  size_t heap_idx;   /* position in the heap, (size_t)-1 when stopped */
  lh_timer_cb *cb;
  void *data;
};

/* Creates a loop (epoll + eventfd). Returns NULL on failure (out of memory or fds). */
lh_loop *lh_loop_new(void);
/* Frees the loop; registered fds are forgotten (not closed), unrun posts are dropped. NULL ok. */
void lh_loop_free(lh_loop *loop);
void lh_loop_set_clock(lh_loop *loop, lh_clock_fn *fn, void *data);
void lh_loop_set_before_sleep(lh_loop *loop, lh_before_sleep_cb *cb, void *data);
/* The cached time of the current iteration (ms). lh_loop_update_time re-reads the clock. */
uint64_t lh_loop_now(const lh_loop *loop);
void lh_loop_update_time(lh_loop *loop);

/* Watches fd for events (LH_READABLE|LH_WRITABLE); replaces an earlier registration of fd.
 * events == 0 removes it. Returns 0, LH_EKUBE_INVAL or LH_EKUBE_NOMEM. */
int lh_loop_fd_set(lh_loop *loop, int fd, int events, lh_fd_cb *cb, void *data);
void lh_loop_fd_del(lh_loop *loop, int fd);

void lh_timer_init(lh_loop *loop, lh_timer *t);
/* (Re)starts t to fire after delay_ms. Returns 0, LH_EKUBE_INVAL (cb NULL) or LH_EKUBE_NOMEM. */
int lh_timer_start(lh_timer *t, long delay_ms, lh_timer_cb *cb, void *data);
void lh_timer_stop(lh_timer *t); /* idempotent */
int lh_timer_active(const lh_timer *t);

/* Thread-safe: queues fn(loop, data) to run on the loop thread and wakes the loop.
 * Returns 0 or LH_EKUBE_NOMEM. */
int lh_loop_post(lh_loop *loop, lh_post_cb *fn, void *data);
/* The same; if the loop is freed before fn ran, lh_loop_free calls drop(data) instead (for posts
 * from other threads that may still arrive during shutdown, after the last iteration). */
typedef void lh_post_drop_cb(void *data);
int lh_loop_post_drop(lh_loop *loop, lh_post_cb *fn, lh_post_drop_cb *drop, void *data);

/* One iteration; waits at most max_wait_ms (-1: until an event or timer). Returns the number of
 * callbacks run (>= 0) or LH_EKUBE_TRANSPORT if epoll failed. */
int lh_loop_run_once(lh_loop *loop, long max_wait_ms);
/* Iterates until lh_loop_stop(). Returns 0. */
int lh_loop_run(lh_loop *loop);
void lh_loop_stop(lh_loop *loop); /* loop thread only; use lh_loop_post from others */
/* Milliseconds until the nearest timer (-1 if none). */
long lh_loop_next_timeout(const lh_loop *loop);

#endif
