/* test_nodesim_parse.c — hack/nodesim parsers: quantities (through the client library),
 * quantity formatting, Go durations, "k=v" lists, taints and pool quotas. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "nodesim/sim.h"

static int64_t q(const char *s) {
  int64_t m = -1;
  assert_int_equal(sim_quantity_parse(s, &m), 0);
  return m;
}

/* 1.0 quantities in milli-units */
static void quantity_parses_kubernetes_notation(void **state) {
  (void)state;
  assert_int_equal(q("500m"), 500);
  assert_int_equal(q("2"), 2000);
  assert_int_equal(q("1.5"), 1500);
  assert_int_equal(q("0.0001"), 1); /* rounded up like MilliValue */
  assert_int_equal(q("128Gi"), 128LL * 1024 * 1024 * 1024 * 1000);
  assert_int_equal(q("1Ki"), 1024000);
  assert_int_equal(q("1e3"), 1000000);
  assert_int_equal(q("4k"), 4000000);
  assert_int_equal(q("100M"), 100000000000LL);
  assert_int_equal(q("0"), 0);
}

/* 1.1 bad quantities are refused, never crash */
static void quantity_refuses_garbage(void **state) {
  (void)state;
  int64_t m;
  const char *bad[] = {"", "abc", "-1", "12X", "1 Gi", " 1", "0x10", "inf", "nan", "1.2.3", "Gi"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_int_equal(sim_quantity_parse(bad[i], &m), LH_ENODESIM_INVAL);
  assert_int_equal(sim_quantity_parse(NULL, &m), LH_ENODESIM_INVAL);
  assert_int_equal(sim_quantity_parse("100Ei", &m), LH_ENODESIM_INVAL); /* does not fit */
}

/* 1.2 formatting picks whole units, milli-units or the largest exact binary suffix */
static void quantity_formats_canonically(void **state) {
  (void)state;
  char b[32];
  assert_true(sim_quantity_format(32000, 0, b, sizeof(b)) > 0);
  assert_string_equal(b, "32");
  sim_quantity_format(500, 0, b, sizeof(b));
  assert_string_equal(b, "500m");
  sim_quantity_format(128LL * 1024 * 1024 * 1024 * 1000, 1, b, sizeof(b));
  assert_string_equal(b, "128Gi");
  sim_quantity_format(1536LL * 1024 * 1024 * 1000, 1, b, sizeof(b));
  assert_string_equal(b, "1536Mi");
  sim_quantity_format(1000000, 1, b, sizeof(b));
  assert_string_equal(b, "1000");
  assert_int_equal(sim_quantity_format(1000, 0, b, 1), -1);
}

static int64_t d(const char *s) {
  int64_t ms = -1;
  assert_int_equal(sim_duration_parse(s, &ms), 0);
  return ms;
}

/* 2.0 Go durations and plain seconds */
static void duration_parses_go_syntax(void **state) {
  (void)state;
  assert_int_equal(d("30s"), 30000);
  assert_int_equal(d("1m30s"), 90000);
  assert_int_equal(d("500ms"), 500);
  assert_int_equal(d("1h"), 3600000);
  assert_int_equal(d("1.5s"), 1500);
  assert_int_equal(d("2h45m"), 9900000);
  assert_int_equal(d("1us"), 1);   /* sub-millisecond rounds up */
  assert_int_equal(d("1500us"), 2);
  assert_int_equal(d("30"), 30000); /* plain seconds */
  assert_int_equal(d("0.25"), 250);
  assert_int_equal(d("0"), 0);
  assert_int_equal(d(" 2s "), 2000);
  assert_int_equal(d("+3s"), 3000);
}

/* 2.1 malformed or negative durations are refused */
static void duration_refuses_garbage(void **state) {
  (void)state;
  int64_t ms;
  const char *bad[] = {"", "s", "-1s", "1x", "1m30", "1..5s", "abc", ".s", "1s2", "10d"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_int_not_equal(sim_duration_parse(bad[i], &ms), 0);
  assert_int_equal(sim_duration_parse("100000000h", &ms), LH_ENODESIM_RANGE);
  assert_int_equal(sim_duration_parse(NULL, &ms), LH_ENODESIM_INVAL);
}

/* 3.0 "k=v,..." lists */
static void kvlist_parses_and_trims(void **state) {
  (void)state;
  sim_kvlist l;
  char err[128];
  assert_int_equal(sim_kvlist_parse(" a=1, b.io/x = two ,,c=", 1, &l, err, sizeof(err)), 0);
  assert_int_equal(l.n, 3);
  assert_string_equal(sim_kvlist_get(&l, "a"), "1");
  assert_string_equal(sim_kvlist_get(&l, "b.io/x"), "two");
  assert_string_equal(sim_kvlist_get(&l, "c"), "");
  assert_null(sim_kvlist_get(&l, "d"));
  sim_kvlist_free(&l);
  assert_int_equal(sim_kvlist_parse(NULL, 1, &l, err, sizeof(err)), 0);
  assert_int_equal(l.n, 0);
  sim_kvlist_free(&l);
  assert_int_equal(sim_kvlist_parse("a=1,b", 1, &l, err, sizeof(err)), LH_ENODESIM_INVAL);
  assert_non_null(strstr(err, "'b'"));
  assert_int_equal(sim_kvlist_parse("=1", 1, &l, err, sizeof(err)), LH_ENODESIM_INVAL);
  assert_int_equal(sim_kvlist_parse("a b=1", 1, &l, err, sizeof(err)), LH_ENODESIM_INVAL);
}

/* 3.1 taints */
static void taints_parse_with_and_without_value(void **state) {
  (void)state;
  sim_taint t[4];
  char err[160];
  assert_int_equal(sim_taints_parse("gpu=true:NoSchedule, dedicated:NoExecute", t, 4, err, sizeof(err)), 2);
  assert_string_equal(t[0].key, "gpu");
  assert_string_equal(t[0].value, "true");
  assert_string_equal(t[0].effect, "NoSchedule");
  assert_string_equal(t[1].key, "dedicated");
  assert_string_equal(t[1].value, "");
  assert_string_equal(t[1].effect, "NoExecute");
  assert_int_equal(sim_taints_parse("", t, 4, err, sizeof(err)), 0);
  assert_int_equal(sim_taints_parse("a=b", t, 4, err, sizeof(err)), LH_ENODESIM_INVAL);
  assert_int_equal(sim_taints_parse("a=b:Sometimes", t, 4, err, sizeof(err)), LH_ENODESIM_INVAL);
  assert_int_equal(sim_taints_parse("a:NoSchedule,b:NoSchedule", t, 1, err, sizeof(err)), LH_ENODESIM_INVAL);
}

/* 3.2 pool quotas */
static void quota_parses_resources(void **state) {
  (void)state;
  lh_nodesim_pool p = {0};
  char err[160];
  assert_int_equal(sim_quota_parse("cpu=64,memory=256Gi,nvidia.com/gpu=8,pods=500", &p, err, sizeof(err)), 0);
  assert_int_equal(p.cpu_milli, 64000);
  assert_int_equal(p.memory_bytes, 256LL << 30);
  assert_int_equal(p.gpu, 8);
  assert_int_equal(p.max_pods, 500);
  assert_int_equal(sim_quota_parse("cpu=500m", &p, err, sizeof(err)), 0);
  assert_int_equal(p.cpu_milli, 500);
  assert_int_equal(p.gpu, 8); /* untouched */
  assert_int_equal(sim_quota_parse("disk=1", &p, err, sizeof(err)), LH_ENODESIM_INVAL);
  assert_non_null(strstr(err, "disk"));
  assert_int_equal(sim_quota_parse("cpu=lots", &p, err, sizeof(err)), LH_ENODESIM_INVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(quantity_parses_kubernetes_notation),
      cmocka_unit_test(quantity_refuses_garbage),
      cmocka_unit_test(quantity_formats_canonically),
      cmocka_unit_test(duration_parses_go_syntax),
      cmocka_unit_test(duration_refuses_garbage),
      cmocka_unit_test(kvlist_parses_and_trims),
      cmocka_unit_test(taints_parse_with_and_without_value),
      cmocka_unit_test(quota_parses_resources),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
