#!/usr/bin/env bash
# run.sh — `make bench-peer`: lahar-controller against kube-scheduler 1.20.2 on the same real
# kube-apiserver 1.20.2 (hack/realkube), same machine, same workload, identical fresh state.
#
# For every node count a template cluster is made once: etcd + apiserver started on an empty data
# dir, crds/ applied, N nodes registered by bin/lahar-nodesim (Ready, not-ready taint removed),
# then nodesim and the servers are stopped. Every run then starts from its own copy of that
# template (pki + etcd data dir), so both schedulers see byte-identical state, and nothing of a
# previous run (pods, events, watch caches) is left. nodesim is NOT running during the runs:
# bound pods need no lifecycle here, and stopping it keeps its CPU out of the measurement (it
# would otherwise compete for the same 2 cores: identical in both runs either way).
#
# Per run: start the scheduler (kube-scheduler from a KubeSchedulerConfiguration with client
# QPS/burst 5000, leader election off, healthz/metrics on 127.0.0.1, HTTPS off; or
# lahar-controller with its defaults), wait until it serves /healthz (/readyz), then
# bin/lahar-benchpeer: a probe pod (bound = the scheduler is up and synced), warmup pods, the
# measured pods; one JSON line per run goes to stdout and to $OUT/results.jsonl. Backlog runs
# (BACKLOG=1: workloads backlog, gang) create every pod before the scheduler starts instead.
# The "null" scheduler (dense, backlog) is no process: benchpeer --null-bind binds every pod
# itself, round-robin, with no scheduling logic: the apiserver's write ceiling on this machine.
# No process is niced differently from another: run the whole script under `nice -n 5` if the
# machine is shared (every JSON line records each measured process's nice value and load1).
# Method, results and diagnosis: docs/performance-peer.md.
#
# Usage: hack/benchpeer/run.sh [WORKLOAD ...]   workloads: basic dense backlog gang (default: all),
#   smoke, and single runs for experiments: dense-lahar dense-null backlog-lahar backlog-null
# env: REALKUBE_PORT (26540; +1 is the scheduler's health/metrics port), REALKUBE_ETCD_PORT
#      (23941; uses +10, +20 too), BENCHPEER_OUT (build/benchpeer), KEEP_TMP=1 keeps the dirs,
#      BENCHPEER_LAHAR_BIN / BENCHPEER_BP_BIN: other lahar-controller / lahar-benchpeer builds,
#      BENCHPEER_PERF=1 records lahar-controller with perf (cpu-clock, dwarf call graphs, 250 Hz)
#      during its runs: $OUT/NAME-lahar.perf.data and NAME-lahar-perf.txt (top of the report).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
export REALKUBE_PORT=${REALKUBE_PORT:-26540}
export REALKUBE_ETCD_PORT=${REALKUBE_ETCD_PORT:-23941}
SPORT=$((REALKUBE_PORT + 1))
OUT=${BENCHPEER_OUT:-$ROOT/build/benchpeer}
KUBECTL=${KUBECTL:-kubectl}
workloads=("$@"); [ ${#workloads[@]} -gt 0 ] || workloads=(basic dense backlog gang)

for b in lahar-benchpeer lahar-controller lahar-nodesim; do
  [ -x "bin/$b" ] || { echo "bench-peer: bin/$b missing (make bin/$b)" >&2; exit 1; }
done
command -v "$KUBECTL" >/dev/null || { echo "bench-peer: kubectl not found" >&2; exit 1; }
R=$(hack/realkube/build.sh apiserver scheduler | tail -n1)
KS=$R/bin/kube-scheduler

mkdir -p "$OUT"
TMP=$(mktemp -d /tmp/lahar-benchpeer.XXXXXX)
# A private copy of the binaries: a rebuild of bin/ during the run cannot change what is measured.
# BENCHPEER_LAHAR_BIN runs another lahar-controller build (e.g. a patched one) in the lahar runs.
mkdir -p "$TMP/bin" && cp bin/lahar-benchpeer bin/lahar-controller bin/lahar-nodesim "$TMP/bin/"
[ -z "${BENCHPEER_LAHAR_BIN:-}" ] || cp "$BENCHPEER_LAHAR_BIN" "$TMP/bin/lahar-controller"
# BENCHPEER_BP_BIN: another lahar-benchpeer build (e.g. build/san/bin/lahar-benchpeer, ASan+UBSan)
[ -z "${BENCHPEER_BP_BIN:-}" ] || cp "$BENCHPEER_BP_BIN" "$TMP/bin/lahar-benchpeer"
BP=$TMP/bin/lahar-benchpeer
mkdir -p "$OUT"
# what was measured: the binaries' digests and the checkout they came from (others may be
# changing it while the run goes on; bin/ is copied once, here)
{ echo "run started $(date -u +%FT%TZ); git HEAD $(git rev-parse --short HEAD 2>/dev/null || echo '?')," \
       "$(git status --porcelain 2>/dev/null | grep -c . || true) files modified in the checkout"
  (cd "$TMP/bin" && sha256sum lahar-benchpeer lahar-controller lahar-nodesim); sha256sum "$KS"
} > "$OUT/binaries.txt"
CUR=""          # realkube dir currently running
PIDS=()         # scheduler / nodesim started by us
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "$CUR" ] && hack/realkube/stop.sh "$CUR" >/dev/null 2>&1
  if [ -n "${KEEP_TMP:-}" ]; then echo "bench-peer: kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
log() { echo "bench-peer: $*" >&2; }
die() { log "FAIL: $*"; exit 1; }
drop_pid() { # drop_pid PID: forget a process that ended (the EXIT trap must not signal a reused pid)
  local keep=() p; for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done; PIDS=("${keep[@]+"${keep[@]}"}")
}
stop_pid() { # stop_pid PID: SIGTERM, wait, drop from PIDS
  kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true
  drop_pid "$1"
}
poll() { local t=$1; shift; local i; for ((i = 0; i < t * 5; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done; return 1; }

# template NODES: registers NODES simulated nodes once; prints the template dir.
template() {
  local n=$1 d=$TMP/tpl-$1
  [ -d "$d/etcd/data" ] && { echo "$d"; return; }
  log "template: $n nodes (4 cpu, 32Gi, 110 pods each)"
  hack/realkube/start.sh "$d" > "$TMP/tpl-$n.log" 2>&1 || die "realkube start (see $TMP/tpl-$n.log)"
  CUR=$d
  "$KUBECTL" --kubeconfig "$d/kubeconfig" apply -f crds/ >/dev/null 2>&1 || die "applying crds/"
  local t0=$SECONDS
  "$TMP/bin/lahar-nodesim" --kubeconfig "$d/kubeconfig" --nodes "$n" --name-prefix node- --node-cpu 4 \
    --node-memory 32Gi --node-max-pods 110 --running-delay-ms 86400000 --log-level warn \
    > "$TMP/nodesim-$n.log" 2>&1 &
  local ns=$!; PIDS+=("$ns")
  poll 900 grep -q "ready:" "$TMP/nodesim-$n.log" || die "nodesim not ready: $(tail -3 "$TMP/nodesim-$n.log")"
  log "template: $(grep -o 'ready:.*' "$TMP/nodesim-$n.log") in $((SECONDS - t0)) s"
  local tainted
  tainted=$("$KUBECTL" --kubeconfig "$d/kubeconfig" get nodes -o jsonpath='{range .items[*]}{.spec.taints}{"\n"}{end}' | grep -c . || true)
  [ "$tainted" = 0 ] || die "$tainted nodes still tainted"
  stop_pid "$ns"
  hack/realkube/stop.sh "$d" >/dev/null 2>&1; CUR=""
  rm -rf "$d/logs"
  echo "$d"
}

# start_sched SCHED DIR: starts the scheduler on the cluster of DIR; sets SPID and SNAME.
start_sched() {
  local sched=$1 d=$2
  SPID=""
  if [ "$sched" = null ]; then return 0; fi
  if [ "$sched" = kube-scheduler ]; then
    cat > "$d/scheduler.yaml" <<Y
apiVersion: kubescheduler.config.k8s.io/v1beta1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: $d/kubeconfig
  qps: 5000
  burst: 5000
leaderElection:
  leaderElect: false
healthzBindAddress: 127.0.0.1:$SPORT
metricsBindAddress: 127.0.0.1:$SPORT
Y
    setsid "$KS" --config "$d/scheduler.yaml" --secure-port=0 --v=1 > "$d/scheduler.log" 2>&1 < /dev/null &
    SPID=$!; PIDS+=("$SPID")
  else
    setsid "$TMP/bin/lahar-controller" --kubeconfig "$d/kubeconfig" --scheduler-name lahar \
      --metrics-listen "127.0.0.1:$SPORT" > "$d/scheduler.log" 2>&1 < /dev/null &
    SPID=$!; PIDS+=("$SPID")
  fi
  start_perf "$sched" "$d"
}
# start_perf SCHED DIR: BENCHPEER_PERF=1 attaches perf to lahar-controller (sets PERFPID).
PERFPID=""
start_perf() {
  PERFPID=""
  [ "${BENCHPEER_PERF:-0}" = 1 ] && [ "$1" = lahar ] || return 0
  perf record -q -e cpu-clock -F 250 --call-graph dwarf,16384 -p "$SPID" -o "$2/perf.data" > "$2/perf.log" 2>&1 &
  PERFPID=$!; PIDS+=("$PERFPID")
}
sched_name() { case $1 in kube-scheduler) echo default-scheduler ;; null) echo null-scheduler ;; *) echo lahar ;; esac; }
wait_sched() {
  if [ "$1" = null ]; then return 0; fi
  if [ "$1" = kube-scheduler ]; then
    poll 60 curl -sf "http://127.0.0.1:$SPORT/healthz" || die "kube-scheduler not healthy: $(tail -3 "$2/scheduler.log")"
  else
    poll 60 curl -sf "http://127.0.0.1:$SPORT/readyz" || die "lahar-controller not ready: $(tail -3 "$2/scheduler.log")"
  fi
}

