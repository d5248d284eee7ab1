/* async.c — curl multi driven by lh_loop: queued requests, N in flight, streaming GETs. */
#include "kube/async.h"
#include "kube/kube_int.h"
#include "util/log.h"

#include <stdlib.h>
#include <string.h>

typedef struct req {
  struct req *next;           /* FIFO of queued requests */
  struct req *aprev, *anext;  /* list of requests inside curl */
  lh_kube_async *a;
  CURL *easy;                 /* NULL while queued */
  struct curl_slist *hdrs;
  char *url;
  char *method;
  char *body;                 /* copy of the request body or NULL */
  size_t body_len;
  char *ctype;
  lh_buf resp;                /* response body (capped) */
  lh_kube_async_cb *cb;       /* for requests */
  void *cbdata;               /* its user data */
  lh_kube_stream *stream;     /* for streams, NULL for requests */
  char errbuf[CURL_ERROR_SIZE];
} req;

struct lh_kube_stream {
  req *r;
  lh_kube_stream_data_cb *data_cb;
  lh_kube_stream_end_cb *end_cb;
  void *ud;
  int in_write;  /* inside data_cb: cancel must be deferred */
  int canceled;  /* cancel was called */
};

struct lh_kube_async {
  lh_loop *loop;
  lh_kube_config *cfg;
  lh_kube_async_opts o;
  CURLM *multi;
  lh_timer timer;     /* curl's timeout */
  req *qhead, *qtail; /* waiting to be handed to curl */
  req *active;        /* inside curl (requests and streams) */
  size_t queued;      /* length of the FIFO */
  size_t in_flight;   /* requests (not streams) inside curl */
  size_t streams;     /* streams inside curl: each holds a connection of its own */
  int freeing;        /* lh_kube_async_free in progress */
};

static void check_done(lh_kube_async *a);

static void req_free(req *r) {
  if (!r) return;
  if (r->easy) curl_easy_cleanup(r->easy);
  curl_slist_free_all(r->hdrs);
  free(r->url);
  free(r->method);
  free(r->body);
  free(r->ctype);
  lh_buf_free(&r->resp);
  free(r);
}

static void link_active(lh_kube_async *a, req *r) {
  r->aprev = NULL;
  r->anext = a->active;
  if (a->active) a->active->aprev = r;
  a->active = r;
}

static void unlink_active(lh_kube_async *a, req *r) {
  if (r->aprev) r->aprev->anext = r->anext;
  else if (a->active == r) a->active = r->anext;
  if (r->anext) r->anext->aprev = r->aprev;
  r->aprev = r->anext = NULL;
}

/* A stream holds its connection for as long as it runs, so it must not count against the
 * request pool: curl's per-host connection limit is max_connections plus the live streams
 * (without this, max_connections streams would leave no connection for any request). */
static void set_conn_limit(lh_kube_async *a) {
  curl_multi_setopt(a->multi, CURLMOPT_MAX_HOST_CONNECTIONS, a->o.max_connections + (long)a->streams);
  curl_multi_setopt(a->multi, CURLMOPT_MAXCONNECTS, a->o.max_connections + (long)a->streams + 8);
}

static void stream_gone(lh_kube_async *a) {
  if (a->streams) a->streams--;
  set_conn_limit(a);
}

/* --- loop glue -------------------------------------------------------------------------- */

static void on_fd(lh_loop *loop, int fd, int events, void *data) {
  lh_kube_async *a = data;
  int flags = (events & LH_READABLE ? CURL_CSELECT_IN : 0) | (events & LH_WRITABLE ? CURL_CSELECT_OUT : 0);
  int running;
  curl_multi_socket_action(a->multi, fd, flags, &running);
  check_done(a);
}

static int sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp) {
  lh_kube_async *a = userp;
  if (what == CURL_POLL_REMOVE) {
    lh_loop_fd_del(a->loop, s);
    return 0;
  }
  int ev = (what & CURL_POLL_IN ? LH_READABLE : 0) | (what & CURL_POLL_OUT ? LH_WRITABLE : 0);
  lh_loop_fd_set(a->loop, s, ev, on_fd, a);
  return 0;
}

