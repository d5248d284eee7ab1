/* main.c — bin/lahar-nodesim: simulated nodes (nodesim.h) against any API server, from flags.
 * Runs until SIGINT/SIGTERM; prints one "ready" line on stdout once every node is registered. */
#include "nodesim/nodesim.h"
#include "nodesim/sim.h"

#include "util/log.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_POOLS 64

static void usage(FILE *f) {
  fprintf(f,
          "usage: lahar-nodesim [flags]\n"
          "  --kubeconfig FILE        API server and credentials (default $KUBECONFIG, ~/.kube/config)\n"
          "  --nodes N                regular nodes to register (default 1)\n"
          "  --name-prefix P          node names P0..P(N-1) (default nodesim-)\n"
          "  --node-cpu Q             cpu per node, e.g. 32 or 500m (default 32)\n"
          "  --node-memory Q          memory per node, e.g. 128Gi (default 128Gi)\n"
          "  --node-gpu N             nvidia.com/gpu per node (default 0)\n"
          "  --node-max-pods N        pods per node (default 110)\n"
          "  --node-labels k=v,...    extra node labels\n"
          "  --node-taints k=v:E,...  node taints (E: NoSchedule, PreferNoSchedule, NoExecute)\n"
          "  --cluster NAME           label lahar.io/cluster=NAME on every node\n"
          "  --serverless-pool NAME   add a serverless pool (one virtual node); repeatable\n"
          "  --pool-quota cpu=Q,memory=Q,nvidia.com/gpu=N,pods=N   quota of the last pool\n"
          "  --pool-no-taint          pools without the lahar.io/serverless=true:NoSchedule taint\n"
          "  --running-delay-ms MS    bound -> Running delay (default 500)\n"
          "  --exec                   run container command+args as local processes\n"
          "  --sandbox-dir DIR        exec working directories (default $TMPDIR/lahar-nodesim-PID)\n"
          "  --max-in-flight N        concurrent registration requests (default 128)\n"
          "  --heartbeat-s N          re-post node status every N seconds (default 0: never)\n"
          "  --log-level L            debug, info, warn, error\n");
}

static int quantity(const char *flag, const char *v, int64_t *milli) {
  if (sim_quantity_parse(v, milli) != 0) {
    fprintf(stderr, "lahar-nodesim: %s: bad quantity '%s'\n", flag, v);
    return -1;
  }
  return 0;
}

static int integer(const char *flag, const char *v, long lo, long hi, long *out) {
  char *end;
  long x = strtol(v, &end, 10);
  if (!*v || *end || x < lo || x > hi) {
    fprintf(stderr, "lahar-nodesim: %s: expected an integer %ld..%ld, got '%s'\n", flag, lo, hi, v);
    return -1;
  }
  *out = x;
  return 0;
}

