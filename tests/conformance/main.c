/* main.c — lahar-conformance: runs a step file against one Kubernetes API server and writes the
 * normalized transcript (see conformance.h for the design, tests/conformance/steps.txt for the
 * step format and docs/conformance.md for how the transcripts are compared).
 *
 *   lahar-conformance --kubeconfig FILE --steps FILE [-o OUT] [-D NAME=VALUE ...] [-v]
 *
 * Exit status: 0 when every step was run (whatever the server answered: the comparison judges),
 * 2 for a usage or step-file error. */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/yaml_json.h"
#include "conformance.h"

/* --- variables -------------------------------------------------------------------------------- */

const char *cf_var_get(const cf_vars *vars, const char *name) {
  for (int i = 0; i < vars->n; i++)
    if (strcmp(vars->v[i].name, name) == 0) return vars->v[i].value;
  return NULL;
}

int cf_var_set(cf_vars *vars, const char *name, const char *value, int masked) {
  for (int i = 0; i < vars->n; i++)
    if (strcmp(vars->v[i].name, name) == 0) {
      free(vars->v[i].value);
      vars->v[i].value = strdup(value);
      vars->v[i].masked = masked;
      return 0;
    }
  if (vars->n == CF_MAX_VARS) return -1;
  vars->v[vars->n].name = strdup(name);
  vars->v[vars->n].value = strdup(value);
  vars->v[vars->n].masked = masked;
  vars->n++;
  return 0;
}

static void var_unset(cf_vars *vars, const char *name) {
  for (int i = 0; i < vars->n; i++)
    if (strcmp(vars->v[i].name, name) == 0) {
      free(vars->v[i].name);
      free(vars->v[i].value);
      vars->v[i] = vars->v[--vars->n];
      return;
    }
}

char *cf_expand(const cf_vars *vars, const char *tmpl, char **missing) {
  lh_buf b;
  lh_buf_init(&b, CF_BODY_CAP);
  for (const char *p = tmpl; *p;) {
    const char *end;
    if (p[0] == '$' && p[1] == '{' && (end = strchr(p + 2, '}')) != NULL) {
      char *name = strndup(p + 2, (size_t)(end - p - 2));
      const char *v = cf_var_get(vars, name);
      if (!v) {
        *missing = name;
        lh_buf_free(&b);
        return NULL;
      }
      free(name);
      lh_buf_adds(&b, v);
      p = end + 1;
    } else {
      lh_buf_add(&b, p++, 1);
    }
  }
  return lh_buf_take(&b);
}

/* --- kubeconfig --------------------------------------------------------------------------------- */

/* Reads server, certificate-authority and token from a kubeconfig with one cluster and one user
 * (what hack/realkube/start.sh and lahar-localcluster write). Returns 0 or -1. */
static int read_kubeconfig(const char *path, char **server, char **ca, char **token) {
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "lahar-conformance: %s: %s\n", path, strerror(errno));
    return -1;
  }
  char line[8192];
  while (fgets(line, sizeof line, f)) {
    char *p = line;
    while (*p == ' ' || *p == '\t' || *p == '-') p++;
    char **dst = NULL;
    if (strncmp(p, "server:", 7) == 0) dst = server, p += 7;
    else if (strncmp(p, "certificate-authority:", 22) == 0) dst = ca, p += 22;
    else if (strncmp(p, "token:", 6) == 0) dst = token, p += 6;
    if (!dst || *dst) continue;
    while (*p == ' ') p++;
    size_t n = strcspn(p, "\r\n");
    while (n && p[n - 1] == ' ') n--;
    if (n >= 2 && (p[0] == '"' || p[0] == '\'') && p[n - 1] == p[0]) p++, n -= 2;
    *dst = strndup(p, n);
  }
  fclose(f);
  if (!*server) {
    fprintf(stderr, "lahar-conformance: %s: no server: line\n", path);
    return -1;
  }
  size_t n = strlen(*server);
  while (n && (*server)[n - 1] == '/') (*server)[--n] = '\0';
  if (*ca && (*ca)[0] != '/') { /* relative to the kubeconfig's folder */
    char *copy = strdup(path), full[4096];
    snprintf(full, sizeof full, "%s/%s", dirname(copy), *ca);
    free(copy);
    free(*ca);
    *ca = strdup(full);
  }
  return 0;
}

