/* podsm.c — the pure pod side of the simulator: what a pod's JSON says (sim_pod_info), the
 * per-pod state machine (sim_pod_step) and the status bodies it asks the runtime to write.
 * No I/O, no clock: the runtime (nodesim.c) feeds events and times. See sim.h. */
#include "nodesim/sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *jstr(const json_t *o, const char *k) {
  return json_string_value(json_object_get(o, k));
}

static sim_phase phase_of(const char *s) {
  if (!s || strcmp(s, "Pending") == 0) return SIM_PHASE_PENDING;
  if (strcmp(s, "Running") == 0) return SIM_PHASE_RUNNING;
  if (strcmp(s, "Succeeded") == 0) return SIM_PHASE_SUCCEEDED;
  if (strcmp(s, "Failed") == 0) return SIM_PHASE_FAILED;
  return SIM_PHASE_UNKNOWN;
}

int sim_pod_info_parse(const json_t *pod, sim_pod_info *pi) {
  memset(pi, 0, sizeof(*pi));
  const json_t *meta = json_object_get(pod, "metadata");
  const json_t *spec = json_object_get(pod, "spec");
  const json_t *status = json_object_get(pod, "status");
  pi->ns = jstr(meta, "namespace");
  pi->name = jstr(meta, "name");
  pi->uid = jstr(meta, "uid");
  pi->node = jstr(spec, "nodeName");
  if (!pi->ns || !pi->name || !pi->uid) return LH_ENODESIM_INVAL;
  pi->deleting = json_object_get(meta, "deletionTimestamp") != NULL &&
                 !json_is_null(json_object_get(meta, "deletionTimestamp"));
  pi->phase = phase_of(jstr(status, "phase"));
  const char *rp = jstr(spec, "restartPolicy");
  pi->restart = !rp || strcmp(rp, "Always") == 0 ? SIM_RESTART_ALWAYS
                : strcmp(rp, "OnFailure") == 0   ? SIM_RESTART_ON_FAILURE
                                                 : SIM_RESTART_NEVER;
  const json_t *ann = json_object_get(meta, "annotations");
  const char *d = jstr(ann, SIM_ANN_DURATION);
  if (d) {
    if (sim_duration_parse(d, &pi->duration_ms) == 0) pi->has_duration = 1;
    else pi->bad_annotation = 1;
  }
  const char *ec = jstr(ann, SIM_ANN_EXIT_CODE);
  if (ec) {
    char *end;
    errno = 0;
    long v = strtol(ec, &end, 10);
    if (end == ec || *end || errno || v < -2147483647L || v > 2147483647L) pi->bad_annotation = 1;
    else pi->exit_code = (int)v;
  }
  const json_t *cs = json_array_get(json_object_get(status, "containerStatuses"), 0);
  json_int_t rc = json_integer_value(json_object_get(cs, "restartCount"));
  pi->restart_count = rc > 0 && rc < 1000000000 ? (int)rc : 0;
  return 0;
}

const char *sim_pod_state_name(sim_pod_state st) {
  switch (st) {
  case SIM_ST_NEW: return "new";
  case SIM_ST_WAITING: return "waiting";
  case SIM_ST_RUNNING: return "running";
  case SIM_ST_RESTARTING: return "restarting";
  case SIM_ST_TERMINATED: return "terminated";
  case SIM_ST_DELETING: return "deleting";
  }
  return "?";
}

/* A run ended with code: finish the pod or schedule a restart (see sim.h for the rule). */
static unsigned run_ended(sim_pod_sm *sm, const sim_pod_info *pi, int code, int64_t now,
                          const sim_pod_params *p) {
  sm->proc = 0;
  sm->exit_code = code;
  int restart = pi->restart == SIM_RESTART_ALWAYS || (pi->restart == SIM_RESTART_ON_FAILURE && code != 0);
  if (restart) {
    /* Like the kubelet's CrashLoopBackOff, the delay doubles with every restart (from
     * running_delay_ms, capped at 5 minutes), so a crashing pod cannot spin. */
    int64_t delay = p->running_delay_ms > 0 ? p->running_delay_ms : 1;
    for (int i = 0; i < sm->restarts && delay < SIM_RESTART_BACKOFF_MAX_MS; i++) delay *= 2;
    if (delay > SIM_RESTART_BACKOFF_MAX_MS) delay = SIM_RESTART_BACKOFF_MAX_MS;
    sm->st = SIM_ST_RESTARTING;
    sm->deadline = now + delay;
    return 0;
  }
  sm->st = SIM_ST_TERMINATED;
  sm->deadline = 0;
  return SIM_ACT_WRITE_STATUS;
}

