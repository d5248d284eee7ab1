/* server.c — libwebsockets glue: HTTP/1.1 requests → lc_api_handle(), writes of one loop pass
 * group-committed (answered after the commit), responses written from the writable callback
 * (headers + body in one write), watches streamed as chunked HTTP or WebSocket text frames in
 * batches, timers for watch bookmarks/timeouts, dead-watch-client checks, WAL checkpoints and the
 * background controllers (see server.h). */
#include "localcluster/server.h"

#include <libwebsockets.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <poll.h>
#include <time.h>

#include "localcluster/gc.h"
#include "localcluster/logs.h"
#include "localcluster/objmeta.h"
#include "localcluster/status.h"
#include "localcluster/watch.h"
#include "util/buf.h"
#include "util/log.h"

#define COMP "localcluster"
#define PIECE 65536            /* body bytes per lws_write once a response is too big for one */
#define ONE_WRITE_MAX 262144   /* headers + body up to this go out in one lws_write */
#define WATCH_BATCH 262144     /* queued watch events written per writable callback */
#define WS_FRAME_HDR 10        /* largest server→client WebSocket frame header (no mask) */
/* lws_issue_raw() sends at most tx_packet_size (default: 4 KiB) per send() and parks the rest,
 * draining one such piece per writable event: a 64 KiB batch cost 16 poll passes over every
 * socket. Let it hand the whole buffer to the kernel instead. */
#define TX_PACKET 1048576

typedef struct pss pss;
struct pss {
  lc_request rq;
  char method[8];
  char path[2048];
  char content_type[160];
  char accept[512];
  lh_buf body;
  int body_inited;
  int too_large;
  int bad_query;
  struct lws *wsi;
  /* response: built by dispatch(), written from the writable callback */
  char *resp;
  size_t resp_len, resp_off;
  size_t resp_skip; /* the body starts at resp + resp_skip (lc_response.skip) */
  int resp_code;
  const char *resp_ctype;
  int resp_ready;       /* a response waits for its writable callback */
  int hdrs_sent;        /* its headers (and, when small, the whole body) went out */
  int closing;          /* close the connection after this response */
  /* group commit: waiting for the shared transaction's commit before answering */
  pss *gnext;
  int in_group;
  /* watch */
  lc_watcher *w;
  int is_ws;
  int ws_ready;
  int ws_handled;       /* ws: non-watch answer queued as one frame */
  /* chunked-HTTP watch: linked for the peer-close check of the 1 s tick */
  pss *hw_next, *hw_prev;
  int hw_linked;
  int peer_gone;        /* the client closed its end: drop the connection */
};

typedef struct srv_priv {
  struct lws_context *ctx;
  lws_sorted_usec_list_t tick_sul;
  lws_sorted_usec_list_t gc_sul;
  int gc_scheduled;
  int sub_id;
  int port;
  lc_server *s;
  /* one write buffer for the whole loop: lws_write() either sends everything or copies the rest
   * into the connection's own buffer, so the buffer is free again when it returns */
  unsigned char *wbuf;
  size_t wcap;
  /* group commit (see dispatch) */
  int group_open;
  pss *group;
  /* chunked-HTTP watch connections */
  pss *hwatch;
} srv_priv;

static srv_priv g_priv; /* one server per process: lws callbacks reach it through the context user */
/* What a watch request asks for: filled by lc_api_handle and copied by lc_watcher_start right
 * away, so one (9 KiB) for the loop instead of one per connection state, which lws allocates and
 * zeroes for every keep-alive request. */
static lc_watch_spec g_spec;

static lc_server *srv_of(struct lws *wsi) {
  return (lc_server *)lws_context_user(lws_get_context(wsi));
}

/* The shared write buffer with LWS_PRE headroom and room for need bytes, or NULL (ENOMEM). */
static unsigned char *wbuf(size_t need) {
  need += LWS_PRE + 64;
  if (g_priv.wcap < need) {
    size_t nc = need < PIECE + LWS_PRE + 64 ? PIECE + LWS_PRE + 64 : need;
    unsigned char *n = realloc(g_priv.wbuf, nc);
    if (!n) return NULL;
    g_priv.wbuf = n;
    g_priv.wcap = nc;
  }
  return g_priv.wbuf + LWS_PRE;
}

static void group_unlink(pss *p) {
  for (pss **pp = &g_priv.group; *pp; pp = &(*pp)->gnext)
    if (*pp == p) {
      *pp = p->gnext;
      break;
    }
  p->gnext = NULL;
  p->in_group = 0;
}

