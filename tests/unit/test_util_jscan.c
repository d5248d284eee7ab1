/* test_util_jscan.c — the strict JSON scanner (controller/util/jscan.c): every token class,
 * nesting limits, escapes, UTF-8, numbers, the error messages, in-place navigation, and
 * agreement with jansson's json_loadb (flags 0) on fixed cases and deterministic mutations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/jscan.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Validates s (strlen) and checks that jansson agrees on accept/reject. Returns validate's rc. */
static int check(const char *s, size_t n) {
  lh_js_err err = {0, NULL};
  int rc = lh_js_validate(s, n, 0, &err);
  json_t *j = json_loadb(s, n, 0, NULL);
  if ((rc == 0) != (j != NULL))
    fail_msg("disagree with jansson on [%.*s]: jscan %s (%s at %zu)", (int)n, s, rc ? "rejects" : "accepts",
             err.msg ? err.msg : "", err.offset);
  if (rc) assert_non_null(err.msg);
  json_decref(j);
  return rc;
}
#define OK(s) assert_int_equal(check(s, sizeof(s) - 1), 0)
#define BAD(s) assert_int_equal(check(s, sizeof(s) - 1), -1)

static void tokens_accepted(void **state) {
  OK("{}");
  OK("[]");
  OK(" \t\r\n{ } \n");
  OK("[true,false,null]");
  OK("{\"a\":{\"b\":[1,{\"c\":[]}]},\"d\":\"e\"}");
  OK("[0,-0,1,-1,10,1.5,-1.5e10,1E-5,1e+5,0.0,123456789012345678]");
  OK("[9223372036854775807,-9223372036854775808]");
  OK("[1.7976931348623157e308,1e-400]"); /* underflow is not an error for jansson either */
  OK("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]");
  OK("[\"\\u0041\\u00e9\\u20AC\\ud83d\\ude00\"]");
  OK("[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\x7f\"]");
  OK("{\"a\":1,\"a\":2}"); /* duplicates are jansson's business too (flags 0) */
}

static void tokens_rejected(void **state) {
  BAD("");
  BAD("   ");
  BAD("1");           /* scalar at the top */
  BAD("\"s\"");
  BAD("[01]");
  BAD("[1.]");
  BAD("[.5]");
  BAD("[-]");
  BAD("[+1]");
  BAD("[1e]");
  BAD("[1e+]");
  BAD("[9223372036854775808]");
  BAD("[-9223372036854775809]");
  BAD("[1e400]");
  BAD("[-1e400]");
  BAD("[\"abc]");
  BAD("[\"a\x01\"]");
  BAD("[\"\\x\"]");
  BAD("[\"\\u12G4\"]");
  BAD("[\"\\u123\"]");
  BAD("[\"\\u0000\"]");
  BAD("[\"\\udc00\"]");
  BAD("[\"\\ud800\"]");
  BAD("[\"\\ud800\\u0041\"]");
  BAD("[\"\xc0\x80\"]");         /* overlong */
  BAD("[\"\xe0\x80\x80\"]");     /* overlong */
  BAD("[\"\xed\xa0\x80\"]");     /* encoded surrogate */
  BAD("[\"\xf4\x90\x80\x80\"]"); /* above U+10FFFF */
  BAD("[\"\xc3\"]");             /* truncated */
  BAD("[\"\x80\"]");             /* lone continuation */
  BAD("[\"\xff\"]");
  BAD("[1,]");
  BAD("[,1]");
  BAD("{\"a\"}");
  BAD("{\"a\":1,}");
  BAD("{1:2}");
  BAD("{\"a\" 1}");
  BAD("[1 2]");
  BAD("[tru]");
  BAD("[truex]");
  BAD("[nul]");
  BAD("{} x");
  BAD("{}{}");
  BAD("[1]\0");
  BAD("[");
  BAD("{\"a\":");
  BAD("[1}");
  BAD("{\"a\":1]");
}

