#!/usr/bin/env bash
# bench-e2e.sh — lahar-controller benchmarks against the local cluster (release binaries in bin/).
# Prints one JSON line per measurement and a MET/MISSED line per target on stderr.
#
#   bind-precreated  BENCH_PODS (20000) pending pods in gangs of BENCH_GANG (10) on BENCH_NODES
#                    (500) nodes, created before the controller starts; time from the
#                    controller's exec to the last binding seen by a watch. Target >= 5000 pods/s.
#   bind-live        the same pods created (BENCH_INFLIGHT in flight) while the controller runs;
#                    time from the first create to the last binding seen.
#   memory           MEM_PODS (100000) bound, Running plain pods (groups of one) in the cache:
#                    RSS delta against the same controller on an empty cluster with the same
#                    nodes, and the cache accounting (lahar_pod_cache_bytes +
#                    lahar_kube_cache_overhead_bytes{resource="pods"}) per pod. Target <= 1 KiB.
#   recovery         5,000 nodes, 140,000 pods, 87,000 PodGroups (see populate_recovery), plus one
#                    new one-pod job created while the controller is down; time from the
#                    controller's exec to that pod's binding. Target <= 5 s.
# The memory and recovery clusters are populated once into BENCH_CACHE (/tmp/lahar-bench) and
# reused (delete that folder to rebuild them); the bind scenarios use a fresh cluster each time.
# Usage: controller/bench/bench-e2e.sh [scenario...]   (default: all four)
set -u
cd "$(dirname "$0")/../.."
BIN=${LAHAR_BIN_DIR:-bin}
CACHE=${BENCH_CACHE:-/tmp/lahar-bench}
PODS=${BENCH_PODS:-20000}
GANG=${BENCH_GANG:-10}
NODES=${BENCH_NODES:-500}
INFLIGHT=${BENCH_INFLIGHT:-256}
MEM_PODS=${MEM_PODS:-100000}
CTL_FLAGS=${BENCH_CTL_FLAGS:-}
TMP=$(mktemp -d /tmp/lahar-ctlbench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  [ -n "${KEEP_TMP:-}" ] && echo "kept $TMP" >&2 || rm -rf "$TMP"
}
trap cleanup EXIT
for b in lahar-localcluster lahar-controller lahar-ctlbench; do
  [ -x "$BIN/$b" ] || make -s "$BIN/$b" >/dev/null || { echo "cannot build $BIN/$b" >&2; exit 1; }
done
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
now_ms() { date +%s%3N; }
die() { echo "bench-e2e: $*" >&2; exit 1; }

# start_lc DATA NODES: a release local cluster on a free port; sets KC and LC_PID.
start_lc() {
  local data=$1 nodes=$2 port; port=$(free_port)
  mkdir -p "$data"
  "$BIN/lahar-localcluster" --listen 127.0.0.1:$port --data-dir "$data" --kubeconfig-out "$data/kubeconfig" \
    --nodes "$nodes" --node-cpu 32 --node-memory 128Gi --log-level warn \
    >>"$TMP/lc.log" 2>&1 &
  LC_PID=$!
  PIDS+=($LC_PID)
  KC=$data/kubeconfig
  for _ in $(seq 1 600); do
    [ -s "$KC" ] && grep -q "127.0.0.1:$port" "$KC" && curl -skf "$(awk '/server:/ {print $2; exit}' "$KC")/readyz" >/dev/null 2>&1 && break
    kill -0 $LC_PID 2>/dev/null || die "local cluster died: $(tail -3 "$TMP/lc.log")"
    sleep 0.1
  done
  KUBECONFIG=$KC kubectl apply -f crds/ >/dev/null || die "crds"
  for _ in $(seq 1 100); do KUBECONFIG=$KC kubectl get --raw "/apis/scheduling.volcano.sh/v1beta1/namespaces/kube-system/podgroups?limit=1" >/dev/null 2>&1 && break; sleep 0.1; done
}
stop_pid() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }
# wait_idle PID: until the process used < 5% of a CPU over half a second (at most 120 s): the
# local cluster has finished its own start (opening the database, the in-process simulated
# nodes listing their pods), as a cluster whose controller restarts has.
cpu_ticks() { awk '{print $14 + $15}' /proc/"$1"/stat; }
wait_idle() {
  local a b
  for _ in $(seq 1 240); do
    a=$(cpu_ticks "$1"); sleep 0.5; b=$(cpu_ticks "$1")
    [ $((b - a)) -lt 3 ] && return 0
  done
  return 1
}

