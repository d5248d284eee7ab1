/* store_sqlite.c — the SQLite implementation of the local cluster's object store (see store.h).
 *
 * Owns: the database schema, the write path (one SQLite transaction or savepoint per write, every
 * statement prepared once at open), the in-memory watch cache ring, subscriptions, compaction,
 * consistent paged lists, the object counts (store_counts.c holds the table) and the
 * fault-injection hook.
 *
 * Schema (created at open; no schema work per write):
 *   objects(resource, ns, name, rv, uid, json)       current state, PRIMARY KEY(resource, ns, name)
 *   events(rv PRIMARY KEY, type, resource, ns, name,  one row per write; json = the event's object,
 *          prev_rv, old)                              old/prev_rv = the state it replaced (NULL for
 *                                                     ADDED) so a list can be rebuilt at an older rv
 *   meta(k PRIMARY KEY, v)                            "compacted_rv"
 * The current rv is not stored separately: it is max(events.rv, objects.rv, compacted_rv). Since
 * compaction always keeps the newest events (retention >= 1), the last write is never forgotten.
 *
 * Consistent lists at an older rv R (continue tokens, at_rv): rows of `objects` are the state now;
 * for every key written after R, the first event after R tells the state at R: ADDED → absent,
 * otherwise its `old` column. Those corrections are merged into the key-ordered object scan. R must
 * be >= compacted_rv, otherwise EEXPIRED — like etcd's "continue token too old".
 * The corrections query reads the events after R by rowid range (rv is the INTEGER PRIMARY KEY), so
 * a continued page costs the writes since its snapshot, not the size of the events table. An index
 * on events(resource, rv) would skip the other resources' events among those (a continued page of
 * pods after 20k writes of another resource: 5.5 → 0.5 ms) but was measured to cost every write
 * ~20 us of CPU and, in a group commit, to double the bytes written (its pages push the savepoint
 * journal past SQLite's in-memory limit into a temp file), so there is none.
 *
 * remainingItemCount: the continue token carries the number of items listed so far, so a page at
 * the current rv answers count(resource[, ns]) - position from the in-memory counts instead of
 * counting the remaining rows in SQLite (which read every remaining row: ~0.5 s per page of pods
 * in a 140k-pod store). Only tokens without a position (filtered pages, older tokens) still count
 * in SQLite.
 *
 * Reads go through a memory map of the database file (PRAGMA mmap_size): a list of 140k pods cost
 * ~4 us per object in pread() calls and copies, ~1 us mapped. Writes still go through the WAL with
 * write(); SQLite caps the map at its compile-time maximum (2 GiB in Debian's build) and reads the
 * rest with pread(). */
#include "localcluster/store.h"

#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "localcluster/store_counts.h"
#include "util/log.h"

#define LOGC "store"

/* One event: the public view plus its strings in the same allocation. */
typedef struct sev {
  lh_store_event ev;
  char data[];
} sev;

typedef struct sub {
  int id;
  lh_store_event_fn cb; /* NULL once unsubscribed (removed when not dispatching) */
  void *ud;
} sub;

enum {
  ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_SAVEPOINT, ST_RELEASE, ST_ROLLBACK_TO,
  ST_GET, ST_INSERT, ST_UPDATE, ST_DELETE, ST_EVENT,
  ST_LIST_ALL, ST_LIST_NS, ST_REMAIN_ALL, ST_REMAIN_NS, ST_CORR_ALL, ST_CORR_NS,
  ST_EV_SINCE, ST_COMPACT, ST_META_SET, ST_N
};

