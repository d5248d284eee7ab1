/* gang.c — trying one pod group, all or nothing (Volcano's allocate inner loop with the gang
 * plugin's JobReady): pick the candidate clusters (the cluster the gang already runs in, or the
 * one its tasks require, else every dedicated cluster in order and then, when bursting is on,
 * the serverless ones), pre-check the cluster's free capacity against what minMember needs, then
 * place batches of identical tasks on a statement and commit only if the gang is ready. */
#include <stdio.h>
#include <string.h>

#include "scheduler/session.h"

/* How many of n more tasks of request r the queue chain's capability still admits. */
static int32_t cap_room(lh_session *s, int32_t q, const lh_res *r, int32_t n) {
  if (!lh_conf_hook(s->conf, LH_PL_PROPORTION, LH_HOOK_ALLOCATABLE)) return n;
  int64_t m = n;
  for (; q >= 0; q = s->snap->queues[q].parent) {
    const lh_m_queue *mq = &s->snap->queues[q];
    for (int d = 0; d < LH_RES_N; d++) {
      if (r->v[d] == 0 || mq->capability.v[d] == LH_UNLIMITED) continue;
      int64_t room = mq->capability.v[d] - s->queues[q].alloc.v[d];
      int64_t k = room > 0 ? room / r->v[d] : 0;
      if (k < m) m = k;
    }
  }
  return (int32_t)m;
}

static bool same_shape(const lh_m_task *a, const lh_m_task *b) {
  return a->tmpl == b->tmpl && memcmp(&a->req, &b->req, sizeof(lh_res)) == 0;
}

