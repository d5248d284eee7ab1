/* selector.c — label and field selectors (see selector.h): parsing, validation, matching.
 *
 * The label selector grammar and semantics follow k8s.io/apimachinery/pkg/labels/selector.go
 * (lexer tokens: identifier, = == != ! in notin ( ) , > <); the field selector grammar follows
 * k8s.io/apimachinery/pkg/fields/selector.go (terms split on unescaped ',', value escapes \, \= \\). */
#include "localcluster/selector.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SELECTOR_LEN 16384 /* label/field selectors longer than this are refused */

typedef enum { OP_EQ, OP_NE, OP_IN, OP_NOTIN, OP_EXISTS, OP_NOTEXISTS, OP_GT, OP_LT } lop;

typedef struct req {
  char *key;
  lop op;
  char **vals;
  size_t nvals;
} req;

struct lh_label_selector {
  req *reqs;
  size_t n, cap;
  int nothing;
};

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...) {
  if (!err || !errlen) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

/* ---- validation ------------------------------------------------------------------------------- */
static int is_alnum(char c) { return isascii((unsigned char)c) && isalnum((unsigned char)c); }

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] with max length. */
static int name_ok(const char *s, size_t len, size_t max) {
  if (len == 0 || len > max) return 0;
  if (!is_alnum(s[0]) || !is_alnum(s[len - 1])) return 0;
  for (size_t i = 0; i < len; i++)
    if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.') return 0;
  return 1;
}

/* DNS-1123 subdomain: lowercase alnum, '-', '.', alnum at both ends, <= 253. */
static int subdomain_ok(const char *s, size_t len) {
  if (len == 0 || len > 253) return 0;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    int an = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!an && c != '-' && c != '.') return 0;
    if ((i == 0 || i == len - 1) && !an) return 0;
    if (c == '.' && i + 1 < len && (s[i + 1] == '.' || s[i + 1] == '-' || s[i - 1] == '-')) return 0;
  }
  return 1;
}

int lh_label_key_validate(const char *key, char *err, size_t errlen) {
  if (!key) key = "";
  const char *slash = strchr(key, '/');
  const char *name = key;
  if (slash) {
    if (strchr(slash + 1, '/')) {
      seterr(err, errlen, "invalid label key \"%s\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', with an optional DNS subdomain prefix and '/'", key);
      return LH_SEL_EINVAL;
    }
    if (!subdomain_ok(key, (size_t)(slash - key))) {
      seterr(err, errlen, "invalid label key \"%s\": prefix part must be a lowercase RFC 1123 subdomain of at most 253 characters", key);
      return LH_SEL_EINVAL;
    }
    name = slash + 1;
  }
  size_t len = strlen(name);
  if (len == 0) {
    seterr(err, errlen, "invalid label key \"%s\": name part must be non-empty", key);
    return LH_SEL_EINVAL;
  }
  if (len > 63) {
    seterr(err, errlen, "invalid label key \"%s\": name part must be no more than 63 characters", key);
    return LH_SEL_EINVAL;
  }
  if (!name_ok(name, len, 63)) {
    seterr(err, errlen, "invalid label key \"%s\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", key);
    return LH_SEL_EINVAL;
  }
  return 0;
}

int lh_label_value_validate(const char *value, char *err, size_t errlen) {
  if (!value) value = "";
  size_t len = strlen(value);
  if (len == 0) return 0;
  if (len > 63) {
    seterr(err, errlen, "invalid label value \"%s\": must be no more than 63 characters", value);
    return LH_SEL_EINVAL;
  }
  if (!name_ok(value, len, 63)) {
    seterr(err, errlen, "invalid label value \"%s\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", value);
    return LH_SEL_EINVAL;
  }
  return 0;
}

/* ---- label selector construction ---------------------------------------------------------------- */
static void req_free(req *r) {
  free(r->key);
  for (size_t i = 0; i < r->nvals; i++) free(r->vals[i]);
  free(r->vals);
}

