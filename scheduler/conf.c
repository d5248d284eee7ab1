/* conf.c — parsing volcano-scheduler.conf-shaped YAML (libyaml document API) into an lh_conf.
 * Every rejection names the line: "line 7: unknown plugin 'foo'". Sections: names tables,
 * defaults, YAML helpers, plugin arguments, configurations, top level. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "scheduler/arena.h"
#include "scheduler/conf.h"

/* ---- names ---- */
static const char *const action_names[LH_ACT_N] = {"enqueue", "allocate", "backfill", "reclaim",
                                                   "preempt"};
static const char *const plugin_names[LH_PL_N] = {
    "priority", "gang", "conformance", "drf", "predicates", "proportion", "nodeorder", "binpack",
    "overcommit"};
/* Volcano names lahar knows but does not implement: rejected with a specific message. */
static const char *const volcano_only_actions[] = {"shuffle", "elect", "reserve", "backfill2",
                                                   NULL};
static const char *const volcano_only_plugins[] = {
    "sla", "tdm", "numaaware", "task-topology", "extender", "resourcequota", "capacity", "cdp",
    "rescheduling", "usage", "pdb", "deviceshare", "nodegroup", "network-topology-aware",
    "resource-strategy-fit", NULL};

static const struct {
  const char *name;
  unsigned hook;
} hook_opts[] = {
    {"enableJobOrder", LH_HOOK_JOB_ORDER},       {"enableQueueOrder", LH_HOOK_QUEUE_ORDER},
    {"enableJobReady", LH_HOOK_JOB_READY},       {"enablePreemptable", LH_HOOK_PREEMPTABLE},
    {"enableReclaimable", LH_HOOK_RECLAIMABLE},  {"enablePredicate", LH_HOOK_PREDICATE},
    {"enableNodeOrder", LH_HOOK_NODE_ORDER},     {"enableJobEnqueued", LH_HOOK_JOB_ENQUEUED},
    {"enableTaskOrder", LH_HOOK_TASK_ORDER},     {"enableHierarchy", LH_HOOK_HIERARCHY},
    {"enablePreemptive", LH_HOOK_PREEMPTIVE},    {"enabledOverused", LH_HOOK_OVERUSED},
    {"enabledAllocatable", LH_HOOK_ALLOCATABLE},
};
/* Volcano's other per-plugin switches (framework PluginOption). They gate hooks that lahar's
 * model has no counterpart for (namespace order, cluster order, best node, target job, reserved
 * nodes, hypernodes, sub-jobs) or that lahar always derives from the gang rule (pipelined,
 * starving, victims): accepted as booleans so real configs load, with no effect. */
static const char *const inert_opts[] = {
    "enableNamespaceOrder", "enableJobPipelined", "enableJobStarving", "enabledVictim",
    "enableBestNode", "enableTargetJob", "enableReservedNodes", "enabledClusterOrder",
    "EnabledClusterOrder", "enabledHyperNodeOrder", "enabledSubJobReady",
    "enabledSubJobPipelined", "enabledSubJobOrder", "enabledHyperNodeGradient", NULL};

/* ---- defaults ---- */
static void base(lh_conf *c) {
  memset(c, 0, sizeof(*c));
  c->binpack_weight = 1;
  for (int d = 0; d < LH_RES_N; d++) c->binpack_res[d] = 1;
  c->least_w = 1;
  c->balanced_w = 1;
  c->overcommit_factor = 1.2;
  c->serverless_burst = true;
  c->nodes_to_score = 100;
  c->release_broken_gang = true;
}

static void enable(lh_conf *c, lh_plugin_id p) {
  c->on[p] = true;
  /* Volcano's enableHierarchy defaults to false; every other switch defaults to true */
  c->off_hooks[p] |= LH_HOOK_HIERARCHY;
  c->order[c->n_plugins++] = p;
}

static void resolve(lh_conf *c, lh_placement explicit_placement) {
  /* nodeorder's mostrequested outweighing leastrequested means packing, as in Volcano */
  bool pack = c->on[LH_PL_BINPACK] || (c->on[LH_PL_NODEORDER] && c->most_w > c->least_w);
  c->placement = explicit_placement ? explicit_placement : (pack ? LH_PLACE_BINPACK : LH_PLACE_SPREAD);
}

