/* patch_json.c — JSON patch (RFC 6902) with JSON pointers (RFC 6901), see patch.h.
 *
 * The patch is applied to a deep copy of the document, so a failing operation leaves nothing
 * behind (the RFC's atomicity). Messages follow the wording of evanphx/json-patch, the library the
 * apiserver uses, where practical. */
#include "localcluster/patch.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS 1000 /* pointer depth limit */
#define MAX_OPS 10000   /* the apiserver limits json patch operations too */

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...) {
  if (!err || !errlen) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

/* A parsed pointer: tokens unescaped, each NUL-terminated in one buffer. */
typedef struct ptr {
  char *buf;
  char **tok;
  size_t n;
} ptr;

static void ptr_free(ptr *p) {
  free(p->buf);
  free(p->tok);
  p->buf = NULL;
  p->tok = NULL;
  p->n = 0;
}

static int ptr_parse(const char *s, ptr *p, char *err, size_t errlen) {
  memset(p, 0, sizeof(*p));
  if (!*s) return 0;
  if (*s != '/') {
    seterr(err, errlen, "JSON pointer must be empty or start with '/': \"%s\"", s);
    return LH_PATCH_EINVAL;
  }
  size_t len = strlen(s), n = 0;
  for (size_t i = 0; i < len; i++) n += s[i] == '/';
  if (n > MAX_TOKENS) {
    seterr(err, errlen, "JSON pointer too deep");
    return LH_PATCH_EINVAL;
  }
  p->buf = malloc(len + 1);
  p->tok = malloc(n * sizeof(char *));
  if (!p->buf || !p->tok) {
    ptr_free(p);
    return LH_PATCH_ENOMEM;
  }
  char *o = p->buf;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '/') {
      *o++ = '\0';
      p->tok[p->n++] = o;
    } else if (s[i] == '~') {
      if (s[i + 1] == '0') *o++ = '~';
      else if (s[i + 1] == '1') *o++ = '/';
      else {
        seterr(err, errlen, "invalid escape in JSON pointer \"%s\": '~' must be followed by 0 or 1", s);
        ptr_free(p);
        return LH_PATCH_EINVAL;
      }
      i++;
    } else {
      *o++ = s[i];
    }
  }
  *o = '\0';
  /* p->buf starts with the NUL written for the first '/', tokens follow it */
  return 0;
}

/* Parses an array index token: digits without leading zeros; "-" → size (append position when
 * allow_dash). Returns 0 and *idx or an error. */
static int parse_index(const char *t, size_t size, int allow_dash, size_t *idx, const char *path,
                       char *err, size_t errlen) {
  if (strcmp(t, "-") == 0) {
    if (!allow_dash) {
      seterr(err, errlen, "\"-\" is not a valid array index here: \"%s\"", path);
      return LH_PATCH_EPATH;
    }
    *idx = size;
    return 0;
  }
  if (!*t || (t[0] == '0' && t[1]) ) goto bad;
  size_t v = 0;
  for (const char *c = t; *c; c++) {
    if (*c < '0' || *c > '9') goto bad;
    if (v > (SIZE_MAX - 9) / 10) {
      seterr(err, errlen, "array index out of range in \"%s\"", path);
      return LH_PATCH_EPATH;
    }
    v = v * 10 + (size_t)(*c - '0');
  }
  *idx = v;
  return 0;
bad:
  seterr(err, errlen, "invalid array index \"%s\" in \"%s\"", t, path);
  return LH_PATCH_EPATH;
}

/* Resolves the container holding the last token (all but the last token). */
static int resolve_parent(json_t *doc, const ptr *p, json_t **parent, const char *path, char *err,
                          size_t errlen) {
  json_t *cur = doc;
  for (size_t i = 0; i + 1 < p->n; i++) {
    if (json_is_object(cur)) {
      cur = json_object_get(cur, p->tok[i]);
    } else if (json_is_array(cur)) {
      size_t idx;
      int rc = parse_index(p->tok[i], json_array_size(cur), 0, &idx, path, err, errlen);
      if (rc) return rc;
      cur = idx < json_array_size(cur) ? json_array_get(cur, idx) : NULL;
    } else {
      cur = NULL;
    }
    if (!cur) {
      seterr(err, errlen, "doc is missing path: \"%s\"", path);
      return LH_PATCH_EPATH;
    }
  }
  *parent = cur;
  return 0;
}

