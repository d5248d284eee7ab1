/* router.c — path and query parsing for the API server (see router.h). */
#include "localcluster/router.h"

#include <errno.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SEGS 12

static int split(const char *path, char segs[MAX_SEGS][LC_NAME_MAX], int *n) {
  *n = 0;
  const char *p = path;
  while (*p) {
    while (*p == '/') p++;
    if (!*p) break;
    const char *e = strchr(p, '/');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (*n >= MAX_SEGS || len >= LC_SEG_MAX) return -1;
    memcpy(segs[*n], p, len);
    segs[*n][len] = 0;
    (*n)++;
    p += len;
  }
  return 0;
}

static void cpy(char *dst, const char *src) {
  /* every destination is LC_SEG_MAX or LC_NAME_MAX (same size) and split() bounded src */
  size_t n = strlen(src);
  if (n >= LC_SEG_MAX) n = LC_SEG_MAX - 1;
  memcpy(dst, src, n);
  dst[n] = 0;
}

/* segs[i..n) after the group/version prefix */
static void parse_rest(char segs[MAX_SEGS][LC_NAME_MAX], int i, int n, lc_route *r) {
  if (i < n && !strcmp(segs[i], "watch")) {
    r->legacy_watch = 1;
    i++;
  }
  int left = n - i;
  if (left <= 0) {
    r->kind = LC_R_NONE;
    return;
  }
  if (!strcmp(segs[i], "namespaces") && left >= 3) {
    /* /namespaces/NS/status|finalize is the namespace itself, unless more follows */
    if (left == 3 && (!strcmp(segs[i + 2], "status") || !strcmp(segs[i + 2], "finalize"))) {
      cpy(r->resource, "namespaces");
      cpy(r->name, segs[i + 1]);
      cpy(r->sub, segs[i + 2]);
      r->kind = LC_R_RESOURCE;
      return;
    }
    cpy(r->ns, segs[i + 1]);
    r->has_ns = 1;
    i += 2;
    left -= 2;
  }
  if (left > 3) {
    r->kind = LC_R_NONE;
    return;
  }
  cpy(r->resource, segs[i]);
  if (left >= 2) cpy(r->name, segs[i + 1]);
  if (left == 3) cpy(r->sub, segs[i + 2]);
  r->kind = LC_R_RESOURCE;
}

void lc_route_parse(const char *path, lc_route *r) {
  memset(r, 0, sizeof *r);
  char segs[MAX_SEGS][LC_NAME_MAX];
  int n;
  if (!path || split(path, segs, &n) < 0 || n == 0) return;
  if (!strcmp(segs[0], "version") && n == 1) { r->kind = LC_R_VERSION; return; }
  if (!strcmp(segs[0], "healthz") || !strcmp(segs[0], "livez") || !strcmp(segs[0], "readyz")) {
    r->kind = LC_R_HEALTH;
    r->readyz = !strcmp(segs[0], "readyz");
    return;
  }
  if (!strcmp(segs[0], "openapi") && n == 2) {
    if (!strcmp(segs[1], "v2")) r->kind = LC_R_OPENAPI_V2;
    else if (!strcmp(segs[1], "v3")) r->kind = LC_R_OPENAPI_V3;
    return;
  }
  if (!strcmp(segs[0], "api")) {
    if (n == 1) { r->kind = LC_R_API; return; }
    if (strcmp(segs[1], "v1")) return;
    cpy(r->version, "v1");
    if (n == 2) { r->kind = LC_R_API_V1; return; }
    parse_rest(segs, 2, n, r);
    return;
  }
  if (!strcmp(segs[0], "apis")) {
    if (n == 1) { r->kind = LC_R_APIS; return; }
    cpy(r->group, segs[1]);
    if (n == 2) { r->kind = LC_R_GROUP; return; }
    cpy(r->version, segs[2]);
    if (n == 3) { r->kind = LC_R_GROUP_VERSION; return; }
    parse_rest(segs, 3, n, r);
    return;
  }
}

void lc_query_init(lc_query *q) {
  memset(q, 0, sizeof *q);
  q->grace_period = -1;
  q->tail_lines = -1;
}

static int set_str(char *dst, size_t sz, const char *v) {
  size_t l = strlen(v);
  if (l >= sz) return -1;
  memcpy(dst, v, l + 1);
  return 0;
}

