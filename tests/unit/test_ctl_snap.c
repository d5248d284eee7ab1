/* test_ctl_snap.c — the snapshot builder (core/snap.c): informer caches filled through a fake
 * transport -> lh_snapshot. Covers quantities, clusters and serverless pools, hierarchical
 * queues, group membership, groups of one, best-effort pods, running pods with placement,
 * foreign pods' usage and binds in flight; the facts cache (lh_snap_build_cached) against fresh
 * builds after randomised node and PodGroup updates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "core/snap.h"
#include "kube/pod.h"
#include "kube/watch.h"

/* lahar_sched.h clashes with pod.h (lh_kv, lh_toleration): declare what the test reads. */
size_t lh_snapshot_n_clusters(const lh_snapshot *s);
size_t lh_snapshot_n_nodes(const lh_snapshot *s);
size_t lh_snapshot_n_queues(const lh_snapshot *s);
size_t lh_snapshot_n_groups(const lh_snapshot *s);
size_t lh_snapshot_n_tasks(const lh_snapshot *s);
int lh_snapshot_find_cluster(const lh_snapshot *s, const char *name);
int lh_snapshot_find_queue(const lh_snapshot *s, const char *name);
int lh_snapshot_find_node(const lh_snapshot *s, int cluster, const char *name);
const char *lh_snapshot_cluster_name(const lh_snapshot *s, int cluster);
const char *lh_snapshot_node_name(const lh_snapshot *s, int node);
int lh_snapshot_node_cluster(const lh_snapshot *s, int node);
typedef struct lh_conf lh_conf;
typedef struct lh_result lh_result;
typedef struct { int32_t task; int32_t group; int32_t cluster; int32_t node; } lh_bind;
typedef struct { int32_t group; const char *reason; } lh_pending;
lh_conf *lh_conf_default(void);
void lh_conf_free(lh_conf *c);
int lh_schedule(const lh_conf *conf, const lh_snapshot *snap, int64_t now, lh_result **out);
const lh_bind *lh_result_binds(const lh_result *r, size_t *n);
const lh_pending *lh_result_pending(const lh_result *r, size_t *n);
void lh_result_free(lh_result *r);

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

/* ---- the facts cache ---------------------------------------------------------------------- */
#define NN 12 /* nodes */
#define NG 6  /* PodGroups */
typedef struct tnode {
  int present, cpu, cluster, serverless, cordoned, ready, taint, label, rv;
} tnode;

static unsigned rnd(unsigned *st) { /* fixed LCG: the same sequence on every run */
  *st = *st * 1103515245u + 12345u;
  return (*st >> 16) & 0x7fff;
}

static void send(lh_informer *inf, lh_watch_type type, const char *doc) {
  json_error_t e;
  json_t *o = json_loads(doc, 0, &e);
  if (!o) fail_msg("bad test json: %s at %d: %s", e.text, e.position, doc);
  lh_kube_watch_event ev = {type, o, json_string_value(json_object_get(json_object_get(o, "metadata"), "resourceVersion")), NULL, 0};
  lh_informer_on_event(inf, &ev);
  json_decref(o);
}

static void node_doc(const tnode *t, int i, char *buf, size_t cap) {
  static const char *CL[3] = {"", "\"lahar.io/cluster\":\"a\",", "\"lahar.io/cluster\":\"b\","};
  snprintf(buf, cap,
           "{\"metadata\":{\"name\":\"n%02d\",\"resourceVersion\":\"%d\",\"labels\":{%s%s\"zone\":\"z%d\"}},"
           "\"spec\":{\"unschedulable\":%s%s},"
           "\"status\":{\"allocatable\":{\"cpu\":\"%d\",\"memory\":\"16Gi\",\"pods\":\"%d\"},"
           "\"conditions\":[{\"type\":\"Ready\",\"status\":\"%s\"}]}}",
           i, t->rv, t->serverless ? "\"lahar.io/serverless\":\"true\"," : CL[t->cluster], t->label ? "\"disk\":\"ssd\"," : "",
           i % 3, t->cordoned ? "true" : "false",
           t->taint ? ",\"taints\":[{\"key\":\"dedicated\",\"value\":\"x\",\"effect\":\"NoSchedule\"}]" : "",
           t->cpu, 3 + i % 4, t->ready ? "True" : "False");
}

static void pg_doc(int g, int rv, int min_member, int phase, char *buf, size_t cap) {
  static const char *PH[4] = {"Pending", "Inqueue", "Running", "Completed"};
  snprintf(buf, cap,
           "{\"metadata\":{\"name\":\"g%d\",\"namespace\":\"ns\",\"uid\":\"ug%d\",\"resourceVersion\":\"%d\","
           "\"creationTimestamp\":\"2026-01-0%dT00:00:00Z\"},\"spec\":{\"minMember\":%d,\"queue\":\"%s\"},"
           "\"status\":{\"phase\":\"%s\"}}",
           g, g, rv, 1 + g % 9, min_member, g % 2 ? "default" : "q1", PH[phase]);
}