static long on_timer(lh_loop *loop, lh_timer *t, void *data) {
  lh_kube_async *a = data;
  int running;
  curl_multi_socket_action(a->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  check_done(a);
  return LH_TIMER_STOP;
}

static int timer_cb(CURLM *m, long timeout_ms, void *userp) {
  lh_kube_async *a = userp;
  if (timeout_ms < 0) lh_timer_stop(&a->timer);
  else lh_timer_start(&a->timer, timeout_ms, on_timer, a);
  return 0;
}

/* --- request plumbing ------------------------------------------------------------------- */

static size_t on_write(char *p, size_t sz, size_t n, void *ud) {
  req *r = ud;
  size_t len = sz * n;
  if (r->stream) {
    long code = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 200 && code < 300) {
      lh_kube_stream *s = r->stream;
      if (s->canceled) return 0;
      s->in_write = 1;
      int stop = s->data_cb(s, p, len, s->ud);
      s->in_write = 0;
      return stop || s->canceled ? 0 : len;
    }
  }
  return lh_buf_add(&r->resp, p, len) == 0 ? len : 0;
}

/* Creates the easy handle of r and adds it to the multi. Returns 0 or an error. */
static int start_req(lh_kube_async *a, req *r) {
  CURL *e = curl_easy_init();
  if (!e) return LH_EKUBE_NOMEM;
  r->easy = e;
  int rc = lh_kube__easy_tls(e, a->cfg, a->o.connect_timeout_ms);
  if (rc) return rc;
  curl_easy_setopt(e, CURLOPT_URL, r->url);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "lahar/0.1");
  curl_easy_setopt(e, CURLOPT_PRIVATE, r);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
  curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
  if (a->o.http2) {
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L); /* prefer multiplexing over a new connection */
  }
  if (r->stream) {
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 0L);
    /* a silent watch for 5 minutes means a dead peer (bookmarks/timeoutSeconds come sooner) */
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 300L);
  } else {
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, a->o.timeout_ms);
  }
  if (r->body) {
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
  } else if (strcmp(r->method, "GET") == 0) {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  }
  if (curl_multi_add_handle(a->multi, e) != CURLM_OK) return LH_EKUBE_NOMEM;
  link_active(a, r);
  return 0;
}

/* Hands queued requests to curl while below max_in_flight. A request that cannot start is
 * completed with its error. */
static void pump(lh_kube_async *a) {
  while (a->qhead && a->in_flight < (size_t)a->o.max_in_flight) {
    req *r = a->qhead;
    a->qhead = r->next;
    if (!a->qhead) a->qtail = NULL;
    a->queued--;
    int rc = start_req(a, r);
    if (rc) {
      lh_kube_response resp = {0};
      r->cb(a, rc, &resp, r->cbdata);
      req_free(r);
      continue;
    }
    a->in_flight++;
  }
}

static void complete(lh_kube_async *a, req *r, CURLcode cc) {
  lh_kube_response resp;
  memset(&resp, 0, sizeof(resp));
  curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &resp.http_code);
  curl_multi_remove_handle(a->multi, r->easy);
  unlink_active(a, r);
  resp.len = r->resp.len;
  resp.body = lh_buf_take(&r->resp);
  int rc;
  if (r->stream && r->stream->canceled) rc = LH_EKUBE_CLOSED;
  else if (cc == CURLE_WRITE_ERROR && r->stream) rc = LH_EKUBE_CLOSED;
  else if (cc == CURLE_WRITE_ERROR) rc = LH_EKUBE_TOOBIG;
  else if (cc != CURLE_OK) rc = LH_EKUBE_TRANSPORT;
  else rc = lh_kube__finish(&resp);
  if (cc != CURLE_OK && cc != CURLE_WRITE_ERROR)
    snprintf(resp.error, sizeof(resp.error), "%s", r->errbuf[0] ? r->errbuf : curl_easy_strerror(cc));
  if (r->stream) {
    lh_kube_stream *s = r->stream;
    stream_gone(a);
    if (!s->canceled) s->end_cb(s, rc, &resp, s->ud);
    free(s);
  } else {
    a->in_flight--;
    r->cb(a, rc, &resp, r->cbdata);
  }
  lh_kube_response_free(&resp);
  req_free(r);
}

