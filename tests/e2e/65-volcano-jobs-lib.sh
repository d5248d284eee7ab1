#!/usr/bin/env bash
# 65-volcano-jobs-lib.sh — the Volcano Job reconciler's end-to-end scenarios, written once and
# run by 65-volcano-jobs-localcluster.sh (lahar's local cluster) and 72-volcano-jobs-realkube.sh
# (a real kube-apiserver 1.20.2 with kube-controller-manager); run directly it does nothing and
# reports "skip". Nodes come from lahar-nodesim on both servers, jobs are applied with the real
# kubectl, and one lahar-controller (restarted once) reconciles them; its log is checked at exit.
# Usage from a suite: vcjobs_suite local | vcjobs_suite realkube [server_start options].
[[ "${BASH_SOURCE[0]}" == "$0" ]] && { echo "helper library, nothing to run"; exit 77; }
# shellcheck source=tests/e2e/server-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/server-lib.sh"
NS_BIN=$BIN/lahar-nodesim
CTL=$BIN/lahar-controller
CORPUS=../shared/corpus/volcano/example
CTL_PID=

start_ctl() {
  "$CTL" --kubeconfig "$KUBECONFIG" >> "$TMP/controller.log" 2>&1 &
  CTL_PID=$!
  PIDS+=("$CTL_PID")
}
# At exit (server_lib's hook): stops the running controller with SIGTERM; fails when it exits
# non-zero, when its log (which covers every controller started) holds a sanitizer report, or
# when it wrote a PodGroup's status after the PodGroup was deleted (404 is final: a deleted
# job's PodGroup is never written again).
e2e_before_cleanup() {
  local bad=0 rc
  if [ -n "$CTL_PID" ] && kill -0 "$CTL_PID" 2>/dev/null; then
    kill -TERM "$CTL_PID"
    wait "$CTL_PID"; rc=$?
    forget_pid "$CTL_PID"
    [ "$rc" -eq 0 ] || { echo "FAIL: controller exited $rc after SIGTERM"; bad=1; }
  fi
  CTL_PID=
  if grep -q "podgroup .* status update failed: 404" "$TMP/controller.log" 2>/dev/null; then
    echo "FAIL: PodGroup status written after the PodGroup was deleted:"
    grep "status update failed: 404" "$TMP/controller.log" | head -5
    bad=1
  fi
  if grep -q -E "ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error" "$TMP/controller.log" 2>/dev/null; then
    echo "FAIL: sanitizer report in the controller log:"
    grep -A25 -E "ERROR: (Address|Leak)Sanitizer|runtime error" "$TMP/controller.log" | head -60
    bad=1
  fi
  return $bad
}

jf() { K get vcjob -n "$1" "$2" -o jsonpath="$3"; }
phase_is() { [ "$(jf "$1" "$2" '{.status.state.phase}')" = "$3" ]; }
count_pods() { K get pods -n "$1" -l "volcano.sh/job-name=$2" -o name | wc -l; }
pods_running() { [ "$(K get pods -n "$1" -l "volcano.sh/job-name=$2" -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}' | grep -c Running)" -ge "$3" ]; }
pod_uids() { K get pods -n "$1" -l "volcano.sh/job-name=$2" -o jsonpath='{range .items[*]}{.metadata.name}={.metadata.uid}{"\n"}{end}' | sort; }

# Setup: lahar's CRDs, six 16-CPU nodes of lahar-nodesim (Ready, untainted), the controller.
setup_cluster() {
  K apply -f crds/ >/dev/null || fail "apply crds"
  wait_for "jobs CRD served" K get vcjob -A
  "$NS_BIN" --kubeconfig "$KUBECONFIG" --nodes 6 --name-prefix sim- --node-cpu 16 \
    --node-memory 64Gi --node-max-pods 60 --running-delay-ms 200 > "$TMP/nodesim.log" 2>&1 &
  PIDS+=($!)
  local i
  for i in 0 1 2 3 4 5; do wait_for "node sim-$i Ready and untainted" node_ready_untainted sim-$i; done
  start_ctl
}