# start_ctl: the release controller with metrics on MPORT; sets CTL_PID and CTL_T0 (ms at exec).
start_ctl() {
  MPORT=$(free_port)
  CTL_T0=$(now_ms)
  # shellcheck disable=SC2086
  "$BIN/lahar-controller" --kubeconfig "$KC" --metrics-listen 127.0.0.1:$MPORT $CTL_FLAGS >>"$TMP/ctl.log" 2>&1 &
  CTL_PID=$!
  PIDS+=($CTL_PID)
}
wait_ready() { for _ in $(seq 1 1200); do curl -sf "http://127.0.0.1:$MPORT/readyz" >/dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }
metric() { curl -s "http://127.0.0.1:$MPORT/metrics" | awk -v m="$1" '$1==m {print $2}'; }
rss_kb() { awk '/^VmRSS/ {print $2}' /proc/"$1"/status; }
# cpu_s PID: user+system CPU seconds used so far (the machine may be shared: CPU per pod is the
# figure that survives load, wall time is not)
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{sub(/.*\) /, ""); print ($12 + $13) / hz}' /proc/"$1"/stat 2>/dev/null || echo 0; }
# watch_binds RUN EXPECT [extra ctlbench flags]: background watcher; waits until it is ready.
watch_binds() {
  local run=$1 expect=$2; shift 2
  rm -f "$TMP/ready"
  "$BIN/lahar-ctlbench" watch --kubeconfig "$KC" --run "$run" --expect "$expect" --timeout 600 \
    --ready-file "$TMP/ready" "$@" >"$TMP/watch.json" 2>>"$TMP/watch.log" &
  WATCH_PID=$!
  for _ in $(seq 1 600); do [ -e "$TMP/ready" ] && return 0; kill -0 $WATCH_PID 2>/dev/null || break; sleep 0.05; done
  die "watcher not ready: $(cat "$TMP/watch.log")"
}
jfield() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }
verdict() { # name value op target unit
  if python3 -c "import sys; v,t=float(sys.argv[1]),float(sys.argv[3]); sys.exit(0 if (v>=t if sys.argv[2]=='>=' else v<=t) else 1)" "$2" "$3" "$4"; then
    echo "MET    $1: $2 $5 (target $3 $4)" >&2
  else echo "MISSED $1: $2 $5 (target $3 $4)" >&2; fi
}

