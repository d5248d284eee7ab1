/* podslim.c — the pod as the simulator keeps it, built from the pod's JSON text (sim_pod_slim).
 *
 * Why: the runtime held every pod on its nodes as a full jansson tree parsed from each watch
 * event, of which sim_pod_info_parse and sim_pod_status_patch read about a dozen fields; the
 * tree of a whole pod was most of the simulator's CPU per pod. Here the text (already
 * validated by the watch, util/jscan.h) is navigated in place and only those fields are copied
 * into a small tree with the same shape, so both readers give what they gave on the full pod.
 * Equivalence rules (jansson's semantics on the full tree):
 *   - a name read here that occurs twice in its object: jansson's answer needs its merge rules,
 *     so the caller is told to fall back to the full tree (*fallback = 1);
 *   - a string field that is not a string is left out (json_string_value gave NULL);
 *   - deletionTimestamp is copied when present and not null (only that is tested);
 *   - containers/initContainers keep one element per element (an empty object for non-objects,
 *     which have no name either), so "has init containers" and the order are unchanged;
 *   - containerStatuses keeps its first element's integer restartCount only. */
#include "nodesim/sim.h"

#include "util/jscan.h"

#include <stdlib.h>
#include <string.h>

typedef struct slim {
  int fallback;
  int nomem;
} slim;

/* One pass over o for the names (lh_js_obj_pick); a duplicate of one of them: fallback. */
static void pick(slim *c, const lh_js_val *o, const char *const *keys, size_t n, lh_js_val *out) {
  if (o->type != LH_JS_OBJECT) {
    for (size_t i = 0; i < n; i++) out[i].type = LH_JS_NONE;
    return;
  }
  if (lh_js_obj_pick(o, keys, n, out)) c->fallback = 1;
}
#define PICK(c, o, out, ...)                                                                       \
  do {                                                                                             \
    static const char *const k_[] = {__VA_ARGS__};                                                 \
    pick(c, o, k_, sizeof(k_) / sizeof(k_[0]), out);                                               \
  } while (0)

/* Sets dst[key] to string value v, decoded; nothing when v is not a string. */
static void put_str(slim *c, json_t *dst, const char *key, const lh_js_val *v) {
  if (v->type != LH_JS_STRING || c->nomem) return;
  json_t *s;
  if (!v->esc) {
    s = json_stringn_nocheck(v->p, v->n); /* validated UTF-8 without escapes: no NUL inside */
  } else {
    size_t n = lh_js_str_len(v);
    char *buf = malloc(n + 1);
    s = buf && lh_js_str_decode(v, buf, n + 1) >= 0 ? json_stringn_nocheck(buf, n) : NULL;
    free(buf);
  }
  if (!s || json_object_set_new_nocheck(dst, key, s)) c->nomem = 1;
}

static void put(slim *c, json_t *dst, const char *key, json_t *v) {
  if (!v || json_object_set_new_nocheck(dst, key, v)) c->nomem = 1;
}

/* containers / initContainers: [{name, image}] per element. */
static void put_containers(slim *c, json_t *dst, const char *key, const lh_js_val *arr) {
  if (arr->type != LH_JS_ARRAY || c->nomem) return;
  json_t *out = json_array();
  if (!out) {
    c->nomem = 1;
    return;
  }
  lh_js_iter it;
  lh_js_iter_init(&it, arr);
  lh_js_val e;
  while (!c->nomem && lh_js_arr_next(&it, &e)) {
    json_t *o = json_object();
    if (!o || json_array_append_new(out, o)) {
      c->nomem = 1;
      break;
    }
    lh_js_val f[2];
    PICK(c, &e, f, "name", "image");
    put_str(c, o, "name", &f[0]);
    put_str(c, o, "image", &f[1]);
  }
  put(c, dst, key, out);
}

