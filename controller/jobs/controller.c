/* controller.c — the Volcano Job reconciler (see jobs.h). Sections:
 *   bookkeeping   per-job memory (in-flight creates/deletes, eviction flags, exit codes)
 *   requests      async REST requests and their completion callback
 *   handlers      informer handlers: enqueue the owning job, track observed pods
 *   pods          gathering and classifying a job's pods
 *   status        building the Volcano JobStatus
 *   cleanup       deleted jobs: pods, PodGroups, plugin objects
 *   reconcile     one pass: events -> policies -> state machine -> writes
 *   public API
 * Writes of one pass are ordered: the status (with its resourceVersion, so a stale cache view
 * loses with 409) goes first, and only once it succeeded are pods/PodGroup/plugin objects
 * created or deleted. A restarted controller therefore finds the decision in the job status
 * (phase, version, retryCount) and finishes it. */
#include "jobs/jobs.h"

#include "jobs/build.h"
#include "jobs/smap.h"
#include "jobs/spec.h"
#include "jobs/state.h"
#include "kube/pod.h"
#include "util/buf.h"
#include "util/log.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COMP "jobs"
#define MAX_CONDITIONS 64     /* status.conditions kept (the oldest are dropped) */
#define EXPECT_TTL_MS 60000   /* a create not seen by the informer within this is forgotten */

static const lh_kube_resource RES_SERVICES = {"", "v1", "services", 1};
static const lh_kube_resource RES_CONFIGMAPS = {"", "v1", "configmaps", 1};
static const lh_kube_resource RES_SECRETS = {"", "v1", "secrets", 1};

/* --- bookkeeping ---------------------------------------------------------------------------- */
typedef struct job_mem {
  char uid[128];          /* the job's uid when last seen (for cleanup after deletion) */
  lh_smap expect;         /* pod name -> deadline ms: created (or in flight), not yet observed */
  lh_smap deleting;       /* pod name -> 1: deletions we asked for */
  lh_smap evicted;        /* task name -> 1: our pods that vanished without us deleting them */
  lh_smap exit_codes;     /* pod uid -> exit code + 0x10000 (fetched for exitCode policies) */
  lh_smap fetching;       /* pod uid -> 1: exit code GET in flight */
  json_t *last_written;   /* the job as our last status write returned it */
  int status_inflight;    /* a status write is in flight: no new pass until it answers */
  int dirty;              /* something changed meanwhile: reconcile again afterwards */
  int svc_ok, ssh_ok, ssh_inflight; /* plugin objects ensured in this process */
  int cleanup_issued;     /* plugin objects' deletion issued (deleted/finished job) */
} job_mem;

struct lh_jobs_controller {
  lh_ctl *ctl;
  lh_jobs_opts o;
  lh_ctl_reconciler *rec;
  lh_smap jobs;           /* "ns/name" -> job_mem */
  lh_jobs_stats st;
  char sched[128];        /* default scheduler name */
};

static void mem_free(job_mem *m) {
  if (!m) return;
  lh_smap_clear(&m->expect);
  lh_smap_clear(&m->deleting);
  lh_smap_clear(&m->evicted);
  lh_smap_clear(&m->exit_codes);
  lh_smap_clear(&m->fetching);
  json_decref(m->last_written);
  free(m);
}

static job_mem *mem_get(lh_jobs_controller *jc, const char *key, int create) {
  job_mem *m = lh_smap_get(&jc->jobs, key);
  if (m || !create) return m;
  m = calloc(1, sizeof *m);
  if (!m) return NULL;
  if (lh_smap_put(&jc->jobs, key, m)) {
    free(m);
    return NULL;
  }
  return m;
}

static uint64_t now_ms(lh_jobs_controller *jc) { return lh_loop_now(lh_ctl_loop(jc->ctl)); }

static void rfc3339(char out[32], time_t t) {
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static time_t parse_rfc3339(const char *s) {
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) return 0;
  return timegm(&tm);
}

static unsigned long long rv_num(const json_t *obj) {
  const char *rv = lh_ctl_jstr(obj, "metadata.resourceVersion");
  return rv ? strtoull(rv, NULL, 10) : 0;
}

/* --- requests ------------------------------------------------------------------------------- */
typedef enum {
  OP_STATUS, OP_POD_CREATE, OP_POD_DELETE, OP_PG_CREATE, OP_OBJ, OP_SVC_CREATE, OP_CM_CREATE,
  OP_SSH_CREATE, OP_EXIT_GET, OP_OWNED_GET
} op_kind;

typedef struct op {
  struct op *next;        /* the rest of a plan (after a status write) */
  lh_jobs_controller *jc;
  op_kind kind;
  char method[8];
  char *path;
  char *body;             /* NULL: none */
  const char *ctype;
  char key[512];          /* the job's "ns/name" */
  char name[320];         /* pod name / object name / pod uid */
  char uid[128];          /* job uid (OP_OWNED_GET) */
} op;

static void op_free(op *o) {
  while (o) {
    op *n = o->next;
    free(o->path);
    free(o->body);
    free(o);
    o = n;
  }
}

/* A new op; body is taken (freed with the op). NULL on no memory (body freed). */
static op *op_new(lh_jobs_controller *jc, op_kind kind, const char *method,
                  const lh_kube_resource *r, const char *ns, const char *name, const char *sub,
                  char *body, const char *ctype, const char *key) {
  op *o = calloc(1, sizeof *o);
  lh_buf p;
  lh_buf_init(&p, 4096);
  if (!o || lh_kube_path(&p, r, ns, (!strcmp(method, "POST") ? NULL : name), sub)) {
    free(o);
    free(body);
    lh_buf_free(&p);
    return NULL;
  }
  o->jc = jc;
  o->kind = kind;
  snprintf(o->method, sizeof o->method, "%s", method);
  o->path = lh_buf_take(&p);
  o->body = body;
  o->ctype = ctype ? ctype : "application/json";
  snprintf(o->key, sizeof o->key, "%s", key);
  snprintf(o->name, sizeof o->name, "%s", name ? name : "");
  return o;
}

static char *dumps(json_t *j) { /* consumes j */
  char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
  json_decref(j);
  return s;
}

static char *delete_body(lh_jobs_controller *jc, const char *precondition_uid) {
  lh_kube_delete_opts d = LH_KUBE_DELETE_OPTS_INIT;
  d.propagation_policy = "Background";
  d.precondition_uid = precondition_uid;
  d.grace_period_seconds = jc ? jc->o.pod_delete_grace_s : -1;
  return lh_kube_delete_body(&d);
}

static void on_done(lh_kube_async *a, int rc, lh_kube_response *resp, void *data);

/* Submits o (and, for a status op, keeps o->next for after its success). Frees o on failure. */
static void submit(op *o) {
  if (!o) return;
  lh_kube_async *a = lh_ctl_async(o->jc->ctl);
  int rc = lh_kube_async_request(a, o->method, o->path, o->body ? o->ctype : NULL, o->body,
                                 o->body ? strlen(o->body) : 0, on_done, o);
  if (rc) {
    LH_ERROR(COMP, "%s: cannot queue %s %s: %s", o->key, o->method, o->path,
             lh_kube_strerror(rc));
    o->jc->st.errors++;
    lh_ctl_enqueue_after(o->jc->rec, o->key, 1000);
    op_free(o);
  }
}

/* Submits every op of a list (each on its own). */
static void submit_all(op *o) {
  while (o) {
    op *n = o->next;
    o->next = NULL;
    submit(o);
    o = n;
  }
}

