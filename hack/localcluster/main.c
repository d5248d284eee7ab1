/* main.c — bin/lahar-localcluster: flags, signals, and the server's lifetime.
 *
 *   lahar-localcluster [--listen HOST:PORT] [--data-dir DIR] [--kubeconfig-out FILE]
 *                      [--tls-cert PEM --tls-key PEM] [--nodes N [--node-cpu Q]
 *                      [--node-memory Q] [--node-gpu N] [--node-labels k=v,...]
 *                      [--running-delay-ms MS] [--exec]]
 *                      [--bookmark-interval SECONDS] [--event-retention N] [--log-level LEVEL]
 * --event-retention: watch history kept; older resourceVersions get 410 Expired (default 100000).
 * --service-cluster-ip-range: where Services get their clusterIP (default 10.96.0.0/24).
 * --nodes N: N simulated nodes sim-0..sim-N-1 run in-process by the nodesim library (its own
 * thread, talking to this server through its listen address like any client): Ready nodes with
 * the --node-* capacity, bound pods go Running after --running-delay-ms (default 500) and
 * deletions are confirmed like a kubelet's; --exec runs the pods' commands as local processes.
 * /readyz fails until every node is registered. This process never reaps children it did not
 * start (nodesim's exec needs their exit codes).
 *
 * Bad flags: a message and exit 2. Start-up failures: exit 1. SIGINT/SIGTERM: clean shutdown
 * (listeners closed, store closed), exit 0. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kube/config.h"
#include "kube/pod.h"
#include "localcluster/kubeconfig_out.h"
#include "localcluster/server.h"
#include "localcluster/sim_nodes.h"
#include "nodesim/nodesim.h"
#include "util/log.h"

#define COMP "localcluster"

static volatile sig_atomic_t g_stop;
static lc_server g_srv;

static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
  lc_server_wake(&g_srv);
}

/* The in-process simulated nodes and the thread that clears g_srv.not_ready once they are
 * registered. */
typedef struct sim_run {
  lh_nodesim *sim;
  pthread_t waiter;
  int waiting;
} sim_run;

static void *sim_wait_main(void *ud) {
  sim_run *r = ud;
  for (;;) {
    int rc = lh_nodesim_wait_registered(r->sim, 200);
    if (rc == 0) {
      __atomic_store_n(&g_srv.not_ready, 0, __ATOMIC_RELEASE);
      LH_INFO(COMP, "simulated nodes registered: ready");
      return NULL;
    }
    if (rc != LH_ENODESIM_TIMEOUT) {
      LH_ERROR(COMP, "simulated nodes: %s (the server stays not ready)", lh_nodesim_strerror(rc));
      return NULL;
    }
    if (g_stop) return NULL;
  }
}

/* Starts nodesim against our own listen address. Returns 0 or -1 (logged). */
static int sim_start(sim_run *r, const lc_sim_nodes_opts *o, long delay_ms, int exec, const char *host, int port,
                     const char *cert) {
  lh_kube_config kc;
  memset(&kc, 0, sizeof kc);
  char server[300];
  const char *h = strcmp(host, "0.0.0.0") && strcmp(host, "::") ? host : "127.0.0.1";
  snprintf(server, sizeof server, "%s://%s%s%s:%d", cert ? "https" : "http", strchr(h, ':') ? "[" : "", h,
           strchr(h, ':') ? "]" : "", port);
  kc.server = server;
  kc.namespace = (char *)"default";
  kc.context = (char *)"lahar-local";
  char *ca = NULL;
  size_t calen = 0;
  if (cert && lh_kube_read_file(cert, 1u << 20, &ca, &calen)) {
    LH_ERROR(COMP, "--nodes: cannot read %s", cert);
    return -1;
  }
  kc.ca_pem = ca;
  kc.ca_pem_len = calen;
  lh_nodesim_config nc;
  lh_nodesim_config_init(&nc);
  nc.kube = &kc;
  nc.nodes = (int)o->n;
  nc.name_prefix = "sim-";
  int64_t v;
  nc.cpu_milli = 8000;
  if (o->cpu && !lh_kube_quantity_parse(o->cpu, 1, &v)) nc.cpu_milli = v;
  nc.memory_bytes = (int64_t)32 << 30;
  if (o->memory && !lh_kube_quantity_parse(o->memory, 0, &v)) nc.memory_bytes = v;
  nc.gpu = o->gpu;
  nc.labels = o->labels;
  if (delay_ms >= 0) nc.running_delay_ms = delay_ms;
  nc.exec = exec;
  char err[512];
  int rc = lh_nodesim_start(&nc, &r->sim, err, sizeof err);
  free(ca);
  if (rc) {
    LH_ERROR(COMP, "--nodes: cannot start the simulated nodes: %s", err);
    return -1;
  }
  __atomic_store_n(&g_srv.not_ready, 1, __ATOMIC_RELEASE);
  if (pthread_create(&r->waiter, NULL, sim_wait_main, r)) {
    LH_ERROR(COMP, "--nodes: cannot start a thread");
    lh_nodesim_stop(r->sim);
    r->sim = NULL;
    return -1;
  }
  r->waiting = 1;
  return 0;
}

