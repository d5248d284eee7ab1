/* arena.c — bump arena, u64 map, string interner and array growth for the scheduling core.
 * The map hashes nothing itself: callers pass well-mixed keys (ids packed or lh_hash_bytes). */
#include "scheduler/arena.h"

#include <stdlib.h>
#include <string.h>

#include "scheduler/lahar_sched.h"

struct lh_arena_chunk {
  lh_arena_chunk *next;
  size_t used, cap;
  _Alignas(8) unsigned char data[];
};

#ifdef LAHAR_TEST_BUILD
/* The fault injector's state: the one piece of mutable static state in the core, compiled into
 * test builds only (thread-local, so it is per test thread, never shared). */
static _Thread_local long fail_at, n_calls;

void lh_test_alloc_fail_at(long n) {
  fail_at = n > 0 ? n : 0;
  n_calls = 0;
}
long lh_test_alloc_count(void) { return n_calls; }
static int injected(void) { return ++n_calls == fail_at; }
void *lh_malloc(size_t n) { return injected() ? NULL : malloc(n); }
void *lh_calloc(size_t n, size_t size) { return injected() ? NULL : calloc(n, size); }
void *lh_realloc(void *p, size_t n) { return injected() ? NULL : realloc(p, n); }
#endif

void lh_arena_init(lh_arena *a) {
  a->head = NULL;
  a->bytes = 0;
}

void *lh_arena_alloc(lh_arena *a, size_t n) {
  n = (n + 7) & ~(size_t)7;
  if (n == 0) n = 8;
  lh_arena_chunk *c = a->head;
  if (!c || c->cap - c->used < n) {
    /* Chunks grow with the arena so a big snapshot costs few mallocs. */
    size_t cap = a->bytes < 65536 ? 16384 : a->bytes / 2;
    if (cap > (8u << 20)) cap = 8u << 20;
    if (cap < n) cap = n;
    c = lh_malloc(sizeof(*c) + cap);
    if (!c) return NULL;
    c->next = a->head;
    c->used = 0;
    c->cap = cap;
    a->head = c;
    a->bytes += sizeof(*c) + cap;
  }
  void *p = c->data + c->used;
  c->used += n;
  memset(p, 0, n);
  return p;
}

char *lh_arena_strndup(lh_arena *a, const char *s, size_t n) {
  char *p = lh_arena_alloc(a, n + 1);
  if (!p) return NULL;
  memcpy(p, s, n);
  p[n] = 0;
  return p;
}

void lh_arena_release(lh_arena *a) {
  lh_arena_chunk *c = a->head;
  while (c) {
    lh_arena_chunk *nx = c->next;
    free(c);
    c = nx;
  }
  a->head = NULL;
  a->bytes = 0;
}

int lh_grow(void **arr, size_t *cap, size_t need, size_t esz) {
  if (need <= *cap) return 0;
  size_t nc = *cap ? *cap : 16;
  while (nc < need) nc *= 2;
  void *p = lh_realloc(*arr, nc * esz);
  if (!p) return LH_ENOMEM;
  *arr = p;
  *cap = nc;
  return 0;
}

/* ---- map ---- */
#define EMPTY UINT64_MAX

void lh_map_init(lh_map *m) { memset(m, 0, sizeof(*m)); }

