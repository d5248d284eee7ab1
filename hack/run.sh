#!/usr/bin/env bash
# `make run`: starts lahar on this machine with no cluster at all — the local cluster (SQLite),
# simulated nodes whose pods really go Running (and Succeeded after lahar.io/sim-duration) plus a
# serverless pool of simulated capacity (both bin/lahar-nodesim), lahar's CRDs, and the
# controller — then waits until Ctrl-C and stops everything cleanly.
#
# The nodes come from lahar-nodesim, not from the local cluster's --nodes flag: those Node objects
# have no kubelet, so pods bound to them would stay Pending forever. The serverless pool's node
# carries the taint lahar.io/serverless=true:NoSchedule, which keeps other schedulers off it;
# lahar places pods on a pool by its own policy (the pool is a serverless cluster with a quota
# in its model) and needs no toleration for it.
#
# env: LAHAR_PORT (6443), LAHAR_DATA (./.lahar), LAHAR_NODES (4), LAHAR_NODE_CPU (16),
#      LAHAR_NODE_MEMORY (64Gi), LAHAR_NODE_GPU (0), LAHAR_POOL_CPU (64), LAHAR_POOL_MEMORY
#      (256Gi), LAHAR_METRICS (127.0.0.1:8080), LAHAR_API (127.0.0.1:8081)
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${LAHAR_PORT:-6443}
DATA=${LAHAR_DATA:-$PWD/.lahar}
mkdir -p "$DATA"
KC=$DATA/kubeconfig
pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "lahar: stopping"
  for ((i=${#pids[@]}-1; i>=0; i--)); do
    kill "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true # in reverse order: the controller lets go first
  done
  echo "lahar: stopped (state kept in $DATA)"
  exit "${FAILED:-0}"
}
trap stop INT TERM EXIT

bin/lahar-localcluster --listen "127.0.0.1:$PORT" --data-dir "$DATA" --kubeconfig-out "$KC" \
  >> "$DATA/localcluster.log" 2>&1 &
pids+=($!)
for i in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  kill -0 "${pids[0]}" 2>/dev/null || { echo "lahar: local cluster failed; see $DATA/localcluster.log" >&2; FAILED=1; exit 1; }
  sleep 0.1
done
kubectl --kubeconfig "$KC" apply -f crds/ >/dev/null
kubectl --kubeconfig "$KC" wait --for=condition=Established crd --all --timeout=30s >/dev/null

bin/lahar-nodesim --kubeconfig "$KC" --nodes "${LAHAR_NODES:-4}" --node-cpu "${LAHAR_NODE_CPU:-16}" \
  --node-memory "${LAHAR_NODE_MEMORY:-64Gi}" --node-gpu "${LAHAR_NODE_GPU:-0}" --serverless-pool cci-pool \
  --pool-quota "cpu=${LAHAR_POOL_CPU:-64},memory=${LAHAR_POOL_MEMORY:-256Gi}" \
  >> "$DATA/nodesim.log" 2>&1 &
pids+=($!)

bin/lahar-controller --kubeconfig "$KC" --metrics-listen "${LAHAR_METRICS:-127.0.0.1:8080}" \
  --api-listen "${LAHAR_API:-127.0.0.1:8081}" >> "$DATA/controller.log" 2>&1 &
pids+=($!)
for i in $(seq 1 100); do
  curl -sf "http://${LAHAR_METRICS:-127.0.0.1:8080}/readyz" >/dev/null 2>&1 && break
  kill -0 "${pids[2]}" 2>/dev/null || { echo "lahar: controller failed; see $DATA/controller.log" >&2; FAILED=1; exit 1; }
  sleep 0.1
done

EXAMPLE=../shared/corpus/volcano/example/job.yaml
[ -e "$EXAMPLE" ] && EXAMPLE=$(cd "$(dirname "$EXAMPLE")" && pwd)/job.yaml
cat <<MSG
lahar is running.
  kubeconfig:  export KUBECONFIG=$KC
  try:         kubectl apply -f $EXAMPLE && kubectl get vcjob,podgroup,pods -w
  metrics:     http://${LAHAR_METRICS:-127.0.0.1:8080}/metrics
  logs:        $DATA/*.log
Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}" || true
echo "lahar: a component exited; see $DATA/*.log" >&2
FAILED=1
exit 1
