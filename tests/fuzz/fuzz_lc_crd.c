/* fuzz_lc_crd.c — custom resources in the local cluster: a CRD document goes through
 * lc_registry_crd_check / lc_registry_crd_add (hack/localcluster/registry.c), then an object is
 * validated and pruned against every served version's schema (crd_schema.c) and printed as a
 * Table row through the CRD's additionalPrinterColumns JSONPaths (table.c). Built-in kinds get
 * lc_defaults_create + lc_validate_builtin (objmeta.c) on the same object.
 * Input: CRD_JSON %% OBJECT_JSON [%% ACCEPT/TIMESTAMP/JSONPATH line]. */
#include "tests/fuzz/fuzz.h"
#include "localcluster/crd_schema.h"
#include "localcluster/objmeta.h"
#include "localcluster/registry.h"
#include "localcluster/table.h"

#include <stdlib.h>
#include <string.h>

static void on_type(const lc_rtype *t, const json_t *obj) {
  if (!obj) return;
  json_t *cp = json_deep_copy(obj);
  if (!cp) return;
  if (t->is_cr) {
    json_t *st = lc_crd_validate(t, cp);
    if (st && !json_is_object(st)) abort();
    json_decref(st);
  } else if (json_is_object(cp)) {
    lc_defaults_create(t, cp);
    json_decref(lc_validate_builtin(t, cp));
  }
  json_decref(lc_table_columns(t));
  for (int inc = 0; inc < 3; inc++) json_decref(lc_table_row(t, cp, inc, 1700000000));
  json_decref(cp);
}

int fuzz_lc_crd_one(const uint8_t *data, size_t size) {
  const uint8_t *part[3];
  size_t len[3];
  size_t np = fuzz_split(data, size, part, len, 3);
  json_t *crd = json_loadb((const char *)part[0], len[0], JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
  json_t *obj = np > 1 ? json_loadb((const char *)part[1], len[1], JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL) : NULL;
  char field[64], msg[256];
  lc_registry reg;
  if (lc_registry_init(&reg)) goto out;
  if (crd) {
    memset(msg, 'x', sizeof(msg));
    if (lc_registry_crd_check(crd, field, sizeof(field), msg, sizeof(msg)) != 0 &&
        (!memchr(field, 0, sizeof(field)) || !memchr(msg, 0, sizeof(msg))))
      abort();
    if (lc_registry_crd_add(&reg, crd) == 0) {
      (void)lc_registry_crd_add(&reg, crd); /* re-registration replaces */
    }
  }
  for (size_t i = 0; i < reg.n; i++) on_type(reg.v[i], obj);
  if (crd) {
    const char *name = json_string_value(json_object_get(json_object_get(crd, "metadata"), "name"));
    json_decref(lc_discovery_apis(&reg));
    if (name) lc_registry_crd_remove(&reg, name);
  }
  lc_registry_free(&reg);
  if (np > 2) {
    char *s = fuzz_str(part[2], len[2]);
    if (s) {
      char out[64];
      (void)lc_table_accept(s);
      (void)lc_table_include_parse(s);
      lc_table_age(s, 1700000000, out, sizeof(out));
      (void)lc_parse_rfc3339(s);
      if (obj) (void)lc_jsonpath_first(obj, s);
      free(s);
    }
  }
out:
  json_decref(crd);
  json_decref(obj);
  return 0;
}

#ifdef LAHAR_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_lc_crd_one(data, size); }
#endif
