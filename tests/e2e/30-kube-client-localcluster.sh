#!/usr/bin/env bash
# 30-kube-client-localcluster.sh — controller/kube/ against the local cluster: list, watch (an
# informer sees objects created after its list), resume after a server restart (backoff, then
# re-watch/relist), bindings. Skips (77) only while build/san/bin/lahar-localcluster is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
LC=build/san/bin/lahar-localcluster
KW=build/san/bin/lahar-kubewatch
[ -x "$LC" ] || { echo "skip: $LC not built"; exit 77; }
[ -x "$KW" ] || make -s "$KW" >/dev/null
TMP=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
KC=$TMP/kubeconfig
start_lc() {
  "$LC" --listen "127.0.0.1:$PORT" --data-dir "$TMP/data" --kubeconfig-out "$KC" >>"$TMP/lc.log" 2>&1 &
  LCPID=$!; PIDS+=("$LCPID")
  for _ in $(seq 100); do
    [ -s "$KC" ] && "$KW" --kubeconfig "$KC" list namespaces >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "local cluster did not become ready"; cat "$TMP/lc.log"; exit 1
}
wait_for() { # file pattern
  for _ in $(seq 150); do grep -q "$2" "$1" && return 0; sleep 0.1; done
  echo "timeout waiting for '$2' in $1"; cat "$1"; exit 1
}
pod_json() { printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s","namespace":"default","labels":{"app":"e2e"}},"spec":{"containers":[{"name":"c","image":"busybox","resources":{"requests":{"cpu":"100m"}}}]}}' "$1" > "$TMP/$1.json"; }

start_lc
pod_json p1; "$KW" --kubeconfig "$KC" create pods "$TMP/p1.json" >/dev/null
# 1: paged list sees p1
"$KW" --kubeconfig "$KC" list pods 1 | grep -q '"p1"'
# 2: informer: list, then watch sees a new pod and its binding
for mode in auto http; do
  OUT=$TMP/inform-$mode.log
  "$KW" --kubeconfig "$KC" --mode $mode --timeout 60 inform pods >"$OUT" 2>&1 &
  IPID=$!; PIDS+=("$IPID")
  wait_for "$OUT" '^SYNCED'
  grep -q '^ADD p1' "$OUT"
  pod_json "p2-$mode"; "$KW" --kubeconfig "$KC" create pods "$TMP/p2-$mode.json" >/dev/null
  wait_for "$OUT" "^ADD p2-$mode"
  "$KW" --kubeconfig "$KC" bind "p2-$mode" node-1 >/dev/null
  wait_for "$OUT" "^UPDATE p2-$mode"
  if [ $mode = auto ]; then
    # 3: server restart: the informer backs off, comes back and sees objects created meanwhile
    kill "$LCPID"; wait "$LCPID" 2>/dev/null || true
    start_lc
    pod_json p3; "$KW" --kubeconfig "$KC" create pods "$TMP/p3.json" >/dev/null
    wait_for "$OUT" '^ADD p3'
    "$KW" --kubeconfig "$KC" delete pods p3 >/dev/null
    wait_for "$OUT" '^DELETE p3'
  fi
  kill "$IPID" 2>/dev/null || true
done
echo "ok: list, watch (ws/auto and http), bind, restart resume, delete"
