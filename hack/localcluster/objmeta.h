/* objmeta.h — per-kind defaulting and validation of built-in objects (the parts of the real
 * server's registry strategies that clients observe), plus time/uid helpers. */
#ifndef LAHAR_LC_OBJMETA_H
#define LAHAR_LC_OBJMETA_H

#include <jansson.h>

#include "localcluster/registry.h"

/* Applies creation defaults for built-in kinds (pods: restartPolicy, dnsPolicy, schedulerName,
 * tolerations, container defaults, status.phase Pending + qosClass; namespaces: spec.finalizers
 * ["kubernetes"], status.phase Active; services: type ClusterIP, sessionAffinity None). */
void lc_defaults_create(const lc_rtype *t, json_t *obj);

/* Validates a built-in object. Returns NULL when valid, else a 422 Status (new reference). */
json_t *lc_validate_builtin(const lc_rtype *t, const json_t *obj);

/* Secrets: merges stringData into data (base64) and drops stringData, as the real server does
 * on create and update. */
void lc_secret_fold_string_data(json_t *secret);

/* Pod QoS class of a pod spec: "Guaranteed", "Burstable" or "BestEffort". */
const char *lc_pod_qos(const json_t *spec);

/* ---- stored text without a jansson tree (the DELETE fast path) ----
 * A plain DELETE (no finalizers, no grace period) needs only a few metadata fields of the stored
 * object and, for pods, the same text with two metadata members added. Reading those from the
 * text instead of parsing and re-serialising the whole object roughly halves the server's work
 * per delete. Both functions accept any bytes: text that is not valid JSON or whose shape is
 * unusual (a non-object metadata, a non-array finalizers, an over-long uid) is reported as -1 and
 * the caller takes the jansson path, which gives the authoritative answer. */

/* What obj_delete (api.c) decides a DELETE by, read from a stored object's text. */
typedef struct lc_del_facts {
  char uid[64];              /* metadata.uid, "" when absent */
  int has_uid;               /* metadata.uid is a string */
  size_t finalizers;         /* elements of metadata.finalizers (absent: 0) */
  int terminating;           /* metadata.deletionTimestamp present (any value) */
  int has_del_grace;         /* metadata.deletionGracePeriodSeconds is an integer */
  int64_t del_grace;
  int bound;                 /* spec.nodeName is a non-empty string */
  int finished;              /* status.phase is "Succeeded" or "Failed" */
  int has_term_grace;        /* spec.terminationGracePeriodSeconds is an integer >= 0 */
  int64_t term_grace;
} lc_del_facts;

/* Fills *f from the object text json[0..len). Returns 0, or -1 (invalid JSON, root or metadata not
 * an object, finalizers present but not an array, uid not a string or longer than 63 bytes). */
int lc_del_facts_scan(const char *json, size_t len, lc_del_facts *f);

/* The same text with metadata.deletionTimestamp = now and metadata.deletionGracePeriodSeconds = 0
 * added where absent (appended at the end of metadata, as jansson's json_object_set_new on the
 * parsed object followed by a compact dump would): byte-identical to that jansson round trip
 * for text jansson wrote compactly. Returns a malloc'd NUL-terminated string and *outlen, or NULL
 * (invalid JSON, metadata missing or not an object, out of memory). now must need no JSON
 * escaping (an RFC 3339 time). */
char *lc_add_deletion_stamps(const char *json, size_t len, const char *now, size_t *outlen);

#endif