lh_conf *lh_conf_default(void) {
  lh_conf *c = lh_malloc(sizeof(*c));
  if (!c) return NULL;
  base(c);
  c->n_actions = 3;
  c->actions[0] = LH_ACT_ENQUEUE;
  c->actions[1] = LH_ACT_ALLOCATE;
  c->actions[2] = LH_ACT_BACKFILL;
  static const lh_plugin_id def[] = {LH_PL_PRIORITY, LH_PL_GANG,       LH_PL_CONFORMANCE,
                                     LH_PL_OVERCOMMIT, LH_PL_DRF,       LH_PL_PREDICATES,
                                     LH_PL_PROPORTION, LH_PL_NODEORDER};
  for (size_t i = 0; i < sizeof(def) / sizeof(def[0]); i++) enable(c, def[i]);
  resolve(c, 0);
  return c;
}

void lh_conf_free(lh_conf *c) { free(c); }

/* ---- YAML helpers ---- */
typedef struct {
  yaml_document_t *doc;
  char *err;
  size_t errlen;
  lh_placement placement;
} pctx;

static int fail(pctx *p, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(pctx *p, const yaml_node_t *n, const char *fmt, ...) {
  if (p->err && p->errlen) {
    int k = snprintf(p->err, p->errlen, "line %lu: ", n ? (unsigned long)n->start_mark.line + 1 : 1ul);
    if (k >= 0 && (size_t)k < p->errlen) {
      va_list ap;
      va_start(ap, fmt);
      vsnprintf(p->err + k, p->errlen - (size_t)k, fmt, ap);
      va_end(ap);
    }
  }
  return LH_ECONF;
}

static const char *scalar(const yaml_node_t *n) {
  return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int get_double(pctx *p, const yaml_node_t *n, const char *key, double *out) {
  const char *s = scalar(n);
  if (!s) return fail(p, n, "%s: expected a number", key);
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || *end || errno || !isfinite(v) || v < 0)
    return fail(p, n, "%s: '%s' is not a non-negative number", key, s);
  *out = v;
  return 0;
}

static int get_bool(pctx *p, const yaml_node_t *n, const char *key, bool *out) {
  const char *s = scalar(n);
  if (s && (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))) *out = true;
  else if (s && (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))) *out = false;
  else return fail(p, n, "%s: expected true or false", key);
  return 0;
}

static int res_index(const char *name) {
  if (!strcmp(name, "cpu")) return LH_RES_CPU;
  if (!strcmp(name, "memory")) return LH_RES_MEM;
  if (!strcmp(name, "nvidia.com/gpu")) return LH_RES_GPU;
  return -1;
}

/* ---- plugin arguments ---- */
static int plugin_arg(pctx *p, lh_conf *c, lh_plugin_id pl, const char *k, yaml_node_t *v) {
  double d;
  int rc;
  if (pl == LH_PL_BINPACK) {
    if (!strcmp(k, "binpack.weight")) return get_double(p, v, k, &c->binpack_weight);
    if (!strcmp(k, "binpack.cpu")) return get_double(p, v, k, &c->binpack_res[LH_RES_CPU]);
    if (!strcmp(k, "binpack.memory")) return get_double(p, v, k, &c->binpack_res[LH_RES_MEM]);
    if (!strcmp(k, "binpack.resources")) {
      if (!scalar(v)) return fail(p, v, "%s: expected a comma-separated list", k);
      return 0; /* weights come from binpack.resources.<name>; resources lahar does not model
                   are never requested, so they cannot change a score */
    }
    if (!strncmp(k, "binpack.resources.", 18)) {
      if ((rc = get_double(p, v, k, &d))) return rc;
      int r = res_index(k + 18);
      if (r >= 0) c->binpack_res[r] = d;
      return 0;
    }
  } else if (pl == LH_PL_NODEORDER) {
    if (!strcmp(k, "leastrequested.weight")) return get_double(p, v, k, &c->least_w);
    if (!strcmp(k, "mostrequested.weight")) return get_double(p, v, k, &c->most_w);
    if (!strcmp(k, "balancedresource.weight")) return get_double(p, v, k, &c->balanced_w);
    /* Volcano's other nodeorder weights score things lahar's model has no data for
       (affinity, image locality, pod topology); they are accepted and have no effect on a
       snapshot without those inputs. */
    if (!strcmp(k, "nodeaffinity.weight") || !strcmp(k, "podaffinity.weight") ||
        !strcmp(k, "tainttoleration.weight") || !strcmp(k, "imagelocality.weight") ||
        !strcmp(k, "podtopologyspread.weight") || !strcmp(k, "selectorspread.weight"))
      return get_double(p, v, k, &d);
  } else if (pl == LH_PL_OVERCOMMIT) {
    if (!strcmp(k, "overcommit-factor")) {
      if ((rc = get_double(p, v, k, &c->overcommit_factor))) return rc;
      if (c->overcommit_factor < 1.0) return fail(p, v, "overcommit-factor must be >= 1.0");
      return 0;
    }
  } else if (pl == LH_PL_PREDICATES) {
    /* Volcano's predicate switches for filters lahar's model has no data for. */
    if (!strncmp(k, "predicate.", 10)) return get_bool(p, v, k, &(bool){false});
  }
  return fail(p, v, "unknown argument '%s' for plugin '%s'", k, plugin_names[pl]);
}

