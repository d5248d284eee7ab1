#!/usr/bin/env bash
# with-localcluster.sh — runs lahar-loadtest against a fresh local cluster:
#   tests/load/with-localcluster.sh LOCALCLUSTER_BIN LOADTEST_BIN [--lc-flag F]... SUBCOMMAND [ARGS...]
# Starts LOCALCLUSTER_BIN on a free loopback port with a temporary data dir (extra server flags
# with --lc-flag, e.g. --lc-flag --bookmark-interval --lc-flag 1), waits until /readyz answers,
# runs `LOADTEST_BIN --kubeconfig KC SUBCOMMAND ARGS...`, and kills the server in an EXIT trap.
# Exit status: the load test's; 1 if the server did not come up or died during the run (its log
# is printed then).
set -euo pipefail
LC=$1 LT=$2
shift 2
LCFLAGS=()
while [ "${1:-}" = --lc-flag ]; do LCFLAGS+=("$2"); shift 2; done
[ -x "$LC" ] || { echo "with-localcluster: $LC not built" >&2; exit 1; }
[ -x "$LT" ] || { echo "with-localcluster: $LT not built" >&2; exit 1; }
TMP=$(mktemp -d)
LCPID=
cleanup() {
  if [ -n "$LCPID" ]; then kill "$LCPID" 2>/dev/null || true; wait "$LCPID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
KC=$TMP/kubeconfig
"$LC" --listen "127.0.0.1:$PORT" --data-dir "$TMP/data" --kubeconfig-out "$KC" --log-level warn \
  "${LCFLAGS[@]}" >"$TMP/lc.log" 2>&1 &
LCPID=$!
export LAHAR_LOADTEST_SERVER_PID=$LCPID
ready=0
for _ in $(seq 200); do
  if [ -s "$KC" ] && curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; then ready=1; break; fi
  kill -0 "$LCPID" 2>/dev/null || break
  sleep 0.1
done
if [ $ready != 1 ]; then echo "with-localcluster: local cluster did not become ready" >&2; cat "$TMP/lc.log" >&2; exit 1; fi
rc=0
"$LT" --kubeconfig "$KC" "$@" || rc=$?
if ! kill -0 "$LCPID" 2>/dev/null; then
  echo "with-localcluster: the local cluster died during the run; its log:" >&2
  cat "$TMP/lc.log" >&2
  exit 1
fi
if [ -s "$TMP/lc.log" ]; then
  echo "with-localcluster: local cluster log (warnings and errors):" >&2
  tail -n 20 "$TMP/lc.log" >&2
fi
exit $rc
