/* fuzz_lc_proto.c — the Kubernetes protobuf body decoder (hack/localcluster/proto.c). Raw bytes
 * are decoded as given and with the "k8s\0" frame prepended; a result must be a JSON object. */
#include "tests/fuzz/fuzz.h"
#include "localcluster/proto.h"

#include <stdlib.h>
#include <string.h>

static void dec(const unsigned char *b, size_t n) {
  json_t *out = NULL;
  char err[128];
  memset(err, 'x', sizeof(err));
  int rc = lc_proto_decode(b, n, &out, err, sizeof(err));
  if (rc == 0 && !json_is_object(out)) abort();
  if (rc != 0 && (out || !memchr(err, 0, sizeof(err)))) abort();
  if (out) free(json_dumps(out, JSON_COMPACT));
  json_decref(out);
}

int fuzz_lc_proto_one(const uint8_t *data, size_t size) {
  unsigned char *b = (unsigned char *)fuzz_dup(data, size);
  if (!b) return 0;
  dec(b, size);
  free(b);
  if (size < 4 || memcmp(data, "k8s", 4)) {
    b = malloc(size + 4);
    if (!b) return 0;
    memcpy(b, "k8s\0", 4);
    if (size) memcpy(b + 4, data, size);
    dec(b, size + 4);
    free(b);
  }
  (void)lc_proto_is_content_type("application/vnd.kubernetes.protobuf");
  return 0;
}

#ifdef LAHAR_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_lc_proto_one(data, size); }
#endif
