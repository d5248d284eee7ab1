/* selector.h — Kubernetes label and field selectors for the local cluster's list/watch filters.
 *
 * Label selectors are parsed exactly like k8s.io/apimachinery/pkg/labels.Parse:
 *   key=value  key==value  key!=value  key in (v1,v2)  key notin (v1)  key  !key
 * comma = AND, whitespace around tokens tolerated, keys validated as qualified names
 * ([prefix/]name, name <= 63 chars, prefix a DNS subdomain <= 253), values as label values
 * (<= 63 chars, [A-Za-z0-9] at both ends, -_. inside, may be empty). "" selects everything.
 * Semantics: `a!=b` and `a notin (..)` also match objects WITHOUT label a (like Kubernetes).
 *
 * Field selectors: `field=value`, `field==value`, `field!=value`, comma = AND. Which fields are
 * allowed depends on the resource (the apiserver's field label conversion functions):
 *   every resource: metadata.name, metadata.namespace
 *   pods: spec.nodeName, spec.restartPolicy, spec.schedulerName, spec.serviceAccountName,
 *         spec.hostNetwork, status.phase, status.podIP, status.nominatedNodeName
 *   nodes: spec.unschedulable; namespaces: status.phase; secrets: type;
 *   events: involvedObject.{kind,namespace,name,uid,apiVersion,resourceVersion,fieldPath},
 *           reason, reportingComponent, source, type
 *   replicasets/replicationcontrollers: status.replicas; jobs: status.successful
 * anything else → error "field label not supported: <field>" (the server's 400 BadRequest text).
 * With LH_FIELDSEL_ANY_PATH any dotted path is accepted (custom resources' selectableFields).
 * A missing field compares as "" (so `spec.nodeName=` selects unscheduled pods); booleans compare
 * as "true"/"false", numbers by their decimal text.
 *
 * Ownership: compiled selectors are opaque, owned by the caller, freed with the *_free functions
 * (which accept NULL). Match functions only read the JSON they are given. */
#ifndef LAHAR_LOCALCLUSTER_SELECTOR_H
#define LAHAR_LOCALCLUSTER_SELECTOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define LH_SEL_OK 0
#define LH_SEL_EINVAL -1 /* syntax or validation error; message in err */
#define LH_SEL_ENOMEM -2

/* ---- label selectors ------------------------------------------------------------------------ */
typedef struct lh_label_selector lh_label_selector;

/* Parses a label selector string (the labelSelector query parameter). NULL or "" (or only
 * whitespace) → a selector matching everything. On error returns LH_SEL_EINVAL with a message
 * like `unable to parse requirement: ...` / `invalid label value: "..."` in err, *out = NULL. */
int lh_label_selector_parse(const char *text, lh_label_selector **out, char *err, size_t errlen);

/* Compiles a metav1.LabelSelector JSON object {"matchLabels":{..},"matchExpressions":[{key,operator,
 * values}]} (operators In, NotIn, Exists, DoesNotExist). Like metav1.LabelSelectorAsSelector:
 * sel == NULL or JSON null → matches NOTHING; {} → matches everything. Validation errors as above. */
int lh_label_selector_from_json(const json_t *sel, lh_label_selector **out, char *err, size_t errlen);

/* Does the selector match these labels? labels is a JSON object of string values, or NULL / not an
 * object (= no labels). */
bool lh_label_selector_matches(const lh_label_selector *sel, const json_t *labels);
/* Convenience: matches obj.metadata.labels. */
bool lh_label_selector_matches_object(const lh_label_selector *sel, const json_t *obj);
/* True when the selector matches every label set (parsed from "" or {}). */
bool lh_label_selector_is_everything(const lh_label_selector *sel);
/* True for the selector compiled from a NULL / JSON-null LabelSelector (matches no label set). */
bool lh_label_selector_is_nothing(const lh_label_selector *sel);
/* Canonical text (requirements sorted by key, like labels.Selector.String()); malloc'd, caller
 * frees; NULL on ENOMEM. Everything → "", nothing → "<none>" (never parseable back). */
char *lh_label_selector_string(const lh_label_selector *sel);
void lh_label_selector_free(lh_label_selector *sel);

/* ---- field selectors ------------------------------------------------------------------------ */
typedef struct lh_field_selector lh_field_selector;

#define LH_FIELDSEL_ANY_PATH 1 /* accept any dotted path (no per-resource allow-list) */

/* Parses a field selector for resource (the store key: "pods", "apps/replicasets",
 * "scheduling.volcano.sh/queues"; the part after the last '/' is used for the allow-list).
 * NULL/"" → everything. Errors: LH_SEL_EINVAL with "field label not supported: <field>" or a
 * syntax message. */
int lh_field_selector_parse(const char *text, const char *resource, int flags,
                            lh_field_selector **out, char *err, size_t errlen);
bool lh_field_selector_matches(const lh_field_selector *sel, const json_t *obj);
bool lh_field_selector_is_everything(const lh_field_selector *sel);
/* If the selector requires field == value (via = or ==), returns that value (borrowed from sel),
 * else NULL. Lets the server narrow e.g. metadata.name=x to a single get. */
const char *lh_field_selector_required(const lh_field_selector *sel, const char *field);
void lh_field_selector_free(lh_field_selector *sel);

/* ---- validation helpers (also used by the server for metadata.labels) ------------------------- */
/* 0 if valid; else LH_SEL_EINVAL and a message in err (may be NULL). */
int lh_label_key_validate(const char *key, char *err, size_t errlen);
int lh_label_value_validate(const char *value, char *err, size_t errlen);

#endif
