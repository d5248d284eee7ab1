/* test_nodesim_exec.c — what --exec runs: argv from command + args with $(VAR) expansion, the
 * pod's env values, and the process environment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "nodesim/sim.h"

static json_t *pod(const char *container_json) {
  json_error_t e;
  json_t *c = json_loads(container_json, 0, &e);
  assert_non_null(c);
  json_t *p = json_pack("{s:{s:s}, s:{s:[o]}}", "metadata", "name", "p", "spec", "containers", c);
  assert_non_null(p);
  return p;
}

/* 1.0 command ++ args, no shell */
static void argv_is_command_then_args(void **state) {
  (void)state;
  json_t *p = pod("{\"name\":\"main\",\"command\":[\"sh\",\"-c\"],\"args\":[\"echo hello; exit 3\"]}");
  sim_exec_spec s;
  char msg[200];
  assert_int_equal(sim_exec_build(p, &s, msg, sizeof(msg)), 0);
  assert_int_equal(s.argc, 3);
  assert_string_equal(s.argv[0], "sh");
  assert_string_equal(s.argv[1], "-c");
  assert_string_equal(s.argv[2], "echo hello; exit 3");
  assert_null(s.argv[3]);
  assert_string_equal(s.container, "main");
  sim_exec_spec_free(&s);
  json_decref(p);
}

/* 1.1 $(VAR) expansion like the kubelet; valueFrom is skipped; $$ escapes */
static void argv_expands_env_references(void **state) {
  (void)state;
  json_t *p = pod("{\"name\":\"c\",\"command\":[\"echo\"],\"args\":[\"$(A)-$(B)\",\"$$(A)\",\"$(NOPE)\",\"x$(A\"],"
                  "\"env\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\",\"value\":\"$(A)2\"},"
                  "{\"name\":\"S\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"s\",\"key\":\"k\"}}}]}");
  sim_exec_spec s;
  char msg[200];
  assert_int_equal(sim_exec_build(p, &s, msg, sizeof(msg)), 0);
  assert_string_equal(s.argv[1], "1-12");
  assert_string_equal(s.argv[2], "$(A)");
  assert_string_equal(s.argv[3], "$(NOPE)");
  assert_string_equal(s.argv[4], "x$(A");
  assert_int_equal(s.nenv, 2);
  assert_string_equal(s.env[0], "A=1");
  assert_string_equal(s.env[1], "B=12");
  char *base[] = {"PATH=/bin", "A=old", "HOSTNAME=host", NULL};
  char **envp = sim_exec_envp(base, &s, "p");
  assert_non_null(envp);
  int path = 0, a = 0, host = 0, n = 0;
  for (char **e = envp; *e; e++, n++) {
    path += strcmp(*e, "PATH=/bin") == 0;
    a += strncmp(*e, "A=", 2) == 0 && strcmp(*e, "A=1") == 0;
    host += strcmp(*e, "HOSTNAME=p") == 0;
  }
  assert_int_equal(n, 4); /* PATH, A=1, B=12, HOSTNAME=p */
  assert_true(path && a == 1 && host == 1);
  sim_strv_free(envp);
  sim_exec_spec_free(&s);
  json_decref(p);
}

/* 1.2 args alone are the argv; nothing to run or bad items are clear errors */
static void argv_errors(void **state) {
  (void)state;
  sim_exec_spec s;
  char msg[200];
  json_t *p = pod("{\"name\":\"c\",\"args\":[\"/bin/true\"]}");
  assert_int_equal(sim_exec_build(p, &s, msg, sizeof(msg)), 0);
  assert_string_equal(s.argv[0], "/bin/true");
  sim_exec_spec_free(&s);
  json_decref(p);
  p = pod("{\"name\":\"c\",\"image\":\"busybox\"}");
  assert_int_equal(sim_exec_build(p, &s, msg, sizeof(msg)), LH_ENODESIM_INVAL);
  assert_non_null(strstr(msg, "neither command nor args"));
  assert_null(s.argv);
  json_decref(p);
  p = pod("{\"name\":\"c\",\"command\":[\"echo\", 3]}");
  assert_int_equal(sim_exec_build(p, &s, msg, sizeof(msg)), LH_ENODESIM_INVAL);
  assert_non_null(strstr(msg, "command[1]"));
  json_decref(p);
  json_t *empty = json_pack("{s:{s:[]}}", "spec", "containers");
  assert_int_equal(sim_exec_build(empty, &s, msg, sizeof(msg)), LH_ENODESIM_INVAL);
  json_decref(empty);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(argv_is_command_then_args),
      cmocka_unit_test(argv_expands_env_references),
      cmocka_unit_test(argv_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