static const char *const SQL[ST_N] = {
  [ST_BEGIN] = "BEGIN IMMEDIATE",
  [ST_COMMIT] = "COMMIT",
  [ST_ROLLBACK] = "ROLLBACK",
  [ST_SAVEPOINT] = "SAVEPOINT w",
  [ST_RELEASE] = "RELEASE w",
  [ST_ROLLBACK_TO] = "ROLLBACK TO w",
  [ST_GET] = "SELECT rv, uid, json FROM objects WHERE resource=?1 AND ns=?2 AND name=?3",
  [ST_INSERT] = "INSERT INTO objects(resource, ns, name, rv, uid, json) VALUES(?1,?2,?3,?4,?5,?6)",
  [ST_UPDATE] = "UPDATE objects SET rv=?4, uid=?5, json=?6 WHERE resource=?1 AND ns=?2 AND name=?3",
  [ST_DELETE] = "DELETE FROM objects WHERE resource=?1 AND ns=?2 AND name=?3",
  [ST_EVENT] = "INSERT INTO events(rv, type, resource, ns, name, prev_rv, json, old) "
               "VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
  [ST_LIST_ALL] = "SELECT ns, name, rv, json FROM objects WHERE resource=?1 AND (ns, name) > (?2, ?3) "
                  "ORDER BY ns, name",
  [ST_LIST_NS] = "SELECT ns, name, rv, json FROM objects WHERE resource=?1 AND ns=?2 AND name > ?3 "
                 "ORDER BY ns, name",
  /* remainingItemCount for a token without a position only */
  [ST_REMAIN_ALL] = "SELECT count(*) FROM objects WHERE resource=?1 AND (ns, name) > (?2, ?3)",
  [ST_REMAIN_NS] = "SELECT count(*) FROM objects WHERE resource=?1 AND ns=?2 AND name > ?3",
  /* bare columns with min(): SQLite takes them from the row holding the minimum */
  [ST_CORR_ALL] = "SELECT ns, name, type, prev_rv, old, min(rv) FROM events WHERE resource=?1 AND "
                  "rv > ?2 GROUP BY ns, name ORDER BY ns, name",
  [ST_CORR_NS] = "SELECT ns, name, type, prev_rv, old, min(rv) FROM events WHERE resource=?1 AND "
                 "ns=?3 AND rv > ?2 GROUP BY ns, name ORDER BY ns, name",
  [ST_EV_SINCE] = "SELECT rv, type, resource, ns, name, json FROM events WHERE rv > ?1 AND rv < ?2 "
                  "ORDER BY rv",
  [ST_COMPACT] = "DELETE FROM events WHERE rv <= ?1",
  [ST_META_SET] = "INSERT INTO meta(k, v) VALUES(?1, ?2) ON CONFLICT(k) DO UPDATE SET v=excluded.v",
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS objects(resource TEXT NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL,"
    " rv INTEGER NOT NULL, uid TEXT, json BLOB NOT NULL, PRIMARY KEY(resource, ns, name)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS events(rv INTEGER PRIMARY KEY, type INTEGER NOT NULL,"
    " resource TEXT NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL, prev_rv INTEGER,"
    " json BLOB NOT NULL, old BLOB);"
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v INTEGER NOT NULL);";

typedef struct sq_store {
  lh_store base; /* must be first */
  sqlite3 *db;
  sqlite3_stmt *st[ST_N];
  int64_t rv;           /* highest assigned rv (committed unless inside a txn) */
  int64_t compacted_rv; /* events with rv <= this are gone */
  int64_t retention;
  /* watch cache ring, oldest at head */
  sev **ring;
  size_t ring_cap, ring_head, ring_n;
  /* user transaction */
  int in_txn;
  int64_t txn_rv, txn_compacted;
  sev **pending;
  size_t pending_n, pending_cap;
  /* subscriptions */
  sub *subs;
  size_t subs_n, subs_cap;
  int next_sub_id;
  int dispatching; /* >0 while subscriber callbacks run: writes are EMISUSE */
  int subs_dirty;
  /* fault injection */
  int fault_n, fault_rc;
  int wal_frames; /* frames in the WAL after the last commit (sqlite3_wal_hook) */
  /* objects per resource and (resource, ns), including the writes of an open txn (like reads);
   * loaded at open, adjusted after each successful write, reverted by a txn rollback */
  lh_counts *counts;
} sq_store;

static const struct lh_store_methods sq_methods;

/* ---- small helpers ---------------------------------------------------------------------------- */
const char *lh_store_strerror(int rc) {
  switch (rc) {
  case LH_STORE_OK: return "ok";
  case LH_STORE_ENOTFOUND: return "not found";
  case LH_STORE_EEXISTS: return "already exists";
  case LH_STORE_ECONFLICT: return "conflict: the object has been modified";
  case LH_STORE_EEXPIRED: return "too old resource version";
  case LH_STORE_EINVAL: return "invalid argument";
  case LH_STORE_EIO: return "storage I/O error";
  case LH_STORE_EBUSY: return "storage busy";
  case LH_STORE_ENOMEM: return "out of memory";
  case LH_STORE_EMISUSE: return "store misuse";
  default: return "unknown store error";
  }
}

const char *lh_store_event_type_name(lh_store_event_type t) {
  switch (t) {
  case LH_STORE_ADDED: return "ADDED";
  case LH_STORE_MODIFIED: return "MODIFIED";
  case LH_STORE_DELETED: return "DELETED";
  }
  return "ERROR";
}

void lh_store_obj_clear(lh_store_obj *o) {
  if (!o) return;
  free(o->json);
  o->json = NULL;
  o->len = 0;
  o->rv = 0;
}

static int map_rc(int rc) {
  switch (rc & 0xff) {
  case SQLITE_BUSY:
  case SQLITE_LOCKED: return LH_STORE_EBUSY;
  case SQLITE_NOMEM: return LH_STORE_ENOMEM;
  default: return LH_STORE_EIO;
  }
}

/* sqlite3_step for the write path, through the fault-injection counter (the aSyscall idea). */
static int wstep(sq_store *q, sqlite3_stmt *st) {
  if (q->fault_n == 0) {
    q->fault_n = -1;
    sqlite3_reset(st);
    return q->fault_rc;
  }
  if (q->fault_n > 0) q->fault_n--;
  return sqlite3_step(st);
}

/* Runs a parameterless write statement (BEGIN/COMMIT/SAVEPOINT...) expecting DONE. */
static int wexec(sq_store *q, int which) {
  sqlite3_stmt *st = q->st[which];
  int rc = wstep(q, st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) {
    LH_WARN(LOGC, "%s failed: %s (%d)", SQL[which], sqlite3_errstr(rc), rc);
    return map_rc(rc);
  }
  return 0;
}

/* Control statements that must not be fault-injected (rollbacks after a fault). */
static void exec_plain(sq_store *q, int which) {
  sqlite3_stmt *st = q->st[which];
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    LH_ERROR(LOGC, "%s failed: %s", SQL[which], sqlite3_errmsg(q->db));
}

static void bind_key(sqlite3_stmt *st, const char *resource, const char *ns, const char *name) {
  sqlite3_bind_text(st, 1, resource, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, ns, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
}

static sev *sev_new(lh_store_event_type type, int64_t rv, const char *resource, const char *ns,
                    const char *name, const char *json, size_t len) {
  size_t lr = strlen(resource) + 1, ln = strlen(ns) + 1, lm = strlen(name) + 1;
  sev *e = malloc(sizeof(*e) + lr + ln + lm + len + 1);
  if (!e) return NULL;
  char *p = e->data;
  memcpy(p, resource, lr);
  e->ev.resource = p;
  p += lr;
  memcpy(p, ns, ln);
  e->ev.ns = p;
  p += ln;
  memcpy(p, name, lm);
  e->ev.name = p;
  p += lm;
  memcpy(p, json, len);
  p[len] = '\0';
  e->ev.json = p;
  e->ev.len = len;
  e->ev.type = type;
  e->ev.rv = rv;
  e->ev.obj = NULL;
  return e;
}

static void sev_free(sev *e) {
  if (!e) return;
  json_decref((json_t *)e->ev.obj);
  free(e);
}

static void ring_push(sq_store *q, sev *e) {
  /* the parsed object is for live subscribers only: the cache keeps text */
  json_decref((json_t *)e->ev.obj);
  e->ev.obj = NULL;
  if (q->ring_cap == 0) {
    free(e);
    return;
  }
  if (q->ring_n == q->ring_cap) {
    free(q->ring[q->ring_head]);
    q->ring[q->ring_head] = e;
    q->ring_head = (q->ring_head + 1) % q->ring_cap;
  } else {
    q->ring[(q->ring_head + q->ring_n) % q->ring_cap] = e;
    q->ring_n++;
  }
}

static sev *ring_at(const sq_store *q, size_t i) { return q->ring[(q->ring_head + i) % q->ring_cap]; }

/* Drops ring entries with rv <= upto (after compaction: keeps memory in line with the table). */
static void ring_drop_upto(sq_store *q, int64_t upto) {
  while (q->ring_n > 0 && q->ring[q->ring_head]->ev.rv <= upto) {
    free(q->ring[q->ring_head]);
    q->ring_head = (q->ring_head + 1) % q->ring_cap;
    q->ring_n--;
  }
}

static void subs_gc(sq_store *q) {
  if (!q->subs_dirty || q->dispatching) return;
  size_t j = 0;
  for (size_t i = 0; i < q->subs_n; i++)
    if (q->subs[i].cb) q->subs[j++] = q->subs[i];
  q->subs_n = j;
  q->subs_dirty = 0;
}

/* Publishes committed events: watch cache first, then subscribers, in rv order. Takes ownership. */
static void publish(sq_store *q, sev **evs, size_t n) {
  q->dispatching++;
  for (size_t i = 0; i < n; i++) {
    sev *e = evs[i];
    /* Subscribers see the event before the ring may evict it (a later push). */
    size_t ns = q->subs_n; /* subscriptions added during dispatch start with the next event */
    for (size_t k = 0; k < ns; k++)
      if (q->subs[k].cb) q->subs[k].cb(q->subs[k].ud, &e->ev);
    ring_push(q, e);
  }
  q->dispatching--;
  subs_gc(q);
}

/* ---- open / close ------------------------------------------------------------------------------- */
static void seterr(char *err, size_t errlen, const char *fmt, const char *a, const char *b) {
  if (err && errlen) snprintf(err, errlen, fmt, a, b);
}

static int64_t query_i64(sqlite3 *db, const char *sql) {
  sqlite3_stmt *st = NULL;
  int64_t v = 0;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

static int ring_fill(sq_store *q) {
  int64_t from = q->compacted_rv;
  if (q->rv - (int64_t)q->ring_cap > from) from = q->rv - (int64_t)q->ring_cap;
  sqlite3_stmt *st = q->st[ST_EV_SINCE];
  sqlite3_bind_int64(st, 1, from);
  sqlite3_bind_int64(st, 2, INT64_MAX);
  int rc, ret = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    sev *e = sev_new((lh_store_event_type)sqlite3_column_int(st, 1), sqlite3_column_int64(st, 0),
                     (const char *)sqlite3_column_text(st, 2), (const char *)sqlite3_column_text(st, 3),
                     (const char *)sqlite3_column_text(st, 4), (const char *)sqlite3_column_blob(st, 5),
                     (size_t)sqlite3_column_bytes(st, 5));
    if (!e) {
      ret = LH_STORE_ENOMEM;
      break;
    }
    ring_push(q, e);
  }
  if (!ret && rc != SQLITE_DONE) ret = map_rc(rc);
  sqlite3_reset(st);
  return ret;
}

/* One pass over the objects at open for their counts and their highest rv (SQLite reads the leaf
 * cells without the overflow pages that hold most of the JSON: ~0.1 s CPU for 240k objects; a
 * separate max(rv) was a second full scan). */
static int load_counts(sq_store *q, int64_t *max_rv) {
  q->counts = lh_counts_new();
  if (!q->counts) return LH_STORE_ENOMEM;
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(q->db, "SELECT resource, ns, count(*), max(rv) FROM objects GROUP BY resource, ns",
                              -1, &st, NULL);
  if (rc != SQLITE_OK) return map_rc(rc);
  int ret = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *res = (const char *)sqlite3_column_text(st, 0), *ns = (const char *)sqlite3_column_text(st, 1);
    if (!res || !ns || lh_counts_add(q->counts, res, ns, sqlite3_column_int64(st, 2))) {
      ret = LH_STORE_ENOMEM;
      break;
    }
    if (sqlite3_column_int64(st, 3) > *max_rv) *max_rv = sqlite3_column_int64(st, 3);
  }
  if (!ret && rc != SQLITE_DONE) ret = map_rc(rc);
  sqlite3_finalize(st);
  return ret;
}

static int wal_hook(void *ud, sqlite3 *db, const char *name, int frames) {
  (void)db;
  (void)name;
  ((sq_store *)ud)->wal_frames = frames;
  return SQLITE_OK;
}

int lh_store_open_sqlite(const lh_store_options *opts, lh_store **out, char *err, size_t errlen) {
  lh_store_options o = {0};
  if (opts) o = *opts;
  *out = NULL;
  if (!o.watch_cache_events) o.watch_cache_events = 100000;
  if (o.event_retention <= 0) o.event_retention = 100000;
  if (!o.busy_timeout_ms) o.busy_timeout_ms = 5000;

  char path[4096];
  int mem = !o.dir || strcmp(o.dir, ":memory:") == 0;
  if (mem) {
    snprintf(path, sizeof(path), ":memory:");
  } else {
    if (mkdir(o.dir, 0700) != 0 && errno != EEXIST) {
      seterr(err, errlen, "cannot create data directory %s: %s", o.dir, strerror(errno));
      return LH_STORE_EIO;
    }
    if ((size_t)snprintf(path, sizeof(path), "%s/state.db", o.dir) >= sizeof(path)) {
      seterr(err, errlen, "data directory path too long%s%s", "", "");
      return LH_STORE_EINVAL;
    }
  }

  sq_store *q = calloc(1, sizeof(*q));
  if (!q) return LH_STORE_ENOMEM;
  q->base.methods = &sq_methods;
  q->fault_n = -1;
  q->retention = o.event_retention;
  q->ring_cap = o.watch_cache_events;
  q->ring = calloc(q->ring_cap, sizeof(*q->ring));
  if (!q->ring) {
    free(q);
    return LH_STORE_ENOMEM;
  }
  int rc = sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           NULL);
  if (rc != SQLITE_OK) {
    seterr(err, errlen, "cannot open %s: %s", path, q->db ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc));
    goto fail;
  }
  sqlite3_busy_timeout(q->db, o.busy_timeout_ms);
  /* Exclusive locking: this process is the database's only user, so no file lock per transaction
   * (and no other SQLite connection rewrites the file behind the read-only memory map below)
   * and the WAL index lives in heap memory (set before the first WAL access). No automatic
   * checkpoint inside commits: the owner calls lh_store_checkpoint() (the server: once a
   * second). The page cache stays at SQLite's default (2 MiB): a 64 MiB one was measured slower on
   * the write path (every page of a growing cache is a fresh 4 KiB malloc and page fault; the
   * default recycles its pages; the OS page cache serves the rest). */
  char pragmas[300];
  snprintf(pragmas, sizeof(pragmas),
           "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL; PRAGMA synchronous=%s;"
           " PRAGMA wal_autocheckpoint=0;",
           o.sync_full ? "FULL" : "NORMAL");
  char *emsg = NULL;
  if (sqlite3_exec(q->db, pragmas, NULL, NULL, &emsg) != SQLITE_OK ||
      sqlite3_exec(q->db, SCHEMA, NULL, NULL, &emsg) != SQLITE_OK) {
    seterr(err, errlen, "cannot initialise %s: %s", path, emsg ? emsg : "?");
    sqlite3_free(emsg);
    goto fail;
  }
  if (!mem) sqlite3_wal_hook(q->db, wal_hook, q);
  for (int i = 0; i < ST_N; i++) {
    if (sqlite3_prepare_v3(q->db, SQL[i], -1, SQLITE_PREPARE_PERSISTENT, &q->st[i], NULL) != SQLITE_OK) {
      seterr(err, errlen, "cannot prepare statement: %s (%s)", sqlite3_errmsg(q->db), SQL[i]);
      goto fail;
    }
  }
  q->compacted_rv = query_i64(q->db, "SELECT v FROM meta WHERE k='compacted_rv'");
  int64_t a = query_i64(q->db, "SELECT max(rv) FROM events"), b = 0;
  if (load_counts(q, &b) != 0) {
    seterr(err, errlen, "cannot count objects in %s: %s", path, sqlite3_errmsg(q->db));
    goto fail;
  }
  q->rv = q->compacted_rv;
  if (a > q->rv) q->rv = a;
  if (b > q->rv) q->rv = b;
  if (ring_fill(q) != 0) {
    seterr(err, errlen, "cannot load events from %s%s", path, "");
    goto fail;
  }
  /* Reads from now on go through a memory map (see the top of the file). Set only after the
   * one-off scans above: read through the map, their first touch of every page cost ~0.5-0.9 s more
   * CPU at open (page faults) for a 1 GB database than pread(). Not an error if refused: reads then
   * use pread(). */
  if (sqlite3_exec(q->db, "PRAGMA mmap_size=2147418112", NULL, NULL, NULL) != SQLITE_OK)
    LH_WARN(LOGC, "no memory-mapped reads for %s: %s", path, sqlite3_errmsg(q->db));
  LH_INFO(LOGC, "opened %s: resourceVersion %" PRId64 ", compacted %" PRId64 ", %zu events cached", path,
          q->rv, q->compacted_rv, q->ring_n);
  *out = &q->base;
  return 0;