/* Enters Running at now: a fresh run (first or restart). */
static unsigned run_begins(sim_pod_sm *sm, const sim_pod_info *pi, int64_t now,
                           const sim_pod_params *p) {
  sm->st = SIM_ST_RUNNING;
  sm->started = now;
  sm->deadline = 0;
  unsigned act = SIM_ACT_WRITE_STATUS;
  if (p->exec) {
    sm->proc = 1;
    act |= SIM_ACT_START_PROC;
  } else if (pi->has_duration) {
    sm->deadline = now + pi->duration_ms;
    if (sm->deadline == 0) sm->deadline = 1; /* 0 means "no timer" */
  }
  return act;
}

unsigned sim_pod_step(sim_pod_sm *sm, const sim_pod_info *pi, sim_event_kind ev, int exit_code,
                      int64_t now, const sim_pod_params *p) {
  unsigned act = 0;
  if (ev == SIM_EV_GONE) {
    act = SIM_ACT_FORGET | (sm->proc ? SIM_ACT_KILL_PROC : 0);
    sm->proc = 0;
    sm->deadline = 0;
    return act;
  }
  if (!pi) return 0;
  if (ev == SIM_EV_OBSERVE && pi->deleting && sm->st != SIM_ST_DELETING) {
    act = SIM_ACT_CONFIRM_DELETE | (sm->proc ? SIM_ACT_KILL_PROC : 0);
    if (sm->st == SIM_ST_NEW && pi->bad_annotation) act |= SIM_ACT_WARN_ANNOT;
    sm->proc = 0;
    sm->st = SIM_ST_DELETING;
    sm->deadline = now + p->delete_retry_ms;
    return act;
  }
  switch (ev) {
  case SIM_EV_OBSERVE:
    if (sm->st != SIM_ST_NEW) return 0; /* later updates (our own writes) change nothing */
    if (pi->bad_annotation) act |= SIM_ACT_WARN_ANNOT;
    sm->restarts = pi->restart_count;
    if (pi->phase == SIM_PHASE_SUCCEEDED || pi->phase == SIM_PHASE_FAILED) {
      sm->st = SIM_ST_TERMINATED; /* finished before we (re)started: nothing to do */
      sm->exit_code = pi->phase == SIM_PHASE_FAILED ? 1 : 0;
    } else if (pi->phase == SIM_PHASE_RUNNING && !p->exec) {
      /* Adopted after a restart of the simulator: it keeps running; its duration counts from
       * now (the original start time is not trusted across clocks). No write needed. */
      sm->st = SIM_ST_RUNNING;
      sm->started = now;
      sm->deadline = pi->has_duration ? now + pi->duration_ms : 0;
      if (pi->has_duration && sm->deadline == 0) sm->deadline = 1;
    } else {
      /* Pending, or Running in exec mode (its process died with the old simulator: start a
       * new one after the delay). */
      sm->st = SIM_ST_WAITING;
      sm->deadline = now + p->running_delay_ms;
      if (sm->deadline == 0) sm->deadline = 1;
    }
    return act;
  case SIM_EV_TIMER:
    if (!sm->deadline || now < sm->deadline) return 0;
    sm->deadline = 0;
    switch (sm->st) {
    case SIM_ST_WAITING: return run_begins(sm, pi, now, p);
    case SIM_ST_RESTARTING:
      sm->restarts++;
      return run_begins(sm, pi, now, p);
    case SIM_ST_RUNNING:
      if (p->exec) return 0; /* processes end by themselves */
      return run_ended(sm, pi, pi->exit_code, now, p);
    case SIM_ST_DELETING:
      sm->deadline = now + p->delete_retry_ms;
      return SIM_ACT_CONFIRM_DELETE;
    default: return 0;
    }
  case SIM_EV_EXIT:
    if (sm->st != SIM_ST_RUNNING || !sm->proc) return 0;
    return run_ended(sm, pi, exit_code, now, p);
  default: return 0;
  }
}

/* --- status bodies ------------------------------------------------------------------------- */

static json_t *cond(const char *type, int ok, const char *when, const char *reason) {
  json_t *c = json_pack("{s:s, s:s, s:n, s:s}", "type", type, "status", ok ? "True" : "False",
                        "lastProbeTime", "lastTransitionTime", when);
  if (c && reason) json_object_set_new(c, "reason", json_string(reason));
  return c;
}

