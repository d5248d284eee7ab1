/* loop.c — epoll event loop with a min-heap of timers and a cross-thread post queue (loop.h). */
#include "kube/loop.h"
#include "kube/kube.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

typedef struct fd_reg {
  lh_fd_cb *cb;
  void *data;
  int events; /* 0 = not registered */
} fd_reg;

typedef struct post_item {
  struct post_item *next;
  lh_post_cb *fn;
  lh_post_drop_cb *drop; /* releases data if the loop is freed before fn ran; may be NULL */
  void *data;
} post_item;

struct lh_loop {
  int epfd;                  /* epoll instance */
  int wakefd;                /* eventfd written by lh_loop_post */
  fd_reg *fds;               /* indexed by fd */
  size_t nfds;               /* size of fds */
  lh_timer **heap;           /* min-heap by (deadline, seq) */
  size_t nheap, aheap;       /* used, allocated */
  uint64_t seq;              /* next timer start sequence */
  uint64_t now;              /* cached clock of this iteration */
  lh_clock_fn *clock;        /* NULL = CLOCK_MONOTONIC */
  void *clock_data;
  lh_before_sleep_cb *before_sleep;
  void *before_sleep_data;
  pthread_mutex_t post_mu;   /* guards posts */
  post_item *posts, *posts_tail;
  int stop;                  /* set by lh_loop_stop */
};

static uint64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void lh_loop_update_time(lh_loop *l) { l->now = l->clock ? l->clock(l->clock_data) : mono_ms(); }
uint64_t lh_loop_now(const lh_loop *l) { return l->now; }

static void wake_read(lh_loop *l, int fd, int ev, void *d) {
  (void)ev, (void)d, (void)l;
  uint64_t v;
  ssize_t r = read(fd, &v, sizeof(v));
  (void)r; /* EAGAIN is fine: the posts are drained below anyway */
}

lh_loop *lh_loop_new(void) {
  lh_loop *l = calloc(1, sizeof(*l));
  if (!l) return NULL;
  l->epfd = epoll_create1(EPOLL_CLOEXEC);
  l->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (l->epfd < 0 || l->wakefd < 0) goto err;
  pthread_mutex_init(&l->post_mu, NULL);
  if (lh_loop_fd_set(l, l->wakefd, LH_READABLE, wake_read, NULL) != 0) goto err_mu;
  lh_loop_update_time(l);
  return l;
err_mu:
  pthread_mutex_destroy(&l->post_mu);
err:
  if (l->epfd >= 0) close(l->epfd);
  if (l->wakefd >= 0) close(l->wakefd);
  free(l->fds);
  free(l);
  return NULL;
}

void lh_loop_free(lh_loop *l) {
  if (!l) return;
  for (size_t i = 0; i < l->nheap; i++) l->heap[i]->heap_idx = (size_t)-1;
  free(l->heap);
  free(l->fds);
  post_item *p = l->posts;
  while (p) {
    post_item *n = p->next;
    if (p->drop) p->drop(p->data);
    free(p);
    p = n;
  }
  pthread_mutex_destroy(&l->post_mu);
  close(l->epfd);
  close(l->wakefd);
  free(l);
}

void lh_loop_set_clock(lh_loop *l, lh_clock_fn *fn, void *data) {
  l->clock = fn;
  l->clock_data = data;
  lh_loop_update_time(l);
}

void lh_loop_set_before_sleep(lh_loop *l, lh_before_sleep_cb *cb, void *data) {
  l->before_sleep = cb;
  l->before_sleep_data = data;
}

