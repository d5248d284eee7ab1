/* api.c — the Kubernetes REST semantics of the local cluster: discovery, get/list/create/
 * update/patch/delete/deletecollection, subresources (status, binding, log, finalize), CRD
 * registration, and the validation of watch requests (watch.c streams them). Errors are
 * metav1.Status objects shaped like a 1.20 apiserver's (status.c). Runs on the event loop.
 * Request bodies are JSON or Kubernetes protobuf (proto.c); responses are JSON, or a
 * meta.k8s.io Table when the Accept header asks for one (table.c). Pods bound to a node are
 * deleted gracefully; Services get a clusterIP from the configured range. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "localcluster/crd_schema.h"
#include "localcluster/gc.h"
#include "localcluster/gojson.h"
#include "localcluster/lc.h"
#include "localcluster/logs.h"
#include "localcluster/objmeta.h"
#include "localcluster/openapi.h"
#include "localcluster/patch.h"
#include "localcluster/proto.h"
#include "localcluster/selector.h"
#include "localcluster/status.h"
#include "localcluster/table.h"
#include "util/yaml_json.h"
#include "util/buf.h"

#define LIST_CAP ((size_t)1 << 30)
/* room for a list's head: kind, apiVersion (< 400 bytes), rv, a continue token (< 1 KiB), count */
#define LIST_HEAD_GAP 2048

/* ---- responses ------------------------------------------------------------------------------- */

static void resp_raw(lc_response *r, int code, const char *ctype, char *body, size_t len) {
  r->code = code;
  r->content_type = ctype;
  r->body = body;
  r->len = len;
  r->skip = 0;
}

static void resp_json(lc_response *r, int code, json_t *v) {
  char *s = v ? json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  json_decref(v);
  if (!s) {
    static const char oom[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                              "\"Failure\",\"message\":\"out of memory\",\"reason\":\"InternalError\","
                              "\"code\":500}";
    s = strdup(oom);
    code = 500;
  }
  resp_raw(r, code, "application/json", s, s ? strlen(s) : 0);
}

static void resp_status(lc_response *r, json_t *st) {
  int code = (int)json_integer_value(json_object_get(st, "code"));
  resp_json(r, code ? code : 500, st);
}

static void resp_text_obj(lc_response *r, int code, lh_store_obj *o) {
  resp_raw(r, code, "application/json", o->json, o->len);
  o->json = NULL;
  o->len = 0;
}

static json_t *store_status(int rc, const lc_rtype *t, const char *name) {
  switch (rc) {
  case LH_STORE_ENOTFOUND: return lc_status_not_found(t->plural, t->group, name);
  case LH_STORE_EEXISTS: return lc_status_already_exists(t->plural, t->group, name);
  case LH_STORE_ECONFLICT: return lc_status_conflict(t->plural, t->group, name, NULL);
  case LH_STORE_EEXPIRED: return lc_status_expired("too old resource version");
  case LH_STORE_EINVAL: return lc_status_bad_request("invalid request");
  default: {
    char m[200];
    snprintf(m, sizeof m, "storage error: %s", lh_store_strerror(rc));
    return lc_status_internal(m);
  }
  }
}

/* ---- small JSON helpers ---------------------------------------------------------------------- */

static json_t *meta(json_t *obj) {
  json_t *m = json_object_get(obj, "metadata");
  if (!json_is_object(m)) {
    m = json_object();
    json_object_set_new(obj, "metadata", m);
  }
  return m;
}

static const char *mstr(const json_t *obj, const char *k) {
  return json_string_value(json_object_get(json_object_get(obj, "metadata"), k));
}

static int64_t obj_rv(const json_t *obj) {
  const char *s = mstr(obj, "resourceVersion");
  return s ? strtoll(s, NULL, 10) : 0;
}

static void api_version_of(const lc_rtype *t, char *out, size_t sz) {
  if (t->group[0]) snprintf(out, sz, "%s/%s", t->group, t->version);
  else snprintf(out, sz, "%s", t->version);
}

static int get_json(lc_server *s, const lc_rtype *t, const char *ns, const char *name, json_t **out) {
  lh_store_obj o = {0};
  int rc = lh_store_get(s->store, t->key, t->namespaced ? ns : "", name, &o);
  if (rc) return rc;
  *out = json_loadb(o.json, o.len, 0, NULL);
  lh_store_obj_clear(&o);
  return *out ? 0 : LH_STORE_EIO;
}

/* Store text for a response, with apiVersion rewritten when a CRD version other than the
 * stored one was asked for (lahar does no conversion beyond that). Takes o->json. */
static void resp_obj_for(lc_response *r, int code, const lc_rtype *t, lh_store_obj *o) {
  if (t->is_cr) {
    char av[200], pat[260];
    api_version_of(t, av, sizeof av);
    snprintf(pat, sizeof pat, "\"apiVersion\":\"%s\"", av);
    if (!strstr(o->json, pat) || t->has_defaults) {
      json_t *j = json_loadb(o->json, o->len, 0, NULL);
      if (j) {
        json_object_set_new(j, "apiVersion", json_string(av));
        lc_crd_default(t, j); /* defaults apply on read too (objects stored before them) */
        lh_store_obj_clear(o);
        resp_json(r, code, j);
        return;
      }
    }
  }
  resp_text_obj(r, code, o);
}

/* Decodes a protobuf body (proto.c). On failure fills resp (400 malformed, 415 a kind lahar
 * does not decode) and returns NULL. */
static json_t *parse_proto_body(const lc_request *rq, lc_response *resp) {
  json_t *obj = NULL;
  char err[400];
  int rc = lc_proto_decode((const unsigned char *)(rq->body ? rq->body : ""), rq->body_len, &obj, err, sizeof err);
  if (rc == 0) return obj;
  if (rc == LC_PROTO_EKIND) resp_status(resp, lc_status_new(415, "UnsupportedMediaType", err, 1, NULL, NULL, NULL));
  else if (rc == LC_PROTO_ENOMEM) resp_status(resp, lc_status_internal("out of memory"));
  else resp_status(resp, lc_status_bad_request(err));
  return NULL;
}

/* Parses a request body as a JSON object (JSON, or Kubernetes protobuf decoded to JSON). On
 * failure fills resp (400/415) and returns NULL. */
static json_t *parse_body(const lc_request *rq, const lc_rtype *t, lc_response *resp) {
  const char *ct = rq->content_type;
  if (lc_proto_is_content_type(ct)) return parse_proto_body(rq, resp);
  if (!strncasecmp(ct, "application/yaml", 16)) { /* decoded like the real server's YAML serializer */
    char yerr[300];
    json_t *y = lh_yaml_to_json(rq->body ? rq->body : "", rq->body_len, yerr, sizeof yerr);
    if (!json_is_object(y)) {
      char m[600];
      snprintf(m, sizeof m, "the object provided is unrecognized (must be of type %s): couldn't get version/kind; "
               "yaml parse error: %s", t->kind, y ? "not a mapping" : yerr);
      json_decref(y);
      resp_status(resp, lc_status_bad_request(m));
      return NULL;
    }
    return y;
  }
  if (*ct && strncasecmp(ct, "application/json", 16) && !strstr(ct, "+json")) {
    resp_status(resp, lc_status_unsupported_media());
    return NULL;
  }
  json_error_t err;
  json_t *obj = json_loadb(rq->body ? rq->body : "", rq->body_len, JSON_REJECT_DUPLICATES, &err);
  if (!obj || !json_is_object(obj)) {
    char m[600], gerr[200];
    /* the real server quotes Go's encoding/json error */
    if (!obj && !lc_gojson_check(rq->body ? rq->body : "", rq->body_len, gerr, sizeof gerr))
      snprintf(gerr, sizeof gerr, "%s", err.text);
    snprintf(m, sizeof m,
             "the object provided is unrecognized (must be of type %s): couldn't get version/kind; json "
             "parse error: %s (%.40s)",
             t->kind, obj ? "not a JSON object" : gerr, rq->body ? rq->body : "");
    json_decref(obj);
    resp_status(resp, lc_status_bad_request(m));
    return NULL;
  }
  return obj;
}

/* A body whose kind is not t's: for built-in kinds the real server fails the conversion (400),
 * for custom resources it validates the kind field (422). 0 when the kind is right or absent,
 * else -1 with resp filled. */
static int check_kind(const lc_rtype *t, const json_t *obj, lc_response *resp) {
  const char *kind = json_string_value(json_object_get(obj, "kind"));
  if (!kind || !strcmp(kind, t->kind)) return 0;
  char m[1200];
  if (t->is_cr) {
    char cm[300];
    const char *name = mstr(obj, "name");
    snprintf(cm, sizeof cm, "Invalid value: \"%.100s\": must be %s", kind, t->kind);
    resp_status(resp, lc_status_invalid(kind, t->group, name ? name : "", "kind", "FieldValueInvalid", cm));
    return -1;
  }
  /* the internal API package: "core" for the legacy group, else the group's first label */
  char pkg[64];
  if (!t->group[0]) snprintf(pkg, sizeof pkg, "core");
  else snprintf(pkg, sizeof pkg, "%.*s", (int)strcspn(t->group, "."), t->group);
  snprintf(m, sizeof m, "%.100s in version \"%s\" cannot be handled as a %s: converting (%s.%.100s) to (%s.%s): unknown conversion",
           kind, t->version, t->kind, t->version, kind, pkg, t->kind);
  resp_status(resp, lc_status_bad_request(m));
  return -1;
}

/* ---- namespace existence --------------------------------------------------------------------- */

/* 0 when ns exists and is not terminating; else fills resp (a create of t's object name in a
 * terminating namespace is 403 Forbidden, cause NamespaceTerminating, as the lifecycle admission
 * plugin answers). */
static int check_namespace(lc_server *s, const lc_rtype *t, const char *ns, const char *name, lc_response *resp) {
  lh_store_obj o = {0};
  int rc = lh_store_get(s->store, "namespaces", "", ns, &o);
  if (rc == LH_STORE_ENOTFOUND) {
    resp_status(resp, lc_status_not_found("namespaces", "", ns));
    return -1;
  }
  if (rc) {
    resp_status(resp, lc_status_internal(lh_store_strerror(rc)));
    return -1;
  }
  int terminating = strstr(o.json, "\"deletionTimestamp\"") != NULL;
  lh_store_obj_clear(&o);
  if (terminating) {
    char m[1200], q[400], cm[400];
    lc_qualified(q, sizeof q, t->plural, t->group);
    snprintf(m, sizeof m, "%s \"%s\" is forbidden: unable to create new content in namespace %s because it is being terminated",
             q, name, ns);
    snprintf(cm, sizeof cm, "namespace %s is being terminated", ns);
    json_t *st = lc_status_new(403, "Forbidden", m, 1, name, t->group, t->plural);
    lc_status_add_cause(st, "NamespaceTerminating", cm, "metadata.namespace");
    resp_status(resp, st);
    return -1;
  }
  return 0;
}

/* ---- CRD status ------------------------------------------------------------------------------ */

static void crd_set_status(json_t *crd) {
  char now[32];
  lc_now_rfc3339(now);
  json_t *spec = json_object_get(crd, "spec");
  json_t *names = json_deep_copy(json_object_get(spec, "names"));
  if (!json_object_get(names, "singular")) {
    char low[128];
    const char *k = json_string_value(json_object_get(names, "kind"));
    size_t i = 0;
    for (; k && k[i] && i + 1 < sizeof low; i++) low[i] = (char)(k[i] >= 'A' && k[i] <= 'Z' ? k[i] + 32 : k[i]);
    low[i] = 0;
    json_object_set_new(names, "singular", json_string(low));
  }
  if (!json_object_get(names, "listKind")) {
    char lk[160];
    snprintf(lk, sizeof lk, "%sList", json_string_value(json_object_get(names, "kind")));
    json_object_set_new(names, "listKind", json_string(lk));
  }
  json_t *stored = json_array();
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(spec, "versions"), i, v) if (json_is_true(json_object_get(v, "storage")))
      json_array_append(stored, json_object_get(v, "name"));
  json_t *conds = json_pack(
      "[{s:s,s:s,s:s,s:s,s:s},{s:s,s:s,s:s,s:s,s:s}]", "type", "NamesAccepted", "status", "True",
      "lastTransitionTime", now, "reason", "NoConflicts", "message", "no conflicts found", "type",
      "Established", "status", "True", "lastTransitionTime", now, "reason", "InitialNamesAccepted",
      "message", "the initial names have been accepted");
  json_object_set_new(crd, "status",
                      json_pack("{s:o,s:o,s:o}", "conditions", conds, "acceptedNames", names,
                                "storedVersions", stored));
}

