/* nodesim.c — the simulator runtime: its thread and lh_loop, node registration through the async
 * client, the bound-pod informer, per-pod timers and status writes, deletion confirmation.
 * Decisions live in the pure state machine (podsm.c); this file carries out its actions.
 * Processes (--exec) are in proc.c. Sections: helpers; pod map; nodes; pods; thread; public. */
#include "nodesim/nodesim.h"
#include "nodesim/nodesim_int.h"

#include "kube/async.h"
#include "kube/client.h"
#include "kube/informer.h"
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define COMP "nodesim"
#define REG_MAX_ATTEMPTS 8
#define WRITE_MAX_ATTEMPTS 10

/* --- helpers ------------------------------------------------------------------------------- */

const char *lh_nodesim_strerror(int rc) {
  switch (rc) {
  case LH_NODESIM_OK: return "ok";
  case LH_ENODESIM_NOMEM: return "out of memory";
  case LH_ENODESIM_INVAL: return "invalid argument";
  case LH_ENODESIM_RANGE: return "value out of range";
  case LH_ENODESIM_KUBE: return "kubernetes client error";
  case LH_ENODESIM_SYS: return "system error";
  case LH_ENODESIM_TIMEOUT: return "timed out";
  case LH_ENODESIM_REGISTER: return "node registration failed";
  }
  return "unknown error";
}

void nsim_now_rfc3339(char out[32]) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void nsim_stat_add(lh_nodesim *s, unsigned long *field, unsigned long n) {
  pthread_mutex_lock(&s->mu);
  *field += n;
  pthread_mutex_unlock(&s->mu);
}

/* Appends /api/v1/namespaces/NS/pods/NAME[/SUB] to b. 0 or an error. */
int nsim_pod_path(lh_buf *b, const char *ns, const char *name, const char *sub) {
  return lh_kube_path(b, &LH_KUBE_PODS, ns, name, sub);
}

/* --- pod map (ns/name -> sim_pod), chained, power-of-two ----------------------------------- */