static int is_reason(int rc, const lh_kube_response *resp, const char *reason) {
  return rc == LH_EKUBE_HTTP && !strcmp(resp->status.reason, reason);
}

static void retry_later(op *o, int rc, const lh_kube_response *resp) {
  LH_WARN(COMP, "%s: %s %s failed: %s (%ld %s)", o->key, o->method, o->path, lh_kube_strerror(rc),
          resp->http_code, resp->status.message);
  o->jc->st.errors++;
  lh_ctl_enqueue_after(o->jc->rec, o->key, 1000);
}

static int owned_by(const json_t *obj, const char *uid) {
  size_t i;
  json_t *r;
  json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "ownerReferences"), i, r) {
    const char *u = json_string_value(json_object_get(r, "uid"));
    if (u && uid && !strcmp(u, uid)) return 1;
  }
  return 0;
}

static void on_done(lh_kube_async *a, int rc, lh_kube_response *resp, void *data) {
  (void)a;
  op *o = data;
  lh_jobs_controller *jc = o->jc;
  job_mem *m = mem_get(jc, o->key, 0);
  int ok = rc == 0;
  if (rc == LH_EKUBE_CLOSED) { /* shutting down */
    op_free(o);
    return;
  }
  switch (o->kind) {
  case OP_STATUS: {
    if (m) m->status_inflight = 0;
    op *rest = o->next;
    o->next = NULL;
    if (ok) {
      jc->st.status_writes++;
      json_t *j = resp->body ? json_loads(resp->body, 0, NULL) : NULL;
      if (m && j) {
        json_decref(m->last_written);
        m->last_written = j;
      } else {
        json_decref(j);
      }
      submit_all(rest);
    } else {
      op_free(rest);
      if (is_reason(rc, resp, "Conflict")) {
        jc->st.status_conflicts++;
        lh_ctl_enqueue_after(jc->rec, o->key, 50);
      } else if (!is_reason(rc, resp, "NotFound")) {
        retry_later(o, rc, resp);
      }
    }
    if (m && m->dirty) {
      m->dirty = 0;
      lh_ctl_enqueue(jc->rec, o->key);
    }
    break;
  }
  case OP_POD_CREATE:
    if (ok) {
      jc->st.pods_created++;
    } else if (is_reason(rc, resp, "AlreadyExists")) {
      jc->st.pods_already_existed++;
    } else {
      if (m) lh_smap_del(&m->expect, o->name);
      retry_later(o, rc, resp);
    }
    break;
  case OP_POD_DELETE:
    if (ok || is_reason(rc, resp, "NotFound")) {
      if (ok) jc->st.pods_deleted++;
    } else {
      if (m) lh_smap_del(&m->deleting, o->name);
      retry_later(o, rc, resp);
    }
    break;
  case OP_PG_CREATE:
    if (ok) jc->st.podgroups_created++;
    else if (!is_reason(rc, resp, "AlreadyExists")) retry_later(o, rc, resp);
    break;
  case OP_SVC_CREATE:
  case OP_SSH_CREATE:
    if (o->kind == OP_SSH_CREATE && m) m->ssh_inflight = 0;
    if (ok || is_reason(rc, resp, "AlreadyExists")) {
      if (m && o->kind == OP_SVC_CREATE) m->svc_ok = 1;
      if (m && o->kind == OP_SSH_CREATE) m->ssh_ok = 1; /* an existing secret keeps its keys */
    } else {
      retry_later(o, rc, resp);
    }
    break;
  case OP_CM_CREATE:
    if (is_reason(rc, resp, "AlreadyExists") && o->body) {
      /* refresh the host lists (replicas may have changed): merge-patch the data */
      json_t *cm = json_loads(o->body, 0, NULL);
      json_t *patch = cm ? json_pack("{s:O}", "data", json_object_get(cm, "data")) : NULL;
      json_decref(cm);
      char *ns = strdup(o->key);
      char *slash = ns ? strchr(ns, '/') : NULL;
      if (slash) {
        *slash = 0;
        submit(op_new(jc, OP_OBJ, "PATCH", &RES_CONFIGMAPS, ns, o->name, NULL, dumps(patch),
                      lh_kube_patch_content_type(LH_PATCH_MERGE), o->key));
      } else {
        json_decref(patch);
      }
      free(ns);
    } else if (!ok) {
      retry_later(o, rc, resp);
    }
    break;
  case OP_OBJ:
    if (!ok && !is_reason(rc, resp, "NotFound")) retry_later(o, rc, resp);
    break;
  case OP_EXIT_GET: {
    if (m) lh_smap_del(&m->fetching, o->name);
    if (!ok) {
      if (!is_reason(rc, resp, "NotFound")) retry_later(o, rc, resp);
      break;
    }
    json_t *pod = json_loads(resp->body ? resp->body : "", 0, NULL);
    json_t *cs = json_array_get(json_object_get(json_object_get(pod, "status"),
                                                "containerStatuses"), 0);
    json_t *term = json_object_get(json_object_get(cs, "state"), "terminated");
    if (!term) term = json_object_get(json_object_get(cs, "lastState"), "terminated");
    long long code = json_integer_value(json_object_get(term, "exitCode"));
    if (m) lh_smap_put(&m->exit_codes, o->name, (void *)(intptr_t)(code + 0x10000));
    json_decref(pod);
    lh_ctl_enqueue(jc->rec, o->key);
    break;
  }
  case OP_OWNED_GET: {
    if (!ok) {
      if (!is_reason(rc, resp, "NotFound")) retry_later(o, rc, resp);
      break;
    }
    json_t *obj = json_loads(resp->body ? resp->body : "", 0, NULL);
    const char *ouid = lh_ctl_jstr(obj, "metadata.uid");
    if (obj && ouid && owned_by(obj, o->uid)) {
      /* delete exactly the object we looked at (precondition uid) */
      op *d = calloc(1, sizeof *d);
      if (d) {
        *d = *o;
        d->next = NULL;
        d->kind = OP_OBJ;
        snprintf(d->method, sizeof d->method, "DELETE");
        d->path = strdup(o->path);
        d->body = delete_body(NULL, ouid);
        d->ctype = "application/json";
        if (!d->path || !d->body) {
          op_free(d);
          d = NULL;
        }
        submit(d);
      }
    }
    json_decref(obj);
    break;
  }
  }
  op_free(o);
}

/* --- handlers ------------------------------------------------------------------------------- */
static const char *kv_get(const lh_pod_kv *kv, unsigned n, const char *k) {
  for (unsigned i = 0; i < n; i++)
    if (kv[i].k && !strcmp(kv[i].k, k)) return kv[i].v;
  return NULL;
}
static const char *pod_label(const lh_pod *p, const char *k) {
  return kv_get(p->labels, p->nlabels, k);
}
static const char *pod_ann(const lh_pod *p, const char *k) {
  return kv_get(p->annotations, p->nannotations, k);
}

/* The job key of a pod we (or Volcano) created, into key; 0 or -1 when it is no job's pod. */
static int pod_job_key(const lh_pod *p, char *key, size_t len) {
  /* only pods a Job controls (Volcano's job controller looks at controller references too): a
   * pod merely labelled volcano.sh/job-name with no Job owner is not ours to reconcile — and
   * must never be deleted as the leftover of a missing job */
  if (!p->owner_kind || strcmp(p->owner_kind, "Job")) return -1;
  const char *job = pod_label(p, LH_JOB_KEY_JOB_NAME);
  if (!job) job = pod_ann(p, LH_JOB_KEY_JOB_NAME);
  if (!job || !p->ns) return -1;
  int n = snprintf(key, len, "%s/%s", p->ns, job);
  return n < 0 || (size_t)n >= len ? -1 : 0;
}