/* --- running steps ------------------------------------------------------------------------------ */

typedef struct runner {
  cf_conn conn;
  cf_vars vars;
  const char *steps_dir;
  lh_buf out;  /* the transcript */
  int verbose;
  const cf_step *steps; /* all steps, for during= */
  int nsteps;
} runner;

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  lh_buf b;
  lh_buf_init(&b, CF_BODY_CAP);
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
    if (lh_buf_add(&b, chunk, n) != LH_BUF_OK) break;
  fclose(f);
  *len = b.len;
  return lh_buf_take(&b);
}

static const char *media_for(const char *ct) {
  if (!ct || !strcmp(ct, "json")) return "application/json";
  if (!strcmp(ct, "merge")) return "application/merge-patch+json";
  if (!strcmp(ct, "jsonpatch")) return "application/json-patch+json";
  if (!strcmp(ct, "strategic")) return "application/strategic-merge-patch+json";
  if (!strcmp(ct, "yaml")) return "application/yaml";
  if (!strcmp(ct, "none")) return NULL;
  return ct; /* a literal media type */
}

/* Builds the request body of s (inline or body=@FILE, YAML files converted to JSON), with
 * variables expanded. Returns 0 (*body may stay NULL) or -1 with why filled in. */
static int step_body(runner *r, const cf_step *s, char **body, char *why, size_t whylen) {
  *body = NULL;
  const char *file = cf_step_opt(s, "body");
  char *raw = NULL;
  if (file) {
    if (file[0] != '@') {
      snprintf(why, whylen, "body= takes @FILE");
      return -1;
    }
    char full[4096];
    snprintf(full, sizeof full, "%s/%s", r->steps_dir, file + 1);
    size_t len;
    raw = read_file(full, &len);
    if (!raw) {
      snprintf(why, whylen, "cannot read %.400s", full);
      return -1;
    }
    size_t fl = strlen(file);
    const char *ct = cf_step_opt(s, "ct");
    int yaml = (fl > 5 && !strcmp(file + fl - 5, ".yaml")) || (fl > 4 && !strcmp(file + fl - 4, ".yml"));
    if (yaml && !(ct && !strcmp(ct, "yaml"))) {
      json_t *j = lh_yaml_to_json(raw, len, why, whylen);
      free(raw);
      if (!j) return -1;
      raw = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
      json_decref(j);
    }
  } else if (s->body) {
    raw = strdup(s->body);
  }
  if (!raw) return 0;
  char *missing = NULL;
  *body = cf_expand(&r->vars, raw, &missing);
  free(raw);
  if (!*body) {
    snprintf(why, whylen, "variable %s is unset", missing);
    free(missing);
    return -1;
  }
  return 0;
}

