/* pod_bytes.c — the compact pod transform straight from JSON text (lh_pod_transform_bytes).
 *
 * Why: building a jansson tree of a 40 KB pod to keep a few dozen fields cost ~38 µs per pod
 * (5.4 s for a 140,000-pod list). Here the validated text is navigated in place (util/jscan.h)
 * and only the kept strings are copied or interned.
 * Equivalence: this file mirrors lh_pod_transform in pod.c step by step (same counts, same
 * order of interning, same block layout) so that both give identical pods; test_kube_pod
 * compares them field by field. Where jansson's semantics would need more than a linear scan
 * (duplicate keys: jansson keeps the first position with the last value) the byte path gives
 * up and says "fallback"; the caller then uses jansson for that one object. */
#include "kube/pod.h"
#include "kube/pod_int.h"
#include "util/jscan.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#define MAXMAP 64     /* map entries checked for duplicates by the byte path */
#define MAXSTR 4096   /* decoded bytes of an escaped kept string */

typedef struct bctx {
  lh_intern *in;
  int fallback; /* leave this pod to jansson */
  int bad;      /* an intern allocation failed */
} bctx;

/* One pass over o for the names in keys (out as lh_js_obj_pick). A name present twice means
 * jansson semantics: fallback. */
static void pick(bctx *c, const lh_js_val *o, const char *const *keys, size_t n, lh_js_val *out) {
  if (lh_js_obj_pick(o, keys, n, out)) c->fallback = 1;
}
#define PICK(c, o, out, ...)                                                                       \
  do {                                                                                             \
    static const char *const k_[] = {__VA_ARGS__};                                                 \
    pick(c, o, k_, sizeof(k_) / sizeof(k_[0]), out);                                               \
  } while (0)

/* v if it is a string, else a NONE value (jansson's json_string_value of a non-string: NULL). */
static lh_js_val str_only(lh_js_val v) {
  if (v.type != LH_JS_STRING) v.type = LH_JS_NONE;
  return v;
}

/* Decodes a string value into buf (cap bytes) as a C string; NULL when absent. Too long for
 * buf: fallback (jansson would see the whole string). */
static const char *cstr(bctx *c, const lh_js_val *s, char *buf, size_t cap) {
  if (s->type != LH_JS_STRING) return NULL;
  if (lh_js_str_decode(s, buf, cap) < 0) {
    c->fallback = 1;
    return NULL;
  }
  return buf;
}

static const char *intern_val(bctx *c, const lh_js_val *s) {
  if (s->type != LH_JS_STRING) return NULL;
  const char *r;
  if (!s->esc) {
    r = lh_intern_get(c->in, s->p, s->n);
  } else {
    char tmp[MAXSTR];
    long n = lh_js_str_decode(s, tmp, sizeof(tmp));
    if (n < 0) {
      c->fallback = 1;
      return NULL;
    }
    r = lh_intern_get(c->in, tmp, (size_t)n);
  }
  if (!r) c->bad = 1;
  return r;
}

/* Members of a map the pod keeps (labels, annotations, nodeSelector) into keys/vals (MAXMAP
 * each). Returns the count; a non-object gives 0. Escaped or duplicate keys, or more than
 * MAXMAP members: fallback (returns 0). Without escapes raw bytes compare like decoded ones. */
static size_t map_members(bctx *c, const lh_js_val *m, lh_js_val *keys, lh_js_val *vals) {
  if (m->type != LH_JS_OBJECT) return 0;
  lh_js_iter it;
  lh_js_val k, v;
  size_t n = 0;
  lh_js_iter_init(&it, m);
  while (lh_js_obj_next(&it, &k, &v)) {
    if (n == MAXMAP || k.esc) goto fallback;
    for (size_t j = 0; j < n; j++)
      if (keys[j].n == k.n && memcmp(keys[j].p, k.p, k.n) == 0) goto fallback;
    keys[n] = k;
    vals[n++] = v;
  }
  return n;
fallback:
  c->fallback = 1;
  return 0;
}

