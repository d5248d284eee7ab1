/* kmap.c — string-keyed chained hash map used inside controller/kube/ (see kmap.h). */
#include "kube/kmap.h"
#include "kube/kube.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

uint32_t lh_kmap_hash(const char *s, size_t len) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)s[i];
    h *= 16777619u;
  }
  return h;
}

void lh_kmap_init(lh_kmap *m) { memset(m, 0, sizeof(*m)); }

void lh_kmap_free(lh_kmap *m) {
  for (size_t i = 0; i < m->nslots; i++) {
    lh_kmap_node *n = m->slots[i];
    while (n) {
      lh_kmap_node *next = n->next;
      free(n);
      n = next;
    }
  }
  free(m->slots);
  memset(m, 0, sizeof(*m));
}

static lh_kmap_node *find_len(const lh_kmap *m, const char *key, size_t len, uint32_t h) {
  if (!m->nslots) return NULL;
  for (lh_kmap_node *n = m->slots[h & (m->nslots - 1)]; n; n = n->next)
    if (n->hash == h && strncmp(n->key, key, len) == 0 && n->key[len] == '\0') return n;
  return NULL;
}

lh_kmap_node *lh_kmap_find(const lh_kmap *m, const char *key) {
  size_t len = strlen(key);
  return find_len(m, key, len, lh_kmap_hash(key, len));
}

void *lh_kmap_get(const lh_kmap *m, const char *key) {
  lh_kmap_node *n = lh_kmap_find(m, key);
  return n ? n->value : NULL;
}

/* Doubles the table; on allocation failure the map keeps its old (still valid) table. */
static void grow(lh_kmap *m) {
  size_t ns = m->nslots ? m->nslots * 2 : 16;
  lh_kmap_node **slots = calloc(ns, sizeof(*slots));
  if (!slots) return;
  for (size_t i = 0; i < m->nslots; i++) {
    lh_kmap_node *n = m->slots[i];
    while (n) {
      lh_kmap_node *next = n->next;
      n->next = slots[n->hash & (ns - 1)];
      slots[n->hash & (ns - 1)] = n;
      n = next;
    }
  }
  free(m->slots);
  m->slots = slots;
  m->nslots = ns;
}

lh_kmap_node *lh_kmap_upsert(lh_kmap *m, const char *key, size_t len, int *created) {
  uint32_t h = lh_kmap_hash(key, len);
  lh_kmap_node *n = find_len(m, key, len, h);
  if (n) {
    if (created) *created = 0;
    return n;
  }
  if (m->count >= m->nslots) grow(m);
  if (!m->nslots) return NULL;
  n = malloc(sizeof(*n) + len + 1);
  if (!n) return NULL;
  memcpy(n->key, key, len);
  n->key[len] = '\0';
  n->hash = h;
  n->value = NULL;
  n->next = m->slots[h & (m->nslots - 1)];
  m->slots[h & (m->nslots - 1)] = n;
  m->count++;
  if (created) *created = 1;
  return n;
}

int lh_kmap_put(lh_kmap *m, const char *key, void *value, void **old) {
  int created = 0;
  lh_kmap_node *n = lh_kmap_upsert(m, key, strlen(key), &created);
  if (!n) return LH_EKUBE_NOMEM;
  if (old) *old = created ? NULL : n->value;
  n->value = value;
  return 0;
}

void *lh_kmap_del(lh_kmap *m, const char *key) {
  if (!m->nslots) return NULL;
  size_t len = strlen(key);
  uint32_t h = lh_kmap_hash(key, len);
  lh_kmap_node **pp = &m->slots[h & (m->nslots - 1)];
  for (; *pp; pp = &(*pp)->next) {
    lh_kmap_node *n = *pp;
    if (n->hash == h && strcmp(n->key, key) == 0) {
      void *v = n->value;
      *pp = n->next;
      free(n);
      m->count--;
      return v;
    }
  }
  return NULL;
}

void lh_kmap_each(const lh_kmap *m, void (*fn)(lh_kmap_node *n, void *ud), void *ud) {
  for (size_t i = 0; i < m->nslots; i++)
    for (lh_kmap_node *n = m->slots[i], *next; n; n = next) {
      next = n->next;
      fn(n, ud);
    }
}

size_t lh_kmap_bytes(const lh_kmap *m) {
  size_t b = m->nslots * sizeof(lh_kmap_node *);
  for (size_t i = 0; i < m->nslots; i++)
    for (lh_kmap_node *n = m->slots[i]; n; n = n->next) b += malloc_usable_size(n);
  return b;
}
