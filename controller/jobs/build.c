/* build.c — JSON builders for the objects a Volcano Job owns (see build.h). Sections: names and
 * owner reference, pods (template copy, labels/annotations, volumes, plugins), resources and the
 * PodGroup, svc plugin objects, ssh plugin objects. */
#include "jobs/build.h"

#include "kube/pod.h"
#include "util/buf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JOB_API_VERSION "batch.volcano.sh/v1alpha1"

/* --- names and owner reference -------------------------------------------------------------- */
int lh_job_pod_name(char *buf, size_t len, const char *job, const char *task, int index) {
  int n = snprintf(buf, len, "%s-%s-%d", job, task, index);
  return n < 0 || (size_t)n >= len ? -1 : 0;
}

int lh_job_podgroup_name(char *buf, size_t len, const lh_job_spec *s) {
  int n = s->uid && *s->uid ? snprintf(buf, len, "%s-%s", s->name, s->uid)
                            : snprintf(buf, len, "%s", s->name);
  return n < 0 || (size_t)n >= len ? -1 : 0;
}

json_t *lh_job_owner_ref(const lh_job_spec *s) {
  return json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "apiVersion", JOB_API_VERSION, "kind", "Job",
                   "name", s->name, "uid", s->uid ? s->uid : "", "controller", 1,
                   "blockOwnerDeletion", 1);
}

/* metadata {name, namespace, ownerReferences:[job]} as a new object, or NULL. */
static json_t *owned_meta(const lh_job_spec *s, const char *name) {
  json_t *ref = lh_job_owner_ref(s);
  if (!ref) return NULL;
  return json_pack("{s:s, s:s, s:[o]}", "name", name, "namespace", s->ns, "ownerReferences", ref);
}

/* Returns obj[k] as an array, creating it (or replacing a non-array) when needed. */
static json_t *arr_child(json_t *obj, const char *k) {
  json_t *c = json_object_get(obj, k);
  if (json_is_array(c)) return c;
  c = json_array();
  if (!c || json_object_set_new(obj, k, c)) return NULL;
  return c;
}

/* "VC_<TASK>_HOSTS"-style names: upper case, '-' and '.' become '_'. */
static void env_name(char *buf, size_t len, const char *fmt_pre, const char *task,
                     const char *suffix) {
  size_t o = 0;
  for (const char *p = fmt_pre; *p && o + 1 < len; p++) buf[o++] = *p;
  for (const char *p = task; *p && o + 1 < len; p++)
    buf[o++] = (*p == '-' || *p == '.') ? '_' : (char)toupper((unsigned char)*p);
  for (const char *p = suffix; *p && o + 1 < len; p++) buf[o++] = *p;
  buf[o] = 0;
}

/* --- pods ----------------------------------------------------------------------------------- */
/* Appends env entries to every container and init container of spec. Returns 0 or -1. */
static int add_env_all(json_t *spec, json_t *(*make)(void *ud), void *ud) {
  static const char *const kinds[] = {"containers", "initContainers"};
  for (int k = 0; k < 2; k++) {
    json_t *cs = json_object_get(spec, kinds[k]);
    size_t i;
    json_t *c;
    json_array_foreach(cs, i, c) {
      if (!json_is_object(c)) continue;
      json_t *env = arr_child(c, "env");
      json_t *add = make(ud);
      if (!env || !add) {
        json_decref(add);
        return -1;
      }
      if (json_array_extend(env, add)) {
        json_decref(add);
        return -1;
      }
      json_decref(add);
    }
  }
  return 0;
}

/* Appends a volume mount to every container and init container. */
static int add_mount_all(json_t *spec, json_t *mount) {
  static const char *const kinds[] = {"containers", "initContainers"};
  int rc = 0;
  for (int k = 0; k < 2 && !rc; k++) {
    json_t *cs = json_object_get(spec, kinds[k]);
    size_t i;
    json_t *c;
    json_array_foreach(cs, i, c) {
      if (!json_is_object(c)) continue;
      json_t *vm = arr_child(c, "volumeMounts");
      if (!vm || json_array_append(vm, mount)) {
        rc = -1;
        break;
      }
    }
  }
  json_decref(mount);
  return rc;
}