int main(int argc, char **argv) {
  enum { O_KUBECONFIG = 256, O_NODES, O_PREFIX, O_CPU, O_MEM, O_GPU, O_MAXPODS, O_LABELS, O_TAINTS,
         O_CLUSTER, O_POOL, O_QUOTA, O_POOL_NO_TAINT, O_DELAY, O_EXEC, O_SANDBOX, O_INFLIGHT,
         O_HEARTBEAT, O_LOGLEVEL, O_HELP };
  static const struct option opts[] = {
      {"kubeconfig", 1, 0, O_KUBECONFIG}, {"nodes", 1, 0, O_NODES}, {"name-prefix", 1, 0, O_PREFIX},
      {"node-cpu", 1, 0, O_CPU}, {"node-memory", 1, 0, O_MEM}, {"node-gpu", 1, 0, O_GPU},
      {"node-max-pods", 1, 0, O_MAXPODS}, {"node-labels", 1, 0, O_LABELS},
      {"node-taints", 1, 0, O_TAINTS}, {"cluster", 1, 0, O_CLUSTER},
      {"serverless-pool", 1, 0, O_POOL}, {"pool-quota", 1, 0, O_QUOTA},
      {"pool-no-taint", 0, 0, O_POOL_NO_TAINT}, {"running-delay-ms", 1, 0, O_DELAY},
      {"exec", 0, 0, O_EXEC}, {"sandbox-dir", 1, 0, O_SANDBOX}, {"max-in-flight", 1, 0, O_INFLIGHT},
      {"heartbeat-s", 1, 0, O_HEARTBEAT}, {"log-level", 1, 0, O_LOGLEVEL}, {"help", 0, 0, O_HELP},
      {0, 0, 0, 0}};
  lh_nodesim_config cfg;
  lh_nodesim_config_init(&cfg);
  static lh_nodesim_pool pools[MAX_POOLS];
  size_t npools = 0;
  int64_t m;
  long l;
  int c;
  char err[512];
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
    case O_KUBECONFIG: cfg.kubeconfig = optarg; break;
    case O_NODES:
      if (integer("--nodes", optarg, 0, 1000000, &l)) return 2;
      cfg.nodes = (int)l;
      break;
    case O_PREFIX: cfg.name_prefix = optarg; break;
    case O_CPU:
      if (quantity("--node-cpu", optarg, &cfg.cpu_milli)) return 2;
      break;
    case O_MEM:
      if (quantity("--node-memory", optarg, &m)) return 2;
      cfg.memory_bytes = (m + 999) / 1000;
      break;
    case O_GPU:
      if (quantity("--node-gpu", optarg, &m)) return 2;
      cfg.gpu = (m + 999) / 1000;
      break;
    case O_MAXPODS:
      if (integer("--node-max-pods", optarg, 1, 1000000, &l)) return 2;
      cfg.max_pods = l;
      break;
    case O_LABELS: cfg.labels = optarg; break;
    case O_TAINTS: cfg.taints = optarg; break;
    case O_CLUSTER: cfg.cluster = optarg; break;
    case O_POOL:
      if (npools == MAX_POOLS) {
        fprintf(stderr, "lahar-nodesim: at most %d serverless pools\n", MAX_POOLS);
        return 2;
      }
      memset(&pools[npools], 0, sizeof(pools[0]));
      pools[npools++].name = optarg;
      break;
    case O_QUOTA:
      if (!npools) {
        fprintf(stderr, "lahar-nodesim: --pool-quota must follow --serverless-pool\n");
        return 2;
      }
      if (sim_quota_parse(optarg, &pools[npools - 1], err, sizeof(err))) {
        fprintf(stderr, "lahar-nodesim: --pool-quota: %s\n", err);
        return 2;
      }
      break;
    case O_POOL_NO_TAINT: cfg.pool_no_taint = 1; break;
    case O_DELAY:
      if (integer("--running-delay-ms", optarg, 0, 86400000L, &cfg.running_delay_ms)) return 2;
      break;
    case O_EXEC: cfg.exec = 1; break;
    case O_SANDBOX: cfg.sandbox_dir = optarg; break;
    case O_INFLIGHT:
      if (integer("--max-in-flight", optarg, 1, 100000, &cfg.max_in_flight)) return 2;
      break;
    case O_HEARTBEAT:
      if (integer("--heartbeat-s", optarg, 0, 86400, &cfg.heartbeat_s)) return 2;
      break;
    case O_LOGLEVEL: {
      int lv = lh_log_level_parse(optarg);
      if (lv < 0) {
        fprintf(stderr, "lahar-nodesim: --log-level: debug, info, warn or error\n");
        return 2;
      }
      lh_log_set_level((lh_log_level)lv);
      break;
    }
    case O_HELP: usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "lahar-nodesim: unexpected argument '%s'\n", argv[optind]);
    return 2;
  }
  cfg.pools = pools;
  cfg.npools = npools;

  /* Block the stop signals before any thread starts, so only sigwait below receives them
   * (exec children get an empty mask from posix_spawn). */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);

  lh_nodesim *s;
  int rc = lh_nodesim_start(&cfg, &s, err, sizeof(err));
  if (rc) {
    fprintf(stderr, "lahar-nodesim: %s: %s\n", lh_nodesim_strerror(rc), err);
    return 1;
  }
  rc = lh_nodesim_wait_registered(s, 600000);
  lh_nodesim_stats st;
  lh_nodesim_get_stats(s, &st);
  if (rc) {
    fprintf(stderr, "lahar-nodesim: registration: %s (%lu registered, %lu failed)\n",
            lh_nodesim_strerror(rc), st.nodes_registered, st.nodes_failed);
    lh_nodesim_stop(s);
    return 1;
  }
  printf("lahar-nodesim: ready: %lu nodes registered\n", st.nodes_registered);
  fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  lh_nodesim_get_stats(s, &st);
  lh_log(LH_LOG_INFO, "nodesim", "signal %d: stopping (pods started %lu, succeeded %lu, failed %lu, deleted %lu)",
         sig, st.pods_started, st.pods_succeeded, st.pods_failed, st.pods_deleted);
  lh_nodesim_stop(s);
  return 0;
}