void lh_label_selector_free(lh_label_selector *sel) {
  if (!sel) return;
  for (size_t i = 0; i < sel->n; i++) req_free(&sel->reqs[i]);
  free(sel->reqs);
  free(sel);
}

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
static int cmpreq(const void *a, const void *b) {
  const req *x = a, *y = b;
  int c = strcmp(x->key, y->key);
  return c ? c : (int)x->op - (int)y->op;
}

/* Validates and appends a requirement; takes ownership of key and vals on every path. */
static int add_req(lh_label_selector *sel, char *key, lop op, char **vals, size_t nvals, char *err,
                   size_t errlen) {
  req r = {key, op, vals, nvals};
  char e[400];
  int ret = LH_SEL_EINVAL;
  if (lh_label_key_validate(key, e, sizeof(e))) {
    seterr(err, errlen, "unable to parse requirement: %s", e);
    goto bad;
  }
  if ((op == OP_IN || op == OP_NOTIN) && nvals == 0) {
    seterr(err, errlen, "unable to parse requirement: for 'in', 'notin' operators, values set can't be empty");
    goto bad;
  }
  if ((op == OP_EQ || op == OP_NE) && nvals != 1) {
    seterr(err, errlen, "unable to parse requirement: exact-match compatibility requires one single value");
    goto bad;
  }
  if ((op == OP_EXISTS || op == OP_NOTEXISTS) && nvals != 0) {
    seterr(err, errlen, "unable to parse requirement: values set must be empty for exists and does not exist");
    goto bad;
  }
  for (size_t i = 0; i < nvals; i++) {
    if (op == OP_GT || op == OP_LT) {
      char *end;
      errno = 0;
      (void)strtoll(vals[i], &end, 10);
      if (!vals[i][0] || *end || errno) {
        seterr(err, errlen, "unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer: \"%s\"", vals[i]);
        goto bad;
      }
    } else if (lh_label_value_validate(vals[i], e, sizeof(e))) {
      seterr(err, errlen, "unable to parse requirement: %s", e);
      goto bad;
    }
  }
  if (nvals > 1) qsort(vals, nvals, sizeof(*vals), cmpstr);
  if (sel->n == sel->cap) {
    size_t c = sel->cap ? sel->cap * 2 : 4;
    req *p = realloc(sel->reqs, c * sizeof(*p));
    if (!p) {
      ret = LH_SEL_ENOMEM;
      goto bad;
    }
    sel->reqs = p;
    sel->cap = c;
  }
  sel->reqs[sel->n++] = r;
  return 0;
bad:
  req_free(&r);
  return ret;
}

/* ---- label selector lexer/parser ------------------------------------------------------------------ */
typedef enum { T_EOF, T_ID, T_EQ, T_DEQ, T_NE, T_NOT, T_IN, T_NOTIN, T_OPEN, T_CLOSE, T_COMMA, T_GT, T_LT } tok;

typedef struct lexer {
  const char *s;
  size_t pos;
  char id[512];
  int id_too_long;
} lexer;

