/* jscan.c — strict validation and in-place navigation of JSON text (jscan.h).
 * Sections: byte classes; validation; navigation; strings and numbers. */
#include "util/jscan.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* --- byte classes ------------------------------------------------------------------------ */

/* 1: a byte that may appear raw in a string and needs no further check (printable ASCII other
 * than '"' and '\\'). Everything else is the slow path: end, escape, control or UTF-8 lead. */
static const uint8_t PLAIN[256] = {
#define R8(v) v, v, v, v, v, v, v, v
    R8(0), R8(0), R8(0), R8(0),                         /* 0x00-0x1f control */
    1, 1, 0, 1, 1, 1, 1, 1, R8(1), R8(1), R8(1),        /* 0x20-0x3f, '"' excluded */
    R8(1), R8(1), R8(1), 1, 1, 1, 1, 0, 1, 1, 1,        /* 0x40-0x5f, '\\' excluded */
    R8(1), R8(1), R8(1), R8(1),                         /* 0x60-0x7f */
    R8(0), R8(0), R8(0), R8(0), R8(0), R8(0), R8(0), R8(0),
    R8(0), R8(0), R8(0), R8(0), R8(0), R8(0), R8(0), R8(0),
#undef R8
};

static int is_ws(uint8_t c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
static int is_digit(uint8_t c) { return c >= '0' && c <= '9'; }

static const uint8_t *skip_ws(const uint8_t *p, const uint8_t *e) {
  while (p < e && is_ws(*p)) p++;
  return p;
}

static int hexval(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Reads 4 hex digits at p (p + 4 <= e checked by the caller). -1 if not hex. */
static long hex4(const uint8_t *p) {
  long v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hexval(p[i]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

/* Length of the valid UTF-8 sequence at p (lead byte >= 0x80), 0 if invalid. Same rules as
 * jansson's utf8_check_full: no overlongs, no surrogates, nothing above U+10FFFF. */
static size_t utf8_len(const uint8_t *p, const uint8_t *e) {
  uint8_t c = *p;
  size_t n;
  uint32_t v;
  if (c >= 0xC2 && c <= 0xDF) n = 2, v = c & 0x1F;
  else if (c >= 0xE0 && c <= 0xEF) n = 3, v = c & 0x0F;
  else if (c >= 0xF0 && c <= 0xF4) n = 4, v = c & 0x07;
  else return 0;
  if ((size_t)(e - p) < n) return 0;
  for (size_t i = 1; i < n; i++) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    v = (v << 6) | (p[i] & 0x3F);
  }
  if (n == 3 && (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))) return 0;
  if (n == 4 && (v < 0x10000 || v > 0x10FFFF)) return 0;
  return n;
}

/* --- validation ---------------------------------------------------------------------------- */

typedef struct vstate {
  const uint8_t *start;
  lh_js_err *err;
} vstate;

static const uint8_t *fail(vstate *s, const uint8_t *at, const char *msg) {
  if (s->err) {
    s->err->offset = (size_t)(at - s->start);
    s->err->msg = msg;
  }
  return NULL;
}

/* Validates a string whose opening quote is at p[-1]; returns the byte after the closing quote. */
static const uint8_t *v_string(vstate *s, const uint8_t *p, const uint8_t *e) {
  for (;;) {
    while (p < e && PLAIN[*p]) p++;
    if (p == e) return fail(s, p, "unterminated string");
    uint8_t c = *p;
    if (c == '"') return p + 1;
    if (c < 0x20) return fail(s, p, "control character in string");
    if (c >= 0x80) {
      size_t n = utf8_len(p, e);
      if (!n) return fail(s, p, "invalid UTF-8");
      p += n;
      continue;
    }
    /* backslash */
    if (e - p < 2) return fail(s, p, "unterminated escape");
    c = p[1];
    if (c != 'u') {
      if (!strchr("\"\\/bfnrt", c) || c == 0) return fail(s, p, "invalid escape");
      p += 2;
      continue;
    }
    if (e - p < 6) return fail(s, p, "truncated \\u escape");
    long v = hex4(p + 2);
    if (v < 0) return fail(s, p, "invalid \\u escape");
    if (v == 0) return fail(s, p, "\\u0000 is not allowed");
    if (v >= 0xDC00 && v <= 0xDFFF) return fail(s, p, "lone low surrogate");
    if (v >= 0xD800 && v <= 0xDBFF) {
      long lo = e - p >= 12 && p[6] == '\\' && p[7] == 'u' ? hex4(p + 8) : -1;
      if (lo < 0xDC00 || lo > 0xDFFF) return fail(s, p, "unpaired high surrogate");
      p += 12;
    } else {
      p += 6;
    }
  }
}

/* Validates a number at p; returns the byte after it. Integers must fit int64 and reals must
 * not overflow a double (jansson refuses both). */
static const uint8_t *v_number(vstate *s, const uint8_t *p, const uint8_t *e) {
  const uint8_t *b = p;
  int neg = 0, real = 0;
  if (*p == '-') neg = 1, p++;
  if (p == e || !is_digit(*p)) return fail(s, b, "invalid number");
  if (*p == '0') {
    p++;
    if (p < e && is_digit(*p)) return fail(s, b, "leading zero in number");
  } else {
    while (p < e && is_digit(*p)) p++;
  }
  if (p < e && *p == '.') {
    real = 1;
    p++;
    if (p == e || !is_digit(*p)) return fail(s, b, "invalid fraction");
    while (p < e && is_digit(*p)) p++;
  }
  if (p < e && (*p == 'e' || *p == 'E')) {
    real = 1;
    p++;
    if (p < e && (*p == '+' || *p == '-')) p++;
    if (p == e || !is_digit(*p)) return fail(s, b, "invalid exponent");
    while (p < e && is_digit(*p)) p++;
  }
  if (!real) {
    /* magnitude check without a copy: at most 19 significant digits, then compare */
    const uint8_t *d = b + neg;
    size_t nd = (size_t)(p - d);
    if (nd > 19) return fail(s, b, "integer out of range");
    if (nd == 19) {
      const char *lim = neg ? "9223372036854775808" : "9223372036854775807";
      if (memcmp(d, lim, 19) > 0) return fail(s, b, "integer out of range");
    }
    return p;
  }
  char tmp[1024];
  size_t len = (size_t)(p - b);
  /* Kubernetes never sends such reals; refusing them keeps validation allocation-free */
  if (len >= sizeof(tmp)) return fail(s, b, "number too long");
  memcpy(tmp, b, len);
  tmp[len] = 0;
  errno = 0;
  double d = strtod(tmp, NULL);
  if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL)) return fail(s, b, "real number overflow");
  return p;
}