static void errors_say_where(void **state) {
  lh_js_err err = {0, NULL};
  const char *s = "{\"a\": [1, 2,, 3]}";
  assert_int_equal(lh_js_validate(s, strlen(s), 0, &err), -1);
  assert_int_equal(err.offset, 12);
  assert_string_equal(err.msg, "invalid value");
  assert_int_equal(lh_js_validate("[\"\\u0000\"]", 10, 0, &err), -1);
  assert_string_equal(err.msg, "\\u0000 is not allowed");
  assert_int_equal(lh_js_validate("1", 1, 1, &err), 0); /* scalars when allowed */
  assert_int_equal(lh_js_validate(NULL, 0, 0, NULL), -1);
}

static void nesting_limit(void **state) {
  size_t d = LH_JS_MAX_DEPTH;
  char *s = malloc(2 * d + 2);
  memset(s, '[', d + 1);
  memset(s + d + 1, ']', d + 1);
  assert_int_equal(check(s + 1, 2 * d), 0);      /* exactly the limit */
  assert_int_equal(check(s, 2 * d + 2), -1);     /* one more */
  lh_js_err err;
  lh_js_validate(s, 2 * d + 2, 0, &err);
  assert_string_equal(err.msg, "nesting too deep");
  free(s);
}

static void navigation(void **state) {
  const char *s = "{\"a\":1,\"b\":\"x\\\"y\\u00e9\",\"c\":[1,[2,3],{\"d\":\"}\"}],\"a\":{\"e\":null},"
                  "\"k\\u0065y\":true,\"n\":-12}";
  assert_int_equal(lh_js_validate(s, strlen(s), 0, NULL), 0);
  lh_js_val doc, v, k, e;
  assert_int_equal(lh_js_value(s, strlen(s), &doc), 0);
  assert_int_equal(doc.type, LH_JS_OBJECT);
  assert_int_equal(doc.n, strlen(s));
  /* duplicate "a": the last wins, and the count says there were two */
  assert_int_equal(lh_js_obj_get(&doc, "a", &v), 2);
  assert_int_equal(v.type, LH_JS_OBJECT);
  assert_int_equal(lh_js_obj_get(&v, "e", &e), 1);
  assert_int_equal(e.type, LH_JS_NULL);
  /* escaped strings compare and decode */
  assert_int_equal(lh_js_obj_get(&doc, "b", &v), 1);
  assert_int_equal(v.type, LH_JS_STRING);
  assert_true(v.esc);
  assert_true(lh_js_str_eq(&v, "x\"y\xc3\xa9"));
  assert_false(lh_js_str_eq(&v, "x\"y"));
  assert_int_equal(lh_js_str_len(&v), 5);
  char buf[8];
  assert_int_equal(lh_js_str_decode(&v, buf, sizeof(buf)), 5);
  assert_string_equal(buf, "x\"y\xc3\xa9");
  assert_int_equal(lh_js_str_decode(&v, buf, 5), -1); /* needs 6 with the NUL */
  assert_string_equal(buf, "");
  assert_int_equal(lh_js_obj_get(&doc, "key", &v), 1); /* escaped member name */
  assert_int_equal(v.type, LH_JS_TRUE);
  assert_int_equal(lh_js_obj_get(&doc, "zz", &v), 0);
  assert_int_equal(v.type, LH_JS_NONE);
  /* arrays, with brackets and braces inside strings */
  assert_int_equal(lh_js_obj_get(&doc, "c", &v), 1);
  lh_js_iter it;
  lh_js_iter_init(&it, &v);
  int n = 0;
  lh_js_type want[] = {LH_JS_INTEGER, LH_JS_ARRAY, LH_JS_OBJECT};
  while (lh_js_arr_next(&it, &e)) assert_int_equal(e.type, want[n++]);
  assert_int_equal(n, 3);
  assert_true(lh_js_obj_get(&e, "d", &k) == 1 && lh_js_str_eq(&k, "}"));
  /* members in order */
  lh_js_iter_init(&it, &doc);
  const char *names[] = {"a", "b", "c", "a", "key", "n"};
  n = 0;
  while (lh_js_obj_next(&it, &k, &v)) assert_true(lh_js_str_eq(&k, names[n++]));
  assert_int_equal(n, 6);
  int64_t i;
  assert_int_equal(lh_js_int(&v, &i), 0);
  assert_int_equal(i, -12);
  assert_false(lh_js_obj_simple(&doc, 64)); /* duplicate and escaped keys */
  /* a non-container iterates as empty; lookups in non-objects find nothing */
  lh_js_iter_init(&it, &v);
  assert_int_equal(lh_js_arr_next(&it, &e), 0);
  assert_int_equal(lh_js_obj_get(&v, "a", &e), 0);
}