static int special(char c) { return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<'; }

static tok lex(lexer *L) {
  while (L->s[L->pos] && isspace((unsigned char)L->s[L->pos])) L->pos++;
  char c = L->s[L->pos];
  if (!c) return T_EOF;
  if (special(c)) {
    char d = L->s[L->pos + 1];
    L->pos++;
    switch (c) {
    case '=':
      if (d == '=') {
        L->pos++;
        return T_DEQ;
      }
      return T_EQ;
    case '!':
      if (d == '=') {
        L->pos++;
        return T_NE;
      }
      return T_NOT;
    case '(': return T_OPEN;
    case ')': return T_CLOSE;
    case ',': return T_COMMA;
    case '>': return T_GT;
    default: return T_LT;
    }
  }
  size_t n = 0;
  L->id_too_long = 0;
  while (L->s[L->pos] && !isspace((unsigned char)L->s[L->pos]) && !special(L->s[L->pos])) {
    if (n + 1 < sizeof(L->id)) L->id[n++] = L->s[L->pos];
    else L->id_too_long = 1;
    L->pos++;
  }
  L->id[n] = '\0';
  if (strcmp(L->id, "in") == 0) return T_IN;
  if (strcmp(L->id, "notin") == 0) return T_NOTIN;
  return T_ID;
}

static tok peek(lexer *L) {
  size_t save = L->pos;
  char id[sizeof(L->id)];
  memcpy(id, L->id, sizeof(id));
  tok t = lex(L);
  L->pos = save;
  memcpy(L->id, id, sizeof(id));
  return t;
}

static int push_val(char ***vals, size_t *n, const char *v) {
  char **p = realloc(*vals, (*n + 1) * sizeof(*p));
  if (!p) return LH_SEL_ENOMEM;
  *vals = p;
  if (!(p[*n] = strdup(v))) return LH_SEL_ENOMEM;
  (*n)++;
  return 0;
}

static void free_vals(char **vals, size_t n) {
  for (size_t i = 0; i < n; i++) free(vals[i]);
  free(vals);
}

static int parse_requirement(lexer *L, lh_label_selector *sel, char *err, size_t errlen) {
  tok t = lex(L);
  int negate = 0;
  if (t == T_NOT) {
    negate = 1;
    t = lex(L);
  }
  if (t != T_ID) {
    seterr(err, errlen, "unable to parse requirement: found '%s', expected: identifier",
           t == T_EOF ? "" : L->id[0] && (t == T_IN || t == T_NOTIN) ? L->id : "operator");
    return LH_SEL_EINVAL;
  }
  if (L->id_too_long) {
    seterr(err, errlen, "unable to parse requirement: key too long");
    return LH_SEL_EINVAL;
  }
  char *key = strdup(L->id);
  if (!key) return LH_SEL_ENOMEM;
  tok n = peek(L);
  if (n == T_EOF || n == T_COMMA) return add_req(sel, key, negate ? OP_NOTEXISTS : OP_EXISTS, NULL, 0, err, errlen);
  if (negate) {
    free(key);
    seterr(err, errlen, "unable to parse requirement: expected: ',' or end of string after '!%s'", L->id);
    return LH_SEL_EINVAL;
  }
  t = lex(L);
  char **vals = NULL;
  size_t nv = 0;
  lop op;
  switch (t) {
  case T_EQ:
  case T_DEQ: op = OP_EQ; break;
  case T_NE: op = OP_NE; break;
  case T_IN: op = OP_IN; break;
  case T_NOTIN: op = OP_NOTIN; break;
  case T_GT: op = OP_GT; break;
  case T_LT: op = OP_LT; break;
  default:
    free(key);
    seterr(err, errlen, "unable to parse requirement: found '%s', expected: '=', '!=', '==', 'in', notin'",
           t == T_ID ? L->id : "?");
    return LH_SEL_EINVAL;
  }
  if (op == OP_IN || op == OP_NOTIN) {
    if (lex(L) != T_OPEN) {
      free(key);
      seterr(err, errlen, "unable to parse requirement: found '%s', expected: '('", L->id);
      return LH_SEL_EINVAL;
    }
    /* values: id (',' id)* ; empty entries are "" like Kubernetes */
    for (;;) {
      tok v = peek(L);
      if (v == T_ID) {
        lex(L);
        if (L->id_too_long || push_val(&vals, &nv, L->id)) goto valfail;
        v = peek(L);
      } else if (push_val(&vals, &nv, "")) {
        goto valfail;
      }
      if (v == T_COMMA) {
        lex(L);
        continue;
      }
      if (v == T_CLOSE) {
        lex(L);
        break;
      }
      free(key);
      free_vals(vals, nv);
      seterr(err, errlen, "unable to parse requirement: found '%s', expected: ',', ')'", v == T_EOF ? "end of string" : L->id);
      return LH_SEL_EINVAL;
    }
  } else {
    tok v = peek(L);
    if (v == T_ID) {
      lex(L);
      if (L->id_too_long || push_val(&vals, &nv, L->id)) goto valfail;
    } else if (v == T_EOF || v == T_COMMA) {
      if (push_val(&vals, &nv, "")) goto valfail;
    } else {
      free(key);
      seterr(err, errlen, "unable to parse requirement: found unexpected operator after '%s', expected: identifier", key ? "" : "");
      return LH_SEL_EINVAL;
    }
  }
  return add_req(sel, key, op, vals, nv, err, errlen);
valfail:
  free(key);
  free_vals(vals, nv);
  seterr(err, errlen, "unable to parse requirement: invalid or too long value");
  return LH_SEL_EINVAL;
}

static lh_label_selector *sel_new(void) { return calloc(1, sizeof(lh_label_selector)); }

int lh_label_selector_parse(const char *text, lh_label_selector **out, char *err, size_t errlen) {
  *out = NULL;
  if (text && strlen(text) > MAX_SELECTOR_LEN) {
    seterr(err, errlen, "label selector too long");
    return LH_SEL_EINVAL;
  }
  lh_label_selector *sel = sel_new();
  if (!sel) return LH_SEL_ENOMEM;
  lexer L = {.s = text ? text : ""};
  if (peek(&L) != T_EOF) {
    for (;;) {
      int rc = parse_requirement(&L, sel, err, errlen);
      if (rc) {
        lh_label_selector_free(sel);
        return rc;
      }
      tok t = lex(&L);
      if (t == T_EOF) break;
      if (t != T_COMMA) {
        seterr(err, errlen, "found '%s', expected: ',' or 'end of string'", t == T_ID ? L.id : "operator");
        lh_label_selector_free(sel);
        return LH_SEL_EINVAL;
      }
    }
  }
  if (sel->n > 1) qsort(sel->reqs, sel->n, sizeof(req), cmpreq);
  *out = sel;
  return 0;
}

int lh_label_selector_from_json(const json_t *js, lh_label_selector **out, char *err, size_t errlen) {
  *out = NULL;
  lh_label_selector *sel = sel_new();
  if (!sel) return LH_SEL_ENOMEM;
  if (!js || json_is_null(js)) {
    sel->nothing = 1;
    *out = sel;
    return 0;
  }
  int rc = LH_SEL_EINVAL;
  if (!json_is_object(js)) {
    seterr(err, errlen, "label selector must be an object");
    goto fail;
  }
  json_t *ml = json_object_get(js, "matchLabels");
  if (ml && !json_is_null(ml)) {
    if (!json_is_object(ml)) {
      seterr(err, errlen, "matchLabels must be an object");
      goto fail;
    }
    const char *k;
    json_t *v;
    json_object_foreach(ml, k, v) {
      if (!json_is_string(v)) {
        seterr(err, errlen, "matchLabels[%s] must be a string", k);
        goto fail;
      }
      char **vals = malloc(sizeof(char *));
      char *key = strdup(k);
      if (vals) vals[0] = strdup(json_string_value(v));
      if (!vals || !key || !vals[0]) {
        free(key);
        if (vals) free(vals[0]);
        free(vals);
        rc = LH_SEL_ENOMEM;
        goto fail;
      }
      if ((rc = add_req(sel, key, OP_EQ, vals, 1, err, errlen))) goto fail;
    }
  }
  json_t *me = json_object_get(js, "matchExpressions");
  if (me && !json_is_null(me)) {
    rc = LH_SEL_EINVAL;
    if (!json_is_array(me)) {
      seterr(err, errlen, "matchExpressions must be an array");
      goto fail;
    }
    size_t i;
    json_t *e;
    json_array_foreach(me, i, e) {
      const char *key = json_string_value(json_object_get(e, "key"));
      const char *ops = json_string_value(json_object_get(e, "operator"));
      json_t *vs = json_object_get(e, "values");
      if (!key || !ops) {
        seterr(err, errlen, "matchExpressions[%zu]: key and operator are required", i);
        rc = LH_SEL_EINVAL;
        goto fail;
      }
      lop op;
      if (!strcmp(ops, "In")) op = OP_IN;
      else if (!strcmp(ops, "NotIn")) op = OP_NOTIN;
      else if (!strcmp(ops, "Exists")) op = OP_EXISTS;
      else if (!strcmp(ops, "DoesNotExist")) op = OP_NOTEXISTS;
      else {
        seterr(err, errlen, "\"%s\" is not a valid label selector operator", ops);
        rc = LH_SEL_EINVAL;
        goto fail;
      }
      if (vs && !json_is_null(vs) && !json_is_array(vs)) {
        seterr(err, errlen, "matchExpressions[%zu].values must be an array", i);
        rc = LH_SEL_EINVAL;
        goto fail;
      }
      char **vals = NULL;
      size_t nv = 0, j;
      json_t *v;
      char *k = strdup(key);
      if (!k) {
        rc = LH_SEL_ENOMEM;
        goto fail;
      }
      json_array_foreach(vs, j, v) {
        if (!json_is_string(v) || push_val(&vals, &nv, json_string_value(v))) {
          free(k);
          free_vals(vals, nv);
          seterr(err, errlen, "matchExpressions[%zu].values[%zu] must be a string", i, j);
          rc = LH_SEL_EINVAL;
          goto fail;
        }
      }
      if ((rc = add_req(sel, k, op, vals, nv, err, errlen))) goto fail;
    }
  }
  if (sel->n > 1) qsort(sel->reqs, sel->n, sizeof(req), cmpreq);
  *out = sel;
  return 0;
fail:
  lh_label_selector_free(sel);
  return rc;
}

/* ---- label matching --------------------------------------------------------------------------------- */
static int has_val(const req *r, const char *v) {
  for (size_t i = 0; i < r->nvals; i++)
    if (strcmp(r->vals[i], v) == 0) return 1;
  return 0;
}

static int req_matches(const req *r, const json_t *labels) {
  json_t *jv = json_is_object(labels) ? json_object_get(labels, r->key) : NULL;
  const char *v = json_string_value(jv);
  int has = jv != NULL;
  if (has && !v) v = ""; /* non-string label values never occur in valid objects */
  switch (r->op) {
  case OP_EXISTS: return has;
  case OP_NOTEXISTS: return !has;
  case OP_EQ:
  case OP_IN: return has && has_val(r, v);
  case OP_NE:
  case OP_NOTIN: return !has || !has_val(r, v);
  case OP_GT:
  case OP_LT: {
    if (!has) return 0;
    char *end;
    errno = 0;
    long long a = strtoll(v, &end, 10);
    if (!*v || *end || errno) return 0;
    long long b = strtoll(r->vals[0], NULL, 10);
    return r->op == OP_GT ? a > b : a < b;
  }
  }
  return 0;
}

bool lh_label_selector_matches(const lh_label_selector *sel, const json_t *labels) {
  if (!sel || sel->nothing) return false;
  for (size_t i = 0; i < sel->n; i++)
    if (!req_matches(&sel->reqs[i], labels)) return false;
  return true;
}

bool lh_label_selector_matches_object(const lh_label_selector *sel, const json_t *obj) {
  return lh_label_selector_matches(sel, json_object_get(json_object_get(obj, "metadata"), "labels"));
}

bool lh_label_selector_is_everything(const lh_label_selector *sel) { return sel && !sel->nothing && sel->n == 0; }
bool lh_label_selector_is_nothing(const lh_label_selector *sel) { return !sel || sel->nothing; }

char *lh_label_selector_string(const lh_label_selector *sel) {
  if (!sel || sel->nothing) return strdup("<none>");
  size_t cap = 1;
  for (size_t i = 0; i < sel->n; i++) {
    cap += strlen(sel->reqs[i].key) + 16;
    for (size_t j = 0; j < sel->reqs[i].nvals; j++) cap += strlen(sel->reqs[i].vals[j]) + 1;
  }
  char *s = malloc(cap), *p = s;
  if (!s) return NULL;
  *p = '\0';
  for (size_t i = 0; i < sel->n; i++) {
    const req *r = &sel->reqs[i];
    if (i) *p++ = ',';
    if (r->op == OP_NOTEXISTS) *p++ = '!';
    p += sprintf(p, "%s", r->key);
    static const char *const ops[] = {[OP_EQ] = "=", [OP_NE] = "!=", [OP_IN] = " in (",
                                      [OP_NOTIN] = " notin (", [OP_EXISTS] = "", [OP_NOTEXISTS] = "",
                                      [OP_GT] = ">", [OP_LT] = "<"};
    p += sprintf(p, "%s", ops[r->op]);
    for (size_t j = 0; j < r->nvals; j++) p += sprintf(p, "%s%s", j ? "," : "", r->vals[j]);
    if (r->op == OP_IN || r->op == OP_NOTIN) *p++ = ')';
    *p = '\0';
  }
  return s;
}

/* ---- field selectors ------------------------------------------------------------------------------------ */
typedef struct fterm {
  char *field; /* as written (returned by _required) */
  char *path;  /* dotted JSON path actually read */
  char *value;
  int neg;
} fterm;

struct lh_field_selector {
  fterm *t;
  size_t n;
};

typedef struct falias {
  const char *field, *path;
} falias;

/* Allowed fields per resource (after the apiserver's AddFieldLabelConversionFunc registrations). */
typedef struct fallow {
  const char *resource;
  const falias *fields;
} fallow;

static const falias F_PODS[] = {{"spec.nodeName", NULL}, {"spec.restartPolicy", NULL},
                                {"spec.schedulerName", NULL}, {"spec.serviceAccountName", NULL},
                                {"spec.hostNetwork", NULL}, {"status.phase", NULL},
                                {"status.podIP", NULL}, {"status.nominatedNodeName", NULL}, {NULL, NULL}};
static const falias F_NODES[] = {{"spec.unschedulable", NULL}, {NULL, NULL}};
static const falias F_NAMESPACES[] = {{"status.phase", NULL}, {NULL, NULL}};
static const falias F_SECRETS[] = {{"type", NULL}, {NULL, NULL}};
static const falias F_EVENTS[] = {{"involvedObject.kind", NULL}, {"involvedObject.namespace", NULL},
                                  {"involvedObject.name", NULL}, {"involvedObject.uid", NULL},
                                  {"involvedObject.apiVersion", NULL},
                                  {"involvedObject.resourceVersion", NULL},
                                  {"involvedObject.fieldPath", NULL}, {"reason", NULL},
                                  {"reportingComponent", NULL}, {"source", "source.component"},
                                  {"type", NULL}, {NULL, NULL}};
static const falias F_REPLICAS[] = {{"status.replicas", NULL}, {NULL, NULL}};
static const falias F_JOBS[] = {{"status.successful", NULL}, {NULL, NULL}};

static const fallow ALLOW[] = {
    {"pods", F_PODS},           {"nodes", F_NODES},         {"namespaces", F_NAMESPACES},
    {"secrets", F_SECRETS},     {"events", F_EVENTS},       {"replicasets", F_REPLICAS},
    {"replicationcontrollers", F_REPLICAS}, {"jobs", F_JOBS}, {NULL, NULL},
};

/* Returns the JSON path for field, or NULL if the field is not supported for resource. */
static const char *field_path(const char *field, const char *resource, int flags) {
  if (!strcmp(field, "metadata.name") || !strcmp(field, "metadata.namespace")) return field;
  if (flags & LH_FIELDSEL_ANY_PATH) return field;
  const char *r = resource ? strrchr(resource, '/') : NULL;
  r = r ? r + 1 : resource;
  if (!r) return NULL;
  /* custom resources (group with a dot) only get the allow-list if they are events.k8s.io events */
  int custom = resource && strchr(resource, '/') && strchr(resource, '.') &&
               strncmp(resource, "events.k8s.io/", 14) != 0;
  if (custom) return NULL;
  for (const fallow *a = ALLOW; a->resource; a++) {
    if (strcmp(a->resource, r) != 0) continue;
    for (const falias *f = a->fields; f->field; f++)
      if (!strcmp(f->field, field)) return f->path ? f->path : f->field;
  }
  return NULL;
}

/* Whether resource registers its own field labels (pods, nodes, ...). */
static int has_allow_list(const char *resource) {
  const char *r = resource ? strrchr(resource, '/') : NULL;
  r = r ? r + 1 : resource;
  if (!r) return 0;
  int custom = resource && strchr(resource, '/') && strchr(resource, '.') &&
               strncmp(resource, "events.k8s.io/", 14) != 0;
  if (custom) return 1; /* custom resources keep the "not supported" wording */
  for (const fallow *a = ALLOW; a->resource; a++)
    if (!strcmp(a->resource, r)) return 1;
  return 0;
}

void lh_field_selector_free(lh_field_selector *sel) {
  if (!sel) return;
  for (size_t i = 0; i < sel->n; i++) {
    free(sel->t[i].field);
    free(sel->t[i].path);
    free(sel->t[i].value);
  }
  free(sel->t);
  free(sel);
}

/* Removes the backslash escapes of a field selector value (\\ \, \=). */
static int unescape(const char *s, size_t len, char *out, char *err, size_t errlen) {
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '\\') {
      if (i + 1 >= len || (s[i + 1] != '\\' && s[i + 1] != ',' && s[i + 1] != '=')) {
        seterr(err, errlen, "invalid field selector: invalid escape sequence");
        return LH_SEL_EINVAL;
      }
      out[o++] = s[++i];
    } else if (s[i] == '=' || s[i] == ',') {
      seterr(err, errlen, "invalid field selector: unescaped '%c' in value", s[i]);
      return LH_SEL_EINVAL;
    } else {
      out[o++] = s[i];
    }
  }
  out[o] = '\0';
  return 0;
}

