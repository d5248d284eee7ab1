/* proto.c — Kubernetes protobuf request bodies → JSON (see proto.h).
 *
 * Sections: wire primitives (bounded varints, length checks) · value conversions (base64,
 * Time, Quantity, IntOrString) · schema tables (field numbers from k8s.io/api and
 * k8s.io/apimachinery generated.proto) · the table-driven decoder · the envelope. */
#include "localcluster/proto.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_DEPTH 32

/* ---- wire primitives ----------------------------------------------------------------------- */

typedef struct rd {
  const unsigned char *p, *end, *base;
  char *err;
  size_t errsz;
} rd;

static int fail(rd *r, const char *what) {
  snprintf(r->err, r->errsz, "protobuf: %s at byte %zu", what, (size_t)(r->p - r->base));
  return LC_PROTO_EINVAL;
}

/* At most 10 bytes; the 10th may only carry the top bit. */
static int varint(rd *r, uint64_t *v) {
  uint64_t x = 0;
  for (int i = 0; i < 10; i++) {
    if (r->p >= r->end) return fail(r, "truncated varint");
    unsigned b = *r->p++;
    if (i == 9 && b > 1) return fail(r, "varint overflows 64 bits");
    x |= (uint64_t)(b & 0x7f) << (7 * i);
    if (!(b & 0x80)) {
      *v = x;
      return 0;
    }
  }
  return fail(r, "varint longer than 10 bytes");
}

/* Reads a length prefix and returns the bytes it covers. */
static int lenbytes(rd *r, const unsigned char **b, size_t *n) {
  uint64_t l;
  int rc = varint(r, &l);
  if (rc) return rc;
  if (l > (uint64_t)(r->end - r->p)) return fail(r, "length past end of message");
  *b = r->p;
  *n = (size_t)l;
  r->p += l;
  return 0;
}

/* Skips a field of an unknown number. Groups (wire types 3, 4) are not used by Kubernetes. */
static int skip(rd *r, unsigned wt) {
  uint64_t v;
  const unsigned char *b;
  size_t n;
  switch (wt) {
  case 0: return varint(r, &v);
  case 1:
    if (r->end - r->p < 8) return fail(r, "truncated fixed64");
    r->p += 8;
    return 0;
  case 2: return lenbytes(r, &b, &n);
  case 5:
    if (r->end - r->p < 4) return fail(r, "truncated fixed32");
    r->p += 4;
    return 0;
  default: return fail(r, "unsupported wire type");
  }
}

/* ---- value conversions ----------------------------------------------------------------------- */

static json_t *b64(const unsigned char *s, size_t n) {
  static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t outn = 4 * ((n + 2) / 3);
  char *o = malloc(outn + 1);
  if (!o) return NULL;
  size_t j = 0;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)s[i] << 16;
    if (i + 1 < n) v |= (uint32_t)s[i + 1] << 8;
    if (i + 2 < n) v |= s[i + 2];
    o[j++] = tab[(v >> 18) & 63];
    o[j++] = tab[(v >> 12) & 63];
    o[j++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
    o[j++] = i + 2 < n ? tab[v & 63] : '=';
  }
  o[j] = 0;
  json_t *r = json_stringn(o, j);
  free(o);
  return r;
}

static int str_value(rd *r, const unsigned char *b, size_t n, json_t **out) {
  *out = json_stringn((const char *)b, n);
  if (!*out) return fail(r, "string is not valid UTF-8");
  return 0;
}

/* Time {seconds = 1, nanos = 2} / MicroTime (same fields). *out NULL for the zero time. */
static int time_value(rd *r, const unsigned char *b, size_t n, int micro, json_t **out) {
  rd s = {b, b + n, r->base, r->err, r->errsz};
  int64_t sec = 0, nanos = 0;
  while (s.p < s.end) {
    uint64_t key, v;
    int rc = varint(&s, &key);
    if (rc) return rc;
    if ((key >> 3) == 1 && (key & 7) == 0) rc = varint(&s, &v), sec = (int64_t)v;
    else if ((key >> 3) == 2 && (key & 7) == 0) rc = varint(&s, &v), nanos = (int64_t)v;
    else rc = skip(&s, (unsigned)(key & 7));
    if (rc) return rc;
  }
  *out = NULL;
  if (!sec && !nanos) return 0;
  if (sec < -62135596800LL || sec > 253402300799LL || nanos < 0 || nanos > 999999999)
    return fail(r, "time out of range");
  time_t t = (time_t)sec;
  struct tm tm;
  if (!gmtime_r(&t, &tm)) return fail(r, "time out of range");
  char buf[64];
  size_t k = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  if (micro) snprintf(buf + k, sizeof buf - k, ".%06dZ", (int)(nanos / 1000));
  else snprintf(buf + k, sizeof buf - k, "Z");
  *out = json_string(buf);
  return *out ? 0 : LC_PROTO_ENOMEM;
}

