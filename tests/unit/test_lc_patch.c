/* test_lc_patch.c — PATCH flavours (hack/localcluster/patch*.c): RFC 7386 appendix A, RFC 6902
 * appendix A (incl. error cases), strategic merge patch on pods. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "localcluster/patch.h"

static json_t *J(const char *s) {
  json_error_t e;
  json_t *j = json_loads(s, JSON_DECODE_ANY, &e);
  if (!j) fail_msg("bad test JSON %s: %s", s, e.text);
  return j;
}

/* Applies and compares; expect == NULL means an error with code rc is expected. */
static void check(int type, const char *res, const char *doc, const char *patch, const char *expect, int rc) {
  json_t *d = doc ? J(doc) : NULL, *p = J(patch), *out = NULL;
  char err[512] = "";
  int r = lh_patch_apply(type, res, d, p, &out, err, sizeof(err));
  if (expect) {
    if (r != 0) fail_msg("patch %s on %s failed: %d %s", patch, doc ? doc : "null", r, err);
    json_t *e = J(expect);
    if (!json_equal(out, e)) {
      char *got = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY);
      fail_msg("patch %s on %s:\n  got      %s\n  expected %s", patch, doc ? doc : "null", got, expect);
    }
    json_decref(e);
  } else {
    if (r != rc) fail_msg("patch %s on %s: rc %d (%s), expected %d", patch, doc ? doc : "null", r, err, rc);
    assert_null(out);
    assert_true(err[0] != '\0');
  }
  if (d) {
    /* the input is never modified */
    json_t *again = J(doc);
    assert_true(json_equal(d, again));
    json_decref(again);
  }
  json_decref(out);
  json_decref(d);
  json_decref(p);
}

