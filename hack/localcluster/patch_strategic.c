/* patch_strategic.c — strategic merge patch for built-in kinds (see patch.h).
 *
 * Follows k8s.io/apimachinery/pkg/util/strategicpatch (mergeMap / mergeSlice /
 * mergePatchIntoOriginal / normalizeElementOrder with MergeParallelList and IgnoreUnmatchedNulls,
 * as StrategicMergeMapPatch runs them in the apiserver). The Go struct tags become the static
 * schema tables below (k8s.io/api core/v1, apps/v1, batch/v1 `patchStrategy`/`patchMergeKey`).
 * Fields absent from the tables have no strategy: maps merge recursively, lists are replaced.
 *
 * One deliberate difference: where Go copies a patch value verbatim because the key is absent from
 * the live object (or appends a new merge-list element verbatim), we merge it into an empty value,
 * so directives ($patch, $setElementOrder, nulls) never leak into stored objects. */
#include "localcluster/patch.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 200

enum { S_NONE = 0, S_MERGE = 1, S_REPLACE = 2 };

typedef struct smp_type smp_type;
typedef struct smp_field {
  const char *name;
  int strategy;          /* S_MERGE for lists merged by key (or primitive merge lists) */
  const char *merge_key; /* NULL for primitive lists */
  const smp_type *type;  /* map fields: the map's type; list fields: the element type */
} smp_field;
struct smp_type {
  const smp_field *fields;
};

/* ---- schema (from k8s.io/api struct tags) ----------------------------------------------------------- */
static const smp_field F_OBJECTMETA[] = {
    {"ownerReferences", S_MERGE, "uid", NULL},
    {"finalizers", S_MERGE, NULL, NULL},
    {NULL, 0, NULL, NULL}};
static const smp_type T_OBJECTMETA = {F_OBJECTMETA};

static const smp_field F_CONTAINER[] = {
    {"ports", S_MERGE, "containerPort", NULL},
    {"env", S_MERGE, "name", NULL},
    {"volumeMounts", S_MERGE, "mountPath", NULL},
    {"volumeDevices", S_MERGE, "devicePath", NULL},
    {NULL, 0, NULL, NULL}};
static const smp_type T_CONTAINER = {F_CONTAINER};

static const smp_field F_PODSPEC[] = {
    {"volumes", S_MERGE, "name", NULL},
    {"initContainers", S_MERGE, "name", &T_CONTAINER},
    {"containers", S_MERGE, "name", &T_CONTAINER},
    {"ephemeralContainers", S_MERGE, "name", &T_CONTAINER},
    {"imagePullSecrets", S_MERGE, "name", NULL},
    {"hostAliases", S_MERGE, "ip", NULL},
    {"topologySpreadConstraints", S_MERGE, "topologyKey", NULL},
    {"schedulingGates", S_MERGE, "name", NULL},
    {"resourceClaims", S_MERGE, "name", NULL},
    {NULL, 0, NULL, NULL}};
static const smp_type T_PODSPEC = {F_PODSPEC};

static const smp_field F_PODSTATUS[] = {
    {"conditions", S_MERGE, "type", NULL},
    {"podIPs", S_MERGE, "ip", NULL},
    {"hostIPs", S_MERGE, "ip", NULL},
    {"resourceClaimStatuses", S_MERGE, "name", NULL},
    {NULL, 0, NULL, NULL}};
static const smp_type T_PODSTATUS = {F_PODSTATUS};

static const smp_field F_POD[] = {
    {"metadata", 0, NULL, &T_OBJECTMETA},
    {"spec", 0, NULL, &T_PODSPEC},
    {"status", 0, NULL, &T_PODSTATUS},
    {NULL, 0, NULL, NULL}};
static const smp_type T_POD = {F_POD};

/* PodTemplateSpec and the workload controllers built on it */
static const smp_type T_PODTEMPLATESPEC = {F_POD}; /* metadata + spec (no status in templates) */
static const smp_field F_CONDSTATUS[] = {{"conditions", S_MERGE, "type", NULL}, {NULL, 0, NULL, NULL}};
static const smp_type T_CONDSTATUS = {F_CONDSTATUS};
static const smp_field F_WLSPEC[] = {{"template", 0, NULL, &T_PODTEMPLATESPEC}, {NULL, 0, NULL, NULL}};
static const smp_type T_WLSPEC = {F_WLSPEC};
static const smp_field F_WORKLOAD[] = {
    {"metadata", 0, NULL, &T_OBJECTMETA},
    {"spec", 0, NULL, &T_WLSPEC},
    {"status", 0, NULL, &T_CONDSTATUS},
    {NULL, 0, NULL, NULL}};