fail:
  sq_methods.close(&q->base);
  return LH_STORE_EIO;
}

static void sq_close(lh_store *s) {
  sq_store *q = (sq_store *)s;
  if (q->in_txn) sq_methods.txn_rollback(s);
  for (int i = 0; i < ST_N; i++) sqlite3_finalize(q->st[i]);
  if (q->db) sqlite3_close(q->db);
  for (size_t i = 0; i < q->ring_n; i++) free(ring_at(q, i));
  free(q->ring);
  for (size_t i = 0; i < q->pending_n; i++) sev_free(q->pending[i]);
  free(q->pending);
  free(q->subs);
  lh_counts_free(q->counts);
  free(q);
}

/* ---- reads ---------------------------------------------------------------------------------------- */
static int sq_get(lh_store *s, const char *resource, const char *ns, const char *name, lh_store_obj *out) {
  sq_store *q = (sq_store *)s;
  sqlite3_stmt *st = q->st[ST_GET];
  bind_key(st, resource, ns, name);
  int rc = sqlite3_step(st), ret;
  if (rc == SQLITE_ROW) {
    ret = 0;
    if (out) {
      size_t len = (size_t)sqlite3_column_bytes(st, 2);
      out->json = malloc(len + 1);
      if (!out->json) {
        ret = LH_STORE_ENOMEM;
      } else {
        memcpy(out->json, sqlite3_column_blob(st, 2), len);
        out->json[len] = '\0';
        out->len = len;
        out->rv = sqlite3_column_int64(st, 0);
      }
    }
  } else {
    ret = rc == SQLITE_DONE ? LH_STORE_ENOTFOUND : map_rc(rc);
  }
  sqlite3_reset(st);
  return ret;
}