static void rfc7386_appendix_a(void **state) {
  (void)state;
  static const char *const T[][3] = {
      {"{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
      {"{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}"},
      {"{\"a\":\"b\"}", "{\"a\":null}", "{}"},
      {"{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}"},
      {"{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
      {"{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}"},
      {"{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}"},
      {"{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}"},
      {"[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]"},
      {"{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]"},
      {"{\"a\":\"foo\"}", "null", "null"},
      {"{\"a\":\"foo\"}", "\"bar\"", "\"bar\""},
      {"{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}"},
      {"[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}"},
      {"{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}"},
  };
  for (size_t i = 0; i < sizeof(T) / sizeof(T[0]); i++) check(LH_PATCH_MERGE, "pods", T[i][0], T[i][1], T[i][2], 0);
  check(LH_PATCH_MERGE, "pods", NULL, "{\"a\":{\"b\":null}}", "{\"a\":{}}", 0);
}

/* lh_patch_merge_shared gives lh_patch_merge's result, in the same member order (what the store
 * serialises), and leaves doc and patch as they were. */
static void merge_shared_same_result(void **state) {
  (void)state;
  static const char *const T[][2] = {
      {"{\"a\":\"b\"}", "{\"a\":\"c\"}"},
      {"{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}"},
      {"{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}"},
      {"{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}"},
      {"[\"a\",\"b\"]", "[\"c\",\"d\"]"},
      {"{\"a\":\"foo\"}", "null"},
      {"[1,2]", "{\"a\":\"b\",\"c\":null}"},
      {"{}", "{\"a\":{\"bb\":{\"ccc\":null}}}"},
      /* a pod status update: spec untouched, conditions replaced, a new member appended */
      {"{\"metadata\":{\"name\":\"p\",\"labels\":{\"x\":\"1\"}},\"spec\":{\"containers\":[{\"name\":\"c\"}]},"
       "\"status\":{\"phase\":\"Pending\",\"conditions\":[{\"type\":\"PodScheduled\"}]}}",
       "{\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\"}],\"podIP\":\"10.0.0.1\"}}"},
  };
  for (size_t i = 0; i < sizeof(T) / sizeof(T[0]); i++) {
    json_t *doc = json_loads(T[i][0], JSON_DECODE_ANY, NULL), *patch = json_loads(T[i][1], JSON_DECODE_ANY, NULL);
    assert_non_null(doc);
    assert_non_null(patch);
    char *doc_before = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY);
    char *patch_before = json_dumps(patch, JSON_COMPACT | JSON_ENCODE_ANY);
    json_t *a = NULL, *b = NULL;
    assert_int_equal(lh_patch_merge(doc, patch, &a, NULL, 0), 0);
    assert_int_equal(lh_patch_merge_shared(doc, patch, &b, NULL, 0), 0);
    char *sa = json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY), *sb = json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY);
    assert_string_equal(sa, sb);
    /* replacing members of the result's new objects leaves doc alone */
    if (json_is_object(b)) json_object_set_new(b, "added", json_true());
    json_t *st = json_object_get(b, "status");
    if (json_is_object(st)) json_object_set_new(st, "phase", json_string("Done"));
    char *doc_after = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY);
    char *patch_after = json_dumps(patch, JSON_COMPACT | JSON_ENCODE_ANY);
    assert_string_equal(doc_before, doc_after);
    assert_string_equal(patch_before, patch_after);
    free(sa);
    free(sb);
    free(doc_before);
    free(doc_after);
    free(patch_before);
    free(patch_after);
    json_decref(a);
    json_decref(b);
    json_decref(doc);
    json_decref(patch);
  }
  json_t *b = NULL;
  assert_int_equal(lh_patch_merge_shared(NULL, NULL, &b, NULL, 0), LH_PATCH_EINVAL);
  assert_null(b);
  /* too deep: refused, nothing leaks */
  char deep[8200];
  size_t n = 0;
  for (int i = 0; i < 1100; i++) n += (size_t)snprintf(deep + n, sizeof deep - n, "{\"a\":");
  n += (size_t)snprintf(deep + n, sizeof deep - n, "1");
  for (int i = 0; i < 1100; i++) deep[n++] = '}';
  deep[n] = 0;
  json_t *dp = json_loads(deep, 0, NULL);
  if (dp) { /* jansson's own depth limit may refuse it first */
    char err[128];
    assert_int_equal(lh_patch_merge_shared(NULL, dp, &b, err, sizeof err), LH_PATCH_EINVAL);
    assert_null(b);
    json_decref(dp);
  }
}

