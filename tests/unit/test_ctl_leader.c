/* test_ctl_leader.c — the Lease state machine with an injected clock (core/leader.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "core/leader.h"

static lh_le_record rec(const char *holder, const char *renew, const char *rv) {
  lh_le_record r;
  memset(&r, 0, sizeof(r));
  strcpy(r.holder, holder);
  strcpy(r.renew_time, renew);
  strcpy(r.acquire_time, "t0");
  strcpy(r.rv, rv);
  r.duration_s = 15;
  return r;
}

static void t_create_and_renew(void **s) {
  (void)s;
  lh_le a;
  lh_le_init(&a, "a", 15000, 10000, 2000);
  lh_le_record out;
  assert_int_equal(lh_le_decide(&a, 0, 0, NULL, "w0", &out), LH_LE_CREATE);
  assert_string_equal(out.holder, "a");
  assert_int_equal(out.duration_s, 15);
  out.rv[0] = '1', out.rv[1] = 0;
  assert_int_equal(lh_le_on_write(&a, 0, 1, &out), 1);
  assert_true(a.leading);
  /* renew keeps acquireTime and transitions */
  lh_le_record got = out;
  assert_int_equal(lh_le_decide(&a, 2000, 1, &got, "w1", &out), LH_LE_UPDATE);
  assert_string_equal(out.acquire_time, "w0");
  assert_string_equal(out.renew_time, "w1");
  assert_string_equal(out.rv, "1");
  assert_int_equal(lh_le_on_write(&a, 2000, 1, &out), 0);
  /* renew failures: still leader before the deadline, steps down at it */
  assert_int_equal(lh_le_on_write(&a, 11000, 0, NULL), 0);
  assert_true(a.leading);
  assert_int_equal(lh_le_tick(&a, 12000), 1);
  assert_false(a.leading);
  assert_int_equal(a.losses, 1);
}

static void t_takeover_after_expiry(void **s) {
  (void)s;
  lh_le b;
  lh_le_init(&b, "b", 15000, 10000, 2000);
  lh_le_record out, held = rec("a", "r1", "5");
  /* first sight at t=100: held, wait */
  assert_int_equal(lh_le_decide(&b, 100, 1, &held, "w", &out), LH_LE_NOOP);
  /* the holder renews (record changes): the clock restarts */
  held = rec("a", "r2", "6");
  assert_int_equal(lh_le_decide(&b, 10000, 1, &held, "w", &out), LH_LE_NOOP);
  assert_int_equal(lh_le_decide(&b, 24000, 1, &held, "w", &out), LH_LE_NOOP);
  /* unchanged for a full lease duration since 10000: take it, with the read rv */
  assert_int_equal(lh_le_decide(&b, 25001, 1, &held, "w9", &out), LH_LE_UPDATE);
  assert_string_equal(out.holder, "b");
  assert_string_equal(out.rv, "6");
  assert_string_equal(out.acquire_time, "w9");
  assert_int_equal(out.transitions, 1);
  /* a conflicting write (somebody else won) leaves b a follower */
  assert_int_equal(lh_le_on_write(&b, 25002, 0, NULL), 0);
  assert_false(b.leading);
  /* an empty holder (released lease) can be taken at once */
  lh_le c;
  lh_le_init(&c, "c", 15000, 10000, 2000);
  held = rec("", "r3", "7");
  assert_int_equal(lh_le_decide(&c, 0, 1, &held, "w", &out), LH_LE_UPDATE);
}

static void t_json(void **s) {
  (void)s;
  lh_le_record r = rec("me", "2026-01-01T00:00:00.000000Z", "42"), back;
  r.transitions = 3;
  json_t *j = lh_le_record_to_json(&r, "kube-system", "lahar");
  assert_non_null(j);
  assert_int_equal(lh_le_record_from_json(j, &back), 0);
  assert_string_equal(back.holder, "me");
  assert_string_equal(back.rv, "42");
  assert_int_equal(back.transitions, 3);
  assert_int_equal(back.duration_s, 15);
  json_decref(j);
  assert_int_equal(lh_le_record_from_json(NULL, &back), -1);
  char t[40];
  lh_le_microtime(1000 * 86400 + 5, t, sizeof(t));
  assert_string_equal(t, "1970-01-02T00:00:00.005000Z");
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(t_create_and_renew), cmocka_unit_test(t_takeover_after_expiry),
                                     cmocka_unit_test(t_json)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
