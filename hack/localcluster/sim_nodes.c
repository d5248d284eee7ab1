/* sim_nodes.c — validation of the --nodes flags (see sim_nodes.h). */
#include "localcluster/sim_nodes.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "localcluster/objmeta.h"
#include "localcluster/selector.h"

int lc_quantity_check(const char *q) {
  if (!q || !*q) return -1;
  const char *p = q;
  if (*p == '+') p++;
  int digits = 0;
  while (isdigit((unsigned char)*p)) p++, digits++;
  if (*p == '.') {
    p++;
    while (isdigit((unsigned char)*p)) p++, digits++;
  }
  if (!digits) return -1;
  static const char *const suffixes[] = {"", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", NULL};
  for (int i = 0; suffixes[i]; i++)
    if (!strcmp(p, suffixes[i])) return 0;
  if ((*p == 'e' || *p == 'E') && p[1]) {
    const char *x = p + 1;
    if (*x == '-' || *x == '+') x++;
    if (!*x) return -1;
    while (isdigit((unsigned char)*x)) x++;
    return *x ? -1 : 0;
  }
  return -1;
}

/* Parses "k=v,k2=v2" into obj (may be NULL: validation only). */
static int parse_labels(const char *text, json_t *obj, char *err, size_t errlen) {
  if (!text || !*text) return 0;
  char *dup = strdup(text);
  if (!dup) return -1;
  int rc = 0;
  char *save = NULL;
  for (char *kv = strtok_r(dup, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(kv, '=');
    char m[256];
    if (!eq) {
      snprintf(err, errlen, "--node-labels: \"%s\" is not key=value", kv);
      rc = -1;
      break;
    }
    *eq = 0;
    if (lh_label_key_validate(kv, m, sizeof m) || lh_label_value_validate(eq + 1, m, sizeof m)) {
      snprintf(err, errlen, "--node-labels: %s", m);
      rc = -1;
      break;
    }
    if (obj) json_object_set_new(obj, kv, json_string(eq + 1));
  }
  free(dup);
  return rc;
}

int lc_sim_nodes_check(const lc_sim_nodes_opts *o, char *err, size_t errlen) {
  if (o->n < 0 || o->n > 100000) {
    snprintf(err, errlen, "--nodes must be between 0 and 100000");
    return -1;
  }
  if (o->cpu && lc_quantity_check(o->cpu)) {
    snprintf(err, errlen, "--node-cpu: \"%s\" is not a quantity (e.g. 8, 500m)", o->cpu);
    return -1;
  }
  if (o->memory && lc_quantity_check(o->memory)) {
    snprintf(err, errlen, "--node-memory: \"%s\" is not a quantity (e.g. 32Gi)", o->memory);
    return -1;
  }
  if (o->gpu < 0 || o->gpu > 1024) {
    snprintf(err, errlen, "--node-gpu must be between 0 and 1024");
    return -1;
  }
  return parse_labels(o->labels, NULL, err, errlen);
}
