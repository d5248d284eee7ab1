/* patch_merge.c — JSON merge patch (RFC 7386), patch-type detection and dispatch (see patch.h). */
#include "localcluster/patch.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_DEPTH 1000 /* deeper patches are refused instead of recursing without bound */

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...) {
  if (!err || !errlen) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

/* RFC 7386 section 2 MergePatch(Target, Patch); target is owned (may be NULL), result owned. */
static json_t *merge(json_t *target, const json_t *patch, int depth, int *rc) {
  if (depth > MAX_DEPTH) {
    *rc = LH_PATCH_EINVAL;
    json_decref(target);
    return NULL;
  }
  if (!json_is_object(patch)) {
    json_decref(target);
    json_t *r = json_deep_copy(patch);
    if (!r) *rc = LH_PATCH_ENOMEM;
    return r;
  }
  if (!json_is_object(target)) {
    json_decref(target);
    target = json_object();
    if (!target) {
      *rc = LH_PATCH_ENOMEM;
      return NULL;
    }
  }
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)patch, k, v) {
    if (json_is_null(v)) {
      json_object_del(target, k);
      continue;
    }
    json_t *cur = json_object_get(target, k);
    json_t *m = merge(cur ? json_incref(cur) : NULL, v, depth + 1, rc);
    if (!m || json_object_set_new(target, k, m) != 0) {
      if (!*rc) *rc = LH_PATCH_ENOMEM;
      json_decref(target);
      return NULL;
    }
  }
  return target;
}

int lh_patch_merge(const json_t *doc, const json_t *patch, json_t **out, char *err, size_t errlen) {
  *out = NULL;
  if (!patch) {
    seterr(err, errlen, "empty merge patch");
    return LH_PATCH_EINVAL;
  }
  int rc = 0;
  json_t *target = doc ? json_deep_copy(doc) : NULL;
  if (doc && !target) return LH_PATCH_ENOMEM;
  json_t *r = merge(target, patch, 0, &rc);
  if (!r) {
    if (rc == LH_PATCH_EINVAL) seterr(err, errlen, "merge patch nested too deeply");
    else seterr(err, errlen, "out of memory applying merge patch");
    return rc ? rc : LH_PATCH_ENOMEM;
  }
  *out = r;
  return 0;
}

/* merge() without copies: target is borrowed (may be NULL); the result is new along the patched
 * paths (json_copy: shallow) and shares every other value with target and patch. */
static json_t *merge_shared(const json_t *target, const json_t *patch, int depth, int *rc) {
  if (depth > MAX_DEPTH) {
    *rc = LH_PATCH_EINVAL;
    return NULL;
  }
  if (!json_is_object(patch)) return json_incref((json_t *)patch);
  json_t *r = json_is_object(target) ? json_copy((json_t *)target) : json_object();
  if (!r) {
    *rc = LH_PATCH_ENOMEM;
    return NULL;
  }
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)patch, k, v) {
    if (json_is_null(v)) {
      json_object_del(r, k);
      continue;
    }
    json_t *m = merge_shared(json_object_get(r, k), v, depth + 1, rc);
    if (!m || json_object_set_new(r, k, m) != 0) {
      if (!*rc) *rc = LH_PATCH_ENOMEM;
      json_decref(r);
      return NULL;
    }
  }
  return r;
}

int lh_patch_merge_shared(const json_t *doc, const json_t *patch, json_t **out, char *err, size_t errlen) {
  *out = NULL;
  if (!patch) {
    seterr(err, errlen, "empty merge patch");
    return LH_PATCH_EINVAL;
  }
  int rc = 0;
  json_t *r = merge_shared(doc, patch, 0, &rc);
  if (!r) {
    if (rc == LH_PATCH_EINVAL) seterr(err, errlen, "merge patch nested too deeply");
    else seterr(err, errlen, "out of memory applying merge patch");
    return rc ? rc : LH_PATCH_ENOMEM;
  }
  *out = r;
  return 0;
}

lh_patch_type lh_patch_type_from_content_type(const char *ct) {
  if (!ct) return LH_PATCH_UNKNOWN;
  while (*ct == ' ' || *ct == '\t') ct++;
  size_t n = strcspn(ct, ";");
  while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t')) n--;
  static const struct {
    const char *name;
    lh_patch_type t;
  } T[] = {
      {"application/json-patch+json", LH_PATCH_JSON},
      {"application/merge-patch+json", LH_PATCH_MERGE},
      {"application/strategic-merge-patch+json", LH_PATCH_STRATEGIC},
      {"application/apply-patch+yaml", LH_PATCH_APPLY},
      {"application/apply-patch+cbor", LH_PATCH_APPLY},
  };
  for (size_t i = 0; i < sizeof(T) / sizeof(T[0]); i++)
    if (strlen(T[i].name) == n && strncasecmp(ct, T[i].name, n) == 0) return T[i].t;
  return LH_PATCH_UNKNOWN;
}

int lh_patch_apply(lh_patch_type type, const char *resource, const json_t *doc, const json_t *patch,
                   json_t **out, char *err, size_t errlen) {
  *out = NULL;
  switch (type) {
  case LH_PATCH_JSON: return lh_patch_json(doc, patch, out, err, errlen);
  case LH_PATCH_MERGE: return lh_patch_merge(doc, patch, out, err, errlen);
  case LH_PATCH_STRATEGIC: return lh_patch_strategic(resource, doc, patch, out, err, errlen);
  case LH_PATCH_APPLY:
    seterr(err, errlen, "server-side apply (application/apply-patch+yaml) is not supported by the local cluster");
    return LH_PATCH_EUNSUPPORTED;
  default:
    seterr(err, errlen, "unsupported patch type");
    return LH_PATCH_EUNSUPPORTED;
  }
}