static const smp_type T_WORKLOAD = {F_WORKLOAD};
/* CronJob: spec.jobTemplate.spec.template */
static const smp_field F_JOBTEMPLATE[] = {
    {"metadata", 0, NULL, &T_OBJECTMETA}, {"spec", 0, NULL, &T_WLSPEC}, {NULL, 0, NULL, NULL}};
static const smp_type T_JOBTEMPLATE = {F_JOBTEMPLATE};
static const smp_field F_CRONSPEC[] = {{"jobTemplate", 0, NULL, &T_JOBTEMPLATE}, {NULL, 0, NULL, NULL}};
static const smp_type T_CRONSPEC = {F_CRONSPEC};
static const smp_field F_CRONJOB[] = {
    {"metadata", 0, NULL, &T_OBJECTMETA}, {"spec", 0, NULL, &T_CRONSPEC}, {NULL, 0, NULL, NULL}};
static const smp_type T_CRONJOB = {F_CRONJOB};

/* Node: spec.podCIDRs merge (primitive), spec.taints no strategy (replaced);
 * status.conditions by type, status.addresses by type. */
static const smp_field F_NODESPEC[] = {{"podCIDRs", S_MERGE, NULL, NULL}, {NULL, 0, NULL, NULL}};
static const smp_type T_NODESPEC = {F_NODESPEC};
static const smp_field F_NODESTATUS[] = {
    {"conditions", S_MERGE, "type", NULL}, {"addresses", S_MERGE, "type", NULL}, {NULL, 0, NULL, NULL}};
static const smp_type T_NODESTATUS = {F_NODESTATUS};
static const smp_field F_NODE[] = {
    {"metadata", 0, NULL, &T_OBJECTMETA},
    {"spec", 0, NULL, &T_NODESPEC},
    {"status", 0, NULL, &T_NODESTATUS},
    {NULL, 0, NULL, NULL}};
static const smp_type T_NODE = {F_NODE};

/* Service: spec.ports by port; status.conditions by type. */
static const smp_field F_SVCSPEC[] = {{"ports", S_MERGE, "port", NULL}, {NULL, 0, NULL, NULL}};
static const smp_type T_SVCSPEC = {F_SVCSPEC};
static const smp_field F_SERVICE[] = {
    {"metadata", 0, NULL, &T_OBJECTMETA},
    {"spec", 0, NULL, &T_SVCSPEC},
    {"status", 0, NULL, &T_CONDSTATUS},
    {NULL, 0, NULL, NULL}};
static const smp_type T_SERVICE = {F_SERVICE};

/* Namespaces, PVCs, ReplicationControllers(template+conditions) and everything else built in. */
static const smp_field F_CONDOBJ[] = {
    {"metadata", 0, NULL, &T_OBJECTMETA}, {"status", 0, NULL, &T_CONDSTATUS}, {NULL, 0, NULL, NULL}};
static const smp_type T_CONDOBJ = {F_CONDOBJ};
static const smp_field F_GENERIC[] = {{"metadata", 0, NULL, &T_OBJECTMETA}, {NULL, 0, NULL, NULL}};
static const smp_type T_GENERIC = {F_GENERIC};

static const struct {
  const char *resource;
  const smp_type *type;
} KINDS[] = {
    {"pods", &T_POD},
    {"podtemplates", &T_WORKLOAD}, /* template: PodTemplateSpec at top level "template" */
    {"nodes", &T_NODE},
    {"services", &T_SERVICE},
    {"namespaces", &T_CONDOBJ},
    {"persistentvolumeclaims", &T_CONDOBJ},
    {"replicationcontrollers", &T_WORKLOAD},
    {"apps/deployments", &T_WORKLOAD},
    {"apps/replicasets", &T_WORKLOAD},
    {"apps/statefulsets", &T_WORKLOAD},
    {"apps/daemonsets", &T_WORKLOAD},
    {"batch/jobs", &T_WORKLOAD},
    {"batch/cronjobs", &T_CRONJOB},
};