/* ---- validation shared by create and update -------------------------------------------------- */

static json_t *validate(const lc_rtype *t, json_t *obj) {
  if (t->is_cr) return lc_crd_validate(t, obj);
  if (!strcmp(t->plural, "customresourcedefinitions")) {
    const json_t *vs = json_object_get(json_object_get(obj, "spec"), "versions");
    if (!json_array_size(vs)) { /* the real message prints the Go values of the empty lists */
      char c1[300], msg[900];
      const char *name = mstr(obj, "name");
      snprintf(c1, sizeof c1, "Invalid value: []apiextensions.CustomResourceDefinitionVersion%s: must have exactly one "
               "version marked as storage version", json_is_array(vs) ? "{}" : "(nil)");
      static const char c2[] = "Invalid value: []string(nil): must have at least one stored version";
      snprintf(msg, sizeof msg, "%s.%s \"%.200s\" is invalid: [spec.versions: %s, status.storedVersions: %s]", t->kind,
               t->group, name ? name : "", c1, c2);
      json_t *st = lc_status_new(422, "Invalid", msg, 1, name, t->group, t->kind);
      lc_status_add_cause(st, "FieldValueInvalid", c1, "spec.versions");
      lc_status_add_cause(st, "FieldValueInvalid", c2, "status.storedVersions");
      return st;
    }
    char f[64], m[256];
    if (lc_registry_crd_check(obj, f, sizeof f, m, sizeof m))
      return lc_status_invalid(t->kind, t->group, mstr(obj, "name"), f, "FieldValueInvalid", m);
  }
  return lc_validate_builtin(t, obj);
}

static int uses_generation(const lc_rtype *t) {
  return t->is_cr || !strcmp(t->plural, "customresourcedefinitions");
}

/* Non-metadata (and, with skip_status, non-status) content differs? (spec changes bump
 * metadata.generation) */
static int spec_changed(const json_t *a, const json_t *b, int skip_status) {
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)a, k, v) {
    if (!strcmp(k, "metadata") || (skip_status && !strcmp(k, "status"))) continue;
    if (!json_equal(v, json_object_get(b, k))) return 1;
  }
  json_object_foreach((json_t *)b, k, v) {
    if (!strcmp(k, "metadata") || (skip_status && !strcmp(k, "status"))) continue;
    if (!json_object_get(a, k)) return 1;
  }
  return 0;
}

static const char gen_alphabet[] = "bcdfghjklmnpqrstvwxz2456789";

static void gen_name(const char *prefix, char *out, size_t sz) {
  unsigned char r[5];
  if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) memset(r, 7, sizeof r);
  char suf[6];
  for (int i = 0; i < 5; i++) suf[i] = gen_alphabet[r[i] % (sizeof gen_alphabet - 1)];
  suf[5] = 0;
  snprintf(out, sz, "%.*s%s", 58, prefix, suf);
}

/* ---- service cluster IPs --------------------------------------------------------------------- */

typedef struct ip_scan {
  uint8_t *used;  /* one byte per address of the range */
  uint32_t base, size;
} ip_scan;

static int ip_scan_item(void *ud, const char *ns, const char *name, const char *json, size_t len, int64_t rv) {
  (void)ns;
  (void)name;
  (void)rv;
  ip_scan *sc = ud;
  json_t *o = json_loadb(json, len, 0, NULL);
  uint32_t a;
  const char *ip = json_string_value(json_object_get(json_object_get(o, "spec"), "clusterIP"));
  if (ip && !lc_parse_ipv4(ip, &a) && a - sc->base < sc->size) sc->used[a - sc->base] = 1;
  json_decref(o);
  return 0;
}

/* Gives a new Service its clusterIP from the configured range, like the real allocator: a
 * requested address must be in the range and free; "None" (headless) and ExternalName services
 * get none. Also fills clusterIPs, ipFamilies and ipFamilyPolicy as 1.20 does. Returns 0, or -1
 * with resp filled (422, or 500 when the range is full). */
