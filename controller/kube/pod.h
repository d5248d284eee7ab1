/* pod.h — the compact pod kept in lahar's informer cache, the transform that builds it from a
 * pod's JSON, string interning, quantity parsing, and cache memory accounting.
 *
 * Why: a full pod object is 3-6 KiB of JSON (jansson holds several times that). lahar needs a
 * few dozen fields; the compact form targets <= 1 KiB per pod. Each pod is ONE allocation (the
 * struct, its arrays and its unique strings packed together); strings repeated across pods
 * (namespace, label keys/values, node names, scheduler name, toleration fields, owner kinds)
 * are interned with reference counts in an lh_intern shared by the informer.
 * Memory: every byte of pods and interned strings is counted (malloc_usable_size) in the
 * intern's counter, so lh_pod_cache_bytes() reports exactly what the compact cache holds. */
#ifndef LAHAR_KUBE_POD_H
#define LAHAR_KUBE_POD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lh_intern lh_intern;

/* Reference-counted string pool (not thread-safe: loop thread). NULL on allocation failure. */
lh_intern *lh_intern_new(void);
void lh_intern_free(lh_intern *in); /* all strings must have been released */
/* Returns the pooled copy of s[0..len) with one more reference, or NULL (no memory). */
const char *lh_intern_get(lh_intern *in, const char *s, size_t len);
void lh_intern_put(lh_intern *in, const char *s); /* drops one reference; NULL ok */
size_t lh_intern_count(const lh_intern *in);
/* Bytes held by the pool (table + strings) plus bytes of pods accounted to it. */
size_t lh_intern_bytes(const lh_intern *in);

/* Parses a resource.Quantity. scale_milli=1 returns milli-units (cpu "100m" -> 100,
 * "1.5" -> 1500); 0 returns units rounded up ("128Mi" -> 134217728, "1k" -> 1000).
 * Returns 0 or LH_EKUBE_PARSE (also on overflow). */
int lh_kube_quantity_parse(const char *s, int scale_milli, int64_t *out);

typedef enum {
  LH_POD_PENDING = 0, LH_POD_RUNNING, LH_POD_SUCCEEDED, LH_POD_FAILED, LH_POD_UNKNOWN
} lh_pod_phase;

typedef struct lh_pod_kv {
  const char *k, *v; /* interned */
} lh_pod_kv;

typedef struct lh_pod_toleration {
  const char *key, *op, *value, *effect; /* interned, NULL when absent */
  int64_t seconds;                       /* tolerationSeconds, -1 when absent */
} lh_pod_toleration;

typedef struct lh_pod {
  const char *ns;             /* interned */
  const char *name;           /* packed */
  const char *uid;            /* packed */
  uint64_t rv;                /* resourceVersion as a number (0 if not numeric) */
  const char *scheduler;      /* interned, NULL when absent */
  const char *node;           /* interned spec.nodeName, NULL when unbound */
  const char *group;          /* annotation scheduling.k8s.io/group-name (interned) or NULL */
  lh_pod_kv *labels;              /* interned pairs */
  lh_pod_kv *annotations;         /* only scheduling.k8s.io/group-name and volcano.sh/ * keys */
  lh_pod_kv *node_selector;
  lh_pod_toleration *tolerations;
  uint16_t nlabels, nannotations, nnode_selector, ntolerations;
  uint8_t phase;              /* lh_pod_phase */
  int32_t priority;
  int64_t cpu_milli;          /* effective requests: max(sum(containers), max(init)) + overhead */
  int64_t mem_bytes;
  int64_t gpu;                /* nvidia.com/gpu */
  const char *owner_kind;     /* interned: first ownerReference of kind Job or PodGroup, or NULL */
  const char *owner_name;     /* packed */
  const char *owner_uid;      /* packed */
  int64_t deletion_ts;        /* metadata.deletionTimestamp as Unix seconds, 0 if not deleting */
  size_t alloc;               /* bytes of this pod's block (malloc_usable_size) */
} lh_pod;

/* Builds a compact pod from its JSON. Returns NULL on a malformed pod or no memory.
 * Matches lh_informer_transform_fn with ud = the lh_intern. */
void *lh_pod_transform(const json_t *pod, void *intern);
/* The same transform straight from a pod's JSON text json[0..len), which must have passed
 * lh_js_validate (util/jscan.h) — no jansson tree is built. The result equals what
 * lh_pod_transform gives for json_loadb of the same text, field for field.
 * Returns the pod, or NULL with *fallback set to:
 *   1  the text has a shape the byte path leaves to jansson (duplicate keys in an object it
 *      reads, escaped map keys, a map of more than 64 entries, a kept string over 4 KiB): the
 *      caller runs lh_pod_transform on json_loadb of the same bytes;
 *   0  a malformed pod or no memory, exactly when lh_pod_transform returns NULL.
 * Matches lh_informer_transform_bytes_fn with ud = the lh_intern. */
void *lh_pod_transform_bytes(const char *json, size_t len, void *intern, int *fallback);
/* 1 if a and b hold the same fields (strings compared by content; alloc compared when
 * with_alloc), for equivalence tests of the two transforms. NULLs compare equal to NULL. */
int lh_pod_same(const lh_pod *a, const lh_pod *b, int with_alloc);
/* Releases a pod built by lh_pod_transform (lh_informer_free_fn with ud = the lh_intern). */
void lh_pod_free(void *pod, void *intern);
/* Total bytes of compact pods + interned strings (what the benchmark divides by pod count). */
size_t lh_pod_cache_bytes(const lh_intern *in);

#endif
