/* store_counts.h — object counts per resource and per (resource, namespace), kept in memory by the
 * SQLite store (internal to lcstore; not part of the store API).
 *
 * Why: a paged list's remainingItemCount and lh_store_count() used to run SELECT count(*) over the
 * remaining rows on every page, which scans the rows with their inline JSON (~0.5 s per page for
 * 140k pods). The store loads the counts once at open and adjusts them on every successful write,
 * so answering costs one hash lookup. */
#ifndef LAHAR_LOCALCLUSTER_STORE_COUNTS_H
#define LAHAR_LOCALCLUSTER_STORE_COUNTS_H

#include <stdint.h>

typedef struct lh_counts lh_counts;

/* An empty table, or NULL when out of memory. */
lh_counts *lh_counts_new(void);
/* Frees; accepts NULL. */
void lh_counts_free(lh_counts *c);

/* Adds delta to the count of (resource, ns) and to the total of resource, creating both entries
 * (at 0) when missing. Returns 0, or -1 when out of memory (then nothing changed). Once both
 * entries exist (a call with delta 0 makes sure of it) the call cannot fail — the store relies on
 * that to apply a committed write's delta without a failure path. */
int lh_counts_add(lh_counts *c, const char *resource, const char *ns, int64_t delta);

/* The count of resource in ns, or over all namespaces when ns is NULL. 0 when unknown. */
int64_t lh_counts_get(const lh_counts *c, const char *resource, const char *ns);

#endif
