#!/usr/bin/env bash
# 20-localcluster-kubectl — the real kubectl against lahar's local cluster (ASan build):
# apply/get/describe/delete of built-in kinds, `get -w`, the Volcano and Argo CRDs and examples
# from the shared corpus applied unchanged, custom resources (schema check, status subresource,
# 415 on strategic patch), merge/json/strategic patches, namespace deletion with its contents.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$ROOT/build/san/bin/lahar-localcluster
CORPUS=$ROOT/../shared/corpus
command -v kubectl >/dev/null || { echo "SKIP: no kubectl"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: no jq"; exit 77; }
[ -x "$BIN" ] || { echo "FAIL: $BIN not built"; exit 1; }
[ -d "$CORPUS" ] || { echo "SKIP: no corpus at $CORPUS"; exit 77; }
T=$(mktemp -d); PID=; fails=0
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; jobs -p | xargs -r kill 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; fails=$((fails+1)); }
ok() { echo "ok: $*"; }
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
PORT=$(free_port); URL=http://127.0.0.1:$PORT
"$BIN" --listen 127.0.0.1:$PORT --data-dir "$T/data" --kubeconfig-out "$T/kubeconfig" >"$T/server.log" 2>&1 &
PID=$!
for i in $(seq 1 100); do curl -sf "$URL/readyz" >/dev/null && break; sleep 0.1; done
curl -sf "$URL/readyz" >/dev/null || { cat "$T/server.log"; echo "FAIL: not ready"; exit 1; }
export KUBECONFIG=$T/kubeconfig
K() { kubectl --cache-dir "$T/cache" "$@"; }
# wait_for FILE PATTERN: bounded poll of a file
wait_for() { for i in $(seq 1 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# default namespaces
[ "$(K get ns -o name | sort | tr '\n' ' ')" = "namespace/default namespace/kube-node-lease namespace/kube-public namespace/kube-system " ] \
  && ok "default namespaces" || fail "default namespaces: $(K get ns -o name)"
K version >/dev/null 2>&1 && ok "kubectl version" || fail "kubectl version"

# built-in kinds: apply, get, describe, apply again (strategic merge), delete
cat >"$T/app.yaml" <<'Y'
apiVersion: v1
kind: Namespace
metadata: {name: e2e}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: e2e, labels: {app: demo}}
data: {k: v1}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: e2e, labels: {app: demo}}
spec:
  containers: [{name: c, image: busybox, resources: {requests: {cpu: 100m}}}]
Y
K apply -f "$T/app.yaml" >"$T/out" 2>&1 && grep -q "pod/web created" "$T/out" && ok "apply built-ins" || fail "apply: $(cat "$T/out")"
K get pod web -n e2e -o json >"$T/pod.json" 2>&1 && [ "$(jq -r .status.phase "$T/pod.json")" = Pending ] \
  && [ "$(jq -r .status.qosClass "$T/pod.json")" = Burstable ] && ok "get pod (defaults)" || fail "get pod: $(cat "$T/pod.json")"
K describe pod web -n e2e >"$T/out" 2>&1 && grep -q "Image: *busybox" "$T/out" && ok "describe pod" || fail "describe: $(cat "$T/out")"
sed -i 's/k: v1/k: v2/' "$T/app.yaml"
K apply -f "$T/app.yaml" >"$T/out" 2>&1 && [ "$(K get cm cfg -n e2e -o jsonpath='{.data.k}')" = v2 ] && ok "re-apply (strategic merge patch)" || fail "re-apply: $(cat "$T/out")"
[ "$(K get cm -n e2e -l app=demo -o name)" = "configmap/cfg" ] && ok "label selector" || fail "label selector"
[ "$(K get cm -n e2e -l 'app in (x,y)' -o name 2>&1)" = "" ] && ok "set-based selector" || fail "set-based selector"
[ "$(K get pods -n e2e --field-selector status.phase=Pending -o name)" = "pod/web" ] && ok "field selector" || fail "field selector"

# patches
K patch cm cfg -n e2e --type merge -p '{"data":{"m":"1"}}' >/dev/null && \
K patch cm cfg -n e2e --type json -p '[{"op":"add","path":"/data/j","value":"2"}]' >/dev/null && \
K patch cm cfg -n e2e --type strategic -p '{"data":{"s":"3"}}' >/dev/null && \
[ "$(K get cm cfg -n e2e -o json | jq -c '.data')" = '{"j":"2","k":"v2","m":"1","s":"3"}' ] && ok "merge/json/strategic patch" \
  || fail "patches: $(K get cm cfg -n e2e -o json | jq -c .data)"

# get -w on a built-in kind
K get cm -n e2e -w >"$T/watch1" 2>&1 &
WP=$!
wait_for "$T/watch1" cfg || fail "watch initial list"
K create -n e2e -f - >/dev/null <<'Y'
{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"watched"}}
Y
wait_for "$T/watch1" watched && ok "kubectl get -w sees a new configmap" || fail "get -w: $(cat "$T/watch1")"
kill $WP 2>/dev/null; wait $WP 2>/dev/null

