/* registry.c — built-in and CRD-defined resource types, and discovery (see registry.h). */
#include "localcluster/registry.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

static void scpy(char *dst, size_t sz, const char *src) {
  snprintf(dst, sz, "%s", src ? src : "");
}

static void make_key(lc_rtype *t) {
  if (t->group[0]) snprintf(t->key, sizeof t->key, "%s/%s", t->group, t->plural);
  else scpy(t->key, sizeof t->key, t->plural);
}

static int push(lc_registry *reg, lc_rtype *t) {
  if (reg->n == reg->cap) {
    size_t nc = reg->cap ? reg->cap * 2 : 32;
    lc_rtype **nv = realloc(reg->v, nc * sizeof *nv);
    if (!nv) return -1;
    reg->v = nv;
    reg->cap = nc;
  }
  reg->v[reg->n++] = t;
  return 0;
}

static void rtype_free(lc_rtype *t) {
  if (!t) return;
  json_decref(t->schema);
  json_decref(t->columns);
  free(t);
}

static int add_builtin(lc_registry *reg, const char *group, const char *version, const char *plural,
                       const char *kind, int namespaced, unsigned subres, const char *shorts,
                       const char *cats) {
  lc_rtype *t = calloc(1, sizeof *t);
  if (!t) return -1;
  scpy(t->group, sizeof t->group, group);
  scpy(t->version, sizeof t->version, version);
  scpy(t->plural, sizeof t->plural, plural);
  scpy(t->kind, sizeof t->kind, kind);
  snprintf(t->list_kind, sizeof t->list_kind, "%sList", kind);
  /* built-in singular names are derived by kubectl from the kind; the real 1.20 discovery says "" */
  t->namespaced = namespaced;
  t->subres = subres;
  for (const char *p = shorts; p && *p && t->n_short < LC_RT_MAX_NAMES;) {
    const char *e = strchr(p, ',');
    size_t l = e ? (size_t)(e - p) : strlen(p);
    snprintf(t->short_names[t->n_short++], 64, "%.*s", (int)l, p);
    p = e ? e + 1 : p + l;
  }
  for (const char *p = cats; p && *p && t->n_cat < LC_RT_MAX_NAMES;) {
    const char *e = strchr(p, ',');
    size_t l = e ? (size_t)(e - p) : strlen(p);
    snprintf(t->categories[t->n_cat++], 64, "%.*s", (int)l, p);
    p = e ? e + 1 : p + l;
  }
  make_key(t);
  if (push(reg, t)) {
    free(t);
    return -1;
  }
  return 0;
}

int lc_registry_init(lc_registry *reg) {
  memset(reg, 0, sizeof *reg);
  int rc = 0;
  rc |= add_builtin(reg, "", "v1", "bindings", "Binding", 1, 0, NULL, NULL);
  if (!rc) reg->v[reg->n - 1]->create_only = 1;
  rc |= add_builtin(reg, "", "v1", "configmaps", "ConfigMap", 1, 0, "cm", NULL);
  rc |= add_builtin(reg, "", "v1", "events", "Event", 1, 0, "ev", NULL);
  rc |= add_builtin(reg, "", "v1", "namespaces", "Namespace", 0, LC_SUB_STATUS | LC_SUB_FINALIZE, "ns", NULL);
  rc |= add_builtin(reg, "", "v1", "nodes", "Node", 0, LC_SUB_STATUS, "no", NULL);
  rc |= add_builtin(reg, "", "v1", "pods", "Pod", 1, LC_SUB_STATUS | LC_SUB_BINDING | LC_SUB_LOG, "po", "all");
  rc |= add_builtin(reg, "", "v1", "resourcequotas", "ResourceQuota", 1, LC_SUB_STATUS, "quota", NULL);
  rc |= add_builtin(reg, "", "v1", "secrets", "Secret", 1, 0, NULL, NULL);
  rc |= add_builtin(reg, "", "v1", "serviceaccounts", "ServiceAccount", 1, 0, "sa", NULL);
  rc |= add_builtin(reg, "", "v1", "services", "Service", 1, LC_SUB_STATUS, "svc", "all");
  rc |= add_builtin(reg, "coordination.k8s.io", "v1", "leases", "Lease", 1, 0, NULL, NULL);
  rc |= add_builtin(reg, "apiextensions.k8s.io", "v1", "customresourcedefinitions",
                    "CustomResourceDefinition", 0, LC_SUB_STATUS, "crd,crds", "api-extensions");
  return rc ? -1 : 0;
}

