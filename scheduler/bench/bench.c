/* bench.c — lahar-bench: synthetic scheduling scenarios timed against the scheduling core.
 *
 * Each scenario generates a model (scheduler/bench/gen.h), builds an lh_snapshot from it (timed
 * separately as build_ms), then runs lh_schedule `--repeat` times over the same snapshot and
 * reports the median cycle. Only lh_schedule is inside the cycle timer (CLOCK_MONOTONIC). Every
 * scenario runs in its own forked process so peak_rss_kb belongs to that scenario alone. Output:
 * one JSON object per line on stdout; a human summary against the targets on stderr.
 *
 * Model memory: the snapshot is built twice, once with clusters, nodes and queues only and once
 * complete; mallinfo2() heap deltas give bytes per node (first build / nodes) and per pod
 * ((complete - first) / pods, so groups are charged to their pods). The core's own count,
 * lh_snapshot_mem_bytes, is reported next to it.
 *
 *   lahar-bench [--all | --scenario NAME] [--seed N] [--repeat N] [--list]
 * Without --scenario every scenario runs (the root Makefile's bench rule splits BENCHES entries
 * on spaces, so the fragment registers the bare binary).
 */
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scheduler/bench/gen.h"
#include "scheduler/lahar_sched.h"

static const char CONF_RECLAIM[] =
    "actions: \"enqueue, allocate, backfill, reclaim, preempt\"\n"
    "tiers:\n"
    "- plugins:\n"
    "  - name: priority\n"
    "  - name: gang\n"
    "  - name: conformance\n"
    "- plugins:\n"
    "  - name: drf\n"
    "  - name: predicates\n"
    "  - name: proportion\n"
    "  - name: nodeorder\n"
    "  - name: binpack\n";

typedef struct {
  const char *name;
  const char *what;
  int nodes, pods, groups;
  double p_running;   /* share of groups already running (their pods count in `pods`) */
  int hostname_label; /* every node has its own hostname label */
  const char *conf;   /* NULL = lh_conf_default() */
  int max_repeat;     /* cap on --repeat for the big ones */
  int target;         /* judged against the targets (stderr summary, "targets_met") */
} scenario;

/* The core's targets (docs/performance.md): at 10k nodes, at least 100k placements per second on
 * one core and a full cycle over 100k pending pods under 1 s; at most 512 bytes of model per pod
 * and per node. */
#define TARGET_PPS 100000.0
#define TARGET_CYCLE_MS 1000.0
#define TARGET_BYTES 512.0

