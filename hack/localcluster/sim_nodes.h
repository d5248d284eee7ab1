/* sim_nodes.h — the --nodes flags of bin/lahar-localcluster, checked before start; the nodes
 * themselves are run in-process by the nodesim library (main.c). */
#ifndef LAHAR_LC_SIM_NODES_H
#define LAHAR_LC_SIM_NODES_H

#include <stddef.h>

#include "localcluster/lc.h"

typedef struct lc_sim_nodes_opts {
  long n;              /* number of nodes (0 = none) */
  const char *cpu;     /* quantity, default "8" */
  const char *memory;  /* quantity, default "32Gi" */
  long gpu;            /* nvidia.com/gpu count, default 0 */
  const char *labels;  /* "k=v,k2=v2" added to every node, may be NULL */
} lc_sim_nodes_opts;

/* Validates the options. Returns 0, or -1 with a message naming the bad flag. */
int lc_sim_nodes_check(const lc_sim_nodes_opts *o, char *err, size_t errlen);
/* 0 if q is a Kubernetes resource quantity lahar accepts (e.g. 8, 500m, 1.5, 32Gi, 1e3). */
int lc_quantity_check(const char *q);

#endif
