/* config.c — kubeconfig (libyaml document API) and in-cluster configuration loading. */
#include "kube/config.h"
#include "kube/kube.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define FILE_CAP (4u << 20) /* kubeconfig, PEM and token files are small */

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return rc;
}

int lh_kube_read_file(const char *path, size_t cap, char **out, size_t *outlen) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) return LH_EKUBE_IO;
  size_t alloc = 4096, len = 0;
  char *b = malloc(alloc);
  if (!b) {
    fclose(f);
    return LH_EKUBE_NOMEM;
  }
  for (;;) {
    if (len + 1 >= alloc) {
      if (alloc > cap) {
        free(b);
        fclose(f);
        return LH_EKUBE_TOOBIG;
      }
      char *nb = realloc(b, alloc * 2);
      if (!nb) {
        free(b);
        fclose(f);
        return LH_EKUBE_NOMEM;
      }
      b = nb;
      alloc *= 2;
    }
    size_t r = fread(b + len, 1, alloc - len - 1, f);
    len += r;
    if (r == 0) break;
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    free(b);
    return LH_EKUBE_IO;
  }
  if (len > cap) {
    free(b);
    return LH_EKUBE_TOOBIG;
  }
  b[len] = '\0';
  *out = b;
  if (outlen) *outlen = len;
  return 0;
}

char *lh_kube_base64_decode(const char *in, size_t len, size_t *outlen) {
  char *out = malloc(len / 4 * 3 + 4);
  if (!out) return NULL;
  unsigned acc = 0;
  int bits = 0, pad = 0;
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)in[i];
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    else if (c == '=') {
      pad++;
      continue;
    } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    else goto bad;
    if (pad) goto bad; /* data after padding */
    acc = (acc << 6) | (unsigned)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (char)((acc >> bits) & 0xff);
    }
  }
  if (bits >= 6 || pad > 2) goto bad; /* a lone trailing sextet is not valid base64 */
  out[o] = '\0';
  *outlen = o;
  return out;
bad:
  free(out);
  return NULL;
}

/* --- YAML document helpers ---------------------------------------------------------------- */

static yaml_node_t *ymap_get(yaml_document_t *d, yaml_node_t *map, const char *key) {
  if (!map || map->type != YAML_MAPPING_NODE) return NULL;
  for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(d, p->key);
    if (k && k->type == YAML_SCALAR_NODE && strlen(key) == k->data.scalar.length &&
        memcmp(k->data.scalar.value, key, k->data.scalar.length) == 0)
      return yaml_document_get_node(d, p->value);
  }
  return NULL;
}

/* Returns the scalar text of map[key] (NUL-terminated by libyaml), or NULL when absent/empty. */
static const char *ystr(yaml_document_t *d, yaml_node_t *map, const char *key) {
  yaml_node_t *n = ymap_get(d, map, key);
  if (!n || n->type != YAML_SCALAR_NODE || n->data.scalar.length == 0) return NULL;
  return (const char *)n->data.scalar.value;
}

/* Finds the item of seq (clusters/users/contexts) whose name is name; returns item[field]. */
static yaml_node_t *ynamed(yaml_document_t *d, yaml_node_t *root, const char *list,
                           const char *name, const char *field) {
  yaml_node_t *seq = ymap_get(d, root, list);
  if (!seq || seq->type != YAML_SEQUENCE_NODE) return NULL;
  for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
       it++) {
    yaml_node_t *item = yaml_document_get_node(d, *it);
    const char *n = ystr(d, item, "name");
    if (n && strcmp(n, name) == 0) {
      yaml_node_t *f = ymap_get(d, item, field);
      return f && f->type == YAML_MAPPING_NODE ? f : NULL;
    }
  }
  return NULL;
}

static char *path_join(const char *base, const char *p) {
  if (p[0] == '/' || !base || !*base) return strdup(p);
  size_t n = strlen(base) + strlen(p) + 2;
  char *s = malloc(n);
  if (s) snprintf(s, n, "%s/%s", base, p);
  return s;
}

/* Loads the bytes of "<field>-data" (base64) or "<field>" (a file) from m into *out.
 * Returns 0 (also when neither is set), or an error with err filled. */
