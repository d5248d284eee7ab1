/* args.c — lahar-controller's flags: one table of names, a parser for "--flag value" and
 * "--flag=value", and the cross-flag validation (lease timings, listen addresses, names). */
#include "core/args.h"

#include "kube/kube.h"
#include "util/log.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { A_STR, A_BOOL, A_DUR, A_LISTEN, A_LEVEL, A_MS } arg_kind;

typedef struct {
  const char *name;
  arg_kind kind;
  size_t off; /* offset into lh_ctl_opts */
  const char *help;
} arg_def;

#define OFF(f) offsetof(lh_ctl_opts, f)
static const arg_def ARGS[] = {
    {"kubeconfig", A_STR, OFF(kubeconfig),
     "kubeconfig file; without it the in-cluster configuration is used (service account token "
     "and CA, KUBERNETES_SERVICE_HOST/_PORT)"},
    {"scheduler-name", A_STR, OFF(scheduler_name),
     "schedulerName of the pods and jobs lahar schedules (default lahar; \"volcano\" is always "
     "accepted too)"},
    {"scheduler-conf", A_STR, OFF(scheduler_conf),
     "scheduling core configuration (Volcano volcano-scheduler.conf YAML); default: built-in"},
    {"leader-elect", A_BOOL, OFF(leader_elect),
     "run leader election on a coordination.k8s.io/v1 Lease; only the leader schedules"},
    {"leader-elect-namespace", A_STR, OFF(le_namespace), "namespace of the Lease (kube-system)"},
    {"leader-elect-name", A_STR, OFF(le_name), "name of the Lease (lahar-controller)"},
    {"leader-elect-identity", A_STR, OFF(le_identity), "holder identity (default hostname_pid)"},
    {"leader-elect-lease-duration", A_DUR, OFF(le_lease_ms),
     "how long a non-leader waits before taking over an unrenewed lease (15s)"},
    {"leader-elect-renew-deadline", A_DUR, OFF(le_renew_ms),
     "how long the leader retries renewing before it stops scheduling (10s)"},
    {"leader-elect-retry-period", A_DUR, OFF(le_retry_ms), "interval between attempts (2s)"},
    {"metrics-listen", A_LISTEN, OFF(metrics_listen),
     "host:port serving /healthz, /readyz and /metrics (Prometheus text); default off"},
    {"api-listen", A_LISTEN, OFF(api_listen),
     "host:port of the REST API: validated and reserved only; this version serves nothing "
     "there yet"},
    {"log-level", A_LEVEL, OFF(log_level), "debug, info, warn or error (info)"},
    {"default-cluster", A_STR, OFF(default_cluster),
     "cluster name of nodes without the lahar.io/cluster label (local)"},
    {"cycle-debounce", A_DUR, OFF(cycle_debounce_ms),
     "delay from the first change to the scheduling cycle (10ms)"},
    {"cycle-min-interval", A_DUR, OFF(cycle_min_interval_ms),
     "at most one scheduling cycle per this interval under load (100ms)"},
    {"cycle-resync", A_DUR, OFF(cycle_resync_ms),
     "a cycle at least this often while groups are pending (1s)"},
    {"max-binds-in-flight", A_MS, OFF(max_binds_in_flight), "concurrent pod bindings (256)"},
    {"list-page-size", A_MS, OFF(list_page_size),
     "objects per page of the informers' initial lists (5000; client-go uses 500)"},
};
#define NARGS (sizeof(ARGS) / sizeof(ARGS[0]))

void lh_ctl_opts_init(lh_ctl_opts *o) {
  memset(o, 0, sizeof(*o));
  o->scheduler_name = "lahar";
  o->le_namespace = "kube-system";
  o->le_name = "lahar-controller";
  o->le_lease_ms = 15000;
  o->le_renew_ms = 10000;
  o->le_retry_ms = 2000;
  o->log_level = LH_LOG_INFO;
  o->cycle_debounce_ms = 10;
  o->cycle_min_interval_ms = 100;
  o->cycle_resync_ms = 1000;
  o->default_cluster = "local";
  o->max_binds_in_flight = 256;
  o->list_page_size = 5000;
}

