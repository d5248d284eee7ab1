/* test_nodesim_slim.c — sim_pod_slim / sim_pod_node_name (hack/nodesim/podslim.c): the small
 * tree kept from a pod's JSON text must give sim_pod_info_parse and sim_pod_status_patch the
 * same answers as the whole pod parsed by jansson, and cases needing jansson's duplicate-key
 * rules must be handed back (fallback). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "nodesim/sim.h"
#include "util/jscan.h"

static void same_str(const char *a, const char *b) {
  if (!a || !b) assert_ptr_equal(a, b);
  else assert_string_equal(a, b);
}

/* Parses text both ways and checks that every reader agrees. */
static void check_same(const char *text) {
  size_t n = strlen(text);
  assert_int_equal(lh_js_validate(text, n, 0, NULL), 0);
  json_t *full = json_loadb(text, n, 0, NULL);
  assert_non_null(full);
  int fb = -1;
  json_t *slim = sim_pod_slim(text, n, &fb);
  assert_int_equal(fb, 0);
  assert_non_null(slim);

  sim_pod_info a, b;
  int ra = sim_pod_info_parse(full, &a), rb = sim_pod_info_parse(slim, &b);
  assert_int_equal(ra, rb);
  if (ra == 0) {
    same_str(a.ns, b.ns);
    same_str(a.name, b.name);
    same_str(a.uid, b.uid);
    same_str(a.node, b.node);
    assert_int_equal(a.deleting, b.deleting);
    assert_int_equal(a.phase, b.phase);
    assert_int_equal(a.restart, b.restart);
    assert_int_equal(a.has_duration, b.has_duration);
    assert_int_equal(a.duration_ms, b.duration_ms);
    assert_int_equal(a.exit_code, b.exit_code);
    assert_int_equal(a.bad_annotation, b.bad_annotation);
    assert_int_equal(a.restart_count, b.restart_count);
  }

  sim_pod_times t = {"2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z",
                     "2026-01-01T00:00:03Z", "2026-01-01T00:00:04Z"};
  const sim_pod_sm sms[] = {{SIM_ST_RUNNING, 0, 0, 0, 0, 0}, {SIM_ST_RUNNING, 0, 0, 2, 1, 0},
                            {SIM_ST_TERMINATED, 0, 0, 0, 0, 0}, {SIM_ST_TERMINATED, 0, 0, 1, 3, 0}};
  for (size_t i = 0; i < sizeof(sms) / sizeof(sms[0]); i++) {
    json_t *pa = sim_pod_status_patch(full, &sms[i], &t, "172.16.0.1", "10.0.0.2");
    json_t *pb = sim_pod_status_patch(slim, &sms[i], &t, "172.16.0.1", "10.0.0.2");
    assert_non_null(pa);
    assert_non_null(pb);
    if (!json_equal(pa, pb)) {
      char *x = json_dumps(pa, JSON_COMPACT), *y = json_dumps(pb, JSON_COMPACT);
      print_error("full: %s\nslim: %s\n", x, y);
      free(x);
      free(y);
      fail();
    }
    json_decref(pa);
    json_decref(pb);
  }
  json_decref(full);
  json_decref(slim);
}

static void slim_matches_full_pod(void **state) {
  (void)state;
  check_same("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p1\",\"namespace\":\"ns1\","
             "\"uid\":\"u-1\",\"resourceVersion\":\"7\",\"labels\":{\"a\":\"b\"},\"annotations\":{"
             "\"x\":\"y\",\"lahar.io/sim-duration\":\"1m30s\",\"lahar.io/sim-exit-code\":\"3\"},"
             "\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"},\"spec\":{\"nodeName\":\"nodesim-0\","
             "\"restartPolicy\":\"OnFailure\",\"initContainers\":[{\"name\":\"init\",\"image\":\"i\"}],"
             "\"containers\":[{\"name\":\"main\",\"image\":\"busybox\",\"command\":[\"sh\"]},"
             "{\"name\":\"side\",\"image\":\"s\"}]},\"status\":{\"phase\":\"Running\","
             "\"containerStatuses\":[{\"name\":\"main\",\"restartCount\":3},{\"restartCount\":9}]}}");
}

static void slim_decodes_escapes(void **state) {
  (void)state;
  check_same("{\"metadata\":{\"name\":\"p\\u00e9\",\"namespace\":\"n\\/s\",\"uid\":\"u\\\"1\"},"
             "\"spec\":{\"nodeName\":\"nodesim-\\u0031\",\"containers\":[{\"name\":\"m\\tx\","
             "\"image\":\"img\\\\x\"}]},\"status\":{\"phase\":\"Pend\\u0069ng\"}}");
}