static const uint8_t *v_literal(vstate *s, const uint8_t *p, const uint8_t *e) {
  static const char *lits[] = {"true", "false", "null"};
  for (int i = 0; i < 3; i++) {
    size_t n = strlen(lits[i]);
    if ((size_t)(e - p) >= n && memcmp(p, lits[i], n) == 0) return p + n;
  }
  return fail(s, p, "invalid literal");
}

int lh_js_validate(const char *text, size_t n, int allow_scalar, lh_js_err *err) {
  const uint8_t *p = (const uint8_t *)text, *e = p + n;
  vstate s = {p, err};
  uint8_t stack[LH_JS_MAX_DEPTH]; /* '{' or '[' per open container */
  size_t depth = 0;
  p = skip_ws(p, e);
  if (p == e) return fail(&s, p, "empty document"), -1;
  if (!allow_scalar && *p != '{' && *p != '[') return fail(&s, p, "'{' or '[' expected"), -1;
value:
  if (p == e) return fail(&s, p, "unexpected end of input"), -1;
  switch (*p) {
  case '{':
  case '[':
    if (depth == LH_JS_MAX_DEPTH) return fail(&s, p, "nesting too deep"), -1;
    stack[depth++] = *p++;
    p = skip_ws(p, e);
    if (p < e && *p == (stack[depth - 1] == '{' ? '}' : ']')) {
      p++;
      depth--;
      goto after;
    }
    if (stack[depth - 1] == '{') goto key;
    goto value;
  case '"':
    if (!(p = v_string(&s, p + 1, e))) return -1;
    goto after;
  case 't':
  case 'f':
  case 'n':
    if (!(p = v_literal(&s, p, e))) return -1;
    goto after;
  default:
    if (*p != '-' && !is_digit(*p)) return fail(&s, p, "invalid value"), -1;
    if (!(p = v_number(&s, p, e))) return -1;
    goto after;
  }
key:
  if (p == e || *p != '"') return fail(&s, p, "object key expected"), -1;
  if (!(p = v_string(&s, p + 1, e))) return -1;
  p = skip_ws(p, e);
  if (p == e || *p != ':') return fail(&s, p, "':' expected"), -1;
  p = skip_ws(p + 1, e);
  goto value;
after:
  p = skip_ws(p, e);
  if (depth == 0) {
    if (p != e) return fail(&s, p, "end of input expected"), -1;
    return 0;
  }
  if (p == e) return fail(&s, p, "unexpected end of input"), -1;
  if (*p == ',') {
    p = skip_ws(p + 1, e);
    if (stack[depth - 1] == '{') goto key;
    goto value;
  }
  if (*p == (stack[depth - 1] == '{' ? '}' : ']')) {
    p++;
    depth--;
    goto after;
  }
  return fail(&s, p, stack[depth - 1] == '{' ? "',' or '}' expected" : "',' or ']' expected"), -1;
}

