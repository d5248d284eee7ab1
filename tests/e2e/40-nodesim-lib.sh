#!/usr/bin/env bash
# 40-nodesim-lib.sh — lahar-nodesim's end-to-end scenarios, written once and run by
# 40-nodesim-localcluster.sh (lahar's local cluster) and 41-nodesim-realkube.sh (a real
# kube-apiserver 1.20.2); run directly it does nothing and reports "skip". The scenarios only
# talk to the server through kubectl and POST pods/NAME/binding, so both servers see the same
# requests; where the servers differ on purpose (pod logs) the scenario says so.
# Usage from a suite: nodesim_suite local | nodesim_suite realkube [server_start options].
[[ "${BASH_SOURCE[0]}" == "$0" ]] && { echo "helper library, nothing to run"; exit 77; }
# shellcheck source=tests/e2e/server-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/server-lib.sh"
NS_BIN=$BIN/lahar-nodesim

# mkpod NAME NODE [ANNOTATIONS-JSON] [COMMAND-JSON]: a pod no scheduler picks up, bound to NODE.
mkpod() {
  local name=$1 node=$2 ann=${3:-'{}'} cmd=${4:-'["sleep","3600"]'}
  cat > "$TMP/$name.json" <<EOF
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"$name","namespace":"default","annotations":$ann},
 "spec":{"restartPolicy":"Never","schedulerName":"none","containers":[{"name":"main","image":"busybox","command":$cmd}]}}
EOF
  K create -f "$TMP/$name.json" >/dev/null || fail "create pod $name"
  bind_pod default "$name" "$node" || fail "bind $name"
}
phase_is() { [ "$(K get pod "$1" -o jsonpath='{.status.phase}')" = "$2" ]; }
phase_not() { [ "$(K get pod "$1" -o jsonpath='{.status.phase}')" != "$2" ]; }
exit_code() { K get pod "$1" -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode}'; }
gone() { ! K get pod "$1" -o name; }
jp() { K get node "$1" -o jsonpath="$2"; }
# expect_node NODE JSONPATH WANT: the node field has exactly that value.
expect_node() { [ "$(jp "$1" "$2")" = "$3" ] || fail "$1 $2: '$(jp "$1" "$2")', expected '$3'"; }

# Scenario 1: three nodes and a serverless pool node register Ready, without the not-ready taint,
# with the configured capacity = allocatable (cpu, memory, GPUs, pods), labels, and the pool's
# capacity taken from its quota plus its serverless label and taint.
scenario_nodes() {
  "$NS_BIN" --kubeconfig "$KUBECONFIG" --nodes 3 --name-prefix sim- --node-cpu 16 \
    --node-memory 64Gi --node-gpu 2 --node-max-pods 50 --node-labels zone=z1,rack=r7 --cluster e2e \
    --serverless-pool burst --pool-quota cpu=100,memory=400Gi,nvidia.com/gpu=8 \
    --running-delay-ms 200 > "$TMP/nodesim.log" 2>&1 &
  SIM1=$!
  PIDS+=("$SIM1")
  local n
  for n in sim-0 sim-1 sim-2 sim-pool-burst; do
    wait_for "node $n Ready, without the not-ready taint" out_is True \
      jp $n '{.status.conditions[?(@.type=="Ready")].status}{.spec.taints[?(@.key=="node.kubernetes.io/not-ready")].key}'
  done
  [ "$(K get nodes -l lahar.io/cluster=e2e -o name | wc -l)" = 4 ] || fail "expected 4 nodes labelled lahar.io/cluster=e2e"
  # capacity and allocatable: cpu, memory, GPUs, pods; then labels (one request per node)
  expect_node sim-1 '{.status.capacity.cpu} {.status.capacity.memory} {.status.capacity.nvidia\.com/gpu} {.status.capacity.pods} {.status.allocatable.cpu} {.status.allocatable.memory} {.status.allocatable.nvidia\.com/gpu} {.status.allocatable.pods} {.metadata.labels.rack} {.metadata.labels.zone} {.metadata.labels.lahar\.io/cluster}' \
    "16 64Gi 2 50 16 64Gi 2 50 r7 z1 e2e"
  # the pool: capacity from its quota, the serverless label and taint
  expect_node sim-pool-burst '{.status.capacity.cpu} {.status.capacity.memory} {.status.capacity.nvidia\.com/gpu} {.status.allocatable.cpu} {.status.allocatable.memory} {.metadata.labels.lahar\.io/serverless} {.spec.taints[0].key}' \
    "100 400Gi 8 100 400Gi true lahar.io/serverless"
  echo "ok: nodes Ready with capacity, not-ready taint removed"
}

