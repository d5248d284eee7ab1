/* table.h — server-side printing: meta.k8s.io Table responses (what `kubectl get` asks for with
 * `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`). Columns and cells follow a 1.20
 * apiserver's printers for the built-in kinds lahar serves (pods, nodes, namespaces, configmaps,
 * secrets, services, serviceaccounts, events, leases, resourcequotas; CRDs get the default
 * Name / Created At), and a CRD version's additionalPrinterColumns (JSONPath subset) for custom
 * resources. The server always fills every column (like Wide: true); kubectl hides priority > 0
 * columns unless -o wide. Pure: no I/O (the caller passes "now"). */
#ifndef LAHAR_LC_TABLE_H
#define LAHAR_LC_TABLE_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "localcluster/registry.h"

/* includeObject query parameter values */
#define LC_INCLUDE_METADATA 0 /* default: rows carry PartialObjectMetadata */
#define LC_INCLUDE_OBJECT 1
#define LC_INCLUDE_NONE 2

/* What an Accept header asks for: 0 plain JSON, 1 Table meta.k8s.io/v1, 2 Table meta.k8s.io/v1beta1.
 * Media types are tried in order; the first one lahar can produce wins (protobuf, which lahar
 * does not produce, is skipped), so a Table accept listed before application/json wins. */
int lc_table_accept(const char *accept);
/* "Object" / "Metadata" / "None" ("" = Metadata) → LC_INCLUDE_*, or -1 when unknown. */
int lc_table_include_parse(const char *v);

/* The column definitions of t (new reference, NULL on ENOMEM). */
json_t *lc_table_columns(const lc_rtype *t);
/* One row {"cells":[...],"object":...} for obj (new reference, NULL on ENOMEM). */
json_t *lc_table_row(const lc_rtype *t, const json_t *obj, int include, time_t now);
/* An empty Table of apiVersion meta.k8s.io/v1 (version 1) or v1beta1 (2) with "metadata":{} and,
 * when with_columns, the column definitions; "rows":[] to be filled. New reference or NULL. */
json_t *lc_table_new(const lc_rtype *t, int version, int with_columns);

/* k8s.io/apimachinery/pkg/util/duration.HumanDuration of secs ("45s", "3m20s", "5h", "12d"...). */
void lc_human_duration(long long secs, char *out, size_t outsz);
/* Age cell of an RFC 3339 timestamp: HumanDuration(now - ts), "<unknown>" when absent,
 * "<invalid>" when it does not parse. */
void lc_table_age(const char *ts, time_t now, char *out, size_t outsz);
/* RFC 3339 → time_t; -1 when it does not parse. */
time_t lc_parse_rfc3339(const char *s);

/* First value a JSONPath selects in root (borrowed), or NULL. Supported: ".a.b", ".a[0].b",
 * ".a[*].b", ".a['x.y']", optionally wrapped in "{...}". */
const json_t *lc_jsonpath_first(const json_t *root, const char *path);

#endif
