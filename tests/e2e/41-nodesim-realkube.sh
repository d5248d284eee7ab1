#!/usr/bin/env bash
# 41-nodesim-realkube — lahar-nodesim's scenarios (tests/e2e/40-nodesim-lib.sh) against a real
# kube-apiserver 1.20.2 (hack/realkube, plain build, no controller manager: nothing but nodesim
# acts on nodes and pods): nodes Ready with capacity and without the node.kubernetes.io/not-ready
# taint admission adds; bound pods Running then Succeeded / Failed with the annotated exit code;
# a deleted pod (graceful: deletionTimestamp) is confirmed with grace period 0 and disappears; a
# restarted simulator adopts its nodes; --exec runs the command and, the log endpoint being
# absent here, keeps its output in the sandbox file.
# Builds the apiserver on first use (hack/realkube/build.sh: minutes on a fresh machine).
set -u
cd "$(dirname "$0")/../.." || exit 1
BIN=${LAHAR_BIN_DIR:-build/san/bin}
KUBECTL=${KUBECTL:-/usr/bin/kubectl}
[ -x "$BIN/lahar-nodesim" ] || make -s "$BIN/lahar-nodesim" >/dev/null || { echo "FAIL: cannot build $BIN/lahar-nodesim"; exit 1; }
[ -x "$KUBECTL" ] || { echo "SKIP: no kubectl at $KUBECTL"; exit 77; }

. tests/e2e/40-nodesim-lib.sh
nodesim_suite realkube