/* Fields of the wrong type read as absent in both. */
static void slim_keeps_type_semantics(void **state) {
  (void)state;
  check_same("{\"metadata\":{\"name\":5,\"namespace\":\"ns\",\"uid\":\"u\"},\"spec\":{}}");
  check_same("{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"uid\":\"u\",\"annotations\":[1],"
             "\"deletionTimestamp\":null},\"spec\":{\"nodeName\":null,\"restartPolicy\":1,"
             "\"containers\":[1,{\"name\":\"a\"},{\"image\":\"x\"},{\"name\":[]}],\"initContainers\":[2]},"
             "\"status\":{\"phase\":true,\"containerStatuses\":[\"x\",{\"restartCount\":4}]}}");
  check_same("{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"uid\":\"u\",\"deletionTimestamp\":0,"
             "\"annotations\":{\"lahar.io/sim-duration\":5,\"lahar.io/sim-exit-code\":\"x\"}},"
             "\"spec\":{\"containers\":{},\"initContainers\":[]},\"status\":{\"containerStatuses\":"
             "[{\"restartCount\":1.0}]}}");
  check_same("{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"uid\":\"u\"},\"spec\":[],"
             "\"status\":{\"containerStatuses\":[{\"restartCount\":-5}]}}");
  check_same("{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"uid\":\"u\"},\"spec\":{\"containers\":"
             "[{\"name\":\"c\"}]},\"status\":{\"containerStatuses\":[{\"restartCount\":99999999999}]}}");
  check_same("{\"metadata\":\"x\",\"spec\":{\"nodeName\":\"n\"},\"status\":5}");
  check_same("{}");
  /* a name the simulator does not read may repeat */
  check_same("{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"uid\":\"u\",\"labels\":{},\"labels\":{}},"
             "\"spec\":{\"containers\":[{\"name\":\"c\",\"ports\":1,\"ports\":2}]}}");
}

static void slim_falls_back_on_duplicates(void **state) {
  (void)state;
  static const char *const dups[] = {
      "{\"metadata\":{\"name\":\"a\"},\"metadata\":{\"name\":\"b\"}}",
      "{\"metadata\":{\"name\":\"a\",\"name\":\"b\",\"namespace\":\"n\",\"uid\":\"u\"}}",
      "{\"metadata\":{\"annotations\":{\"lahar.io/sim-duration\":\"1s\",\"lahar.io/sim-duration\":\"2s\"}}}",
      "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"image\":\"y\"}]}}",
      "{\"status\":{\"containerStatuses\":[{\"restartCount\":1,\"restartCount\":2}]}}",
  };
  for (size_t i = 0; i < sizeof(dups) / sizeof(dups[0]); i++) {
    size_t n = strlen(dups[i]);
    assert_int_equal(lh_js_validate(dups[i], n, 0, NULL), 0);
    int fb = 0;
    assert_null(sim_pod_slim(dups[i], n, &fb));
    assert_int_equal(fb, 1);
  }
  int fb = 0;
  assert_null(sim_pod_slim("[1]", 3, &fb));
  assert_int_equal(fb, 1);
}

static void node_name_from_text(void **state) {
  (void)state;
  char out[16];
  const char *t = "{\"metadata\":{},\"spec\":{\"nodeName\":\"node\\u002d7\"}}";
  assert_int_equal(sim_pod_node_name(t, strlen(t), out, sizeof(out)), 1);
  assert_string_equal(out, "node-7");
  t = "{\"spec\":{\"nodeName\":\"a-name-longer-than-16\"}}";
  assert_int_equal(sim_pod_node_name(t, strlen(t), out, sizeof(out)), 0);
  t = "{\"spec\":{\"nodeName\":null}}";
  assert_int_equal(sim_pod_node_name(t, strlen(t), out, sizeof(out)), 0);
  t = "{\"spec\":5}";
  assert_int_equal(sim_pod_node_name(t, strlen(t), out, sizeof(out)), 0);
  t = "{\"spec\":{\"nodeName\":\"a\",\"nodeName\":\"b\"}}";
  assert_int_equal(sim_pod_node_name(t, strlen(t), out, sizeof(out)), -1);
  t = "{\"spec\":{},\"spec\":{\"nodeName\":\"b\"}}";
  assert_int_equal(sim_pod_node_name(t, strlen(t), out, sizeof(out)), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(slim_matches_full_pod),
      cmocka_unit_test(slim_decodes_escapes),
      cmocka_unit_test(slim_keeps_type_semantics),
      cmocka_unit_test(slim_falls_back_on_duplicates),
      cmocka_unit_test(node_name_from_text),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
