/* http.c — a small HTTP/1.0-style server on the controller's loop for /healthz, /readyz and
 * /metrics. Bounded: at most MAX_CONN connections, requests up to 8 KiB of headers, a 5 s
 * deadline per connection, one request per connection (Connection: close). GET/HEAD only.
 * libwebsockets' server would need its own service thread (no external poll in Debian's build,
 * see kube/loop.h), so this stays on the loop where the metrics live. */
#include "core/args.h"
#include "core/ctl_int.h"

#include "util/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define C "http"
#define MAX_CONN 64
#define MAX_REQ 8192
#define CONN_TIMEOUT_MS 5000

typedef struct conn {
  int fd;
  uint64_t deadline;
  char req[MAX_REQ + 1];
  size_t rlen;
  char *out;
  size_t olen, off;
} conn;

struct lh_http {
  lh_ctl *ctl;
  int lfd;
  conn *c[MAX_CONN];
  lh_timer sweep;
};

static void conn_close(lh_http *h, int i) {
  conn *c = h->c[i];
  if (!c) return;
  lh_loop_fd_del(h->ctl->loop, c->fd);
  close(c->fd);
  free(c->out);
  free(c);
  h->c[i] = NULL;
}

static int find(lh_http *h, int fd) {
  for (int i = 0; i < MAX_CONN; i++)
    if (h->c[i] && h->c[i]->fd == fd) return i;
  return -1;
}

static void conn_io(lh_loop *loop, int fd, int events, void *data);

static void respond(lh_http *h, int i, int code, const char *ctype, const char *body, size_t blen, int head) {
  conn *c = h->c[i];
  const char *st = code == 200 ? "OK" : code == 404 ? "Not Found" : code == 405 ? "Method Not Allowed"
                 : code == 503 ? "Service Unavailable" : code == 431 ? "Request Header Fields Too Large" : "Bad Request";
  lh_buf b;
  lh_buf_init(&b, 64u << 20);
  int rc = lh_buf_addf(&b, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                       code, st, ctype, blen);
  if (!rc && !head) rc = lh_buf_add(&b, body, blen);
  if (rc) {
    lh_buf_free(&b);
    conn_close(h, i);
    return;
  }
  c->olen = b.len;
  c->out = lh_buf_take(&b);
  c->off = 0;
  lh_loop_fd_set(h->ctl->loop, c->fd, LH_WRITABLE, conn_io, h);
}

static void handle(lh_http *h, int i) {
  conn *c = h->c[i];
  lh_ctl *ctl = h->ctl;
  char method[8] = "", path[256] = "";
  if (sscanf(c->req, "%7s %255s", method, path) != 2) return respond(h, i, 400, "text/plain", "bad request\n", 12, 0);
  int head = !strcmp(method, "HEAD");
  if (strcmp(method, "GET") && !head) return respond(h, i, 405, "text/plain", "method not allowed\n", 19, 0);
  char *q = strchr(path, '?');
  if (q) *q = 0;
  if (!strcmp(path, "/healthz") || !strcmp(path, "/livez")) return respond(h, i, 200, "text/plain", "ok\n", 3, head);
  if (!strcmp(path, "/readyz")) {
    /* ready once synced, on every replica: a standby is ready to take over */
    if (lh_ctl_synced(ctl)) return respond(h, i, 200, "text/plain", "ok\n", 3, head);
    return respond(h, i, 503, "text/plain", "informers not synced\n", 21, head);
  }
  if (!strcmp(path, "/metrics")) {
    lh_buf b;
    lh_buf_init(&b, 32u << 20);
    lh_ctl_update_cache_metrics(ctl);
    if (lh_metrics_render(&ctl->met, &b)) {
      lh_buf_free(&b);
      return respond(h, i, 503, "text/plain", "metrics too large\n", 18, head);
    }
    respond(h, i, 200, "text/plain; version=0.0.4", lh_buf_str(&b), b.len, head);
    lh_buf_free(&b);
    return;
  }
  respond(h, i, 404, "text/plain", "not found\n", 10, head);
}