static int load_blob(yaml_document_t *d, yaml_node_t *m, const char *field, const char *base,
                     char **out, size_t *outlen, char *err, size_t errlen) {
  char dkey[64];
  snprintf(dkey, sizeof(dkey), "%s-data", field);
  const char *data = ystr(d, m, dkey);
  if (data) {
    *out = lh_kube_base64_decode(data, strlen(data), outlen);
    if (!*out) return fail(err, errlen, LH_EKUBE_PARSE, "kubeconfig: %s is not valid base64", dkey);
    return 0;
  }
  const char *file = ystr(d, m, field);
  if (!file) return 0;
  char *p = path_join(base, file);
  if (!p) return LH_EKUBE_NOMEM;
  int rc = lh_kube_read_file(p, FILE_CAP, out, outlen);
  if (rc) fail(err, errlen, rc, "kubeconfig: cannot read %s file %s: %s", field, p,
               rc == LH_EKUBE_IO ? strerror(errno) : lh_kube_strerror(rc));
  free(p);
  return rc;
}

static void trim_right(char *s) {
  size_t n = strlen(s);
  while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
    s[--n] = '\0';
}

static int from_doc(yaml_document_t *d, const char *base, const char *ctxname,
                    lh_kube_config *c, char *err, size_t errlen) {
  yaml_node_t *root = yaml_document_get_root_node(d);
  if (!root || root->type != YAML_MAPPING_NODE)
    return fail(err, errlen, LH_EKUBE_CONFIG, "kubeconfig: top level is not a mapping");
  if (!ctxname) ctxname = ystr(d, root, "current-context");
  if (!ctxname) return fail(err, errlen, LH_EKUBE_CONFIG, "kubeconfig: no current-context set");
  yaml_node_t *ctx = ynamed(d, root, "contexts", ctxname, "context");
  if (!ctx) return fail(err, errlen, LH_EKUBE_CONFIG, "kubeconfig: context \"%s\" not found", ctxname);
  const char *cluster_name = ystr(d, ctx, "cluster");
  const char *user_name = ystr(d, ctx, "user");
  const char *ns = ystr(d, ctx, "namespace");
  if (!cluster_name)
    return fail(err, errlen, LH_EKUBE_CONFIG, "kubeconfig: context \"%s\" has no cluster", ctxname);
  yaml_node_t *cl = ynamed(d, root, "clusters", cluster_name, "cluster");
  if (!cl) return fail(err, errlen, LH_EKUBE_CONFIG, "kubeconfig: cluster \"%s\" not found", cluster_name);
  const char *server = ystr(d, cl, "server");
  if (!server) return fail(err, errlen, LH_EKUBE_CONFIG, "kubeconfig: cluster \"%s\" has no server", cluster_name);
  if (strncmp(server, "https://", 8) != 0 && strncmp(server, "http://", 7) != 0)
    return fail(err, errlen, LH_EKUBE_CONFIG, "kubeconfig: server \"%s\" is not an http(s) URL", server);
  c->server = strdup(server);
  c->namespace = strdup(ns ? ns : "default");
  c->context = strdup(ctxname);
  if (!c->server || !c->namespace || !c->context) return LH_EKUBE_NOMEM;
  size_t sl = strlen(c->server);
  while (sl > 0 && c->server[sl - 1] == '/') c->server[--sl] = '\0';
  const char *insecure = ystr(d, cl, "insecure-skip-tls-verify");
  c->insecure = insecure && strcmp(insecure, "true") == 0;
  int rc = load_blob(d, cl, "certificate-authority", base, &c->ca_pem, &c->ca_pem_len, err, errlen);
  if (rc) return rc;
  if (!user_name) return 0; /* anonymous */
  yaml_node_t *u = ynamed(d, root, "users", user_name, "user");
  if (!u) return fail(err, errlen, LH_EKUBE_CONFIG, "kubeconfig: user \"%s\" not found", user_name);
  if (ymap_get(d, u, "exec") || ymap_get(d, u, "auth-provider"))
    return fail(err, errlen, LH_EKUBE_CONFIG,
                "kubeconfig: user \"%s\": exec/auth-provider credentials are not supported", user_name);
  if (ystr(d, u, "username") || ystr(d, u, "password"))
    return fail(err, errlen, LH_EKUBE_CONFIG,
                "kubeconfig: user \"%s\": basic auth is not supported", user_name);
  const char *tok = ystr(d, u, "token");
  const char *tokfile = ystr(d, u, "tokenFile");
  if (tok) {
    if (!(c->token = strdup(tok))) return LH_EKUBE_NOMEM;
  } else if (tokfile) {
    c->token_file = path_join(base, tokfile);
    if (!c->token_file) return LH_EKUBE_NOMEM;
    rc = lh_kube_read_file(c->token_file, FILE_CAP, &c->token, NULL);
    if (rc) return fail(err, errlen, rc, "kubeconfig: cannot read tokenFile %s", c->token_file);
    trim_right(c->token);
  }
  rc = load_blob(d, u, "client-certificate", base, &c->cert_pem, &c->cert_pem_len, err, errlen);
  if (!rc) rc = load_blob(d, u, "client-key", base, &c->key_pem, &c->key_pem_len, err, errlen);
  if (rc) return rc;
  if (!c->cert_pem != !c->key_pem)
    return fail(err, errlen, LH_EKUBE_CONFIG,
                "kubeconfig: user \"%s\": client certificate and key must both be set", user_name);
  return 0;
}

