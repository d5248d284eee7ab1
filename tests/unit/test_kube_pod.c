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
#include "kube/watch.h"
#include "util/jscan.h"

#include <dirent.h>
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


/* Runs both transforms on text; returns 1 if the byte path fell back to jansson, else asserts
 * that both gave the same pod (or both refused) and returns 0. */
static int same_both_ways(lh_intern *in, const char *text, size_t n) {
  if (lh_js_validate(text, n, 0, NULL) != 0) {
    json_t *j = json_loadb(text, n, 0, NULL);
    assert_null(j); /* jansson refuses it too */
    return 0;
  }
  json_t *j = json_loadb(text, n, 0, NULL);
  assert_non_null(j);
  lh_pod *a = lh_pod_transform(j, in);
  int fb = -1;
  lh_pod *b = lh_pod_transform_bytes(text, n, in, &fb);
  json_decref(j);
  if (fb) {
    assert_null(b);
    lh_pod_free(a, in);
    return 1;
  }
  if (!lh_pod_same(a, b, 1)) fail_msg("transforms differ on %.*s", (int)(n > 400 ? 400 : n), text);
  lh_pod_free(a, in);
  lh_pod_free(b, in);
  return 0;
}

/* Edits of the POD template: escapes, missing fields, wrong types, duplicates, big maps. */
static const char *VARIANTS[][2] = {
    {"\"name\":\"job-a-worker-%d\"", "\"name\":\"job-a-w\\u00e9rker-%d\\n\""},
    {"\"app\":\"train\"", "\"app\":\"tr\\\"ain\\/\\ud83d\\ude00\""},
    {"\"namespace\":\"team-a\"", "\"namespace\":\"te\\u0061m-a\""},
    {"\"namespace\":\"team-a\"", "\"namespace\":7"},
    {"\"namespace\":\"team-a\",", ""},
    {"\"labels\":{", "\"labels\":{\"n\":1,\"a\\u0062\":\"x\","},
    {"\"labels\":{", "\"labels\":{\"app\":\"dup\","},
    {"\"labels\":{\"app\":\"train\",", "\"labels\":[1],\"x\":{"},
    {"\"priority\":1000", "\"priority\":1.5"},
    {"\"priority\":1000", "\"priority\":-9223372036854775808"},
    {"\"priority\":1000", "\"priority\":1000,\"priority\":7"},
    {"\"tolerationSeconds\":300", "\"tolerationSeconds\":3e2"},
    {"\"tolerations\":[", "\"tolerations\":[1,null,{\"key\":{}},"},
    {"\"phase\":\"Running\"", "\"phase\":\"Bogus\""},
    {"\"phase\":\"Running\"", "\"phase\":null"},
    {"\"status\":{", "\"status\":[],\"x\":{"},
    {"\"spec\":{", "\"spec\":\"no\",\"x\":{"},
    {"\"metadata\":{", "\"metadata\":{\"name\":\"first\","},
    {"\"containers\":[", "\"containers\":{},\"x\":["},
    {"\"cpu\":\"500m\"", "\"cpu\":\"5\\u00300m\""},
    {"\"cpu\":\"500m\"", "\"cpu\":\"lots\""},
    {"\"memory\":\"10Mi\"", "\"memory\":10"},
    {"\"kind\":\"Job\"", "\"kind\":\"PodGroup\""},
    {"\"kind\":\"Job\"", "\"kind\":\"Other\""},
    {"\"kind\":\"ReplicaSet\"", "\"kind\":\"Job\",\"kind\":\"Job\""},
    {"\"scheduling.k8s.io/group-name\":\"job-a-pg\"", "\"scheduling.k8s.io/group-name\":5"},
    {"\"volcano.sh/job-version\":\"0\"", "\"volcano.sh/job-version\":\"0\",\"scheduling.volcano.sh/queue-name\":\"q\""},
    {"\"resourceVersion\":\"%d\"", "\"resourceVersion\":\"x%d\""},
    {"\"nodeName\":\"sim-%05d\"", "\"nodeName\":null,\"n\":\"%05d\""},
    {"\"uid\":\"506882b1-338a-485a-a0d5-9a970cb4%04d\",", "\"u\":\"%04d\","},
};

