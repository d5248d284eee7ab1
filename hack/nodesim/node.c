/* node.c — the JSON of a simulated Node: labels, taints, status (conditions, capacity,
 * addresses, nodeInfo) and the whole object for registration. Pure; see sim.h. */
#include "nodesim/sim.h"

#include <stdio.h>
#include <string.h>

void sim_node_addresses(int idx, char host_ip[16], char pod_cidr[20]) {
  /* Pools (idx < 0) live in a separate range so they never collide with regular nodes. */
  unsigned u = idx >= 0 ? (unsigned)idx : (unsigned)(-idx - 1);
  unsigned hi = idx >= 0 ? 16u + (u / 65536u) % 15u : 31u;
  snprintf(host_ip, 16, "172.%u.%u.%u", hi, (u / 256u) % 256u, u % 256u);
  unsigned a = idx >= 0 ? 64u + (u / 256u) % 128u : 200u + (u / 256u) % 50u;
  snprintf(pod_cidr, 20, "10.%u.%u.0/24", a, u % 256u);
}

static int set_str(json_t *o, const char *k, const char *v) {
  return json_object_set_new(o, k, json_string(v));
}

json_t *sim_node_labels(const sim_node_spec *n) {
  json_t *l = json_object();
  if (!l) return NULL;
  int bad = 0;
  bad |= set_str(l, "kubernetes.io/hostname", n->name);
  bad |= set_str(l, "kubernetes.io/os", "linux");
  bad |= set_str(l, "kubernetes.io/arch", "amd64");
  bad |= set_str(l, "beta.kubernetes.io/os", "linux");
  bad |= set_str(l, "beta.kubernetes.io/arch", "amd64");
  bad |= set_str(l, "node.kubernetes.io/instance-type", n->pool ? "serverless" : "nodesim");
  bad |= set_str(l, "lahar.io/nodesim", "true");
  if (n->pool) {
    bad |= set_str(l, "type", "virtual-kubelet");
    bad |= set_str(l, "lahar.io/serverless", "true");
    bad |= set_str(l, "lahar.io/serverless-pool", n->pool);
  } else {
    bad |= set_str(l, "type", "kwok");
  }
  if (n->cluster) bad |= set_str(l, "lahar.io/cluster", n->cluster);
  for (size_t i = 0; n->labels && i < n->labels->n; i++)
    bad |= set_str(l, n->labels->items[i].key, n->labels->items[i].value);
  if (bad) {
    json_decref(l);
    return NULL;
  }
  return l;
}

static json_t *taint(const char *k, const char *v, const char *eff) {
  json_t *t = json_pack("{s:s, s:s}", "key", k, "effect", eff);
  if (t && v && *v && set_str(t, "value", v)) {
    json_decref(t);
    return NULL;
  }
  return t;
}

json_t *sim_node_taints(const sim_node_spec *n, int pool_no_taint) {
  json_t *a = json_array();
  if (!a) return NULL;
  int bad = 0;
  for (size_t i = 0; i < n->ntaints; i++)
    bad |= json_array_append_new(a, taint(n->taints[i].key, n->taints[i].value, n->taints[i].effect));
  if (n->pool && !pool_no_taint)
    bad |= json_array_append_new(a, taint("lahar.io/serverless", "true", "NoSchedule"));
  if (bad) {
    json_decref(a);
    return NULL;
  }
  return a;
}

static json_t *condition(const char *type, const char *status, const char *reason,
                         const char *msg, const char *now) {
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", type, "status", status,
                   "lastHeartbeatTime", now, "lastTransitionTime", now, "reason", reason,
                   "message", msg);
}

static json_t *resources(const sim_node_spec *n) {
  char cpu[32], mem[32], pods[32];
  if (sim_quantity_format(n->cpu_milli, 0, cpu, sizeof(cpu)) < 0 ||
      sim_quantity_format(n->memory_bytes * 1000, 1, mem, sizeof(mem)) < 0)
    return NULL;
  snprintf(pods, sizeof(pods), "%lld", (long long)n->max_pods);
  json_t *r = json_pack("{s:s, s:s, s:s, s:s, s:s}", "cpu", cpu, "memory", mem, "pods", pods,
                        "ephemeral-storage", "1Ti", "hugepages-2Mi", "0");
  if (r && n->gpu > 0) {
    char g[32];
    snprintf(g, sizeof(g), "%lld", (long long)n->gpu);
    if (set_str(r, "nvidia.com/gpu", g)) {
      json_decref(r);
      return NULL;
    }
  }
  return r;
}

json_t *sim_node_status(const sim_node_spec *n, const char *now) {
  json_t *conds = json_pack(
      "[o, o, o, o, o]",
      condition("Ready", "True", "KubeletReady", "nodesim is posting ready status", now),
      condition("MemoryPressure", "False", "KubeletHasSufficientMemory",
                "nodesim has sufficient memory available", now),
      condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "nodesim has no disk pressure", now),
      condition("PIDPressure", "False", "KubeletHasSufficientPID", "nodesim has sufficient PID available", now),
      condition("NetworkUnavailable", "False", "RouteCreated", "nodesim network is up", now));
  json_t *cap = resources(n), *alloc = resources(n);
  if (!conds || !cap || !alloc) {
    json_decref(conds);
    json_decref(cap);
    json_decref(alloc);
    return NULL;
  }
  json_t *st = json_pack(
      "{s:o, s:o, s:o, s:[{s:s, s:s}, {s:s, s:s}], s:{s:{s:i}}, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}, s:s}",
      "conditions", conds, "capacity", cap, "allocatable", alloc, "addresses", "type",
      "InternalIP", "address", n->host_ip, "type", "Hostname", "address", n->name,
      "daemonEndpoints", "kubeletEndpoint", "Port", 10250, "nodeInfo", "machineID", n->name,
      "systemUUID", n->name, "bootID", n->name, "kernelVersion", "nodesim", "osImage",
      "lahar nodesim", "containerRuntimeVersion", "nodesim://1", "kubeletVersion", "v1.20.2-nodesim",
      "kubeProxyVersion", "v1.20.2-nodesim", "operatingSystem", "linux", "architecture", "amd64",
      "phase", "Running");
  return st;
}

json_t *sim_node_object(const sim_node_spec *n, int pool_no_taint, const char *now) {
  json_t *labels = sim_node_labels(n), *taints = sim_node_taints(n, pool_no_taint);
  json_t *status = sim_node_status(n, now);
  if (!labels || !taints || !status) {
    json_decref(labels);
    json_decref(taints);
    json_decref(status);
    return NULL;
  }
  json_t *spec = json_pack("{s:s, s:[s]}", "podCIDR", n->pod_cidr, "podCIDRs", n->pod_cidr);
  if (spec && json_array_size(taints) > 0) json_object_set(spec, "taints", taints);
  json_decref(taints);
  if (!spec) {
    json_decref(labels);
    json_decref(status);
    return NULL;
  }
  return json_pack("{s:s, s:s, s:{s:s, s:o, s:{s:s}}, s:o, s:o}", "apiVersion", "v1", "kind", "Node",
                   "metadata", "name", n->name, "labels", labels, "annotations",
                   "node.alpha.kubernetes.io/ttl", "0", "spec", spec, "status", status);
}
