#!/usr/bin/env bash
# `make run`: starts lahar on this machine with no cluster at all — the local cluster (SQLite,
# with simulated dedicated nodes), a serverless pool of simulated capacity, lahar's CRDs, and the
# controller with its REST API — then waits until Ctrl-C and stops everything cleanly.
#
# env: LAHAR_PORT (6443), LAHAR_DATA (./.lahar), LAHAR_NODES (4), LAHAR_NODE_CPU (16),
#      LAHAR_NODE_MEMORY (64Gi), LAHAR_NODE_GPU (0), LAHAR_METRICS (127.0.0.1:8080),
#      LAHAR_API (127.0.0.1:8081)
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
  for ((i=${#pids[@]}-1; i>=0; i--)); do kill "${pids[i]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "lahar: stopped (state kept in $DATA)"
}
trap stop INT TERM EXIT

bin/lahar-localcluster --listen "127.0.0.1:$PORT" --data-dir "$DATA" --kubeconfig-out "$KC" \
  --nodes "${LAHAR_NODES:-4}" --node-cpu "${LAHAR_NODE_CPU:-16}" \
  --node-memory "${LAHAR_NODE_MEMORY:-64Gi}" --node-gpu "${LAHAR_NODE_GPU:-0}" \
  >> "$DATA/localcluster.log" 2>&1 &
pids+=($!)
for i in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  kill -0 "${pids[0]}" 2>/dev/null || { echo "lahar: local cluster failed; see $DATA/localcluster.log" >&2; exit 1; }
  sleep 0.1
done
kubectl --kubeconfig "$KC" apply -f crds/ >/dev/null
kubectl --kubeconfig "$KC" wait --for=condition=Established crd --all --timeout=30s >/dev/null

bin/lahar-nodesim --kubeconfig "$KC" --serverless-pool cci-pool \
  --pool-quota "cpu=${LAHAR_POOL_CPU:-64},memory=${LAHAR_POOL_MEMORY:-256Gi}" \
  >> "$DATA/nodesim.log" 2>&1 &
pids+=($!)

bin/lahar-controller --kubeconfig "$KC" --metrics-listen "${LAHAR_METRICS:-127.0.0.1:8080}" \
  --api-listen "${LAHAR_API:-127.0.0.1:8081}" >> "$DATA/controller.log" 2>&1 &
pids+=($!)
for i in $(seq 1 100); do
  curl -sf "http://${LAHAR_METRICS:-127.0.0.1:8080}/readyz" >/dev/null 2>&1 && break
  kill -0 "${pids[2]}" 2>/dev/null || { echo "lahar: controller failed; see $DATA/controller.log" >&2; exit 1; }
  sleep 0.1
done

cat <<MSG
lahar is running.
  kubeconfig:  export KUBECONFIG=$KC
  try:         kubectl apply -f ../shared/corpus/volcano/example/job.yaml && kubectl get vcjob,podgroup,pods -w
  metrics:     http://${LAHAR_METRICS:-127.0.0.1:8080}/metrics
  logs:        $DATA/*.log
Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}" || true
echo "lahar: a component exited; see $DATA/*.log" >&2
