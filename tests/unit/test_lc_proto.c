/* test_lc_proto.c — the Kubernetes protobuf request decoder (hack/localcluster/proto.c): bodies
 * recorded from kubectl 1.32 and hand-built ones (each kind, maps, repeated fields, Time,
 * Quantity, IntOrString, pointer-vs-omitempty fields, unknown fields skipped), and malformed
 * input (bad magic, truncation anywhere, overlong varints, wrong wire types, bad UTF-8, unknown
 * kind) giving clean errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "localcluster/proto.h"

/* ---- a tiny encoder for building test bodies ---- */
typedef struct pb {
  unsigned char b[8192];
  size_t n;
} pb;

static void put_varint(pb *p, uint64_t v) {
  do {
    unsigned char c = v & 0x7f;
    v >>= 7;
    p->b[p->n++] = (unsigned char)(c | (v ? 0x80 : 0));
  } while (v);
}
static void put_key(pb *p, unsigned num, unsigned wt) { put_varint(p, ((uint64_t)num << 3) | wt); }
static void put_bytes(pb *p, unsigned num, const void *d, size_t n) {
  put_key(p, num, 2);
  put_varint(p, n);
  memcpy(p->b + p->n, d, n);
  p->n += n;
}
static void put_str(pb *p, unsigned num, const char *s) { put_bytes(p, num, s, strlen(s)); }
static void put_msg(pb *p, unsigned num, const pb *m) { put_bytes(p, num, m->b, m->n); }
static void put_int(pb *p, unsigned num, uint64_t v) {
  put_key(p, num, 0);
  put_varint(p, v);
}
static void put_map_ss(pb *p, unsigned num, const char *k, const char *v) {
  pb e = {.n = 0};
  put_str(&e, 1, k);
  put_str(&e, 2, v);
  put_msg(p, num, &e);
}
/* k8s\0 + Unknown{typeMeta{apiVersion,kind}, raw} */
static void frame(pb *out, const char *av, const char *kind, const pb *raw) {
  pb tm = {.n = 0};
  put_str(&tm, 1, av);
  put_str(&tm, 2, kind);
  memcpy(out->b, "k8s\0", 4);
  out->n = 4;
  put_msg(out, 1, &tm);
  put_msg(out, 2, raw);
  put_str(out, 3, "");
  put_str(out, 4, "");
}

static json_t *decode_ok(const pb *p) {
  json_t *o = NULL;
  char err[256];
  int rc = lc_proto_decode(p->b, p->n, &o, err, sizeof err);
  if (rc) fail_msg("decode failed: %d %s", rc, err);
  assert_non_null(o);
  return o;
}

static void expect_json(json_t *o, const char *want) {
  char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
  json_t *w = json_loads(want, 0, NULL);
  assert_non_null(w);
  char *ws = json_dumps(w, JSON_COMPACT | JSON_SORT_KEYS);
  if (strcmp(s, ws)) fail_msg("got  %s\nwant %s", s, ws);
  free(s);
  free(ws);
  json_decref(w);
  json_decref(o);
}

/* 1.0 — `kubectl create service clusterip svc1 --tcp=80:8080` as kubectl 1.32 sent it */
static const unsigned char kubectl_service[] = {
    0x6b, 0x38, 0x73, 0x00, 0x0a, 0x0d, 0x0a, 0x02, 0x76, 0x31, 0x12, 0x07, 0x53, 0x65, 0x72, 0x76, 0x69, 0x63,
    0x65, 0x12, 0x6c, 0x0a, 0x21, 0x0a, 0x04, 0x73, 0x76, 0x63, 0x31, 0x12, 0x00, 0x1a, 0x00, 0x22, 0x00, 0x2a,
    0x00, 0x32, 0x00, 0x38, 0x00, 0x42, 0x00, 0x5a, 0x0b, 0x0a, 0x03, 0x61, 0x70, 0x70, 0x12, 0x04, 0x73, 0x76,
    0x63, 0x31, 0x12, 0x43, 0x0a, 0x1b, 0x0a, 0x07, 0x38, 0x30, 0x2d, 0x38, 0x30, 0x38, 0x30, 0x12, 0x03, 0x54,
    0x43, 0x50, 0x18, 0x50, 0x22, 0x07, 0x08, 0x00, 0x10, 0x90, 0x3f, 0x1a, 0x00, 0x28, 0x00, 0x12, 0x0b, 0x0a,
    0x03, 0x61, 0x70, 0x70, 0x12, 0x04, 0x73, 0x76, 0x63, 0x31, 0x1a, 0x00, 0x22, 0x09, 0x43, 0x6c, 0x75, 0x73,
    0x74, 0x65, 0x72, 0x49, 0x50, 0x3a, 0x00, 0x42, 0x00, 0x52, 0x00, 0x5a, 0x00, 0x60, 0x00, 0x68, 0x00, 0x1a,
    0x02, 0x0a, 0x00, 0x1a, 0x00, 0x22, 0x00};