static void hw_link(pss *p) {
  p->hw_prev = NULL;
  p->hw_next = g_priv.hwatch;
  if (g_priv.hwatch) g_priv.hwatch->hw_prev = p;
  g_priv.hwatch = p;
  p->hw_linked = 1;
}

static void hw_unlink(pss *p) {
  if (p->hw_prev) p->hw_prev->hw_next = p->hw_next;
  else if (g_priv.hwatch == p) g_priv.hwatch = p->hw_next;
  if (p->hw_next) p->hw_next->hw_prev = p->hw_prev;
  p->hw_next = p->hw_prev = NULL;
  p->hw_linked = 0;
}

/* Frees what the connection's current request holds. lws frees and re-zeroes the pss itself
 * after every keep-alive transaction (it rebinds the protocol), so nothing here outlives one
 * request: buffers that should (the write buffer) live in g_priv. */
static void pss_reset(lc_server *s, pss *p) {
  if (p->in_group) group_unlink(p);
  if (p->hw_linked) hw_unlink(p);
  if (p->w) lc_watcher_stop(s, p->w);
  p->w = NULL;
  if (p->body_inited) lh_buf_free(&p->body);
  free(p->resp);
  memset(p, 0, sizeof *p);
}

static void wake_conn(void *conn) { lws_callback_on_writable((struct lws *)conn); }

/* ---- request parsing ------------------------------------------------------------------------- */

static int read_method_path(struct lws *wsi, pss *p) {
  static const struct {
    enum lws_token_indexes tok;
    const char *name;
  } ms[] = {{WSI_TOKEN_GET_URI, "GET"},       {WSI_TOKEN_POST_URI, "POST"},
            {WSI_TOKEN_PUT_URI, "PUT"},       {WSI_TOKEN_PATCH_URI, "PATCH"},
            {WSI_TOKEN_DELETE_URI, "DELETE"}, {WSI_TOKEN_OPTIONS_URI, "OPTIONS"},
            {WSI_TOKEN_HEAD_URI, "HEAD"}};
  for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
    int n = lws_hdr_total_length(wsi, ms[i].tok);
    if (n > 0) {
      if (n >= (int)sizeof p->path) return -1;
      lws_hdr_copy(wsi, p->path, sizeof p->path, ms[i].tok);
      snprintf(p->method, sizeof p->method, "%s", ms[i].name);
      return 0;
    }
  }
  return -1;
}

static void copy_hdr(struct lws *wsi, enum lws_token_indexes tok, char *dst, size_t sz) {
  dst[0] = 0;
  int n = lws_hdr_total_length(wsi, tok);
  if (n <= 0) return;
  if (n >= (int)sz) {
    /* keep a prefix: enough to recognise content types and protobuf/table accepts */
    char *tmp = malloc((size_t)n + 1);
    if (!tmp) return;
    lws_hdr_copy(wsi, tmp, n + 1, tok);
    snprintf(dst, sz, "%s", tmp);
    free(tmp);
    return;
  }
  lws_hdr_copy(wsi, dst, (int)sz, tok);
}

static void read_request(struct lws *wsi, pss *p) {
  lc_query_init(&p->rq.q);
  char frag[8192];
  for (int i = 0;; i++) {
    int n = lws_hdr_copy_fragment(wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i);
    if (n < 0) break;
    char *eq = strchr(frag, '=');
    const char *val = "";
    if (eq) {
      *eq = 0;
      val = eq + 1;
    }
    if (lc_query_set(&p->rq.q, frag, val)) p->bad_query = 1;
  }
  copy_hdr(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, p->content_type, sizeof p->content_type);
  copy_hdr(wsi, WSI_TOKEN_HTTP_ACCEPT, p->accept, sizeof p->accept);
  lc_route_parse(p->path, &p->rq.route);
  p->rq.method = p->method;
  p->rq.content_type = p->content_type;
  p->rq.accept = p->accept;
}

/* ---- responses ------------------------------------------------------------------------------- */

/* Appends the response head to *p (lws_finalize_http_header: not written yet). 0 or -1. */
static int build_headers(struct lws *wsi, int code, const char *ctype, size_t len, int chunked, unsigned char **p,
                         unsigned char *end) {
  if (chunked) {
    if (lws_add_http_header_status(wsi, (unsigned)code, p, end) ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, (const unsigned char *)ctype,
                                     (int)strlen(ctype), p, end) ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING, (const unsigned char *)"chunked", 7,
                                     p, end))
      return -1;
  } else if (lws_add_http_common_headers(wsi, (unsigned)code, ctype, (lws_filepos_t)len, p, end)) {
    return -1;
  }
  if (lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                  (const unsigned char *)"no-cache, private", 17, p, end))
    return -1;
  return lws_finalize_http_header(wsi, p, end) ? -1 : 0;
}

