/* watch.c — watch event parsing, line splitting, and watch handles over WebSocket
 * (libwebsockets service thread) or chunked HTTP (curl stream on the loop).
 * Sections: parsing; line splitter; wsclient (service thread side); watch handle (loop side). */
#include "kube/watch.h"
#include "util/jscan.h"
#include "util/log.h"

#include <libwebsockets.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define COMP "kube-watch"

/* --- parsing ------------------------------------------------------------------------------ */

const char *lh_kube_watch_type_name(lh_watch_type t) {
  switch (t) {
  case LH_WATCH_ADDED: return "ADDED";
  case LH_WATCH_MODIFIED: return "MODIFIED";
  case LH_WATCH_DELETED: return "DELETED";
  case LH_WATCH_BOOKMARK: return "BOOKMARK";
  case LH_WATCH_ERROR: return "ERROR";
  default: return "?";
  }
}

int lh_kube_watch_parse(const char *data, size_t len, lh_kube_watch_event *ev, json_t **root) {
  *root = NULL;
  memset(ev, 0, sizeof(*ev));
  json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, NULL);
  if (!j) return LH_EKUBE_PARSE;
  const char *type = json_string_value(json_object_get(j, "type"));
  json_t *obj = json_object_get(j, "object");
  if (!type || !json_is_object(obj)) goto bad;
  if (strcmp(type, "ADDED") == 0) ev->type = LH_WATCH_ADDED;
  else if (strcmp(type, "MODIFIED") == 0) ev->type = LH_WATCH_MODIFIED;
  else if (strcmp(type, "DELETED") == 0) ev->type = LH_WATCH_DELETED;
  else if (strcmp(type, "BOOKMARK") == 0) ev->type = LH_WATCH_BOOKMARK;
  else if (strcmp(type, "ERROR") == 0) ev->type = LH_WATCH_ERROR;
  else goto bad;
  ev->object = obj;
  ev->rv = json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
  *root = j;
  return 0;
bad:
  json_decref(j);
  return LH_EKUBE_PARSE;
}

static int type_of(const char *type, lh_watch_type *t) {
  static const struct { const char *name; lh_watch_type t; } tab[] = {
      {"ADDED", LH_WATCH_ADDED}, {"MODIFIED", LH_WATCH_MODIFIED}, {"DELETED", LH_WATCH_DELETED},
      {"BOOKMARK", LH_WATCH_BOOKMARK}, {"ERROR", LH_WATCH_ERROR}};
  for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
    if (strcmp(type, tab[i].name) == 0) return *t = tab[i].t, 0;
  return -1;
}

int lh_kube_watch_parse_raw(const char *data, size_t len, lh_kube_watch_event *ev, json_t **root,
                            char *rvbuf, size_t rvcap) {
  static const char *const top_keys[] = {"type", "object"};
  static const char *const meta_keys[] = {"metadata"};
  static const char *const rv_keys[] = {"resourceVersion"};
  *root = NULL;
  memset(ev, 0, sizeof(*ev));
  lh_js_val doc, f[2], meta, rv;
  char type[16];
  if (lh_js_validate(data, len, 0, NULL) != 0 || lh_js_value(data, len, &doc) != 0 ||
      doc.type != LH_JS_OBJECT || lh_js_obj_pick(&doc, top_keys, 2, f) || f[0].type != LH_JS_STRING ||
      f[1].type != LH_JS_OBJECT || lh_js_str_decode(&f[0], type, sizeof(type)) < 0 ||
      type_of(type, &ev->type) != 0)
    return LH_EKUBE_PARSE;
  ev->raw = f[1].p;
  ev->raw_len = f[1].n;
  /* jansson's json_string_value: the last "metadata", the last "resourceVersion" */
  lh_js_obj_pick(&f[1], meta_keys, 1, &meta);
  lh_js_obj_pick(&meta, rv_keys, 1, &rv);
  if (rv.type == LH_JS_STRING) {
    if (lh_js_str_decode(&rv, rvbuf, rvcap) < 0) return LH_EKUBE_PARSE;
    ev->rv = rvbuf;
  }
  if (ev->type == LH_WATCH_ERROR) {
    *root = json_loadb(f[1].p, f[1].n, 0, NULL);
    if (!*root) return LH_EKUBE_PARSE; /* no memory: validated text always loads */
    ev->object = *root;
  }
  return 0;
}