static void conn_io(lh_loop *loop, int fd, int events, void *data) {
  (void)loop;
  lh_http *h = data;
  int i = find(h, fd);
  if (i < 0) return;
  conn *c = h->c[i];
  if (c->out) {
    while (c->off < c->olen) {
      ssize_t n = send(fd, c->out + c->off, c->olen - c->off, MSG_NOSIGNAL);
      if (n > 0) c->off += (size_t)n;
      else if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
      else break;
    }
    conn_close(h, i);
    return;
  }
  if (!(events & LH_READABLE)) return;
  for (;;) {
    if (c->rlen >= MAX_REQ) return respond(h, i, 431, "text/plain", "request too large\n", 18, 0);
    ssize_t n = recv(fd, c->req + c->rlen, MAX_REQ - c->rlen, 0);
    if (n > 0) {
      c->rlen += (size_t)n;
      c->req[c->rlen] = 0;
      if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n")) return handle(h, i);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    conn_close(h, i); /* EOF or error before a full request */
    return;
  }
}

static void on_accept(lh_loop *loop, int fd, int events, void *data) {
  (void)events;
  lh_http *h = data;
  for (;;) {
    int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (cfd < 0) return;
    int slot = -1;
    for (int i = 0; i < MAX_CONN && slot < 0; i++)
      if (!h->c[i]) slot = i;
    conn *c = slot >= 0 ? calloc(1, sizeof(*c)) : NULL;
    if (!c) { /* full: refuse rather than queue without bound */
      close(cfd);
      continue;
    }
    c->fd = cfd;
    c->deadline = lh_loop_now(loop) + CONN_TIMEOUT_MS;
    h->c[slot] = c;
    if (lh_loop_fd_set(loop, cfd, LH_READABLE, conn_io, h)) conn_close(h, slot);
  }
}

static long sweep_cb(lh_loop *loop, lh_timer *t, void *data) {
  (void)t;
  lh_http *h = data;
  uint64_t now = lh_loop_now(loop);
  for (int i = 0; i < MAX_CONN; i++)
    if (h->c[i] && now > h->c[i]->deadline) conn_close(h, i);
  return 1000;
}

int lh_http_start(lh_ctl *ctl, const char *listen_addr, char *err, size_t errlen) {
  char host[256];
  int port;
  if (lh_ctl_parse_listen(listen_addr, host, sizeof(host), &port)) {
    snprintf(err, errlen, "--metrics-listen: bad address %s", listen_addr);
    return LH_EKUBE_INVAL;
  }
  struct addrinfo hints, *ai = NULL;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  char ps[8];
  snprintf(ps, sizeof(ps), "%d", port);
  if (getaddrinfo(host[0] ? host : NULL, ps, &hints, &ai) || !ai) {
    snprintf(err, errlen, "--metrics-listen: cannot resolve %s", listen_addr);
    return LH_EKUBE_INVAL;
  }
  int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 64)) {
    snprintf(err, errlen, "--metrics-listen %s: %s", listen_addr, strerror(errno));
    if (fd >= 0) close(fd);
    freeaddrinfo(ai);
    return LH_EKUBE_INVAL;
  }
  freeaddrinfo(ai);
  lh_http *h = calloc(1, sizeof(*h));
  if (!h) {
    close(fd);
    return LH_EKUBE_NOMEM;
  }
  h->ctl = ctl;
  h->lfd = fd;
  ctl->http = h;
  lh_loop_fd_set(ctl->loop, fd, LH_READABLE, on_accept, h);
  lh_timer_init(ctl->loop, &h->sweep);
  lh_timer_start(&h->sweep, 1000, sweep_cb, h);
  LH_INFO(C, "serving /healthz /readyz /metrics on %s", listen_addr);
  return 0;
}

void lh_http_free(lh_ctl *ctl) {
  lh_http *h = ctl->http;
  if (!h) return;
  for (int i = 0; i < MAX_CONN; i++) conn_close(h, i);
  lh_timer_stop(&h->sweep);
  lh_loop_fd_del(ctl->loop, h->lfd);
  close(h->lfd);
  free(h);
  ctl->http = NULL;
}
