/* test_kube_pod.c — the compact pod transform, quantities, interning, bytes per compact pod, and
 * the whole informer cache per pod (compact pods + interned strings + the cache's own entries and
 * indexes) for 10,000 pods. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "kube/informer.h"
#include "kube/kube.h"
#include "kube/loop.h"
#include "kube/pod.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_quantity(void **state) {
  int64_t v;
  assert_int_equal(lh_kube_quantity_parse("100m", 1, &v), 0), assert_int_equal(v, 100);
  assert_int_equal(lh_kube_quantity_parse("1.5", 1, &v), 0), assert_int_equal(v, 1500);
  assert_int_equal(lh_kube_quantity_parse("2", 1, &v), 0), assert_int_equal(v, 2000);
  assert_int_equal(lh_kube_quantity_parse("128Mi", 0, &v), 0), assert_int_equal(v, 134217728);
  assert_int_equal(lh_kube_quantity_parse("1G", 0, &v), 0), assert_int_equal(v, 1000000000);
  assert_int_equal(lh_kube_quantity_parse("1e3", 0, &v), 0), assert_int_equal(v, 1000);
  assert_int_equal(lh_kube_quantity_parse("1.5Gi", 0, &v), 0), assert_int_equal(v, 1610612736);
  assert_int_equal(lh_kube_quantity_parse("1m", 0, &v), 0), assert_int_equal(v, 1); /* rounds up */
  assert_int_equal(lh_kube_quantity_parse("abc", 0, &v), LH_EKUBE_PARSE);
  assert_int_equal(lh_kube_quantity_parse("1Xi", 0, &v), LH_EKUBE_PARSE);
  assert_int_equal(lh_kube_quantity_parse("0x10", 0, &v), LH_EKUBE_PARSE);
  assert_int_equal(lh_kube_quantity_parse("-1", 0, &v), LH_EKUBE_PARSE);
  assert_int_equal(lh_kube_quantity_parse("100E", 0, &v), LH_EKUBE_PARSE);
}

static const char *POD =
    "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"job-a-worker-%d\",\"namespace\":\"team-a\","
    "\"uid\":\"506882b1-338a-485a-a0d5-9a970cb4%04d\",\"resourceVersion\":\"%d\",\"creationTimestamp\":\"2026-11-24T02:11:29Z\","
    "\"labels\":{\"app\":\"train\",\"volcano.sh/job-name\":\"job-a\",\"volcano.sh/task-spec\":\"worker\"},"
    "\"annotations\":{\"scheduling.k8s.io/group-name\":\"job-a-pg\",\"volcano.sh/job-version\":\"0\","
    "\"kubectl.kubernetes.io/last-applied-configuration\":\"{...huge...}\"},"
    "\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"rs\",\"uid\":\"u0\"},"
    "{\"apiVersion\":\"batch.volcano.sh/v1alpha1\",\"kind\":\"Job\",\"name\":\"job-a\",\"uid\":\"u-job-a\",\"controller\":true}],"
    "\"managedFields\":[{\"manager\":\"vc-controller\",\"operation\":\"Update\",\"fieldsV1\":{\"f:spec\":{}}}]},"
    "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\",\"resources\":{\"requests\":{\"cpu\":\"500m\",\"memory\":\"1Gi\",\"nvidia.com/gpu\":\"1\"}}},"
    "{\"name\":\"side\",\"image\":\"envoy\",\"resources\":{\"requests\":{\"cpu\":\"100m\",\"memory\":\"64Mi\"}}}],"
    "\"initContainers\":[{\"name\":\"init\",\"resources\":{\"requests\":{\"cpu\":\"2\"}}}],"
    "\"overhead\":{\"memory\":\"10Mi\"},"
    "\"schedulerName\":\"volcano\",\"nodeName\":\"sim-%05d\",\"priority\":1000,\"nodeSelector\":{\"pool\":\"gpu\"},"
    "\"tolerations\":[{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":300},"
    "{\"key\":\"nvidia.com/gpu\",\"operator\":\"Exists\",\"effect\":\"NoSchedule\"}]},"
    "\"status\":{\"phase\":\"Running\",\"qosClass\":\"Burstable\"}}";

static json_t *mkpod(int i, const char *extra_meta_deletion) {
  char buf[4096];
  snprintf(buf, sizeof(buf), POD, i, i, 1000 + i, i % 50);
  json_t *j = json_loads(buf, 0, NULL);
  assert_non_null(j);
  if (extra_meta_deletion)
    json_object_set_new(json_object_get(j, "metadata"), "deletionTimestamp", json_string(extra_meta_deletion));
  return j;
}