# run NAME SCHED NODES BENCH_ARGS...: one measured run from a fresh copy of the template.
# With BACKLOG=1 the pods are all created before the scheduler starts (no probe); the clock
# starts right before the scheduler process is launched.
run() {
  local name=$1 sched=$2 nodes=$3; shift 3
  local tpl; tpl=$(template "$nodes")
  local d=$TMP/run-$name-$sched
  mkdir -p "$d"; cp -a "$tpl/pki" "$tpl/etcd" "$d/"
  hack/realkube/start.sh "$d" > "$TMP/run-$name-$sched.log" 2>&1 || die "realkube start for $name/$sched"
  CUR=$d
  local etcd_pid api_pid line bpid nullargs=() schedpid=()
  # BENCHPEER_NULL_ARGS: extra benchpeer flags for the null scheduler (e.g. --bind-in-flight 256)
  [ "$sched" = null ] && read -r -a nullargs <<< "--null-bind ${BENCHPEER_NULL_ARGS:-}"
  etcd_pid=$(sed -n 1p "$d/pids"); api_pid=$(sed -n 2p "$d/pids")
  local common=(--kubeconfig "$d/kubeconfig" --namespace bench --label "$name" --scheduler-name "$(sched_name "$sched")"
                --cpu-pid "etcd=$etcd_pid" --cpu-pid "apiserver=$api_pid")
  if [ "${BACKLOG:-0}" = 1 ]; then
    "$BP" "${common[@]}" "${nullargs[@]}" --backlog "$d/gate" "$@" > "$d/result.json" 2> "$d/benchpeer.log" &
    bpid=$!; PIDS+=("$bpid")
    poll 600 test -e "$d/gate.created" || die "benchpeer $name/$sched: backlog not created: $(tail -3 "$d/benchpeer.log")"
    touch "$d/gate.go"
    start_sched "$sched" "$d"
    [ -z "$SPID" ] || echo "$SPID" > "$d/gate.pid"
    wait "$bpid" || die "benchpeer $name/$sched failed: $(tail -5 "$d/benchpeer.log")"
    drop_pid "$bpid"
    line=$(cat "$d/result.json")
  else
    start_sched "$sched" "$d"
    wait_sched "$sched" "$d"
    [ -z "$SPID" ] || schedpid=(--cpu-pid "scheduler=$SPID")
    "$BP" "${common[@]}" "${nullargs[@]}" "${schedpid[@]}" --probe "$@" > "$d/result.json" 2> "$d/benchpeer.log" &
    bpid=$!; PIDS+=("$bpid")
    wait "$bpid" || die "benchpeer $name/$sched failed: $(tail -5 "$d/benchpeer.log")"
    drop_pid "$bpid"
    line=$(cat "$d/result.json")
  fi
  if [ "$sched" = lahar ]; then curl -s "http://127.0.0.1:$SPORT/metrics" > "$OUT/$name-lahar-metrics.txt" || true; fi
  # the apiserver's own count of what it served in this run (its counters start with this run)
  "$KUBECTL" --kubeconfig "$d/kubeconfig" get --raw /metrics > "$OUT/$name-$sched-apiserver-metrics.txt" 2>/dev/null || true
  line=$(api_summary "$line" "$OUT/$name-$sched-apiserver-metrics.txt")
  if [ -n "$PERFPID" ]; then
    kill -INT "$PERFPID" 2>/dev/null || true; wait "$PERFPID" 2>/dev/null || true
    drop_pid "$PERFPID"
    mv "$d/perf.data" "$OUT/$name-lahar.perf.data" 2>/dev/null || true
    perf report -i "$OUT/$name-lahar.perf.data" --no-children --stdio --percent-limit 1 -g none \
      > "$OUT/$name-lahar-perf.txt" 2>/dev/null || true
    PERFPID=""
  fi
  [ -z "$SPID" ] || stop_pid "$SPID"
  hack/realkube/stop.sh "$d" >/dev/null 2>&1; CUR=""
  [ ! -e "$d/scheduler.log" ] || cp "$d/scheduler.log" "$OUT/$name-$sched-scheduler.log"
  cp "$d/benchpeer.log" "$OUT/$name-$sched-benchpeer.log"
  rm -rf "$d/etcd"
  echo "$line" | tee -a "$OUT/results.jsonl"
}

