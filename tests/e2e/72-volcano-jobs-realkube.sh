#!/usr/bin/env bash
# 72-volcano-jobs-realkube — 65-volcano-jobs-localcluster's scenarios against a real
# kube-apiserver 1.20.2 (hack/realkube, RBAC on, kube-controller-manager for namespace deletion
# and garbage collection) with nodes of lahar-nodesim (Ready, not-ready taint removed, pod
# deletions confirmed with grace period 0 as a kubelet would):
#   1 Volcano's example jobs (../shared/corpus/volcano/example/, applied unchanged) reach Running
#     with a PodGroup and Volcano's pod names/labels, svc/ssh/env plugin objects; the
#     webhook-invalid example goes Failed (reason InvalidJob) without pods;
#   2 a job with lahar.io/sim-duration runs to Completed (svc objects cleaned up);
#   3 PodFailed -> RestartJob with maxRetry 2 restarts twice and ends Failed;
#   4 the controller is killed (SIGKILL) mid-run and started again: no job lost, no pod
#     recreated, the job completes;
#   5 deleting a job removes its pods and PodGroup.
# Uses hack/realkube/build-zerofix.sh's apiserver when it can be built (REALKUBE_PLAIN=1: the
# plain one; see there). Skips (77) only when a binary cannot be built or kubectl is missing.
set -u
cd "$(dirname "$0")/../.."
BIN=${LAHAR_BIN_DIR:-build/san/bin}
NS_BIN=$BIN/lahar-nodesim
CTL=$BIN/lahar-controller
KUBECTL=${KUBECTL:-/usr/bin/kubectl}
CORPUS=../shared/corpus/volcano/example

for b in "$NS_BIN" "$CTL"; do
  if [ ! -x "$b" ] && ! make -s "$b" >/dev/null 2>&1; then echo "SKIP: $b cannot be built"; exit 77; fi
done
[ -x "$KUBECTL" ] || { echo "SKIP: no kubectl at $KUBECTL"; exit 77; }
[ -d "$CORPUS" ] || { echo "SKIP: no corpus at $CORPUS"; exit 77; }
hack/realkube/build.sh apiserver >/dev/null 2>&1 || true # installs etcd-server, builds once per machine
command -v etcd >/dev/null || { echo "SKIP: no etcd"; exit 77; }

