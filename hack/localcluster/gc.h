/* gc.h — the local cluster's background controllers, run on the event loop between requests:
 *   - garbage collection by metadata.ownerReferences (Background: dependents deleted once the
 *     owner is gone; Orphan: the owner's "orphan" finalizer strips the reference from
 *     dependents; Foreground: the "foregroundDeletion" finalizer holds the owner until its
 *     dependents are gone);
 *   - namespace deletion (Terminating → contents deleted → "kubernetes" finalizer removed → gone);
 *   - CRD deletion (custom resources deleted, then the CRD and its served API).
 * Store callbacks may not write, so events only queue work here; lc_gc_run() does the writes.
 * Dependents are found through an in-memory uid → dependents index fed by store events (built
 * from a full scan at start). */
#ifndef LAHAR_LC_GC_H
#define LAHAR_LC_GC_H

#include "localcluster/lc.h"

struct lc_gc *lc_gc_new(void);
void lc_gc_free(struct lc_gc *g);
/* Indexes every stored object's ownerReferences (at start). Returns 0 or a store code. */
int lc_gc_scan(lc_server *s);
/* Store-subscription hook: indexes owners, queues GC / namespace / CRD work. */
void lc_gc_on_event(lc_server *s, const lh_store_event *ev);
/* Does the queued work (store writes). Returns 1 when work remains for a later retry (e.g. a
 * namespace whose contents still hold finalizers), else 0. */
int lc_gc_run(lc_server *s);
/* Queue a namespace / CRD whose deletion must be driven. */
void lc_gc_queue_namespace(lc_server *s, const char *ns);
void lc_gc_queue_crd(lc_server *s, const char *crd_name);
int lc_gc_pending(const lc_server *s);

#endif
