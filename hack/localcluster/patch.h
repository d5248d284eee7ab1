/* patch.h — the three PATCH flavours of the Kubernetes API on jansson values.
 *
 *   application/merge-patch+json            JSON merge patch, RFC 7386        (patch_merge.c)
 *   application/json-patch+json             JSON patch, RFC 6902              (patch_json.c)
 *   application/strategic-merge-patch+json  strategic merge patch             (patch_strategic.c)
 *                                           (built-in kinds only; custom resources get 415)
 *   application/apply-patch+yaml            server-side apply: NOT supported (LH_PATCH_EUNSUPPORTED)
 *
 * All functions leave the input document untouched and produce a NEW document (*out, a new
 * reference the caller json_decref()s). On failure *out is NULL, nothing leaks, and err holds a
 * human-readable message (err may be NULL; messages are truncated to errlen). Malformed patches
 * (wrong types, bad pointers, huge indices, deep nesting) are reported, never crash.
 *
 * Error codes and the HTTP status the server should use:
 *   LH_PATCH_EINVAL       malformed patch document (400 BadRequest)
 *   LH_PATCH_EPATH        a JSON-patch path/from does not exist or is not addressable, or the
 *                         strategic patch does not fit the document (422 Invalid / 500 in k8s:
 *                         we suggest 422)
 *   LH_PATCH_ETEST        a JSON-patch "test" operation failed (422)
 *   LH_PATCH_EUNSUPPORTED patch type not supported for this resource (415 UnsupportedMediaType)
 *   LH_PATCH_ENOMEM
 */
#ifndef LAHAR_LOCALCLUSTER_PATCH_H
#define LAHAR_LOCALCLUSTER_PATCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define LH_PATCH_OK 0
#define LH_PATCH_EINVAL -1
#define LH_PATCH_EPATH -2
#define LH_PATCH_ETEST -3
#define LH_PATCH_EUNSUPPORTED -4
#define LH_PATCH_ENOMEM -5

typedef enum {
  LH_PATCH_UNKNOWN = 0,
  LH_PATCH_JSON,      /* application/json-patch+json */
  LH_PATCH_MERGE,     /* application/merge-patch+json */
  LH_PATCH_STRATEGIC, /* application/strategic-merge-patch+json */
  LH_PATCH_APPLY,     /* application/apply-patch+yaml (server-side apply; unsupported) */
} lh_patch_type;

/* Maps a Content-Type header value (parameters such as "; charset=utf-8" ignored, case-insensitive)
 * to a patch type; LH_PATCH_UNKNOWN for anything else (the server answers 415). */
lh_patch_type lh_patch_type_from_content_type(const char *content_type);

/* RFC 7386: applies merge patch to doc (doc may be NULL = absent). Cannot fail except ENOMEM;
 * a non-object patch replaces the document. */
int lh_patch_merge(const json_t *doc, const json_t *patch, json_t **out, char *err, size_t errlen);

/* lh_patch_merge without copying: *out equals lh_patch_merge's result, but only the objects on
 * the patched paths are new (shallow copies); every other value is SHARED with doc or patch
 * (reference counted). For a caller that changes *out only by replacing members of those new
 * objects (never inside a shared value) and leaves doc and patch unchanged while *out lives:
 * a status update of a large object then costs the size of the patch, not of the object. */
int lh_patch_merge_shared(const json_t *doc, const json_t *patch, json_t **out, char *err, size_t errlen);
/* RFC 6902: patch must be an array of operation objects. Atomic: any failing operation → error and
 * no result. Errors: EINVAL (not an array, unknown op, missing/ill-typed member, bad pointer
 * syntax), EPATH (path missing, index out of range, move into own child), ETEST (test failed). */
int lh_patch_json(const json_t *doc, const json_t *patch, json_t **out, char *err, size_t errlen);

/* Does `resource` (the store key: "pods", "apps/deployments", "scheduling.volcano.sh/queues")
 * support strategic merge patch? True for built-in API groups (core, apps, batch, policy, rbac,
 * coordination, scheduling.k8s.io, storage, networking, ...), false for custom resources. */
bool lh_patch_strategic_supported(const char *resource);

/* Strategic merge patch as kubectl apply/edit/label/annotate/patch send them, for a built-in
 * kind. Handles: recursive map merge, null deletes, lists merged by patchMergeKey from the
 * core/v1 + apps/v1 + batch/v1 patchStrategy tags (e.g. pod spec.containers by name,
 * containers[].ports by containerPort, env by name, volumeMounts by mountPath, volumes by name,
 * status.conditions by type, metadata.ownerReferences by uid, metadata.finalizers as a merged
 * primitive list, service spec.ports by port), all other lists replaced wholesale, and the
 * directives $patch: replace|delete|merge, $retainKeys, $deleteFromPrimitiveList/<field>,
 * $setElementOrder/<field>. Returns EUNSUPPORTED for custom resources, EINVAL for a malformed
 * patch (patch not an object, bad directive, merge-key list element without its key, ...). */
int lh_patch_strategic(const char *resource, const json_t *doc, const json_t *patch, json_t **out,
                       char *err, size_t errlen);

/* Dispatch by type (resource only matters for STRATEGIC). APPLY/UNKNOWN → EUNSUPPORTED. */
int lh_patch_apply(lh_patch_type type, const char *resource, const json_t *doc, const json_t *patch,
                   json_t **out, char *err, size_t errlen);

#endif
