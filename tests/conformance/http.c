/* http.c — the harness's HTTP side (see conformance.h): plain requests, newline-delimited watch
 * streams and WebSocket upgrade handshakes, all through libcurl with bearer-token auth.
 * Every body is capped (CF_BODY_CAP); curl's automatic "Expect: 100-continue" is turned off so
 * both servers see the same plain request. */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "conformance.h"

/* The key sent in every upgrade request, and its accept value from RFC 6455 section 1.3. */
#define WS_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define WS_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

void cf_response_free(cf_response *r) {
  if (!r) return;
  free(r->content_type);
  lh_buf_free(&r->body);
  r->content_type = NULL;
}

void cf_watch_free(cf_watch *w) {
  if (!w) return;
  free(w->content_type);
  lh_buf_free(&w->body);
  json_decref(w->events);
  memset(w, 0, sizeof *w);
}

void cf_ws_free(cf_ws *w) {
  if (!w) return;
  json_decref(w->payload);
  w->payload = NULL;
}

/* Creates a handle for server+path with auth, CA and timeout set; *hdrs receives the header list
 * (caller frees with curl_slist_free_all). Returns NULL when out of memory. */
static CURL *handle_for(const cf_conn *c, const char *path, long timeout_s, const char *const *extra,
                        struct curl_slist **hdrs) {
  CURL *h = curl_easy_init();
  if (!h) return NULL;
  size_t n = strlen(c->server) + strlen(path) + 1;
  char *url = malloc(n);
  if (!url) {
    curl_easy_cleanup(h);
    return NULL;
  }
  snprintf(url, n, "%s%s", c->server, path);
  curl_easy_setopt(h, CURLOPT_URL, url);
  free(url); /* libcurl copies option strings */
  if (c->cacert) curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  struct curl_slist *l = NULL;
  if (c->token && *c->token) {
    char auth[4096];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->token);
    l = curl_slist_append(l, auth);
  }
  l = curl_slist_append(l, "Expect:");
  for (int i = 0; extra && extra[i]; i++) l = curl_slist_append(l, extra[i]);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
  *hdrs = l;
  return h;
}

static char *media_type(CURL *h) {
  char *ct = NULL;
  if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) != CURLE_OK || !ct) return NULL;
  size_t n = strcspn(ct, ";");
  while (n > 0 && ct[n - 1] == ' ') n--;
  return strndup(ct, n);
}

static size_t collect(char *data, size_t size, size_t nmemb, void *ud) {
  lh_buf *b = ud;
  return lh_buf_add(b, data, size * nmemb) == LH_BUF_OK ? size * nmemb : 0;
}

int cf_http(const cf_conn *c, const char *method, const char *path, const char *content_type,
            const char *body, const char *const *headers, long timeout_s, cf_response *r) {
  memset(r, 0, sizeof *r);
  lh_buf_init(&r->body, CF_BODY_CAP);
  struct curl_slist *hdrs = NULL;
  const char *extra[24];
  int ne = 0;
  char ctline[256];
  extra[ne++] = "Accept: application/json";
  if (content_type) {
    snprintf(ctline, sizeof ctline, "Content-Type: %s", content_type);
    extra[ne++] = ctline;
  }
  for (int i = 0; headers && headers[i] && ne < 23; i++) extra[ne++] = headers[i];
  extra[ne] = NULL;
  CURL *h = handle_for(c, path, timeout_s, extra, &hdrs);
  if (!h) {
    snprintf(r->err, sizeof r->err, "out of memory");
    return -1;
  }
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
  if (body) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
  }
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &r->body);
  CURLcode rc = curl_easy_perform(h);
  int ret = 0;
  if (rc != CURLE_OK) {
    snprintf(r->err, sizeof r->err, "%s", curl_easy_strerror(rc));
    ret = -1;
  } else {
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    r->content_type = media_type(h);
  }
  curl_slist_free_all(hdrs);
  curl_easy_cleanup(h);
  return ret;
}

/* --- watch streams ---------------------------------------------------------------------------- */

typedef struct watch_ctx {
  CURL *h;
  cf_watch *w;
  lh_buf line;  /* the partial line being received */
  int max;
} watch_ctx;