#define HDR_ROOM 1024

/* Takes r (its body) as the connection's response; the caller asks for the writable callback
 * (now, or after the group commit). */
static void set_response(struct lws *wsi, pss *p, lc_response *r) {
  free(p->resp);
  p->wsi = wsi;
  p->resp = r->body;
  p->resp_len = r->len;
  p->resp_skip = r->skip;
  p->resp_off = 0;
  p->resp_code = r->code;
  p->resp_ctype = r->content_type ? r->content_type : "application/json";
  if (!strcmp(p->method, "HEAD")) p->resp_len = 0;
  p->resp_ready = 1;
  p->hdrs_sent = 0;
}

static void start_response(struct lws *wsi, pss *p, lc_response *r) {
  set_response(wsi, p, r);
  lws_callback_on_writable(wsi);
}

static void status_response(lc_response *r, json_t *st) {
  memset(r, 0, sizeof *r);
  r->code = (int)json_integer_value(json_object_get(st, "code"));
  r->body = lc_status_dump(st);
  r->len = r->body ? strlen(r->body) : 0;
  r->content_type = "application/json";
  json_decref(st);
}

static void respond_status(struct lws *wsi, pss *p, json_t *st) {
  lc_response r;
  status_response(&r, st);
  start_response(wsi, p, &r);
}

/* ---- group commit ----------------------------------------------------------------------------
 * Writes that arrive in one pass of the event loop share one store transaction (one SQLite
 * commit, one WAL append): the first one opens it, each is answered only after the commit
 * (an acknowledged write is durable), and the commit happens when the pass ends
 * (lc_server_run), or earlier when anything that must see committed state runs: a read, a watch,
 * a timer (bookmarks, garbage collection), a write that runs its own transaction
 * (deletecollection). If the commit fails every write of the group is rolled back and each of
 * them is answered 500. */
static int groupable(const pss *p) {
  if (!strcmp(p->method, "POST") || !strcmp(p->method, "PUT") || !strcmp(p->method, "PATCH")) return 1;
  return !strcmp(p->method, "DELETE") && p->rq.route.name[0]; /* not deletecollection */
}

static void group_flush(lc_server *s) {
  if (!g_priv.group_open) return;
  g_priv.group_open = 0;
  int rc = lh_store_txn_commit(s->store);
  if (rc) LH_WARN(COMP, "group commit failed: %s (its writes are answered 500)", lh_store_strerror(rc));
  pss *p = g_priv.group;
  g_priv.group = NULL;
  while (p) {
    pss *n = p->gnext;
    p->gnext = NULL;
    p->in_group = 0;
    if (rc) {
      lc_response r;
      status_response(&r, lc_status_internal(lh_store_strerror(rc)));
      set_response(p->wsi, p, &r);
    }
    lws_callback_on_writable(p->wsi);
    p = n;
  }
}

static void dispatch(struct lws *wsi, pss *p) {
  lc_server *s = srv_of(wsi);
  p->wsi = wsi;
  if (p->too_large) {
    p->closing = 1;
    respond_status(wsi, p, lc_status_too_large());
    return;
  }
  if (p->bad_query) {
    char m[300];
    snprintf(m, sizeof m, "invalid value for query parameter %s", p->rq.q.bad);
    respond_status(wsi, p, lc_status_bad_request(m));
    return;
  }
  p->rq.body = p->body_inited ? lh_buf_str(&p->body) : "";
  p->rq.body_len = p->body_inited ? p->body.len : 0;
  int group = groupable(p);
  if (!group) group_flush(s);
  else if (!g_priv.group_open && lh_store_txn_begin(s->store) == 0)
    g_priv.group_open = 1;
  lc_response r = {0};
  int rc = lc_api_handle(s, &p->rq, &r, &g_spec);
  if (rc == LC_WATCH) {
    json_t *st = NULL;
    p->w = lc_watcher_start(s, &g_spec, wsi, wake_conn, &st);
    if (!p->w) {
      respond_status(wsi, p, st ? st : lc_status_internal("out of memory"));
      return;
    }
    lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
    hw_link(p);
    lws_callback_on_writable(wsi); /* headers go out with the first events */
    return;
  }
  if (group && g_priv.group_open) {
    set_response(wsi, p, &r);
    p->in_group = 1;
    p->gnext = g_priv.group;
    g_priv.group = p;
    return;
  }
  start_response(wsi, p, &r);
}

static int finish_response(struct lws *wsi, pss *p) {
  free(p->resp);
  p->resp = NULL;
  p->resp_ready = 0;
  if (p->closing) return -1;
  if (lws_http_transaction_completed(wsi)) return -1;
  return 0; /* p is gone now (lws rebinds the protocol) */
}

