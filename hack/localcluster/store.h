/* store.h — the object store of lahar's local cluster (what etcd + kine are to a real API server).
 *
 * Objects are JSON documents keyed by (resource, namespace, name):
 *   resource   the storage key of the kind: "pods", "nodes", "apps/deployments",
 *              "scheduling.volcano.sh/queues". Opaque to the store (compared bytewise).
 *   namespace  "" for cluster-scoped objects.
 *   name       metadata.name.
 *
 * resourceVersion: one global int64 counter across every resource, strictly increasing by one per
 * write (create, update or delete), like etcd's revision. The store assigns it and writes it into the
 * stored document as the string metadata.resourceVersion, so the text a reader gets back is exactly
 * the text watchers see. Reopening the same data directory continues the counter: nothing committed
 * is lost and resourceVersions never repeat.
 *
 * Who sets what: the store sets ONLY metadata.resourceVersion. The caller (the HTTP server) sets
 * metadata.uid, metadata.creationTimestamp, metadata.generation, deletionTimestamp, defaults, etc.
 *
 * Durability: every write is committed to SQLite (journal_mode=WAL, locking_mode=EXCLUSIVE: one
 * process owns the data directory while it is open) before the write function returns. The default is synchronous=NORMAL: a committed write survives a crash of the lahar
 * process (the WAL is in the OS page cache) but the last transactions may be lost on a power cut
 * or kernel crash. That matches a local development cluster; opts.sync_full = 1 selects
 * synchronous=FULL (fsync per commit) for callers who need power-loss durability.
 * Group commit: wrap writes that arrive together in lh_store_txn_begin()/lh_store_txn_commit():
 * they share one SQLite transaction (one WAL append) but each still gets its own resourceVersion.
 *
 * Watch: every committed write produces exactly one event (ADDED / MODIFIED / DELETED; DELETED
 * carries the last state of the object with metadata.resourceVersion = the delete's rv). Events go
 * to an in-memory ring (the "watch cache", opts.watch_cache_events entries) and to a durable
 * events table that keeps the last opts.event_retention events (older ones are compacted away,
 * deterministically, see lh_store_compact). lh_store_events_since() replays events with rv > R or
 * reports LH_STORE_EEXPIRED when events after R were compacted (the server answers 410 Expired).
 * lh_store_subscribe() callbacks run synchronously, in rv order, right after each commit.
 *
 * Lists are consistent snapshots: a list returns the resourceVersion it was taken at, and a
 * continue token pins later pages to that same resourceVersion even if writes happen in between
 * (like etcd's paged range reads). A token older than the compaction point gives EEXPIRED.
 *
 * Threading: a store is used from one thread at a time (the server's event loop). Callbacks must
 * not call write functions of the same store (they may call read functions).
 *
 * Ownership: strings passed in are borrowed for the call. Objects returned in an lh_store_obj are
 * malloc'd and belong to the caller (lh_store_obj_clear). Everything handed to a callback
 * (event, list item) is borrowed for the duration of the callback only.
 *
 * The implementation sits behind struct lh_store_methods (SQLite VFS style); store_sqlite.c is the
 * SQLite implementation. */
#ifndef LAHAR_LOCALCLUSTER_STORE_H
#define LAHAR_LOCALCLUSTER_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* ---- return codes ------------------------------------------------------------------------- */
#define LH_STORE_OK 0
#define LH_STORE_ENOTFOUND -1 /* no such object (404) */
#define LH_STORE_EEXISTS -2   /* create of an existing object (409 AlreadyExists) */
#define LH_STORE_ECONFLICT -3 /* precondition (resourceVersion or uid) mismatch (409 Conflict) */
#define LH_STORE_EEXPIRED -4  /* rv / continue token older than the retained history (410) */
#define LH_STORE_EINVAL -5    /* bad argument: object not a JSON object, bad continue token, ... */
#define LH_STORE_EIO -6       /* SQLite or OS failure; the write was NOT applied (500) */
#define LH_STORE_EBUSY -7     /* database locked by another process (SQLITE_BUSY) (500/503) */
#define LH_STORE_ENOMEM -8
#define LH_STORE_EMISUSE -9   /* txn misuse (nested begin, commit without begin, write in callback) */