static void rfc6902_appendix_a(void **state) {
  (void)state;
  /* A.1 - A.16 */
  check(LH_PATCH_JSON, "", "{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\"}]",
        "{\"baz\":\"qux\",\"foo\":\"bar\"}", 0);
  check(LH_PATCH_JSON, "", "{\"foo\":[\"bar\",\"baz\"]}", "[{\"op\":\"add\",\"path\":\"/foo/1\",\"value\":\"qux\"}]",
        "{\"foo\":[\"bar\",\"qux\",\"baz\"]}", 0);
  check(LH_PATCH_JSON, "", "{\"baz\":\"qux\",\"foo\":\"bar\"}", "[{\"op\":\"remove\",\"path\":\"/baz\"}]",
        "{\"foo\":\"bar\"}", 0);
  check(LH_PATCH_JSON, "", "{\"foo\":[\"bar\",\"qux\",\"baz\"]}", "[{\"op\":\"remove\",\"path\":\"/foo/1\"}]",
        "{\"foo\":[\"bar\",\"baz\"]}", 0);
  check(LH_PATCH_JSON, "", "{\"baz\":\"qux\",\"foo\":\"bar\"}",
        "[{\"op\":\"replace\",\"path\":\"/baz\",\"value\":\"boo\"}]", "{\"baz\":\"boo\",\"foo\":\"bar\"}", 0);
  check(LH_PATCH_JSON, "",
        "{\"foo\":{\"bar\":\"baz\",\"waldo\":\"fred\"},\"qux\":{\"corge\":\"grault\"}}",
        "[{\"op\":\"move\",\"from\":\"/foo/waldo\",\"path\":\"/qux/thud\"}]",
        "{\"foo\":{\"bar\":\"baz\"},\"qux\":{\"corge\":\"grault\",\"thud\":\"fred\"}}", 0);
  check(LH_PATCH_JSON, "", "{\"foo\":[\"all\",\"grass\",\"cows\",\"eat\"]}",
        "[{\"op\":\"move\",\"from\":\"/foo/1\",\"path\":\"/foo/3\"}]",
        "{\"foo\":[\"all\",\"cows\",\"eat\",\"grass\"]}", 0);
  check(LH_PATCH_JSON, "", "{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}",
        "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"qux\"},{\"op\":\"test\",\"path\":\"/foo/1\",\"value\":2}]",
        "{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}", 0);
  /* A.9 test failure */
  check(LH_PATCH_JSON, "", "{\"baz\":\"qux\"}", "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"bar\"}]", NULL,
        LH_PATCH_ETEST);
  check(LH_PATCH_JSON, "", "{\"foo\":\"bar\"}",
        "[{\"op\":\"add\",\"path\":\"/child\",\"value\":{\"grandchild\":{}}}]",
        "{\"foo\":\"bar\",\"child\":{\"grandchild\":{}}}", 0);
  /* A.11 ignoring unrecognized elements */
  check(LH_PATCH_JSON, "", "{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\",\"xyz\":123}]",
        "{\"foo\":\"bar\",\"baz\":\"qux\"}", 0);
  /* replace of a missing key of an existing object acts like add (Kubernetes 1.20's json-patch) */
  check(LH_PATCH_JSON, "", "{\"foo\":\"bar\"}", "[{\"op\":\"replace\",\"path\":\"/baz\",\"value\":1}]",
        "{\"foo\":\"bar\",\"baz\":1}", 0);
  check(LH_PATCH_JSON, "", "{\"a\":[1]}", "[{\"op\":\"replace\",\"path\":\"/a/3\",\"value\":1}]", NULL,
        LH_PATCH_EPATH);
  /* A.12 adding to a nonexistent target */
  check(LH_PATCH_JSON, "", "{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz/bat\",\"value\":\"qux\"}]", NULL,
        LH_PATCH_EPATH);
  /* A.14 ~ escape ordering */
  check(LH_PATCH_JSON, "", "{\"/\":9,\"~1\":10}", "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":10}]",
        "{\"/\":9,\"~1\":10}", 0);
  /* A.15 comparing strings and numbers */
  check(LH_PATCH_JSON, "", "{\"/\":9,\"~1\":10}", "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":\"10\"}]", NULL,
        LH_PATCH_ETEST);
  /* A.16 adding an array value */
  check(LH_PATCH_JSON, "", "{\"foo\":[\"bar\"]}", "[{\"op\":\"add\",\"path\":\"/foo/-\",\"value\":[\"abc\",\"def\"]}]",
        "{\"foo\":[\"bar\",[\"abc\",\"def\"]]}", 0);
  /* more: copy, ~1, numeric equality, root replace, atomicity, malformed */
  check(LH_PATCH_JSON, "", "{\"a\":{\"b\":1}}", "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/c\"}]",
        "{\"a\":{\"b\":1},\"c\":{\"b\":1}}", 0);
  check(LH_PATCH_JSON, "", "{\"metadata\":{\"labels\":{}}}",
        "[{\"op\":\"add\",\"path\":\"/metadata/labels/app.kubernetes.io~1name\",\"value\":\"x\"}]",
        "{\"metadata\":{\"labels\":{\"app.kubernetes.io/name\":\"x\"}}}", 0);
  check(LH_PATCH_JSON, "", "{\"a\":1}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":1.0}]", "{\"a\":1}", 0);
  check(LH_PATCH_JSON, "", "{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":[1]}]", "[1]", 0);
  check(LH_PATCH_JSON, "", "{\"a\":1}",
        "[{\"op\":\"add\",\"path\":\"/b\",\"value\":2},{\"op\":\"remove\",\"path\":\"/zzz\"}]", NULL, LH_PATCH_EPATH);
  check(LH_PATCH_JSON, "", "{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/99999999999999999999999\",\"value\":2}]",
        NULL, LH_PATCH_EPATH);
  check(LH_PATCH_JSON, "", "{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/2\",\"value\":2}]", NULL, LH_PATCH_EPATH);
  check(LH_PATCH_JSON, "", "{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/01\",\"value\":2}]", NULL, LH_PATCH_EPATH);
  check(LH_PATCH_JSON, "", "{\"a\":[1]}", "[{\"op\":\"remove\",\"path\":\"/a/-\"}]", NULL, LH_PATCH_EPATH);
  check(LH_PATCH_JSON, "", "{\"a\":{\"b\":1}}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/b/c\"}]", NULL,
        LH_PATCH_EPATH);
  check(LH_PATCH_JSON, "", "{\"a\":1}", "[{\"op\":\"frobnicate\",\"path\":\"/a\"}]", NULL, LH_PATCH_EINVAL);
  check(LH_PATCH_JSON, "", "{\"a\":1}", "[{\"op\":\"add\",\"path\":\"a\",\"value\":1}]", NULL, LH_PATCH_EINVAL);
  check(LH_PATCH_JSON, "", "{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/~2\",\"value\":1}]", NULL, LH_PATCH_EINVAL);
  check(LH_PATCH_JSON, "", "{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/b\"}]", NULL, LH_PATCH_EINVAL);
  check(LH_PATCH_JSON, "", "{\"a\":1}", "{\"op\":\"add\"}", NULL, LH_PATCH_EINVAL);
  check(LH_PATCH_JSON, "", "{\"a\":1}", "[42]", NULL, LH_PATCH_EINVAL);
  check(LH_PATCH_JSON, "", "{\"a\":\"s\"}", "[{\"op\":\"add\",\"path\":\"/a/x\",\"value\":1}]", NULL, LH_PATCH_EPATH);
}