/* 1.1 — `kubectl create quota q1 --hard=cpu=1` */
static const unsigned char kubectl_quota[] = {
    0x6b, 0x38, 0x73, 0x00, 0x0a, 0x13, 0x0a, 0x02, 0x76, 0x31, 0x12, 0x0d, 0x52, 0x65, 0x73, 0x6f, 0x75, 0x72,
    0x63, 0x65, 0x51, 0x75, 0x6f, 0x74, 0x61, 0x12, 0x24, 0x0a, 0x12, 0x0a, 0x02, 0x71, 0x31, 0x12, 0x00, 0x1a,
    0x00, 0x22, 0x00, 0x2a, 0x00, 0x32, 0x00, 0x38, 0x00, 0x42, 0x00, 0x12, 0x0c, 0x0a, 0x0a, 0x0a, 0x03, 0x63,
    0x70, 0x75, 0x12, 0x03, 0x0a, 0x01, 0x31, 0x1a, 0x00, 0x1a, 0x00, 0x22, 0x00};

static void test_kubectl_bodies(void **unused) {
  (void)unused;
  pb p;
  memcpy(p.b, kubectl_service, sizeof kubectl_service);
  p.n = sizeof kubectl_service;
  expect_json(decode_ok(&p),
              "{\"kind\":\"Service\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"svc1\",\"labels\":{\"app\":\"svc1\"}},"
              "\"spec\":{\"ports\":[{\"name\":\"80-8080\",\"protocol\":\"TCP\",\"port\":80,\"targetPort\":8080}],"
              "\"selector\":{\"app\":\"svc1\"},\"type\":\"ClusterIP\"}}");
  memcpy(p.b, kubectl_quota, sizeof kubectl_quota);
  p.n = sizeof kubectl_quota;
  expect_json(decode_ok(&p), "{\"kind\":\"ResourceQuota\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"q1\"},"
                             "\"spec\":{\"hard\":{\"cpu\":\"1\"}}}");
}

/* 2.0 — ObjectMeta in full: maps, ownerReferences, finalizers, times, pointer fields */
static void objmeta(pb *m) {
  m->n = 0;
  put_str(m, 1, "cm1");
  put_str(m, 3, "ns1");
  put_int(m, 7, 3);
  pb t = {.n = 0};
  put_int(&t, 1, 1700000000);
  put_msg(m, 8, &t);
  put_msg(m, 9, &t);
  put_int(m, 10, 0); /* *int64 → present even when 0 */
  put_map_ss(m, 11, "app", "demo");
  put_map_ss(m, 11, "tier", "web");
  put_map_ss(m, 12, "note", "x");
  pb o = {.n = 0};
  put_str(&o, 1, "Queue");
  put_str(&o, 3, "q");
  put_str(&o, 4, "u-1");
  put_str(&o, 5, "scheduling.volcano.sh/v1beta1");
  put_int(&o, 6, 1);
  put_msg(m, 13, &o);
  put_msg(m, 13, &o);
  put_str(m, 14, "a/b");
  put_str(m, 14, "c");
  /* unknown fields of every wire type are skipped */
  put_int(m, 99, 5);
  put_str(m, 98, "junk");
  put_key(m, 97, 1);
  memset(m->b + m->n, 1, 8);
  m->n += 8;
  put_key(m, 96, 5);
  memset(m->b + m->n, 1, 4);
  m->n += 4;
}

