/* crd_schema.c — structural schema checks and pruning for custom resources (see crd_schema.h). */
#include "localcluster/crd_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <regex.h>
#include <string.h>

#include "localcluster/status.h"

#define MAX_ERRS 8
#define MAX_DEPTH 64

typedef struct verr {
  int n;
  char field[MAX_ERRS][256];
  char msg[MAX_ERRS][512];
  char reason[MAX_ERRS][32];
} verr;

static const char *type_of(const json_t *v) {
  switch (json_typeof(v)) {
  case JSON_OBJECT: return "object";
  case JSON_ARRAY: return "array";
  case JSON_STRING: return "string";
  case JSON_INTEGER: return "integer";
  case JSON_REAL: return "number";
  case JSON_TRUE:
  case JSON_FALSE: return "boolean";
  default: return "null";
  }
}

static void add_err(verr *e, const char *path, const char *reason, const char *fmt, const char *a,
                    const char *b) {
  if (e->n >= MAX_ERRS) return;
  snprintf(e->field[e->n], sizeof e->field[0], "%s", path);
  snprintf(e->reason[e->n], sizeof e->reason[0], "%s", reason);
  snprintf(e->msg[e->n], sizeof e->msg[0], fmt, a, b);
  e->n++;
}

static int type_ok(const char *type, const json_t *v) {
  if (!strcmp(type, "object")) return json_is_object(v);
  if (!strcmp(type, "array")) return json_is_array(v);
  if (!strcmp(type, "string")) return json_is_string(v);
  if (!strcmp(type, "integer")) return json_is_integer(v);
  if (!strcmp(type, "number")) return json_is_number(v);
  if (!strcmp(type, "boolean")) return json_is_boolean(v);
  return 1;
}

static void short_value(char *out, size_t sz, const json_t *v) {
  if (json_is_string(v)) snprintf(out, sz, "\"%s\"", json_string_value(v));
  else {
    char *d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    snprintf(out, sz, "%s", d ? d : "null");
    free(d);
  }
}

/* Go's %v of a JSON number. */
static void num_str(char *out, size_t sz, const json_t *n) {
  if (json_is_integer(n)) snprintf(out, sz, "%lld", (long long)json_integer_value(n));
  else snprintf(out, sz, "%g", json_number_value(n));
}

/* minimum/maximum (exclusive too), minLength/maxLength, pattern, minItems/maxItems with
 * kube-openapi's messages as the 1.20 CR validation reports them. */