/* Looks up the value at p (borrowed). */
static int get_at(json_t *doc, const ptr *p, json_t **out, const char *path, char *err, size_t errlen) {
  if (p->n == 0) {
    *out = doc;
    return 0;
  }
  json_t *parent;
  int rc = resolve_parent(doc, p, &parent, path, err, errlen);
  if (rc) return rc;
  const char *last = p->tok[p->n - 1];
  json_t *v = NULL;
  if (json_is_object(parent)) {
    v = json_object_get(parent, last);
  } else if (json_is_array(parent)) {
    size_t idx;
    if ((rc = parse_index(last, json_array_size(parent), 0, &idx, path, err, errlen))) return rc;
    v = idx < json_array_size(parent) ? json_array_get(parent, idx) : NULL;
  }
  if (!v) {
    seterr(err, errlen, "doc is missing path: \"%s\"", path);
    return LH_PATCH_EPATH;
  }
  *out = v;
  return 0;
}

/* add: value is stolen (a new reference). Root replacement handled by the caller. */
static int add_at(json_t *doc, const ptr *p, json_t *value, const char *op, const char *path, char *err,
                  size_t errlen) {
  json_t *parent;
  int rc = resolve_parent(doc, p, &parent, path, err, errlen);
  if (rc) {
    json_decref(value);
    if (rc == LH_PATCH_EPATH) seterr(err, errlen, "%s operation does not apply: doc is missing path: \"%s\"", op, path);
    return rc;
  }
  const char *last = p->tok[p->n - 1];
  if (json_is_object(parent)) {
    if (json_object_set_new(parent, last, value)) return LH_PATCH_ENOMEM;
    return 0;
  }
  if (json_is_array(parent)) {
    size_t idx, size = json_array_size(parent);
    if ((rc = parse_index(last, size, 1, &idx, path, err, errlen))) {
      json_decref(value);
      return rc;
    }
    if (idx > size) {
      json_decref(value);
      seterr(err, errlen, "%s operation does not apply: index %zu out of bounds for array of size %zu at \"%s\"", op, idx, size, path);
      return LH_PATCH_EPATH;
    }
    if (json_array_insert_new(parent, idx, value)) return LH_PATCH_ENOMEM;
    return 0;
  }
  json_decref(value);
  seterr(err, errlen, "%s operation does not apply: doc is missing path: \"%s\"", op, path);
  return LH_PATCH_EPATH;
}

/* remove: detaches the value; *removed (optional) gets a new reference to it. */
static int remove_at(json_t *doc, const ptr *p, json_t **removed, const char *path, char *err, size_t errlen) {
  if (p->n == 0) {
    seterr(err, errlen, "remove operation does not apply: cannot remove the document root");
    return LH_PATCH_EPATH;
  }
  json_t *v;
  int rc = get_at(doc, p, &v, path, err, errlen);
  if (rc) {
    if (rc == LH_PATCH_EPATH) seterr(err, errlen, "remove operation does not apply: doc is missing path: \"%s\"", path);
    return rc;
  }
  json_t *parent;
  resolve_parent(doc, p, &parent, path, err, errlen);
  if (removed) *removed = json_incref(v);
  const char *last = p->tok[p->n - 1];
  if (json_is_object(parent)) json_object_del(parent, last);
  else {
    size_t idx;
    parse_index(last, json_array_size(parent), 0, &idx, path, err, errlen);
    json_array_remove(parent, idx);
  }
  return 0;
}

/* RFC 6902 4.6: numbers equal when numerically equal (1 == 1.0); otherwise structural. */
static int json_eq(const json_t *a, const json_t *b) {
  if (json_is_number(a) && json_is_number(b)) {
    if (json_is_integer(a) && json_is_integer(b)) return json_integer_value(a) == json_integer_value(b);
    return json_number_value(a) == json_number_value(b);
  }
  if (json_typeof(a) != json_typeof(b)) return 0;
  if (json_is_array(a)) {
    size_t n = json_array_size(a);
    if (n != json_array_size(b)) return 0;
    for (size_t i = 0; i < n; i++)
      if (!json_eq(json_array_get(a, i), json_array_get(b, i))) return 0;
    return 1;
  }
  if (json_is_object(a)) {
    if (json_object_size(a) != json_object_size(b)) return 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)a, k, v) {
      json_t *w = json_object_get(b, k);
      if (!w || !json_eq(v, w)) return 0;
    }
    return 1;
  }
  return json_equal(a, b);
}

