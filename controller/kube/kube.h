/* kube.h — shared vocabulary of lahar's Kubernetes client library (controller/kube/).
 *
 * The library is split into small modules, one header each:
 *   kube.h      error codes, resource descriptors (group/version/resource), lh_kube_strerror
 *   loop.h      the event loop (fd callbacks, min-heap timers, before-sleep hook, cross-thread post)
 *   config.h    kubeconfig (libyaml) and in-cluster configuration
 *   client.h    URL building, metav1.Status parsing, the blocking REST client (curl easy)
 *   async.h     concurrent requests over curl multi on the loop (N in flight, keep-alive pool)
 *   watch.h     watch streams: WebSocket (libwebsockets) with a chunked-HTTP fallback
 *   informer.h  list+watch informers with a transform hook and an indexed local cache
 *   workqueue.h rate-limited work queues with client-go semantics
 *   pod.h       the compact pod transform, string interning and cache memory accounting
 *
 * Errors: every fallible function returns 0 or one of the negative LH_EKUBE_* codes below;
 * errno is never the interface. */
#ifndef LAHAR_KUBE_KUBE_H
#define LAHAR_KUBE_KUBE_H

#include <stddef.h>

#define LH_KUBE_OK 0
#define LH_EKUBE_NOMEM -1     /* allocation failed */
#define LH_EKUBE_INVAL -2     /* bad argument */
#define LH_EKUBE_CONFIG -3    /* kubeconfig / in-cluster configuration invalid or incomplete */
#define LH_EKUBE_IO -4        /* a local file could not be read */
#define LH_EKUBE_TRANSPORT -5 /* connect, TLS, timeout or protocol failure: no HTTP answer */
#define LH_EKUBE_HTTP -6      /* the server answered non-2xx: see the lh_kube_status */
#define LH_EKUBE_TOOBIG -7    /* a response, event or line passed its size cap */
#define LH_EKUBE_PARSE -8     /* malformed JSON / YAML / event */
#define LH_EKUBE_GONE -9      /* 410 Gone / Expired: the resourceVersion is too old, relist */
#define LH_EKUBE_CLOSED -10   /* the handle was closed or shut down before completion */
#define LH_EKUBE_UPGRADE -11  /* the WebSocket upgrade was refused (fallback possible) */

/* Returns a static, human-readable name for an LH_EKUBE_* code (never NULL). */
const char *lh_kube_strerror(int rc);

/* A resource type, as the URL sees it. group "" means the core group (/api/v1). */
typedef struct lh_kube_resource {
  const char *group;    /* "" for core, e.g. "scheduling.volcano.sh" */
  const char *version;  /* "v1", "v1beta1" */
  const char *resource; /* plural lower-case: "pods", "podgroups" */
  int namespaced;       /* 1 if objects live in namespaces */
} lh_kube_resource;

extern const lh_kube_resource LH_KUBE_PODS;           /* v1 pods */
extern const lh_kube_resource LH_KUBE_NODES;          /* v1 nodes */
extern const lh_kube_resource LH_KUBE_NAMESPACES;     /* v1 namespaces */
extern const lh_kube_resource LH_KUBE_VOLCANO_QUEUES; /* scheduling.volcano.sh/v1beta1 queues */
extern const lh_kube_resource LH_KUBE_VOLCANO_PODGROUPS; /* scheduling.volcano.sh/v1beta1 podgroups */
extern const lh_kube_resource LH_KUBE_VOLCANO_JOBS;   /* batch.volcano.sh/v1alpha1 jobs */
extern const lh_kube_resource LH_KUBE_ARGO_WORKFLOWS; /* argoproj.io/v1alpha1 workflows */

#endif
