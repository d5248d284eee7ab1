#!/usr/bin/env bash
# 72-volcano-jobs-realkube — 65-volcano-jobs-localcluster's scenarios (tests/e2e/
# 65-volcano-jobs-lib.sh) against a real kube-apiserver 1.20.2 (hack/realkube, RBAC on,
# kube-controller-manager for namespace deletion and garbage collection) with nodes of
# lahar-nodesim (Ready, not-ready taint removed, pod deletions confirmed with grace period 0 as a
# kubelet would): Volcano's examples Running (invalid one Failed), a job to Completed, RestartJob
# with maxRetry, the controller killed and restarted mid-run, deletion.
# Uses hack/realkube/build-zerofix.sh's apiserver when it can be built (REALKUBE_PLAIN=1: the
# plain one; see there). Skips (77) only when a binary cannot be built, kubectl, the corpus or
# etcd is missing.
set -u
cd "$(dirname "$0")/../.." || exit 1
BIN=${LAHAR_BIN_DIR:-build/san/bin}
KUBECTL=${KUBECTL:-/usr/bin/kubectl}
for b in "$BIN/lahar-nodesim" "$BIN/lahar-controller"; do
  if [ ! -x "$b" ] && ! make -s "$b" >/dev/null 2>&1; then echo "SKIP: $b cannot be built"; exit 77; fi
done
[ -x "$KUBECTL" ] || { echo "SKIP: no kubectl at $KUBECTL"; exit 77; }
[ -d ../shared/corpus/volcano/example ] || { echo "SKIP: no corpus at ../shared/corpus/volcano/example"; exit 77; }
hack/realkube/build.sh apiserver >/dev/null 2>&1 || true # installs etcd-server, builds once per machine
command -v etcd >/dev/null || { echo "SKIP: no etcd"; exit 77; }

. tests/e2e/65-volcano-jobs-lib.sh
vcjobs_suite realkube --zerofix --with-controller-manager