/* Why: "copy" duplicates a subtree, so a short patch that copies a value into itself N times
 * grows the document as 2^N (the attack of CVE-2019-1002100). Like kube-apiserver, the bytes
 * copied by one patch are summed and the patch is refused once they pass a limit. The size is an
 * estimate of the value's JSON text, computed without serialising, and the walk stops as soon as
 * the remaining budget is exhausted. */
#define LH_PATCH_COPY_LIMIT (3u * 1024 * 1024)
static size_t json_size_capped(const json_t *v, size_t budget) {
  size_t n = 0;
  switch (json_typeof(v)) {
  case JSON_OBJECT: {
    const char *k;
    json_t *child;
    n = 2;
    json_object_foreach((json_t *)v, k, child) {
      if (n > budget) return n;
      n += strlen(k) + 4 + json_size_capped(child, budget - n);
    }
    return n;
  }
  case JSON_ARRAY: {
    size_t i;
    json_t *child;
    n = 2;
    json_array_foreach(v, i, child) {
      if (n > budget) return n;
      n += 1 + json_size_capped(child, budget - n);
    }
    return n;
  }
  case JSON_STRING:
    return json_string_length(v) + 2;
  default:
    return 8;
  }
}

static int is_prefix_path(const char *from, const char *path) {
  size_t n = strlen(from);
  return strncmp(from, path, n) == 0 && path[n] == '/';
}

