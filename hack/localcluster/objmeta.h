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

#endif