/* Static English text for a code ("not found", ...). Never NULL. */
const char *lh_store_strerror(int rc);

typedef struct lh_store lh_store;

/* ---- opening -------------------------------------------------------------------------------- */
typedef struct lh_store_options {
  /* Data directory; the database is <dir>/state.db (created with the directory if missing).
   * NULL or ":memory:" opens a private in-memory database (tests; nothing survives close). */
  const char *dir;
  size_t watch_cache_events; /* in-memory event ring size; 0 → 100000 */
  int64_t event_retention;   /* durable events kept before compaction; 0 → 100000 */
  int sync_full;             /* 0 → PRAGMA synchronous=NORMAL, 1 → FULL */
  int busy_timeout_ms;       /* SQLite busy timeout; 0 → 5000 */
} lh_store_options;

/* Opens (creating if needed) the SQLite store. opts may be NULL (in-memory, defaults).
 * Returns 0 and *out, or a negative code with a message in err (if err != NULL) and *out = NULL.
 * On open the watch cache is refilled from the durable events table so watches from an rv
 * before the restart keep working. */
int lh_store_open_sqlite(const lh_store_options *opts, lh_store **out, char *err, size_t errlen);
/* Closes and frees; accepts NULL. An open transaction is rolled back. */
void lh_store_close(lh_store *s);

/* ---- objects -------------------------------------------------------------------------------- */
typedef struct lh_store_obj {
  char *json;  /* malloc'd, NUL-terminated, compact serialized object */
  size_t len;  /* strlen(json) */
  int64_t rv;  /* the object's resourceVersion (for a delete result: the delete's rv) */
} lh_store_obj;

/* Frees o->json and zeroes *o; accepts NULL and an already-cleared object. */
void lh_store_obj_clear(lh_store_obj *o);

/* Preconditions of update/delete (pass NULL for none). rv 0 / uid NULL mean "don't check". */
typedef struct lh_store_precond {
  int64_t rv;      /* must equal the stored object's resourceVersion */
  const char *uid; /* must equal the stored object's metadata.uid */
} lh_store_precond;

/* The highest committed resourceVersion (0 for an empty new store). */
int64_t lh_store_current_rv(const lh_store *s);
/* Events with rv <= this were compacted away: watches/continues from rv < this are EEXPIRED. */
int64_t lh_store_compacted_rv(const lh_store *s);

/* Reads one object. out may be NULL (existence check). 0, ENOTFOUND, EIO. */
int lh_store_get(lh_store *s, const char *resource, const char *ns, const char *name,
                 lh_store_obj *out);

/* Creates an object. obj must be a JSON object; the store sets obj.metadata.resourceVersion (it
 * MUTATES obj, creating "metadata" if absent) and stores its compact serialization. out (may be
 * NULL) receives the stored text and rv. Codes: 0, EEXISTS, EINVAL, EIO/EBUSY (nothing written). */
int lh_store_create(lh_store *s, const char *resource, const char *ns, const char *name, json_t *obj,
                    lh_store_obj *out);

/* Replaces an existing object (optimistic concurrency through pre). Same mutation of obj as create.
 * Codes: 0, ENOTFOUND, ECONFLICT (pre->rv / pre->uid mismatch), EINVAL, EIO/EBUSY. */
int lh_store_update(lh_store *s, const char *resource, const char *ns, const char *name, json_t *obj,
                    const lh_store_precond *pre, lh_store_obj *out);

/* Deletes an object. out (may be NULL) receives its last state re-stamped with the delete's rv
 * (exactly the DELETED event's object). Codes: 0, ENOTFOUND, ECONFLICT, EIO/EBUSY. */
int lh_store_delete(lh_store *s, const char *resource, const char *ns, const char *name,
                    const lh_store_precond *pre, lh_store_obj *out);

/* Number of objects of resource (in ns, or all namespaces when ns == NULL), including the writes of
 * an open txn. Answered from counts kept in memory: no scan. 0 or EINVAL. */
