/* buf.c — see buf.h. Growth doubles, bounded by cap. */
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lh_buf_init(lh_buf *b, size_t cap) {
  b->data = NULL;
  b->len = 0;
  b->alloc = 0;
  b->cap = cap;
}

void lh_buf_free(lh_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->alloc = 0;
}

void lh_buf_reset(lh_buf *b) {
  b->len = 0;
  if (b->data) b->data[0] = '\0';
}

static int buf_reserve(lh_buf *b, size_t extra) {
  if (extra > b->cap || b->len > b->cap - extra) return LH_BUF_TOOBIG;
  size_t need = b->len + extra + 1;
  if (need <= b->alloc) return LH_BUF_OK;
  size_t n = b->alloc ? b->alloc : 64;
  while (n < need) n = n > ((size_t)-1) / 2 ? need : n * 2;
  char *p = realloc(b->data, n);
  if (!p) return LH_BUF_NOMEM;
  b->data = p;
  b->alloc = n;
  return LH_BUF_OK;
}

int lh_buf_add(lh_buf *b, const void *data, size_t len) {
  int rc = buf_reserve(b, len);
  if (rc) return rc;
  if (len) memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
  return LH_BUF_OK;
}

int lh_buf_adds(lh_buf *b, const char *s) { return lh_buf_add(b, s, strlen(s)); }

int lh_buf_vaddf(lh_buf *b, const char *fmt, va_list ap) {
  va_list cp;
  va_copy(cp, ap);
  int n = vsnprintf(NULL, 0, fmt, cp);
  va_end(cp);
  if (n < 0) return LH_BUF_NOMEM;
  int rc = buf_reserve(b, (size_t)n);
  if (rc) return rc;
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
  return LH_BUF_OK;
}

int lh_buf_addf(lh_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = lh_buf_vaddf(b, fmt, ap);
  va_end(ap);
  return rc;
}

char *lh_buf_take(lh_buf *b) {
  char *p = b->data;
  if (!p) p = calloc(1, 1);
  lh_buf_init(b, b->cap);
  return p;
}
