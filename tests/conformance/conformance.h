/* conformance.h — shared declarations of lahar-conformance, the differential conformance harness.
 *
 * lahar-conformance runs one scripted sequence of Kubernetes API requests (tests/conformance/steps.txt)
 * against one server and writes a normalized transcript: per step the HTTP status, the returned
 * object or Status as sorted "path = value" lines with generated values (uid, resourceVersion,
 * timestamps, continue tokens, generated names) replaced by placeholders, and for watches the
 * sequence of event types. Two transcripts (a real kube-apiserver and the local cluster) are then
 * compared by tests/e2e/50-conformance-diff.sh. The harness records; it never judges.
 *
 * Files: main.c (flags, kubeconfig, variables, the step loop), steps.c (the step file parser),
 * http.c (libcurl requests, watch streams, WebSocket handshakes), normalize.c (JSON paths,
 * masking, transcript lines). */
#ifndef LAHAR_CONFORMANCE_H
#define LAHAR_CONFORMANCE_H

#include <jansson.h>
#include <stddef.h>

#include "util/buf.h"

#define CF_MAX_OPTS 16
#define CF_MAX_VARS 128
#define CF_BODY_CAP ((size_t)32 << 20) /* cap on any response or request body */

/* One option of a step, "key=value" in the step file. */
typedef struct cf_opt {
  char *key;
  char *value;
} cf_opt;

/* One step: "NAME METHOD PATH [key=value ...] [-- BODY]". Strings are owned by the step. */
typedef struct cf_step {
  int line;                  /* line number in the step file, for messages */
  char *name;                /* step name, printed in the transcript */
  char *method;              /* GET POST PUT PATCH DELETE, or WATCH, WS, WAIT, SET */
  char *path;                /* request path template (may hold ${VAR}) */
  char *body;                /* inline body template after "--", or NULL */
  cf_opt opts[CF_MAX_OPTS];  /* options in file order */
  int nopts;
} cf_step;

/* steps.c: parses the step file at path into a malloc'd array (*out, *n). Returns 0, or -1 after
 * printing "file:line: reason" to stderr (nothing is left allocated then). */
int cf_steps_load(const char *path, cf_step **out, int *n);
void cf_steps_free(cf_step *steps, int n);
/* Returns the value of the first option key of s, or NULL. */
const char *cf_step_opt(const cf_step *s, const char *key);

/* A variable: set by -D, SET steps or capture options. A "masked" variable's value is written
 * back as ${NAME} wherever it occurs in a transcript (generated names, the server address). */
typedef struct cf_var {
  char *name;
  char *value;
  int masked;
} cf_var;

typedef struct cf_vars {
  cf_var v[CF_MAX_VARS];
  int n;
} cf_vars;

/* main.c */
const char *cf_var_get(const cf_vars *vars, const char *name);
/* Sets (or replaces) a variable. Returns 0, -1 when the table is full. */
int cf_var_set(cf_vars *vars, const char *name, const char *value, int masked);
/* Expands ${NAME} in tmpl into a new string. Returns NULL and sets *missing (a malloc'd copy of
 * the variable's name, caller frees) when a variable is unset. */
char *cf_expand(const cf_vars *vars, const char *tmpl, char **missing);

/* normalize.c */
/* Resolves a path expression ("metadata.name", "items[0].metadata.name",
 * "status.conditions[type=Established].status") in v. Returns a borrowed reference or NULL. */
json_t *cf_path_get(json_t *v, const char *expr);
/* Renders a scalar as text (strings unquoted, numbers and booleans as JSON); a container as
 * compact JSON. Caller frees. */
char *cf_scalar_text(const json_t *v);
/* Normalization settings for one dump. */
typedef struct cf_norm {
  const cf_vars *vars;  /* masked variables are substituted back */
  int keys_only;        /* print "path" lines without values */
  int mask_digits;      /* replace digit runs in "message" strings by <n> */
} cf_norm;
/* Appends "  path = value\n" lines for every leaf of v under prefix (sorted, managedFields
 * dropped, generated values masked). */
void cf_dump(lh_buf *out, const char *indent, const char *prefix, json_t *v, const cf_norm *nm);
/* Writes the masked form of a string (variables substituted back, digits masked if asked). */
char *cf_mask_string(const char *s, const cf_norm *nm, int is_message);

/* http.c */
typedef struct cf_conn {
  const char *server;  /* https://127.0.0.1:6443 (no trailing slash) */
  const char *cacert;  /* CA file for https, or NULL */
  const char *token;   /* bearer token, or NULL */
} cf_conn;

typedef struct cf_response {
  long status;         /* HTTP status, 0 when the request failed */
  char *content_type;  /* media type without parameters, or NULL */
  lh_buf body;         /* response body */
  char err[256];       /* transport error text when status is 0 */
} cf_response;

void cf_response_free(cf_response *r);
/* Sends one request. headers is a NULL-terminated list of "Name: value" or NULL. Returns 0 when a
 * response (any status) was received, -1 on a transport error (r->err says why). */
int cf_http(const cf_conn *c, const char *method, const char *path, const char *content_type,
            const char *body, const char *const *headers, long timeout_s, cf_response *r);

/* One watch event as received. */
typedef struct cf_event {
  json_t *ev; /* the decoded {"type":..,"object":..}, or NULL when the line was not JSON */
} cf_event;

typedef struct cf_watch {
  long status;
  char *content_type;
  lh_buf body;         /* the body when the status is not 200 (a Status) */
  json_t *events;      /* array of event objects (lines that were not JSON become strings) */
  int stopped;         /* 1: stopped after max_events, 0: the server closed the stream */
  char err[256];
} cf_watch;

void cf_watch_free(cf_watch *w);
/* Opens a watch (GET path) and reads newline-delimited events until the server closes the stream,
 * max_events events arrived (max_events > 0) or timeout_s passed. When during is not NULL it is
 * called once, one second after the watch opened, with the stream still open. Returns 0 or -1
 * (transport error other than the harness's own stop; w->err says why). */
int cf_watch_run(const cf_conn *c, const char *path, int max_events, long timeout_s, void (*during)(void *),
                 void *ud, cf_watch *w);

typedef struct cf_ws {
  long status;
  int accept_ok;       /* Sec-WebSocket-Accept matched the key's expected value */
  int have_frame;      /* a complete first frame was read */
  unsigned char b0;    /* first byte of the first frame (FIN + opcode) */
  int masked;          /* the first frame was masked (servers must not mask) */
  json_t *payload;     /* the first frame's payload decoded as JSON, or NULL */
  char err[256];
} cf_ws;

void cf_ws_free(cf_ws *w);
/* Sends a WebSocket upgrade for path (origin may be NULL: no Origin header) and reads the first
 * frame when the server switches protocols. Returns 0 or -1 on a transport error. */
int cf_ws_run(const cf_conn *c, const char *path, const char *origin, long timeout_s, cf_ws *w);


#endif
