/* workqueue.c — dedup queue + delaying heap + rate limiter (workqueue.h). */
#include "kube/workqueue.h"
#include "kube/kmap.h"
#include "kube/kube.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct waiting {
  uint64_t when;
  uint64_t seq;
  size_t idx;   /* heap position */
  char *key;    /* points into the waiting map's node */
} waiting;

struct lh_wq {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  lh_wq_opts o;
  char **ring;            /* FIFO of ready keys (owned copies) */
  size_t head, len, cap;
  lh_kmap dirty;          /* keys needing processing (queued or re-added while processing) */
  lh_kmap processing;     /* keys handed to a worker */
  lh_kmap waitmap;        /* key -> waiting (delayed adds) */
  waiting **heap;         /* min-heap of delayed adds */
  size_t nheap, aheap;
  uint64_t seq;
  lh_kmap failures;       /* key -> (void*)(uintptr_t)count */
  double tokens;          /* token bucket */
  uint64_t last;          /* last bucket refill time */
  int shut;
};

static int add_locked(lh_wq *q, const char *key);

static uint64_t now_ms(lh_wq *q) {
  if (q->o.clock) return q->o.clock(q->o.clock_ud);
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

lh_wq *lh_wq_new(const lh_wq_opts *o) {
  lh_wq *q = calloc(1, sizeof(*q));
  if (!q) return NULL;
  if (o) q->o = *o;
  if (q->o.base_delay_ms <= 0) q->o.base_delay_ms = 5;
  if (q->o.max_delay_ms <= 0) q->o.max_delay_ms = 1000000;
  if (q->o.qps == 0) q->o.qps = 10;
  if (q->o.burst <= 0) q->o.burst = 100;
  pthread_mutex_init(&q->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&q->cv, &ca);
  pthread_condattr_destroy(&ca);
  lh_kmap_init(&q->dirty);
  lh_kmap_init(&q->processing);
  lh_kmap_init(&q->waitmap);
  lh_kmap_init(&q->failures);
  q->tokens = (double)q->o.burst;
  q->last = now_ms(q);
  return q;
}

static void free_waiting(lh_kmap_node *n, void *ud) { free(n->value); }

void lh_wq_free(lh_wq *q) {
  if (!q) return;
  for (size_t i = 0; i < q->len; i++) free(q->ring[(q->head + i) % q->cap]);
  free(q->ring);
  lh_kmap_each(&q->waitmap, free_waiting, NULL);
  lh_kmap_free(&q->waitmap);
  lh_kmap_free(&q->dirty);
  lh_kmap_free(&q->processing);
  lh_kmap_free(&q->failures);
  free(q->heap);
  pthread_cond_destroy(&q->cv);
  pthread_mutex_destroy(&q->mu);
  free(q);
}

static int push_ready(lh_wq *q, const char *key) {
  if (q->len == q->cap) {
    size_t nc = q->cap ? q->cap * 2 : 64;
    char **r = malloc(nc * sizeof(*r));
    if (!r) return LH_EKUBE_NOMEM;
    for (size_t i = 0; i < q->len; i++) r[i] = q->ring[(q->head + i) % q->cap];
    free(q->ring);
    q->ring = r;
    q->cap = nc;
    q->head = 0;
  }
  char *k = strdup(key);
  if (!k) return LH_EKUBE_NOMEM;
  q->ring[(q->head + q->len) % q->cap] = k;
  q->len++;
  return 0;
}

static int add_locked(lh_wq *q, const char *key);

/* add with q->mu held */
static int add_locked(lh_wq *q, const char *key) {
  if (q->shut) return LH_EKUBE_CLOSED;
  if (lh_kmap_find(&q->dirty, key)) return 0;
  if (lh_kmap_put(&q->dirty, key, NULL, NULL) != 0) return LH_EKUBE_NOMEM;
  if (lh_kmap_find(&q->processing, key)) return 0; /* re-queued by done() */
  int rc = push_ready(q, key);
  if (rc) {
    lh_kmap_del(&q->dirty, key);
    return rc;
  }
  pthread_cond_signal(&q->cv);
  return 0;
}

int lh_wq_add(lh_wq *q, const char *key) {
  pthread_mutex_lock(&q->mu);
  int rc = add_locked(q, key);
  pthread_mutex_unlock(&q->mu);
  return rc;
}

/* --- delaying heap ------------------------------------------------------------------------ */

static int wless(const waiting *a, const waiting *b) {
  return a->when != b->when ? a->when < b->when : a->seq < b->seq;
}
static void wswap(lh_wq *q, size_t i, size_t j) {
  waiting *t = q->heap[i];
  q->heap[i] = q->heap[j];
  q->heap[j] = t;
  q->heap[i]->idx = i;
  q->heap[j]->idx = j;
}
static void wup(lh_wq *q, size_t i) {
  while (i && wless(q->heap[i], q->heap[(i - 1) / 2])) {
    wswap(q, i, (i - 1) / 2);
    i = (i - 1) / 2;
  }
}
static void wdown(lh_wq *q, size_t i) {
  for (;;) {
    size_t m = i, a = 2 * i + 1, b = a + 1;
    if (a < q->nheap && wless(q->heap[a], q->heap[m])) m = a;
    if (b < q->nheap && wless(q->heap[b], q->heap[m])) m = b;
    if (m == i) return;
    wswap(q, i, m);
    i = m;
  }
}

/* Moves due delayed keys to the ready queue (mu held). */
static void promote(lh_wq *q, uint64_t now) {
  while (q->nheap && q->heap[0]->when <= now) {
    waiting *w = q->heap[0];
    q->nheap--;
    if (q->nheap) {
      q->heap[0] = q->heap[q->nheap];
      q->heap[0]->idx = 0;
      wdown(q, 0);
    }
    add_locked(q, w->key); /* out of memory here drops the key: same as a lost add */
    lh_kmap_del(&q->waitmap, w->key); /* frees the node holding key */
    free(w);
  }
}

int lh_wq_add_after(lh_wq *q, const char *key, long delay_ms) {
  if (delay_ms <= 0) return lh_wq_add(q, key);
  pthread_mutex_lock(&q->mu);
  int rc = 0;
  if (q->shut) {
    rc = LH_EKUBE_CLOSED;
    goto out;
  }
  uint64_t when = now_ms(q) + (uint64_t)delay_ms;
  int created = 0;
  lh_kmap_node *n = lh_kmap_upsert(&q->waitmap, key, strlen(key), &created);
  if (!n) {
    rc = LH_EKUBE_NOMEM;
    goto out;
  }
  if (!created) {
    waiting *w = n->value;
    if (when < w->when) { /* earliest time wins */
      w->when = when;
      wup(q, w->idx);
    }
    goto out;
  }
  waiting *w = calloc(1, sizeof(*w));
  if (w && q->nheap >= q->aheap) {
    size_t na = q->aheap ? q->aheap * 2 : 64;
    waiting **h = realloc(q->heap, na * sizeof(*h));
    if (h) q->heap = h, q->aheap = na;
    else free(w), w = NULL;
  }
  if (!w) {
    lh_kmap_del(&q->waitmap, key);
    rc = LH_EKUBE_NOMEM;
    goto out;
  }
  w->when = when;
  w->seq = q->seq++;
  w->key = n->key;
  n->value = w;
  w->idx = q->nheap;
  q->heap[q->nheap++] = w;
  wup(q, w->idx);
  pthread_cond_signal(&q->cv); /* a getter may need to shorten its wait */
out:
  pthread_mutex_unlock(&q->mu);
  return rc;
}

/* --- rate limiter ------------------------------------------------------------------------- */

static long when_locked(lh_wq *q, const char *key) {
  int created = 0;
  lh_kmap_node *n = lh_kmap_upsert(&q->failures, key, strlen(key), &created);
  uintptr_t fails = n ? (uintptr_t)n->value : 0;
  if (n) n->value = (void *)(fails + 1);
  double exp = (double)q->o.base_delay_ms;
  for (uintptr_t i = 0; i < fails && exp < (double)q->o.max_delay_ms; i++) exp *= 2;
  long per_item = exp > (double)q->o.max_delay_ms ? q->o.max_delay_ms : (long)exp;
  long bucket = 0;
  if (q->o.qps > 0) {
    uint64_t now = now_ms(q);
    q->tokens += (double)(now - q->last) * q->o.qps / 1000.0;
    if (q->tokens > (double)q->o.burst) q->tokens = (double)q->o.burst;
    q->last = now;
    q->tokens -= 1;
    if (q->tokens < 0) bucket = (long)(-q->tokens * 1000.0 / q->o.qps + 0.5);
  }
  return per_item > bucket ? per_item : bucket;
}

long lh_wq_when(lh_wq *q, const char *key) {
  pthread_mutex_lock(&q->mu);
  long d = when_locked(q, key);
  pthread_mutex_unlock(&q->mu);
  return d;
}

int lh_wq_add_rate_limited(lh_wq *q, const char *key) { return lh_wq_add_after(q, key, lh_wq_when(q, key)); }

void lh_wq_forget(lh_wq *q, const char *key) {
  pthread_mutex_lock(&q->mu);
  lh_kmap_del(&q->failures, key);
  pthread_mutex_unlock(&q->mu);
}

int lh_wq_num_requeues(lh_wq *q, const char *key) {
  pthread_mutex_lock(&q->mu);
  int n = (int)(uintptr_t)lh_kmap_get(&q->failures, key);
  pthread_mutex_unlock(&q->mu);
  return n;
}

/* --- get/done ------------------------------------------------------------------------------- */

int lh_wq_get(lh_wq *q, char **key, long timeout_ms) {
  *key = NULL;
  pthread_mutex_lock(&q->mu);
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  if (timeout_ms > 0) {
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) deadline.tv_sec++, deadline.tv_nsec -= 1000000000L;
  }
  int rc;
  for (;;) {
    if (q->shut) {
      rc = LH_EKUBE_CLOSED;
      break;
    }
    promote(q, now_ms(q));
    if (q->len) {
      char *k = q->ring[q->head];
      q->head = (q->head + 1) % q->cap;
      q->len--;
      lh_kmap_del(&q->dirty, k);
      if (lh_kmap_put(&q->processing, k, NULL, NULL) != 0) {
        /* cannot track it: put it back and report a timeout so the worker retries */
        push_ready(q, k);
        lh_kmap_put(&q->dirty, k, NULL, NULL);
        free(k);
        rc = LH_WQ_TIMEOUT;
        break;
      }
      *key = k;
      rc = 0;
      break;
    }
    if (timeout_ms == 0) {
      rc = LH_WQ_TIMEOUT;
      break;
    }
    /* sleep until the nearest delayed key (real clock), the deadline, or a signal */
    struct timespec until = deadline;
    if (q->nheap) {
      uint64_t now = now_ms(q), due = q->heap[0]->when;
      long ms = due > now ? (long)(due - now) : 0;
      struct timespec t;
      clock_gettime(CLOCK_MONOTONIC, &t);
      t.tv_sec += ms / 1000;
      t.tv_nsec += (ms % 1000) * 1000000L;
      if (t.tv_nsec >= 1000000000L) t.tv_sec++, t.tv_nsec -= 1000000000L;
      if (timeout_ms < 0 || t.tv_sec < until.tv_sec ||
          (t.tv_sec == until.tv_sec && t.tv_nsec < until.tv_nsec))
        until = t;
    }
    int wr;
    if (timeout_ms < 0 && !q->nheap) wr = pthread_cond_wait(&q->cv, &q->mu);
    else wr = pthread_cond_timedwait(&q->cv, &q->mu, &until);
    if (wr == ETIMEDOUT && timeout_ms > 0) {
      struct timespec n;
      clock_gettime(CLOCK_MONOTONIC, &n);
      if (n.tv_sec > deadline.tv_sec || (n.tv_sec == deadline.tv_sec && n.tv_nsec >= deadline.tv_nsec)) {
        promote(q, now_ms(q));
        if (!q->len) {
          rc = LH_WQ_TIMEOUT;
          break;
        }
      }
    }
  }
  pthread_mutex_unlock(&q->mu);
  return rc;
}

