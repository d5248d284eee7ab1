/* registry.h — the resource types the local cluster serves: the built-in kinds (core/v1 subset,
 * coordination.k8s.io/v1 leases, apiextensions.k8s.io/v1 CRDs) plus one entry per served version
 * of every CustomResourceDefinition, and the discovery documents (/api, /api/v1, /apis,
 * /apis/G, /apis/G/V) generated from them in the real server's shapes. Pure: no I/O.
 *
 * Storage key (the store's "resource"): the plural for core kinds, "group/plural" otherwise, so
 * every version of a CRD shares one storage key (lahar does no version conversion: objects are
 * returned with apiVersion rewritten to the version asked for). */
#ifndef LAHAR_LC_REGISTRY_H
#define LAHAR_LC_REGISTRY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define LC_SUB_STATUS 0x1
#define LC_SUB_BINDING 0x2
#define LC_SUB_LOG 0x4
#define LC_SUB_FINALIZE 0x8
#define LC_SUB_SCALE 0x10

#define LC_RT_MAX_NAMES 8

typedef struct lc_rtype {
  char group[128];
  char version[64];
  char plural[128];
  char singular[128];
  char kind[128];
  char list_kind[160];
  char key[260];               /* storage key */
  int namespaced;
  int n_short, n_cat;
  char short_names[LC_RT_MAX_NAMES][64];
  char categories[LC_RT_MAX_NAMES][64];
  unsigned subres;             /* LC_SUB_* */
  int is_cr;                   /* served from a CRD */
  int create_only;             /* e.g. core "bindings" */
  char crd_name[260];          /* owning CRD for custom resources */
  json_t *schema;              /* CR: openAPIV3Schema of this version (owned), or NULL */
  json_t *columns;             /* CR: additionalPrinterColumns (owned), or NULL */
  int has_defaults;            /* CR: the schema sets "default"s (applied on reads too) */
  char storage_version[64];    /* CR: the CRD's storage version (discovery's storageVersionHash) */
  int64_t established_rv;      /* CR: resourceVersion the CRD was established at: the watch
                                * history of its resources starts there (older rv → 410) */
} lc_rtype;

typedef struct lc_registry {
  lc_rtype **v;
  size_t n, cap;
} lc_registry;

/* Fills reg with the built-in kinds. Returns 0 or -1 (ENOMEM). */
int lc_registry_init(lc_registry *reg);
void lc_registry_free(lc_registry *reg);

/* The type serving group/version/plural, or NULL. */
const lc_rtype *lc_registry_find(const lc_registry *reg, const char *group, const char *version,
                                 const char *plural);
/* 1 when some resource is served under group/version. */
int lc_registry_serves(const lc_registry *reg, const char *group, const char *version);
/* Any served version of group/plural (used for storage-level lookups, e.g. GC). */
const lc_rtype *lc_registry_find_key(const lc_registry *reg, const char *key);
/* Finds by apiVersion ("v1", "g/v") and Kind (used for ownerReferences). */
const lc_rtype *lc_registry_find_kind(const lc_registry *reg, const char *api_version, const char *kind);

/* Checks a CRD object for what serving needs (spec.group, names.plural/kind, scope, versions,
 * metadata.name == plural.group). Returns 0, or -1 with field and message set (for a 422). */
int lc_registry_crd_check(const json_t *crd, char *field, size_t fieldsz, char *msg, size_t msgsz);
/* (Re)registers the served versions of crd (replacing a previous registration of the same CRD
 * name). Returns 0, -1 when the CRD is malformed, -2 when its plural.group is already served by
 * a different CRD or a built-in. */
int lc_registry_crd_add(lc_registry *reg, const json_t *crd);
void lc_registry_crd_remove(lc_registry *reg, const char *crd_name);

/* Discovery documents (new references; NULL only on ENOMEM). server_addr is what /api reports
 * in serverAddressByClientCIDRs. */
json_t *lc_discovery_api(const lc_registry *reg, const char *server_addr);
json_t *lc_discovery_apis(const lc_registry *reg);
/* NULL when the group (or group/version) is not served. */
json_t *lc_discovery_group(const lc_registry *reg, const char *group);
json_t *lc_discovery_resources(const lc_registry *reg, const char *group, const char *version);

/* Kubernetes version priority comparison: v1 > v1beta2 > v1beta1 > v1alpha1 > "foo".
 * Returns <0 when a should come before b (higher priority first). */
int lc_version_cmp(const char *a, const char *b);

#endif
