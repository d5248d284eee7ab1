/* client.c — URL/path building, metav1.Status parsing, request bodies (DeleteOptions, Binding)
 * and the blocking REST client over a reused curl easy handle.
 * Sections: URL building; Status; bodies; curl setup shared with async.c; blocking client. */
#include "kube/client.h"
#include "kube/kube_int.h"
#include "util/log.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* --- URL building ------------------------------------------------------------------------ */

int lh_kube_escape(lh_buf *out, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    int rc;
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
        *p == '-' || *p == '.' || *p == '_' || *p == '~') {
      rc = lh_buf_add(out, p, 1);
    } else {
      char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
      rc = lh_buf_add(out, e, 3);
    }
    if (rc) return rc == LH_BUF_TOOBIG ? LH_EKUBE_TOOBIG : LH_EKUBE_NOMEM;
  }
  return 0;
}

static int seg(lh_buf *out, const char *s) {
  if (!s || !*s) return LH_EKUBE_INVAL;
  if (lh_buf_adds(out, "/")) return LH_EKUBE_TOOBIG;
  return lh_kube_escape(out, s);
}

int lh_kube_path(lh_buf *out, const lh_kube_resource *r, const char *ns, const char *name,
                 const char *sub) {
  if (!r || !r->version || !r->resource || (sub && !name)) return LH_EKUBE_INVAL;
  int rc;
  if (r->group && *r->group) {
    if ((rc = lh_buf_adds(out, "/apis"))) return LH_EKUBE_TOOBIG;
    if ((rc = seg(out, r->group))) return rc;
  } else if ((rc = lh_buf_adds(out, "/api"))) {
    return LH_EKUBE_TOOBIG;
  }
  if ((rc = seg(out, r->version))) return rc;
  if (r->namespaced && ns && *ns) {
    if ((rc = seg(out, "namespaces")) || (rc = seg(out, ns))) return rc;
  }
  if ((rc = seg(out, r->resource))) return rc;
  if (name && (rc = seg(out, name))) return rc;
  if (sub && (rc = seg(out, sub))) return rc;
  return 0;
}

static int qparam(lh_buf *out, int *first, const char *k, const char *v) {
  if (lh_buf_adds(out, *first ? "?" : "&") || lh_buf_adds(out, k) || lh_buf_adds(out, "="))
    return LH_EKUBE_TOOBIG;
  *first = 0;
  return lh_kube_escape(out, v);
}

int lh_kube_query(lh_buf *out, const lh_kube_list_opts *o) {
  if (!o) return 0;
  int first = 1, rc = 0;
  char num[32];
  if (!rc && o->watch) rc = qparam(out, &first, "watch", "1");
  if (!rc && o->allow_bookmarks) rc = qparam(out, &first, "allowWatchBookmarks", "true");
  if (!rc && o->label_selector && *o->label_selector)
    rc = qparam(out, &first, "labelSelector", o->label_selector);
  if (!rc && o->field_selector && *o->field_selector)
    rc = qparam(out, &first, "fieldSelector", o->field_selector);
  if (!rc && o->resource_version && *o->resource_version)
    rc = qparam(out, &first, "resourceVersion", o->resource_version);
  if (!rc && o->limit > 0) {
    snprintf(num, sizeof(num), "%ld", o->limit);
    rc = qparam(out, &first, "limit", num);
  }
  if (!rc && o->continue_token && *o->continue_token)
    rc = qparam(out, &first, "continue", o->continue_token);
  if (!rc && o->timeout_seconds > 0) {
    snprintf(num, sizeof(num), "%ld", o->timeout_seconds);
    rc = qparam(out, &first, "timeoutSeconds", num);
  }
  return rc;
}

/* --- Status ------------------------------------------------------------------------------ */

const char *lh_kube_reason_for_code(int code) {
  switch (code) {
  case 400: return "BadRequest";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "NotFound";
  case 405: return "MethodNotAllowed";
  case 406: return "NotAcceptable";
  case 409: return "Conflict";
  case 410: return "Expired";
  case 413: return "RequestEntityTooLarge";
  case 415: return "UnsupportedMediaType";
  case 422: return "Invalid";
  case 429: return "TooManyRequests";
  case 500: return "InternalError";
  case 503: return "ServiceUnavailable";
  case 504: return "Timeout";
  default: return "";
  }
}

static void copy_trunc(char *dst, size_t cap, const char *src, size_t len) {
  if (len >= cap) len = cap - 1;
  memcpy(dst, src, len);
  dst[len] = '\0';
  for (size_t i = 0; i < len; i++) /* keep log lines single-line */
    if (dst[i] == '\n' || dst[i] == '\r') dst[i] = ' ';
}

