/* leader.h — leader election on a coordination.k8s.io/v1 Lease (client-go's leaderelection,
 * simplified): a pure state machine with an injected clock (lh_le_*) and the I/O that drives it
 * on the controller's loop (lh_ctl_le_*, in leader.c).
 *
 * Rules (client-go's):
 *   - every retry period: GET the Lease. If it is absent, CREATE it holding it ourselves.
 *   - If another identity holds it and the record was last seen CHANGING less than
 *     lease_duration ago (by OUR monotonic clock, never by the server's timestamps), do nothing.
 *   - Otherwise UPDATE it (holder = us, renewTime = now, acquireTime kept while we hold it,
 *     leaseTransitions + 1 on a change of holder) with the resourceVersion we read: optimistic
 *     concurrency, a 409 means somebody else won.
 *   - The leader that has not renewed successfully for renew_deadline stops leading at once
 *     (and schedules nothing more), before its lease can expire for the others.
 * Unit-tested by tests/unit/test_ctl_leader.c. */
#ifndef LAHAR_CORE_LEADER_H
#define LAHAR_CORE_LEADER_H

#include <jansson.h>
#include <stdint.h>

typedef struct lh_le_record {
  char holder[130];       /* holderIdentity, "" when none */
  long duration_s;        /* leaseDurationSeconds */
  char acquire_time[40];  /* MicroTime text as read */
  char renew_time[40];
  long transitions;       /* leaseTransitions */
  char rv[32];            /* metadata.resourceVersion */
} lh_le_record;

typedef enum {
  LH_LE_NOOP = 0,  /* held by another, valid: wait for the next retry */
  LH_LE_CREATE,    /* POST the new record */
  LH_LE_UPDATE     /* PUT the new record with the read resourceVersion */
} lh_le_action;

typedef struct lh_le {
  const char *identity;
  long lease_ms, renew_ms, retry_ms;
  int leading;              /* 1 while we hold the lease */
  uint64_t last_renew;      /* our clock: last successful acquire/renew */
  int observed;             /* have we read a record */
  lh_le_record obs;         /* the last record read */
  uint64_t observed_at;     /* our clock: when obs last CHANGED */
  unsigned long acquisitions, losses;
} lh_le;

void lh_le_init(lh_le *le, const char *identity, long lease_ms, long renew_ms, long retry_ms);
/* Feeds the result of a GET at time now (exists = 0 for 404) and returns what to write; the
 * record to write is put in *out (wall_time: the RFC 3339 MicroTime of now). */
lh_le_action lh_le_decide(lh_le *le, uint64_t now, int exists, const lh_le_record *got,
                          const char *wall_time, lh_le_record *out);
/* The write (or GET) failed / succeeded at time now. ok: 1 success (rec = what the server now
 * holds), 0 failure. Returns 1 when the leading state changed. */
int lh_le_on_write(lh_le *le, uint64_t now, int ok, const lh_le_record *rec);
/* Called on every tick: a leader past its renew deadline steps down. Returns 1 on a change. */
int lh_le_tick(lh_le *le, uint64_t now);

/* JSON <-> record. Parse returns 0 or -1 (not a Lease). */
int lh_le_record_from_json(const json_t *lease, lh_le_record *r);
/* A full Lease object for ns/name holding r (rv included when r->rv is set). New reference. */
json_t *lh_le_record_to_json(const lh_le_record *r, const char *ns, const char *name);
/* Formats a wall-clock time (ms since the epoch) as a MicroTime "2006-01-02T15:04:05.000000Z". */
void lh_le_microtime(int64_t wall_ms, char *out, size_t len);

#endif
