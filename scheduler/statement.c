/* statement.c — Volcano's Statement: allocate / pipeline / evict change the session at once and
 * are appended to a log; commit turns the log since a mark into binds and evictions, discard
 * undoes it in reverse order. One statement is open at a time (marks nest trivially). */
#include "scheduler/session.h"

static void queue_add(lh_session *s, int32_t g, const lh_res *r, int sign) {
  const lh_snapshot *sn = s->snap;
  for (int32_t q = sn->groups[g].queue; q >= 0; q = sn->queues[q].parent)
    for (int d = 0; d < LH_RES_N; d++) s->queues[q].alloc.v[d] += sign * r->v[d];
  for (int d = 0; d < LH_RES_N; d++) s->groups[g].alloc.v[d] += sign * r->v[d];
}

static void idle_add(lh_session *s, int32_t cluster, const lh_res *r, int sign) {
  for (int d = 0; d < LH_RES_N; d++) s->cl_idle[cluster].v[d] += sign * r->v[d];
}

static void log_op(lh_session *s, lh_op op) {
  if (LH_GROW(s->ops, s->cap_ops, s->n_ops + 1)) {
    s->oom = 1; /* cannot log: the caller sees oom and abandons the cycle */
    return;
  }
  s->ops[s->n_ops++] = op;
}

size_t lh_stmt_begin(lh_session *s) { return s->n_ops; }

void lh_stmt_allocate(lh_session *s, int32_t t, int32_t cluster, int32_t bin) {
  const lh_m_task *mt = &s->snap->tasks[t];
  lh_sgroup *g = &s->groups[mt->group];
  lh_bin *b = &s->bins[bin];
  log_op(s, (lh_op){.kind = OP_ALLOC, .task = t, .bin = bin, .cluster = cluster,
                    .prev_pinned = g->pinned});
  s->tst[t] = TS_ALLOCATED;
  s->tbin[t] = bin;
  s->tcluster[t] = cluster;
  lh_res_add(&b->used, &mt->req);
  b->pods_used++;
  idle_add(s, cluster, &mt->req, -1);
  g->ready++;
  g->fresh++;
  if (g->pinned < 0) g->pinned = cluster;
  queue_add(s, mt->group, &mt->req, 1);
}

void lh_stmt_pipeline(lh_session *s, int32_t t, int32_t cluster, int32_t bin) {
  const lh_m_task *mt = &s->snap->tasks[t];
  lh_sgroup *g = &s->groups[mt->group];
  lh_bin *b = &s->bins[bin];
  log_op(s, (lh_op){.kind = OP_PIPE, .task = t, .bin = bin, .cluster = cluster,
                    .prev_pinned = g->pinned});
  s->tst[t] = TS_PIPELINED;
  s->tbin[t] = bin;
  s->tcluster[t] = cluster;
  lh_res_add(&b->pipe, &mt->req);
  b->pods_pipe++;
  g->waiting++;
  g->fresh++;
  if (g->pinned < 0) g->pinned = cluster;
  queue_add(s, mt->group, &mt->req, 1);
}

void lh_stmt_evict(lh_session *s, int32_t t, lh_evict_reason why, int32_t for_group) {
  const lh_m_task *mt = &s->snap->tasks[t];
  lh_sgroup *g = &s->groups[mt->group];
  lh_bin *b = &s->bins[s->tbin[t]];
  log_op(s, (lh_op){.kind = OP_EVICT, .why = (uint8_t)why, .task = t, .bin = s->tbin[t],
                    .cluster = s->tcluster[t], .prev_pinned = g->pinned,
                    .for_group = for_group});
  s->tst[t] = TS_EVICTED;
  lh_res_add(&b->rel, &mt->req);
  b->pods_rel++;
  g->ready--;
  g->running--;
  queue_add(s, mt->group, &mt->req, -1);
}

void lh_stmt_commit(lh_session *s, size_t mark) {
  for (size_t i = mark; i < s->n_ops; i++) {
    const lh_op *op = &s->ops[i];
    const lh_m_task *mt = &s->snap->tasks[op->task];
    if (op->kind == OP_ALLOC) {
      if (LH_GROW(s->binds, s->cap_binds, s->n_binds + 1)) {
        s->oom = 1;
        return;
      }
      int32_t node = op->bin < (int32_t)s->snap->n_nodes ? op->bin : -1;
      s->binds[s->n_binds++] =
          (lh_bind){.task = op->task, .group = mt->group, .cluster = op->cluster, .node = node};
    } else if (op->kind == OP_EVICT) {
      if (LH_GROW(s->evs, s->cap_evs, s->n_evs + 1)) {
        s->oom = 1;
        return;
      }
      s->evs[s->n_evs++] = (lh_eviction){.task = op->task, .group = mt->group,
                                          .reason = (lh_evict_reason)op->why,
                                          .for_group = op->for_group};
    }
  }
  s->n_ops = mark; /* committed operations leave the log: state stays as applied */
}

void lh_stmt_discard(lh_session *s, size_t mark) {
  while (s->n_ops > mark) {
    const lh_op *op = &s->ops[--s->n_ops];
    const lh_m_task *mt = &s->snap->tasks[op->task];
    lh_sgroup *g = &s->groups[mt->group];
    lh_bin *b = &s->bins[op->bin];
    if (op->kind == OP_ALLOC) {
      lh_res_sub(&b->used, &mt->req);
      b->pods_used--;
      idle_add(s, op->cluster, &mt->req, 1);
      g->ready--;
      g->fresh--;
      queue_add(s, mt->group, &mt->req, -1);
      s->tst[op->task] = TS_PENDING;
      s->tbin[op->task] = s->tcluster[op->task] = -1;
    } else if (op->kind == OP_PIPE) {
      lh_res_sub(&b->pipe, &mt->req);
      b->pods_pipe--;
      g->waiting--;
      g->fresh--;
      queue_add(s, mt->group, &mt->req, -1);
      s->tst[op->task] = TS_PENDING;
      s->tbin[op->task] = s->tcluster[op->task] = -1;
    } else {
      lh_res_sub(&b->rel, &mt->req);
      b->pods_rel--;
      g->ready++;
      g->running++;
      queue_add(s, mt->group, &mt->req, 1);
      s->tst[op->task] = TS_RUNNING;
    }
    g->pinned = op->prev_pinned;
  }
}
