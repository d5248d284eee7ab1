/* table.c — server-side printing (see table.h).
 *
 * Sections: accept/includeObject parsing · time helpers (RFC 3339, HumanDuration) · JSONPath
 * subset · column tables per built-in kind · row printers per kind (following 1.20's
 * pkg/printers/internalversion/printers.go) · custom resource rows · table/row assembly. */
#include "localcluster/table.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"

/* ---- Accept and includeObject ---------------------------------------------------------------- */

/* Value of parameter name in one media range "type/sub;a=b;c=d" of length n, into out. */
static int media_param(const char *m, size_t n, const char *name, char *out, size_t outsz) {
  size_t nl = strlen(name);
  out[0] = 0;
  const char *p = memchr(m, ';', n);
  while (p && p < m + n) {
    p++;
    while (p < m + n && *p == ' ') p++;
    const char *e = memchr(p, ';', (size_t)(m + n - p));
    if (!e) e = m + n;
    if ((size_t)(e - p) > nl && !strncasecmp(p, name, nl) && p[nl] == '=') {
      size_t vl = (size_t)(e - p) - nl - 1;
      while (vl && p[nl + 1 + vl - 1] == ' ') vl--;
      if (vl >= outsz) vl = outsz - 1;
      memcpy(out, p + nl + 1, vl);
      out[vl] = 0;
      return 1;
    }
    p = e;
  }
  return 0;
}

int lc_table_accept(const char *accept) {
  if (!accept) return 0;
  const char *p = accept;
  while (*p) {
    while (*p == ' ' || *p == ',') p++;
    if (!*p) break;
    const char *e = strchr(p, ',');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    size_t tl = 0;
    while (tl < n && p[tl] != ';' && p[tl] != ' ') tl++;
    int json = (tl == 16 && !strncasecmp(p, "application/json", 16)) || (tl == 3 && !strncmp(p, "*/*", 3)) ||
               (tl == 13 && !strncasecmp(p, "application/*", 13));
    if (json) {
      char as[64], g[64], v[32];
      media_param(p, n, "as", as, sizeof as);
      if (!as[0]) return 0;
      media_param(p, n, "g", g, sizeof g);
      media_param(p, n, "v", v, sizeof v);
      if (!strcmp(as, "Table") && !strcmp(g, "meta.k8s.io")) {
        if (!strcmp(v, "v1")) return 1;
        if (!strcmp(v, "v1beta1")) return 2;
      }
      /* other "as=" conversions lahar does not produce: try the next media range */
    }
    p += n;
  }
  return 0;
}

int lc_table_include_parse(const char *v) {
  if (!v || !*v || !strcmp(v, "Metadata")) return LC_INCLUDE_METADATA;
  if (!strcmp(v, "Object")) return LC_INCLUDE_OBJECT;
  if (!strcmp(v, "None")) return LC_INCLUDE_NONE;
  return -1;
}

/* ---- time ------------------------------------------------------------------------------------ */

time_t lc_parse_rfc3339(const char *s) {
  if (!s) return -1;
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
  if (!p) return -1;
  if (*p == '.') {
    p++;
    if (!isdigit((unsigned char)*p)) return -1;
    while (isdigit((unsigned char)*p)) p++;
  }
  long off = 0;
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) && p[3] == ':' &&
             isdigit((unsigned char)p[4]) && isdigit((unsigned char)p[5])) {
    off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600L + ((p[4] - '0') * 10 + (p[5] - '0')) * 60L;
    if (*p == '-') off = -off;
    p += 6;
  } else {
    return -1;
  }
  if (*p) return -1;
  return timegm(&tm) - off;
}

void lc_human_duration(long long secs, char *out, size_t sz) {
  if (secs < -1) {
    snprintf(out, sz, "<invalid>");
    return;
  }
  if (secs < 0) secs = 0;
  if (secs < 120) {
    snprintf(out, sz, "%llds", secs);
    return;
  }
  long long minutes = secs / 60;
  if (minutes < 10) {
    long long s = secs % 60;
    if (s == 0) snprintf(out, sz, "%lldm", minutes);
    else snprintf(out, sz, "%lldm%llds", minutes, s);
    return;
  }
  if (minutes < 60 * 3) {
    snprintf(out, sz, "%lldm", minutes);
    return;
  }
  long long hours = secs / 3600;
  if (hours < 8) {
    long long m = minutes % 60;
    if (m == 0) snprintf(out, sz, "%lldh", hours);
    else snprintf(out, sz, "%lldh%lldm", hours, m);
  } else if (hours < 48) {
    snprintf(out, sz, "%lldh", hours);
  } else if (hours < 24 * 8) {
    long long h = hours % 24;
    if (h == 0) snprintf(out, sz, "%lldd", hours / 24);
    else snprintf(out, sz, "%lldd%lldh", hours / 24, h);
  } else if (hours < 24 * 365 * 2) {
    snprintf(out, sz, "%lldd", hours / 24);
  } else if (hours < 24 * 365 * 8) {
    long long dy = (hours / 24) % 365;
    if (dy == 0) snprintf(out, sz, "%lldy", hours / 24 / 365);
    else snprintf(out, sz, "%lldy%lldd", hours / 24 / 365, dy);
  } else {
    snprintf(out, sz, "%lldy", hours / 24 / 365);
  }
}