static void out_line(runner *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_line(runner *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  lh_buf_vaddf(&r->out, fmt, ap);
  va_end(ap);
  lh_buf_adds(&r->out, "\n");
}

static cf_norm norm_for(runner *r, const cf_step *s) {
  const char *mask = cf_step_opt(s, "mask"), *values = cf_step_opt(s, "values");
  cf_norm nm = {.vars = &r->vars,
                .keys_only = values && !strcmp(values, "no"),
                .mask_digits = mask && !strcmp(mask, "digits")};
  return nm;
}

/* Writes a JSON body: the paths named by show= (comma-separated path expressions), nothing for
 * show=none, else every leaf. */
static void out_json(runner *r, const cf_step *s, json_t *j) {
  cf_norm nm = norm_for(r, s);
  const char *show = cf_step_opt(s, "show");
  if (!show) {
    cf_dump(&r->out, "  ", "", j, &nm);
    return;
  }
  if (!strcmp(show, "none")) return;
  char *copy = strdup(show), *save = NULL;
  for (char *e = strtok_r(copy, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
    char *star = strstr(e, "[*]");
    if (star) { /* "items[*].metadata.name": the rest of the path in every element */
      *star = '\0';
      json_t *arr = cf_path_get(j, e), *el;
      size_t i;
      if (!json_is_array(arr) || json_array_size(arr) == 0) out_line(r, "  %s[*] (none)", e);
      json_array_foreach(arr, i, el) {
        const char *rest = star[3] == '.' ? star + 4 : star + 3;
        json_t *v = *rest ? cf_path_get(el, rest) : el;
        char prefix[512];
        snprintf(prefix, sizeof prefix, "%s[%zu]%s%s", e, i, *rest ? "." : "", rest);
        if (v) cf_dump(&r->out, "  ", prefix, v, &nm);
        else out_line(r, "  %s (absent)", prefix);
      }
      continue;
    }
    json_t *v = cf_path_get(j, e);
    if (v) cf_dump(&r->out, "  ", e, v, &nm);
    else out_line(r, "  %s (absent)", e);
  }
  free(copy);
}

static void out_body(runner *r, const cf_step *s, const char *body, size_t len) {
  if (len == 0) {
    out_line(r, "  (empty body)");
    return;
  }
  json_error_t jerr;
  json_t *j = json_loadb(body, len, 0, &jerr);
  if (j) {
    out_json(r, s, j);
    json_decref(j);
    return;
  }
  cf_norm nm = norm_for(r, s);
  char *text = strndup(body, len > 200 ? 200 : len);
  char *masked = cf_mask_string(text, &nm, 1);
  json_t *js = json_string(masked);
  char *q = js ? json_dumps(js, JSON_ENCODE_ANY) : NULL;
  out_line(r, "  (not JSON) %s", q ? q : "(binary)");
  free(q);
  json_decref(js);
  free(masked);
  free(text);
}

/* Applies capture=VAR:PATH (kept) and capname=VAR:PATH (masked in the transcript) options. */
static void do_captures(runner *r, const cf_step *s, json_t *j) {
  for (int i = 0; i < s->nopts; i++) {
    int masked = !strcmp(s->opts[i].key, "capname");
    if (!masked && strcmp(s->opts[i].key, "capture")) continue;
    char *spec = strdup(s->opts[i].value), *colon = strchr(spec, ':');
    if (!colon) {
      out_line(r, "  capture %s: bad option (VAR:PATH)", spec);
      free(spec);
      continue;
    }
    *colon = '\0';
    json_t *v = j ? cf_path_get(j, colon + 1) : NULL;
    if (v && !json_is_null(v)) {
      char *t = cf_scalar_text(v);
      cf_var_set(&r->vars, spec, t, masked);
      free(t);
    } else {
      var_unset(&r->vars, spec);
      out_line(r, "  capture %s: %s missing", spec, colon + 1);
    }
    free(spec);
  }
  const char *rvcmp = cf_step_opt(s, "rvcmp");
  if (rvcmp && j) {
    json_t *rv = cf_path_get(j, "metadata.resourceVersion");
    const char *base = cf_var_get(&r->vars, rvcmp);
    if (!rv || !json_is_string(rv) || !base) {
      out_line(r, "  rv vs ${%s}: cannot compare", rvcmp);
    } else {
      unsigned long long a = strtoull(json_string_value(rv), NULL, 10), b = strtoull(base, NULL, 10);
      out_line(r, "  rv %s ${%s}", a > b ? ">" : a == b ? "==" : "<", rvcmp);
    }
  }
}

static void run_request(runner *r, const cf_step *s, const char *path) {
  char why[512];
  char *body = NULL;
  if (step_body(r, s, &body, why, sizeof why)) {
    out_line(r, "  skipped: %s", why);
    return;
  }
  const char *headers[CF_MAX_OPTS + 1];
  char *hdr_store[CF_MAX_OPTS];
  int nh = 0;
  for (int i = 0; i < s->nopts; i++) {
    if (strcmp(s->opts[i].key, "header")) continue;
    char *missing = NULL, *h = cf_expand(&r->vars, s->opts[i].value, &missing);
    free(missing);
    if (!h) continue;
    char *colon = strchr(h, ':');
    if (colon) *colon = '\0';
    char line[1024];
    snprintf(line, sizeof line, "%s: %s", h, colon ? colon + 1 : "");
    free(h);
    hdr_store[nh] = strdup(line);
    headers[nh] = hdr_store[nh];
    nh++;
  }
  headers[nh] = NULL;
  const char *ct = body || cf_step_opt(s, "ct") ? media_for(cf_step_opt(s, "ct")) : NULL;
  cf_response resp;
  cf_http(&r->conn, s->method, path, ct, body, headers, 60, &resp);
  for (int i = 0; i < nh; i++) free(hdr_store[i]);
  free(body);
  if (resp.status == 0) {
    out_line(r, "  transport error: %s", resp.err);
    cf_response_free(&resp);
    do_captures(r, s, NULL);
    return;
  }
  out_line(r, "  status %ld %s", resp.status, resp.content_type ? resp.content_type : "(no content type)");
  json_error_t jerr;
  json_t *j = resp.body.len ? json_loadb(lh_buf_str(&resp.body), resp.body.len, 0, &jerr) : NULL;
  do_captures(r, s, j);
  out_body(r, s, lh_buf_str(&resp.body), resp.body.len);
  json_decref(j);
  cf_response_free(&resp);
}

/* The step a WATCH runs while its stream is open (option during=STEP). */
typedef struct during_ctx {
  runner *r;
  const cf_step *step;
  lh_buf saved; /* the transcript of the during-step, printed after the watch's own lines */
} during_ctx;

static void run_request(runner *r, const cf_step *s, const char *path);
static void watch_events(runner *r, const cf_step *s, cf_watch *w);

static void run_during(void *ud) {
  during_ctx *d = ud;
  char *missing = NULL, *path = cf_expand(&d->r->vars, d->step->path, &missing);
  lh_buf mine = d->r->out; /* write the nested step into its own buffer */
  lh_buf_init(&d->r->out, CF_BODY_CAP);
  out_line(d->r, "  during: %s %s %s", d->step->name, d->step->method, d->step->path);
  if (path) run_request(d->r, d->step, path);
  else out_line(d->r, "  skipped: variable %s is unset", missing);
  free(missing);
  free(path);
  d->saved = d->r->out;
  d->r->out = mine;
}

static void run_watch(runner *r, const cf_step *s, const char *path) {
  const char *ev = cf_step_opt(s, "events"), *to = cf_step_opt(s, "timeout"), *dn = cf_step_opt(s, "during");
  during_ctx d = {.r = r};
  lh_buf_init(&d.saved, CF_BODY_CAP);
  for (int i = 0; dn && i < r->nsteps; i++)
    if (!strcmp(r->steps[i].name, dn)) d.step = &r->steps[i];
  if (dn && !d.step) {
    out_line(r, "  skipped: during=%s names no step", dn);
    return;
  }
  cf_watch w;
  int rc = cf_watch_run(&r->conn, path, ev ? atoi(ev) : 0, to ? atol(to) : 30, d.step ? run_during : NULL, &d, &w);
  if (rc) {
    out_line(r, "  transport error: %s", w.err);
  } else {
    out_line(r, "  status %ld %s", w.status, w.content_type ? w.content_type : "(no content type)");
    if (w.status != 200) out_body(r, s, lh_buf_str(&w.body), w.body.len);
    else watch_events(r, s, &w);
  }
  if (d.saved.len) lh_buf_adds(&r->out, lh_buf_str(&d.saved)); /* the during-step's own lines */
  lh_buf_free(&d.saved);
  cf_watch_free(&w);
}

/* Writes one line per watch event ("event TYPE KIND NAME"; ERROR and BOOKMARK objects in full)
 * and how the stream ended. */
static void watch_events(runner *r, const cf_step *s, cf_watch *w) {
  cf_norm nm = norm_for(r, s);
  const char *order = cf_step_opt(s, "order");
  if (order && !strcmp(order, "any")) { /* initial ADDED events of a watch without resourceVersion: any order */
    size_t n = json_array_size(w->events);
    for (size_t a = 1; a < n; a++)
      for (size_t b = a; b > 0; b--) {
        const char *n1 = json_string_value(cf_path_get(json_array_get(w->events, b - 1), "object.metadata.name"));
        const char *n2 = json_string_value(cf_path_get(json_array_get(w->events, b), "object.metadata.name"));
        if (!n1 || !n2 || strcmp(n1, n2) <= 0) break;
        json_t *t = json_incref(json_array_get(w->events, b));
        json_array_set(w->events, b, json_array_get(w->events, b - 1));
        json_array_set_new(w->events, b - 1, t);
      }
  }
  size_t i;
  json_t *e;
  json_array_foreach(w->events, i, e) {
    if (!json_is_object(e)) {
      out_line(r, "  event (not JSON)");
      continue;
    }
    json_t *obj = json_object_get(e, "object");
    const char *type = json_string_value(json_object_get(e, "type"));
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    const char *name = json_string_value(cf_path_get(obj, "metadata.name"));
    char *mname = name ? cf_mask_string(name, &nm, 0) : NULL;
    out_line(r, "  event %s %s %s", type ? type : "(no type)", kind ? kind : "(no kind)", mname ? mname : "-");
    free(mname);
    if (type && (!strcmp(type, "ERROR") || !strcmp(type, "BOOKMARK"))) cf_dump(&r->out, "    ", "object", obj, &nm);
  }
  out_line(r, "  end: %s", w->stopped == 1 ? "stopped after the events asked for"
                           : w->stopped == 2 ? "client timeout" : "server closed the stream");
}

static void run_ws(runner *r, const cf_step *s, const char *path) {
  const char *origin = cf_step_opt(s, "origin");
  char *o = NULL, *missing = NULL;
  if (origin && strcmp(origin, "none")) o = cf_expand(&r->vars, origin, &missing);
  free(missing);
  cf_ws w;
  int rc = cf_ws_run(&r->conn, path, o, 10, &w);
  free(o);
  if (rc) {
    out_line(r, "  transport error: %s", w.err);
    return;
  }
  out_line(r, "  status %ld", w.status);
  if (w.status == 101) {
    out_line(r, "  accept %s", w.accept_ok ? "ok" : "wrong");
    if (w.have_frame) {
      out_line(r, "  first frame byte0 0x%02x %s", w.b0, w.masked ? "masked" : "unmasked");
      const char *type = json_string_value(json_object_get(w.payload, "type"));
      const char *kind = json_string_value(cf_path_get(w.payload, "object.kind"));
      out_line(r, "  first frame payload: %s %s", type ? type : "(not a watch event)", kind ? kind : "-");
    } else {
      out_line(r, "  no complete frame");
    }
  }
  cf_ws_free(&w);
}

/* WAIT: polls GET path until the condition holds (until=CODE or until=PATH=VALUE). */
static void run_wait(runner *r, const cf_step *s, const char *path) {
  const char *until = cf_step_opt(s, "until"), *to = cf_step_opt(s, "timeout");
  if (!until) {
    out_line(r, "  skipped: WAIT needs until=");
    return;
  }
  char *missing = NULL, *cond = cf_expand(&r->vars, until, &missing);
  free(missing);
  if (!cond) {
    out_line(r, "  skipped: variable unset in until=");
    return;
  }
  char *eq = NULL; /* the first '=' outside a [key=value] selector */
  for (int depth = 0, i = 0; cond[i] && !eq; i++) {
    if (cond[i] == '[') depth++;
    else if (cond[i] == ']') depth--;
    else if (cond[i] == '=' && depth == 0) eq = &cond[i];
  }
  if (eq) *eq = '\0';
  long want = eq ? 0 : strtol(cond, NULL, 10);
  double limit = to ? atof(to) : 60;
  struct timespec t0, now;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  long last = 0;
  for (;;) {
    cf_response resp;
    cf_http(&r->conn, "GET", path, NULL, NULL, NULL, 30, &resp);
    last = resp.status;
    int ok = 0;
    if (!eq) {
      ok = resp.status == want;
    } else if (resp.status == 200) {
      json_error_t jerr;
      json_t *j = json_loadb(lh_buf_str(&resp.body), resp.body.len, 0, &jerr);
      json_t *v = j ? cf_path_get(j, cond) : NULL;
      char *t = v ? cf_scalar_text(v) : NULL;
      ok = t && !strcmp(t, eq + 1);
      free(t);
      json_decref(j);
    }
    cf_response_free(&resp);
    if (ok) {
      out_line(r, "  wait: ok");
      break;
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    if ((double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9 > limit) {
      out_line(r, "  wait: timed out (last status %ld)", last);
      break;
    }
    struct timespec pause = {0, 250 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }
  free(cond);
}

static void run_step(runner *r, const cf_step *s) {
  const char *when = cf_step_opt(s, "only");
  if (when && !strcmp(when, "during")) return; /* run by the WATCH that names it */
  if (!strcmp(s->method, "SET")) { /* NAME SET VAR value=V [mask=yes] */
    const char *v = cf_step_opt(s, "value"), *m = cf_step_opt(s, "mask");
    char *missing = NULL, *val = v ? cf_expand(&r->vars, v, &missing) : NULL;
    free(missing);
    if (val) cf_var_set(&r->vars, s->path, val, m && !strcmp(m, "yes"));
    else var_unset(&r->vars, s->path);
    free(val);
    return;
  }
  out_line(r, "== %s %s %s", s->name, s->method, s->path);
  char *missing = NULL, *path = cf_expand(&r->vars, s->path, &missing);
  if (!path) {
    out_line(r, "  skipped: variable %s is unset", missing);
    free(missing);
    return;
  }
  if (!strcmp(s->method, "WATCH")) run_watch(r, s, path);
  else if (!strcmp(s->method, "WS")) run_ws(r, s, path);
  else if (!strcmp(s->method, "WAIT")) run_wait(r, s, path);
  else run_request(r, s, path);
  free(path);
}

static void usage(FILE *f) {
  fprintf(f, "usage: lahar-conformance --kubeconfig FILE --steps FILE [-o OUT] [-D NAME=VALUE ...] [-v]\n"
             "Runs the step file against the server of FILE and writes the normalized transcript.\n");
}

int main(int argc, char **argv) {
  static const struct option longopts[] = {{"kubeconfig", required_argument, NULL, 'k'},
                                           {"steps", required_argument, NULL, 's'},
                                           {"output", required_argument, NULL, 'o'},
                                           {"verbose", no_argument, NULL, 'v'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  runner r;
  memset(&r, 0, sizeof r);
  const char *kubeconfig = NULL, *steps_path = NULL, *out_path = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "k:s:o:D:vh", longopts, NULL)) != -1) {
    switch (c) {
    case 'k': kubeconfig = optarg; break;
    case 's': steps_path = optarg; break;
    case 'o': out_path = optarg; break;
    case 'v': r.verbose = 1; break;
    case 'D': {
      char *eq = strchr(optarg, '=');
      if (!eq) {
        usage(stderr);
        return 2;
      }
      *eq = '\0';
      cf_var_set(&r.vars, optarg, eq + 1, 1); /* masked: -D values are run-specific */
      break;
    }
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (!kubeconfig || !steps_path || optind != argc) {
    usage(stderr);
    return 2;
  }
  char *server = NULL, *ca = NULL, *token = NULL;
  if (read_kubeconfig(kubeconfig, &server, &ca, &token)) return 2;
  r.conn.server = server;
  r.conn.cacert = ca;
  r.conn.token = token;
  cf_var_set(&r.vars, "SERVER", server, 1);
  const char *hp = strstr(server, "://");
  cf_var_set(&r.vars, "SERVER_HOSTPORT", hp ? hp + 3 : server, 1); /* in /api serverAddressByClientCIDRs */
  cf_step *steps = NULL;
  int n = 0;
  if (cf_steps_load(steps_path, &steps, &n)) return 2;
  char *dircopy = strdup(steps_path);
  r.steps_dir = dirname(dircopy);
  r.steps = steps;
  r.nsteps = n;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  lh_buf_init(&r.out, (size_t)256 << 20);
  for (int i = 0; i < n; i++) {
    if (r.verbose) fprintf(stderr, "[%d/%d] %s %s %s\n", i + 1, n, steps[i].name, steps[i].method, steps[i].path);
    run_step(&r, &steps[i]);
  }
  int rc = 0;
  FILE *f = out_path ? fopen(out_path, "w") : stdout;
  if (!f || fwrite(lh_buf_str(&r.out), 1, r.out.len, f) != r.out.len || (out_path && fclose(f) != 0)) {
    fprintf(stderr, "lahar-conformance: cannot write %s\n", out_path ? out_path : "stdout");
    rc = 2;
  }
  lh_buf_free(&r.out);
  cf_steps_free(steps, n);
  for (int i = 0; i < r.vars.n; i++) {
    free(r.vars.v[i].name);
    free(r.vars.v[i].value);
  }
  free(dircopy);
  free(server);
  free(ca);
  free(token);
  curl_global_cleanup();
  return rc;
}