void lh_ctl_usage(FILE *f) {
  fprintf(f, "usage: lahar-controller [flags]\n\n"
             "lahar's batch scheduler controller: Volcano-compatible Queues, PodGroups and pods\n"
             "(scheduling.k8s.io/group-name) scheduled by gang and fair share.\n\nflags:\n");
  for (size_t i = 0; i < NARGS; i++) {
    const char *v = ARGS[i].kind == A_BOOL ? "" : ARGS[i].kind == A_DUR ? " DURATION"
                  : ARGS[i].kind == A_LISTEN ? " HOST:PORT" : ARGS[i].kind == A_MS ? " N" : " VALUE";
    fprintf(f, "  --%s%s\n      %s\n", ARGS[i].name, v, ARGS[i].help);
  }
  fprintf(f, "  --help\n      this text\n\nDurations: 500ms, 15s, 1m, 1m30s or plain seconds.\n"
             "Bad flags or configuration stop the controller at start with exit status 2.\n");
}

static void seterr(char *err, size_t errlen, const char *fmt, ...) {
  if (!err || !errlen) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

int lh_ctl_parse_duration(const char *s, long *ms) {
  if (!s || !*s) return LH_EKUBE_INVAL;
  const char *p = s;
  long long total = 0;
  int units = 0;
  while (*p) {
    if (!isdigit((unsigned char)*p)) return LH_EKUBE_INVAL;
    errno = 0;
    char *end;
    long long n = strtoll(p, &end, 10);
    if (errno || n < 0 || n > 100000000LL) return LH_EKUBE_INVAL;
    p = end;
    long long mul;
    if (!*p) {
      if (units) return LH_EKUBE_INVAL; /* "1m30" */
      mul = 1000;
    } else if (!strncmp(p, "ms", 2)) mul = 1, p += 2;
    else if (*p == 's') mul = 1000, p++;
    else if (*p == 'm') mul = 60000, p++;
    else if (*p == 'h') mul = 3600000, p++;
    else return LH_EKUBE_INVAL;
    units++;
    total += n * mul;
    if (total > (long long)LONG_MAX / 2) return LH_EKUBE_INVAL;
  }
  *ms = (long)total;
  return 0;
}

int lh_ctl_parse_listen(const char *s, char *host, size_t hostlen, int *port) {
  if (!s || !*s) return LH_EKUBE_INVAL;
  const char *colon;
  const char *h = s;
  size_t hl;
  if (*s == '[') {
    const char *rb = strchr(s, ']');
    if (!rb || rb[1] != ':') return LH_EKUBE_INVAL;
    h = s + 1;
    hl = (size_t)(rb - h);
    colon = rb + 1;
  } else {
    colon = strrchr(s, ':');
    if (!colon) return LH_EKUBE_INVAL;
    if (memchr(s, ':', (size_t)(colon - s))) return LH_EKUBE_INVAL; /* bare IPv6 */
    hl = (size_t)(colon - s);
  }
  for (size_t i = 0; i < hl; i++)
    if (!isalnum((unsigned char)h[i]) && !strchr(".-:", h[i])) return LH_EKUBE_INVAL;
  const char *ps = colon + 1;
  if (!*ps || strlen(ps) > 5) return LH_EKUBE_INVAL;
  for (const char *q = ps; *q; q++)
    if (!isdigit((unsigned char)*q)) return LH_EKUBE_INVAL;
  int pn = atoi(ps);
  if (pn < 1 || pn > 65535) return LH_EKUBE_INVAL;
  if (host && hostlen) {
    if (hl >= hostlen) return LH_EKUBE_INVAL;
    memcpy(host, h, hl);
    host[hl] = 0;
  }
  if (port) *port = pn;
  return 0;
}

/* DNS-1123 subdomain (names of the Lease, namespace) / free text for identity & scheduler. */
static int dns1123(const char *s) {
  size_t n = strlen(s);
  if (!n || n > 253) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!(islower((unsigned char)c) || isdigit((unsigned char)c) || c == '-' || c == '.')) return 0;
  }
  return isalnum((unsigned char)s[0]) && isalnum((unsigned char)s[n - 1]);
}