void lc_table_age(const char *ts, time_t now, char *out, size_t sz) {
  if (!ts || !*ts) {
    snprintf(out, sz, "<unknown>");
    return;
  }
  time_t t = lc_parse_rfc3339(ts);
  if (t == (time_t)-1) {
    snprintf(out, sz, "<invalid>");
    return;
  }
  lc_human_duration((long long)(now - t), out, sz);
}

/* ---- JSONPath subset ------------------------------------------------------------------------- */

/* Evaluates path p (without braces) from cur; first match or NULL. end bounds p. */
static const json_t *jp_eval(const json_t *cur, const char *p, const char *end, int depth) {
  if (!cur || depth > 64) return NULL;
  if (p >= end) return cur;
  if (*p == '.') {
    p++;
    if (p < end && *p == '[') return jp_eval(cur, p, end, depth + 1); /* ".['x']" */
    const char *e = p;
    while (e < end && *e != '.' && *e != '[') e++;
    if (e == p) return NULL;
    if (!json_is_object(cur)) return NULL;
    char key[256];
    if ((size_t)(e - p) >= sizeof key) return NULL;
    memcpy(key, p, (size_t)(e - p));
    key[e - p] = 0;
    return jp_eval(json_object_get(cur, key), e, end, depth + 1);
  }
  if (*p == '[') {
    const char *close = memchr(p, ']', (size_t)(end - p));
    if (!close) return NULL;
    const char *in = p + 1;
    size_t n = (size_t)(close - in);
    if (n >= 2 && (in[0] == '\'' || in[0] == '"') && in[n - 1] == in[0]) {
      char key[256];
      if (n - 2 >= sizeof key || !json_is_object(cur)) return NULL;
      memcpy(key, in + 1, n - 2);
      key[n - 2] = 0;
      return jp_eval(json_object_get(cur, key), close + 1, end, depth + 1);
    }
    if (!json_is_array(cur)) return NULL;
    if (n == 1 && in[0] == '*') {
      size_t i;
      const json_t *v;
      json_array_foreach(cur, i, v) {
        const json_t *r = jp_eval(v, close + 1, end, depth + 1);
        if (r) return r;
      }
      return NULL;
    }
    char num[24];
    if (n == 0 || n >= sizeof num) return NULL;
    memcpy(num, in, n);
    num[n] = 0;
    char *ep;
    long idx = strtol(num, &ep, 10);
    if (*ep) return NULL;
    long len = (long)json_array_size(cur);
    if (idx < 0) idx += len;
    if (idx < 0 || idx >= len) return NULL;
    return jp_eval(json_array_get(cur, (size_t)idx), close + 1, end, depth + 1);
  }
  return NULL;
}

const json_t *lc_jsonpath_first(const json_t *root, const char *path) {
  if (!path) return NULL;
  size_t n = strlen(path);
  while (n && isspace((unsigned char)path[n - 1])) n--;
  while (n && isspace((unsigned char)*path)) path++, n--;
  if (n >= 2 && path[0] == '{' && path[n - 1] == '}') path++, n -= 2;
  if (n && path[0] == '$') path++, n--;
  if (!n) return root;
  return jp_eval(root, path, path + n, 0);
}

/* ---- columns --------------------------------------------------------------------------------- */

typedef struct col {
  const char *name, *type, *format;
  int priority;
  const char *desc;
} col;

static const char d_name[] =
    "Name must be unique within a namespace. Is required when creating resources, although some resources may "
    "allow a client to request the generation of an appropriate name automatically. Name is primarily intended "
    "for creation idempotence and configuration definition. Cannot be updated. More info: "
    "http://kubernetes.io/docs/user-guide/identifiers#names";
static const char d_age[] =
    "CreationTimestamp is a timestamp representing the server time when this object was created. It is not "
    "guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It "
    "is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More "
    "info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

#define NAME_COL {"Name", "string", "name", 0, d_name}
#define AGE_COL {"Age", "string", "", 0, d_age}
#define END_COL {NULL, NULL, NULL, 0, NULL}