/* Annotation key kept? (keys here are never escaped: map_members refused those) */
static int keep_key(const lh_js_val *k) {
  char tmp[256];
  if (k->n >= sizeof(tmp)) return strncmp(k->p, "volcano.sh/", 11) == 0 && k->n >= 11;
  memcpy(tmp, k->p, k->n);
  tmp[k->n] = 0;
  return lh_pod__keep_annotation(tmp);
}

static int64_t quantity(bctx *c, const lh_js_val *s, int milli) {
  char buf[256];
  int64_t v = 0;
  lh_js_val t = str_only(*s);
  lh_kube_quantity_parse(cstr(c, &t, buf, sizeof(buf)), milli, &v);
  return v;
}

/* As add_requests in pod.c: sums (or maxes) the requests of a container array. */
static void add_requests(bctx *c, const lh_js_val *arr, int64_t acc[3], int max) {
  if (arr->type != LH_JS_ARRAY) return;
  lh_js_iter it;
  lh_js_val ct, res, req, q[3];
  lh_js_iter_init(&it, arr);
  while (lh_js_arr_next(&it, &ct)) {
    PICK(c, &ct, &res, "resources");
    PICK(c, &res, &req, "requests");
    PICK(c, &req, q, "cpu", "memory", "nvidia.com/gpu");
    int64_t v[3] = {quantity(c, &q[0], 1), quantity(c, &q[1], 0), quantity(c, &q[2], 0)};
    for (int k = 0; k < 3; k++) acc[k] = max ? (v[k] > acc[k] ? v[k] : acc[k]) : acc[k] + v[k];
  }
}

/* Decodes string s into the pod block at *cur (its size was counted with lh_js_str_len). */
static const char *pack(char **cur, const lh_js_val *s) {
  if (s->type != LH_JS_STRING) return NULL;
  size_t n = lh_js_str_len(s);
  char *d = *cur;
  lh_js_str_decode(s, d, n + 1);
  *cur += n + 1;
  return d;
}

static size_t slen1(const lh_js_val *s) { return s->type == LH_JS_STRING ? lh_js_str_len(s) + 1 : 0; }


enum { P_META, P_SPEC, P_STATUS };
enum { M_NAME, M_NS, M_UID, M_LABELS, M_ANNOS, M_OWNERS, M_RV, M_DEL };
enum { S_NSEL, S_TOLS, S_SCHED, S_NODE, S_PRIO, S_CTRS, S_INIT, S_OVH };
enum { T_KEY, T_OP, T_VALUE, T_EFFECT, T_SECS };
enum { O_KIND, O_NAME, O_UID };

