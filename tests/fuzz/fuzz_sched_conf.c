/* fuzz_sched_conf.c — lh_conf_parse (scheduler configuration YAML, scheduler/conf.c): any bytes
 * must give a conf or LH_ECONF/LH_ENOMEM with a NUL-terminated message; a parsed conf is run for
 * one cycle over an empty snapshot and freed. */
#include "tests/fuzz/fuzz.h"
#include "scheduler/lahar_sched.h"

#include <stdlib.h>
#include <string.h>

int fuzz_sched_conf_one(const uint8_t *data, size_t size) {
  char *yaml = fuzz_dup(data, size); /* exact size: the parser gets (ptr, len), no NUL */
  if (!yaml) return 0;
  lh_conf *c = NULL;
  char err[256];
  memset(err, 'x', sizeof(err));
  int rc = lh_conf_parse(yaml, size, &c, err, sizeof(err));
  if (rc == 0 && !c) abort();                     /* contract: conf on success */
  if (rc != 0 && (c || !memchr(err, 0, sizeof(err)))) abort(); /* NULL + message on failure */
  if (c) {
    lh_snapshot *s = lh_snapshot_new();
    lh_result *r = NULL;
    if (s && lh_schedule(c, s, 0, &r) == 0) lh_result_free(r);
    lh_snapshot_free(s);
  }
  lh_conf_free(c);
  free(yaml);
  return 0;
}

#ifdef LAHAR_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_sched_conf_one(data, size); }
#endif
