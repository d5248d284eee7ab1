/* errors.c — LH_EKUBE_* names and the built-in resource descriptors. */
#include "kube/kube.h"

const lh_kube_resource LH_KUBE_PODS = {"", "v1", "pods", 1};
const lh_kube_resource LH_KUBE_NODES = {"", "v1", "nodes", 0};
const lh_kube_resource LH_KUBE_NAMESPACES = {"", "v1", "namespaces", 0};
const lh_kube_resource LH_KUBE_VOLCANO_QUEUES = {"scheduling.volcano.sh", "v1beta1", "queues", 0};
const lh_kube_resource LH_KUBE_VOLCANO_PODGROUPS = {"scheduling.volcano.sh", "v1beta1", "podgroups", 1};
const lh_kube_resource LH_KUBE_VOLCANO_JOBS = {"batch.volcano.sh", "v1alpha1", "jobs", 1};
const lh_kube_resource LH_KUBE_ARGO_WORKFLOWS = {"argoproj.io", "v1alpha1", "workflows", 1};

const char *lh_kube_strerror(int rc) {
  switch (rc) {
  case LH_KUBE_OK: return "ok";
  case LH_EKUBE_NOMEM: return "out of memory";
  case LH_EKUBE_INVAL: return "invalid argument";
  case LH_EKUBE_CONFIG: return "invalid configuration";
  case LH_EKUBE_IO: return "file read error";
  case LH_EKUBE_TRANSPORT: return "transport error";
  case LH_EKUBE_HTTP: return "server returned an error status";
  case LH_EKUBE_TOOBIG: return "size cap exceeded";
  case LH_EKUBE_PARSE: return "malformed input";
  case LH_EKUBE_GONE: return "resource version expired (410)";
  case LH_EKUBE_CLOSED: return "closed";
  case LH_EKUBE_UPGRADE: return "websocket upgrade refused";
  default: return "unknown error";
  }
}