static void test_transform_fields(void **state) {
  lh_intern *in = lh_intern_new();
  json_t *j = mkpod(7, "2026-11-24T02:11:29Z");
  lh_pod *p = lh_pod_transform(j, in);
  assert_non_null(p);
  assert_string_equal(p->ns, "team-a");
  assert_string_equal(p->name, "job-a-worker-7");
  assert_string_equal(p->uid, "506882b1-338a-485a-a0d5-9a970cb40007");
  assert_int_equal(p->rv, 1007);
  assert_string_equal(p->scheduler, "volcano");
  assert_string_equal(p->node, "sim-00007");
  assert_string_equal(p->group, "job-a-pg");
  assert_int_equal(p->nlabels, 3);
  assert_int_equal(p->nannotations, 2); /* last-applied dropped */
  assert_int_equal(p->phase, LH_POD_RUNNING);
  assert_int_equal(p->priority, 1000);
  assert_int_equal(p->cpu_milli, 2000);                          /* init 2 > 600m */
  assert_int_equal(p->mem_bytes, 1073741824LL + 67108864 + 10485760); /* + overhead */
  assert_int_equal(p->gpu, 1);
  assert_int_equal(p->nnode_selector, 1);
  assert_string_equal(p->node_selector[0].v, "gpu");
  assert_int_equal(p->ntolerations, 2);
  assert_int_equal(p->tolerations[0].seconds, 300);
  assert_int_equal(p->tolerations[1].seconds, -1);
  assert_string_equal(p->owner_kind, "Job");
  assert_string_equal(p->owner_name, "job-a");
  assert_string_equal(p->owner_uid, "u-job-a");
  assert_int_equal(p->deletion_ts, 1795486289LL);
  lh_pod_free(p, in);
  assert_int_equal(lh_intern_count(in), 0);
  assert_true(lh_pod_cache_bytes(in) <= 64 * sizeof(void *)); /* only the (empty) table is left */
  json_decref(j);
  json_t *bad = json_pack("{s:{s:s}}", "metadata", "name", "x");
  assert_null(lh_pod_transform(bad, in));
  json_decref(bad);
  lh_intern_free(in);
}

/* 1 KiB budget: 10,000 pods across 50 nodes */
static void test_bytes_per_pod(void **state) {
  lh_intern *in = lh_intern_new();
  enum { N = 10000 };
  lh_pod **pods = calloc(N, sizeof(*pods));
  for (int i = 0; i < N; i++) {
    json_t *j = mkpod(i, NULL);
    pods[i] = lh_pod_transform(j, in);
    assert_non_null(pods[i]);
    json_decref(j);
  }
  size_t per = lh_pod_cache_bytes(in) / N;
  print_message("compact pod cache: %zu bytes per pod (%zu interned strings)\n", per, lh_intern_count(in));
  assert_true(per <= 1024);
  for (int i = 0; i < N; i++) lh_pod_free(pods[i], in);
  assert_int_equal(lh_intern_count(in), 0);
  free(pods);
  lh_intern_free(in);
}

/* A transport that never answers: the test feeds the list itself. */
static int nop_list(void *t, lh_informer *inf, const char *path) { return 0; }
static int nop_watch(void *t, lh_informer *inf, const char *path) { return 0; }
static void count_obj(const char *key, const void *obj, void *ud) { (*(size_t *)ud)++; }

/* 1 KiB budget for the whole cache: 10,000 pods listed through an informer with the compact
 * transform; counts lh_pod_cache_bytes (pods + interned strings) and lh_kube_cache_overhead_bytes
 * (by-key map, entries, index keys, index heads). */
static void test_cache_bytes_per_pod(void **state) {
  enum { N = 10000 };
  lh_loop *loop = lh_loop_new();
  lh_intern *in = lh_intern_new();
  lh_informer_transport tr = {nop_list, nop_watch, NULL, NULL};
  lh_informer_opts o = {.resource = &LH_KUBE_PODS, .transport = &tr, .transform = lh_pod_transform,
                        .free_obj = lh_pod_free, .transform_ud = in};
  lh_informer *inf;
  assert_int_equal(lh_informer_new(loop, NULL, NULL, &o, NULL, &inf), 0);
  assert_int_equal(lh_informer_start(inf), 0);
  json_t *items = json_array();
  for (int i = 0; i < N; i++) json_array_append_new(items, mkpod(i, NULL));
  json_t *doc = json_pack("{s:s, s:{s:s}, s:o}", "kind", "PodList", "metadata", "resourceVersion", "20000",
                          "items", items);
  lh_informer_on_list(inf, 0, doc);
  json_decref(doc);
  lh_kube_cache *c = lh_informer_cache(inf);
  assert_int_equal(lh_kube_cache_len(c), N);
  size_t objs = lh_pod_cache_bytes(in), ovh = lh_kube_cache_overhead_bytes(c);
  size_t per = (objs + ovh) / N;
  print_message("informer cache, 10000 pods: %zu bytes per pod total (compact pods + interned %zu B/pod, "
                "cache entries + indexes %zu B/pod)\n", per, objs / N, ovh / N);
  assert_true(per <= 1024);
  /* the indexes still answer */
  size_t seen = 0;
  assert_int_equal(lh_kube_cache_by_label(c, "volcano.sh/job-name", "job-a", count_obj, &seen), N);
  assert_int_equal(seen, N);
  assert_int_equal(lh_kube_cache_by_namespace(c, "team-a", count_obj, &seen), N);
  lh_informer_free(inf);
  assert_int_equal(lh_intern_count(in), 0);
  lh_intern_free(in);
  lh_loop_free(loop);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_quantity),
      cmocka_unit_test(test_transform_fields),
      cmocka_unit_test(test_bytes_per_pod),
      cmocka_unit_test(test_cache_bytes_per_pod),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