static int sq_count(lh_store *s, const char *resource, const char *ns, int64_t *n) {
  sq_store *q = (sq_store *)s;
  *n = lh_counts_get(q->counts, resource, ns);
  return 0;
}

/* ---- writes --------------------------------------------------------------------------------------- */
/* Sets obj.metadata.resourceVersion to rv and serializes obj compactly. */
static int stamp_and_dump(json_t *obj, int64_t rv, char **text, size_t *len) {
  json_t *md = json_object_get(obj, "metadata");
  if (!md) {
    md = json_object();
    if (!md || json_object_set_new(obj, "metadata", md) != 0) return LH_STORE_ENOMEM;
  } else if (!json_is_object(md)) {
    return LH_STORE_EINVAL;
  }
  char rvs[24];
  snprintf(rvs, sizeof(rvs), "%" PRId64, rv);
  if (json_object_set_new(md, "resourceVersion", json_string(rvs)) != 0) return LH_STORE_ENOMEM;
  *text = json_dumps(obj, JSON_COMPACT);
  if (!*text) return LH_STORE_ENOMEM;
  *len = strlen(*text);
  return 0;
}

static const char *obj_uid(const json_t *obj) {
  return json_string_value(json_object_get(json_object_get(obj, "metadata"), "uid"));
}

/* Starts the unit of a single write: its own transaction, or a savepoint inside the user txn. */
static int write_begin(sq_store *q) { return wexec(q, q->in_txn ? ST_SAVEPOINT : ST_BEGIN); }
static int write_end(sq_store *q) { return wexec(q, q->in_txn ? ST_RELEASE : ST_COMMIT); }
static void write_abort(sq_store *q) {
  if (q->in_txn) {
    exec_plain(q, ST_ROLLBACK_TO);
    exec_plain(q, ST_RELEASE);
  } else if (!sqlite3_get_autocommit(q->db)) {
    exec_plain(q, ST_ROLLBACK);
  }
}

/* Compacts the events table to keep events with rv > upto (inside the current write unit). */
static int compact_in_txn(sq_store *q, int64_t upto) {
  sqlite3_stmt *st = q->st[ST_COMPACT];
  sqlite3_bind_int64(st, 1, upto);
  int rc = wstep(q, st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) return map_rc(rc);
  st = q->st[ST_META_SET];
  sqlite3_bind_text(st, 1, "compacted_rv", -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, upto);
  rc = wstep(q, st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) return map_rc(rc);
  q->compacted_rv = upto;
  return 0;
}

static int pending_add(sq_store *q, sev *e) {
  if (q->pending_n == q->pending_cap) {
    size_t n = q->pending_cap ? q->pending_cap * 2 : 16;
    sev **p = realloc(q->pending, n * sizeof(*p));
    if (!p) return LH_STORE_ENOMEM;
    q->pending = p;
    q->pending_cap = n;
  }
  q->pending[q->pending_n++] = e;
  return 0;
}

/* The single write path: create (ADDED), update (MODIFIED), delete (DELETED).
 * Everything that can fail happens before anything is published; on failure the SQLite unit is
 * rolled back and rv/compacted_rv are restored, so there is no partial state. */
