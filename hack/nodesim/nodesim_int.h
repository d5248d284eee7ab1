/* nodesim_int.h — the simulator's runtime structures, shared by nodesim.c (nodes, pods, thread)
 * and proc.c (exec processes and pod logs). Not a public interface. Everything here is touched
 * on the simulator's loop thread only, except the fields under `mu` (stats, registration count,
 * setup result), which lh_nodesim_wait_registered/get_stats read from the owner's thread. */
#ifndef LAHAR_NODESIM_INT_H
#define LAHAR_NODESIM_INT_H

#include "nodesim/nodesim.h"
#include "nodesim/sim.h"

#include "kube/async.h"
#include "kube/informer.h"
#include "kube/loop.h"
#include "util/buf.h"

#include <pthread.h>
#include <sys/types.h>

typedef struct lh_nodesim lh_nodesim;

enum { NODE_CREATE = 0, NODE_STATUS, NODE_TAINTS, NODE_DONE };

typedef struct sim_node {
  sim_node_spec spec;
  lh_nodesim *s;
  int stage;          /* NODE_* of the registration (or heartbeat) in progress */
  int attempts;       /* failures of the current stage */
  int created;        /* 1: we created it; 0: adopted (409) */
  int registered;     /* all stages done once */
  int heartbeat;      /* the operation in progress is a heartbeat (status only) */
  lh_timer retry;     /* backoff before retrying a stage */
  char ip_base[16];   /* "10.a.b": pod IPs are ip_base.2..254 */
  unsigned ip_next;
} sim_node;

typedef struct sim_proc sim_proc;

/* One pod on our nodes. Reference-counted: the map holds one reference, every request in
 * flight and a live process hold one each; freed when the last goes (after FORGET). */
typedef struct sim_pod {
  struct sim_pod *next; /* map chain */
  lh_nodesim *s;
  char *key;            /* "ns/name" */
  char *uid;
  json_t *obj;          /* latest pod JSON (reference) */
  sim_pod_info pi;      /* parsed from obj (borrows its strings) */
  sim_pod_sm sm;
  sim_pod_times t;
  lh_timer timer;       /* state machine deadline */
  lh_timer wtimer;      /* status write retry */
  sim_node *node;
  char pod_ip[24];
  int refs;
  int gone;             /* forgotten: no more writes or timers */
  int writing;          /* a status write is in flight */
  int write_again;      /* the state changed while writing: write again after */
  int write_fails;
  sim_proc *proc;       /* exec: the current run's process, or NULL */
} sim_pod;

struct lh_nodesim {
  lh_nodesim_config cfg;     /* copy; pointer fields replaced by owned copies below */
  lh_kube_config *kube;
  char *prefix, *cluster, *sandbox;
  lh_nodesim_pool *pools;
  sim_kvlist labels;
  sim_taint taints[SIM_MAX_TAINTS];
  size_t ntaints;
  sim_node *nodes;           /* regular nodes, then one per pool */
  size_t nnodes;
  int nregular;
  sim_pod_params params;

  pthread_t thread;
  lh_loop *loop;
  lh_kube_async *async;
  lh_informer *inf;
  int stopping;

  /* registration window */
  size_t reg_next, hb_next;
  long reg_inflight;
  lh_timer hb_timer;

  /* pods: ns/name -> sim_pod */
  sim_pod **slots;
  size_t nslots, npods;

  /* exec */
  sim_proc *procs;           /* live processes (list) */
  int logs_unsupported;      /* the server refused POST pods/NAME/log: files only */

  pthread_mutex_t mu;
  pthread_cond_t cv;
  int setup_done, setup_rc;
  size_t reg_done;           /* nodes whose registration finished (ok or failed) */
  lh_nodesim_stats stats;
  char err[256];
};

void nsim_now_rfc3339(char out[32]);
void nsim_stat_add(lh_nodesim *s, unsigned long *field, unsigned long n);
int nsim_pod_path(lh_buf *b, const char *ns, const char *name, const char *sub);
sim_node *nsim_node_lookup(lh_nodesim *s, const char *name);
void nsim_pod_ref(sim_pod *p);
void nsim_pod_unref(sim_pod *p);
/* A run of p's process ended with code (after its output was delivered): feeds SIM_EV_EXIT. */
void nsim_pod_exited(lh_nodesim *s, sim_pod *p, int code);

/* proc.c */
/* Starts p's container process (SIM_ACT_START_PROC). A failure to start is reported as a run
 * that printed the reason and exited 127, through nsim_pod_exited (from the loop, later). */
void nsim_proc_start(lh_nodesim *s, sim_pod *p);
/* Kills p's process group (SIGKILL); its exit is then not reported. */
void nsim_proc_kill(lh_nodesim *s, sim_pod *p);
/* The pod is gone: kill its process, remove its sandbox when its logs reached the server. */
void nsim_proc_forget(lh_nodesim *s, sim_pod *p);
/* Teardown: kills and reaps every process, drops their pod references. */
void nsim_proc_kill_all(lh_nodesim *s);

#endif