/* Why: libyaml's scanner does O(depth) work per token inside flow collections, so a
 * document nested tens of thousands of levels deep costs seconds of CPU before any error can
 * be reported. A first pass over the events refuses nesting deeper than any real configuration
 * needs, stopping as soon as the limit is passed. Returns the offending line (1-based) or 0. */
#define KUBECONFIG_MAX_DEPTH 64
static unsigned long kubeconfig_too_deep(const char *yaml, size_t len) {
  yaml_parser_t p;
  yaml_event_t ev;
  unsigned long bad = 0;
  int depth = 0;
  if (!yaml_parser_initialize(&p)) return 0;
  yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
  while (yaml_parser_parse(&p, &ev)) {
    yaml_event_type_t t = ev.type;
    if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
      if (++depth > KUBECONFIG_MAX_DEPTH) bad = (unsigned long)ev.start_mark.line + 1;
    } else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) {
      depth--;
    }
    yaml_event_delete(&ev);
    if (bad || t == YAML_STREAM_END_EVENT) break;
  }
  yaml_parser_delete(&p); /* syntax errors are reported by the real parse */
  return bad;
}

int lh_kube_config_load_yaml(const char *yaml, size_t len, const char *base_dir,
                             const char *context, lh_kube_config **out, char *err, size_t errlen) {
  *out = NULL;
  if (err && errlen) err[0] = '\0';
  unsigned long deep = kubeconfig_too_deep(yaml, len);
  if (deep)
    return fail(err, errlen, LH_EKUBE_PARSE, "kubeconfig: YAML error at line %lu: nested deeper than %d levels",
                deep, KUBECONFIG_MAX_DEPTH);
  yaml_parser_t p;
  yaml_document_t d;
  if (!yaml_parser_initialize(&p)) return LH_EKUBE_NOMEM;
  yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
  if (!yaml_parser_load(&p, &d)) {
    int rc = fail(err, errlen, LH_EKUBE_PARSE, "kubeconfig: YAML error at line %zu: %s",
                  p.problem_mark.line + 1, p.problem ? p.problem : "unknown");
    yaml_parser_delete(&p);
    return rc;
  }
  lh_kube_config *c = calloc(1, sizeof(*c));
  int rc = c ? from_doc(&d, base_dir, context, c, err, errlen) : LH_EKUBE_NOMEM;
  yaml_document_delete(&d);
  yaml_parser_delete(&p);
  if (rc == LH_EKUBE_NOMEM) fail(err, errlen, rc, "kubeconfig: out of memory");
  if (rc) {
    lh_kube_config_free(c);
    return rc;
  }
  *out = c;
  return 0;
}

int lh_kube_config_load_file(const char *path, const char *context, lh_kube_config **out,
                             char *err, size_t errlen) {
  *out = NULL;
  char *text = NULL;
  size_t len = 0;
  int rc = lh_kube_read_file(path, FILE_CAP, &text, &len);
  if (rc) return fail(err, errlen, rc, "kubeconfig: cannot read %s: %s", path,
                      rc == LH_EKUBE_IO ? strerror(errno) : lh_kube_strerror(rc));
  char *dir = strdup(path);
  if (!dir) {
    free(text);
    return LH_EKUBE_NOMEM;
  }
  char *slash = strrchr(dir, '/');
  if (slash) *slash = '\0';
  else strcpy(dir, ".");
  rc = lh_kube_config_load_yaml(text, len, dir, context, out, err, errlen);
  free(dir);
  free(text);
  return rc;
}