void lc_registry_free(lc_registry *reg) {
  if (!reg) return;
  for (size_t i = 0; i < reg->n; i++) rtype_free(reg->v[i]);
  free(reg->v);
  memset(reg, 0, sizeof *reg);
}

const lc_rtype *lc_registry_find(const lc_registry *reg, const char *group, const char *version,
                                 const char *plural) {
  for (size_t i = 0; i < reg->n; i++) {
    const lc_rtype *t = reg->v[i];
    if (!strcmp(t->plural, plural) && !strcmp(t->group, group) && !strcmp(t->version, version)) return t;
  }
  return NULL;
}

int lc_registry_serves(const lc_registry *reg, const char *group, const char *version) {
  for (size_t i = 0; i < reg->n; i++)
    if (!strcmp(reg->v[i]->group, group) && !strcmp(reg->v[i]->version, version)) return 1;
  return 0;
}

const lc_rtype *lc_registry_find_key(const lc_registry *reg, const char *key) {
  for (size_t i = 0; i < reg->n; i++)
    if (!strcmp(reg->v[i]->key, key)) return reg->v[i];
  return NULL;
}

const lc_rtype *lc_registry_find_kind(const lc_registry *reg, const char *api_version, const char *kind) {
  if (!api_version || !kind) return NULL;
  const char *slash = strchr(api_version, '/');
  char group[128] = "";
  const char *version = api_version;
  if (slash) {
    snprintf(group, sizeof group, "%.*s", (int)(slash - api_version), api_version);
    version = slash + 1;
  }
  const lc_rtype *any = NULL;
  for (size_t i = 0; i < reg->n; i++) {
    const lc_rtype *t = reg->v[i];
    if (t->create_only || strcmp(t->kind, kind) || strcmp(t->group, group)) continue;
    if (!strcmp(t->version, version)) return t;
    if (!any) any = t;
  }
  return any;
}

/* ---- version priority ------------------------------------------------------------------------ */

/* Parses "v<major>[alpha|beta<minor>]": returns 1 and fills when it is a kube version. */
static int kube_ver(const char *s, long *major, int *level, long *minor) {
  if (s[0] != 'v' || !isdigit((unsigned char)s[1])) return 0;
  char *end;
  *major = strtol(s + 1, &end, 10);
  if (!*end) { *level = 3; *minor = 0; return 1; }
  if (!strncmp(end, "beta", 4)) { *level = 2; end += 4; }
  else if (!strncmp(end, "alpha", 5)) { *level = 1; end += 5; }
  else return 0;
  if (!isdigit((unsigned char)*end)) return 0;
  *minor = strtol(end, &end, 10);
  return *end == 0;
}

int lc_version_cmp(const char *a, const char *b) {
  long ma, mb, na, nb;
  int la, lb;
  int ka = kube_ver(a, &ma, &la, &na), kb = kube_ver(b, &mb, &lb, &nb);
  if (ka && !kb) return -1;
  if (!ka && kb) return 1;
  if (!ka && !kb) return strcmp(a, b);
  if (la != lb) return lb - la;
  if (ma != mb) return ma > mb ? -1 : 1;
  if (na != nb) return na > nb ? -1 : 1;
  return 0;
}

/* ---- CRDs ------------------------------------------------------------------------------------ */

