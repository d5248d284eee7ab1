/* crd_schema.h — the subset of CRD structural-schema handling a 1.20 server applies to custom
 * resources on create/update: type checks (incl. x-kubernetes-int-or-string, nullable), enum,
 * required, minimum/maximum, minLength/maxLength, pattern, minItems/maxItems, defaults, and
 * pruning of fields the schema does not declare (unless x-kubernetes-preserve-unknown-fields or
 * additionalProperties allow them). Formats are not checked. Pure. */
#ifndef LAHAR_LC_CRD_SCHEMA_H
#define LAHAR_LC_CRD_SCHEMA_H

#include <jansson.h>

#include "localcluster/registry.h"

/* Validates obj against t->schema (no-op without a schema) and prunes unknown fields in place.
 * Returns NULL when valid, else a 422 Invalid Status (new reference) naming the first problems. */
json_t *lc_crd_validate(const lc_rtype *t, json_t *obj);

/* Sets the schema's defaults on absent fields of obj (no-op without a schema). */
void lc_crd_default(const lc_rtype *t, json_t *obj);

#endif
