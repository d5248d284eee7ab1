#!/usr/bin/env bash
# server-lib.sh — the server half of the e2e suites that run the same scenarios twice, once on
# lahar's local cluster and once on a real kube-apiserver 1.20.2 (hack/realkube): sourced by
# tests/e2e/40-nodesim-lib.sh and 65-volcano-jobs-lib.sh (run directly it does nothing and
# reports "skip"). Owns the scratch directory, the process list and its EXIT-trap cleanup,
# polling (wait_for), failure reports, free loopback ports, and starting either server.
# After server_start the scenarios see only what both servers share: KUBECONFIG, SERVER (base
# URL), CURL (curl argv that authenticates to SERVER), K (kubectl) — plus E2E_SERVER (local or
# realkube) where a scenario asserts something only one server offers.
[[ "${BASH_SOURCE[0]}" == "$0" ]] && { echo "helper library, nothing to run"; exit 77; }
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
BIN=${LAHAR_BIN_DIR:-build/san/bin}
KUBECTL=${KUBECTL:-/usr/bin/kubectl}
PIDS=()
TMP=
E2E_SERVER=
# Ran by the EXIT trap before anything is killed, with the script's exit status as $1; a suite
# may redefine it (e.g. to stop its controller and check its log) and return non-zero to fail.
e2e_before_cleanup() { return 0; }

