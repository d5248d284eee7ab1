/* fuzz_ctl_snap.c — the controller's snapshot builder (controller/core/snap.c) on arbitrary
 * cached objects: the input is one JSON object {"nodes":[..],"queues":[..],"podgroups":[..],
 * "pods":[..]} whose arrays are listed into four informers (fake transport, as
 * tests/unit/test_ctl_snap.c does; pods through lh_pod_transform), then lh_snap_build runs and
 * everything is freed. Also lh_snap_qty / lh_snap_time on every string. */
#include "tests/fuzz/fuzz.h"
#include "core/snap.h"
#include "kube/informer.h"
#include "kube/kube.h"
#include "kube/loop.h"
#include "kube/pod.h"

#include <stdlib.h>
#include <string.h>

static int t_list(void *t, lh_informer *inf, const char *path) { (void)t, (void)inf, (void)path; return 0; }
static int t_watch(void *t, lh_informer *inf, const char *path) { (void)t, (void)inf, (void)path; return 0; }
static void t_stop(void *t, lh_informer *inf) { (void)t, (void)inf; }
static const lh_informer_transport FAKE = {t_list, t_watch, t_stop, NULL};

static lh_informer *mk(lh_loop *loop, const lh_kube_resource *r, lh_intern *in, json_t *items) {
  lh_informer_opts o;
  memset(&o, 0, sizeof(o));
  o.resource = r;
  o.transport = &FAKE;
  if (in) o.transform = lh_pod_transform, o.free_obj = lh_pod_free, o.transform_ud = in;
  lh_informer_handlers h;
  memset(&h, 0, sizeof(h));
  lh_informer *inf = NULL;
  if (lh_informer_new(loop, NULL, NULL, &o, &h, &inf) || lh_informer_start(inf)) {
    lh_informer_free(inf);
    return NULL;
  }
  json_t *doc = json_pack("{s:{s:s},s:O}", "metadata", "resourceVersion", "1", "items",
                          json_is_array(items) ? items : json_null());
  if (doc) lh_informer_on_list(inf, 0, doc);
  json_decref(doc);
  return inf;
}

static void strings(const json_t *v, int depth) {
  if (depth > 32) return;
  if (json_is_string(v) || json_is_number(v)) {
    int64_t q;
    (void)lh_snap_qty(v, 0, &q);
    (void)lh_snap_qty(v, 1, &q);
    if (json_is_string(v)) (void)lh_snap_time(json_string_value(v));
  } else if (json_is_object(v)) {
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x) strings(x, depth + 1);
  } else if (json_is_array(v)) {
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) strings(x, depth + 1);
  }
}

static const char *inflight(const char *uid, void *ud) {
  (void)ud;
  return uid && uid[0] == 'b' ? "n1" : NULL;
}

int fuzz_ctl_snap_one(const uint8_t *data, size_t size) {
  json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
  if (!j) return 0;
  strings(j, 0);
  lh_loop *loop = lh_loop_new();
  lh_intern *in = lh_intern_new();
  if (loop && in) {
    lh_informer *nodes = mk(loop, &LH_KUBE_NODES, NULL, json_object_get(j, "nodes"));
    lh_informer *queues = mk(loop, &LH_KUBE_VOLCANO_QUEUES, NULL, json_object_get(j, "queues"));
    lh_informer *pgs = mk(loop, &LH_KUBE_VOLCANO_PODGROUPS, NULL, json_object_get(j, "podgroups"));
    lh_informer *pods = mk(loop, &LH_KUBE_PODS, in, json_object_get(j, "pods"));
    if (nodes && queues && pgs && pods) {
      lh_snap_input si;
      memset(&si, 0, sizeof(si));
      si.pods = lh_informer_cache(pods);
      si.nodes = lh_informer_cache(nodes);
      si.queues = lh_informer_cache(queues);
      si.podgroups = lh_informer_cache(pgs);
      si.sched_name = "lahar";
      si.default_cluster = "local";
      si.inflight = inflight;
      lh_snap out;
      memset(&out, 0, sizeof(out));
      if (lh_snap_build(&si, &out) == 0) lh_snap_free(&out);
    }
    lh_informer_free(pods);
    lh_informer_free(pgs);
    lh_informer_free(queues);
    lh_informer_free(nodes);
  }
  if (in) lh_intern_free(in);
  if (loop) lh_loop_free(loop);
  json_decref(j);
  return 0;
}

#ifdef LAHAR_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_ctl_snap_one(data, size); }
#endif
