/* pod_int.h — what pod.c shares with pod_bytes.c (the byte-level twin of the pod transform);
 * not part of the public API. */
#ifndef LAHAR_KUBE_POD_INT_H
#define LAHAR_KUBE_POD_INT_H

#include "kube/pod.h"

/* 1 if the compact pod keeps annotation k (group name, queue name, volcano.sh/ keys). */
int lh_pod__keep_annotation(const char *k);
/* metadata.deletionTimestamp ("2006-01-02T15:04:05Z") as Unix seconds, 0 if NULL/unparsable. */
int64_t lh_pod__parse_time(const char *s);
/* Adds delta bytes of compact pods to the pool's accounting (lh_pod_cache_bytes). */
void lh_pod__account(lh_intern *in, long delta);
/* One zeroed allocation for a compact pod with room for nl labels, na annotations, ns_n node
 * selector entries, nt tolerations and strbytes bytes of strings; the arrays are set up and
 * *strings points at the string area. NULL when out of memory. */
lh_pod *lh_pod__alloc(size_t nl, size_t na, size_t ns_n, size_t nt, size_t strbytes, char **strings);

#endif