/* Writes the response: headers and a body of up to ONE_WRITE_MAX in one lws_write (one send),
 * a bigger body in PIECE pieces on later writable callbacks. Returns -1 to close. */
static int write_response(struct lws *wsi, pss *p) {
  if (!p->hdrs_sent) {
    size_t first = p->resp_len <= ONE_WRITE_MAX ? p->resp_len : 0;
    unsigned char *start = wbuf(HDR_ROOM + first);
    if (!start) return -1;
    unsigned char *q = start;
    if (build_headers(wsi, p->resp_code, p->resp_ctype, p->resp_len, 0, &q, start + HDR_ROOM)) return -1;
    if (first) memcpy(q, p->resp + p->resp_skip, first);
    q += first;
    size_t n = (size_t)(q - start);
    if (lws_write(wsi, start, n, LWS_WRITE_HTTP_HEADERS) != (int)n) return -1;
    p->hdrs_sent = 1;
    p->resp_off = first;
    if (p->resp_off == p->resp_len) return finish_response(wsi, p);
    lws_callback_on_writable(wsi);
    return 0;
  }
  size_t left = p->resp_len - p->resp_off;
  size_t n = left > PIECE ? PIECE : left;
  unsigned char *b = wbuf(n);
  if (!b) return -1;
  memcpy(b, p->resp + p->resp_skip + p->resp_off, n);
  int final = n == left;
  if (lws_write(wsi, b, n, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)n) return -1;
  p->resp_off += n;
  if (!final) {
    lws_callback_on_writable(wsi);
    return 0;
  }
  return finish_response(wsi, p);
}

/* Writes the headers (first time) and the queued watch events, up to WATCH_BATCH bytes, as one
 * HTTP chunk in one lws_write. Returns -1 to close. */