static int svc_alloc(lc_server *s, const lc_rtype *t, json_t *obj, lc_response *resp) {
  json_t *spec = json_object_get(obj, "spec");
  const char *name = mstr(obj, "name");
  const char *type = json_string_value(json_object_get(spec, "type"));
  if (!json_is_object(spec) || (type && !strcmp(type, "ExternalName"))) return 0;
  const char *want = json_string_value(json_object_get(spec, "clusterIP"));
  char cidr[40], ipbuf[20];
  uint32_t base = s->svc_base;
  int bits = s->svc_bits;
  if (!bits) lc_parse_cidr(LC_SERVICE_CIDR_DEFAULT, &base, &bits);
  uint32_t size = bits >= 32 ? 1 : (uint32_t)1 << (32 - bits);
  snprintf(cidr, sizeof cidr, "%u.%u.%u.%u/%d", base >> 24, (base >> 16) & 255, (base >> 8) & 255, base & 255, bits);
  if (want && !strcmp(want, "None")) {
    json_object_set_new(spec, "clusterIPs", json_pack("[s]", "None"));
  } else {
    uint32_t a = 0;
    if (want && *want && lc_parse_ipv4(want, &a)) {
      char m[300];
      snprintf(m, sizeof m, "Invalid value: \"%.40s\": must be empty, 'None', or a valid IP address", want);
      resp_status(resp, lc_status_invalid(t->kind, t->group, name, "spec.clusterIPs[0]", "FieldValueInvalid", m));
      return -1;
    }
    ip_scan sc = {calloc(size, 1), base, size};
    if (!sc.used) {
      resp_status(resp, lc_status_internal("out of memory"));
      return -1;
    }
    lh_store_list_opts o = {0};
    lh_store_list_result res;
    int rc = lh_store_list(s->store, "services", &o, ip_scan_item, &sc, &res);
    if (rc) {
      free(sc.used);
      resp_status(resp, lc_status_internal(lh_store_strerror(rc)));
      return -1;
    }
    if (want && *want) {
      char m[300];
      m[0] = 0;
      if (a - base >= size || a == base || a == base + size - 1)
        snprintf(m, sizeof m, "Invalid value: \"%s\": provided IP is not in the valid range. The range of valid IPs is %s",
                 want, cidr);
      else if (sc.used[a - base])
        snprintf(m, sizeof m, "Invalid value: \"%s\": provided IP is already allocated", want);
      if (m[0]) {
        free(sc.used);
        resp_status(resp, lc_status_invalid(t->kind, t->group, name, "spec.clusterIPs", "FieldValueInvalid", m));
        return -1;
      }
    } else {
      uint32_t i = 1;
      while (i + 1 < size && sc.used[i]) i++;
      if (i + 1 >= size) {
        free(sc.used);
        char m[200];
        snprintf(m, sizeof m, "Internal error occurred: failed to allocate a serviceIP: range is full (%s)", cidr);
        resp_status(resp, lc_status_internal(m));
        return -1;
      }
      a = base + i;
    }
    free(sc.used);
    snprintf(ipbuf, sizeof ipbuf, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
    json_object_set_new(spec, "clusterIP", json_string(ipbuf));
    json_object_set_new(spec, "clusterIPs", json_pack("[s]", ipbuf));
  }
  if (!json_object_get(spec, "ipFamilies")) json_object_set_new(spec, "ipFamilies", json_pack("[s]", "IPv4"));
  if (!json_object_get(spec, "ipFamilyPolicy")) json_object_set_new(spec, "ipFamilyPolicy", json_string("SingleStack"));
  return 0;
}

/* ---- create ---------------------------------------------------------------------------------- */

static void handle_binding(lc_server *s, const lc_rtype *pods, const char *ns, const char *name,
                           json_t *binding, lc_response *resp);

static void handle_create(lc_server *s, const lc_request *rq, const lc_rtype *t, lc_response *resp) {
  const lc_route *r = &rq->route;
  json_t *obj = parse_body(rq, t, resp);
  if (!obj) return;
  if (t->create_only) { /* POST /api/v1/namespaces/NS/bindings */
    const lc_rtype *pods = lc_registry_find(&s->reg, "", "v1", "pods");
    const char *n = mstr(obj, "name");
    handle_binding(s, pods, r->ns, n ? n : "", obj, resp);
    json_decref(obj);
    return;
  }
  if (check_kind(t, obj, resp)) {
    json_decref(obj);
    return;
  }
  char av[200];
  api_version_of(t, av, sizeof av);
  json_object_set_new(obj, "kind", json_string(t->kind));
  json_object_set_new(obj, "apiVersion", json_string(av));
  json_t *md = meta(obj);
  const char *ns = "";
  if (t->namespaced) {
    const char *bns = json_string_value(json_object_get(md, "namespace"));
    if (bns && *bns && strcmp(bns, r->ns)) {
      json_decref(obj);
      resp_status(resp, lc_status_bad_request("the namespace of the provided object does not match the "
                                              "namespace sent on the request"));
      return;
    }
    ns = r->ns;
    json_object_set_new(md, "namespace", json_string(ns));
  } else {
    json_object_del(md, "namespace");
  }
  const char *gn = json_string_value(json_object_get(md, "generateName"));
  const char *name = json_string_value(json_object_get(md, "name"));
  char namebuf[LC_NAME_MAX];
  if ((!name || !*name) && gn && *gn) {
    gen_name(gn, namebuf, sizeof namebuf);
    json_object_set_new(md, "name", json_string(namebuf));
  } else if (!name || !*name) {
    json_decref(obj);
    resp_status(resp, lc_status_invalid(t->kind, t->group, "", "metadata.name", "FieldValueRequired",
                                        "Required value: name or generateName is required"));
    return;
  }
  snprintf(namebuf, sizeof namebuf, "%s", json_string_value(json_object_get(md, "name")));
  if (t->is_cr && (t->subres & LC_SUB_STATUS)) json_object_del(obj, "status");
  if (t->is_cr) lc_crd_default(t, obj);
  json_t *bad = validate(t, obj);
  if (bad) {
    json_decref(obj);
    resp_status(resp, bad);
    return;
  }
  if (t->namespaced && check_namespace(s, t, ns, namebuf, resp)) {
    json_decref(obj);
    return;
  }
  char uid[37], now[32];
  lc_uuid4(uid);
  lc_now_rfc3339(now);
  json_object_set_new(md, "uid", json_string(uid));
  json_object_set_new(md, "creationTimestamp", json_string(now));
  json_object_del(md, "resourceVersion");
  json_object_del(md, "deletionTimestamp");
  json_object_del(md, "deletionGracePeriodSeconds");
  json_object_del(md, "selfLink");
  if (uses_generation(t)) json_object_set_new(md, "generation", json_integer(1));
  else json_object_del(md, "generation");
  lc_defaults_create(t, obj);
  if (!t->group[0] && !strcmp(t->plural, "services") && svc_alloc(s, t, obj, resp)) {
    json_decref(obj);
    return;
  }
  int is_crd = !strcmp(t->plural, "customresourcedefinitions") && !strcmp(t->group, "apiextensions.k8s.io");
  if (is_crd) {
    /* as created, before the naming/establishing controllers ran (the answer shows this; the
     * accepted names and conditions follow in an update right after) */
    json_t *stored = json_array();
    size_t vi;
    json_t *vv;
    json_array_foreach(json_object_get(json_object_get(obj, "spec"), "versions"), vi, vv)
        if (json_is_true(json_object_get(vv, "storage"))) json_array_append(stored, json_object_get(vv, "name"));
    json_object_set_new(obj, "status",
                        json_pack("{s:n,s:{s:s,s:s},s:o}", "conditions", "acceptedNames", "plural", "", "kind", "",
                                  "storedVersions", stored));
    /* refuse a CRD whose group/plural another CRD or a built-in already serves */
    const json_t *spec = json_object_get(obj, "spec");
    const char *g = json_string_value(json_object_get(spec, "group"));
    const char *pl = json_string_value(json_object_get(json_object_get(spec, "names"), "plural"));
    for (size_t i = 0; i < s->reg.n; i++) {
      const lc_rtype *x = s->reg.v[i];
      if (!strcmp(x->group, g) && !strcmp(x->plural, pl) && strcmp(x->crd_name, namebuf)) {
        json_decref(obj);
        resp_status(resp, lc_status_invalid(t->kind, t->group, namebuf, "spec.names.plural",
                                            "FieldValueInvalid", "Invalid value: already served"));
        return;
      }
    }
  }
  if (rq->q.dry_run) {
    resp_json(resp, 201, obj);
    return;
  }
  lh_store_obj out = {0};
  int rc = lh_store_create(s->store, t->key, ns, namebuf, obj, &out);
  for (int tries = 0; rc == LH_STORE_EEXISTS && gn && *gn && !name && tries < 8; tries++) {
    gen_name(gn, namebuf, sizeof namebuf);
    json_object_set_new(md, "name", json_string(namebuf));
    rc = lh_store_create(s->store, t->key, ns, namebuf, obj, &out);
  }
  if (rc) {
    json_decref(obj);
    resp_status(resp, store_status(rc, t, namebuf));
    return;
  }
  if (is_crd) { /* names accepted and established at once: the CRD is served from now on */
    crd_set_status(obj);
    lh_store_precond pre = {.rv = out.rv};
    json_object_del(md, "resourceVersion");
    if (lh_store_update(s->store, t->key, "", namebuf, obj, &pre, NULL) == 0) lc_registry_crd_add(&s->reg, obj);
  }
  json_decref(obj);
  resp_obj_for(resp, 201, t, &out);
}

/* ---- update (PUT, PATCH results, status, finalize) ------------------------------------------- */

static int is_core(const lc_rtype *t, const char *plural) { return !t->group[0] && !strcmp(t->plural, plural); }

/* Pod spec update validation (ValidatePodUpdate of 1.20): only container and init container
 * images, activeDeadlineSeconds, tolerations and a terminationGracePeriodSeconds of -1 may
 * change. Returns NULL or a 422 Status. */
static json_t *pod_spec_update_check(const lc_rtype *t, const char *name, const json_t *old, const json_t *neu) {
  /* the common case (status and metadata updates) leaves the spec alone: no copies needed */
  const json_t *os = json_object_get(old, "spec"), *ns = json_object_get(neu, "spec");
  if (json_is_object(os) && json_is_object(ns) && json_equal(os, ns)) return NULL;
  json_t *a = json_deep_copy(json_object_get(old, "spec"));
  json_t *b = json_deep_copy(json_object_get(neu, "spec"));
  if (!json_is_object(a)) {
    json_decref(a);
    a = json_object();
  }
  if (!json_is_object(b)) {
    json_decref(b);
    b = json_object();
  }
  static const char *const lists[] = {"containers", "initContainers", NULL};
  for (int l = 0; lists[l]; l++) {
    json_t *ca = json_object_get(a, lists[l]), *cb = json_object_get(b, lists[l]);
    if (json_array_size(ca) != json_array_size(cb)) continue;
    size_t i;
    json_t *c;
    json_array_foreach(cb, i, c) {
      json_t *img = json_object_get(c, "image");
      json_t *oc = json_array_get(ca, i);
      if (json_is_object(oc)) {
        if (img) json_object_set(oc, "image", img);
        else json_object_del(oc, "image");
      }
    }
  }
  static const char *const free_keys[] = {"activeDeadlineSeconds", "tolerations", NULL};
  for (int k = 0; free_keys[k]; k++) {
    json_t *v = json_object_get(b, free_keys[k]);
    if (v) json_object_set(a, free_keys[k], v);
    else json_object_del(a, free_keys[k]);
  }
  json_t *tg = json_object_get(b, "terminationGracePeriodSeconds");
  if (json_is_integer(tg) && json_integer_value(tg) == -1) json_object_set(a, "terminationGracePeriodSeconds", tg);
  int same = json_equal(a, b);
  json_decref(a);
  json_decref(b);
  if (same) return NULL;
  return lc_status_invalid(t->kind, t->group, name, "spec", "FieldValueForbidden",
                           "Forbidden: pod updates may not change fields other than `spec.containers[*].image`, "
                           "`spec.initContainers[*].image`, `spec.activeDeadlineSeconds` or `spec.tolerations` "
                           "(only additions to existing tolerations)");
}

/* Is k one of the metadata fields same_object() ignores? */
static int volatile_meta_key(const char *k) { return !strcmp(k, "resourceVersion") || !strcmp(k, "managedFields"); }

/* Number of members of metadata object m that same_object() compares. */
static size_t compared_meta_size(const json_t *m) {
  size_t n = 0;
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)m, k, v) n += !volatile_meta_key(k);
  return n;
}

/* Same object apart from metadata.resourceVersion and managedFields? (a no-op write is not
 * stored: no new resourceVersion, no watch event, like etcd3's GuaranteedUpdate). Compares in
 * place, member by member, instead of comparing copies with those fields deleted: every update
 * and every DELETE of an object with finalizers asks this, and the copies cost as much as the
 * rest of the comparison. */
static int same_object(const json_t *a, const json_t *b) {
  if (!json_is_object(a) || !json_is_object(b)) return a && b && json_equal(a, b);
  if (json_object_size(a) != json_object_size(b)) return 0;
  const char *k;
  const json_t *va;
  json_object_foreach((json_t *)a, k, va) {
    const json_t *vb = json_object_get(b, k);
    if (!vb) return 0;
    if (strcmp(k, "metadata") || !json_is_object(va) || !json_is_object(vb)) {
      if (!json_equal(va, vb)) return 0;
      continue;
    }
    if (compared_meta_size(va) != compared_meta_size(vb)) return 0;
    const char *mk;
    const json_t *ma;
    json_object_foreach((json_t *)va, mk, ma) {
      if (volatile_meta_key(mk)) continue;
      const json_t *mb = json_object_get(vb, mk);
      if (!mb || !json_equal(ma, mb)) return 0;
    }
  }
  return 1;
}

/* Writes newobj as the new state of (t, ns, name) with the rules of the given subresource
 * ("" main, "status", "finalize"). Takes ownership of newobj and of cur: the stored object the
 * caller already read and parsed (a PATCH), or NULL to read it here (a PUT). cur must not share
 * values with newobj. Fills resp. */