void *lh_pod_transform_bytes(const char *json, size_t len, void *ud, int *fallback) {
  bctx c = {ud, 0, 0};
  lh_pod *p = NULL;
  *fallback = 0;
  lh_js_val pod, top[3], m[8], sp[8], x, f[5];
  if (lh_js_value(json, len, &pod) != 0 || pod.type != LH_JS_OBJECT) return NULL;
  PICK(&c, &pod, top, "metadata", "spec", "status");
  PICK(&c, &top[P_META], m, "name", "namespace", "uid", "labels", "annotations", "ownerReferences",
       "resourceVersion", "deletionTimestamp");
  PICK(&c, &top[P_SPEC], sp, "nodeSelector", "tolerations", "schedulerName", "nodeName", "priority",
       "containers", "initContainers", "overhead");
  lh_js_val name = str_only(m[M_NAME]), ns = str_only(m[M_NS]), uid = str_only(m[M_UID]);
  if (c.fallback) goto fallback;
  if (name.type == LH_JS_NONE || ns.type == LH_JS_NONE || top[P_SPEC].type != LH_JS_OBJECT) return NULL;
  lh_js_val lk[MAXMAP], lv[MAXMAP], ak[MAXMAP], av[MAXMAP], sk[MAXMAP], sv[MAXMAP];
  size_t nl = map_members(&c, &m[M_LABELS], lk, lv);
  size_t nall_a = map_members(&c, &m[M_ANNOS], ak, av);
  size_t ns_n = map_members(&c, &sp[S_NSEL], sk, sv);
  size_t nt = 0;
  lh_js_iter it;
  lh_js_iter_init(&it, &sp[S_TOLS]);
  if (sp[S_TOLS].type == LH_JS_ARRAY)
    while (lh_js_arr_next(&it, &x)) nt++;
  size_t na = 0;
  for (size_t i = 0; i < nall_a; i++) na += keep_key(&ak[i]) && av[i].type == LH_JS_STRING;
  if (c.fallback) goto fallback;
  if (nl > 65535 || ns_n > 65535 || nt > 65535 || na > 65535) return NULL;
  /* owner: the first ownerReference of kind Job or PodGroup */
  lh_js_val o[3];
  o[O_KIND].type = o[O_NAME].type = o[O_UID].type = LH_JS_NONE;
  int owner = 0;
  if (m[M_OWNERS].type == LH_JS_ARRAY) {
    lh_js_iter_init(&it, &m[M_OWNERS]);
    while (lh_js_arr_next(&it, &x)) {
      PICK(&c, &x, o, "kind", "name", "uid");
      lh_js_val kind = str_only(o[O_KIND]);
      if (lh_js_str_eq(&kind, "Job") || lh_js_str_eq(&kind, "PodGroup")) {
        owner = 1;
        break;
      }
    }
  }
  lh_js_val oname = str_only(o[O_NAME]), ouid = str_only(o[O_UID]), okind = str_only(o[O_KIND]);
  if (!owner) oname.type = ouid.type = okind.type = LH_JS_NONE;
  if (c.fallback) goto fallback;
  char *cur;
  p = lh_pod__alloc(nl, na, ns_n, nt, slen1(&name) + slen1(&uid) + slen1(&oname) + slen1(&ouid), &cur);
  if (!p) return NULL;
  p->name = pack(&cur, &name);
  p->uid = pack(&cur, &uid);
  p->owner_name = pack(&cur, &oname);
  p->owner_uid = pack(&cur, &ouid);
  p->alloc = malloc_usable_size(p);
  lh_pod__account(c.in, (long)p->alloc);
  char buf[256];
  p->ns = intern_val(&c, &ns);
  x = str_only(m[M_RV]);
  const char *rv = cstr(&c, &x, buf, sizeof(buf));
  p->rv = rv ? strtoull(rv, NULL, 10) : 0;
  x = str_only(sp[S_SCHED]);
  p->scheduler = intern_val(&c, &x);
  x = str_only(sp[S_NODE]);
  p->node = intern_val(&c, &x);
  for (size_t i = 0; i < nl; i++) {
    if (lv[i].type != LH_JS_STRING) continue;
    p->labels[p->nlabels].k = intern_val(&c, &lk[i]);
    p->labels[p->nlabels].v = intern_val(&c, &lv[i]);
    p->nlabels++;
  }
  for (size_t i = 0; i < nall_a; i++) {
    if (!keep_key(&ak[i]) || av[i].type != LH_JS_STRING) continue;
    p->annotations[p->nannotations].k = intern_val(&c, &ak[i]);
    p->annotations[p->nannotations].v = intern_val(&c, &av[i]);
    if (lh_js_str_eq(&ak[i], "scheduling.k8s.io/group-name")) p->group = p->annotations[p->nannotations].v;
    p->nannotations++;
  }
  for (size_t i = 0; i < ns_n; i++) {
    if (sv[i].type != LH_JS_STRING) continue;
    p->node_selector[p->nnode_selector].k = intern_val(&c, &sk[i]);
    p->node_selector[p->nnode_selector].v = intern_val(&c, &sv[i]);
    p->nnode_selector++;
  }
  lh_js_iter_init(&it, &sp[S_TOLS]);
  while (p->ntolerations < nt && lh_js_arr_next(&it, &x)) {
    lh_pod_toleration *t = &p->tolerations[p->ntolerations++];
    PICK(&c, &x, f, "key", "operator", "value", "effect", "tolerationSeconds");
    for (int i = 0; i < 4; i++) f[i] = str_only(f[i]);
    t->key = intern_val(&c, &f[T_KEY]);
    t->op = intern_val(&c, &f[T_OP]);
    t->value = intern_val(&c, &f[T_VALUE]);
    t->effect = intern_val(&c, &f[T_EFFECT]);
    int64_t secs;
    t->seconds = lh_js_int(&f[T_SECS], &secs) == 0 ? secs : -1;
  }
  p->owner_kind = intern_val(&c, &okind);
  lh_js_val phase;
  PICK(&c, &top[P_STATUS], &phase, "phase");
  phase = str_only(phase);
  p->phase = phase.type == LH_JS_NONE || lh_js_str_eq(&phase, "Pending") ? LH_POD_PENDING
             : lh_js_str_eq(&phase, "Running")                          ? LH_POD_RUNNING
             : lh_js_str_eq(&phase, "Succeeded")                        ? LH_POD_SUCCEEDED
             : lh_js_str_eq(&phase, "Failed")                           ? LH_POD_FAILED
                                                                        : LH_POD_UNKNOWN;
  int64_t pr;
  p->priority = lh_js_int(&sp[S_PRIO], &pr) == 0 ? (int32_t)pr : 0;
  int64_t sum[3] = {0, 0, 0}, init[3] = {0, 0, 0};
  add_requests(&c, &sp[S_CTRS], sum, 0);
  add_requests(&c, &sp[S_INIT], init, 1);
  lh_js_val ov[2];
  PICK(&c, &sp[S_OVH], ov, "cpu", "memory");
  int64_t ovc = quantity(&c, &ov[0], 1), ovm = quantity(&c, &ov[1], 0);
  p->cpu_milli = (sum[0] > init[0] ? sum[0] : init[0]) + ovc;
  p->mem_bytes = (sum[1] > init[1] ? sum[1] : init[1]) + ovm;
  p->gpu = sum[2] > init[2] ? sum[2] : init[2];
  x = str_only(m[M_DEL]);
  p->deletion_ts = lh_pod__parse_time(cstr(&c, &x, buf, sizeof(buf)));
  if (c.fallback) goto fallback;
  if (c.bad) {
    lh_pod_free(p, c.in);
    return NULL;
  }
  return p;
fallback:
  if (p) lh_pod_free(p, c.in);
  *fallback = 1;
  return NULL;
}

