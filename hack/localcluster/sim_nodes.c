/* sim_nodes.c — static simulated Node objects for --nodes (see sim_nodes.h). */
#include "localcluster/sim_nodes.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "localcluster/objmeta.h"
#include "localcluster/selector.h"

int lc_quantity_check(const char *q) {
  if (!q || !*q) return -1;
  const char *p = q;
  if (*p == '+') p++;
  int digits = 0;
  while (isdigit((unsigned char)*p)) p++, digits++;
  if (*p == '.') {
    p++;
    while (isdigit((unsigned char)*p)) p++, digits++;
  }
  if (!digits) return -1;
  static const char *const suffixes[] = {"", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", NULL};
  for (int i = 0; suffixes[i]; i++)
    if (!strcmp(p, suffixes[i])) return 0;
  if ((*p == 'e' || *p == 'E') && p[1]) {
    const char *x = p + 1;
    if (*x == '-' || *x == '+') x++;
    if (!*x) return -1;
    while (isdigit((unsigned char)*x)) x++;
    return *x ? -1 : 0;
  }
  return -1;
}

/* Parses "k=v,k2=v2" into obj (may be NULL: validation only). */
static int parse_labels(const char *text, json_t *obj, char *err, size_t errlen) {
  if (!text || !*text) return 0;
  char *dup = strdup(text);
  if (!dup) return -1;
  int rc = 0;
  char *save = NULL;
  for (char *kv = strtok_r(dup, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(kv, '=');
    char m[256];
    if (!eq) {
      snprintf(err, errlen, "--node-labels: \"%s\" is not key=value", kv);
      rc = -1;
      break;
    }
    *eq = 0;
    if (lh_label_key_validate(kv, m, sizeof m) || lh_label_value_validate(eq + 1, m, sizeof m)) {
      snprintf(err, errlen, "--node-labels: %s", m);
      rc = -1;
      break;
    }
    if (obj) json_object_set_new(obj, kv, json_string(eq + 1));
  }
  free(dup);
  return rc;
}

int lc_sim_nodes_check(const lc_sim_nodes_opts *o, char *err, size_t errlen) {
  if (o->n < 0 || o->n > 100000) {
    snprintf(err, errlen, "--nodes must be between 0 and 100000");
    return -1;
  }
  if (o->cpu && lc_quantity_check(o->cpu)) {
    snprintf(err, errlen, "--node-cpu: \"%s\" is not a quantity (e.g. 8, 500m)", o->cpu);
    return -1;
  }
  if (o->memory && lc_quantity_check(o->memory)) {
    snprintf(err, errlen, "--node-memory: \"%s\" is not a quantity (e.g. 32Gi)", o->memory);
    return -1;
  }
  if (o->gpu < 0 || o->gpu > 1024) {
    snprintf(err, errlen, "--node-gpu must be between 0 and 1024");
    return -1;
  }
  return parse_labels(o->labels, NULL, err, errlen);
}

int lc_sim_nodes_create(lc_server *s, const lc_sim_nodes_opts *o) {
  if (o->n <= 0) return 0;
  const char *cpu = o->cpu ? o->cpu : "8";
  const char *mem = o->memory ? o->memory : "32Gi";
  char now[32];
  lc_now_rfc3339(now);
  int rc = lh_store_txn_begin(s->store);
  if (rc) return rc;
  for (long i = 1; i <= o->n; i++) {
    char name[32], uid[37], ip[32];
    snprintf(name, sizeof name, "sim-%05ld", i);
    if (lh_store_get(s->store, "nodes", "", name, NULL) == 0) continue;
    lc_uuid4(uid);
    snprintf(ip, sizeof ip, "10.%ld.%ld.%ld", 64 + (i >> 16) % 64, (i >> 8) & 255, i & 255);
    json_t *labels = json_pack("{s:s,s:s,s:s,s:s}", "kubernetes.io/hostname", name, "kubernetes.io/os", "linux",
                               "kubernetes.io/arch", "amd64", "lahar.io/simulated", "true");
    char err[256];
    parse_labels(o->labels, labels, err, sizeof err);
    json_t *cap = json_pack("{s:s,s:s,s:s,s:s}", "cpu", cpu, "memory", mem, "pods", "110", "ephemeral-storage", "100Gi");
    if (o->gpu > 0) {
      char g[24];
      snprintf(g, sizeof g, "%ld", o->gpu);
      json_object_set_new(cap, "nvidia.com/gpu", json_string(g));
    }
    json_t *conds = json_pack(
        "[{s:s,s:s,s:s,s:s,s:s,s:s},{s:s,s:s,s:s,s:s,s:s,s:s},{s:s,s:s,s:s,s:s,s:s,s:s},"
        "{s:s,s:s,s:s,s:s,s:s,s:s}]",
        "type", "MemoryPressure", "status", "False", "lastHeartbeatTime", now, "lastTransitionTime", now, "reason",
        "KubeletHasSufficientMemory", "message", "kubelet has sufficient memory available", "type", "DiskPressure",
        "status", "False", "lastHeartbeatTime", now, "lastTransitionTime", now, "reason", "KubeletHasNoDiskPressure",
        "message", "kubelet has no disk pressure", "type", "PIDPressure", "status", "False", "lastHeartbeatTime", now,
        "lastTransitionTime", now, "reason", "KubeletHasSufficientPID", "message", "kubelet has sufficient PID available",
        "type", "Ready", "status", "True", "lastHeartbeatTime", now, "lastTransitionTime", now, "reason",
        "KubeletReady", "message", "kubelet is posting ready status (simulated by lahar)");
    json_t *node = json_pack(
        "{s:s,s:s,s:{s:s,s:s,s:s,s:o},s:{},s:{s:o,s:O,s:o,s:[{s:s,s:s},{s:s,s:s}],s:{s:s,s:s,s:s,s:s,s:s,s:s}}}",
        "kind", "Node", "apiVersion", "v1", "metadata", "name", name, "uid", uid, "creationTimestamp", now, "labels",
        labels, "spec", "status", "capacity", cap, "allocatable", cap, "conditions", conds, "addresses", "type",
        "InternalIP", "address", ip, "type", "Hostname", "address", name, "nodeInfo", "kubeletVersion",
        "v1.20.2-lahar", "kubeProxyVersion", "v1.20.2-lahar", "operatingSystem", "linux", "architecture", "amd64",
        "containerRuntimeVersion", "lahar://sim", "osImage", "lahar simulated node");
    if (!node) {
      lh_store_txn_rollback(s->store);
      return LH_STORE_ENOMEM;
    }
    rc = lh_store_create(s->store, "nodes", "", name, node, NULL);
    json_decref(node);
    if (rc && rc != LH_STORE_EEXISTS) {
      lh_store_txn_rollback(s->store);
      return rc;
    }
  }
  return lh_store_txn_commit(s->store);
}