static int add_volume(json_t *spec, json_t *vol) {
  json_t *vols = vol ? arr_child(spec, "volumes") : NULL;
  if (!vols) {
    json_decref(vol);
    return -1;
  }
  return json_array_append_new(vols, vol);
}

typedef struct env_ctx {
  const lh_job_spec *s;
  const char *index;
  const char *cm;
} env_ctx;

static json_t *env_plugin_vars(void *ud) {
  const env_ctx *e = ud;
  return json_pack("[{s:s, s:s}, {s:s, s:s}]", "name", "VK_TASK_INDEX", "value", e->index, "name",
                   "VC_TASK_INDEX", "value", e->index);
}

static json_t *svc_plugin_vars(void *ud) {
  const env_ctx *e = ud;
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < e->s->ntasks; i++) {
    char hosts[300], num[300];
    env_name(hosts, sizeof hosts, "VC_", e->s->tasks[i].name, "_HOSTS");
    env_name(num, sizeof num, "VC_", e->s->tasks[i].name, "_NUM");
    const char *names[2] = {hosts, num};
    for (int j = 0; j < 2; j++) {
      json_t *v = json_pack("{s:s, s:{s:{s:s, s:s}}}", "name", names[j], "valueFrom",
                            "configMapKeyRef", "name", e->cm, "key", names[j]);
      if (!v || json_array_append_new(arr, v)) {
        json_decref(arr);
        return NULL;
      }
    }
  }
  return arr;
}

/* Volcano's createJobPod annotations/labels copied from the job. */
static int copy_job_keys(const json_t *job, json_t *ann, json_t *lab) {
  static const char *const akeys[] = {"volcano.sh/preemptable", "volcano.sh/revocable-zone",
                                      "volcano.sh/jdb-min-available",
                                      "volcano.sh/jdb-max-unavailable"};
  const json_t *jann = json_object_get(json_object_get(job, "metadata"), "annotations");
  const json_t *jlab = json_object_get(json_object_get(job, "metadata"), "labels");
  for (size_t i = 0; i < sizeof akeys / sizeof *akeys; i++) {
    const json_t *v = json_object_get(jann, akeys[i]);
    if (json_is_string(v) && json_object_set(ann, akeys[i], (json_t *)v)) return -1;
  }
  const json_t *v = json_object_get(jlab, "volcano.sh/preemptable");
  if (json_is_string(v) && json_object_set(lab, "volcano.sh/preemptable", (json_t *)v)) return -1;
  return 0;
}

/* The spec.volumes of the job: each distinct volumeClaimName becomes a PVC volume mounted at its
 * mountPath in every container. Volumes without a claim name (Volcano would create the claim)
 * are skipped here; the controller reports them. Volume names are deterministic
 * ("<job>-volume-<i>") where Volcano uses random suffixes. */
static int add_job_volumes(json_t *spec, const lh_job_spec *s) {
  size_t i;
  json_t *v;
  json_array_foreach((json_t *)s->volumes, i, v) {
    const char *claim = json_string_value(json_object_get(v, "volumeClaimName"));
    const char *path = json_string_value(json_object_get(v, "mountPath"));
    if (!claim || !*claim || !path) continue;
    char name[300];
    snprintf(name, sizeof name, "%s-volume-%zu", s->name, i);
    if (add_volume(spec, json_pack("{s:s, s:{s:s}}", "name", name, "persistentVolumeClaim",
                                   "claimName", claim)))
      return -1;
    json_t *m = json_pack("{s:s, s:s}", "mountPath", path, "name", name);
    if (!m || add_mount_all(spec, m)) return -1;
  }
  return 0;
}

