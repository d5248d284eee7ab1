/* test_lc_api_writes.c — the local cluster's write fast paths (hack/localcluster/api.c, objmeta.c)
 * give the same bytes as the jansson paths they replace:
 *   - lc_add_deletion_stamps / lc_del_facts_scan against a parse + set + compact dump;
 *   - a DELETE of a pod (text fast path) against the DELETED event's object stamped with jansson;
 *   - a merge PATCH (one read and parse, shared with the update) against a PUT of the same result
 *     (the update's own read) on an identical second server;
 *   - no-op updates (in-place comparison) write nothing, and pod spec updates are still checked.
 * The server is driven in-process through lc_api_handle on in-memory stores. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "localcluster/lc.h"
#include "localcluster/objmeta.h"
#include "localcluster/patch.h"

/* ---- objmeta text helpers against jansson ------------------------------------------------------ */

static const char *const texts[] = {
    "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"uid\":\"u-1\",\"resourceVersion\":\"7\"},\"spec\":{}}",
    "{\"metadata\":{}}",
    "{\"metadata\":{\"name\":\"b\",\"deletionTimestamp\":\"2020-01-01T00:00:00Z\"},\"x\":1.5}",
    "{\"metadata\":{\"deletionGracePeriodSeconds\":30,\"labels\":{\"k\":\"v\\\"q\"}},\"s\":\"\\u00e9\\n\"}",
    "{\"a\":[1,2,{\"metadata\":{}}],\"metadata\":{\"annotations\":{\"x\":\"}\"}},\"z\":null}",
    "{\"metadata\":{\"name\":\"c\",\"finalizers\":[]},\"r\":1e300,\"u\":\"\xc3\xa9\xe2\x82\xac\"}",
};

/* What obj_delete's jansson path answers: the text parsed, the stamps set where absent, dumped. */
static char *stamps_by_jansson(const char *text, const char *now) {
  json_t *o = json_loads(text, 0, NULL);
  assert_non_null(o);
  json_t *md = json_object_get(o, "metadata");
  if (!json_object_get(md, "deletionTimestamp")) json_object_set_new(md, "deletionTimestamp", json_string(now));
  if (!json_object_get(md, "deletionGracePeriodSeconds"))
    json_object_set_new(md, "deletionGracePeriodSeconds", json_integer(0));
  char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(o);
  return s;
}

/* The store keeps jansson's compact dump; the helpers are exact for that form. */
static char *compact(const char *text) {
  json_t *o = json_loads(text, 0, NULL);
  assert_non_null(o);
  char *s = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  return s;
}

static void test_stamps_match_jansson(void **unused) {
  (void)unused;
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    char *in = compact(texts[i]);
    char *want = stamps_by_jansson(in, "2026-01-02T03:04:05Z");
    size_t n = 0;
    char *got = lc_add_deletion_stamps(in, strlen(in), "2026-01-02T03:04:05Z", &n);
    assert_non_null(got);
    assert_string_equal(got, want);
    assert_int_equal(n, strlen(want));
    free(got);
    free(want);
    free(in);
  }
  size_t n = 0;
  assert_null(lc_add_deletion_stamps("{\"metadata\":[]}", 15, "t", &n));
  assert_null(lc_add_deletion_stamps("{\"kind\":\"Pod\"}", 14, "t", &n));
  assert_null(lc_add_deletion_stamps("{\"metadata\":{}", 14, "t", &n)); /* truncated */
  assert_null(lc_add_deletion_stamps("", 0, "t", &n));
}