static int sq_put(lh_store *s, lh_store_event_type op, const char *resource, const char *ns,
                  const char *name, json_t *obj, const lh_store_precond *pre, lh_store_obj *out) {
  sq_store *q = (sq_store *)s;
  if (q->dispatching) return LH_STORE_EMISUSE;
  if (!resource || !ns || !name || !*resource || !*name) return LH_STORE_EINVAL;
  if (op != LH_STORE_DELETED && !json_is_object(obj)) return LH_STORE_EINVAL;
  if (out) memset(out, 0, sizeof(*out));

  int64_t saved_rv = q->rv, saved_compacted = q->compacted_rv;
  char *text = NULL, *old = NULL;
  size_t text_len = 0, old_len = 0;
  int64_t old_rv = 0;
  sev *e = NULL;
  json_t *parsed = NULL; /* the event's obj (a reference) */
  int ret = write_begin(q);
  if (ret) return ret;

  /* current state */
  sqlite3_stmt *st = q->st[ST_GET];
  bind_key(st, resource, ns, name);
  int rc = wstep(q, st);
  int exists = rc == SQLITE_ROW;
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    sqlite3_reset(st);
    ret = map_rc(rc);
    goto fail;
  }
  if (exists) {
    old_rv = sqlite3_column_int64(st, 0);
    const char *uid = (const char *)sqlite3_column_text(st, 1);
    if (pre && ((pre->rv && pre->rv != old_rv) || (pre->uid && (!uid || strcmp(pre->uid, uid) != 0))) &&
        op != LH_STORE_ADDED)
      ret = LH_STORE_ECONFLICT;
    old_len = (size_t)sqlite3_column_bytes(st, 2);
    old = malloc(old_len + 1);
    if (!old) ret = LH_STORE_ENOMEM;
    else {
      memcpy(old, sqlite3_column_blob(st, 2), old_len);
      old[old_len] = '\0';
    }
  }
  sqlite3_reset(st);
  if (ret) goto fail;
  if (op == LH_STORE_ADDED && exists) {
    ret = LH_STORE_EEXISTS;
    goto fail;
  }
  if (op != LH_STORE_ADDED && !exists) {
    ret = LH_STORE_ENOTFOUND;
    goto fail;
  }

  int64_t rv = q->rv + 1;
  if (op == LH_STORE_DELETED) {
    json_t *last = json_loadb(old, old_len, 0, NULL);
    if (!last) {
      ret = LH_STORE_EIO; /* stored text is always valid JSON: corruption */
      goto fail;
    }
    ret = stamp_and_dump(last, rv, &text, &text_len);
    parsed = last;
    if (ret) goto fail;
    st = q->st[ST_DELETE];
    bind_key(st, resource, ns, name);
  } else {
    if ((ret = stamp_and_dump(obj, rv, &text, &text_len))) goto fail;
    parsed = json_incref(obj);
    st = q->st[op == LH_STORE_ADDED ? ST_INSERT : ST_UPDATE];
    bind_key(st, resource, ns, name);
    sqlite3_bind_int64(st, 4, rv);
    const char *uid = obj_uid(obj);
    if (uid) sqlite3_bind_text(st, 5, uid, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, 5);
    sqlite3_bind_blob(st, 6, text, (int)text_len, SQLITE_STATIC);
  }
  rc = wstep(q, st);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (rc != SQLITE_DONE) {
    ret = map_rc(rc);
    goto fail;
  }

  st = q->st[ST_EVENT];
  sqlite3_bind_int64(st, 1, rv);
  sqlite3_bind_int(st, 2, (int)op);
  sqlite3_bind_text(st, 3, resource, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, ns, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 5, name, -1, SQLITE_STATIC);
  if (exists) {
    sqlite3_bind_int64(st, 6, old_rv);
    sqlite3_bind_blob(st, 8, old, (int)old_len, SQLITE_STATIC);
  }
  sqlite3_bind_blob(st, 7, text, (int)text_len, SQLITE_STATIC);
  rc = wstep(q, st);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (rc != SQLITE_DONE) {
    ret = map_rc(rc);
    goto fail;
  }
  q->rv = rv;

  int64_t slack = q->retention / 8 > 1 ? q->retention / 8 : 1;
  if (q->rv - q->compacted_rv > q->retention + slack) {
    if ((ret = compact_in_txn(q, q->rv - q->retention))) goto fail;
  }

  e = sev_new(op, rv, resource, ns, name, text, text_len);
  if (!e) {
    ret = LH_STORE_ENOMEM;
    goto fail;
  }
  e->ev.obj = parsed;
  parsed = NULL;
  /* the count entries must exist before the commit so applying the delta after it cannot fail */
  if (op == LH_STORE_ADDED && lh_counts_add(q->counts, resource, ns, 0)) {
    ret = LH_STORE_ENOMEM;
    goto fail;
  }
  if (q->in_txn && (ret = pending_add(q, e))) goto fail;
  if ((ret = write_end(q))) {
    if (q->in_txn) q->pending_n--;
    goto fail;
  }
  if (op != LH_STORE_MODIFIED) lh_counts_add(q->counts, resource, ns, op == LH_STORE_ADDED ? 1 : -1);
  if (out) {
    out->json = text;
    out->len = text_len;
    out->rv = rv;
    text = NULL;
  }
  free(text);
  free(old);
  if (!q->in_txn) {
    if (q->compacted_rv != saved_compacted) ring_drop_upto(q, q->compacted_rv);
    publish(q, &e, 1);
  }
  return 0;

fail:
  write_abort(q);
  q->rv = saved_rv;
  q->compacted_rv = saved_compacted;
  sev_free(e);
  json_decref(parsed);
  free(text);
  free(old);
  if (out) memset(out, 0, sizeof(*out));
  return ret;
}

/* ---- transactions ---------------------------------------------------------------------------------- */
static int sq_txn_begin(lh_store *s) {
  sq_store *q = (sq_store *)s;
  if (q->in_txn || q->dispatching) return LH_STORE_EMISUSE;
  int ret = wexec(q, ST_BEGIN);
  if (ret) return ret;
  q->in_txn = 1;
  q->txn_rv = q->rv;
  q->txn_compacted = q->compacted_rv;
  q->pending_n = 0;
  return 0;
}

static void sq_txn_rollback(lh_store *s) {
  sq_store *q = (sq_store *)s;
  if (!q->in_txn) return;
  if (!sqlite3_get_autocommit(q->db)) exec_plain(q, ST_ROLLBACK);
  q->in_txn = 0;
  q->rv = q->txn_rv;
  q->compacted_rv = q->txn_compacted;
  /* pending holds exactly the writes applied since begin (a failed write removed its own event) */
  for (size_t i = 0; i < q->pending_n; i++) {
    const lh_store_event *ev = &q->pending[i]->ev;
    if (ev->type != LH_STORE_MODIFIED)
      lh_counts_add(q->counts, ev->resource, ev->ns, ev->type == LH_STORE_ADDED ? -1 : 1);
    sev_free(q->pending[i]);
  }
  q->pending_n = 0;
}

static int sq_txn_commit(lh_store *s) {
  sq_store *q = (sq_store *)s;
  if (!q->in_txn) return LH_STORE_EMISUSE;
  int ret = wexec(q, ST_COMMIT);
  if (ret) {
    sq_txn_rollback(s);
    return ret;
  }
  q->in_txn = 0;
  if (q->compacted_rv != q->txn_compacted) ring_drop_upto(q, q->compacted_rv);
  size_t n = q->pending_n;
  q->pending_n = 0;
  publish(q, q->pending, n);
  return 0;
}

static int sq_compact(lh_store *s, int64_t upto) {
  sq_store *q = (sq_store *)s;
  if (q->dispatching) return LH_STORE_EMISUSE;
  if (upto > q->rv) upto = q->rv;
  if (upto <= q->compacted_rv) return 0;
  int64_t saved = q->compacted_rv;
  int ret = write_begin(q);
  if (ret) return ret;
  if ((ret = compact_in_txn(q, upto)) || (ret = write_end(q))) {
    write_abort(q);
    q->compacted_rv = saved;
    return ret;
  }
  if (!q->in_txn) ring_drop_upto(q, q->compacted_rv);
  return 0;
}

/* ---- watch ------------------------------------------------------------------------------------------- */
static int ev_match(const lh_store_event *ev, const char *resource, const char *ns) {
  return (!resource || strcmp(resource, ev->resource) == 0) && (!ns || strcmp(ns, ev->ns) == 0);
}