static int plugin_svc(json_t *spec, const lh_job_spec *s, const char *pod_name,
                      const char *index) {
  if (!json_is_string(json_object_get(spec, "hostname")) ||
      !*json_string_value(json_object_get(spec, "hostname")))
    if (json_object_set_new(spec, "hostname", json_string(pod_name))) return -1;
  if (!json_is_string(json_object_get(spec, "subdomain")) ||
      !*json_string_value(json_object_get(spec, "subdomain")))
    if (json_object_set_new(spec, "subdomain", json_string(s->name))) return -1;
  char cm[300];
  snprintf(cm, sizeof cm, "%s-svc", s->name);
  env_ctx e = {s, index, cm};
  if (add_env_all(spec, svc_plugin_vars, &e)) return -1;
  if (add_volume(spec, json_pack("{s:s, s:{s:s}}", "name", cm, "configMap", "name", cm)))
    return -1;
  return add_mount_all(spec, json_pack("{s:s, s:s}", "mountPath", "/etc/volcano", "name", cm));
}

static int plugin_ssh(json_t *spec, const lh_job_spec *s) {
  char sec[300];
  snprintf(sec, sizeof sec, "%s-ssh", s->name);
  json_t *vol = json_pack(
      "{s:s, s:{s:s, s:i, s:[{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s}]}}", "name", sec, "secret",
      "secretName", sec, "defaultMode", 0600, "items", "key", "id_rsa", "path", ".ssh/id_rsa",
      "key", "id_rsa.pub", "path", ".ssh/id_rsa.pub", "key", "authorized_keys", "path",
      ".ssh/authorized_keys", "key", "config", "path", ".ssh/config");
  if (add_volume(spec, vol)) return -1;
  return add_mount_all(spec, json_pack("{s:s, s:s, s:s}", "mountPath", s->ssh_key_path, "subPath",
                                       ".ssh", "name", sec));
}

json_t *lh_job_build_pod(const json_t *job, const lh_job_spec *s, size_t task, int index,
                         int version) {
  if (task >= s->ntasks || index < 0) return NULL;
  const lh_job_task *t = &s->tasks[task];
  char name[512], idx[16], ver[16], pg[512], tmpl_key[600];
  if (lh_job_pod_name(name, sizeof name, s->name, t->name, index) ||
      lh_job_podgroup_name(pg, sizeof pg, s))
    return NULL;
  snprintf(idx, sizeof idx, "%d", index);
  snprintf(ver, sizeof ver, "%d", version);
  snprintf(tmpl_key, sizeof tmpl_key, "%s-%s", s->name, t->name);

  json_t *tmd = json_object_get(t->tmpl, "metadata");
  json_t *spec = json_deep_copy(json_object_get(t->tmpl, "spec"));
  if (!spec) spec = json_object();
  json_t *labels = json_deep_copy(json_object_get(tmd, "labels"));
  json_t *ann = json_deep_copy(json_object_get(tmd, "annotations"));
  if (!json_is_object(labels)) {
    json_decref(labels);
    labels = json_object();
  }
  if (!json_is_object(ann)) {
    json_decref(ann);
    ann = json_object();
  }
  json_t *md = owned_meta(s, name);
  json_t *pod = json_pack("{s:s, s:s}", "apiVersion", "v1", "kind", "Pod");
  int bad = !spec || !labels || !ann || !md || !pod;
  if (!bad) {
    bad |= json_object_set_new(md, "labels", labels);
    bad |= json_object_set_new(md, "annotations", ann);
    labels = ann = NULL; /* owned by md now */
    json_t *a = json_object_get(md, "annotations"), *l = json_object_get(md, "labels");
    bad |= json_object_set_new(a, LH_JOB_KEY_TASK_INDEX, json_string(idx));
    bad |= json_object_set_new(a, LH_JOB_KEY_TASK_SPEC, json_string(t->name));
    bad |= json_object_set_new(a, LH_JOB_KEY_GROUP, json_string(pg));
    bad |= json_object_set_new(a, LH_JOB_KEY_JOB_NAME, json_string(s->name));
    bad |= json_object_set_new(a, LH_JOB_KEY_QUEUE, json_string(s->queue));
    bad |= json_object_set_new(a, LH_JOB_KEY_VERSION, json_string(ver));
    bad |= json_object_set_new(a, LH_JOB_KEY_TEMPLATE, json_string(tmpl_key));
    bad |= json_object_set_new(l, LH_JOB_KEY_TASK_INDEX, json_string(idx));
    bad |= json_object_set_new(l, LH_JOB_KEY_JOB_NAME, json_string(s->name));
    bad |= json_object_set_new(l, LH_JOB_KEY_TASK_SPEC, json_string(t->name));
    bad |= json_object_set_new(l, LH_JOB_KEY_JOB_NS, json_string(s->ns));
    bad |= json_object_set_new(l, LH_JOB_KEY_QUEUE, json_string(s->queue));
    bad |= copy_job_keys(job, a, l);
    /* The template's schedulerName wins; else the job's. */
    const char *ps = json_string_value(json_object_get(spec, "schedulerName"));
    if (!ps || !*ps) bad |= json_object_set_new(spec, "schedulerName", json_string(s->scheduler));
    if (s->priority_class && !json_object_get(spec, "priorityClassName"))
      bad |= json_object_set_new(spec, "priorityClassName", json_string(s->priority_class));
    if (!bad && s->volumes) bad |= add_job_volumes(spec, s);
    env_ctx e = {s, idx, NULL};
    if (!bad && (s->plugins & LH_JOB_PLUGIN_ENV)) bad |= add_env_all(spec, env_plugin_vars, &e);
    if (!bad && (s->plugins & LH_JOB_PLUGIN_SVC)) bad |= plugin_svc(spec, s, name, idx);
    if (!bad && (s->plugins & LH_JOB_PLUGIN_SSH)) bad |= plugin_ssh(spec, s);
    bad |= json_object_set_new(pod, "metadata", md);
    md = NULL;
    bad |= json_object_set_new(pod, "spec", spec);
    spec = NULL;
  }
  json_decref(labels);
  json_decref(ann);
  json_decref(md);
  json_decref(spec);
  if (bad) {
    json_decref(pod);
    return NULL;
  }
  return pod;
}