static int parse_plugin(pctx *p, lh_conf *c, yaml_node_t *n) {
  if (n->type != YAML_MAPPING_NODE) return fail(p, n, "a plugin must be a mapping with 'name'");
  yaml_node_t *name = NULL, *args = NULL;
  for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
    yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
    if (scalar(k) && !strcmp(scalar(k), "name")) name = yaml_document_get_node(p->doc, pr->value);
  }
  if (!scalar(name)) return fail(p, n, "plugin without a 'name'");
  const char *nm = scalar(name);
  int pl = -1;
  for (int i = 0; i < LH_PL_N; i++)
    if (!strcmp(nm, plugin_names[i])) pl = i;
  if (pl < 0) {
    for (int i = 0; volcano_only_plugins[i]; i++)
      if (!strcmp(nm, volcano_only_plugins[i]))
        return fail(p, name, "plugin '%s' is a Volcano plugin that lahar does not implement", nm);
    return fail(p, name, "unknown plugin '%s'", nm);
  }
  if (c->on[pl]) return fail(p, name, "plugin '%s' listed twice", nm);
  enable(c, (lh_plugin_id)pl);
  for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
    yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
    yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
    const char *ks = scalar(k);
    if (!ks) return fail(p, k, "plugin keys must be strings");
    if (!strcmp(ks, "name")) continue;
    if (!strcmp(ks, "arguments")) {
      args = v;
      continue;
    }
    size_t i;
    for (i = 0; i < sizeof(hook_opts) / sizeof(hook_opts[0]); i++)
      if (!strcmp(ks, hook_opts[i].name)) break;
    bool b;
    if (i == sizeof(hook_opts) / sizeof(hook_opts[0])) {
      size_t j;
      for (j = 0; inert_opts[j]; j++)
        if (!strcmp(ks, inert_opts[j])) break;
      if (!inert_opts[j]) return fail(p, k, "unknown option '%s' for plugin '%s'", ks, nm);
      int rc = get_bool(p, v, ks, &b);
      if (rc) return rc;
      continue;
    }
    int rc = get_bool(p, v, ks, &b);
    if (rc) return rc;
    if (b) c->off_hooks[pl] &= ~hook_opts[i].hook;
    else c->off_hooks[pl] |= hook_opts[i].hook;
  }
  if (args) {
    if (args->type == YAML_SCALAR_NODE && !*scalar(args)) return 0;
    if (args->type != YAML_MAPPING_NODE) return fail(p, args, "arguments must be a mapping");
    for (yaml_node_pair_t *pr = args->data.mapping.pairs.start; pr < args->data.mapping.pairs.top;
         pr++) {
      yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
      if (!scalar(k)) return fail(p, k, "argument names must be strings");
      int rc = plugin_arg(p, c, (lh_plugin_id)pl, scalar(k),
                          yaml_document_get_node(p->doc, pr->value));
      if (rc) return rc;
    }
  }
  return 0;
}