static const char *jstr(const json_t *o, const char *k) {
  const char *s = json_string_value(json_object_get(o, k));
  return s ? s : "";
}

int lc_registry_crd_check(const json_t *crd, char *field, size_t fieldsz, char *msg, size_t msgsz) {
  const json_t *spec = json_object_get(crd, "spec");
  const json_t *names = json_object_get(spec, "names");
  const char *group = jstr(spec, "group");
  const char *plural = jstr(names, "plural");
  const char *kind = jstr(names, "kind");
  const char *scope = jstr(spec, "scope");
  const char *name = jstr(json_object_get(crd, "metadata"), "name");
#define FAIL(f, m)                          \
  do {                                      \
    snprintf(field, fieldsz, "%s", f);      \
    snprintf(msg, msgsz, "%s", m);          \
    return -1;                              \
  } while (0)
  if (!json_is_object(spec)) FAIL("spec", "Required value");
  if (!*group) FAIL("spec.group", "Required value");
  if (!strchr(group, '.')) FAIL("spec.group", "should be a domain with at least one dot");
  if (!*plural) FAIL("spec.names.plural", "Required value");
  if (!*kind) FAIL("spec.names.kind", "Required value");
  if (strcmp(scope, "Namespaced") && strcmp(scope, "Cluster"))
    FAIL("spec.scope", "Unsupported value: must be Cluster or Namespaced");
  char want[300];
  snprintf(want, sizeof want, "%s.%s", plural, group);
  if (strcmp(name, want)) {
    snprintf(field, fieldsz, "metadata.name");
    snprintf(msg, msgsz, "Invalid value: \"%.200s\": must be spec.names.plural+\".\"+spec.group", name);
    return -1;
  }
  const json_t *versions = json_object_get(spec, "versions");
  if (!json_is_array(versions) || json_array_size(versions) == 0)
    FAIL("spec.versions", "Required value: must have exactly one version marked as storage version");
  int storage = 0;
  size_t i;
  const json_t *v;
  json_array_foreach(versions, i, v) {
    if (!*jstr(v, "name")) FAIL("spec.versions.name", "Required value");
    if (json_is_true(json_object_get(v, "storage"))) storage++;
  }
  if (storage != 1)
    FAIL("spec.versions", "Invalid value: must have exactly one version marked as storage version");
  if (strlen(group) >= 128 || strlen(plural) >= 128 || strlen(kind) >= 128)
    FAIL("spec.names", "Invalid value: too long");
  return 0;
#undef FAIL
}

static void copy_names(char dst[LC_RT_MAX_NAMES][64], int *n, const json_t *arr) {
  size_t i;
  const json_t *v;
  *n = 0;
  json_array_foreach(arr, i, v) {
    if (*n >= LC_RT_MAX_NAMES) break;
    if (json_is_string(v)) snprintf(dst[(*n)++], 64, "%s", json_string_value(v));
  }
}

void lc_registry_crd_remove(lc_registry *reg, const char *crd_name) {
  size_t o = 0;
  for (size_t i = 0; i < reg->n; i++) {
    if (reg->v[i]->is_cr && !strcmp(reg->v[i]->crd_name, crd_name)) rtype_free(reg->v[i]);
    else reg->v[o++] = reg->v[i];
  }
  reg->n = o;
}

