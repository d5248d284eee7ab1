/* session.h — one scheduling cycle's mutable state over a read-only snapshot (Volcano's Session),
 * the statement (transaction log) API, and the helpers actions share. A session is created by
 * lh_schedule, runs the configured actions in order, and is turned into an lh_result.
 *
 * Placement "bins": indices 0..n_nodes-1 are dedicated nodes; n_nodes + c is serverless cluster c.
 * Each bin tracks used (on it now or bound this cycle), rel (releasing: will free) and pipe
 * (reserved by pipelined tasks). A bind must fit both now (alloc - used) and in the future
 * (alloc - used + rel - pipe); a pipeline only in the future. */
#ifndef LAHAR_SCHED_SESSION_H
#define LAHAR_SCHED_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "scheduler/conf.h"
#include "scheduler/model.h"

/* session task states */
enum { TS_PENDING, TS_RUNNING, TS_RELEASING, TS_SUCCEEDED, TS_FAILED, TS_ALLOCATED, TS_PIPELINED,
       TS_EVICTED };

/* predicate failure reasons (bit positions in a node's verdict and histogram slots) */
enum { R_UNSCHED, R_SELECTOR, R_TAINT, R_PODS, R_CPU, R_MEM, R_GPU, R_N };

typedef struct {
  lh_res alloc; /* capacity (serverless: quota) */
  lh_res used, rel, pipe;
  int32_t max_pods; /* INT32_MAX on serverless */
  int32_t pods_used, pods_rel, pods_pipe;
} lh_bin;

typedef struct {
  int32_t ready;   /* RUNNING + SUCCEEDED + ALLOCATED */
  int32_t waiting; /* PIPELINED */
  int32_t running; /* RUNNING from the snapshot still in place */
  int32_t fresh;   /* ALLOCATED or PIPELINED in this cycle (committed or in an open statement) */
  int32_t pinned;  /* cluster of its placed tasks, -1 = none */
  int32_t phase;   /* lh_group_phase, after enqueue */
  bool admitted;   /* admitted by enqueue in this cycle */
  bool tried;      /* an action already decided about it this cycle */
  lh_res alloc;    /* requests of ready + waiting tasks (for DRF and queues) */
  const char *reason;
} lh_sgroup;

typedef struct {
  lh_res deserved, alloc, request, inqueue;
  bool leaf;
} lh_squeue;

typedef struct {
  uint8_t kind;   /* OP_ALLOC, OP_PIPE, OP_EVICT */
  uint8_t why;    /* lh_evict_reason for OP_EVICT */
  int32_t task;
  int32_t bin;
  int32_t cluster;
  int32_t prev_pinned;
  int32_t for_group;
} lh_op;
enum { OP_ALLOC = 1, OP_PIPE = 2, OP_EVICT = 3 };

typedef struct lh_vindex lh_vindex; /* victims.c: per-cycle victim index and scratch */

typedef struct lh_session {
  const lh_conf *conf;
  const lh_snapshot *snap;
  int64_t now;
  lh_arena arena; /* reason strings, caches */
  /* bins and clusters */
  lh_bin *bins;
  int32_t *cl_off, *cl_nodes; /* nodes of cluster c: cl_nodes[cl_off[c] .. cl_off[c+1]) */
  int32_t *cl_cursor;         /* rotating scan start per cluster (Kubernetes' nextStartNodeIndex) */
  lh_res *cl_idle;            /* sum over bins of alloc - used, for the gang capacity pre-check */
  lh_res total;               /* cluster capacity for fair share and DRF */
  /* tasks */
  uint8_t *tst;
  int32_t *tbin, *tcluster;
  int32_t *g_off, *g_tasks;   /* tasks of group g, ordered: priority desc, name */
  int32_t *b_off, *b_tasks;   /* tasks on bin b at session open (running / releasing) */
  /* groups, queues */
  lh_sgroup *groups;
  lh_squeue *queues;
  /* predicate cache: feas[tmpl * n_classes + class] = 0 unknown, else 1 + reason bits */
  uint8_t *feas;
  /* statement log */
  lh_op *ops;
  size_t n_ops, cap_ops;
  /* outputs */
  lh_bind *binds;
  size_t n_binds, cap_binds;
  lh_eviction *evs;
  size_t n_evs, cap_evs;
  int32_t *admitted;
  size_t n_admitted, cap_admitted;
  /* scratch for lh_place_batch (candidate nodes), reused across calls */
  int32_t *cand_bin, *cand_k, *heap;
  double *cand_score;
  size_t cap_cand;
  lh_vindex *vx; /* built by the first reclaim / preempt attempt of the cycle */
  int oom; /* set when an allocation failed mid-action: lh_schedule returns LH_ENOMEM */
} lh_session;

