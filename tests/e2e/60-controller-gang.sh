#!/usr/bin/env bash
# 60-controller-gang.sh — gang groups run whole or not at all; a pending group's PodGroup
# condition and Event carry the core's reason; a restarted controller binds no pod twice.
source "$(dirname "$0")/60-controller-lib.sh"
start_cluster 2 4 8Gi                       # 8 cpu in all
start_controller a
gang_group fits 3 3 2                       # 6 cpu: fits
gang_group toobig 4 4 2                     # 8 more cpu: cannot fit while "fits" runs
poll 30 bash -c "[ \$(kubectl get pods -n $NS -l group=fits -o jsonpath='{range .items[*]}{.spec.nodeName}{\"\\n\"}{end}' | grep -c .) -eq 3 ]" \
  || fail "gang 'fits' not fully bound"
[ "$(bound_count toobig)" -eq 0 ] || fail "gang 'toobig' partially bound: $(bound_count toobig)"
# why is it pending: PodGroup condition + Event
poll 30 bash -c "kubectl get podgroup toobig -n $NS -o jsonpath='{.status.conditions[0].type}' | grep -qx Unschedulable" \
  || fail "no Unschedulable condition on toobig"
msg=$(kubectl get podgroup toobig -n $NS -o jsonpath='{.status.conditions[0].message}')
[ -n "$msg" ] || fail "empty pending reason"
echo "pending reason: $msg"
poll 30 bash -c "kubectl get events -n $NS -o jsonpath='{range .items[*]}{.involvedObject.name} {.reason}{\"\\n\"}{end}' | grep -qx 'toobig Unschedulable'" \
  || fail "no Unschedulable event for toobig"
[ "$(kubectl get podgroup fits -n $NS -o jsonpath='{.status.phase}')" = Running ] || poll 10 bash -c \
  "[ \"\$(kubectl get podgroup fits -n $NS -o jsonpath='{.status.phase}')\" = Running ]" || fail "fits not Running"
# restart mid-run: more pods arrive while it is down; no pod is bound twice
kill "$CTL_PID_a"; wait "$CTL_PID_a" 2>/dev/null
gang_group later 1 1 1
kubectl delete podgroup toobig -n $NS >/dev/null; kubectl delete pods -n $NS -l group=toobig --wait=false >/dev/null
start_controller b
poll 30 bash -c "[ \$(kubectl get pods -n $NS -l group=later -o jsonpath='{range .items[*]}{.spec.nodeName}{\"\\n\"}{end}' | grep -c .) -eq 1 ]" \
  || fail "pod 'later' not bound after restart"
c=$(metric "$MPORT_b" 'lahar_bind_failures_total{reason="conflict"}')
[ "${c:-0}" = 0 ] || fail "restarted controller re-bound $c pod(s)"
b=$(metric "$MPORT_b" lahar_binds_total)
[ "$b" = 1 ] || fail "restarted controller made $b binds, want 1"
echo ok
