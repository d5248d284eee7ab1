/* spec.c — parsing, defaulting and validation of Volcano Job specs (see spec.h).
 * Sections: names of phases/events/actions, helpers, policies, tasks, the job, validation. */
#include "jobs/spec.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* --- names ---------------------------------------------------------------------------------- */
static const char *const phase_names[LH_JOB_NPHASES] = {
    "Pending", "Running", "Restarting", "Completing", "Completed",
    "Aborting", "Aborted", "Terminating", "Terminated", "Failed"};
static const char *const event_names[LH_EV_NEVENTS] = {
    "*", "PodFailed", "PodEvicted", "Unknown", "TaskCompleted",
    "TaskFailed", "OutOfSync", "CommandIssued", "JobUpdated"};
static const char *const action_names[LH_ACT_NACTIONS] = {
    "SyncJob", "RestartJob", "AbortJob", "CompleteJob", "TerminateJob", "RestartTask", "ResumeJob"};

const char *lh_jobs_strerror(int rc) {
  switch (rc) {
  case LH_JOBS_OK: return "ok";
  case LH_JOBS_ENOMEM: return "out of memory";
  case LH_JOBS_EPARSE: return "malformed job";
  case LH_JOBS_EINVALID: return "invalid job";
  default: return "unknown error";
  }
}

const char *lh_job_phase_name(lh_job_phase p) {
  return (unsigned)p < LH_JOB_NPHASES ? phase_names[p] : "Pending";
}
int lh_job_phase_parse(const char *s) {
  if (!s || !*s) return LH_JOB_PENDING;
  for (int i = 0; i < LH_JOB_NPHASES; i++)
    if (!strcmp(s, phase_names[i])) return i;
  return -1;
}
int lh_job_phase_finished(lh_job_phase p) {
  return p == LH_JOB_COMPLETED || p == LH_JOB_TERMINATED || p == LH_JOB_FAILED ||
         p == LH_JOB_ABORTED;
}
const char *lh_job_event_name(lh_job_event e) {
  return (unsigned)e < LH_EV_NEVENTS ? event_names[e] : "?";
}
int lh_job_event_parse(const char *s) {
  if (!s) return -1;
  if (!strcmp(s, "JobUnknown")) return LH_EV_UNKNOWN;
  for (int i = 0; i < LH_EV_NEVENTS; i++)
    if (!strcmp(s, event_names[i])) return i;
  return -1;
}
const char *lh_job_action_name(lh_job_action a) {
  return (unsigned)a < LH_ACT_NACTIONS ? action_names[a] : "?";
}
int lh_job_action_parse(const char *s) {
  if (!s) return -1;
  for (int i = 0; i < LH_ACT_NACTIONS; i++)
    if (!strcmp(s, action_names[i])) return i;
  return -1;
}

/* --- helpers -------------------------------------------------------------------------------- */
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return rc;
}

/* Optional integer field: absent/null keeps *out and returns 0; a non-integer (or out of int
 * range) returns LH_JOBS_EPARSE. *has is set to 1 when present. */
static int get_int(const json_t *o, const char *k, int *out, int *has) {
  const json_t *v = json_object_get(o, k);
  if (!v || json_is_null(v)) return 0;
  if (!json_is_integer(v)) return LH_JOBS_EPARSE;
  json_int_t x = json_integer_value(v);
  if (x < -2147483647LL || x > 2147483647LL) return LH_JOBS_EPARSE;
  *out = (int)x;
  if (has) *has = 1;
  return 0;
}

/* Optional string field: absent/null gives NULL (0); a non-string is LH_JOBS_EPARSE. */
static int get_str(const json_t *o, const char *k, const char **out) {
  const json_t *v = json_object_get(o, k);
  *out = NULL;
  if (!v || json_is_null(v)) return 0;
  if (!json_is_string(v)) return LH_JOBS_EPARSE;
  *out = json_string_value(v);
  return 0;
}

static char *dup_or(const char *s, const char *def) {
  const char *v = (s && *s) ? s : def;
  return v ? strdup(v) : NULL;
}

/* --- policies ------------------------------------------------------------------------------- */
/* Parses a policies array (absent: none). Unknown event/action names are kept out of the bitmask
 * but reported through *bad (the first one), so validation can refuse them like the webhook. */
