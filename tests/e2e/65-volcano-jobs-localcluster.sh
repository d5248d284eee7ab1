#!/usr/bin/env bash
# 65-volcano-jobs-localcluster — the Volcano Job reconciler's scenarios (tests/e2e/
# 65-volcano-jobs-lib.sh) on the local cluster with simulated nodes and the real kubectl:
#   1 Volcano's example jobs (../shared/corpus/volcano/example/, applied unchanged) reach Running
#     with a PodGroup and Volcano's pod names/labels; the webhook-invalid example goes Failed
#     (reason InvalidJob) without pods;
#   2 a job of our own with lahar.io/sim-duration runs to Completed (svc objects cleaned up);
#   3 a job whose pods fail (exit 1) with PodFailed -> RestartJob and maxRetry 2 restarts twice
#     (retryCount 2, version 2) and ends Failed;
#   4 the controller is killed (SIGKILL) mid-run and started again: no job is lost, no pod is
#     created twice (same pod UIDs), the job completes;
#   5 deleting a job removes its pods and PodGroup.
# Skips (77) only when a binary cannot be built, kubectl or the corpus is missing.
set -u
cd "$(dirname "$0")/../.." || exit 1
BIN=${LAHAR_BIN_DIR:-build/san/bin}
KUBECTL=${KUBECTL:-/usr/bin/kubectl}
for b in "$BIN/lahar-localcluster" "$BIN/lahar-nodesim" "$BIN/lahar-controller"; do
  if [ ! -x "$b" ] && ! make -s "$b" >/dev/null 2>&1; then echo "SKIP: $b cannot be built"; exit 77; fi
done
[ -x "$KUBECTL" ] || { echo "SKIP: no kubectl at $KUBECTL"; exit 77; }
[ -d ../shared/corpus/volcano/example ] || { echo "SKIP: no corpus at ../shared/corpus/volcano/example"; exit 77; }

. tests/e2e/65-volcano-jobs-lib.sh
vcjobs_suite local
