/* test_nodesim_node.c — node JSON of hack/nodesim: labels, taints (pools), status conditions,
 * capacity/allocatable, addresses, and the registration object. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "nodesim/sim.h"

static const char *js(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

static void fill(sim_node_spec *n, int idx, const char *pool, const sim_kvlist *labels,
                 const sim_taint *t, size_t nt) {
  memset(n, 0, sizeof(*n));
  if (pool) snprintf(n->name, sizeof(n->name), "sim-pool-%s", pool);
  else snprintf(n->name, sizeof(n->name), "sim-%d", idx);
  n->index = idx;
  n->cpu_milli = 32000;
  n->memory_bytes = 128LL << 30;
  n->gpu = 4;
  n->max_pods = 110;
  n->labels = labels;
  n->cluster = "east";
  n->pool = pool;
  n->taints = t;
  n->ntaints = nt;
  sim_node_addresses(idx, n->host_ip, n->pod_cidr);
}

/* 1.0 the whole object: labels, capacity, conditions, addresses */
static void node_object_is_ready_with_capacity(void **state) {
  (void)state;
  sim_kvlist l;
  char err[64];
  assert_int_equal(sim_kvlist_parse("zone=z1,kubernetes.io/os=plan9", 1, &l, err, sizeof(err)), 0);
  sim_taint t[1] = {{"gpu", "true", "NoSchedule"}};
  sim_node_spec n;
  fill(&n, 3, NULL, &l, t, 1);
  json_t *o = sim_node_object(&n, 0, "2026-01-01T00:00:00Z");
  assert_non_null(o);
  assert_string_equal(js(o, "kind"), "Node");
  json_t *meta = json_object_get(o, "metadata");
  assert_string_equal(js(meta, "name"), "sim-3");
  json_t *labels = json_object_get(meta, "labels");
  assert_string_equal(js(labels, "kubernetes.io/hostname"), "sim-3");
  assert_string_equal(js(labels, "lahar.io/cluster"), "east");
  assert_string_equal(js(labels, "zone"), "z1");
  assert_string_equal(js(labels, "kubernetes.io/os"), "plan9"); /* user labels win */
  assert_string_equal(js(labels, "type"), "kwok");
  assert_null(json_object_get(labels, "lahar.io/serverless"));
  json_t *spec = json_object_get(o, "spec");
  assert_string_equal(js(spec, "podCIDR"), n.pod_cidr);
  json_t *taints = json_object_get(spec, "taints");
  assert_int_equal(json_array_size(taints), 1);
  assert_string_equal(js(json_array_get(taints, 0), "key"), "gpu");
  json_t *st = json_object_get(o, "status");
  json_t *cap = json_object_get(st, "capacity"), *alloc = json_object_get(st, "allocatable");
  assert_string_equal(js(cap, "cpu"), "32");
  assert_string_equal(js(cap, "memory"), "128Gi");
  assert_string_equal(js(cap, "pods"), "110");
  assert_string_equal(js(cap, "nvidia.com/gpu"), "4");
  assert_true(json_equal(cap, alloc));
  size_t i;
  json_t *c;
  int ready = 0;
  json_array_foreach(json_object_get(st, "conditions"), i, c) {
    if (strcmp(js(c, "type"), "Ready") == 0) {
      ready = 1;
      assert_string_equal(js(c, "status"), "True");
    } else {
      assert_string_equal(js(c, "status"), "False");
    }
    assert_string_equal(js(c, "lastHeartbeatTime"), "2026-01-01T00:00:00Z");
  }
  assert_true(ready);
  json_t *addr = json_array_get(json_object_get(st, "addresses"), 0);
  assert_string_equal(js(addr, "type"), "InternalIP");
  assert_string_equal(js(addr, "address"), n.host_ip);
  assert_string_equal(js(json_object_get(st, "nodeInfo"), "operatingSystem"), "linux");
  json_decref(o);
  sim_kvlist_free(&l);
}

/* 1.1 no gpu: not advertised; fractional cpu keeps milli-units */
static void node_without_gpu(void **state) {
  (void)state;
  sim_node_spec n;
  fill(&n, 0, NULL, NULL, NULL, 0);
  n.gpu = 0;
  n.cpu_milli = 1500;
  json_t *st = sim_node_status(&n, "t");
  json_t *cap = json_object_get(st, "capacity");
  assert_null(json_object_get(cap, "nvidia.com/gpu"));
  assert_string_equal(js(cap, "cpu"), "1500m");
  json_decref(st);
  json_t *o = sim_node_object(&n, 0, "t");
  assert_null(json_object_get(json_object_get(o, "spec"), "taints")); /* none configured */
  json_decref(o);
}

/* 2.0 a serverless pool node: virtual-kubelet labels, the pool taint unless disabled */
static void pool_node_is_marked(void **state) {
  (void)state;
  sim_node_spec n;
  fill(&n, -1, "burst", NULL, NULL, 0);
  json_t *labels = sim_node_labels(&n);
  assert_string_equal(js(labels, "type"), "virtual-kubelet");
  assert_string_equal(js(labels, "lahar.io/serverless"), "true");
  assert_string_equal(js(labels, "lahar.io/serverless-pool"), "burst");
  json_decref(labels);
  json_t *t = sim_node_taints(&n, 0);
  assert_int_equal(json_array_size(t), 1);
  assert_string_equal(js(json_array_get(t, 0), "key"), "lahar.io/serverless");
  assert_string_equal(js(json_array_get(t, 0), "effect"), "NoSchedule");
  json_decref(t);
  t = sim_node_taints(&n, 1);
  assert_int_equal(json_array_size(t), 0);
  json_decref(t);
}

/* 3.0 addresses are distinct per node and pools do not collide with nodes */
static void addresses_are_distinct(void **state) {
  (void)state;
  char h0[16], c0[20], h1[16], c1[20], hp[16], cp[20];
  sim_node_addresses(0, h0, c0);
  sim_node_addresses(1, h1, c1);
  sim_node_addresses(-1, hp, cp);
  assert_string_not_equal(h0, h1);
  assert_string_not_equal(c0, c1);
  assert_string_not_equal(h0, hp);
  assert_string_not_equal(c0, cp);
  sim_node_addresses(300, h1, c1);
  assert_string_equal(h1, "172.16.1.44");
  assert_string_equal(c1, "10.65.44.0/24");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(node_object_is_ready_with_capacity),
      cmocka_unit_test(node_without_gpu),
      cmocka_unit_test(pool_node_is_marked),
      cmocka_unit_test(addresses_are_distinct),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
