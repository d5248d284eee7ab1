/* test_ctl_snap.c — the snapshot builder (core/snap.c): informer caches filled through a fake
 * transport -> lh_snapshot. Covers quantities, clusters and serverless pools, hierarchical
 * queues, group membership, groups of one, best-effort pods, running pods with placement,
 * foreign pods' usage and binds in flight. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "core/snap.h"
#include "kube/pod.h"

/* lahar_sched.h clashes with pod.h (lh_kv, lh_toleration): declare what the test reads. */
size_t lh_snapshot_n_clusters(const lh_snapshot *s);
size_t lh_snapshot_n_nodes(const lh_snapshot *s);
size_t lh_snapshot_n_queues(const lh_snapshot *s);
size_t lh_snapshot_n_groups(const lh_snapshot *s);
size_t lh_snapshot_n_tasks(const lh_snapshot *s);
int lh_snapshot_find_cluster(const lh_snapshot *s, const char *name);
int lh_snapshot_find_queue(const lh_snapshot *s, const char *name);
int lh_snapshot_find_node(const lh_snapshot *s, int cluster, const char *name);

static int t_list(void *t, lh_informer *inf, const char *path) { (void)t; (void)inf; (void)path; return 0; }
static int t_watch(void *t, lh_informer *inf, const char *path) { (void)t; (void)inf; (void)path; return 0; }
static void t_stop(void *t, lh_informer *inf) { (void)t; (void)inf; }
static const lh_informer_transport FAKE = {t_list, t_watch, t_stop, NULL};

static lh_informer *mk(lh_loop *loop, const lh_kube_resource *r, lh_intern *in, const char *items) {
  lh_informer_opts o;
  memset(&o, 0, sizeof(o));
  o.resource = r;
  o.transport = &FAKE;
  if (in) o.transform = lh_pod_transform, o.free_obj = lh_pod_free, o.transform_ud = in;
  lh_informer_handlers h = {0};
  lh_informer *inf = NULL;
  assert_int_equal(lh_informer_new(loop, NULL, NULL, &o, &h, &inf), 0);
  assert_int_equal(lh_informer_start(inf), 0);
  char doc[16384];
  snprintf(doc, sizeof(doc), "{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[%s]}", items);
  json_error_t e;
  json_t *j = json_loads(doc, 0, &e);
  if (!j) fail_msg("bad test json: %s at %d", e.text, e.position);
  lh_informer_on_list(inf, 0, j);
  json_decref(j);
  assert_true(lh_informer_has_synced(inf));
  return inf;
}

#define NODE(n, labels, cpu) \
  "{\"metadata\":{\"name\":\"" n "\",\"labels\":{" labels "}},\"status\":{\"allocatable\":{\"cpu\":\"" cpu \
  "\",\"memory\":\"8Gi\",\"pods\":\"110\"}}}"
#define POD(n, sched, annos, node, phase, cpu) \
  "{\"metadata\":{\"name\":\"" n "\",\"namespace\":\"ns\",\"uid\":\"uid-" n "\",\"annotations\":{" annos "}}," \
  "\"spec\":{\"schedulerName\":\"" sched "\"" node ",\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{" cpu "}}}]}," \
  "\"status\":{\"phase\":\"" phase "\"}}"

static const char *inflight(const char *uid, void *ud) {
  (void)ud;
  return !strcmp(uid, "uid-p4") ? "n2" : NULL;
}