static void test_configmap_secret(void **unused) {
  (void)unused;
  pb md, raw = {.n = 0}, f;
  objmeta(&md);
  put_msg(&raw, 1, &md);
  put_map_ss(&raw, 2, "k", "v");
  pb e = {.n = 0};
  put_str(&e, 1, "bin");
  put_bytes(&e, 2, "\x00\xff\x10", 3);
  put_msg(&raw, 3, &e);
  put_int(&raw, 4, 0); /* immutable *bool false */
  frame(&f, "v1", "ConfigMap", &raw);
  expect_json(decode_ok(&f),
              "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"cm1\",\"namespace\":\"ns1\","
              "\"generation\":3,\"creationTimestamp\":\"2023-11-14T22:13:20Z\",\"deletionTimestamp\":"
              "\"2023-11-14T22:13:20Z\",\"deletionGracePeriodSeconds\":0,\"labels\":{\"app\":\"demo\",\"tier\":\"web\"},"
              "\"annotations\":{\"note\":\"x\"},\"ownerReferences\":[{\"kind\":\"Queue\",\"name\":\"q\",\"uid\":\"u-1\","
              "\"apiVersion\":\"scheduling.volcano.sh/v1beta1\",\"controller\":true},{\"kind\":\"Queue\",\"name\":\"q\","
              "\"uid\":\"u-1\",\"apiVersion\":\"scheduling.volcano.sh/v1beta1\",\"controller\":true}],"
              "\"finalizers\":[\"a/b\",\"c\"]},\"data\":{\"k\":\"v\"},\"binaryData\":{\"bin\":\"AP8Q\"},"
              "\"immutable\":false}");
  raw.n = 0;
  md.n = 0;
  put_str(&md, 1, "s1");
  put_msg(&raw, 1, &md);
  e.n = 0;
  put_str(&e, 1, "a");
  put_bytes(&e, 2, "b", 1);
  put_msg(&raw, 2, &e);
  put_str(&raw, 3, "Opaque");
  put_map_ss(&raw, 4, "plain", "text");
  frame(&f, "v1", "Secret", &raw);
  expect_json(decode_ok(&f), "{\"kind\":\"Secret\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"s1\"},"
                             "\"data\":{\"a\":\"Yg==\"},\"type\":\"Opaque\",\"stringData\":{\"plain\":\"text\"}}");
}