static const char POD[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"default\","
    "\"labels\":{\"app\":\"web\",\"tier\":\"fe\"},\"finalizers\":[\"a/x\",\"b/y\"],"
    "\"ownerReferences\":[{\"uid\":\"u1\",\"kind\":\"ReplicaSet\",\"name\":\"rs\"}]},"
    "\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"app:1\",\"env\":[{\"name\":\"A\",\"value\":\"1\"},"
    "{\"name\":\"B\",\"value\":\"2\"}],\"ports\":[{\"containerPort\":80}]},{\"name\":\"side\",\"image\":\"side:1\"}],"
    "\"tolerations\":[{\"key\":\"k1\",\"operator\":\"Exists\"}],"
    "\"volumes\":[{\"name\":\"v1\",\"emptyDir\":{}}]},"
    "\"status\":{\"phase\":\"Pending\",\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"True\"},"
    "{\"type\":\"Ready\",\"status\":\"False\"}]}}";

/* Applies a strategic patch to POD and checks the value at a JSON pointer-ish path via json_patch test. */
static json_t *smp(const char *patch, int expect_rc) {
  json_t *d = J(POD), *p = J(patch), *out = NULL;
  char err[512] = "";
  int r = lh_patch_strategic("pods", d, p, &out, err, sizeof(err));
  if (r != expect_rc) fail_msg("strategic %s: rc %d (%s), expected %d", patch, r, err, expect_rc);
  json_decref(d);
  json_decref(p);
  return out;
}

static void expect_at(json_t *doc, const char *path, const char *value) {
  char buf[1024];
  snprintf(buf, sizeof(buf), "[{\"op\":\"test\",\"path\":\"%s\",\"value\":%s}]", path, value);
  json_t *p = J(buf), *out = NULL;
  char err[256] = "";
  if (lh_patch_json(doc, p, &out, err, sizeof(err)) != 0) {
    char *s = json_dumps(doc, JSON_COMPACT);
    json_t *g = NULL;
    fail_msg("at %s expected %s: %s\n doc %s %p", path, value, err, s, (void *)g);
  }
  json_decref(out);
  json_decref(p);
}

static void strategic_pod(void **state) {
  (void)state;
  json_t *o;
  /* containers merged by name; env merged by name; a new env var; labels map merge; null deletes */
  o = smp("{\"metadata\":{\"labels\":{\"tier\":null,\"new\":\"x\"}},\"spec\":{\"containers\":[{\"name\":\"app\","
          "\"image\":\"app:2\",\"env\":[{\"name\":\"B\",\"value\":\"22\"}]}]}}", 0);
  expect_at(o, "/metadata/labels", "{\"app\":\"web\",\"new\":\"x\"}");
  expect_at(o, "/spec/containers/0/image", "\"app:2\"");
  expect_at(o, "/spec/containers/0/env", "[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\",\"value\":\"22\"}]");
  expect_at(o, "/spec/containers/1", "{\"name\":\"side\",\"image\":\"side:1\"}");
  expect_at(o, "/spec/containers/0/ports", "[{\"containerPort\":80}]");
  json_decref(o);

  /* new container without $setElementOrder goes first (Kubernetes' mergeSortedSlice) */
  o = smp("{\"spec\":{\"containers\":[{\"name\":\"new\",\"image\":\"n:1\"}]}}", 0);
  expect_at(o, "/spec/containers", "[{\"name\":\"new\",\"image\":\"n:1\"},{\"name\":\"app\",\"image\":\"app:1\",\"env\":"
                                   "[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\",\"value\":\"2\"}],\"ports\":[{\"containerPort\":80}]},"
                                   "{\"name\":\"side\",\"image\":\"side:1\"}]");
  json_decref(o);

  /* $setElementOrder puts it where kubectl apply wants it */
  o = smp("{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"app\"},{\"name\":\"side\"},{\"name\":\"new\"}],"
          "\"containers\":[{\"name\":\"new\",\"image\":\"n:1\"}]}}", 0);
  expect_at(o, "/spec/containers/0/name", "\"app\"");
  expect_at(o, "/spec/containers/1/name", "\"side\"");
  expect_at(o, "/spec/containers/2", "{\"name\":\"new\",\"image\":\"n:1\"}");
  json_decref(o);
  o = smp("{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"side\"},{\"name\":\"app\"}]}}", 0);
  expect_at(o, "/spec/containers/0/name", "\"side\"");
  expect_at(o, "/spec/containers/1/name", "\"app\"");
  json_decref(o);

  /* $patch: delete on a list element; $patch: replace on a list */
  o = smp("{\"spec\":{\"containers\":[{\"name\":\"side\",\"$patch\":\"delete\"}]}}", 0);
  expect_at(o, "/spec/containers/0/name", "\"app\"");
  assert_int_equal(json_array_size(json_object_get(json_object_get(o, "spec"), "containers")), 1);
  json_decref(o);
  o = smp("{\"spec\":{\"containers\":[{\"name\":\"only\",\"image\":\"o\"},{\"$patch\":\"replace\"}]}}", 0);
  expect_at(o, "/spec/containers", "[{\"name\":\"only\",\"image\":\"o\"}]");
  json_decref(o);
  /* $patch: replace on a map; $patch: delete on a map */
  o = smp("{\"metadata\":{\"labels\":{\"only\":\"1\",\"$patch\":\"replace\"}}}", 0);
  expect_at(o, "/metadata/labels", "{\"only\":\"1\"}");
  json_decref(o);
  o = smp("{\"metadata\":{\"labels\":{\"$patch\":\"delete\"}}}", 0);
  expect_at(o, "/metadata/labels", "{}");
  json_decref(o);

  /* finalizers: merged primitive list; $deleteFromPrimitiveList */
  o = smp("{\"metadata\":{\"finalizers\":[\"c/z\",\"a/x\"]}}", 0);
  assert_int_equal(json_array_size(json_object_get(json_object_get(o, "metadata"), "finalizers")), 3);
  expect_at(o, "/metadata/finalizers", "[\"c/z\",\"a/x\",\"b/y\"]");
  json_decref(o);
  o = smp("{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"a/x\"]}}", 0);
  expect_at(o, "/metadata/finalizers", "[\"b/y\"]");
  json_decref(o);

  /* status.conditions merged by type */
  o = smp("{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}", 0);
  expect_at(o, "/status/conditions",
            "[{\"type\":\"PodScheduled\",\"status\":\"True\"},{\"type\":\"Ready\",\"status\":\"True\"}]");
  json_decref(o);

  /* tolerations have no strategy: replaced wholesale */
  o = smp("{\"spec\":{\"tolerations\":[{\"key\":\"k2\",\"operator\":\"Exists\"}]}}", 0);
  expect_at(o, "/spec/tolerations", "[{\"key\":\"k2\",\"operator\":\"Exists\"}]");
  json_decref(o);

  /* ownerReferences by uid */
  o = smp("{\"metadata\":{\"ownerReferences\":[{\"uid\":\"u2\",\"kind\":\"Job\",\"name\":\"j\"}]}}", 0);
  assert_int_equal(json_array_size(json_object_get(json_object_get(o, "metadata"), "ownerReferences")), 2);
  json_decref(o);

  /* $retainKeys on a volume: the emptyDir source is dropped in favour of hostPath */
  o = smp("{\"spec\":{\"volumes\":[{\"name\":\"v1\",\"$retainKeys\":[\"name\",\"hostPath\"],"
          "\"hostPath\":{\"path\":\"/x\"}}]}}", 0);
  expect_at(o, "/spec/volumes", "[{\"name\":\"v1\",\"hostPath\":{\"path\":\"/x\"}}]");
  json_decref(o);

  /* malformed patches: clean errors */
  o = smp("{\"spec\":{\"containers\":[{\"image\":\"noname\"}]}}", LH_PATCH_EINVAL);
  assert_null(o);
  o = smp("{\"spec\":{\"containers\":[{\"name\":\"x\",\"$patch\":\"bogus\"}]}}", LH_PATCH_EINVAL);
  assert_null(o);
  o = smp("{\"metadata\":{\"labels\":{\"$patch\":42}}}", LH_PATCH_EINVAL);
  assert_null(o);
  o = smp("{\"spec\":{\"volumes\":[{\"name\":\"v1\",\"$retainKeys\":\"name\"}]}}", LH_PATCH_EINVAL);
  assert_null(o);
  o = smp("{\"spec\":{\"volumes\":[{\"name\":\"v1\",\"$retainKeys\":[\"name\"],\"hostPath\":{}}]}}", LH_PATCH_EINVAL);
  assert_null(o);
  o = smp("{\"spec\":{\"containers\":[[1]]}}", LH_PATCH_EINVAL);
  assert_null(o);
  o = smp("{\"spec\":{\"containers\":[1,{\"name\":\"a\"}]}}", LH_PATCH_EINVAL);
  assert_null(o);
  o = smp("{\"metadata\":{\"$setElementOrder/finalizers\":\"x\"}}", LH_PATCH_EINVAL);
  assert_null(o);
  o = smp("{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"app\"}],\"containers\":[{\"name\":\"zzz\"}]}}",
          LH_PATCH_EINVAL);
  assert_null(o);
}

static void strategic_support_and_types(void **state) {
  (void)state;
  assert_true(lh_patch_strategic_supported("pods"));
  assert_true(lh_patch_strategic_supported("apps/deployments"));
  assert_true(lh_patch_strategic_supported("coordination.k8s.io/leases"));
  assert_false(lh_patch_strategic_supported("scheduling.volcano.sh/queues"));
  assert_false(lh_patch_strategic_supported("argoproj.io/workflows"));
  json_t *d = J("{}"), *p = J("{\"spec\":{}}"), *out = NULL;
  char err[256];
  assert_int_equal(lh_patch_strategic("scheduling.volcano.sh/queues", d, p, &out, err, sizeof(err)),
                   LH_PATCH_EUNSUPPORTED);
  assert_null(out);
  json_decref(d);
  json_decref(p);
  assert_int_equal(lh_patch_type_from_content_type("application/merge-patch+json; charset=utf-8"), LH_PATCH_MERGE);
  assert_int_equal(lh_patch_type_from_content_type("application/json-patch+json"), LH_PATCH_JSON);
  assert_int_equal(lh_patch_type_from_content_type("application/strategic-merge-patch+json"), LH_PATCH_STRATEGIC);
  assert_int_equal(lh_patch_type_from_content_type("application/apply-patch+yaml"), LH_PATCH_APPLY);
  assert_int_equal(lh_patch_type_from_content_type("text/plain"), LH_PATCH_UNKNOWN);
  /* deployment template containers merge by name too */
  check(LH_PATCH_STRATEGIC, "apps/deployments",
        "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"1\"},{\"name\":\"b\",\"image\":\"1\"}]}}}}",
        "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"b\",\"image\":\"2\"}]}}}}",
        "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"1\"},{\"name\":\"b\",\"image\":\"2\"}]}}}}", 0);
  /* node conditions by type, taints replaced */
  check(LH_PATCH_STRATEGIC, "nodes",
        "{\"spec\":{\"taints\":[{\"key\":\"a\",\"effect\":\"NoSchedule\"}]},\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"},{\"type\":\"DiskPressure\",\"status\":\"False\"}]}}",
        "{\"spec\":{\"taints\":[]},\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
        "{\"spec\":{\"taints\":[]},\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"},{\"type\":\"DiskPressure\",\"status\":\"False\"}]}}", 0);
  /* service ports by port */
  check(LH_PATCH_STRATEGIC, "services", "{\"spec\":{\"ports\":[{\"port\":80,\"name\":\"http\"},{\"port\":443}]}}",
        "{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":8080}]}}",
        "{\"spec\":{\"ports\":[{\"port\":80,\"name\":\"http\",\"targetPort\":8080},{\"port\":443}]}}", 0);
}

