/* router.h — parses a request's path and query into what the API server must do. Pure (no I/O).
 *
 * Paths understood (a kube-apiserver's URL space, minus what lahar does not serve):
 *   /version /healthz /livez /readyz (and their /sub-checks) /openapi/v2 /openapi/v3
 *   /api  /api/v1  /apis  /apis/G  /apis/G/V
 *   /api/v1[/watch][/namespaces/NS]/RESOURCE[/NAME[/SUBRESOURCE]]
 *   /apis/G/V[/watch][/namespaces/NS]/RESOURCE[/NAME[/SUBRESOURCE]]
 * "/namespaces/NS/status" and "/namespaces/NS/finalize" are the namespace's own subresources,
 * as on the real server. Whether RESOURCE exists is the registry's business, not the router's. */
#ifndef LAHAR_LC_ROUTER_H
#define LAHAR_LC_ROUTER_H

#include <stddef.h>

#define LC_NAME_MAX 254
#define LC_SEG_MAX 254

typedef enum {
  LC_R_NONE = 0, /* unknown path → 404 */
  LC_R_VERSION,
  LC_R_HEALTH,       /* /healthz /livez /readyz */
  LC_R_OPENAPI_V2,
  LC_R_OPENAPI_V3,   /* answered 404 like 1.20 */
  LC_R_API,          /* /api */
  LC_R_API_V1,       /* /api/v1 discovery */
  LC_R_APIS,         /* /apis */
  LC_R_GROUP,        /* /apis/G */
  LC_R_GROUP_VERSION,/* /apis/G/V */
  LC_R_RESOURCE,     /* a REST resource path */
} lc_route_kind;

typedef struct lc_route {
  lc_route_kind kind;
  char group[LC_SEG_MAX];     /* "" for core */
  char version[LC_SEG_MAX];
  char ns[LC_NAME_MAX];       /* "" when not namespaced in the path */
  char resource[LC_SEG_MAX];
  char name[LC_NAME_MAX];     /* "" for collection */
  char sub[LC_SEG_MAX];       /* subresource or "" */
  int legacy_watch;           /* the path had /watch/ */
  int readyz;                 /* LC_R_HEALTH: the path was /readyz (readiness, not liveness) */
  int has_ns;
} lc_route;

/* Parses an already percent-decoded path. Never fails: unknown paths give kind LC_R_NONE, and
 * so do over-long segments. */
void lc_route_parse(const char *path, lc_route *r);

/* Query parameters the server acts on. */
typedef struct lc_query {
  char label_selector[4096];
  char field_selector[4096];
  char continue_tok[1024];
  char resource_version[64];
  char propagation[32];      /* propagationPolicy */
  char field_manager[128];
  char include_object[16];   /* includeObject for Table output: "", Object, Metadata, None */
  long limit;                /* 0 = none */
  long timeout_seconds;      /* 0 = none */
  long grace_period;         /* -1 = not given */
  int watch;
  int allow_bookmarks;
  int dry_run;
  int has_rv;
  /* pods/log */
  char container[LC_SEG_MAX];
  long tail_lines;           /* -1 = all */
  int follow;
  char bad[128];             /* the malformed parameter after a -1 return */
} lc_query;

void lc_query_init(lc_query *q);
/* Applies one decoded name=value pair. Returns 0, or -1 when a value is malformed (e.g.
 * limit=abc): the caller answers 400 with a message naming the parameter (q->bad). */
int lc_query_set(lc_query *q, const char *name, const char *value);
/* Parses a raw (percent-encoded, '+'=space) query string "a=b&c=d". Returns 0 or -1 as above. */
int lc_query_parse(lc_query *q, const char *raw);
/* Percent-decodes src into dst (dstsz incl. NUL); plus_space maps '+' to ' '. Returns the
 * length, or -1 if it does not fit or has a bad escape. */
int lc_url_decode(char *dst, size_t dstsz, const char *src, size_t srclen, int plus_space);

#endif
