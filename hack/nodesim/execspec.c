/* execspec.c — what --exec runs for a pod: argv from the first container's command + args with
 * the kubelet's $(VAR) expansion, and the process environment. Pure; see sim.h. */
#include "nodesim/sim.h"

#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARG_CAP (1u << 20) /* one expanded argument, bytes */

void sim_strv_free(char **v) {
  if (!v) return;
  for (char **p = v; *p; p++) free(*p);
  free(v);
}

void sim_exec_spec_free(sim_exec_spec *s) {
  sim_strv_free(s->argv);
  sim_strv_free(s->env);
  free(s->container);
  memset(s, 0, sizeof(*s));
}

/* Looks NAME (len bytes) up in env entries "NAME=value" (the last definition wins, as later
 * env entries override earlier ones in the kubelet). */
static const char *env_lookup(char **env, size_t n, const char *name, size_t len) {
  const char *v = NULL;
  for (size_t i = 0; i < n; i++)
    if (strncmp(env[i], name, len) == 0 && env[i][len] == '=') v = env[i] + len + 1;
  return v;
}

/* Expands $(VAR) in s like k8s.io/kubernetes/third_party/forked/golang/expansion: "$$" is a
 * literal "$", $(NAME) with NAME defined is replaced, anything else is kept as written.
 * Returns a malloc'ed string or NULL. */
static char *expand(const char *s, char **env, size_t nenv) {
  lh_buf b;
  lh_buf_init(&b, ARG_CAP);
  int bad = 0;
  for (const char *p = s; *p && !bad;) {
    if (p[0] == '$' && p[1] == '$') {
      bad |= lh_buf_add(&b, "$", 1);
      p += 2;
    } else if (p[0] == '$' && p[1] == '(') {
      const char *close = strchr(p + 2, ')');
      const char *v = close ? env_lookup(env, nenv, p + 2, (size_t)(close - p - 2)) : NULL;
      if (v) {
        bad |= lh_buf_adds(&b, v);
        p = close + 1;
      } else {
        size_t n = close ? (size_t)(close - p + 1) : strlen(p);
        bad |= lh_buf_add(&b, p, n);
        p += n;
      }
    } else {
      bad |= lh_buf_add(&b, p, 1);
      p++;
    }
  }
  if (bad) {
    lh_buf_free(&b);
    return NULL;
  }
  return lh_buf_take(&b);
}

int sim_exec_build(const json_t *pod, sim_exec_spec *out, char *msg, size_t msglen) {
  memset(out, 0, sizeof(*out));
  const json_t *c = json_array_get(json_object_get(json_object_get(pod, "spec"), "containers"), 0);
  const char *name = json_string_value(json_object_get(c, "name"));
  if (!c || !name) {
    snprintf(msg, msglen, "pod has no containers");
    return LH_ENODESIM_INVAL;
  }
  const json_t *cmd = json_object_get(c, "command"), *args = json_object_get(c, "args");
  const json_t *envs = json_object_get(c, "env");
  size_t ncmd = json_array_size(cmd), nargs = json_array_size(args), ne = json_array_size(envs);
  if (ncmd + nargs == 0) {
    snprintf(msg, msglen, "container %.80s has neither command nor args (image entrypoints are unknown to nodesim)", name);
    return LH_ENODESIM_INVAL;
  }
  if (ncmd + nargs > 100000 || ne > 100000) {
    snprintf(msg, msglen, "container %.80s: too many arguments", name);
    return LH_ENODESIM_INVAL;
  }
  out->container = strdup(name);
  out->argv = calloc(ncmd + nargs + 1, sizeof(char *));
  out->env = calloc(ne + 1, sizeof(char *));
  if (!out->container || !out->argv || !out->env) goto nomem;
  size_t i;
  json_t *e;
  json_array_foreach(envs, i, e) {
    const char *en = json_string_value(json_object_get(e, "name"));
    const json_t *ev = json_object_get(e, "value");
    if (!en || !*en || strchr(en, '=')) continue;
    if (!ev && json_object_get(e, "valueFrom")) continue; /* secrets/fields: not resolved here */
    const char *v = json_string_value(ev);
    /* Values may refer to earlier variables: $(A) in B's value. */
    char *xv = expand(v ? v : "", out->env, out->nenv);
    if (!xv) goto nomem;
    size_t n = strlen(en) + strlen(xv) + 2;
    char *kv = malloc(n);
    if (!kv) {
      free(xv);
      goto nomem;
    }
    snprintf(kv, n, "%s=%s", en, xv);
    free(xv);
    out->env[out->nenv++] = kv;
  }
  const json_t *lists[2] = {cmd, args};
  for (int l = 0; l < 2; l++) {
    json_array_foreach(lists[l], i, e) {
      const char *a = json_string_value(e);
      if (!a) {
        snprintf(msg, msglen, "container %.80s: %s[%zu] is not a string", name, l ? "args" : "command", i);
        sim_exec_spec_free(out);
        return LH_ENODESIM_INVAL;
      }
      char *x = expand(a, out->env, out->nenv);
      if (!x) goto nomem;
      out->argv[out->argc++] = x;
    }
  }
  return 0;
nomem:
  snprintf(msg, msglen, "out of memory");
  sim_exec_spec_free(out);
  return LH_ENODESIM_NOMEM;
}

char **sim_exec_envp(char *const *base, const sim_exec_spec *s, const char *pod_name) {
  size_t nb = 0;
  while (base && base[nb]) nb++;
  char **v = calloc(nb + s->nenv + 2, sizeof(char *));
  if (!v) return NULL;
  size_t n = 0;
  char host[300];
  snprintf(host, sizeof(host), "HOSTNAME=%s", pod_name ? pod_name : "");
  /* Overrides: the pod's entries and HOSTNAME; a base entry with the same name is dropped. */
  for (size_t i = 0; i < nb; i++) {
    const char *eq = strchr(base[i], '=');
    size_t kl = eq ? (size_t)(eq - base[i]) : strlen(base[i]);
    int over = strncmp(base[i], "HOSTNAME=", 9) == 0;
    for (size_t j = 0; j < s->nenv && !over; j++)
      over = strncmp(s->env[j], base[i], kl) == 0 && s->env[j][kl] == '=';
    if (over) continue;
    if (!(v[n++] = strdup(base[i]))) goto nomem;
  }
  for (size_t j = 0; j < s->nenv; j++)
    if (!(v[n++] = strdup(s->env[j]))) goto nomem;
  if (!(v[n++] = strdup(host))) goto nomem;
  return v;
nomem:
  sim_strv_free(v);
  return NULL;
}
