/* proto.h — decodes Kubernetes protobuf request bodies (Content-Type
 * application/vnd.kubernetes.protobuf) into the JSON objects the rest of the local cluster works
 * on. Pure: no I/O, no globals.
 *
 * Wire format: the 4 bytes "k8s\0", then a runtime.Unknown message
 *   { typeMeta = 1 { apiVersion = 1, kind = 2 }, raw = 2, contentEncoding = 3, contentType = 4 }
 * whose raw bytes are the typed message (gogo-generated proto2, field numbers from k8s.io/api's
 * generated.proto). The typed message is decoded by a static schema table per kind; fields lahar
 * does not know are skipped by wire type. Kinds decoded: v1 Namespace, ConfigMap, Secret,
 * ServiceAccount, Service, ResourceQuota, Event, Binding, DeleteOptions (also meta.k8s.io/v1), and
 * coordination.k8s.io/v1 Lease. Other kinds are refused (the caller answers 415), never guessed.
 *
 * JSON produced follows the API's JSON conventions: fields Go declares as pointers (e.g.
 * automountServiceAccountToken, gracePeriodSeconds) appear whenever present on the wire; plain
 * fields are omitted when they hold the zero value (gogo always writes them), like omitempty;
 * []byte values are base64; Quantity is its string; Time/MicroTime are RFC 3339. */
#ifndef LAHAR_LC_PROTO_H
#define LAHAR_LC_PROTO_H

#include <jansson.h>
#include <stddef.h>

#define LC_PROTO_EINVAL -1   /* malformed input (400) */
#define LC_PROTO_EKIND -2    /* well-formed envelope, kind lahar cannot decode (415) */
#define LC_PROTO_ENOMEM -3

/* 1 when a Content-Type header value names the Kubernetes protobuf encoding. */
int lc_proto_is_content_type(const char *ct);

/* Decodes a framed body into a new JSON object with "kind" and "apiVersion" first. Returns 0 and
 * *out (new reference), or a LC_PROTO_E* code with a message in err (always NUL-terminated). */
int lc_proto_decode(const unsigned char *buf, size_t len, json_t **out, char *err, size_t errsz);

#endif
