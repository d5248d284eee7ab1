#!/usr/bin/env bash
# 60-controller-reclaim.sh — a queue under its share reclaims from one above it: q1 (weight 1)
# fills the cluster alone, then q3 (weight 3) arrives and takes back its share by eviction.
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
for i in $(seq 8); do single a$i q1; done
start_controller a --scheduler-conf "$TMP/conf.yaml"
poll 60 bash -c "[ \$(kubectl get pods -n $NS -l q=q1 -o jsonpath='{range .items[*]}{.spec.nodeName}{\"\\n\"}{end}' | grep -c .) -eq 8 ]" || fail "q1 did not fill the cluster"
for i in $(seq 8); do single b$i q3; done
# the local cluster's simulated kubelet confirms deletions, so evicted q1 pods disappear
poll 90 bash -c "[ \$(kubectl get pods -n $NS -l q=q3 -o jsonpath='{range .items[*]}{.spec.nodeName}{\"\\n\"}{end}' | grep -c .) -ge 5 ]" \
  || fail "q3 did not reclaim: q1=$(bound_q q1) q3=$(bound_q q3); evictions=$(metric $MPORT_a lahar_evictions_total)"
echo "after reclaim: q1=$(bound_q q1) q3=$(bound_q q3) evictions=$(metric $MPORT_a lahar_evictions_total)"
[ "$(metric $MPORT_a lahar_evictions_total)" -ge 1 ] || fail "no evictions counted"
echo ok