/* Compares the parts of two snapshots the cycle uses, then the core's decisions on both;
 * returns the number of binds. */
static size_t same_snapshot(const lh_snap *a, const lh_snap *b, const lh_conf *cf) {
  assert_int_equal(lh_snapshot_n_clusters(a->snap), lh_snapshot_n_clusters(b->snap));
  assert_int_equal(lh_snapshot_n_nodes(a->snap), lh_snapshot_n_nodes(b->snap));
  assert_int_equal(lh_snapshot_n_queues(a->snap), lh_snapshot_n_queues(b->snap));
  assert_int_equal(lh_snapshot_n_groups(a->snap), lh_snapshot_n_groups(b->snap));
  assert_int_equal(lh_snapshot_n_tasks(a->snap), lh_snapshot_n_tasks(b->snap));
  assert_int_equal(a->skipped, b->skipped);
  assert_int_equal(a->ours_pending, b->ours_pending);
  assert_int_equal(a->nclusters, b->nclusters);
  for (size_t c = 0; c < lh_snapshot_n_clusters(a->snap); c++) {
    assert_string_equal(lh_snapshot_cluster_name(a->snap, (int)c), lh_snapshot_cluster_name(b->snap, (int)c));
    assert_true((a->bind_node[c] == NULL) == (b->bind_node[c] == NULL));
    if (a->bind_node[c]) assert_string_equal(a->bind_node[c], b->bind_node[c]);
  }
  for (size_t n = 0; n < lh_snapshot_n_nodes(a->snap); n++) {
    assert_string_equal(lh_snapshot_node_name(a->snap, (int)n), lh_snapshot_node_name(b->snap, (int)n));
    assert_int_equal(lh_snapshot_node_cluster(a->snap, (int)n), lh_snapshot_node_cluster(b->snap, (int)n));
  }
  lh_result *ra = NULL, *rb = NULL;
  assert_int_equal(lh_schedule(cf, a->snap, 1000000000, &ra), 0);
  assert_int_equal(lh_schedule(cf, b->snap, 1000000000, &rb), 0);
  size_t na, nb, pa, pb;
  const lh_bind *ba = lh_result_binds(ra, &na), *bb = lh_result_binds(rb, &nb);
  assert_int_equal(na, nb);
  for (size_t i = 0; i < na; i++) {
    assert_int_equal(ba[i].task, bb[i].task);
    assert_int_equal(ba[i].group, bb[i].group);
    assert_int_equal(ba[i].cluster, bb[i].cluster);
    assert_int_equal(ba[i].node, bb[i].node);
  }
  const lh_pending *qa = lh_result_pending(ra, &pa), *qb = lh_result_pending(rb, &pb);
  assert_int_equal(pa, pb);
  for (size_t i = 0; i < pa; i++) {
    assert_int_equal(qa[i].group, qb[i].group);
    assert_string_equal(qa[i].reason ? qa[i].reason : "", qb[i].reason ? qb[i].reason : "");
  }
  lh_result_free(ra), lh_result_free(rb);
  return na;
}

/* Nodes and PodGroups change at random (new resourceVersion, deleted, re-added, a MODIFIED
 * without change, a bad quantity); after every step the build that reuses facts from the
 * previous cycles must equal a fresh build, decision for decision. */