/* --- comparison (equivalence tests) -------------------------------------------------------- */

static int seq(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

static int kv_same(const lh_pod_kv *a, const lh_pod_kv *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!seq(a[i].k, b[i].k) || !seq(a[i].v, b[i].v)) return 0;
  return 1;
}

int lh_pod_same(const lh_pod *a, const lh_pod *b, int with_alloc) {
  if (!a || !b) return a == b;
  if (!seq(a->ns, b->ns) || !seq(a->name, b->name) || !seq(a->uid, b->uid) || a->rv != b->rv ||
      !seq(a->scheduler, b->scheduler) || !seq(a->node, b->node) || !seq(a->group, b->group) ||
      a->nlabels != b->nlabels || a->nannotations != b->nannotations ||
      a->nnode_selector != b->nnode_selector || a->ntolerations != b->ntolerations ||
      a->phase != b->phase || a->priority != b->priority || a->cpu_milli != b->cpu_milli ||
      a->mem_bytes != b->mem_bytes || a->gpu != b->gpu || !seq(a->owner_kind, b->owner_kind) ||
      !seq(a->owner_name, b->owner_name) || !seq(a->owner_uid, b->owner_uid) ||
      a->deletion_ts != b->deletion_ts || (with_alloc && a->alloc != b->alloc))
    return 0;
  if (!kv_same(a->labels, b->labels, a->nlabels) || !kv_same(a->annotations, b->annotations, a->nannotations) ||
      !kv_same(a->node_selector, b->node_selector, a->nnode_selector))
    return 0;
  for (size_t i = 0; i < a->ntolerations; i++) {
    const lh_pod_toleration *x = &a->tolerations[i], *y = &b->tolerations[i];
    if (!seq(x->key, y->key) || !seq(x->op, y->op) || !seq(x->value, y->value) ||
        !seq(x->effect, y->effect) || x->seconds != y->seconds)
      return 0;
  }
  return 1;
}