int lc_registry_crd_add(lc_registry *reg, const json_t *crd) {
  char f[64], m[256];
  if (lc_registry_crd_check(crd, f, sizeof f, m, sizeof m)) return -1;
  const json_t *spec = json_object_get(crd, "spec");
  const json_t *names = json_object_get(spec, "names");
  const char *crd_name = jstr(json_object_get(crd, "metadata"), "name");
  const char *group = jstr(spec, "group");
  const char *plural = jstr(names, "plural");
  /* conflict with another owner of the same group/plural? */
  for (size_t i = 0; i < reg->n; i++) {
    const lc_rtype *t = reg->v[i];
    if (!strcmp(t->group, group) && !strcmp(t->plural, plural) &&
        (!t->is_cr || strcmp(t->crd_name, crd_name)))
      return -2;
  }
  /* a CRD's watch history starts when it was first established (kept across updates) */
  int64_t established = 0;
  for (size_t k = 0; k < reg->n; k++)
    if (reg->v[k]->is_cr && !strcmp(reg->v[k]->crd_name, crd_name)) established = reg->v[k]->established_rv;
  if (!established) {
    const char *rv = jstr(json_object_get(crd, "metadata"), "resourceVersion");
    established = strtoll(rv, NULL, 10);
  }
  const char *storage_version = "";
  {
    size_t k;
    const json_t *sv;
    json_array_foreach(json_object_get(spec, "versions"), k, sv) if (json_is_true(json_object_get(sv, "storage")))
        storage_version = jstr(sv, "name");
  }
  lc_registry_crd_remove(reg, crd_name);
  const json_t *versions = json_object_get(spec, "versions");
  size_t i;
  const json_t *v;
  json_array_foreach(versions, i, v) {
    if (json_is_false(json_object_get(v, "served"))) continue;
    lc_rtype *t = calloc(1, sizeof *t);
    if (!t) return -1;
    t->is_cr = 1;
    t->established_rv = established;
    scpy(t->storage_version, sizeof t->storage_version, storage_version);
    scpy(t->crd_name, sizeof t->crd_name, crd_name);
    scpy(t->group, sizeof t->group, group);
    scpy(t->version, sizeof t->version, jstr(v, "name"));
    scpy(t->plural, sizeof t->plural, plural);
    scpy(t->singular, sizeof t->singular, jstr(names, "singular"));
    if (!t->singular[0]) {
      for (size_t k = 0; jstr(names, "kind")[k] && k + 1 < sizeof t->singular; k++)
        t->singular[k] = (char)tolower((unsigned char)jstr(names, "kind")[k]);
    }
    scpy(t->kind, sizeof t->kind, jstr(names, "kind"));
    if (*jstr(names, "listKind")) scpy(t->list_kind, sizeof t->list_kind, jstr(names, "listKind"));
    else snprintf(t->list_kind, sizeof t->list_kind, "%sList", t->kind);
    t->namespaced = !strcmp(jstr(spec, "scope"), "Namespaced");
    copy_names(t->short_names, &t->n_short, json_object_get(names, "shortNames"));
    copy_names(t->categories, &t->n_cat, json_object_get(names, "categories"));
    const json_t *sub = json_object_get(v, "subresources");
    if (json_object_get(sub, "status")) t->subres |= LC_SUB_STATUS;
    if (json_object_get(sub, "scale")) t->subres |= LC_SUB_SCALE;
    const json_t *schema = json_object_get(json_object_get(v, "schema"), "openAPIV3Schema");
    if (schema) t->schema = json_deep_copy(schema);
    if (schema) {
      char *txt = json_dumps(schema, JSON_COMPACT);
      t->has_defaults = txt && strstr(txt, "\"default\":") != NULL;
      free(txt);
    }
    const json_t *cols = json_object_get(v, "additionalPrinterColumns");
    if (json_is_array(cols)) t->columns = json_deep_copy(cols);
    make_key(t);
    if (push(reg, t)) {
      rtype_free(t);
      return -1;
    }
  }
  return 0;
}

/* ---- discovery ------------------------------------------------------------------------------- */

json_t *lc_discovery_api(const lc_registry *reg, const char *server_addr) {
  (void)reg;
  return json_pack("{s:s, s:[s], s:[{s:s, s:s}]}", "kind", "APIVersions", "versions", "v1",
                   "serverAddressByClientCIDRs", "clientCIDR", "0.0.0.0/0", "serverAddress",
                   server_addr ? server_addr : "127.0.0.1:6443");
}