static int set_one(const arg_def *d, const char *val, lh_ctl_opts *o, char *err, size_t errlen) {
  char *base = (char *)o;
  switch (d->kind) {
  case A_STR:
    if (!*val) return seterr(err, errlen, "--%s: empty value", d->name), LH_EKUBE_INVAL;
    *(const char **)(base + d->off) = val;
    return 0;
  case A_BOOL:
    if (!strcmp(val, "true") || !strcmp(val, "1")) *(int *)(base + d->off) = 1;
    else if (!strcmp(val, "false") || !strcmp(val, "0")) *(int *)(base + d->off) = 0;
    else return seterr(err, errlen, "--%s: want true or false, got \"%.64s\"", d->name, val),
                LH_EKUBE_INVAL;
    return 0;
  case A_DUR: {
    long ms;
    if (lh_ctl_parse_duration(val, &ms) || ms <= 0)
      return seterr(err, errlen, "--%s: bad duration \"%.64s\" (e.g. 15s, 500ms)", d->name, val),
             LH_EKUBE_INVAL;
    *(long *)(base + d->off) = ms;
    return 0;
  }
  case A_MS: {
    char *end;
    errno = 0;
    long n = strtol(val, &end, 10);
    if (errno || *end || end == val || n < 1 || n > 100000)
      return seterr(err, errlen, "--%s: want an integer 1..100000, got \"%.64s\"", d->name, val),
             LH_EKUBE_INVAL;
    *(long *)(base + d->off) = n;
    return 0;
  }
  case A_LISTEN:
    if (lh_ctl_parse_listen(val, NULL, 0, NULL))
      return seterr(err, errlen, "--%s: want HOST:PORT with port 1..65535, got \"%.64s\"",
                    d->name, val),
             LH_EKUBE_INVAL;
    *(const char **)(base + d->off) = val;
    return 0;
  case A_LEVEL: {
    int l = lh_log_level_parse(val);
    if (l < 0)
      return seterr(err, errlen, "--%s: want debug, info, warn or error, got \"%.64s\"", d->name,
                    val),
             LH_EKUBE_INVAL;
    *(int *)(base + d->off) = l;
    return 0;
  }
  }
  return LH_EKUBE_INVAL;
}

int lh_ctl_parse_args(int argc, char **argv, lh_ctl_opts *o, char *err, size_t errlen) {
  if (err && errlen) err[0] = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) return LH_ARGS_HELP;
    if (strncmp(a, "--", 2) != 0)
      return seterr(err, errlen, "unexpected argument \"%.64s\" (flags start with --)", a),
             LH_EKUBE_INVAL;
    const char *name = a + 2;
    const char *eq = strchr(name, '=');
    size_t nl = eq ? (size_t)(eq - name) : strlen(name);
    const arg_def *d = NULL;
    for (size_t k = 0; k < NARGS; k++)
      if (strlen(ARGS[k].name) == nl && !strncmp(ARGS[k].name, name, nl)) d = &ARGS[k];
    if (!d)
      return seterr(err, errlen, "unknown flag --%.*s (see --help)", (int)(nl > 64 ? 64 : nl),
                    name),
             LH_EKUBE_INVAL;
    const char *val;
    if (eq) val = eq + 1;
    else if (d->kind == A_BOOL) val = "true";
    else if (i + 1 < argc) val = argv[++i];
    else return seterr(err, errlen, "--%s needs a value", d->name), LH_EKUBE_INVAL;
    int rc = set_one(d, val, o, err, errlen);
    if (rc) return rc;
  }
  /* cross-flag validation (client-go's rules for the lease timings) */
  if (o->leader_elect) {
    if (o->le_lease_ms <= o->le_renew_ms)
      return seterr(err, errlen, "--leader-elect-lease-duration (%ldms) must be greater than "
                    "--leader-elect-renew-deadline (%ldms)", o->le_lease_ms, o->le_renew_ms),
             LH_EKUBE_INVAL;
    if ((double)o->le_renew_ms <= 1.2 * (double)o->le_retry_ms)
      return seterr(err, errlen, "--leader-elect-renew-deadline (%ldms) must be greater than "
                    "1.2 x --leader-elect-retry-period (%ldms)", o->le_renew_ms, o->le_retry_ms),
             LH_EKUBE_INVAL;
    if (!dns1123(o->le_namespace))
      return seterr(err, errlen, "--leader-elect-namespace: \"%.64s\" is not a valid name",
                    o->le_namespace),
             LH_EKUBE_INVAL;
    if (!dns1123(o->le_name))
      return seterr(err, errlen, "--leader-elect-name: \"%.64s\" is not a valid name", o->le_name),
             LH_EKUBE_INVAL;
    if (o->le_identity && strlen(o->le_identity) > 128)
      return seterr(err, errlen, "--leader-elect-identity: longer than 128 bytes"), LH_EKUBE_INVAL;
  }
  if (strlen(o->scheduler_name) > 253 || !dns1123(o->scheduler_name))
    return seterr(err, errlen, "--scheduler-name: \"%.64s\" is not a valid name", o->scheduler_name),
           LH_EKUBE_INVAL;
  if (!dns1123(o->default_cluster))
    return seterr(err, errlen, "--default-cluster: \"%.64s\" is not a valid name",
                  o->default_cluster),
           LH_EKUBE_INVAL;
  if (o->metrics_listen && o->api_listen && !strcmp(o->metrics_listen, o->api_listen))
    return seterr(err, errlen, "--metrics-listen and --api-listen name the same address"),
           LH_EKUBE_INVAL;
  return 0;
}
