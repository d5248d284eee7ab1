/* test_fuzz_smoke_sched.c — fuzz smoke test of the scheduling core's configuration parser:
 * tests/fuzz/fuzz_sched_conf.c over tests/fuzz/corpus/sched_conf/ plus deterministic mutations
 * (tests/fuzz/driver.c). A separate binary from test_fuzz_smoke_kube because scheduler/ and
 * controller/kube/ cannot be linked together yet. Fails on any sanitizer report, leak or
 * harness contract violation (abort). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>

#include "tests/fuzz/fuzz.h"

static void run(const char *target, fuzz_one_fn *fn, unsigned mutations) {
  char dir[256];
  snprintf(dir, sizeof(dir), "tests/fuzz/corpus/%s", target);
  fuzz_stats st = {0, 0};
  assert_int_equal(fuzz_smoke_dir(dir, fn, mutations, 0x1a4a7u, &st), 0);
  assert_true(st.seeds > 0);
  print_message("fuzz smoke %s: %zu seeds, %zu runs\n", target, st.seeds, st.runs);
}

static void t_sched_conf(void **s) { (void)s; run("sched_conf", fuzz_sched_conf_one, 1000); }

int main(void) {
  fuzz_quiet();
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(t_sched_conf),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