static int parse_policies(const json_t *arr, const char *where, lh_job_policy **out, size_t *n,
                          char *err, size_t errlen) {
  *out = NULL;
  *n = 0;
  if (!arr || json_is_null(arr)) return 0;
  if (!json_is_array(arr))
    return fail(err, errlen, LH_JOBS_EPARSE, "%s.policies: not a list", where);
  size_t cnt = json_array_size(arr);
  if (!cnt) return 0;
  lh_job_policy *p = calloc(cnt, sizeof *p);
  if (!p) return LH_JOBS_ENOMEM;
  for (size_t i = 0; i < cnt; i++) {
    const json_t *po = json_array_get(arr, i);
    if (!json_is_object(po)) {
      free(p);
      return fail(err, errlen, LH_JOBS_EPARSE, "%s.policies[%zu]: not an object", where, i);
    }
    const char *ev = NULL, *act = NULL;
    if (get_str(po, "event", &ev) || get_str(po, "action", &act)) {
      free(p);
      return fail(err, errlen, LH_JOBS_EPARSE, "%s.policies[%zu]: event/action not strings",
                  where, i);
    }
    /* Unknown names become the out-of-range sentinel so validation can report them. */
    if (ev) {
      int e = lh_job_event_parse(ev);
      p[i].events |= e >= 0 ? 1u << e : 1u << 31;
    }
    const json_t *evs = json_object_get(po, "events");
    if (json_is_array(evs)) {
      for (size_t j = 0; j < json_array_size(evs); j++) {
        int e = lh_job_event_parse(json_string_value(json_array_get(evs, j)));
        p[i].events |= e >= 0 ? 1u << e : 1u << 31;
      }
    } else if (evs && !json_is_null(evs)) {
      free(p);
      return fail(err, errlen, LH_JOBS_EPARSE, "%s.policies[%zu].events: not a list", where, i);
    }
    int a = act ? lh_job_action_parse(act) : -1;
    p[i].action = a >= 0 ? (lh_job_action)a : LH_ACT_NACTIONS; /* sentinel: invalid */
    if (get_int(po, "exitCode", &p[i].exit_code, &p[i].has_exit_code)) {
      free(p);
      return fail(err, errlen, LH_JOBS_EPARSE, "%s.policies[%zu].exitCode: not an integer",
                  where, i);
    }
  }
  *out = p;
  *n = cnt;
  return 0;
}

/* --- tasks ---------------------------------------------------------------------------------- */
static void task_free(lh_job_task *t) {
  free(t->name);
  free(t->policies);
  for (size_t i = 0; i < t->ndepends; i++) free(t->depends_on[i]);
  free(t->depends_on);
}

static int parse_task(const json_t *to, size_t idx, lh_job_task *t, char *err, size_t errlen) {
  char where[48];
  snprintf(where, sizeof where, "spec.tasks[%zu]", idx);
  if (!json_is_object(to)) return fail(err, errlen, LH_JOBS_EPARSE, "%s: not an object", where);
  const char *name = NULL;
  if (get_str(to, "name", &name))
    return fail(err, errlen, LH_JOBS_EPARSE, "%s.name: not a string", where);
  if (name && *name) {
    t->name = strdup(name);
  } else { /* the mutating webhook's default: "default" + index */
    char def[32];
    snprintf(def, sizeof def, "default%zu", idx);
    t->name = strdup(def);
  }
  if (!t->name) return LH_JOBS_ENOMEM;
  t->replicas = 0;
  if (get_int(to, "replicas", &t->replicas, NULL))
    return fail(err, errlen, LH_JOBS_EPARSE, "%s.replicas: not an integer", where);
  t->min_available = t->replicas;
  if (get_int(to, "minAvailable", &t->min_available, &t->has_min_available))
    return fail(err, errlen, LH_JOBS_EPARSE, "%s.minAvailable: not an integer", where);
  if (get_int(to, "maxRetry", &t->max_retry, NULL))
    return fail(err, errlen, LH_JOBS_EPARSE, "%s.maxRetry: not an integer", where);
  int rc = parse_policies(json_object_get(to, "policies"), where, &t->policies, &t->npolicies,
                          err, errlen);
  if (rc) return rc;
  const json_t *tmpl = json_object_get(to, "template");
  if (!tmpl || json_is_null(tmpl)) /* pods cannot be built without one */
    return fail(err, errlen, LH_JOBS_EPARSE, "%s.template: missing", where);
  if (!json_is_object(tmpl))
    return fail(err, errlen, LH_JOBS_EPARSE, "%s.template: not an object", where);
  const json_t *tspec = json_object_get(tmpl, "spec");
  if (tspec && !json_is_object(tspec))
    return fail(err, errlen, LH_JOBS_EPARSE, "%s.template.spec: not an object", where);
  t->tmpl = tmpl;
  if (tspec && (get_str(tspec, "hostname", &t->hostname) ||
                get_str(tspec, "subdomain", &t->subdomain)))
    return fail(err, errlen, LH_JOBS_EPARSE, "%s.template.spec.hostname/subdomain", where);
  if (t->hostname && !*t->hostname) t->hostname = NULL;
  if (t->subdomain && !*t->subdomain) t->subdomain = NULL;
  const json_t *dep = json_object_get(to, "dependsOn");
  if (dep && !json_is_null(dep)) {
    if (!json_is_object(dep))
      return fail(err, errlen, LH_JOBS_EPARSE, "%s.dependsOn: not an object", where);
    const json_t *names = json_object_get(dep, "name");
    if (names && !json_is_null(names)) {
      if (!json_is_array(names))
        return fail(err, errlen, LH_JOBS_EPARSE, "%s.dependsOn.name: not a list", where);
      size_t n = json_array_size(names);
      t->depends_on = calloc(n ? n : 1, sizeof *t->depends_on);
      if (!t->depends_on) return LH_JOBS_ENOMEM;
      for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(names, i));
        if (!s) return fail(err, errlen, LH_JOBS_EPARSE, "%s.dependsOn.name[%zu]", where, i);
        if (!(t->depends_on[t->ndepends] = strdup(s))) return LH_JOBS_ENOMEM;
        t->ndepends++;
      }
    }
    const char *it = NULL;
    if (get_str(dep, "iteration", &it))
      return fail(err, errlen, LH_JOBS_EPARSE, "%s.dependsOn.iteration", where);
    t->depends_any = it && !strcmp(it, "any");
  }
  return 0;
}