static int sq_watch_since(lh_store *s, int64_t since, const char *resource, const char *ns,
                          lh_store_event_fn cb, void *ud) {
  sq_store *q = (sq_store *)s;
  if (since < q->compacted_rv) return LH_STORE_EEXPIRED;
  /* Events in (since, ring oldest) come from the table. Inside a txn the ring only holds committed
   * events, and the table would show uncommitted ones: read only up to the txn start then. */
  int64_t ring_lo = q->ring_n ? ring_at(q, 0)->ev.rv : q->rv + 1;
  if (q->in_txn && ring_lo > q->txn_rv + 1) ring_lo = q->txn_rv + 1;
  if (since + 1 < ring_lo) {
    sqlite3_stmt *st = q->st[ST_EV_SINCE];
    sqlite3_bind_int64(st, 1, since);
    sqlite3_bind_int64(st, 2, ring_lo);
    int rc, ret = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      lh_store_event ev = {
          .rv = sqlite3_column_int64(st, 0),
          .type = (lh_store_event_type)sqlite3_column_int(st, 1),
          .resource = (const char *)sqlite3_column_text(st, 2),
          .ns = (const char *)sqlite3_column_text(st, 3),
          .name = (const char *)sqlite3_column_text(st, 4),
          .json = (const char *)sqlite3_column_blob(st, 5),
          .len = (size_t)sqlite3_column_bytes(st, 5),
      };
      if (!ev_match(&ev, resource, ns)) continue;
      if ((ret = cb(ud, &ev))) break;
    }
    if (!ret && rc != SQLITE_ROW && rc != SQLITE_DONE) ret = map_rc(rc);
    sqlite3_reset(st);
    if (ret) return ret;
  }
  /* ring: first entry with rv > since (binary search) */
  size_t lo = 0, hi = q->ring_n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (ring_at(q, mid)->ev.rv <= since) lo = mid + 1;
    else hi = mid;
  }
  for (size_t i = lo; i < q->ring_n; i++) {
    const lh_store_event *ev = &ring_at(q, i)->ev;
    if (!ev_match(ev, resource, ns)) continue;
    int ret = cb(ud, ev);
    if (ret) return ret;
  }
  return 0;
}

static int sq_subscribe(lh_store *s, lh_store_event_fn cb, void *ud) {
  sq_store *q = (sq_store *)s;
  if (!cb) return LH_STORE_EINVAL;
  if (q->subs_n == q->subs_cap) {
    size_t n = q->subs_cap ? q->subs_cap * 2 : 8;
    sub *p = realloc(q->subs, n * sizeof(*p));
    if (!p) return LH_STORE_ENOMEM;
    q->subs = p;
    q->subs_cap = n;
  }
  int id = ++q->next_sub_id;
  q->subs[q->subs_n++] = (sub){id, cb, ud};
  return id;
}

static void sq_unsubscribe(lh_store *s, int id) {
  sq_store *q = (sq_store *)s;
  for (size_t i = 0; i < q->subs_n; i++)
    if (q->subs[i].id == id) {
      q->subs[i].cb = NULL;
      q->subs_dirty = 1;
    }
  subs_gc(q);
}

static int64_t sq_current_rv(const lh_store *s) { return ((const sq_store *)s)->rv; }
static int64_t sq_compacted_rv(const lh_store *s) { return ((const sq_store *)s)->compacted_rv; }

static void sq_fault_inject(lh_store *s, int n, int rc) {
  sq_store *q = (sq_store *)s;
  q->fault_n = n < 0 ? -1 : n;
  q->fault_rc = rc;
}

/* ---- lists ------------------------------------------------------------------------------------------- */
static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int b64_encode(const unsigned char *in, size_t n, char *out, size_t outsz) {
  size_t need = (n + 2) / 3 * 4 + 1;
  if (need > outsz) return -1;
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16;
    if (i + 1 < n) v |= (uint32_t)in[i + 1] << 8;
    if (i + 2 < n) v |= in[i + 2];
    out[o++] = B64[(v >> 18) & 63];
    out[o++] = B64[(v >> 12) & 63];
    out[o++] = i + 1 < n ? B64[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < n ? B64[v & 63] : '=';
  }
  out[o] = '\0';
  return 0;
}

static int b64_val(char c) {
  const char *p = c ? strchr(B64, c) : NULL;
  return p ? (int)(p - B64) : -1;
}

static int b64_decode(const char *in, unsigned char *out, size_t outsz, size_t *outlen) {
  size_t n = strlen(in), o = 0;
  if (n % 4) return -1;
  for (size_t i = 0; i < n; i += 4) {
    int v[4];
    for (int k = 0; k < 4; k++) {
      v[k] = in[i + k] == '=' && k >= 2 && i + 4 == n ? 0 : b64_val(in[i + k]);
      if (v[k] < 0) return -1;
    }
    uint32_t x = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
    int bytes = in[i + 2] == '=' ? 1 : in[i + 3] == '=' ? 2 : 3;
    if (o + (size_t)bytes > outsz) return -1;
    out[o++] = (unsigned char)(x >> 16);
    if (bytes > 1) out[o++] = (unsigned char)(x >> 8);
    if (bytes > 2) out[o++] = (unsigned char)x;
  }
  *outlen = o;
  return 0;
}

/* Token = base64url(JSON {"rv":R,"ns":..,"name":..[,"pos":P[,"scope":NS]]}): opaque to clients, checked
 * on the way in. pos (present when the pages so far were unfiltered) counts the items up to and
 * including (ns, name) in the list's scope — scope is its namespace, absent for all namespaces — so
 * remainingItemCount is the in-memory count minus pos, with no count over the remaining rows. */
typedef struct token {
  int64_t rv;
  char ns[300], name[300];
  int64_t pos;       /* -1: unknown (filtered pages, or a token from before pos existed) */
  int has_scope;     /* pos was counted within the namespace scope (else over all namespaces) */
  char scope[300];
} token;

static int token_encode(const token *t, char *out, size_t outsz) {
  json_t *j = json_pack("{s:I,s:s,s:s}", "rv", (json_int_t)t->rv, "ns", t->ns, "name", t->name);
  if (!j) return LH_STORE_ENOMEM;
  if (t->pos >= 0 && (json_object_set_new(j, "pos", json_integer(t->pos)) ||
                      (t->has_scope && json_object_set_new(j, "scope", json_string(t->scope))))) {
    json_decref(j);
    return LH_STORE_ENOMEM;
  }
  char *txt = json_dumps(j, JSON_COMPACT);
  json_decref(j);
  if (!txt) return LH_STORE_ENOMEM;
  int r = b64_encode((const unsigned char *)txt, strlen(txt), out, outsz);
  free(txt);
  return r ? LH_STORE_EINVAL : 0;
}