static void pod_add(lh_informer *inf, const void *obj, void *data) {
  (void)inf;
  lh_jobs_controller *jc = data;
  const lh_pod *p = obj;
  char key[512];
  if (pod_job_key(p, key, sizeof key)) return;
  job_mem *m = mem_get(jc, key, 0);
  if (m) lh_smap_del(&m->expect, p->name);
  lh_ctl_enqueue(jc->rec, key);
}

static void pod_update(lh_informer *inf, const void *old_obj, const void *new_obj, void *data) {
  const lh_pod *o = old_obj, *n = new_obj;
  /* only the changes the reconciler looks at: phase and deletion */
  if (o->phase == n->phase && (o->deletion_ts != 0) == (n->deletion_ts != 0)) return;
  pod_add(inf, new_obj, data);
}

static void pod_delete(lh_informer *inf, const void *obj, void *data) {
  (void)inf;
  lh_jobs_controller *jc = data;
  const lh_pod *p = obj;
  char key[512];
  if (pod_job_key(p, key, sizeof key)) return;
  job_mem *m = mem_get(jc, key, 0);
  int ours = m && lh_smap_del(&m->deleting, p->name);
  if (m) lh_smap_del(&m->expect, p->name);
  if (!ours && !p->deletion_ts && p->owner_uid && p->phase != LH_POD_SUCCEEDED &&
      p->phase != LH_POD_FAILED) {
    /* vanished while alive and not by us: an eviction, if it belongs to the current version */
    const json_t *job = lh_ctl_job(jc->ctl, p->ns, key + strlen(p->ns) + 1);
    const char *ver = pod_ann(p, LH_JOB_KEY_VERSION);
    const char *task = pod_label(p, LH_JOB_KEY_TASK_SPEC);
    if (job && ver && task && atoll(ver) == lh_ctl_jint(job, "status.version", 0) &&
        (m = mem_get(jc, key, 1)))
      lh_smap_put(&m->evicted, task, (void *)1);
  }
  lh_ctl_enqueue(jc->rec, key);
}

static void job_add(lh_informer *inf, const void *obj, void *data) {
  (void)inf;
  lh_jobs_controller *jc = data;
  const char *ns = lh_ctl_jstr(obj, "metadata.namespace"), *name = lh_ctl_jstr(obj, "metadata.name");
  char key[512];
  if (!ns || !name) return;
  snprintf(key, sizeof key, "%s/%s", ns, name);
  lh_ctl_enqueue(jc->rec, key);
}
static void job_update(lh_informer *inf, const void *o, const void *n, void *data) {
  (void)o;
  job_add(inf, n, data);
}
static void job_delete(lh_informer *inf, const void *obj, void *data) {
  lh_jobs_controller *jc = data;
  const char *ns = lh_ctl_jstr(obj, "metadata.namespace"), *name = lh_ctl_jstr(obj, "metadata.name");
  const char *uid = lh_ctl_jstr(obj, "metadata.uid");
  char key[512];
  if (!ns || !name) return;
  snprintf(key, sizeof key, "%s/%s", ns, name);
  job_mem *m = mem_get(jc, key, 1);
  if (m && uid) snprintf(m->uid, sizeof m->uid, "%s", uid);
  if (m) {
    json_decref(m->last_written);
    m->last_written = NULL;
  }
  job_add(inf, obj, data);
}

/* PodGroups owned by a Job: changes (phase, deletion) matter to the owner. */
static void pg_any(lh_informer *inf, const void *obj, void *data) {
  (void)inf;
  lh_jobs_controller *jc = data;
  size_t i;
  json_t *r;
  json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "ownerReferences"), i, r) {
    const char *kind = json_string_value(json_object_get(r, "kind"));
    const char *name = json_string_value(json_object_get(r, "name"));
    const char *ns = lh_ctl_jstr(obj, "metadata.namespace");
    if (kind && name && ns && !strcmp(kind, "Job")) {
      char key[512];
      snprintf(key, sizeof key, "%s/%s", ns, name);
      lh_ctl_enqueue(jc->rec, key);
    }
  }
}
static void pg_update(lh_informer *inf, const void *o, const void *n, void *data) {
  if (json_equal(json_object_get((json_t *)o, "status"), json_object_get((json_t *)n, "status")) &&
      json_equal(json_object_get(json_object_get((json_t *)o, "metadata"), "deletionTimestamp"),
                 json_object_get(json_object_get((json_t *)n, "metadata"), "deletionTimestamp")))
    return;
  pg_any(inf, n, data);
}

/* --- pods ----------------------------------------------------------------------------------- */
typedef struct podref {
  const lh_pod *p;
  int task;               /* spec task index, -1 when the task no longer exists */
  int index;              /* task index, -1 when unreadable */
  long version;           /* volcano.sh/job-version, -1 when absent */
} podref;

typedef struct pod_list {
  podref *v;
  size_t n, cap;
  const lh_job_spec *s;
  const char *name;       /* job name (owner check) */
  const char *uid;        /* job uid, NULL: any (deleted job) */
  int foreign;            /* pods of another job with the same name (older uid) */
  int oom;
} pod_list;

static void collect_pod(const char *key, const void *obj, void *ud) {
  (void)key;
  pod_list *l = ud;
  const lh_pod *p = obj;
  if (!p->owner_kind || strcmp(p->owner_kind, "Job") || !p->owner_name ||
      strcmp(p->owner_name, l->name))
    return; /* not created by a Volcano Job controller */
  if (l->uid && p->owner_uid && strcmp(p->owner_uid, l->uid)) {
    l->foreign++;
    /* a previous job of the same name: collected with task -1 so it is deleted */
  }
  if (l->n == l->cap) {
    size_t nc = l->cap ? l->cap * 2 : 32;
    podref *nv = realloc(l->v, nc * sizeof *nv);
    if (!nv) {
      l->oom = 1;
      return;
    }
    l->v = nv;
    l->cap = nc;
  }
  podref *r = &l->v[l->n++];
  r->p = p;
  const char *task = pod_label(p, LH_JOB_KEY_TASK_SPEC);
  if (!task) task = pod_ann(p, LH_JOB_KEY_TASK_SPEC);
  const char *idx = pod_label(p, LH_JOB_KEY_TASK_INDEX);
  if (!idx) idx = pod_ann(p, LH_JOB_KEY_TASK_INDEX);
  const char *ver = pod_ann(p, LH_JOB_KEY_VERSION);
  r->task = l->s ? lh_job_spec_task_index(l->s, task) : -1;
  r->index = idx ? atoi(idx) : -1;
  r->version = ver ? atol(ver) : -1;
  if (l->uid && p->owner_uid && strcmp(p->owner_uid, l->uid)) r->task = -1;
  /* a pod whose name is not what its labels say is not one of ours to count */
  if (r->task >= 0) {
    char want[512];
    if (lh_job_pod_name(want, sizeof want, l->name, l->s->tasks[r->task].name, r->index) ||
        strcmp(want, p->name) || r->index < 0 || r->index >= l->s->tasks[r->task].replicas)
      r->task = -1;
  }
}

static int cmp_podref(const void *a, const void *b) {
  return strcmp(((const podref *)a)->p->name, ((const podref *)b)->p->name);
}

static int pod_terminating(const job_mem *m, const lh_pod *p) {
  return p->deletion_ts || (m && lh_smap_has(&m->deleting, p->name));
}