/* --- line splitter --------------------------------------------------------------------- */

void lh_kube_linesplit_init(lh_kube_linesplit *ls, size_t cap) { lh_buf_init(&ls->partial, cap); }
void lh_kube_linesplit_free(lh_kube_linesplit *ls) { lh_buf_free(&ls->partial); }

static int emit(const char *p, size_t n, lh_kube_line_cb *cb, void *ud) {
  if (n && p[n - 1] == '\r') n--;
  return n ? cb(p, n, ud) : 0;
}

int lh_kube_linesplit_feed(lh_kube_linesplit *ls, const char *data, size_t len,
                           lh_kube_line_cb *cb, void *ud) {
  while (len) {
    const char *nl = memchr(data, '\n', len);
    size_t n = nl ? (size_t)(nl - data) : len;
    int rc;
    if (ls->partial.len == 0 && nl) {
      /* whole line in this chunk: no copy */
      if (n > ls->partial.cap) return LH_EKUBE_TOOBIG;
      rc = emit(data, n, cb, ud);
    } else {
      rc = lh_buf_add(&ls->partial, data, n);
      if (rc) {
        lh_buf_reset(&ls->partial);
        return rc == LH_BUF_TOOBIG ? LH_EKUBE_TOOBIG : LH_EKUBE_NOMEM;
      }
      if (!nl) return 0;
      rc = emit(ls->partial.data, ls->partial.len, cb, ud);
      lh_buf_reset(&ls->partial);
    }
    if (rc) return rc;
    data += n + 1;
    len -= n + 1;
  }
  return 0;
}

/* --- wsclient: lws context on a service thread --------------------------------------------- */

typedef struct ws_conn ws_conn;
typedef struct lh_kube_watch lh_kube_watch;

struct ws_conn {
  int refs;                 /* atomic: loop side, lws side, each posted message */
  lh_kube_wsclient *ws;
  lh_kube_watch *w;         /* loop side: NULL once the watch let go (loop thread only) */
  struct lws *wsi;          /* service thread only */
  char *path;               /* request path + query */
  lh_buf msg;               /* message reassembly (service thread), capped */
  int kill;                 /* atomic: loop asked to close */
  int lws_done;             /* service thread: the wsi is gone */
  int end_posted;           /* service thread: an end was posted */
  int got_message;          /* service thread: at least one message arrived */
  int upgraded;             /* service thread: the 101 answer arrived */
  int handshake_sent;       /* service thread: TCP (+TLS) was up and the upgrade request went out */
  char tls_err[160];        /* service thread: why the server certificate was rejected */
  ws_conn *next_cmd;        /* command queue link */
  int queued;               /* on ws->cmds (guarded by ws->mu): never linked twice */
};

struct lh_kube_wsclient {
  lh_loop *loop;
  struct lws_context *ctx;
  pthread_t thread;
  int stop;                 /* atomic */
  pthread_mutex_t mu;       /* guards cmds */
  ws_conn *cmds;            /* connections to open or kill */
  char host[256];           /* address to connect to (no brackets) */
  int port;
  int tls;
  int insecure;
  char hosthdr[300];        /* Host: header value */
  char origin[320];         /* Origin: the server URL */
  char *auth;               /* "Bearer <token>" or NULL */
  lh_kube_config *cfg;      /* keeps the PEM bytes lws was given alive */
};

static void conn_unref(ws_conn *c) {
  if (__atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0) {
    lh_buf_free(&c->msg);
    free(c->path);
    free(c);
  }
}

