/* leader.c — the Lease state machine (pure, injected clock) and the JSON form of a Lease.
 * The I/O that runs it on the loop lives in ctl.c (le_* functions) so this file stays testable. */
#include "core/leader.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void lh_le_init(lh_le *le, const char *identity, long lease_ms, long renew_ms, long retry_ms) {
  memset(le, 0, sizeof(*le));
  le->identity = identity;
  le->lease_ms = lease_ms;
  le->renew_ms = renew_ms;
  le->retry_ms = retry_ms;
}

static int same_record(const lh_le_record *a, const lh_le_record *b) {
  return !strcmp(a->holder, b->holder) && !strcmp(a->renew_time, b->renew_time) &&
         !strcmp(a->acquire_time, b->acquire_time) && a->transitions == b->transitions &&
         a->duration_s == b->duration_s;
}

lh_le_action lh_le_decide(lh_le *le, uint64_t now, int exists, const lh_le_record *got,
                          const char *wall, lh_le_record *out) {
  memset(out, 0, sizeof(*out));
  snprintf(out->holder, sizeof(out->holder), "%s", le->identity);
  out->duration_s = (le->lease_ms + 999) / 1000;
  snprintf(out->renew_time, sizeof(out->renew_time), "%s", wall);
  if (!exists) {
    snprintf(out->acquire_time, sizeof(out->acquire_time), "%s", wall);
    le->observed = 0;
    return LH_LE_CREATE;
  }
  /* The observed time moves only when the record changes: a dead leader's record stops
   * changing, and lease_duration later it may be taken. */
  if (!le->observed || !same_record(&le->obs, got)) {
    le->obs = *got;
    le->observed = 1;
    le->observed_at = now;
  } else {
    snprintf(le->obs.rv, sizeof(le->obs.rv), "%s", got->rv);
  }
  int mine = !strcmp(got->holder, le->identity);
  long dur_ms = got->duration_s > 0 ? got->duration_s * 1000 : le->lease_ms;
  if (got->holder[0] && !mine && now < le->observed_at + (uint64_t)dur_ms) return LH_LE_NOOP;
  snprintf(out->rv, sizeof(out->rv), "%s", got->rv);
  if (mine && le->leading) {
    snprintf(out->acquire_time, sizeof(out->acquire_time), "%s", got->acquire_time);
    out->transitions = got->transitions;
  } else {
    snprintf(out->acquire_time, sizeof(out->acquire_time), "%s", wall);
    out->transitions = got->transitions + (mine ? 0 : 1);
  }
  return LH_LE_UPDATE;
}

int lh_le_on_write(lh_le *le, uint64_t now, int ok, const lh_le_record *rec) {
  if (ok) {
    le->obs = *rec;
    le->observed = 1;
    le->observed_at = now;
    le->last_renew = now;
    if (!le->leading) {
      le->leading = 1;
      le->acquisitions++;
      return 1;
    }
    return 0;
  }
  return lh_le_tick(le, now);
}

int lh_le_tick(lh_le *le, uint64_t now) {
  if (le->leading && now >= le->last_renew + (uint64_t)le->renew_ms) {
    le->leading = 0;
    le->losses++;
    return 1;
  }
  return 0;
}

static void cpy(char *dst, size_t n, const json_t *v) {
  snprintf(dst, n, "%s", json_is_string(v) ? json_string_value(v) : "");
}

int lh_le_record_from_json(const json_t *lease, lh_le_record *r) {
  memset(r, 0, sizeof(*r));
  if (!json_is_object(lease)) return -1;
  const json_t *meta = json_object_get(lease, "metadata");
  const json_t *spec = json_object_get(lease, "spec");
  if (!json_is_object(meta)) return -1;
  cpy(r->rv, sizeof(r->rv), json_object_get(meta, "resourceVersion"));
  if (!json_is_object(spec)) return 0;
  cpy(r->holder, sizeof(r->holder), json_object_get(spec, "holderIdentity"));
  cpy(r->acquire_time, sizeof(r->acquire_time), json_object_get(spec, "acquireTime"));
  cpy(r->renew_time, sizeof(r->renew_time), json_object_get(spec, "renewTime"));
  const json_t *d = json_object_get(spec, "leaseDurationSeconds");
  r->duration_s = json_is_integer(d) ? (long)json_integer_value(d) : 0;
  const json_t *t = json_object_get(spec, "leaseTransitions");
  r->transitions = json_is_integer(t) ? (long)json_integer_value(t) : 0;
  return 0;
}

json_t *lh_le_record_to_json(const lh_le_record *r, const char *ns, const char *name) {
  json_t *meta = json_pack("{s:s, s:s}", "name", name, "namespace", ns);
  if (meta && r->rv[0]) json_object_set_new(meta, "resourceVersion", json_string(r->rv));
  json_t *spec = json_pack("{s:s, s:I, s:I}", "holderIdentity", r->holder, "leaseDurationSeconds",
                           (json_int_t)r->duration_s, "leaseTransitions", (json_int_t)r->transitions);
  if (spec && r->acquire_time[0]) json_object_set_new(spec, "acquireTime", json_string(r->acquire_time));
  if (spec && r->renew_time[0]) json_object_set_new(spec, "renewTime", json_string(r->renew_time));
  if (!meta || !spec) {
    json_decref(meta);
    json_decref(spec);
    return NULL;
  }
  return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "coordination.k8s.io/v1", "kind", "Lease",
                   "metadata", meta, "spec", spec);
}

void lh_le_microtime(int64_t wall_ms, char *out, size_t len) {
  time_t t = (time_t)(wall_ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  char b[32];
  strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, len, "%s.%06ldZ", b, (long)(wall_ms % 1000) * 1000);
}