static void count_phase(lh_job_counts *c, int phase) {
  switch (phase) {
  case LH_POD_PENDING: c->pending++; break;
  case LH_POD_RUNNING: c->running++; break;
  case LH_POD_SUCCEEDED: c->succeeded++; break;
  case LH_POD_FAILED: c->failed++; break;
  default: c->unknown++; break;
  }
}

static const char *pod_phase_name(int phase) {
  static const char *const n[] = {"Pending", "Running", "Succeeded", "Failed", "Unknown"};
  return phase >= 0 && phase <= LH_POD_UNKNOWN ? n[phase] : "Unknown";
}

static op *delete_pod_op(lh_jobs_controller *jc, job_mem *m, const char *key, const lh_pod *p) {
  if (m && lh_smap_put(&m->deleting, p->name, (void *)1)) return NULL;
  return op_new(jc, OP_POD_DELETE, "DELETE", &LH_KUBE_PODS, p->ns, p->name, NULL,
                delete_body(jc, p->uid), "application/json", key);
}

/* --- cleanup -------------------------------------------------------------------------------- */
typedef struct pg_scan {
  const char *name, *uid;  /* owner job */
  char **names;
  size_t n;
} pg_scan;

static void scan_pg(const char *key, const void *obj, void *ud) {
  (void)key;
  pg_scan *sc = ud;
  size_t i;
  json_t *r;
  json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "ownerReferences"), i, r) {
    const char *kind = json_string_value(json_object_get(r, "kind"));
    const char *name = json_string_value(json_object_get(r, "name"));
    const char *uid = json_string_value(json_object_get(r, "uid"));
    if (!kind || strcmp(kind, "Job") || !name || strcmp(name, sc->name)) continue;
    if (sc->uid && (!uid || !strcmp(uid, sc->uid))) continue; /* the live job's own */
    if (lh_ctl_jstr(obj, "metadata.deletionTimestamp")) continue;
    char **nv = realloc(sc->names, (sc->n + 1) * sizeof *nv);
    if (!nv) return;
    sc->names = nv;
    sc->names[sc->n] = strdup(lh_ctl_jstr(obj, "metadata.name"));
    if (sc->names[sc->n]) sc->n++;
  }
}

/* Deletes PodGroups owned by job `name` but not by live_uid (NULL: all of them). */
static void delete_stale_pgs(lh_jobs_controller *jc, const char *key, const char *ns,
                             const char *name, const char *live_uid) {
  pg_scan sc = {name, live_uid, NULL, 0};
  lh_kube_cache_by_namespace(lh_ctl_cache(jc->ctl, LH_CTL_PODGROUPS), ns, scan_pg, &sc);
  for (size_t i = 0; i < sc.n; i++) {
    submit(op_new(jc, OP_OBJ, "DELETE", &LH_KUBE_VOLCANO_PODGROUPS, ns, sc.names[i], NULL,
                  delete_body(NULL, NULL), "application/json", key));
    free(sc.names[i]);
  }
  free(sc.names);
}

/* The svc/ssh plugin objects of job uid: GET each, DELETE it only if that uid owns it. */
static void delete_plugin_objects(lh_jobs_controller *jc, const char *key, const char *ns,
                                  const char *name, const char *uid) {
  char n1[320], n2[320];
  snprintf(n1, sizeof n1, "%s-svc", name);
  snprintf(n2, sizeof n2, "%s-ssh", name);
  const lh_kube_resource *res[3] = {&RES_SERVICES, &RES_CONFIGMAPS, &RES_SECRETS};
  const char *names[3] = {name, n1, n2};
  for (int i = 0; i < 3; i++) {
    op *o = op_new(jc, OP_OWNED_GET, "GET", res[i], ns, names[i], NULL, NULL, NULL, key);
    if (o) snprintf(o->uid, sizeof o->uid, "%s", uid);
    submit(o);
  }
}

/* The job is gone (or being deleted): delete what it owned. The local cluster garbage-collects
 * by ownerReference, a bare kube-apiserver does not, so this is done explicitly either way. */
static int cleanup_job(lh_jobs_controller *jc, const char *key, const char *ns, const char *name,
                       job_mem *m, const char *uid) {
  pod_list l = {0};
  l.name = name;
  lh_ctl_pods_by_label(jc->ctl, ns, LH_JOB_KEY_JOB_NAME, name, collect_pod, &l);
  size_t live = 0;
  for (size_t i = 0; i < l.n; i++) {
    const lh_pod *p = l.v[i].p;
    if (uid && *uid && p->owner_uid && strcmp(p->owner_uid, uid)) continue;
    live++;
    if (!pod_terminating(m, p)) submit(delete_pod_op(jc, m, key, p));
  }
  free(l.v);
  delete_stale_pgs(jc, key, ns, name, NULL);
  if (m && uid && *uid && !m->cleanup_issued) {
    delete_plugin_objects(jc, key, ns, name, uid);
    m->cleanup_issued = 1;
  }
  if (!live && m && !m->status_inflight) {
    mem_free(lh_smap_del(&jc->jobs, key));
    return 0;
  }
  lh_ctl_requeue_after(jc->rec, key, 2000);
  return 0;
}

/* --- status --------------------------------------------------------------------------------- */
typedef struct status_in {
  const json_t *job;
  const lh_job_spec *s;
  const lh_job_sm_out *out;
  long version;
  json_t *task_counts;    /* taskStatusCount (borrowed) */
  int controlled;         /* 1: report the plugins in controlledResources */
  const char *reason, *message;
  time_t now;
} status_in;

/* The Volcano JobStatus after this pass. Returns a new object or NULL (no memory). */
static json_t *build_status(const status_in *in) {
  const json_t *old = json_object_get(in->job, "status");
  const json_t *old_state = json_object_get(old, "state");
  int initial = !lh_ctl_jstr(in->job, "status.state.phase");
  int trans = in->out->transitioned || initial;
  char ts[32];
  rfc3339(ts, in->now);
  json_t *state;
  if (trans) {
    /* reason and message are omitempty in Volcano's JobState; an empty string would also be
     * refused by apiservers built with Go 1.19 (see hack/realkube/build-zerofix.sh) */
    state = json_pack("{s:s}", "phase", lh_job_phase_name(in->out->phase));
    if (state && in->reason && *in->reason) json_object_set_new(state, "reason", json_string(in->reason));
    if (state && in->message && *in->message) json_object_set_new(state, "message", json_string(in->message));
    if (state) json_object_set_new(state, "lastTransitionTime", json_string(ts));
  } else {
    state = json_is_object(old_state) ? json_deep_copy(old_state) : json_object();
    if (state) json_object_set_new(state, "phase", json_string(lh_job_phase_name(in->out->phase)));
  }
  json_t *conds = json_array();
  const json_t *oc = json_object_get(old, "conditions");
  size_t n = json_array_size(oc), from = 0;
  if (n + (size_t)trans > MAX_CONDITIONS) from = n + (size_t)trans - MAX_CONDITIONS;
  for (size_t i = from; conds && i < n; i++) json_array_append(conds, json_array_get(oc, i));
  if (conds && trans)
    json_array_append_new(conds, json_pack("{s:s, s:s}", "status",
                                           lh_job_phase_name(in->out->phase),
                                           "lastTransitionTime", ts));
  json_t *cr = json_object();
  if (cr && in->controlled) {
    if (in->s->plugins & LH_JOB_PLUGIN_ENV) json_object_set_new(cr, "plugin-env", json_string("env"));
    if (in->s->plugins & LH_JOB_PLUGIN_SVC) json_object_set_new(cr, "plugin-svc", json_string("svc"));
    if (in->s->plugins & LH_JOB_PLUGIN_SSH) json_object_set_new(cr, "plugin-ssh", json_string("ssh"));
  }
  const lh_job_counts *c = &in->out->counts;
  if (!state || !conds || !cr) {
    json_decref(state);
    json_decref(conds);
    json_decref(cr);
    return NULL;
  }
  return json_pack("{s:o, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:O, s:o, s:o}", "state",
                   state, "minAvailable", in->s->min_available, "pending", c->pending, "running",
                   c->running, "succeeded", c->succeeded, "failed", c->failed, "terminating",
                   c->terminating, "unknown", c->unknown, "version", (int)in->version,
                   "retryCount", in->out->retry_count, "taskStatusCount", in->task_counts,
                   "controlledResources", cr, "conditions", conds);
}