/* --- resources and the PodGroup ------------------------------------------------------------- */
#define MAX_RES 32
typedef struct res_list {
  char name[MAX_RES][128];
  int64_t milli[MAX_RES];
  int n;
} res_list;

static int64_t *res_slot(res_list *r, const char *name) {
  for (int i = 0; i < r->n; i++)
    if (!strcmp(r->name[i], name)) return &r->milli[i];
  if (r->n == MAX_RES || strlen(name) >= sizeof r->name[0]) return NULL;
  snprintf(r->name[r->n], sizeof r->name[0], "%s", name);
  r->milli[r->n] = 0;
  return &r->milli[r->n++];
}

/* Adds (or maxes, when take_max) a ResourceList object into r; unparsable quantities skipped. */
static void res_add(res_list *r, const json_t *rl, int take_max) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)rl, k, v) {
    int64_t q;
    const char *qs = json_string_value(v);
    char nb[32];
    if (json_is_integer(v)) {
      snprintf(nb, sizeof nb, "%lld", (long long)json_integer_value(v));
      qs = nb;
    }
    if (!qs || lh_kube_quantity_parse(qs, 1, &q)) continue;
    int64_t *slot = res_slot(r, k);
    if (!slot) continue;
    if (take_max) {
      if (q > *slot) *slot = q;
    } else if (*slot <= INT64_MAX - q) {
      *slot += q;
    }
  }
}

/* One pod's effective request, as the scheduler counts it. */
static void pod_requests(const json_t *pspec, res_list *out) {
  memset(out, 0, sizeof *out);
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(pspec, "containers"), i, c)
      res_add(out, json_object_get(json_object_get(c, "resources"), "requests"), 0);
  json_array_foreach(json_object_get(pspec, "initContainers"), i, c)
      res_add(out, json_object_get(json_object_get(c, "resources"), "requests"), 1);
  res_add(out, json_object_get(pspec, "overhead"), 0);
}