int lh_kube_config_load_default(const char *context, lh_kube_config **out, char *err,
                                size_t errlen) {
  const char *env = getenv("KUBECONFIG");
  if (env && *env) {
    /* client-go merges the list; lahar uses the first entry that exists */
    char *list = strdup(env);
    if (!list) return LH_EKUBE_NOMEM;
    char *save = NULL;
    for (char *p = strtok_r(list, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
      FILE *f = fopen(p, "r");
      if (!f) continue;
      fclose(f);
      int rc = lh_kube_config_load_file(p, context, out, err, errlen);
      free(list);
      return rc;
    }
    free(list);
    *out = NULL;
    return fail(err, errlen, LH_EKUBE_IO, "kubeconfig: no file of $KUBECONFIG exists");
  }
  const char *home = getenv("HOME");
  char path[4096];
  snprintf(path, sizeof(path), "%s/.kube/config", home ? home : "");
  return lh_kube_config_load_file(path, context, out, err, errlen);
}

int lh_kube_config_in_cluster(const char *sa_dir, lh_kube_config **out, char *err,
                              size_t errlen) {
  *out = NULL;
  const char *host = getenv("KUBERNETES_SERVICE_HOST");
  const char *port = getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host || !port || !*port)
    return fail(err, errlen, LH_EKUBE_CONFIG,
                "in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
  if (!sa_dir) sa_dir = getenv("LAHAR_KUBE_SA_DIR");
  if (!sa_dir || !*sa_dir) sa_dir = LH_KUBE_SA_DIR;
  lh_kube_config *c = calloc(1, sizeof(*c));
  if (!c) return LH_EKUBE_NOMEM;
  char path[4096];
  int rc = LH_EKUBE_NOMEM;
  size_t n = strlen(host) + strlen(port) + 16;
  if (!(c->server = malloc(n))) goto out;
  if (strchr(host, ':')) snprintf(c->server, n, "https://[%s]:%s", host, port);
  else snprintf(c->server, n, "https://%s:%s", host, port);
  snprintf(path, sizeof(path), "%s/token", sa_dir);
  if (!(c->token_file = strdup(path))) goto out;
  rc = lh_kube_read_file(path, FILE_CAP, &c->token, NULL);
  if (rc) {
    fail(err, errlen, rc, "in-cluster: cannot read %s", path);
    goto out;
  }
  trim_right(c->token);
  snprintf(path, sizeof(path), "%s/ca.crt", sa_dir);
  rc = lh_kube_read_file(path, FILE_CAP, &c->ca_pem, &c->ca_pem_len);
  if (rc) {
    fail(err, errlen, rc, "in-cluster: cannot read %s", path);
    goto out;
  }
  snprintf(path, sizeof(path), "%s/namespace", sa_dir);
  if (lh_kube_read_file(path, FILE_CAP, &c->namespace, NULL) == 0) trim_right(c->namespace);
  if (!c->namespace || !*c->namespace) {
    free(c->namespace);
    c->namespace = strdup("default");
  }
  c->context = strdup("in-cluster");
  rc = c->namespace && c->context ? 0 : LH_EKUBE_NOMEM;
out:
  if (rc) lh_kube_config_free(c);
  else *out = c;
  return rc;
}

int lh_kube_config_auto(lh_kube_config **out, char *err, size_t errlen) {
  const char *h = getenv("KUBERNETES_SERVICE_HOST");
  if (h && *h) return lh_kube_config_in_cluster(NULL, out, err, errlen);
  return lh_kube_config_load_default(NULL, out, err, errlen);
}

static char *memdup(const char *p, size_t n) {
  if (!p) return NULL;
  char *s = malloc(n + 1);
  if (s) {
    memcpy(s, p, n);
    s[n] = '\0';
  }
  return s;
}

lh_kube_config *lh_kube_config_dup(const lh_kube_config *o) {
  lh_kube_config *c = calloc(1, sizeof(*c));
  if (!c) return NULL;
  *c = *o;
  c->server = memdup(o->server, o->server ? strlen(o->server) : 0);
  c->ca_pem = memdup(o->ca_pem, o->ca_pem_len);
  c->token = memdup(o->token, o->token ? strlen(o->token) : 0);
  c->token_file = memdup(o->token_file, o->token_file ? strlen(o->token_file) : 0);
  c->cert_pem = memdup(o->cert_pem, o->cert_pem_len);
  c->key_pem = memdup(o->key_pem, o->key_pem_len);
  c->namespace = memdup(o->namespace, o->namespace ? strlen(o->namespace) : 0);
  c->context = memdup(o->context, o->context ? strlen(o->context) : 0);
  if ((o->server && !c->server) || (o->ca_pem && !c->ca_pem) || (o->token && !c->token) ||
      (o->token_file && !c->token_file) || (o->cert_pem && !c->cert_pem) ||
      (o->key_pem && !c->key_pem) || (o->namespace && !c->namespace) ||
      (o->context && !c->context)) {
    lh_kube_config_free(c);
    return NULL;
  }
  return c;
}

static void wipe_free(char *p, size_t n) {
  if (!p) return;
  volatile char *v = p;
  for (size_t i = 0; i < n; i++) v[i] = 0;
  free(p);
}

void lh_kube_config_free(lh_kube_config *c) {
  if (!c) return;
  free(c->server);
  free(c->ca_pem);
  wipe_free(c->token, c->token ? strlen(c->token) : 0);
  free(c->token_file);
  free(c->cert_pem);
  wipe_free(c->key_pem, c->key_pem_len);
  free(c->namespace);
  free(c->context);
  free(c);
}