/* taskStatusCount[task].phase[P] += 1 */
static void tsc_add(json_t *tsc, const char *task, const char *phase, int n) {
  if (n <= 0) return;
  json_t *t = json_object_get(tsc, task);
  if (!t) {
    t = json_pack("{s:{}}", "phase");
    if (!t || json_object_set_new(tsc, task, t)) return;
  }
  json_t *ph = json_object_get(t, "phase");
  json_object_set_new(ph, phase, json_integer(json_integer_value(json_object_get(ph, phase)) + n));
}

/* A status write carrying the rest of the pass. Takes rest. */
static void write_status(lh_jobs_controller *jc, job_mem *m, const char *key, const json_t *job,
                         json_t *status, op *rest) {
  json_t *copy = json_copy((json_t *)job);
  if (!copy || json_object_set_new(copy, "status", status)) {
    json_decref(copy);
    op_free(rest);
    lh_ctl_enqueue_after(jc->rec, key, 1000);
    return;
  }
  char ns[256];
  snprintf(ns, sizeof ns, "%s", lh_ctl_jstr(job, "metadata.namespace"));
  op *o = op_new(jc, OP_STATUS, "PUT", &LH_KUBE_VOLCANO_JOBS, ns,
                 lh_ctl_jstr(job, "metadata.name"), "status", dumps(copy), "application/json",
                 key);
  if (!o) {
    op_free(rest);
    lh_ctl_enqueue_after(jc->rec, key, 1000);
    return;
  }
  o->next = rest;
  m->status_inflight = 1;
  submit(o);
}

/* Appends o to the list (head/tail); NULL o (no memory) is skipped and reported. */
static void plan_add(op **head, op **tail, op *o, int *oom) {
  if (!o) {
    *oom = 1;
    return;
  }
  if (*tail) (*tail)->next = o;
  else *head = o;
  *tail = o;
}

/* --- reconcile ------------------------------------------------------------------------------ */
typedef struct ev_pick {
  lh_job_action action;
  int task;
  const char *reason;     /* event name */
  char message[512];
} ev_pick;

static void consider(const lh_job_spec *s, ev_pick *pk, lh_job_event ev, int task, int has_exit,
                     int code, const char *pod) {
  if (pk->action != LH_ACT_SYNC) return; /* the first non-sync action wins */
  lh_job_action a = lh_job_apply_policies(s, ev, task, has_exit, code);
  if (a == LH_ACT_SYNC) return;
  pk->action = a;
  pk->task = task;
  pk->reason = lh_job_event_name(ev);
  if (has_exit)
    snprintf(pk->message, sizeof pk->message, "%s: %s of pod %s (exit code %d)",
             lh_job_action_name(a), lh_job_event_name(ev), pod, code);
  else
    snprintf(pk->message, sizeof pk->message, "%s: %s of %s", lh_job_action_name(a),
             lh_job_event_name(ev), pod);
}

static int needs_exit_code(const lh_job_spec *s, int task) {
  for (size_t i = 0; i < s->npolicies; i++)
    if (s->policies[i].has_exit_code) return 1;
  if (task >= 0)
    for (size_t i = 0; i < s->tasks[task].npolicies; i++)
      if (s->tasks[task].policies[i].has_exit_code) return 1;
  return 0;
}

/* The job has exceeded its TTL after finishing: delete it (precondition uid). */
static void ttl_check(lh_jobs_controller *jc, const char *key, const json_t *job,
                      const lh_job_spec *s, time_t finished_at, time_t now) {
  if (!s->has_ttl) return;
  time_t due = finished_at + s->ttl_seconds;
  if (now < due) {
    lh_ctl_requeue_after(jc->rec, key, (long)(due - now) * 1000 + 100);
    return;
  }
  LH_INFO(COMP, "%s: ttlSecondsAfterFinished (%ld s) passed, deleting the job", key,
          s->ttl_seconds);
  submit(op_new(jc, OP_OBJ, "DELETE", &LH_KUBE_VOLCANO_JOBS, s->ns, s->name, NULL,
                delete_body(NULL, lh_ctl_jstr(job, "metadata.uid")), "application/json", key));
}

static void job_ref(lh_ctl_ref *ref, const json_t *job) {
  lh_ctl_ref_from_json(ref, job, "Job", "batch.volcano.sh/v1alpha1");
}

/* An invalid job (Volcano's webhook would have refused it) goes Failed once, with the reason. */
static int reject_job(lh_jobs_controller *jc, job_mem *m, const char *key, const json_t *job,
                      const char *reason, const char *msg) {
  const char *ph = lh_ctl_jstr(job, "status.state.phase");
  if (ph && strcmp(ph, "Pending")) return 0; /* already decided (or running: leave it) */
  char ts[32];
  rfc3339(ts, time(NULL));
  json_t *st = json_pack("{s:{s:s, s:s, s:s, s:s}, s:i, s:[{s:s, s:s}]}", "state", "phase",
                         "Failed", "reason", reason, "message", msg, "lastTransitionTime", ts,
                         "version", 0, "conditions", "status", "Failed", "lastTransitionTime", ts);
  if (!st) return LH_EKUBE_NOMEM;
  lh_ctl_ref ref;
  job_ref(&ref, job);
  lh_ctl_event(jc->ctl, &ref, LH_CTL_EVENT_WARNING, reason, "%s", msg);
  LH_WARN(COMP, "%s: refused: %s", key, msg);
  write_status(jc, m, key, job, st, NULL);
  return 0;
}

typedef struct pass {
  lh_jobs_controller *jc;
  job_mem *m;
  const char *key;
  const json_t *job;
  const lh_job_spec *s;
  lh_job_phase phase;
  long version;
  int retry;
  pod_list l;
  size_t *off;            /* per task: offset of its slots in occ */
  unsigned char *occ;     /* slot taken (a pod of any version exists or a create is in flight) */
  int *succ, *alive, *ready; /* per task: succeeded, pending+running+unknown, running+succeeded */
  int *expected;          /* per task: creates in flight / not yet observed */
  lh_job_counts c;
  int missing;
} pass;

static void pass_free(pass *p) {
  free(p->l.v);
  free(p->off);
  free(p->occ);
  free(p->succ);
  free(p->alive);
  free(p->ready);
  free(p->expected);
}