static const col c_pods[] = {
    NAME_COL,
    {"Ready", "string", "", 0, "The aggregate readiness state of this pod for accepting traffic."},
    {"Status", "string", "", 0, "The aggregate status of the containers in this pod."},
    {"Restarts", "integer", "", 0, "The number of times the containers in this pod have been restarted."},
    AGE_COL,
    {"IP", "string", "", 1, "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated."},
    {"Node", "string", "", 1, "NodeName is a request to schedule this pod onto a specific node."},
    {"Nominated Node", "string", "", 1,
     "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled "
     "right away as preemption victims receive their graceful termination periods."},
    {"Readiness Gates", "string", "", 1, "If specified, all readiness gates will be evaluated for pod readiness."},
    END_COL};
static const col c_nodes[] = {
    NAME_COL,
    {"Status", "string", "", 0, "The status of the node"},
    {"Roles", "string", "", 0, "The roles of the node"},
    AGE_COL,
    {"Version", "string", "", 0, "Kubelet Version reported by the node."},
    {"Internal-IP", "string", "", 1, "List of addresses reachable to the node."},
    {"External-IP", "string", "", 1, "List of addresses reachable to the node."},
    {"OS-Image", "string", "", 1, "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy))."},
    {"Kernel-Version", "string", "", 1, "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."},
    {"Container-Runtime", "string", "", 1, "ContainerRuntime Version reported by the node through runtime remote API (e.g. docker://1.5.0)."},
    END_COL};
static const col c_namespaces[] = {
    NAME_COL, {"Status", "string", "", 0, "The status of the namespace"}, AGE_COL, END_COL};
static const col c_configmaps[] = {NAME_COL, {"Data", "string", "", 0, "Data contains the configuration data."},
                                   AGE_COL, END_COL};
static const col c_secrets[] = {NAME_COL,
                                {"Type", "string", "", 0, "Used to facilitate programmatic handling of secret data."},
                                {"Data", "string", "", 0, "Data contains the secret data."},
                                AGE_COL,
                                END_COL};
static const col c_services[] = {
    NAME_COL,
    {"Type", "string", "", 0, "type determines how the Service is exposed."},
    {"Cluster-IP", "string", "", 0, "clusterIP is the IP address of the service and is usually assigned randomly by the master."},
    {"External-IP", "string", "", 0, "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service."},
    {"Port(s)", "string", "", 0, "The list of ports that are exposed by this service."},
    AGE_COL,
    {"Selector", "string", "", 1, "Route service traffic to pods with label keys and values matching this selector."},
    END_COL};
static const col c_serviceaccounts[] = {
    NAME_COL, {"Secrets", "string", "", 0, "Secrets is the list of secrets allowed to be used by pods running using this ServiceAccount."},
    AGE_COL, END_COL};
static const col c_events[] = {
    {"Last Seen", "string", "", 0, "The time at which the most recent occurrence of this event was recorded."},
    {"Type", "string", "", 0, "Type of this event (Normal, Warning), new types could be added in the future"},
    {"Reason", "string", "", 0, "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."},
    {"Object", "string", "", 0, "The object that this event is about."},
    {"Subobject", "string", "", 1, "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement."},
    {"Source", "string", "", 1, "The component reporting this event. Should be a short machine understandable string."},
    {"Message", "string", "", 0, "A human-readable description of the status of this operation."},
    {"First Seen", "string", "", 1, "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)"},
    {"Count", "string", "", 1, "The number of times this event has occurred."},
    {"Name", "string", "name", 1, d_name},
    END_COL};
static const col c_leases[] = {NAME_COL, {"Holder", "string", "", 0, "HolderIdentity contains the identity of the holder of a current lease."},
                               AGE_COL, END_COL};
static const col c_quotas[] = {NAME_COL, AGE_COL,
                               {"Request", "string", "", 0, "Request represents a minimum amount of cpu/memory that a container may consume."},
                               {"Limit", "string", "", 0, "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node."},
                               END_COL};
static const col c_default[] = {
    NAME_COL,
    {"Created At", "date", "", 0, "CreationTimestamp is a timestamp representing the server time when this object was created."},
    END_COL};

static const col *builtin_cols(const lc_rtype *t) {
  if (t->group[0]) {
    if (!strcmp(t->group, "coordination.k8s.io") && !strcmp(t->plural, "leases")) return c_leases;
    return c_default;
  }
  static const struct {
    const char *plural;
    const col *c;
  } m[] = {{"pods", c_pods},         {"nodes", c_nodes},
           {"namespaces", c_namespaces}, {"configmaps", c_configmaps},
           {"secrets", c_secrets},   {"services", c_services},
           {"serviceaccounts", c_serviceaccounts}, {"events", c_events},
           {"resourcequotas", c_quotas}};
  for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
    if (!strcmp(m[i].plural, t->plural)) return m[i].c;
  return c_default;
}