static char *trimdup(const char *s, size_t len) {
  while (len && isspace((unsigned char)*s)) s++, len--;
  while (len && isspace((unsigned char)s[len - 1])) len--;
  return strndup(s, len);
}

int lh_field_selector_parse(const char *text, const char *resource, int flags, lh_field_selector **out,
                            char *err, size_t errlen) {
  *out = NULL;
  if (text && strlen(text) > MAX_SELECTOR_LEN) {
    seterr(err, errlen, "field selector too long");
    return LH_SEL_EINVAL;
  }
  lh_field_selector *sel = calloc(1, sizeof(*sel));
  if (!sel) return LH_SEL_ENOMEM;
  const char *p = text ? text : "";
  while (*p && isspace((unsigned char)*p)) p++;
  int rc = 0;
  while (*p) {
    /* term ends at the first unescaped ',' */
    const char *e = p;
    while (*e && *e != ',') e += (*e == '\\' && e[1]) ? 2 : 1;
    size_t tlen = (size_t)(e - p);
    /* operator: first '!=' or '==' or '=' (not escaped) */
    size_t opos = tlen, olen = 0;
    int neg = 0;
    for (size_t i = 0; i < tlen; i++) {
      if (p[i] == '\\') {
        i++;
        continue;
      }
      if (p[i] == '!' && i + 1 < tlen && p[i + 1] == '=') { opos = i; olen = 2; neg = 1; break; }
      if (p[i] == '=') { opos = i; olen = (i + 1 < tlen && p[i + 1] == '=') ? 2 : 1; break; }
    }
    if (opos == tlen) {
      char *t = strndup(p, tlen);
      seterr(err, errlen, "invalid selector: '%s'; can't understand '%s'", text, t ? t : "");
      free(t);
      rc = LH_SEL_EINVAL;
      break;
    }
    char *field = trimdup(p, opos);
    char *raw = trimdup(p + opos + olen, tlen - opos - olen);
    char *val = raw ? malloc(strlen(raw) + 1) : NULL;
    if (!field || !raw || !val) {
      free(field), free(raw), free(val);
      rc = LH_SEL_ENOMEM;
      break;
    }
    rc = unescape(raw, strlen(raw), val, err, errlen);
    free(raw);
    const char *path = rc ? NULL : field_path(field, resource, flags);
    if (!rc && (!path || !*field)) {
      /* kinds with their own field-label conversion (the ALLOW list) word it one way, kinds that
       * use the default metav1 conversion (configmaps, custom resources, ...) the other */
      if (has_allow_list(resource))
        seterr(err, errlen, "field label not supported: %s", field);
      else
        seterr(err, errlen, "\"%s\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"",
               field);
      rc = LH_SEL_EINVAL;
    }
    char *pathd = path ? strdup(path) : NULL;
    fterm *nt = rc ? NULL : realloc(sel->t, (sel->n + 1) * sizeof(*nt));
    if (rc || !pathd || !nt) {
      free(field), free(val), free(pathd);
      if (!rc) rc = LH_SEL_ENOMEM;
      break;
    }
    sel->t = nt;
    sel->t[sel->n++] = (fterm){field, pathd, val, neg};
    p = *e ? e + 1 : e;
    while (*p && isspace((unsigned char)*p)) p++;
  }
  if (rc) {
    lh_field_selector_free(sel);
    return rc;
  }
  *out = sel;
  return 0;
}