static void test_other_kinds(void **unused) {
  (void)unused;
  pb md = {.n = 0}, raw = {.n = 0}, f, x = {.n = 0};
  put_str(&md, 1, "n1");
  /* Namespace */
  put_msg(&raw, 1, &md);
  put_str(&x, 1, "kubernetes");
  put_msg(&raw, 2, &x);
  frame(&f, "v1", "Namespace", &raw);
  expect_json(decode_ok(&f), "{\"kind\":\"Namespace\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"n1\"},"
                             "\"spec\":{\"finalizers\":[\"kubernetes\"]}}");
  /* ServiceAccount */
  raw.n = x.n = 0;
  put_msg(&raw, 1, &md);
  put_str(&x, 3, "tok");
  put_msg(&raw, 2, &x);
  pb l = {.n = 0};
  put_str(&l, 1, "pull");
  put_msg(&raw, 3, &l);
  put_int(&raw, 4, 0);
  frame(&f, "v1", "ServiceAccount", &raw);
  expect_json(decode_ok(&f), "{\"kind\":\"ServiceAccount\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"n1\"},"
                             "\"secrets\":[{\"name\":\"tok\"}],\"imagePullSecrets\":[{\"name\":\"pull\"}],"
                             "\"automountServiceAccountToken\":false}");
  /* Lease with MicroTime */
  raw.n = x.n = 0;
  put_msg(&raw, 1, &md);
  put_str(&x, 1, "me");
  put_int(&x, 2, 15);
  pb t = {.n = 0};
  put_int(&t, 1, 1700000000);
  put_int(&t, 2, 123456789);
  put_msg(&x, 4, &t);
  put_int(&x, 5, 0);
  put_msg(&raw, 2, &x);
  frame(&f, "coordination.k8s.io/v1", "Lease", &raw);
  expect_json(decode_ok(&f), "{\"kind\":\"Lease\",\"apiVersion\":\"coordination.k8s.io/v1\",\"metadata\":{\"name\":"
                             "\"n1\"},\"spec\":{\"holderIdentity\":\"me\",\"leaseDurationSeconds\":15,\"renewTime\":"
                             "\"2023-11-14T22:13:20.123456Z\",\"leaseTransitions\":0}}");
  /* Event */
  raw.n = x.n = 0;
  put_msg(&raw, 1, &md);
  put_str(&x, 1, "Pod");
  put_str(&x, 3, "p");
  put_msg(&raw, 2, &x);
  put_str(&raw, 3, "Started");
  put_int(&raw, 8, 2);
  put_str(&raw, 9, "Normal");
  frame(&f, "v1", "Event", &raw);
  expect_json(decode_ok(&f), "{\"kind\":\"Event\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"n1\"},"
                             "\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"p\"},\"reason\":\"Started\",\"count\":2,"
                             "\"type\":\"Normal\"}");
  /* Service port with a named targetPort (IntOrString string form), headless clusterIP */
  raw.n = x.n = 0;
  pb port = {.n = 0}, ios = {.n = 0};
  put_int(&port, 3, 443);
  put_int(&ios, 1, 1);
  put_str(&ios, 3, "https");
  put_msg(&port, 4, &ios);
  put_msg(&x, 1, &port);
  put_str(&x, 3, "None");
  put_msg(&raw, 2, &x);
  frame(&f, "v1", "Service", &raw);
  expect_json(decode_ok(&f), "{\"kind\":\"Service\",\"apiVersion\":\"v1\",\"spec\":{\"ports\":[{\"port\":443,"
                             "\"targetPort\":\"https\"}],\"clusterIP\":\"None\"}}");
  /* DeleteOptions (both apiVersions) */
  raw.n = x.n = 0;
  put_int(&raw, 1, 0);
  put_str(&x, 1, "uid-1");
  put_msg(&raw, 2, &x);
  put_str(&raw, 4, "Foreground");
  put_str(&raw, 5, "All");
  frame(&f, "meta.k8s.io/v1", "DeleteOptions", &raw);
  expect_json(decode_ok(&f), "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"meta.k8s.io/v1\",\"gracePeriodSeconds\":0,"
                             "\"preconditions\":{\"uid\":\"uid-1\"},\"propagationPolicy\":\"Foreground\",\"dryRun\":"
                             "[\"All\"]}");
  frame(&f, "v1", "DeleteOptions", &raw);
  json_decref(decode_ok(&f));
  /* an empty raw is an object with only kind/apiVersion */
  raw.n = 0;
  frame(&f, "v1", "Binding", &raw);
  expect_json(decode_ok(&f), "{\"kind\":\"Binding\",\"apiVersion\":\"v1\"}");
}

static int decode_rc(const unsigned char *b, size_t n, char *err, size_t errsz) {
  json_t *o = NULL;
  int rc = lc_proto_decode(b, n, &o, err, errsz);
  if (rc) assert_null(o);
  else json_decref(o);
  return rc;
}