/* --- the job -------------------------------------------------------------------------------- */
void lh_job_spec_free(lh_job_spec *s) {
  if (!s) return;
  free(s->scheduler);
  free(s->queue);
  free(s->priority_class);
  free(s->ssh_key_path);
  free(s->policies);
  for (size_t i = 0; i < s->ntasks; i++) task_free(&s->tasks[i]);
  free(s->tasks);
  memset(s, 0, sizeof *s);
}

/* Reads spec.plugins: {"env": [], "svc": ["--publish-not-ready-addresses=false"], "ssh": [..]}.
 * Unknown plugin names are a validation matter; here they are remembered as bit 31. */
static int parse_plugins(const json_t *pl, lh_job_spec *s, char *err, size_t errlen) {
  s->svc_publish_not_ready = 1;
  if (!pl || json_is_null(pl)) return 0;
  if (!json_is_object(pl)) return fail(err, errlen, LH_JOBS_EPARSE, "spec.plugins: not a map");
  const char *k;
  const json_t *args;
  json_object_foreach((json_t *)pl, k, args) {
    if (!strcmp(k, "env")) s->plugins |= LH_JOB_PLUGIN_ENV;
    else if (!strcmp(k, "svc")) s->plugins |= LH_JOB_PLUGIN_SVC;
    else if (!strcmp(k, "ssh")) s->plugins |= LH_JOB_PLUGIN_SSH;
    else s->plugins |= 1u << 31;
    if (args && !json_is_null(args) && !json_is_array(args))
      return fail(err, errlen, LH_JOBS_EPARSE, "spec.plugins.%s: not a list", k);
    for (size_t i = 0; i < json_array_size(args); i++) {
      const char *a = json_string_value(json_array_get(args, i));
      if (!a) return fail(err, errlen, LH_JOBS_EPARSE, "spec.plugins.%s[%zu]: not a string", k, i);
      if (!strcmp(k, "svc") && !strncmp(a, "--publish-not-ready-addresses", 29))
        s->svc_publish_not_ready = strcmp(a + 29, "=false") != 0;
      if (!strcmp(k, "ssh") && !strncmp(a, "--ssh-key-file-path=", 20) && a[20]) {
        free(s->ssh_key_path);
        if (!(s->ssh_key_path = strdup(a + 20))) return LH_JOBS_ENOMEM;
      }
    }
  }
  return 0;
}