/* Renders obj at dotted path as the string the apiserver compares ("" when absent). */
static void field_value(const json_t *obj, const char *path, char *buf, size_t buflen) {
  const json_t *cur = obj;
  const char *p = path;
  buf[0] = '\0';
  while (cur && *p) {
    const char *dot = strchr(p, '.');
    size_t n = dot ? (size_t)(dot - p) : strlen(p);
    char key[256];
    if (n >= sizeof(key) || !json_is_object(cur)) return;
    memcpy(key, p, n);
    key[n] = '\0';
    cur = json_object_get(cur, key);
    p = dot ? dot + 1 : p + n;
  }
  if (!cur) return;
  if (json_is_string(cur)) snprintf(buf, buflen, "%s", json_string_value(cur));
  else if (json_is_true(cur)) snprintf(buf, buflen, "true");
  else if (json_is_false(cur)) snprintf(buf, buflen, "false");
  else if (json_is_integer(cur)) snprintf(buf, buflen, "%lld", (long long)json_integer_value(cur));
  else if (json_is_real(cur)) snprintf(buf, buflen, "%g", json_real_value(cur));
}

bool lh_field_selector_matches(const lh_field_selector *sel, const json_t *obj) {
  if (!sel) return true;
  char buf[1024];
  for (size_t i = 0; i < sel->n; i++) {
    field_value(obj, sel->t[i].path, buf, sizeof(buf));
    int eq = strcmp(buf, sel->t[i].value) == 0;
    if (eq == sel->t[i].neg) return false;
  }
  return true;
}

bool lh_field_selector_is_everything(const lh_field_selector *sel) { return !sel || sel->n == 0; }

const char *lh_field_selector_required(const lh_field_selector *sel, const char *field) {
  if (!sel || !field) return NULL;
  for (size_t i = 0; i < sel->n; i++)
    if (!sel->t[i].neg && strcmp(sel->t[i].field, field) == 0) return sel->t[i].value;
  return NULL;
}
