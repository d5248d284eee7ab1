/* fuzz_kube_pod.c — the compact pod transform (controller/kube/pod.c: lh_pod_transform on any
 * JSON) and lh_kube_quantity_parse on every string value found in it and on each input line.
 * A transformed pod is released and the intern table must end empty (no lost references).
 * Differential part: the strict scanner (util/jscan.c) must accept exactly what json_loadb
 * (flags 0) accepts, and the byte-level transform (pod_bytes.c) must give the same pod as
 * lh_pod_transform unless it asks for the jansson fallback; any difference aborts. */
#include "tests/fuzz/fuzz.h"
#include "kube/pod.h"
#include "util/jscan.h"

#include <stdlib.h>
#include <string.h>

static void quantities(const json_t *v, int depth) {
  if (depth > 64) return;
  if (json_is_string(v)) {
    int64_t q;
    (void)lh_kube_quantity_parse(json_string_value(v), 0, &q);
    (void)lh_kube_quantity_parse(json_string_value(v), 1, &q);
  } else if (json_is_object(v)) {
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x) quantities(x, depth + 1);
  } else if (json_is_array(v)) {
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) quantities(x, depth + 1);
  }
}

int fuzz_kube_pod_one(const uint8_t *data, size_t size) {
  /* each line as a quantity */
  char *s = fuzz_str(data, size);
  if (!s) return 0;
  for (char *line = s, *nl; line; line = nl ? nl + 1 : NULL) {
    nl = strchr(line, '\n');
    if (nl) *nl = 0;
    int64_t q;
    (void)lh_kube_quantity_parse(line, 0, &q);
    (void)lh_kube_quantity_parse(line, 1, &q);
  }
  free(s);

  /* the scanner against jansson, on an exact-size copy (ASan sees any read past the end) */
  char *copy = fuzz_dup(data, size);
  if (copy || size == 0) {
    json_t *strict = json_loadb(copy ? copy : "", size, 0, NULL);
    lh_js_err err = {0, ""};
    int ok = lh_js_validate(copy ? copy : "", size, 0, &err) == 0;
    /* jscan refuses reals of 1024+ characters that jansson reads; nothing else may differ */
    if (ok != (strict != NULL) && !(strict && strcmp(err.msg, "number too long") == 0)) abort();
    if (ok && strict) {
      lh_intern *in2 = lh_intern_new();
      if (in2) {
        int fb = 0;
        lh_pod *a = lh_pod_transform(strict, in2);
        lh_pod *b = lh_pod_transform_bytes(copy, size, in2, &fb);
        if (!fb && !lh_pod_same(a, b, 1)) abort(); /* the two transforms disagree */
        if (fb && b) abort();
        lh_pod_free(a, in2);
        lh_pod_free(b, in2);
        if (lh_intern_count(in2) != 0) abort();
        lh_intern_free(in2);
      }
    }
    json_decref(strict);
  }
  free(copy);

  json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
  if (!j) return 0;
  quantities(j, 0);
  lh_intern *in = lh_intern_new();
  if (in) {
    void *p1 = lh_pod_transform(j, in);
    void *p2 = lh_pod_transform(j, in); /* shares interned strings with p1 */
    (void)lh_pod_cache_bytes(in);
    lh_pod_free(p1, in);
    lh_pod_free(p2, in);
    if (lh_intern_count(in) != 0) abort(); /* a reference was lost or leaked */
    lh_intern_free(in);
  }
  json_decref(j);
  return 0;
}

#ifdef LAHAR_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_kube_pod_one(data, size); }
#endif