/* --- navigation ---------------------------------------------------------------------------- */

/* p after an opening quote; returns the closing quote or NULL. Validated text has no raw '"'
 * inside strings, so a quote preceded by an even run of backslashes ends the string. */
static const uint8_t *str_end(const uint8_t *p, const uint8_t *e) {
  for (;;) {
    const uint8_t *q = memchr(p, '"', (size_t)(e - p));
    if (!q) return NULL;
    const uint8_t *b = q;
    while (b > p && b[-1] == '\\') b--;
    if (((q - b) & 1) == 0) return q;
    p = q + 1;
  }
}

/* Byte classes for skipping containers: 1 '"', 2 opening bracket, 3 closing bracket. */
static const uint8_t STRUCT[256] = {['"'] = 1, ['{'] = 2, ['['] = 2, ['}'] = 3, [']'] = 3};

static const uint8_t *container_end(const uint8_t *p, const uint8_t *e) {
  size_t d = 0;
  while (p < e) {
    switch (STRUCT[*p]) {
    case 0: p++; break;
    case 1:
      p = str_end(p + 1, e);
      if (!p) return NULL;
      p++;
      break;
    case 2: d++, p++; break;
    default:
      p++;
      if (--d == 0) return p;
    }
  }
  return NULL;
}

/* Reads the value at p (no leading whitespace) into out; returns the byte after it or NULL. */
static const uint8_t *read_value(const uint8_t *p, const uint8_t *e, lh_js_val *out) {
  out->type = LH_JS_NONE;
  out->esc = 0;
  if (p >= e) return NULL;
  const uint8_t *q;
  switch (*p) {
  case '"':
    q = str_end(p + 1, e);
    if (!q) return NULL;
    out->type = LH_JS_STRING;
    out->p = (const char *)p + 1;
    out->n = (size_t)(q - p - 1);
    out->esc = memchr(p + 1, '\\', out->n) != NULL;
    return q + 1;
  case '{':
  case '[':
    q = container_end(p, e);
    if (!q) return NULL;
    out->type = *p == '{' ? LH_JS_OBJECT : LH_JS_ARRAY;
    break;
  case 't': q = p + 4, out->type = LH_JS_TRUE; break;
  case 'f': q = p + 5, out->type = LH_JS_FALSE; break;
  case 'n': q = p + 4, out->type = LH_JS_NULL; break;
  default:
    q = p;
    out->type = LH_JS_INTEGER;
    while (q < e && (is_digit(*q) || *q == '-' || *q == '+' || *q == '.' || *q == 'e' || *q == 'E')) {
      if (*q == '.' || *q == 'e' || *q == 'E') out->type = LH_JS_REAL;
      q++;
    }
    if (q == p) return out->type = LH_JS_NONE, NULL;
  }
  if (q > e) return out->type = LH_JS_NONE, NULL;
  out->p = (const char *)p;
  out->n = (size_t)(q - p);
  return q;
}

int lh_js_value(const char *text, size_t n, lh_js_val *out) {
  const uint8_t *b = (const uint8_t *)text, *e = b + n;
  b = skip_ws(b, e);
  while (e > b && is_ws(e[-1])) e--;
  /* a container spanning the whole range is that one value: no need to scan for its end */
  if (e - b >= 2 && ((*b == '{' && e[-1] == '}') || (*b == '[' && e[-1] == ']'))) {
    out->type = *b == '{' ? LH_JS_OBJECT : LH_JS_ARRAY;
    out->p = (const char *)b;
    out->n = (size_t)(e - b);
    out->esc = 0;
    return 0;
  }
  return read_value(b, e, out) ? 0 : -1;
}

