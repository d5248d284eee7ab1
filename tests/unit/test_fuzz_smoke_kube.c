/* test_fuzz_smoke_kube.c — fuzz smoke tests of the parsers of untrusted input outside the
 * scheduling core: kubeconfig, watch streams + Status bodies, compact pods + quantities,
 * local-cluster selectors, patches, router, protobuf bodies, CRD schemas, nodesim parsers,
 * controller flags, Volcano Job specs and the snapshot builder. Each harness
 * (tests/fuzz/fuzz_<target>.c) runs over tests/fuzz/corpus/<target>/ plus a fixed number of
 * deterministic mutations per seed (tests/fuzz/driver.c). Fails on any sanitizer report, leak
 * or harness contract violation (abort). */
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

#define SMOKE(t, n) static void t_##t(void **s) { (void)s; run(#t, fuzz_##t##_one, n); }
SMOKE(kube_config, 400)
SMOKE(kube_watch, 400)
SMOKE(kube_pod, 400)
SMOKE(lc_selector, 400)
SMOKE(lc_patch, 200)
SMOKE(lc_router, 500)
SMOKE(lc_proto, 400)
SMOKE(lc_crd, 150)
SMOKE(nodesim, 400)
SMOKE(ctl_args, 400)
SMOKE(jobs_spec, 200)
SMOKE(ctl_snap, 60)

int main(void) {
  fuzz_quiet();
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(t_kube_config), cmocka_unit_test(t_kube_watch), cmocka_unit_test(t_kube_pod),
    cmocka_unit_test(t_lc_selector), cmocka_unit_test(t_lc_patch),   cmocka_unit_test(t_lc_router),
    cmocka_unit_test(t_lc_proto),    cmocka_unit_test(t_lc_crd),     cmocka_unit_test(t_nodesim),
    cmocka_unit_test(t_ctl_args),    cmocka_unit_test(t_jobs_spec),  cmocka_unit_test(t_ctl_snap),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