static char *replace(const char *s, const char *from, const char *to) {
  const char *at = strstr(s, from);
  assert_non_null(at);
  size_t n = strlen(s) - strlen(from) + strlen(to) + 1;
  char *r = malloc(n);
  snprintf(r, n, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
  return r;
}

static void test_bytes_transform_equivalence(void **state) {
  lh_intern *in = lh_intern_new();
  char buf[8192];
  size_t same = 0, fallbacks = 0;
  /* the template pod, deleting or not, on many nodes */
  for (int i = 0; i < 200; i++) {
    json_t *j = mkpod(i, i % 3 ? NULL : "2026-11-24T02:11:29Z");
    char *t = json_dumps(j, JSON_COMPACT);
    fallbacks += same_both_ways(in, t, strlen(t)), same++;
    free(t);
    json_decref(j);
  }
  /* each variant, alone and with the previous one */
  char *prev = NULL;
  for (size_t v = 0; v < sizeof(VARIANTS) / sizeof(VARIANTS[0]); v++) {
    char *fmt = replace(POD, VARIANTS[v][0], VARIANTS[v][1]);
    int n = snprintf(buf, sizeof(buf), fmt, 3, 3, 1003, 3);
    fallbacks += same_both_ways(in, buf, (size_t)n), same++;
    if (prev && strstr(fmt, VARIANTS[v - 1][0])) {
      char *two = replace(fmt, VARIANTS[v - 1][0], VARIANTS[v - 1][1]);
      n = snprintf(buf, sizeof(buf), two, 4, 4, 1004, 4);
      fallbacks += same_both_ways(in, buf, (size_t)n), same++;
      free(two);
    }
    free(prev);
    prev = fmt;
  }
  free(prev);
  /* a label map over the byte path's limit */
  {
    size_t off = (size_t)snprintf(buf, sizeof(buf), "{\"metadata\":{\"name\":\"a\",\"namespace\":\"b\",\"labels\":{");
    for (int i = 0; i < 70; i++) off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s\"k%d\":\"v\"", i ? "," : "", i);
    off += (size_t)snprintf(buf + off, sizeof(buf) - off, "}},\"spec\":{}}");
    assert_int_equal(same_both_ways(in, buf, off), 1);
  }
  /* the seeds of the fuzz corpus and the pods captured from a real 1.20 apiserver */
  const char *dirs[] = {"tests/fuzz/corpus/kube_pod", "../shared/notes/kube-1.20-samples"};
  for (size_t d = 0; d < 2; d++) {
    DIR *dh = opendir(dirs[d]);
    if (!dh) continue;
    struct dirent *de;
    while ((de = readdir(dh))) {
      if (!strstr(de->d_name, ".json")) continue;
      char path[1024];
      snprintf(path, sizeof(path), "%s/%s", dirs[d], de->d_name);
      FILE *f = fopen(path, "rb");
      if (!f) continue;
      char *t = malloc(1 << 20);
      size_t n = fread(t, 1, 1 << 20, f);
      fclose(f);
      fallbacks += same_both_ways(in, t, n), same++;
      free(t);
    }
    closedir(dh);
  }
  print_message("byte transform: %zu objects compared, %zu left to jansson\n", same, fallbacks);
  assert_true(fallbacks < same / 4);
  assert_int_equal(lh_intern_count(in), 0);
  lh_intern_free(in);
}

typedef struct cmp_ctx {
  lh_kube_cache *other;
  size_t n;
} cmp_ctx;

static void cmp_entry(const char *key, const void *obj, void *ud) {
  cmp_ctx *c = ud;
  const lh_pod *b = lh_kube_cache_get(c->other, key);
  if (!lh_pod_same(obj, b, 1)) fail_msg("cache entry %s differs", key);
  c->n++;
}

/* lh_pod_transform under another name: the informer gives lh_pod_transform its byte twin */
static void *jansson_only(const json_t *pod, void *in) { return lh_pod_transform(pod, in); }

static lh_informer *pod_informer(lh_loop *loop, lh_intern *in, lh_informer_transport *tr, int bytes) {
  lh_informer_opts o = {.resource = &LH_KUBE_PODS, .transport = tr,
                        .transform = bytes ? lh_pod_transform : jansson_only, .free_obj = lh_pod_free,
                        .transform_ud = in};
  lh_informer *inf;
  assert_int_equal(lh_informer_new(loop, NULL, NULL, &o, NULL, &inf), 0);
  assert_int_equal(lh_informer_start(inf), 0);
  return inf;
}


/* A page through lh_informer_on_list_bytes gives the same cache and indexes as the parsed page
 * through lh_informer_on_list; an invalid page is refused whole. */