/* ---- configurations (per-action arguments) ---- */
static int parse_configuration(pctx *p, lh_conf *c, yaml_node_t *n) {
  if (n->type != YAML_MAPPING_NODE) return fail(p, n, "a configuration must be a mapping");
  const char *nm = NULL;
  yaml_node_t *args = NULL;
  for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
    yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
    yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
    if (scalar(k) && !strcmp(scalar(k), "name")) nm = scalar(v);
    else if (scalar(k) && !strcmp(scalar(k), "arguments")) args = v;
    else return fail(p, k, "unknown key in configuration (expected name, arguments)");
  }
  if (!nm) return fail(p, n, "configuration without a 'name'");
  if (!args || (args->type == YAML_SCALAR_NODE && !*scalar(args))) return 0;
  if (args->type != YAML_MAPPING_NODE) return fail(p, args, "arguments must be a mapping");
  for (yaml_node_pair_t *pr = args->data.mapping.pairs.start; pr < args->data.mapping.pairs.top;
       pr++) {
    yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
    yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
    const char *ks = scalar(k);
    int rc = 0;
    if (!ks) return fail(p, k, "argument names must be strings");
    if (!strcmp(nm, "allocate") && !strcmp(ks, "lahar.placement")) {
      const char *s = scalar(v);
      c->placement_set = true;
      if (s && !strcmp(s, "binpack")) p->placement = LH_PLACE_BINPACK;
      else if (s && !strcmp(s, "spread")) p->placement = LH_PLACE_SPREAD;
      else rc = fail(p, v, "lahar.placement must be binpack or spread");
    } else if (!strcmp(nm, "allocate") && !strcmp(ks, "lahar.serverlessBurst")) {
      rc = get_bool(p, v, ks, &c->serverless_burst);
    } else if (!strcmp(nm, "allocate") && !strcmp(ks, "lahar.nodesToScore")) {
      double d;
      rc = get_double(p, v, ks, &d);
      if (!rc && (d != floor(d) || d > 1e9)) rc = fail(p, v, "lahar.nodesToScore must be an integer");
      if (!rc) c->nodes_to_score = (int)d;
    } else if (!strcmp(nm, "gang") && !strcmp(ks, "lahar.releaseBrokenGang")) {
      rc = get_bool(p, v, ks, &c->release_broken_gang);
    } else if (!strcmp(nm, "enqueue") && !strcmp(ks, "overcommit-factor")) {
      rc = get_double(p, v, ks, &c->overcommit_factor);
    } else {
      rc = fail(p, k, "unknown argument '%s' for '%s'", ks, nm);
    }
    if (rc) return rc;
  }
  return 0;
}

/* ---- actions string ---- */
static int parse_actions(pctx *p, lh_conf *c, yaml_node_t *n) {
  const char *s = scalar(n);
  if (!s) return fail(p, n, "actions must be a string such as \"enqueue, allocate, backfill\"");
  char buf[64];
  while (*s) {
    while (*s == ' ' || *s == ',' || *s == '\t') s++;
    if (!*s) break;
    size_t k = 0;
    while (s[k] && s[k] != ',' && s[k] != ' ' && s[k] != '\t') k++;
    if (k >= sizeof(buf)) return fail(p, n, "action name too long");
    memcpy(buf, s, k);
    buf[k] = 0;
    s += k;
    int a = -1;
    for (int i = 0; i < LH_ACT_N; i++)
      if (!strcmp(buf, action_names[i])) a = i;
    if (a < 0) {
      for (int i = 0; volcano_only_actions[i]; i++)
        if (!strcmp(buf, volcano_only_actions[i]))
          return fail(p, n, "action '%s' is a Volcano action that lahar does not implement", buf);
      return fail(p, n, "unknown action '%s'", buf);
    }
    for (int i = 0; i < c->n_actions; i++)
      if (c->actions[i] == (lh_action_id)a) return fail(p, n, "action '%s' listed twice", buf);
    c->actions[c->n_actions++] = (lh_action_id)a;
  }
  if (!c->n_actions) return fail(p, n, "no actions");
  return 0;
}