static int parse_spec(const json_t *job, const lh_job_defaults *d, lh_job_spec *s, char *err,
                      size_t errlen) {
  if (!json_is_object(job)) return fail(err, errlen, LH_JOBS_EPARSE, "job: not an object");
  const json_t *md = json_object_get(job, "metadata");
  if (!json_is_object(md)) return fail(err, errlen, LH_JOBS_EPARSE, "metadata: missing");
  if (get_str(md, "name", &s->name) || !s->name || !*s->name)
    return fail(err, errlen, LH_JOBS_EPARSE, "metadata.name: missing");
  if (get_str(md, "namespace", &s->ns) || get_str(md, "uid", &s->uid))
    return fail(err, errlen, LH_JOBS_EPARSE, "metadata.namespace/uid: not strings");
  if (!s->ns || !*s->ns) s->ns = "default";
  const json_t *spec = json_object_get(job, "spec");
  if (!json_is_object(spec)) return fail(err, errlen, LH_JOBS_EPARSE, "spec: missing");

  const char *sched = NULL, *queue = NULL, *pc = NULL;
  if (get_str(spec, "schedulerName", &sched) || get_str(spec, "queue", &queue) ||
      get_str(spec, "priorityClassName", &pc))
    return fail(err, errlen, LH_JOBS_EPARSE, "spec.schedulerName/queue/priorityClassName");
  s->scheduler = dup_or(sched, d && d->scheduler ? d->scheduler : "lahar");
  s->queue = dup_or(queue, d && d->queue ? d->queue : "default");
  if (!s->scheduler || !s->queue) return LH_JOBS_ENOMEM;
  if (pc && *pc && !(s->priority_class = strdup(pc))) return LH_JOBS_ENOMEM;

  int has_min = 0, has_retry = 0, ttl = 0;
  if (get_int(spec, "minAvailable", &s->min_available, &has_min))
    return fail(err, errlen, LH_JOBS_EPARSE, "spec.minAvailable: not an integer");
  if (get_int(spec, "minSuccess", &s->min_success, &s->has_min_success))
    return fail(err, errlen, LH_JOBS_EPARSE, "spec.minSuccess: not an integer");
  if (get_int(spec, "maxRetry", &s->max_retry, &has_retry))
    return fail(err, errlen, LH_JOBS_EPARSE, "spec.maxRetry: not an integer");
  if (get_int(spec, "ttlSecondsAfterFinished", &ttl, &s->has_ttl))
    return fail(err, errlen, LH_JOBS_EPARSE, "spec.ttlSecondsAfterFinished: not an integer");
  s->ttl_seconds = ttl;
  /* The webhook turns maxRetry 0 (or absent) into the default: 0 cannot be expressed. */
  if (s->max_retry <= 0) s->max_retry = d && d->max_retry > 0 ? d->max_retry : 3;

  int rc = parse_plugins(json_object_get(spec, "plugins"), s, err, errlen);
  if (rc) return rc;
  if (!s->ssh_key_path && !(s->ssh_key_path = strdup("/root/.ssh"))) return LH_JOBS_ENOMEM;
  rc = parse_policies(json_object_get(spec, "policies"), "spec", &s->policies, &s->npolicies,
                      err, errlen);
  if (rc) return rc;

  const json_t *vols = json_object_get(spec, "volumes");
  if (vols && !json_is_null(vols)) {
    if (!json_is_array(vols)) return fail(err, errlen, LH_JOBS_EPARSE, "spec.volumes: not a list");
    s->volumes = vols;
  }

  const json_t *tasks = json_object_get(spec, "tasks");
  if (tasks && !json_is_null(tasks) && !json_is_array(tasks))
    return fail(err, errlen, LH_JOBS_EPARSE, "spec.tasks: not a list");
  size_t n = json_array_size(tasks);
  if (n) {
    s->tasks = calloc(n, sizeof *s->tasks);
    if (!s->tasks) return LH_JOBS_ENOMEM;
  }
  /* Sums in 64 bits: task replicas are int32 each, so their total can pass INT32_MAX. */
  int64_t sum_min = 0, total = 0;
  for (size_t i = 0; i < n; i++) {
    s->ntasks = i + 1; /* so lh_job_spec_free releases a half-parsed task */
    rc = parse_task(json_array_get(tasks, i), i, &s->tasks[i], err, errlen);
    if (rc) return rc;
    total += s->tasks[i].replicas;
    sum_min += s->tasks[i].min_available;
    if (total > INT32_MAX || sum_min > INT32_MAX)
      return fail(err, errlen, LH_JOBS_EPARSE, "spec.tasks: total replicas exceed %d", INT32_MAX);
  }
  s->total_replicas = (int)total;
  /* The webhook's default: minAvailable = sum of task minAvailable (= replicas by default). */
  if (!has_min) s->min_available = (int)sum_min;
  return 0;
}

int lh_job_spec_parse(const json_t *job, const lh_job_defaults *d, lh_job_spec *out, char *err,
                      size_t errlen) {
  memset(out, 0, sizeof *out);
  if (err && errlen) *err = 0;
  int rc = parse_spec(job, d, out, err, errlen);
  if (rc) {
    if (rc == LH_JOBS_ENOMEM) fail(err, errlen, rc, "out of memory");
    lh_job_spec_free(out);
  }
  return rc;
}

