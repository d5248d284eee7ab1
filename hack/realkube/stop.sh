#!/usr/bin/env bash
# Stops what hack/realkube/start.sh DIR started (SIGTERM, then SIGKILL after 10 s).
set -u
D=$1
[ -f "$D/pids" ] || exit 0
pids=$(tac "$D/pids")
for p in $pids; do kill "$p" 2>/dev/null; done
for i in $(seq 1 100); do
  alive=0; for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
  [ $alive = 0 ] && break; sleep 0.1
done
for p in $pids; do kill -9 "$p" 2>/dev/null; done
rm -f "$D/pids"
