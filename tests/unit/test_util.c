/* test_util.c — bounded buffer and log-level parsing (controller/util). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/log.h"

static void buf_appends_and_terminates(void **state) {
  (void)state;
  lh_buf b;
  lh_buf_init(&b, 100);
  assert_string_equal(lh_buf_str(&b), "");
  assert_int_equal(lh_buf_adds(&b, "abc"), LH_BUF_OK);
  assert_int_equal(lh_buf_addf(&b, "-%d-", 42), LH_BUF_OK);
  assert_string_equal(lh_buf_str(&b), "abc-42-");
  assert_int_equal(b.len, 7);
  lh_buf_free(&b);
}

static void buf_refuses_past_cap_and_keeps_contents(void **state) {
  (void)state;
  lh_buf b;
  lh_buf_init(&b, 8);
  assert_int_equal(lh_buf_adds(&b, "12345678"), LH_BUF_OK);
  assert_int_equal(lh_buf_adds(&b, "9"), LH_BUF_TOOBIG);
  assert_int_equal(lh_buf_addf(&b, "%s", "x"), LH_BUF_TOOBIG);
  assert_string_equal(lh_buf_str(&b), "12345678");
  lh_buf_free(&b);
}

static void buf_take_hands_over_memory(void **state) {
  (void)state;
  lh_buf b;
  lh_buf_init(&b, 1 << 20);
  for (int i = 0; i < 1000; i++) assert_int_equal(lh_buf_addf(&b, "%04d", i), LH_BUF_OK);
  assert_int_equal(b.len, 4000);
  char *s = lh_buf_take(&b);
  assert_int_equal(strlen(s), 4000);
  assert_memory_equal(s + 3996, "0999", 4);
  assert_null(b.data);
  assert_int_equal(b.len, 0);
  free(s);
  char *empty = lh_buf_take(&b);
  assert_string_equal(empty, "");
  free(empty);
}

static void log_levels_parse(void **state) {
  (void)state;
  assert_int_equal(lh_log_level_parse("debug"), LH_LOG_DEBUG);
  assert_int_equal(lh_log_level_parse("WARN"), LH_LOG_WARN);
  assert_int_equal(lh_log_level_parse("error"), LH_LOG_ERROR);
  assert_int_equal(lh_log_level_parse("loud"), -1);
  assert_int_equal(lh_log_level_parse(NULL), -1);
  assert_string_equal(lh_log_redact("s3cr3t"), "<redacted>");
  assert_string_equal(lh_log_redact(""), "");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(buf_appends_and_terminates),
      cmocka_unit_test(buf_refuses_past_cap_and_keeps_contents),
      cmocka_unit_test(buf_take_hands_over_memory),
      cmocka_unit_test(log_levels_parse),
  };
  return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