static uint32_t hash_str(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

static sim_pod *map_get(lh_nodesim *s, const char *key) {
  if (!s->nslots) return NULL;
  for (sim_pod *p = s->slots[hash_str(key) & (s->nslots - 1)]; p; p = p->next)
    if (strcmp(p->key, key) == 0) return p;
  return NULL;
}

static int map_put(lh_nodesim *s, sim_pod *p) {
  if (s->npods + 1 > s->nslots) {
    size_t n = s->nslots ? s->nslots * 2 : 256;
    sim_pod **ns = calloc(n, sizeof(*ns));
    if (!ns) return LH_ENODESIM_NOMEM;
    for (size_t i = 0; i < s->nslots; i++)
      for (sim_pod *q = s->slots[i], *nx; q; q = nx) {
        nx = q->next;
        q->next = ns[hash_str(q->key) & (n - 1)];
        ns[hash_str(q->key) & (n - 1)] = q;
      }
    free(s->slots);
    s->slots = ns;
    s->nslots = n;
  }
  sim_pod **slot = &s->slots[hash_str(p->key) & (s->nslots - 1)];
  p->next = *slot;
  *slot = p;
  s->npods++;
  return 0;
}

static void map_del(lh_nodesim *s, sim_pod *p) {
  if (!s->nslots) return;
  for (sim_pod **pp = &s->slots[hash_str(p->key) & (s->nslots - 1)]; *pp; pp = &(*pp)->next)
    if (*pp == p) {
      *pp = p->next;
      s->npods--;
      return;
    }
}

/* --- nodes --------------------------------------------------------------------------------- */

/* Returns our node named name, or NULL. Regular nodes are <prefix><decimal index>. */
sim_node *nsim_node_lookup(lh_nodesim *s, const char *name) {
  if (!name) return NULL;
  size_t pl = strlen(s->prefix);
  if (strncmp(name, s->prefix, pl) != 0) return NULL;
  const char *r = name + pl;
  if (*r >= '0' && *r <= '9' && (r[0] != '0' || r[1] == '\0')) {
    char *end;
    long i = strtol(r, &end, 10);
    if (!*end && i >= 0 && i < s->nregular) return &s->nodes[i];
  }
  for (size_t k = (size_t)s->nregular; k < s->nnodes; k++)
    if (strcmp(s->nodes[k].spec.name, name) == 0) return &s->nodes[k];
  return NULL;
}

static void reg_pump(lh_nodesim *s);

static void reg_finished(lh_nodesim *s, sim_node *n, int ok) {
  s->reg_inflight--;
  if (n->heartbeat) {
    n->heartbeat = 0;
  } else {
    pthread_mutex_lock(&s->mu);
    if (ok) s->stats.nodes_registered++;
    else s->stats.nodes_failed++;
    s->reg_done++;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (ok) n->registered = 1;
    if (s->reg_done == s->nnodes)
      LH_INFO(COMP, "%lu nodes registered, %lu failed", s->stats.nodes_registered, s->stats.nodes_failed);
  }
  reg_pump(s);
}

static void reg_step(lh_nodesim *s, sim_node *n);

static long reg_retry_cb(lh_loop *loop, lh_timer *t, void *data) {
  sim_node *n = data;
  reg_step(n->s, n);
  return LH_TIMER_STOP;
}

static void reg_done_cb(lh_kube_async *a, int rc, lh_kube_response *resp, void *data) {
  sim_node *n = data;
  lh_nodesim *s = n->s;
  if (rc == LH_EKUBE_CLOSED || s->stopping) return;
  if (rc == 0 || (n->stage == NODE_CREATE && resp->http_code == 409)) {
    if (n->stage == NODE_CREATE && rc == 0) n->created = 1;
    n->stage++;
    n->attempts = 0;
    if (n->stage == NODE_DONE || n->heartbeat) { /* a heartbeat only posts status */
      reg_finished(s, n, 1);
      return;
    }
    reg_step(s, n);
    return;
  }
  n->attempts++;
  const char *what = n->stage == NODE_CREATE ? "create" : n->stage == NODE_STATUS ? "status" : "taints";
  if (rc == LH_EKUBE_HTTP)
    LH_WARN(COMP, "node %s: %s: %ld %s: %s", n->spec.name, what, resp->http_code,
            resp->status.reason, resp->status.message);
  else
    LH_WARN(COMP, "node %s: %s: %s %s", n->spec.name, what, lh_kube_strerror(rc), resp->error);
  /* 4xx other than 409/429 will not get better by retrying. */
  int permanent = rc == LH_EKUBE_HTTP && resp->http_code >= 400 && resp->http_code < 500 &&
                  resp->http_code != 409 && resp->http_code != 429;
  if (permanent || n->attempts >= REG_MAX_ATTEMPTS) {
    reg_finished(s, n, 0);
    return;
  }
  lh_timer_start(&n->retry, 250L << (n->attempts < 6 ? n->attempts : 6), reg_retry_cb, n);
}

/* Sends the request of n's current stage. */
static void reg_step(lh_nodesim *s, sim_node *n) {
  if (s->stopping) return;
  char now[32];
  nsim_now_rfc3339(now);
  json_t *body = NULL;
  const char *method = "PATCH", *ctype = lh_kube_patch_content_type(LH_PATCH_MERGE);
  lh_buf path;
  lh_buf_init(&path, 4096);
  int rc = 0;
  if (n->stage == NODE_CREATE) {
    body = sim_node_object(&n->spec, s->cfg.pool_no_taint, now);
    method = "POST";
    ctype = "application/json";
    rc = lh_kube_path(&path, &LH_KUBE_NODES, NULL, NULL, NULL);
  } else if (n->stage == NODE_STATUS) {
    json_t *st = sim_node_status(&n->spec, now);
    body = st ? json_pack("{s:o}", "status", st) : NULL;
    rc = lh_kube_path(&path, &LH_KUBE_NODES, NULL, n->spec.name, "status");
  } else {
    /* Labels, and spec.taints replaced as a whole: this removes the not-ready taint that
     * admission added on create (and any stale taint of an adopted node). */
    json_t *labels = sim_node_labels(&n->spec), *taints = sim_node_taints(&n->spec, s->cfg.pool_no_taint);
    if (taints && json_array_size(taints) == 0) {
      json_decref(taints);
      taints = json_null();
    }
    body = labels && taints ? json_pack("{s:{s:o}, s:{s:o, s:b}}", "metadata", "labels", labels,
                                        "spec", "taints", taints, "unschedulable", 0)
                            : NULL;
    if (!body) {
      json_decref(labels);
      json_decref(taints);
    }
    rc = lh_kube_path(&path, &LH_KUBE_NODES, NULL, n->spec.name, NULL);
  }
  char *txt = body && !rc ? json_dumps(body, JSON_COMPACT) : NULL;
  json_decref(body);
  if (txt) rc = lh_kube_async_request(s->async, method, lh_buf_str(&path), ctype, txt, strlen(txt),
                                      reg_done_cb, n);
  else rc = LH_EKUBE_NOMEM;
  free(txt);
  lh_buf_free(&path);
  if (rc) {
    LH_ERROR(COMP, "node %s: cannot send request: %s", n->spec.name, lh_kube_strerror(rc));
    reg_finished(s, n, 0);
  }
}

/* Starts registrations (then heartbeats) while fewer than max_in_flight nodes are in progress. */
static void reg_pump(lh_nodesim *s) {
  while (!s->stopping && s->reg_inflight < s->cfg.max_in_flight) {
    sim_node *n;
    if (s->reg_next < s->nnodes) {
      n = &s->nodes[s->reg_next++];
      n->stage = NODE_CREATE;
    } else if (s->hb_next < s->nnodes) {
      n = &s->nodes[s->hb_next++];
      if (!n->registered || n->heartbeat) continue; /* skip nodes whose last beat is in flight */
      n->heartbeat = 1;
      n->stage = NODE_STATUS;
    } else {
      return;
    }
    n->attempts = 0;
    s->reg_inflight++;
    reg_step(s, n);
  }
}

static long heartbeat_cb(lh_loop *loop, lh_timer *t, void *data) {
  lh_nodesim *s = data;
  if (s->hb_next >= s->nnodes && s->reg_next >= s->nnodes) {
    s->hb_next = 0;
    reg_pump(s);
  }
  return s->cfg.heartbeat_s * 1000L;
}

/* --- pods ---------------------------------------------------------------------------------- */

void nsim_pod_ref(sim_pod *p) { p->refs++; }

void nsim_pod_unref(sim_pod *p) {
  if (!p || --p->refs > 0) return;
  lh_timer_stop(&p->timer);
  lh_timer_stop(&p->wtimer);
  json_decref(p->obj);
  free(p->key);
  free(p->uid);
  free(p);
}

/* The transform: what the informer's cache keeps of a pod. Pods on other nodes keep only a
 * minimal entry without JSON, so a shared cluster costs little memory. Never NULL except on no memory. */
typedef struct podref {
  json_t *obj; /* full pod, only for pods on our nodes */
} podref;

static void *pod_transform(const json_t *obj, void *ud) {
  lh_nodesim *s = ud;
  podref *r = calloc(1, sizeof(*r));
  if (!r) return NULL;
  const char *node = json_string_value(json_object_get(json_object_get(obj, "spec"), "nodeName"));
  if (nsim_node_lookup(s, node)) r->obj = json_incref((json_t *)obj);
  return r;
}

/* The same from the pod's JSON text (the informer's raw list pages and watch events): pods on
 * other nodes cost one scan for spec.nodeName; ours keep only the fields the runtime reads
 * (sim_pod_slim), not a tree of the whole pod. Exec mode needs the whole pod (command, args,
 * env: sim_exec_build), so it is left to jansson there, as is anything needing jansson's
 * duplicate-key rules. */
static void *pod_transform_bytes(const char *json, size_t len, void *ud, int *fallback) {
  lh_nodesim *s = ud;
  char node[SIM_NAME_MAX];
  int found = sim_pod_node_name(json, len, node, sizeof(node));
  *fallback = found < 0;
  if (found < 0) return NULL;
  int ours = found && nsim_node_lookup(s, node);
  if (ours && s->cfg.exec) {
    *fallback = 1;
    return NULL;
  }
  podref *r = calloc(1, sizeof(*r));
  if (!r) return NULL;
  if (ours && !(r->obj = sim_pod_slim(json, len, fallback))) {
    free(r);
    return NULL;
  }
  return r;
}

static void pod_free_obj(void *obj, void *ud) {
  podref *r = obj;
  if (!r) return;
  json_decref(r->obj);
  free(r);
}

static void pod_apply(lh_nodesim *s, sim_pod *p, unsigned act, sim_pod_state before);

static void write_status(lh_nodesim *s, sim_pod *p);

static long write_retry_cb(lh_loop *loop, lh_timer *t, void *data) {
  sim_pod *p = data;
  write_status(p->s, p);
  return LH_TIMER_STOP;
}

static void write_done_cb(lh_kube_async *a, int rc, lh_kube_response *resp, void *data) {
  sim_pod *p = data;
  lh_nodesim *s = p->s;
  p->writing = 0;
  if (rc != LH_EKUBE_CLOSED && !s->stopping && !p->gone) {
    if (rc == 0) {
      p->write_fails = 0;
      nsim_stat_add(s, &s->stats.status_writes, 1);
    } else if (resp->http_code == 404) {
      /* deleted meanwhile: the informer will tell us */
    } else {
      nsim_stat_add(s, &s->stats.write_errors, 1);
      LH_WARN(COMP, "pod %s: status write: %ld %s %s", p->key, resp->http_code,
              resp->status.message, resp->error);
      if (++p->write_fails < WRITE_MAX_ATTEMPTS) {
        p->write_again = 0;
        lh_timer_start(&p->wtimer, 200L << (p->write_fails < 6 ? p->write_fails : 6), write_retry_cb, p);
      }
    }
    if (p->write_again) write_status(s, p);
  }
  nsim_pod_unref(p);
}

/* Writes the status of p's current state. At most one write per pod is in flight, so writes
 * arrive in order; a write wanted meanwhile is coalesced into one write of the latest state. */
static void write_status(lh_nodesim *s, sim_pod *p) {
  if (s->stopping || p->gone) return;
  if (p->writing) {
    p->write_again = 1;
    return;
  }
  p->write_again = 0;
  json_t *patch = sim_pod_status_patch(p->obj, &p->sm, &p->t, p->node->spec.host_ip, p->pod_ip);
  if (!patch) return;
  char *txt = json_dumps(patch, JSON_COMPACT);
  json_decref(patch);
  lh_buf path;
  lh_buf_init(&path, 4096);
  int rc = txt ? nsim_pod_path(&path, p->pi.ns, p->pi.name, "status") : LH_EKUBE_NOMEM;
  if (!rc) rc = lh_kube_async_request(s->async, "PATCH", lh_buf_str(&path),
                                      lh_kube_patch_content_type(LH_PATCH_MERGE), txt, strlen(txt),
                                      write_done_cb, p);
  free(txt);
  lh_buf_free(&path);
  if (rc) {
    LH_ERROR(COMP, "pod %s: cannot send status: %s", p->key, lh_kube_strerror(rc));
    return;
  }
  p->writing = 1;
  nsim_pod_ref(p);
}

static void delete_done_cb(lh_kube_async *a, int rc, lh_kube_response *resp, void *data) {
  sim_pod *p = data;
  if (rc != LH_EKUBE_CLOSED && !p->s->stopping && rc != 0 && resp->http_code != 404 &&
      resp->http_code != 409)
    LH_WARN(COMP, "pod %s: confirming deletion: %ld %s %s", p->key, resp->http_code,
            resp->status.message, resp->error);
  nsim_pod_unref(p);
}

/* DELETE with gracePeriodSeconds=0 and a uid precondition: what a kubelet sends once the
 * containers are gone; the server then removes the object. */
static void confirm_delete(lh_nodesim *s, sim_pod *p) {
  lh_kube_delete_opts o = LH_KUBE_DELETE_OPTS_INIT;
  o.grace_period_seconds = 0;
  o.precondition_uid = p->uid;
  char *body = lh_kube_delete_body(&o);
  lh_buf path;
  lh_buf_init(&path, 4096);
  int rc = body ? nsim_pod_path(&path, p->pi.ns, p->pi.name, NULL) : LH_EKUBE_NOMEM;
  if (!rc) rc = lh_kube_async_request(s->async, "DELETE", lh_buf_str(&path), "application/json",
                                      body, strlen(body), delete_done_cb, p);
  free(body);
  lh_buf_free(&path);
  if (rc) LH_ERROR(COMP, "pod %s: cannot send delete: %s", p->key, lh_kube_strerror(rc));
  else nsim_pod_ref(p);
}

static long pod_timer_cb(lh_loop *loop, lh_timer *t, void *data) {
  sim_pod *p = data;
  lh_nodesim *s = p->s;
  sim_pod_state before = p->sm.st;
  unsigned act = sim_pod_step(&p->sm, &p->pi, SIM_EV_TIMER, 0, (int64_t)lh_loop_now(loop), &s->params);
  nsim_pod_ref(p);
  pod_apply(s, p, act, before);
  nsim_pod_unref(p);
  return LH_TIMER_STOP;
}

void nsim_pod_exited(lh_nodesim *s, sim_pod *p, int code) {
  if (p->gone || s->stopping) return;
  sim_pod_state before = p->sm.st;
  unsigned act = sim_pod_step(&p->sm, &p->pi, SIM_EV_EXIT, code, (int64_t)lh_loop_now(s->loop), &s->params);
  pod_apply(s, p, act, before);
}

/* Carries out the actions of one state-machine step and re-arms the pod's timer. */
static void pod_apply(lh_nodesim *s, sim_pod *p, unsigned act, sim_pod_state before) {
  char now[32];
  nsim_now_rfc3339(now);
  sim_pod_state st = p->sm.st;
  if (act & SIM_ACT_WARN_ANNOT)
    LH_WARN(COMP, "pod %s: invalid %s or %s annotation ignored", p->key, SIM_ANN_DURATION, SIM_ANN_EXIT_CODE);
  if (before != st) LH_DEBUG(COMP, "pod %s: %s -> %s", p->key, sim_pod_state_name(before), sim_pod_state_name(st));
  if (before == SIM_ST_RUNNING && (st == SIM_ST_RESTARTING || st == SIM_ST_TERMINATED))
    memcpy(p->t.finished, now, sizeof(now));
  if (st == SIM_ST_RUNNING && (before == SIM_ST_WAITING || before == SIM_ST_RESTARTING)) {
    if (!p->t.start[0]) memcpy(p->t.start, now, sizeof(now));
    memcpy(p->t.last_started, p->t.started[0] ? p->t.started : now, sizeof(now));
    memcpy(p->t.started, now, sizeof(now));
    if (before == SIM_ST_RESTARTING) nsim_stat_add(s, &s->stats.pods_restarted, 1);
    else nsim_stat_add(s, &s->stats.pods_started, 1);
  }
  if (st == SIM_ST_TERMINATED && before == SIM_ST_RUNNING)
    nsim_stat_add(s, p->sm.exit_code == 0 ? &s->stats.pods_succeeded : &s->stats.pods_failed, 1);
  if (act & SIM_ACT_KILL_PROC) nsim_proc_kill(s, p);
  if (act & SIM_ACT_WRITE_STATUS) write_status(s, p);
  if (act & SIM_ACT_START_PROC) nsim_proc_start(s, p); /* may report an exit (start failure) */
  if (act & SIM_ACT_CONFIRM_DELETE) {
    nsim_stat_add(s, &s->stats.pods_deleted, before != SIM_ST_DELETING);
    confirm_delete(s, p);
  }
  if (act & SIM_ACT_FORGET) {
    p->gone = 1;
    lh_timer_stop(&p->timer);
    lh_timer_stop(&p->wtimer);
    map_del(s, p);
    nsim_stat_add(s, &s->stats.pods_tracked, (unsigned long)-1);
    nsim_proc_forget(s, p);
    nsim_pod_unref(p); /* the map's reference */
    return;
  }
  if (p->gone) return;
  if (p->sm.deadline) {
    int64_t d = p->sm.deadline - (int64_t)lh_loop_now(s->loop);
    lh_timer_start(&p->timer, d > 0 ? (long)d : 0, pod_timer_cb, p);
  } else {
    lh_timer_stop(&p->timer);
  }
}

static void pod_gone(lh_nodesim *s, sim_pod *p) {
  sim_pod_state before = p->sm.st;
  unsigned act = sim_pod_step(&p->sm, NULL, SIM_EV_GONE, 0, (int64_t)lh_loop_now(s->loop), &s->params);
  pod_apply(s, p, act, before);
}

/* A pod on one of our nodes was added or changed. */
static void pod_observe(lh_nodesim *s, json_t *obj) {
  sim_pod_info pi;
  if (sim_pod_info_parse(obj, &pi) != 0) return;
  char key[600];
  if ((size_t)snprintf(key, sizeof(key), "%s/%s", pi.ns, pi.name) >= sizeof(key)) return;
  sim_pod *p = map_get(s, key);
  if (p && strcmp(p->uid, pi.uid) != 0) { /* same name, new pod */
    pod_gone(s, p);
    p = NULL;
  }
  if (!p) {
    sim_node *n = nsim_node_lookup(s, pi.node);
    if (!n) return;
    p = calloc(1, sizeof(*p));
    if (!p || !(p->key = strdup(key)) || !(p->uid = strdup(pi.uid)) || map_put(s, p)) {
      if (p) {
        free(p->key);
        free(p->uid);
      }
      free(p);
      LH_ERROR(COMP, "pod %s: out of memory", key);
      return;
    }
    p->s = s;
    p->refs = 1;
    p->node = n;
    lh_timer_init(s->loop, &p->timer);
    lh_timer_init(s->loop, &p->wtimer);
    unsigned host = 2 + (n->ip_next++ % 253u);
    snprintf(p->pod_ip, sizeof(p->pod_ip), "%s.%u", n->ip_base, host);
    nsim_now_rfc3339(p->t.scheduled);
    nsim_stat_add(s, &s->stats.pods_tracked, 1);
  }
  json_decref(p->obj);
  p->obj = json_incref(obj);
  p->pi = pi; /* points into p->obj, which we now hold */
  sim_pod_state before = p->sm.st;
  unsigned act = sim_pod_step(&p->sm, &p->pi, SIM_EV_OBSERVE, 0, (int64_t)lh_loop_now(s->loop), &s->params);
  nsim_pod_ref(p);
  pod_apply(s, p, act, before);
  nsim_pod_unref(p);
}

static void on_pod_add(lh_informer *inf, const void *obj, void *data) {
  const podref *r = obj;
  if (r->obj) pod_observe(data, r->obj);
}

static void on_pod_update(lh_informer *inf, const void *old_obj, const void *new_obj, void *data) {
  const podref *r = new_obj;
  if (r->obj) pod_observe(data, r->obj);
}

static void on_pod_delete(lh_informer *inf, const void *obj, void *data) {
  lh_nodesim *s = data;
  const podref *r = obj;
  if (!r->obj) return;
  sim_pod_info pi;
  if (sim_pod_info_parse(r->obj, &pi) != 0) return;
  char key[600];
  snprintf(key, sizeof(key), "%s/%s", pi.ns, pi.name);
  sim_pod *p = map_get(s, key);
  if (p && strcmp(p->uid, pi.uid) == 0) pod_gone(s, p);
}

/* --- thread -------------------------------------------------------------------------------- */

static void stop_cb(lh_loop *loop, void *data) {
  lh_nodesim *s = data;
  s->stopping = 1;
  lh_loop_stop(loop);
}

static int setup(lh_nodesim *s) {
  lh_kube_async_opts ao = {0};
  ao.max_connections = 8;
  ao.max_in_flight = s->cfg.max_in_flight;
  int rc = lh_kube_async_new(s->loop, s->kube, &ao, &s->async);
  if (rc) {
    snprintf(s->err, sizeof(s->err), "async client: %s", lh_kube_strerror(rc));
    return LH_ENODESIM_KUBE;
  }
  lh_informer_opts io = {0};
  io.resource = &LH_KUBE_PODS;
  io.field_selector = "spec.nodeName!=";
  io.transform = pod_transform;
  io.free_obj = pod_free_obj;
  io.transform_bytes = pod_transform_bytes;
  io.transform_ud = s;
  io.watch_mode = LH_WATCH_HTTP_ONLY;
  lh_informer_handlers h = {on_pod_add, on_pod_update, on_pod_delete, s};
  rc = lh_informer_new(s->loop, s->async, NULL, &io, &h, &s->inf);
  if (!rc) rc = lh_informer_start(s->inf);
  if (rc) {
    snprintf(s->err, sizeof(s->err), "pod informer: %s", lh_kube_strerror(rc));
    return LH_ENODESIM_KUBE;
  }
  for (size_t i = 0; i < s->nnodes; i++) lh_timer_init(s->loop, &s->nodes[i].retry);
  lh_timer_init(s->loop, &s->hb_timer);
  s->hb_next = s->nnodes; /* no heartbeat round until the timer starts one */
  reg_pump(s);
  if (s->cfg.heartbeat_s > 0) lh_timer_start(&s->hb_timer, s->cfg.heartbeat_s * 1000L, heartbeat_cb, s);
  return 0;
}

static void free_pod_node(lh_nodesim *s) {
  for (size_t i = 0; i < s->nslots; i++)
    for (sim_pod *p = s->slots[i], *nx; p; p = nx) {
      nx = p->next;
      p->gone = 1;
      nsim_pod_unref(p);
    }
  free(s->slots);
  s->slots = NULL;
  s->nslots = s->npods = 0;
}

static void teardown(lh_nodesim *s) {
  s->stopping = 1;
  lh_informer_free(s->inf);
  s->inf = NULL;
  nsim_proc_kill_all(s); /* kills and reaps every process group, drops their pod references */
  for (size_t i = 0; i < s->nslots; i++)
    for (sim_pod *p = s->slots[i]; p; p = p->next) {
      lh_timer_stop(&p->timer);
      lh_timer_stop(&p->wtimer);
    }
  for (size_t i = 0; i < s->nnodes; i++) lh_timer_stop(&s->nodes[i].retry);
  lh_timer_stop(&s->hb_timer);
  lh_kube_async_free(s->async); /* pending callbacks run with LH_EKUBE_CLOSED */
  s->async = NULL;
  free_pod_node(s);
}

static void *thread_main(void *arg) {
  lh_nodesim *s = arg;
  /* Named so that its CPU can be told apart in /proc/PID/task when it runs inside another
   * process (the local cluster's --nodes). */
  pthread_setname_np(pthread_self(), "nodesim");
  int rc = setup(s);
  pthread_mutex_lock(&s->mu);
  s->setup_rc = rc;
  s->setup_done = 1;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
  if (rc == 0) lh_loop_run(s->loop);
  teardown(s);
  return NULL;
}

/* --- public -------------------------------------------------------------------------------- */

void lh_nodesim_config_init(lh_nodesim_config *c) {
  memset(c, 0, sizeof(*c));
  c->nodes = 1;
  c->name_prefix = "nodesim-";
  c->cpu_milli = 32000;
  c->memory_bytes = 128LL << 30;
  c->max_pods = 110;
  c->running_delay_ms = 500;
  c->max_in_flight = 128;
}

static void nodesim_free(lh_nodesim *s) {
  if (!s) return;
  lh_loop_free(s->loop);
  lh_kube_config_free(s->kube);
  sim_kvlist_free(&s->labels);
  for (size_t i = 0; i < s->cfg.npools; i++) free((char *)s->pools[i].name);
  free(s->pools);
  free(s->nodes);
  free(s->prefix);
  free(s->cluster);
  free(s->sandbox);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  free(s);
}

/* Checks a DNS-1123 label ("my-pool"). */
static int dns_label(const char *v) {
  size_t n = strlen(v);
  if (n == 0 || n > 63 || v[0] == '-' || v[n - 1] == '-') return 0;
  for (size_t i = 0; i < n; i++)
    if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') || v[i] == '-')) return 0;
  return 1;
}

/* Copies and validates the configuration and builds the node specs. 0 or INVAL/NOMEM (err). */
static int configure(lh_nodesim *s, const lh_nodesim_config *cfg, char *err, size_t errlen) {
  s->cfg = *cfg;
  if (cfg->nodes < 0 || cfg->nodes > 1000000) {
    snprintf(err, errlen, "nodes must be 0..1000000");
    return LH_ENODESIM_INVAL;
  }
  if (cfg->cpu_milli <= 0 || cfg->memory_bytes <= 0 || cfg->gpu < 0 || cfg->max_pods <= 0) {
    snprintf(err, errlen, "node cpu, memory and max pods must be > 0, gpu >= 0");
    return LH_ENODESIM_INVAL;
  }
  const char *prefix = cfg->name_prefix && *cfg->name_prefix ? cfg->name_prefix : "nodesim-";
  if (strlen(prefix) > 200) {
    snprintf(err, errlen, "name prefix too long");
    return LH_ENODESIM_INVAL;
  }
  if (cfg->cluster && (!*cfg->cluster || strlen(cfg->cluster) > 63)) {
    snprintf(err, errlen, "cluster name must be 1..63 characters");
    return LH_ENODESIM_INVAL;
  }
  if (s->cfg.running_delay_ms < 0) s->cfg.running_delay_ms = 500;
  if (s->cfg.max_in_flight <= 0) s->cfg.max_in_flight = 128;
  if (s->cfg.heartbeat_s < 0) s->cfg.heartbeat_s = 0;
  int rc = sim_kvlist_parse(cfg->labels, 1, &s->labels, err, errlen);
  if (rc) return rc;
  int nt = sim_taints_parse(cfg->taints, s->taints, SIM_MAX_TAINTS, err, errlen);
  if (nt < 0) return nt;
  s->ntaints = (size_t)nt;
  s->prefix = strdup(prefix);
  s->cluster = cfg->cluster ? strdup(cfg->cluster) : NULL;
  s->pools = calloc(cfg->npools + 1, sizeof(*s->pools));
  s->nregular = cfg->nodes;
  s->nnodes = (size_t)cfg->nodes + cfg->npools;
  s->nodes = calloc(s->nnodes + 1, sizeof(*s->nodes));
  if (!s->prefix || (cfg->cluster && !s->cluster) || !s->pools || !s->nodes) return LH_ENODESIM_NOMEM;
  s->cfg.npools = 0; /* counts copied names, for nodesim_free */
  for (size_t k = 0; k < cfg->npools; k++) {
    const lh_nodesim_pool *q = &cfg->pools[k];
    if (!q->name || !dns_label(q->name)) {
      snprintf(err, errlen, "serverless pool name '%.60s' must be a DNS-1123 label", q->name ? q->name : "");
      return LH_ENODESIM_INVAL;
    }
    if (q->cpu_milli <= 0 || q->memory_bytes <= 0 || q->gpu < 0) {
      snprintf(err, errlen, "serverless pool %s: the quota needs cpu and memory (and gpu >= 0)", q->name);
      return LH_ENODESIM_INVAL;
    }
    s->pools[k] = *q;
    if (s->pools[k].max_pods <= 0) s->pools[k].max_pods = 1000;
    if (!(s->pools[k].name = strdup(q->name))) return LH_ENODESIM_NOMEM;
    s->cfg.npools++;
  }
  s->cfg.pools = s->pools;
  for (size_t i = 0; i < s->nnodes; i++) {
    sim_node *n = &s->nodes[i];
    sim_node_spec *sp = &n->spec;
    n->s = s;
    int pool = i >= (size_t)cfg->nodes;
    const lh_nodesim_pool *q = pool ? &s->pools[i - (size_t)cfg->nodes] : NULL;
    sp->index = pool ? -1 - (int)(i - (size_t)cfg->nodes) : (int)i;
    if (pool) snprintf(sp->name, sizeof(sp->name), "%spool-%s", prefix, q->name);
    else snprintf(sp->name, sizeof(sp->name), "%s%zu", prefix, i);
    sp->cpu_milli = pool ? q->cpu_milli : cfg->cpu_milli;
    sp->memory_bytes = pool ? q->memory_bytes : cfg->memory_bytes;
    sp->gpu = pool ? q->gpu : cfg->gpu;
    sp->max_pods = pool ? q->max_pods : cfg->max_pods;
    sp->labels = &s->labels;
    sp->cluster = s->cluster;
    sp->pool = pool ? q->name : NULL;
    sp->taints = s->taints;
    sp->ntaints = s->ntaints;
    sim_node_addresses(sp->index, sp->host_ip, sp->pod_cidr);
    snprintf(n->ip_base, sizeof(n->ip_base), "%.15s", sp->pod_cidr);
    char *dot = strrchr(n->ip_base, '.');
    if (dot) *dot = '\0';
  }
  s->params.running_delay_ms = s->cfg.running_delay_ms;
  s->params.delete_retry_ms = 5000;
  s->params.exec = cfg->exec;
  if (cfg->exec) {
    char def[256];
    const char *tmp = getenv("TMPDIR");
    snprintf(def, sizeof(def), "%s/lahar-nodesim-%ld", tmp && *tmp ? tmp : "/tmp", (long)getpid());
    s->sandbox = strdup(cfg->sandbox_dir && *cfg->sandbox_dir ? cfg->sandbox_dir : def);
    if (!s->sandbox) return LH_ENODESIM_NOMEM;
    if (mkdir(s->sandbox, 0755) != 0 && errno != EEXIST) {
      snprintf(err, errlen, "sandbox %s: %s", s->sandbox, strerror(errno));
      return LH_ENODESIM_SYS;
    }
  }
  return 0;
}

int lh_nodesim_start(const lh_nodesim_config *cfg, lh_nodesim **out, char *err, size_t errlen) {
  *out = NULL;
  if (!cfg) return LH_ENODESIM_INVAL;
  lh_nodesim *s = calloc(1, sizeof(*s));
  if (!s) return LH_ENODESIM_NOMEM;
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  int rc = configure(s, cfg, err, errlen);
  if (rc) {
    if (rc == LH_ENODESIM_NOMEM) snprintf(err, errlen, "out of memory");
    nodesim_free(s);
    return rc;
  }
  s->cfg.kube = NULL;
  char kerr[256] = "";
  int krc = cfg->kube ? ((s->kube = lh_kube_config_dup(cfg->kube)) ? 0 : LH_EKUBE_NOMEM)
            : cfg->kubeconfig ? lh_kube_config_load_file(cfg->kubeconfig, NULL, &s->kube, kerr, sizeof(kerr))
                              : lh_kube_config_load_default(NULL, &s->kube, kerr, sizeof(kerr));
  if (krc) {
    snprintf(err, errlen, "kubeconfig: %s %s", lh_kube_strerror(krc), kerr);
    nodesim_free(s);
    return LH_ENODESIM_KUBE;
  }
  s->loop = lh_loop_new();
  if (!s->loop) {
    snprintf(err, errlen, "cannot create the event loop");
    nodesim_free(s);
    return LH_ENODESIM_SYS;
  }
  if (pthread_create(&s->thread, NULL, thread_main, s) != 0) {
    snprintf(err, errlen, "cannot create the thread");
    nodesim_free(s);
    return LH_ENODESIM_SYS;
  }
  pthread_mutex_lock(&s->mu);
  while (!s->setup_done) pthread_cond_wait(&s->cv, &s->mu);
  rc = s->setup_rc;
  pthread_mutex_unlock(&s->mu);
  if (rc) {
    snprintf(err, errlen, "%s", s->err);
    pthread_join(s->thread, NULL);
    nodesim_free(s);
    return rc;
  }
  LH_INFO(COMP, "started: %d nodes %s*, %zu serverless pools, exec %s", s->nregular, s->prefix,
          s->cfg.npools, s->cfg.exec ? "on" : "off");
  *out = s;
  return 0;
}

int lh_nodesim_wait_registered(lh_nodesim *s, long timeout_ms) {
  struct timespec dl;
  clock_gettime(CLOCK_REALTIME, &dl);
  if (timeout_ms >= 0) {
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) dl.tv_sec++, dl.tv_nsec -= 1000000000L;
  }
  int rc = 0;
  pthread_mutex_lock(&s->mu);
  while (s->reg_done < s->nnodes && rc == 0)
    rc = timeout_ms < 0 ? pthread_cond_wait(&s->cv, &s->mu) : pthread_cond_timedwait(&s->cv, &s->mu, &dl);
  int out = s->reg_done < s->nnodes ? LH_ENODESIM_TIMEOUT
            : s->stats.nodes_failed ? LH_ENODESIM_REGISTER : 0;
  pthread_mutex_unlock(&s->mu);
  return out;
}

void lh_nodesim_stop(lh_nodesim *s) {
  if (!s) return;
  lh_loop_post(s->loop, stop_cb, s);
  pthread_join(s->thread, NULL);
  LH_INFO(COMP, "stopped");
  nodesim_free(s);
}

void lh_nodesim_get_stats(lh_nodesim *s, lh_nodesim_stats *st) {
  pthread_mutex_lock(&s->mu);
  *st = s->stats;
  pthread_mutex_unlock(&s->mu);
}
