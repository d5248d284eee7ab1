/* kmap.h — a string-keyed hash map (chaining, power-of-two table, grows at load 1), internal to
 * controller/kube/ (cache, work queue, interning, rate limiter).
 *
 * Ownership: the map copies each key into its node; values are opaque and never freed by the
 * map. Not thread-safe: callers lock. */
#ifndef LAHAR_KUBE_KMAP_H
#define LAHAR_KUBE_KMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct lh_kmap_node {
  struct lh_kmap_node *next; /* chain */
  uint32_t hash;             /* full hash of key */
  void *value;               /* caller's value */
  char key[];                /* NUL-terminated copy */
} lh_kmap_node;

typedef struct lh_kmap {
  lh_kmap_node **slots; /* 2^n chains, NULL while empty */
  size_t nslots;        /* power of two or 0 */
  size_t count;         /* nodes */
} lh_kmap;

uint32_t lh_kmap_hash(const char *s, size_t len); /* FNV-1a */
void lh_kmap_init(lh_kmap *m);                    /* cannot fail */
void lh_kmap_free(lh_kmap *m);                    /* frees nodes, not values */
/* Finds the node of key, or NULL. */
lh_kmap_node *lh_kmap_find(const lh_kmap *m, const char *key);
void *lh_kmap_get(const lh_kmap *m, const char *key);
/* Inserts or replaces. *old (if given) receives the replaced value or NULL.
 * Returns 0, or LH_EKUBE_NOMEM with the map unchanged. */
int lh_kmap_put(lh_kmap *m, const char *key, void *value, void **old);
/* Same, but returns the node (NULL on allocation failure); *created says if it is new. */
lh_kmap_node *lh_kmap_upsert(lh_kmap *m, const char *key, size_t keylen, int *created);
/* Removes key; returns its value (NULL if absent). */
void *lh_kmap_del(lh_kmap *m, const char *key);
/* Calls fn for every node; fn must not modify the map. */
void lh_kmap_each(const lh_kmap *m, void (*fn)(lh_kmap_node *n, void *ud), void *ud);
/* Bytes the map itself holds (table + nodes), for memory accounting. */
size_t lh_kmap_bytes(const lh_kmap *m);

#endif