bool lh_allocate_group(lh_session *s, int32_t g, int mode) {
  const lh_snapshot *sn = s->snap;
  const lh_m_group *mg = &sn->groups[g];
  lh_sgroup *sg = &s->groups[g];
  int32_t need = lh_group_need(s, g);
  int32_t min = lh_group_gang_on(s) ? mg->min_member : 0;
  int32_t have0 = sg->ready + sg->waiting;
  /* pending tasks to try: allocate takes non-best-effort tasks, plus best-effort ones only as far
     as minMember needs them; backfill takes best-effort tasks */
  int32_t cnt = s->g_off[g + 1] - s->g_off[g], np = 0, n_nonbe = 0;
  int32_t *P = lh_arena_alloc(&s->arena, (size_t)(cnt ? cnt : 1) * sizeof(int32_t));
  if (!P) {
    s->oom = 1;
    return false;
  }
  for (int32_t k = s->g_off[g]; k < s->g_off[g + 1]; k++) {
    int32_t t = s->g_tasks[k];
    if (s->tst[t] == TS_PENDING && !lh_task_is_be(&sn->tasks[t]) && mode == LH_MODE_ALLOCATE)
      P[np++] = t;
  }
  n_nonbe = np;
  int32_t be_quota = mode == LH_MODE_BACKFILL ? cnt : (need > n_nonbe ? need - n_nonbe : 0);
  for (int32_t k = s->g_off[g]; k < s->g_off[g + 1] && np - n_nonbe < be_quota; k++) {
    int32_t t = s->g_tasks[k];
    if (s->tst[t] == TS_PENDING && lh_task_is_be(&sn->tasks[t])) P[np++] = t;
  }
  if (np == 0) {
    if (need > 0) lh_set_reason(s, g, "gang %d/%d: the group has only %d tasks", have0, min, have0);
    return false;
  }
  if (have0 + np < min && mode == LH_MODE_ALLOCATE) {
    int32_t all = have0;
    for (int32_t k = s->g_off[g]; k < s->g_off[g + 1]; k++)
      if (s->tst[s->g_tasks[k]] == TS_PENDING) all++;
    if (all < min) {
      lh_set_reason(s, g, "gang %d/%d: the group has only %d tasks", have0, min, all);
      return false;
    }
  }
  /* candidate clusters */
  int32_t rc = -1;
  for (int32_t i = 0; i < np; i++) {
    int32_t tc = sn->tmpls[sn->tasks[P[i]].tmpl].req_cluster;
    if (tc < 0) continue;
    if (rc >= 0 && tc != rc) {
      int32_t lo = rc < tc ? rc : tc, hi = rc < tc ? tc : rc; /* cluster order: stable text */
      lh_set_reason(s, g, "tasks require different clusters (%s, %s)",
                    lh_strtab_str(&sn->names, sn->clusters[lo].name),
                    lh_strtab_str(&sn->names, sn->clusters[hi].name));
      return false;
    }
    rc = tc;
  }
  if (sg->pinned >= 0 && rc >= 0 && rc != sg->pinned) {
    lh_set_reason(s, g, "tasks require cluster %s but the gang runs in cluster %s",
                  lh_strtab_str(&sn->names, sn->clusters[rc].name),
                  lh_strtab_str(&sn->names, sn->clusters[sg->pinned].name));
    return false;
  }
  int32_t fixed = sg->pinned >= 0 ? sg->pinned : rc;
  /* the resources minMember needs, for the capacity pre-check */
  lh_res need_res = {{0}};
  for (int32_t i = 0; i < np && i < need; i++) lh_res_add(&need_res, &sn->tasks[P[i]].req);

  char best_why[400] = "";
  int32_t best_have = -1;
  size_t ncl = sn->n_clusters;
  for (int pass = 0; pass < 2; pass++) {
    for (size_t ci = 0; ci < ncl; ci++) {
      int32_t c = (int32_t)ci;
      if (fixed >= 0 && c != fixed) continue;
      bool sls = sn->clusters[c].kind == LH_CLUSTER_SERVERLESS;
      if (fixed < 0) {
        if (pass == 0 && sls) continue;
        if (pass == 1 && (!sls || !s->conf->serverless_burst)) continue;
      } else if (pass == 1) {
        continue;
      }
      char why[400];
      int32_t have = have0;
      /* pre-check: the cluster's total free capacity must cover what minMember needs */
      bool pre_ok = true;
      for (int d = 0; d < LH_RES_N && pre_ok; d++) {
        if (need_res.v[d] <= s->cl_idle[c].v[d]) continue;
        char a[32], b[32];
        lh_fmt_qty(a, sizeof a, d, s->cl_idle[c].v[d] > 0 ? s->cl_idle[c].v[d] : 0);
        lh_fmt_qty(b, sizeof b, d, need_res.v[d]);
        snprintf(why, sizeof why, "insufficient %s in cluster %s: %s free, %s needed",
                 lh_res_name(d), lh_strtab_str(&sn->names, sn->clusters[c].name), a, b);
        pre_ok = false;
      }
      if (pre_ok) {
        size_t mark = lh_stmt_begin(s);
        int32_t placed = 0;
        why[0] = 0;
        for (int32_t i = 0; i < np;) {
          int32_t j = i + 1;
          while (j < np && same_shape(&sn->tasks[P[i]], &sn->tasks[P[j]])) j++;
          int32_t n = j - i;
          int32_t room = cap_room(s, mg->queue, &sn->tasks[P[i]].req, n);
          int32_t k = 0;
          if (room > 0) {
            lh_fail f;
            k = lh_place_batch(s, c, P + i, room, &f);
            if (k < room && !why[0]) lh_fail_text(s, &f, c, why, sizeof why);
          }
          if (k < n && room < n && !why[0] && k == room)
            lh_queue_fits_capability(s, mg->queue, &sn->tasks[P[i]].req, false, why, sizeof why);
          placed += k;
          if (s->oom) break;
          /* stop early once minMember is out of reach with the tasks left */
          if (k < n && have0 + placed + (np - j) < min) break;
          i = j;
        }
        have = have0 + placed;
        if (!s->oom && lh_group_need(s, g) == 0 && placed > 0) {
          lh_stmt_commit(s, mark);
          return true;
        }
        lh_stmt_discard(s, mark);
        if (placed == 0 && need == 0 && have0 > 0) return false; /* ready; nothing more fits */
      }
      if (have > best_have) {
        best_have = have;
        snprintf(best_why, sizeof best_why, "%s", why);
      }
    }
  }
  if (need == 0 && have0 > 0) return false;
  if (min == 0) /* gang plugin off: no all-or-nothing, plain reason */
    lh_set_reason(s, g, "%s", best_have < 0 ? "no cluster to try" : best_why);
  else if (best_have < 0)
    lh_set_reason(s, g, "gang %d/%d: no cluster to try%s", have0, min,
                  s->conf->serverless_burst ? "" : " (serverless bursting is off)");
  else if (!strncmp(best_why, "queue ", 6))
    lh_set_reason(s, g, "%s", best_why);
  else
    lh_set_reason(s, g, "gang %d/%d: %s", best_have, min, best_why);
  return false;
}
