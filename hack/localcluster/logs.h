/* logs.h — pod log text for the pods/log subresource.
 *
 * Logs live in their own SQLite database, <data-dir>/logs.db (table pod_logs: namespace, pod,
 * container, seq, text), apart from the object store: they are not API objects, have no
 * resourceVersion and produce no watch events, like a kubelet's log files. Writers are the
 * simulated nodes (in-process: lc_logs_append) and, for out-of-process writers, the lahar
 * extension `POST /api/v1/namespaces/NS/pods/NAME/log?container=C` with a text/plain body
 * (appended). Readers: `GET .../pods/NAME/log[?container=C][&tailLines=N]` answers text/plain.
 * A pod's logs are removed when the pod is deleted. */
#ifndef LAHAR_LC_LOGS_H
#define LAHAR_LC_LOGS_H

#include <stddef.h>

struct lc_logs;

/* Opens <dir>/logs.db (dir NULL or ":memory:" → in memory). Returns NULL on failure (err set). */
struct lc_logs *lc_logs_open(const char *dir, char *err, size_t errlen);
void lc_logs_close(struct lc_logs *l);
/* Appends text to a container's log. container may be "" (the pod's only container). 0 or -1. */
int lc_logs_append(struct lc_logs *l, const char *ns, const char *pod, const char *container,
                   const char *text, size_t len);
/* The log text (malloc'd, caller frees, "" when none), last tail_lines lines when ≥ 0.
 * container "" = all containers. NULL on error. */
char *lc_logs_read(struct lc_logs *l, const char *ns, const char *pod, const char *container,
                   long tail_lines, size_t *len);
int lc_logs_delete_pod(struct lc_logs *l, const char *ns, const char *pod);

#endif
