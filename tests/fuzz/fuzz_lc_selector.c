/* fuzz_lc_selector.c — label and field selectors of the local cluster
 * (hack/localcluster/selector.c). Input: LABEL_SELECTOR %% FIELD_SELECTOR %% OBJECT_JSON; the
 * label selector is also compiled from the object's "selector" member (metav1.LabelSelector)
 * and everything parsed is matched against the object and printed back. */
#include "tests/fuzz/fuzz.h"
#include "localcluster/selector.h"

#include <stdlib.h>
#include <string.h>

static const char *const RES[] = {"pods", "nodes", "namespaces", "secrets", "events", "apps/replicasets",
                                  "batch/jobs", "scheduling.volcano.sh/queues", "", "a/b/c"};

static void err_ok(int rc, const char *err, size_t n) {
  if (rc != 0 && !memchr(err, 0, n)) abort();
}

int fuzz_lc_selector_one(const uint8_t *data, size_t size) {
  const uint8_t *part[3];
  size_t len[3];
  size_t np = fuzz_split(data, size, part, len, 3);
  char *ls = fuzz_str(part[0], len[0]);
  char *fs = np > 1 ? fuzz_str(part[1], len[1]) : NULL;
  json_t *obj = np > 2 ? json_loadb((const char *)part[2], len[2], JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL) : NULL;
  char err[200];
  memset(err, 'x', sizeof(err));

  lh_label_selector *lsel = NULL;
  int rc = ls ? lh_label_selector_parse(ls, &lsel, err, sizeof(err)) : -1;
  if (ls) err_ok(rc, err, sizeof(err));
  if (lsel) {
    (void)lh_label_selector_matches_object(lsel, obj);
    (void)lh_label_selector_matches(lsel, json_object_get(obj, "labels"));
    (void)lh_label_selector_is_everything(lsel);
    char *txt = lh_label_selector_string(lsel);
    if (txt) { /* canonical text must parse back */
      lh_label_selector *again = NULL;
      if (strcmp(txt, "<none>") && lh_label_selector_parse(txt, &again, err, sizeof(err)) != 0) abort();
      lh_label_selector_free(again);
    }
    free(txt);
    lh_label_selector_free(lsel);
  }
  if (ls) {
    (void)lh_label_key_validate(ls, err, sizeof(err));
    (void)lh_label_value_validate(ls, err, sizeof(err));
    (void)lh_label_key_validate(ls, NULL, 0);
  }

  if (fs) {
    for (int flags = 0; flags < 2; flags++) {
      lh_field_selector *fsel = NULL;
      const char *res = RES[(len[1] + (size_t)flags) % (sizeof(RES) / sizeof(RES[0]))];
      rc = lh_field_selector_parse(fs, res, flags ? LH_FIELDSEL_ANY_PATH : 0, &fsel, err, sizeof(err));
      err_ok(rc, err, sizeof(err));
      if (fsel) {
        (void)lh_field_selector_matches(fsel, obj);
        (void)lh_field_selector_is_everything(fsel);
        (void)lh_field_selector_required(fsel, "metadata.name");
        (void)lh_field_selector_required(fsel, "spec.nodeName");
      }
      lh_field_selector_free(fsel);
    }
  }

  if (obj) {
    const json_t *js = json_object_get(obj, "selector");
    lh_label_selector *jsel = NULL;
    rc = lh_label_selector_from_json(js ? js : obj, &jsel, err, sizeof(err));
    err_ok(rc, err, sizeof(err));
    if (jsel) {
      (void)lh_label_selector_matches_object(jsel, obj);
      (void)lh_label_selector_is_nothing(jsel);
      free(lh_label_selector_string(jsel));
    }
    lh_label_selector_free(jsel);
  }
  json_decref(obj);
  free(ls);
  free(fs);
  return 0;
}

#ifdef LAHAR_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_lc_selector_one(data, size); }
#endif