int lh_loop_fd_set(lh_loop *l, int fd, int events, lh_fd_cb *cb, void *data) {
  if (fd < 0 || (events && !cb)) return LH_EKUBE_INVAL;
  if (!events) {
    lh_loop_fd_del(l, fd);
    return 0;
  }
  if ((size_t)fd >= l->nfds) {
    size_t n = l->nfds ? l->nfds : 64;
    while (n <= (size_t)fd) n *= 2;
    fd_reg *f = realloc(l->fds, n * sizeof(*f));
    if (!f) return LH_EKUBE_NOMEM;
    memset(f + l->nfds, 0, (n - l->nfds) * sizeof(*f));
    l->fds = f;
    l->nfds = n;
  }
  struct epoll_event ee = {0};
  ee.events = (events & LH_READABLE ? EPOLLIN : 0) | (events & LH_WRITABLE ? EPOLLOUT : 0);
  ee.data.fd = fd;
  int op = l->fds[fd].events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (epoll_ctl(l->epfd, op, fd, &ee) != 0) {
    /* the fd may have been closed and reused behind our back: retry as the other op */
    op = op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(l->epfd, op, fd, &ee) != 0) return LH_EKUBE_INVAL;
  }
  l->fds[fd] = (fd_reg){cb, data, events};
  return 0;
}

void lh_loop_fd_del(lh_loop *l, int fd) {
  if (fd < 0 || (size_t)fd >= l->nfds || !l->fds[fd].events) return;
  epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL); /* fails harmlessly if fd was already closed */
  l->fds[fd] = (fd_reg){0};
}

/* --- timers: binary min-heap ------------------------------------------------------------ */

static int tless(const lh_timer *a, const lh_timer *b) {
  return a->deadline != b->deadline ? a->deadline < b->deadline : a->seq < b->seq;
}

static void hswap(lh_loop *l, size_t i, size_t j) {
  lh_timer *t = l->heap[i];
  l->heap[i] = l->heap[j];
  l->heap[j] = t;
  l->heap[i]->heap_idx = i;
  l->heap[j]->heap_idx = j;
}

static void sift_up(lh_loop *l, size_t i) {
  while (i > 0 && tless(l->heap[i], l->heap[(i - 1) / 2])) {
    hswap(l, i, (i - 1) / 2);
    i = (i - 1) / 2;
  }
}

static void sift_down(lh_loop *l, size_t i) {
  for (;;) {
    size_t m = i, a = 2 * i + 1, b = 2 * i + 2;
    if (a < l->nheap && tless(l->heap[a], l->heap[m])) m = a;
    if (b < l->nheap && tless(l->heap[b], l->heap[m])) m = b;
    if (m == i) return;
    hswap(l, i, m);
    i = m;
  }
}

void lh_timer_init(lh_loop *loop, lh_timer *t) {
  memset(t, 0, sizeof(*t));
  t->loop = loop;
  t->heap_idx = (size_t)-1;
}

int lh_timer_active(const lh_timer *t) { return t->heap_idx != (size_t)-1; }

void lh_timer_stop(lh_timer *t) {
  lh_loop *l = t->loop;
  size_t i = t->heap_idx;
  if (i == (size_t)-1) return;
  t->heap_idx = (size_t)-1;
  l->nheap--;
  if (i == l->nheap) return;
  l->heap[i] = l->heap[l->nheap];
  l->heap[i]->heap_idx = i;
  sift_down(l, i);
  sift_up(l, i);
}

int lh_timer_start(lh_timer *t, long delay_ms, lh_timer_cb *cb, void *data) {
  if (!cb || !t->loop) return LH_EKUBE_INVAL;
  lh_loop *l = t->loop;
  lh_timer_stop(t);
  if (l->nheap == l->aheap) {
    size_t n = l->aheap ? l->aheap * 2 : 16;
    lh_timer **h = realloc(l->heap, n * sizeof(*h));
    if (!h) return LH_EKUBE_NOMEM;
    l->heap = h;
    l->aheap = n;
  }
  t->deadline = l->now + (uint64_t)(delay_ms < 0 ? 0 : delay_ms);
  t->seq = l->seq++;
  t->cb = cb;
  t->data = data;
  t->heap_idx = l->nheap;
  l->heap[l->nheap++] = t;
  sift_up(l, t->heap_idx);
  return 0;
}

