#!/usr/bin/env bash
# 60-controller-lib.sh — helpers sourced by tests/e2e/60-controller-*.sh (run directly it does
# nothing and reports "skip"). Starts a local cluster (or uses a real apiserver when
# LAHAR_E2E_KUBECONFIG names its kubeconfig), applies crds/, starts controllers, polls.
[[ "${BASH_SOURCE[0]}" == "$0" ]] && { echo "helper library, nothing to run"; exit 77; }
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BIN=${LAHAR_BIN_DIR:-build/san/bin}
TMP=$(mktemp -d /tmp/lahar-e2e-ctl.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$TMP"/*.log; do [ -e "$f" ] && { echo "--- $f"; tail -30 "$f"; }; done; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# poll TIMEOUT_S CMD...: runs CMD every 0.2 s until it succeeds (bounded).
poll() { local t=$1; shift; local n=$((t*5)); for ((i=0;i<n;i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done; return 1; }
[ -x "$BIN/lahar-controller" ] || { echo "no $BIN/lahar-controller"; exit 77; }
command -v kubectl >/dev/null || { echo "no kubectl"; exit 77; }

# start_cluster NODES CPU MEMORY: local cluster, or the real apiserver of LAHAR_E2E_KUBECONFIG
# (then nodes are created as plain Node objects with the given allocatable).
start_cluster() {
  local n=$1 cpu=$2 mem=$3
  if [ -n "${LAHAR_E2E_KUBECONFIG:-}" ]; then
    export KUBECONFIG=$LAHAR_E2E_KUBECONFIG
    NS=e2e-$$; kubectl create namespace "$NS" >/dev/null
    kubectl delete nodes -l lahar.io/e2e=true >/dev/null 2>&1
    for ((i=1;i<=n;i++)); do
      kubectl apply -f - >/dev/null <<Y
apiVersion: v1
kind: Node
metadata: {name: e2e-node-$i, labels: {lahar.io/e2e: "true"}}
Y
      kubectl proxy --port=0 >/dev/null 2>&1 & true
      kill $! 2>/dev/null
      kubectl patch node e2e-node-$i --type=merge -p "{\"status\":{\"allocatable\":{\"cpu\":\"$cpu\",\"memory\":\"$mem\",\"pods\":\"110\"},\"capacity\":{\"cpu\":\"$cpu\",\"memory\":\"$mem\",\"pods\":\"110\"}}}" >/dev/null 2>&1 || true
    done
  else
    [ -x "$BIN/lahar-localcluster" ] || { echo "no $BIN/lahar-localcluster"; exit 77; }
    LC_PORT=$(free_port)
    "$BIN/lahar-localcluster" --listen 127.0.0.1:$LC_PORT --data-dir "$TMP/data" --kubeconfig-out "$TMP/kubeconfig" \
      --nodes "$n" --node-cpu "$cpu" --node-memory "$mem" >"$TMP/localcluster.log" 2>&1 &
    PIDS+=($!)
    poll 30 test -s "$TMP/kubeconfig" || fail "local cluster wrote no kubeconfig"
    export KUBECONFIG=$TMP/kubeconfig
    poll 30 kubectl get --raw /readyz || fail "local cluster not ready"
    NS=default
  fi
  kubectl apply -f crds/ >/dev/null || fail "applying crds"
  poll 30 kubectl get queues.scheduling.volcano.sh || fail "CRDs not served"
}

# start_controller NAME [FLAGS...]: starts a controller with a metrics port in MPORT_<NAME>.
start_controller() {
  local name=$1; shift
  local port; port=$(free_port)
  "$BIN/lahar-controller" --kubeconfig "$KUBECONFIG" --metrics-listen 127.0.0.1:$port "$@" >>"$TMP/ctl-$name.log" 2>&1 &
  local pid=$!
  PIDS+=($pid)
  eval "CTL_PID_$name=$pid; MPORT_$name=$port"
  poll 60 curl -sf http://127.0.0.1:$port/readyz || fail "controller $name not ready"
}
metric() { curl -s "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1==m {print $2}'; }

# gang_group NAME MIN PODS CPU [QUEUE]: a PodGroup and PODS pods annotated with it.
gang_group() {
  local name=$1 min=$2 pods=$3 cpu=$4 queue=${5:-default}
  kubectl apply -n "$NS" -f - >/dev/null <<Y || fail "creating podgroup $name"
apiVersion: scheduling.volcano.sh/v1beta1
kind: PodGroup
metadata: {name: $name}
spec: {minMember: $min, queue: $queue}
Y
  for ((i=0;i<pods;i++)); do
    kubectl apply -n "$NS" -f - >/dev/null <<Y || fail "creating pod $name-$i"
apiVersion: v1
kind: Pod
metadata: {name: $name-$i, labels: {group: $name}, annotations: {scheduling.k8s.io/group-name: $name}}
spec:
  schedulerName: lahar
  containers: [{name: c, image: busybox, command: [sleep, "3600"], resources: {requests: {cpu: "$cpu", memory: 100Mi}}}]
Y
  done
}
bound_count() { kubectl get pods -n "$NS" -l "group=$1" -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | grep -c . ; }
