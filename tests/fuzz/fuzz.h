/* fuzz.h — lahar's fuzz harnesses (tests/fuzz/fuzz_<target>.c) and the deterministic driver
 * (tests/fuzz/driver.c) that runs them without libFuzzer.
 *
 * Every harness is a pure function fuzz_<target>_one(data, size) that feeds untrusted bytes to
 * one parser and frees everything it got back; it returns 0 (libFuzzer's convention). Built with
 * -DLAHAR_LIBFUZZER each harness file also defines LLVMFuzzerTestOneInput (see `make fuzz`).
 * Multi-part inputs (document + patch, selector + object, ...) are split on FUZZ_SEP. */
#ifndef LAHAR_FUZZ_H
#define LAHAR_FUZZ_H
#include <stddef.h>
#include <stdint.h>

#define FUZZ_SEP "\n%%\n"

typedef int fuzz_one_fn(const uint8_t *data, size_t size);

/* --- harness entry points (one per file) ---------------------------------------------------- */
int fuzz_sched_conf_one(const uint8_t *data, size_t size);
int fuzz_kube_config_one(const uint8_t *data, size_t size);
int fuzz_kube_watch_one(const uint8_t *data, size_t size);
int fuzz_kube_pod_one(const uint8_t *data, size_t size);
int fuzz_lc_selector_one(const uint8_t *data, size_t size);
int fuzz_lc_patch_one(const uint8_t *data, size_t size);
int fuzz_lc_router_one(const uint8_t *data, size_t size);
int fuzz_lc_proto_one(const uint8_t *data, size_t size);
int fuzz_lc_crd_one(const uint8_t *data, size_t size);
int fuzz_nodesim_one(const uint8_t *data, size_t size);
int fuzz_ctl_args_one(const uint8_t *data, size_t size);
int fuzz_jobs_spec_one(const uint8_t *data, size_t size);
int fuzz_ctl_snap_one(const uint8_t *data, size_t size);

/* --- helpers for harnesses (driver.c) ------------------------------------------------------- */
/* Exact-size heap copy (no NUL: ASan reports any read past size). NULL only for size 0 + OOM. */
char *fuzz_dup(const uint8_t *data, size_t size);
/* NUL-terminated heap copy (stops at the first NUL byte, like a C string from a header). */
char *fuzz_str(const uint8_t *data, size_t size);
/* Splits data on FUZZ_SEP into at most max parts; returns the count (>= 1). */
size_t fuzz_split(const uint8_t *data, size_t size, const uint8_t **part, size_t *len, size_t max);

/* Lowers the log level to errors (the libraries log every object at INFO/WARN). */
void fuzz_quiet(void);

/* --- the deterministic smoke driver --------------------------------------------------------- */
typedef struct fuzz_stats {
  size_t seeds; /* corpus files run */
  size_t runs;  /* total harness calls (seeds + mutations) */
} fuzz_stats;
/* Runs fn over every regular file in dir, then `mutations` deterministic mutations of each
 * (byte flips, truncation, splicing with other seeds, repeats, dictionary tokens), all derived
 * from seed. Returns 0, or -1 when dir cannot be read or holds no file. */
int fuzz_smoke_dir(const char *dir, fuzz_one_fn *fn, unsigned mutations, uint64_t seed,
                   fuzz_stats *st);
/* One mutation of in (len) into out (cap bytes); returns the new length. others/nothers:
 * splice sources (may be NULL/0). */
size_t fuzz_mutate(uint64_t *rng, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                   const uint8_t *const *others, const size_t *olens, size_t nothers);
#endif