# Scenario 1: Volcano's example jobs (../shared/corpus/volcano/example/, applied unchanged) reach
# Running with a PodGroup, Volcano's pod names/labels/annotations and the svc/ssh/env plugins'
# objects; the mpi master (dependsOn its workers) follows them; the webhook-invalid example goes
# Failed (reason InvalidJob) without pods. Sets UID_TJ (test-job's uid, its PodGroup's suffix).
scenario_examples() {
  # applied as an object: the local cluster answers `kubectl create namespace` (protobuf) with 415
  printf "apiVersion: v1\nkind: Namespace\nmetadata: {name: vc}\n" | K apply -f - >/dev/null || fail "namespace"
  K apply -f $CORPUS/hierarchical-jobs/queues.yaml >/dev/null || fail "apply queues.yaml"
  local f j i
  for f in job.yaml hierarchical-jobs/jobs.yaml task-start-dependency/mpi.yaml \
           integrations/tensorflow/dist-mnist/tf-dist-mnist-example.yaml \
           invalid_jobs/minAvailable-webhook-deny.yaml; do
    K apply -n vc -f "$CORPUS/$f" >/dev/null || fail "kubectl apply $f"
  done
  for j in test-job eng-prod-job eng-dev-job sci-prod-job sci-dev-job lm-mpi-job tensorflow-dist-mnist; do
    wait_for "$j Running" phase_is vc $j Running
  done
  wait_for "test-job 6 pods running" pods_running vc test-job 6
  [ "$(count_pods vc test-job)" = 6 ] || fail "test-job: $(count_pods vc test-job) pods"
  for i in 0 1 2 3 4 5; do K get pod -n vc test-job-default-nginx-$i >/dev/null || fail "pod test-job-default-nginx-$i missing"; done
  UID_TJ=$(jf vc test-job '{.metadata.uid}')
  [ "$(K get pod -n vc test-job-default-nginx-0 -o jsonpath='{.metadata.annotations.scheduling\.k8s\.io/group-name}')" = "test-job-$UID_TJ" ] || fail "group-name annotation"
  [ "$(K get pod -n vc test-job-default-nginx-0 -o jsonpath='{.spec.schedulerName}')" = volcano ] || fail "schedulerName"
  K get podgroup -n vc "test-job-$UID_TJ" >/dev/null || fail "test-job PodGroup missing"
  [ "$(K get podgroup -n vc "test-job-$UID_TJ" -o jsonpath='{.spec.minMember}')" = 3 ] || fail "minMember"
  [ "$(K get podgroup -n vc "test-job-$UID_TJ" -o jsonpath='{.spec.minResources.cpu}')" = 3 ] || fail "minResources.cpu"
  K get svc -n vc test-job >/dev/null || fail "svc plugin: Service test-job missing"
  K get secret -n vc test-job-ssh >/dev/null || fail "ssh plugin: Secret test-job-ssh missing"
  [ "$(K get cm -n vc test-job-svc -o jsonpath='{.data.VC_DEFAULT_NGINX_NUM}')" = 6 ] || fail "svc ConfigMap"
  [ "$(K get pod -n vc test-job-default-nginx-3 -o jsonpath='{.spec.containers[0].env[?(@.name=="VK_TASK_INDEX")].value}')" = 3 ] || fail "env plugin"
  wait_for "test-job status.running 6" out_is 6 jf vc test-job '{.status.running}'
  wait_for "mpi master created" K get pod -n vc lm-mpi-job-mpimaster-0
  [ "$(count_pods vc lm-mpi-job)" = 11 ] || fail "lm-mpi-job: $(count_pods vc lm-mpi-job) pods"
  [ "$(count_pods vc tensorflow-dist-mnist)" = 3 ] || fail "tf: pods"
  wait_for "invalid job Failed" phase_is vc test-job-webhook-disallow Failed
  [ "$(jf vc test-job-webhook-disallow '{.status.state.reason}')" = InvalidJob ] || fail "invalid reason"
  [ "$(count_pods vc test-job-webhook-disallow)" = 0 ] || fail "invalid job has pods"
  echo "ok 1 - Volcano examples: 7 jobs Running, invalid one Failed"
}

# Scenario 2: a job of our own whose pods finish (lahar.io/sim-duration) runs to Completed with
# per-task counts, and its svc plugin's Service is cleaned up.
scenario_complete() {
  cat > "$TMP/done.yaml" <<'YAML'
apiVersion: batch.volcano.sh/v1alpha1
kind: Job
metadata: {name: done-job}
spec:
  minAvailable: 3
  plugins: {env: [], svc: []}
  tasks:
  - name: master
    replicas: 1
    template:
      metadata: {annotations: {lahar.io/sim-duration: 2s}}
      spec: {restartPolicy: Never, containers: [{name: main, image: busybox, resources: {requests: {cpu: "1"}}}]}
  - name: worker
    replicas: 2
    template:
      metadata: {annotations: {lahar.io/sim-duration: 2s}}
      spec: {restartPolicy: Never, containers: [{name: main, image: busybox, resources: {requests: {cpu: 500m}}}]}
YAML
  K apply -f "$TMP/done.yaml" >/dev/null || fail "apply done-job"
  wait_for "done-job Completed" phase_is default done-job Completed
  [ "$(jf default done-job '{.status.succeeded}')" = 3 ] || fail "done-job succeeded count"
  [ "$(jf default done-job '{.status.taskStatusCount.worker.phase.Succeeded}')" = 2 ] || fail "taskStatusCount"
  wait_for "svc cleanup" sh -c "! $KUBECTL get svc done-job >/dev/null 2>&1"
  echo "ok 2 - done-job Completed"
}