static int token_decode(const char *tok, token *t) {
  unsigned char raw[1024];
  size_t n;
  memset(t, 0, sizeof(*t));
  t->pos = -1;
  if (strlen(tok) > 1360 || b64_decode(tok, raw, sizeof(raw), &n)) return LH_STORE_EINVAL;
  json_t *j = json_loadb((const char *)raw, n, 0, NULL);
  json_int_t r;
  const char *a, *b;
  int ret = LH_STORE_EINVAL;
  if (j && json_unpack(j, "{s:I,s:s,s:s}", "rv", &r, "ns", &a, "name", &b) == 0 && r > 0 &&
      strlen(a) < sizeof(t->ns) && strlen(b) < sizeof(t->name)) {
    t->rv = r;
    strcpy(t->ns, a);
    strcpy(t->name, b);
    ret = 0;
    json_t *p = json_object_get(j, "pos"), *sc = json_object_get(j, "scope");
    if (json_is_integer(p) && json_integer_value(p) > 0) {
      t->pos = json_integer_value(p);
      if (json_is_string(sc)) {
        if (json_string_length(sc) >= sizeof(t->scope)) ret = LH_STORE_EINVAL;
        else {
          t->has_scope = 1;
          strcpy(t->scope, json_string_value(sc));
        }
      } else if (sc) {
        ret = LH_STORE_EINVAL;
      }
    } else if (p) {
      ret = LH_STORE_EINVAL;
    }
  }
  json_decref(j);
  return ret;
}

typedef struct corr {
  char *ns, *name; /* in one allocation with old */
  int exists;      /* did the key exist at the snapshot rv? */
  int64_t rv;
  const char *json;
  size_t len;
} corr;

static int keycmp(const char *ns1, const char *n1, const char *ns2, const char *n2) {
  int c = strcmp(ns1, ns2);
  return c ? c : strcmp(n1, n2);
}

/* Loads the state at rv R of every key of resource written after R (key > start). */
static int load_corrections(sq_store *q, const char *resource, const char *ns, int64_t R,
                            const char *sns, const char *sname, corr **out, size_t *nout) {
  sqlite3_stmt *st = q->st[ns ? ST_CORR_NS : ST_CORR_ALL];
  sqlite3_bind_text(st, 1, resource, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, R);
  if (ns) sqlite3_bind_text(st, 3, ns, -1, SQLITE_STATIC);
  corr *v = NULL;
  size_t n = 0, cap = 0;
  int rc, ret = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *cns = (const char *)sqlite3_column_text(st, 0);
    const char *cname = (const char *)sqlite3_column_text(st, 1);
    if (keycmp(cns, cname, sns, sname) <= 0) continue;
    int type = sqlite3_column_int(st, 2);
    size_t lns = strlen(cns) + 1, lname = strlen(cname) + 1;
    size_t olen = type == LH_STORE_ADDED ? 0 : (size_t)sqlite3_column_bytes(st, 4);
    if (n == cap) {
      cap = cap ? cap * 2 : 16;
      corr *p = realloc(v, cap * sizeof(*p));
      if (!p) {
        ret = LH_STORE_ENOMEM;
        break;
      }
      v = p;
    }
    char *mem = malloc(lns + lname + olen + 1);
    if (!mem) {
      ret = LH_STORE_ENOMEM;
      break;
    }
    corr *c = &v[n++];
    c->ns = mem;
    memcpy(mem, cns, lns);
    c->name = mem + lns;
    memcpy(c->name, cname, lname);
    char *o = c->name + lname;
    if (olen) memcpy(o, sqlite3_column_blob(st, 4), olen);
    o[olen] = '\0';
    c->json = o;
    c->len = olen;
    c->exists = type != LH_STORE_ADDED;
    c->rv = sqlite3_column_int64(st, 3);
  }
  if (!ret && rc != SQLITE_DONE) ret = map_rc(rc);
  sqlite3_reset(st);
  *out = v;
  *nout = n;
  return ret;
}

static void free_corrections(corr *v, size_t n) {
  for (size_t i = 0; i < n; i++) free(v[i].ns);
  free(v);
}

static int sq_list(lh_store *s, const char *resource, const lh_store_list_opts *o, lh_store_item_fn cb,
                   void *ud, lh_store_list_result *res) {
  sq_store *q = (sq_store *)s;
  lh_store_list_opts dflt = {0};
  if (!o) o = &dflt;
  if (!resource || o->limit < 0) return LH_STORE_EINVAL;
  token tk = {.pos = 0}; /* a first page starts at position 0 */
  const char *sns = tk.ns, *sname = tk.name;
  int64_t R = q->rv;
  if (o->continue_token && *o->continue_token) {
    if (token_decode(o->continue_token, &tk)) return LH_STORE_EINVAL;
    R = tk.rv;
    if (R > q->rv) return LH_STORE_EINVAL;
    /* a position counted in another scope means nothing here */
    if (tk.has_scope != (o->ns != NULL) || (o->ns && strcmp(tk.scope, o->ns) != 0)) tk.pos = -1;
  } else if (o->at_rv) {
    if (o->at_rv > q->rv) return LH_STORE_EINVAL;
    R = o->at_rv;
  }
  if (R < q->compacted_rv) return LH_STORE_EEXPIRED;

  corr *cv = NULL;
  size_t cn = 0, ci = 0;
  int ret = 0;
  if (R < q->rv && (ret = load_corrections(q, resource, o->ns, R, sns, sname, &cv, &cn))) {
    free_corrections(cv, cn);
    return ret;
  }

  sqlite3_stmt *st = q->st[o->ns ? ST_LIST_NS : ST_LIST_ALL];
  sqlite3_bind_text(st, 1, resource, -1, SQLITE_STATIC);
  if (o->ns) {
    sqlite3_bind_text(st, 2, o->ns, -1, SQLITE_STATIC);
    /* a token's start namespace differs only if misused; then start from the beginning of ns */
    sqlite3_bind_text(st, 3, strcmp(o->ns, sns) == 0 ? sname : "", -1, SQLITE_STATIC);
  } else {
    sqlite3_bind_text(st, 2, sns, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, sname, -1, SQLITE_STATIC);
  }
  int64_t got = 0;
  char last_ns[300] = "", last_name[300] = "";
  int more = 0;
  int rc = sqlite3_step(st);
  for (;;) {
    int have_row = rc == SQLITE_ROW;
    if (!have_row && rc != SQLITE_DONE) {
      ret = map_rc(rc);
      break;
    }
    if (!have_row && ci >= cn) break;
    const char *ins, *iname, *ijson;
    size_t ilen;
    int64_t irv;
    int from_row;
    if (have_row) {
      const char *rns = (const char *)sqlite3_column_text(st, 0);
      const char *rname = (const char *)sqlite3_column_text(st, 1);
      int c = ci < cn ? keycmp(rns, rname, cv[ci].ns, cv[ci].name) : -1;
      if (c == 0) { /* changed since R: the correction wins */
        rc = sqlite3_step(st);
        continue;
      }
      from_row = c < 0;
    } else {
      from_row = 0;
    }
    if (from_row) {
      ins = (const char *)sqlite3_column_text(st, 0);
      iname = (const char *)sqlite3_column_text(st, 1);
      irv = sqlite3_column_int64(st, 2);
      ijson = (const char *)sqlite3_column_blob(st, 3);
      ilen = (size_t)sqlite3_column_bytes(st, 3);
    } else {
      corr *c = &cv[ci++];
      if (!c->exists) continue;
      ins = c->ns;
      iname = c->name;
      irv = c->rv;
      ijson = c->json;
      ilen = c->len;
    }
    if (o->limit && got >= o->limit) {
      more = 1;
      break;
    }
    if (!o->filter || o->filter(o->filter_ud, ins, iname, ijson, ilen)) {
      if (strlen(ins) >= sizeof(last_ns) || strlen(iname) >= sizeof(last_name)) {
        ret = LH_STORE_EINVAL;
        break;
      }
      got++;
      strcpy(last_ns, ins);
      strcpy(last_name, iname);
      if (cb && (ret = cb(ud, ins, iname, ijson, ilen, irv))) break;
    }
    if (from_row) rc = sqlite3_step(st);
  }
  sqlite3_reset(st);
  free_corrections(cv, cn);
  if (ret) return ret;
  if (res) {
    res->rv = R;
    res->continue_token[0] = '\0';
    res->remaining = -1;
    if (more) {
      token nt = {.rv = R, .pos = o->filter || tk.pos < 0 ? -1 : tk.pos + got, .has_scope = o->ns != NULL};
      strcpy(nt.ns, last_ns); /* both < 300 bytes: checked when copied into last_* */
      strcpy(nt.name, last_name);
      if (o->ns && strlen(o->ns) >= sizeof(nt.scope)) nt.pos = -1;
      else if (o->ns) strcpy(nt.scope, o->ns);
      if ((ret = token_encode(&nt, res->continue_token, sizeof(res->continue_token)))) return ret;
      if (!o->filter && R == q->rv && nt.pos >= 0) {
        /* no write since the snapshot: the count now is the count at R */
        int64_t left = lh_counts_get(q->counts, resource, o->ns) - nt.pos;
        res->remaining = left > 0 ? left : 0;
      } else if (!o->filter && R == q->rv) {
        /* a token without a position (from before positions existed): count what is left */
        sqlite3_stmt *c = q->st[o->ns ? ST_REMAIN_NS : ST_REMAIN_ALL];
        sqlite3_bind_text(c, 1, resource, -1, SQLITE_STATIC);
        if (o->ns) {
          sqlite3_bind_text(c, 2, o->ns, -1, SQLITE_STATIC);
          sqlite3_bind_text(c, 3, last_name, -1, SQLITE_STATIC);
        } else {
          sqlite3_bind_text(c, 2, last_ns, -1, SQLITE_STATIC);
          sqlite3_bind_text(c, 3, last_name, -1, SQLITE_STATIC);
        }
        if (sqlite3_step(c) == SQLITE_ROW) res->remaining = sqlite3_column_int64(c, 0);
        sqlite3_reset(c);
      }
    }
  }
  return 0;
}