static const scenario SCENARIOS[] = {
    {.name = "main", .nodes = 10000, .pods = 100000, .groups = 10000, .target = 1,
     .what = "10k nodes (4 dedicated clusters) + 2 serverless, 20 queues, 100k pending pods in 10k gangs"},
    {.name = "hostname-labels", .nodes = 10000, .pods = 100000, .groups = 10000, .hostname_label = 1,
     .what = "main, with a unique kubernetes.io/hostname label on every node"},
    {.name = "oversubscribed", .nodes = 2000, .pods = 100000, .groups = 10000,
     .what = "2k nodes, 100k pending pods in 10k gangs: demand is ~5x supply"},
    {.name = "busy", .nodes = 10000, .pods = 140000, .groups = 14000, .p_running = 0.3,
     .what = "10k nodes, 30% of 14k gangs already (partly) running, 8% of their pods releasing"},
    {.name = "busy-reclaim", .nodes = 10000, .pods = 140000, .groups = 14000, .p_running = 0.3,
     .conf = CONF_RECLAIM, .what = "busy, with reclaim and preempt enabled"},
    {.name = "scale-1k", .nodes = 1000, .pods = 10000, .groups = 1000,
     .what = "scaling series: 1k nodes, 10 pending pods per node"},
    {.name = "scale-5k", .nodes = 5000, .pods = 50000, .groups = 5000,
     .what = "scaling series: 5k nodes, 10 pending pods per node"},
    {.name = "scale-10k", .nodes = 10000, .pods = 100000, .groups = 10000,
     .what = "scaling series: 10k nodes, 10 pending pods per node (same model as main)"},
    {.name = "scale-50k", .nodes = 50000, .pods = 500000, .groups = 50000, .max_repeat = 3,
     .what = "scaling series: 50k nodes, 10 pending pods per node"},
};
#define N_SCENARIOS (sizeof SCENARIOS / sizeof SCENARIOS[0])

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double cpu_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static size_t heap_bytes(void) {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static long peak_rss_kb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

/* Runs one scenario in the current process and prints its JSON line. Returns 0 or 1. */
static int run_scenario(const scenario *sc, uint64_t seed, int repeat) {
  if (sc->max_repeat && repeat > sc->max_repeat) repeat = sc->max_repeat;
  gen_params p = gen_params_bench(sc->nodes, sc->pods, sc->groups, seed);
  p.p_running = sc->p_running;
  p.hostname_label = sc->hostname_label;
  double t0 = now_ms();
  gen_model *m = gen_model_new(&p);
  if (!m) {
    fprintf(stderr, "%s: cannot generate the model\n", sc->name);
    return 1;
  }
  double gen_ms = now_ms() - t0;

  lh_conf *conf = NULL;
  if (sc->conf) {
    char err[256] = "";
    int rc = lh_conf_parse(sc->conf, strlen(sc->conf), &conf, err, sizeof err);
    if (rc) {
      fprintf(stderr, "%s: conf rejected: %s (%s)\n", sc->name, lh_strerror(rc), err);
      gen_model_free(m);
      return 1;
    }
  } else {
    conf = lh_conf_default();
  }

  /* model memory: nodes-only build, then the complete build (timed) */
  lh_snapshot *s = NULL;
  size_t h0 = heap_bytes();
  int rc = gen_build(m, GEN_NODES_ONLY, 0, &s, NULL);
  size_t node_heap = heap_bytes() - h0, node_self = s ? lh_snapshot_mem_bytes(s) : 0;
  lh_snapshot_free(s);
  s = NULL;
  if (!rc) {
    h0 = heap_bytes();
    t0 = now_ms();
    rc = gen_build(m, 0, 0, &s, NULL);
  }
  double build_ms = now_ms() - t0;
  if (rc) {
    fprintf(stderr, "%s: snapshot build failed: %s\n", sc->name, lh_strerror(rc));
    lh_conf_free(conf);
    gen_model_free(m);
    return 1;
  }
  size_t all_heap = heap_bytes() - h0, all_self = lh_snapshot_mem_bytes(s);

  int pending = 0;
  for (int t = 0; t < m->n_tasks; t++) pending += m->tasks[t].spec.state == LH_TASK_PENDING;

  double *ms = calloc((size_t)repeat, sizeof *ms), *cms = calloc((size_t)repeat, sizeof *cms);
  size_t placed = 0, evicted = 0, pend_groups = 0, admitted = 0, by_reason[4] = {0};
  if (!ms || !cms) return 1;
  for (int i = 0; i < repeat; i++) {
    lh_result *r = NULL;
    double a = now_ms(), ca = cpu_ms();
    rc = lh_schedule(conf, s, 1000000, &r);
    ms[i] = now_ms() - a;
    cms[i] = cpu_ms() - ca;
    if (rc) {
      fprintf(stderr, "%s: lh_schedule failed: %s\n", sc->name, lh_strerror(rc));
      free(ms);
      return 1;
    }
    lh_result_binds(r, &placed);
    const lh_eviction *ev = lh_result_evictions(r, &evicted);
    memset(by_reason, 0, sizeof by_reason);
    for (size_t k = 0; k < evicted; k++)
      if (ev[k].reason >= 1 && ev[k].reason <= 3) by_reason[ev[k].reason]++;
    lh_result_pending(r, &pend_groups);
    lh_result_admitted(r, &admitted);
    lh_result_free(r);
  }
  qsort(ms, (size_t)repeat, sizeof *ms, cmp_double);
  qsort(cms, (size_t)repeat, sizeof *cms, cmp_double);
  double med = repeat % 2 ? ms[repeat / 2] : (ms[repeat / 2 - 1] + ms[repeat / 2]) / 2;
  double cmed = repeat % 2 ? cms[repeat / 2] : (cms[repeat / 2 - 1] + cms[repeat / 2]) / 2;
  double pods = m->n_tasks;
  double pps = med > 0 ? (double)placed / (med / 1e3) : 0.0;
  double bpp = ((double)all_heap - (double)node_heap) / pods, bpn = (double)node_heap / (m->n_nodes ? m->n_nodes : 1);
  int met = pps >= TARGET_PPS && med < TARGET_CYCLE_MS && bpp <= TARGET_BYTES && bpn <= TARGET_BYTES;
  printf("{\"scenario\":\"%s\",\"nodes\":%d,\"clusters\":%d,\"queues\":%d,\"groups\":%d,\"pods\":%d,"
         "\"pending_pods\":%d,\"placed\":%zu,\"evicted\":%zu,\"evicted_reclaim\":%zu,\"evicted_preempt\":%zu,"
         "\"evicted_gang_broken\":%zu,\"pending_groups\":%zu,\"admitted_groups\":%zu,"
         "\"seconds\":%.6f,\"placements_per_s\":%.0f,\"cycle_ms\":%.3f,\"cycle_ms_min\":%.3f,"
         "\"cycle_ms_max\":%.3f,\"cycle_cpu_ms\":%.3f,\"placements_per_cpu_s\":%.0f,\"repeat\":%d,\"build_ms\":%.3f,\"gen_ms\":%.1f,\"peak_rss_kb\":%ld,"
         "\"model_bytes_per_pod\":%.1f,\"model_bytes_per_node\":%.1f,\"core_bytes_per_pod\":%.1f,"
         "\"core_bytes_per_node\":%.1f,%s\"seed\":%" PRIu64 "}\n",
         sc->name, m->n_nodes, m->n_clusters, m->n_queues, m->n_groups, m->n_tasks, pending, placed, evicted,
         by_reason[LH_EVICT_RECLAIM], by_reason[LH_EVICT_PREEMPT], by_reason[LH_EVICT_GANG_BROKEN],
         pend_groups, admitted, med / 1e3, pps, med, ms[0],
         ms[repeat - 1], cmed, cmed > 0 ? (double)placed / (cmed / 1e3) : 0.0, repeat, build_ms, gen_ms, peak_rss_kb(), bpp, bpn,
         ((double)all_self - (double)node_self) / pods, (double)node_self / (m->n_nodes ? m->n_nodes : 1),
         sc->target ? (met ? "\"targets_met\":true," : "\"targets_met\":false,") : "", seed);
  fflush(stdout);
  if (sc->target)
    fprintf(stderr, "%s: %.0f placements/s (target >= %.0f) %s; cycle %.1f ms (target < %.0f) %s; "
            "%.0f B/pod, %.0f B/node (target <= %.0f) %s\n", sc->name, pps, TARGET_PPS,
            pps >= TARGET_PPS ? "MET" : "MISSED", med, TARGET_CYCLE_MS, med < TARGET_CYCLE_MS ? "MET" : "MISSED",
            bpp, bpn, TARGET_BYTES, bpp <= TARGET_BYTES && bpn <= TARGET_BYTES ? "MET" : "MISSED");
  free(ms);
  free(cms);
  lh_snapshot_free(s);
  lh_conf_free(conf);
  gen_model_free(m);
  return 0;
}

/* Forks so each scenario's peak RSS is its own. Returns the child's status (0 = ok). */
static int run_isolated(const scenario *sc, uint64_t seed, int repeat) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return run_scenario(sc, seed, repeat);
  if (pid == 0) _exit(run_scenario(sc, seed, repeat));
  int st = 0;
  if (waitpid(pid, &st, 0) < 0) return 1;
  if (WIFSIGNALED(st)) {
    fprintf(stderr, "%s: killed by signal %d\n", sc->name, WTERMSIG(st));
    return 1;
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

static void usage(FILE *f) {
  fprintf(f, "usage: lahar-bench [--all | --scenario NAME] [--seed N] [--repeat N] [--list]\n"
             "  default: every scenario, median of 3 cycles each\n");
}

int main(int argc, char **argv) {
  const char *only = NULL;
  int all = 0, repeat = 3;
  uint64_t seed = 1;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--all")) all = 1;
    else if (!strcmp(argv[i], "--scenario") && i + 1 < argc) only = argv[++i];
    else if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = strtoull(argv[++i], NULL, 0);
    else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--list")) {
      for (size_t k = 0; k < N_SCENARIOS; k++) printf("%-16s %s\n", SCENARIOS[k].name, SCENARIOS[k].what);
      return 0;
    } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(stdout);
      return 0;
    } else {
      usage(stderr);
      return 2;
    }
  }
  if (!only) all = 1; /* no scenario named: all of them (what `make bench` runs) */
  if (repeat < 1 || repeat > 1000) {
    usage(stderr);
    return 2;
  }
  int failed = 0, ran = 0;
  for (size_t k = 0; k < N_SCENARIOS; k++) {
    if (!all && strcmp(only, SCENARIOS[k].name)) continue;
    ran++;
    failed |= run_isolated(&SCENARIOS[k], seed, repeat);
  }
  if (!ran) {
    fprintf(stderr, "unknown scenario '%s' (see --list)\n", only);
    return 2;
  }
  return failed;
}