# Scenario 3: pods that fail (exit 1) with policy PodFailed -> RestartJob and maxRetry 2: two
# restarts (retryCount 2, version 2, two Restarting conditions), then Failed, never more pods
# than replicas.
scenario_restart_policy() {
  cat > "$TMP/fail.yaml" <<'YAML'
apiVersion: batch.volcano.sh/v1alpha1
kind: Job
metadata: {name: fail-job}
spec:
  minAvailable: 2
  maxRetry: 2
  policies: [{event: PodFailed, action: RestartJob}]
  tasks:
  - name: work
    replicas: 2
    template:
      metadata: {annotations: {lahar.io/sim-duration: 1s, lahar.io/sim-exit-code: "1"}}
      spec: {restartPolicy: Never, containers: [{name: main, image: busybox}]}
YAML
  K apply -f "$TMP/fail.yaml" >/dev/null || fail "apply fail-job"
  wait_for "fail-job Failed" phase_is default fail-job Failed
  [ "$(jf default fail-job '{.status.retryCount}')" = 2 ] || fail "retryCount $(jf default fail-job '{.status.retryCount}')"
  [ "$(jf default fail-job '{.status.version}')" = 2 ] || fail "version"
  [ "$(jf default fail-job '{.status.conditions[*].status}' | tr ' ' '\n' | grep -c Restarting)" = 2 ] || fail "two restarts expected: $(jf default fail-job '{.status.conditions[*].status}')"
  [ "$(count_pods default fail-job)" -le 2 ] || fail "fail-job: too many pods"
  echo "ok 3 - fail-job restarted twice then Failed"
}

# Scenario 4: the controller is killed (SIGKILL) while a job runs and started again: the job
# completes with the same pods (same UIDs: none created twice) and the jobs of scenario 1 keep
# their phase and pods.
scenario_controller_kill() {
  cat > "$TMP/long.yaml" <<'YAML'
apiVersion: batch.volcano.sh/v1alpha1
kind: Job
metadata: {name: long-job}
spec:
  minAvailable: 4
  tasks:
  - name: w
    replicas: 4
    template:
      metadata: {annotations: {lahar.io/sim-duration: 6s}}
      spec: {restartPolicy: Never, containers: [{name: main, image: busybox}]}
YAML
  K apply -f "$TMP/long.yaml" >/dev/null || fail "apply long-job"
  wait_for "long-job Running" phase_is default long-job Running
  local uids1 uids2 j
  uids1=$(pod_uids default long-job)
  [ "$(echo "$uids1" | grep -c =)" = 4 ] || fail "long-job pods before restart: $uids1"
  stop_pid "$CTL_PID" KILL; CTL_PID=
  start_ctl
  wait_for "long-job Completed after restart" phase_is default long-job Completed
  uids2=$(pod_uids default long-job)
  [ "$uids1" = "$uids2" ] || fail "pods were recreated across the restart: before [$uids1] after [$uids2]"
  for j in test-job lm-mpi-job tensorflow-dist-mnist; do phase_is vc $j Running || fail "$j lost its phase after restart"; done
  [ "$(count_pods vc test-job)" = 6 ] || fail "test-job pods after restart: $(count_pods vc test-job)"
  echo "ok 4 - controller restart: no job lost, no pod recreated"
}

# Scenario 5: deleting a job removes its pods and its PodGroup.
scenario_delete() {
  K delete vcjob -n vc test-job >/dev/null || fail "delete test-job"
  wait_for "test-job pods gone" out_is 0 count_pods vc test-job
  wait_for "test-job PodGroup gone" sh -c "! $KUBECTL get podgroup -n vc test-job-$UID_TJ >/dev/null 2>&1"
  echo "ok 5 - deleting a job removes its pods and PodGroup"
}

# vcjobs_suite SERVER [server_start options]: every scenario, in order, against SERVER (the
# later ones rely on scenario 1's jobs still running).
vcjobs_suite() {
  e2e_init "vcjobs-$1"
  server_start "$@"
  setup_cluster
  scenario_examples
  scenario_complete
  scenario_restart_policy
  scenario_controller_kill
  scenario_delete
  echo "PASS"
}