static void t_build(void **s) {
  (void)s;
  lh_loop *loop = lh_loop_new();
  lh_intern *in = lh_intern_new();
  lh_informer *nodes = mk(loop, &LH_KUBE_NODES, NULL,
                          NODE("n1", "", "4") "," NODE("n2", "\"lahar.io/cluster\":\"gpu\"", "8000m") ","
                          NODE("vk", "\"lahar.io/serverless\":\"true\",\"lahar.io/serverless-pool\":\"pool\"", "100"));
  lh_informer *queues = mk(loop, &LH_KUBE_VOLCANO_QUEUES, NULL,
      "{\"metadata\":{\"name\":\"prod\",\"annotations\":{\"volcano.sh/hierarchy\":\"root/eng/prod\","
      "\"volcano.sh/hierarchy-weights\":\"1/2/8\"}},\"spec\":{\"weight\":1}},"
      "{\"metadata\":{\"name\":\"child\"},\"spec\":{\"parent\":\"prod\",\"capability\":{\"cpu\":\"2\"}}},"
      "{\"metadata\":{\"name\":\"orphan\"},\"spec\":{\"parent\":\"nope\"}}");
  lh_informer *pgs = mk(loop, &LH_KUBE_VOLCANO_PODGROUPS, NULL,
      "{\"metadata\":{\"name\":\"g\",\"namespace\":\"ns\",\"uid\":\"ug\",\"creationTimestamp\":\"2026-01-01T00:00:00Z\"},"
      "\"spec\":{\"minMember\":2,\"queue\":\"prod\",\"minResources\":{\"cpu\":\"1500m\"}},\"status\":{\"phase\":\"Inqueue\"}},"
      "{\"metadata\":{\"name\":\"lost\",\"namespace\":\"ns\",\"uid\":\"ul\"},\"spec\":{\"queue\":\"missing\"}},"
      "{\"metadata\":{\"name\":\"done\",\"namespace\":\"ns\",\"uid\":\"ud\"},\"status\":{\"phase\":\"Completed\"}}");
  lh_informer *pods = mk(loop, &LH_KUBE_PODS, in,
      POD("p1", "lahar", "\"scheduling.k8s.io/group-name\":\"g\"", "", "Pending", "\"cpu\":\"1\"") ","
      POD("p2", "volcano", "\"scheduling.k8s.io/group-name\":\"g\"", ",\"nodeName\":\"n1\"", "Running", "\"cpu\":\"500m\"") ","
      POD("p3", "lahar", "", "", "Pending", "") ","   /* best effort, group of one */
      POD("p4", "lahar", "\"volcano.sh/queue-name\":\"child\"", "", "Pending", "\"cpu\":\"1\"") ","
      POD("f1", "default-scheduler", "", ",\"nodeName\":\"n1\"", "Running", "\"cpu\":\"3\"") ","
      POD("x1", "other", "", "", "Pending", "\"cpu\":\"1\""));
  lh_snap_input si = {lh_informer_cache(pods), lh_informer_cache(nodes), lh_informer_cache(queues),
                      lh_informer_cache(pgs), "lahar", "local", inflight, NULL};
  lh_snap sn;
  assert_int_equal(lh_snap_build(&si, &sn), 0);
  /* clusters: local (n1), gpu (n2), serverless pool (vk) */
  assert_int_equal(lh_snapshot_n_clusters(sn.snap), 3);
  assert_int_equal(lh_snapshot_n_nodes(sn.snap), 2);
  int pool = lh_snapshot_find_cluster(sn.snap, "pool");
  assert_true(pool >= 0);
  assert_string_equal(sn.bind_node[pool], "vk");
  assert_true(lh_snapshot_find_node(sn.snap, lh_snapshot_find_cluster(sn.snap, "gpu"), "n2") >= 0);
  /* queues: prod, child, orphan, default + synthetic /root, /root/eng */
  assert_int_equal(lh_snapshot_n_queues(sn.snap), 6);
  assert_true(lh_snapshot_find_queue(sn.snap, "/root/eng") >= 0);
  assert_true(lh_snapshot_find_queue(sn.snap, "default") >= 0);
  /* groups: g (PodGroup), p3 and p4 (groups of one); lost -> local pending; done skipped */
  assert_int_equal(lh_snapshot_n_groups(sn.snap), 3);
  assert_int_equal(sn.nlocal, 1);
  assert_string_equal(sn.local[0].name, "lost");
  assert_non_null(strstr(sn.local[0].reason, "missing"));
  assert_int_equal(sn.groups[0].is_pg, 1);
  assert_string_equal(sn.groups[0].name, "g");
  assert_int_equal(sn.groups[0].min_member, 2);
  assert_int_equal(sn.groups[0].running, 1); /* p2 on n1 */
  assert_int_equal(sn.groups[0].pending, 1); /* p1 */
  /* tasks: p1, p2 (g), p3, p4 (in flight to n2: counted running); f1/x1 are not ours */
  assert_int_equal(lh_snapshot_n_tasks(sn.snap), 4);
  assert_int_equal(sn.ours_pending, 2); /* p1, p3 */
  int found_p4 = 0;
  for (size_t g = 0; g < sn.ngroups; g++)
    if (!strcmp(sn.groups[g].name, "p4")) {
      found_p4 = 1;
      assert_string_equal(sn.groups[g].queue, "child");
      assert_int_equal(sn.groups[g].running, 1);
    }
  assert_true(found_p4);
  lh_snap_free(&sn);
  lh_snap_free(&sn); /* idempotent on a zeroed struct */
  int64_t v;
  json_t *q = json_string("1.5Gi");
  assert_int_equal(lh_snap_qty(q, 0, &v), 0);
  assert_int_equal(v, 1610612736);
  json_decref(q);
  q = json_integer(2);
  assert_int_equal(lh_snap_qty(q, 1, &v), 0);
  assert_int_equal(v, 2000);
  json_decref(q);
  q = json_string("lots");
  assert_int_equal(lh_snap_qty(q, 0, &v), -1);
  json_decref(q);
  assert_int_equal(lh_snap_time("1970-01-02T00:00:00Z"), 86400);
  lh_informer_free(pods), lh_informer_free(pgs), lh_informer_free(queues), lh_informer_free(nodes);
  lh_intern_free(in);
  lh_loop_free(loop);
}

