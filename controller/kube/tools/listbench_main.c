/* listbench_main.c — lahar-listbench: CPU cost of an informer's list path on a saved list
 * response (e.g. `curl .../api/v1/pods > pods.json`), old jansson path against the byte path.
 *
 *   lahar-listbench [--pods] [--rounds N] [--only jansson|bytes] FILE
 *
 * For each path it runs the informer's list handling (lh_informer_on_list on json_loadb of the
 * page, or lh_informer_on_list_bytes on the raw bytes) into a fresh informer with a transport
 * that never answers, N rounds, and prints one JSON line per path with the process CPU time per
 * item (CLOCK_PROCESS_CPUTIME_ID: a loaded machine does not inflate it as it does wall time).
 * --pods uses the compact pod transform; otherwise items stay json_t (PodGroups, nodes).
 * Also times the parse alone: json_loadb of the whole page against lh_js_validate. */
#include "kube/informer.h"
#include "kube/kube.h"
#include "kube/loop.h"
#include "kube/pod.h"
#include "util/jscan.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int nop_list(void *t, lh_informer *inf, const char *path) { return 0; }
static int nop_watch(void *t, lh_informer *inf, const char *path) { return 0; }
/* the pod transform under another name, so that the informer does not pick its byte twin */
static void *jansson_pod(const json_t *pod, void *in) { return lh_pod_transform(pod, in); }

/* One list of the page through a fresh informer; returns the CPU seconds and the item count. */
static double run(const char *body, size_t len, int pods, int bytes, size_t *items) {
  lh_loop *loop = lh_loop_new();
  lh_intern *in = lh_intern_new();
  lh_informer_transport tr = {nop_list, nop_watch, NULL, NULL};
  lh_informer_opts o = {.resource = pods ? &LH_KUBE_PODS : &LH_KUBE_VOLCANO_PODGROUPS, .transport = &tr};
  if (pods) {
    o.transform = bytes ? lh_pod_transform : jansson_pod;
    o.free_obj = lh_pod_free;
    o.transform_ud = in;
  }
  lh_informer *inf = NULL;
  if (!loop || !in || lh_informer_new(loop, NULL, NULL, &o, NULL, &inf) || lh_informer_start(inf)) {
    fprintf(stderr, "listbench: setup failed\n");
    exit(1);
  }
  double t0 = cpu_s();
  if (bytes) {
    lh_informer_on_list_bytes(inf, 0, body, len);
  } else {
    json_t *doc = json_loadb(body, len, 0, NULL);
    lh_informer_on_list(inf, doc ? 0 : LH_EKUBE_PARSE, doc);
    json_decref(doc);
  }
  double t = cpu_s() - t0;
  *items = lh_kube_cache_len(lh_informer_cache(inf));
  lh_informer_free(inf);
  lh_intern_free(in);
  lh_loop_free(loop);
  return t;
}

int main(int argc, char **argv) {
  int pods = 0, rounds = 3, only = -1;
  const char *file = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--pods") == 0) pods = 1;
    else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) rounds = atoi(argv[++i]);
    else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = strcmp(argv[++i], "bytes") == 0; /* profiling */
    else file = argv[i];
  }
  if (!file || rounds <= 0) {
    fprintf(stderr, "usage: lahar-listbench [--pods] [--rounds N] [--only jansson|bytes] FILE\n");
    return 2;
  }
  lh_log_set_level(LH_LOG_WARN);
  FILE *f = fopen(file, "rb");
  if (!f) {
    fprintf(stderr, "listbench: cannot open %s\n", file);
    return 1;
  }
  fseek(f, 0, SEEK_END);
  long sz = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *body = sz > 0 ? malloc((size_t)sz) : NULL;
  if (!body || fread(body, 1, (size_t)sz, f) != (size_t)sz) {
    fprintf(stderr, "listbench: cannot read %s\n", file);
    return 1;
  }
  fclose(f);
  size_t len = (size_t)sz, n = 0;
  /* a page of a paged list: blank its continue token so that the page is applied as a whole
   * list ("continue":"abc" becomes "continue":""    , still valid JSON) */
  char *c = memmem(body, len < 4096 ? len : 4096, "\"continue\":\"", 12);
  if (c && c + 12 < body + len && c[12] != '"') {
    char *q = c + 12;
    while (q < body + len && *q != '"') *q++ = ' ';
    c[12] = '"';
    if (q < body + len) *q = ' ';
  }
  double best[2] = {1e9, 1e9}, parse[2] = {1e9, 1e9};
  for (int r = 0; r < rounds; r++) {
    for (int b = 0; b < 2; b++) {
      if (only >= 0 && b != only) continue;
      double t = run(body, len, pods, b, &n);
      if (t < best[b]) best[b] = t;
    }
    if (only >= 0) continue;
    double t0 = cpu_s();
    json_t *doc = json_loadb(body, len, 0, NULL);
    double t1 = cpu_s();
    json_decref(doc);
    double t2 = cpu_s();
    int ok = lh_js_validate(body, len, 0, NULL) == 0;
    double t3 = cpu_s();
    if (!doc || !ok) {
      fprintf(stderr, "listbench: %s is not valid JSON\n", file);
      return 1;
    }
    if (t1 - t0 < parse[0]) parse[0] = t1 - t0;
    if (t3 - t2 < parse[1]) parse[1] = t3 - t2;
  }
  const char *names[2] = {"jansson", "bytes"};
  for (int b = 0; b < 2; b++)
    if (only < 0 || b == only)
    printf("{\"bench\":\"informer-list\",\"path\":\"%s\",\"transform\":\"%s\",\"items\":%zu,\"bytes\":%zu,"
           "\"cpu_s\":%.3f,\"cpu_us_per_item\":%.2f,\"parse_only_cpu_s\":%.3f,\"parse_mb_per_cpu_s\":%.0f}\n",
           names[b], pods ? "compact-pod" : "json", n, len, best[b], best[b] * 1e6 / (double)(n ? n : 1),
           parse[b], (double)len / 1e6 / parse[b]);
  free(body);
  return 0;
}