int lh_patch_json(const json_t *doc, const json_t *patch, json_t **out, char *err, size_t errlen) {
  *out = NULL;
  if (!json_is_array(patch)) {
    seterr(err, errlen, "json patch must be a JSON array of operations");
    return LH_PATCH_EINVAL;
  }
  if (json_array_size(patch) > MAX_OPS) {
    seterr(err, errlen, "json patch has too many operations (%zu > %d)", json_array_size(patch), MAX_OPS);
    return LH_PATCH_EINVAL;
  }
  json_t *d = doc ? json_deep_copy(doc) : json_null();
  if (!d) return LH_PATCH_ENOMEM;
  int rc = 0;
  size_t copied = 0; /* bytes duplicated by "copy" so far, see LH_PATCH_COPY_LIMIT */
  size_t i;
  json_t *op;
  json_array_foreach(patch, i, op) {
    ptr p = {0}, f = {0};
    const char *ops = json_string_value(json_object_get(op, "op"));
    const char *path = json_string_value(json_object_get(op, "path"));
    json_t *value = json_object_get(op, "value");
    const char *from = json_string_value(json_object_get(op, "from"));
    if (!json_is_object(op) || !ops) {
      seterr(err, errlen, "json patch operation %zu: missing or non-string \"op\"", i);
      rc = LH_PATCH_EINVAL;
      goto done;
    }
    int is_add = !strcmp(ops, "add"), is_rm = !strcmp(ops, "remove"), is_rep = !strcmp(ops, "replace"),
        is_mv = !strcmp(ops, "move"), is_cp = !strcmp(ops, "copy"), is_test = !strcmp(ops, "test");
    if (!(is_add || is_rm || is_rep || is_mv || is_cp || is_test)) {
      seterr(err, errlen, "Unexpected kind: %s", ops);
      rc = LH_PATCH_EINVAL;
      goto done;
    }
    if (!path) {
      seterr(err, errlen, "%s operation %zu: missing or non-string \"path\"", ops, i);
      rc = LH_PATCH_EINVAL;
      goto done;
    }
    if ((is_add || is_rep || is_test) && !value) {
      seterr(err, errlen, "%s operation %zu: missing \"value\"", ops, i);
      rc = LH_PATCH_EINVAL;
      goto done;
    }
    if ((is_mv || is_cp) && !from) {
      seterr(err, errlen, "%s operation %zu: missing or non-string \"from\"", ops, i);
      rc = LH_PATCH_EINVAL;
      goto done;
    }
    if ((rc = ptr_parse(path, &p, err, errlen))) goto done;
    if (from && (is_mv || is_cp) && (rc = ptr_parse(from, &f, err, errlen))) goto done;

    if (is_add || is_rep) {
      json_t *v = json_deep_copy(value);
      if (!v) {
        rc = LH_PATCH_ENOMEM;
        goto done;
      }
      if (is_rep) {
        json_t *cur;
        json_t *rparent = NULL;
        /* like evanphx/json-patch v4 (Kubernetes 1.20): replacing a missing key of an existing
         * object sets it, as "add" would; a missing array index or parent still fails */
        if ((rc = get_at(d, &p, &cur, path, err, errlen)) && p.n > 0 &&
            !resolve_parent(d, &p, &rparent, path, err, errlen) && json_is_object(rparent)) {
          rc = 0;
          if (err && errlen) err[0] = 0;
        }
        if (rc) {
          json_decref(v);
          if (rc == LH_PATCH_EPATH) seterr(err, errlen, "replace operation does not apply: doc is missing key: \"%s\"", path);
          goto done;
        }
      }
      if (p.n == 0) {
        json_decref(d);
        d = v;
      } else if (is_rep) {
        json_t *parent;
        resolve_parent(d, &p, &parent, path, err, errlen);
        const char *last = p.tok[p.n - 1];
        if (json_is_object(parent)) rc = json_object_set_new(parent, last, v) ? LH_PATCH_ENOMEM : 0;
        else {
          size_t idx;
          parse_index(last, json_array_size(parent), 0, &idx, path, err, errlen);
          rc = json_array_set_new(parent, idx, v) ? LH_PATCH_ENOMEM : 0;
        }
      } else {
        rc = add_at(d, &p, v, "add", path, err, errlen);
      }
    } else if (is_rm) {
      rc = remove_at(d, &p, NULL, path, err, errlen);
    } else if (is_test) {
      json_t *cur;
      if ((rc = get_at(d, &p, &cur, path, err, errlen))) {
        if (rc == LH_PATCH_EPATH) {
          seterr(err, errlen, "testing value %s failed: doc is missing path", path);
          rc = LH_PATCH_ETEST;
        }
      } else if (!json_eq(cur, value)) {
        seterr(err, errlen, "testing value %s failed: test failed", path);
        rc = LH_PATCH_ETEST;
      }
    } else if (is_mv || is_cp) {
      json_t *src;
      if ((rc = get_at(d, &f, &src, from, err, errlen))) {
        if (rc == LH_PATCH_EPATH) seterr(err, errlen, "%s operation does not apply: doc is missing from path: \"%s\"", ops, from);
        goto done;
      }
      if (is_mv && is_prefix_path(from, path)) {
        seterr(err, errlen, "move operation does not apply: cannot move \"%s\" into its own child \"%s\"", from, path);
        rc = LH_PATCH_EPATH;
        goto done;
      }
      json_t *v;
      if (is_cp) {
        size_t left = LH_PATCH_COPY_LIMIT - copied;
        size_t sz = json_size_capped(src, left);
        if (sz > left) {
          seterr(err, errlen, "the accumulated size of copied values exceeds the limit of %u bytes",
                 LH_PATCH_COPY_LIMIT);
          rc = LH_PATCH_EINVAL;
          goto done;
        }
        copied += sz;
        if (!(v = json_deep_copy(src))) {
          rc = LH_PATCH_ENOMEM;
          goto done;
        }
      } else if (f.n == 0) {
        v = json_incref(d); /* moving the root onto itself ("" → "") */
      } else if ((rc = remove_at(d, &f, &v, from, err, errlen))) {
        goto done;
      }
      if (p.n == 0) {
        json_decref(d);
        d = v;
      } else {
        rc = add_at(d, &p, v, ops, path, err, errlen);
      }
    }
  done:
    ptr_free(&p);
    ptr_free(&f);
    if (rc) break;
  }
  if (rc) {
    json_decref(d);
    return rc;
  }
  *out = d;
  return 0;
}