/* A message or an end, travelling from the service thread to the loop. */
typedef struct ws_post {
  ws_conn *c;
  int kind;        /* 0 message, 1 end, 2 upgrade established */
  int rc;          /* for ends */
  int http_code;   /* for ends: handshake status if known */
  int established; /* for ends: the upgrade had succeeded (101) */
  int handshake_sent; /* for ends: the server was reached and sent the upgrade request */
  size_t len;
  char data[];
} ws_post;

static void deliver_ws_post(lh_loop *loop, void *data); /* loop side, below */

/* A post the loop never ran (freed at shutdown): release what it holds. */
static void drop_ws_post(void *data) {
  ws_post *p = data;
  conn_unref(p->c);
  free(p);
}

static void post_to_loop(ws_conn *c, int kind, int rc, int code, const char *d, size_t len) {
  ws_post *p = malloc(sizeof(*p) + len + 1);
  if (!p) return; /* out of memory: the event is lost; the informer relists on the next error */
  p->c = c;
  p->kind = kind;
  p->rc = rc;
  p->http_code = code;
  p->established = c->upgraded || c->got_message;
  p->handshake_sent = c->handshake_sent;
  p->len = len;
  if (len) memcpy(p->data, d, len);
  p->data[len] = '\0';
  __atomic_add_fetch(&c->refs, 1, __ATOMIC_ACQ_REL);
  if (lh_loop_post_drop(c->ws->loop, deliver_ws_post, drop_ws_post, p) != 0) {
    conn_unref(c);
    free(p);
  }
}

/* Posts the end of c once; msg (may be NULL) becomes the status message the loop side reports. */
static void post_end_msg(ws_conn *c, int rc, int code, const char *msg, size_t len) {
  /* once the loop side let go (kill), nobody would read the end: posting it would only leak
   * at shutdown, when the loop may already be gone */
  if (c->end_posted || __atomic_load_n(&c->kill, __ATOMIC_ACQUIRE)) return;
  c->end_posted = 1;
  post_to_loop(c, 1, rc, code, msg, msg ? len : 0);
}

static void post_end(ws_conn *c, int rc, int code) { post_end_msg(c, rc, code, NULL, 0); }