/* Records one complete line as an event; returns 1 when max_events is reached. */
static int watch_line(watch_ctx *x, const char *text, size_t len) {
  while (len && (text[len - 1] == '\r' || text[len - 1] == ' ')) len--;
  if (len == 0) return 0;
  json_error_t jerr;
  json_t *ev = json_loadb(text, len, 0, &jerr);
  if (!ev) ev = json_stringn(text, len);
  json_array_append_new(x->w->events, ev);
  return x->max > 0 && (int)json_array_size(x->w->events) >= x->max;
}

static size_t watch_write(char *data, size_t size, size_t nmemb, void *ud) {
  watch_ctx *x = ud;
  size_t n = size * nmemb;
  long status = 0;
  curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) return lh_buf_add(&x->w->body, data, n) == LH_BUF_OK ? n : 0;
  for (size_t i = 0; i < n; i++) {
    if (data[i] != '\n') {
      if (lh_buf_add(&x->line, &data[i], 1) != LH_BUF_OK) return 0;
      continue;
    }
    int done = watch_line(x, lh_buf_str(&x->line), x->line.len);
    lh_buf_reset(&x->line);
    if (done) {
      x->w->stopped = 1;
      return 0; /* abort the transfer: the harness has what it asked for */
    }
  }
  return n;
}

/* Runs the transfer of h through a multi handle and calls during(ud) once, one second after the
 * start, while the stream stays open (a write that the open watch must see). Returns the
 * transfer's result. */
static CURLcode perform_with(CURL *h, void (*during)(void *), void *ud) {
  CURLM *m = curl_multi_init();
  if (!m) return CURLE_OUT_OF_MEMORY;
  curl_multi_add_handle(m, h);
  struct timespec t0, now;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int running = 1, called = 0;
  CURLcode rc = CURLE_OK;
  while (running) {
    if (curl_multi_perform(m, &running) != CURLM_OK) break;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!called && (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 >= 1000) {
      called = 1;
      during(ud);
    }
    if (running) curl_multi_poll(m, NULL, 0, 100, NULL);
  }
  int left;
  CURLMsg *msg;
  while ((msg = curl_multi_info_read(m, &left)) != NULL)
    if (msg->msg == CURLMSG_DONE && msg->easy_handle == h) rc = msg->data.result;
  curl_multi_remove_handle(m, h);
  curl_multi_cleanup(m);
  return rc;
}

int cf_watch_run(const cf_conn *c, const char *path, int max_events, long timeout_s, void (*during)(void *),
                 void *ud, cf_watch *w) {
  memset(w, 0, sizeof *w);
  lh_buf_init(&w->body, CF_BODY_CAP);
  w->events = json_array();
  watch_ctx x = {.w = w, .max = max_events};
  lh_buf_init(&x.line, CF_BODY_CAP);
  const char *extra[] = {"Accept: application/json", NULL};
  struct curl_slist *hdrs = NULL;
  CURL *h = handle_for(c, path, timeout_s, extra, &hdrs);
  if (!h) {
    lh_buf_free(&x.line);
    snprintf(w->err, sizeof w->err, "out of memory");
    return -1;
  }
  x.h = h;
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, watch_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
  CURLcode rc = during ? perform_with(h, during, ud) : curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &w->status);
  w->content_type = media_type(h);
  int ret = 0;
  if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && w->stopped)) {
    if (x.line.len) watch_line(&x, lh_buf_str(&x.line), x.line.len); /* unterminated last line */
  } else if (rc == CURLE_OPERATION_TIMEDOUT) {
    w->stopped = 2;
  } else {
    snprintf(w->err, sizeof w->err, "%s", curl_easy_strerror(rc));
    ret = -1;
  }
  lh_buf_free(&x.line);
  curl_slist_free_all(hdrs);
  curl_easy_cleanup(h);
  return ret;
}

/* --- WebSocket handshakes --------------------------------------------------------------------- */

typedef struct ws_ctx {
  cf_ws *w;
  lh_buf data;
  int done;
} ws_ctx;

