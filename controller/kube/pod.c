/* pod.c — string interning, Quantity parsing and the compact pod transform (pod.h). */
#include "kube/pod.h"
#include "kube/pod_int.h"
#include "kube/kmap.h"
#include "kube/kube.h"

#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* --- interning ---------------------------------------------------------------------------- */

struct lh_intern {
  lh_kmap map;      /* string -> (uintptr_t) references; the node key is the pooled string */
  size_t pod_bytes; /* bytes of live compact pods built with this pool */
};

lh_intern *lh_intern_new(void) {
  lh_intern *in = calloc(1, sizeof(*in));
  if (in) lh_kmap_init(&in->map);
  return in;
}

void lh_intern_free(lh_intern *in) {
  if (!in) return;
  lh_kmap_free(&in->map);
  free(in);
}

const char *lh_intern_get(lh_intern *in, const char *s, size_t len) {
  lh_kmap_node *n = lh_kmap_upsert(&in->map, s, len, NULL);
  if (!n) return NULL;
  n->value = (void *)((uintptr_t)n->value + 1);
  return n->key;
}

void lh_intern_put(lh_intern *in, const char *s) {
  if (!s) return;
  /* s is the node's own key: hashing it finds that node */
  lh_kmap_node *n = lh_kmap_find(&in->map, s);
  if (!n) return;
  uintptr_t r = (uintptr_t)n->value - 1;
  if (r == 0) lh_kmap_del(&in->map, s);
  else n->value = (void *)r;
}

size_t lh_intern_count(const lh_intern *in) { return in->map.count; }
size_t lh_intern_bytes(const lh_intern *in) { return lh_kmap_bytes(&in->map) + in->pod_bytes; }
size_t lh_pod_cache_bytes(const lh_intern *in) { return lh_intern_bytes(in); }
void lh_pod__account(lh_intern *in, long delta) { in->pod_bytes += (size_t)delta; }

/* --- quantities ----------------------------------------------------------------------------- */

int lh_kube_quantity_parse(const char *s, int scale_milli, int64_t *out) {
  *out = 0;
  if (!s || !*s) return LH_EKUBE_PARSE;
  char *end;
  long double v = strtold(s, &end);
  if (end == s || v < 0 || *s == ' ') return LH_EKUBE_PARSE;
  for (const char *p = s; p < end; p++) /* reject hex, inf, nan that strtold accepts */
    if (!((*p >= '0' && *p <= '9') || *p == '.' || *p == '+' || *p == '-' || *p == 'e' || *p == 'E'))
      return LH_EKUBE_PARSE;
  static const struct { const char *sfx; long double mul; } tab[] = {
      {"Ki", 1024.0L}, {"Mi", 1048576.0L}, {"Gi", 1073741824.0L}, {"Ti", 1099511627776.0L},
      {"Pi", 1125899906842624.0L}, {"Ei", 1152921504606846976.0L}, {"n", 1e-9L}, {"u", 1e-6L},
      {"m", 1e-3L}, {"k", 1e3L}, {"M", 1e6L}, {"G", 1e9L}, {"T", 1e12L}, {"P", 1e15L},
      {"E", 1e18L}, {"", 1.0L}};
  long double mul = -1;
  for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
    if (strcmp(end, tab[i].sfx) == 0) {
      mul = tab[i].mul;
      break;
    }
  if (mul < 0) return LH_EKUBE_PARSE;
  long double r = v * mul * (scale_milli ? 1000.0L : 1.0L);
  r = ceill(r - 1e-9L); /* Kubernetes rounds up; tolerate binary fraction noise */
  if (r < 0) r = 0;
  if (r > 9.2e18L) return LH_EKUBE_PARSE;
  *out = (int64_t)r;
  return 0;
}

/* --- compact pod ---------------------------------------------------------------------------- */