long lh_loop_next_timeout(const lh_loop *l) {
  if (!l->nheap) return -1;
  uint64_t d = l->heap[0]->deadline;
  return d <= l->now ? 0 : (long)(d - l->now);
}

/* Runs timers due at the cached "now" that were started before this phase began. */
static int run_timers(lh_loop *l) {
  uint64_t maxseq = l->seq;
  int n = 0;
  while (l->nheap) {
    lh_timer *t = l->heap[0];
    if (t->deadline > l->now || t->seq >= maxseq) break;
    lh_timer_stop(t);
    long next = t->cb(l, t, t->data);
    n++;
    /* the callback may have restarted or stopped t itself: respect that */
    if (next >= 0 && !lh_timer_active(t)) lh_timer_start(t, next, t->cb, t->data);
  }
  return n;
}

/* --- posts ------------------------------------------------------------------------------ */

int lh_loop_post(lh_loop *l, lh_post_cb *fn, void *data) { return lh_loop_post_drop(l, fn, NULL, data); }

int lh_loop_post_drop(lh_loop *l, lh_post_cb *fn, lh_post_drop_cb *drop, void *data) {
  post_item *p = malloc(sizeof(*p));
  if (!p) return LH_EKUBE_NOMEM;
  p->next = NULL;
  p->fn = fn;
  p->drop = drop;
  p->data = data;
  pthread_mutex_lock(&l->post_mu);
  if (l->posts_tail) l->posts_tail->next = p;
  else l->posts = p;
  l->posts_tail = p;
  pthread_mutex_unlock(&l->post_mu);
  uint64_t one = 1;
  ssize_t r = write(l->wakefd, &one, sizeof(one));
  (void)r; /* a full eventfd counter still wakes the loop */
  return 0;
}

static int run_posts(lh_loop *l) {
  pthread_mutex_lock(&l->post_mu);
  post_item *p = l->posts;
  l->posts = l->posts_tail = NULL;
  pthread_mutex_unlock(&l->post_mu);
  int n = 0;
  while (p) {
    post_item *next = p->next;
    p->fn(l, p->data);
    free(p);
    p = next;
    n++;
  }
  return n;
}

/* --- iteration -------------------------------------------------------------------------- */

int lh_loop_run_once(lh_loop *l, long max_wait_ms) {
  int n = 0;
  lh_loop_update_time(l);
  if (l->before_sleep) l->before_sleep(l, l->before_sleep_data);
  long wait = lh_loop_next_timeout(l);
  if (max_wait_ms >= 0 && (wait < 0 || wait > max_wait_ms)) wait = max_wait_ms;
  pthread_mutex_lock(&l->post_mu);
  if (l->posts) wait = 0;
  pthread_mutex_unlock(&l->post_mu);
  struct epoll_event evs[64];
  int ne = epoll_wait(l->epfd, evs, 64, wait > INT32_MAX ? INT32_MAX : (int)wait);
  if (ne < 0 && errno != EINTR) return LH_EKUBE_TRANSPORT;
  lh_loop_update_time(l);
  for (int i = 0; i < ne; i++) {
    int fd = evs[i].data.fd;
    if ((size_t)fd >= l->nfds || !l->fds[fd].events) continue; /* removed by an earlier cb */
    int ev = 0;
    if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) ev |= LH_READABLE;
    if (evs[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) ev |= LH_WRITABLE;
    ev &= l->fds[fd].events | ((evs[i].events & (EPOLLHUP | EPOLLERR)) ? 3 : 0);
    l->fds[fd].cb(l, fd, ev, l->fds[fd].data);
    n++;
  }
  n += run_posts(l);
  n += run_timers(l);
  return n;
}

int lh_loop_run(lh_loop *l) {
  l->stop = 0;
  while (!l->stop)
    if (lh_loop_run_once(l, -1) < 0) return LH_EKUBE_TRANSPORT;
  return 0;
}

void lh_loop_stop(lh_loop *l) { l->stop = 1; }
