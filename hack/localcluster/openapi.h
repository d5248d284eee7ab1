/* openapi.h — /openapi/v2. kubectl (apply, edit) fetches it as protobuf
 * (application/com.github.proto-openapi.spec.v2@v1.0+protobuf) and only needs a document that
 * parses: with no model for a kind it falls back to its compiled-in strategic-merge metadata for
 * built-in kinds and to JSON merge patch for custom resources. So lahar serves a minimal valid
 * document (swagger "2.0", info, empty paths) — as protobuf when asked, JSON otherwise. */
#ifndef LAHAR_LC_OPENAPI_H
#define LAHAR_LC_OPENAPI_H

#include <stddef.h>

/* Fills *body (malloc'd) / *len / *ctype for the given Accept header. Returns 0 or -1 (ENOMEM). */
int lc_openapi_v2(const char *accept, char **body, size_t *len, const char **ctype);

#endif