static void test_facts_match_jansson(void **unused) {
  (void)unused;
  lc_del_facts f;
  const char *pod = "{\"metadata\":{\"uid\":\"u-9\",\"finalizers\":[\"a\",\"b\"],\"deletionTimestamp\":\"x\","
                    "\"deletionGracePeriodSeconds\":12},\"spec\":{\"nodeName\":\"n1\","
                    "\"terminationGracePeriodSeconds\":5},\"status\":{\"phase\":\"Failed\"}}";
  assert_int_equal(lc_del_facts_scan(pod, strlen(pod), &f), 0);
  assert_true(f.has_uid);
  assert_string_equal(f.uid, "u-9");
  assert_int_equal(f.finalizers, 2);
  assert_true(f.terminating);
  assert_true(f.has_del_grace);
  assert_int_equal(f.del_grace, 12);
  assert_true(f.bound);
  assert_true(f.finished);
  assert_true(f.has_term_grace);
  assert_int_equal(f.term_grace, 5);
  const char *bare = "{\"metadata\":{\"name\":\"x\"},\"spec\":{\"nodeName\":\"\",\"terminationGracePeriodSeconds\":-1},"
                     "\"status\":{\"phase\":\"Running\"}}";
  assert_int_equal(lc_del_facts_scan(bare, strlen(bare), &f), 0);
  assert_false(f.has_uid || f.finalizers || f.terminating || f.has_del_grace || f.bound || f.finished ||
               f.has_term_grace);
  /* shapes the jansson path must judge */
  const char *bad[] = {"{\"metadata\":{\"finalizers\":\"x\"}}", "{\"metadata\":{\"uid\":5}}", "{\"metadata\":1}",
                       "{\"spec\":{}}", "{\"metadata\":{}", "[]", "{\"metadata\":{},\"metadata\":{}}"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(lc_del_facts_scan(bad[i], strlen(bad[i]), &f), -1);
  char longuid[200];
  snprintf(longuid, sizeof longuid, "{\"metadata\":{\"uid\":\"%070d\"}}", 0);
  assert_int_equal(lc_del_facts_scan(longuid, strlen(longuid), &f), -1);
}

/* ---- an in-process server ---------------------------------------------------------------------- */

typedef struct evlog {
  char *last[4]; /* last event text by type (ADDED, MODIFIED, DELETED) */
  int n;
} evlog;

static int on_event(void *ud, const lh_store_event *ev) {
  evlog *l = ud;
  free(l->last[ev->type]);
  l->last[ev->type] = strndup(ev->json, ev->len);
  l->n++;
  return 0;
}

typedef struct tsrv {
  lc_server s;
  evlog ev;
} tsrv;

static void srv_open(tsrv *t) {
  memset(t, 0, sizeof *t);
  char err[256];
  assert_int_equal(lh_store_open_sqlite(NULL, &t->s.store, err, sizeof err), 0);
  assert_int_equal(lc_registry_init(&t->s.reg), 0);
  assert_true(lh_store_subscribe(t->s.store, on_event, &t->ev) > 0);
}

static void srv_close(tsrv *t) {
  lh_store_close(t->s.store);
  lc_registry_free(&t->s.reg);
  for (int i = 0; i < 4; i++) free(t->ev.last[i]);
}

/* Stores a pod text as is (fixed uid and timestamps, so two servers hold identical objects). */
static void put_pod(tsrv *t, const char *name, const char *extra_spec, const char *extra_meta) {
  char buf[2048];
  snprintf(buf, sizeof buf,
           "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"default\","
           "\"uid\":\"0000-%s\",\"creationTimestamp\":\"2026-01-01T00:00:00Z\"%s},\"spec\":{\"containers\":"
           "[{\"name\":\"c\",\"image\":\"busybox\"}]%s},\"status\":{\"phase\":\"Pending\"}}",
           name, name, extra_meta, extra_spec);
  json_t *o = json_loads(buf, 0, NULL);
  assert_non_null(o);
  /* the defaults a create would have applied, so later updates are not spec changes */
  const lc_rtype *pods = lc_registry_find(&t->s.reg, "", "v1", "pods");
  assert_non_null(pods);
  lc_defaults_create(pods, o);
  assert_int_equal(lh_store_create(t->s.store, "pods", "default", name, o, NULL), 0);
  json_decref(o);
}

/* One request; returns the response (body malloc'd, caller frees). */
static lc_response call(tsrv *t, const char *method, const char *path, const char *query, const char *ctype,
                        const char *body) {
  lc_request rq;
  memset(&rq, 0, sizeof rq);
  rq.method = method;
  lc_route_parse(path, &rq.route);
  lc_query_init(&rq.q);
  assert_int_equal(lc_query_parse(&rq.q, query ? query : ""), 0);
  rq.content_type = ctype ? ctype : "";
  rq.accept = "";
  rq.body = body;
  rq.body_len = body ? strlen(body) : 0;
  lc_response r = {0};
  lc_watch_spec ws;
  assert_int_equal(lc_api_handle(&t->s, &rq, &r, &ws), LC_HANDLED);
  return r;
}

/* The body with the value of "deletionTimestamp" replaced by a fixed string (the two sides may
 * read the clock in different seconds). */
static void fix_time(char *body) {
  char *p = strstr(body, "\"deletionTimestamp\":\"");
  if (!p) return;
  p += strlen("\"deletionTimestamp\":\"");
  for (; *p && *p != '"'; p++) *p = 'T';
}

static void test_delete_pod_fast_path(void **unused) {
  (void)unused;
  tsrv t;
  srv_open(&t);
  put_pod(&t, "p1", "", ",\"labels\":{\"a\":\"b\"}");
  /* bound and terminating with a pending grace: grace 0 (the kubelet's confirmation) removes it */
  put_pod(&t, "p2", ",\"nodeName\":\"n1\"",
          ",\"deletionTimestamp\":\"2026-01-01T00:00:30Z\",\"deletionGracePeriodSeconds\":30");
  const char *names[] = {"p1", "p2"};
  const char *queries[] = {"", "gracePeriodSeconds=0"};
  for (int i = 0; i < 2; i++) {
    char path[128];
    snprintf(path, sizeof path, "/api/v1/namespaces/default/pods/%s", names[i]);
    lc_response r = call(&t, "DELETE", path, queries[i], NULL, NULL);
    assert_int_equal(r.code, 200);
    assert_non_null(t.ev.last[LH_STORE_DELETED]);
    char *want = stamps_by_jansson(t.ev.last[LH_STORE_DELETED], "2026-01-02T03:04:05Z");
    char *got = strndup(r.body, r.len);
    fix_time(want);
    fix_time(got);
    assert_string_equal(got, want);
    free(want);
    free(got);
    free(r.body);
    lc_response g = call(&t, "GET", path, NULL, NULL, NULL);
    assert_int_equal(g.code, 404);
    free(g.body);
  }
  srv_close(&t);
}

static void test_delete_declined_paths(void **unused) {
  (void)unused;
  tsrv t;
  srv_open(&t);
  put_pod(&t, "p1", "", "");
  put_pod(&t, "p2", ",\"nodeName\":\"n1\"", "");
  put_pod(&t, "p3", "", ",\"finalizers\":[\"x/y\"]");
  /* a wrong uid precondition: the full path's 409, nothing deleted */
  lc_response r = call(&t, "DELETE", "/api/v1/namespaces/default/pods/p1", NULL, "application/json",
                       "{\"preconditions\":{\"uid\":\"other\"}}");
  assert_int_equal(r.code, 409);
  assert_non_null(strstr(r.body, "does not match the UID in record (0000-p1)"));
  free(r.body);
  /* a bound pod is deleted gracefully: it stays, stamped with a 30 s grace */
  r = call(&t, "DELETE", "/api/v1/namespaces/default/pods/p2", NULL, NULL, NULL);
  assert_int_equal(r.code, 200);
  assert_non_null(strstr(r.body, "\"deletionGracePeriodSeconds\":30"));
  free(r.body);
  r = call(&t, "GET", "/api/v1/namespaces/default/pods/p2", NULL, NULL, NULL);
  assert_int_equal(r.code, 200);
  free(r.body);
  /* finalizers keep the object */
  r = call(&t, "DELETE", "/api/v1/namespaces/default/pods/p3", NULL, NULL, NULL);
  assert_int_equal(r.code, 200);
  assert_non_null(strstr(r.body, "\"deletionGracePeriodSeconds\":0"));
  free(r.body);
  r = call(&t, "GET", "/api/v1/namespaces/default/pods/p3", NULL, NULL, NULL);
  assert_int_equal(r.code, 200);
  free(r.body);
  /* a kind whose delete answers a Status carries the uid read from the text */
  json_t *cm = json_loads("{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"c\","
                          "\"namespace\":\"default\",\"uid\":\"cm-uid\"}}", 0, NULL);
  assert_int_equal(lh_store_create(t.s.store, "configmaps", "default", "c", cm, NULL), 0);
  json_decref(cm);
  r = call(&t, "DELETE", "/api/v1/namespaces/default/configmaps/c", NULL, NULL, NULL);
  assert_int_equal(r.code, 200);
  assert_non_null(strstr(r.body, "\"kind\":\"Status\""));
  assert_non_null(strstr(r.body, "\"uid\":\"cm-uid\""));
  free(r.body);
  srv_close(&t);
}

/* PATCH (read once, cur handed to the update) and PUT (the update reads) of the same result on two
 * identical servers answer and store the same bytes. */
static void test_patch_equals_put(void **unused) {
  (void)unused;
  /* the main resource, and the status subresource (the only way status changes) */
  static const char *const patches[] = {
      "{\"metadata\":{\"labels\":{\"x\":\"1\"}}}",
      "{\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
      "{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox:2\",\"imagePullPolicy\":\"Always\"}]}}",
      "{\"metadata\":{\"annotations\":{\"a\":\"b\"},\"resourceVersion\":null}}",
  };
  static const char *const paths[] = {"/api/v1/namespaces/default/pods/p", "/api/v1/namespaces/default/pods/p/status",
                                      "/api/v1/namespaces/default/pods/p", "/api/v1/namespaces/default/pods/p"};
  for (size_t i = 0; i < sizeof patches / sizeof patches[0]; i++) {
    tsrv a, b;
    srv_open(&a);
    srv_open(&b);
    put_pod(&a, "p", "", "");
    put_pod(&b, "p", "", "");
    const char *path = paths[i];
    lc_response ra = call(&a, "PATCH", path, NULL, "application/merge-patch+json", patches[i]);
    /* the PUT body: the stored object with the patch applied, as a client would send it */
    lc_response g = call(&b, "GET", "/api/v1/namespaces/default/pods/p", NULL, NULL, NULL);
    json_t *cur = json_loadb(g.body, g.len, 0, NULL), *p = json_loads(patches[i], 0, NULL), *res = NULL;
    assert_int_equal(lh_patch_merge(cur, p, &res, NULL, 0), 0);
    char *put = json_dumps(res, JSON_COMPACT);
    lc_response rb = call(&b, "PUT", path, NULL, "application/json", put);
    assert_int_equal(ra.code, 200);
    assert_int_equal(rb.code, 200);
    assert_int_equal(ra.len, rb.len);
    assert_memory_equal(ra.body, rb.body, ra.len);
    assert_non_null(a.ev.last[LH_STORE_MODIFIED]); /* every patch here is a real change */
    assert_non_null(b.ev.last[LH_STORE_MODIFIED]);
    assert_string_equal(a.ev.last[LH_STORE_MODIFIED], b.ev.last[LH_STORE_MODIFIED]);
    free(put);
    json_decref(res);
    json_decref(p);
    json_decref(cur);
    free(g.body);
    free(ra.body);
    free(rb.body);
    srv_close(&a);
    srv_close(&b);
  }
}

static void test_noop_and_spec_checks(void **unused) {
  (void)unused;
  tsrv t;
  srv_open(&t);
  put_pod(&t, "p", "", ",\"labels\":{\"a\":\"b\"}");
  const char *path = "/api/v1/namespaces/default/pods/p";
  lc_response g = call(&t, "GET", path, NULL, NULL, NULL);
  int events = t.ev.n;
  /* the same label value, and a managedFields change only: nothing is written, the answer is the
   * stored object unchanged */
  const char *noops[] = {"{\"metadata\":{\"labels\":{\"a\":\"b\"}}}",
                         "{\"metadata\":{\"managedFields\":[{\"manager\":\"m\"}]}}"};
  for (int i = 0; i < 2; i++) {
    lc_response r = call(&t, "PATCH", path, NULL, "application/merge-patch+json", noops[i]);
    assert_int_equal(r.code, 200);
    assert_int_equal(r.len, g.len);
    assert_memory_equal(r.body, g.body, g.len);
    free(r.body);
  }
  assert_int_equal(t.ev.n, events);
  /* a label removed, an extra metadata member, a status member: real changes */
  const char *changes[] = {"{\"metadata\":{\"labels\":null}}", "{\"metadata\":{\"annotations\":{\"k\":\"v\"}}}",
                           "{\"status\":{\"message\":\"m\"}}"};
  for (int i = 0; i < 3; i++) {
    lc_response r = call(&t, "PATCH", i == 2 ? "/api/v1/namespaces/default/pods/p/status" : path, NULL,
                         "application/merge-patch+json", changes[i]);
    assert_int_equal(r.code, 200);
    free(r.body);
    assert_int_equal(t.ev.n, events + i + 1);
  }
  /* spec fields other than images are immutable; images and tolerations are not */
  lc_response r = call(&t, "PATCH", path, NULL, "application/merge-patch+json", "{\"spec\":{\"nodeName\":\"n\"}}");
  assert_int_equal(r.code, 422);
  free(r.body);
  r = call(&t, "PATCH", path, NULL, "application/merge-patch+json",
           "{\"spec\":{\"tolerations\":[{\"key\":\"k\",\"operator\":\"Exists\"}]}}");
  assert_int_equal(r.code, 200);
  free(r.body);
  free(g.body);
  srv_close(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stamps_match_jansson),  cmocka_unit_test(test_facts_match_jansson),
      cmocka_unit_test(test_delete_pod_fast_path),  cmocka_unit_test(test_delete_declined_paths),
      cmocka_unit_test(test_patch_equals_put),      cmocka_unit_test(test_noop_and_spec_checks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