static void ws_connect(lh_kube_wsclient *ws, ws_conn *c) {
  struct lws_client_connect_info ci;
  memset(&ci, 0, sizeof(ci));
  ci.context = ws->ctx;
  ci.address = ws->host;
  ci.port = ws->port;
  ci.path = c->path;
  ci.host = ws->hosthdr;
  ci.origin = ws->origin[0] ? ws->origin : NULL;
  ci.ssl_connection = ws->tls ? LCCSCF_USE_SSL : 0;
  if (ws->tls && ws->insecure)
    ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                         LCCSCF_ALLOW_EXPIRED;
  ci.protocol = NULL;
  ci.local_protocol_name = "lahar-watch";
  ci.opaque_user_data = c;
  ci.pwsi = &c->wsi;
  if (!lws_client_connect_via_info(&ci) && !c->lws_done) {
    post_end(c, LH_EKUBE_UPGRADE, 0);
    c->lws_done = 1;
    conn_unref(c);
  }
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len) {
  lh_kube_wsclient *ws = lws_context_user(lws_get_context(wsi));
  ws_conn *c = wsi ? lws_get_opaque_user_data(wsi) : NULL;
  switch (reason) {
  case LWS_CALLBACK_EVENT_WAIT_CANCELLED: {
    pthread_mutex_lock(&ws->mu);
    ws_conn *list = ws->cmds;
    ws->cmds = NULL;
    for (ws_conn *q = list; q; q = q->next_cmd) q->queued = 0;
    pthread_mutex_unlock(&ws->mu);
    while (list) {
      ws_conn *n = list->next_cmd;
      if (__atomic_load_n(&list->kill, __ATOMIC_ACQUIRE)) {
        if (list->wsi && !list->lws_done) lws_set_timeout(list->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
        conn_unref(list); /* the command's reference */
      } else {
        ws_connect(ws, list); /* the command's reference becomes the lws side's */
      }
      list = n;
    }
    return 0;
  }
  case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
    if (c) c->handshake_sent = 1;
    if (ws->auth) {
      unsigned char **p = (unsigned char **)in, *end = (*p) + len;
      if (lws_add_http_header_by_name(wsi, (const unsigned char *)"authorization:",
                                      (const unsigned char *)ws->auth, (int)strlen(ws->auth), p,
                                      end))
        return -1;
    }
    return 0;
  case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
    /* user is the X509_STORE_CTX, len preverify_ok; returning 0 keeps OpenSSL's verdict. Only
     * remember why a certificate was rejected, for the watch's end status. */
    if (c && !len && user) {
      X509_STORE_CTX *x = user;
      int e = X509_STORE_CTX_get_error(x);
      snprintf(c->tls_err, sizeof(c->tls_err), "TLS: server certificate verify failed: %s (depth %d)",
               X509_verify_cert_error_string(e), X509_STORE_CTX_get_error_depth(x));
    }
    return 0;
  case LWS_CALLBACK_CLIENT_ESTABLISHED:
    if (c && __atomic_load_n(&c->kill, __ATOMIC_ACQUIRE)) return -1;
    if (c) {
      c->upgraded = 1;
      post_to_loop(c, 2, 0, 101, NULL, 0); /* "established" marker */
    }
    return 0;
  case LWS_CALLBACK_CLIENT_RECEIVE:
    if (!c || __atomic_load_n(&c->kill, __ATOMIC_ACQUIRE)) return -1;
    if (lh_buf_add(&c->msg, in, len) != 0) {
      post_end(c, LH_EKUBE_TOOBIG, 0);
      return -1;
    }
    if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
      c->got_message = 1;
      post_to_loop(c, 0, 0, 0, c->msg.data, c->msg.len);
      lh_buf_reset(&c->msg);
    }
    return 0;
  case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
    if (!c) return 0;
    /* An HTTP status means the server answered the handshake and refused the upgrade (a 1.20
     * apiserver says 403 without Origin): UPGRADE, which AUTO falls back from. No status means
     * connect/TLS failed (e.g. certificate verify failed): TRANSPORT, with lws's text. */
    int code = (int)lws_http_client_http_response(wsi);
    const char *why = in && len ? (const char *)in : "connection error";
    size_t wl = strnlen(why, in && len ? len : 64);
    if (c->tls_err[0]) { /* lws's own text is an opaque "connect SSL err 1: error:00000001" */
      why = c->tls_err;
      wl = strlen(why);
    }
    LH_INFO(COMP, "websocket watch %s failed: %.*s (http %d)", c->path, (int)wl, why, code);
    post_end_msg(c, code ? LH_EKUBE_UPGRADE : LH_EKUBE_TRANSPORT, code, why, wl);
    return 0;
  }
  case LWS_CALLBACK_CLIENT_CLOSED:
    if (c) post_end(c, 0, 0);
    return 0;
  case LWS_CALLBACK_WSI_DESTROY:
    if (c && !c->lws_done) {
      post_end(c, LH_EKUBE_TRANSPORT, 0);
      c->lws_done = 1;
      c->wsi = NULL;
      lws_set_opaque_user_data(wsi, NULL);
      conn_unref(c);
    }
    return 0;
  default:
    return 0;
  }
}