# api_summary JSON METRICS: JSON with "api_requests" (apiserver_request_total summed by verb and
# resource[/subresource], all codes), "api_requests_non2xx" (the same by code, non-2xx only) and
# "api_watch_events" (events sent to watchers, by kind) of the apiserver's /metrics text added;
# the JSON unchanged if that text is unreadable.
api_summary() {
  python3 - "$1" "$2" <<'PY'
import json, re, sys
line, path = sys.argv[1], sys.argv[2]
try:
    j = json.loads(line)
    req, bad, wev = {}, {}, {}
    for l in open(path):
        m = re.match(r'(apiserver_request_total|apiserver_watch_events_total)\{(.*)\} ([0-9.e+]+)$', l.strip())
        if not m: continue
        lab = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2)))
        v = int(float(m.group(3)))
        if m.group(1) == "apiserver_watch_events_total":
            wev[lab.get("kind", "")] = wev.get(lab.get("kind", ""), 0) + v
            continue
        r = lab.get("resource", "") + ("/" + lab["subresource"] if lab.get("subresource") else "")
        k = lab.get("verb", "") + " " + r
        req[k] = req.get(k, 0) + v
        if not lab.get("code", "200").startswith("2"):
            bad[k + " " + lab.get("code", "")] = bad.get(k + " " + lab.get("code", ""), 0) + v
    j["api_requests"] = {k: v for k, v in sorted(req.items()) if v}
    j["api_requests_non2xx"] = {k: v for k, v in sorted(bad.items()) if v}
    j["api_watch_events"] = {k: v for k, v in sorted(wev.items()) if v}
    print(json.dumps(j, separators=(",", ":")))
