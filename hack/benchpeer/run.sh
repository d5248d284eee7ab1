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
# Method, results and diagnosis: docs/performance-peer.md.
#
# Usage: hack/benchpeer/run.sh [WORKLOAD ...]   workloads: basic dense backlog gang (default: all), smoke
# env: REALKUBE_PORT (26540; +1 is the scheduler's health/metrics port), REALKUBE_ETCD_PORT
#      (23941; uses +10, +20 too), BENCHPEER_OUT (build/benchpeer), KEEP_TMP=1 keeps the dirs.
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
BP=$TMP/bin/lahar-benchpeer
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
stop_pid() { # stop_pid PID: SIGTERM, wait, drop from PIDS
  kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true
  local keep=() p; for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done; PIDS=("${keep[@]+"${keep[@]}"}")
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
}
sched_name() { [ "$1" = kube-scheduler ] && echo default-scheduler || echo lahar; }
wait_sched() {
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
  local etcd_pid api_pid line bpid
  etcd_pid=$(sed -n 1p "$d/pids"); api_pid=$(sed -n 2p "$d/pids")
  local common=(--kubeconfig "$d/kubeconfig" --namespace bench --label "$name" --scheduler-name "$(sched_name "$sched")"
                --cpu-pid "etcd=$etcd_pid" --cpu-pid "apiserver=$api_pid")
  if [ "${BACKLOG:-0}" = 1 ]; then
    "$BP" "${common[@]}" --backlog "$d/gate" "$@" > "$d/result.json" 2> "$d/benchpeer.log" &
    bpid=$!; PIDS+=("$bpid")
    poll 600 test -e "$d/gate.created" || die "benchpeer $name/$sched: backlog not created: $(tail -3 "$d/benchpeer.log")"
    touch "$d/gate.go"
    start_sched "$sched" "$d"
    echo "$SPID" > "$d/gate.pid"
    wait "$bpid" || die "benchpeer $name/$sched failed: $(tail -5 "$d/benchpeer.log")"
    line=$(cat "$d/result.json")
  else
    start_sched "$sched" "$d"
    wait_sched "$sched" "$d"
    line=$("$BP" "${common[@]}" --cpu-pid "scheduler=$SPID" --probe "$@" 2> "$d/benchpeer.log") \
      || die "benchpeer $name/$sched failed: $(tail -5 "$d/benchpeer.log")"
  fi
  if [ "$sched" = lahar ]; then curl -s "http://127.0.0.1:$SPORT/metrics" > "$OUT/$name-lahar-metrics.txt" || true; fi
  stop_pid "$SPID"
  hack/realkube/stop.sh "$d" >/dev/null 2>&1; CUR=""
  cp "$d/scheduler.log" "$OUT/$name-$sched-scheduler.log"; cp "$d/benchpeer.log" "$OUT/$name-$sched-benchpeer.log"
  rm -rf "$d/etcd"
  echo "$line" | tee -a "$OUT/results.jsonl"
}

ratio() { # ratio NAME: lahar bound_per_s / kube-scheduler bound_per_s of the last two lines of NAME
  python3 - "$OUT/results.jsonl" "$1" <<'PY'
import json, sys
runs = {}
for l in open(sys.argv[1]):
    try: j = json.loads(l)
    except ValueError: continue
    if j.get("run") == sys.argv[2]: runs[j["scheduler"]] = j
k, l = runs.get("default-scheduler"), runs.get("lahar")
if k and l and k["bound_per_s"] > 0:
    print(json.dumps({"run": sys.argv[2], "ratio_bound_per_s": round(l["bound_per_s"] / k["bound_per_s"], 2),
                      "lahar_bound_per_s": l["bound_per_s"], "kube_scheduler_bound_per_s": k["bound_per_s"],
                      "ratio_lat_p50": round(k["lat_p50_ms"] / max(l["lat_p50_ms"], 1), 2),
                      "ratio_lat_p99": round(k["lat_p99_ms"] / max(l["lat_p99_ms"], 1), 2)}))
PY
}

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
    ratio dense | tee -a "$OUT/results.jsonl" ;;
  backlog) # 1,000 nodes, 5,000 pods all created before the scheduler starts: the scheduler's
           # own throughput (its binds are then the only writes), not the create rate
    BACKLOG=1 run backlog kube-scheduler 1000 --pods 5000
    BACKLOG=1 run backlog lahar 1000 --pods 5000
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
  *) die "unknown workload $w (basic dense backlog gang smoke)" ;;
  esac
done
log "done in $((SECONDS - START)) s; load now: $(cut -d' ' -f1-3 /proc/loadavg); results in $OUT/results.jsonl"