static json_t *coldef(const char *name, const char *type, const char *format, const char *desc, long prio) {
  return json_pack("{s:s,s:s,s:s,s:s,s:i}", "name", name, "type", type, "format", format ? format : "",
                   "description", desc ? desc : "", "priority", (int)prio);
}

/* A CRD version's columns: its additionalPrinterColumns, or Age when it has none. */
static int cr_cols(const lc_rtype *t, json_t *out) {
  int e = json_array_append_new(out, coldef("Name", "string", "name", d_name, 0));
  if (json_array_size(t->columns) == 0) {
    e |= json_array_append_new(out, coldef("Age", "date", "", d_age, 0));
    return e;
  }
  size_t i;
  const json_t *c;
  json_array_foreach(t->columns, i, c) {
    const char *jp = json_string_value(json_object_get(c, "jsonPath"));
    const char *desc = json_string_value(json_object_get(c, "description"));
    char dbuf[600];
    if (!desc || !*desc) {
      snprintf(dbuf, sizeof dbuf, "Custom resource definition column (in JSONPath format): %s", jp ? jp : "");
      desc = dbuf;
    }
    const char *name = json_string_value(json_object_get(c, "name"));
    const char *type = json_string_value(json_object_get(c, "type"));
    e |= json_array_append_new(out, coldef(name ? name : "", type ? type : "string",
                                           json_string_value(json_object_get(c, "format")), desc,
                                           (long)json_integer_value(json_object_get(c, "priority"))));
  }
  return e;
}

json_t *lc_table_columns(const lc_rtype *t) {
  json_t *out = json_array();
  if (!out) return NULL;
  int e = 0;
  if (t->is_cr) {
    e = cr_cols(t, out);
  } else {
    for (const col *c = builtin_cols(t); c->name; c++)
      e |= json_array_append_new(out, coldef(c->name, c->type, c->format, c->desc, c->priority));
  }
  if (e) {
    json_decref(out);
    return NULL;
  }
  return out;
}

/* ---- row printers ---------------------------------------------------------------------------- */

static const char *gs(const json_t *o, const char *k) {
  const char *s = json_string_value(json_object_get(o, k));
  return s ? s : "";
}
static const json_t *gp(const json_t *o, const char *a, const char *b) {
  return json_object_get(json_object_get(o, a), b);
}
static const char *orn(const char *s) { return s && *s ? s : "<none>"; }

static int add_s(json_t *cells, const char *s) { return json_array_append_new(cells, json_string(s ? s : "")); }
static int add_i(json_t *cells, long long v) { return json_array_append_new(cells, json_integer(v)); }
static int add_age(json_t *cells, const json_t *obj, time_t now) {
  char a[32];
  lc_table_age(json_string_value(gp(obj, "metadata", "creationTimestamp")), now, a, sizeof a);
  return add_s(cells, a);
}