/* Quantity {string = 1}. */
static int qty_value(rd *r, const unsigned char *b, size_t n, json_t **out) {
  rd s = {b, b + n, r->base, r->err, r->errsz};
  *out = NULL;
  while (s.p < s.end) {
    uint64_t key;
    int rc = varint(&s, &key);
    if (rc) return rc;
    if (key == ((1 << 3) | 2)) {
      const unsigned char *q;
      size_t qn;
      if ((rc = lenbytes(&s, &q, &qn))) return rc;
      json_decref(*out);
      if ((rc = str_value(&s, q, qn, out))) return rc;
    } else if ((rc = skip(&s, (unsigned)(key & 7)))) {
      return rc;
    }
  }
  if (!*out) *out = json_string("0");
  return *out ? 0 : LC_PROTO_ENOMEM;
}

/* IntOrString {type = 1 (0 int, 1 string), intVal = 2, strVal = 3}. */
static int ios_value(rd *r, const unsigned char *b, size_t n, json_t **out) {
  rd s = {b, b + n, r->base, r->err, r->errsz};
  uint64_t type = 0, iv = 0;
  const unsigned char *sv = (const unsigned char *)"";
  size_t svn = 0;
  while (s.p < s.end) {
    uint64_t key;
    int rc = varint(&s, &key);
    if (rc) return rc;
    if (key == ((1 << 3) | 0)) rc = varint(&s, &type);
    else if (key == ((2 << 3) | 0)) rc = varint(&s, &iv);
    else if (key == ((3 << 3) | 2)) rc = lenbytes(&s, &sv, &svn);
    else rc = skip(&s, (unsigned)(key & 7));
    if (rc) return rc;
  }
  if (type == 1) return str_value(r, sv, svn, out);
  *out = json_integer((json_int_t)(int32_t)(uint32_t)iv);
  return *out ? 0 : LC_PROTO_ENOMEM;
}

/* ---- schema tables --------------------------------------------------------------------------- */

enum {
  T_STR = 1, /* string */
  T_BYTES,   /* []byte → base64 */
  T_INT,     /* int32/int64 varint */
  T_BOOL,
  T_MSG,     /* nested message (sub) */
  T_TIME,    /* metav1.Time */
  T_MTIME,   /* metav1.MicroTime */
  T_QTY,     /* resource.Quantity */
  T_IOS,     /* intstr.IntOrString */
  T_RAWJSON, /* bytes holding JSON (FieldsV1) → embedded value */
  T_MAP_SS,  /* map<string,string> */
  T_MAP_SB,  /* map<string,bytes> (base64 values) */
  T_MAP_SQ,  /* map<string,Quantity> */
};
#define TYPE_MASK 0xff
#define F_REP 0x100  /* repeated: a JSON array */
#define F_PTR 0x200  /* Go pointer: emit whenever present, zero values included */
#define F_KEEP 0x400 /* no omitempty in Go: emit the zero value too */

typedef struct pb_msg pb_msg;
typedef struct pb_field {
  uint32_t num;
  const char *name;
  unsigned type; /* T_* | F_* */
  const pb_msg *sub;
} pb_field;
struct pb_msg {
  const char *name;
  const pb_field *f; /* terminated by num 0 */
};

