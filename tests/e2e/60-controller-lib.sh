#!/usr/bin/env bash
# 60-controller-lib.sh — helpers sourced by tests/e2e/60-controller-*.sh (run directly it does
# nothing and reports "skip"). Starts a local cluster (or uses a real apiserver when
# LAHAR_E2E_KUBECONFIG names its kubeconfig: tests/e2e/71-controller-realkube.sh), applies crds/,
# starts controllers, polls.
# With LAHAR_E2E_KUBECONFIG the nodes are lahar-nodesim's (labelled lahar.io/e2e=true; those of
# an earlier script are deleted first), the test runs in a namespace of its own, and everything it
# created there is deleted at exit (pods with grace period 0: no kubelet confirms a deletion once
# nodesim is gone). The server must have no other nodes, and no pods of scheduler "lahar" outside
# the test's namespace, or the capacity the tests count on is not theirs.
[[ "${BASH_SOURCE[0]}" == "$0" ]] && { echo "helper library, nothing to run"; exit 77; }
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BIN=${LAHAR_BIN_DIR:-build/san/bin}
TMP=$(mktemp -d /tmp/lahar-e2e-ctl.XXXXXX)
PIDS=()
CTL_PIDS=()
NS=
# check_controllers: stops the controllers still running with SIGTERM; fails when one exits
# non-zero or any controller log holds a sanitizer report.
check_controllers() {
  local bad=0 p rc
  for p in "${CTL_PIDS[@]}"; do
    kill -0 "$p" 2>/dev/null || continue
    kill -TERM "$p"
    wait "$p"; rc=$?
    [ "$rc" -eq 0 ] || { echo "FAIL: controller (pid $p) exited $rc after SIGTERM" >&2; bad=1; }
  done
  if grep -H -E "ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error" "$TMP"/ctl-*.log >&2 2>/dev/null; then
    echo "FAIL: sanitizer report in a controller log" >&2
    for f in "$TMP"/ctl-*.log; do grep -q -E "Sanitizer|runtime error" "$f" && { echo "--- $f"; grep -A25 -E "ERROR: |runtime error" "$f" | head -60; }; done >&2
    bad=1
  fi
  return $bad
}
cleanup() {
  local rc=$?
  if [ "$rc" -eq 0 ]; then check_controllers || rc=1; fi
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  if [ -n "${LAHAR_E2E_KUBECONFIG:-}" ] && [ -n "$NS" ]; then
    kubectl delete pods -n "$NS" --all --grace-period=0 --force >/dev/null 2>&1
    kubectl delete podgroups.scheduling.volcano.sh -n "$NS" --all >/dev/null 2>&1
    kubectl delete namespace "$NS" --wait=false >/dev/null 2>&1
  fi
  [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$TMP"/*.log; do [ -e "$f" ] && { echo "--- $f"; tail -30 "$f"; }; done; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# poll TIMEOUT_S CMD...: runs CMD every 0.2 s until it succeeds (bounded).
poll() { local t=$1 i; shift; local n=$((t*5)); for ((i=0;i<n;i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done; return 1; }
[ -x "$BIN/lahar-controller" ] || { echo "no $BIN/lahar-controller"; exit 77; }
command -v kubectl >/dev/null || { echo "no kubectl"; exit 77; }

# start_cluster NODES CPU MEMORY: local cluster, or the real apiserver of LAHAR_E2E_KUBECONFIG
# (then NODES nodes of lahar-nodesim with that capacity).
start_cluster() {
  local n=$1 cpu=$2 mem=$3
  if [ -n "${LAHAR_E2E_KUBECONFIG:-}" ]; then
    [ -x "$BIN/lahar-nodesim" ] || { echo "no $BIN/lahar-nodesim"; exit 77; }
    export KUBECONFIG=$LAHAR_E2E_KUBECONFIG
    poll 30 kubectl get --raw /readyz || fail "server of LAHAR_E2E_KUBECONFIG not ready"
    NS=e2e-$$-$(basename "$0" .sh | tr -dc 'a-z0-9-' | tail -c 30)
    kubectl create namespace "$NS" >/dev/null || fail "creating namespace $NS"
    kubectl delete nodes -l lahar.io/e2e=true --wait=true >/dev/null 2>&1
    # nodesim posts Ready and removes the not-ready taint (no node lifecycle controller here)
    "$BIN/lahar-nodesim" --kubeconfig "$KUBECONFIG" --nodes "$n" --name-prefix "e2e-$$-" \
      --node-cpu "$cpu" --node-memory "$mem" --node-labels lahar.io/e2e=true --running-delay-ms 200 \
      >"$TMP/nodesim.log" 2>&1 &
    PIDS+=($!)
    local k
    for ((k=0;k<n;k++)); do
      poll 60 bash -c "[ \"\$(kubectl get node e2e-$$-$k -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}{.spec.taints[*].key}')\" = True ]" \
        || fail "node e2e-$$-$k not Ready and untainted"
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
  CTL_PIDS+=($pid)
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