static void check_done(lh_kube_async *a) {
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(a->multi, &left))) {
    if (m->msg != CURLMSG_DONE) continue;
    req *r = NULL;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
    complete(a, r, m->data.result);
  }
  pump(a);
}

/* --- public ----------------------------------------------------------------------------- */

int lh_kube_async_new(lh_loop *loop, const lh_kube_config *cfg, const lh_kube_async_opts *o,
                      lh_kube_async **out) {
  *out = NULL;
  if (!loop || !cfg || !cfg->server) return LH_EKUBE_CONFIG;
  lh_kube__global_init();
  lh_kube_async *a = calloc(1, sizeof(*a));
  if (!a) return LH_EKUBE_NOMEM;
  if (o) a->o = *o;
  if (a->o.max_connections <= 0) a->o.max_connections = 8;
  if (a->o.max_in_flight <= 0) a->o.max_in_flight = 4 * a->o.max_connections;
  if (a->o.connect_timeout_ms <= 0) a->o.connect_timeout_ms = 5000;
  if (a->o.timeout_ms <= 0) a->o.timeout_ms = 30000;
  if (!a->o.max_response) a->o.max_response = 64u << 20;
  a->loop = loop;
  a->cfg = lh_kube_config_dup(cfg);
  a->multi = curl_multi_init();
  if (!a->cfg || !a->multi) {
    lh_kube_config_free(a->cfg);
    if (a->multi) curl_multi_cleanup(a->multi);
    free(a);
    return LH_EKUBE_NOMEM;
  }
  lh_timer_init(loop, &a->timer);
  curl_multi_setopt(a->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
  curl_multi_setopt(a->multi, CURLMOPT_SOCKETDATA, a);
  curl_multi_setopt(a->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
  curl_multi_setopt(a->multi, CURLMOPT_TIMERDATA, a);
  set_conn_limit(a);
  curl_multi_setopt(a->multi, CURLMOPT_PIPELINING, a->o.http2 ? (long)CURLPIPE_MULTIPLEX : 0L);
  *out = a;
  return 0;
}

void lh_kube_async_free(lh_kube_async *a) {
  if (!a) return;
  a->freeing = 1;
  /* requests still queued */
  while (a->qhead) {
    req *r = a->qhead;
    a->qhead = r->next;
    lh_kube_response resp = {0};
    r->cb(a, LH_EKUBE_CLOSED, &resp, r->cbdata);
    req_free(r);
  }
  a->qtail = NULL;
  /* requests and streams inside curl: walk the multi's handles */
  while (a->active) {
    req *r = a->active;
    unlink_active(a, r);
    curl_multi_remove_handle(a->multi, r->easy);
    if (r->stream) {
      free(r->stream);
    } else {
      lh_kube_response resp = {0};
      r->cb(a, LH_EKUBE_CLOSED, &resp, r->cbdata);
    }
    req_free(r);
  }
  lh_timer_stop(&a->timer);
  curl_multi_cleanup(a->multi);
  lh_kube_config_free(a->cfg);
  free(a);
}

lh_loop *lh_kube_async_loop(const lh_kube_async *a) { return a->loop; }
const lh_kube_config *lh_kube_async_config(const lh_kube_async *a) { return a->cfg; }

static req *req_new(lh_kube_async *a, const char *method, const char *path, const char *ctype,
                    const char *body, size_t body_len) {
  if (!method || !path || path[0] != '/') return NULL;
  req *r = calloc(1, sizeof(*r));
  if (!r) return NULL;
  r->a = a;
  lh_buf_init(&r->resp, a->o.max_response);
  size_t ul = strlen(a->cfg->server) + strlen(path) + 1;
  r->url = malloc(ul);
  r->method = strdup(method);
  if (ctype && body) r->ctype = strdup(ctype);
  if (body) {
    r->body = malloc(body_len + 1);
    if (r->body) {
      memcpy(r->body, body, body_len);
      r->body[body_len] = '\0';
    }
    r->body_len = body_len;
  }
  r->hdrs = lh_kube__headers(a->cfg, r->ctype, NULL);
  if (!r->url || !r->method || (body && (!r->body || (ctype && !r->ctype))) || !r->hdrs) {
    req_free(r);
    return NULL;
  }
  snprintf(r->url, ul, "%s%s", a->cfg->server, path);
  return r;
}

int lh_kube_async_request(lh_kube_async *a, const char *method, const char *path,
                          const char *content_type, const char *body, size_t body_len,
                          lh_kube_async_cb *cb, void *data) {
  if (!cb || a->freeing) return LH_EKUBE_INVAL;
  req *r = req_new(a, method, path, content_type, body, body_len);
  if (!r) return path && path[0] == '/' ? LH_EKUBE_NOMEM : LH_EKUBE_INVAL;
  r->cb = cb;
  r->cbdata = data;
  if (a->qtail) a->qtail->next = r;
  else a->qhead = r;
  a->qtail = r;
  a->queued++;
  /* started from a 0 ms timer, never from inside this call, so cb cannot re-enter the caller */
  lh_timer_start(&a->timer, 0, on_timer, a);
  return 0;
}

int lh_kube_async_bind(lh_kube_async *a, const char *ns, const char *pod, const char *node,
                       const char *pod_uid, lh_kube_async_cb *cb, void *data) {
  char *body = lh_kube_binding_body(pod, node, pod_uid);
  if (!body) return pod && node ? LH_EKUBE_NOMEM : LH_EKUBE_INVAL;
  lh_buf p;
  lh_buf_init(&p, 4096);
  int rc = lh_kube_path(&p, &LH_KUBE_PODS, ns, pod, "binding");
  if (!rc)
    rc = lh_kube_async_request(a, "POST", lh_buf_str(&p), "application/json", body, strlen(body),
                               cb, data);
  lh_buf_free(&p);
  free(body);
  return rc;
}

size_t lh_kube_async_pending(const lh_kube_async *a) { return a->queued + a->in_flight; }

int lh_kube_async_wait(lh_kube_async *a, long timeout_ms) {
  lh_loop_update_time(a->loop);
  uint64_t end = lh_loop_now(a->loop) + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
  while (lh_kube_async_pending(a) > 0) {
    long wait = 100;
    if (timeout_ms >= 0) {
      uint64_t now = lh_loop_now(a->loop);
      if (now >= end) return LH_EKUBE_TRANSPORT;
      if ((long)(end - now) < wait) wait = (long)(end - now);
    }
    if (lh_loop_run_once(a->loop, wait) < 0) return LH_EKUBE_TRANSPORT;
  }
  return 0;
}

int lh_kube_async_stream(lh_kube_async *a, const char *path, lh_kube_stream_data_cb *data_cb,
                         lh_kube_stream_end_cb *end_cb, void *ud, lh_kube_stream **out) {
  *out = NULL;
  if (!data_cb || !end_cb || a->freeing) return LH_EKUBE_INVAL;
  req *r = req_new(a, "GET", path, NULL, NULL, 0);
  lh_kube_stream *s = calloc(1, sizeof(*s));
  if (!r || !s) {
    req_free(r);
    free(s);
    return LH_EKUBE_NOMEM;
  }
  /* a non-2xx answer of a watch is a small Status: cap it well below max_response */
  r->resp.cap = 1u << 20;
  s->r = r;
  s->data_cb = data_cb;
  s->end_cb = end_cb;
  s->ud = ud;
  r->stream = s;
  a->streams++;
  set_conn_limit(a); /* before curl sees the handle: it must find a free connection slot */
  int rc = start_req(a, r);
  if (rc) {
    stream_gone(a);
    r->stream = NULL;
    free(s);
    req_free(r); /* start_req fails before curl_multi_add_handle succeeds */
    return rc;
  }
  *out = s;
  return 0;
}

void lh_kube_stream_cancel(lh_kube_stream *s) {
  if (!s || s->canceled) return;
  s->canceled = 1;
  if (s->in_write) return; /* on_write returns 0, curl aborts, complete() frees silently */
  req *r = s->r;
  curl_multi_remove_handle(r->a->multi, r->easy);
  unlink_active(r->a, r);
  stream_gone(r->a);
  free(s);
  req_free(r);
}
