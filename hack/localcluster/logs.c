/* logs.c — pod log text in <data-dir>/logs.db (see logs.h). */
#include "localcluster/logs.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

#define LOG_READ_CAP ((size_t)64 << 20)

struct lc_logs {
  sqlite3 *db;
  sqlite3_stmt *ins, *sel_one, *sel_all, *del;
};

struct lc_logs *lc_logs_open(const char *dir, char *err, size_t errlen) {
  struct lc_logs *l = calloc(1, sizeof *l);
  if (!l) return NULL;
  char path[4096];
  if (!dir || !strcmp(dir, ":memory:")) snprintf(path, sizeof path, ":memory:");
  else snprintf(path, sizeof path, "%s/logs.db", dir);
  if (sqlite3_open(path, &l->db) != SQLITE_OK) {
    snprintf(err, errlen, "cannot open %s: %s", path, l->db ? sqlite3_errmsg(l->db) : "out of memory");
    lc_logs_close(l);
    return NULL;
  }
  const char *ddl = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                    "CREATE TABLE IF NOT EXISTS pod_logs(namespace TEXT NOT NULL, pod TEXT NOT NULL,"
                    " container TEXT NOT NULL, seq INTEGER PRIMARY KEY AUTOINCREMENT, text BLOB NOT NULL);"
                    "CREATE INDEX IF NOT EXISTS pod_logs_pod ON pod_logs(namespace, pod, container, seq);";
  char *e = NULL;
  if (sqlite3_exec(l->db, ddl, NULL, NULL, &e) != SQLITE_OK ||
      sqlite3_prepare_v2(l->db, "INSERT INTO pod_logs(namespace,pod,container,text) VALUES(?,?,?,?)", -1, &l->ins, NULL) ||
      sqlite3_prepare_v2(l->db, "SELECT text FROM pod_logs WHERE namespace=? AND pod=? AND container=? ORDER BY seq", -1, &l->sel_one, NULL) ||
      sqlite3_prepare_v2(l->db, "SELECT text FROM pod_logs WHERE namespace=? AND pod=? ORDER BY seq", -1, &l->sel_all, NULL) ||
      sqlite3_prepare_v2(l->db, "DELETE FROM pod_logs WHERE namespace=? AND pod=?", -1, &l->del, NULL)) {
    snprintf(err, errlen, "cannot prepare %s: %s", path, e ? e : sqlite3_errmsg(l->db));
    sqlite3_free(e);
    lc_logs_close(l);
    return NULL;
  }
  return l;
}

void lc_logs_close(struct lc_logs *l) {
  if (!l) return;
  sqlite3_finalize(l->ins);
  sqlite3_finalize(l->sel_one);
  sqlite3_finalize(l->sel_all);
  sqlite3_finalize(l->del);
  sqlite3_close(l->db);
  free(l);
}

int lc_logs_append(struct lc_logs *l, const char *ns, const char *pod, const char *container, const char *text,
                   size_t len) {
  sqlite3_stmt *st = l->ins;
  sqlite3_reset(st);
  sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, pod, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, container ? container : "", -1, SQLITE_STATIC);
  sqlite3_bind_blob(st, 4, text, (int)len, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? 0 : -1;
}

char *lc_logs_read(struct lc_logs *l, const char *ns, const char *pod, const char *container, long tail_lines,
                   size_t *len) {
  sqlite3_stmt *st = container && *container ? l->sel_one : l->sel_all;
  sqlite3_reset(st);
  sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, pod, -1, SQLITE_STATIC);
  if (st == l->sel_one) sqlite3_bind_text(st, 3, container, -1, SQLITE_STATIC);
  lh_buf b;
  lh_buf_init(&b, LOG_READ_CAP);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const void *p = sqlite3_column_blob(st, 0);
    int n = sqlite3_column_bytes(st, 0);
    if (n > 0 && lh_buf_add(&b, p, (size_t)n)) break; /* capped: keep what fits */
  }
  sqlite3_reset(st);
  char *text = lh_buf_take(&b);
  size_t n = strlen(text);
  if (tail_lines >= 0) {
    size_t end = n;
    if (end && text[end - 1] == '\n') end--;
    long seen = 0;
    size_t start = 0;
    for (size_t i = end; i-- > 0;) {
      if (text[i] == '\n' && ++seen == tail_lines) {
        start = i + 1;
        break;
      }
    }
    if (tail_lines == 0) start = n;
    memmove(text, text + start, n - start + 1);
    n -= start;
  }
  *len = n;
  return text;
}

int lc_logs_delete_pod(struct lc_logs *l, const char *ns, const char *pod) {
  sqlite3_stmt *st = l->del;
  sqlite3_reset(st);
  sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, pod, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? 0 : -1;
}