void lh_js_iter_init(lh_js_iter *it, const lh_js_val *v) {
  if ((v->type == LH_JS_OBJECT || v->type == LH_JS_ARRAY) && v->n >= 2) {
    it->p = v->p + 1;
    it->end = v->p + v->n - 1; /* the closing bracket */
  } else {
    it->p = it->end = NULL;
  }
}

int lh_js_obj_next(lh_js_iter *it, lh_js_val *key, lh_js_val *val) {
  const uint8_t *p = (const uint8_t *)it->p, *e = (const uint8_t *)it->end;
  if (!p) return 0;
  p = skip_ws(p, e);
  if (p >= e || *p != '"' || !(p = read_value(p, e, key))) goto done;
  p = skip_ws(p, e);
  if (p >= e || *p != ':') goto done;
  p = skip_ws(p + 1, e);
  if (!(p = read_value(p, e, val))) goto done;
  p = skip_ws(p, e);
  if (p < e && *p == ',') p++;
  it->p = (const char *)p;
  return 1;
done:
  it->p = it->end = NULL;
  return 0;
}

int lh_js_arr_next(lh_js_iter *it, lh_js_val *val) {
  const uint8_t *p = (const uint8_t *)it->p, *e = (const uint8_t *)it->end;
  if (!p) return 0;
  p = skip_ws(p, e);
  if (p >= e || !(p = read_value(p, e, val))) {
    it->p = it->end = NULL;
    return 0;
  }
  p = skip_ws(p, e);
  if (p < e && *p == ',') p++;
  it->p = (const char *)p;
  return 1;
}

int lh_js_obj_get(const lh_js_val *obj, const char *key, lh_js_val *out) {
  int n = 0;
  out->type = LH_JS_NONE;
  if (obj->type != LH_JS_OBJECT) return 0;
  lh_js_iter it;
  lh_js_val k, v;
  lh_js_iter_init(&it, obj);
  while (lh_js_obj_next(&it, &k, &v))
    if (lh_js_str_eq(&k, key)) *out = v, n++;
  return n;
}

int lh_js_obj_pick(const lh_js_val *obj, const char *const *keys, size_t n, lh_js_val *out) {
  size_t lens[32];
  int seen[32];
  int dup = 0;
  if (n > 32) n = 32;
  for (size_t i = 0; i < n; i++) {
    out[i].type = LH_JS_NONE;
    lens[i] = strlen(keys[i]);
    seen[i] = 0;
  }
  if (obj->type != LH_JS_OBJECT) return 0;
  lh_js_iter it;
  lh_js_val k, v;
  lh_js_iter_init(&it, obj);
  while (lh_js_obj_next(&it, &k, &v)) {
    for (size_t i = 0; i < n; i++) {
      if (k.esc ? !lh_js_str_eq(&k, keys[i]) : k.n != lens[i] || memcmp(k.p, keys[i], k.n) != 0) continue;
      dup |= seen[i]++;
      out[i] = v;
      break;
    }
  }
  return dup != 0;
}

int lh_js_obj_simple(const lh_js_val *obj, size_t max) {
  if (obj->type != LH_JS_OBJECT) return 0;
  lh_js_iter it, jt;
  lh_js_val k, v, k2;
  size_t n = 0;
  lh_js_iter_init(&it, obj);
  while (lh_js_obj_next(&it, &k, &v)) {
    if (++n > max || k.esc) return 0;
    /* compare with the members before this one: O(max^2) key compares at most */
    lh_js_iter_init(&jt, obj);
    for (size_t j = 1; j < n && lh_js_obj_next(&jt, &k2, &v); j++)
      if (k2.n == k.n && memcmp(k2.p, k.p, k.n) == 0) return 0;
  }
  return 1;
}

/* --- strings and numbers ------------------------------------------------------------------ */

/* Decodes the next character of string contents [*pp, e) into out (1-4 UTF-8 bytes). Returns
 * its length, 0 at the end, -1 on a malformed escape. */
