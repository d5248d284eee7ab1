/* driver.c — runs fuzz harnesses without libFuzzer: over a seed corpus directory and a fixed
 * number of deterministic mutations of each seed (see fuzz.h). Used by the cmocka smoke tests
 * (tests/unit/test_fuzz_smoke_*.c) under ASan+UBSan in `make test`.
 *
 * Built with -DFUZZ_DRIVER_MAIN it is also a standalone reproducer: link it with one harness
 * compiled with -DLAHAR_LIBFUZZER and run `prog [-n MUTATIONS] FILE_OR_DIR...`.
 *
 * Determinism: the PRNG (xorshift64*) is seeded from the caller's seed and the seed file's name,
 * directory entries are sorted, so a failure reproduces exactly on every run. */
#include "tests/fuzz/fuzz.h"
#include "util/log.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FUZZ_MAX_INPUT (256u * 1024u) /* seeds larger than this are truncated */
#define FUZZ_MAX_MUT (64u * 1024u)    /* mutated inputs never grow beyond this */

char *fuzz_dup(const uint8_t *data, size_t size) {
  char *p = malloc(size ? size : 1);
  if (p && size) memcpy(p, data, size);
  return p;
}

char *fuzz_str(const uint8_t *data, size_t size) {
  const uint8_t *z = size ? memchr(data, 0, size) : NULL;
  size_t n = z ? (size_t)(z - data) : size;
  char *p = malloc(n + 1);
  if (!p) return NULL;
  if (n) memcpy(p, data, n);
  p[n] = 0;
  return p;
}

size_t fuzz_split(const uint8_t *data, size_t size, const uint8_t **part, size_t *len, size_t max) {
  const size_t sl = sizeof(FUZZ_SEP) - 1;
  size_t n = 0, start = 0;
  for (size_t i = 0; n + 1 < max && i + sl <= size; i++) {
    if (memcmp(data + i, FUZZ_SEP, sl)) continue;
    part[n] = data + start, len[n] = i - start, n++;
    start = i + sl, i += sl - 1;
  }
  part[n] = data + start, len[n] = size - start, n++;
  return n;
}

/* ---- PRNG + mutations ----------------------------------------------------------------------- */
static uint64_t rnd(uint64_t *s) {
  uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;
  x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
  *s = x;
  return x * 0x2545f4914f6cdd1dull;
}
static size_t below(uint64_t *s, size_t n) { return n ? (size_t)(rnd(s) % n) : 0; }

/* Tokens that steer the parsers into their interesting corners. */
static const char *const DICT[] = {
  "{", "}", "[", "]", "\"", ":", ",", "- ", "\n", "\n  ", "  ", "\t", "\\", "\\u0000", "\\ud800",
  "null", "true", "false", "0", "-1", "-0", "1e309", "-1e309", "1e-400", "0.0000001",
  "9223372036854775807", "9223372036854775808", "-9223372036854775808", "18446744073709551616",
  "2147483647", "2147483648", "4294967296", "99999999999999999999999", "NaN", "0x10",
  "$patch", "\"$patch\":\"delete\"", "\"$patch\":\"replace\"", "\"$patch\":\"merge\"", "$retainKeys",
  "$setElementOrder/containers", "$deleteFromPrimitiveList/finalizers", "~0", "~1", "~", "/",
  "/-", "/0", "\"op\":\"add\"", "\"op\":\"remove\"", "\"op\":\"move\"", "\"op\":\"copy\"",
  "\"op\":\"test\"", "\"op\":\"replace\"", "\"path\":\"", "\"from\":\"", "\"value\":",
  " in (", " notin (", ")", "!", "!=", "==", "=", "in", "notin", "a/b", ".", "..",
  "metadata.name", "spec.nodeName", "status.phase", "%", "%00", "%2F", "%zz", "+", "&", "?",
  "=&", "/api/v1/namespaces/", "/apis/", "/watch/", "/status", "&&&&&", "limit=", "watch=1",
  "Mi", "Gi", "Ki", "Ei", "m", "k", "M", "G", "T", "P", "E", "e", "E18", "n", "u", "ms", "h",
  "s", "us", "ns", "1.5", ".5", "5.", "NoSchedule", "NoExecute", "PreferNoSchedule",
  "cpu=", "memory=", "nvidia.com/gpu=", "pods=", "--", "--flag=", "\x00", "\xff", "\xc0\x80",
  "&anchor", "*anchor", "<<: ", "!!binary ", "!!str ", "--- ", "...", "? ", "| ", "> ", "'",
  "k8s\x00", "\x0a", "\x12", "\x08\x96\x01", "\xff\xff\xff\xff\x0f", "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01",
  "\"kind\":", "\"apiVersion\":", "\"metadata\":", "\"spec\":", "\"items\":", "\"labels\":",
  "\"containers\":", "\"resources\":", "\"requests\":", "\"type\":", "\"object\":",
  "\"properties\":", "\"x-kubernetes-int-or-string\":true", "\"x-kubernetes-preserve-unknown-fields\":true",
  "\"nullable\":true", "\"required\":", "\"enum\":", "\"items\":{", "\"additionalProperties\":",
  "\"tasks\":", "\"replicas\":", "\"minAvailable\":", "\"policies\":", "\"dependsOn\":",
  "actions:", "tiers:", "plugins:", "- name: ", "arguments:", "configurations:", "enqueue, allocate",
  "\n%%\n", "\"\"", "{}", "[]", "[[[[[[[[[[[[[[[[", "{\"a\":{\"a\":{\"a\":{\"a\":",
};
#define NDICT (sizeof(DICT) / sizeof(DICT[0]))

