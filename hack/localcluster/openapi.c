/* openapi.c — minimal OpenAPI v2 document (see openapi.h). */
#include "localcluster/openapi.h"

#include <stdlib.h>
#include <string.h>

/* gnostic openapi_v2.Document: 1 swagger (string), 2 info (Info: 1 title, 2 version), 8 paths. */
static size_t put_str(unsigned char *p, int field, const char *s) {
  size_t l = strlen(s);
  p[0] = (unsigned char)(field << 3 | 2);
  p[1] = (unsigned char)l; /* every string here is < 128 bytes */
  memcpy(p + 2, s, l);
  return l + 2;
}

int lc_openapi_v2(const char *accept, char **body, size_t *len, const char **ctype) {
  if (accept && strstr(accept, "protobuf")) {
    unsigned char info[64], *out = malloc(128);
    if (!out) return -1;
    size_t il = put_str(info, 1, "Kubernetes");
    il += put_str(info + il, 2, "v1.20.2");
    size_t o = put_str(out, 1, "2.0");
    out[o++] = 2 << 3 | 2;
    out[o++] = (unsigned char)il;
    memcpy(out + o, info, il);
    o += il;
    out[o++] = 8 << 3 | 2; /* paths: empty message */
    out[o++] = 0;
    *body = (char *)out;
    *len = o;
    *ctype = "application/octet-stream";
    return 0;
  }
  static const char doc[] =
      "{\"swagger\":\"2.0\",\"info\":{\"title\":\"Kubernetes\",\"version\":\"v1.20.2\"},\"paths\":{},"
      "\"definitions\":{}}";
  *body = strdup(doc);
  if (!*body) return -1;
  *len = sizeof doc - 1;
  *ctype = "application/json";
  return 0;
}