static void t_cache_equals_fresh(void **s) {
  (void)s;
  lh_loop *loop = lh_loop_new();
  lh_intern *in = lh_intern_new();
  lh_informer *nodes = mk(loop, &LH_KUBE_NODES, NULL, "");
  lh_informer *queues = mk(loop, &LH_KUBE_VOLCANO_QUEUES, NULL,
                           "{\"metadata\":{\"name\":\"q1\"},\"spec\":{\"weight\":2}}");
  lh_informer *pgs = mk(loop, &LH_KUBE_VOLCANO_PODGROUPS, NULL, "");
  char items[12000] = "", one[1024];
  for (int p = 0; p < 30; p++) { /* 4-5 pods per PodGroup, some bound; a few foreign pods */
    int g = p % NG, bound = p % 7 == 3, foreign = p % 11 == 5;
    snprintf(one, sizeof(one),
             "%s{\"metadata\":{\"name\":\"p%02d\",\"namespace\":\"ns\",\"uid\":\"up%02d\",\"annotations\":{"
             "\"scheduling.k8s.io/group-name\":\"g%d\"}},\"spec\":{\"schedulerName\":\"%s\"%s%s,"
             "\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{\"cpu\":\"%d\"}}}]},"
             "\"status\":{\"phase\":\"%s\"}}",
             p ? "," : "", p, p, g, foreign ? "default-scheduler" : "lahar",
             bound || foreign ? ",\"nodeName\":\"n0" : "", bound || foreign ? (p % 2 ? "1\"" : "4\"") : "",
             1 + p % 3, bound || foreign ? "Running" : "Pending");
    strncat(items, one, sizeof(items) - strlen(items) - 1);
  }
  lh_informer *pods = mk(loop, &LH_KUBE_PODS, in, items);
  lh_snap_input si = {lh_informer_cache(pods), lh_informer_cache(nodes), lh_informer_cache(queues),
                      lh_informer_cache(pgs), "lahar", "local", NULL, NULL};
  lh_conf *cf = lh_conf_default();
  assert_non_null(cf);
  lh_snap_cache *cache = lh_snap_cache_new();
  assert_non_null(cache);
  tnode t[NN];
  int pg_rv[NG], pg_mm[NG], pg_ph[NG], rv = 100;
  char doc[2048];
  unsigned st = 7;
  for (int i = 0; i < NN; i++) {
    t[i] = (tnode){1, 2 + i % 5, i % 3, i == NN - 1, 0, 1, i % 4 == 0, i % 2, ++rv};
    node_doc(&t[i], i, doc, sizeof(doc));
    send(nodes, LH_WATCH_ADDED, doc);
  }
  for (int g = 0; g < NG; g++) {
    pg_rv[g] = ++rv, pg_mm[g] = 1 + g % 4, pg_ph[g] = g % 3;
    pg_doc(g, pg_rv[g], pg_mm[g], pg_ph[g], doc, sizeof(doc));
    send(pgs, LH_WATCH_ADDED, doc);
  }
  size_t reused_total = 0, binds = 0;
  for (int step = 0; step < 200; step++) {
    int changes = (int)(rnd(&st) % 3);
    for (int k = 0; k < changes; k++) {
      unsigned what = rnd(&st) % 10;
      if (what < 7) {
        int i = (int)(rnd(&st) % NN);
        tnode *n = &t[i];
        if (n->present && what == 0) { /* deleted */
          node_doc(n, i, doc, sizeof(doc));
          send(nodes, LH_WATCH_DELETED, doc);
          n->present = 0;
          continue;
        }
        switch (rnd(&st) % 7) {
        case 0: n->cpu = (int)(rnd(&st) % 8); break;
        case 1: n->cluster = (int)(rnd(&st) % 3); break;
        case 2: n->cordoned = !n->cordoned; break;
        case 3: n->ready = !n->ready; break;
        case 4: n->taint = !n->taint; break;
        case 5: n->label = !n->label; break;
        default: break; /* a MODIFIED that changes nothing but the resourceVersion */
        }
        n->rv = ++rv;
        node_doc(n, i, doc, sizeof(doc));
        send(nodes, n->present ? LH_WATCH_MODIFIED : LH_WATCH_ADDED, doc);
        n->present = 1;
      } else {
        int g = (int)(rnd(&st) % NG);
        pg_mm[g] = (int)(rnd(&st) % 6), pg_ph[g] = (int)(rnd(&st) % 4), pg_rv[g] = ++rv;
        pg_doc(g, pg_rv[g], pg_mm[g], pg_ph[g], doc, sizeof(doc));
        send(pgs, LH_WATCH_MODIFIED, doc);
      }
    }
    if (step == 100) { /* a bad quantity: skipped by both, then fixed */
      t[3].rv = ++rv;
      snprintf(doc, sizeof(doc), "{\"metadata\":{\"name\":\"n03\",\"resourceVersion\":\"%d\"},"
               "\"status\":{\"allocatable\":{\"cpu\":\"lots\"}}}", t[3].rv);
      send(nodes, t[3].present ? LH_WATCH_MODIFIED : LH_WATCH_ADDED, doc);
      t[3].present = 1;
    }
    lh_snap fresh, cached;
    assert_int_equal(lh_snap_build(&si, &fresh), 0);
    assert_int_equal(lh_snap_build_cached(&si, cache, &cached), 0);
    binds += same_snapshot(&fresh, &cached, cf);
    size_t reused, parsed, present = 0;
    lh_snap_cache_stats(cache, &reused, &parsed);
    for (int i = 0; i < NN; i++) present += (size_t)t[i].present;
    assert_int_equal(reused + parsed, present);
    if (step > 0) assert_true(parsed <= (size_t)changes + (step == 100)); /* only what changed */
    reused_total += reused;
    lh_snap_free(&fresh), lh_snap_free(&cached);
  }
  assert_true(reused_total > 0);
  assert_true(binds > 0); /* the comparison saw real decisions */
  lh_snap_cache_free(cache);
  lh_snap_cache_free(NULL);
  lh_conf_free(cf);
  lh_informer_free(pods), lh_informer_free(pgs), lh_informer_free(queues), lh_informer_free(nodes);
  lh_intern_free(in);
  lh_loop_free(loop);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(t_build), cmocka_unit_test(t_placed_phase),
                                     cmocka_unit_test(t_cache_equals_fresh)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