/* Copies the WAL into the database once it holds LH_STORE_CHECKPOINT_FRAMES frames (the next
 * write then starts the WAL over from its beginning). */
#define LH_STORE_CHECKPOINT_FRAMES 1000
static int sq_checkpoint(lh_store *s) {
  sq_store *q = (sq_store *)s;
  if (q->in_txn || q->dispatching || q->wal_frames < LH_STORE_CHECKPOINT_FRAMES) return 0;
  int rc = sqlite3_wal_checkpoint_v2(q->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
  if (rc != SQLITE_OK) {
    LH_WARN(LOGC, "WAL checkpoint failed: %s", sqlite3_errmsg(q->db));
    return map_rc(rc);
  }
  q->wal_frames = 0;
  return 0;
}

static const struct lh_store_methods sq_methods = {
    .version = 1,
    .name = "sqlite",
    .close = sq_close,
    .get = sq_get,
    .list = sq_list,
    .count = sq_count,
    .put = sq_put,
    .txn_begin = sq_txn_begin,
    .txn_commit = sq_txn_commit,
    .txn_rollback = sq_txn_rollback,
    .watch_since = sq_watch_since,
    .subscribe = sq_subscribe,
    .unsubscribe = sq_unsubscribe,
    .current_rv = sq_current_rv,
    .compacted_rv = sq_compacted_rv,
    .compact = sq_compact,
    .fault_inject = sq_fault_inject,
    .checkpoint = sq_checkpoint,
};

/* ---- public dispatch ---------------------------------------------------------------------------------- */
void lh_store_close(lh_store *s) {
  if (s) s->methods->close(s);
}
int64_t lh_store_current_rv(const lh_store *s) { return s->methods->current_rv(s); }
int64_t lh_store_compacted_rv(const lh_store *s) { return s->methods->compacted_rv(s); }
int lh_store_get(lh_store *s, const char *resource, const char *ns, const char *name, lh_store_obj *out) {
  if (!resource || !ns || !name) return LH_STORE_EINVAL;
  return s->methods->get(s, resource, ns, name, out);
}
int lh_store_create(lh_store *s, const char *resource, const char *ns, const char *name, json_t *obj,
                    lh_store_obj *out) {
  return s->methods->put(s, LH_STORE_ADDED, resource, ns, name, obj, NULL, out);
}
int lh_store_update(lh_store *s, const char *resource, const char *ns, const char *name, json_t *obj,
                    const lh_store_precond *pre, lh_store_obj *out) {
  return s->methods->put(s, LH_STORE_MODIFIED, resource, ns, name, obj, pre, out);
}
int lh_store_delete(lh_store *s, const char *resource, const char *ns, const char *name,
                    const lh_store_precond *pre, lh_store_obj *out) {
  return s->methods->put(s, LH_STORE_DELETED, resource, ns, name, NULL, pre, out);
}
int lh_store_count(lh_store *s, const char *resource, const char *ns, int64_t *n) {
  if (!resource || !n) return LH_STORE_EINVAL;
  return s->methods->count(s, resource, ns, n);
}
int lh_store_txn_begin(lh_store *s) { return s->methods->txn_begin(s); }
int lh_store_txn_commit(lh_store *s) { return s->methods->txn_commit(s); }
void lh_store_txn_rollback(lh_store *s) { s->methods->txn_rollback(s); }
int lh_store_list(lh_store *s, const char *resource, const lh_store_list_opts *o, lh_store_item_fn item_cb,
                  void *item_ud, lh_store_list_result *res) {
  return s->methods->list(s, resource, o, item_cb, item_ud, res);
}
int lh_store_events_since(lh_store *s, int64_t since_rv, const char *resource, const char *ns,
                          lh_store_event_fn cb, void *ud) {
  if (!cb) return LH_STORE_EINVAL;
  return s->methods->watch_since(s, since_rv, resource, ns, cb, ud);
}
int lh_store_subscribe(lh_store *s, lh_store_event_fn cb, void *ud) { return s->methods->subscribe(s, cb, ud); }
void lh_store_unsubscribe(lh_store *s, int id) { s->methods->unsubscribe(s, id); }
int lh_store_compact(lh_store *s, int64_t upto_rv) { return s->methods->compact(s, upto_rv); }
void lh_store_fault_inject(lh_store *s, int n, int rc) { s->methods->fault_inject(s, n, rc); }
int lh_store_checkpoint(lh_store *s) { return s->methods->checkpoint ? s->methods->checkpoint(s) : 0; }