static int row_pod(const json_t *pod, json_t *cells, time_t now) {
  const json_t *spec = json_object_get(pod, "spec"), *st = json_object_get(pod, "status");
  long long restarts = 0;
  int ready = 0;
  size_t total = json_array_size(json_object_get(spec, "containers"));
  char reason[256];
  snprintf(reason, sizeof reason, "%s", gs(st, "phase"));
  if (*gs(st, "reason")) snprintf(reason, sizeof reason, "%s", gs(st, "reason"));
  int initializing = 0;
  const json_t *ics = json_object_get(st, "initContainerStatuses");
  size_t i;
  const json_t *c;
  json_array_foreach(ics, i, c) {
    restarts += json_integer_value(json_object_get(c, "restartCount"));
    const json_t *term = gp(c, "state", "terminated"), *wait = gp(c, "state", "waiting");
    if (term && json_integer_value(json_object_get(term, "exitCode")) == 0) continue;
    if (term) {
      if (!*gs(term, "reason")) {
        long long sig = json_integer_value(json_object_get(term, "signal"));
        if (sig) snprintf(reason, sizeof reason, "Init:Signal:%lld", sig);
        else snprintf(reason, sizeof reason, "Init:ExitCode:%lld", (long long)json_integer_value(json_object_get(term, "exitCode")));
      } else {
        snprintf(reason, sizeof reason, "Init:%s", gs(term, "reason"));
      }
    } else if (wait && *gs(wait, "reason") && strcmp(gs(wait, "reason"), "PodInitializing")) {
      snprintf(reason, sizeof reason, "Init:%s", gs(wait, "reason"));
    } else {
      snprintf(reason, sizeof reason, "Init:%zu/%zu", i, json_array_size(json_object_get(spec, "initContainers")));
    }
    initializing = 1;
    break;
  }
  if (!initializing) {
    restarts = 0;
    int running = 0;
    const json_t *cs = json_object_get(st, "containerStatuses");
    for (size_t k = json_array_size(cs); k-- > 0;) {
      c = json_array_get(cs, k);
      restarts += json_integer_value(json_object_get(c, "restartCount"));
      const json_t *term = gp(c, "state", "terminated"), *wait = gp(c, "state", "waiting");
      if (wait && *gs(wait, "reason")) {
        snprintf(reason, sizeof reason, "%s", gs(wait, "reason"));
      } else if (term && *gs(term, "reason")) {
        snprintf(reason, sizeof reason, "%s", gs(term, "reason"));
      } else if (term) {
        long long sig = json_integer_value(json_object_get(term, "signal"));
        if (sig) snprintf(reason, sizeof reason, "Signal:%lld", sig);
        else snprintf(reason, sizeof reason, "ExitCode:%lld", (long long)json_integer_value(json_object_get(term, "exitCode")));
      } else if (json_is_true(json_object_get(c, "ready")) && gp(c, "state", "running")) {
        running = 1;
        ready++;
      }
    }
    if (!strcmp(reason, "Completed") && running) {
      int pod_ready = 0;
      json_array_foreach(json_object_get(st, "conditions"), i, c) if (!strcmp(gs(c, "type"), "Ready") &&
                                                                   !strcmp(gs(c, "status"), "True")) pod_ready = 1;
      snprintf(reason, sizeof reason, "%s", pod_ready ? "Running" : "NotReady");
    }
  }
  if (gp(pod, "metadata", "deletionTimestamp"))
    snprintf(reason, sizeof reason, "%s", !strcmp(gs(st, "reason"), "NodeLost") ? "Unknown" : "Terminating");
  char rd[64];
  snprintf(rd, sizeof rd, "%d/%zu", ready, total);
  int e = add_s(cells, gs(json_object_get(pod, "metadata"), "name"));
  e |= add_s(cells, rd);
  e |= add_s(cells, reason);
  e |= add_i(cells, restarts);
  e |= add_age(cells, pod, now);
  const char *ip = gs(json_array_get(json_object_get(st, "podIPs"), 0), "ip");
  if (!*ip) ip = gs(st, "podIP");
  e |= add_s(cells, orn(ip));
  e |= add_s(cells, orn(gs(spec, "nodeName")));
  e |= add_s(cells, orn(gs(st, "nominatedNodeName")));
  const json_t *gates = json_object_get(spec, "readinessGates");
  if (json_array_size(gates)) {
    int ok = 0;
    const json_t *g;
    json_array_foreach(gates, i, g) {
      size_t k;
      const json_t *cond;
      json_array_foreach(json_object_get(st, "conditions"), k, cond) {
        if (!strcmp(gs(cond, "type"), gs(g, "conditionType"))) {
          if (!strcmp(gs(cond, "status"), "True")) ok++;
          break;
        }
      }
    }
    char rg[64];
    snprintf(rg, sizeof rg, "%d/%zu", ok, json_array_size(gates));
    e |= add_s(cells, rg);
  } else {
    e |= add_s(cells, "<none>");
  }
  return e;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

static int row_node(const json_t *node, json_t *cells, time_t now) {
  const json_t *st = json_object_get(node, "status"), *md = json_object_get(node, "metadata");
  char status[128] = "Unknown";
  size_t i;
  const json_t *c;
  json_array_foreach(json_object_get(st, "conditions"), i, c) {
    if (strcmp(gs(c, "type"), "Ready")) continue;
    const char *v = gs(c, "status");
    snprintf(status, sizeof status, "%s", !strcmp(v, "True") ? "Ready" : !strcmp(v, "False") ? "NotReady" : "Unknown");
  }
  if (json_is_true(gp(node, "spec", "unschedulable")))
    snprintf(status + strlen(status), sizeof status - strlen(status), ",SchedulingDisabled");
  /* roles: node-role.kubernetes.io/ROLE labels and kubernetes.io/role=ROLE */
  const char *roles[64];
  size_t nr = 0;
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)json_object_get(md, "labels"), k, v) {
    if (nr == 64) break;
    if (!strncmp(k, "node-role.kubernetes.io/", 24) && k[24]) roles[nr++] = k + 24;
    else if (!strcmp(k, "kubernetes.io/role") && json_string_value(v) && *json_string_value(v))
      roles[nr++] = json_string_value(v);
  }
  qsort(roles, nr, sizeof roles[0], cmp_str);
  lh_buf rb;
  lh_buf_init(&rb, 8192);
  for (size_t r = 0; r < nr; r++) {
    if (r && !strcmp(roles[r], roles[r - 1])) continue;
    if (rb.len) lh_buf_adds(&rb, ",");
    lh_buf_adds(&rb, roles[r]);
  }
  int e = add_s(cells, gs(md, "name"));
  e |= add_s(cells, status);
  e |= add_s(cells, rb.len ? lh_buf_str(&rb) : "<none>");
  lh_buf_free(&rb);
  e |= add_age(cells, node, now);
  const json_t *info = json_object_get(st, "nodeInfo");
  e |= add_s(cells, gs(info, "kubeletVersion"));
  const char *iip = "", *eip = "";
  json_array_foreach(json_object_get(st, "addresses"), i, c) {
    if (!*iip && !strcmp(gs(c, "type"), "InternalIP")) iip = gs(c, "address");
    if (!*eip && !strcmp(gs(c, "type"), "ExternalIP")) eip = gs(c, "address");
  }
  e |= add_s(cells, orn(iip));
  e |= add_s(cells, orn(eip));
  e |= add_s(cells, *gs(info, "osImage") ? gs(info, "osImage") : "<unknown>");
  e |= add_s(cells, *gs(info, "kernelVersion") ? gs(info, "kernelVersion") : "<unknown>");
  e |= add_s(cells, *gs(info, "containerRuntimeVersion") ? gs(info, "containerRuntimeVersion") : "<unknown>");
  return e;
}