static int dec_next(const uint8_t **pp, const uint8_t *e, uint8_t out[4]) {
  const uint8_t *p = *pp;
  if (p >= e) return 0;
  if (*p != '\\') {
    out[0] = *p;
    *pp = p + 1;
    return 1;
  }
  if (e - p < 2) return -1;
  uint8_t c = p[1];
  static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
  if (c != 'u') {
    const char *f = c ? strchr(from, c) : NULL;
    if (!f) return -1;
    out[0] = (uint8_t)to[f - from];
    *pp = p + 2;
    return 1;
  }
  if (e - p < 6) return -1;
  long v = hex4(p + 2);
  if (v < 0) return -1;
  p += 6;
  if (v >= 0xD800 && v <= 0xDBFF) {
    long lo = e - p >= 6 && p[0] == '\\' && p[1] == 'u' ? hex4(p + 2) : -1;
    if (lo < 0xDC00 || lo > 0xDFFF) return -1;
    v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
    p += 6;
  }
  *pp = p;
  if (v < 0x80) return out[0] = (uint8_t)v, 1;
  if (v < 0x800) {
    out[0] = (uint8_t)(0xC0 | (v >> 6));
    out[1] = (uint8_t)(0x80 | (v & 0x3F));
    return 2;
  }
  if (v < 0x10000) {
    out[0] = (uint8_t)(0xE0 | (v >> 12));
    out[1] = (uint8_t)(0x80 | ((v >> 6) & 0x3F));
    out[2] = (uint8_t)(0x80 | (v & 0x3F));
    return 3;
  }
  out[0] = (uint8_t)(0xF0 | (v >> 18));
  out[1] = (uint8_t)(0x80 | ((v >> 12) & 0x3F));
  out[2] = (uint8_t)(0x80 | ((v >> 6) & 0x3F));
  out[3] = (uint8_t)(0x80 | (v & 0x3F));
  return 4;
}

int lh_js_str_eq(const lh_js_val *s, const char *lit) {
  if (s->type != LH_JS_STRING) return 0;
  if (!s->esc) return strlen(lit) == s->n && memcmp(s->p, lit, s->n) == 0;
  const uint8_t *p = (const uint8_t *)s->p, *e = p + s->n;
  const uint8_t *l = (const uint8_t *)lit;
  uint8_t ch[4];
  int k;
  while ((k = dec_next(&p, e, ch)) > 0) {
    for (int i = 0; i < k; i++, l++)
      if (*l != ch[i]) return 0;
  }
  return k == 0 && *l == 0;
}

size_t lh_js_str_len(const lh_js_val *s) {
  if (s->type != LH_JS_STRING) return 0;
  if (!s->esc) return s->n;
  const uint8_t *p = (const uint8_t *)s->p, *e = p + s->n;
  uint8_t ch[4];
  size_t n = 0;
  int k;
  while ((k = dec_next(&p, e, ch)) > 0) n += (size_t)k;
  return n;
}

long lh_js_str_decode(const lh_js_val *s, char *out, size_t cap) {
  if (cap) out[0] = 0;
  if (s->type != LH_JS_STRING || cap == 0) return -1;
  if (!s->esc) {
    if (s->n >= cap) return -1;
    memcpy(out, s->p, s->n);
    out[s->n] = 0;
    return (long)s->n;
  }
  const uint8_t *p = (const uint8_t *)s->p, *e = p + s->n;
  uint8_t ch[4];
  size_t n = 0;
  int k;
  while ((k = dec_next(&p, e, ch)) > 0) {
    if (n + (size_t)k >= cap) {
      out[0] = 0;
      return -1;
    }
    memcpy(out + n, ch, (size_t)k);
    n += (size_t)k;
  }
  if (k < 0) {
    out[0] = 0;
    return -1;
  }
  out[n] = 0;
  return (long)n;
}

int lh_js_int(const lh_js_val *v, int64_t *out) {
  if (v->type != LH_JS_INTEGER || v->n == 0) return -1;
  const char *p = v->p, *e = v->p + v->n;
  int neg = *p == '-';
  if (neg) p++;
  if (p == e) return -1;
  uint64_t acc = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  for (; p < e; p++) {
    if (!is_digit((uint8_t)*p)) return -1;
    uint64_t d = (uint64_t)(*p - '0');
    if (acc > (lim - d) / 10) return -1;
    acc = acc * 10 + d;
  }
  *out = neg ? (int64_t)(0 - acc) : (int64_t)acc;
  return 0;
}
