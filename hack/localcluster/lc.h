/* lc.h — the local cluster's shared server state and the request/response types that connect
 * the HTTP layer (server.c, libwebsockets) to the API logic (api.c). Everything runs on the one
 * event-loop thread: handlers, store writes, watch fan-out and the background controllers
 * (garbage collection, namespace and CRD cleanup, gc.c). */
#ifndef LAHAR_LC_LC_H
#define LAHAR_LC_LC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "localcluster/registry.h"
#include "localcluster/router.h"
#include "localcluster/store.h"

#define LC_MAX_BODY (3u * 1024u * 1024u) /* like the real server's 3 MiB request limit */

struct lc_hub;
struct lc_gc;
struct lc_logs;

typedef struct lc_server {
  lh_store *store;
  lc_registry reg;
  char server_addr[80];      /* host:port clients reach us at (discovery /api) */
  struct lc_hub *hub;        /* watchers (watch.c) */
  struct lc_gc *gc;          /* background work queue (gc.c) */
  struct lc_logs *logs;      /* pod log text (logs.c) */
  void *lws_ctx;             /* struct lws_context *, for timers (server.c) */
  int bookmark_interval_s;   /* BOOKMARK period for watches that allow them */
  size_t watch_queue_max;    /* per-watcher queued bytes before it is closed */
  /* Asks the loop to call lc_gc_run() after delay_ms (server.c sets it; NULL in unit tests,
   * which call lc_gc_run() themselves). */
  void (*kick)(struct lc_server *s, int delay_ms);
  /* Non-zero while /readyz must fail (the in-process simulated nodes are not registered yet).
   * Written by another thread: access with __atomic builtins. */
  int not_ready;
  uint32_t svc_base;         /* Service clusterIP range (host order); svc_bits 0 → the default */
  int svc_bits;
} lc_server;

#define LC_SERVICE_CIDR_DEFAULT "10.96.0.0/24"

typedef struct lc_request {
  const char *method;        /* "GET", "POST", "PUT", "PATCH", "DELETE", ... */
  lc_route route;
  lc_query q;
  const char *content_type;  /* "" when absent */
  const char *accept;        /* "" when absent */
  const char *body;
  size_t body_len;
} lc_request;

typedef struct lc_response {
  int code;
  const char *content_type;  /* static string */
  char *body;                /* malloc'd; the HTTP layer frees */
  size_t len;                /* bytes of the body, which starts at body + skip */
  size_t skip;               /* unused bytes before the body (lists build their head in a gap) */
} lc_response;

/* What a watch request asks for, after validation (api.c fills, watch.c serves). */
typedef struct lc_watch_spec {
  char key[260];             /* store resource key */
  char ns[254];
  int all_ns;
  char label_selector[4096];
  char field_selector[4096];
  char kind[128];            /* for BOOKMARK objects */
  char api_version[200];
  int64_t since_rv;          /* events with rv > since_rv */
  int64_t min_rv;            /* since_rv below this → 410 Expired (a CR's history start), 0 none */
  int send_initial;          /* rv unset/"0": synthetic ADDED for existing objects first */
  long timeout_s;
  int bookmarks;
  /* Table output (kubectl get -w): 0 plain events, else the lc_table_accept() version; the
   * type is looked up again by group/version/plural for each event */
  int table;
  int include_object;        /* LC_INCLUDE_* */
  char group[128];
  char version[64];
  char plural[128];
} lc_watch_spec;

#define LC_HANDLED 0
#define LC_WATCH 1

/* Handles one API request. Returns LC_HANDLED with *resp filled (always, errors included, as a
 * metav1.Status), or LC_WATCH with *ws filled when the request is a valid watch the HTTP layer
 * must now stream (resp untouched). Never fails otherwise. */
int lc_api_handle(lc_server *s, const lc_request *rq, lc_response *resp, lc_watch_spec *ws);

/* Server-side object operations shared by the handlers and the background controllers. Each
 * returns an HTTP code and, on failure, a Status in *status (new reference) when status != NULL.
 * lc_obj_delete applies finalizers, deletionTimestamp and propagation like a DELETE request;
 * propagation is "Background", "Foreground", "Orphan" or NULL (default Background). */
int lc_obj_delete(lc_server *s, const lc_rtype *t, const char *ns, const char *name,
                  const char *propagation, const char *pre_uid, int64_t pre_rv,
                  lh_store_obj *out, int *gone, json_t **status);

/* Helpers (objmeta.c). */
void lc_now_rfc3339(char out[32]);
/* The time secs seconds from now, RFC 3339 UTC. */
void lc_time_rfc3339_after(char out[32], long secs);
void lc_uuid4(char out[37]);
/* Parses an IPv4 "a.b.c.d/n" (host bits cleared into *base, host byte order). 0 or -1. */
int lc_parse_cidr(const char *s, uint32_t *base, int *bits);
/* Parses a dotted IPv4 address. 0 or -1. */
int lc_parse_ipv4(const char *s, uint32_t *out);

/* 0 if name is a DNS-1123 subdomain (label when label != 0), else -1 and a message. */
int lc_dns1123(const char *name, int label, char *msg, size_t msgsz);

#endif