/* session.c */
int lh_session_open(lh_session *s, const lh_conf *conf, const lh_snapshot *snap, int64_t now);
void lh_session_close(lh_session *s);
int32_t lh_ssn_n_dedicated_nodes(const lh_session *s, int32_t cluster);
bool lh_task_is_be(const lh_m_task *t);
bool lh_group_gang_on(const lh_session *s);
int32_t lh_group_need(const lh_session *s, int32_t g); /* tasks still needed for minMember */
void lh_set_reason(lh_session *s, int32_t g, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* statement.c: operations change the session at once and are logged; commit emits the binds and
 * evictions since mark, discard undoes them in reverse. */
size_t lh_stmt_begin(lh_session *s);
void lh_stmt_allocate(lh_session *s, int32_t task, int32_t cluster, int32_t bin);
void lh_stmt_pipeline(lh_session *s, int32_t task, int32_t cluster, int32_t bin);
void lh_stmt_evict(lh_session *s, int32_t task, lh_evict_reason why, int32_t for_group);
void lh_stmt_commit(lh_session *s, size_t mark);
void lh_stmt_discard(lh_session *s, size_t mark);

/* fairshare.c */
void lh_fairshare(lh_session *s);
double lh_queue_share_of(const lh_session *s, int32_t q);
/* The share queue q would have with r more allocated (r NULL: its share now). */
double lh_queue_share_after(const lh_session *s, int32_t q, const lh_res *r);
bool lh_queue_overused(const lh_session *s, int32_t q);
/* Does adding r to queue q (and its ancestors) stay within capability? inq: count the queue's
 * inqueue reservations too (enqueue). On false writes "queue q at capability: cpu 64/64". */
bool lh_queue_fits_capability(lh_session *s, int32_t q, const lh_res *r, bool inq, char *why,
                               size_t n);

/* predicates.c */
/* 0 when tasks of template t may run on nodes of class k, else R_* reason bits. */
unsigned lh_class_verdict(lh_session *s, int32_t tmpl, int32_t klass);
/* How many tasks of request r fit on bin b now (bind) or in the future (pipe)? Sets *why bits
 * when 0. */
int32_t lh_bin_fit(const lh_session *s, int32_t b, const lh_res *r, bool pipeline, unsigned *why);

/* score.c */
double lh_score(const lh_session *s, int32_t b, const lh_res *r);

/* place.c: placing a batch of identical tasks inside one cluster */
typedef struct {
  int32_t hist[R_N]; /* nodes failing for each reason (a node may count for several) */
  int32_t nodes;     /* nodes examined */
  lh_res quota_short; /* serverless: dimensions short */
  bool serverless;
} lh_fail;
/* Places up to n tasks (tasks[0..n), all of one shape) in cluster c on the statement; returns how
 * many were placed. On a shortfall fills *f with why the next task did not fit. */
int32_t lh_place_batch(lh_session *s, int32_t cluster, const int32_t *tasks, int32_t n,
                       lh_fail *f);
/* "insufficient cpu on 3 nodes, ... of cluster x" into buf */
void lh_fail_text(const lh_session *s, const lh_fail *f, int32_t cluster, char *buf, size_t n);

/* order.c */
int lh_job_cmp(const lh_session *s, int32_t a, int32_t b);
int lh_queue_cmp(const lh_session *s, int32_t a, int32_t b);
void lh_sort_groups(const lh_session *s, int32_t *g, size_t n);
/* The queue tree, for the hierarchical queue order every action shares. The children of queue p
 * are kids[koff[p + 1] .. koff[p + 2]) (p = -1: the top-level queues; index order until
 * lh_qtree_order sorts them, which nothing else depends on: ties break by name); work[q]
 * counts what is left to serve in q's subtree (the caller fills it through lh_qtree_add). */
typedef struct {
  int32_t *koff, *kids, *work;
} lh_qtree;
int lh_qtree_init(const lh_session *s, lh_qtree *t); /* 0 or LH_ENOMEM (t then holds nothing) */
void lh_qtree_free(lh_qtree *t);
void lh_qtree_add(const lh_session *s, lh_qtree *t, int32_t q, int32_t n); /* q and ancestors */
/* The queue to serve next: from the top, the child whose subtree has work with the lowest share,
 * down to a queue without children; -1 when no work is left. With unit (per leaf: the request of
 * the next task it would get), children compare by their share after that task (for an inner
 * queue: the task of the leaf the walk would reach below it); with unit NULL by their share now. */
int32_t lh_qtree_pick(const lh_session *s, const lh_qtree *t, const lh_res *unit);
/* Every queue in walk order with today's shares (depth first, children by lowest share), for
 * actions that do not change shares while they run; out has room for n_queues. */
void lh_qtree_order(const lh_session *s, const lh_qtree *t, int32_t *out);

/* gang.c: trying one group */
/* Tries to reach the gang's minMember (and place every pending task it can) in one cluster.
 * Returns true when committed; otherwise sets the group's reason. */
enum { LH_MODE_ALLOCATE = 0, LH_MODE_BACKFILL = 1 };
bool lh_allocate_group(lh_session *s, int32_t g, int mode);

/* reason.c */
/* "cpu 64/64" style formatting of one dimension */
int lh_fmt_qty(char *buf, size_t n, int d, int64_t v);
const char *lh_res_name(int d);

/* actions */
int lh_action_enqueue(lh_session *s);
int lh_action_allocate(lh_session *s);
int lh_action_backfill(lh_session *s);
int lh_action_reclaim(lh_session *s);
int lh_action_preempt(lh_session *s);
/* victims.c: shared by reclaim and preempt */
bool lh_evict_for(lh_session *s, int32_t g, lh_evict_reason mode);
void lh_vindex_free(lh_vindex *x);

#endif