static int write_watch_chunked(struct lws *wsi, lc_server *s, pss *p) {
  if (p->peer_gone) return -1;
  size_t hdr = p->hdrs_sent ? 0 : HDR_ROOM;
  const lc_evbuf *e = lc_watcher_peek(p->w);
  size_t want = hdr + 12 + (e && e->len > WATCH_BATCH ? e->len : WATCH_BATCH) + 8;
  unsigned char *start = wbuf(want);
  if (!start) return -1;
  unsigned char *q = start;
  if (!p->hdrs_sent) {
    if (build_headers(wsi, 200, "application/json", 0, 1, &q, start + HDR_ROOM)) return -1;
    p->hdrs_sent = 1;
  }
  if (e) {
    unsigned char *chunk = q;
    q += 10; /* "%08zx\r\n" */
    size_t payload = 0;
    while ((e = lc_watcher_peek(p->w)) && (payload == 0 || payload + e->len <= WATCH_BATCH)) {
      memcpy(q, e->data, e->len);
      q += e->len;
      payload += e->len;
      lc_watcher_pop(p->w);
    }
    char h[11];
    snprintf(h, sizeof h, "%08zx\r\n", payload);
    memcpy(chunk, h, 10);
    memcpy(q, "\r\n", 2);
    q += 2;
  }
  int finished = lc_watcher_finished(p->w) && !lc_watcher_peek(p->w);
  if (finished) {
    memcpy(q, "0\r\n\r\n", 5);
    q += 5;
  }
  size_t n = (size_t)(q - start);
  if (n && lws_write(wsi, start, n, finished ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n) return -1;
  if (!finished) {
    if (lc_watcher_peek(p->w)) lws_callback_on_writable(wsi);
    return 0;
  }
  lc_watcher_stop(s, p->w);
  p->w = NULL;
  if (p->hw_linked) hw_unlink(p);
  if (lws_http_transaction_completed(wsi)) return -1;
  return 0;
}

/* Server→client WebSocket text frame header for len payload bytes (RFC 6455 5.2, no mask). */
static size_t ws_frame_hdr(unsigned char *h, size_t len) {
  h[0] = 0x81; /* FIN + text */
  if (len < 126) {
    h[1] = (unsigned char)len;
    return 2;
  }
  if (len < 65536) {
    h[1] = 126;
    h[2] = (unsigned char)(len >> 8);
    h[3] = (unsigned char)len;
    return 4;
  }
  h[1] = 127;
  for (int i = 0; i < 8; i++) h[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
  return 10;
}

/* Writes queued watch events, one text frame each, up to WATCH_BATCH bytes in one lws_write:
 * the frames are built here and sent raw, so a backlog costs one send per writable callback
 * instead of one callback (one poll pass over every socket) per event. Returns -1 to close. */
static int write_watch_ws(struct lws *wsi, lc_server *s, pss *p) {
  if (p->ws_handled) { /* a non-watch answer, one frame, then close */
    if (p->resp) {
      unsigned char *b = wbuf(p->resp_len);
      if (!b) return -1;
      memcpy(b, p->resp, p->resp_len);
      lws_write(wsi, b, p->resp_len, LWS_WRITE_TEXT);
      free(p->resp);
      p->resp = NULL;
      lws_callback_on_writable(wsi);
      return 0;
    }
    lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
    return -1;
  }
  if (!p->w) return 0;
  const lc_evbuf *e = lc_watcher_peek(p->w);
  if (e) {
    size_t want = (e->len > WATCH_BATCH ? e->len : WATCH_BATCH) + 64 * WS_FRAME_HDR;
    unsigned char *start = wbuf(want);
    if (!start) return -1;
    unsigned char *q = start;
    size_t payload = 0;
    int frames = 0;
    while ((e = lc_watcher_peek(p->w)) && (payload == 0 || (payload + e->len <= WATCH_BATCH && frames < 64))) {
      q += ws_frame_hdr(q, e->len);
      memcpy(q, e->data, e->len);
      q += e->len;
      payload += e->len;
      frames++;
      lc_watcher_pop(p->w);
    }
    size_t n = (size_t)(q - start);
    if (lws_write(wsi, start, n, LWS_WRITE_RAW) != (int)n) return -1;
    if (lc_watcher_peek(p->w) || lc_watcher_finished(p->w)) lws_callback_on_writable(wsi);
    return 0;
  }
  if (lc_watcher_finished(p->w)) {
    lc_watcher_stop(s, p->w);
    p->w = NULL;
    lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
    return -1;
  }
  return 0;
}

/* Chunked-HTTP watch clients that went away. lws reads such a connection only when a request
 * can follow, so the peer's FIN is never read while the watch streams: the socket would sit in
 * CLOSE-WAIT (poll reporting it readable on every pass, a busy loop) with its watcher queueing
 * events until the server exits. Checked once a second without reading: POLLRDHUP (also right
 * under TLS, where the peer's close_notify precedes the FIN). */
static void check_http_watch_peers(void) {
  for (pss *p = g_priv.hwatch; p; p = p->hw_next) {
    if (p->peer_gone || !p->wsi) continue;
    int fd = (int)lws_get_socket_fd(p->wsi);
    if (fd < 0) continue;
    struct pollfd pf = {.fd = fd, .events = POLLRDHUP};
    if (poll(&pf, 1, 0) == 1 && (pf.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
      p->peer_gone = 1;
      lws_callback_on_writable(p->wsi);
    }
  }
}

/* ---- the protocol callback ------------------------------------------------------------------- */

static int has_body_method(const char *m) {
  return !strcmp(m, "POST") || !strcmp(m, "PUT") || !strcmp(m, "PATCH") || !strcmp(m, "DELETE");
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
  pss *p = user;
  lc_server *s = lws_get_context(wsi) ? srv_of(wsi) : NULL;
  switch (reason) {
  case LWS_CALLBACK_HTTP: {
    pss_reset(s, p);
    if (read_method_path(wsi, p)) {
      p->closing = 1;
      snprintf(p->method, sizeof p->method, "GET");
      respond_status(wsi, p, lc_status_bad_request("unsupported method or request line too long"));
      return 0;
    }
    read_request(wsi, p);
    long long clen = 0;
    char cl[32] = "";
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 &&
        lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) < (int)sizeof cl) {
      lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH);
      clen = atoll(cl);
    }
    if (clen > (long long)LC_MAX_BODY) {
      p->too_large = 1;
      dispatch(wsi, p);
      return 0;
    }
    if (has_body_method(p->method) && clen > 0) {
      lh_buf_init(&p->body, LC_MAX_BODY);
      p->body_inited = 1;
      return 0; /* wait for the body */
    }
    dispatch(wsi, p);
    return 0;
  }
  case LWS_CALLBACK_HTTP_BODY:
    if (!p->body_inited) {
      lh_buf_init(&p->body, LC_MAX_BODY);
      p->body_inited = 1;
    }
    if (!p->too_large && lh_buf_add(&p->body, in, len)) p->too_large = 1;
    return 0;
  case LWS_CALLBACK_HTTP_BODY_COMPLETION:
    dispatch(wsi, p);
    return 0;
  case LWS_CALLBACK_HTTP_WRITEABLE:
    if (p->w) return write_watch_chunked(wsi, s, p);
    if (p->in_group) return 0; /* answered after the group commit */
    if (p->resp_ready) return write_response(wsi, p);
    return 0;
  case LWS_CALLBACK_CLOSED_HTTP:
  case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    if (p && s) pss_reset(s, p);
    return 0;

  /* ---- WebSocket watch ---- */
  case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: {
    /* Like a 1.20 apiserver (golang.org/x/net/websocket rejects a null origin): no Origin
     * header → HTTP 403 with an empty body instead of the upgrade. */
    if (!in || strcmp((const char *)in, "websocket") || lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) > 0) return 0;
    static const char head[] = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
    unsigned char buf[LWS_PRE + sizeof head];
    memcpy(buf + LWS_PRE, head, sizeof head - 1);
    /* lws_add_http_header_status would say HTTP/1.0 here: the request line is not processed yet */
    if (lws_write(wsi, buf + LWS_PRE, sizeof head - 1, LWS_WRITE_HTTP_HEADERS) != (int)(sizeof head - 1)) return -1;
    return 1;
  }
  case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
    if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) <= 0) return 1; /* like 1.20: Origin required */
    memset(p, 0, sizeof *p);
    p->is_ws = 1;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0 ||
        lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) >= (int)sizeof p->path)
      return 1;
    lws_hdr_copy(wsi, p->path, sizeof p->path, WSI_TOKEN_GET_URI);
    snprintf(p->method, sizeof p->method, "GET");
    read_request(wsi, p);
    return 0;
  }
  case LWS_CALLBACK_ESTABLISHED: {
    if (!p->is_ws) return -1;
    p->rq.q.watch = 1; /* a WebSocket on a collection is a watch */
    group_flush(s);    /* a watch starts from committed state */
    lc_response r = {0};
    int rc = p->bad_query ? LC_HANDLED : lc_api_handle(s, &p->rq, &r, &g_spec);
    if (p->bad_query) {
      json_t *st = lc_status_bad_request("invalid query parameter");
      r.body = lc_status_dump(st);
      r.len = r.body ? strlen(r.body) : 0;
      json_decref(st);
    }
    if (rc == LC_WATCH) {
      json_t *st = NULL;
      p->w = lc_watcher_start(s, &g_spec, wsi, wake_conn, &st);
      if (!p->w) {
        p->ws_handled = 1;
        p->resp = st ? lc_status_dump(st) : NULL;
        p->resp_len = p->resp ? strlen(p->resp) : 0;
        json_decref(st);
      }
    } else {
      p->ws_handled = 1;
      if (r.body && r.skip) memmove(r.body, r.body + r.skip, r.len); /* one frame: no gap */
      p->resp = r.body;
      p->resp_len = r.len;
    }
    lws_callback_on_writable(wsi);
    return 0;
  }
  case LWS_CALLBACK_SERVER_WRITEABLE:
    return write_watch_ws(wsi, s, p);
  case LWS_CALLBACK_RECEIVE:
    return 0;
  case LWS_CALLBACK_CLOSED:
    if (p && s) pss_reset(s, p);
    return 0;
  default:
    break;
  }
  return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {"http", callback, sizeof(pss), 0, 0, NULL, TX_PACKET},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---- timers ---------------------------------------------------------------------------------- */

