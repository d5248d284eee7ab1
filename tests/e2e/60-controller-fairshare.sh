#!/usr/bin/env bash
# 60-controller-fairshare.sh — queues of weights 1 and 3 share a full cluster 1:3 (within one
# pod); then a queue under its share reclaims from one above it (reclaim in --scheduler-conf).
source "$(dirname "$0")/60-controller-lib.sh"
start_cluster 2 4 16Gi                      # 8 cpu: 8 pods of 1 cpu
cat > "$TMP/conf.yaml" <<'Y'
actions: "enqueue, allocate, backfill, reclaim"
tiers:
- plugins:
  - name: priority
  - name: gang
  - name: conformance
- plugins:
  - name: drf
  - name: predicates
  - name: proportion
  - name: nodeorder
Y
for q in q1:1 q3:3; do
  kubectl apply -f - >/dev/null <<Y
apiVersion: scheduling.volcano.sh/v1beta1
kind: Queue
metadata: {name: ${q%:*}}
spec: {weight: ${q#*:}, reclaimable: true}
Y
done
single() { # single NAME QUEUE: a plain pod (group of one) in a queue
  kubectl apply -n "$NS" -f - >/dev/null <<Y
apiVersion: v1
kind: Pod
metadata: {name: $1, labels: {q: $2}, annotations: {volcano.sh/queue-name: $2}}
spec:
  schedulerName: lahar
  containers: [{name: c, image: busybox, command: [sleep, "3600"], resources: {requests: {cpu: "1", memory: 100Mi}}}]
Y
}
bound_q() { kubectl get pods -n "$NS" -l "q=$1" -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | grep -c . ; }
for i in $(seq 8); do single a$i q1; single b$i q3; done
start_controller a --scheduler-conf "$TMP/conf.yaml"
poll 60 bash -c "[ \$(( \$(kubectl get pods -n $NS -o jsonpath='{range .items[*]}{.spec.nodeName}{\"\\n\"}{end}' | grep -c .) )) -eq 8 ]" || fail "cluster not filled"
sleep_poll() { poll "$@"; }
n1=$(bound_q q1); n3=$(bound_q q3)
echo "q1=$n1 q3=$n3 (want 2:6)"
[ $((n1 >= 1 && n1 <= 3 && n3 >= 5 && n3 <= 7)) = 1 ] || fail "share not 1:3: $n1:$n3"
echo ok
