/* smap.c — see smap.h. FNV-1a hashing; the table doubles when count reaches nslots. */
#include "jobs/smap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct lh_smap_node {
  lh_smap_node *next;
  uint32_t hash;
  void *v;
  char k[];
};

static uint32_t hash(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

void lh_smap_init(lh_smap *m) { memset(m, 0, sizeof *m); }

void lh_smap_clear(lh_smap *m) {
  for (size_t i = 0; i < m->nslots; i++)
    for (lh_smap_node *n = m->slots[i], *nx; n; n = nx) {
      nx = n->next;
      free(n);
    }
  free(m->slots);
  memset(m, 0, sizeof *m);
}

static lh_smap_node **find(const lh_smap *m, const char *k, uint32_t h) {
  if (!m->nslots) return NULL;
  lh_smap_node **pp = &m->slots[h & (m->nslots - 1)];
  for (; *pp; pp = &(*pp)->next)
    if ((*pp)->hash == h && !strcmp((*pp)->k, k)) return pp;
  return pp;
}

void *lh_smap_get(const lh_smap *m, const char *k) {
  lh_smap_node **pp = find(m, k, hash(k));
  return pp && *pp ? (*pp)->v : NULL;
}
int lh_smap_has(const lh_smap *m, const char *k) {
  lh_smap_node **pp = find(m, k, hash(k));
  return pp && *pp;
}

static int grow(lh_smap *m) {
  size_t n = m->nslots ? m->nslots * 2 : 16;
  lh_smap_node **s = calloc(n, sizeof *s);
  if (!s) return -1;
  for (size_t i = 0; i < m->nslots; i++)
    for (lh_smap_node *x = m->slots[i], *nx; x; x = nx) {
      nx = x->next;
      x->next = s[x->hash & (n - 1)];
      s[x->hash & (n - 1)] = x;
    }
  free(m->slots);
  m->slots = s;
  m->nslots = n;
  return 0;
}

int lh_smap_put(lh_smap *m, const char *k, void *v) {
  uint32_t h = hash(k);
  lh_smap_node **pp = find(m, k, h);
  if (pp && *pp) {
    (*pp)->v = v;
    return 0;
  }
  if (m->count >= m->nslots && grow(m)) return -1;
  size_t kl = strlen(k);
  lh_smap_node *n = malloc(sizeof *n + kl + 1);
  if (!n) return -1;
  memcpy(n->k, k, kl + 1);
  n->hash = h;
  n->v = v;
  n->next = m->slots[h & (m->nslots - 1)];
  m->slots[h & (m->nslots - 1)] = n;
  m->count++;
  return 0;
}

void *lh_smap_del(lh_smap *m, const char *k) {
  lh_smap_node **pp = find(m, k, hash(k));
  if (!pp || !*pp) return NULL;
  lh_smap_node *n = *pp;
  void *v = n->v;
  *pp = n->next;
  free(n);
  m->count--;
  return v;
}

void lh_smap_each(lh_smap *m, void (*fn)(const char *k, void *v, void *ud), void *ud) {
  for (size_t i = 0; i < m->nslots; i++)
    for (lh_smap_node *n = m->slots[i], *nx; n; n = nx) {
      nx = n->next;
      fn(n->k, n->v, ud);
    }
}
