/* kubeconfig_out.h — writes a kubeconfig that points kubectl (or lahar's client) at this local
 * cluster: one cluster/context/user named after the cluster, http:// or https:// with the
 * server's own certificate as the CA. The user carries a placeholder token: the local cluster does
 * no authentication, but kubectl prompts for a username on https without any credential. Written atomically (temp file + rename), mode 0600. */
#ifndef LAHAR_LC_KUBECONFIG_OUT_H
#define LAHAR_LC_KUBECONFIG_OUT_H

#include <stddef.h>

/* Renders the kubeconfig text (malloc'd, caller frees; NULL on ENOMEM). ca_path may be NULL
 * (plain HTTP); it is written as given (pass an absolute path). */
char *lc_kubeconfig_render(const char *name, const char *host, int port, const char *ca_path);
/* Writes it to path. Returns 0 or -1 with a message in err. */
int lc_kubeconfig_write(const char *path, const char *name, const char *host, int port, const char *ca_path,
                        char *err, size_t errlen);

#endif
