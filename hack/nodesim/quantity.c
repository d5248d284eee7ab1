/* quantity.c — the small parsers of the simulated nodes: quantities (through the client
 * library's parser), their canonical formatting, Go durations, "k=v,..." lists, taints and pool
 * quotas. Pure functions; see sim.h. */
#include "nodesim/sim.h"

#include "kube/pod.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sim_quantity_parse(const char *s, int64_t *milli) {
  *milli = 0;
  if (!s || !*s) return LH_ENODESIM_INVAL;
  for (const char *p = s; *p; p++)
    if (isspace((unsigned char)*p)) return LH_ENODESIM_INVAL;
  return lh_kube_quantity_parse(s, 1, milli) == 0 ? 0 : LH_ENODESIM_INVAL;
}

int sim_quantity_format(int64_t milli, int binary, char *out, size_t outlen) {
  int n;
  if (milli % 1000 != 0) {
    n = snprintf(out, outlen, "%lldm", (long long)milli);
  } else {
    int64_t v = milli / 1000;
    static const char *sfx[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    int k = 0;
    if (binary)
      while (v != 0 && v % 1024 == 0 && k < 6) {
        v /= 1024;
        k++;
      }
    n = snprintf(out, outlen, "%lld%s", (long long)v, sfx[k]);
  }
  return (n < 0 || (size_t)n >= outlen) ? -1 : n;
}

/* Go's time.ParseDuration units, in nanoseconds. */
static int unit_ns(const char *u, size_t len, int64_t *ns) {
  static const struct { const char *u; int64_t ns; } tab[] = {
      {"ns", 1}, {"us", 1000}, {"\xc2\xb5s", 1000}, {"\xce\xbcs", 1000}, {"ms", 1000000},
      {"s", 1000000000LL}, {"m", 60000000000LL}, {"h", 3600000000000LL}};
  for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
    if (strlen(tab[i].u) == len && memcmp(tab[i].u, u, len) == 0) {
      *ns = tab[i].ns;
      return 0;
    }
  return -1;
}

/* Accumulates whole.frac * unit_ns into *total (ns, as long double to keep fractions exact
 * enough for milliseconds). */
int sim_duration_parse(const char *s, int64_t *ms) {
  *ms = 0;
  if (!s) return LH_ENODESIM_INVAL;
  while (isspace((unsigned char)*s)) s++;
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1])) n--;
  if (n == 0 || n > 64) return LH_ENODESIM_INVAL;
  const char *p = s, *end = s + n;
  if (*p == '+') p++;
  if (p == end || *p == '-') return LH_ENODESIM_INVAL;
  long double total_ns = 0;
  int plain = 1; /* no unit seen: plain seconds (also "0") */
  int items = 0;
  while (p < end) {
    long double whole = 0, frac = 0, scale = 1;
    int digits = 0;
    while (p < end && isdigit((unsigned char)*p)) {
      whole = whole * 10 + (*p - '0');
      p++, digits++;
    }
    if (p < end && *p == '.') {
      p++;
      while (p < end && isdigit((unsigned char)*p)) {
        scale /= 10;
        frac += (*p - '0') * scale;
        p++, digits++;
      }
    }
    if (!digits) return LH_ENODESIM_INVAL;
    const char *u = p;
    while (p < end && !isdigit((unsigned char)*p) && *p != '.') p++;
    int64_t uns;
    if (p == u) {
      if (items || p != end) return LH_ENODESIM_INVAL; /* "1m30" is not a duration */
      uns = 1000000000LL;
    } else {
      if (unit_ns(u, (size_t)(p - u), &uns)) return LH_ENODESIM_INVAL;
      plain = 0;
    }
    total_ns += (whole + frac) * (long double)uns;
    if (total_ns > 9.2e18L) return LH_ENODESIM_RANGE;
    items++;
  }
  (void)plain;
  long double m = total_ns / 1e6L;
  int64_t r = (int64_t)m;
  if ((long double)r < m - 1e-9L) r++; /* round sub-millisecond remainders up */
  *ms = r;
  return 0;
}

void sim_kvlist_free(sim_kvlist *l) {
  free(l->items);
  free(l->text);
  l->items = NULL;
  l->text = NULL;
  l->n = 0;
}

static char *trim(char *s) {
  while (isspace((unsigned char)*s)) s++;
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
  return s;
}