/* Classifies the pods into counts and slots. Returns 0 or LH_EKUBE_NOMEM. */
static int pass_pods(pass *p) {
  const lh_job_spec *s = p->s;
  size_t nt = s->ntasks ? s->ntasks : 1;
  p->off = calloc(nt + 1, sizeof *p->off);
  p->succ = calloc(nt, sizeof *p->succ);
  p->alive = calloc(nt, sizeof *p->alive);
  p->ready = calloc(nt, sizeof *p->ready);
  p->expected = calloc(nt, sizeof *p->expected);
  for (size_t t = 0; t < s->ntasks; t++)
    p->off[t + 1] = p->off[t] + (size_t)(s->tasks[t].replicas > 0 ? s->tasks[t].replicas : 0);
  p->occ = calloc(p->off[s->ntasks] + 1, 1);
  p->l.s = s;
  p->l.name = s->name;
  p->l.uid = s->uid;
  lh_ctl_pods_by_label(p->jc->ctl, s->ns, LH_JOB_KEY_JOB_NAME, s->name, collect_pod, &p->l);
  if (!p->off || !p->succ || !p->alive || !p->ready || !p->expected || !p->occ || p->l.oom) return LH_EKUBE_NOMEM;
  if (p->l.n) qsort(p->l.v, p->l.n, sizeof *p->l.v, cmp_podref);
  for (size_t i = 0; i < p->l.n; i++) {
    podref *r = &p->l.v[i];
    if (r->task >= 0) p->occ[p->off[r->task] + (size_t)r->index] = 1;
    if (pod_terminating(p->m, r->p)) {
      p->c.terminating++;
      continue;
    }
    if (r->task < 0 || r->version != p->version) continue; /* stale: handled by the ops */
    count_phase(&p->c, r->p->phase);
    if (r->p->phase == LH_POD_SUCCEEDED) p->succ[r->task]++;
    if (r->p->phase == LH_POD_RUNNING || r->p->phase == LH_POD_SUCCEEDED) p->ready[r->task]++;
    if (r->p->phase == LH_POD_PENDING || r->p->phase == LH_POD_RUNNING ||
        r->p->phase == LH_POD_UNKNOWN)
      p->alive[r->task]++;
  }
  /* creates in flight (or done but not yet observed) hold their slot and count as pending */
  uint64_t now = now_ms(p->jc);
  for (size_t t = 0; t < s->ntasks; t++)
    for (int i = 0; i < s->tasks[t].replicas; i++) {
      if (p->occ[p->off[t] + (size_t)i]) continue;
      char name[512];
      if (lh_job_pod_name(name, sizeof name, s->name, s->tasks[t].name, i)) continue;
      uintptr_t dl = (uintptr_t)lh_smap_get(&p->m->expect, name);
      if (dl && dl > now) {
        p->occ[p->off[t] + (size_t)i] = 1;
        p->c.pending++;
        p->alive[t]++;
        p->expected[t]++;
      } else {
        if (dl) lh_smap_del(&p->m->expect, name);
        p->missing++;
      }
    }
  return 0;
}

/* Events of this pass, as Volcano's pod handlers would have raised them, mapped through the
 * policies; the first one whose policy asks for something other than a sync wins. */
static void pass_events(pass *p, ev_pick *pk) {
  const lh_job_spec *s = p->s;
  job_mem *m = p->m;
  memset(pk, 0, sizeof *pk);
  pk->action = LH_ACT_SYNC;
  pk->task = -1;
  for (size_t t = 0; t < s->ntasks; t++)
    if (lh_smap_has(&m->evicted, s->tasks[t].name))
      consider(s, pk, LH_EV_POD_EVICTED, (int)t, 0, 0, s->tasks[t].name);
  for (size_t i = 0; i < p->l.n; i++) {
    podref *r = &p->l.v[i];
    const lh_pod *pod = r->p;
    if (r->task < 0 || r->version != p->version) continue;
    if (pod->deletion_ts && !lh_smap_has(&m->deleting, pod->name)) {
      consider(s, pk, LH_EV_POD_EVICTED, r->task, 0, 0, pod->name);
      continue;
    }
    if (pod_terminating(m, pod)) continue;
    if (pod->phase == LH_POD_FAILED) {
      int has = 0, code = 0;
      if (needs_exit_code(s, r->task)) {
        uintptr_t v = (uintptr_t)lh_smap_get(&m->exit_codes, pod->uid);
        if (!v) { /* fetch it; the event is considered once it is known */
          if (!lh_smap_has(&m->fetching, pod->uid) &&
              !lh_smap_put(&m->fetching, pod->uid, (void *)1)) {
            op *o = op_new(p->jc, OP_EXIT_GET, "GET", &LH_KUBE_PODS, pod->ns, pod->name, NULL,
                           NULL, NULL, p->key);
            if (o) snprintf(o->name, sizeof o->name, "%s", pod->uid);
            submit(o);
          }
          continue;
        }
        has = 1;
        code = (int)((intptr_t)v - 0x10000);
      }
      consider(s, pk, LH_EV_POD_FAILED, r->task, has, code, pod->name);
    } else if (pod->phase == LH_POD_UNKNOWN) {
      consider(s, pk, LH_EV_UNKNOWN, r->task, 0, 0, pod->name);
    }
  }
  for (size_t t = 0; t < s->ntasks; t++)
    if (s->tasks[t].replicas > 0 && p->succ[t] >= s->tasks[t].replicas)
      consider(s, pk, LH_EV_TASK_COMPLETED, (int)t, 0, 0, s->tasks[t].name);
}

/* May task t's pods be created (dependsOn: the named tasks have minAvailable pods running)? */
static int deps_ready(const pass *p, size_t t) {
  const lh_job_task *task = &p->s->tasks[t];
  if (!task->ndepends) return 1;
  int any = 0, all = 1;
  for (size_t i = 0; i < task->ndepends; i++) {
    int d = lh_job_spec_task_index(p->s, task->depends_on[i]);
    int ok = d >= 0 && p->ready[d] >= p->s->tasks[d].min_available;
    any |= ok;
    all &= ok;
  }
  return task->depends_any ? any : all;
}