# Scenario 2: bound pods go Running (Ready, podIP, startedAt), then Succeeded / Failed with the
# annotated exit code; a pod without annotation keeps running; a pod bound to a node nodesim does
# not own is left alone.
scenario_pod_lifecycle() {
  mkpod ok sim-0 '{"lahar.io/sim-duration":"1s"}'
  mkpod bad sim-1 '{"lahar.io/sim-duration":"500ms","lahar.io/sim-exit-code":"3"}'
  mkpod forever sim-2
  mkpod pooled sim-pool-burst '{"lahar.io/sim-duration":"1s"}'
  mkpod other-node not-ours '{"lahar.io/sim-duration":"1s"}'
  wait_for "ok Running or later" phase_not ok Pending
  wait_for "forever Running" phase_is forever Running
  [ "$(K get pod forever -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ] || fail "forever not Ready"
  [ -n "$(K get pod forever -o jsonpath='{.status.podIP}')" ] || fail "forever has no podIP"
  [ -n "$(K get pod forever -o jsonpath='{.status.containerStatuses[0].state.running.startedAt}')" ] || fail "no startedAt"
  wait_for "ok Succeeded" phase_is ok Succeeded
  [ "$(exit_code ok)" = 0 ] || fail "ok exit code $(exit_code ok)"
  wait_for "bad Failed" phase_is bad Failed
  [ "$(exit_code bad)" = 3 ] || fail "bad exit code $(exit_code bad)"
  [ "$(K get pod bad -o jsonpath='{.status.containerStatuses[0].state.terminated.reason}')" = Error ] || fail "bad reason"
  wait_for "pooled Succeeded" phase_is pooled Succeeded
  phase_is forever Running || fail "forever stopped running"
  phase_is other-node Pending || fail "a pod on a foreign node was touched"
  echo "ok: Running, Succeeded, Failed(3) per annotations"
}

# Scenario 3: a graceful delete only sets deletionTimestamp; with no kubelet, only nodesim's
# confirming delete (grace period 0) makes the pod disappear.
scenario_delete() {
  K delete pod forever --wait=false >/dev/null || fail "delete forever"
  wait_for "forever gone" gone forever
  echo "ok: deleted pod confirmed and gone"
}

# Scenario 4: a restarted simulator adopts its existing nodes instead of duplicating them.
scenario_restart() {
  stop_pid "$SIM1"
  "$NS_BIN" --kubeconfig "$KUBECONFIG" --nodes 3 --name-prefix sim- --node-cpu 16 --node-memory 64Gi \
    --running-delay-ms 200 > "$TMP/nodesim-restart.log" 2>&1 &
  local sim2=$!
  PIDS+=("$sim2")
  wait_for "restarted simulator ready" grep -q "ready: 3 nodes registered" "$TMP/nodesim-restart.log"
  [ "$(K get nodes -o name | grep -c '^node/sim-[0-9]')" = 3 ] || fail "nodes duplicated after restart"
  stop_pid "$sim2"
  echo "ok: restarted simulator adopted its nodes"
}

# Scenario 5: --exec runs the container's command as a local process: its exit code is the pod's,
# its output lands in the sandbox and, where the server takes POST pods/NAME/log (the local
# cluster's extension), in the pod log; the real apiserver has no such endpoint, so nodesim must
# say once that the output stays in the sandbox. Deleting the pod kills the process.
scenario_exec() {
  "$NS_BIN" --kubeconfig "$KUBECONFIG" --nodes 1 --name-prefix exec- --exec \
    --sandbox-dir "$TMP/sandbox" --running-delay-ms 100 > "$TMP/nodesim-exec.log" 2>&1 &
  PIDS+=($!)
  wait_for "exec-0 Ready" node_ready_untainted exec-0
  mkpod hello exec-0 '{}' '["sh","-c","echo hello; exit 3"]'
  # shellcheck disable=SC2016 # sh runs $(WHO) (not found: stderr only), the output starts with "hi"
  mkpod greet exec-0 '{}' '["sh","-c","echo hi $(WHO)"]'
  wait_for "hello Failed" phase_is hello Failed
  [ "$(exit_code hello)" = 3 ] || fail "hello exit code $(exit_code hello)"
  grep -qx hello "$TMP"/sandbox/default_hello_*/main.log || fail "no output file for hello in the sandbox"
  wait_for "greet Succeeded" phase_is greet Succeeded
  grep -q '^hi' "$TMP"/sandbox/default_greet_*/main.log || fail "no output file for greet in the sandbox"
  if [ "$E2E_SERVER" = local ]; then
    K logs hello | grep -qx hello || fail "kubectl logs hello: '$(K logs hello)'"
    K logs greet | grep -q '^hi' || fail "kubectl logs greet: '$(K logs greet)'"
  else
    grep -q "does not accept POST pods/NAME/log" "$TMP/nodesim-exec.log" || fail "no warning about the log endpoint"
  fi
  local arg=3600.$$ # unique, so pgrep finds only our process (GNU sleep takes fractions)
  mkpod sleeper exec-0 '{}' "[\"sleep\",\"$arg\"]"
  wait_for "sleeper Running" phase_is sleeper Running
  wait_for "sleep process" pgrep -fx "sleep $arg"
  K delete pod sleeper --wait=false >/dev/null || fail "delete sleeper"
  wait_for "sleeper gone" gone sleeper
  wait_for "sleep process killed" bash -c "! pgrep -fx 'sleep $arg'"
  echo "ok: --exec runs the command, exit code and output"
}

# nodesim_suite SERVER [server_start options]: every scenario, in order, against SERVER.
nodesim_suite() {
  e2e_init "nodesim-$1"
  server_start "$@"
  scenario_nodes
  scenario_pod_lifecycle
  scenario_delete
  scenario_restart
  scenario_exec
  echo "PASS"
}