static void test_list_bytes_same_cache(void **state) {
  enum { N = 500 };
  lh_loop *loop = lh_loop_new();
  lh_intern *in = lh_intern_new();
  lh_informer_transport tr = {nop_list, nop_watch, NULL, NULL};
  lh_informer *a = pod_informer(loop, in, &tr, 0), *b = pod_informer(loop, in, &tr, 1);
  json_t *items = json_array();
  for (int i = 0; i < N; i++) json_array_append_new(items, mkpod(i, i % 7 ? NULL : "2026-11-24T02:11:29Z"));
  /* one pod the byte path leaves to jansson, one without a name (skipped by both) */
  json_t *odd = mkpod(N, NULL);
  json_object_set_new(json_object_get(odd, "metadata"), "name", json_string("odd\"one"));
  json_array_append_new(items, odd);
  json_array_append_new(items, json_pack("{s:{s:s}}", "metadata", "namespace", "x"));
  json_t *doc = json_pack("{s:s, s:{s:s}, s:o}", "kind", "PodList", "metadata", "resourceVersion", "20000",
                          "items", items);
  char *text = json_dumps(doc, JSON_COMPACT);
  lh_informer_on_list(a, 0, doc);
  lh_informer_on_list_bytes(b, 0, text, strlen(text));
  assert_string_equal(lh_informer_last_rv(b), "20000");
  assert_int_equal(lh_informer_has_synced(b), 1);
  lh_kube_cache *ca = lh_informer_cache(a), *cb = lh_informer_cache(b);
  assert_int_equal(lh_kube_cache_len(cb), N + 1);
  cmp_ctx c = {ca, 0};
  lh_kube_cache_each(cb, cmp_entry, &c);
  assert_int_equal(c.n, N + 1);
  assert_non_null(lh_kube_cache_get(cb, "team-a/odd\"one"));
  size_t sa = 0, sb = 0;
  assert_int_equal(lh_kube_cache_by_label(cb, "volcano.sh/job-name", "job-a", count_obj, &sb), N + 1);
  assert_int_equal(lh_kube_cache_by_label(ca, "volcano.sh/job-name", "job-a", count_obj, &sa), N + 1);
  assert_int_equal(lh_kube_cache_by_namespace(cb, "team-a", count_obj, &sb), N + 1);
  assert_int_equal(lh_kube_cache_overhead_bytes(ca), lh_kube_cache_overhead_bytes(cb));
  lh_informer_free(a);
  lh_informer_free(b);
  /* invalid JSON: the page fails as a whole, nothing is cached */
  lh_informer *d = pod_informer(loop, in, &tr, 1);
  text[strlen(text) - 2] = ',';
  lh_informer_on_list_bytes(d, 0, text, strlen(text));
  assert_int_equal(lh_informer_get_state(d), LH_INF_BACKOFF);
  assert_int_equal(lh_kube_cache_len(lh_informer_cache(d)), 0);
  assert_int_equal(lh_informer_has_synced(d), 0);
  lh_informer_free(d);
  free(text);
  json_decref(doc);
  assert_int_equal(lh_intern_count(in), 0);
  lh_intern_free(in);
  lh_loop_free(loop);
}

/* Feeds one watch event text to both informers: a through the tree parse, b through the raw
 * parse (as a watch with raw set delivers it). */
static void feed_event(lh_informer *a, lh_informer *b, const char *type, json_t *obj) {
  json_t *e = json_pack("{s:s, s:O}", "type", type, "object", obj);
  char *t = json_dumps(e, JSON_COMPACT);
  lh_kube_watch_event ev;
  json_t *root;
  char rv[64];
  assert_int_equal(lh_kube_watch_parse(t, strlen(t), &ev, &root), 0);
  lh_informer_on_event(a, &ev);
  json_decref(root);
  assert_int_equal(lh_kube_watch_parse_raw(t, strlen(t), &ev, &root, rv, sizeof(rv)), 0);
  assert_null(ev.object);
  lh_informer_on_event(b, &ev);
  json_decref(root);
  free(t);
  json_decref(e);
}