json_t *lh_job_min_resources(const lh_job_spec *s) {
  res_list total;
  memset(&total, 0, sizeof total);
  int count = 0;
  for (size_t t = 0; t < s->ntasks && count < s->min_available; t++) {
    res_list one;
    pod_requests(json_object_get(s->tasks[t].tmpl, "spec"), &one);
    for (int i = 0; i < s->tasks[t].replicas && count < s->min_available; i++, count++)
      for (int j = 0; j < one.n; j++) {
        int64_t *slot = res_slot(&total, one.name[j]);
        if (slot && *slot <= INT64_MAX - one.milli[j]) *slot += one.milli[j];
      }
  }
  json_t *o = json_object();
  for (int i = 0; o && i < total.n; i++) {
    char q[40];
    if (total.milli[i] % 1000 == 0)
      snprintf(q, sizeof q, "%lld", (long long)(total.milli[i] / 1000));
    else
      snprintf(q, sizeof q, "%lldm", (long long)total.milli[i]);
    if (json_object_set_new(o, total.name[i], json_string(q))) {
      json_decref(o);
      return NULL;
    }
  }
  return o;
}

json_t *lh_job_build_podgroup(const json_t *job, const lh_job_spec *s) {
  char pg[512];
  if (lh_job_podgroup_name(pg, sizeof pg, s)) return NULL;
  json_t *md = owned_meta(s, pg);
  json_t *mtm = json_object();
  json_t *minres = lh_job_min_resources(s);
  json_t *spec = json_pack("{s:i, s:s}", "minMember", s->min_available, "queue", s->queue);
  int bad = !md || !mtm || !minres || !spec;
  for (size_t i = 0; !bad && i < s->ntasks; i++)
    bad |= json_object_set_new(mtm, s->tasks[i].name, json_integer(s->tasks[i].min_available));
  if (!bad) {
    const json_t *jmd = json_object_get(job, "metadata");
    const json_t *jl = json_object_get(jmd, "labels"), *ja = json_object_get(jmd, "annotations");
    if (json_is_object(jl)) bad |= json_object_set_new(md, "labels", json_deep_copy(jl));
    if (json_is_object(ja)) bad |= json_object_set_new(md, "annotations", json_deep_copy(ja));
    bad |= json_object_set(spec, "minTaskMember", mtm);
    bad |= json_object_set(spec, "minResources", minres);
    if (s->priority_class)
      bad |= json_object_set_new(spec, "priorityClassName", json_string(s->priority_class));
  }
  json_decref(mtm);
  json_decref(minres);
  if (bad) {
    json_decref(md);
    json_decref(spec);
    return NULL;
  }
  return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "scheduling.volcano.sh/v1beta1", "kind",
                   "PodGroup", "metadata", md, "spec", spec);
}

/* --- svc plugin ----------------------------------------------------------------------------- */
json_t *lh_job_build_service(const lh_job_spec *s) {
  json_t *md = owned_meta(s, s->name);
  if (!md) return NULL;
  return json_pack("{s:s, s:s, s:o, s:{s:s, s:{s:s, s:s}, s:b, s:[{s:s, s:i, s:s, s:i}]}}",
                   "apiVersion", "v1", "kind", "Service", "metadata", md, "spec", "clusterIP",
                   "None", "selector", LH_JOB_KEY_JOB_NAME, s->name, LH_JOB_KEY_JOB_NS, s->ns,
                   "publishNotReadyAddresses", s->svc_publish_not_ready, "ports", "name",
                   "placeholder-volcano", "port", 1, "protocol", "TCP", "targetPort", 1);
}

/* The hosts of task t: "<hostname>.<subdomain>" per pod with Volcano's defaults (pod name, job
 * name). A task whose template fixes the hostname has one host only (all its pods share it). */