/* ---- top level ---- */
static int parse_root(pctx *p, lh_conf *c, yaml_node_t *root) {
  if (!root) return fail(p, NULL, "empty configuration");
  if (root->type != YAML_MAPPING_NODE) return fail(p, root, "the configuration must be a mapping");
  bool have_actions = false, have_tiers = false;
  for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top;
       pr++) {
    yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
    yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
    const char *ks = scalar(k);
    int rc;
    if (ks && !strcmp(ks, "actions")) {
      if (have_actions) return fail(p, k, "actions given twice");
      have_actions = true;
      if ((rc = parse_actions(p, c, v))) return rc;
    } else if (ks && !strcmp(ks, "tiers")) {
      if (have_tiers) return fail(p, k, "tiers given twice");
      have_tiers = true;
      if (v->type != YAML_SEQUENCE_NODE) return fail(p, v, "tiers must be a list");
      for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
           it++) {
        yaml_node_t *tier = yaml_document_get_node(p->doc, *it);
        yaml_node_t *plugins = NULL;
        if (tier->type != YAML_MAPPING_NODE) return fail(p, tier, "a tier must be a mapping");
        for (yaml_node_pair_t *tp = tier->data.mapping.pairs.start;
             tp < tier->data.mapping.pairs.top; tp++) {
          yaml_node_t *tk = yaml_document_get_node(p->doc, tp->key);
          if (scalar(tk) && !strcmp(scalar(tk), "plugins"))
            plugins = yaml_document_get_node(p->doc, tp->value);
          else return fail(p, tk, "unknown key in tier (expected plugins)");
        }
        if (!plugins || plugins->type != YAML_SEQUENCE_NODE)
          return fail(p, tier, "a tier needs a 'plugins' list");
        for (yaml_node_item_t *pi = plugins->data.sequence.items.start;
             pi < plugins->data.sequence.items.top; pi++)
          if ((rc = parse_plugin(p, c, yaml_document_get_node(p->doc, *pi)))) return rc;
      }
    } else if (ks && !strcmp(ks, "configurations")) {
      if (v->type != YAML_SEQUENCE_NODE) return fail(p, v, "configurations must be a list");
      for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
           it++)
        if ((rc = parse_configuration(p, c, yaml_document_get_node(p->doc, *it)))) return rc;
    } else {
      return fail(p, k, "unknown key '%s' (expected actions, tiers, configurations)",
                  ks ? ks : "?");
    }
  }
  if (!have_actions) return fail(p, root, "missing 'actions'");
  if (!have_tiers) return fail(p, root, "missing 'tiers'");
  return 0;
}

/* Why: libyaml's scanner does O(depth) work per token inside flow collections, so a
 * document nested tens of thousands of levels deep costs seconds of CPU before any error can
 * be reported. A first pass over the events refuses nesting deeper than any real configuration
 * needs, stopping as soon as the limit is passed. Returns the offending line (1-based) or 0. */
#define LH_CONF_MAX_DEPTH 64
static unsigned long conf_too_deep(const char *yaml, size_t len) {
  yaml_parser_t p;
  yaml_event_t ev;
  unsigned long bad = 0;
  int depth = 0;
  if (!yaml_parser_initialize(&p)) return 0;
  yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
  while (yaml_parser_parse(&p, &ev)) {
    yaml_event_type_t t = ev.type;
    if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
      if (++depth > LH_CONF_MAX_DEPTH) bad = (unsigned long)ev.start_mark.line + 1;
    } else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) {
      depth--;
    }
    yaml_event_delete(&ev);
    if (bad || t == YAML_STREAM_END_EVENT) break;
  }
  yaml_parser_delete(&p); /* syntax errors are reported by the real parse */
  return bad;
}

int lh_conf_parse(const char *yaml, size_t len, lh_conf **out, char *err, size_t errlen) {
  if (err && errlen) err[0] = 0;
  if (!out) return LH_EINVAL;
  *out = NULL;
  if (!yaml) return LH_EINVAL;
  if (len > (1u << 20)) {
    if (err && errlen) snprintf(err, errlen, "line 1: configuration larger than 1 MiB");
    return LH_ECONF;
  }
  unsigned long deep = conf_too_deep(yaml, len);
  if (deep) {
    if (err && errlen)
      snprintf(err, errlen, "line %lu: nested deeper than %d levels", deep, LH_CONF_MAX_DEPTH);
    return LH_ECONF;
  }
  lh_conf *c = lh_malloc(sizeof(*c));
  if (!c) return LH_ENOMEM;
  base(c);
  yaml_parser_t parser;
  yaml_document_t doc;
  if (!yaml_parser_initialize(&parser)) {
    free(c);
    return LH_ENOMEM;
  }
  yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
  pctx p = {.doc = &doc, .err = err, .errlen = errlen};
  int rc;
  if (!yaml_parser_load(&parser, &doc)) {
    if (err && errlen)
      snprintf(err, errlen, "line %lu: %s%s%s", (unsigned long)parser.problem_mark.line + 1,
               parser.problem ? parser.problem : "YAML syntax error",
               parser.context ? " " : "", parser.context ? parser.context : "");
    rc = parser.error == YAML_MEMORY_ERROR ? LH_ENOMEM : LH_ECONF;
    yaml_parser_delete(&parser);
    free(c);
    return rc;
  }
  rc = parse_root(&p, c, yaml_document_get_root_node(&doc));
  yaml_document_delete(&doc);
  yaml_parser_delete(&parser);
  if (rc) {
    free(c);
    return rc;
  }
  resolve(c, p.placement);
  *out = c;
  return 0;
}