static const char *jstr(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

int lh_pod__keep_annotation(const char *k) {
  return strcmp(k, "scheduling.k8s.io/group-name") == 0 || strncmp(k, "volcano.sh/", 11) == 0 ||
         strcmp(k, "scheduling.volcano.sh/queue-name") == 0;
}

int64_t lh_pod__parse_time(const char *s) {
  if (!s) return 0;
  struct tm tm;
  memset(&tm, 0, sizeof(tm));
  const char *e = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
  if (!e) return 0;
  return (int64_t)timegm(&tm);
}

/* Sums requests of the containers in arr into (cpu, mem, gpu); with max=1 takes the max. */
static void add_requests(const json_t *arr, int64_t acc[3], int max) {
  size_t i;
  json_t *c;
  json_array_foreach(arr, i, c) {
    json_t *req = json_object_get(json_object_get(c, "resources"), "requests");
    int64_t v[3] = {0, 0, 0};
    lh_kube_quantity_parse(jstr(req, "cpu"), 1, &v[0]);
    lh_kube_quantity_parse(jstr(req, "memory"), 0, &v[1]);
    lh_kube_quantity_parse(jstr(req, "nvidia.com/gpu"), 0, &v[2]);
    for (int k = 0; k < 3; k++) acc[k] = max ? (v[k] > acc[k] ? v[k] : acc[k]) : acc[k] + v[k];
  }
}

static char *pack(char **cur, const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  char *d = *cur;
  memcpy(d, s, n);
  *cur += n;
  return d;
}

#define ALIGN8(x) (((x) + 7u) & ~(size_t)7u)

lh_pod *lh_pod__alloc(size_t nl, size_t na, size_t ns_n, size_t nt, size_t strbytes, char **strings) {
  size_t sz = ALIGN8(sizeof(lh_pod)) + (nl + na + ns_n) * sizeof(lh_pod_kv) + nt * sizeof(lh_pod_toleration);
  lh_pod *p = calloc(1, sz + strbytes);
  if (!p) return NULL;
  char *cur = (char *)p + ALIGN8(sizeof(lh_pod));
  p->labels = (lh_pod_kv *)cur;
  cur += nl * sizeof(lh_pod_kv);
  p->annotations = (lh_pod_kv *)cur;
  cur += na * sizeof(lh_pod_kv);
  p->node_selector = (lh_pod_kv *)cur;
  cur += ns_n * sizeof(lh_pod_kv);
  p->tolerations = (lh_pod_toleration *)cur;
  cur += nt * sizeof(lh_pod_toleration);
  *strings = cur;
  return p;
}

void *lh_pod_transform(const json_t *pod, void *ud) {
  lh_intern *in = ud;
  const json_t *meta = json_object_get(pod, "metadata");
  const json_t *spec = json_object_get(pod, "spec");
  const char *name = jstr(meta, "name");
  const char *ns = jstr(meta, "namespace");
  if (!name || !ns || !json_is_object(spec)) return NULL;
  const char *uid = jstr(meta, "uid");
  json_t *labels = json_object_get(meta, "labels");
  json_t *annos = json_object_get(meta, "annotations");
  json_t *nsel = json_object_get(spec, "nodeSelector");
  json_t *tols = json_object_get(spec, "tolerations");
  size_t nl = json_is_object(labels) ? json_object_size(labels) : 0;
  size_t ns_n = json_is_object(nsel) ? json_object_size(nsel) : 0;
  size_t nt = json_is_array(tols) ? json_array_size(tols) : 0;
  size_t na = 0;
  const char *k;
  json_t *v;
  json_object_foreach(annos, k, v) if (lh_pod__keep_annotation(k) && json_is_string(v)) na++;
  /* the compact pod stores these counts in 16 bits: refuse rather than wrap */
  if (nl > 65535 || ns_n > 65535 || nt > 65535 || na > 65535) return NULL;
  /* owner: the first ownerReference of kind Job or PodGroup */
  const json_t *owner = NULL;
  size_t i;
  json_t *o;
  json_array_foreach(json_object_get(meta, "ownerReferences"), i, o) {
    const char *kind = jstr(o, "kind");
    if (kind && (strcmp(kind, "Job") == 0 || strcmp(kind, "PodGroup") == 0)) {
      owner = o;
      break;
    }
  }
  const char *oname = owner ? jstr(owner, "name") : NULL;
  const char *ouid = owner ? jstr(owner, "uid") : NULL;
  size_t strbytes = strlen(name) + 1 + (uid ? strlen(uid) + 1 : 0) + (oname ? strlen(oname) + 1 : 0) +
                    (ouid ? strlen(ouid) + 1 : 0);
  char *cur;
  lh_pod *p = lh_pod__alloc(nl, na, ns_n, nt, strbytes, &cur);
  if (!p) return NULL;
  p->name = pack(&cur, name);
  p->uid = pack(&cur, uid);
  p->owner_name = pack(&cur, oname);
  p->owner_uid = pack(&cur, ouid);
  p->alloc = malloc_usable_size(p);
  in->pod_bytes += p->alloc;
  int bad = 0;
#define IN(s) ((s) ? (lh_intern_get(in, (s), strlen(s)) ?: (bad = 1, (const char *)NULL)) : NULL)
  p->ns = IN(ns);
  const char *rv = jstr(meta, "resourceVersion");
  p->rv = rv ? strtoull(rv, NULL, 10) : 0;
  p->scheduler = IN(jstr(spec, "schedulerName"));
  p->node = IN(jstr(spec, "nodeName"));
  json_object_foreach(labels, k, v) {
    if (!json_is_string(v)) continue;
    p->labels[p->nlabels].k = IN(k);
    p->labels[p->nlabels].v = IN(json_string_value(v));
    p->nlabels++;
  }
  json_object_foreach(annos, k, v) {
    if (!lh_pod__keep_annotation(k) || !json_is_string(v)) continue;
    p->annotations[p->nannotations].k = IN(k);
    p->annotations[p->nannotations].v = IN(json_string_value(v));
    if (strcmp(k, "scheduling.k8s.io/group-name") == 0) p->group = p->annotations[p->nannotations].v;
    p->nannotations++;
  }
  json_object_foreach(nsel, k, v) {
    if (!json_is_string(v)) continue;
    p->node_selector[p->nnode_selector].k = IN(k);
    p->node_selector[p->nnode_selector].v = IN(json_string_value(v));
    p->nnode_selector++;
  }
  json_array_foreach(tols, i, o) {
    lh_pod_toleration *t = &p->tolerations[p->ntolerations++];
    t->key = IN(jstr(o, "key"));
    t->op = IN(jstr(o, "operator"));
    t->value = IN(jstr(o, "value"));
    t->effect = IN(jstr(o, "effect"));
    json_t *secs = json_object_get(o, "tolerationSeconds");
    t->seconds = json_is_integer(secs) ? json_integer_value(secs) : -1;
  }
  p->owner_kind = owner ? IN(jstr(owner, "kind")) : NULL;
#undef IN
  const char *phase = jstr(json_object_get(pod, "status"), "phase");
  p->phase = !phase || strcmp(phase, "Pending") == 0 ? LH_POD_PENDING
             : strcmp(phase, "Running") == 0         ? LH_POD_RUNNING
             : strcmp(phase, "Succeeded") == 0       ? LH_POD_SUCCEEDED
             : strcmp(phase, "Failed") == 0          ? LH_POD_FAILED
                                                     : LH_POD_UNKNOWN;
  json_t *prio = json_object_get(spec, "priority");
  p->priority = json_is_integer(prio) ? (int32_t)json_integer_value(prio) : 0;
  int64_t sum[3] = {0, 0, 0}, init[3] = {0, 0, 0};
  add_requests(json_object_get(spec, "containers"), sum, 0);
  add_requests(json_object_get(spec, "initContainers"), init, 1);
  json_t *ovh = json_object_get(spec, "overhead");
  int64_t ov[3] = {0, 0, 0};
  lh_kube_quantity_parse(jstr(ovh, "cpu"), 1, &ov[0]);
  lh_kube_quantity_parse(jstr(ovh, "memory"), 0, &ov[1]);
  p->cpu_milli = (sum[0] > init[0] ? sum[0] : init[0]) + ov[0];
  p->mem_bytes = (sum[1] > init[1] ? sum[1] : init[1]) + ov[1];
  p->gpu = sum[2] > init[2] ? sum[2] : init[2];
  p->deletion_ts = lh_pod__parse_time(jstr(meta, "deletionTimestamp"));
  if (bad) {
    lh_pod_free(p, in);
    return NULL;
  }
  return p;
}

void lh_pod_free(void *obj, void *ud) {
  lh_pod *p = obj;
  lh_intern *in = ud;
  if (!p) return;
  lh_intern_put(in, p->ns);
  lh_intern_put(in, p->scheduler);
  lh_intern_put(in, p->node);
  for (size_t i = 0; i < p->nlabels; i++) lh_intern_put(in, p->labels[i].k), lh_intern_put(in, p->labels[i].v);
  for (size_t i = 0; i < p->nannotations; i++)
    lh_intern_put(in, p->annotations[i].k), lh_intern_put(in, p->annotations[i].v);
  for (size_t i = 0; i < p->nnode_selector; i++)
    lh_intern_put(in, p->node_selector[i].k), lh_intern_put(in, p->node_selector[i].v);
  for (size_t i = 0; i < p->ntolerations; i++) {
    lh_intern_put(in, p->tolerations[i].key);
    lh_intern_put(in, p->tolerations[i].op);
    lh_intern_put(in, p->tolerations[i].value);
    lh_intern_put(in, p->tolerations[i].effect);
  }
  lh_intern_put(in, p->owner_kind);
  in->pod_bytes -= p->alloc;
  free(p);
}