int lh_store_count(lh_store *s, const char *resource, const char *ns, int64_t *n);

/* ---- group commit ----------------------------------------------------------------------------- */
/* Between begin and commit, writes are applied inside one SQLite transaction and each gets its
 * resourceVersion immediately (reads see them), but events are neither published to the watch
 * cache nor to subscribers until commit. A write that fails inside the txn (EEXISTS, ECONFLICT,
 * or an SQLite error) is undone alone (savepoint) and the txn continues.
 * commit: 0, or EIO/EBUSY in which case the whole txn was rolled back (as if never begun; the rv
 * counter is restored). rollback: discards every write since begin. Nested begin → EMISUSE. */
int lh_store_txn_begin(lh_store *s);
int lh_store_txn_commit(lh_store *s);
void lh_store_txn_rollback(lh_store *s);

/* ---- lists ------------------------------------------------------------------------------------ */
/* Optional per-item filter (label/field selectors): return 1 to include the item, 0 to skip it.
 * limit counts included items only (like the apiserver). json is borrowed, NOT NUL-guaranteed
 * beyond len (it is in practice NUL-terminated). */
typedef int (*lh_store_filter_fn)(void *ud, const char *ns, const char *name, const char *json,
                                  size_t len);
/* Receives each listed item in order; return 0 to continue, non-zero to abort the list (the list
 * call then returns that value). */
typedef int (*lh_store_item_fn)(void *ud, const char *ns, const char *name, const char *json,
                                size_t len, int64_t rv);

typedef struct lh_store_list_opts {
  const char *ns;            /* NULL → all namespaces */
  int64_t limit;             /* 0 → no limit */
  const char *continue_token; /* from a previous page's result, or NULL */
  int64_t at_rv;             /* 0 → current; else a snapshot at that rv (resourceVersionMatch=Exact);
                              * ignored when continue_token is set. > current → EINVAL. */
  lh_store_filter_fn filter; /* NULL → everything */
  void *filter_ud;
} lh_store_list_opts;

typedef struct lh_store_list_result {
  int64_t rv;              /* resourceVersion the list is consistent at (ListMeta.resourceVersion) */
  char continue_token[1024]; /* "" when this was the last page; else pass to the next call */
  int64_t remaining;       /* remainingItemCount when known (no filter, snapshot = current rv), else -1 */
} lh_store_list_result;

/* Lists objects of resource ordered by (namespace, name) — etcd key order. Items are handed to
 * item_cb. Codes: 0, EINVAL (bad token), EEXPIRED (token/at_rv compacted), EIO, or the non-zero
 * value item_cb returned. res is filled on 0. */
int lh_store_list(lh_store *s, const char *resource, const lh_store_list_opts *o,
                  lh_store_item_fn item_cb, void *item_ud, lh_store_list_result *res);

/* ---- watch ------------------------------------------------------------------------------------ */
typedef enum { LH_STORE_ADDED = 1, LH_STORE_MODIFIED = 2, LH_STORE_DELETED = 3 } lh_store_event_type;

/* "ADDED", "MODIFIED", "DELETED" (the watch event "type" strings). */
const char *lh_store_event_type_name(lh_store_event_type t);

typedef struct lh_store_event {
  lh_store_event_type type;
  int64_t rv;
  const char *resource;
  const char *ns;
  const char *name;
  const char *json; /* object text with metadata.resourceVersion == rv */
  size_t len;
  /* The same object parsed (borrowed; read-only), or NULL (replays from the watch cache or the
   * events table). Live events carry it so subscribers need not parse json again: for a create
   * or update it is the json_t the writer passed, for a delete the object's last state. A writer
   * must not change that json_t after a successful write before the event is published (the
   * end of its transaction), except through a later write of the same object. */
  const json_t *obj;
} lh_store_event;

/* Event consumer: return 0 to continue, non-zero to stop (returned by events_since). The event
 * and all its strings are borrowed for the call only. */
typedef int (*lh_store_event_fn)(void *ud, const lh_store_event *ev);

