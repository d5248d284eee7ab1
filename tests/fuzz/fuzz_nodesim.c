/* fuzz_nodesim.c — the simulated nodes' parsers (hack/nodesim/quantity.c, podsm.c, execspec.c):
 * every line of the text part goes through the quantity, duration, "k=v" list, taint and pool
 * quota parsers (a parsed quantity must format and parse back to the same value); the JSON part
 * is a pod for sim_pod_info_parse, the state machine, the status patch and sim_exec_build.
 * Input: LINES %% POD_JSON. */
#include "tests/fuzz/fuzz.h"
#include "nodesim/sim.h"

#include <stdlib.h>
#include <string.h>

static void line(const char *s) {
  int64_t v;
  if (sim_quantity_parse(s, &v) == 0) {
    char out[64];
    for (int bin = 0; bin < 2; bin++) {
      int n = sim_quantity_format(v, bin, out, sizeof(out));
      int64_t back;
      if (n < 0 || n >= (int)sizeof(out)) abort();
      if (sim_quantity_parse(out, &back) != 0 || back != v) abort(); /* round trip */
      char tiny[3];
      n = sim_quantity_format(v, bin, tiny, sizeof(tiny));
      if (n >= (int)sizeof(tiny)) abort();
    }
  }
  (void)sim_duration_parse(s, &v);
  char err[160];
  sim_kvlist l;
  for (int nv = 0; nv < 2; nv++) {
    memset(err, 'x', sizeof(err));
    int rc = sim_kvlist_parse(s, nv, &l, err, sizeof(err));
    if (rc != 0 && (l.n || !memchr(err, 0, sizeof(err)))) abort();
    if (rc == 0) {
      for (size_t i = 0; i < l.n; i++) (void)sim_kvlist_get(&l, l.items[i].key);
      (void)sim_kvlist_get(&l, "missing");
    }
    sim_kvlist_free(&l);
  }
  sim_taint t[4];
  memset(err, 'x', sizeof(err));
  int n = sim_taints_parse(s, t, 4, err, sizeof(err));
  if (n > 4 || (n < 0 && !memchr(err, 0, sizeof(err)))) abort();
  for (int i = 0; i < n; i++)
    if (!memchr(t[i].key, 0, sizeof(t[i].key)) || !memchr(t[i].value, 0, sizeof(t[i].value)) ||
        !memchr(t[i].effect, 0, sizeof(t[i].effect)))
      abort();
  lh_nodesim_pool q = {"p", 1000, 1 << 20, 0, 1000};
  memset(err, 'x', sizeof(err));
  if (sim_quota_parse(s, &q, err, sizeof(err)) != 0 && !memchr(err, 0, sizeof(err))) abort();
}

static void pod(const json_t *j) {
  sim_pod_info pi;
  memset(&pi, 0, sizeof(pi));
  if (sim_pod_info_parse(j, &pi) == 0) {
    sim_pod_params p = {1000, 500, 0};
    sim_pod_sm sm;
    memset(&sm, 0, sizeof(sm));
    sim_pod_times tm;
    memset(&tm, 0, sizeof(tm));
    strcpy(tm.scheduled, "2024-01-01T00:00:00Z");
    strcpy(tm.start, tm.scheduled);
    strcpy(tm.started, tm.scheduled);
    int64_t now = 0;
    static const sim_event_kind EV[] = {SIM_EV_OBSERVE, SIM_EV_TIMER, SIM_EV_TIMER, SIM_EV_EXIT,
                                        SIM_EV_TIMER, SIM_EV_OBSERVE, SIM_EV_EXIT, SIM_EV_GONE};
    for (size_t i = 0; i < sizeof(EV) / sizeof(EV[0]); i++) {
      now = sm.deadline > now ? sm.deadline : now + 1;
      (void)sim_pod_step(&sm, EV[i] == SIM_EV_GONE ? NULL : &pi, EV[i], (int)i - 3, now, &p);
      json_decref(sim_pod_status_patch(j, &sm, &tm, "172.16.0.1", "10.0.0.2"));
      (void)sim_pod_state_name(sm.st);
    }
  }
  sim_exec_spec es;
  char msg[160];
  memset(&es, 0, sizeof(es));
  if (sim_exec_build(j, &es, msg, sizeof(msg)) == 0) {
    char *base[] = {"PATH=/bin", "HOME=/", NULL};
    char **envp = sim_exec_envp(base, &es, pi.name ? "x" : "y");
    sim_strv_free(envp);
    sim_exec_spec_free(&es);
  }
}

int fuzz_nodesim_one(const uint8_t *data, size_t size) {
  const uint8_t *part[2];
  size_t len[2];
  size_t np = fuzz_split(data, size, part, len, 2);
  char *s = fuzz_str(part[0], len[0]);
  if (!s) return 0;
  for (char *l = s, *nl; l; l = nl ? nl + 1 : NULL) {
    nl = strchr(l, '\n');
    if (nl) *nl = 0;
    line(l);
  }
  free(s);
  if (np > 1) {
    json_t *j = json_loadb((const char *)part[1], len[1], JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (j) pod(j);
    json_decref(j);
  }
  return 0;
}

#ifdef LAHAR_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_nodesim_one(data, size); }
#endif