bench_bind() { # precreated|live
  local mode=$1 data=$TMP/bind-$1
  start_lc "$data" "$NODES"
  local groups=$((PODS / GANG))
  if [ "$mode" = precreated ]; then
    "$BIN/lahar-ctlbench" populate --kubeconfig "$KC" --prefix g- --groups $groups --gang "$GANG" --run b1 \
      --inflight "$INFLIGHT" >"$TMP/populate.json" || die "populate: $(cat "$TMP/populate.json")"
    watch_binds b1 "$PODS"
    LC_CPU0=$(cpu_s "$LC_PID")
    start_ctl
    wait $WATCH_PID || die "not all pods bound: $(cat "$TMP/watch.json") $(grep -c . "$TMP/ctl.log") log lines"
    local t0=$CTL_T0
  else
    LC_CPU0=$(cpu_s "$LC_PID")
    start_ctl
    wait_ready || die "controller not ready"
    watch_binds b1 "$PODS" --create-groups $groups --gang "$GANG" --prefix g- --inflight "$INFLIGHT"
    wait $WATCH_PID || die "not all pods bound: $(cat "$TMP/watch.json")"
    local t0; t0=$(jfield "$TMP/watch.json" first_create_ms)
  fi
  local last; last=$(jfield "$TMP/watch.json" last_bind_ms)
  local first; first=$(jfield "$TMP/watch.json" first_bind_ms)
  local cycles; cycles=$(metric lahar_cycles_total)
  local binds; binds=$(metric lahar_binds_total)
  local csum; csum=$(metric lahar_cycle_duration_seconds_sum)
  local ctl_cpu; ctl_cpu=$(cpu_s "$CTL_PID")
  local lc_cpu; lc_cpu=$(cpu_s "$LC_PID")
  python3 - "$mode" "$PODS" "$GANG" "$NODES" "$t0" "$first" "$last" "${cycles:-0}" "${binds:-0}" "${csum:-0}" \
    "$ctl_cpu" "$lc_cpu" "$LC_CPU0" "$(cut -d' ' -f1 /proc/loadavg)" <<'PY'
import json, sys
mode, pods, gang, nodes, t0, first, last, cycles, binds, csum, ccpu, lcpu, lcpu0, load = sys.argv[1:]
s = (int(last) - int(t0)) / 1000
n = int(pods)
# CPU seconds from the controller's exec (or the first create) to the end: controller whole
# life; local cluster (server + simulated nodes) since the controller started
print(json.dumps({"bench": "bind-" + mode, "pods": n, "gang": int(gang), "nodes": int(nodes),
                  "seconds": round(s, 3), "first_bind_s": round((int(first) - int(t0)) / 1000, 3),
                  "pods_per_s": round(n / s), "cycles": int(float(cycles)), "binds": int(float(binds)),
                  "cycle_seconds_total": round(float(csum), 3),
                  "ctl_cpu_s": round(float(ccpu), 2), "ctl_cpu_us_per_pod": round(float(ccpu) * 1e6 / n),
                  "lc_cpu_s": round(float(lcpu) - float(lcpu0), 2),
                  "lc_cpu_us_per_pod": round((float(lcpu) - float(lcpu0)) * 1e6 / n), "loadavg": float(load)}))
PY
  local rate; rate=$(python3 -c "print(round($PODS/(($last-$t0)/1000)))")
  verdict "bind-$mode pods/s" "$rate" ">=" 5000 "pods/s"
  stop_pid "$CTL_PID"
  stop_pid "$LC_PID"
}

bench_memory() {
  local data=$CACHE/memory-$MEM_PODS
  if [ ! -e "$data/populated" ]; then
    rm -rf "$data"
    start_lc "$data" "$NODES"
    echo "bench-e2e: populating $MEM_PODS pods into $data (once)" >&2
    "$BIN/lahar-ctlbench" populate --kubeconfig "$KC" --prefix m- --plain --groups 1 --gang "$MEM_PODS" --state running \
      --nodes "$NODES" --run mem --inflight "$INFLIGHT" >"$TMP/populate.json" || die "populate: $(cat "$TMP/populate.json")"
    touch "$data/populated"
  else
    start_lc "$data" "$NODES"
  fi
  start_ctl
  wait_ready || die "controller not ready"
  sleep 3 # first cycles and status writes settle
  local rss; rss=$(rss_kb $CTL_PID)
  local podb; podb=$(metric lahar_pod_cache_bytes)
  local ovh; ovh=$(metric 'lahar_kube_cache_overhead_bytes{resource="pods"}')
  local npods; npods=$(metric 'lahar_cache_objects{resource="pods"}')
  stop_pid "$CTL_PID"
  stop_pid "$LC_PID"
  # baseline: the same controller on a cluster with the same nodes and no pods
  start_lc "$TMP/empty" "$NODES"
  start_ctl
  wait_ready || die "controller not ready (baseline)"
  sleep 3
  local rss0; rss0=$(rss_kb $CTL_PID)
  stop_pid "$CTL_PID"
  stop_pid "$LC_PID"
  python3 - "$npods" "$rss" "$rss0" "$podb" "$ovh" <<'PY'
import json, sys
n, rss, rss0, podb, ovh = (float(x or 0) for x in sys.argv[1:])
print(json.dumps({"bench": "memory", "cached_pods": int(n), "rss_kib": int(rss), "rss_empty_kib": int(rss0),
                  "rss_delta_bytes_per_pod": round((rss - rss0) * 1024 / n), "pod_cache_bytes": int(podb),
                  "cache_overhead_bytes": int(ovh), "accounted_bytes_per_pod": round((podb + ovh) / n)}))
PY
  verdict "memory RSS delta per cached pod" "$(python3 -c "print(round(($rss-$rss0)*1024/$npods))")" "<=" 1024 "bytes"
  verdict "memory accounted per cached pod" "$(python3 -c "print(round(($podb+$ovh)/$npods))")" "<=" 1024 "bytes"
}

