#!/usr/bin/env bash
# 21-localcluster-kubectl-typed — the real kubectl's typed-client and server-side-printing paths
# against lahar's local cluster (ASan build):
#   1. protobuf request bodies: kubectl create namespace/configmap/secret/serviceaccount/quota/
#      service (Content-Type application/vnd.kubernetes.protobuf), a malformed protobuf → 400,
#      an undecoded kind → 415, protobuf DeleteOptions;
#   2. Table output: kubectl get for built-ins (columns, -o wide), CRD columns from crds/
#      (vcjob STATUS/RUNNINGS, q WEIGHT), kubectl get -w (Table watch events), includeObject;
#   3. watches with selectors: synthetic ADDED / DELETED when objects start / stop matching;
#   4. WebSocket upgrade without Origin → HTTP 403 with an empty body;
#   5. legacy /api/v1/watch/namespaces/NS/pods, Orphan and Foreground propagation, CRD deletion,
#      dryRun=All, deletecollection with a label selector;
#   6. graceful deletion of bound pods, Service clusterIP allocation;
#   7. HTTPS: --tls-cert/--tls-key with a generated CA and serving cert (IP SAN 127.0.0.1).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$ROOT/build/san/bin/lahar-localcluster
command -v kubectl >/dev/null || { echo "SKIP: no kubectl"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: no jq"; exit 77; }
[ -x "$BIN" ] || { echo "FAIL: $BIN not built"; exit 1; }
T=$(mktemp -d); PID=; fails=0
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; jobs -p | xargs -r kill 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; fails=$((fails+1)); }
ok() { echo "ok: $*"; }
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
PORT=$(free_port); URL=http://127.0.0.1:$PORT
start() {
  "$BIN" --listen 127.0.0.1:$PORT --data-dir "$T/data" --kubeconfig-out "$T/kubeconfig" "$@" >>"$T/server.log" 2>&1 &
  PID=$!
  for i in $(seq 1 100); do curl -skf "$URL/readyz" >/dev/null && return 0; sleep 0.1; done
  cat "$T/server.log"; echo "FAIL: not ready"; exit 1
}
stop() { kill "$PID"; wait "$PID"; local rc=$?; PID=; return $rc; }
export KUBECONFIG=$T/kubeconfig
K() { kubectl --cache-dir "$T/cache" "$@"; }
wait_for() { for i in $(seq 1 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }
# until CMD...: bounded poll of a command
until_ok() { for i in $(seq 1 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }
J() { curl -s -H 'Content-Type: application/json' "$@"; }
MP() { curl -s -XPATCH -H 'Content-Type: application/merge-patch+json' "$@"; }

start --nodes 1

# ---- 1. protobuf request bodies (kubectl's typed clients) ----------------------------------------
K create namespace pb -v=6 >"$T/out" 2>&1 && grep -q "namespace/pb created" "$T/out" && \
  [ "$(curl -s "$URL/api/v1/namespaces/pb" | jq -r '.status.phase + " " + .spec.finalizers[0]')" = "Active kubernetes" ] \
  && ok "1.1 kubectl create namespace (protobuf)" || fail "create ns: $(cat "$T/out")"
K create configmap cm1 -n pb --from-literal=a=b --from-literal=c=d >"$T/out" 2>&1 && \
  [ "$(curl -s "$URL/api/v1/namespaces/pb/configmaps/cm1" | jq -c .data)" = '{"a":"b","c":"d"}' ] \
  && ok "1.2 kubectl create configmap" || fail "create cm: $(cat "$T/out")"
K create secret generic s1 -n pb --from-literal=user=admin >"$T/out" 2>&1 && \
  [ "$(curl -s "$URL/api/v1/namespaces/pb/secrets/s1" | jq -r '.type + " " + (.data.user | @base64d)')" = "Opaque admin" ] \
  && ok "1.3 kubectl create secret generic (bytes → base64, type defaulted)" || fail "create secret: $(cat "$T/out")"
K create serviceaccount sa1 -n pb >"$T/out" 2>&1 && curl -sf "$URL/api/v1/namespaces/pb/serviceaccounts/sa1" >/dev/null \
  && ok "1.4 kubectl create serviceaccount" || fail "create sa: $(cat "$T/out")"
K create quota q1 -n pb --hard=cpu=1,memory=1Gi,pods=3 >"$T/out" 2>&1 && \
  [ "$(curl -s "$URL/api/v1/namespaces/pb/resourcequotas/q1" | jq -c .spec.hard)" = '{"cpu":"1","memory":"1Gi","pods":"3"}' ] \
  && ok "1.5 kubectl create quota (Quantity map)" || fail "create quota: $(cat "$T/out")"
K create service clusterip web -n pb --tcp=80:8080 >"$T/out" 2>&1 && \
  [ "$(curl -s "$URL/api/v1/namespaces/pb/services/web" | jq -c '[.spec.ports[0].port, .spec.ports[0].targetPort, .spec.selector.app, .spec.type]')" = '[80,8080,"web","ClusterIP"]' ] \
  && ok "1.6 kubectl create service clusterip" || fail "create svc: $(cat "$T/out")"
printf 'k8s\0\x0a\x0d\x0a\x02v1\x12\x07Service\x12\x40\x0a' >"$T/bad.pb"
st=$(curl -s -XPOST -H 'Content-Type: application/vnd.kubernetes.protobuf' --data-binary @"$T/bad.pb" "$URL/api/v1/namespaces/pb/services")
[ "$(jq -r .code <<<"$st")" = 400 ] && grep -q protobuf <<<"$st" && ok "1.7 malformed protobuf → 400" || fail "bad pb: $st"
printf 'k8s\0\x0a\x14\x0a\x07apps/v1\x12\x09ConfigMap\x12\x00' >"$T/kind.pb"
st=$(curl -s -XPOST -H 'Content-Type: application/vnd.kubernetes.protobuf' --data-binary @"$T/kind.pb" "$URL/api/v1/namespaces/pb/configmaps")
[ "$(jq -r .code <<<"$st")" = 415 ] && ok "1.8 protobuf of an undecoded kind → 415" || fail "kind pb: $st"
# DeleteOptions{gracePeriodSeconds=0, propagationPolicy=Orphan} as protobuf
printf 'k8s\0\x0a\x1f\x0a\x0emeta.k8s.io/v1\x12\x0dDeleteOptions\x12\x0a\x08\x00\x22\x06Orphan' >"$T/del.pb"
J -XPOST "$URL/api/v1/namespaces/pb/configmaps" -d '{"metadata":{"name":"del-me"}}' >/dev/null
out=$(curl -s -XDELETE -H 'Content-Type: application/vnd.kubernetes.protobuf' --data-binary @"$T/del.pb" "$URL/api/v1/namespaces/pb/configmaps/del-me")
[ "$(jq -r '.metadata.finalizers[0]' <<<"$out")" = orphan ] && ok "1.9 protobuf DeleteOptions (Orphan)" || fail "pb delete: $out"

# ---- 2. Table output ----------------------------------------------------------------------------
K get ns pb >"$T/out" 2>&1 && grep -Eq '^NAME +STATUS +AGE' "$T/out" && grep -Eq '^pb +Active' "$T/out" \
  && ok "2.1 get ns: NAME STATUS AGE" || fail "get ns: $(cat "$T/out")"
K get cm,secret,sa,quota,svc -n pb >"$T/out" 2>&1
grep -Eq '^configmap/cm1 +2 ' "$T/out" && grep -Eq '^secret/s1 +Opaque +1 ' "$T/out" && \
  grep -Eq '^resourcequota/q1 .*cpu: 0/1, memory: 0/1Gi, pods: 0/3' "$T/out" && \
  grep -Eq '^service/web +ClusterIP +10\.96\.0\.[0-9]+ +<none> +80/TCP' "$T/out" && grep -Eq 'NAME +SECRETS +AGE' "$T/out" \
  && ok "2.2 get cm,secret,sa,quota,svc columns" || fail "get built-ins: $(cat "$T/out")"
J -XPOST "$URL/api/v1/namespaces/pb/pods" -d '{"metadata":{"name":"p1","labels":{"app":"a"}},"spec":{"containers":[{"name":"c","image":"x"},{"name":"d","image":"y"}]}}' >/dev/null
K get pods -n pb >"$T/out" 2>&1 && grep -Eq '^NAME +READY +STATUS +RESTARTS +AGE$' "$T/out" && grep -Eq '^p1 +0/2 +Pending +0 ' "$T/out" \
  && ok "2.3 get pods: NAME READY STATUS RESTARTS AGE" || fail "get pods: $(cat "$T/out")"
J -XPOST "$URL/api/v1/namespaces/pb/pods/p1/binding" -d '{"metadata":{"name":"p1"},"target":{"name":"sim-00001"}}' >/dev/null
K get pods -n pb -o wide >"$T/out" 2>&1 && grep -Eq 'IP +NODE +NOMINATED NODE +READINESS GATES' "$T/out" && grep -Eq '^p1 .* <none> +sim-00001 +<none> +<none>' "$T/out" \
  && ok "2.4 get pods -o wide: IP NODE NOMINATED NODE READINESS GATES" || fail "wide: $(cat "$T/out")"
K get nodes -o wide >"$T/out" 2>&1 && grep -Eq '^NAME +STATUS +ROLES +AGE +VERSION +INTERNAL-IP +EXTERNAL-IP +OS-IMAGE +KERNEL-VERSION +CONTAINER-RUNTIME' "$T/out" \
  && grep -Eq '^sim-0 +Ready ' "$T/out" && ok "2.5 get nodes -o wide" || fail "nodes: $(cat "$T/out")"
tb=$(curl -s -H 'Accept: application/json;as=Table;v=v1;g=meta.k8s.io' "$URL/api/v1/namespaces/pb/pods")
[ "$(jq -r '.kind + " " + .apiVersion + " " + .rows[0].object.kind' <<<"$tb")" = "Table meta.k8s.io/v1 PartialObjectMetadata" ] && \
  [ "$(jq -c '[.columnDefinitions[] | [.name, .type, .priority]][0:4]' <<<"$tb")" = '[["Name","string",0],["Ready","string",0],["Status","string",0],["Restarts","integer",0]]' ] && \
  jq -e '.metadata.resourceVersion and (.columnDefinitions[0].format == "name") and (.columnDefinitions[0].description | length > 0)' <<<"$tb" >/dev/null \
  && ok "2.6 Table shape (columnDefinitions, PartialObjectMetadata rows)" || fail "table: $tb"
[ "$(curl -s -H 'Accept: application/json;as=Table;v=v1;g=meta.k8s.io' "$URL/api/v1/namespaces/pb/pods?includeObject=Object" | jq -r '.rows[0].object.kind')" = Pod ] && \
  [ "$(curl -s -H 'Accept: application/json;as=Table;v=v1beta1;g=meta.k8s.io' "$URL/api/v1/namespaces/pb/pods/p1?includeObject=None" | jq -c '[.apiVersion, .rows[0].object]')" = '["meta.k8s.io/v1beta1",null]' ] \
  && ok "2.7 includeObject=Object/None, v1beta1, single-object Table" || fail "includeObject"
K apply -f "$ROOT/crds/" >"$T/out" 2>&1 || fail "apply crds: $(cat "$T/out")"
until_ok K get vcjob -n pb
K apply -n pb -f - >"$T/out" 2>&1 <<'Y'
apiVersion: batch.volcano.sh/v1alpha1
kind: Job
metadata: {name: j1}
spec:
  minAvailable: 1
  queue: default
  tasks: [{replicas: 1, name: t, template: {spec: {containers: [{name: c, image: x}]}}}]
---
apiVersion: scheduling.volcano.sh/v1beta1
kind: Queue
metadata: {name: q-e2e}
spec: {weight: 7}
Y
K patch vcjob j1 -n pb --subresource=status --type merge -p '{"status":{"state":{"phase":"Running"},"running":2}}' >/dev/null 2>&1
K get vcjob -n pb >"$T/out" 2>&1 && grep -Eq '^NAME +STATUS +MINAVAILABLE +RUNNINGS +AGE$' "$T/out" && grep -Eq '^j1 +Running +2 ' "$T/out" \
  && ok "2.8 kubectl get vcjob: STATUS/RUNNINGS from additionalPrinterColumns" || fail "vcjob: $(cat "$T/out")"
K get vcjob -n pb -o wide >"$T/out" 2>&1 && grep -Eq 'AGE +QUEUE$' "$T/out" && grep -Eq ' default$' "$T/out" \
  && ok "2.9 priority-1 column only with -o wide" || fail "vcjob wide: $(cat "$T/out")"
K get q q-e2e >"$T/out" 2>&1 && grep -Eq '^NAME +WEIGHT ' "$T/out" && grep -Eq '^q-e2e +7 ' "$T/out" \
  && ok "2.10 kubectl get q: WEIGHT" || fail "q: $(cat "$T/out")"
K get crd >"$T/out" 2>&1 && grep -Eq '^NAME +CREATED AT$' "$T/out" && grep -q '^queues.scheduling.volcano.sh ' "$T/out" \
  && ok "2.11 kubectl get crd: NAME CREATED AT" || fail "crd: $(cat "$T/out")"
K get pods -n pb -w >"$T/w1" 2>&1 &
WP=$!
wait_for "$T/w1" '^p1 ' || fail "get -w initial"
J -XPOST "$URL/api/v1/namespaces/pb/pods" -d '{"metadata":{"name":"p2"},"spec":{"containers":[{"name":"c","image":"x"}]}}' >/dev/null
wait_for "$T/w1" '^p2 *0/1 *Pending' && [ "$(grep -c '^NAME' "$T/w1")" = 1 ] && ok "2.12 kubectl get -w with Table watch events" || fail "get -w: $(cat "$T/w1")"
kill $WP 2>/dev/null; wait $WP 2>/dev/null
curl -s -N -H 'Accept: application/json;as=Table;v=v1;g=meta.k8s.io' "$URL/api/v1/namespaces/pb/pods?watch=1&timeoutSeconds=1" >"$T/tw"
[ "$(jq -s '[(.[0].object.columnDefinitions | length > 0), (.[1].object.columnDefinitions == null), .[0].object.kind]' -c <"$T/tw")" = '[true,true,"Table"]' ] \
  && ok "2.13 Table watch: columns on the first event only" || fail "table watch: $(head -c 600 "$T/tw")"

# ---- 3. watches with selectors ----------------------------------------------------------------
RV=$(curl -s "$URL/api/v1/namespaces/pb/configmaps" | jq -r .metadata.resourceVersion)
curl -s -N "$URL/api/v1/namespaces/pb/configmaps?watch=1&labelSelector=sel%3Dyes&timeoutSeconds=3" >"$T/sw" &
W1=$!
curl -s -N "$URL/api/v1/namespaces/pb/configmaps?watch=1&fieldSelector=metadata.name%3Dsw&resourceVersion=$RV&timeoutSeconds=3" >"$T/fw" &
W2=$!
sleep 0.3 # let both watches register (no event can be missed either way: the rv one replays)
J -XPOST "$URL/api/v1/namespaces/pb/configmaps" -d '{"metadata":{"name":"sw","labels":{"sel":"no"}}}' >/dev/null
MP "$URL/api/v1/namespaces/pb/configmaps/sw" -d '{"metadata":{"labels":{"sel":"yes"}},"data":{"v":"1"}}' >/dev/null
MP "$URL/api/v1/namespaces/pb/configmaps/sw" -d '{"data":{"v":"2"}}' >/dev/null
MP "$URL/api/v1/namespaces/pb/configmaps/sw" -d '{"metadata":{"labels":{"sel":"no"}},"data":{"v":"3"}}' >/dev/null
J -XDELETE "$URL/api/v1/namespaces/pb/configmaps/sw" >/dev/null
wait $W1 $W2
[ "$(jq -r '.type + ":" + (.object.data.v // "-")' "$T/sw" | tr '\n' ' ')" = "ADDED:1 MODIFIED:2 DELETED:2 " ] \
  && ok "3.1 label selector watch: synthetic ADDED on match, DELETED (last matching state) on unmatch" \
  || fail "selector watch: $(jq -c '[.type, .object.metadata.labels, .object.data]' "$T/sw")"
[ "$(jq -r .type "$T/fw" | tr '\n' ' ')" = "ADDED MODIFIED MODIFIED MODIFIED DELETED " ] \
  && ok "3.2 field selector watch from a resourceVersion" || fail "field watch: $(jq -c .type "$T/fw")"

# ---- 4. WebSocket without Origin → 403, empty body ---------------------------------------------
WS=(--http1.1 -s -i -N --max-time 3 -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==')
curl "${WS[@]}" "$URL/api/v1/namespaces/pb/pods?watch=1" >"$T/ws403"
head -1 "$T/ws403" | grep -q '^HTTP/1.1 403' && grep -qi '^content-length: 0' "$T/ws403" && [ "$(sed -n '/^\r$/,$p' "$T/ws403" | tail -n +2 | wc -c)" = 0 ] \
  && ok "4.1 WebSocket without Origin → 403 (empty body)" || fail "ws 403: $(cat -A "$T/ws403" | head -5)"
curl -sf "$URL/readyz" >/dev/null && ok "4.2 server fine after the refused upgrade" || fail "server after 403"

# ---- 5. legacy watch path, propagation, CRD deletion, dryRun, deletecollection ------------------
curl -s -N "$URL/api/v1/watch/namespaces/pb/pods?timeoutSeconds=1" >"$T/lw"
[ "$(jq -r '.type + " " + .object.metadata.name' "$T/lw" | sort | tr '\n' ' ')" = "ADDED p1 ADDED p2 " ] \
  && ok "5.1 legacy /api/v1/watch/namespaces/NS/pods" || fail "legacy watch: $(cat "$T/lw" | head -c 300)"
curl -s -N "$URL/api/v1/watch/namespaces/pb/pods/p2?timeoutSeconds=1" >"$T/lw2"
[ "$(jq -r .object.metadata.name "$T/lw2" | tr '\n' ' ')" = "p2 " ] && ok "5.2 legacy watch of one object" || fail "legacy one: $(cat "$T/lw2")"
# owner + dependent
mk_owned() { # NAME OWNER_UID
  J -XPOST "$URL/api/v1/namespaces/pb/configmaps" -d "{\"metadata\":{\"name\":\"$1\",\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":\"owner\",\"uid\":\"$2\",\"blockOwnerDeletion\":true}]}}" >/dev/null
}
OUID=$(J -XPOST "$URL/api/v1/namespaces/pb/configmaps" -d '{"metadata":{"name":"owner"}}' | jq -r .metadata.uid)
mk_owned dep1 "$OUID"
K delete cm owner -n pb --cascade=orphan >/dev/null 2>&1
until_ok bash -c "! curl -sf $URL/api/v1/namespaces/pb/configmaps/owner"
[ "$(curl -s "$URL/api/v1/namespaces/pb/configmaps/dep1" | jq -r '.metadata.ownerReferences | length')" = 0 ] \
  && ok "5.3 Orphan: owner gone, dependent kept without its ownerReference" || fail "orphan: $(curl -s "$URL/api/v1/namespaces/pb/configmaps/dep1")"
OUID=$(J -XPOST "$URL/api/v1/namespaces/pb/configmaps" -d '{"metadata":{"name":"owner","finalizers":["e2e/hold"]}}' | jq -r .metadata.uid)
mk_owned dep2 "$OUID"
MP "$URL/api/v1/namespaces/pb/configmaps/dep2" -d '{"metadata":{"finalizers":["e2e/hold"]}}' >/dev/null
out=$(J -XDELETE "$URL/api/v1/namespaces/pb/configmaps/owner" -d '{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Foreground"}')
jq -e '.metadata.deletionTimestamp and (.metadata.finalizers | index("foregroundDeletion"))' <<<"$out" >/dev/null \
  && ok "5.4 Foreground: owner gets deletionTimestamp + foregroundDeletion" || fail "foreground: $out"
MP "$URL/api/v1/namespaces/pb/configmaps/owner" -d '{"metadata":{"finalizers":["foregroundDeletion"]}}' >/dev/null
until_ok bash -c "curl -s $URL/api/v1/namespaces/pb/configmaps/dep2 | jq -e .metadata.deletionTimestamp"
curl -sf "$URL/api/v1/namespaces/pb/configmaps/owner" >/dev/null && ok "5.5 owner stays while its dependent exists" || fail "owner went early"
MP "$URL/api/v1/namespaces/pb/configmaps/dep2" -d '{"metadata":{"finalizers":null}}' >/dev/null
until_ok bash -c "! curl -sf $URL/api/v1/namespaces/pb/configmaps/owner" && ! curl -sf "$URL/api/v1/namespaces/pb/configmaps/dep2" >/dev/null \
  && ok "5.6 owner goes away after its dependents" || fail "foreground end: $(curl -s "$URL/api/v1/namespaces/pb/configmaps/owner")"
# dryRun=All writes nothing
RV1=$(curl -s "$URL/api/v1/namespaces/pb/configmaps" | jq -r .metadata.resourceVersion)
J -XPOST "$URL/api/v1/namespaces/pb/configmaps?dryRun=All" -d '{"metadata":{"name":"dry"}}' | jq -e '.metadata.name == "dry"' >/dev/null && \
J -XDELETE "$URL/api/v1/namespaces/pb/configmaps/cm1?dryRun=All" >/dev/null && \
MP "$URL/api/v1/namespaces/pb/configmaps/cm1?dryRun=All" -d '{"data":{"z":"1"}}' | jq -e '.data.z == "1"' >/dev/null && \
J -XDELETE "$URL/api/v1/namespaces/pb/configmaps?dryRun=All" >/dev/null
K create configmap dry2 -n pb --dry-run=server >/dev/null 2>&1
[ "$(curl -s "$URL/api/v1/namespaces/pb/configmaps" | jq -r .metadata.resourceVersion)" = "$RV1" ] && \
  ! curl -sf "$URL/api/v1/namespaces/pb/configmaps/dry" >/dev/null && [ -z "$(curl -s "$URL/api/v1/namespaces/pb/configmaps/cm1" | jq -r '.data.z // empty')" ] \
  && ok "5.7 dryRun=All create/patch/delete/deletecollection write nothing" || fail "dry run wrote"
# deletecollection with a label selector
for n in a b c; do J -XPOST "$URL/api/v1/namespaces/pb/configmaps" -d "{\"metadata\":{\"name\":\"dc-$n\",\"labels\":{\"dc\":\"$([ $n = c ] && echo keep || echo go)\"}}}" >/dev/null; done
K delete cm -n pb -l dc=go >"$T/out" 2>&1
[ "$(curl -s "$URL/api/v1/namespaces/pb/configmaps?labelSelector=dc" | jq -r '[.items[].metadata.name] | join(",")')" = dc-c ] \
  && ok "5.8 deletecollection with a label selector" || fail "deletecollection: $(cat "$T/out")"
# CRD deletion removes its custom resources and stops serving
K delete crd queues.scheduling.volcano.sh --timeout=30s >"$T/out" 2>&1
until_ok bash -c "[ \$(curl -s -o /dev/null -w '%{http_code}' $URL/apis/scheduling.volcano.sh/v1beta1/queues) = 404 ]" && \
  ! curl -s "$URL/apis/scheduling.volcano.sh/v1beta1" | jq -e '.resources[] | select(.name=="queues")' >/dev/null \
  && ok "5.9 CRD deletion: resource no longer served" || fail "crd delete: $(cat "$T/out")"
K apply -f "$ROOT/crds/scheduling.volcano.sh_queues.yaml" >/dev/null 2>&1
until_ok K get q
[ "$(K get q -o name 2>/dev/null | wc -l)" = 0 ] && ok "5.10 CRD deletion removed its custom resources" || fail "queues survived: $(K get q -o name)"

# ---- 6. graceful pod deletion, service cluster IPs ----------------------------------------------
out=$(J -XDELETE "$URL/api/v1/namespaces/pb/pods/p1")
[ "$(jq -r '.metadata.deletionGracePeriodSeconds' <<<"$out")" = 30 ] && jq -e .metadata.deletionTimestamp <<<"$out" >/dev/null && \
  curl -sf "$URL/api/v1/namespaces/pb/pods/p1" >/dev/null && K get pod p1 -n pb 2>&1 | grep -q Terminating \
  && ok "6.1 bound pod: graceful deletion (deletionGracePeriodSeconds 30, stays, Terminating)" || fail "graceful: $out"
UID1=$(jq -r .metadata.uid <<<"$out")
J -XDELETE "$URL/api/v1/namespaces/pb/pods/p1" -d "{\"gracePeriodSeconds\":0,\"preconditions\":{\"uid\":\"$UID1\"}}" >/dev/null
! curl -sf "$URL/api/v1/namespaces/pb/pods/p1" >/dev/null && ok "6.2 gracePeriodSeconds=0 (kubelet confirmation) removes it" || fail "grace 0"
J -XDELETE "$URL/api/v1/namespaces/pb/pods/p2" >/dev/null
! curl -sf "$URL/api/v1/namespaces/pb/pods/p2" >/dev/null && ok "6.3 unbound pod deleted at once" || fail "unbound pod"
IP1=$(curl -s "$URL/api/v1/namespaces/pb/services/web" | jq -r .spec.clusterIP)
out=$(J -XPOST "$URL/api/v1/namespaces/pb/services" -d '{"metadata":{"name":"web2"},"spec":{"ports":[{"port":81}]}}')
IP2=$(jq -r .spec.clusterIP <<<"$out")
[[ $IP1 == 10.96.0.* && $IP2 == 10.96.0.* && $IP1 != "$IP2" ]] && [ "$(jq -c .spec.clusterIPs <<<"$out")" = "[\"$IP2\"]" ] \
  && ok "6.4 services get distinct clusterIPs from 10.96.0.0/24" || fail "cluster ips: $IP1 $IP2"
st=$(J -XPOST "$URL/api/v1/namespaces/pb/services" -d "{\"metadata\":{\"name\":\"web3\"},\"spec\":{\"clusterIP\":\"$IP1\",\"ports\":[{\"port\":82}]}}")
[ "$(jq -r .code <<<"$st")" = 422 ] && grep -q "already allocated" <<<"$st" && ok "6.5 taken clusterIP → 422" || fail "dup ip: $st"
st=$(J -XPOST "$URL/api/v1/namespaces/pb/services" -d '{"metadata":{"name":"web4"},"spec":{"clusterIP":"192.168.9.9","ports":[{"port":82}]}}')
[ "$(jq -r .code <<<"$st")" = 422 ] && grep -q "valid range" <<<"$st" && ok "6.6 out-of-range clusterIP → 422" || fail "range: $st"
J -XPUT "$URL/api/v1/namespaces/pb/services/web2" -d '{"metadata":{"name":"web2"},"spec":{"ports":[{"port":85}]}}' >/dev/null
[ "$(curl -s "$URL/api/v1/namespaces/pb/services/web2" | jq -r .spec.clusterIP)" = "$IP2" ] && ok "6.7 update keeps the allocated clusterIP" || fail "update lost ip"

kill "$PID"; wait "$PID"; PID=
grep -q "ERROR: AddressSanitizer\|runtime error" "$T/server.log" && fail "sanitizer: $(grep -m3 -A5 Sanitizer "$T/server.log")"

# ---- 7. HTTPS with a generated CA + serving certificate ----------------------------------------
if command -v openssl >/dev/null; then
  P="$T/pki"; mkdir -p "$P"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$P/ca.key" -out "$P/ca.crt" -days 2 -subj /CN=lahar-e2e-ca >/dev/null 2>&1
  openssl req -newkey rsa:2048 -nodes -keyout "$P/srv.key" -out "$P/srv.csr" -subj /CN=lahar-localcluster >/dev/null 2>&1
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$P/ext"
  openssl x509 -req -in "$P/srv.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -days 2 -extfile "$P/ext" -out "$P/srv.crt" >/dev/null 2>&1
  cat "$P/srv.crt" "$P/ca.crt" >"$P/chain.crt"
  PORT=$(free_port); URL=https://127.0.0.1:$PORT
  rm -rf "$T/data2"
  "$BIN" --listen 127.0.0.1:$PORT --data-dir "$T/data2" --kubeconfig-out "$T/kc-tls" --tls-cert "$P/srv.crt" --tls-key "$P/srv.key" >>"$T/server.log" 2>&1 &
  PID=$!
  until_ok curl -sf --cacert "$P/ca.crt" "$URL/readyz"
  grep -q "server: https://127.0.0.1:$PORT" "$T/kc-tls" && \
    sed -i "s#certificate-authority: .*#certificate-authority: \"$P/ca.crt\"#" "$T/kc-tls" && \
    KUBECONFIG=$T/kc-tls K create namespace tls-ns >/dev/null 2>&1 && KUBECONFIG=$T/kc-tls K get ns tls-ns 2>&1 | grep -q Active \
    && ok "7.1 HTTPS: kubectl over the generated kubeconfig (CA-signed cert, IP SAN)" || fail "https kubectl: $(cat "$T/kc-tls")"
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/readyz")" = 000 ] && ok "7.2 untrusted client refused by TLS verification" || fail "tls verify"
  curl -s -N --cacert "$P/ca.crt" "$URL/api/v1/namespaces?watch=1&timeoutSeconds=1" | grep -q tls-ns && ok "7.3 watch over HTTPS" || fail "tls watch"
  kill "$PID"; wait "$PID"; PID=
else
  echo "skip: 7 (no openssl)"
fi

grep -q "ERROR: AddressSanitizer\|runtime error" "$T/server.log" && fail "sanitizer: $(grep -m3 -A5 Sanitizer "$T/server.log")"
[ $fails -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all checks passed"