static int pass_run(pass *p) {
  lh_jobs_controller *jc = p->jc;
  const lh_job_spec *s = p->s;
  job_mem *m = p->m;
  int rc = pass_pods(p);
  if (rc) return rc;
  ev_pick pk;
  if (p->phase == LH_JOB_PENDING || p->phase == LH_JOB_RUNNING) {
    pass_events(p, &pk);
  } else {
    memset(&pk, 0, sizeof pk);
    pk.task = -1;
  }
  lh_smap_clear(&m->evicted);

  lh_job_sm_in in = {0};
  in.phase = p->phase;
  in.action = pk.action;
  in.restart_task = pk.task;
  in.retry_count = p->retry;
  in.counts = p->c;
  in.to_create = p->missing;
  in.task_succeeded = p->succ;
  in.task_alive = p->alive;
  lh_job_sm_out out;
  lh_job_sm_step(s, &in, &out);
  long version = p->version + out.bump_version;
  if (out.op == LH_SM_KILL_NONE && pk.action == LH_ACT_RESTART_JOB) jc->st.restarts++;

  op *head = NULL, *tail = NULL;
  int oom = 0;
  json_t *tsc = json_object();
  if (!tsc) return LH_EKUBE_NOMEM;
  char pgname[512];
  lh_job_podgroup_name(pgname, sizeof pgname, s);
  const json_t *pg = lh_ctl_podgroup(jc->ctl, s->ns, pgname);
  if (pg && lh_ctl_jstr(pg, "metadata.deletionTimestamp")) pg = NULL;

  if (out.op == LH_SM_SYNC) {
    /* pods of older versions or removed tasks/indexes go; RestartTask's task goes */
    for (size_t i = 0; i < p->l.n; i++) {
      podref *r = &p->l.v[i];
      if (pod_terminating(m, r->p)) continue;
      int stale = r->task < 0 || r->version != p->version;
      if (stale || (out.kill_task >= 0 && r->task == out.kill_task)) {
        plan_add(&head, &tail, delete_pod_op(jc, m, p->key, r->p), &oom);
        if (stale) out.counts.terminating++;
        continue;
      }
      tsc_add(tsc, s->tasks[r->task].name, pod_phase_name(r->p->phase), 1);
    }
    /* the PodGroup: created when missing, its spec kept in line with the job */
    json_t *want = lh_job_build_podgroup(p->job, s);
    if (!want) oom = 1;
    else if (!pg)
      plan_add(&head, &tail, op_new(jc, OP_PG_CREATE, "POST", &LH_KUBE_VOLCANO_PODGROUPS, s->ns,
                                    pgname, NULL, dumps(json_incref(want)), NULL, p->key), &oom);
    else if (!json_equal(json_object_get(pg, "spec"), json_object_get(want, "spec"))) {
      json_t *cur = json_deep_copy(json_object_get(pg, "spec"));
      if (cur) json_object_update(cur, json_object_get(want, "spec"));
      if (cur && !json_equal(cur, json_object_get(pg, "spec")))
        plan_add(&head, &tail, op_new(jc, OP_OBJ, "PATCH", &LH_KUBE_VOLCANO_PODGROUPS, s->ns,
                                      pgname, NULL, dumps(json_pack("{s:O}", "spec",
                                                                    json_object_get(want, "spec"))),
                                      lh_kube_patch_content_type(LH_PATCH_MERGE), p->key), &oom);
      json_decref(cur);
    }
    json_decref(want);
    /* plugin objects */
    if ((s->plugins & LH_JOB_PLUGIN_SVC) && !m->svc_ok) {
      plan_add(&head, &tail, op_new(jc, OP_SVC_CREATE, "POST", &RES_SERVICES, s->ns, s->name,
                                    NULL, dumps(lh_job_build_service(s)), NULL, p->key), &oom);
      char cm[320];
      snprintf(cm, sizeof cm, "%s-svc", s->name);
      plan_add(&head, &tail, op_new(jc, OP_CM_CREATE, "POST", &RES_CONFIGMAPS, s->ns, cm, NULL,
                                    dumps(lh_job_build_svc_configmap(s)), NULL, p->key), &oom);
    }
    if ((s->plugins & LH_JOB_PLUGIN_SSH) && !m->ssh_ok && !m->ssh_inflight) {
      char *priv = NULL, *pub = NULL;
      if (!lh_job_ssh_keygen(&priv, &pub)) {
        char sec[320];
        snprintf(sec, sizeof sec, "%s-ssh", s->name);
        plan_add(&head, &tail, op_new(jc, OP_SSH_CREATE, "POST", &RES_SECRETS, s->ns, sec, NULL,
                                      dumps(lh_job_build_ssh_secret(s, priv, pub)), NULL, p->key),
                 &oom);
        m->ssh_inflight = 1;
      } else {
        LH_ERROR(COMP, "%s: ssh key generation failed", p->key);
      }
      if (priv) memset(priv, 0, strlen(priv));
      free(priv);
      free(pub);
    }
    /* the missing pods */
    int gate = 1;
    if (jc->o.wait_for_inqueue) {
      const char *pgph = pg ? lh_ctl_jstr(pg, "status.phase") : NULL;
      gate = pgph && *pgph && strcmp(pgph, "Pending");
    }
    uint64_t deadline = now_ms(jc) + EXPECT_TTL_MS;
    for (size_t t = 0; t < s->ntasks; t++) {
      int ok = gate && deps_ready(p, t);
      for (int i = 0; i < s->tasks[t].replicas; i++) {
        if (p->occ[p->off[t] + (size_t)i]) continue;
        if (!ok) { /* not created (yet): not pending either */
          out.counts.pending--;
          continue;
        }
        json_t *pod = lh_job_build_pod(p->job, s, t, i, (int)version);
        const char *pn = lh_ctl_jstr(pod, "metadata.name");
        if (!pod || !pn || lh_smap_put(&m->expect, pn, (void *)(uintptr_t)deadline)) {
          json_decref(pod);
          oom = 1;
          continue;
        }
        char name[512];
        snprintf(name, sizeof name, "%s", pn);
        plan_add(&head, &tail, op_new(jc, OP_POD_CREATE, "POST", &LH_KUBE_PODS, s->ns, name, NULL,
                                      dumps(pod), NULL, p->key), &oom);
        tsc_add(tsc, s->tasks[t].name, "Pending", 1);
      }
    }
    /* expected (in-flight) creates are reported as pending too */
    for (size_t t = 0; t < s->ntasks; t++) tsc_add(tsc, s->tasks[t].name, "Pending", p->expected[t]);
  } else {
    /* kill: every pod not retained goes (soft retains Succeeded and Failed) */
    for (size_t i = 0; i < p->l.n; i++) {
      podref *r = &p->l.v[i];
      if (pod_terminating(m, r->p)) continue;
      int retain = out.op == LH_SM_KILL_SOFT &&
                   (r->p->phase == LH_POD_SUCCEEDED || r->p->phase == LH_POD_FAILED);
      if (!retain) {
        plan_add(&head, &tail, delete_pod_op(jc, m, p->key, r->p), &oom);
        continue;
      }
      if (r->task >= 0)
        tsc_add(tsc, s->tasks[r->task].name, pod_phase_name(r->p->phase), 1);
      if (r->task < 0 || r->version != p->version) count_phase(&out.counts, r->p->phase);
    }
    if (pg)
      plan_add(&head, &tail, op_new(jc, OP_OBJ, "DELETE", &LH_KUBE_VOLCANO_PODGROUPS, s->ns,
                                    pgname, NULL, delete_body(NULL, NULL), NULL, p->key), &oom);
  }
  if (out.counts.pending < 0) out.counts.pending = 0;
  delete_stale_pgs(jc, p->key, s->ns, s->name, s->uid);

  /* plugin objects of a finished job go once (Volcano's OnJobDelete when it is killed) */
  int finished = lh_job_phase_finished(out.phase);
  int controlled = !finished;
  if (finished && !m->cleanup_issued && (s->plugins & (LH_JOB_PLUGIN_SVC | LH_JOB_PLUGIN_SSH)) &&
      json_object_size(json_object_get(json_object_get(p->job, "status"), "controlledResources"))) {
    delete_plugin_objects(jc, p->key, s->ns, s->name, s->uid);
    m->cleanup_issued = 1;
    m->svc_ok = m->ssh_ok = 0;
  }

  time_t now = time(NULL);
  status_in si = {p->job, s, &out, version, tsc, controlled,
                  pk.action != LH_ACT_SYNC ? pk.reason : "",
                  pk.action != LH_ACT_SYNC ? pk.message : "", now};
  json_t *st = build_status(&si);
  json_decref(tsc);
  if (!st) {
    op_free(head);
    return LH_EKUBE_NOMEM;
  }
  if (pk.action != LH_ACT_SYNC) {
    lh_ctl_ref ref;
    job_ref(&ref, p->job);
    lh_ctl_event(jc->ctl, &ref, LH_CTL_EVENT_NORMAL, "ExecuteAction", "%s", pk.message);
    LH_INFO(COMP, "%s: %s -> %s (retry %d, version %ld)", p->key, pk.message,
            lh_job_phase_name(out.phase), out.retry_count, version);
  } else if (out.transitioned) {
    LH_INFO(COMP, "%s: %s -> %s", p->key, lh_job_phase_name(p->phase),
            lh_job_phase_name(out.phase));
  }
  if (json_equal(st, json_object_get(p->job, "status"))) {
    json_decref(st);
    submit_all(head);
  } else {
    write_status(jc, m, p->key, p->job, st, head);
  }

  if (finished) {
    time_t at = out.transitioned ? now
                                 : parse_rfc3339(lh_ctl_jstr(p->job, "status.state.lastTransitionTime"));
    if (!at) at = now;
    ttl_check(jc, p->key, p->job, s, at, now);
  } else {
    lh_ctl_requeue_after(jc->rec, p->key, jc->o.resync_ms);
  }
  if (oom) {
    jc->st.errors++;
    return LH_EKUBE_NOMEM;
  }
  return 0;
}

