/* gen.h — seeded random scheduling snapshots, shared by the property tests
 * (tests/unit/test_sched_props.c) and the benchmark (lahar-bench).
 *
 * A generator builds a plain-C *model* (gen_model): clusters, nodes, queues, pod groups and tasks
 * described with the public lh_*_spec structs plus the indices a checker needs (which node a
 * running task sits on, which queue a group belongs to ...). The model is consistent by
 * construction: existing usage never over-commits a node, a serverless quota or a queue's
 * capability, and every running group sits in one cluster. gen_build turns a model into an
 * lh_snapshot, optionally inserting objects in a shuffled order, and returns the index maps so a
 * checker can relate snapshot indices back to the model.
 *
 * OWNERSHIP: gen_model_new returns a model that owns all its strings and arrays (gen_model_free);
 * spec pointers inside it stay valid until then. gen_build's snapshot belongs to the caller
 * (lh_snapshot_free), as do the maps (gen_map_free). Everything is a pure function of the params
 * (seed included): the same params give the same model on every machine.
 */
#ifndef LAHAR_SCHED_BENCH_GEN_H
#define LAHAR_SCHED_BENCH_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "scheduler/lahar_sched.h"

/* ---- random numbers: xoshiro256** seeded by splitmix64 (portable, reproducible) ---- */
typedef struct {
  uint64_t s[4];
} gen_rng;

void gen_rng_seed(gen_rng *r, uint64_t seed);
uint64_t gen_rng_next(gen_rng *r);
uint64_t gen_rng_below(gen_rng *r, uint64_t n); /* uniform in [0, n), n > 0 */
double gen_rng_unit(gen_rng *r);                /* uniform in [0, 1) */
int gen_rng_chance(gen_rng *r, double p);       /* 1 with probability p */

/* ---- parameters ---- */
typedef enum {
  GEN_MIXED = 0,  /* every feature: taints, selectors, gpus, required clusters, running gangs */
  GEN_UNIFORM = 1 /* fairness runs: one task shape, nodes exact multiples of it, 1-task groups,
                   * one dedicated cluster, flat queues without guarantees */
} gen_kind;

typedef struct {
  uint64_t seed;
  gen_kind kind;
  int n_dedicated;        /* dedicated clusters (>= 1 when n_nodes > 0) */
  int n_serverless;       /* serverless clusters */
  int n_nodes;            /* nodes spread over the dedicated clusters */
  int n_queues;           /* >= 1 */
  int n_groups;           /* >= 1 */
  int n_tasks;            /* >= n_groups; split over the groups in gang sizes up to max_gang */
  int max_gang;           /* largest gang (>= 1) */
  int big_nodes;          /* 1: bench-sized nodes (32-96 cores, 110 pods); 0: small nodes */
  int hostname_label;     /* 1: every node carries its own kubernetes.io/hostname label, as real
                           * nodes do (defeats sharing of label sets between nodes) */
  double p_hierarchy;     /* a queue becomes the child of an earlier top-level queue */
  double p_capability;    /* a queue has a cpu (and sometimes memory) capability */
  double p_guarantee;     /* a queue has a small guarantee */
  double p_unreclaimable; /* a queue is not reclaimable */
  double p_gpu_node;      /* a node has gpus (labelled, and tainted half of the time) */
  double p_taint;         /* a cpu node carries a taint */
  double p_cordon;        /* a node is unschedulable */
  double p_zone_sel;      /* a group selects a zone */
  double p_gpu_group;     /* a group's tasks request gpus */
  double p_required;      /* a group requires one cluster */
  double p_best_effort;   /* a (min_member 1) group's tasks request nothing */
  double p_running;       /* a group is already (partly) running */
  double p_min_res;       /* a pending group carries minResources (enqueue gate) */
  double p_pending_phase; /* a not-running group is in phase PENDING (else INQUEUE) */
  int64_t serverless_cores; /* quota cpu cores of each serverless cluster (memory 4 GiB/core) */
} gen_params;

/* Preset params; callers then adjust sizes and seed. */
gen_params gen_params_props(uint64_t seed);   /* small random snapshots with every feature */
gen_params gen_params_uniform(uint64_t seed); /* fairness snapshots (GEN_UNIFORM) */
gen_params gen_params_bench(int n_nodes, int n_tasks, int n_groups, uint64_t seed);

/* ---- the model ---- */
typedef struct {
  const char *name;
  lh_cluster_kind kind;
  lh_res quota;
} gen_cluster;

typedef struct {
  int cluster;
  lh_node_spec spec;
} gen_node;

typedef struct {
  int parent; /* model queue index or -1 */
  int leaf;   /* no child queue: only leaves get groups */
  lh_queue_spec spec;
} gen_queue;

typedef struct {
  int queue;
  int first_task, n_tasks; /* tasks[first_task .. first_task + n_tasks) */
  int req_cluster;         /* model cluster index or -1 */
  lh_group_spec spec;
} gen_group;

typedef struct {
  int group;
  int cluster; /* RUNNING / RELEASING: model cluster index, else -1 */
  int node;    /* RUNNING / RELEASING on a dedicated cluster: model node index, else -1 */
  lh_task_spec spec;
} gen_task;

typedef struct gen_model {
  gen_params p;
  gen_cluster *clusters;
  int n_clusters;
  gen_node *nodes;
  int n_nodes;
  gen_queue *queues;
  int n_queues;
  gen_group *groups;
  int n_groups;
  gen_task *tasks;
  int n_tasks;
  struct gen_chunk *mem; /* owned storage for strings and small arrays */
} gen_model;

/* Builds a model from params. NULL on out of memory or nonsensical params. */
gen_model *gen_model_new(const gen_params *p);
void gen_model_free(gen_model *m);

/* ---- building a snapshot ---- */
enum {
  GEN_SHUFFLE_GROUPS = 1u << 0, /* insert groups in a random order */
  GEN_SHUFFLE_TASKS = 1u << 1,  /* interleave tasks of different groups randomly (a group's own
                                 * tasks keep their relative order) */
  GEN_SHUFFLE_NODES = 1u << 2,  /* insert nodes in a random order (clusters stay in order) */
  GEN_NODES_ONLY = 1u << 3      /* insert clusters, nodes and queues only (memory accounting) */
};

/* Index maps between the model and one snapshot built from it. */
typedef struct {
  int *snap_cluster, *snap_node, *snap_queue, *snap_group, *snap_task; /* model -> snapshot */
  int *model_cluster, *model_node, *model_queue, *model_group, *model_task; /* snapshot -> model */
} gen_map;

/* Builds *out from m. With shuffle flags, shuffle_seed picks the order. map may be NULL.
 * Returns 0, or the first negative LH_E* code of a failed lh_snapshot_add_* (or LH_ENOMEM); on
 * failure *out is NULL and map is left empty. */
int gen_build(const gen_model *m, unsigned shuffle, uint64_t shuffle_seed, lh_snapshot **out,
              gen_map *map);
void gen_map_free(gen_map *map);

/* Does node spec n satisfy task spec t's selector and tolerate its NoSchedule/NoExecute taints,
 * and is it schedulable? An independent restatement of Kubernetes' rules for checkers. */
int gen_node_fits_predicates(const lh_node_spec *n, const lh_task_spec *t);

#endif
