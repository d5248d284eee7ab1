/* arena.h — internal memory helpers of the scheduling core: a bump arena (nothing freed one by
 * one), a string interner on top of it, a u64 -> i32 open-addressing map, and growable arrays.
 * Nothing here is public; the snapshot and the session each own one arena. */
#ifndef LAHAR_SCHED_ARENA_H
#define LAHAR_SCHED_ARENA_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Every allocation of the core goes through lh_malloc / lh_calloc / lh_realloc (and is released
 * with plain free). In release builds they are malloc / calloc / realloc. In test builds
 * (LAHAR_TEST_BUILD, the ASan/UBSan copies) they count calls and can be told to fail, so unit
 * tests can inject out-of-memory at every allocation in turn (tests/unit/test_sched_oom.c). */
#ifdef LAHAR_TEST_BUILD
void *lh_malloc(size_t n);
void *lh_calloc(size_t n, size_t size);
void *lh_realloc(void *p, size_t n);
/* Test-only: the nth allocation from now (1 = the next one) fails, once; n <= 0 disarms. The counter is thread-local, so parallel tests do not interfere. */
void lh_test_alloc_fail_at(long n);
/* Test-only: allocations attempted since the last lh_test_alloc_fail_at. */
long lh_test_alloc_count(void);
#else
static inline void *lh_malloc(size_t n) { return malloc(n); }
static inline void *lh_calloc(size_t n, size_t size) { return calloc(n, size); }
static inline void *lh_realloc(void *p, size_t n) { return realloc(p, n); }
#endif

typedef struct lh_arena_chunk lh_arena_chunk;
typedef struct {
  lh_arena_chunk *head; /* newest chunk first */
  size_t bytes;         /* total bytes held, for lh_snapshot_mem_bytes */
} lh_arena;

void lh_arena_init(lh_arena *a);
/* 8-byte aligned, zeroed memory living until lh_arena_release; NULL on out of memory. */
void *lh_arena_alloc(lh_arena *a, size_t n);
char *lh_arena_strndup(lh_arena *a, const char *s, size_t n);
void lh_arena_release(lh_arena *a);

/* u64 -> i32 map, open addressing with linear probing. Keys are any u64 except UINT64_MAX. */
typedef struct {
  uint64_t *keys;
  int32_t *vals;
  size_t cap; /* power of two or 0 */
  size_t n;
} lh_map;

void lh_map_init(lh_map *m);
/* Returns the value or -1. */
int32_t lh_map_get(const lh_map *m, uint64_t key);
/* Inserts or replaces. 0 or LH_ENOMEM (map unchanged). */
int lh_map_put(lh_map *m, uint64_t key, int32_t val);
void lh_map_free(lh_map *m);
size_t lh_map_bytes(const lh_map *m);

/* String interner: equal strings get the same id (>= 0), ids are dense in first-seen order. */
typedef struct {
  const char **strs; /* id -> string in the arena */
  uint32_t *lens;
  size_t n, cap;
  lh_map byhash; /* hash -> first id with that hash; chains via next */
  int32_t *next;
} lh_strtab;

void lh_strtab_init(lh_strtab *in);
/* id >= 0, or LH_ENOMEM / LH_ELIMIT (string > 64 KiB). */
int32_t lh_strtab_put(lh_strtab *in, lh_arena *a, const char *s);
int32_t lh_strtab_find(const lh_strtab *in, const char *s); /* id or -1 */
static inline const char *lh_strtab_str(const lh_strtab *in, int32_t id) {
  return id >= 0 && (size_t)id < in->n ? in->strs[id] : NULL;
}
void lh_strtab_free(lh_strtab *in);
size_t lh_strtab_bytes(const lh_strtab *in);

uint64_t lh_hash_bytes(const void *p, size_t n, uint64_t seed);
static inline uint64_t lh_hash_mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  h *= 0xff51afd7ed558ccdULL;
  return h ^ (h >> 33);
}

/* Grows *arr (element size esz) so that it holds at least need elements; doubles capacity.
 * 0 or LH_ENOMEM (array unchanged). */
int lh_grow(void **arr, size_t *cap, size_t need, size_t esz);
#define LH_GROW(arr, cap, need) lh_grow((void **)&(arr), &(cap), (need), sizeof(*(arr)))

#endif