json_t *lh_job_svc_data(const lh_job_spec *s) {
  json_t *data = json_object();
  lh_buf nl, cm;
  lh_buf_init(&nl, 64u << 20);
  lh_buf_init(&cm, 64u << 20);
  for (size_t ti = 0; data && ti < s->ntasks; ti++) {
    const lh_job_task *t = &s->tasks[ti];
    lh_buf_reset(&nl);
    lh_buf_reset(&cm);
    int hosts = 0, bad = 0;
    for (int i = 0; i < t->replicas && !bad; i++) {
      char pod[512];
      if (lh_job_pod_name(pod, sizeof pod, s->name, t->name, i)) break;
      const char *h = t->hostname ? t->hostname : pod;
      const char *d = t->subdomain ? t->subdomain : s->name;
      bad |= lh_buf_addf(&nl, "%s%s.%s", hosts ? "\n" : "", h, d) != 0;
      bad |= lh_buf_addf(&cm, "%s%s.%s", hosts ? "," : "", h, d) != 0;
      hosts++;
      if (t->hostname) break;
    }
    char k1[300], k2[300], k3[300], num[16];
    snprintf(k1, sizeof k1, "%s.host", t->name);
    env_name(k2, sizeof k2, "VC_", t->name, "_HOSTS");
    env_name(k3, sizeof k3, "VC_", t->name, "_NUM");
    snprintf(num, sizeof num, "%d", hosts);
    if (bad || json_object_set_new(data, k1, json_string(lh_buf_str(&nl))) ||
        json_object_set_new(data, k2, json_string(lh_buf_str(&cm))) ||
        json_object_set_new(data, k3, json_string(num))) {
      json_decref(data);
      data = NULL;
    }
  }
  lh_buf_free(&nl);
  lh_buf_free(&cm);
  return data;
}

json_t *lh_job_build_svc_configmap(const lh_job_spec *s) {
  char cm[300];
  snprintf(cm, sizeof cm, "%s-svc", s->name);
  json_t *md = owned_meta(s, cm);
  json_t *data = lh_job_svc_data(s);
  if (!md || !data) {
    json_decref(md);
    json_decref(data);
    return NULL;
  }
  return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "v1", "kind", "ConfigMap", "metadata", md,
                   "data", data);
}

/* --- ssh plugin ----------------------------------------------------------------------------- */
char *lh_job_ssh_config(const lh_job_spec *s) {
  lh_buf b;
  lh_buf_init(&b, 64u << 20);
  int bad = lh_buf_adds(&b, "StrictHostKeyChecking no\nUserKnownHostsFile /dev/null\n") != 0;
  for (size_t ti = 0; ti < s->ntasks && !bad; ti++) {
    const lh_job_task *t = &s->tasks[ti];
    for (int i = 0; i < t->replicas && !bad; i++) {
      char pod[512];
      if (lh_job_pod_name(pod, sizeof pod, s->name, t->name, i)) break;
      const char *h = t->hostname ? t->hostname : pod;
      const char *d = t->subdomain ? t->subdomain : s->name;
      bad |= lh_buf_addf(&b, "Host %s\n  HostName %s.%s\n", h, h, d) != 0;
      if (t->hostname) break;
    }
  }
  if (bad) {
    lh_buf_free(&b);
    return NULL;
  }
  return lh_buf_take(&b);
}

/* Secret data values are base64. */
static char *b64(const char *s) {
  static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t n = strlen(s), o = 0;
  char *out = malloc(4 * ((n + 2) / 3) + 1);
  if (!out) return NULL;
  const unsigned char *p = (const unsigned char *)s;
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
                 (i + 2 < n ? p[i + 2] : 0);
    out[o++] = tab[(v >> 18) & 63];
    out[o++] = tab[(v >> 12) & 63];
    out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < n ? tab[v & 63] : '=';
  }
  out[o] = 0;
  return out;
}

json_t *lh_job_build_ssh_secret(const lh_job_spec *s, const char *priv_pem,
                                const char *pub_line) {
  char name[300];
  snprintf(name, sizeof name, "%s-ssh", s->name);
  char *conf = lh_job_ssh_config(s);
  char *a = b64(priv_pem), *b = b64(pub_line), *c = conf ? b64(conf) : NULL;
  json_t *md = owned_meta(s, name);
  json_t *out = NULL;
  if (a && b && c && md) {
    out = json_pack("{s:s, s:s, s:o, s:s, s:{s:s, s:s, s:s, s:s}}", "apiVersion", "v1", "kind",
                    "Secret", "metadata", md, "type", "Opaque", "data", "id_rsa", a, "id_rsa.pub",
                    b, "authorized_keys", b, "config", c);
    md = NULL;
  }
  json_decref(md);
  free(a);
  free(b);
  free(c);
  free(conf);
  return out;
}