static size_t ins(uint8_t *out, size_t len, size_t cap, size_t at, const uint8_t *p, size_t n) {
  if (len + n > cap) n = cap - len;
  if (at > len) at = len;
  memmove(out + at + n, out + at, len - at);
  memcpy(out + at, p, n);
  return len + n;
}

size_t fuzz_mutate(uint64_t *rng, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                   const uint8_t *const *others, const size_t *olens, size_t nothers) {
  if (len > cap) len = cap;
  memcpy(out, in, len);
  unsigned nops = 1 + (unsigned)below(rng, 4);
  for (unsigned k = 0; k < nops; k++) {
    size_t at = below(rng, len + 1);
    switch (below(rng, 12)) {
    case 0: /* bit flip */
      if (len) out[below(rng, len)] ^= (uint8_t)(1u << below(rng, 8));
      break;
    case 1: { /* interesting byte */
      static const uint8_t IB[] = {0, 0xff, 0x7f, 0x80, '\n', '"', '\\', '{', '}', ':', ',', '-', ' ', '/'};
      if (len) out[below(rng, len)] = IB[below(rng, sizeof(IB))];
      break;
    }
    case 2: /* truncate */
      len = at;
      break;
    case 3: { /* delete a range */
      size_t n = below(rng, len - (at < len ? at : len) + 1);
      if (at < len) memmove(out + at, out + at + n, len - at - n), len -= n;
      break;
    }
    case 4: case 5: case 6: { /* insert a dictionary token */
      const char *t = DICT[below(rng, NDICT)];
      size_t tl = strlen(t);
      if (!tl) tl = 1; /* "\x00" */
      len = ins(out, len, cap, at, (const uint8_t *)t, tl);
      break;
    }
    case 7: { /* overwrite with a dictionary token */
      const char *t = DICT[below(rng, NDICT)];
      size_t tl = strlen(t);
      if (!tl) tl = 1;
      if (at + tl <= len) memcpy(out + at, t, tl);
      break;
    }
    case 8: { /* repeat a range several times (deep nesting, long lines) */
      if (!len) break;
      size_t from = below(rng, len), n = 1 + below(rng, len - from < 64 ? len - from : 64);
      size_t times = 1 + below(rng, below(rng, 2) ? 8 : 400);
      uint8_t tmp[64];
      memcpy(tmp, out + from, n);
      for (size_t i = 0; i < times && len + n <= cap; i++) len = ins(out, len, cap, at, tmp, n);
      break;
    }
    case 9: { /* splice a piece of another seed */
      if (!nothers) break;
      size_t o = below(rng, nothers);
      if (!olens[o]) break;
      size_t from = below(rng, olens[o]), n = 1 + below(rng, olens[o] - from);
      if (below(rng, 2)) len = at; /* replace the tail */
      len = ins(out, len, cap, at, others[o] + from, n);
      break;
    }
    case 10: { /* a random number */
      char num[32];
      static const long long V[] = {0, 1, -1, 255, 256, 65535, 65536, 2147483647LL, -2147483648LL,
                                    4294967295LL, 9223372036854775807LL};
      int n = below(rng, 2) ? snprintf(num, sizeof(num), "%lld", V[below(rng, sizeof(V) / sizeof(V[0]))])
                            : snprintf(num, sizeof(num), "%llu", (unsigned long long)rnd(rng) >> below(rng, 64));
      len = ins(out, len, cap, at, (const uint8_t *)num, (size_t)n);
      break;
    }
    default: /* random byte */
      if (len) out[below(rng, len)] = (uint8_t)rnd(rng);
      break;
    }
  }
  return len;
}

/* ---- corpus walking ------------------------------------------------------------------------- */
typedef struct seedfile {
  char *name;
  uint8_t *data;
  size_t len;
} seedfile;

static int cmp_name(const void *a, const void *b) {
  return strcmp(((const seedfile *)a)->name, ((const seedfile *)b)->name);
}

static int load_file(const char *path, uint8_t **data, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  uint8_t *buf = malloc(FUZZ_MAX_INPUT);
  size_t n = buf ? fread(buf, 1, FUZZ_MAX_INPUT, f) : 0;
  fclose(f);
  if (!buf) return -1;
  *data = buf, *len = n;
  return 0;
}

static uint64_t hash_name(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
  return h;
}