static size_t ws_header(char *data, size_t size, size_t nmemb, void *ud) {
  ws_ctx *x = ud;
  size_t n = size * nmemb;
  static const char name[] = "Sec-WebSocket-Accept:";
  if (n > sizeof name && strncasecmp(data, name, sizeof name - 1) == 0) {
    const char *v = data + sizeof name - 1;
    while (*v == ' ') v++;
    size_t vl = n - (size_t)(v - data);
    while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' ')) vl--;
    x->w->accept_ok = vl == strlen(WS_ACCEPT) && memcmp(v, WS_ACCEPT, vl) == 0;
  }
  return n;
}

/* Decodes the first frame once it is complete; returns 1 then. */
static int ws_frame(ws_ctx *x) {
  const unsigned char *b = (const unsigned char *)lh_buf_str(&x->data);
  size_t n = x->data.len, hl = 2;
  if (n < 2) return 0;
  unsigned long long len = b[1] & 0x7f;
  if (len == 126) {
    if (n < 4) return 0;
    len = ((unsigned long long)b[2] << 8) | b[3];
    hl = 4;
  } else if (len == 127) {
    if (n < 10) return 0;
    len = 0;
    for (int i = 0; i < 8; i++) len = (len << 8) | b[2 + i];
    hl = 10;
  }
  int masked = (b[1] & 0x80) != 0;
  if (masked) hl += 4;
  if (len > CF_BODY_CAP || n < hl + len) return 0;
  x->w->have_frame = 1;
  x->w->b0 = b[0];
  x->w->masked = masked;
  char *payload = malloc(len + 1);
  if (!payload) return 1;
  for (unsigned long long i = 0; i < len; i++)
    payload[i] = (char)(masked ? b[hl + i] ^ b[hl - 4 + (i % 4)] : b[hl + i]);
  json_error_t jerr;
  x->w->payload = json_loadb(payload, len, 0, &jerr);
  free(payload);
  return 1;
}

static size_t ws_write(char *data, size_t size, size_t nmemb, void *ud) {
  ws_ctx *x = ud;
  size_t n = size * nmemb;
  if (lh_buf_add(&x->data, data, n) != LH_BUF_OK) return 0;
  if (x->w->status == 101 && ws_frame(x)) {
    x->done = 1;
    return 0;
  }
  return n;
}

/* libcurl hands the 101 head to the header callback; the status is read from the first line. */
static size_t ws_header_status(char *data, size_t size, size_t nmemb, void *ud) {
  ws_ctx *x = ud;
  size_t n = size * nmemb;
  if (n > 12 && strncmp(data, "HTTP/", 5) == 0) {
    const char *sp = memchr(data, ' ', n);
    if (sp) x->w->status = strtol(sp + 1, NULL, 10);
  }
  return ws_header(data, size, nmemb, ud);
}

int cf_ws_run(const cf_conn *c, const char *path, const char *origin, long timeout_s, cf_ws *w) {
  memset(w, 0, sizeof *w);
  ws_ctx x = {.w = w};
  lh_buf_init(&x.data, CF_BODY_CAP);
  char oline[512];
  const char *extra[8];
  int ne = 0;
  extra[ne++] = "Connection: Upgrade";
  extra[ne++] = "Upgrade: websocket";
  extra[ne++] = "Sec-WebSocket-Version: 13";
  extra[ne++] = "Sec-WebSocket-Key: " WS_KEY;
  if (origin) {
    snprintf(oline, sizeof oline, "Origin: %s", origin);
    extra[ne++] = oline;
  }
  extra[ne] = NULL;
  struct curl_slist *hdrs = NULL;
  CURL *h = handle_for(c, path, timeout_s, extra, &hdrs);
  if (!h) {
    lh_buf_free(&x.data);
    snprintf(w->err, sizeof w->err, "out of memory");
    return -1;
  }
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, ws_header_status);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, ws_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
  CURLcode rc = curl_easy_perform(h);
  int ret = 0;
  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && x.done) && rc != CURLE_OPERATION_TIMEDOUT) {
    snprintf(w->err, sizeof w->err, "%s", curl_easy_strerror(rc));
    ret = w->status ? 0 : -1;
  }
  lh_buf_free(&x.data);
  curl_slist_free_all(hdrs);
  curl_easy_cleanup(h);
  return ret;
}