/* API groups whose types are compiled into the apiserver (strategic merge patch supported). */
static const char *const BUILTIN_GROUPS[] = {
    "apps", "batch", "autoscaling", "policy", "rbac.authorization.k8s.io", "coordination.k8s.io",
    "scheduling.k8s.io", "storage.k8s.io", "networking.k8s.io", "events.k8s.io", "discovery.k8s.io",
    "node.k8s.io", "certificates.k8s.io", "admissionregistration.k8s.io", "apiextensions.k8s.io",
    "apiregistration.k8s.io", "flowcontrol.apiserver.k8s.io", "resource.k8s.io",
    "authentication.k8s.io", "authorization.k8s.io", NULL};

bool lh_patch_strategic_supported(const char *resource) {
  if (!resource || !*resource) return false;
  const char *slash = strrchr(resource, '/');
  if (!slash) return true; /* core group */
  size_t n = (size_t)(slash - resource);
  for (const char *const *g = BUILTIN_GROUPS; *g; g++)
    if (strlen(*g) == n && strncmp(*g, resource, n) == 0) return true;
  return false;
}

static const smp_type *kind_type(const char *resource) {
  for (size_t i = 0; i < sizeof(KINDS) / sizeof(KINDS[0]); i++)
    if (strcmp(KINDS[i].resource, resource) == 0) return KINDS[i].type;
  return &T_GENERIC;
}

static const smp_field *lookup(const smp_type *t, const char *name) {
  static const smp_field none = {NULL, 0, NULL, NULL};
  if (t)
    for (const smp_field *f = t->fields; f->name; f++)
      if (strcmp(f->name, name) == 0) return f;
  return &none;
}

/* ---- errors ---------------------------------------------------------------------------------------- */
typedef struct ctx {
  char *err;
  size_t errlen;
  int rc;
} ctx;