int lh_kube_status_parse(const char *body, size_t len, int http_code, lh_kube_status *st) {
  memset(st, 0, sizeof(*st));
  st->code = http_code;
  const char *r = lh_kube_reason_for_code(http_code);
  copy_trunc(st->reason, sizeof(st->reason), r, strlen(r));
  if (!body || !len) return LH_EKUBE_PARSE;
  json_t *j = json_loadb(body, len, 0, NULL);
  const char *kind = j ? json_string_value(json_object_get(j, "kind")) : NULL;
  if (!j || !json_is_object(j) || !kind || strcmp(kind, "Status") != 0) {
    copy_trunc(st->message, sizeof(st->message), body, len);
    json_decref(j);
    return LH_EKUBE_PARSE;
  }
  json_t *v;
  if ((v = json_object_get(j, "code")) && json_is_integer(v)) st->code = (int)json_integer_value(v);
  if ((v = json_object_get(j, "status")) && json_is_string(v))
    copy_trunc(st->status, sizeof(st->status), json_string_value(v), json_string_length(v));
  if ((v = json_object_get(j, "reason")) && json_is_string(v))
    copy_trunc(st->reason, sizeof(st->reason), json_string_value(v), json_string_length(v));
  if ((v = json_object_get(j, "message")) && json_is_string(v))
    copy_trunc(st->message, sizeof(st->message), json_string_value(v), json_string_length(v));
  json_decref(j);
  return 0;
}

void lh_kube_response_free(lh_kube_response *r) {
  if (!r) return;
  free(r->body);
  r->body = NULL;
  r->len = 0;
}

/* --- bodies -------------------------------------------------------------------------------- */

const char *lh_kube_patch_content_type(lh_kube_patch_type t) {
  switch (t) {
  case LH_PATCH_JSON: return "application/json-patch+json";
  case LH_PATCH_STRATEGIC: return "application/strategic-merge-patch+json";
  default: return "application/merge-patch+json";
  }
}

char *lh_kube_delete_body(const lh_kube_delete_opts *o) {
  json_t *j = json_pack("{s:s, s:s}", "kind", "DeleteOptions", "apiVersion", "v1");
  if (!j) return NULL;
  if (o) {
    if (o->propagation_policy)
      json_object_set_new(j, "propagationPolicy", json_string(o->propagation_policy));
    if (o->grace_period_seconds >= 0)
      json_object_set_new(j, "gracePeriodSeconds", json_integer(o->grace_period_seconds));
    if (o->precondition_uid || o->precondition_rv) {
      json_t *pre = json_object();
      if (o->precondition_uid) json_object_set_new(pre, "uid", json_string(o->precondition_uid));
      if (o->precondition_rv)
        json_object_set_new(pre, "resourceVersion", json_string(o->precondition_rv));
      json_object_set_new(j, "preconditions", pre);
    }
  }
  char *s = json_dumps(j, JSON_COMPACT);
  json_decref(j);
  return s;
}

char *lh_kube_binding_body(const char *pod, const char *node, const char *pod_uid) {
  if (!pod || !node) return NULL;
  json_t *meta = json_pack("{s:s}", "name", pod);
  if (meta && pod_uid) json_object_set_new(meta, "uid", json_string(pod_uid));
  json_t *j = json_pack("{s:s, s:s, s:o, s:{s:s, s:s, s:s}}", "apiVersion", "v1", "kind",
                        "Binding", "metadata", meta, "target", "apiVersion", "v1", "kind",
                        "Node", "name", node);
  if (!j) return NULL;
  char *s = json_dumps(j, JSON_COMPACT);
  json_decref(j);
  return s;
}

/* --- curl setup shared with async.c ---------------------------------------------------- */

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static void do_global_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }
void lh_kube__global_init(void) { pthread_once(&g_once, do_global_init); }

int lh_kube__easy_tls(CURL *e, const lh_kube_config *cfg, long connect_timeout_ms) {
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms > 0 ? connect_timeout_ms : 5000L);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  if (cfg->insecure) {
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
  } else {
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (cfg->ca_pem) {
      struct curl_blob b = {cfg->ca_pem, cfg->ca_pem_len, CURL_BLOB_COPY};
      if (curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b) != CURLE_OK) return LH_EKUBE_CONFIG;
    }
  }
  if (cfg->cert_pem && cfg->key_pem) {
    struct curl_blob c = {cfg->cert_pem, cfg->cert_pem_len, CURL_BLOB_COPY};
    struct curl_blob k = {cfg->key_pem, cfg->key_pem_len, CURL_BLOB_COPY};
    if (curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &c) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &k) != CURLE_OK)
      return LH_EKUBE_CONFIG;
    curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
  }
  return 0;
}