/* A short patch that copies an array into itself doubles it each time: refused by the
 * accumulated-copy limit instead of growing to 2^30 elements (CVE-2019-1002100's shape). */
static void json_patch_copy_bomb_refused(void **state) {
  (void)state;
  json_t *doc = json_loads("{\"a\":[1]}", 0, NULL);
  json_t *patch = json_array();
  for (int i = 0; i < 30; i++)
    json_array_append_new(patch, json_pack("{s:s,s:s,s:s}", "op", "copy", "from", "/a", "path", "/a/-"));
  json_t *out = NULL;
  char err[256] = "";
  assert_int_equal(lh_patch_json(doc, patch, &out, err, sizeof err), LH_PATCH_EINVAL);
  assert_null(out);
  assert_non_null(strstr(err, "accumulated size of copied values"));
  /* a few copies well under the limit still work */
  json_t *small = json_array();
  for (int i = 0; i < 3; i++)
    json_array_append_new(small, json_pack("{s:s,s:s,s:s}", "op", "copy", "from", "/a", "path", "/a/-"));
  assert_int_equal(lh_patch_json(doc, small, &out, err, sizeof err), 0);
  assert_int_equal(json_array_size(json_object_get(out, "a")), 4); /* each copy appends one (nested) element */
  json_decref(out);
  json_decref(small);
  json_decref(patch);
  json_decref(doc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(rfc7386_appendix_a),
      cmocka_unit_test(merge_shared_same_result),
      cmocka_unit_test(rfc6902_appendix_a),
      cmocka_unit_test(json_patch_copy_bomb_refused),
      cmocka_unit_test(strategic_pod),
      cmocka_unit_test(strategic_support_and_types),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
