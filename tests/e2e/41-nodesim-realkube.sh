#!/usr/bin/env bash
# 41-nodesim-realkube — simulated nodes against a real kube-apiserver 1.20.2 (hack/realkube):
# nodes Ready with capacity and without the node.kubernetes.io/not-ready taint admission adds;
# bound pods Running then Succeeded / Failed with the annotated exit code; a deleted pod
# (graceful: deletionTimestamp) is confirmed with grace period 0 and disappears; --exec runs the
# command and, the log endpoint being absent here, keeps its output in the sandbox file.
# Builds the apiserver on first use (hack/realkube/build.sh: minutes on a fresh machine).
set -u
cd "$(dirname "$0")/../.."
NS_BIN=build/san/bin/lahar-nodesim
KUBECTL=${KUBECTL:-/usr/bin/kubectl}
[ -x "$NS_BIN" ] || make -s "$NS_BIN" >/dev/null || { echo "FAIL: cannot build $NS_BIN"; exit 1; }
[ -x "$KUBECTL" ] || { echo "SKIP: no kubectl at $KUBECTL"; exit 77; }

TMP=$(mktemp -d /tmp/lahar-e2e-nodesim-rk.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  hack/realkube/stop.sh "$TMP/rk" >/dev/null 2>&1
  if [ -n "${KEEP_TMP:-}" ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$TMP"/*.log "$TMP"/rk/logs/apiserver.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done; exit 1; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
WAIT_S=${WAIT_S:-90}
wait_for() {
  local what=$1; shift
  local deadline=$((SECONDS + WAIT_S))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "timed out waiting for $what"
    sleep 0.3
  done
}

REALKUBE_PORT=$(free_port) REALKUBE_ETCD_PORT=$(free_port) hack/realkube/start.sh "$TMP/rk" \
  > "$TMP/realkube.log" 2>&1 || fail "hack/realkube/start.sh"
export KUBECONFIG=$TMP/rk/kubeconfig
SERVER=$(awk '/server:/ {print $2; exit}' "$KUBECONFIG")
TOKEN=$(awk '/token:/ {print $2; exit}' "$KUBECONFIG")
CURL=(curl -sS --cacert "$TMP/rk/pki/ca.crt" -H "Authorization: Bearer $TOKEN")
K() { "$KUBECTL" --request-timeout=20s "$@" 2>/dev/null; }

"$NS_BIN" --kubeconfig "$KUBECONFIG" --nodes 2 --name-prefix rk- --node-cpu 8 --node-memory 32Gi \
  --node-gpu 1 --cluster rk --serverless-pool sl --pool-quota cpu=40,memory=160Gi \
  --running-delay-ms 200 > "$TMP/nodesim.log" 2>&1 &
PIDS+=($!)
node_ready() { [ "$(K get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]; }
no_notready_taint() { [ -z "$(K get node "$1" -o jsonpath='{.spec.taints[?(@.key=="node.kubernetes.io/not-ready")].key}')" ]; }
for n in rk-0 rk-1 rk-pool-sl; do
  wait_for "node $n Ready" node_ready $n
  wait_for "node $n without the not-ready taint" no_notready_taint $n
done
jp() { K get node "$1" -o jsonpath="$2"; }
[ "$(jp rk-0 '{.status.allocatable.cpu}')" = 8 ] || fail "rk-0 cpu"
[ "$(jp rk-0 '{.status.allocatable.memory}')" = 32Gi ] || fail "rk-0 memory: $(jp rk-0 '{.status.allocatable.memory}')"
[ "$(jp rk-0 '{.status.allocatable.nvidia\.com/gpu}')" = 1 ] || fail "rk-0 gpu"
[ "$(jp rk-pool-sl '{.status.allocatable.cpu}')" = 40 ] || fail "pool cpu"
[ "$(jp rk-0 '{.metadata.labels.lahar\.io/cluster}')" = rk ] || fail "cluster label"
echo "ok: nodes Ready, capacity, not-ready taint removed"

mkpod() {
  local name=$1 node=$2 ann=${3:-'{}'} cmd=${4:-'["sleep","3600"]'}
  cat > "$TMP/$name.json" <<EOF
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"$name","namespace":"default","annotations":$ann},
 "spec":{"restartPolicy":"Never","schedulerName":"none","containers":[{"name":"main","image":"busybox","command":$cmd}]}}
EOF
  K create -f "$TMP/$name.json" >/dev/null || fail "create pod $name"
  "${CURL[@]}" -f -X POST -H 'Content-Type: application/json' \
    -d "{\"apiVersion\":\"v1\",\"kind\":\"Binding\",\"metadata\":{\"name\":\"$name\"},\"target\":{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"name\":\"$node\"}}" \
    "$SERVER/api/v1/namespaces/default/pods/$name/binding" >/dev/null || fail "bind $name"
}
phase_is() { [ "$(K get pod "$1" -o jsonpath='{.status.phase}')" = "$2" ]; }
exit_code() { K get pod "$1" -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode}'; }
gone() { ! K get pod "$1" -o name; }

mkpod ok rk-0 '{"lahar.io/sim-duration":"1s"}'
mkpod bad rk-1 '{"lahar.io/sim-duration":"1s","lahar.io/sim-exit-code":"42"}'
mkpod forever rk-0
wait_for "forever Running" phase_is forever Running
wait_for "ok Succeeded" phase_is ok Succeeded
wait_for "bad Failed" phase_is bad Failed
[ "$(exit_code bad)" = 42 ] || fail "bad exit code $(exit_code bad)"
phase_is forever Running || fail "forever stopped"
echo "ok: Running, Succeeded, Failed(42)"
# A graceful delete only sets deletionTimestamp; with no kubelet only our grace-0 delete removes it.
K delete pod forever --wait=false >/dev/null || fail "delete forever"
wait_for "forever gone" gone forever
echo "ok: graceful deletion confirmed"

"$NS_BIN" --kubeconfig "$KUBECONFIG" --nodes 1 --name-prefix rkx- --exec --sandbox-dir "$TMP/sandbox" \
  --running-delay-ms 100 > "$TMP/nodesim-exec.log" 2>&1 &
PIDS+=($!)
wait_for "rkx-0 Ready" node_ready rkx-0
mkpod hello rkx-0 '{}' '["sh","-c","echo hello; exit 3"]'
wait_for "hello Failed" phase_is hello Failed
[ "$(exit_code hello)" = 3 ] || fail "hello exit code $(exit_code hello)"
grep -qx hello "$TMP"/sandbox/default_hello_*/main.log || fail "no output file in the sandbox"
grep -q "does not accept POST pods/NAME/log" "$TMP/nodesim-exec.log" || fail "no warning about the log endpoint"
echo "ok: --exec on a real apiserver (output kept in the sandbox)"
echo "PASS"
