/* kubewatch_main.c — lahar-kubewatch, a small debug client for controller/kube/ used by the
 * e2e tests: get/list/create/delete/bind through the blocking client, and `inform`, which runs
 * an informer (list + watch, WebSocket or chunked HTTP) and prints one line per event. */
#include "kube/async.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/informer.h"
#include "kube/loop.h"
#include "kube/watch.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const lh_kube_resource *resource_named(const char *n) {
  static const struct { const char *name; const lh_kube_resource *r; } tab[] = {
      {"pods", &LH_KUBE_PODS}, {"nodes", &LH_KUBE_NODES}, {"namespaces", &LH_KUBE_NAMESPACES},
      {"queues", &LH_KUBE_VOLCANO_QUEUES}, {"podgroups", &LH_KUBE_VOLCANO_PODGROUPS},
      {"jobs", &LH_KUBE_VOLCANO_JOBS}, {"workflows", &LH_KUBE_ARGO_WORKFLOWS}};
  for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
    if (strcmp(tab[i].name, n) == 0) return tab[i].r;
  return NULL;
}

static const char *name_of(const void *o) {
  const char *n = json_string_value(json_object_get(json_object_get((json_t *)o, "metadata"), "name"));
  return n ? n : "?";
}
static void on_add(lh_informer *i, const void *o, void *d) { printf("ADD %s\n", name_of(o)), fflush(stdout); }
static void on_upd(lh_informer *i, const void *a, const void *b, void *d) { printf("UPDATE %s\n", name_of(b)), fflush(stdout); }
static void on_del(lh_informer *i, const void *o, void *d) { printf("DELETE %s\n", name_of(o)), fflush(stdout); }

static int usage(void) {
  fprintf(stderr, "usage: lahar-kubewatch [--kubeconfig F] [--ns NS] [--mode auto|ws|http] [--timeout S]\n"
                  "  get RES NAME | list RES [LIMIT] | create RES FILE | delete RES NAME | bind POD NODE |\n"
                  "  inform RES\n");
  return 2;
}

int main(int argc, char **argv) {
  const char *kc = NULL, *ns = NULL, *mode = "auto";
  long timeout_s = 0;
  int i = 1;
  for (; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
    if (i + 1 >= argc) return usage();
    if (strcmp(argv[i], "--kubeconfig") == 0) kc = argv[i + 1];
    else if (strcmp(argv[i], "--ns") == 0) ns = argv[i + 1];
    else if (strcmp(argv[i], "--mode") == 0) mode = argv[i + 1];
    else if (strcmp(argv[i], "--timeout") == 0) timeout_s = atol(argv[i + 1]);
    else return usage();
  }
  if (i + 1 >= argc) return usage();
  const char *cmd = argv[i];
  const lh_kube_resource *res = strcmp(cmd, "bind") == 0 ? &LH_KUBE_PODS : resource_named(argv[i + 1]);
  if (!res) return usage();
  char err[512];
  lh_kube_config *cfg = NULL;
  int rc = kc ? lh_kube_config_load_file(kc, NULL, &cfg, err, sizeof(err)) : lh_kube_config_auto(&cfg, err, sizeof(err));
  if (rc) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  if (!ns) ns = cfg->namespace;
  if (strcmp(cmd, "inform") == 0) {
    lh_loop *loop = lh_loop_new();
    lh_kube_async *a = NULL;
    lh_kube_wsclient *ws = NULL;
    if (!loop || lh_kube_async_new(loop, cfg, NULL, &a) != 0) return 1;
    if (strcmp(mode, "http") != 0 && (rc = lh_kube_wsclient_new(loop, cfg, &ws)) != 0) {
      fprintf(stderr, "websocket client: %s\n", lh_kube_strerror(rc));
      return 1;
    }
    lh_informer_opts o = {.resource = res, .ns = res->namespaced ? ns : NULL, .watch_timeout_s = 60,
                          .watch_mode = strcmp(mode, "ws") == 0 ? LH_WATCH_WS_ONLY : LH_WATCH_AUTO};
    lh_informer_handlers h = {on_add, on_upd, on_del, NULL};
    lh_informer *inf;
    if (lh_informer_new(loop, a, ws, &o, &h, &inf) != 0 || lh_informer_start(inf) != 0) return 1;
    lh_loop_update_time(loop);
    uint64_t end = lh_loop_now(loop) + (uint64_t)timeout_s * 1000;
    int synced = 0;
    while (!timeout_s || lh_loop_now(loop) < end) {
      lh_loop_run_once(loop, 200);
      if (!synced && lh_informer_has_synced(inf)) {
        synced = 1;
        printf("SYNCED rv=%s count=%zu\n", lh_informer_last_rv(inf), lh_kube_cache_len(lh_informer_cache(inf)));
        fflush(stdout);
      }
    }
    lh_informer_stats st;
    lh_informer_get_stats(inf, &st);
    printf("STATS lists=%lu watches=%lu relists410=%lu backoffs=%lu events=%lu bookmarks=%lu\n", st.lists,
           st.watches, st.relists_410, st.backoffs, st.events, st.bookmarks);
    lh_informer_free(inf);
    lh_kube_async_free(a);
    lh_kube_wsclient_free(ws);
    lh_loop_free(loop);
    lh_kube_config_free(cfg);
    return 0;
  }
  lh_kube_client *c;
  if (lh_kube_client_new(cfg, NULL, &c) != 0) return 1;
  lh_kube_response r;
  const char *rns = res->namespaced ? ns : NULL;
  if (strcmp(cmd, "get") == 0 && i + 2 < argc) {
    rc = lh_kube_get(c, res, rns, argv[i + 2], &r);
  } else if (strcmp(cmd, "list") == 0) {
    lh_kube_list_opts lo = {.limit = i + 2 < argc ? atol(argv[i + 2]) : 0};
    rc = lh_kube_list(c, res, rns, &lo, &r);
  } else if (strcmp(cmd, "create") == 0 && i + 2 < argc) {
    char *body = NULL;
    if (lh_kube_read_file(argv[i + 2], 1u << 24, &body, NULL) != 0) return 1;
    rc = lh_kube_create(c, res, rns, body, &r);
    free(body);
  } else if (strcmp(cmd, "delete") == 0 && i + 2 < argc) {
    lh_kube_delete_opts d = LH_KUBE_DELETE_OPTS_INIT;
    d.grace_period_seconds = 0;
    rc = lh_kube_delete(c, res, rns, argv[i + 2], &d, &r);
  } else if (strcmp(cmd, "bind") == 0 && i + 2 < argc) {
    rc = lh_kube_bind(c, ns, argv[i + 1], argv[i + 2], NULL, &r);
  } else {
    return usage();
  }
  if (rc == 0) printf("%s\n", r.body ? r.body : "");
  else if (rc == LH_EKUBE_HTTP || rc == LH_EKUBE_GONE)
    fprintf(stderr, "HTTP %ld %s: %s\n", r.http_code, r.status.reason, r.status.message);
  else fprintf(stderr, "%s: %s\n", lh_kube_strerror(rc), r.error);
  lh_kube_response_free(&r);
  lh_kube_client_free(c);
  lh_kube_config_free(cfg);
  return rc ? 1 : 0;
}
