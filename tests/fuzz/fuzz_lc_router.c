/* fuzz_lc_router.c — request path and query parsing of the local cluster
 * (hack/localcluster/router.c). Input: PATH [%% QUERY]. The path is parsed raw and after
 * lc_url_decode; the query with lc_query_parse. Route fields must stay NUL-terminated. */
#include "tests/fuzz/fuzz.h"
#include "localcluster/router.h"

#include <stdlib.h>
#include <string.h>

#define TERMINATED(a) (memchr((a), 0, sizeof(a)) != NULL)

static void route(const char *p) {
  lc_route r;
  memset(&r, 'x', sizeof(r));
  lc_route_parse(p, &r);
  if (!TERMINATED(r.group) || !TERMINATED(r.version) || !TERMINATED(r.ns) || !TERMINATED(r.resource) ||
      !TERMINATED(r.name) || !TERMINATED(r.sub))
    abort();
}

int fuzz_lc_router_one(const uint8_t *data, size_t size) {
  const uint8_t *part[2];
  size_t len[2];
  size_t np = fuzz_split(data, size, part, len, 2);
  char *path = fuzz_str(part[0], len[0]);
  if (!path) return 0;
  route(path);
  char dec[4096];
  for (int plus = 0; plus < 2; plus++) {
    int n = lc_url_decode(dec, sizeof(dec), (const char *)part[0], len[0], plus);
    if (n >= (int)sizeof(dec)) abort();
    if (n >= 0) route(dec);
    char small[8];
    n = lc_url_decode(small, sizeof(small), (const char *)part[0], len[0], plus);
    if (n >= (int)sizeof(small)) abort();
  }
  free(path);
  char *raw = fuzz_str(np > 1 ? part[1] : part[0], np > 1 ? len[1] : len[0]);
  if (!raw) return 0;
  lc_query *q = malloc(sizeof(*q));
  if (q) {
    lc_query_init(q);
    if (lc_query_parse(q, raw) != 0 && !TERMINATED(q->bad)) abort();
    if (!TERMINATED(q->label_selector) || !TERMINATED(q->field_selector) || !TERMINATED(q->continue_tok) ||
        !TERMINATED(q->resource_version) || !TERMINATED(q->propagation) || !TERMINATED(q->container))
      abort();
    /* name=value straight through lc_query_set */
    char *eq = strchr(raw, '=');
    if (eq) *eq = 0;
    lc_query_init(q);
    (void)lc_query_set(q, raw, eq ? eq + 1 : "");
    free(q);
  }
  free(raw);
  return 0;
}

#ifdef LAHAR_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_lc_router_one(data, size); }
#endif