/* containerStatuses (or initContainerStatuses with init=1) for the containers of arr. */
static json_t *container_statuses(const json_t *arr, const sim_pod_sm *sm, const sim_pod_times *t,
                                  const char *uid, int init) {
  json_t *out = json_array();
  size_t i;
  json_t *c;
  json_array_foreach(arr, i, c) {
    const char *name = jstr(c, "name");
    const char *image = jstr(c, "image");
    if (!name) continue;
    char cid[200];
    snprintf(cid, sizeof(cid), "nodesim://%.60s-%s%.80s", uid, init ? "init-" : "", name);
    json_t *state, *last = json_object();
    int ready = 0, started = 0, restarts = init ? 0 : sm->restarts;
    if (init) {
      state = json_pack("{s:{s:i, s:s, s:s, s:s, s:s}}", "terminated", "exitCode", 0, "reason",
                        "Completed", "startedAt", t->start, "finishedAt", t->start, "containerID", cid);
    } else if (sm->st == SIM_ST_TERMINATED) {
      state = json_pack("{s:{s:i, s:s, s:s, s:s, s:s}}", "terminated", "exitCode", sm->exit_code,
                        "reason", sm->exit_code == 0 ? "Completed" : "Error", "startedAt",
                        t->started, "finishedAt", t->finished, "containerID", cid);
    } else {
      ready = started = 1;
      state = json_pack("{s:{s:s}}", "running", "startedAt", t->started);
      if (sm->restarts > 0 && last)
        json_object_set_new(last, "terminated",
                            json_pack("{s:i, s:s, s:s, s:s, s:s}", "exitCode", sm->exit_code,
                                      "reason", sm->exit_code == 0 ? "Completed" : "Error",
                                      "startedAt", t->last_started, "finishedAt", t->finished,
                                      "containerID", cid));
    }
    json_t *cs = json_pack("{s:s, s:o, s:o, s:b, s:i, s:s, s:s, s:s}", "name", name, "state",
                           state, "lastState", last, "ready", ready, "restartCount", restarts,
                           "image", image ? image : "", "imageID", "nodesim://none",
                           "containerID", cid);
    if (cs && !init) json_object_set_new(cs, "started", json_boolean(started));
    if (!cs || json_array_append_new(out, cs)) {
      json_decref(out);
      return NULL;
    }
  }
  return out;
}

json_t *sim_pod_status_patch(const json_t *pod, const sim_pod_sm *sm, const sim_pod_times *t,
                             const char *host_ip, const char *pod_ip) {
  const char *phase;
  int ready;
  switch (sm->st) {
  case SIM_ST_RUNNING:
  case SIM_ST_RESTARTING: phase = "Running", ready = 1; break;
  case SIM_ST_TERMINATED: phase = sm->exit_code == 0 ? "Succeeded" : "Failed", ready = 0; break;
  default: return NULL;
  }
  const json_t *spec = json_object_get(pod, "spec");
  const char *uid = jstr(json_object_get(pod, "metadata"), "uid");
  const char *why = ready ? NULL : "PodCompleted";
  json_t *conds = json_pack("[o, o, o, o]", cond("Initialized", 1, t->start, why),
                            cond("Ready", ready, ready ? t->started : t->finished, why),
                            cond("ContainersReady", ready, ready ? t->started : t->finished, why),
                            cond("PodScheduled", 1, t->scheduled, NULL));
  json_t *cs = container_statuses(json_object_get(spec, "containers"), sm, t, uid ? uid : "", 0);
  json_t *st = json_pack("{s:s, s:o, s:o, s:s, s:s, s:s, s:[{s:s}]}", "phase", phase,
                         "conditions", conds, "containerStatuses", cs, "startTime", t->start,
                         "hostIP", host_ip, "podIP", pod_ip, "podIPs", "ip", pod_ip);
  if (!st) return NULL;
  const json_t *inits = json_object_get(spec, "initContainers");
  if (json_array_size(inits) > 0)
    json_object_set_new(st, "initContainerStatuses", container_statuses(inits, sm, t, uid ? uid : "", 1));
  if (!ready) {
    json_object_set_new(st, "reason", json_null());
    json_object_set_new(st, "message", json_null());
  }
  return json_pack("{s:o}", "status", st);
}