# CRDs from the corpus, unchanged
for f in "$CORPUS"/volcano/config/crd/volcano/bases/*.yaml "$CORPUS"/argo/manifests/base/crds/full/*.yaml; do
  K apply -f "$f" >"$T/out" 2>&1 && ok "apply CRD $(basename "$f")" || fail "apply CRD $f: $(cat "$T/out")"
done
K get crd queues.scheduling.volcano.sh -o json | jq -e '.status.conditions[] | select(.type=="Established" and .status=="True")' >/dev/null \
  && ok "CRD Established" || fail "CRD status"
K api-resources --api-group=scheduling.volcano.sh 2>&1 | grep -q "^queues .*q,queue-v1beta1" && ok "discovery shortNames" || fail "api-resources: $(K api-resources --api-group=scheduling.volcano.sh 2>&1)"
K apply -f "$CORPUS/volcano/example/hierarchical-jobs/queues.yaml" >"$T/out" 2>&1 && [ "$(K get q -o name | wc -l)" -ge 4 ] \
  && ok "volcano queues (cluster-scoped CRs)" || fail "queues: $(cat "$T/out")"
K apply -n e2e -f "$CORPUS/volcano/example/job.yaml" >"$T/out" 2>&1 && K get vcjob -n e2e test-job >/dev/null 2>&1 \
  && ok "volcano job" || fail "vcjob: $(cat "$T/out")"
K create -n e2e -f "$CORPUS/argo/examples/hello-world.yaml" >"$T/out" 2>&1 && [ "$(K get wf -n e2e -o name | wc -l)" = 1 ] \
  && ok "argo workflow" || fail "workflow: $(cat "$T/out")"
# CR semantics
K patch vcjob test-job -n e2e --type merge -p '{"spec":{"minAvailable":"x"}}' >"$T/out" 2>&1; \
  grep -q "spec.minAvailable in body must be of type integer" "$T/out" && ok "CR schema type check (422)" || fail "schema: $(cat "$T/out")"
K patch vcjob test-job -n e2e --type strategic -p '{"spec":{"minAvailable":1}}' >"$T/out" 2>&1; \
  grep -qE "415|strategic-merge-patch\+json is not supported" "$T/out" && ok "strategic patch on CR → 415" || fail "415: $(cat "$T/out")"
G1=$(K get vcjob test-job -n e2e -o jsonpath='{.metadata.generation}')
K patch vcjob test-job -n e2e --type merge -p '{"spec":{"minAvailable":1},"status":{"state":{"phase":"X"}}}' >/dev/null
[ "$(K get vcjob test-job -n e2e -o jsonpath='{.metadata.generation}')" = $((G1+1)) ] && ok "generation bump" || fail "generation"
[ -z "$(K get vcjob test-job -n e2e -o jsonpath='{.status.state.phase}')" ] && ok "main update ignores .status" || fail "status leaked into main update"
K patch vcjob test-job -n e2e --subresource=status --type merge -p '{"status":{"state":{"phase":"Running"}}}' >/dev/null 2>&1
[ "$(K get vcjob test-job -n e2e -o jsonpath='{.status.state.phase}')" = Running ] && ok "status subresource" || fail "status subresource"
# get -w on a custom resource
K get q -w >"$T/watch2" 2>&1 &
WP=$!
wait_for "$T/watch2" root-eng-dev || fail "CR watch initial"
K apply -f - >/dev/null <<'Y'
apiVersion: scheduling.volcano.sh/v1beta1
kind: Queue
metadata: {name: watched-q}
spec: {weight: 1}
Y
wait_for "$T/watch2" watched-q && ok "kubectl get -w on custom resources" || fail "CR watch: $(cat "$T/watch2")"
kill $WP 2>/dev/null; wait $WP 2>/dev/null
K delete q watched-q >/dev/null 2>&1 && ! K get q watched-q >/dev/null 2>&1 && ok "delete CR" || fail "delete CR"

# namespace deletion removes its contents
K delete ns e2e --timeout=30s >"$T/out" 2>&1 && ! K get ns e2e >/dev/null 2>&1 && ok "namespace delete" || fail "ns delete: $(cat "$T/out")"
[ "$(curl -s "$URL/api/v1/pods" | jq '.items | length')" = 0 ] && ok "namespace contents gone" || fail "pods left after ns delete"
[ "$(curl -s "$URL/apis/batch.volcano.sh/v1alpha1/jobs" | jq '.items | length')" = 0 ] && ok "CRs in namespace gone" || fail "vcjobs left"

kill "$PID"; wait "$PID"; rc=$?; PID=
[ $rc -eq 0 ] && ok "clean shutdown on SIGTERM" || fail "server exit $rc: $(tail -5 "$T/server.log")"
grep -q "ERROR: AddressSanitizer\|runtime error" "$T/server.log" && fail "sanitizer: $(grep -m3 -A5 Sanitizer "$T/server.log")"
[ $fails -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all checks passed"