static void check_limits(const json_t *schema, const json_t *v, const char *path, verr *e) {
  char val[200], lim[64], tmsg[400];
  if (json_is_number(v)) {
    double x = json_number_value(v);
    const json_t *mn = json_object_get(schema, "minimum"), *mx = json_object_get(schema, "maximum");
    int exmn = json_is_true(json_object_get(schema, "exclusiveMinimum"));
    int exmx = json_is_true(json_object_get(schema, "exclusiveMaximum"));
    short_value(val, sizeof val, v);
    if (json_is_number(mn) && (exmn ? x <= json_number_value(mn) : x < json_number_value(mn))) {
      num_str(lim, sizeof lim, mn);
      snprintf(tmsg, sizeof tmsg, "%s in body should be greater than %s%s", path, exmn ? "" : "or equal to ", lim);
      add_err(e, path, "FieldValueInvalid", "Invalid value: %s: %s", val, tmsg);
    }
    if (json_is_number(mx) && (exmx ? x >= json_number_value(mx) : x > json_number_value(mx))) {
      num_str(lim, sizeof lim, mx);
      snprintf(tmsg, sizeof tmsg, "%s in body should be less than %s%s", path, exmx ? "" : "or equal to ", lim);
      add_err(e, path, "FieldValueInvalid", "Invalid value: %s: %s", val, tmsg);
    }
  } else if (json_is_string(v)) {
    const char *str = json_string_value(v);
    size_t n = 0; /* characters (UTF-8 code points) */
    for (const unsigned char *p = (const unsigned char *)str; *p; p++) n += (*p & 0xC0) != 0x80;
    const json_t *mnl = json_object_get(schema, "minLength"), *mxl = json_object_get(schema, "maxLength");
    short_value(val, sizeof val, v);
    if (json_is_integer(mxl) && (json_int_t)n > json_integer_value(mxl)) {
      snprintf(tmsg, sizeof tmsg, "%lld", (long long)json_integer_value(mxl));
      add_err(e, path, "FieldValueTooLong", "Too long: must have at most %s bytes%s", tmsg, "");
    }
    if (json_is_integer(mnl) && (json_int_t)n < json_integer_value(mnl)) {
      snprintf(tmsg, sizeof tmsg, "%s in body should be at least %lld chars long", path,
               (long long)json_integer_value(mnl));
      add_err(e, path, "FieldValueInvalid", "Invalid value: %s: %s", val, tmsg);
    }
    const char *pat = json_string_value(json_object_get(schema, "pattern"));
    regex_t re;
    if (pat && !regcomp(&re, pat, REG_EXTENDED | REG_NOSUB)) {
      if (regexec(&re, str, 0, NULL, 0)) {
        snprintf(tmsg, sizeof tmsg, "%s in body should match '%s'", path, pat);
        add_err(e, path, "FieldValueInvalid", "Invalid value: %s: %s", val, tmsg);
      }
      regfree(&re);
    }
  } else if (json_is_array(v)) {
    const json_t *mni = json_object_get(schema, "minItems"), *mxi = json_object_get(schema, "maxItems");
    if (json_is_integer(mxi) && (json_int_t)json_array_size(v) > json_integer_value(mxi)) {
      snprintf(val, sizeof val, "%zu", json_array_size(v));
      snprintf(tmsg, sizeof tmsg, "must have at most %lld items", (long long)json_integer_value(mxi));
      add_err(e, path, "FieldValueTooMany", "Too many: %s: %s", val, tmsg);
    }
    if (json_is_integer(mni) && (json_int_t)json_array_size(v) < json_integer_value(mni)) {
      snprintf(val, sizeof val, "\"\"");
      snprintf(tmsg, sizeof tmsg, "%s in body should have at least %lld items", path, (long long)json_integer_value(mni));
      add_err(e, path, "FieldValueInvalid", "Invalid value: %s: %s", val, tmsg);
    }
  }
}

/* Applies the schema's "default"s to absent properties, depth first (structural defaulting). */
static void apply_defaults(const json_t *schema, json_t *v, int depth) {
  if (!json_is_object(schema) || depth > MAX_DEPTH) return;
  if (json_is_object(v)) {
    const json_t *props = json_object_get(schema, "properties");
    const char *k;
    const json_t *ps;
    json_object_foreach((json_t *)props, k, ps) {
      const json_t *def = json_object_get(ps, "default");
      if (def && !json_object_get(v, k)) json_object_set_new(v, k, json_deep_copy(def));
      json_t *child = json_object_get(v, k);
      if (child) apply_defaults(ps, child, depth + 1);
    }
    const json_t *addl = json_object_get(schema, "additionalProperties");
    if (json_is_object(addl)) {
      json_t *child;
      json_object_foreach(v, k, child) if (!json_object_get(props, k)) apply_defaults(addl, child, depth + 1);
    }
  } else if (json_is_array(v)) {
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) apply_defaults(json_object_get(schema, "items"), x, depth + 1);
  }
}

void lc_crd_default(const lc_rtype *t, json_t *obj) {
  if (t && t->schema) apply_defaults(t->schema, obj, 0);
}

