/* config.h — where and how to reach an API server: kubeconfig files (libyaml) and in-cluster
 * service-account configuration.
 *
 * Supported kubeconfig fields: clusters[].cluster.{server, certificate-authority,
 * certificate-authority-data, insecure-skip-tls-verify}, users[].user.{token, tokenFile,
 * client-certificate, client-certificate-data, client-key, client-key-data}, contexts[].context.
 * {cluster, user, namespace}, current-context. Relative file paths are resolved against the
 * kubeconfig's directory (as client-go does). Files named by the config are read at load time,
 * so the config holds bytes (PEM, token) rather than paths. exec/auth-provider plugins and basic
 * auth are not supported (LH_EKUBE_CONFIG with a message naming the field).
 *
 * Ownership: an lh_kube_config is owned by the caller and freed with lh_kube_config_free().
 * Error text: every loader takes (err, errlen) and writes one line saying which file/field failed;
 * it never contains token or key material. */
#ifndef LAHAR_KUBE_CONFIG_H
#define LAHAR_KUBE_CONFIG_H

#include <stddef.h>

#define LH_KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

typedef struct lh_kube_config {
  char *server;          /* "https://host:port" without trailing slash */
  char *ca_pem;          /* CA bundle (PEM bytes) or NULL: system trust store */
  size_t ca_pem_len;
  char *token;           /* bearer token or NULL (trailing whitespace trimmed) */
  char *token_file;      /* where token came from, or NULL (in-cluster: re-read on rotation) */
  char *cert_pem;        /* client certificate (PEM) or NULL */
  size_t cert_pem_len;
  char *key_pem;         /* client key (PEM) or NULL; never logged */
  size_t key_pem_len;
  int insecure;          /* insecure-skip-tls-verify: no CA/hostname check */
  char *namespace;       /* the context's namespace, "default" when unset */
  char *context;         /* context name used, or "in-cluster" */
} lh_kube_config;

/* Loads path (a kubeconfig) using context (NULL: current-context). On success *out is a new
 * config and 0 is returned. On failure *out is NULL and the return is LH_EKUBE_IO (a file could
 * not be read), LH_EKUBE_PARSE (YAML, base64) or LH_EKUBE_CONFIG (missing/unsupported field),
 * with a message in err. */
int lh_kube_config_load_file(const char *path, const char *context, lh_kube_config **out,
                             char *err, size_t errlen);
/* Same from an in-memory YAML document; base_dir resolves relative paths (NULL: cwd). */
int lh_kube_config_load_yaml(const char *yaml, size_t len, const char *base_dir,
                             const char *context, lh_kube_config **out, char *err, size_t errlen);
/* $KUBECONFIG (its first existing entry if it is a colon list) else ~/.kube/config. */
int lh_kube_config_load_default(const char *context, lh_kube_config **out, char *err,
                                size_t errlen);
/* In-cluster: KUBERNETES_SERVICE_HOST/_PORT plus sa_dir/{token,ca.crt,namespace}
 * (sa_dir NULL: $LAHAR_KUBE_SA_DIR, else LH_KUBE_SA_DIR). IPv6 hosts are bracketed.
 * Errors as above; LH_EKUBE_CONFIG when the environment variables are missing. */
int lh_kube_config_in_cluster(const char *sa_dir, lh_kube_config **out, char *err,
                              size_t errlen);
/* In-cluster when KUBERNETES_SERVICE_HOST is set, else lh_kube_config_load_default(NULL). */
int lh_kube_config_auto(lh_kube_config **out, char *err, size_t errlen);
/* Deep copy; NULL on allocation failure. */
lh_kube_config *lh_kube_config_dup(const lh_kube_config *c);
void lh_kube_config_free(lh_kube_config *c); /* NULL ok; wipes secrets before freeing */

/* Strict base64 decode (standard alphabet, padding optional, whitespace skipped). Returns a
 * malloc'ed NUL-terminated buffer with *outlen, or NULL on bad input / no memory. */
char *lh_kube_base64_decode(const char *in, size_t len, size_t *outlen);
/* Reads a whole file up to cap bytes. Returns 0, LH_EKUBE_IO or LH_EKUBE_TOOBIG. */
int lh_kube_read_file(const char *path, size_t cap, char **out, size_t *outlen);

#endif