/* Calls cb for every committed event with rv > since_rv, in rv order, restricted to resource
 * (NULL → all resources) and ns (NULL → all namespaces). Served from the watch cache, or from the
 * durable events table when the ring no longer reaches back that far.
 * Codes: 0, EEXPIRED (since_rv < lh_store_compacted_rv(): events were lost → 410), EIO, or cb's
 * non-zero value. since_rv > current is allowed (nothing is delivered). */
int lh_store_events_since(lh_store *s, int64_t since_rv, const char *resource, const char *ns,
                          lh_store_event_fn cb, void *ud);

/* Registers cb to be called synchronously after every commit, once per event, in rv order (the
 * callback's return value is ignored). Returns a subscription id > 0, or ENOMEM. */
int lh_store_subscribe(lh_store *s, lh_store_event_fn cb, void *ud);
/* Removes a subscription; safe to call from inside a callback. Unknown ids are ignored. */
void lh_store_unsubscribe(lh_store *s, int id);

/* Compacts the durable events table (and drops older ring entries) so that only events with
 * rv > upto_rv remain; upto_rv is clamped to current_rv. Writes also compact automatically once
 * more than event_retention + max(1, event_retention/8) events are retained, down to exactly
 * event_retention (deterministic given the write sequence). 0 or EIO. */
int lh_store_compact(lh_store *s, int64_t upto_rv);

/* Durability housekeeping off the write path: the SQLite store checkpoints its write-ahead log
 * here (writes never do, so a commit never pays for one). Cheap when there is little to do; call
 * it periodically (the server: once a second) outside a transaction. 0 or EIO/EBUSY. */
int lh_store_checkpoint(lh_store *s);

/* ---- fault injection (tests) -------------------------------------------------------------------- */
/* Makes the (n+1)-th SQLite step of the write path from now on fail with sqlite_rc
 * (e.g. SQLITE_IOERR, SQLITE_BUSY, SQLITE_FULL), as if SQLite returned it; every statement of a write
 * (object row, event row, COMMIT) counts. n < 0 disables. The failing write returns EIO (EBUSY for
 * SQLITE_BUSY) and leaves no partial state: no object change, no event, rv unchanged. */
void lh_store_fault_inject(lh_store *s, int n, int sqlite_rc);

/* ---- implementation table (SQLite VFS style) ---------------------------------------------------- */
/* Every lh_store begins with a pointer to its methods; the public functions above dispatch through
 * it. A second implementation (e.g. an in-memory fake) supplies its own table. version is 1. */
struct lh_store_methods {
  int version;
  const char *name; /* "sqlite" */
  void (*close)(lh_store *s);
  int (*get)(lh_store *s, const char *resource, const char *ns, const char *name, lh_store_obj *out);
  int (*list)(lh_store *s, const char *resource, const lh_store_list_opts *o, lh_store_item_fn cb,
              void *ud, lh_store_list_result *res);
  int (*count)(lh_store *s, const char *resource, const char *ns, int64_t *n);
  /* op: LH_STORE_ADDED (create), MODIFIED (update), DELETED (delete; obj NULL) */
  int (*put)(lh_store *s, lh_store_event_type op, const char *resource, const char *ns,
             const char *name, json_t *obj, const lh_store_precond *pre, lh_store_obj *out);
  int (*txn_begin)(lh_store *s);
  int (*txn_commit)(lh_store *s);
  void (*txn_rollback)(lh_store *s);
  int (*watch_since)(lh_store *s, int64_t since_rv, const char *resource, const char *ns,
                     lh_store_event_fn cb, void *ud);
  int (*subscribe)(lh_store *s, lh_store_event_fn cb, void *ud);
  void (*unsubscribe)(lh_store *s, int id);
  int64_t (*current_rv)(const lh_store *s);
  int64_t (*compacted_rv)(const lh_store *s);
  int (*compact)(lh_store *s, int64_t upto_rv);
  void (*fault_inject)(lh_store *s, int n, int rc);
  int (*checkpoint)(lh_store *s); /* may be NULL */
};

struct lh_store {
  const struct lh_store_methods *methods;
};

#endif
