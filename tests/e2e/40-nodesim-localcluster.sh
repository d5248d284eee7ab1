#!/usr/bin/env bash
# 40-nodesim-localcluster — lahar-nodesim's scenarios (tests/e2e/40-nodesim-lib.sh) against the
# local cluster: nodes Ready with the configured capacity (and a serverless pool node sized by
# its quota); bound pods go Running, then Succeeded / Failed with the annotated exit code; a pod
# without annotation runs until deleted and is then gone; a restarted simulator adopts its
# nodes; with --exec a real process runs and its output is the pod log.
# Uses the real kubectl. Skips (77) only when the local cluster binary cannot be built.
set -u
cd "$(dirname "$0")/../.." || exit 1
BIN=${LAHAR_BIN_DIR:-build/san/bin}
KUBECTL=${KUBECTL:-/usr/bin/kubectl}
if [ ! -x "$BIN/lahar-localcluster" ] && ! make -s "$BIN/lahar-localcluster" >/dev/null 2>&1; then
  echo "SKIP: $BIN/lahar-localcluster cannot be built yet"; exit 77
fi
[ -x "$BIN/lahar-nodesim" ] || make -s "$BIN/lahar-nodesim" >/dev/null || { echo "FAIL: cannot build $BIN/lahar-nodesim"; exit 1; }
[ -x "$KUBECTL" ] || { echo "SKIP: no kubectl at $KUBECTL"; exit 77; }

. tests/e2e/40-nodesim-lib.sh
nodesim_suite local
