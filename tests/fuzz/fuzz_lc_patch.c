/* fuzz_lc_patch.c — PATCH on arbitrary (document, patch) pairs (hack/localcluster/patch_*.c).
 * Input: DOC_JSON %% PATCH_JSON [%% RESOURCE]. Each flavour (merge, JSON, strategic for a
 * built-in resource) runs; the contract checked: the input document is untouched, *out is
 * NULL exactly on failure, err is NUL-terminated. */
#include "tests/fuzz/fuzz.h"
#include "localcluster/patch.h"

#include <stdlib.h>
#include <string.h>

static const char *const RES[] = {"pods", "apps/deployments", "nodes", "services", "batch/jobs",
                                  "scheduling.volcano.sh/queues", "configmaps", "apps/statefulsets"};
static const char *const CT[] = {"application/json-patch+json", "application/merge-patch+json; charset=utf-8",
                                 "APPLICATION/STRATEGIC-MERGE-PATCH+JSON", "application/apply-patch+yaml",
                                 "text/plain", "", ";"};

static void one(lh_patch_type t, const char *res, const json_t *doc, const json_t *patch) {
  json_t *out = NULL;
  char err[160];
  memset(err, 'x', sizeof(err));
  int rc = lh_patch_apply(t, res, doc, patch, &out, err, sizeof(err));
  if ((rc == 0) != (out != NULL)) abort();
  if (rc != 0 && !memchr(err, 0, sizeof(err))) abort();
  if (out) { /* the result must be a sound value: dump it and patch it again */
    char *s = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY);
    free(s);
    json_t *out2 = NULL;
    if (lh_patch_apply(t, res, out, patch, &out2, NULL, 0) == 0) json_decref(out2);
  }
  json_decref(out);
}

int fuzz_lc_patch_one(const uint8_t *data, size_t size) {
  const uint8_t *part[3];
  size_t len[3];
  size_t np = fuzz_split(data, size, part, len, 3);
  for (size_t i = 0; i < sizeof(CT) / sizeof(CT[0]); i++) (void)lh_patch_type_from_content_type(CT[i]);
  char *ct = fuzz_str(part[0], len[0] < 100 ? len[0] : 100);
  if (ct) (void)lh_patch_type_from_content_type(ct), free(ct);
  if (np < 2) return 0;
  json_t *doc = json_loadb((const char *)part[0], len[0], JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
  json_t *patch = json_loadb((const char *)part[1], len[1], JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
  char *res = np > 2 ? fuzz_str(part[2], len[2]) : NULL;
  if (patch) {
    char *before = doc ? json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS) : NULL;
    const char *r = res ? res : RES[size % (sizeof(RES) / sizeof(RES[0]))];
    (void)lh_patch_strategic_supported(r);
    one(LH_PATCH_MERGE, r, doc, patch);
    one(LH_PATCH_JSON, r, doc, patch);
    one(LH_PATCH_STRATEGIC, r, doc, patch);
    one(LH_PATCH_APPLY, r, doc, patch);
    if (before) { /* inputs are read-only */
      char *after = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
      if (!after || strcmp(before, after)) abort();
      free(after);
    }
    free(before);
  }
  free(res);
  json_decref(doc);
  json_decref(patch);
  return 0;
}

#ifdef LAHAR_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_lc_patch_one(data, size); }
#endif