static void sim_stop(sim_run *r) {
  if (r->waiting) pthread_join(r->waiter, NULL);
  r->waiting = 0;
  lh_nodesim_stop(r->sim);
  r->sim = NULL;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: lahar-localcluster [--listen HOST:PORT] [--data-dir DIR] [--kubeconfig-out FILE]\n"
          "                          [--tls-cert PEM --tls-key PEM]\n"
          "                          [--nodes N] [--node-cpu Q] [--node-memory Q] [--node-gpu N]\n"
          "                          [--node-labels k=v,...] [--running-delay-ms MS] [--exec]\n"
          "                          [--bookmark-interval SECONDS]\n"
          "                          [--event-retention N] [--log-level debug|info|warn|error]\n"
          "                          [--service-cluster-ip-range CIDR]\n"
          "A Kubernetes-compatible API server (v1.20 API) on SQLite, for kubectl and lahar.\n"
          "Defaults: --listen 127.0.0.1:6443 --data-dir ./.lahar\n");
}

static int bad(const char *fmt, const char *arg) {
  fprintf(stderr, "lahar-localcluster: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n");
  usage(stderr);
  return 2;
}

static int parse_long(const char *s, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || !*s || *end) return -1;
  *out = v;
  return 0;
}

int main(int argc, char **argv) {
  const char *listen = "127.0.0.1:6443", *data_dir = "./.lahar", *kubeconfig = NULL;
  const char *cert = NULL, *key = NULL;
  lc_sim_nodes_opts nodes = {0};
  long bookmark = 60, retention = 0, delay_ms = -1;
  int exec = 0;
  const char *svc_cidr = NULL;
  enum { O_LISTEN = 1, O_DATA, O_KCFG, O_CERT, O_KEY, O_NODES, O_CPU, O_MEM, O_GPU, O_LABELS, O_BOOKMARK, O_LOG, O_HELP,
         O_RETENTION, O_SVC_CIDR, O_DELAY, O_EXEC };
  static const struct option opts[] = {
      {"listen", required_argument, NULL, O_LISTEN},      {"data-dir", required_argument, NULL, O_DATA},
      {"kubeconfig-out", required_argument, NULL, O_KCFG}, {"tls-cert", required_argument, NULL, O_CERT},
      {"tls-key", required_argument, NULL, O_KEY},        {"nodes", required_argument, NULL, O_NODES},
      {"node-cpu", required_argument, NULL, O_CPU},       {"node-memory", required_argument, NULL, O_MEM},
      {"node-gpu", required_argument, NULL, O_GPU},       {"node-labels", required_argument, NULL, O_LABELS},
      {"bookmark-interval", required_argument, NULL, O_BOOKMARK},
      {"log-level", required_argument, NULL, O_LOG},      {"event-retention", required_argument, NULL, O_RETENTION},
      {"service-cluster-ip-range", required_argument, NULL, O_SVC_CIDR}, {"help", no_argument, NULL, O_HELP},
      {"running-delay-ms", required_argument, NULL, O_DELAY}, {"exec", no_argument, NULL, O_EXEC},
      {NULL, 0, NULL, 0}};
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
    case O_LISTEN: listen = optarg; break;
    case O_DATA: data_dir = optarg; break;
    case O_KCFG: kubeconfig = optarg; break;
    case O_CERT: cert = optarg; break;
    case O_KEY: key = optarg; break;
    case O_NODES:
      if (parse_long(optarg, &nodes.n)) return bad("--nodes: \"%s\" is not a number", optarg);
      break;
    case O_CPU: nodes.cpu = optarg; break;
    case O_MEM: nodes.memory = optarg; break;
    case O_GPU:
      if (parse_long(optarg, &nodes.gpu)) return bad("--node-gpu: \"%s\" is not a number", optarg);
      break;
    case O_LABELS: nodes.labels = optarg; break;
    case O_DELAY:
      if (parse_long(optarg, &delay_ms) || delay_ms < 0 || delay_ms > 3600000)
        return bad("--running-delay-ms: \"%s\" must be 0..3600000 milliseconds", optarg);
      break;
    case O_EXEC: exec = 1; break;
    case O_BOOKMARK:
      if (parse_long(optarg, &bookmark) || bookmark < 1 || bookmark > 3600)
        return bad("--bookmark-interval: \"%s\" must be 1..3600 seconds", optarg);
      break;
    case O_LOG: {
      int lv = lh_log_level_parse(optarg);
      if (lv < 0) return bad("--log-level: \"%s\" must be debug, info, warn or error", optarg);
      lh_log_set_level((lh_log_level)lv);
      break;
    }
    case O_RETENTION:
      if (parse_long(optarg, &retention) || retention < 1)
        return bad("--event-retention: \"%s\" must be a positive number of events", optarg);
      break;
    case O_SVC_CIDR: {
      uint32_t base;
      int bits;
      if (lc_parse_cidr(optarg, &base, &bits) || bits < 8 || bits > 30)
        return bad("--service-cluster-ip-range: \"%s\" must be an IPv4 CIDR from /8 to /30 (e.g. 10.96.0.0/24)", optarg);
      svc_cidr = optarg;
      break;
    }
    case O_HELP: usage(stdout); return 0;
    case ':': return bad("%s needs a value", argv[optind - 1]);
    default: return bad("unknown flag %s", argv[optind - 1]);
    }
  }
  if (optind < argc) return bad("unexpected argument \"%s\"", argv[optind]);
  /* --listen HOST:PORT */
  char host[256];
  const char *colon = strrchr(listen, ':');
  long port;
  if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof host || parse_long(colon + 1, &port) ||
      port < 0 || port > 65535)
    return bad("--listen: \"%s\" must be HOST:PORT (e.g. 127.0.0.1:6443)", listen);
  snprintf(host, sizeof host, "%.*s", (int)(colon - listen), listen);
  if ((cert == NULL) != (key == NULL)) return bad("%s", "--tls-cert and --tls-key go together");
  if (cert && access(cert, R_OK)) return bad("--tls-cert: cannot read %s", cert);
  if (key && access(key, R_OK)) return bad("--tls-key: cannot read %s", key);
  if (!nodes.n && (nodes.cpu || nodes.memory || nodes.gpu || nodes.labels || delay_ms >= 0 || exec))
    return bad("%s", "--node-cpu/--node-memory/--node-gpu/--node-labels/--running-delay-ms/--exec need --nodes N");
  char err[512];
  if (lc_sim_nodes_check(&nodes, err, sizeof err)) return bad("%s", err);
  if (!*data_dir) return bad("%s", "--data-dir must not be empty");
  if (mkdir(data_dir, 0700) && errno != EEXIST) {
    fprintf(stderr, "lahar-localcluster: cannot create %s: %s\n", data_dir, strerror(errno));
    return 1;
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  lc_server_opts so = {.host = host, .port = (int)port, .data_dir = data_dir, .tls_cert = cert, .tls_key = key,
                       .bookmark_interval_s = (int)bookmark, .event_retention = retention,
                       .service_cidr = svc_cidr};
  if (lc_server_init(&g_srv, &so, err, sizeof err)) {
    LH_ERROR(COMP, "%s", err);
    return 1;
  }
  if (kubeconfig) {
    char ca[PATH_MAX];
    const char *ca_path = NULL;
    if (cert) {
      if (!realpath(cert, ca)) snprintf(ca, sizeof ca, "%s", cert);
      ca_path = ca;
    }
    const char *khost = strcmp(host, "0.0.0.0") ? host : "127.0.0.1";
    if (lc_kubeconfig_write(kubeconfig, "lahar-local", khost, lc_server_port(&g_srv), ca_path, err, sizeof err)) {
      LH_ERROR(COMP, "%s", err);
      lc_server_free(&g_srv);
      return 1;
    }
  }
  sim_run sim = {0};
  if (nodes.n > 0 && sim_start(&sim, &nodes, delay_ms, exec, host, lc_server_port(&g_srv), cert)) {
    lc_server_free(&g_srv);
    return 1;
  }
  LH_INFO(COMP, "serving %s://%s:%d (data %s, rv %lld)", cert ? "https" : "http", host, lc_server_port(&g_srv),
          data_dir, (long long)lh_store_current_rv(g_srv.store));
  lc_server_run(&g_srv, &g_stop);
  LH_INFO(COMP, "shutting down");
  sim_stop(&sim);
  lc_server_free(&g_srv);
  return 0;
}
