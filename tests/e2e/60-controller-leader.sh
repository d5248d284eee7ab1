#!/usr/bin/env bash
# 60-controller-leader.sh — two controllers with --leader-elect: only one schedules; when it is
# killed (SIGKILL: no lease release) the other takes over within the lease duration.
source "$(dirname "$0")/60-controller-lib.sh"
start_cluster 2 8 16Gi
LE=(--leader-elect --leader-elect-namespace default --leader-elect-lease-duration 4s
    --leader-elect-renew-deadline 3s --leader-elect-retry-period 500ms)
start_controller a "${LE[@]}" --leader-elect-identity ctl-a
start_controller b "${LE[@]}" --leader-elect-identity ctl-b
poll 20 bash -c "[ \$(( \$(curl -s 127.0.0.1:$MPORT_a/metrics | awk '\$1==\"lahar_leader\"{print \$2}') + \$(curl -s 127.0.0.1:$MPORT_b/metrics | awk '\$1==\"lahar_leader\"{print \$2}') )) -eq 1 ]" \
  || fail "not exactly one leader"
holder=$(kubectl get lease lahar-controller -n default -o jsonpath='{.spec.holderIdentity}')
if [ "$holder" = ctl-a ]; then L=a; F=b; else L=b; F=a; fi
echo "leader: $holder"
gang_group one 2 2 1
poll 30 bash -c "[ \$(kubectl get pods -n $NS -l group=one -o jsonpath='{range .items[*]}{.spec.nodeName}{\"\\n\"}{end}' | grep -c .) -eq 2 ]" || fail "not scheduled"
eval "lp=\$MPORT_$L fp=\$MPORT_$F lpid=\$CTL_PID_$L"
[ "$(metric "$fp" lahar_binds_total)" = 0 ] || fail "the follower bound pods"
[ "$(metric "$lp" lahar_binds_total)" = 2 ] || fail "the leader did not bind both pods"
kill -9 "$lpid"
start=$(date +%s)
poll 20 bash -c "[ \"\$(curl -s 127.0.0.1:$fp/metrics | awk '\$1==\"lahar_leader\"{print \$2}')\" = 1 ]" || fail "no takeover"
took=$(( $(date +%s) - start ))
echo "takeover after ~${took}s (lease 4s)"
gang_group two 2 2 1
poll 30 bash -c "[ \$(kubectl get pods -n $NS -l group=two -o jsonpath='{range .items[*]}{.spec.nodeName}{\"\\n\"}{end}' | grep -c .) -eq 2 ]" || fail "new leader does not schedule"
echo ok