static int parse_long(const char *v, long *out) {
  if (!*v) return -1;
  char *end;
  errno = 0;
  long x = strtol(v, &end, 10);
  if (errno || *end || x < 0) return -1;
  *out = x;
  return 0;
}

static int parse_bool(const char *v) {
  return !strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "t") || !strcmp(v, "");
}

int lc_query_set(lc_query *q, const char *name, const char *v) {
  int rc = 0;
  if (!strcmp(name, "labelSelector")) rc = set_str(q->label_selector, sizeof q->label_selector, v);
  else if (!strcmp(name, "fieldSelector")) rc = set_str(q->field_selector, sizeof q->field_selector, v);
  else if (!strcmp(name, "continue")) rc = set_str(q->continue_tok, sizeof q->continue_tok, v);
  else if (!strcmp(name, "resourceVersion")) {
    rc = set_str(q->resource_version, sizeof q->resource_version, v);
    q->has_rv = 1;
  } else if (!strcmp(name, "propagationPolicy")) rc = set_str(q->propagation, sizeof q->propagation, v);
  else if (!strcmp(name, "fieldManager")) rc = set_str(q->field_manager, sizeof q->field_manager, v);
  else if (!strcmp(name, "container")) rc = set_str(q->container, sizeof q->container, v);
  else if (!strcmp(name, "includeObject")) {
    rc = (strcmp(v, "Object") && strcmp(v, "Metadata") && strcmp(v, "None") && *v) ||
         set_str(q->include_object, sizeof q->include_object, v);
  }
  else if (!strcmp(name, "limit")) rc = parse_long(v, &q->limit);
  else if (!strcmp(name, "timeoutSeconds")) rc = parse_long(v, &q->timeout_seconds);
  else if (!strcmp(name, "gracePeriodSeconds")) rc = parse_long(v, &q->grace_period);
  else if (!strcmp(name, "tailLines")) rc = parse_long(v, &q->tail_lines);
  else if (!strcmp(name, "watch")) q->watch = parse_bool(v);
  else if (!strcmp(name, "follow")) q->follow = parse_bool(v);
  else if (!strcmp(name, "allowWatchBookmarks")) q->allow_bookmarks = parse_bool(v);
  else if (!strcmp(name, "dryRun")) q->dry_run = *v != 0;
  /* everything else (timeout, fieldValidation, pretty, ...) is accepted and ignored */
  if (rc) snprintf(q->bad, sizeof q->bad, "%s", name);
  return rc ? -1 : 0;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int lc_url_decode(char *dst, size_t dstsz, const char *src, size_t srclen, int plus_space) {
  size_t o = 0;
  for (size_t i = 0; i < srclen; i++) {
    int c = (unsigned char)src[i];
    if (c == '%') {
      if (i + 2 >= srclen) return -1;
      int h = hexval(src[i + 1]), l = hexval(src[i + 2]);
      if (h < 0 || l < 0) return -1;
      c = h * 16 + l;
      i += 2;
    } else if (c == '+' && plus_space) {
      c = ' ';
    }
    if (o + 1 >= dstsz) return -1;
    dst[o++] = (char)c;
  }
  if (o >= dstsz) return -1;
  dst[o] = 0;
  return (int)o;
}

int lc_query_parse(lc_query *q, const char *raw) {
  const char *p = raw;
  while (p && *p) {
    const char *amp = strchr(p, '&');
    size_t len = amp ? (size_t)(amp - p) : strlen(p);
    const char *eq = memchr(p, '=', len);
    size_t nlen = eq ? (size_t)(eq - p) : len;
    char name[128], val[4096];
    if (len) {
      if (lc_url_decode(name, sizeof name, p, nlen, 1) < 0) {
        snprintf(q->bad, sizeof q->bad, "query");
        return -1;
      }
      if (eq) {
        if (lc_url_decode(val, sizeof val, eq + 1, len - nlen - 1, 1) < 0) {
          snprintf(q->bad, sizeof q->bad, "%s", name);
          return -1;
        }
      } else {
        val[0] = 0;
      }
      if (lc_query_set(q, name, val) < 0) return -1;
    }
    p = amp ? amp + 1 : NULL;
  }
  return 0;
}
