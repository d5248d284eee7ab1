/* yaml_json.c — converts a YAML document (e.g. an application/yaml request body) to JSON (the real server accepts YAML
 * bodies for create and update). Plain scalars are resolved the YAML 1.2 core-schema
 * way (null, booleans, integers, floats, else strings); quoted scalars stay strings. Only the first
 * document is converted. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/yaml_json.h"

static int is_int(const char *s) {
  if (*s == '-' || *s == '+') s++;
  if (!*s) return 0;
  for (; *s; s++)
    if (!isdigit((unsigned char)*s)) return 0;
  return 1;
}

static int is_float(const char *s) {
  char *end;
  if (!*s || isspace((unsigned char)*s)) return 0;
  errno = 0;
  strtod(s, &end);
  /* strtod also takes "inf", "nan" and hex: accept only plain decimal text. */
  for (const char *p = s; *p; p++)
    if (!isdigit((unsigned char)*p) && !strchr("+-.eE", *p)) return 0;
  return *end == '\0' && errno == 0;
}

static json_t *scalar(const yaml_node_t *n) {
  const char *s = (const char *)n->data.scalar.value;
  if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return json_stringn(s, n->data.scalar.length);
  if (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL")) return json_null();
  if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) return json_true();
  if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) return json_false();
  if (is_int(s)) return json_integer(strtoll(s, NULL, 10));
  if (is_float(s)) return json_real(strtod(s, NULL));
  return json_stringn(s, n->data.scalar.length);
}

static json_t *convert(yaml_document_t *d, yaml_node_t *n, int depth) {
  if (!n || depth > 200) return NULL;
  switch (n->type) {
  case YAML_SCALAR_NODE: return scalar(n);
  case YAML_SEQUENCE_NODE: {
    json_t *a = json_array();
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
      json_t *v = convert(d, yaml_document_get_node(d, *it), depth + 1);
      if (!v) {
        json_decref(a);
        return NULL;
      }
      json_array_append_new(a, v);
    }
    return a;
  }
  case YAML_MAPPING_NODE: {
    json_t *o = json_object();
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
      yaml_node_t *k = yaml_document_get_node(d, p->key);
      json_t *v = convert(d, yaml_document_get_node(d, p->value), depth + 1);
      if (!k || k->type != YAML_SCALAR_NODE || !v) {
        json_decref(v);
        json_decref(o);
        return NULL;
      }
      json_object_setn_new(o, (const char *)k->data.scalar.value, k->data.scalar.length, v);
    }
    return o;
  }
  default: return NULL;
  }
}

json_t *lh_yaml_to_json(const char *text, size_t len, char *err, size_t errlen) {
  yaml_parser_t p;
  yaml_document_t d;
  if (!yaml_parser_initialize(&p)) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
  if (!yaml_parser_load(&p, &d)) {
    snprintf(err, errlen, "YAML error at line %zu: %s", p.problem_mark.line + 1, p.problem ? p.problem : "?");
    yaml_parser_delete(&p);
    return NULL;
  }
  json_t *out = convert(&d, yaml_document_get_root_node(&d), 0);
  if (!out) snprintf(err, errlen, "empty document, or a mapping key that is not a scalar");
  yaml_document_delete(&d);
  yaml_parser_delete(&p);
  return out;
}