TMP=$(mktemp -d /tmp/lahar-e2e-vcjobs-rk.XXXXXX)
PIDS=()
CTL_PID=
# check_controller: stops the running controller with SIGTERM; fails when it exits non-zero or
# its log holds a sanitizer report (the log covers every controller this script started).
check_controller() {
  local bad=0 rc
  if [ -n "$CTL_PID" ] && kill -0 "$CTL_PID" 2>/dev/null; then
    kill -TERM "$CTL_PID"
    wait "$CTL_PID"; rc=$?
    [ "$rc" -eq 0 ] || { echo "FAIL: controller exited $rc after SIGTERM"; bad=1; }
  fi
  if grep -q -E "ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error" "$TMP/controller.log" 2>/dev/null; then
    echo "FAIL: sanitizer report in the controller log:"
    grep -A25 -E "ERROR: (Address|Leak)Sanitizer|runtime error" "$TMP/controller.log" | head -60
    bad=1
  fi
  return $bad
}
cleanup() {
  local rc=$?
  if [ "$rc" -eq 0 ]; then check_controller || rc=1; fi
  [ -n "$CTL_PID" ] && kill "$CTL_PID" 2>/dev/null
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  [ -n "$CTL_PID" ] && wait "$CTL_PID" 2>/dev/null
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  hack/realkube/stop.sh "$TMP/rk" >/dev/null 2>&1
  if [ -n "${KEEP_TMP:-}" ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; for f in "$TMP"/*.log; do echo "--- $f"; grep -v kube-informer "$f" | tail -n 25; done; exit 1; }
port_free() { python3 -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1])))' "$1" 2>/dev/null; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
etcd_port() { # a free port whose +10 and +20 are free too
  local p
  for _ in $(seq 1 50); do
    p=$(free_port)
    [ "$p" -lt 65000 ] && port_free $((p + 10)) && port_free $((p + 20)) && { echo "$p"; return; }
  done
  return 1
}
WAIT_S=${WAIT_S:-120}
wait_for() {
  local what=$1; shift
  local deadline=$((SECONDS + WAIT_S))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "timed out waiting for $what"
    sleep 0.3
  done
}
out_is() { [ "$("${@:2}")" = "$1" ]; }   # out_is WANT CMD...: CMD prints exactly WANT

APISERVER_BIN=
if [ -z "${REALKUBE_PLAIN:-}" ]; then
  APISERVER_BIN=$(hack/realkube/build-zerofix.sh 2>"$TMP/zerofix.txt" | tail -n1)
  [ -x "$APISERVER_BIN" ] || { echo "note: build-zerofix failed, using the plain apiserver"; APISERVER_BIN=; }
fi
PORT=$(free_port)
EPORT=$(etcd_port) || fail "no free etcd ports"
REALKUBE_PORT=$PORT REALKUBE_ETCD_PORT=$EPORT REALKUBE_APISERVER_BIN=$APISERVER_BIN \
  hack/realkube/start.sh "$TMP/rk" --with-controller-manager > "$TMP/realkube.log" 2>&1 || fail "hack/realkube/start.sh"
export KUBECONFIG=$TMP/rk/kubeconfig
K() { "$KUBECTL" --request-timeout=20s "$@" 2>/dev/null; }

K apply -f crds/ >/dev/null || fail "apply crds"
wait_for "jobs CRD served" K get vcjob -A
"$NS_BIN" --kubeconfig "$KUBECONFIG" --nodes 6 --name-prefix sim- --node-cpu 16 \
  --node-memory 64Gi --node-max-pods 60 --running-delay-ms 200 > "$TMP/nodesim.log" 2>&1 &
PIDS+=($!)
node_ok() {
  [ "$(K get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}{.spec.taints[*].key}')" = True ]
}
for i in 0 1 2 3 4 5; do wait_for "node sim-$i Ready and untainted" node_ok sim-$i; done
start_ctl() {
  "$CTL" --kubeconfig "$KUBECONFIG" >> "$TMP/controller.log" 2>&1 &
  CTL_PID=$!
}
start_ctl

jf() { K get vcjob -n "$1" "$2" -o jsonpath="$3"; }
phase_is() { [ "$(jf "$1" "$2" '{.status.state.phase}')" = "$3" ]; }
count_pods() { K get pods -n "$1" -l "volcano.sh/job-name=$2" -o name | wc -l; }
pods_running() { [ "$(K get pods -n "$1" -l "volcano.sh/job-name=$2" -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}' | grep -c Running)" -ge "$3" ]; }

# --- 1: Volcano's examples, unchanged -------------------------------------------------------
K create namespace vc >/dev/null || fail "namespace"
K apply -f $CORPUS/hierarchical-jobs/queues.yaml >/dev/null || fail "apply queues.yaml"
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
# mpi: the master (dependsOn workers) exists once the workers run
wait_for "mpi master created" K get pod -n vc lm-mpi-job-mpimaster-0
[ "$(count_pods vc lm-mpi-job)" = 11 ] || fail "lm-mpi-job: $(count_pods vc lm-mpi-job) pods"
[ "$(count_pods vc tensorflow-dist-mnist)" = 3 ] || fail "tf: pods"
# the webhook-invalid example: Failed with the webhook's reason, no pods
wait_for "invalid job Failed" phase_is vc test-job-webhook-disallow Failed
[ "$(jf vc test-job-webhook-disallow '{.status.state.reason}')" = InvalidJob ] || fail "invalid reason"
[ "$(count_pods vc test-job-webhook-disallow)" = 0 ] || fail "invalid job has pods"
echo "ok 1 - Volcano examples: 7 jobs Running, invalid one Failed"

# --- 2: run to Completed ---------------------------------------------------------------------
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

# --- 3: PodFailed -> RestartJob, maxRetry 2 --------------------------------------------------
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

# --- 4: controller killed mid-run -------------------------------------------------------------
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
UIDS1=$(K get pods -l volcano.sh/job-name=long-job -o jsonpath='{range .items[*]}{.metadata.name}={.metadata.uid}{"\n"}{end}' | sort)
[ "$(echo "$UIDS1" | grep -c =)" = 4 ] || fail "long-job pods before restart: $UIDS1"
kill -9 "$CTL_PID"; wait "$CTL_PID" 2>/dev/null; CTL_PID=
start_ctl
wait_for "long-job Completed after restart" phase_is default long-job Completed
UIDS2=$(K get pods -l volcano.sh/job-name=long-job -o jsonpath='{range .items[*]}{.metadata.name}={.metadata.uid}{"\n"}{end}' | sort)
[ "$UIDS1" = "$UIDS2" ] || fail "pods were recreated across the restart: before [$UIDS1] after [$UIDS2]"
for j in test-job lm-mpi-job tensorflow-dist-mnist; do phase_is vc $j Running || fail "$j lost its phase after restart"; done
[ "$(count_pods vc test-job)" = 6 ] || fail "test-job pods after restart: $(count_pods vc test-job)"
echo "ok 4 - controller restart: no job lost, no pod recreated"

# --- 5: deletion ------------------------------------------------------------------------------
K delete vcjob -n vc test-job >/dev/null || fail "delete test-job"
wait_for "test-job pods gone" out_is 0 count_pods vc test-job
wait_for "test-job PodGroup gone" sh -c "! $KUBECTL get podgroup -n vc test-job-$UID_TJ >/dev/null 2>&1"
echo "ok 5 - deleting a job removes its pods and PodGroup"
echo "PASS"
