/* client.h — REST access to an API server: URL building, metav1.Status parsing and a blocking
 * client over one curl easy handle (keep-alive connection reused between calls).
 *
 * Threading: an lh_kube_client is used by one thread at a time; make one per thread (they are
 * cheap: one easy handle and one connection each). For many concurrent writes (pod bindings)
 * use async.h, which multiplexes N requests over a pool of keep-alive connections.
 * Ownership: an lh_kube_response owns its body; free it with lh_kube_response_free() after every
 * call that filled it (also after errors). */
#ifndef LAHAR_KUBE_CLIENT_H
#define LAHAR_KUBE_CLIENT_H

#include "kube/config.h"
#include "kube/kube.h"
#include "util/buf.h"

#include <stddef.h>

/* Query options of list and watch calls. Zero/NULL fields are left out of the URL. */
typedef struct lh_kube_list_opts {
  const char *label_selector;   /* labelSelector= */
  const char *field_selector;   /* fieldSelector= */
  const char *resource_version; /* resourceVersion= */
  const char *continue_token;   /* continue= */
  long limit;                   /* limit= (0: unset) */
  long timeout_seconds;         /* timeoutSeconds= (0: unset) */
  int watch;                    /* watch=1 */
  int allow_bookmarks;          /* allowWatchBookmarks=true */
} lh_kube_list_opts;

/* Appends s percent-encoded (RFC 3986 unreserved characters kept) to out. 0 or LH_EKUBE_TOOBIG/NOMEM. */
int lh_kube_escape(lh_buf *out, const char *s);
/* Appends the path /api/v1[/namespaces/NS]/RES[/NAME[/SUB]] (or /apis/G/V/...) to out, escaping
 * each segment; ns is ignored for cluster-scoped resources. Returns 0, LH_EKUBE_INVAL (name NULL
 * with a subresource, empty segments) or a buffer error. */
int lh_kube_path(lh_buf *out, const lh_kube_resource *r, const char *ns, const char *name,
                 const char *sub);
/* Appends "?k=v&..." for the options set in o (nothing if none). */
int lh_kube_query(lh_buf *out, const lh_kube_list_opts *o);

/* metav1.Status, as parsed from an error body (fields truncated to fit). */
typedef struct lh_kube_status {
  int code;          /* .code, else the HTTP status */
  char status[16];   /* "Failure" / "Success" or "" */
  char reason[64];   /* "NotFound", "AlreadyExists", "Conflict", "Expired", ... */
  char message[512]; /* human text (or the start of a non-Status body) */
} lh_kube_status;

/* Parses body as a metav1.Status. Always fills st: when body is not a Status, code=http_code,
 * reason is derived from http_code ("NotFound", ...) and message holds the start of the body.
 * Returns 0 if body was a Status object, LH_EKUBE_PARSE otherwise. */
int lh_kube_status_parse(const char *body, size_t len, int http_code, lh_kube_status *st);
/* The standard reason for an HTTP status ("Conflict" for 409, ...), "" when unknown. */
const char *lh_kube_reason_for_code(int http_code);

typedef struct lh_kube_response {
  long http_code;       /* 0 when no answer was received */
  char *body;           /* NUL-terminated response body (malloc'ed) or NULL */
  size_t len;
  lh_kube_status status; /* filled for non-2xx answers */
  char error[256];       /* transport error text (curl), "" otherwise */
} lh_kube_response;

void lh_kube_response_free(lh_kube_response *r); /* frees body, keeps the struct reusable */

typedef struct lh_kube_client_opts {
  long connect_timeout_ms; /* default 5000 */
  long timeout_ms;         /* whole request, default 30000 (0 in opts: default) */
  size_t max_response;     /* response body cap, default 64 MiB */
  const char *user_agent;  /* default "lahar/0.1" */
} lh_kube_client_opts;

typedef struct lh_kube_client lh_kube_client;

/* Creates a client for cfg (copied). o may be NULL. Returns 0, LH_EKUBE_NOMEM or
 * LH_EKUBE_CONFIG (no server). */
int lh_kube_client_new(const lh_kube_config *cfg, const lh_kube_client_opts *o,
                       lh_kube_client **out);
void lh_kube_client_free(lh_kube_client *c); /* NULL ok */
const lh_kube_config *lh_kube_client_config(const lh_kube_client *c);

/* The generic call: method, path+query (starting with '/'), optional body with content type.
 * Returns 0 for a 2xx answer; LH_EKUBE_HTTP (resp->status filled; LH_EKUBE_GONE for 410),
 * LH_EKUBE_TRANSPORT (resp->error filled), LH_EKUBE_TOOBIG (body over the cap) otherwise. */
int lh_kube_request(lh_kube_client *c, const char *method, const char *path,
                    const char *content_type, const char *body, size_t body_len,
                    lh_kube_response *resp);

typedef enum {
  LH_PATCH_MERGE = 0,     /* application/merge-patch+json (RFC 7386) */
  LH_PATCH_JSON,          /* application/json-patch+json (RFC 6902) */
  LH_PATCH_STRATEGIC,     /* application/strategic-merge-patch+json (built-in kinds only) */
} lh_kube_patch_type;
const char *lh_kube_patch_content_type(lh_kube_patch_type t);

typedef struct lh_kube_delete_opts {
  const char *propagation_policy; /* "Foreground", "Background", "Orphan" or NULL */
  long grace_period_seconds;      /* -1: unset (server default); 0: immediate */
  const char *precondition_uid;   /* or NULL */
  const char *precondition_rv;    /* or NULL */
} lh_kube_delete_opts;
#define LH_KUBE_DELETE_OPTS_INIT {NULL, -1, NULL, NULL}
/* Returns the DeleteOptions JSON body (malloc'ed) or NULL (no memory). */
char *lh_kube_delete_body(const lh_kube_delete_opts *o);
/* Returns the v1 Binding JSON body for pod -> node (malloc'ed) or NULL. */
char *lh_kube_binding_body(const char *pod, const char *node, const char *pod_uid);

int lh_kube_get(lh_kube_client *c, const lh_kube_resource *r, const char *ns, const char *name,
                lh_kube_response *resp);
int lh_kube_list(lh_kube_client *c, const lh_kube_resource *r, const char *ns,
                 const lh_kube_list_opts *o, lh_kube_response *resp);
int lh_kube_create(lh_kube_client *c, const lh_kube_resource *r, const char *ns,
                   const char *json, lh_kube_response *resp);
/* PUT of the whole object (sub NULL) or of a subresource such as "status". */
int lh_kube_update(lh_kube_client *c, const lh_kube_resource *r, const char *ns, const char *name,
                   const char *sub, const char *json, lh_kube_response *resp);
int lh_kube_patch(lh_kube_client *c, const lh_kube_resource *r, const char *ns, const char *name,
                  const char *sub, lh_kube_patch_type type, const char *patch,
                  lh_kube_response *resp);
int lh_kube_delete(lh_kube_client *c, const lh_kube_resource *r, const char *ns, const char *name,
                   const lh_kube_delete_opts *o, lh_kube_response *resp);
/* POST pods/NAME/binding. pod_uid may be NULL. */
int lh_kube_bind(lh_kube_client *c, const char *ns, const char *pod, const char *node,
                 const char *pod_uid, lh_kube_response *resp);

#endif