/* "k=v,k2=v2" sorted by key (labels.FormatLabels / selector String), "<none>" when empty. */
static void format_map(const json_t *m, lh_buf *out) {
  const char *keys[256];
  size_t n = 0;
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)m, k, v) if (n < 256) keys[n++] = k;
  qsort(keys, n, sizeof keys[0], cmp_str);
  for (size_t i = 0; i < n; i++) {
    if (i) lh_buf_adds(out, ",");
    lh_buf_addf(out, "%s=%s", keys[i], gs(m, keys[i]));
  }
}

static int row_service(const json_t *svc, json_t *cells, time_t now) {
  const json_t *spec = json_object_get(svc, "spec");
  const char *type = gs(spec, "type");
  lh_buf ext, ports, sel;
  lh_buf_init(&ext, 65536);
  lh_buf_init(&ports, 65536);
  lh_buf_init(&sel, 65536);
  size_t i;
  const json_t *x;
  const json_t *eips = json_object_get(spec, "externalIPs");
  if (!strcmp(type, "ClusterIP") || !strcmp(type, "NodePort")) {
    json_array_foreach(eips, i, x) {
      if (ext.len) lh_buf_adds(&ext, ",");
      lh_buf_adds(&ext, json_string_value(x) ? json_string_value(x) : "");
    }
  } else if (!strcmp(type, "LoadBalancer")) {
    json_array_foreach(json_object_get(gp(svc, "status", "loadBalancer"), "ingress"), i, x) {
      const char *a = *gs(x, "ip") ? gs(x, "ip") : gs(x, "hostname");
      if (!*a) continue;
      if (ext.len) lh_buf_adds(&ext, ",");
      lh_buf_adds(&ext, a);
    }
    json_array_foreach(eips, i, x) {
      if (ext.len) lh_buf_adds(&ext, ",");
      lh_buf_adds(&ext, json_string_value(x) ? json_string_value(x) : "");
    }
    if (!ext.len) lh_buf_adds(&ext, "<pending>");
  } else if (!strcmp(type, "ExternalName")) {
    lh_buf_adds(&ext, gs(spec, "externalName"));
  } else {
    lh_buf_adds(&ext, "<unknown>");
  }
  json_array_foreach(json_object_get(spec, "ports"), i, x) {
    if (ports.len) lh_buf_adds(&ports, ",");
    long long port = json_integer_value(json_object_get(x, "port"));
    long long np = json_integer_value(json_object_get(x, "nodePort"));
    const char *proto = *gs(x, "protocol") ? gs(x, "protocol") : "TCP";
    if (np) lh_buf_addf(&ports, "%lld:%lld/%s", port, np, proto);
    else lh_buf_addf(&ports, "%lld/%s", port, proto);
  }
  format_map(json_object_get(spec, "selector"), &sel);
  int e = add_s(cells, gs(json_object_get(svc, "metadata"), "name"));
  e |= add_s(cells, type);
  e |= add_s(cells, orn(gs(spec, "clusterIP")));
  e |= add_s(cells, ext.len ? lh_buf_str(&ext) : "<none>");
  e |= add_s(cells, ports.len ? lh_buf_str(&ports) : "<none>");
  e |= add_age(cells, svc, now);
  e |= add_s(cells, sel.len ? lh_buf_str(&sel) : "<none>");
  lh_buf_free(&ext);
  lh_buf_free(&ports);
  lh_buf_free(&sel);
  return e;
}