static int fail(ctx *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(ctx *c, int rc, const char *fmt, ...) {
  if (c->rc) return c->rc; /* keep the first error */
  c->rc = rc;
  if (c->err && c->errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
  }
  return rc;
}

static int nomem(ctx *c) { return fail(c, LH_PATCH_ENOMEM, "out of memory applying strategic merge patch"); }

#define P_DIRECTIVE "$patch"
#define P_RETAIN "$retainKeys"
#define P_DELPRIM "$deleteFromPrimitiveList/"
#define P_ORDER "$setElementOrder/"

static int starts(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

/* ---- list helpers ----------------------------------------------------------------------------------- */
/* Value identifying an element: its merge-key member for maps, itself for scalars. */
static const json_t *ident(const json_t *v, const char *mk) { return mk ? json_object_get(v, mk) : v; }

static int ident_eq(const json_t *a, const json_t *b) {
  if (!a || !b) return 0;
  if (json_is_number(a) && json_is_number(b)) return json_number_value(a) == json_number_value(b);
  return json_equal(a, b);
}

static long index_of(const json_t *list, const json_t *item, const char *mk) {
  const json_t *id = ident(item, mk);
  if (!json_is_array(list) || !id) return -1;
  for (size_t i = 0; i < json_array_size(list); i++)
    if (ident_eq(ident(json_array_get(list, i), mk), id)) return (long)i;
  return -1;
}

/* Kind of the elements of the given lists: 'o' object, 's' scalar, 0 when all empty; error for
 * mixed element types or lists of lists (sliceElementType). */
static int elem_kind(ctx *c, const json_t *a, const json_t *b, char *kind) {
  int t = -1;
  const json_t *ls[2] = {a, b};
  for (int l = 0; l < 2; l++) {
    size_t i;
    json_t *v;
    json_array_foreach(ls[l], i, v) {
      int vt = json_typeof(v);
      if (vt == JSON_TRUE || vt == JSON_FALSE) vt = JSON_TRUE;
      if (vt == JSON_INTEGER || vt == JSON_REAL) vt = JSON_REAL;
      if (vt == JSON_ARRAY) return fail(c, LH_PATCH_EINVAL, "lists of lists are not supported");
      if (t >= 0 && vt != t) return fail(c, LH_PATCH_EINVAL, "list element types are not identical");
      t = vt;
    }
  }
  *kind = t < 0 ? 0 : t == JSON_OBJECT ? 'o' : 's';
  return 0;
}

/* Stable sort of items by their index in order (items not found keep their place after found ones
 * compare as equal: a stable insertion sort only moves items both found in order). */
static void sort_by_order(json_t **items, size_t n, const json_t *order, const char *mk) {
  for (size_t i = 1; i < n; i++) {
    json_t *x = items[i];
    long xi = index_of(order, x, mk);
    if (xi < 0) continue;
    size_t j = i;
    while (j > 0) {
      long yi = index_of(order, items[j - 1], mk);
      if (yi < 0 || yi <= xi) break;
      items[j] = items[j - 1];
      j--;
    }
    items[j] = x;
  }
}

static int is_delete_directive(const json_t *v) {
  const char *d = json_string_value(json_object_get(v, P_DIRECTIVE));
  return d && strcmp(d, "delete") == 0;
}

/* normalizeElementOrder: sorts patch items by patch_order, server-only items by server_order, then
 * interleaves them (mergeSortedSlice). Takes no ownership; returns a new array. */
static json_t *normalize_order(ctx *c, json_t **pi, size_t pn, json_t **si, size_t sn,
                               const json_t *patch_order, const json_t *server_order, const char *mk) {
  /* $patch: delete items (only possible in verbatim lists) go last within their group */
  sort_by_order(pi, pn, patch_order, mk);
  sort_by_order(si, sn, server_order, mk);
  if (mk) { /* stable: move $patch:delete items to the end */
    for (size_t end = pn; end > 0; end--) {
      size_t i = end - 1;
      if (!is_delete_directive(pi[i])) continue;
      json_t *x = pi[i];
      memmove(&pi[i], &pi[i + 1], (pn - i - 1) * sizeof(*pi));
      pi[pn - 1] = x;
    }
  }
  json_t *out = json_array();
  if (!out) {
    nomem(c);
    return NULL;
  }
  size_t i = 0, j = 0;
  while (i < sn || j < pn) {
    json_t *v;
    if (i >= sn) v = pi[j++];
    else if (j >= pn) v = si[i++];
    else {
      long li = index_of(server_order, si[i], mk), ri = index_of(server_order, pi[j], mk);
      if (li >= 0 && ri >= 0 && li < ri) v = si[i++];
      else v = pi[j++];
    }
    if (json_array_append(out, v)) {
      json_decref(out);
      nomem(c);
      return NULL;
    }
  }
  return out;
}

/* Partitions merged into items present in `by` and the rest, then normalizes the order. */
static json_t *enforce_order(ctx *c, json_t *merged, const json_t *by, const json_t *patch_order,
                             const json_t *server_order, const char *mk) {
  size_t n = json_array_size(merged);
  json_t **pi = malloc((n ? n : 1) * sizeof(*pi)), **si = malloc((n ? n : 1) * sizeof(*si));
  if (!pi || !si) {
    free(pi), free(si);
    nomem(c);
    return NULL;
  }
  size_t pn = 0, sn = 0;
  for (size_t i = 0; i < n; i++) {
    json_t *v = json_array_get(merged, i);
    if (mk && !json_object_get(v, mk)) {
      free(pi), free(si);
      fail(c, LH_PATCH_EINVAL, "map does not contain declared merge key: %s", mk);
      return NULL;
    }
    if (index_of(by, v, mk) >= 0) pi[pn++] = v;
    else si[sn++] = v;
  }
  json_t *out = normalize_order(c, pi, pn, si, sn, patch_order, server_order, mk);
  free(pi);
  free(si);
  return out;
}

/* ---- merging ---------------------------------------------------------------------------------------- */
static json_t *merge_map(ctx *c, json_t *orig, const json_t *patch, const smp_type *t, int depth);
static json_t *merge_slice(ctx *c, json_t *orig, const json_t *patch, const smp_field *f,
                           int is_delete_list, int depth);

/* Value for a key absent from the original (see the file comment): patch merged into nothing. */
static json_t *fresh(ctx *c, const json_t *pv, const smp_field *f, int depth) {
  if (json_is_object(pv)) return merge_map(c, NULL, pv, f->type, depth + 1);
  if (json_is_array(pv) && f->strategy == S_MERGE) {
    json_t *empty = json_array();
    if (!empty) {
      nomem(c);
      return NULL;
    }
    return merge_slice(c, empty, pv, f, 0, depth + 1);
  }
  json_t *r = json_deep_copy(pv);
  if (!r) nomem(c);
  return r;
}

/* mergeSlice: orig (owned, array) merged with patch (array) for field f. Returns a new array. */
static json_t *merge_slice(ctx *c, json_t *orig, const json_t *patch, const smp_field *f,
                           int is_delete_list, int depth) {
  json_t *result = NULL, *norig = NULL, *npatch = NULL;
  if (json_array_size(orig) == 0 && json_array_size(patch) == 0) return orig;
  char kind;
  if (elem_kind(c, orig, patch, &kind)) goto out;
  if (kind == 's') {
    if (is_delete_list) {
      result = json_array();
      if (!result) goto oom;
      size_t i;
      json_t *v;
      json_array_foreach(orig, i, v) if (index_of(patch, v, NULL) < 0 && json_array_append(result, v)) goto oom;
      goto out;
    }
    json_t *merged = json_array();
    if (!merged) goto oom;
    const json_t *ls[2] = {orig, patch};
    for (int l = 0; l < 2; l++) {
      size_t i;
      json_t *v;
      json_array_foreach(ls[l], i, v) if (index_of(merged, v, NULL) < 0 && json_array_append(merged, v)) {
        json_decref(merged);
        goto oom;
      }
    }
    result = enforce_order(c, merged, patch, patch, orig, NULL);
    json_decref(merged);
    goto out;
  }
  const char *mk = f->merge_key;
  if (!mk) {
    fail(c, LH_PATCH_EINVAL, "cannot merge lists without merge key for %s", f->name ? f->name : "list");
    goto out;
  }
  /* mergeSliceWithSpecialElements */
  norig = json_copy(orig); /* shallow: elements shared, list mutable */
  npatch = json_array();
  if (!norig || !npatch) goto oom;
  int replace = 0;
  size_t i;
  json_t *v;
  json_array_foreach(patch, i, v) {
    json_t *d = json_object_get(v, P_DIRECTIVE);
    if (!d) {
      if (json_array_append(npatch, v)) goto oom;
      continue;
    }
    const char *ds = json_string_value(d);
    if (ds && !strcmp(ds, "delete")) {
      json_t *mv = json_object_get(v, mk);
      if (!mv) {
        fail(c, LH_PATCH_EINVAL, "map does not contain declared merge key: %s", mk);
        goto out;
      }
      for (size_t k = 0; k < json_array_size(norig);) {
        if (ident_eq(json_object_get(json_array_get(norig, k), mk), mv)) json_array_remove(norig, k);
        else k++;
      }
    } else if (ds && !strcmp(ds, "replace")) {
      replace = 1;
    } else if (ds && !strcmp(ds, "merge")) {
      fail(c, LH_PATCH_EINVAL, "merging lists cannot yet be specified in the patch");
      goto out;
    } else {
      fail(c, LH_PATCH_EINVAL, "unknown patch type: %s in list %s", ds ? ds : "(non-string)", f->name ? f->name : "");
      goto out;
    }
  }
  if (replace) {
    json_decref(norig);
    norig = npatch;
    npatch = json_array();
    if (!npatch) goto oom;
  }
  /* mergeSliceWithoutSpecialElements */
  json_t *merged = json_copy(norig);
  if (!merged) goto oom;
  json_array_foreach(npatch, i, v) {
    json_t *mv = json_object_get(v, mk);
    if (!mv) {
      json_decref(merged);
      fail(c, LH_PATCH_EINVAL, "map does not contain declared merge key: %s", mk);
      goto out;
    }
    long at = -1;
    for (size_t k = 0; k < json_array_size(merged); k++)
      if (ident_eq(json_object_get(json_array_get(merged, k), mk), mv)) {
        at = (long)k;
        break;
      }
    json_t *m;
    if (at >= 0) {
      json_t *cur = json_deep_copy(json_array_get(merged, (size_t)at));
      m = cur ? merge_map(c, cur, v, f->type, depth + 1) : NULL;
      if (!m || json_array_set_new(merged, (size_t)at, m)) {
        json_decref(merged);
        if (!c->rc) nomem(c);
        goto out;
      }
    } else {
      m = merge_map(c, NULL, v, f->type, depth + 1);
      if (!m || json_array_append_new(merged, m)) {
        json_decref(merged);
        if (!c->rc) nomem(c);
        goto out;
      }
    }
  }
  result = enforce_order(c, merged, npatch, npatch, norig, mk);
  json_decref(merged);
  goto out;
oom:
  nomem(c);
out:
  json_decref(norig);
  json_decref(npatch);
  json_decref(orig);
  return result;
}

/* validatePatchWithSetOrderList */
static int validate_order(ctx *c, const json_t *plist, const json_t *order, const char *mk) {
  if (!json_array_size(order) || !json_array_size(plist)) return 0;
  size_t pi = 0, oi = 0, pn = json_array_size(plist), on = json_array_size(order);
  while (pi < pn && oi < on) {
    const json_t *pv = json_array_get(plist, pi);
    if (mk && json_object_get(pv, P_DIRECTIVE)) {
      pi++;
      continue;
    }
    const json_t *ov = json_array_get(order, oi);
    if (mk && (!json_object_get(pv, mk) || !json_object_get(ov, mk)))
      return fail(c, LH_PATCH_EINVAL, "map does not contain declared merge key: %s", mk);
    if (ident_eq(ident(pv, mk), ident(ov, mk))) pi++;
    oi++;
  }
  while (pi < pn && mk && json_object_get(json_array_get(plist, pi), P_DIRECTIVE)) pi++;
  if (pi < pn) return fail(c, LH_PATCH_EINVAL, "the order in the patch list doesn't match the $setElementOrder list");
  return 0;
}

/* mergeMap: orig (owned object or NULL) merged with patch (object). Returns the result (owned). */
static json_t *merge_map(ctx *c, json_t *orig, const json_t *patch, const smp_type *t, int depth) {
  if (depth > MAX_DEPTH) {
    json_decref(orig);
    fail(c, LH_PATCH_EINVAL, "strategic merge patch nested too deeply");
    return NULL;
  }
  json_t *dir = json_object_get(patch, P_DIRECTIVE);
  if (dir) {
    const char *ds = json_string_value(dir);
    json_decref(orig);
    if (ds && !strcmp(ds, "replace")) {
      json_t *r = json_deep_copy(patch);
      if (!r) {
        nomem(c);
        return NULL;
      }
      json_object_del(r, P_DIRECTIVE);
      return r;
    }
    if (ds && !strcmp(ds, "delete")) {
      json_t *r = json_object();
      if (!r) nomem(c);
      return r;
    }
    fail(c, LH_PATCH_EINVAL, "unknown patch type: %s in map", ds ? ds : "(non-string)");
    return NULL;
  }
  if (!orig) orig = json_object();
  if (!orig) {
    nomem(c);
    return NULL;
  }
  /* $retainKeys */
  json_t *rk = json_object_get(patch, P_RETAIN);
  if (rk) {
    if (!json_is_array(rk)) goto bad_retain;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)patch, k, v) {
      if (json_is_null(v) || !strcmp(k, P_RETAIN) || starts(k, P_DELPRIM) || starts(k, P_ORDER)) continue;
      size_t i;
      json_t *r;
      int found = 0;
      json_array_foreach(rk, i, r) if (json_is_string(r) && !strcmp(json_string_value(r), k)) found = 1;
      if (!found) goto bad_retain;
    }
    void *tmp;
    json_object_foreach_safe(orig, tmp, k, v) {
      size_t i;
      json_t *r;
      int found = 0;
      json_array_foreach(rk, i, r) if (json_is_string(r) && !strcmp(json_string_value(r), k)) found = 1;
      if (!found) json_object_del(orig, k);
    }
  }
  /* $setElementOrder/<field> (mergePatchIntoOriginal): remember which lists it consumed */
  json_t *done = json_object();
  if (!done) goto oom;
  const char *k;
  json_t *pv;
  json_object_foreach((json_t *)patch, k, pv) {
    if (!starts(k, P_ORDER)) continue;
    const char *fk = k + strlen(P_ORDER);
    if (!json_is_array(pv) || !*fk) {
      fail(c, LH_PATCH_EINVAL, "invalid patch format of setElementOrder list");
      goto err;
    }
    const smp_field *f = lookup(t, fk);
    json_t *ol = json_object_get(orig, fk);
    const json_t *pl = json_object_get(patch, fk);
    if (ol && !json_is_array(ol)) ol = NULL; /* type mismatch: the plain merge below handles it */
    if (pl && !json_is_array(pl)) {
      fail(c, LH_PATCH_EINVAL, "invalid patch format of setElementOrder list: %s is not a list", fk);
      goto err;
    }
    const char *mk = f->strategy == S_MERGE ? f->merge_key : NULL;
    if (validate_order(c, pl, pv, mk)) goto err;
    json_t *merged;
    json_t *olcopy = ol ? json_incref(ol) : NULL;
    if (!ol && !pl) continue;
    if (ol && !pl) merged = json_incref(ol);
    else if (f->strategy == S_MERGE) {
      json_t *base = ol ? json_deep_copy(ol) : json_array();
      if (!base) {
        json_decref(olcopy);
        goto oom;
      }
      merged = merge_slice(c, base, pl, f, 0, depth + 1);
    } else {
      merged = json_deep_copy(pl);
      if (!merged) nomem(c);
    }
    if (!merged) {
      json_decref(olcopy);
      goto err;
    }
    char kind;
    if (elem_kind(c, merged, pv, &kind)) {
      json_decref(merged);
      json_decref(olcopy);
      goto err;
    }
    json_t *both = enforce_order(c, merged, pv, pv, olcopy, kind == 'o' ? mk : NULL);
    json_decref(merged);
    json_decref(olcopy);
    if (!both || json_object_set_new(orig, fk, both) || json_object_set_new(done, fk, json_true())) {
      if (!c->rc) nomem(c);
      goto err;
    }
  }
  /* the merge proper */
  const char *pk;
  json_object_foreach((json_t *)patch, pk, pv) {
    if (!strcmp(pk, P_RETAIN) || starts(pk, P_ORDER)) continue;
    int is_delete_list = 0;
    k = pk; /* the field name (the iteration key must stay untouched) */
    if (starts(k, P_DELPRIM)) {
      k += strlen(P_DELPRIM);
      is_delete_list = 1;
      if (!*k || !json_is_array(pv)) {
        fail(c, LH_PATCH_EINVAL, "invalid patch format of primitive list");
        goto err;
      }
    }
    if (json_object_get(done, k) && !is_delete_list) continue;
    if (json_is_null(pv)) {
      json_object_del(orig, k);
      continue;
    }
    const smp_field *f = lookup(t, k);
    json_t *ov = json_object_get(orig, k);
    json_t *nv = NULL;
    if (!ov) {
      if (is_delete_list) continue;
      nv = fresh(c, pv, f, depth);
    } else if (json_is_object(ov) && json_is_object(pv)) {
      if (f->strategy == S_REPLACE) {
        nv = json_deep_copy(pv);
        if (!nv) nomem(c);
      } else {
        nv = merge_map(c, json_incref(ov), pv, f->type, depth + 1);
      }
    } else if (json_is_array(ov) && json_is_array(pv)) {
      if (f->strategy == S_MERGE) {
        nv = merge_slice(c, json_incref(ov), pv, f, is_delete_list, depth + 1);
      } else {
        nv = json_deep_copy(pv); /* no strategy: replaced wholesale (like Go, even for a delete list) */
        if (!nv) nomem(c);
      }
    } else {
      if (is_delete_list) continue;
      nv = fresh(c, pv, f, depth);
    }
    if (!nv || json_object_set_new(orig, k, nv)) {
      if (!c->rc) nomem(c);
      goto err;
    }
  }
  json_decref(done);
  return orig;
bad_retain:
  fail(c, LH_PATCH_EINVAL, "invalid patch format of retainKeys");
  json_decref(orig);
  return NULL;
oom:
  nomem(c);
err:
  json_decref(done);
  json_decref(orig);
  return NULL;
}

int lh_patch_strategic(const char *resource, const json_t *doc, const json_t *patch, json_t **out, char *err,
                       size_t errlen) {
  *out = NULL;
  ctx c = {err, errlen, 0};
  if (!lh_patch_strategic_supported(resource)) {
    fail(&c, LH_PATCH_EUNSUPPORTED,
         "the body of the request was in an unknown format - accepted media types include: "
         "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml");
    return c.rc;
  }
  if (!json_is_object(patch)) {
    fail(&c, LH_PATCH_EINVAL, "strategic merge patch must be a JSON object");
    return c.rc;
  }
  if (doc && !json_is_object(doc)) {
    fail(&c, LH_PATCH_EINVAL, "the document to patch is not a JSON object");
    return c.rc;
  }
  json_t *d = doc ? json_deep_copy(doc) : json_object();
  if (!d) return nomem(&c);
  json_t *r = merge_map(&c, d, patch, kind_type(resource), 0);
  if (!r) return c.rc ? c.rc : LH_PATCH_ENOMEM;
  if (c.rc) { /* defensive: an error recorded on a path that still returned */
    json_decref(r);
    return c.rc;
  }
  *out = r;
  return 0;
}