void lh_wq_done(lh_wq *q, const char *key) {
  pthread_mutex_lock(&q->mu);
  lh_kmap_del(&q->processing, key);
  if (lh_kmap_find(&q->dirty, key) && !q->shut) {
    if (push_ready(q, key) == 0) pthread_cond_signal(&q->cv);
    else lh_kmap_del(&q->dirty, key);
  }
  pthread_mutex_unlock(&q->mu);
}

void lh_wq_shutdown(lh_wq *q) {
  pthread_mutex_lock(&q->mu);
  q->shut = 1;
  pthread_cond_broadcast(&q->cv);
  pthread_mutex_unlock(&q->mu);
}

size_t lh_wq_len(lh_wq *q) {
  pthread_mutex_lock(&q->mu);
  promote(q, now_ms(q));
  size_t n = q->len;
  pthread_mutex_unlock(&q->mu);
  return n;
}

size_t lh_wq_delayed(lh_wq *q) {
  pthread_mutex_lock(&q->mu);
  size_t n = q->nheap;
  pthread_mutex_unlock(&q->mu);
  return n;
}

long lh_wq_next_due(lh_wq *q) {
  pthread_mutex_lock(&q->mu);
  uint64_t now = now_ms(q);
  promote(q, now);
  long ms = -1;
  if (q->len) ms = 0;
  else if (q->nheap) {
    uint64_t d = q->heap[0]->when - now; /* promote() left only keys due after now */
    ms = d > (uint64_t)LONG_MAX ? LONG_MAX : (long)d;
  }
  pthread_mutex_unlock(&q->mu);
  return ms;
}