/* Collects path (a file, or the regular files of a directory) into *v. */
static int collect(const char *path, seedfile **v, size_t *n, size_t *cap) {
  struct stat st;
  if (stat(path, &st)) return -1;
  if (S_ISDIR(st.st_mode)) {
    DIR *d = opendir(path);
    if (!d) return -1;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
      if (e->d_name[0] == '.') continue;
      size_t pl = strlen(path) + strlen(e->d_name) + 2;
      char *p = malloc(pl);
      if (!p) { rc = -1; break; }
      snprintf(p, pl, "%s/%s", path, e->d_name);
      struct stat fs;
      if (!stat(p, &fs) && S_ISREG(fs.st_mode)) rc = collect(p, v, n, cap);
      free(p);
      if (rc) break;
    }
    closedir(d);
    return rc;
  }
  if (*n == *cap) {
    size_t nc = *cap ? *cap * 2 : 16;
    seedfile *nv = realloc(*v, nc * sizeof(*nv));
    if (!nv) return -1;
    *v = nv, *cap = nc;
  }
  seedfile *s = &(*v)[*n];
  if (load_file(path, &s->data, &s->len)) return -1;
  s->name = strdup(path);
  if (!s->name) { free(s->data); return -1; }
  (*n)++;
  return 0;
}

static int run_seeds(seedfile *v, size_t n, fuzz_one_fn *fn, unsigned mutations, uint64_t seed,
                     fuzz_stats *st) {
  qsort(v, n, sizeof(*v), cmp_name);
  const uint8_t **others = malloc((n ? n : 1) * sizeof(*others));
  size_t *olens = malloc((n ? n : 1) * sizeof(*olens));
  uint8_t *mbuf = malloc(FUZZ_MAX_MUT);
  if (!others || !olens || !mbuf) {
    free(others), free(olens), free(mbuf);
    return -1;
  }
  for (size_t i = 0; i < n; i++) others[i] = v[i].data, olens[i] = v[i].len;
  for (size_t i = 0; i < n; i++) {
    /* Exact-size copy so that over-reads past the input are caught. */
    uint8_t *exact = (uint8_t *)fuzz_dup(v[i].data, v[i].len);
    if (!exact) break;
    fn(exact, v[i].len);
    free(exact);
    if (st) st->seeds++, st->runs++;
    const char *base = strrchr(v[i].name, '/');
    uint64_t rng = seed ^ hash_name(base ? base + 1 : v[i].name);
    size_t cap = v[i].len * 2 + 256;
    if (cap > FUZZ_MAX_MUT) cap = FUZZ_MAX_MUT;
    for (unsigned m = 0; m < mutations; m++) {
      const uint8_t *src = v[i].data;
      size_t slen = v[i].len > cap ? cap : v[i].len;
      size_t ml = fuzz_mutate(&rng, src, slen, mbuf, cap, others, olens, n);
      uint8_t *cp = (uint8_t *)fuzz_dup(mbuf, ml);
      if (!cp) break;
      if (getenv("FUZZ_TRACE")) fprintf(stderr, "fuzz: %s mutation %u (%zu bytes)\n", v[i].name, m, ml);
      fn(cp, ml);
      free(cp);
      if (st) st->runs++;
    }
  }
  free(others), free(olens), free(mbuf);
  return 0;
}

static void free_seeds(seedfile *v, size_t n) {
  for (size_t i = 0; i < n; i++) free(v[i].name), free(v[i].data);
  free(v);
}

int fuzz_smoke_dir(const char *dir, fuzz_one_fn *fn, unsigned mutations, uint64_t seed,
                   fuzz_stats *st) {
  seedfile *v = NULL;
  size_t n = 0, cap = 0;
  int rc = collect(dir, &v, &n, &cap);
  if (!rc && !n) rc = -1;
  if (!rc) rc = run_seeds(v, n, fn, mutations, seed, st);
  free_seeds(v, n);
  return rc;
}

void fuzz_quiet(void) { lh_log_set_level(LH_LOG_ERROR); }

#ifdef LAHAR_LIBFUZZER
/* libFuzzer calls this once: the harnesses' libraries log at INFO/WARN per object otherwise. */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  fuzz_quiet();
  return 0;
}
#endif

#ifdef FUZZ_DRIVER_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static int entry(const uint8_t *d, size_t n) { return LLVMFuzzerTestOneInput(d, n); }

int main(int argc, char **argv) {
  unsigned muts = 0;
  seedfile *v = NULL;
  size_t n = 0, cap = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-n") && i + 1 < argc) { muts = (unsigned)strtoul(argv[++i], NULL, 10); continue; }
    if (collect(argv[i], &v, &n, &cap)) { fprintf(stderr, "cannot read %s\n", argv[i]); return 2; }
  }
  fuzz_quiet();
  fuzz_stats st = {0, 0};
  int rc = run_seeds(v, n, entry, muts, 0x1a4a7u, &st);
  free_seeds(v, n);
  fprintf(stderr, "ran %zu inputs from %zu files\n", st.runs, st.seeds);
  return rc ? 1 : 0;
}
#endif