json_t *sim_pod_slim(const char *json, size_t len, int *fallback) {
  *fallback = 0;
  lh_js_val root;
  if (lh_js_value(json, len, &root) != 0 || root.type != LH_JS_OBJECT) {
    *fallback = 1;
    return NULL;
  }
  slim c = {0, 0};
  lh_js_val top[3], meta[5], spec[4], status[2], ann[2];
  PICK(&c, &root, top, "metadata", "spec", "status");
  PICK(&c, &top[0], meta, "namespace", "name", "uid", "deletionTimestamp", "annotations");
  PICK(&c, &top[1], spec, "nodeName", "restartPolicy", "containers", "initContainers");
  PICK(&c, &top[2], status, "phase", "containerStatuses");
  PICK(&c, &meta[4], ann, SIM_ANN_DURATION, SIM_ANN_EXIT_CODE);
  if (c.fallback) {
    *fallback = 1;
    return NULL;
  }
  json_t *pod = json_object();
  if (!pod) return NULL;
  if (top[0].type == LH_JS_OBJECT) {
    json_t *m = json_object();
    put(&c, pod, "metadata", m);
    if (m) {
      put_str(&c, m, "namespace", &meta[0]);
      put_str(&c, m, "name", &meta[1]);
      put_str(&c, m, "uid", &meta[2]);
      if (meta[3].type != LH_JS_NONE && meta[3].type != LH_JS_NULL) put(&c, m, "deletionTimestamp", json_true());
      if (meta[4].type == LH_JS_OBJECT) {
        json_t *a = json_object();
        put(&c, m, "annotations", a);
        if (a) {
          put_str(&c, a, SIM_ANN_DURATION, &ann[0]);
          put_str(&c, a, SIM_ANN_EXIT_CODE, &ann[1]);
        }
      }
    }
  }
  if (top[1].type == LH_JS_OBJECT) {
    json_t *s = json_object();
    put(&c, pod, "spec", s);
    if (s) {
      put_str(&c, s, "nodeName", &spec[0]);
      put_str(&c, s, "restartPolicy", &spec[1]);
      put_containers(&c, s, "containers", &spec[2]);
      put_containers(&c, s, "initContainers", &spec[3]);
    }
  }
  if (top[2].type == LH_JS_OBJECT) {
    json_t *s = json_object();
    put(&c, pod, "status", s);
    if (s) {
      put_str(&c, s, "phase", &status[0]);
      lh_js_iter it;
      lh_js_val first;
      if (status[1].type == LH_JS_ARRAY) {
        lh_js_iter_init(&it, &status[1]);
        json_t *cs = json_array(), *e = NULL;
        put(&c, s, "containerStatuses", cs);
        if (cs && lh_js_arr_next(&it, &first)) {
          e = json_object();
          if (!e || json_array_append_new(cs, e)) c.nomem = 1;
          lh_js_val rc;
          PICK(&c, &first, &rc, "restartCount");
          int64_t v;
          if (e && !c.nomem && rc.type == LH_JS_INTEGER && lh_js_int(&rc, &v) == 0)
            put(&c, e, "restartCount", json_integer((json_int_t)v));
        }
      }
    }
  }
  if (c.nomem || c.fallback) {
    json_decref(pod);
    *fallback = c.fallback;
    return NULL;
  }
  return pod;
}

/* spec.nodeName of the pod text, decoded into out (cap bytes). 1 when found, 0 when absent or
 * not a string or longer than cap - 1 (no node of ours has such a name), -1 when the answer
 * needs jansson's duplicate rules (metadata/spec/nodeName named twice). */
int sim_pod_node_name(const char *json, size_t len, char *out, size_t cap) {
  lh_js_val root, top, node;
  if (lh_js_value(json, len, &root) != 0 || root.type != LH_JS_OBJECT) return 0;
  static const char *const k_spec[] = {"spec"}, *const k_node[] = {"nodeName"};
  if (lh_js_obj_pick(&root, k_spec, 1, &top)) return -1;
  if (top.type != LH_JS_OBJECT) return 0;
  if (lh_js_obj_pick(&top, k_node, 1, &node)) return -1;
  if (node.type != LH_JS_STRING) return 0;
  return lh_js_str_decode(&node, out, cap) >= 0;
}