static int row_event(const json_t *ev, json_t *cells, time_t now) {
  const char *last = json_string_value(json_object_get(ev, "lastTimestamp"));
  const json_t *series = json_object_get(ev, "series");
  if (series) last = json_string_value(json_object_get(series, "lastObservedTime"));
  else if (!last || !*last) last = json_string_value(json_object_get(ev, "eventTime"));
  const char *first = json_string_value(json_object_get(ev, "firstTimestamp"));
  if (!first || !*first) first = json_string_value(json_object_get(ev, "eventTime"));
  char a1[32], a2[32];
  lc_table_age(last, now, a1, sizeof a1);
  lc_table_age(first, now, a2, sizeof a2);
  const json_t *io = json_object_get(ev, "involvedObject");
  char obj[600], kind[128];
  size_t k = 0;
  for (const char *p = gs(io, "kind"); *p && k + 1 < sizeof kind; p++) kind[k++] = (char)tolower((unsigned char)*p);
  kind[k] = 0;
  snprintf(obj, sizeof obj, "%s/%s", kind, gs(io, "name"));
  const json_t *src = json_object_get(ev, "source");
  char source[600];
  const char *comp = *gs(src, "component") ? gs(src, "component") : gs(ev, "reportingComponent");
  if (*gs(src, "host")) snprintf(source, sizeof source, "%s, %s", comp, gs(src, "host"));
  else snprintf(source, sizeof source, "%s", comp);
  const char *msg = gs(ev, "message");
  while (isspace((unsigned char)*msg)) msg++;
  size_t ml = strlen(msg);
  while (ml && isspace((unsigned char)msg[ml - 1])) ml--;
  long long count = series ? json_integer_value(json_object_get(series, "count")) : json_integer_value(json_object_get(ev, "count"));
  int e = add_s(cells, a1);
  e |= add_s(cells, gs(ev, "type"));
  e |= add_s(cells, gs(ev, "reason"));
  e |= add_s(cells, obj);
  e |= add_s(cells, gs(io, "fieldPath"));
  e |= add_s(cells, source);
  e |= json_array_append_new(cells, json_stringn(msg, ml));
  e |= add_s(cells, a2);
  e |= add_i(cells, count);
  e |= add_s(cells, gs(json_object_get(ev, "metadata"), "name"));
  return e;
}

static int row_quota(const json_t *q, json_t *cells, time_t now) {
  const json_t *hard = gp(q, "spec", "hard"), *used = gp(q, "status", "used");
  const char *keys[256];
  size_t n = 0;
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)hard, k, v) if (n < 256) keys[n++] = k;
  qsort(keys, n, sizeof keys[0], cmp_str);
  lh_buf req, lim;
  lh_buf_init(&req, 65536);
  lh_buf_init(&lim, 65536);
  for (size_t i = 0; i < n; i++) {
    lh_buf *w = !strncmp(keys[i], "limits.", 7) ? &lim : &req;
    const char *u = json_string_value(json_object_get(used, keys[i]));
    if (w->len) lh_buf_adds(w, ", ");
    lh_buf_addf(w, "%s: %s/%s", keys[i], u ? u : "0", gs(hard, keys[i]));
  }
  int e = add_s(cells, gs(json_object_get(q, "metadata"), "name"));
  e |= add_age(cells, q, now);
  e |= add_s(cells, req.len ? lh_buf_str(&req) : "");
  e |= add_s(cells, lim.len ? lh_buf_str(&lim) : "");
  lh_buf_free(&req);
  lh_buf_free(&lim);
  return e;
}

static int row_builtin(const lc_rtype *t, const json_t *o, json_t *cells, time_t now) {
  const char *name = gs(json_object_get(o, "metadata"), "name");
  const col *cols = builtin_cols(t);
  if (cols == c_pods) return row_pod(o, cells, now);
  if (cols == c_nodes) return row_node(o, cells, now);
  if (cols == c_services) return row_service(o, cells, now);
  if (cols == c_events) return row_event(o, cells, now);
  if (cols == c_quotas) return row_quota(o, cells, now);
  int e = add_s(cells, name);
  if (cols == c_namespaces) {
    e |= add_s(cells, gs(json_object_get(o, "status"), "phase"));
  } else if (cols == c_configmaps) {
    e |= add_i(cells, (long long)(json_object_size(json_object_get(o, "data")) +
                                  json_object_size(json_object_get(o, "binaryData"))));
  } else if (cols == c_secrets) {
    e |= add_s(cells, gs(o, "type"));
    e |= add_i(cells, (long long)json_object_size(json_object_get(o, "data")));
  } else if (cols == c_serviceaccounts) {
    e |= add_i(cells, (long long)json_array_size(json_object_get(o, "secrets")));
  } else if (cols == c_leases) {
    e |= add_s(cells, orn(gs(json_object_get(o, "spec"), "holderIdentity")));
  } else { /* default: Created At, RFC 3339 */
    e |= add_s(cells, json_string_value(gp(o, "metadata", "creationTimestamp")));
    return e;
  }
  e |= add_age(cells, o, now);
  return e;
}