static void test_malformed(void **unused) {
  (void)unused;
  char err[256];
  assert_int_equal(decode_rc((const unsigned char *)"{\"a\":1}", 7, err, sizeof err), LC_PROTO_EINVAL);
  assert_non_null(strstr(err, "magic"));
  assert_int_equal(decode_rc((const unsigned char *)"k8s", 3, err, sizeof err), LC_PROTO_EINVAL);
  /* every truncation of a real body: a clean error or (at a field boundary) a decode, never a crash */
  for (size_t n = 0; n < sizeof kubectl_service; n++) {
    unsigned char *cp = malloc(n ? n : 1); /* exact-size copy so ASan sees any overread */
    memcpy(cp, kubectl_service, n);
    int rc = decode_rc(cp, n, err, sizeof err);
    assert_true(rc == 0 || rc == LC_PROTO_EINVAL);
    free(cp);
  }
  /* every single-byte corruption: never a crash */
  for (size_t i = 4; i < sizeof kubectl_service; i++)
    for (int v = 0; v < 256; v += 17) {
      unsigned char cp[sizeof kubectl_service];
      memcpy(cp, kubectl_service, sizeof cp);
      cp[i] = (unsigned char)v;
      (void)decode_rc(cp, sizeof cp, err, sizeof err);
    }
  pb md = {.n = 0}, raw = {.n = 0}, f;
  /* varint longer than 10 bytes */
  memcpy(raw.b, "\x38\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12);
  raw.n = 12;
  pb cm = {.n = 0};
  put_msg(&cm, 1, &raw);
  frame(&f, "v1", "ConfigMap", &cm);
  assert_int_equal(decode_rc(f.b, f.n, err, sizeof err), LC_PROTO_EINVAL);
  assert_non_null(strstr(err, "varint"));
  /* wrong wire type for a known field (name as a varint) */
  raw.n = 0;
  put_int(&raw, 1, 7);
  cm.n = 0;
  put_msg(&cm, 1, &raw);
  frame(&f, "v1", "ConfigMap", &cm);
  assert_int_equal(decode_rc(f.b, f.n, err, sizeof err), LC_PROTO_EINVAL);
  assert_non_null(strstr(err, "wire type"));
  /* a group (wire type 3) */
  raw.n = 0;
  put_key(&raw, 50, 3);
  cm.n = 0;
  put_msg(&cm, 1, &raw);
  frame(&f, "v1", "ConfigMap", &cm);
  assert_int_equal(decode_rc(f.b, f.n, err, sizeof err), LC_PROTO_EINVAL);
  /* invalid UTF-8 in a string */
  raw.n = 0;
  put_bytes(&raw, 1, "\xc3\x28", 2);
  cm.n = 0;
  put_msg(&cm, 1, &raw);
  frame(&f, "v1", "ConfigMap", &cm);
  assert_int_equal(decode_rc(f.b, f.n, err, sizeof err), LC_PROTO_EINVAL);
  assert_non_null(strstr(err, "UTF-8"));
  /* a length past the end of its message */
  raw.n = 0;
  put_key(&raw, 1, 2);
  put_varint(&raw, 1000);
  cm.n = 0;
  put_msg(&cm, 1, &raw);
  frame(&f, "v1", "ConfigMap", &cm);
  assert_int_equal(decode_rc(f.b, f.n, err, sizeof err), LC_PROTO_EINVAL);
  /* field number 0 */
  raw.n = 0;
  put_int(&raw, 0, 1);
  frame(&f, "v1", "ConfigMap", &raw);
  assert_int_equal(decode_rc(f.b, f.n, err, sizeof err), LC_PROTO_EINVAL);
  /* kinds lahar does not decode, and content encodings, are refused as such */
  put_str(&md, 1, "x");
  raw.n = 0;
  put_msg(&raw, 1, &md);
  frame(&f, "apps/v1", "Deployment", &raw);
  assert_int_equal(decode_rc(f.b, f.n, err, sizeof err), LC_PROTO_EKIND);
  assert_non_null(strstr(err, "apps/v1/Deployment"));
  frame(&f, "v1", "ConfigMap", &raw);
  f.n -= 4; /* drop contentEncoding/contentType, add an encoding */
  put_str(&f, 3, "gzip");
  assert_int_equal(decode_rc(f.b, f.n, err, sizeof err), LC_PROTO_EKIND);
  /* no kind at all */
  memcpy(f.b, "k8s\0", 4);
  f.n = 4;
  put_msg(&f, 2, &raw);
  assert_int_equal(decode_rc(f.b, f.n, err, sizeof err), LC_PROTO_EINVAL);
}

static void test_content_type(void **unused) {
  (void)unused;
  assert_true(lc_proto_is_content_type("application/vnd.kubernetes.protobuf"));
  assert_true(lc_proto_is_content_type("application/vnd.kubernetes.protobuf; charset=x"));
  assert_false(lc_proto_is_content_type("application/vnd.kubernetes.protobufx"));
  assert_false(lc_proto_is_content_type("application/json"));
  assert_false(lc_proto_is_content_type(""));
  assert_false(lc_proto_is_content_type(NULL));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kubectl_bodies), cmocka_unit_test(test_configmap_secret),
      cmocka_unit_test(test_other_kinds),    cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_content_type),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
