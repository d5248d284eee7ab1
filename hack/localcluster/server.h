/* server.h — the local cluster's process-level server: opens the store and the log database,
 * re-serves stored CRDs, creates the default namespaces, and serves HTTP/1.1 (+ TLS) and
 * WebSocket watches on one port with libwebsockets, on a single event loop. */
#ifndef LAHAR_LC_SERVER_H
#define LAHAR_LC_SERVER_H

#include <signal.h>
#include <stddef.h>

#include "localcluster/lc.h"

typedef struct lc_server_opts {
  const char *host;        /* listen address, e.g. "127.0.0.1" */
  int port;                /* 0 = pick a free port (see lc_server_port) */
  const char *data_dir;    /* store directory */
  const char *tls_cert;    /* PEM paths; both NULL → plain HTTP */
  const char *tls_key;
  int bookmark_interval_s; /* 0 → 60 */
  long event_retention;    /* watch history kept (store events); 0 → store default (100000) */
  const char *service_cidr; /* Service clusterIP range; NULL → LC_SERVICE_CIDR_DEFAULT */
} lc_server_opts;

/* Opens everything and starts listening. Returns 0, or -1 with a message in err (the caller
 * exits 1); on failure *s is cleaned up. */
int lc_server_init(lc_server *s, const lc_server_opts *o, char *err, size_t errlen);
/* Runs the loop until *stop becomes non-zero (set it from a signal handler, then call
 * lc_server_wake). Returns 0. */
int lc_server_run(lc_server *s, volatile sig_atomic_t *stop);
/* Async-signal-safe: interrupts the loop's poll. */
void lc_server_wake(lc_server *s);
/* The port actually bound. */
int lc_server_port(const lc_server *s);
void lc_server_free(lc_server *s);

/* Ensures the default namespaces exist (default, kube-system, kube-public, kube-node-lease).
 * Also used by tests. Returns 0 or a store code. */
int lc_server_bootstrap(lc_server *s);

#endif