struct curl_slist *lh_kube__headers(const lh_kube_config *cfg, const char *content_type,
                                    const char *accept) {
  struct curl_slist *h = NULL, *t;
  char line[256];
  snprintf(line, sizeof(line), "Accept: %s", accept ? accept : "application/json");
  if (!(h = curl_slist_append(NULL, line))) return NULL;
  if (content_type) {
    snprintf(line, sizeof(line), "Content-Type: %s", content_type);
    if (!(t = curl_slist_append(h, line))) goto err;
    h = t;
  }
  if (!(t = curl_slist_append(h, "Expect:"))) goto err; /* no 100-continue round trip */
  h = t;
  if (cfg->token && *cfg->token) {
    size_t n = strlen(cfg->token) + 32;
    char *a = malloc(n);
    if (!a) goto err;
    snprintf(a, n, "Authorization: Bearer %s", cfg->token);
    t = curl_slist_append(h, a);
    memset(a, 0, n);
    free(a);
    if (!t) goto err;
    h = t;
  }
  return h;
err:
  curl_slist_free_all(h);
  return NULL;
}

int lh_kube__finish(lh_kube_response *resp) {
  if (resp->http_code >= 200 && resp->http_code < 300) return 0;
  lh_kube_status_parse(resp->body, resp->len, (int)resp->http_code, &resp->status);
  return resp->status.code == 410 || resp->http_code == 410 ? LH_EKUBE_GONE : LH_EKUBE_HTTP;
}

/* --- blocking client ----------------------------------------------------------------------- */

struct lh_kube_client {
  lh_kube_config *cfg;     /* private copy */
  lh_kube_client_opts o;   /* with defaults applied */
  CURL *easy;              /* reused: keeps its keep-alive connection between calls */
  lh_buf body;             /* response accumulator, capped at o.max_response */
};

static size_t on_write(char *p, size_t sz, size_t n, void *ud) {
  lh_buf *b = ud;
  return lh_buf_add(b, p, sz * n) == 0 ? sz * n : 0; /* 0 makes curl abort: CURLE_WRITE_ERROR */
}

int lh_kube_client_new(const lh_kube_config *cfg, const lh_kube_client_opts *o,
                       lh_kube_client **out) {
  *out = NULL;
  if (!cfg || !cfg->server) return LH_EKUBE_CONFIG;
  lh_kube__global_init();
  lh_kube_client *c = calloc(1, sizeof(*c));
  if (!c) return LH_EKUBE_NOMEM;
  if (o) c->o = *o;
  if (c->o.connect_timeout_ms <= 0) c->o.connect_timeout_ms = 5000;
  if (c->o.timeout_ms <= 0) c->o.timeout_ms = 30000;
  if (!c->o.max_response) c->o.max_response = 64u << 20;
  if (!c->o.user_agent) c->o.user_agent = "lahar/0.1";
  c->cfg = lh_kube_config_dup(cfg);
  c->easy = curl_easy_init();
  if (!c->cfg || !c->easy) {
    lh_kube_client_free(c);
    return LH_EKUBE_NOMEM;
  }
  lh_buf_init(&c->body, c->o.max_response);
  *out = c;
  return 0;
}

void lh_kube_client_free(lh_kube_client *c) {
  if (!c) return;
  if (c->easy) curl_easy_cleanup(c->easy);
  lh_kube_config_free(c->cfg);
  lh_buf_free(&c->body);
  free(c);
}

const lh_kube_config *lh_kube_client_config(const lh_kube_client *c) { return c->cfg; }