/* Sorted distinct versions of group (by priority). Returns count (≤ max). */
static size_t group_versions(const lc_registry *reg, const char *group, const char **out, size_t max) {
  size_t n = 0;
  for (size_t i = 0; i < reg->n; i++) {
    const lc_rtype *t = reg->v[i];
    if (strcmp(t->group, group)) continue;
    size_t k;
    for (k = 0; k < n; k++)
      if (!strcmp(out[k], t->version)) break;
    if (k < n || n >= max) continue;
    out[n++] = t->version;
  }
  /* insertion sort by priority */
  for (size_t a = 1; a < n; a++)
    for (size_t b = a; b > 0 && lc_version_cmp(out[b], out[b - 1]) < 0; b--) {
      const char *x = out[b];
      out[b] = out[b - 1];
      out[b - 1] = x;
    }
  return n;
}

static json_t *group_doc(const lc_registry *reg, const char *group, int with_kind) {
  const char *vers[32];
  size_t n = group_versions(reg, group, vers, 32);
  if (!n) return NULL;
  json_t *g = json_object();
  if (with_kind) {
    json_object_set_new(g, "kind", json_string("APIGroup"));
    json_object_set_new(g, "apiVersion", json_string("v1"));
  }
  json_object_set_new(g, "name", json_string(group));
  json_t *arr = json_array();
  char gv[256];
  for (size_t i = 0; i < n; i++) {
    snprintf(gv, sizeof gv, "%s/%s", group, vers[i]);
    json_array_append_new(arr, json_pack("{s:s, s:s}", "groupVersion", gv, "version", vers[i]));
  }
  json_object_set_new(g, "versions", arr);
  snprintf(gv, sizeof gv, "%s/%s", group, vers[0]);
  json_object_set_new(g, "preferredVersion", json_pack("{s:s, s:s}", "groupVersion", gv, "version", vers[0]));
  return g;
}

json_t *lc_discovery_apis(const lc_registry *reg) {
  json_t *doc = json_pack("{s:s, s:s}", "kind", "APIGroupList", "apiVersion", "v1");
  json_t *groups = json_array();
  const char *seen[256];
  size_t ns = 0;
  for (size_t i = 0; i < reg->n; i++) {
    const char *g = reg->v[i]->group;
    if (!*g) continue;
    size_t k;
    for (k = 0; k < ns; k++)
      if (!strcmp(seen[k], g)) break;
    if (k < ns) continue;
    if (ns < 256) seen[ns++] = g;
    json_t *gd = group_doc(reg, g, 0);
    if (gd) json_array_append_new(groups, gd);
  }
  json_object_set_new(doc, "groups", groups);
  return doc;
}

json_t *lc_discovery_group(const lc_registry *reg, const char *group) {
  if (!group || !*group) return NULL;
  return group_doc(reg, group, 1);
}

static json_t *verbs_json(const char *const *verbs) {
  json_t *a = json_array();
  for (; *verbs; verbs++) json_array_append_new(a, json_string(*verbs));
  return a;
}

static json_t *names_json(const char (*names)[64], int n) {
  json_t *a = json_array();
  for (int i = 0; i < n; i++) json_array_append_new(a, json_string(names[i]));
  return a;
}

/* storageVersionHash: base64 of the first 8 bytes of sha256("group/storageVersion/Kind"). */
static void storage_hash(const lc_rtype *t, char out[16]) {
  char in[400];
  snprintf(in, sizeof in, "%s/%s/%s", t->group, t->is_cr && t->storage_version[0] ? t->storage_version : t->version,
           t->kind);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  out[0] = 0;
  if (!EVP_Digest(in, strlen(in), md, &mdlen, EVP_sha256(), NULL) || mdlen < 8) return;
  static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t j = 0;
  for (size_t i = 0; i < 8; i += 3) {
    unsigned v = (unsigned)md[i] << 16 | (i + 1 < 8 ? (unsigned)md[i + 1] << 8 : 0) | (i + 2 < 8 ? md[i + 2] : 0);
    out[j++] = tab[(v >> 18) & 63];
    out[j++] = tab[(v >> 12) & 63];
    out[j++] = i + 1 < 8 ? tab[(v >> 6) & 63] : '=';
    out[j++] = i + 2 < 8 ? tab[v & 63] : '=';
  }
  out[j] = 0;
}