static int reconcile(lh_ctl *ctl, const char *key, void *data) {
  lh_jobs_controller *jc = data;
  jc->st.reconciles++;
  if (!lh_ctl_synced(ctl)) {
    lh_ctl_requeue_after(jc->rec, key, 200);
    return 0;
  }
  char ns[256], name[256];
  const char *slash = strchr(key, '/');
  if (!slash || (size_t)(slash - key) >= sizeof ns || strlen(slash + 1) >= sizeof name) return 0;
  memcpy(ns, key, (size_t)(slash - key));
  ns[slash - key] = 0;
  snprintf(name, sizeof name, "%s", slash + 1);
  job_mem *m = mem_get(jc, key, 1);
  if (!m) return LH_EKUBE_NOMEM;
  if (m->status_inflight) {
    m->dirty = 1;
    return 0;
  }
  const json_t *job = lh_ctl_job(ctl, ns, name);
  if (m->last_written) { /* our own write may be newer than the cache */
    const char *u1 = lh_ctl_jstr(job, "metadata.uid"), *u2 = lh_ctl_jstr(m->last_written, "metadata.uid");
    if (job && u1 && u2 && !strcmp(u1, u2) && rv_num(m->last_written) > rv_num(job)) {
      job = m->last_written;
    } else {
      json_decref(m->last_written);
      m->last_written = NULL;
    }
  }
  if (!job) return cleanup_job(jc, key, ns, name, m, m->uid);
  const char *uid = lh_ctl_jstr(job, "metadata.uid");
  if (uid) snprintf(m->uid, sizeof m->uid, "%s", uid);
  if (lh_ctl_jstr(job, "metadata.deletionTimestamp"))
    return cleanup_job(jc, key, ns, name, m, m->uid);

  lh_job_defaults d = {jc->sched, jc->o.default_queue, jc->o.default_max_retry};
  lh_job_spec s;
  char err[512];
  int rc = lh_job_spec_parse(job, &d, &s, err, sizeof err);
  if (rc == LH_JOBS_ENOMEM) return LH_EKUBE_NOMEM;
  if (rc) return reject_job(jc, m, key, job, "InvalidJob", err);
  if (lh_job_spec_validate(&s, err, sizeof err)) {
    rc = reject_job(jc, m, key, job, "InvalidJob", err);
    lh_job_spec_free(&s);
    return rc;
  }
  pass p;
  memset(&p, 0, sizeof p);
  p.jc = jc;
  p.m = m;
  p.key = key;
  p.job = job;
  p.s = &s;
  int ph = lh_job_phase_parse(lh_ctl_jstr(job, "status.state.phase"));
  p.phase = ph < 0 ? LH_JOB_PENDING : (lh_job_phase)ph;
  p.version = (long)lh_ctl_jint(job, "status.version", 0);
  p.retry = (int)lh_ctl_jint(job, "status.retryCount", 0);
  rc = pass_run(&p);
  pass_free(&p);
  lh_job_spec_free(&s);
  return rc;
}

/* --- public API ----------------------------------------------------------------------------- */
void lh_jobs_opts_init(lh_jobs_opts *o) {
  memset(o, 0, sizeof *o);
  o->default_queue = "default";
  o->default_max_retry = 3;
  o->pod_delete_grace_s = -1;
  o->resync_ms = 30000;
  o->max_per_iteration = 64;
}

int lh_jobs_controller_start(lh_ctl *ctl, const lh_jobs_opts *o, lh_jobs_controller **out) {
  *out = NULL;
  if (!ctl) return LH_EKUBE_INVAL;
  lh_jobs_controller *jc = calloc(1, sizeof *jc);
  if (!jc) return LH_EKUBE_NOMEM;
  jc->ctl = ctl;
  if (o) jc->o = *o;
  else lh_jobs_opts_init(&jc->o);
  if (!jc->o.default_queue) jc->o.default_queue = "default";
  if (jc->o.default_max_retry <= 0) jc->o.default_max_retry = 3;
  if (jc->o.resync_ms <= 0) jc->o.resync_ms = 30000;
  if (jc->o.max_per_iteration <= 0) jc->o.max_per_iteration = 64;
  const char *sched = jc->o.default_scheduler;
  if (!sched) {
    const lh_ctl_opts *co = lh_ctl_get_opts(ctl);
    sched = co && co->scheduler_name ? co->scheduler_name : "lahar";
  }
  snprintf(jc->sched, sizeof jc->sched, "%s", sched);
  lh_smap_init(&jc->jobs);

  lh_ctl_reconciler_opts r;
  memset(&r, 0, sizeof r);
  r.name = "jobs";
  r.fn = reconcile;
  r.data = jc;
  r.max_per_iteration = jc->o.max_per_iteration;
  r.leader_only = 1;
  r.wq.base_delay_ms = 100;
  r.wq.max_delay_ms = 30000;
  r.wq.qps = -1; /* the per-key backoff is the limiter: pods are many, jobs few */
  int rc = lh_ctl_add_reconciler(ctl, &r, &jc->rec);
  lh_informer_handlers hp = {pod_add, pod_update, pod_delete, jc};
  lh_informer_handlers hj = {job_add, job_update, job_delete, jc};
  lh_informer_handlers hg = {pg_any, pg_update, pg_any, jc};
  if (!rc) rc = lh_ctl_add_handlers(ctl, LH_CTL_PODS, &hp);
  if (!rc) rc = lh_ctl_add_handlers(ctl, LH_CTL_JOBS, &hj);
  if (!rc) rc = lh_ctl_add_handlers(ctl, LH_CTL_PODGROUPS, &hg);
  if (rc) {
    LH_ERROR(COMP, "cannot register the jobs reconciler: %s", lh_kube_strerror(rc));
    /* handlers already registered keep a pointer to jc: it is leaked on purpose (the ctl
       refuses to start anyway when registration fails) */
    return rc;
  }
  *out = jc;
  return 0;
}

static void free_mem_entry(const char *k, void *v, void *ud) {
  (void)k;
  (void)ud;
  mem_free(v);
}

void lh_jobs_controller_free(lh_jobs_controller *jc) {
  if (!jc) return;
  lh_smap_each(&jc->jobs, free_mem_entry, NULL);
  lh_smap_clear(&jc->jobs);
  free(jc);
}

void lh_jobs_get_stats(const lh_jobs_controller *jc, lh_jobs_stats *st) {
  if (jc) *st = jc->st;
  else memset(st, 0, sizeof *st);
}

static lh_jobs_controller *registered; /* lh_jobs_register's controller (process lifetime) */

int lh_jobs_register(lh_ctl *ctl) {
  if (registered) return LH_EKUBE_INVAL;
  return lh_jobs_controller_start(ctl, NULL, &registered);
}

void lh_jobs_unregister(void) {
  lh_jobs_controller_free(registered);
  registered = NULL;
}