int lh_kube_request(lh_kube_client *c, const char *method, const char *path,
                    const char *content_type, const char *body, size_t body_len,
                    lh_kube_response *resp) {
  memset(resp, 0, sizeof(*resp));
  if (!method || !path || path[0] != '/') return LH_EKUBE_INVAL;
  lh_buf url;
  lh_buf_init(&url, 1u << 16);
  if (lh_buf_adds(&url, c->cfg->server) || lh_buf_adds(&url, path)) {
    lh_buf_free(&url);
    return LH_EKUBE_TOOBIG;
  }
  CURL *e = c->easy;
  curl_easy_reset(e); /* keeps the connection cache: keep-alive survives */
  int rc = lh_kube__easy_tls(e, c->cfg, c->o.connect_timeout_ms);
  struct curl_slist *hdrs = lh_kube__headers(c->cfg, body ? content_type : NULL, NULL);
  if (rc || !hdrs) {
    curl_slist_free_all(hdrs);
    lh_buf_free(&url);
    return rc ? rc : LH_EKUBE_NOMEM;
  }
  lh_buf_reset(&c->body);
  curl_easy_setopt(e, CURLOPT_URL, lh_buf_str(&url));
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(e, CURLOPT_USERAGENT, c->o.user_agent);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->o.timeout_ms);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &c->body);
  curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
  if (strcmp(method, "GET") == 0) curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  if (body) {
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
  }
  char errbuf[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
  CURLcode cc = curl_easy_perform(e);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, NULL);
  curl_slist_free_all(hdrs);
  lh_buf_free(&url);
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp->http_code);
  resp->len = c->body.len;
  resp->body = lh_buf_take(&c->body);
  if (cc == CURLE_WRITE_ERROR) {
    snprintf(resp->error, sizeof(resp->error), "response larger than %zu bytes", c->o.max_response);
    return LH_EKUBE_TOOBIG;
  }
  if (cc != CURLE_OK) {
    snprintf(resp->error, sizeof(resp->error), "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
    return LH_EKUBE_TRANSPORT;
  }
  return lh_kube__finish(resp);
}

static int with_path(lh_kube_client *c, const char *method, const lh_kube_resource *r,
                     const char *ns, const char *name, const char *sub,
                     const lh_kube_list_opts *o, const char *ctype, const char *body,
                     lh_kube_response *resp) {
  memset(resp, 0, sizeof(*resp));
  lh_buf p;
  lh_buf_init(&p, 1u << 16);
  int rc = lh_kube_path(&p, r, ns, name, sub);
  if (!rc) rc = lh_kube_query(&p, o);
  if (!rc) rc = lh_kube_request(c, method, lh_buf_str(&p), ctype, body, body ? strlen(body) : 0, resp);
  lh_buf_free(&p);
  return rc;
}

int lh_kube_get(lh_kube_client *c, const lh_kube_resource *r, const char *ns, const char *name,
                lh_kube_response *resp) {
  if (!name) return LH_EKUBE_INVAL;
  return with_path(c, "GET", r, ns, name, NULL, NULL, NULL, NULL, resp);
}

int lh_kube_list(lh_kube_client *c, const lh_kube_resource *r, const char *ns,
                 const lh_kube_list_opts *o, lh_kube_response *resp) {
  return with_path(c, "GET", r, ns, NULL, NULL, o, NULL, NULL, resp);
}

int lh_kube_create(lh_kube_client *c, const lh_kube_resource *r, const char *ns,
                   const char *json, lh_kube_response *resp) {
  if (!json) return LH_EKUBE_INVAL;
  return with_path(c, "POST", r, ns, NULL, NULL, NULL, "application/json", json, resp);
}

int lh_kube_update(lh_kube_client *c, const lh_kube_resource *r, const char *ns, const char *name,
                   const char *sub, const char *json, lh_kube_response *resp) {
  if (!name || !json) return LH_EKUBE_INVAL;
  return with_path(c, "PUT", r, ns, name, sub, NULL, "application/json", json, resp);
}

int lh_kube_patch(lh_kube_client *c, const lh_kube_resource *r, const char *ns, const char *name,
                  const char *sub, lh_kube_patch_type type, const char *patch,
                  lh_kube_response *resp) {
  if (!name || !patch) return LH_EKUBE_INVAL;
  return with_path(c, "PATCH", r, ns, name, sub, NULL, lh_kube_patch_content_type(type), patch,
                   resp);
}

int lh_kube_delete(lh_kube_client *c, const lh_kube_resource *r, const char *ns, const char *name,
                   const lh_kube_delete_opts *o, lh_kube_response *resp) {
  if (!name) return LH_EKUBE_INVAL;
  char *body = o ? lh_kube_delete_body(o) : NULL;
  if (o && !body) return LH_EKUBE_NOMEM;
  int rc = with_path(c, "DELETE", r, ns, name, NULL, NULL, "application/json", body, resp);
  free(body);
  return rc;
}

int lh_kube_bind(lh_kube_client *c, const char *ns, const char *pod, const char *node,
                 const char *pod_uid, lh_kube_response *resp) {
  char *body = lh_kube_binding_body(pod, node, pod_uid);
  if (!body) return pod && node ? LH_EKUBE_NOMEM : LH_EKUBE_INVAL;
  int rc = with_path(c, "POST", &LH_KUBE_PODS, ns, pod, "binding", NULL, "application/json", body,
                     resp);
  free(body);
  return rc;
}