except (OSError, ValueError):
    print(line)
PY
}

ratio() { # ratio NAME: lahar bound_per_s / kube-scheduler bound_per_s of the last two lines of NAME
  python3 - "$OUT/results.jsonl" "$1" <<'PY'
import json, sys
runs = {}
for l in open(sys.argv[1]):
    try: j = json.loads(l)
    except ValueError: continue
    if j.get("run") == sys.argv[2]: runs[j["scheduler"]] = j
k, l, n = runs.get("default-scheduler"), runs.get("lahar"), runs.get("null-scheduler")
out = {"run": sys.argv[2]}
if k and l and k["bound_per_s"] > 0:
    out.update({"ratio_bound_per_s": round(l["bound_per_s"] / k["bound_per_s"], 2),
                "lahar_bound_per_s": l["bound_per_s"], "kube_scheduler_bound_per_s": k["bound_per_s"],
                "ratio_lat_p50": round(k["lat_p50_ms"] / max(l["lat_p50_ms"], 1), 2),
                "ratio_lat_p99": round(k["lat_p99_ms"] / max(l["lat_p99_ms"], 1), 2)})
# the null scheduler's rate is the apiserver's ceiling: each scheduler's fraction of it
if n and n["bound_per_s"] > 0:
    out["null_bound_per_s"] = n["bound_per_s"]
    if l: out["lahar_of_ceiling"] = round(l["bound_per_s"] / n["bound_per_s"], 2)
    if k: out["kube_scheduler_of_ceiling"] = round(k["bound_per_s"] / n["bound_per_s"], 2)
    if k and k["bound_per_s"] > 0: out["ceiling_over_kube_scheduler"] = round(n["bound_per_s"] / k["bound_per_s"], 2)
if len(out) > 1: print(json.dumps(out))
PY
}