/* Watch events through the byte path change the cache exactly as through jansson. */
static void test_watch_bytes_same_cache(void **state) {
  lh_loop *loop = lh_loop_new();
  lh_intern *in = lh_intern_new();
  lh_informer_transport tr = {nop_list, nop_watch, NULL, NULL};
  lh_informer *a = pod_informer(loop, in, &tr, 0), *b = pod_informer(loop, in, &tr, 1);
  const char *empty = "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[]}";
  lh_informer_on_list_bytes(a, 0, empty, strlen(empty));
  lh_informer_on_list_bytes(b, 0, empty, strlen(empty));
  assert_int_equal(lh_informer_get_state(b), LH_INF_WATCHING);
  for (int i = 0; i < 20; i++) {
    json_t *p = mkpod(i, NULL);
    feed_event(a, b, "ADDED", p);
    json_decref(p);
  }
  json_t *p = mkpod(3, "2026-11-24T02:11:29Z"); /* deleting */
  json_object_set_new(json_object_get(json_object_get(p, "metadata"), "labels"), "app", json_string("changed"));
  feed_event(a, b, "MODIFIED", p);
  json_decref(p);
  p = mkpod(4, NULL);
  feed_event(a, b, "DELETED", p);
  json_decref(p);
  p = mkpod(5, NULL); /* a duplicate label key: the byte path hands it to jansson */
  json_t *e = json_pack("{s:s, s:O}", "type", "MODIFIED", "object", p);
  char *t = json_dumps(e, JSON_COMPACT);
  char *dup = replace(t, "\"labels\":{", "\"labels\":{\"app\":\"first\",");
  lh_kube_watch_event ev;
  json_t *root;
  char rv[64];
  assert_int_equal(lh_kube_watch_parse_raw(dup, strlen(dup), &ev, &root, rv, sizeof(rv)), 0);
  lh_informer_on_event(b, &ev);
  const lh_pod *p5 = lh_kube_cache_get(lh_informer_cache(b), "team-a/job-a-worker-5");
  assert_non_null(p5);
  assert_string_equal(p5->labels[0].v, "train"); /* jansson: first position, last value */
  free(dup);
  free(t);
  json_decref(e);
  json_decref(p);
  lh_kube_cache *ca = lh_informer_cache(a), *cb = lh_informer_cache(b);
  assert_int_equal(lh_kube_cache_len(cb), 19);
  cmp_ctx c = {ca, 0};
  lh_kube_cache_each(cb, cmp_entry, &c);
  assert_int_equal(c.n, 19);
  assert_string_equal(lh_informer_last_rv(b), "1005"); /* the extra event above */
  size_t seen = 0;
  assert_int_equal(lh_kube_cache_by_label(cb, "app", "changed", count_obj, &seen), 1);
  lh_informer_free(a);
  lh_informer_free(b);
  assert_int_equal(lh_intern_count(in), 0);
  lh_intern_free(in);
  lh_loop_free(loop);
}

/* An informer without a transform keeps each item as its own json_t, equal to the parsed item. */
static void test_list_bytes_plain_json(void **state) {
  lh_loop *loop = lh_loop_new();
  lh_informer_transport tr = {nop_list, nop_watch, NULL, NULL};
  lh_informer_opts o = {.resource = &LH_KUBE_VOLCANO_PODGROUPS, .transport = &tr};
  lh_informer *inf;
  assert_int_equal(lh_informer_new(loop, NULL, NULL, &o, NULL, &inf), 0);
  assert_int_equal(lh_informer_start(inf), 0);
  const char *page = "{\"kind\":\"PodGroupList\",\"metadata\":{\"resourceVersion\":\"9\"},\"items\":["
                     "{\"metadata\":{\"name\":\"g1\",\"namespace\":\"n\",\"labels\":{\"a\":\"b\"}},\"spec\":{\"minMember\":2}},"
                     "{\"metadata\":{\"name\":\"g\\u0032\",\"namespace\":\"n\"},\"status\":{\"phase\":\"Running\"}}]}";
  lh_informer_on_list_bytes(inf, 0, page, strlen(page));
  lh_kube_cache *c = lh_informer_cache(inf);
  assert_int_equal(lh_kube_cache_len(c), 2);
  const json_t *g2 = lh_kube_cache_get(c, "n/g2");
  assert_non_null(g2);
  assert_string_equal(json_string_value(json_object_get(json_object_get(g2, "status"), "phase")), "Running");
  size_t seen = 0;
  assert_int_equal(lh_kube_cache_by_label(c, "a", "b", count_obj, &seen), 1);
  lh_informer_free(inf);
  lh_loop_free(loop);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_quantity),
      cmocka_unit_test(test_transform_fields),
      cmocka_unit_test(test_bytes_per_pod),
      cmocka_unit_test(test_cache_bytes_per_pod),
      cmocka_unit_test(test_bytes_transform_equivalence),
      cmocka_unit_test(test_list_bytes_same_cache),
      cmocka_unit_test(test_list_bytes_plain_json),
      cmocka_unit_test(test_watch_bytes_same_cache),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
