#!/usr/bin/env bash
# 40-nodesim-localcluster — simulated nodes against the local cluster: nodes Ready with the
# configured capacity (and a serverless pool node sized by its quota); bound pods go Running,
# then Succeeded / Failed with the annotated exit code; a pod without annotation runs until
# deleted and is then gone; with --exec a real process runs and its output is the pod log.
# Uses the real kubectl. Skips (77) only when the local cluster binary cannot be built.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
LC=build/san/bin/lahar-localcluster
NS_BIN=build/san/bin/lahar-nodesim
KUBECTL=${KUBECTL:-/usr/bin/kubectl}

if [ ! -x "$LC" ] && ! make -s "$LC" >/dev/null 2>&1; then
  echo "SKIP: $LC cannot be built yet"; exit 77
fi
[ -x "$NS_BIN" ] || make -s "$NS_BIN" >/dev/null || { echo "FAIL: cannot build $NS_BIN"; exit 1; }
[ -x "$KUBECTL" ] || { echo "SKIP: no kubectl at $KUBECTL"; exit 77; }

TMP=$(mktemp -d /tmp/lahar-e2e-nodesim.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  if [ -n "${KEEP_TMP:-}" ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; for f in "$TMP"/*.log; do echo "--- $f"; tail -n 30 "$f"; done; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# waits until "$@" succeeds, at most $WAIT_S seconds (polling, no fixed sleeps as sync)
WAIT_S=${WAIT_S:-60}
wait_for() {
  local what=$1; shift
  local deadline=$((SECONDS + WAIT_S))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "timed out waiting for $what"
    sleep 0.2
  done
}

PORT=$(free_port)
"$LC" --listen 127.0.0.1:$PORT --data-dir "$TMP/data" --kubeconfig-out "$TMP/kubeconfig" \
  > "$TMP/localcluster.log" 2>&1 &
PIDS+=($!)
export KUBECONFIG=$TMP/kubeconfig
wait_for "kubeconfig" test -s "$TMP/kubeconfig"
SERVER=$(awk '/server:/ {print $2; exit}' "$TMP/kubeconfig")
TOKEN=$(awk '/token:/ {print $2; exit}' "$TMP/kubeconfig")
CURL=(curl -sS -k)
[ -n "$TOKEN" ] && CURL+=(-H "Authorization: Bearer $TOKEN")
wait_for "/readyz" "${CURL[@]}" -f "$SERVER/readyz"

K() { "$KUBECTL" --request-timeout=20s "$@" 2>/dev/null; }

# --- simulator 1: timers (annotations) ------------------------------------------------------
"$NS_BIN" --kubeconfig "$TMP/kubeconfig" --nodes 3 --name-prefix sim- --node-cpu 16 \
  --node-memory 64Gi --node-gpu 2 --node-max-pods 50 --node-labels zone=z1,rack=r7 --cluster e2e \
  --serverless-pool burst --pool-quota cpu=100,memory=400Gi,nvidia.com/gpu=8 \
  --running-delay-ms 200 > "$TMP/nodesim.log" 2>&1 &
SIM1=$!
PIDS+=($SIM1)

node_ready() {
  [ "$(K get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]
}
for n in sim-0 sim-1 sim-2 sim-pool-burst; do wait_for "node $n Ready" node_ready $n; done
[ "$(K get nodes -l lahar.io/cluster=e2e -o name | wc -l)" = 4 ] || fail "expected 4 nodes labelled lahar.io/cluster=e2e"
jp() { K get node "$1" -o jsonpath="$2"; }
[ "$(jp sim-1 '{.status.capacity.cpu}')" = 16 ] || fail "sim-1 cpu: $(jp sim-1 '{.status.capacity.cpu}')"
[ "$(jp sim-1 '{.status.allocatable.memory}')" = 64Gi ] || fail "sim-1 memory: $(jp sim-1 '{.status.allocatable.memory}')"
[ "$(jp sim-1 '{.status.capacity.nvidia\.com/gpu}')" = 2 ] || fail "sim-1 gpu"
[ "$(jp sim-1 '{.status.capacity.pods}')" = 50 ] || fail "sim-1 pods"
[ "$(jp sim-1 '{.metadata.labels.rack}')" = r7 ] || fail "sim-1 label rack"
[ -z "$(jp sim-1 '{.spec.taints[?(@.key=="node.kubernetes.io/not-ready")].key}')" ] || fail "not-ready taint left"
[ "$(jp sim-pool-burst '{.status.capacity.cpu}')" = 100 ] || fail "pool cpu"
[ "$(jp sim-pool-burst '{.status.capacity.memory}')" = 400Gi ] || fail "pool memory"
[ "$(jp sim-pool-burst '{.metadata.labels.lahar\.io/serverless}')" = true ] || fail "pool label"
[ "$(jp sim-pool-burst '{.spec.taints[0].key}')" = lahar.io/serverless ] || fail "pool taint"
echo "ok: nodes Ready with capacity"

# Creates pod $1 on node $2 with optional annotations (JSON object text $3) and command ($4).
mkpod() {
  local name=$1 node=$2 ann=${3:-'{}'} cmd=${4:-'["sleep","3600"]'} policy=${5:-Never}
  cat > "$TMP/$name.json" <<EOF
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"$name","namespace":"default","annotations":$ann},
 "spec":{"restartPolicy":"$policy","schedulerName":"none","containers":[{"name":"main","image":"busybox","command":$cmd}]}}
EOF
  K create -f "$TMP/$name.json" >/dev/null || fail "create pod $name"
  "${CURL[@]}" -f -X POST -H 'Content-Type: application/json' \
    -d "{\"apiVersion\":\"v1\",\"kind\":\"Binding\",\"metadata\":{\"name\":\"$name\"},\"target\":{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"name\":\"$node\"}}" \
    "$SERVER/api/v1/namespaces/default/pods/$name/binding" >/dev/null || fail "bind $name"
}
phase_is() { [ "$(K get pod "$1" -o jsonpath='{.status.phase}')" = "$2" ]; }
exit_code() { K get pod "$1" -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode}'; }
gone() { ! K get pod "$1" -o name; }

mkpod ok sim-0 '{"lahar.io/sim-duration":"1s"}'
mkpod bad sim-1 '{"lahar.io/sim-duration":"500ms","lahar.io/sim-exit-code":"3"}'
mkpod forever sim-2
mkpod pooled sim-pool-burst '{"lahar.io/sim-duration":"1s"}'
mkpod other-node not-ours '{"lahar.io/sim-duration":"1s"}'

wait_for "ok Running or later" bash -c "[ \"\$($KUBECTL get pod ok -o jsonpath='{.status.phase}' 2>/dev/null)\" != Pending ]"
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

K delete pod forever --wait=false >/dev/null || fail "delete forever"
wait_for "forever gone" gone forever
echo "ok: deleted pod confirmed and gone"

# Restart: the nodes are adopted, not duplicated.
kill "$SIM1"; wait "$SIM1" 2>/dev/null
"$NS_BIN" --kubeconfig "$TMP/kubeconfig" --nodes 3 --name-prefix sim- --node-cpu 16 --node-memory 64Gi \
  --running-delay-ms 200 > "$TMP/nodesim-restart.log" 2>&1 &
SIM2=$!
PIDS+=($SIM2)
wait_for "restarted simulator ready" grep -q "ready: 3 nodes registered" "$TMP/nodesim-restart.log"
[ "$(K get nodes -o name | grep -c '^node/sim-[0-9]')" = 3 ] || fail "nodes duplicated after restart"
kill "$SIM2"; wait "$SIM2" 2>/dev/null

# --- simulator 2: --exec -------------------------------------------------------------------
"$NS_BIN" --kubeconfig "$TMP/kubeconfig" --nodes 1 --name-prefix exec- --exec \
  --sandbox-dir "$TMP/sandbox" --running-delay-ms 100 > "$TMP/nodesim-exec.log" 2>&1 &
PIDS+=($!)
wait_for "exec-0 Ready" node_ready exec-0
mkpod hello exec-0 '{}' '["sh","-c","echo hello; exit 3"]'
mkpod greet exec-0 '{}' '["sh","-c","echo hi $(WHO)"]'
wait_for "hello Failed" phase_is hello Failed
[ "$(exit_code hello)" = 3 ] || fail "hello exit code $(exit_code hello)"
K logs hello | grep -qx hello || fail "kubectl logs hello: '$(K logs hello)'"
wait_for "greet Succeeded" phase_is greet Succeeded
K logs greet | grep -q '^hi' || fail "kubectl logs greet: '$(K logs greet)'"
SLEEP_ARG=3600.$$ # unique, so pgrep finds only our process (GNU sleep takes fractions)
mkpod sleeper exec-0 '{}' "[\"sleep\",\"$SLEEP_ARG\"]"
wait_for "sleeper Running" phase_is sleeper Running
wait_for "sleep process" pgrep -fx "sleep $SLEEP_ARG"
K delete pod sleeper --wait=false >/dev/null || fail "delete sleeper"
wait_for "sleeper gone" gone sleeper
wait_for "sleep process killed" bash -c "! pgrep -fx 'sleep $SLEEP_ARG'"
echo "ok: --exec runs the command, exit code and log"
echo "PASS"