# e2e_init NAME: creates the scratch directory /tmp/lahar-e2e-NAME.XXXXXX and installs the trap.
e2e_init() {
  TMP=$(mktemp -d "/tmp/lahar-e2e-$1.XXXXXX")
  trap e2e_cleanup EXIT
}
e2e_cleanup() {
  local rc=$? p
  if [ "$rc" -eq 0 ]; then e2e_before_cleanup "$rc" || rc=1; fi
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  [ "$E2E_SERVER" = realkube ] && hack/realkube/stop.sh "$TMP/rk" >/dev/null 2>&1
  if [ -n "${KEEP_TMP:-}" ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
  exit "$rc"
}
# forget_pid PID: drops a process that has been waited for from PIDS, so that the cleanup never
# signals a pid the system may have reused. stop_pid PID [SIGNAL]: signals (TERM), waits, forgets.
forget_pid() {
  local p keep=()
  for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}
stop_pid() { kill -"${2:-TERM}" "$1" 2>/dev/null; wait "$1" 2>/dev/null; forget_pid "$1"; }
# fail MSG: reports, shows the end of every log (informer chatter left out), exits 1.
fail() {
  local f
  echo "FAIL: $*"
  for f in "$TMP"/*.log "$TMP"/rk/logs/apiserver.log; do
    [ -f "$f" ] && { echo "--- $f"; grep -v kube-informer "$f" | tail -n 30; }
  done
  exit 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
port_free() { python3 -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1])))' "$1" 2>/dev/null; }
etcd_port() { # a free port whose +10 and +20 (etcd's peer and metrics ports) are free too
  local p
  for _ in $(seq 1 50); do
    p=$(free_port)
    [ "$p" -lt 65000 ] && port_free $((p + 10)) && port_free $((p + 20)) && { echo "$p"; return; }
  done
  return 1
}
# wait_for WHAT CMD...: polls CMD until it succeeds; fails after WAIT_S seconds (set by
# server_start: the real apiserver and its client round trips are slower).
wait_for() {
  local what=$1; shift
  local deadline=$((SECONDS + WAIT_S))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "timed out waiting for $what"
    sleep 0.2
  done
}
out_is() { [ "$("${@:2}")" = "$1" ]; }   # out_is WANT CMD...: CMD prints exactly WANT
K() { "$KUBECTL" --request-timeout=20s "$@" 2>/dev/null; }
# node_ready_untainted NAME: Ready, and no taints at all (nodesim removes the not-ready taint the
# real apiserver's admission adds; the local cluster adds none).
node_ready_untainted() {
  [ "$(K get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}{.spec.taints[*].key}')" = True ]
}

# server_start local
# server_start realkube [--zerofix] [--with-controller-manager]
#   local: lahar-localcluster on a free port, data in $TMP/data.
#   realkube: hack/realkube/start.sh in $TMP/rk (etcd + kube-apiserver 1.20.2, RBAC on);
#     --zerofix uses hack/realkube/build-zerofix.sh's apiserver when it can be built (1.20.2 built
#     with Go 1.19 rejects "" in custom resources, e.g. the PodGroup condition message lahar
#     writes; REALKUBE_PLAIN=1 keeps the plain one); --with-controller-manager adds
#     kube-controller-manager (namespace deletion, garbage collection of owned objects).
# Exports KUBECONFIG; sets SERVER, CURL, WAIT_S (unless set by the caller); fails if not ready.
server_start() {
  E2E_SERVER=$1; shift
  local token
  case $E2E_SERVER in
  local)
    WAIT_S=${WAIT_S:-90}
    "$BIN/lahar-localcluster" --listen 127.0.0.1:"$(free_port)" --data-dir "$TMP/data" \
      --kubeconfig-out "$TMP/kubeconfig" > "$TMP/localcluster.log" 2>&1 &
    PIDS+=($!)
    export KUBECONFIG=$TMP/kubeconfig
    wait_for "kubeconfig" test -s "$KUBECONFIG"
    SERVER=$(awk '/server:/ {print $2; exit}' "$KUBECONFIG")
    token=$(awk '/token:/ {print $2; exit}' "$KUBECONFIG")
    CURL=(curl -sS -k)
    [ -n "$token" ] && CURL+=(-H "Authorization: Bearer $token")
    wait_for "/readyz" "${CURL[@]}" -f "$SERVER/readyz"
    ;;
  realkube)
    WAIT_S=${WAIT_S:-120}
    local zerofix=0 apiserver='' eport a kcm=()
    for a in "$@"; do
      case $a in
        --zerofix) zerofix=1 ;;
        --with-controller-manager) kcm=("$a") ;;
        *) fail "server_start: unknown option $a" ;;
      esac
    done
    if [ $zerofix = 1 ] && [ -z "${REALKUBE_PLAIN:-}" ]; then
      apiserver=$(hack/realkube/build-zerofix.sh 2>"$TMP/zerofix.txt" | tail -n1)
      [ -x "$apiserver" ] || { echo "note: build-zerofix failed, using the plain apiserver"; apiserver=; }
    fi
    eport=$(etcd_port) || fail "no free etcd ports"
    REALKUBE_PORT=$(free_port) REALKUBE_ETCD_PORT=$eport REALKUBE_APISERVER_BIN=$apiserver \
      hack/realkube/start.sh "$TMP/rk" "${kcm[@]}" > "$TMP/realkube.log" 2>&1 || fail "hack/realkube/start.sh"
    export KUBECONFIG=$TMP/rk/kubeconfig
    K version | grep -q 'Server Version: v1.20.2' || fail "not a 1.20.2 server: $(K version | tail -n1)"
    SERVER=$(awk '/server:/ {print $2; exit}' "$KUBECONFIG")
    token=$(awk '/token:/ {print $2; exit}' "$KUBECONFIG")
    CURL=(curl -sS --cacert "$TMP/rk/pki/ca.crt" -H "Authorization: Bearer $token")
    ;;
  *) fail "server_start: unknown server $E2E_SERVER" ;;
  esac
}

# bind_pod NS NAME NODE: binds a pod the way a scheduler does (POST pods/NAME/binding).
bind_pod() {
  "${CURL[@]}" -f -X POST -H 'Content-Type: application/json' \
    -d "{\"apiVersion\":\"v1\",\"kind\":\"Binding\",\"metadata\":{\"name\":\"$2\"},\"target\":{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"name\":\"$3\"}}" \
    "$SERVER/api/v1/namespaces/$1/pods/$2/binding" >/dev/null
}
