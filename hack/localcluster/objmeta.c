/* objmeta.c — defaults, validation, timestamps and uids for objects (see objmeta.h, lc.h). */
#include "localcluster/objmeta.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "localcluster/lc.h"
#include "localcluster/status.h"
#include "util/jscan.h"

void lc_now_rfc3339(char out[32]) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void lc_time_rfc3339_after(char out[32], long secs) {
  time_t t = time(NULL) + (time_t)secs;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Standard base64 with padding of n bytes (new string or NULL). */
static json_t *base64_str(const unsigned char *p, size_t n) {
  static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  char *o = malloc(4 * ((n + 2) / 3) + 1);
  if (!o) return NULL;
  size_t j = 0;
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
    o[j++] = tab[(v >> 18) & 63];
    o[j++] = tab[(v >> 12) & 63];
    o[j++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
    o[j++] = i + 2 < n ? tab[v & 63] : '=';
  }
  o[j] = 0;
  json_t *r = json_string(o);
  free(o);
  return r;
}

void lc_secret_fold_string_data(json_t *secret) {
  json_t *sd = json_object_get(secret, "stringData");
  if (!json_is_object(sd)) {
    json_object_del(secret, "stringData");
    return;
  }
  json_t *data = json_object_get(secret, "data");
  if (!json_is_object(data)) {
    data = json_object();
    json_object_set_new(secret, "data", data);
  }
  const char *k;
  json_t *v;
  json_object_foreach(sd, k, v) {
    if (!json_is_string(v)) continue;
    json_t *b = base64_str((const unsigned char *)json_string_value(v), json_string_length(v));
    if (b) json_object_set_new(data, k, b);
  }
  json_object_del(secret, "stringData");
}

int lc_parse_ipv4(const char *s, uint32_t *out) {
  unsigned a[4];
  char tail;
  if (!s || sscanf(s, "%3u.%3u.%3u.%3u%c", &a[0], &a[1], &a[2], &a[3], &tail) != 4) return -1;
  for (int i = 0; i < 4; i++)
    if (a[i] > 255) return -1;
  for (const char *p = s; *p; p++) /* sscanf accepts "+1" and " 1" */
    if (!isdigit((unsigned char)*p) && *p != '.') return -1;
  *out = (a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3];
  return 0;
}

int lc_parse_cidr(const char *s, uint32_t *base, int *bits) {
  char ip[32];
  const char *slash = s ? strchr(s, '/') : NULL;
  if (!slash || (size_t)(slash - s) >= sizeof ip) return -1;
  memcpy(ip, s, (size_t)(slash - s));
  ip[slash - s] = 0;
  char *end;
  long b = strtol(slash + 1, &end, 10);
  if (*end || end == slash + 1 || b < 1 || b > 32) return -1;
  uint32_t a;
  if (lc_parse_ipv4(ip, &a)) return -1;
  uint32_t mask = b == 32 ? 0xffffffffu : ~(0xffffffffu >> b);
  *base = a & mask;
  *bits = (int)b;
  return 0;
}

void lc_uuid4(char out[37]) {
  unsigned char b[16];
  if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
    /* getrandom on Linux ≥ 3.17 does not fail for 16 bytes; fall back to time+counter anyway */
    static unsigned long ctr;
    unsigned long x = (unsigned long)time(NULL) ^ (++ctr * 0x9e3779b97f4a7c15ul);
    for (int i = 0; i < 16; i++) b[i] = (unsigned char)(x >> ((i % 8) * 8)) ^ (unsigned char)i;
  }
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
           b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

int lc_dns1123(const char *name, int label, char *msg, size_t msgsz) {
  size_t n = strlen(name);
  size_t max = label ? 63 : 253;
  int ok = n > 0 && n <= max;
  for (size_t i = 0; ok && i < n; i++) {
    unsigned char c = (unsigned char)name[i];
    int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (i == 0 || i == n - 1) ok = alnum;
    else ok = alnum || c == '-' || (!label && c == '.');
  }
  if (ok) return 0;
  if (label)
    snprintf(msg, msgsz,
             "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
             "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used "
             "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')");
  else
    snprintf(msg, msgsz,
             "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
             "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
             "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
  return -1;
}

static void set_default(json_t *o, const char *k, json_t *v) {
  if (!json_object_get(o, k)) json_object_set_new(o, k, v);
  else json_decref(v);
}

static int has_res(const json_t *c, const char *which, const char *r) {
  return json_object_get(json_object_get(json_object_get(c, "resources"), which), r) != NULL;
}

const char *lc_pod_qos(const json_t *spec) {
  const json_t *cs = json_object_get(spec, "containers");
  size_t i;
  const json_t *c;
  int any = 0, guaranteed = 1;
  json_array_foreach(cs, i, c) {
    const json_t *req = json_object_get(json_object_get(c, "resources"), "requests");
    const json_t *lim = json_object_get(json_object_get(c, "resources"), "limits");
    if (json_object_size(req) || json_object_size(lim)) any = 1;
    static const char *const rs[] = {"cpu", "memory"};
    for (int k = 0; k < 2; k++) {
      if (!has_res(c, "limits", rs[k])) { guaranteed = 0; continue; }
      const json_t *l = json_object_get(lim, rs[k]);
      const json_t *q = json_object_get(req, rs[k]);
      if (q && !json_equal(q, l)) guaranteed = 0;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

static void container_defaults(json_t *cs) {
  size_t i;
  json_t *c;
  json_array_foreach(cs, i, c) {
    if (!json_is_object(c)) continue;
    set_default(c, "resources", json_object());
    set_default(c, "terminationMessagePath", json_string("/dev/termination-log"));
    set_default(c, "terminationMessagePolicy", json_string("File"));
    if (!json_object_get(c, "imagePullPolicy")) {
      const char *img = json_string_value(json_object_get(c, "image"));
      const char *colon = img ? strrchr(img, ':') : NULL;
      const char *slash = img ? strrchr(img, '/') : NULL;
      int tagged = colon && (!slash || colon > slash) && strcmp(colon, ":latest");
      json_object_set_new(c, "imagePullPolicy", json_string(tagged ? "IfNotPresent" : "Always"));
    }
  }
}

void lc_defaults_create(const lc_rtype *t, json_t *obj) {
  if (t->group[0]) return;
  if (!strcmp(t->plural, "pods")) {
    json_t *spec = json_object_get(obj, "spec");
    if (!json_is_object(spec)) return;
    container_defaults(json_object_get(spec, "containers"));
    container_defaults(json_object_get(spec, "initContainers"));
    set_default(spec, "restartPolicy", json_string("Always"));
    set_default(spec, "terminationGracePeriodSeconds", json_integer(30));
    set_default(spec, "dnsPolicy", json_string("ClusterFirst"));
    set_default(spec, "securityContext", json_object());
    set_default(spec, "schedulerName", json_string("default-scheduler"));
    if (!json_object_get(spec, "tolerations"))
      json_object_set_new(
          spec, "tolerations",
          json_pack("[{s:s,s:s,s:s,s:I},{s:s,s:s,s:s,s:I}]", "key", "node.kubernetes.io/not-ready",
                    "operator", "Exists", "effect", "NoExecute", "tolerationSeconds", (json_int_t)300,
                    "key", "node.kubernetes.io/unreachable", "operator", "Exists", "effect", "NoExecute",
                    "tolerationSeconds", (json_int_t)300));
    set_default(spec, "priority", json_integer(0));
    set_default(spec, "enableServiceLinks", json_true());
    set_default(spec, "preemptionPolicy", json_string("PreemptLowerPriority"));
    json_t *st = json_object_get(obj, "status");
    if (!json_is_object(st)) {
      st = json_object();
      json_object_set_new(obj, "status", st);
    }
    set_default(st, "phase", json_string("Pending"));
    set_default(st, "qosClass", json_string(lc_pod_qos(spec)));
  } else if (!strcmp(t->plural, "namespaces")) {
    json_t *spec = json_object_get(obj, "spec");
    if (!json_is_object(spec)) {
      spec = json_object();
      json_object_set_new(obj, "spec", spec);
    }
    set_default(spec, "finalizers", json_pack("[s]", "kubernetes"));
    json_object_set_new(obj, "status", json_pack("{s:s}", "phase", "Active"));
  } else if (!strcmp(t->plural, "secrets")) {
    const char *ty = json_string_value(json_object_get(obj, "type"));
    if (!ty || !*ty) json_object_set_new(obj, "type", json_string("Opaque"));
    lc_secret_fold_string_data(obj);
  } else if (!strcmp(t->plural, "services")) {
    json_t *spec = json_object_get(obj, "spec");
    if (!json_is_object(spec)) return;
    set_default(spec, "type", json_string("ClusterIP"));
    set_default(spec, "sessionAffinity", json_string("None"));
    json_t *ports = json_object_get(spec, "ports");
    size_t i;
    json_t *p;
    json_array_foreach(ports, i, p) {
      if (!json_is_object(p)) continue;
      set_default(p, "protocol", json_string("TCP"));
      if (!json_object_get(p, "targetPort") && json_object_get(p, "port"))
        json_object_set(p, "targetPort", json_object_get(p, "port"));
    }
    set_default(obj, "status", json_pack("{s:{}}", "loadBalancer"));
  } else if (!strcmp(t->plural, "nodes")) {
    set_default(obj, "spec", json_object());
    set_default(obj, "status", json_object());
  }
}

json_t *lc_validate_builtin(const lc_rtype *t, const json_t *obj) {
  const json_t *md = json_object_get(obj, "metadata");
  const char *name = json_string_value(json_object_get(md, "name"));
  char msg[512], full[700];
  int label = !t->group[0] && (!strcmp(t->plural, "namespaces") || !strcmp(t->plural, "services"));
  if (name && lc_dns1123(name, label, msg, sizeof msg)) {
    snprintf(full, sizeof full, "Invalid value: \"%s\": %s", name, msg);
    return lc_status_invalid(t->kind, t->group, name, "metadata.name", "FieldValueInvalid", full);
  }
  if (t->group[0]) return NULL;
  if (!strcmp(t->plural, "configmaps") || !strcmp(t->plural, "secrets")) {
    /* IsConfigMapKey: [-._a-zA-Z0-9]+, at most 253 characters */
    static const char *const maps[] = {"data", "binaryData", "stringData", NULL};
    for (int m = 0; maps[m]; m++) {
      const char *k;
      const json_t *v;
      json_object_foreach((json_t *)json_object_get(obj, maps[m]), k, v) {
        size_t n = strlen(k);
        int ok = n > 0;
        for (size_t i = 0; ok && i < n; i++)
          ok = isalnum((unsigned char)k[i]) || k[i] == '-' || k[i] == '_' || k[i] == '.';
        char f[400];
        snprintf(f, sizeof f, "%s[%.300s]", maps[m], k);
        if (!ok) {
          snprintf(full, sizeof full,
                   "Invalid value: \"%.300s\": a valid config key must consist of alphanumeric characters, '-', '_' "
                   "or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
                   "'[-._a-zA-Z0-9]+')", k);
          return lc_status_invalid(t->kind, "", name, f, "FieldValueInvalid", full);
        }
        if (n > 253) {
          snprintf(full, sizeof full, "Invalid value: \"%.300s\": must be no more than 253 characters", k);
          return lc_status_invalid(t->kind, "", name, f, "FieldValueInvalid", full);
        }
        if (!strcmp(k, ".") || !strcmp(k, "..")) {
          snprintf(full, sizeof full, "Invalid value: \"%s\": must not be '%s'", k, k);
          return lc_status_invalid(t->kind, "", name, f, "FieldValueInvalid", full);
        }
      }
    }
  }
  if (!strcmp(t->plural, "pods")) {
    const json_t *spec = json_object_get(obj, "spec");
    const json_t *cs = json_object_get(spec, "containers");
    if (!json_is_array(cs) || json_array_size(cs) == 0)
      return lc_status_invalid(t->kind, "", name, "spec.containers", "FieldValueRequired", "Required value");
    size_t i;
    const json_t *c;
    json_array_foreach(cs, i, c) {
      char f[64];
      if (!json_string_value(json_object_get(c, "name"))) {
        snprintf(f, sizeof f, "spec.containers[%zu].name", i);
        return lc_status_invalid(t->kind, "", name, f, "FieldValueRequired", "Required value");
      }
      if (!json_string_value(json_object_get(c, "image"))) {
        snprintf(f, sizeof f, "spec.containers[%zu].image", i);
        return lc_status_invalid(t->kind, "", name, f, "FieldValueRequired", "Required value");
      }
    }
  }
  return NULL;
}

/* ---- stored text without a jansson tree ------------------------------------------------------ */

/* The root object of json[0..len) and its "metadata" member (exactly one, an object). 0 or -1. */
static int root_and_meta(const char *json, size_t len, lh_js_val *root, lh_js_val *md) {
  if (lh_js_validate(json, len, 0, NULL) || lh_js_value(json, len, root) || root->type != LH_JS_OBJECT) return -1;
  return lh_js_obj_get(root, "metadata", md) == 1 && md->type == LH_JS_OBJECT ? 0 : -1;
}

int lc_del_facts_scan(const char *json, size_t len, lc_del_facts *f) {
  memset(f, 0, sizeof *f);
  lh_js_val root, md, v, spec, st;
  if (root_and_meta(json, len, &root, &md)) return -1;
  if (lh_js_obj_get(&md, "uid", &v)) {
    if (v.type != LH_JS_STRING || lh_js_str_decode(&v, f->uid, sizeof f->uid) < 0) return -1;
    f->has_uid = 1;
  }
  if (lh_js_obj_get(&md, "finalizers", &v)) {
    if (v.type != LH_JS_ARRAY) return -1;
    lh_js_iter it;
    lh_js_val e;
    lh_js_iter_init(&it, &v);
    while (lh_js_arr_next(&it, &e)) f->finalizers++;
  }
  f->terminating = lh_js_obj_get(&md, "deletionTimestamp", &v) > 0;
  if (lh_js_obj_get(&md, "deletionGracePeriodSeconds", &v) && v.type == LH_JS_INTEGER)
    f->has_del_grace = !lh_js_int(&v, &f->del_grace);
  if (lh_js_obj_get(&root, "spec", &spec)) {
    if (lh_js_obj_get(&spec, "nodeName", &v) && v.type == LH_JS_STRING) f->bound = v.n > 0;
    if (lh_js_obj_get(&spec, "terminationGracePeriodSeconds", &v) && v.type == LH_JS_INTEGER &&
        !lh_js_int(&v, &f->term_grace))
      f->has_term_grace = f->term_grace >= 0;
  }
  if (lh_js_obj_get(&root, "status", &st) && lh_js_obj_get(&st, "phase", &v) && v.type == LH_JS_STRING)
    f->finished = lh_js_str_eq(&v, "Succeeded") || lh_js_str_eq(&v, "Failed");
  return 0;
}

char *lc_add_deletion_stamps(const char *json, size_t len, const char *now, size_t *outlen) {
  lh_js_val root, md, v;
  if (root_and_meta(json, len, &root, &md)) return NULL;
  lh_js_iter it;
  lh_js_val k;
  lh_js_iter_init(&it, &md);
  int empty = !lh_js_obj_next(&it, &k, &v);
  char add[128];
  int n = 0;
  if (!lh_js_obj_get(&md, "deletionTimestamp", &v))
    n += snprintf(add + n, sizeof add - (size_t)n, "%s\"deletionTimestamp\":\"%s\"", empty ? "" : ",", now), empty = 0;
  if (n < 0 || (size_t)n >= sizeof add) return NULL;
  if (!lh_js_obj_get(&md, "deletionGracePeriodSeconds", &v))
    n += snprintf(add + n, sizeof add - (size_t)n, "%s\"deletionGracePeriodSeconds\":0", empty ? "" : ",");
  if (n < 0 || (size_t)n >= sizeof add) return NULL;
  size_t at = (size_t)(md.p + md.n - 1 - json); /* metadata's closing brace */
  char *out = malloc(len + (size_t)n + 1);
  if (!out) return NULL;
  memcpy(out, json, at);
  memcpy(out + at, add, (size_t)n);
  memcpy(out + at + n, json + at, len - at);
  out[len + (size_t)n] = 0;
  *outlen = len + (size_t)n;
  return out;
}
