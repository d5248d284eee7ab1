/* store_counts.c — the in-memory object counts of the SQLite store (see store_counts.h).
 *
 * Owns: a chained hash table whose entries are either (resource, ns) counts or per-resource totals.
 * Entries are never removed (a count that drops to 0 stays): the number of distinct namespaces and
 * resources is small, and never removing is what makes a second add on the same key infallible. */
#include "localcluster/store_counts.h"

#include <stdlib.h>
#include <string.h>

typedef struct centry {
  struct centry *next;
  uint64_t hash;
  int64_t n;
  int total;     /* 1: the total of resource over all namespaces (ns unused) */
  char *ns;      /* points into key, after resource's NUL */
  char key[];    /* resource NUL ns NUL */
} centry;

struct lh_counts {
  centry **tab;
  size_t cap; /* power of two */
  size_t n;
};

/* FNV-1a over resource, a separator that tells totals from namespace entries, then ns. */
static uint64_t chash(const char *resource, const char *ns) {
  uint64_t h = 1469598103934665603ull;
  for (const unsigned char *p = (const unsigned char *)resource; *p; p++) h = (h ^ *p) * 1099511628211ull;
  h = (h ^ (ns ? 1u : 2u)) * 1099511628211ull;
  if (ns)
    for (const unsigned char *p = (const unsigned char *)ns; *p; p++) h = (h ^ *p) * 1099511628211ull;
  return h;
}

lh_counts *lh_counts_new(void) {
  lh_counts *c = calloc(1, sizeof(*c));
  if (!c) return NULL;
  c->cap = 64;
  c->tab = calloc(c->cap, sizeof(*c->tab));
  if (!c->tab) {
    free(c);
    return NULL;
  }
  return c;
}

void lh_counts_free(lh_counts *c) {
  if (!c) return;
  for (size_t i = 0; i < c->cap; i++)
    for (centry *e = c->tab[i], *nx; e; e = nx) {
      nx = e->next;
      free(e);
    }
  free(c->tab);
  free(c);
}

static centry *find(const lh_counts *c, const char *resource, const char *ns, uint64_t h) {
  for (centry *e = c->tab[h & (c->cap - 1)]; e; e = e->next)
    if (e->hash == h && e->total == !ns && strcmp(e->key, resource) == 0 && (!ns || strcmp(e->ns, ns) == 0))
      return e;
  return NULL;
}

/* Doubles the table when it is more than 3/4 full; a failed grow keeps the old (still correct)
 * table, so it is not an error. */
static void grow(lh_counts *c) {
  if (c->n * 4 < c->cap * 3) return;
  size_t ncap = c->cap * 2;
  centry **nt = calloc(ncap, sizeof(*nt));
  if (!nt) return;
  for (size_t i = 0; i < c->cap; i++)
    for (centry *e = c->tab[i], *nx; e; e = nx) {
      nx = e->next;
      e->next = nt[e->hash & (ncap - 1)];
      nt[e->hash & (ncap - 1)] = e;
    }
  free(c->tab);
  c->tab = nt;
  c->cap = ncap;
}

static centry *get_or_add(lh_counts *c, const char *resource, const char *ns) {
  uint64_t h = chash(resource, ns);
  centry *e = find(c, resource, ns, h);
  if (e) return e;
  size_t lr = strlen(resource) + 1, ln = ns ? strlen(ns) + 1 : 1;
  e = malloc(sizeof(*e) + lr + ln);
  if (!e) return NULL;
  memcpy(e->key, resource, lr);
  e->ns = e->key + lr;
  if (ns) memcpy(e->ns, ns, ln);
  else e->ns[0] = '\0';
  e->total = !ns;
  e->hash = h;
  e->n = 0;
  e->next = c->tab[h & (c->cap - 1)];
  c->tab[h & (c->cap - 1)] = e;
  c->n++;
  grow(c);
  return e;
}

int lh_counts_add(lh_counts *c, const char *resource, const char *ns, int64_t delta) {
  /* both entries first, so a failure changes nothing */
  centry *t = get_or_add(c, resource, NULL);
  centry *e = t ? get_or_add(c, resource, ns) : NULL;
  if (!e) return -1;
  t->n += delta;
  e->n += delta;
  return 0;
}

int64_t lh_counts_get(const lh_counts *c, const char *resource, const char *ns) {
  const centry *e = find(c, resource, ns, chash(resource, ns));
  return e ? e->n : 0;
}
