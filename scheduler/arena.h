/* arena.h — internal memory helpers of the scheduling core: a bump arena (nothing freed one by
 * one), a string interner on top of it, a u64 -> i32 open-addressing map, and growable arrays.
 * Nothing here is public; the snapshot and the session each own one arena. */
#ifndef LAHAR_SCHED_ARENA_H
#define LAHAR_SCHED_ARENA_H

#include <stddef.h>
#include <stdint.h>

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
} lh_intern;

void lh_intern_init(lh_intern *in);
/* id >= 0, or LH_ENOMEM / LH_ELIMIT (string > 64 KiB). */
int32_t lh_intern_put(lh_intern *in, lh_arena *a, const char *s);
int32_t lh_intern_find(const lh_intern *in, const char *s); /* id or -1 */
static inline const char *lh_intern_str(const lh_intern *in, int32_t id) {
  return id >= 0 && (size_t)id < in->n ? in->strs[id] : NULL;
}
void lh_intern_free(lh_intern *in);
size_t lh_intern_bytes(const lh_intern *in);

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