# The recovery cluster (decided mix, 87,000 PodGroups and 140,000 pods on 5,000 nodes):
#   70,000 Completed PodGroups with 1 Succeeded pod     (finished small jobs)
#    4,000 Completed PodGroups with 2 Succeeded pods
#   12,000 Running PodGroups with 5 Running pods bound  (60,000 running pods, ~12 per node)
#    1,000 Pending PodGroups with 2 pods asking 64 cpu  (unschedulable backlog: reasons, Events)
populate_recovery() {
  local data=$1
  echo "bench-e2e: populating the recovery cluster into $data (once; several minutes)" >&2
  local P=("$BIN/lahar-ctlbench" populate --kubeconfig "$KC" --inflight "$INFLIGHT" --nodes 5000 --run rec)
  "${P[@]}" --prefix done1- --groups 70000 --gang 1 --state succeeded --pg-phase Completed || return 1
  "${P[@]}" --prefix done2- --groups 4000 --gang 2 --state succeeded --pg-phase Completed || return 1
  "${P[@]}" --prefix run5- --groups 12000 --gang 5 --state running --pg-phase Running || return 1
  "${P[@]}" --prefix big- --groups 1000 --gang 2 --cpu 64 --pg-phase Pending || return 1
}

bench_recovery() {
  local data=$CACHE/recovery
  if [ ! -e "$data/populated" ]; then
    rm -rf "$data"
    start_lc "$data" 5000
    populate_recovery "$data" >"$TMP/populate.json" || die "populate: $(cat "$TMP/populate.json")"
    touch "$data/populated"
  else
    start_lc "$data" 5000
  fi
  local run=probe-$$
  # the new job arrives while the controller is down
  "$BIN/lahar-ctlbench" populate --kubeconfig "$KC" --prefix "$run-" --groups 1 --gang 1 --run "$run" >/dev/null \
    || die "probe job"
  watch_binds "$run" 1
  wait_idle "$LC_PID" || die "the local cluster did not settle"
  start_ctl
  wait $WATCH_PID || die "probe not bound: $(cat "$TMP/watch.json")"
  local last; last=$(jfield "$TMP/watch.json" last_bind_ms)
  wait_ready
  local rss; rss=$(rss_kb $CTL_PID)
  local synced; synced=$(grep -m1 "informers synced" "$TMP/ctl.log" | sed 's/.*informers synced //')
  local podb; podb=$(metric lahar_pod_cache_bytes)
  local ovh; ovh=$(metric 'lahar_kube_cache_overhead_bytes{resource="pods"}')
  local npods; npods=$(echo "$synced" | sed -n 's/^(\([0-9]*\) pods.*/\1/p')
  stop_pid "$CTL_PID"
  stop_pid "$LC_PID"
  python3 - "$CTL_T0" "$last" "$rss" "$synced" "$podb" "$ovh" "$npods" <<'PY'
import json, sys
t0, last, rss, synced, podb, ovh, n = sys.argv[1:]
podb, ovh, n = float(podb or 0), float(ovh or 0), float(n or 1)
print(json.dumps({"bench": "recovery", "nodes": 5000, "pods": 140000, "podgroups": 87000,
                  "seconds_to_new_job_bound": round((int(last) - int(t0)) / 1000, 3), "rss_kib": int(rss),
                  "cache": synced, "pod_cache_bytes": int(podb), "pod_cache_overhead_bytes": int(ovh),
                  "accounted_bytes_per_pod": round((podb + ovh) / n)}))
PY
  verdict "recovery: new job bound after start" "$(python3 -c "print(($last-$CTL_T0)/1000)")" "<=" 5 "s"
}

SCEN=("$@")
[ ${#SCEN[@]} -gt 0 ] || SCEN=(bind-precreated bind-live memory recovery)
for s in "${SCEN[@]}"; do
  : >"$TMP/ctl.log"
  case $s in
    bind-precreated) bench_bind precreated ;;
    bind-live) bench_bind live ;;
    memory) bench_memory ;;
    recovery) bench_recovery ;;
    *) die "unknown scenario $s" ;;
  esac
  cp "$TMP/ctl.log" "$TMP/ctl-$s.log"
done
