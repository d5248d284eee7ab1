/* test_lc_gojson.c — Go encoding/json syntax error texts (hack/localcluster/gojson.c), as a 1.20
 * apiserver quotes them in messages about undecodable bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "localcluster/gojson.h"

static void expect(const char *in, const char *want) {
  char m[200] = "";
  int rc = lc_gojson_check(in, strlen(in), m, sizeof m);
  if (!want) {
    if (rc) fail_msg("%s: unexpected error %s", in, m);
    return;
  }
  if (!rc) fail_msg("%s: accepted", in);
  if (strcmp(m, want)) fail_msg("%s: got \"%s\", want \"%s\"", in, m, want);
}

static void test_valid(void **st) {
  (void)st;
  expect("{}", NULL);
  expect(" {\"a\":[1,2.5e-3,true,false,null,\"x\\u00e9\\n\"],\"b\":{}} ", NULL);
  expect("[]", NULL);
  expect("0", NULL);
  expect("-12.5E+3", NULL);
}

static void test_errors(void **st) {
  (void)st;
  expect("{not json", "invalid character 'n' looking for beginning of object key string");
  expect("{\"apiVersion\":", "unexpected end of JSON input");
  expect("", "unexpected end of JSON input");
  expect("{\"a\" 1}", "invalid character '1' after object key");
  expect("{\"a\":1 \"b\"}", "invalid character '\"' after object key:value pair");
  expect("[1 2]", "invalid character '2' after array element");
  expect("{\"a\":tru}", "invalid character '}' in literal true (expecting 'e')");
  expect("{\"a\":x}", "invalid character 'x' looking for beginning of value");
  expect("{} x", "invalid character 'x' after top-level value");
  expect("[01]", "invalid character '1' after array element");
  expect("[1.]", "invalid character ']' after decimal point in numeric literal");
  expect("[1e]", "invalid character ']' in exponent of numeric literal");
  expect("[-x]", "invalid character 'x' in numeric literal");
  expect("[\"a\\q\"]", "invalid character 'q' in string escape code");
  expect("[\"a\nb\"]", "invalid character '\\n' in string literal");
  expect("{'a':1}", "invalid character '\\'' looking for beginning of object key string");
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_valid), cmocka_unit_test(test_errors)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