static const struct lws_protocols ws_protocols[] = {
    {"lahar-watch", ws_callback, 0, 64 * 1024, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void *ws_thread(void *arg) {
  lh_kube_wsclient *ws = arg;
  while (!__atomic_load_n(&ws->stop, __ATOMIC_ACQUIRE))
    if (lws_service(ws->ctx, 0) < 0) break;
  return NULL;
}

/* Splits "https://host:port" into host/port/tls. Returns 0 or LH_EKUBE_CONFIG. */
static int split_server(lh_kube_wsclient *ws, const char *server) {
  const char *p;
  if (strncmp(server, "https://", 8) == 0) ws->tls = 1, p = server + 8;
  else if (strncmp(server, "http://", 7) == 0) ws->tls = 0, p = server + 7;
  else return LH_EKUBE_CONFIG;
  const char *hend, *portp = NULL;
  if (*p == '[') {
    hend = strchr(p, ']');
    if (!hend) return LH_EKUBE_CONFIG;
    p++;
    if (hend[1] == ':') portp = hend + 2;
  } else {
    hend = p + strcspn(p, ":/");
    if (*hend == ':') portp = hend + 1;
  }
  size_t hl = (size_t)(hend - p);
  if (!hl || hl >= sizeof(ws->host)) return LH_EKUBE_CONFIG;
  memcpy(ws->host, p, hl);
  ws->host[hl] = '\0';
  ws->port = portp ? atoi(portp) : (ws->tls ? 443 : 80);
  if (ws->port <= 0 || ws->port > 65535) return LH_EKUBE_CONFIG;
  if (strchr(ws->host, ':')) snprintf(ws->hosthdr, sizeof(ws->hosthdr), "[%s]:%d", ws->host, ws->port);
  else snprintf(ws->hosthdr, sizeof(ws->hosthdr), "%s:%d", ws->host, ws->port);
  snprintf(ws->origin, sizeof(ws->origin), "%s://%s", ws->tls ? "https" : "http", ws->hosthdr);
  return 0;
}

int lh_kube_wsclient_new(lh_loop *loop, const lh_kube_config *cfg, lh_kube_wsclient **out) {
  *out = NULL;
  lh_kube_wsclient *ws = calloc(1, sizeof(*ws));
  if (!ws) return LH_EKUBE_NOMEM;
  ws->loop = loop;
  int rc = split_server(ws, cfg->server);
  if (rc) {
    free(ws);
    return rc;
  }
  ws->insecure = cfg->insecure;
  ws->cfg = lh_kube_config_dup(cfg);
  if (!ws->cfg) {
    free(ws);
    return LH_EKUBE_NOMEM;
  }
  if (cfg->token && *cfg->token) {
    size_t n = strlen(cfg->token) + 8;
    ws->auth = malloc(n);
    if (!ws->auth) {
      lh_kube_config_free(ws->cfg);
      free(ws);
      return LH_EKUBE_NOMEM;
    }
    snprintf(ws->auth, n, "Bearer %s", cfg->token);
  }
  pthread_mutex_init(&ws->mu, NULL);
  lws_set_log_level(LLL_ERR, NULL);
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof(info));
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = ws_protocols;
  info.user = ws;
  info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_JUST_USE_RAW_ORIGIN;
  info.pt_serv_buf_size = 32 * 1024; /* handshake headers carry a service-account JWT */
  info.fd_limit_per_thread = 64;
  if (ws->tls && !cfg->insecure && ws->cfg->ca_pem) {
    info.client_ssl_ca_mem = ws->cfg->ca_pem;
    info.client_ssl_ca_mem_len = (unsigned int)ws->cfg->ca_pem_len;
  }
  if (ws->tls && ws->cfg->cert_pem && ws->cfg->key_pem) {
    info.client_ssl_cert_mem = ws->cfg->cert_pem;
    info.client_ssl_cert_mem_len = (unsigned int)ws->cfg->cert_pem_len;
    info.client_ssl_key_mem = ws->cfg->key_pem;
    info.client_ssl_key_mem_len = (unsigned int)ws->cfg->key_pem_len;
  }
  ws->ctx = lws_create_context(&info);
  if (!ws->ctx) {
    rc = LH_EKUBE_TRANSPORT;
    goto err;
  }
  if (pthread_create(&ws->thread, NULL, ws_thread, ws) != 0) {
    lws_context_destroy(ws->ctx);
    rc = LH_EKUBE_TRANSPORT;
    goto err;
  }
  *out = ws;
  return 0;
err:
  pthread_mutex_destroy(&ws->mu);
  free(ws->auth);
  lh_kube_config_free(ws->cfg);
  free(ws);
  return rc;
}

void lh_kube_wsclient_free(lh_kube_wsclient *ws) {
  if (!ws) return;
  __atomic_store_n(&ws->stop, 1, __ATOMIC_RELEASE);
  lws_cancel_service(ws->ctx);
  pthread_join(ws->thread, NULL);
  /* commands never picked up hold a reference each */
  ws_conn *c = ws->cmds;
  while (c) {
    ws_conn *n = c->next_cmd;
    conn_unref(c);
    c = n;
  }
  lws_context_destroy(ws->ctx); /* WSI_DESTROY drops the lws side's references */
  pthread_mutex_destroy(&ws->mu);
  if (ws->auth) {
    memset(ws->auth, 0, strlen(ws->auth));
    free(ws->auth);
  }
  lh_kube_config_free(ws->cfg);
  free(ws);
}

int lh_kube_wsclient_set_origin(lh_kube_wsclient *ws, const char *origin) {
  if (!ws) return LH_EKUBE_INVAL;
  if (!origin) {
    ws->origin[0] = '\0';
    return 0;
  }
  if (strlen(origin) >= sizeof(ws->origin) || strpbrk(origin, "\r\n")) return LH_EKUBE_INVAL;
  /* read by the service thread in ws_connect(); the command queue's mutex orders this write
   * before any later watch's connect */
  snprintf(ws->origin, sizeof(ws->origin), "%s", origin);
  return 0;
}

/* Queues c for the service thread (connect, or kill once c->kill is set). A connection still
 * queued is not linked again — a stop that comes before the service thread took the connect
 * would otherwise make the list point to itself; the one pending command sees the kill flag and
 * drops its reference instead of connecting. */
static void ws_command(lh_kube_wsclient *ws, ws_conn *c) {
  pthread_mutex_lock(&ws->mu);
  if (!c->queued) {
    __atomic_add_fetch(&c->refs, 1, __ATOMIC_ACQ_REL); /* the command's reference */
    c->queued = 1;
    c->next_cmd = ws->cmds;
    ws->cmds = c;
  }
  pthread_mutex_unlock(&ws->mu);
  lws_cancel_service(ws->ctx);
}

/* --- watch handle (loop side) ------------------------------------------------------------- */

enum { T_CONNECTING, T_WS, T_HTTP };

struct lh_kube_watch {
  lh_kube_async *a;
  lh_kube_wsclient *ws;
  char *path;
  lh_kube_watch_mode mode;
  size_t max_event;
  int raw;                    /* events through lh_kube_watch_parse_raw */
  lh_kube_watch_event_cb *event_cb;
  lh_kube_watch_end_cb *end_cb;
  void *ud;
  int transport;            /* T_* */
  ws_conn *conn;            /* WS transport */
  lh_kube_stream *stream;   /* HTTP transport */
  lh_kube_linesplit ls;     /* HTTP line splitting */
  int delivering;           /* depth of callbacks in progress */
  int stopped;              /* stop() called or ended: free when delivering drops to 0 */
  int events;               /* events delivered (fallback only before the first) */
};

static void watch_free(lh_kube_watch *w) {
  lh_kube_linesplit_free(&w->ls);
  free(w->path);
  free(w);
}

static void watch_release(lh_kube_watch *w) {
  if (w->stopped && w->delivering == 0) watch_free(w);
}

/* Ends the watch with rc: detaches transports, calls end_cb, frees (deferred if delivering). */
static void watch_end(lh_kube_watch *w, int rc, const lh_kube_status *st) {
  if (w->stopped) return;
  lh_kube_status none;
  if (!st) {
    memset(&none, 0, sizeof(none));
    st = &none;
  }
  if (w->conn) {
    w->conn->w = NULL;
    __atomic_store_n(&w->conn->kill, 1, __ATOMIC_RELEASE);
    ws_command(w->ws, w->conn);
    conn_unref(w->conn);
    w->conn = NULL;
  }
  if (w->stream) {
    lh_kube_stream_cancel(w->stream);
    w->stream = NULL;
  }
  w->stopped = 1;
  w->delivering++;
  w->end_cb(w, rc, st, w->ud);
  w->delivering--;
  watch_release(w);
}

/* Parses and delivers one event. Returns non-zero when the watch must not go on. */
static int deliver_event(lh_kube_watch *w, const char *data, size_t len) {
  lh_kube_watch_event ev;
  json_t *root;
  char rv[128];
  int rc = w->raw ? lh_kube_watch_parse_raw(data, len, &ev, &root, rv, sizeof(rv))
                  : lh_kube_watch_parse(data, len, &ev, &root);
  if (rc != 0) {
    LH_WARN(COMP, "malformed watch event (%zu bytes) on %s", len, w->path);
    watch_end(w, LH_EKUBE_PARSE, NULL);
    return 1;
  }
  w->events++;
  w->delivering++;
  w->event_cb(w, &ev, w->ud);
  w->delivering--;
  json_decref(root);
  return w->stopped;
}

static int on_line(const char *line, size_t len, void *ud) { return deliver_event(ud, line, len); }

static int http_data(lh_kube_stream *s, const char *data, size_t len, void *ud) {
  lh_kube_watch *w = ud;
  if (len > 0 && w->transport != T_HTTP) w->transport = T_HTTP;
  w->delivering++;
  int rc = lh_kube_linesplit_feed(&w->ls, data, len, on_line, w);
  w->delivering--;
  if (rc == LH_EKUBE_TOOBIG || rc == LH_EKUBE_NOMEM) {
    LH_WARN(COMP, "watch event over %zu bytes on %s: ending the watch", w->max_event, w->path);
    w->stream = NULL; /* ends with LH_EKUBE_CLOSED inside curl; we report TOOBIG ourselves */
    lh_kube_stream_cancel(s);
    watch_end(w, LH_EKUBE_TOOBIG, NULL);
    return 1;
  }
  if (w->stopped) {
    watch_release(w);
    return 1;
  }
  return 0;
}

static void http_end(lh_kube_stream *s, int rc, lh_kube_response *resp, void *ud) {
  lh_kube_watch *w = ud;
  w->stream = NULL;
  if (rc == LH_EKUBE_TRANSPORT) {
    LH_INFO(COMP, "watch %s: %s", w->path, resp->error[0] ? resp->error : "transport error");
    /* no Status for a transport failure: report curl's text (e.g. the certificate problem) */
    if (!resp->status.message[0])
      snprintf(resp->status.message, sizeof(resp->status.message), "%s", resp->error);
  }
  watch_end(w, rc, &resp->status);
}

static int start_http(lh_kube_watch *w) {
  w->transport = T_HTTP;
  return lh_kube_async_stream(w->a, w->path, http_data, http_end, w, &w->stream);
}

static void deliver_ws_post(lh_loop *loop, void *data) {
  ws_post *p = data;
  ws_conn *c = p->c;
  lh_kube_watch *w = c->w;
  if (w && !w->stopped) {
    if (p->kind == 2) {
      w->transport = T_WS;
    } else if (p->kind == 0) {
      w->transport = T_WS;
      w->delivering++;
      deliver_event(w, p->data, p->len);
      w->delivering--;
      watch_release(w);
    } else if ((p->rc == LH_EKUBE_UPGRADE || (p->rc == LH_EKUBE_TRANSPORT && p->handshake_sent)) &&
               !p->established && w->transport == T_CONNECTING && w->events == 0 &&
               w->mode == LH_WATCH_AUTO) {
      /* The server was reached but refused the upgrade (a status, or it closed without an
       * answer): the same URL over chunked HTTP loses nothing (same resourceVersion). A failure
       * to connect or a rejected certificate is not a refusal: it ends the watch (TRANSPORT)
       * and the caller backs off, as HTTP would fail the same way. */
      LH_INFO(COMP, "websocket watch of %s failed (%s, http %d): falling back to chunked HTTP",
              w->path, lh_kube_strerror(p->rc), p->http_code);
      c->w = NULL;
      w->conn = NULL;
      conn_unref(c); /* the loop side's reference */
      int rc = start_http(w);
      if (rc) watch_end(w, rc, NULL);
    } else {
      lh_kube_status st;
      memset(&st, 0, sizeof(st));
      st.code = p->http_code;
      if (p->http_code) {
        const char *r = lh_kube_reason_for_code(p->http_code);
        snprintf(st.reason, sizeof(st.reason), "%s", r);
      }
      if (p->len) snprintf(st.message, sizeof(st.message), "%.*s", (int)p->len, p->data);
      else if (p->rc == LH_EKUBE_UPGRADE)
        snprintf(st.message, sizeof(st.message), "websocket upgrade refused (http %d)", p->http_code);
      watch_end(w, p->rc, &st);
    }
  }
  conn_unref(c);
  free(p);
}

int lh_kube_watch_start(lh_kube_async *a, lh_kube_wsclient *ws, const char *path,
                        const lh_kube_watch_opts *o, lh_kube_watch_event_cb *event_cb,
                        lh_kube_watch_end_cb *end_cb, void *ud, lh_kube_watch **out) {
  *out = NULL;
  if (!a || !path || path[0] != '/' || !event_cb || !end_cb) return LH_EKUBE_INVAL;
  lh_kube_watch *w = calloc(1, sizeof(*w));
  if (!w) return LH_EKUBE_NOMEM;
  w->a = a;
  w->ws = ws;
  w->mode = o ? o->mode : LH_WATCH_AUTO;
  w->max_event = o && o->max_event ? o->max_event : 16u << 20;
  w->event_cb = event_cb;
  w->end_cb = end_cb;
  w->ud = ud;
  w->path = strdup(path);
  lh_kube_linesplit_init(&w->ls, w->max_event);
  if (!w->path) {
    watch_free(w);
    return LH_EKUBE_NOMEM;
  }
  int rc;
  if (ws && w->mode != LH_WATCH_HTTP_ONLY) {
    ws_conn *c = calloc(1, sizeof(*c));
    if (!c || !(c->path = strdup(path))) {
      free(c);
      watch_free(w);
      return LH_EKUBE_NOMEM;
    }
    c->refs = 1; /* the loop side's; ws_command adds the lws side's */
    c->ws = ws;
    c->w = w;
    lh_buf_init(&c->msg, w->max_event);
    w->conn = c;
    w->transport = T_CONNECTING;
    ws_command(ws, c);
    rc = 0;
  } else {
    rc = start_http(w);
  }
  if (rc) {
    watch_free(w);
    return rc;
  }
  *out = w;
  return 0;
}

void lh_kube_watch_set_raw(lh_kube_watch *w, int raw) {
  if (w) w->raw = raw;
}

void lh_kube_watch_stop(lh_kube_watch *w) {
  if (!w || w->stopped) return;
  if (w->conn) {
    w->conn->w = NULL;
    __atomic_store_n(&w->conn->kill, 1, __ATOMIC_RELEASE);
    ws_command(w->ws, w->conn);
    conn_unref(w->conn);
    w->conn = NULL;
  }
  if (w->stream) {
    lh_kube_stream_cancel(w->stream);
    w->stream = NULL;
  }
  w->stopped = 1;
  watch_release(w);
}

const char *lh_kube_watch_transport(const lh_kube_watch *w) {
  return w->transport == T_WS ? "websocket" : w->transport == T_HTTP ? "http" : "connecting";
}