static long us_between(const struct timespec *a, const struct timespec *b) {
  return (long)((b->tv_sec - a->tv_sec) * 1000000L + (b->tv_nsec - a->tv_nsec) / 1000);
}

/* Each step is timed because the tick runs on the event loop: a slow step delays every watch
 * delivery behind it. The WAL checkpoint does, by 40-340 ms after heavy writes (measured
 * 2026-11-24): a tick over 2 ms is logged at debug level with its parts. */
static void tick_cb(lws_sorted_usec_list_t *sul) {
  (void)sul;
  lc_server *s = g_priv.s;
  struct timespec t[5];
  clock_gettime(CLOCK_MONOTONIC, &t[0]);
  group_flush(s); /* bookmarks carry the current (committed) resourceVersion */
  clock_gettime(CLOCK_MONOTONIC, &t[1]);
  lc_hub_tick(s, time(NULL));
  clock_gettime(CLOCK_MONOTONIC, &t[2]);
  check_http_watch_peers();
  clock_gettime(CLOCK_MONOTONIC, &t[3]);
  lh_store_checkpoint(s->store); /* WAL checkpoint off the commit path */
  clock_gettime(CLOCK_MONOTONIC, &t[4]);
  if (us_between(&t[0], &t[4]) > 2000)
    LH_DEBUG(COMP, "slow tick: flush %ld us, watch hub %ld us, peer checks %ld us, checkpoint %ld us",
             us_between(&t[0], &t[1]), us_between(&t[1], &t[2]), us_between(&t[2], &t[3]),
             us_between(&t[3], &t[4]));
  lws_sul_schedule(g_priv.ctx, 0, &g_priv.tick_sul, tick_cb, LWS_US_PER_SEC);
}