# Everything below runs inside main, which bash parses whole before running it: an edit of this
# file while a run goes on cannot change (or break) the rest of that run.
main() {
log "machine: nproc=$(nproc), $(lscpu | grep 'Model name' | sed 's/  */ /g'), load: $(cut -d' ' -f1-3 /proc/loadavg)"
: > "$OUT/results.jsonl"
START=$SECONDS
for w in "${workloads[@]}"; do
  case $w in
  basic) # scheduler_perf SchedulingBasic/5000Nodes: 1,000 init pods (not measured), 1,000 measured
    run basic kube-scheduler 5000 --warmup 1000 --pods 1000
    run basic lahar 5000 --warmup 1000 --pods 1000
    ratio basic | tee -a "$OUT/results.jsonl" ;;
  dense) # 1,000 nodes, 5,000 pods
    run dense kube-scheduler 1000 --pods 5000
    run dense lahar 1000 --pods 5000
    run dense null 1000 --pods 5000
    ratio dense | tee -a "$OUT/results.jsonl" ;;
  backlog) # 1,000 nodes, 5,000 pods all created before the scheduler starts: the scheduler's
           # own throughput (its binds are then the only writes), not the create rate
    BACKLOG=1 run backlog kube-scheduler 1000 --pods 5000
    BACKLOG=1 run backlog lahar 1000 --pods 5000
    BACKLOG=1 run backlog null 1000 --pods 5000
    ratio backlog | tee -a "$OUT/results.jsonl" ;;
  gang) # 500 gangs of 10 (1 cpu each) over 4 queues weighted 1:2:3:4 on 250 x 4 cpu = 1,000
        # pods of room: 20% of the demand, so the queues' shares decide who gets what.
    BACKLOG=1 run gang lahar 250 --gangs 500 --gang-size 10 --queues q1:1,q2:2,q3:3,q4:4 --cpu 1 --memory 1Gi --quiet-s 10 ;;
  smoke) # a quick check of the machinery (not part of the default set)
    run smoke kube-scheduler 200 --warmup 100 --pods 500
    run smoke lahar 200 --warmup 100 --pods 500
    ratio smoke | tee -a "$OUT/results.jsonl"
    BACKLOG=1 run smokeback kube-scheduler 200 --pods 500
    BACKLOG=1 run smokeback lahar 200 --pods 500
    ratio smokeback | tee -a "$OUT/results.jsonl"
    BACKLOG=1 run smokegang lahar 50 --gangs 50 --gang-size 10 --queues q1:1,q2:2,q3:3,q4:4 --cpu 1 --memory 1Gi --quiet-s 5 ;;
  smokeback-lahar) BACKLOG=1 run smokeback lahar 200 --pods 1000 ;;
  backlog-lahar) BACKLOG=1 run backlog lahar 1000 --pods 5000 ;;   # e.g. with BENCHPEER_LAHAR_BIN
  backlog-null) BACKLOG=1 run backlog null 1000 --pods 5000 ;;
  dense-lahar) run dense lahar 1000 --pods 5000 ;;
  dense-null) run dense null 1000 --pods 5000 ;;
  smoke-null) run smoke null 200 --warmup 100 --pods 500; BACKLOG=1 run smokeback null 200 --pods 500 ;;
  *) die "unknown workload $w (basic dense backlog gang smoke; see the header)" ;;
  esac
done
log "done in $((SECONDS - START)) s; load now: $(cut -d' ' -f1-3 /proc/loadavg); results in $OUT/results.jsonl"
}
main "$@"; exit $?