static const char *inflight_b(const char *uid, void *ud) {
  (void)ud;
  return !strcmp(uid, "uid-b") ? "n1" : NULL;
}

static int group_phase(const lh_snap *sn, const char *name) {
  for (size_t g = 0; g < sn->ngroups; g++)
    if (!strcmp(sn->groups[g].name, name)) return sn->groups[g].phase;
  fail_msg("group %s not in the snapshot", name);
  return -1;
}

/* A PodGroup whose pods were just bound (or have binds in flight) gets the phase the cycle
 * writes for it (Running when placed >= minMember, else in queue) before that write comes back
 * through the watch: otherwise it looks "not admitted" and keeps resync cycles running while
 * its binds are still in flight. Finished or deleting pods do not count. */
static void t_placed_phase(void **s) {
  (void)s;
  lh_loop *loop = lh_loop_new();
  lh_intern *in = lh_intern_new();
  lh_informer *nodes = mk(loop, &LH_KUBE_NODES, NULL, NODE("n1", "", "64"));
  lh_informer *queues = mk(loop, &LH_KUBE_VOLCANO_QUEUES, NULL, "");
#define PG(n, mm) "{\"metadata\":{\"name\":\"" n "\",\"namespace\":\"ns\",\"uid\":\"u" n "\"},\"spec\":{\"minMember\":" mm "}}"
  lh_informer *pgs = mk(loop, &LH_KUBE_VOLCANO_PODGROUPS, NULL,
                        PG("full", "2") "," PG("part", "3") "," PG("none", "1") "," PG("done", "1"));
#define GA(g) "\"scheduling.k8s.io/group-name\":\"" g "\""
  lh_informer *pods = mk(loop, &LH_KUBE_PODS, in,
      POD("a", "lahar", GA("full"), ",\"nodeName\":\"n1\"", "Running", "\"cpu\":\"1\"") ","
      POD("b", "lahar", GA("full"), "", "Pending", "\"cpu\":\"1\"") ","   /* bind in flight */
      POD("c", "lahar", GA("part"), ",\"nodeName\":\"n1\"", "Pending", "\"cpu\":\"1\"") ","
      POD("d", "lahar", GA("part"), "", "Pending", "\"cpu\":\"1\"") ","
      POD("e", "lahar", GA("none"), "", "Pending", "\"cpu\":\"1\"") ","
      POD("f", "lahar", GA("done"), ",\"nodeName\":\"n1\"", "Succeeded", "\"cpu\":\"1\""));
  lh_snap_input si = {lh_informer_cache(pods), lh_informer_cache(nodes), lh_informer_cache(queues),
                      lh_informer_cache(pgs), "lahar", "local", inflight_b, NULL};
  lh_snap sn;
  assert_int_equal(lh_snap_build(&si, &sn), 0);
  assert_int_equal(group_phase(&sn, "full"), 2); /* LH_GROUP_RUNNING */
  assert_int_equal(group_phase(&sn, "part"), 1); /* LH_GROUP_INQUEUE */
  assert_int_equal(group_phase(&sn, "none"), 0); /* LH_GROUP_PENDING */
  assert_int_equal(group_phase(&sn, "done"), 0); /* only a finished pod */
  lh_snap_free(&sn);
  lh_informer_free(pods), lh_informer_free(pgs), lh_informer_free(queues), lh_informer_free(nodes);
  lh_intern_free(in);
  lh_loop_free(loop);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(t_build), cmocka_unit_test(t_placed_phase)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
