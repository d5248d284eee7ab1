/* test_lc_selector.c — label and field selectors (hack/localcluster/selector.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "localcluster/selector.h"

static const char *const LABELS[] = {
    "{}",
    "{\"app\":\"web\",\"tier\":\"fe\"}",
    "{\"app\":\"db\",\"env\":\"prod\"}",
    "{\"app\":\"web\",\"example.com/team\":\"a\",\"gen\":\"5\"}",
};
#define NL 4

/* selector, then expected match (0/1) for each label set above */
static const struct {
  const char *sel;
  int m[NL];
} MATCH[] = {
    {"", {1, 1, 1, 1}},
    {"  ", {1, 1, 1, 1}},
    {"app=web", {0, 1, 0, 1}},
    {"app==web", {0, 1, 0, 1}},
    {"app = web", {0, 1, 0, 1}},
    {"app!=web", {1, 0, 1, 0}},
    {"app", {0, 1, 1, 1}},
    {"!app", {1, 0, 0, 0}},
    {"app in (web,db)", {0, 1, 1, 1}},
    {"app in (db)", {0, 0, 1, 0}},
    {"app notin (web)", {1, 0, 1, 0}},
    {"app=web,tier=fe", {0, 1, 0, 0}},
    {" app = web , !tier ", {0, 0, 0, 1}},
    {"example.com/team=a", {0, 0, 0, 1}},
    {"env in (prod, staging),app", {0, 0, 1, 0}},
    {"gen>4", {0, 0, 0, 1}},
    {"gen<4", {0, 0, 0, 0}},
    {"tier=", {0, 0, 0, 0}},
    {"tier!=", {1, 1, 1, 1}}, /* missing labels match != */
};

static const char *const INVALID[] = {
    "app=web,",          /* trailing comma */
    "app in web",        /* missing ( */
    "app in (web",       /* missing ) */
    "app in ()x",        /* garbage */
    "=web",              /* missing key */
    "app=we b",          /* space inside the value */
    "app=-web",          /* value must start alphanumeric */
    "Bad_Prefix.com/x=1", /* prefix must be a lowercase subdomain */
    "a/b/c=1",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1", /* 64 chars */
    "app=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "!app=web",
    "gt>x",
    "app in (a b)",
};

static void label_selector_table(void **state) {
  (void)state;
  json_t *ls[NL];
  for (int i = 0; i < NL; i++) ls[i] = json_loads(LABELS[i], 0, NULL);
  for (size_t t = 0; t < sizeof(MATCH) / sizeof(MATCH[0]); t++) {
    lh_label_selector *s = NULL;
    char err[256] = "";
    if (lh_label_selector_parse(MATCH[t].sel, &s, err, sizeof(err)) != 0) fail_msg("parse \"%s\": %s", MATCH[t].sel, err);
    for (int i = 0; i < NL; i++)
      if ((int)lh_label_selector_matches(s, ls[i]) != MATCH[t].m[i])
        fail_msg("\"%s\" on %s: expected %d", MATCH[t].sel, LABELS[i], MATCH[t].m[i]);
    lh_label_selector_free(s);
  }
  for (int i = 0; i < NL; i++) json_decref(ls[i]);
}

static void label_selector_invalid(void **state) {
  (void)state;
  for (size_t t = 0; t < sizeof(INVALID) / sizeof(INVALID[0]); t++) {
    lh_label_selector *s = (lh_label_selector *)1;
    char err[256] = "";
    int rc = lh_label_selector_parse(INVALID[t], &s, err, sizeof(err));
    if (rc != LH_SEL_EINVAL) {
      lh_label_selector_free(rc == 0 ? s : NULL);
      fail_msg("\"%s\" parsed (rc %d) but is invalid", INVALID[t], rc);
    }
    assert_null(s);
    assert_true(strlen(err) > 0);
  }
  char err[256];
  lh_label_selector *s;
  assert_int_equal(lh_label_selector_parse("app=-web", &s, err, sizeof(err)), LH_SEL_EINVAL);
  assert_non_null(strstr(err, "invalid label value"));
}