static void gc_cb(lws_sorted_usec_list_t *sul) {
  (void)sul;
  lc_server *s = g_priv.s;
  g_priv.gc_scheduled = 0;
  group_flush(s);
  int again = lc_gc_run(s);
  if (lc_gc_pending(s) && !g_priv.gc_scheduled) {
    g_priv.gc_scheduled = 1;
    lws_sul_schedule(g_priv.ctx, 0, &g_priv.gc_sul, gc_cb, again ? LWS_US_PER_SEC / 2 : 1000);
  }
}

static void kick(lc_server *s, int delay_ms) {
  (void)s;
  if (g_priv.gc_scheduled || !g_priv.ctx) return;
  g_priv.gc_scheduled = 1;
  lws_sul_schedule(g_priv.ctx, 0, &g_priv.gc_sul, gc_cb, (lws_usec_t)delay_ms * 1000 + 1000);
}

static int on_store_event(void *ud, const lh_store_event *ev) {
  lc_server *s = ud;
  lc_hub_on_event(s, ev);
  lc_gc_on_event(s, ev);
  return 0;
}

/* ---- setup ----------------------------------------------------------------------------------- */

static int load_crd(void *ud, const char *ns, const char *name, const char *json, size_t len, int64_t rv) {
  (void)ns;
  (void)rv;
  lc_server *s = ud;
  json_t *o = json_loadb(json, len, 0, NULL);
  if (o && lc_registry_crd_add(&s->reg, o)) LH_WARN(COMP, "stored CRD %s cannot be served", name);
  json_decref(o);
  return 0;
}

int lc_server_bootstrap(lc_server *s) {
  static const char *const defaults[] = {"default", "kube-system", "kube-public", "kube-node-lease"};
  for (size_t i = 0; i < 4; i++) {
    if (lh_store_get(s->store, "namespaces", "", defaults[i], NULL) == 0) continue;
    char uid[37], now[32];
    lc_uuid4(uid);
    lc_now_rfc3339(now);
    json_t *ns = json_pack("{s:s,s:s,s:{s:s,s:s,s:s},s:{s:[s]},s:{s:s}}", "kind", "Namespace", "apiVersion", "v1",
                           "metadata", "name", defaults[i], "uid", uid, "creationTimestamp", now, "spec",
                           "finalizers", "kubernetes", "status", "phase", "Active");
    int rc = lh_store_create(s->store, "namespaces", "", defaults[i], ns, NULL);
    json_decref(ns);
    if (rc && rc != LH_STORE_EEXISTS) return rc;
  }
  return 0;
}

/* glibc malloc tuning for this allocation pattern: every request allocates and frees a ~20 KiB
 * per-connection state (lws re-creates it per keep-alive transaction) and a 16 KiB header table
 * between thousands of small JSON nodes. Each such large request made malloc consolidate all
 * free small chunks (malloc_consolidate + unlink_chunk were 8% of the server's CPU), and each
 * free at the heap top gave memory back to the kernel only to fault it in again. No fastbins
 * (the per-thread cache still serves small sizes) and no trimming below 64 MiB. */
static void tune_malloc(void) {
  mallopt(M_MXFAST, 0);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_TOP_PAD, 16 << 20);
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
}