static void add_sub(json_t *arr, const lc_rtype *t, const char *sub, const char *kind,
                    const char *const *verbs) {
  char name[200];
  snprintf(name, sizeof name, "%s/%s", t->plural, sub);
  json_array_append_new(arr, json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", name, "singularName", "",
                                       "namespaced", t->namespaced, "kind", kind, "verbs",
                                       verbs_json(verbs)));
}

json_t *lc_discovery_resources(const lc_registry *reg, const char *group, const char *version) {
  static const char *const builtin_verbs[] = {"create", "delete", "deletecollection", "get", "list",
                                              "patch", "update", "watch", NULL};
  static const char *const ns_verbs[] = {"create", "delete", "get", "list", "patch", "update", "watch", NULL};
  static const char *const cr_verbs[] = {"delete", "deletecollection", "get", "list", "patch",
                                         "create", "update", "watch", NULL};
  static const char *const create_verbs[] = {"create", NULL};
  static const char *const status_verbs[] = {"get", "patch", "update", NULL};
  static const char *const update_verbs[] = {"update", NULL};
  static const char *const get_verbs[] = {"get", NULL};
  static const char *const scale_verbs[] = {"get", "patch", "update", NULL};
  int found = 0;
  json_t *arr = json_array();
  for (size_t i = 0; i < reg->n; i++) {
    const lc_rtype *t = reg->v[i];
    if (strcmp(t->group, group) || strcmp(t->version, version)) continue;
    found = 1;
    const char *const *verbs = t->create_only ? create_verbs
                               : t->is_cr     ? cr_verbs
                               : !strcmp(t->plural, "namespaces") ? ns_verbs
                                                                  : builtin_verbs;
    json_t *r = json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", t->plural, "singularName", t->singular,
                          "namespaced", t->namespaced, "kind", t->kind, "verbs", verbs_json(verbs));
    if (t->n_short) json_object_set_new(r, "shortNames", names_json(t->short_names, t->n_short));
    if (!t->create_only) {
      char h[16];
      storage_hash(t, h);
      if (h[0]) json_object_set_new(r, "storageVersionHash", json_string(h));
    }
    if (t->n_cat) json_object_set_new(r, "categories", names_json(t->categories, t->n_cat));
    json_array_append_new(arr, r);
    if (t->subres & LC_SUB_BINDING) add_sub(arr, t, "binding", "Binding", create_verbs);
    if (t->subres & LC_SUB_FINALIZE) add_sub(arr, t, "finalize", t->kind, update_verbs);
    if (t->subres & LC_SUB_LOG) add_sub(arr, t, "log", t->kind, get_verbs);
    if (t->subres & LC_SUB_SCALE) add_sub(arr, t, "scale", "Scale", scale_verbs);
    if (t->subres & LC_SUB_STATUS) add_sub(arr, t, "status", t->kind, status_verbs);
  }
  if (!found) {
    json_decref(arr);
    return NULL;
  }
  char gv[256];
  if (*group) snprintf(gv, sizeof gv, "%s/%s", group, version);
  else snprintf(gv, sizeof gv, "%s", version);
  json_t *doc = json_object();
  json_object_set_new(doc, "kind", json_string("APIResourceList"));
  if (*group) json_object_set_new(doc, "apiVersion", json_string("v1"));
  json_object_set_new(doc, "groupVersion", json_string(gv));
  json_object_set_new(doc, "resources", arr);
  return doc;
}
