/* smap.h — a small string-keyed hash map for the jobs reconciler's bookkeeping (jobs by key,
 * pod names in flight, exit codes). Chaining, power-of-two table, grows at load 1.
 * Ownership: keys are copied; values are opaque and never freed by the map. Not thread-safe. */
#ifndef LAHAR_JOBS_SMAP_H
#define LAHAR_JOBS_SMAP_H

#include <stddef.h>

typedef struct lh_smap_node lh_smap_node;
typedef struct lh_smap {
  lh_smap_node **slots;
  size_t nslots, count;
} lh_smap;

void lh_smap_init(lh_smap *m);                      /* cannot fail */
void lh_smap_clear(lh_smap *m);                     /* frees nodes (not values) */
void *lh_smap_get(const lh_smap *m, const char *k); /* NULL when absent */
int lh_smap_has(const lh_smap *m, const char *k);
/* Inserts or replaces; returns 0 or -1 (no memory, map unchanged). */
int lh_smap_put(lh_smap *m, const char *k, void *v);
void *lh_smap_del(lh_smap *m, const char *k);       /* returns the value (NULL when absent) */
/* Calls fn for each entry; fn may delete the entry it is given (and only that one). */
void lh_smap_each(lh_smap *m, void (*fn)(const char *k, void *v, void *ud), void *ud);

#endif
