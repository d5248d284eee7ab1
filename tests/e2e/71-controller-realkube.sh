#!/usr/bin/env bash
# 71-controller-realkube — the controller suite (60-controller-gang, -fairshare, -reclaim,
# -leader) against a real kube-apiserver 1.20.2 (hack/realkube, RBAC on, with
# kube-controller-manager for namespace deletion and garbage collection) instead of the local
# cluster: each script runs unchanged with LAHAR_E2E_KUBECONFIG set, so 60-controller-lib.sh
# registers its nodes with lahar-nodesim (Ready, not-ready taint removed; nodesim confirms pod
# deletions with grace period 0 as a kubelet would) and works in a namespace of its own.
# Uses hack/realkube/build-zerofix.sh's apiserver when it can be built (1.20.2 built with Go 1.19
# rejects "" in custom resources, e.g. the PodGroup condition message lahar writes).
# CONTROLLER_TESTS="gang leader" selects scripts.
set -u
cd "$(dirname "$0")/../.."
BIN=${LAHAR_BIN_DIR:-build/san/bin}
KUBECTL=${KUBECTL:-/usr/bin/kubectl}
for b in "$BIN/lahar-controller" "$BIN/lahar-nodesim"; do
  [ -x "$b" ] || make -s "$b" >/dev/null 2>&1 || { echo "SKIP: $b cannot be built"; exit 77; }
done
[ -x "$KUBECTL" ] || { echo "SKIP: no kubectl at $KUBECTL"; exit 77; }
hack/realkube/build.sh apiserver >/dev/null 2>&1 || true # installs etcd-server, builds once per machine
command -v etcd >/dev/null || { echo "SKIP: no etcd"; exit 77; }

TMP=$(mktemp -d /tmp/lahar-e2e-ctl-rk.XXXXXX)
cleanup() {
  hack/realkube/stop.sh "$TMP/rk" >/dev/null 2>&1
  if [ -n "${KEEP_TMP:-}" ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$TMP"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }; done; exit 1; }
port_free() { python3 -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1])))' "$1" 2>/dev/null; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
etcd_port() { # a free port whose +10 and +20 are free too
  local p
  for _ in $(seq 1 50); do
    p=$(free_port)
    [ "$p" -lt 65000 ] && port_free $((p + 10)) && port_free $((p + 20)) && { echo "$p"; return; }
  done
  return 1
}

APISERVER_BIN=
if [ -z "${REALKUBE_PLAIN:-}" ]; then   # REALKUBE_PLAIN=1: hack/realkube/build.sh's apiserver as is
  APISERVER_BIN=$(hack/realkube/build-zerofix.sh 2>"$TMP/zerofix.log" | tail -n1)
  [ -x "$APISERVER_BIN" ] || { echo "note: build-zerofix failed, using the plain apiserver"; APISERVER_BIN=; }
fi
PORT=$(free_port)
EPORT=$(etcd_port) || fail "no free etcd ports"
REALKUBE_PORT=$PORT REALKUBE_ETCD_PORT=$EPORT REALKUBE_APISERVER_BIN=$APISERVER_BIN \
  hack/realkube/start.sh "$TMP/rk" --with-controller-manager > "$TMP/realkube.log" 2>&1 || fail "hack/realkube/start.sh"
"$KUBECTL" --kubeconfig "$TMP/rk/kubeconfig" version 2>/dev/null | grep -q 'Server Version: v1.20.2' || fail "not a 1.20.2 server"

pass=() failed=() skipped=()
for t in ${CONTROLLER_TESTS:-gang fairshare reclaim leader}; do
  s=tests/e2e/60-controller-$t.sh
  [ -f "$s" ] || fail "no $s"
  start=$SECONDS
  LAHAR_E2E_KUBECONFIG=$TMP/rk/kubeconfig LAHAR_BIN_DIR=$BIN bash "$s" > "$TMP/$t.out" 2>&1
  rc=$?
  case $rc in
    0) pass+=("$t"); echo "ok - 60-controller-$t on the real apiserver ($((SECONDS - start)) s): $(grep -v '^ok$' "$TMP/$t.out" | tail -n 3 | paste -sd';')" ;;
    77) skipped+=("$t"); echo "skip - 60-controller-$t: $(tail -n1 "$TMP/$t.out")" ;;
    *) failed+=("$t"); echo "not ok - 60-controller-$t (exit $rc)"; sed 's/^/    /' "$TMP/$t.out" | tail -n 60 ;;
  esac
done
# no test left pods or nodes behind that would hold capacity
"$KUBECTL" --kubeconfig "$TMP/rk/kubeconfig" get pods -A -o name 2>/dev/null | grep -q . \
  && echo "note: pods left: $("$KUBECTL" --kubeconfig "$TMP/rk/kubeconfig" get pods -A -o name 2>/dev/null | head -5 | paste -sd' ')"
echo "passed: ${pass[*]:-none}; failed: ${failed[*]:-none}; skipped: ${skipped[*]:-none}"
[ ${#failed[@]} = 0 ] || exit 1
[ ${#pass[@]} -gt 0 ] || exit 77
echo PASS
