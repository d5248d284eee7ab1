/* session.c — opening a session over a snapshot (copy the mutable state: bins, task states, group
 * and queue accounting, per-cluster node lists, per-group task order) and closing it. The
 * snapshot is never written. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/session.h"

bool lh_task_is_be(const lh_m_task *t) { return lh_res_is_zero(&t->req); }

bool lh_group_gang_on(const lh_session *s) {
  return lh_conf_hook(s->conf, LH_PL_GANG, LH_HOOK_JOB_READY);
}

int32_t lh_group_need(const lh_session *s, int32_t g) {
  int32_t min = lh_group_gang_on(s) ? s->snap->groups[g].min_member : 0;
  int32_t have = s->groups[g].ready + s->groups[g].waiting;
  return have >= min ? 0 : min - have;
}

void lh_set_reason(lh_session *s, int32_t g, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  char *p = lh_arena_strndup(&s->arena, buf, strlen(buf));
  if (!p) {
    s->oom = 1;
    return;
  }
  s->groups[g].reason = p;
}

/* Task order inside a group: priority desc (priority plugin), then template and request, then name, so batches of equal shape are adjacent
 * when names share a prefix and order never depends on insertion. */
static int task_cmp(const void *a, const void *b, void *ctx) {
  const lh_session *s = ctx;
  const lh_snapshot *sn = s->snap;
  const lh_m_task *x = &sn->tasks[*(const int32_t *)a], *y = &sn->tasks[*(const int32_t *)b];
  /* the priority plugin's task order (switch enableTaskOrder) */
  if (x->priority != y->priority && lh_conf_hook(s->conf, LH_PL_PRIORITY, LH_HOOK_TASK_ORDER))
    return x->priority > y->priority ? -1 : 1;
  if (x->tmpl != y->tmpl) return x->tmpl < y->tmpl ? -1 : 1;
  int c = memcmp(&x->req, &y->req, sizeof(lh_res));
  if (c) return c;
  c = strcmp(lh_strtab_str(&sn->names, x->name), lh_strtab_str(&sn->names, y->name));
  return c;
}

static int csr(size_t n_keys, size_t n_items, const int32_t *key_of, int32_t **off, int32_t **items) {
  *off = lh_calloc(n_keys + 1, sizeof(int32_t));
  *items = lh_malloc((n_items ? n_items : 1) * sizeof(int32_t));
  if (!*off || !*items) return LH_ENOMEM;
  for (size_t i = 0; i < n_items; i++)
    if (key_of[i] >= 0) (*off)[key_of[i] + 1]++;
  for (size_t k = 0; k < n_keys; k++) (*off)[k + 1] += (*off)[k];
  int32_t *fill = lh_malloc((n_keys + 1) * sizeof(int32_t));
  if (!fill) return LH_ENOMEM;
  memcpy(fill, *off, (n_keys + 1) * sizeof(int32_t));
  for (size_t i = 0; i < n_items; i++)
    if (key_of[i] >= 0) (*items)[fill[key_of[i]]++] = (int32_t)i;
  free(fill);
  return 0;
}