static void walk(const json_t *schema, json_t *v, const char *path, int root, int depth, verr *e) {
  if (!json_is_object(schema) || depth > MAX_DEPTH) return;
  if (json_is_null(v) && json_is_true(json_object_get(schema, "nullable"))) return;
  int int_or_string = json_is_true(json_object_get(schema, "x-kubernetes-int-or-string"));
  const char *type = json_string_value(json_object_get(schema, "type"));
  char val[200], tmsg[400];
  if (int_or_string) {
    if (!json_is_integer(v) && !json_is_string(v)) {
      short_value(val, sizeof val, v);
      snprintf(tmsg, sizeof tmsg, "%s in body must be of type integer,string: \"%s\"", path, type_of(v));
      add_err(e, path, "FieldValueInvalid", "Invalid value: %s: %s", val, tmsg);
      return;
    }
  } else if (type && !type_ok(type, v)) {
    /* kube-openapi's InvalidType error carries the value's type name as the value */
    snprintf(val, sizeof val, "\"%s\"", type_of(v));
    char tm2[300];
    snprintf(tm2, sizeof tm2, "%s: \"%s\"", type, type_of(v));
    snprintf(tmsg, sizeof tmsg, "%s in body must be of type %s", path, tm2);
    add_err(e, path, "FieldValueInvalid", "Invalid value: %s: %s", val, tmsg);
    return;
  }
  const json_t *en = json_object_get(schema, "enum");
  if (json_is_array(en) && json_array_size(en)) {
    size_t i;
    const json_t *x;
    int found = 0;
    json_array_foreach(en, i, x) if (json_equal(x, v)) found = 1;
    if (!found) {
      short_value(val, sizeof val, v);
      char sup[300];
      int off = 0;
      sup[0] = 0;
      json_array_foreach(en, i, x) {
        char one[100];
        short_value(one, sizeof one, x);
        if (off < (int)sizeof sup) off += snprintf(sup + off, sizeof sup - (size_t)off, "%s%s", i ? ", " : "", one);
      }
      add_err(e, path, "FieldValueNotSupported", "Unsupported value: %s: supported values: %s", val, sup);
    }
  }
  check_limits(schema, v, path, e);
  if (json_is_object(v)) {
    const json_t *props = json_object_get(schema, "properties");
    const json_t *addl = json_object_get(schema, "additionalProperties");
    int preserve = json_is_true(json_object_get(schema, "x-kubernetes-preserve-unknown-fields"));
    const json_t *req = json_object_get(schema, "required");
    size_t i;
    const json_t *r;
    json_array_foreach(req, i, r) {
      const char *k = json_string_value(r);
      if (k && !json_object_get(v, k)) {
        char p[256];
        snprintf(p, sizeof p, "%s%s%s", path, *path ? "." : "", k);
        add_err(e, p, "FieldValueRequired", "%s%s", "Required value", "");
      }
    }
    const char *k;
    json_t *child;
    void *tmp;
    json_object_foreach_safe(v, tmp, k, child) {
      char p[256];
      snprintf(p, sizeof p, "%s%s%s", path, *path ? "." : "", k);
      if (root && (!strcmp(k, "apiVersion") || !strcmp(k, "kind") || !strcmp(k, "metadata"))) continue;
      const json_t *ps = json_object_get(props, k);
      if (ps) walk(ps, child, p, 0, depth + 1, e);
      else if (json_is_object(addl)) walk(addl, child, p, 0, depth + 1, e);
      else if (json_is_object(props) && json_object_size(props) && !preserve && !json_is_true(addl))
        json_object_del(v, k); /* pruned, as a structural schema does */
    }
  } else if (json_is_array(v)) {
    const json_t *items = json_object_get(schema, "items");
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) {
      char p[256];
      snprintf(p, sizeof p, "%s[%zu]", path, i);
      walk(items, x, p, 0, depth + 1, e);
    }
  }
}

json_t *lc_crd_validate(const lc_rtype *t, json_t *obj) {
  if (!t->schema) return NULL;
  verr e;
  memset(&e, 0, sizeof e);
  walk(t->schema, obj, "", 1, 0, &e);
  if (!e.n) return NULL;
  const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
  char msg[4096];
  int off = snprintf(msg, sizeof msg, "%s.%s \"%s\" is invalid: ", t->kind, t->group, name ? name : "");
  if (e.n > 1 && off < (int)sizeof msg) off += snprintf(msg + off, sizeof msg - (size_t)off, "[");
  for (int i = 0; i < e.n && off < (int)sizeof msg; i++)
    off += snprintf(msg + off, sizeof msg - (size_t)off, "%s%s: %s", i ? ", " : "", e.field[i], e.msg[i]);
  if (e.n > 1 && off < (int)sizeof msg) snprintf(msg + off, sizeof msg - (size_t)off, "]");
  json_t *st = lc_status_new(422, "Invalid", msg, 1, name, t->group, t->kind);
  for (int i = 0; i < e.n; i++) lc_status_add_cause(st, e.reason[i], e.msg[i], e.field[i]);
  return st;
}
