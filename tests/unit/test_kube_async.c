/* test_kube_async.c — lh_kube_async against a tiny in-process HTTP/1.1 server on loopback:
 * streams (chunked watches) hold connections of their own, outside max_connections, so more
 * streams than max_connections never block the requests of the same async object. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "kube/async.h"
#include "kube/loop.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- the server: one thread per connection; GET /stream* answers a chunked stream that never
 * ends, anything else a small 200 with keep-alive ---------------------------------------------- */
typedef struct srv {
  int lfd;
  int port;
  pthread_t th;
} srv;

static void *conn_main(void *arg) {
  int fd = (int)(intptr_t)arg;
  char buf[8192];
  size_t have = 0;
  for (;;) {
    ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
    if (n <= 0) break;
    have += (size_t)n;
    buf[have] = 0;
    char *end;
    while ((end = strstr(buf, "\r\n\r\n"))) {
      size_t reqlen = (size_t)(end + 4 - buf);
      if (!strncmp(buf, "GET /stream", 11)) {
        static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n3\r\n{}\n\r\n";
        if (write(fd, head, sizeof head - 1) < 0) goto out;
        /* the stream stays open until the client closes it */
        while (read(fd, buf, sizeof buf) > 0) {
        }
        goto out;
      }
      static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
      if (write(fd, ok, sizeof ok - 1) < 0) goto out;
      memmove(buf, buf + reqlen, have - reqlen);
      have -= reqlen;
      buf[have] = 0;
    }
  }
out:
  close(fd);
  return NULL;
}

static void *accept_main(void *arg) {
  srv *s = arg;
  for (;;) {
    int fd = accept(s->lfd, NULL, NULL);
    if (fd < 0) break;
    pthread_t t;
    if (pthread_create(&t, NULL, conn_main, (void *)(intptr_t)fd) == 0) pthread_detach(t);
    else close(fd);
  }
  return NULL;
}

static void srv_start(srv *s) {
  s->lfd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(s->lfd >= 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(listen(s->lfd, 64), 0);
  socklen_t l = sizeof a;
  assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &l), 0);
  s->port = ntohs(a.sin_port);
  assert_int_equal(pthread_create(&s->th, NULL, accept_main, s), 0);
}

static void srv_stop(srv *s) {
  shutdown(s->lfd, SHUT_RDWR);
  close(s->lfd);
  pthread_join(s->th, NULL);
}

/* ---- the client -------------------------------------------------------------------------------- */
typedef struct counts {
  int data, ended, ok, failed;
} counts;

static int on_data(lh_kube_stream *st, const char *d, size_t len, void *ud) {
  (void)st;
  (void)d;
  (void)len;
  ((counts *)ud)->data++;
  return 0;
}

static void on_end(lh_kube_stream *st, int rc, lh_kube_response *resp, void *ud) {
  (void)st;
  (void)rc;
  (void)resp;
  ((counts *)ud)->ended++;
}

static void on_done(lh_kube_async *a, int rc, lh_kube_response *resp, void *ud) {
  (void)a;
  (void)resp;
  if (rc == 0) ((counts *)ud)->ok++;
  else ((counts *)ud)->failed++;
}

/* 2 request connections, 5 streams: the 3 requests still complete (before the fix the streams
 * took every connection slot and the requests waited until their timeout) */
static void test_streams_do_not_block_requests(void **state) {
  (void)state;
  srv sv;
  srv_start(&sv);
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d", sv.port);
  lh_kube_config cfg = {.server = url, .namespace = "default"};
  lh_loop *loop = lh_loop_new();
  assert_non_null(loop);
  lh_kube_async_opts o = {.max_connections = 2, .timeout_ms = 20000};
  lh_kube_async *a = NULL;
  assert_int_equal(lh_kube_async_new(loop, &cfg, &o, &a), 0);
  counts c = {0};
  lh_kube_stream *st[5];
  for (int i = 0; i < 5; i++) {
    char path[32];
    snprintf(path, sizeof path, "/stream%d", i);
    assert_int_equal(lh_kube_async_stream(a, path, on_data, on_end, &c, &st[i]), 0);
  }
  /* let every stream connect and deliver its first chunk */
  for (int i = 0; i < 500 && c.data < 5; i++) lh_loop_run_once(loop, 10);
  assert_int_equal(c.data, 5);
  for (int i = 0; i < 3; i++)
    assert_int_equal(lh_kube_async_request(a, "GET", "/api/v1/namespaces", NULL, NULL, 0, on_done, &c), 0);
  /* bounded: 5 s for three loopback requests */
  for (int i = 0; i < 500 && c.ok + c.failed < 3; i++) lh_loop_run_once(loop, 10);
  assert_int_equal(c.ok, 3);
  assert_int_equal(c.failed, 0);
  /* a cancelled stream gives its slot back; requests still work afterwards */
  lh_kube_stream_cancel(st[0]);
  assert_int_equal(lh_kube_async_request(a, "GET", "/api/v1/pods", NULL, NULL, 0, on_done, &c), 0);
  for (int i = 0; i < 500 && c.ok + c.failed < 4; i++) lh_loop_run_once(loop, 10);
  assert_int_equal(c.ok, 4);
  assert_int_equal(c.ended, 0);
  lh_kube_async_free(a);
  lh_loop_free(loop);
  srv_stop(&sv);
}

/* Posts a loop never ran (another thread posted after the last iteration) are released by
 * lh_loop_free through their drop callback; ones that ran are not dropped. */
static int ran, dropped;
static void post_ran(lh_loop *l, void *d) {
  (void)l;
  ran++;
  free(d);
}
static void post_dropped(void *d) {
  dropped++;
  free(d);
}
static void test_loop_free_drops_pending_posts(void **state) {
  (void)state;
  lh_loop *l = lh_loop_new();
  assert_non_null(l);
  assert_int_equal(lh_loop_post_drop(l, post_ran, post_dropped, malloc(16)), 0);
  assert_true(lh_loop_run_once(l, 0) >= 1);
  assert_int_equal(ran, 1);
  assert_int_equal(lh_loop_post_drop(l, post_ran, post_dropped, malloc(16)), 0);
  assert_int_equal(lh_loop_post_drop(l, post_ran, post_dropped, malloc(16)), 0);
  lh_loop_free(l); /* ASan's leak check fails the test if the two buffers are not freed */
  assert_int_equal(ran, 1);
  assert_int_equal(dropped, 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_loop_free_drops_pending_posts),
      cmocka_unit_test(test_streams_do_not_block_requests),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