int lh_session_open(lh_session *s, const lh_conf *conf, const lh_snapshot *sn, int64_t now) {
  memset(s, 0, sizeof(*s));
  s->conf = conf;
  s->snap = sn;
  s->now = now;
  lh_arena_init(&s->arena);
  size_t nn = sn->n_nodes, nc = sn->n_clusters, nt = sn->n_tasks, ng = sn->n_groups;
  size_t nb = nn + nc;
  s->bins = lh_calloc(nb ? nb : 1, sizeof(lh_bin));
  s->cl_cursor = lh_calloc(nc + 1, sizeof(int32_t));
  s->cl_idle = lh_calloc(nc + 1, sizeof(lh_res));
  s->tst = lh_malloc(nt + 1);
  s->tbin = lh_malloc((nt + 1) * sizeof(int32_t));
  s->tcluster = lh_malloc((nt + 1) * sizeof(int32_t));
  s->groups = lh_calloc(ng + 1, sizeof(lh_sgroup));
  s->queues = lh_calloc(sn->n_queues + 1, sizeof(lh_squeue));
  int32_t *key = lh_malloc((nt > nn ? nt : nn) * sizeof(int32_t) + 1);
  if (!s->bins || !s->cl_cursor || !s->cl_idle || !s->tst || !s->tbin || !s->tcluster ||
      !s->groups || !s->queues || !key)
    goto oom;
  /* bins */
  for (size_t i = 0; i < nn; i++) {
    const lh_m_node *n = &sn->nodes[i];
    s->bins[i].alloc = n->alloc;
    s->bins[i].max_pods = n->max_pods;
    key[i] = n->cluster;
    if (!sn->classes[n->klass].unschedulable) lh_res_add(&s->total, &n->alloc);
  }
  if (csr(nc, nn, key, &s->cl_off, &s->cl_nodes)) goto oom;
  for (size_t c = 0; c < nc; c++) {
    lh_bin *b = &s->bins[nn + c];
    b->max_pods = INT32_MAX;
    if (sn->clusters[c].kind == LH_CLUSTER_SERVERLESS) {
      b->alloc = sn->clusters[c].quota;
      lh_res_add(&s->total, &b->alloc);
    }
  }
  /* tasks */
  for (size_t g = 0; g < ng; g++) {
    s->groups[g].pinned = -1;
    s->groups[g].phase = sn->groups[g].phase;
  }
  for (size_t q = 0; q < sn->n_queues; q++) s->queues[q].leaf = true;
  for (size_t q = 0; q < sn->n_queues; q++)
    if (sn->queues[q].parent >= 0) s->queues[sn->queues[q].parent].leaf = false;
  for (size_t i = 0; i < nt; i++) {
    const lh_m_task *t = &sn->tasks[i];
    lh_sgroup *g = &s->groups[t->group];
    s->tst[i] = (uint8_t)t->state; /* TS_* mirror lh_task_state for the first five */
    s->tcluster[i] = t->cluster;
    s->tbin[i] = t->cluster < 0 ? -1 : (t->node >= 0 ? t->node : (int32_t)nn + t->cluster);
    key[i] = t->group;
    if (t->state == LH_TASK_RUNNING || t->state == LH_TASK_RELEASING) {
      lh_bin *b = &s->bins[s->tbin[i]];
      lh_res_add(&b->used, &t->req);
      b->pods_used++;
      if (t->state == LH_TASK_RELEASING) {
        lh_res_add(&b->rel, &t->req);
        b->pods_rel++;
      }
    }
    if (t->state == LH_TASK_RUNNING) {
      g->ready++;
      g->running++;
      lh_res_add(&g->alloc, &t->req);
      if (g->pinned < 0) g->pinned = t->cluster;
      for (int32_t q = sn->groups[t->group].queue; q >= 0; q = sn->queues[q].parent)
        lh_res_add(&s->queues[q].alloc, &t->req);
    } else if (t->state == LH_TASK_SUCCEEDED) {
      g->ready++;
    }
  }
  if (csr(ng, nt, key, &s->g_off, &s->g_tasks)) goto oom;
  for (size_t g = 0; g < ng; g++) /* qsort_r (glibc): a context, no global */
    qsort_r(s->g_tasks + s->g_off[g], (size_t)(s->g_off[g + 1] - s->g_off[g]), sizeof(int32_t),
            task_cmp, s);
  for (size_t i = 0; i < nt; i++) key[i] = s->tbin[i];
  if (csr(nb, nt, key, &s->b_off, &s->b_tasks)) goto oom;
  for (size_t c = 0; c < nc; c++)
    for (int32_t k = s->cl_off[c]; k < s->cl_off[c + 1]; k++) {
      const lh_bin *b = &s->bins[s->cl_nodes[k]];
      for (int d = 0; d < LH_RES_N; d++) s->cl_idle[c].v[d] += b->alloc.v[d] - b->used.v[d];
    }
  for (size_t c = 0; c < nc; c++)
    if (sn->clusters[c].kind == LH_CLUSTER_SERVERLESS) {
      const lh_bin *b = &s->bins[nn + c];
      for (int d = 0; d < LH_RES_N; d++) s->cl_idle[c].v[d] = b->alloc.v[d] - b->used.v[d];
    }
  /* predicate cache: dense when small enough, else computed on demand */
  if (sn->n_tmpls && sn->n_classes && sn->n_tmpls * sn->n_classes <= (64u << 20)) {
    s->feas = lh_calloc(sn->n_tmpls * sn->n_classes, 1);
    if (!s->feas) goto oom;
  }
  free(key);
  lh_fairshare(s);
  return 0;
oom:
  free(key);
  lh_session_close(s);
  return LH_ENOMEM;
}

int32_t lh_ssn_n_dedicated_nodes(const lh_session *s, int32_t c) {
  return s->cl_off[c + 1] - s->cl_off[c];
}

void lh_session_close(lh_session *s) {
  free(s->bins);
  free(s->cl_off);
  free(s->cl_nodes);
  free(s->cl_cursor);
  free(s->cl_idle);
  free(s->tst);
  free(s->tbin);
  free(s->tcluster);
  free(s->g_off);
  free(s->g_tasks);
  free(s->b_off);
  free(s->b_tasks);
  free(s->groups);
  free(s->queues);
  free(s->feas);
  free(s->ops);
  free(s->binds);
  free(s->evs);
  free(s->admitted);
  free(s->cand_bin);
  free(s->cand_k);
  free(s->heap);
  free(s->cand_score);
  lh_vindex_free(s->vx);
  lh_arena_release(&s->arena);
  memset(s, 0, sizeof(*s));
}