static size_t slot_of(uint64_t key, size_t cap) {
  uint64_t h = key * 0x9e3779b97f4a7c15ULL;
  return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

int32_t lh_map_get(const lh_map *m, uint64_t key) {
  if (!m->cap) return -1;
  for (size_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
    if (m->keys[i] == key) return m->vals[i];
    if (m->keys[i] == EMPTY) return -1;
  }
}

static int rehash(lh_map *m, size_t ncap) {
  uint64_t *k = lh_malloc(ncap * sizeof(*k));
  int32_t *v = lh_malloc(ncap * sizeof(*v));
  if (!k || !v) {
    free(k);
    free(v);
    return LH_ENOMEM;
  }
  for (size_t i = 0; i < ncap; i++) k[i] = EMPTY;
  for (size_t i = 0; i < m->cap; i++) {
    if (m->keys[i] == EMPTY) continue;
    size_t j = slot_of(m->keys[i], ncap);
    while (k[j] != EMPTY) j = (j + 1) & (ncap - 1);
    k[j] = m->keys[i];
    v[j] = m->vals[i];
  }
  free(m->keys);
  free(m->vals);
  m->keys = k;
  m->vals = v;
  m->cap = ncap;
  return 0;
}

int lh_map_put(lh_map *m, uint64_t key, int32_t val) {
  if ((m->n + 1) * 2 > m->cap) {
    int rc = rehash(m, m->cap ? m->cap * 2 : 64);
    if (rc) return rc;
  }
  size_t i = slot_of(key, m->cap);
  while (m->keys[i] != EMPTY && m->keys[i] != key) i = (i + 1) & (m->cap - 1);
  if (m->keys[i] == EMPTY) m->n++;
  m->keys[i] = key;
  m->vals[i] = val;
  return 0;
}

void lh_map_free(lh_map *m) {
  free(m->keys);
  free(m->vals);
  lh_map_init(m);
}

size_t lh_map_bytes(const lh_map *m) { return m->cap * (sizeof(uint64_t) + sizeof(int32_t)); }

/* ---- interner ---- */
uint64_t lh_hash_bytes(const void *p, size_t n, uint64_t seed) {
  /* FNV-1a, then a final mix: cheap and good enough for names. */
  const unsigned char *b = p;
  uint64_t h = 0xcbf29ce484222325ULL ^ seed;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ULL;
  h ^= h >> 31;
  h *= 0x7fb5d329728ea185ULL;
  h ^= h >> 27;
  return h == EMPTY ? 0 : h;
}

void lh_strtab_init(lh_strtab *in) {
  memset(in, 0, sizeof(*in));
  lh_map_init(&in->byhash);
}

int32_t lh_strtab_find(const lh_strtab *in, const char *s) {
  size_t len = strlen(s);
  int32_t id = lh_map_get(&in->byhash, lh_hash_bytes(s, len, 0));
  for (; id >= 0; id = in->next[id])
    if (in->lens[id] == len && memcmp(in->strs[id], s, len) == 0) return id;
  return -1;
}

int32_t lh_strtab_put(lh_strtab *in, lh_arena *a, const char *s) {
  size_t len = strlen(s);
  if (len > 65536) return LH_ELIMIT;
  uint64_t h = lh_hash_bytes(s, len, 0);
  int32_t first = lh_map_get(&in->byhash, h);
  for (int32_t id = first; id >= 0; id = in->next[id])
    if (in->lens[id] == len && memcmp(in->strs[id], s, len) == 0) return id;
  if (in->n >= INT32_MAX) return LH_ELIMIT;
  size_t c1 = in->cap, c2 = in->cap, c3 = in->cap;
  if (LH_GROW(in->strs, c1, in->n + 1) || LH_GROW(in->lens, c2, in->n + 1) ||
      LH_GROW(in->next, c3, in->n + 1))
    return LH_ENOMEM;
  /* all three grew in step (same policy); keep the smallest as the common capacity */
  in->cap = c1 < c2 ? (c1 < c3 ? c1 : c3) : (c2 < c3 ? c2 : c3);
  char *copy = lh_arena_strndup(a, s, len);
  if (!copy) return LH_ENOMEM;
  int32_t id = (int32_t)in->n;
  if (lh_map_put(&in->byhash, h, id)) return LH_ENOMEM;
  in->strs[id] = copy;
  in->lens[id] = (uint32_t)len;
  in->next[id] = first;
  in->n++;
  return id;
}

void lh_strtab_free(lh_strtab *in) {
  free(in->strs);
  free(in->lens);
  free(in->next);
  lh_map_free(&in->byhash);
  memset(in, 0, sizeof(*in));
}

size_t lh_strtab_bytes(const lh_strtab *in) {
  return in->cap * (sizeof(char *) + sizeof(uint32_t) + sizeof(int32_t)) + lh_map_bytes(&in->byhash);
}