int lc_server_init(lc_server *s, const lc_server_opts *o, char *err, size_t errlen) {
  tune_malloc();
  memset(s, 0, sizeof *s);
  memset(&g_priv, 0, sizeof g_priv);
  g_priv.s = s;
  s->bookmark_interval_s = o->bookmark_interval_s > 0 ? o->bookmark_interval_s : 60;
  s->watch_queue_max = (size_t)64 << 20;
  if (lc_parse_cidr(o->service_cidr ? o->service_cidr : LC_SERVICE_CIDR_DEFAULT, &s->svc_base, &s->svc_bits)) {
    snprintf(err, errlen, "bad service cluster IP range %s", o->service_cidr);
    return -1;
  }
  if (lc_registry_init(&s->reg)) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  lh_store_options so = {.dir = o->data_dir, .event_retention = o->event_retention,
                         .watch_cache_events = o->event_retention > 0 ? (size_t)o->event_retention : 0};
  char serr[512] = "";
  if (lh_store_open_sqlite(&so, &s->store, serr, sizeof serr)) {
    snprintf(err, errlen, "cannot open the store in %s: %s", o->data_dir, serr);
    lc_registry_free(&s->reg);
    return -1;
  }
  s->logs = lc_logs_open(o->data_dir, serr, sizeof serr);
  if (!s->logs) {
    snprintf(err, errlen, "cannot open the log database: %s", serr);
    goto fail;
  }
  s->hub = lc_hub_new();
  s->gc = lc_gc_new();
  if (!s->hub || !s->gc) {
    snprintf(err, errlen, "out of memory");
    goto fail;
  }
  {
    lh_store_list_opts lo = {0};
    lh_store_list_result res;
    int rc = lh_store_list(s->store, "apiextensions.k8s.io/customresourcedefinitions", &lo, load_crd, s, &res);
    if (!rc) rc = lc_server_bootstrap(s);
    if (!rc) rc = lc_gc_scan(s);
    if (rc) {
      snprintf(err, errlen, "cannot read the store: %s", lh_store_strerror(rc));
      goto fail;
    }
  }
  g_priv.sub_id = lh_store_subscribe(s->store, on_store_event, s);
  if (g_priv.sub_id <= 0) {
    snprintf(err, errlen, "out of memory");
    goto fail;
  }
  s->kick = kick;

  lws_set_log_level(LLL_ERR, NULL);
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.port = o->port ? o->port : CONTEXT_PORT_NO_LISTEN_SERVER;
  if (!o->port) info.port = 0;
  info.iface = (o->host && strcmp(o->host, "0.0.0.0")) ? o->host : NULL;
  info.protocols = protocols;
  info.user = s;
  info.max_http_header_data = 16384;
  /* one header table per connection between its request line and its answer; chunked watches
   * hold theirs while they stream, so 50 watchers + writers must not exhaust the pool (a
   * connection waiting for one is not read) */
  info.max_http_header_pool = 1024;
  info.pt_serv_buf_size = 65536; /* read requests in 64 KiB pieces (default 4 KiB) */
  info.keepalive_timeout = 120;
  info.timeout_secs = 60;
  info.options = LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE * 0;
  info.alpn = "http/1.1";
  if (o->tls_cert && o->tls_key) {
    info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.ssl_cert_filepath = o->tls_cert;
    info.ssl_private_key_filepath = o->tls_key;
  }
  g_priv.ctx = lws_create_context(&info);
  if (!g_priv.ctx) {
    snprintf(err, errlen, "cannot listen on %s:%d (address in use, bad TLS files, or no permission)",
             o->host ? o->host : "*", o->port);
    goto fail;
  }
  s->lws_ctx = g_priv.ctx;
  struct lws_vhost *vh = lws_get_vhost_by_name(g_priv.ctx, "default");
  g_priv.port = vh ? lws_get_vhost_listen_port(vh) : o->port;
  snprintf(s->server_addr, sizeof s->server_addr, "%s:%d", o->host ? o->host : "127.0.0.1", g_priv.port);
  lws_sul_schedule(g_priv.ctx, 0, &g_priv.tick_sul, tick_cb, LWS_US_PER_SEC);
  if (lc_gc_pending(s)) kick(s, 0);
  return 0;
fail:
  lc_server_free(s);
  return -1;
}

int lc_server_port(const lc_server *s) {
  (void)s;
  return g_priv.port;
}

int lc_server_run(lc_server *s, volatile sig_atomic_t *stop) {
  (void)s;
  while (!*stop) {
    if (lws_service(g_priv.ctx, 0) < 0) break;
    group_flush(g_priv.s); /* the writes of this pass: one commit, then their answers */
  }
  group_flush(g_priv.s);
  return 0;
}

void lc_server_wake(lc_server *s) {
  (void)s;
  if (g_priv.ctx) lws_cancel_service(g_priv.ctx);
}

void lc_server_free(lc_server *s) {
  if (!s) return;
  if (g_priv.group_open) group_flush(s);
  if (g_priv.ctx) {
    lws_sul_cancel(&g_priv.tick_sul);
    lws_sul_cancel(&g_priv.gc_sul);
    lws_context_destroy(g_priv.ctx);
    g_priv.ctx = NULL;
  }
  s->kick = NULL;
  if (s->store && g_priv.sub_id > 0) lh_store_unsubscribe(s->store, g_priv.sub_id);
  lc_hub_free(s->hub);
  s->hub = NULL;
  lc_gc_free(s->gc);
  s->gc = NULL;
  lc_logs_close(s->logs);
  s->logs = NULL;
  lh_store_close(s->store);
  s->store = NULL;
  lc_registry_free(&s->reg);
  free(g_priv.wbuf);
  g_priv.wbuf = NULL;
  g_priv.wcap = 0;
}
