#!/usr/bin/env bash
# 50-conformance-diff — the differential conformance test (docs/conformance.md).
#
# Runs tests/conformance/steps.txt with bin/lahar-conformance against a real kube-apiserver 1.20.2
# (hack/realkube, with kube-controller-manager for namespace deletion and garbage collection) and
# against the local cluster (build/san/bin/lahar-localcluster), then compares the two normalized
# transcripts step by step. Fails on any step whose transcripts differ unless the step is listed,
# with its reason, in tests/conformance/accepted-differences.txt.
#
# The reference is the live real server when it can be started, else the recorded transcript
# tests/conformance/golden-realkube-1.20.2.txt (the output says which).
#   CONFORMANCE_REAL=auto (default) | live (fail if the real server cannot start) | golden (do not start it)
#   CONFORMANCE_RECORD_GOLDEN=1   also rewrite the golden file from the live real server
#   REALKUBE_PORT / REALKUBE_ETCD_PORT   ports for the real server (default: free ones)
#   CONFORMANCE_KEEP=1            keep the work folder (transcripts, logs) after the run
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
STEPS=tests/conformance/steps.txt
GOLDEN=tests/conformance/golden-realkube-1.20.2.txt
ACCEPTED=tests/conformance/accepted-differences.txt
NS=lahar-conformance
MODE=${CONFORMANCE_REAL:-auto}

say() { echo "50-conformance-diff: $*"; }
die() { say "FAIL: $*"; exit 1; }

WORK=$(mktemp -d /tmp/lahar-conformance.XXXXXX)
LC_PID=
REAL_DIR=
cleanup() {
  if [ -n "$LC_PID" ]; then kill "$LC_PID" 2>/dev/null; wait "$LC_PID" 2>/dev/null; fi
  if [ -n "$REAL_DIR" ]; then hack/realkube/stop.sh "$REAL_DIR" >/dev/null 2>&1; fi
  if [ "${CONFORMANCE_KEEP:-0}" = 1 ]; then say "work folder kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# A TCP port on loopback that nothing listens on (checked by connecting).
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

# --- build ---------------------------------------------------------------------------------------
make -j2 build/san/bin/lahar-conformance >"$WORK/build-harness.log" 2>&1 \
  || { cat "$WORK/build-harness.log"; die "cannot build build/san/bin/lahar-conformance"; }
HARNESS=$ROOT/build/san/bin/lahar-conformance

# --- the reference: the live real server, or the golden transcript --------------------------------
REF=$WORK/real.txt
REF_NAME=
if [ "$MODE" != golden ]; then
  REAL_DIR=$WORK/realkube
  export REALKUBE_PORT=${REALKUBE_PORT:-$(free_port)} REALKUBE_ETCD_PORT=${REALKUBE_ETCD_PORT:-$(free_port)}
  say "starting the real kube-apiserver 1.20.2 on port $REALKUBE_PORT (builds it first if needed, ~6 min)"
  if hack/realkube/start.sh "$REAL_DIR" --with-controller-manager >"$WORK/realkube-start.log" 2>&1; then
    say "running the steps against the real kube-apiserver"
    "$HARNESS" --kubeconfig "$REAL_DIR/kubeconfig" --steps "$STEPS" -D NS=$NS -o "$REF" \
      || die "the harness failed against the real server"
    hack/realkube/stop.sh "$REAL_DIR" >/dev/null 2>&1
    REF_NAME="the live real kube-apiserver 1.20.2"
    if [ "${CONFORMANCE_RECORD_GOLDEN:-0}" = 1 ]; then
      cp "$REF" "$GOLDEN" && say "recorded $GOLDEN"
    elif ! cmp -s "$REF" "$GOLDEN"; then
      say "note: the live real server's transcript differs from $GOLDEN (steps changed? re-record with CONFORMANCE_RECORD_GOLDEN=1):"
      diff -u "$GOLDEN" "$REF" | head -n 40
    fi
  else
    tail -n 20 "$WORK/realkube-start.log"
    [ "$MODE" = live ] && die "the real kube-apiserver could not be started (CONFORMANCE_REAL=live)"
    hack/realkube/stop.sh "$REAL_DIR" >/dev/null 2>&1
    REAL_DIR=
  fi
fi
if [ -z "$REF_NAME" ]; then
  [ -f "$GOLDEN" ] || die "no real server and no $GOLDEN"
  cp "$GOLDEN" "$REF"
  REF_NAME="the recorded transcript $GOLDEN (no live real server)"
fi
say "reference: $REF_NAME"

# --- the local cluster ------------------------------------------------------------------------------
make -j2 build/san/bin/lahar-localcluster >"$WORK/build-localcluster.log" 2>&1 \
  || { tail -n 30 "$WORK/build-localcluster.log"; die "cannot build build/san/bin/lahar-localcluster (the local cluster)"; }
LC_PORT=$(free_port) || die "no free port"
mkdir -p "$WORK/lc"
build/san/bin/lahar-localcluster --listen "127.0.0.1:$LC_PORT" --data-dir "$WORK/lc" \
  --kubeconfig-out "$WORK/lc.kubeconfig" >"$WORK/localcluster.log" 2>&1 &
LC_PID=$!
ready=0
for _ in $(seq 1 200); do
  kill -0 "$LC_PID" 2>/dev/null || break
  if [ -f "$WORK/lc.kubeconfig" ]; then
    server=$(sed -n 's/^ *server: *//p' "$WORK/lc.kubeconfig" | head -n1)
    ca=$(sed -n 's/^ *certificate-authority: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$WORK/lc.kubeconfig" | head -n1)
    if curl -sf ${ca:+--cacert "$ca"} "$server/readyz" >/dev/null 2>&1; then ready=1; break; fi
  fi
  sleep 0.2
done
[ $ready = 1 ] || { tail -n 30 "$WORK/localcluster.log"; die "the local cluster did not become ready on port $LC_PORT"; }
say "running the steps against the local cluster (port $LC_PORT)"
"$HARNESS" --kubeconfig "$WORK/lc.kubeconfig" --steps "$STEPS" -D NS=$NS -o "$WORK/local.txt" \
  || die "the harness failed against the local cluster"

# --- compare, step by step ------------------------------------------------------------------------
# Each transcript is split into one file per step (the block from its "== NAME" line on).
split_steps() { # transcript folder
  mkdir -p "$2"
  awk -v dir="$2" '/^== /{ if (f) close(f); f = dir "/" $2 } { print >> f }' "$1"
}
split_steps "$REF" "$WORK/ref"
split_steps "$WORK/local.txt" "$WORK/local"
accepted() { grep -E "^$1[[:space:]]*\|" "$ACCEPTED" >/dev/null 2>&1; }
fail=0; ok=0; acc=0
order=$( (grep -h '^== ' "$REF" "$WORK/local.txt" | awk '{print $2}') | awk '!seen[$0]++')
for step in $order; do
  a=$WORK/ref/$step; b=$WORK/local/$step
  [ -f "$a" ] || a=/dev/null
  [ -f "$b" ] || b=/dev/null
  if cmp -s "$a" "$b"; then
    ok=$((ok + 1))
    accepted "$step" && say "note: $step is listed in $ACCEPTED but no longer differs"
  elif accepted "$step"; then
    acc=$((acc + 1))
  else
    fail=$((fail + 1))
    echo "--- step $step differs (- reference, + local cluster):"
    diff -U1 "$a" "$b" | tail -n +3
  fi
done
say "$ok steps identical, $acc accepted differences, $fail unexpected differences (reference: $REF_NAME)"
[ $fail = 0 ] || exit 1