int sim_kvlist_parse(const char *s, int need_value, sim_kvlist *l, char *err, size_t errlen) {
  l->items = NULL;
  l->n = 0;
  l->text = NULL;
  if (!s || !*s) return 0;
  if (strlen(s) > 65536) {
    snprintf(err, errlen, "list too long");
    return LH_ENODESIM_INVAL;
  }
  l->text = strdup(s);
  size_t cap = 1;
  for (const char *p = s; *p; p++) cap += *p == ',';
  l->items = calloc(cap, sizeof(sim_kv));
  if (!l->text || !l->items) {
    sim_kvlist_free(l);
    return LH_ENODESIM_NOMEM;
  }
  char *save = NULL;
  for (char *tok = strtok_r(l->text, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    char *item = trim(tok);
    if (!*item) continue;
    char *eq = strchr(item, '=');
    if (!eq && need_value) {
      snprintf(err, errlen, "item '%.80s' has no '='", item);
      goto bad;
    }
    char *val = "";
    if (eq) {
      *eq = '\0';
      val = trim(eq + 1);
    }
    char *key = trim(item);
    if (!*key) {
      snprintf(err, errlen, "empty key in list");
      goto bad;
    }
    for (const char *c = key; *c; c++)
      if (isspace((unsigned char)*c) || *c == '"' || *c == '\\') {
        snprintf(err, errlen, "bad key '%.80s'", key);
        goto bad;
      }
    l->items[l->n].key = key;
    l->items[l->n].value = val;
    l->n++;
  }
  return 0;
bad:
  sim_kvlist_free(l);
  return LH_ENODESIM_INVAL;
}

const char *sim_kvlist_get(const sim_kvlist *l, const char *key) {
  const char *v = NULL;
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->items[i].key, key) == 0) v = l->items[i].value; /* the last one wins */
  return v;
}

int sim_taints_parse(const char *s, sim_taint *out, size_t max, char *err, size_t errlen) {
  sim_kvlist l;
  /* "k=v:Effect" splits at '=' into key "k" and value "v:Effect"; "k:Effect" has no '='. */
  int rc = sim_kvlist_parse(s, 0, &l, err, errlen);
  if (rc) return rc;
  size_t n = 0;
  for (size_t i = 0; i < l.n; i++) {
    char *key = l.items[i].key, *val = l.items[i].value;
    char *colon = strrchr(*val ? val : key, ':');
    if (!colon) {
      snprintf(err, errlen, "taint '%.80s' has no ':Effect'", key);
      rc = LH_ENODESIM_INVAL;
      break;
    }
    *colon = '\0';
    const char *eff = colon + 1;
    if (strcmp(eff, "NoSchedule") && strcmp(eff, "PreferNoSchedule") && strcmp(eff, "NoExecute")) {
      snprintf(err, errlen, "taint '%.80s': effect must be NoSchedule, PreferNoSchedule or NoExecute", key);
      rc = LH_ENODESIM_INVAL;
      break;
    }
    if (n == max || !*key || strlen(key) >= sizeof(out[0].key) || strlen(val) >= sizeof(out[0].value)) {
      snprintf(err, errlen, "taint '%.80s': too many taints or too long", key);
      rc = LH_ENODESIM_INVAL;
      break;
    }
    snprintf(out[n].key, sizeof(out[n].key), "%s", key);
    snprintf(out[n].value, sizeof(out[n].value), "%s", val);
    snprintf(out[n].effect, sizeof(out[n].effect), "%s", eff);
    n++;
  }
  sim_kvlist_free(&l);
  return rc ? rc : (int)n;
}

int sim_quota_parse(const char *s, lh_nodesim_pool *q, char *err, size_t errlen) {
  sim_kvlist l;
  int rc = sim_kvlist_parse(s, 1, &l, err, errlen);
  if (rc) return rc;
  for (size_t i = 0; i < l.n && !rc; i++) {
    const char *k = l.items[i].key;
    int64_t m;
    if (sim_quantity_parse(l.items[i].value, &m)) {
      snprintf(err, errlen, "quota %s: bad quantity '%.40s'", k, l.items[i].value);
      rc = LH_ENODESIM_INVAL;
    } else if (strcmp(k, "cpu") == 0) {
      q->cpu_milli = m;
    } else if (strcmp(k, "memory") == 0) {
      q->memory_bytes = (m + 999) / 1000;
    } else if (strcmp(k, "nvidia.com/gpu") == 0 || strcmp(k, "gpu") == 0) {
      q->gpu = (m + 999) / 1000;
    } else if (strcmp(k, "pods") == 0) {
      q->max_pods = (m + 999) / 1000;
    } else {
      snprintf(err, errlen, "quota: unknown resource '%.60s' (cpu, memory, nvidia.com/gpu, pods)", k);
      rc = LH_ENODESIM_INVAL;
    }
  }
  sim_kvlist_free(&l);
  return rc;
}