int lh_job_spec_task_index(const lh_job_spec *s, const char *name) {
  if (!name) return -1;
  for (size_t i = 0; i < s->ntasks; i++)
    if (!strcmp(s->tasks[i].name, name)) return (int)i;
  return -1;
}

/* --- validation ----------------------------------------------------------------------------- */
/* RFC 1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 characters. */
static int dns1123_label(const char *s) {
  size_t n = strlen(s);
  if (!n || n > 63) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i && i + 1 < n);
    if (!ok) return 0;
  }
  return 1;
}

static int check_policies(const lh_job_policy *p, size_t n, const char *where, char *err,
                          size_t errlen) {
  for (size_t i = 0; i < n; i++) {
    if (p[i].events & (1u << 31))
      return fail(err, errlen, LH_JOBS_EINVALID, "%s policy %zu: invalid policy event", where, i);
    if (p[i].action >= LH_ACT_NACTIONS)
      return fail(err, errlen, LH_JOBS_EINVALID, "%s policy %zu: invalid policy action", where,
                  i);
    if (p[i].events && p[i].has_exit_code)
      return fail(err, errlen, LH_JOBS_EINVALID,
                  "%s policy %zu: must not specify event and exitCode simultaneously", where, i);
    if (!p[i].events && !p[i].has_exit_code)
      return fail(err, errlen, LH_JOBS_EINVALID,
                  "%s policy %zu: either event and exitCode should be specified", where, i);
    if (p[i].has_exit_code && p[i].exit_code == 0)
      return fail(err, errlen, LH_JOBS_EINVALID, "%s policy %zu: 0 is not a valid error code",
                  where, i);
  }
  return 0;
}

int lh_job_spec_validate(const lh_job_spec *s, char *err, size_t errlen) {
  if (err && errlen) *err = 0;
  if (!s->ntasks) return fail(err, errlen, LH_JOBS_EINVALID, "No task specified in job spec");
  if (s->min_available < 0)
    return fail(err, errlen, LH_JOBS_EINVALID, "job 'minAvailable' must be >= 0");
  if (s->has_min_success && s->min_success <= 0)
    return fail(err, errlen, LH_JOBS_EINVALID, "job 'minSuccess' must be > 0");
  if (s->has_ttl && s->ttl_seconds < 0)
    return fail(err, errlen, LH_JOBS_EINVALID, "job 'ttlSecondsAfterFinished' must be >= 0");
  if (s->plugins & (1u << 31))
    return fail(err, errlen, LH_JOBS_EINVALID, "unable to find job plugin (env, svc, ssh only)");
  for (size_t i = 0; i < s->ntasks; i++) {
    const lh_job_task *t = &s->tasks[i];
    if (!dns1123_label(t->name))
      return fail(err, errlen, LH_JOBS_EINVALID,
                  "task name '%s' is not a valid DNS-1123 label", t->name);
    for (size_t j = 0; j < i; j++)
      if (!strcmp(s->tasks[j].name, t->name))
        return fail(err, errlen, LH_JOBS_EINVALID, "duplicated task name %s", t->name);
    if (t->replicas < 0)
      return fail(err, errlen, LH_JOBS_EINVALID, "'replicas' < 0 in task: %s", t->name);
    if (t->min_available < 0 || t->min_available > t->replicas)
      return fail(err, errlen, LH_JOBS_EINVALID,
                  "'minAvailable' is greater than 'replicas' in task: %s", t->name);
    char where[96];
    snprintf(where, sizeof where, "task %s", t->name);
    int rc = check_policies(t->policies, t->npolicies, where, err, errlen);
    if (rc) return rc;
    for (size_t j = 0; j < t->ndepends; j++)
      if (lh_job_spec_task_index(s, t->depends_on[j]) < 0 || !strcmp(t->depends_on[j], t->name))
        return fail(err, errlen, LH_JOBS_EINVALID, "task %s depends on unknown task '%s'",
                    t->name, t->depends_on[j]);
  }
  if (s->total_replicas < s->min_available)
    return fail(err, errlen, LH_JOBS_EINVALID,
                "job 'minAvailable' should not be greater than total replicas in tasks");
  if (s->has_min_success && s->min_success > s->total_replicas)
    return fail(err, errlen, LH_JOBS_EINVALID,
                "job 'minSuccess' should not be greater than total replicas in tasks");
  return check_policies(s->policies, s->npolicies, "job", err, errlen);
}
