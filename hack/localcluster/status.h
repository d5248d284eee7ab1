/* status.h — builds metav1.Status objects, the body of every error (and of a few successes) the
 * local cluster returns, in the exact shape a kube-apiserver 1.20 produces:
 *   {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":...,
 *    "reason":...,"details":{"name":...,"group":...,"kind":...,"causes":[...]},"code":N}
 * Messages follow the real server's wording (e.g. `pods "x" not found`,
 * `queues.scheduling.volcano.sh "q" already exists`), because clients (kubectl, client-go)
 * show them to people and some match on reason/code. Pure: no I/O. */
#ifndef LAHAR_LC_STATUS_H
#define LAHAR_LC_STATUS_H

#include <jansson.h>

/* A new Status. reason may be NULL (no "reason" key), message may be NULL. details is added
 * only when with_details is non-zero (an empty {} when name/kind/group are all NULL).
 * Returns a new reference or NULL on allocation failure. */
json_t *lc_status_new(int code, const char *reason, const char *message, int with_details,
                      const char *name, const char *group, const char *kind);

/* {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","code":code} (with
 * details when name/kind are given, as the DELETE of a finalized object answers). */
json_t *lc_status_success(int code, const char *name, const char *group, const char *kind);

/* Appends {"reason","message","field"} to details.causes (creating it). Returns 0 or -1. */
int lc_status_add_cause(json_t *status, const char *reason, const char *message, const char *field);

/* "pods" or "queues.scheduling.volcano.sh": the qualified resource the real messages use. */
void lc_qualified(char *out, size_t outsz, const char *resource, const char *group);

/* Common errors, each a new reference. resource is the plural, group "" for core. */
json_t *lc_status_not_found(const char *resource, const char *group, const char *name);
json_t *lc_status_already_exists(const char *resource, const char *group, const char *name);
json_t *lc_status_conflict(const char *resource, const char *group, const char *name, const char *why);
/* 422: kind is the Kind ("Pod"); field/cause_reason/cause_msg describe the first cause. */
json_t *lc_status_invalid(const char *kind, const char *group, const char *name,
                          const char *field, const char *cause_reason, const char *cause_msg);
json_t *lc_status_bad_request(const char *message);
json_t *lc_status_path_not_found(void);     /* "the server could not find the requested resource" */
json_t *lc_status_method_not_allowed(const char *verb, const char *resource, const char *group);
json_t *lc_status_unsupported_media(void);  /* "415: Unsupported Media Type" */
json_t *lc_status_too_large(void);          /* 413 RequestEntityTooLarge */
json_t *lc_status_expired(const char *message); /* 410 Expired */
json_t *lc_status_internal(const char *message);

/* Serialises compactly; the caller frees. NULL on allocation failure. */
char *lc_status_dump(const json_t *status);

#endif