/* A JSON value printed as text (jsonpath's PrintResults): strings raw, the rest as JSON. */
static json_t *text_of(const json_t *v) {
  if (json_is_string(v)) return json_string(json_string_value(v));
  char *d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
  if (!d) return NULL;
  json_t *r = json_string(d);
  free(d);
  return r;
}

/* cellForJSONValue of the apiextensions table convertor. */
static json_t *typed_cell(const char *type, const json_t *v, time_t now) {
  if (!strcmp(type, "integer")) {
    if (json_is_integer(v)) return json_integer(json_integer_value(v));
    if (json_is_real(v)) return json_integer((json_int_t)json_real_value(v));
  } else if (!strcmp(type, "number")) {
    if (json_is_number(v)) return json_real(json_number_value(v));
  } else if (!strcmp(type, "boolean")) {
    if (json_is_boolean(v)) return json_boolean(json_is_true(v));
  } else if (!strcmp(type, "date")) {
    if (json_is_string(v)) {
      char a[32];
      time_t t = lc_parse_rfc3339(json_string_value(v));
      if (t == (time_t)-1) snprintf(a, sizeof a, "<invalid>");
      else lc_human_duration((long long)(now - t), a, sizeof a);
      return json_string(a);
    }
  }
  return json_null();
}

static int row_cr(const lc_rtype *t, const json_t *o, json_t *cells, time_t now) {
  int e = add_s(cells, gs(json_object_get(o, "metadata"), "name"));
  if (json_array_size(t->columns) == 0) return e | add_age(cells, o, now);
  size_t i;
  const json_t *c;
  json_array_foreach(t->columns, i, c) {
    const json_t *v = lc_jsonpath_first(o, json_string_value(json_object_get(c, "jsonPath")));
    const char *type = json_string_value(json_object_get(c, "type"));
    json_t *cell;
    if (!v || json_is_null(v)) cell = json_null();
    else if (!type || !strcmp(type, "string")) cell = text_of(v);
    else cell = typed_cell(type, v, now);
    e |= json_array_append_new(cells, cell ? cell : json_null());
  }
  return e;
}

/* ---- assembly -------------------------------------------------------------------------------- */

json_t *lc_table_row(const lc_rtype *t, const json_t *obj, int include, time_t now) {
  json_t *cells = json_array();
  json_t *row = json_object();
  if (!cells || !row || json_object_set_new(row, "cells", cells)) {
    json_decref(cells);
    json_decref(row);
    return NULL;
  }
  int e = t->is_cr ? row_cr(t, obj, cells, now) : row_builtin(t, obj, cells, now);
  if (!t->is_cr && !t->group[0] && !strcmp(t->plural, "pods")) {
    const char *ph = gs(json_object_get(obj, "status"), "phase");
    if (!strcmp(ph, "Succeeded") || !strcmp(ph, "Failed"))
      e |= json_object_set_new(row, "conditions",
                               json_pack("[{s:s,s:s,s:s,s:s}]", "type", "Completed", "status", "True", "reason", ph,
                                         "message", !strcmp(ph, "Succeeded") ? "The pod has completed successfully."
                                                                             : "The pod failed."));
  }
  if (include == LC_INCLUDE_OBJECT) {
    e |= json_object_set(row, "object", (json_t *)obj);
  } else if (include == LC_INCLUDE_METADATA) {
    json_t *md = json_object_get(obj, "metadata");
    e |= json_object_set_new(row, "object",
                             json_pack("{s:s,s:s,s:o}", "kind", "PartialObjectMetadata", "apiVersion", "meta.k8s.io/v1",
                                       "metadata", md ? json_incref(md) : json_object()));
  } else {
    e |= json_object_set_new(row, "object", json_null());
  }
  if (e) {
    json_decref(row);
    return NULL;
  }
  return row;
}

json_t *lc_table_new(const lc_rtype *t, int version, int with_columns) {
  json_t *tb = json_pack("{s:s,s:s,s:{}}", "kind", "Table", "apiVersion",
                         version == 2 ? "meta.k8s.io/v1beta1" : "meta.k8s.io/v1", "metadata");
  if (!tb) return NULL;
  json_t *cols = with_columns ? lc_table_columns(t) : json_null();
  if (!cols || json_object_set_new(tb, "columnDefinitions", cols) || json_object_set_new(tb, "rows", json_array())) {
    json_decref(tb);
    return NULL;
  }
  return tb;
}
