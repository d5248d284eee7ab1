/* status.c — metav1.Status construction (see status.h). Key order matches the real server. */
#include "localcluster/status.h"

#include <stdio.h>
#include <string.h>

json_t *lc_status_new(int code, const char *reason, const char *message, int with_details,
                      const char *name, const char *group, const char *kind) {
  json_t *st = json_object();
  if (!st) return NULL;
  json_object_set_new(st, "kind", json_string("Status"));
  json_object_set_new(st, "apiVersion", json_string("v1"));
  json_object_set_new(st, "metadata", json_object());
  json_object_set_new(st, "status", json_string(code >= 200 && code < 300 ? "Success" : "Failure"));
  if (message) json_object_set_new(st, "message", json_string(message));
  if (reason) json_object_set_new(st, "reason", json_string(reason));
  if (with_details) {
    json_t *d = json_object();
    if (name && *name) json_object_set_new(d, "name", json_string(name));
    if (group && *group) json_object_set_new(d, "group", json_string(group));
    if (kind && *kind) json_object_set_new(d, "kind", json_string(kind));
    json_object_set_new(st, "details", d);
  }
  json_object_set_new(st, "code", json_integer(code));
  return st;
}

json_t *lc_status_success(int code, const char *name, const char *group, const char *kind) {
  return lc_status_new(code, NULL, NULL, name || kind, name, group, kind);
}

int lc_status_add_cause(json_t *status, const char *reason, const char *message, const char *field) {
  json_t *d = json_object_get(status, "details");
  if (!d) {
    d = json_object();
    /* keep "code" last: re-add it after details */
    json_t *code = json_incref(json_object_get(status, "code"));
    json_object_del(status, "code");
    json_object_set_new(status, "details", d);
    if (code) json_object_set_new(status, "code", code);
  }
  json_t *causes = json_object_get(d, "causes");
  if (!causes) {
    causes = json_array();
    if (json_object_set_new(d, "causes", causes)) return -1;
  }
  json_t *c = json_object();
  if (reason) json_object_set_new(c, "reason", json_string(reason));
  if (message) json_object_set_new(c, "message", json_string(message));
  if (field) json_object_set_new(c, "field", json_string(field));
  return json_array_append_new(causes, c) ? -1 : 0;
}

void lc_qualified(char *out, size_t outsz, const char *resource, const char *group) {
  if (group && *group) snprintf(out, outsz, "%s.%s", resource, group);
  else snprintf(out, outsz, "%s", resource);
}

json_t *lc_status_not_found(const char *resource, const char *group, const char *name) {
  char q[320], msg[1024];
  lc_qualified(q, sizeof q, resource, group);
  snprintf(msg, sizeof msg, "%s \"%s\" not found", q, name ? name : "");
  return lc_status_new(404, "NotFound", msg, 1, name, group, resource);
}

json_t *lc_status_already_exists(const char *resource, const char *group, const char *name) {
  char q[320], msg[1024];
  lc_qualified(q, sizeof q, resource, group);
  snprintf(msg, sizeof msg, "%s \"%s\" already exists", q, name ? name : "");
  return lc_status_new(409, "AlreadyExists", msg, 1, name, group, resource);
}

json_t *lc_status_conflict(const char *resource, const char *group, const char *name, const char *why) {
  char q[320], msg[1400];
  lc_qualified(q, sizeof q, resource, group);
  snprintf(msg, sizeof msg, "Operation cannot be fulfilled on %s \"%s\": %s", q, name ? name : "",
           why ? why
               : "the object has been modified; please apply your changes to the latest version and try again");
  return lc_status_new(409, "Conflict", msg, 1, name, group, resource);
}

json_t *lc_status_invalid(const char *kind, const char *group, const char *name,
                          const char *field, const char *cause_reason, const char *cause_msg) {
  char msg[2048];
  char gk[320];
  if (group && *group) snprintf(gk, sizeof gk, "%s.%s", kind, group);
  else snprintf(gk, sizeof gk, "%s", kind);
  snprintf(msg, sizeof msg, "%s \"%s\" is invalid: %s: %s", gk, name ? name : "", field ? field : "",
           cause_msg ? cause_msg : "Invalid value");
  json_t *st = lc_status_new(422, "Invalid", msg, 1, name, group, kind);
  if (st) lc_status_add_cause(st, cause_reason, cause_msg, field);
  return st;
}

json_t *lc_status_bad_request(const char *message) {
  return lc_status_new(400, "BadRequest", message, 0, NULL, NULL, NULL);
}

json_t *lc_status_path_not_found(void) {
  return lc_status_new(404, "NotFound", "the server could not find the requested resource", 1, NULL,
                       NULL, NULL);
}

json_t *lc_status_method_not_allowed(const char *verb, const char *resource, const char *group) {
  char q[320], msg[512];
  lc_qualified(q, sizeof q, resource ? resource : "", group);
  snprintf(msg, sizeof msg, "%s is not supported on resources of kind \"%s\"", verb, q);
  return lc_status_new(405, "MethodNotAllowed", msg, 1, NULL, group, resource);
}

json_t *lc_status_unsupported_media(void) {
  return lc_status_new(415, "UnsupportedMediaType", "415: Unsupported Media Type", 1, NULL, NULL, NULL);
}

json_t *lc_status_too_large(void) {
  return lc_status_new(413, "RequestEntityTooLarge",
                       "Request entity too large: limit is 3145728", 0, NULL, NULL, NULL);
}

json_t *lc_status_expired(const char *message) {
  return lc_status_new(410, "Expired", message, 0, NULL, NULL, NULL);
}

json_t *lc_status_internal(const char *message) {
  return lc_status_new(500, "InternalError", message, 0, NULL, NULL, NULL);
}

char *lc_status_dump(const json_t *status) {
  return json_dumps(status, JSON_COMPACT | JSON_PRESERVE_ORDER);
}