static void integers_and_simple_maps(void **state) {
  const char *s = "[9223372036854775807,-9223372036854775808,1.5,0]";
  lh_js_val doc, v;
  assert_int_equal(lh_js_value(s, strlen(s), &doc), 0);
  lh_js_iter it;
  lh_js_iter_init(&it, &doc);
  int64_t x;
  assert_true(lh_js_arr_next(&it, &v) && lh_js_int(&v, &x) == 0 && x == INT64_MAX);
  assert_true(lh_js_arr_next(&it, &v) && lh_js_int(&v, &x) == 0 && x == INT64_MIN);
  assert_true(lh_js_arr_next(&it, &v) && v.type == LH_JS_REAL && lh_js_int(&v, &x) == -1);
  assert_true(lh_js_arr_next(&it, &v) && lh_js_int(&v, &x) == 0 && x == 0);
  const char *m = "{\"a\":\"1\",\"b\":{\"a\":1},\"c\":2}";
  assert_int_equal(lh_js_value(m, strlen(m), &doc), 0);
  assert_true(lh_js_obj_simple(&doc, 3));
  assert_false(lh_js_obj_simple(&doc, 2)); /* too many members */
  const char *d = "{\"a\":\"1\",\"b\":2,\"a\":3}";
  assert_int_equal(lh_js_value(d, strlen(d), &doc), 0);
  assert_false(lh_js_obj_simple(&doc, 64));
}

/* Deterministic byte mutations of seeds: jscan and jansson must agree on every result. */
static void agrees_with_jansson_under_mutation(void **state) {
  static const char *seeds[] = {
      "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"12\",\"continue\":\"eyJ2\"},"
      "\"items\":[{\"metadata\":{\"name\":\"p\\u00e9\",\"labels\":{\"a\":\"b\"}},\"spec\":{\"priority\":-5,"
      "\"x\":[1.5e3,true,false,null]}}]}",
      "[\"\\ud83d\\ude00\",\"\xe2\x82\xac\",0,-0.0e-0,{}]",
  };
  uint32_t rnd = 0x9e3779b9u;
  size_t runs = 0;
  for (size_t si = 0; si < sizeof(seeds) / sizeof(seeds[0]); si++) {
    size_t n = strlen(seeds[si]);
    char *buf = malloc(n + 8);
    for (int m = 0; m < 20000; m++) {
      memcpy(buf, seeds[si], n);
      size_t len = n;
      int edits = 1 + m % 3;
      for (int e = 0; e < edits; e++) {
        rnd = rnd * 1664525u + 1013904223u;
        size_t pos = (rnd >> 8) % len;
        static const char pool[] = "{}[]\",:\\u0123456789.eE+-tfn aZ\x80\xc3\xe2\xf0\x01";
        switch ((rnd >> 4) % 3) {
        case 0: buf[pos] = pool[(rnd >> 16) % (sizeof(pool) - 1)]; break;
        case 1: memmove(buf + pos, buf + pos + 1, len - pos - 1), len--; break;
        default:
          if (len < n + 7) {
            memmove(buf + pos + 1, buf + pos, len - pos);
            buf[pos] = pool[(rnd >> 16) % (sizeof(pool) - 1)];
            len++;
          }
        }
        if (len == 0) break;
      }
      check(buf, len);
      runs++;
    }
    free(buf);
  }
  print_message("jscan vs jansson: %zu mutated documents agree\n", runs);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(tokens_accepted),
      cmocka_unit_test(tokens_rejected),
      cmocka_unit_test(errors_say_where),
      cmocka_unit_test(nesting_limit),
      cmocka_unit_test(navigation),
      cmocka_unit_test(integers_and_simple_maps),
      cmocka_unit_test(agrees_with_jansson_under_mutation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
