/* queue.h — Queue status computation (pure, unit-tested by tests/unit/test_ctl_queue.c); the
 * reconciler that writes it lives in queue.c. */
#ifndef LAHAR_CORE_QUEUE_H
#define LAHAR_CORE_QUEUE_H

#include <jansson.h>
#include <stdint.h>

typedef struct lh_queue_counts {
  int pending, inqueue, running, unknown, completed; /* groups of the queue by phase */
} lh_queue_counts;

/* Counts one group of phase ph (a PodGroup's status.phase; NULL/"" = Pending) into c. */
void lh_queue_count_phase(lh_queue_counts *c, const char *ph);
/* The phase a plain pod of ours (no group annotation) counts as, as a group of one: "Pending"
 * (waiting for a node), "Running" (bound), "Completed" (Succeeded/Failed); NULL when it is not
 * counted (it belongs to a PodGroup, or it is pending and being deleted). */
struct lh_pod;
const char *lh_queue_single_pod_phase(const struct lh_pod *p);

/* The state a queue should show: spec.state "Closed" (or status.state Closed/Closing set by an
 * operator) closes it; it is Closing while it still has pending/inqueue/running/unknown groups
 * and Closed when drained. spec.state "Open" (or nothing) opens it. Returns a static string. */
const char *lh_queue_state(const json_t *queue, const lh_queue_counts *c);
/* The status object lahar writes: state, counts, allocated and deserved (when share != NULL:
 * [d_cpu_milli, d_mem, d_gpu, a_cpu_milli, a_mem, a_gpu], deserved -1 = unlimited, left out).
 * New reference, NULL on no memory. */
json_t *lh_queue_status(const json_t *queue, const lh_queue_counts *c, const int64_t *share);
/* Does the queue's cached status already hold every field of want? */
int lh_queue_status_equal(const json_t *queue, const json_t *want);
/* Formats a quantity: cpu milli -> "1500m" / "2", bytes/gpus -> plain integers. */
void lh_queue_qty(char *out, size_t n, int64_t v, int milli);

#endif