static void label_selector_string_and_json(void **state) {
  (void)state;
  lh_label_selector *s;
  assert_int_equal(lh_label_selector_parse("z in (b,a),a!=x,!m,k", &s, NULL, 0), 0);
  char *txt = lh_label_selector_string(s);
  assert_string_equal(txt, "a!=x,k,!m,z in (a,b)"); /* sorted by key, like labels.Selector */
  free(txt);
  lh_label_selector_free(s);

  json_t *j = json_loads("{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":[{\"key\":\"tier\",\"operator\":"
                         "\"In\",\"values\":[\"fe\",\"be\"]},{\"key\":\"old\",\"operator\":\"DoesNotExist\"}]}",
                         0, NULL);
  char err[256] = "";
  assert_int_equal(lh_label_selector_from_json(j, &s, err, sizeof(err)), 0);
  json_t *l1 = json_loads("{\"app\":\"web\",\"tier\":\"fe\"}", 0, NULL);
  json_t *l2 = json_loads("{\"app\":\"web\",\"tier\":\"fe\",\"old\":\"1\"}", 0, NULL);
  assert_true(lh_label_selector_matches(s, l1));
  assert_false(lh_label_selector_matches(s, l2));
  lh_label_selector_free(s);
  json_decref(j);
  /* null → nothing, {} → everything */
  assert_int_equal(lh_label_selector_from_json(NULL, &s, err, sizeof(err)), 0);
  assert_true(lh_label_selector_is_nothing(s));
  assert_false(lh_label_selector_matches(s, l1));
  lh_label_selector_free(s);
  j = json_object();
  assert_int_equal(lh_label_selector_from_json(j, &s, err, sizeof(err)), 0);
  assert_true(lh_label_selector_is_everything(s));
  assert_true(lh_label_selector_matches(s, l1));
  lh_label_selector_free(s);
  json_decref(j);
  /* invalid expressions */
  const char *bad[] = {
      "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":[]}]}",
      "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\",\"values\":[\"x\"]}]}",
      "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Near\"}]}",
      "{\"matchExpressions\":[{\"operator\":\"Exists\"}]}",
      "{\"matchLabels\":{\"a\":1}}",
      "{\"matchLabels\":{\"a b\":\"x\"}}",
      "[1]",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    j = json_loads(bad[i], 0, NULL);
    assert_non_null(j);
    err[0] = '\0';
    if (lh_label_selector_from_json(j, &s, err, sizeof(err)) != LH_SEL_EINVAL) fail_msg("accepted %s", bad[i]);
    assert_true(err[0] != '\0');
    json_decref(j);
  }
  json_decref(l1);
  json_decref(l2);
}

static void field_selectors(void **state) {
  (void)state;
  json_t *p1 = json_loads("{\"metadata\":{\"name\":\"a\",\"namespace\":\"ns\"},\"spec\":{\"nodeName\":\"n1\","
                          "\"hostNetwork\":true},\"status\":{\"phase\":\"Running\"}}", 0, NULL);
  json_t *p2 = json_loads("{\"metadata\":{\"name\":\"b\",\"namespace\":\"ns\"},\"spec\":{},\"status\":{\"phase\":"
                          "\"Pending\"}}", 0, NULL);
  static const struct {
    const char *sel;
    int m1, m2;
  } T[] = {
      {"", 1, 1},
      {"metadata.name=a", 1, 0},
      {"metadata.name==b", 0, 1},
      {"metadata.name!=a", 0, 1},
      {"spec.nodeName=", 0, 1},
      {"spec.nodeName!=", 1, 0},
      {"status.phase=Running,metadata.namespace=ns", 1, 0},
      {"spec.hostNetwork=true", 1, 0},
      {" status.phase = Pending ", 0, 1},
  };
  for (size_t i = 0; i < sizeof(T) / sizeof(T[0]); i++) {
    lh_field_selector *f = NULL;
    char err[256] = "";
    if (lh_field_selector_parse(T[i].sel, "pods", 0, &f, err, sizeof(err))) fail_msg("%s: %s", T[i].sel, err);
    if ((int)lh_field_selector_matches(f, p1) != T[i].m1 || (int)lh_field_selector_matches(f, p2) != T[i].m2)
      fail_msg("field selector %s", T[i].sel);
    lh_field_selector_free(f);
  }
  lh_field_selector *f;
  char err[256] = "";
  assert_int_equal(lh_field_selector_parse("spec.nodeName=x", "scheduling.volcano.sh/queues", 0, &f, err, sizeof(err)),
                   LH_SEL_EINVAL);
  assert_string_equal(err, "field label not supported: spec.nodeName");
  assert_int_equal(lh_field_selector_parse("status.phase=Running", "configmaps", 0, &f, err, sizeof(err)), LH_SEL_EINVAL);
  assert_string_equal(err, "\"status.phase\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"");
  assert_int_equal(lh_field_selector_parse("metadata.name", "pods", 0, &f, err, sizeof(err)), LH_SEL_EINVAL);
  assert_int_equal(lh_field_selector_parse("spec.x.y=1", "argoproj.io/workflows", LH_FIELDSEL_ANY_PATH, &f, err,
                                           sizeof(err)), 0);
  lh_field_selector_free(f);
  assert_int_equal(lh_field_selector_parse("metadata.name=a\\,b,spec.nodeName=n1", "pods", 0, &f, err, sizeof(err)), 0);
  assert_string_equal(lh_field_selector_required(f, "metadata.name"), "a,b");
  assert_string_equal(lh_field_selector_required(f, "spec.nodeName"), "n1");
  assert_null(lh_field_selector_required(f, "status.phase"));
  lh_field_selector_free(f);
  assert_int_equal(lh_field_selector_parse("involvedObject.name=x,source=kubelet", "events", 0, &f, err, sizeof(err)), 0);
  json_t *ev = json_loads("{\"involvedObject\":{\"name\":\"x\"},\"source\":{\"component\":\"kubelet\"}}", 0, NULL);
  assert_true(lh_field_selector_matches(f, ev));
  json_decref(ev);
  lh_field_selector_free(f);
  json_decref(p1);
  json_decref(p2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(label_selector_table),
      cmocka_unit_test(label_selector_invalid),
      cmocka_unit_test(label_selector_string_and_json),
      cmocka_unit_test(field_selectors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