static void do_update(lc_server *s, const lc_rtype *t, const char *ns, const char *name, const char *sub,
                      json_t *cur, json_t *newobj, int dry_run, lc_response *resp) {
  int rc = cur ? 0 : get_json(s, t, ns, name, &cur);
  if (rc) {
    json_decref(newobj);
    resp_status(resp, store_status(rc, t, name));
    return;
  }
  int64_t cur_rv = obj_rv(cur);
  int64_t want_rv = obj_rv(newobj);
  if (want_rv && want_rv != cur_rv) {
    json_decref(newobj);
    json_decref(cur);
    resp_status(resp, lc_status_conflict(t->plural, t->group, name, NULL));
    return;
  }
  const char *bname = mstr(newobj, "name");
  if (bname && strcmp(bname, name)) {
    char m[700];
    snprintf(m, sizeof m, "the name of the object (%s) does not match the name on the URL (%s)", bname, name);
    json_decref(newobj);
    json_decref(cur);
    resp_status(resp, lc_status_bad_request(m));
    return;
  }
  static const char *const keep[] = {"uid", "creationTimestamp", "deletionTimestamp",
                                     "deletionGracePeriodSeconds", "namespace", "name", "generation", NULL};
  char av[200];
  api_version_of(t, av, sizeof av);
  json_t *res;
  if (!strcmp(sub, "status") && t->is_cr) {
    /* custom resources: only the status changes */
    res = json_deep_copy(cur);
    json_t *st = json_object_get(newobj, "status");
    if (st) json_object_set(res, "status", st);
    else json_object_del(res, "status");
  } else if (!strcmp(sub, "status")) {
    /* built-in status strategies reset the spec only: metadata changes (labels, annotations)
     * sent to /status are kept; pods also keep their ownerReferences */
    res = json_incref(newobj);
    json_object_set_new(res, "kind", json_string(t->kind));
    json_object_set_new(res, "apiVersion", json_string(av));
    json_t *spec = json_object_get(cur, "spec");
    if (spec) json_object_set(res, "spec", spec);
    else json_object_del(res, "spec");
    /* res's metadata may be shared with cur (lh_patch_merge_shared): change a copy */
    json_t *md = json_copy(meta(res));
    if (!md || json_object_set_new(res, "metadata", md)) {
      json_decref(res);
      json_decref(newobj);
      json_decref(cur);
      resp_status(resp, lc_status_internal("out of memory"));
      return;
    }
    json_t *cmd = json_object_get(cur, "metadata");
    for (int i = 0; keep[i]; i++) {
      json_t *v = json_object_get(cmd, keep[i]);
      if (v) json_object_set(md, keep[i], v);
      else json_object_del(md, keep[i]);
    }
    if (is_core(t, "pods")) {
      json_t *ors = json_object_get(cmd, "ownerReferences");
      if (ors) json_object_set(md, "ownerReferences", ors);
      else json_object_del(md, "ownerReferences");
    }
  } else if (!strcmp(sub, "finalize")) {
    res = json_deep_copy(cur);
    json_t *fin = json_object_get(json_object_get(newobj, "spec"), "finalizers");
    json_t *spec = json_object_get(res, "spec");
    if (!json_is_object(spec)) {
      spec = json_object();
      json_object_set_new(res, "spec", spec);
    }
    if (fin) json_object_set(spec, "finalizers", fin);
    else json_object_del(spec, "finalizers");
  } else {
    res = json_incref(newobj);
    json_object_set_new(res, "kind", json_string(t->kind));
    json_object_set_new(res, "apiVersion", json_string(av));
    if (t->subres & LC_SUB_STATUS) {
      json_t *st = json_object_get(cur, "status");
      if (st) json_object_set(res, "status", st);
      else json_object_del(res, "status");
    }
    json_t *md = meta(res);
    json_t *cmd = json_object_get(cur, "metadata");
    for (int i = 0; keep[i]; i++) {
      json_t *v = json_object_get(cmd, keep[i]);
      if (v) json_object_set(md, keep[i], v);
      else json_object_del(md, keep[i]);
    }
    if (is_core(t, "services")) { /* patchAllocatedValues */
      json_t *ns_ = json_object_get(res, "spec"), *os_ = json_object_get(cur, "spec");
      const char *nip = json_string_value(json_object_get(ns_, "clusterIP"));
      if (json_is_object(ns_) && (!nip || !*nip) && json_object_get(os_, "clusterIP")) {
        json_object_set(ns_, "clusterIP", json_object_get(os_, "clusterIP"));
        if (json_object_get(os_, "clusterIPs")) json_object_set(ns_, "clusterIPs", json_object_get(os_, "clusterIPs"));
      }
    }
    if (is_core(t, "secrets")) lc_secret_fold_string_data(res);
    if (is_core(t, "pods")) lc_defaults_create(t, res); /* the scheme defaults every decoded pod */
    if (t->is_cr) lc_crd_default(t, res);
    /* a custom resource without a status subresource versions its status like its spec */
    if (uses_generation(t) && spec_changed(cur, res, !(t->is_cr && !(t->subres & LC_SUB_STATUS)))) {
      json_int_t g = json_integer_value(json_object_get(cmd, "generation"));
      json_object_set_new(md, "generation", json_integer(g + 1));
    }
    json_t *bad = validate(t, res);
    if (!bad && is_core(t, "pods")) bad = pod_spec_update_check(t, name, cur, res);
    if (bad) {
      json_decref(res);
      json_decref(newobj);
      json_decref(cur);
      resp_status(resp, bad);
      return;
    }
  }
  json_decref(newobj);
  json_object_del(meta(res), "resourceVersion");
  int is_crd = !strcmp(t->plural, "customresourcedefinitions") && !strcmp(t->group, "apiextensions.k8s.io");
  if (is_crd && !*sub) {
    const json_t *a = json_object_get(json_object_get(cur, "spec"), "names");
    const json_t *b = json_object_get(json_object_get(res, "spec"), "names");
    if (!json_equal(a, b) || spec_changed(cur, res, 1)) crd_set_status(res);
  }
  if (same_object(cur, res)) { /* nothing changes: answer the current object, write nothing */
    json_decref(res);
    char *txt = json_dumps(cur, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(cur);
    lh_store_obj o = {.json = txt, .len = txt ? strlen(txt) : 0, .rv = cur_rv};
    if (!txt) resp_status(resp, lc_status_internal("out of memory"));
    else resp_obj_for(resp, 200, t, &o);
    return;
  }
  if (dry_run) {
    json_decref(cur);
    resp_json(resp, 200, res);
    return;
  }
  lh_store_precond pre = {.rv = cur_rv};
  lh_store_obj out = {0};
  /* finalizers emptied on an object being deleted with no grace period left: the update is
   * stored, then the object is deleted (the registry's shouldDeleteDuringUpdate) */
  const json_t *fins = json_object_get(json_object_get(res, "metadata"), "finalizers");
  int pending_fin = json_array_size(fins) > 0;
  int is_ns = is_core(t, "namespaces");
  if (is_ns) pending_fin |= json_array_size(json_object_get(json_object_get(res, "spec"), "finalizers")) > 0;
  const json_t *dg = json_object_get(json_object_get(res, "metadata"), "deletionGracePeriodSeconds");
  int delete_now = mstr(res, "deletionTimestamp") && !pending_fin && (is_ns || !dg || json_integer_value(dg) == 0);
  if (delete_now) {
    /* the update itself is not stored (no MODIFIED event); the answer is the updated object */
    rc = lh_store_delete(s->store, t->key, t->namespaced ? ns : "", name, &pre, &out);
    if (!rc) {
      char rvs[32];
      snprintf(rvs, sizeof rvs, "%lld", (long long)out.rv);
      json_object_set_new(meta(res), "resourceVersion", json_string(rvs));
      char *txt = json_dumps(res, JSON_COMPACT | JSON_PRESERVE_ORDER);
      if (txt) {
        lh_store_obj_clear(&out);
        out.json = txt;
        out.len = strlen(txt);
      }
    }
  } else {
    rc = lh_store_update(s->store, t->key, t->namespaced ? ns : "", name, res, &pre, &out);
  }
  if (rc) {
    json_decref(res);
    json_decref(cur);
    resp_status(resp, store_status(rc, t, name));
    return;
  }
  if (is_crd) lc_registry_crd_add(&s->reg, res);
  json_decref(res);
  json_decref(cur);
  resp_obj_for(resp, 200, t, &out);
}

static void handle_update(lc_server *s, const lc_request *rq, const lc_rtype *t, lc_response *resp) {
  json_t *obj = parse_body(rq, t, resp);
  if (!obj) return;
  if (check_kind(t, obj, resp)) {
    json_decref(obj);
    return;
  }
  do_update(s, t, rq->route.ns, rq->route.name, rq->route.sub, NULL, obj, rq->q.dry_run, resp);
}

static void handle_patch(lc_server *s, const lc_request *rq, const lc_rtype *t, lc_response *resp) {
  lh_patch_type pt = lh_patch_type_from_content_type(rq->content_type);
  if (pt == LH_PATCH_STRATEGIC && t->is_cr) { /* the custom resource handler's own wording */
    resp_status(resp, lc_status_new(415, "UnsupportedMediaType",
                                    "the body of the request was in an unknown format - accepted media types include: "
                                    "application/json-patch+json, application/merge-patch+json, "
                                    "application/apply-patch+yaml",
                                    0, NULL, NULL, NULL));
    return;
  }
  if (pt == LH_PATCH_UNKNOWN || pt == LH_PATCH_APPLY ||
      (pt == LH_PATCH_STRATEGIC && !lh_patch_strategic_supported(t->key))) {
    resp_status(resp, lc_status_unsupported_media());
    return;
  }
  json_error_t jerr;
  json_t *patch = json_loadb(rq->body ? rq->body : "", rq->body_len, 0, &jerr);
  if (!patch && pt == LH_PATCH_MERGE) { /* 1.20: json-patch's ErrBadJSONPatch, an internal error */
    resp_status(resp, lc_status_new(500, NULL, "Invalid JSON Patch", 0, NULL, NULL, NULL));
    return;
  }
  if (!patch) {
    char m[400];
    snprintf(m, sizeof m, "error decoding patch: %s", jerr.text);
    resp_status(resp, lc_status_bad_request(m));
    return;
  }
  json_t *cur = NULL;
  int rc = get_json(s, t, rq->route.ns, rq->route.name, &cur);
  if (rc) {
    json_decref(patch);
    resp_status(resp, store_status(rc, t, rq->route.name));
    return;
  }
  json_t *res = NULL;
  char err[512] = "";
  /* A merge patch of a built-in kind's status (a kubelet's, nodesim's): do_update keeps only the
   * result's status and metadata and takes the spec back from cur, so the result may share what
   * the patch leaves alone with cur instead of copying the whole object (do_update's status
   * branch copies metadata before changing it; nothing else in the result is changed). */
  if (pt == LH_PATCH_MERGE && !strcmp(rq->route.sub, "status") && !t->is_cr)
    rc = lh_patch_merge_shared(cur, patch, &res, err, sizeof err);
  else
    rc = lh_patch_apply(pt, t->key, cur, patch, &res, err, sizeof err);
  json_decref(patch);
  if (rc) {
    json_decref(cur);
    if (pt == LH_PATCH_JSON && rc != LH_PATCH_ENOMEM && rc != LH_PATCH_EUNSUPPORTED)
      /* 1.20 wraps every JSON-patch application error into this generic 422 */
      resp_status(resp, lc_status_new(422, "Invalid", "the server rejected our request due to an error in our request",
                                      1, NULL, NULL, NULL));
    else if (rc == LH_PATCH_EUNSUPPORTED) resp_status(resp, lc_status_unsupported_media());
    else if (rc == LH_PATCH_EINVAL) resp_status(resp, lc_status_bad_request(err));
    else if (rc == LH_PATCH_ENOMEM) resp_status(resp, lc_status_internal("out of memory"));
    else resp_status(resp, lc_status_new(422, "Invalid", err, 1, rq->route.name, t->group, t->kind));
    return;
  }
  if (!json_is_object(res)) {
    json_decref(res);
    json_decref(cur);
    resp_status(resp, lc_status_bad_request("patch result is not an object"));
    return;
  }
  /* a resourceVersion the patch set is a precondition; an untouched one is the current one */
  const char *prv = mstr(res, "resourceVersion");
  const char *crv = mstr(cur, "resourceVersion");
  if (prv && crv && strcmp(prv, crv)) {
    json_decref(res);
    json_decref(cur);
    resp_status(resp, lc_status_conflict(t->plural, t->group, rq->route.name, NULL));
    return;
  }
  /* the patch result is a new document (patch.h), so cur can go on to the update unchanged:
   * the object is read and parsed once per PATCH */
  do_update(s, t, rq->route.ns, rq->route.name, rq->route.sub, cur, res, rq->q.dry_run, resp);
}

/* ---- binding --------------------------------------------------------------------------------- */

static void handle_binding(lc_server *s, const lc_rtype *pods, const char *ns, const char *name,
                           json_t *binding, lc_response *resp) {
  const char *node = json_string_value(json_object_get(json_object_get(binding, "target"), "name"));
  if (!node || !*node) {
    resp_status(resp, lc_status_invalid("Binding", "", name, "target.name", "FieldValueRequired",
                                        "Required value"));
    return;
  }
  json_t *pod = NULL;
  int rc = get_json(s, pods, ns, name, &pod);
  if (rc) {
    resp_status(resp, store_status(rc, pods, name));
    return;
  }
  char m[600];
  const char *cur = json_string_value(json_object_get(json_object_get(pod, "spec"), "nodeName"));
  if ((cur && *cur) || mstr(pod, "deletionTimestamp")) {
    if (cur && *cur)
      snprintf(m, sizeof m, "pod %s is already assigned to node \"%s\"", name, cur);
    else
      snprintf(m, sizeof m, "pod %s is being deleted, cannot be assigned to a host", name);
    json_decref(pod);
    resp_status(resp, lc_status_conflict("pods/binding", "", name, m));
    return;
  }
  json_t *spec = json_object_get(pod, "spec");
  if (!json_is_object(spec)) {
    spec = json_object();
    json_object_set_new(pod, "spec", spec);
  }
  json_object_set_new(spec, "nodeName", json_string(node));
  json_t *st = json_object_get(pod, "status");
  if (!json_is_object(st)) {
    st = json_object();
    json_object_set_new(pod, "status", st);
  }
  json_t *conds = json_object_get(st, "conditions");
  if (!json_is_array(conds)) {
    conds = json_array();
    json_object_set_new(st, "conditions", conds);
  }
  char now[32];
  lc_now_rfc3339(now);
  json_t *c = json_pack("{s:s,s:s,s:n,s:s}", "type", "PodScheduled", "status", "True", "lastProbeTime",
                        "lastTransitionTime", now);
  size_t i;
  json_t *x;
  int replaced = 0;
  json_array_foreach(conds, i, x) {
    const char *ty = json_string_value(json_object_get(x, "type"));
    if (ty && !strcmp(ty, "PodScheduled")) {
      json_array_set(conds, i, c);
      replaced = 1;
      break;
    }
  }
  if (!replaced) json_array_append(conds, c);
  json_decref(c);
  lh_store_precond pre = {.rv = obj_rv(pod)};
  json_object_del(meta(pod), "resourceVersion");
  rc = lh_store_update(s->store, pods->key, ns, name, pod, &pre, NULL);
  json_decref(pod);
  if (rc) {
    resp_status(resp, store_status(rc, pods, name));
    return;
  }
  resp_json(resp, 201, lc_status_new(201, NULL, NULL, 0, NULL, NULL, NULL));
}

/* ---- delete ---------------------------------------------------------------------------------- */

static int has_str(const json_t *arr, const char *s) {
  size_t i;
  const json_t *v;
  json_array_foreach(arr, i, v) if (json_is_string(v) && !strcmp(json_string_value(v), s)) return 1;
  return 0;
}

/* The grace period a DELETE of pod gives it, like the pod strategy's CheckGracefulDelete: 0 for a
 * pod no node runs (unbound, or already Succeeded/Failed), else the request's gracePeriodSeconds
 * (asked < 0: not given) or spec.terminationGracePeriodSeconds (default 30). */
static long pod_grace(const json_t *pod, long asked) {
  const json_t *spec = json_object_get(pod, "spec");
  const char *node = json_string_value(json_object_get(spec, "nodeName"));
  const char *phase = json_string_value(json_object_get(json_object_get(pod, "status"), "phase"));
  if (!node || !*node) return 0;
  if (phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"))) return 0;
  if (asked >= 0) return asked;
  const json_t *g = json_object_get(spec, "terminationGracePeriodSeconds");
  return json_is_integer(g) && json_integer_value(g) >= 0 ? (long)json_integer_value(g) : 30;
}

/* lc_obj_delete with a gracePeriodSeconds (-1 = not given). Pods bound to a node are deleted
 * gracefully: deletionTimestamp = now + grace and deletionGracePeriodSeconds = grace, and the
 * object stays until a DELETE with grace 0 (the kubelet's, or nodesim's, confirmation). */
/* HTTP code of a failed store write in a DELETE. */
static int delete_code(int rc) { return rc == LH_STORE_ECONFLICT ? 409 : rc == LH_STORE_ENOTFOUND ? 404 : 500; }

/* A pod removed at once: the graceful-delete strategy stamped it before removing it, so the
 * answer carries deletionTimestamp = now and deletionGracePeriodSeconds = 0 (the DELETED event
 * does not). Leaves out as it was if out of memory. */
static void stamp_deleted_pod(lh_store_obj *out) {
  char now[32];
  lc_now_rfc3339(now);
  size_t n = 0;
  char *txt = lc_add_deletion_stamps(out->json, out->len, now, &n);
  if (txt) {
    free(out->json);
    out->json = txt;
    out->len = n;
  }
}

/* The DELETE fast path: an object that goes away at once (no finalizers, pending or added, and
 * for pods a grace period of 0) is deleted deciding from its stored text cur (lc_del_facts_scan)
 * instead of a parsed copy, and a pod's answer is the store's text with the deletion stamps
 * spliced in (lc_add_deletion_stamps): the same bytes obj_delete's full path produces, without
 * parsing, copying or re-serialising the object. Returns the HTTP code when it handled the
 * request, or 0 when the full path must (namespaces, CRDs, Orphan/Foreground, finalizers,
 * graceful pod deletion, failed preconditions, whose 409 wording the full path owns, and text
 * it cannot read). */
static int delete_plain(lc_server *s, const lc_rtype *t, const char *ns, const char *name, const char *propagation,
                        const char *pre_uid, int64_t pre_rv, long grace_asked, const lh_store_obj *cur,
                        lh_store_obj *out, int *gone, json_t **status) {
  int is_crd = !strcmp(t->group, "apiextensions.k8s.io") && !strcmp(t->plural, "customresourcedefinitions");
  if (is_core(t, "namespaces") || is_crd) return 0;
  if (propagation && (!strcmp(propagation, "Orphan") || !strcmp(propagation, "Foreground"))) return 0;
  lc_del_facts f;
  if (lc_del_facts_scan(cur->json, cur->len, &f) || f.finalizers) return 0;
  if ((pre_uid && *pre_uid && (!f.has_uid || strcmp(pre_uid, f.uid))) || (pre_rv && pre_rv != cur->rv)) return 0;
  int is_pod = is_core(t, "pods");
  if (is_pod) { /* pod_grace() and the shortening rule of obj_delete, on the scanned facts */
    long grace = !f.bound || f.finished ? 0
                 : grace_asked >= 0     ? grace_asked
                 : f.has_term_grace     ? (long)f.term_grace
                                        : 30;
    if (f.terminating && f.has_del_grace && grace > f.del_grace) grace = (long)f.del_grace;
    if (grace > 0) return 0;
  }
  lh_store_precond pre = {.rv = cur->rv};
  int rc = lh_store_delete(s->store, t->key, ns, name, &pre, out);
  if (rc) {
    if (status) *status = store_status(rc, t, name);
    return delete_code(rc);
  }
  *gone = 1;
  if (out && out->json && is_pod) stamp_deleted_pod(out); /* as in obj_delete */
  if (s->kick) s->kick(s, 0);
  return 200;
}

static int obj_delete(lc_server *s, const lc_rtype *t, const char *ns, const char *name, const char *propagation,
                      const char *pre_uid, int64_t pre_rv, long grace_asked, lh_store_obj *out, int *gone,
                      json_t **status) {
  *gone = 0;
  if (!t->namespaced) ns = "";
  lh_store_obj text = {0};
  int rc = lh_store_get(s->store, t->key, ns, name, &text);
  if (rc) {
    if (status) *status = store_status(rc, t, name);
    return rc == LH_STORE_ENOTFOUND ? 404 : 500;
  }
  int code = delete_plain(s, t, ns, name, propagation, pre_uid, pre_rv, grace_asked, &text, out, gone, status);
  json_t *cur = code ? NULL : json_loadb(text.json, text.len, 0, NULL);
  lh_store_obj_clear(&text);
  if (code) return code;
  if (!cur) {
    if (status) *status = store_status(LH_STORE_EIO, t, name);
    return 500;
  }
  const char *uid = mstr(cur, "uid");
  if ((pre_uid && *pre_uid && (!uid || strcmp(pre_uid, uid))) || (pre_rv && pre_rv != obj_rv(cur))) {
    if (status && pre_rv && pre_rv != obj_rv(cur)) {
      *status = lc_status_conflict(t->plural, t->group, name, NULL);
    } else if (status) { /* storage's NewInvalidObjError: the Kind, not the resource */
      char why[400];
      snprintf(why, sizeof why,
               "the UID in the precondition (%.64s) does not match the UID in record (%.64s). The object might "
               "have been deleted and then recreated", pre_uid ? pre_uid : "", uid ? uid : "");
      *status = lc_status_conflict(t->kind, t->group, name, why);
    }
    json_decref(cur);
    return 409;
  }
  int is_ns = !t->group[0] && !strcmp(t->plural, "namespaces");
  int is_crd = !strcmp(t->group, "apiextensions.k8s.io") && !strcmp(t->plural, "customresourcedefinitions");
  /* A copy to recognise a DELETE that changes nothing, needed only where the object may stay
   * (finalizers, pending or added here); a plain delete skips the copy. */
  json_t *md = meta(cur);
  json_t *fins = json_object_get(md, "finalizers");
  int may_stay = json_array_size(fins) > 0 || is_crd || is_ns ||
                 (propagation && (!strcmp(propagation, "Orphan") || !strcmp(propagation, "Foreground")));
  json_t *orig = may_stay ? json_deep_copy(cur) : NULL;
  if (!json_is_array(fins)) {
    fins = json_array();
    json_object_set_new(md, "finalizers", fins);
  }
  if (propagation && !strcmp(propagation, "Orphan") && !has_str(fins, "orphan"))
    json_array_append_new(fins, json_string("orphan"));
  if (propagation && !strcmp(propagation, "Foreground") && !has_str(fins, "foregroundDeletion"))
    json_array_append_new(fins, json_string("foregroundDeletion"));
  if (is_crd && !has_str(fins, "customresourcecleanup.apiextensions.k8s.io"))
    json_array_append_new(fins, json_string("customresourcecleanup.apiextensions.k8s.io"));
  int spec_fin = is_ns && json_array_size(json_object_get(json_object_get(cur, "spec"), "finalizers")) > 0;
  lh_store_precond pre = {.rv = obj_rv(cur)};
  long grace = 0;
  if (!t->group[0] && !strcmp(t->plural, "pods")) {
    grace = pod_grace(cur, grace_asked);
    json_t *cg = json_object_get(md, "deletionGracePeriodSeconds");
    /* a pending graceful deletion only ever shortens */
    if (json_object_get(md, "deletionTimestamp") && json_is_integer(cg) && grace > json_integer_value(cg))
      grace = (long)json_integer_value(cg);
  }
  if (grace > 0) {
    json_t *cg = json_object_get(md, "deletionGracePeriodSeconds");
    if (json_object_get(md, "deletionTimestamp") && json_is_integer(cg) && json_integer_value(cg) == grace) {
      /* already terminating with this grace period: nothing changes */
      if (out) {
        char *txt = json_dumps(cur, JSON_COMPACT | JSON_PRESERVE_ORDER);
        out->json = txt;
        out->len = txt ? strlen(txt) : 0;
        out->rv = obj_rv(cur);
      }
      json_decref(cur);
      json_decref(orig);
      return 200;
    }
    char when[32];
    lc_time_rfc3339_after(when, grace);
    json_object_set_new(md, "deletionTimestamp", json_string(when));
    json_object_set_new(md, "deletionGracePeriodSeconds", json_integer(grace));
    if (!json_array_size(fins)) json_object_del(md, "finalizers");
    json_object_del(md, "resourceVersion");
    rc = lh_store_update(s->store, t->key, ns, name, cur, &pre, out);
  } else if (json_array_size(fins) > 0 || spec_fin) {
    if (!json_object_get(md, "deletionTimestamp") ||
        json_integer_value(json_object_get(md, "deletionGracePeriodSeconds")) != 0) {
      char now[32];
      lc_now_rfc3339(now);
      json_object_set_new(md, "deletionTimestamp", json_string(now));
      json_object_set_new(md, "deletionGracePeriodSeconds", json_integer(0));
    }
    if (is_ns) {
      json_t *st = json_object_get(cur, "status");
      if (!json_is_object(st)) {
        st = json_object();
        json_object_set_new(cur, "status", st);
      }
      json_object_set_new(st, "phase", json_string("Terminating"));
    }
    if (orig && same_object(orig, cur)) { /* already terminating the same way: nothing is written */
      if (out) {
        char *txt = json_dumps(orig, JSON_COMPACT | JSON_PRESERVE_ORDER);
        out->json = txt;
        out->len = txt ? strlen(txt) : 0;
        out->rv = obj_rv(orig);
      }
      json_decref(orig);
      json_decref(cur);
      return 200;
    }
    json_object_del(md, "resourceVersion");
    rc = lh_store_update(s->store, t->key, ns, name, cur, &pre, out);
  } else {
    rc = lh_store_delete(s->store, t->key, ns, name, &pre, out);
    if (!rc) *gone = 1;
    if (!rc && out && out->json && is_core(t, "pods")) stamp_deleted_pod(out);
  }
  json_decref(cur);
  json_decref(orig);
  if (rc) {
    if (status) *status = store_status(rc, t, name);
    return delete_code(rc);
  }
  if (s->kick) s->kick(s, 0);
  return 200;
}

/* Background controllers (GC, namespace and CRD cleanup) delete without waiting for a kubelet. */
int lc_obj_delete(lc_server *s, const lc_rtype *t, const char *ns, const char *name,
                  const char *propagation, const char *pre_uid, int64_t pre_rv, lh_store_obj *out,
                  int *gone, json_t **status) {
  return obj_delete(s, t, ns, name, propagation, pre_uid, pre_rv, 0, out, gone, status);
}

/* DeleteOptions from the body (optional; JSON or protobuf) and the query. */
typedef struct del_opts {
  char prop[32];  /* propagationPolicy or "" */
  char uid[64];   /* preconditions.uid or "" */
  int64_t rv;     /* preconditions.resourceVersion or 0 */
  long grace;     /* gracePeriodSeconds, -1 when not given */
  int dry_run;
} del_opts;

/* Fills o. Returns 0, or -1 with resp filled (400/415) when the body is not valid DeleteOptions. */
static int delete_opts(const lc_request *rq, del_opts *o, lc_response *resp) {
  memset(o, 0, sizeof *o);
  snprintf(o->prop, sizeof o->prop, "%s", rq->q.propagation);
  o->grace = rq->q.grace_period;
  o->dry_run = rq->q.dry_run;
  if (!rq->body_len) return 0;
  json_t *j;
  if (lc_proto_is_content_type(rq->content_type)) {
    j = parse_proto_body(rq, resp);
    if (!j) return -1;
  } else {
    json_error_t err;
    j = json_loadb(rq->body, rq->body_len, 0, &err);
    if (!json_is_object(j)) { /* a 1.20 apiserver answers 500 here, without a reason */
      char m[300], gerr[200];
      if (!j && !lc_gojson_check(rq->body, rq->body_len, gerr, sizeof gerr)) snprintf(gerr, sizeof gerr, "%s", err.text);
      snprintf(m, sizeof m, "couldn't get version/kind; json parse error: %s", j ? "not a JSON object" : gerr);
      json_decref(j);
      resp_status(resp, lc_status_new(500, NULL, m, 0, NULL, NULL, NULL));
      return -1;
    }
  }
  const char *k = json_string_value(json_object_get(j, "kind"));
  if (k && strcmp(k, "DeleteOptions")) {
    char m[300];
    snprintf(m, sizeof m, "the body of a DELETE must be DeleteOptions, not %.100s", k);
    json_decref(j);
    resp_status(resp, lc_status_bad_request(m));
    return -1;
  }
  const char *p = json_string_value(json_object_get(j, "propagationPolicy"));
  if (p) snprintf(o->prop, sizeof o->prop, "%s", p);
  json_t *od = json_object_get(j, "orphanDependents");
  if (json_is_true(od) && !o->prop[0]) snprintf(o->prop, sizeof o->prop, "Orphan");
  json_t *pc = json_object_get(j, "preconditions");
  const char *u = json_string_value(json_object_get(pc, "uid"));
  if (u) snprintf(o->uid, sizeof o->uid, "%s", u);
  const char *r = json_string_value(json_object_get(pc, "resourceVersion"));
  if (r) o->rv = strtoll(r, NULL, 10);
  json_t *g = json_object_get(j, "gracePeriodSeconds");
  if (json_is_integer(g)) o->grace = (long)json_integer_value(g);
  size_t i;
  json_t *d;
  json_array_foreach(json_object_get(j, "dryRun"), i, d) if (json_is_string(d) && !strcmp(json_string_value(d), "All"))
      o->dry_run = 1;
  json_decref(j);
  return 0;
}

static void handle_delete(lc_server *s, const lc_request *rq, const lc_rtype *t, lc_response *resp) {
  del_opts d;
  if (delete_opts(rq, &d, resp)) return;
  if (d.dry_run) {
    lh_store_obj o = {0};
    int rc = lh_store_get(s->store, t->key, t->namespaced ? rq->route.ns : "", rq->route.name, &o);
    if (rc) resp_status(resp, store_status(rc, t, rq->route.name));
    else resp_obj_for(resp, 200, t, &o);
    return;
  }
  lh_store_obj out = {0};
  int gone = 0;
  json_t *st = NULL;
  int code = obj_delete(s, t, rq->route.ns, rq->route.name, d.prop[0] ? d.prop : NULL, d.uid, d.rv, d.grace, &out,
                        &gone, &st);
  if (code != 200) {
    resp_status(resp, st);
    return;
  }
  /* an immediate deletion answers a Status, except for kinds whose strategy returns the deleted
   * object (pods and services in 1.20) */
  int returns_object = !t->group[0] && (!strcmp(t->plural, "pods") || !strcmp(t->plural, "services"));
  if (gone && !returns_object) {
    json_t *ok = lc_status_success(200, rq->route.name, t->group, t->plural);
    json_object_del(ok, "code");
    json_t *det = json_object_get(ok, "details");
    lc_del_facts f; /* only the uid is needed: read it from the text (a long one: parse) */
    if (!lc_del_facts_scan(out.json, out.len, &f)) {
      if (det && f.has_uid) json_object_set_new(det, "uid", json_string(f.uid));
    } else {
      json_t *o = json_loadb(out.json, out.len, 0, NULL);
      if (o && det && mstr(o, "uid")) json_object_set_new(det, "uid", json_string(mstr(o, "uid")));
      json_decref(o);
    }
    lh_store_obj_clear(&out);
    resp_json(resp, 200, ok);
    return;
  }
  resp_obj_for(resp, 200, t, &out);
}

/* ---- list ------------------------------------------------------------------------------------ */

typedef struct list_ctx {
  lh_label_selector *ls;
  lh_field_selector *fs;
  lh_buf *buf;
  int n;
  const lc_rtype *t;
  int rewrite;
  int oom;
  /* deletecollection */
  lc_server *s;
  int collect;
  char (*names)[2][LC_NAME_MAX];
  size_t nn, cap;
  /* Table output: rows are appended here instead of item text to buf */
  json_t *rows;
  int include;
  time_t now;
} list_ctx;

static int list_filter(void *ud, const char *ns, const char *name, const char *json, size_t len) {
  (void)ns;
  (void)name;
  list_ctx *c = ud;
  if (!c->ls && !c->fs) return 1;
  json_t *o = json_loadb(json, len, 0, NULL);
  if (!o) return 0;
  int ok = (!c->ls || lh_label_selector_matches_object(c->ls, o)) && (!c->fs || lh_field_selector_matches(c->fs, o));
  json_decref(o);
  return ok;
}

static int list_item(void *ud, const char *ns, const char *name, const char *json, size_t len, int64_t rv) {
  (void)rv;
  list_ctx *c = ud;
  if (c->collect) {
    if (c->nn == c->cap) {
      size_t nc = c->cap ? c->cap * 2 : 64;
      void *nv = realloc(c->names, nc * sizeof *c->names);
      if (!nv) return -100;
      c->names = nv;
      c->cap = nc;
    }
    snprintf(c->names[c->nn][0], LC_NAME_MAX, "%s", ns);
    snprintf(c->names[c->nn][1], LC_NAME_MAX, "%s", name);
    c->nn++;
    return 0;
  }
  if (c->rows) {
    json_t *o = json_loadb(json, len, 0, NULL);
    if (!o) return 0;
    if (c->rewrite) {
      char av[200];
      api_version_of(c->t, av, sizeof av);
      json_object_set_new(o, "apiVersion", json_string(av));
    }
    lc_crd_default(c->t, o);
    json_t *row = lc_table_row(c->t, o, c->include, c->now);
    json_decref(o);
    if (!row || json_array_append_new(c->rows, row)) return -100;
    c->n++;
    return 0;
  }
  if (c->n++ && lh_buf_add(c->buf, ",", 1)) return -100;
  if (c->rewrite || c->t->has_defaults) {
    json_t *o = json_loadb(json, len, 0, NULL);
    if (o) {
      char av[200];
      api_version_of(c->t, av, sizeof av);
      json_object_set_new(o, "apiVersion", json_string(av));
      lc_crd_default(c->t, o); /* defaults apply on read too (objects stored before them) */
      char *d = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
      json_decref(o);
      int rc = d ? lh_buf_adds(c->buf, d) : -1;
      free(d);
      return rc ? -100 : 0;
    }
  }
  return lh_buf_add(c->buf, json, len) ? -100 : 0;
}

/* 400 for a continue token the store cannot use, worded like 1.20's DecodeContinue: the token
 * is base64url (unpadded) of a JSON document, and the message quotes Go's error for whichever
 * step fails first. */
static json_t *bad_continue(const char *tok) {
  static const char url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t n = strlen(tok);
  unsigned char *bin = malloc(n + 1);
  char why[300], m[400];
  size_t o = 0;
  unsigned acc = 0;
  int bits = 0;
  why[0] = 0;
  for (size_t i = 0; bin && i < n && !why[0]; i++) {
    const char *p = tok[i] ? strchr(url, tok[i]) : NULL;
    if (!p) {
      snprintf(why, sizeof why, "illegal base64 data at input byte %zu", i);
      break;
    }
    acc = (acc << 6) | (unsigned)(p - url);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bin[o++] = (unsigned char)(acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  if (bin && !why[0] && n % 4 == 1) snprintf(why, sizeof why, "illegal base64 data at input byte %zu", n - 1);
  if (bin && !why[0] && lc_gojson_check((const char *)bin, o, why, sizeof why)) {
    /* why holds Go's JSON error */
  } else if (bin && !why[0]) {
    snprintf(why, sizeof why, "server does not recognize this encoded version \"\"");
  }
  free(bin);
  snprintf(m, sizeof m, "invalid continue token: continue key is not valid: %s", why[0] ? why : "out of memory");
  return lc_status_bad_request(m);
}

/* Compiles the request's selectors into c. 0, or -1 with resp filled (400). */
static int compile_selectors(const lc_request *rq, const lc_rtype *t, list_ctx *c, lc_response *resp,
                             const char *label_sel, const char *field_sel) {
  char err[512];
  if (*label_sel) {
    if (lh_label_selector_parse(label_sel, &c->ls, err, sizeof err)) {
      resp_status(resp, lc_status_bad_request(err));
      return -1;
    }
    if (lh_label_selector_is_everything(c->ls)) {
      lh_label_selector_free(c->ls);
      c->ls = NULL;
    }
  }
  if (*field_sel) {
    if (lh_field_selector_parse(field_sel, t->key, 0, &c->fs, err, sizeof err)) {
      resp_status(resp, lc_status_bad_request(err));
      return -1;
    }
    if (lh_field_selector_is_everything(c->fs)) {
      lh_field_selector_free(c->fs);
      c->fs = NULL;
    }
  }
  (void)rq;
  return 0;
}

/* A list as a meta.k8s.io Table (kubectl get). */
static void handle_list_table(lc_server *s, const lc_request *rq, const lc_rtype *t, int version,
                              lc_response *resp) {
  list_ctx c = {0};
  c.t = t;
  json_t *tb = NULL;
  if (compile_selectors(rq, t, &c, resp, rq->q.label_selector, rq->q.field_selector)) goto out;
  tb = lc_table_new(t, version, 1);
  if (!tb) {
    resp_status(resp, lc_status_internal("out of memory"));
    goto out;
  }
  c.rows = json_object_get(tb, "rows");
  c.include = lc_table_include_parse(rq->q.include_object);
  c.now = time(NULL);
  c.rewrite = t->is_cr && strcmp(t->version, lc_registry_find_key(&s->reg, t->key)->version) != 0;
  lh_store_list_opts o = {.ns = (t->namespaced && rq->route.has_ns) ? rq->route.ns : NULL,
                          .limit = rq->q.limit,
                          .continue_token = *rq->q.continue_tok ? rq->q.continue_tok : NULL,
                          .filter = (c.ls || c.fs) ? list_filter : NULL,
                          .filter_ud = &c};
  lh_store_list_result res;
  memset(&res, 0, sizeof res);
  int rc = lh_store_list(s->store, t->key, &o, list_item, &c, &res);
  if (rc) {
    if (rc == LH_STORE_EEXPIRED)
      resp_status(resp, lc_status_expired(
                            "The provided continue parameter is too old to display a consistent list "
                            "result. You can start a new list without the continue parameter."));
    else if (rc == LH_STORE_EINVAL)
      resp_status(resp, bad_continue(rq->q.continue_tok));
    else
      resp_status(resp, lc_status_internal(rc == -100 ? "out of memory" : lh_store_strerror(rc)));
    goto out;
  }
  json_t *md = json_object_get(tb, "metadata");
  char rv[32];
  snprintf(rv, sizeof rv, "%lld", (long long)res.rv);
  json_object_set_new(md, "resourceVersion", json_string(rv));
  if (res.continue_token[0]) {
    json_object_set_new(md, "continue", json_string(res.continue_token));
    if (res.remaining >= 0) json_object_set_new(md, "remainingItemCount", json_integer(res.remaining));
  }
  resp_json(resp, 200, tb);
  tb = NULL;
out:
  json_decref(tb);
  lh_label_selector_free(c.ls);
  lh_field_selector_free(c.fs);
}

/* One object as a Table (kubectl get NAME). Takes o->json. */
static void resp_obj_table(lc_response *resp, const lc_rtype *t, int version, const char *include,
                           lh_store_obj *o) {
  json_t *obj = json_loadb(o->json, o->len, 0, NULL);
  lh_store_obj_clear(o);
  if (obj && t->is_cr) {
    char av[200];
    api_version_of(t, av, sizeof av);
    json_object_set_new(obj, "apiVersion", json_string(av));
  }
  json_t *tb = obj ? lc_table_new(t, version, 1) : NULL;
  json_t *row = tb ? lc_table_row(t, obj, lc_table_include_parse(include), time(NULL)) : NULL;
  if (!row) {
    json_decref(obj);
    json_decref(tb);
    resp_status(resp, lc_status_internal("out of memory"));
    return;
  }
  const char *rv = mstr(obj, "resourceVersion");
  if (rv) json_object_set_new(json_object_get(tb, "metadata"), "resourceVersion", json_string(rv));
  json_array_append_new(json_object_get(tb, "rows"), row);
  json_decref(obj);
  resp_json(resp, 200, tb);
}

static void handle_list(lc_server *s, const lc_request *rq, const lc_rtype *t, lc_response *resp) {
  int tv = lc_table_accept(rq->accept);
  if (tv) {
    handle_list_table(s, rq, t, tv, resp);
    return;
  }
  list_ctx c = {0};
  c.t = t;
  if (compile_selectors(rq, t, &c, resp, rq->q.label_selector, rq->q.field_selector)) goto out;
  /* The items go into buf after a gap; the head (kind, apiVersion, metadata: known only after
   * the store has answered) is then written at the end of the gap, so the body is never copied
   * again (a 140,000-pod list is ~180 MB). */
  lh_buf buf;
  lh_buf_init(&buf, LIST_CAP);
  c.buf = &buf;
  c.rewrite = t->is_cr && strcmp(t->version, lc_registry_find_key(&s->reg, t->key)->version) != 0;
  char av[200];
  api_version_of(t, av, sizeof av);
  static const char gap[LIST_HEAD_GAP];
  if (lh_buf_add(&buf, gap, sizeof gap)) {
    resp_status(resp, lc_status_internal("out of memory"));
    goto out;
  }
  lh_store_list_opts o = {.ns = (t->namespaced && rq->route.has_ns) ? rq->route.ns : NULL,
                          .limit = rq->q.limit,
                          .continue_token = *rq->q.continue_tok ? rq->q.continue_tok : NULL,
                          .filter = (c.ls || c.fs) ? list_filter : NULL,
                          .filter_ud = &c};
  lh_store_list_result res;
  memset(&res, 0, sizeof res);
  int rc = lh_store_list(s->store, t->key, &o, list_item, &c, &res);
  if (rc) {
    lh_buf_free(&buf);
    if (rc == LH_STORE_EEXPIRED)
      resp_status(resp, lc_status_expired(
                            "The provided continue parameter is too old to display a consistent list "
                            "result. You can start a new list without the continue parameter."));
    else if (rc == LH_STORE_EINVAL)
      resp_status(resp, bad_continue(rq->q.continue_tok));
    else
      resp_status(resp, lc_status_internal(rc == -100 ? "list too large" : lh_store_strerror(rc)));
    goto out;
  }
  lh_buf head;
  lh_buf_init(&head, LIST_HEAD_GAP);
  lh_buf_addf(&head, "{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":{\"resourceVersion\":\"%lld\"",
              t->list_kind, av, (long long)res.rv);
  if (res.continue_token[0]) {
    lh_buf_addf(&head, ",\"continue\":\"%s\"", res.continue_token);
    if (res.remaining >= 0) lh_buf_addf(&head, ",\"remainingItemCount\":%lld", (long long)res.remaining);
  } else if (t->is_cr) {
    lh_buf_adds(&head, ",\"continue\":\"\""); /* unstructured lists always carry it */
  }
  int e = lh_buf_adds(&head, "},\"items\":[");
  e |= lh_buf_adds(&buf, "]}");
  if (e || head.len > LIST_HEAD_GAP) { /* the gap is sized for the longest head: cannot happen */
    lh_buf_free(&head);
    lh_buf_free(&buf);
    resp_status(resp, lc_status_internal("list too large"));
    goto out;
  }
  size_t skip = LIST_HEAD_GAP - head.len;
  memcpy(buf.data + skip, head.data, head.len);
  lh_buf_free(&head);
  size_t len = buf.len - skip;
  resp_raw(resp, 200, "application/json", lh_buf_take(&buf), len);
  resp->skip = skip;
out:
  lh_label_selector_free(c.ls);
  lh_field_selector_free(c.fs);
}

static void handle_deletecollection(lc_server *s, const lc_request *rq, const lc_rtype *t, lc_response *resp) {
  list_ctx c = {0};
  c.t = t;
  c.collect = 1;
  if (compile_selectors(rq, t, &c, resp, rq->q.label_selector, rq->q.field_selector)) goto out;
  lh_store_list_opts o = {.ns = (t->namespaced && rq->route.has_ns) ? rq->route.ns : NULL,
                          .filter = (c.ls || c.fs) ? list_filter : NULL,
                          .filter_ud = &c};
  lh_store_list_result res;
  int rc = lh_store_list(s->store, t->key, &o, list_item, &c, &res);
  if (rc) {
    resp_status(resp, lc_status_internal(lh_store_strerror(rc)));
    goto out;
  }
  del_opts d;
  if (delete_opts(rq, &d, resp)) goto out;
  lh_buf buf;
  lh_buf_init(&buf, LIST_CAP);
  char av[200];
  api_version_of(t, av, sizeof av);
  lh_buf_addf(&buf, "{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":{\"resourceVersion\":\"%lld\"},\"items\":[",
              t->list_kind, av, (long long)lh_store_current_rv(s->store));
  int n = 0;
  lh_store_txn_begin(s->store);
  for (size_t i = 0; i < c.nn; i++) {
    lh_store_obj out = {0};
    int gone;
    json_t *st = NULL;
    if (d.dry_run) { /* dryRun=All: report what would be deleted, write nothing */
      if (lh_store_get(s->store, t->key, t->namespaced ? c.names[i][0] : "", c.names[i][1], &out) == 0) {
        if (n++) lh_buf_add(&buf, ",", 1);
        lh_buf_add(&buf, out.json, out.len);
      }
      lh_store_obj_clear(&out);
      continue;
    }
    if (obj_delete(s, t, c.names[i][0], c.names[i][1], d.prop[0] ? d.prop : NULL, NULL, 0, d.grace, &out, &gone,
                   &st) == 200) {
      if (n++) lh_buf_add(&buf, ",", 1);
      lh_buf_add(&buf, out.json, out.len);
    }
    json_decref(st);
    lh_store_obj_clear(&out);
  }
  lh_store_txn_commit(s->store);
  lh_buf_adds(&buf, "]}");
  size_t len = buf.len;
  resp_raw(resp, 200, "application/json", lh_buf_take(&buf), len);
out:
  free(c.names);
  lh_label_selector_free(c.ls);
  lh_field_selector_free(c.fs);
}

/* ---- logs ------------------------------------------------------------------------------------ */

static void handle_log(lc_server *s, const lc_request *rq, const lc_rtype *t, int post, lc_response *resp) {
  json_t *pod = NULL;
  int rc = get_json(s, t, rq->route.ns, rq->route.name, &pod);
  if (rc) {
    resp_status(resp, store_status(rc, t, rq->route.name));
    return;
  }
  const char *container = rq->q.container;
  const json_t *cs = json_object_get(json_object_get(pod, "spec"), "containers");
  if (!*container && json_array_size(cs) == 1)
    container = json_string_value(json_object_get(json_array_get(cs, 0), "name"));
  if (!container || !*container) {
    char m[1024];
    int off = snprintf(m, sizeof m, "a container name must be specified for pod %s, choose one of: [", rq->route.name);
    size_t i;
    const json_t *c;
    json_array_foreach(cs, i, c) if (off < (int)sizeof m) off += snprintf(
        m + off, sizeof m - (size_t)off, "%s%s", i ? " " : "", json_string_value(json_object_get(c, "name")));
    if (off < (int)sizeof m) snprintf(m + off, sizeof m - (size_t)off, "]");
    json_decref(pod);
    resp_status(resp, lc_status_bad_request(m));
    return;
  }
  int found = 0;
  size_t i;
  const json_t *c;
  json_array_foreach(cs, i, c) {
    const char *n = json_string_value(json_object_get(c, "name"));
    if (n && !strcmp(n, container)) found = 1;
  }
  if (!found) {
    char m[700];
    snprintf(m, sizeof m, "container %s is not valid for pod %s", container, rq->route.name);
    json_decref(pod);
    resp_status(resp, lc_status_bad_request(m));
    return;
  }
  char cname[LC_SEG_MAX];
  snprintf(cname, sizeof cname, "%s", container);
  json_decref(pod);
  if (!s->logs) {
    resp_raw(resp, 200, "text/plain", strdup(""), 0);
    return;
  }
  if (post) {
    if (lc_logs_append(s->logs, rq->route.ns, rq->route.name, cname, rq->body ? rq->body : "", rq->body_len))
      resp_status(resp, lc_status_internal("cannot store log text"));
    else
      resp_json(resp, 201, lc_status_new(201, NULL, NULL, 0, NULL, NULL, NULL));
    return;
  }
  size_t len = 0;
  char *text = lc_logs_read(s->logs, rq->route.ns, rq->route.name, cname, rq->q.tail_lines, &len);
  if (!text) {
    resp_status(resp, lc_status_internal("cannot read log text"));
    return;
  }
  resp_raw(resp, 200, "text/plain", text, len);
}

/* ---- watch set-up ---------------------------------------------------------------------------- */

static int prepare_watch(lc_server *s, const lc_request *rq, const lc_rtype *t, lc_response *resp,
                         lc_watch_spec *ws) {
  memset(ws, 0, sizeof *ws);
  snprintf(ws->key, sizeof ws->key, "%s", t->key);
  ws->all_ns = !(t->namespaced && rq->route.has_ns);
  snprintf(ws->ns, sizeof ws->ns, "%s", ws->all_ns ? "" : rq->route.ns);
  snprintf(ws->label_selector, sizeof ws->label_selector, "%s", rq->q.label_selector);
  if (rq->route.name[0]) {
    if (*rq->q.field_selector) {
      int n = snprintf(ws->field_selector, sizeof ws->field_selector, "metadata.name=%s,", rq->route.name);
      if (n > 0 && (size_t)n < sizeof ws->field_selector)
        snprintf(ws->field_selector + n, sizeof ws->field_selector - (size_t)n, "%.3800s", rq->q.field_selector);
    }
    else
      snprintf(ws->field_selector, sizeof ws->field_selector, "metadata.name=%s", rq->route.name);
  } else {
    snprintf(ws->field_selector, sizeof ws->field_selector, "%s", rq->q.field_selector);
  }
  snprintf(ws->kind, sizeof ws->kind, "%s", t->kind);
  api_version_of(t, ws->api_version, sizeof ws->api_version);
  const char *rv = rq->q.resource_version;
  if (!rq->q.has_rv || !*rv || !strcmp(rv, "0")) {
    ws->send_initial = 1;
  } else {
    char *end;
    long long x = strtoll(rv, &end, 10);
    if (*end || x < 0 || !isdigit((unsigned char)*rv)) { /* 1.20: a 500 quoting strconv.ParseUint */
      char m[300];
      snprintf(m, sizeof m, "resourceVersion: Invalid value: \"%.60s\": strconv.ParseUint: parsing \"%.60s\": invalid syntax",
               rv, rv);
      resp_status(resp, lc_status_new(500, NULL, m, 0, NULL, NULL, NULL));
      return LC_HANDLED;
    }
    ws->since_rv = x;
    if (t->is_cr) ws->min_rv = t->established_rv;
  }
  ws->timeout_s = rq->q.timeout_seconds;
  ws->bookmarks = rq->q.allow_bookmarks;
  ws->table = lc_table_accept(rq->accept);
  ws->include_object = lc_table_include_parse(rq->q.include_object);
  snprintf(ws->group, sizeof ws->group, "%s", t->group);
  snprintf(ws->version, sizeof ws->version, "%s", t->version);
  snprintf(ws->plural, sizeof ws->plural, "%s", t->plural);
  /* validate selectors now so errors are a plain 400 */
  list_ctx c = {0};
  int bad = compile_selectors(rq, t, &c, resp, ws->label_selector, ws->field_selector);
  lh_label_selector_free(c.ls);
  lh_field_selector_free(c.fs);
  (void)s;
  return bad ? LC_HANDLED : LC_WATCH;
}

/* ---- dispatch -------------------------------------------------------------------------------- */

static void version_doc(lc_response *resp) {
  resp_json(resp, 200,
            json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "major", "1", "minor", "20", "gitVersion",
                      "v1.20.2-lahar", "gitCommit", "0000000000000000000000000000000000000000",
                      "gitTreeState", "clean", "buildDate", "2021-01-13T13:20:00Z", "goVersion", "go1.19.8",
                      "compiler", "gc", "platform", "linux/amd64"));
}

static void not_allowed(lc_response *resp, const char *method, const lc_rtype *t) {
  resp_status(resp, lc_status_method_not_allowed(method, t->plural, t->group));
}

int lc_api_handle(lc_server *s, const lc_request *rq, lc_response *resp, lc_watch_spec *ws) {
  const lc_route *r = &rq->route;
  const char *m = rq->method;
  int is_get = !strcmp(m, "GET") || !strcmp(m, "HEAD");
  memset(resp, 0, sizeof *resp);
  switch (r->kind) {
  case LC_R_NONE:
    resp_status(resp, lc_status_path_not_found());
    return LC_HANDLED;
  case LC_R_VERSION:
    version_doc(resp);
    return LC_HANDLED;
  case LC_R_HEALTH:
    if (r->readyz && __atomic_load_n(&s->not_ready, __ATOMIC_ACQUIRE)) {
      static const char nr[] = "[-]nodes-registered failed: reason withheld\nreadyz check failed\n";
      resp_raw(resp, 500, "text/plain; charset=utf-8", strdup(nr), sizeof nr - 1);
      return LC_HANDLED;
    }
    resp_raw(resp, 200, "text/plain; charset=utf-8", strdup("ok"), 2);
    return LC_HANDLED;
  case LC_R_OPENAPI_V2: {
    char *body;
    size_t len;
    const char *ct;
    if (lc_openapi_v2(rq->accept, &body, &len, &ct)) resp_status(resp, lc_status_internal("out of memory"));
    else resp_raw(resp, 200, ct, body, len);
    return LC_HANDLED;
  }
  case LC_R_OPENAPI_V3:
    resp_status(resp, lc_status_path_not_found());
    return LC_HANDLED;
  case LC_R_API:
    resp_json(resp, 200, lc_discovery_api(&s->reg, s->server_addr));
    return LC_HANDLED;
  case LC_R_API_V1:
    resp_json(resp, 200, lc_discovery_resources(&s->reg, "", "v1"));
    return LC_HANDLED;
  case LC_R_APIS:
    resp_json(resp, 200, lc_discovery_apis(&s->reg));
    return LC_HANDLED;
  case LC_R_GROUP: {
    json_t *d = lc_discovery_group(&s->reg, r->group);
    if (d) resp_json(resp, 200, d);
    else resp_raw(resp, 404, "text/plain; charset=utf-8", strdup("404 page not found\n"), 19);
    return LC_HANDLED;
  }
  case LC_R_GROUP_VERSION: {
    json_t *d = lc_discovery_resources(&s->reg, r->group, r->version);
    if (d) resp_json(resp, 200, d);
    else resp_raw(resp, 404, "text/plain; charset=utf-8", strdup("404 page not found\n"), 19);
    return LC_HANDLED;
  }
  case LC_R_RESOURCE:
    break;
  }
  const lc_rtype *t = lc_registry_find(&s->reg, r->group, r->version, r->resource);
  if (!t && r->group[0] && !lc_registry_serves(&s->reg, r->group, r->version)) {
    /* an API group/version nobody serves falls through to the mux's plain 404 */
    resp_raw(resp, 404, "text/plain; charset=utf-8", strdup("404 page not found\n"), 19);
    return LC_HANDLED;
  }
  if (!t || (r->has_ns && !t->namespaced)) {
    resp_status(resp, lc_status_path_not_found());
    return LC_HANDLED;
  }
  /* namespaced kinds are addressed inside a namespace, except list/watch across all */
  if (t->namespaced && !r->has_ns && (r->name[0] || strcmp(m, "GET"))) {
    resp_status(resp, lc_status_path_not_found());
    return LC_HANDLED;
  }
  const char *sub = r->sub;
  if (*sub) {
    unsigned need = !strcmp(sub, "status")     ? LC_SUB_STATUS
                    : !strcmp(sub, "binding")  ? LC_SUB_BINDING
                    : !strcmp(sub, "log")      ? LC_SUB_LOG
                    : !strcmp(sub, "finalize") ? LC_SUB_FINALIZE
                                               : 0;
    if (t->is_cr && !strcmp(sub, "status") && !(t->subres & LC_SUB_STATUS) && !r->legacy_watch) {
      /* the CR handler serves /status only with the subresource: NotFound on the object */
      resp_status(resp, lc_status_not_found(t->plural, t->group, r->name));
      return LC_HANDLED;
    }
    if (!need || !(t->subres & need) || r->legacy_watch) {
      resp_status(resp, lc_status_path_not_found());
      return LC_HANDLED;
    }
  }
  if (t->create_only && strcmp(m, "POST")) {
    not_allowed(resp, m, t);
    return LC_HANDLED;
  }
  if (r->legacy_watch || (is_get && rq->q.watch && !*sub)) {
    if (!is_get) {
      not_allowed(resp, m, t);
      return LC_HANDLED;
    }
    return prepare_watch(s, rq, t, resp, ws);
  }
  if (!strcmp(sub, "log")) {
    if (is_get) handle_log(s, rq, t, 0, resp);
    else if (!strcmp(m, "POST")) handle_log(s, rq, t, 1, resp);
    else not_allowed(resp, m, t);
    return LC_HANDLED;
  }
  if (!strcmp(sub, "binding")) {
    if (strcmp(m, "POST")) {
      not_allowed(resp, m, t);
      return LC_HANDLED;
    }
    json_t *b = parse_body(rq, t, resp);
    if (!b) return LC_HANDLED;
    handle_binding(s, t, r->ns, r->name, b, resp);
    json_decref(b);
    return LC_HANDLED;
  }
  if (!strcmp(sub, "finalize") && strcmp(m, "PUT")) {
    not_allowed(resp, m, t);
    return LC_HANDLED;
  }
  if (is_get) {
    if (!r->name[0]) {
      handle_list(s, rq, t, resp);
      return LC_HANDLED;
    }
    lh_store_obj o = {0};
    int rc = lh_store_get(s->store, t->key, t->namespaced ? r->ns : "", r->name, &o);
    int tv = *sub ? 0 : lc_table_accept(rq->accept);
    if (rc) resp_status(resp, store_status(rc, t, r->name));
    else if (tv) resp_obj_table(resp, t, tv, rq->q.include_object, &o);
    else resp_obj_for(resp, 200, t, &o);
    return LC_HANDLED;
  }
  if (!strcmp(m, "POST")) {
    if (r->name[0]) not_allowed(resp, m, t);
    else handle_create(s, rq, t, resp);
    return LC_HANDLED;
  }
  if (!strcmp(m, "PUT")) {
    if (!r->name[0]) not_allowed(resp, m, t);
    else handle_update(s, rq, t, resp);
    return LC_HANDLED;
  }
  if (!strcmp(m, "PATCH")) {
    if (!r->name[0]) not_allowed(resp, m, t);
    else handle_patch(s, rq, t, resp);
    return LC_HANDLED;
  }
  if (!strcmp(m, "DELETE")) {
    if (*sub) not_allowed(resp, m, t);
    else if (!r->name[0]) {
      if (!strcmp(t->plural, "namespaces") || !strcmp(t->plural, "services")) not_allowed(resp, m, t);
      else handle_deletecollection(s, rq, t, resp);
    } else
      handle_delete(s, rq, t, resp);
    return LC_HANDLED;
  }
  not_allowed(resp, m, t);
  return LC_HANDLED;
}
