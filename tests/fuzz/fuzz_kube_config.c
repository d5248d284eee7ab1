/* fuzz_kube_config.c — kubeconfig YAML (controller/kube/config.c: lh_kube_config_load_yaml) and
 * its strict base64 decoder. Inputs naming device or proc files are skipped (the loader reads the
 * files a kubeconfig names; /dev/stdin would block the smoke run, which is not a parser bug). */
#include "tests/fuzz/fuzz.h"
#include "kube/config.h"

#include <stdlib.h>
#include <string.h>

static int names_special_file(const uint8_t *d, size_t n) {
  static const char *const BAD[] = {"/dev", "/proc", "/sys", "dev/", "..", "fd/"};
  for (size_t b = 0; b < sizeof(BAD) / sizeof(BAD[0]); b++) {
    size_t bl = strlen(BAD[b]);
    for (size_t i = 0; i + bl <= n; i++)
      if (!memcmp(d + i, BAD[b], bl)) return 1;
  }
  return 0;
}

int fuzz_kube_config_one(const uint8_t *data, size_t size) {
  char *buf = fuzz_dup(data, size);
  if (!buf) return 0;
  size_t ol = 0;
  char *dec = lh_kube_base64_decode(buf, size, &ol);
  if (dec && dec[ol] != 0) abort(); /* contract: NUL-terminated */
  free(dec);
  if (!names_special_file(data, size)) {
    static const char *const CTX[] = {NULL, "ctx", ""};
    for (size_t i = 0; i < 3; i++) {
      lh_kube_config *c = NULL;
      char err[256];
      memset(err, 'x', sizeof(err));
      int rc = lh_kube_config_load_yaml(buf, size, "/nonexistent-lahar-fuzz", CTX[i], &c, err, sizeof(err));
      if (rc == 0 && !c) abort();
      if (rc != 0 && (c || !memchr(err, 0, sizeof(err)))) abort();
      if (c) {
        lh_kube_config *d = lh_kube_config_dup(c);
        lh_kube_config_free(d);
      }
      lh_kube_config_free(c);
    }
  }
  free(buf);
  return 0;
}

#ifdef LAHAR_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_kube_config_one(data, size); }
#endif