#define MSG(id, ...)                                          \
  static const pb_field id##_f[] = {__VA_ARGS__, {0, 0, 0, 0}}; \
  static const pb_msg id = {#id, id##_f}

/* k8s.io/apimachinery/pkg/apis/meta/v1 */
MSG(m_ownerref, {1, "kind", T_STR, 0}, {3, "name", T_STR, 0}, {4, "uid", T_STR, 0},
    {5, "apiVersion", T_STR, 0}, {6, "controller", T_BOOL | F_PTR, 0},
    {7, "blockOwnerDeletion", T_BOOL | F_PTR, 0});
MSG(m_fieldsv1, {1, "raw", T_RAWJSON, 0});
MSG(m_managed, {1, "manager", T_STR, 0}, {2, "operation", T_STR, 0}, {3, "apiVersion", T_STR, 0},
    {4, "time", T_TIME | F_PTR, 0}, {6, "fieldsType", T_STR, 0}, {7, "fieldsV1", T_MSG | F_PTR, &m_fieldsv1},
    {8, "subresource", T_STR, 0});
MSG(m_objmeta, {1, "name", T_STR, 0}, {2, "generateName", T_STR, 0}, {3, "namespace", T_STR, 0},
    {4, "selfLink", T_STR, 0}, {5, "uid", T_STR, 0}, {6, "resourceVersion", T_STR, 0},
    {7, "generation", T_INT, 0}, {8, "creationTimestamp", T_TIME, 0},
    {9, "deletionTimestamp", T_TIME | F_PTR, 0}, {10, "deletionGracePeriodSeconds", T_INT | F_PTR, 0},
    {11, "labels", T_MAP_SS, 0}, {12, "annotations", T_MAP_SS, 0},
    {13, "ownerReferences", T_MSG | F_REP, &m_ownerref}, {14, "finalizers", T_STR | F_REP, 0},
    {17, "managedFields", T_MSG | F_REP, &m_managed});
MSG(m_condition, {1, "type", T_STR, 0}, {2, "status", T_STR, 0}, {3, "observedGeneration", T_INT, 0},
    {4, "lastTransitionTime", T_TIME, 0}, {5, "reason", T_STR, 0}, {6, "message", T_STR, 0});
MSG(m_precond, {1, "uid", T_STR | F_PTR, 0}, {2, "resourceVersion", T_STR | F_PTR, 0});
MSG(m_deleteopts, {1, "gracePeriodSeconds", T_INT | F_PTR, 0}, {2, "preconditions", T_MSG | F_PTR, &m_precond},
    {3, "orphanDependents", T_BOOL | F_PTR, 0}, {4, "propagationPolicy", T_STR | F_PTR, 0},
    {5, "dryRun", T_STR | F_REP, 0});

/* k8s.io/api/core/v1 */
MSG(m_objref, {1, "kind", T_STR, 0}, {2, "namespace", T_STR, 0}, {3, "name", T_STR, 0}, {4, "uid", T_STR, 0},
    {5, "apiVersion", T_STR, 0}, {6, "resourceVersion", T_STR, 0}, {7, "fieldPath", T_STR, 0});
MSG(m_localref, {1, "name", T_STR, 0});
MSG(m_ns_spec, {1, "finalizers", T_STR | F_REP, 0});
MSG(m_ns_cond, {1, "type", T_STR, 0}, {2, "status", T_STR, 0}, {4, "lastTransitionTime", T_TIME, 0},
    {5, "reason", T_STR, 0}, {6, "message", T_STR, 0});
MSG(m_ns_status, {1, "phase", T_STR, 0}, {2, "conditions", T_MSG | F_REP, &m_ns_cond});
MSG(m_namespace, {1, "metadata", T_MSG, &m_objmeta}, {2, "spec", T_MSG, &m_ns_spec},
    {3, "status", T_MSG, &m_ns_status});
MSG(m_configmap, {1, "metadata", T_MSG, &m_objmeta}, {2, "data", T_MAP_SS, 0}, {3, "binaryData", T_MAP_SB, 0},
    {4, "immutable", T_BOOL | F_PTR, 0});
MSG(m_secret, {1, "metadata", T_MSG, &m_objmeta}, {2, "data", T_MAP_SB, 0}, {3, "type", T_STR, 0},
    {4, "stringData", T_MAP_SS, 0}, {5, "immutable", T_BOOL | F_PTR, 0});
MSG(m_serviceaccount, {1, "metadata", T_MSG, &m_objmeta}, {2, "secrets", T_MSG | F_REP, &m_objref},
    {3, "imagePullSecrets", T_MSG | F_REP, &m_localref}, {4, "automountServiceAccountToken", T_BOOL | F_PTR, 0});
MSG(m_svc_port, {1, "name", T_STR, 0}, {2, "protocol", T_STR, 0}, {3, "port", T_INT | F_KEEP, 0},
    {4, "targetPort", T_IOS, 0}, {5, "nodePort", T_INT, 0}, {6, "appProtocol", T_STR | F_PTR, 0});
MSG(m_clientip, {1, "timeoutSeconds", T_INT | F_PTR, 0});
MSG(m_affinitycfg, {1, "clientIP", T_MSG | F_PTR, &m_clientip});
MSG(m_svc_spec, {1, "ports", T_MSG | F_REP, &m_svc_port}, {2, "selector", T_MAP_SS, 0}, {3, "clusterIP", T_STR, 0},
    {4, "type", T_STR, 0}, {5, "externalIPs", T_STR | F_REP, 0}, {7, "sessionAffinity", T_STR, 0},
    {8, "loadBalancerIP", T_STR, 0}, {9, "loadBalancerSourceRanges", T_STR | F_REP, 0},
    {10, "externalName", T_STR, 0}, {11, "externalTrafficPolicy", T_STR, 0},
    {12, "healthCheckNodePort", T_INT, 0}, {13, "publishNotReadyAddresses", T_BOOL, 0},
    {14, "sessionAffinityConfig", T_MSG | F_PTR, &m_affinitycfg}, {16, "topologyKeys", T_STR | F_REP, 0},
    {17, "ipFamilyPolicy", T_STR | F_PTR, 0}, {18, "clusterIPs", T_STR | F_REP, 0},
    {19, "ipFamilies", T_STR | F_REP, 0}, {20, "allocateLoadBalancerNodePorts", T_BOOL | F_PTR, 0},
    {21, "loadBalancerClass", T_STR | F_PTR, 0}, {22, "internalTrafficPolicy", T_STR | F_PTR, 0});
MSG(m_lb_ingress, {1, "ip", T_STR, 0}, {2, "hostname", T_STR, 0});
MSG(m_lb_status, {1, "ingress", T_MSG | F_REP, &m_lb_ingress});
MSG(m_svc_status, {1, "loadBalancer", T_MSG, &m_lb_status}, {2, "conditions", T_MSG | F_REP, &m_condition});
MSG(m_service, {1, "metadata", T_MSG, &m_objmeta}, {2, "spec", T_MSG, &m_svc_spec},
    {3, "status", T_MSG, &m_svc_status});
MSG(m_scope_req, {1, "scopeName", T_STR, 0}, {2, "operator", T_STR, 0}, {3, "values", T_STR | F_REP, 0});
MSG(m_scope_sel, {1, "matchExpressions", T_MSG | F_REP, &m_scope_req});
MSG(m_rq_spec, {1, "hard", T_MAP_SQ, 0}, {2, "scopes", T_STR | F_REP, 0},
    {3, "scopeSelector", T_MSG | F_PTR, &m_scope_sel});
MSG(m_rq_status, {1, "hard", T_MAP_SQ, 0}, {2, "used", T_MAP_SQ, 0});
MSG(m_quota, {1, "metadata", T_MSG, &m_objmeta}, {2, "spec", T_MSG, &m_rq_spec}, {3, "status", T_MSG, &m_rq_status});
MSG(m_ev_source, {1, "component", T_STR, 0}, {2, "host", T_STR, 0});
MSG(m_ev_series, {1, "count", T_INT, 0}, {2, "lastObservedTime", T_MTIME, 0});
MSG(m_event, {1, "metadata", T_MSG, &m_objmeta}, {2, "involvedObject", T_MSG | F_KEEP, &m_objref},
    {3, "reason", T_STR, 0}, {4, "message", T_STR, 0}, {5, "source", T_MSG, &m_ev_source},
    {6, "firstTimestamp", T_TIME, 0}, {7, "lastTimestamp", T_TIME, 0}, {8, "count", T_INT, 0},
    {9, "type", T_STR, 0}, {10, "eventTime", T_MTIME, 0}, {11, "series", T_MSG | F_PTR, &m_ev_series},
    {12, "action", T_STR, 0}, {13, "related", T_MSG | F_PTR, &m_objref}, {14, "reportingComponent", T_STR, 0},
    {15, "reportingInstance", T_STR, 0});
MSG(m_binding, {1, "metadata", T_MSG, &m_objmeta}, {2, "target", T_MSG | F_KEEP, &m_objref});

/* k8s.io/api/coordination/v1 */
MSG(m_lease_spec, {1, "holderIdentity", T_STR | F_PTR, 0}, {2, "leaseDurationSeconds", T_INT | F_PTR, 0},
    {3, "acquireTime", T_MTIME | F_PTR, 0}, {4, "renewTime", T_MTIME | F_PTR, 0},
    {5, "leaseTransitions", T_INT | F_PTR, 0});
MSG(m_lease, {1, "metadata", T_MSG, &m_objmeta}, {2, "spec", T_MSG, &m_lease_spec});

static const struct {
  const char *api_version, *kind;
  const pb_msg *msg;
} kinds[] = {
    {"v1", "Namespace", &m_namespace},
    {"v1", "ConfigMap", &m_configmap},
    {"v1", "Secret", &m_secret},
    {"v1", "ServiceAccount", &m_serviceaccount},
    {"v1", "Service", &m_service},
    {"v1", "ResourceQuota", &m_quota},
    {"v1", "Event", &m_event},
    {"v1", "Binding", &m_binding},
    {"v1", "DeleteOptions", &m_deleteopts},
    {"meta.k8s.io/v1", "DeleteOptions", &m_deleteopts},
    {"coordination.k8s.io/v1", "Lease", &m_lease},
};

/* ---- decoder --------------------------------------------------------------------------------- */

static int decode_msg(rd *r, const unsigned char *b, size_t n, const pb_msg *m, json_t *obj, int depth);

static int is_zero(const json_t *v) {
  switch (json_typeof(v)) {
  case JSON_STRING: return json_string_length(v) == 0;
  case JSON_INTEGER: return json_integer_value(v) == 0;
  case JSON_FALSE: return 1;
  case JSON_OBJECT: return json_object_size(v) == 0;
  case JSON_ARRAY: return json_array_size(v) == 0;
  default: return 0;
  }
}

/* Adds one map entry {key = 1, value = 2} to the object under f->name. */
static int map_entry(rd *r, const unsigned char *b, size_t n, const pb_field *f, json_t *obj) {
  rd s = {b, b + n, r->base, r->err, r->errsz};
  json_t *key = NULL, *val = NULL;
  int rc = 0;
  unsigned t = f->type & TYPE_MASK;
  while (!rc && s.p < s.end) {
    uint64_t k;
    if ((rc = varint(&s, &k))) break;
    const unsigned char *vb;
    size_t vn;
    if ((k >> 3) == 1 || (k >> 3) == 2) {
      if ((k & 7) != 2) {
        rc = fail(&s, "map entry field has the wrong wire type");
        break;
      }
      if ((rc = lenbytes(&s, &vb, &vn))) break;
      json_t *v = NULL;
      if ((k >> 3) == 1) rc = str_value(&s, vb, vn, &v);
      else if (t == T_MAP_SS) rc = str_value(&s, vb, vn, &v);
      else if (t == T_MAP_SB) rc = (v = b64(vb, vn)) ? 0 : LC_PROTO_ENOMEM;
      else rc = qty_value(&s, vb, vn, &v);
      if (rc) break;
      json_t **slot = (k >> 3) == 1 ? &key : &val;
      json_decref(*slot);
      *slot = v;
    } else {
      rc = skip(&s, (unsigned)(k & 7));
    }
  }
  if (!rc) {
    json_t *map = json_object_get(obj, f->name);
    if (!map) {
      map = json_object();
      if (!map || json_object_set_new(obj, f->name, map)) rc = LC_PROTO_ENOMEM;
    }
    if (!val) val = t == T_MAP_SQ ? json_string("0") : json_string("");
    if (!rc && (!val || json_object_set_new(map, key ? json_string_value(key) : "", val))) rc = LC_PROTO_ENOMEM;
    val = NULL;
  }
  json_decref(key);
  json_decref(val);
  return rc;
}

static const pb_field *find_field(const pb_msg *m, uint32_t num) {
  for (const pb_field *f = m->f; f->num; f++)
    if (f->num == num) return f;
  return NULL;
}

/* Decodes one known field's value from the wire into a new JSON value (*out may stay NULL for a
 * zero Time). */
static int field_value(rd *r, const pb_field *f, unsigned wt, json_t **out, int depth) {
  unsigned t = f->type & TYPE_MASK;
  *out = NULL;
  if (t == T_INT || t == T_BOOL) {
    if (wt != 0) return fail(r, "integer field has the wrong wire type");
    uint64_t v;
    int rc = varint(r, &v);
    if (rc) return rc;
    *out = t == T_BOOL ? json_boolean(v != 0) : json_integer((json_int_t)v);
    return *out ? 0 : LC_PROTO_ENOMEM;
  }
  if (wt != 2) return fail(r, "length-delimited field has the wrong wire type");
  const unsigned char *b;
  size_t n;
  int rc = lenbytes(r, &b, &n);
  if (rc) return rc;
  switch (t) {
  case T_STR: return str_value(r, b, n, out);
  case T_BYTES: return (*out = b64(b, n)) ? 0 : LC_PROTO_ENOMEM;
  case T_TIME: return time_value(r, b, n, 0, out);
  case T_MTIME: return time_value(r, b, n, 1, out);
  case T_QTY: return qty_value(r, b, n, out);
  case T_IOS: return ios_value(r, b, n, out);
  case T_RAWJSON: {
    json_error_t je;
    *out = json_loadb((const char *)b, n, JSON_DECODE_ANY, &je);
    return *out ? 0 : fail(r, "embedded JSON does not parse");
  }
  case T_MSG: {
    if (depth >= MAX_DEPTH) return fail(r, "messages nested too deeply");
    json_t *o = json_object();
    if (!o) return LC_PROTO_ENOMEM;
    rc = decode_msg(r, b, n, f->sub, o, depth + 1);
    if (rc) {
      json_decref(o);
      return rc;
    }
    *out = o;
    return 0;
  }
  default: return fail(r, "internal: bad schema type");
  }
}

static int decode_msg(rd *r, const unsigned char *b, size_t n, const pb_msg *m, json_t *obj, int depth) {
  rd s = {b, b + n, r->base, r->err, r->errsz};
  while (s.p < s.end) {
    uint64_t key;
    int rc = varint(&s, &key);
    if (rc) return rc;
    uint64_t num = key >> 3;
    unsigned wt = (unsigned)(key & 7);
    if (num == 0 || num > 536870911u) return fail(&s, "invalid field number");
    const pb_field *f = find_field(m, (uint32_t)num);
    if (!f) {
      if ((rc = skip(&s, wt))) return rc;
      continue;
    }
    unsigned t = f->type & TYPE_MASK;
    if (t == T_MAP_SS || t == T_MAP_SB || t == T_MAP_SQ) {
      if (wt != 2) return fail(&s, "map field has the wrong wire type");
      const unsigned char *eb;
      size_t en;
      if ((rc = lenbytes(&s, &eb, &en)) || (rc = map_entry(&s, eb, en, f, obj))) return rc;
      continue;
    }
    json_t *v = NULL;
    if ((rc = field_value(&s, f, wt, &v, depth))) return rc;
    if (f->type & F_REP) {
      json_t *arr = json_object_get(obj, f->name);
      if (!arr) {
        arr = json_array();
        if (!arr || json_object_set_new(obj, f->name, arr)) {
          json_decref(v);
          return LC_PROTO_ENOMEM;
        }
      }
      if (json_array_append_new(arr, v ? v : json_null())) return LC_PROTO_ENOMEM;
      continue;
    }
    if (!v) { /* zero Time: absent (null) */
      json_object_del(obj, f->name);
      continue;
    }
    json_t *prev = json_object_get(obj, f->name);
    if (t == T_MSG && json_is_object(prev) && json_is_object(v)) { /* proto2: repeats merge */
      int e = json_object_update(prev, v);
      json_decref(v);
      if (e) return LC_PROTO_ENOMEM;
      continue;
    }
    if (!(f->type & (F_PTR | F_KEEP)) && is_zero(v)) {
      json_decref(v);
      json_object_del(obj, f->name); /* a later zero overrides an earlier value, as in proto2 */
      continue;
    }
    if (json_object_set_new(obj, f->name, v)) return LC_PROTO_ENOMEM;
  }
  return 0;
}

/* ---- envelope -------------------------------------------------------------------------------- */

int lc_proto_is_content_type(const char *ct) {
  static const char pb[] = "application/vnd.kubernetes.protobuf";
  if (!ct) return 0;
  while (*ct == ' ') ct++;
  return !strncasecmp(ct, pb, sizeof pb - 1) &&
         (ct[sizeof pb - 1] == 0 || ct[sizeof pb - 1] == ';' || ct[sizeof pb - 1] == ' ');
}

/* Copies a length-delimited string field into out (bounded); -1 when too long. */
static int small_str(rd *r, char *out, size_t outsz) {
  const unsigned char *b;
  size_t n;
  int rc = lenbytes(r, &b, &n);
  if (rc) return rc;
  if (n >= outsz) return fail(r, "typeMeta string too long");
  memcpy(out, b, n);
  out[n] = 0;
  if (memchr(out, 0, n)) return fail(r, "typeMeta string holds NUL");
  return 0;
}

int lc_proto_decode(const unsigned char *buf, size_t len, json_t **out, char *err, size_t errsz) {
  char dummy[8];
  if (!err || !errsz) err = dummy, errsz = sizeof dummy;
  err[0] = 0;
  *out = NULL;
  rd r = {buf, buf + len, buf, err, errsz};
  if (len < 4 || memcmp(buf, "k8s\0", 4)) {
    snprintf(err, errsz, "protobuf: body does not start with the Kubernetes magic \"k8s\\x00\"");
    return LC_PROTO_EINVAL;
  }
  r.p += 4;
  char av[256] = "", kind[256] = "", enc[64] = "";
  const unsigned char *raw = NULL;
  size_t rawn = 0;
  while (r.p < r.end) {
    uint64_t key;
    int rc = varint(&r, &key);
    if (rc) return rc;
    uint64_t num = key >> 3;
    unsigned wt = (unsigned)(key & 7);
    if (num == 1 && wt == 2) { /* typeMeta */
      const unsigned char *tb;
      size_t tn;
      if ((rc = lenbytes(&r, &tb, &tn))) return rc;
      rd t = {tb, tb + tn, buf, err, errsz};
      while (t.p < t.end) {
        uint64_t k;
        if ((rc = varint(&t, &k))) return rc;
        if (k == ((1 << 3) | 2)) rc = small_str(&t, av, sizeof av);
        else if (k == ((2 << 3) | 2)) rc = small_str(&t, kind, sizeof kind);
        else rc = skip(&t, (unsigned)(k & 7));
        if (rc) return rc;
      }
    } else if (num == 2 && wt == 2) {
      if ((rc = lenbytes(&r, &raw, &rawn))) return rc;
    } else if (num == 3 && wt == 2) {
      if ((rc = small_str(&r, enc, sizeof enc))) return rc;
    } else if (num == 0) {
      return fail(&r, "invalid field number");
    } else if ((rc = skip(&r, wt))) {
      return rc;
    }
  }
  if (enc[0]) {
    snprintf(err, errsz, "protobuf: content encoding %.60s is not supported", enc);
    return LC_PROTO_EKIND;
  }
  if (!kind[0]) {
    snprintf(err, errsz, "protobuf: the envelope names no kind");
    return LC_PROTO_EINVAL;
  }
  const pb_msg *m = NULL;
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (!strcmp(kinds[i].api_version, av) && !strcmp(kinds[i].kind, kind)) m = kinds[i].msg;
  if (!m) {
    snprintf(err, errsz, "protobuf: %.100s/%.100s is not decoded by this server; send it as JSON", av, kind);
    return LC_PROTO_EKIND;
  }
  json_t *obj = json_object();
  if (!obj || json_object_set_new(obj, "kind", json_string(kind)) ||
      json_object_set_new(obj, "apiVersion", json_string(av))) {
    json_decref(obj);
    return LC_PROTO_ENOMEM;
  }
  int rc = raw ? decode_msg(&r, raw, rawn, m, obj, 0) : 0;
  if (rc) {
    if (rc == LC_PROTO_ENOMEM) snprintf(err, errsz, "protobuf: out of memory");
    json_decref(obj);
    return rc;
  }
  *out = obj;
  return 0;
}
