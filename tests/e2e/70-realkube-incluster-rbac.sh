#!/usr/bin/env bash
# 70-realkube-incluster-rbac — lahar-controller the way it runs in a Pod, against a real
# kube-apiserver 1.20.2 with authorization mode RBAC (hack/realkube, with kube-controller-manager):
#   1 crds/ and deploy/ are applied as admin (the Deployment object is created; nothing runs it:
#     there is no kubelet); the ServiceAccount's token Secret is filled by the token controller;
#     token + CA + namespace go into a directory laid out like
#     /var/run/secrets/kubernetes.io/serviceaccount;
#   2 bin/lahar-controller runs WITHOUT --kubeconfig, in an empty environment except
#     LAHAR_KUBE_SA_DIR and KUBERNETES_SERVICE_HOST/_PORT, with the Deployment's own args and the
#     ConfigMap's scheduler.conf; it wins the Lease in lahar-system, creates the default queue,
#     binds a gang onto nodes registered by lahar-nodesim (as admin), writes PodGroup status,
#     conditions and Events for a gang that does not fit, and runs a Volcano Job with the svc and
#     ssh plugins (Service, ConfigMap, Secret) to Completed; the apiserver's audit log proves every
#     request came from the service account and none was refused (no 401/403);
#   3 `kubectl auth can-i --as=system:serviceaccount:lahar-system:lahar-controller` over every
#     verb x every resource lahar touches and others it must not (secrets, nodes, pods/exec,
#     RBAC, CRDs, ...), cluster-wide, in a workload namespace and in lahar-system, equals exactly
#     what deploy/'s ClusterRole (+ the leader-election Role in lahar-system) grants, computed
#     from deploy/ with kubectl -o json + jq;
#   4 real requests with the service-account token for omitted verbs get 403 Forbidden (delete a
#     node, list secrets cluster-wide, pods/exec, create a ClusterRoleBinding, delete a namespace,
#     update a Job's spec), while allowed ones with the same token succeed.
# Uses hack/realkube/build-zerofix.sh's apiserver when it can be built (see there: 1.20.2 built
# with Go 1.19 rejects "" in custom resources, e.g. a PodGroup condition's empty message).
set -u
cd "$(dirname "$0")/../.."
BIN=${LAHAR_BIN_DIR:-build/san/bin}
CTL=$BIN/lahar-controller
NS_BIN=$BIN/lahar-nodesim
KUBECTL=${KUBECTL:-/usr/bin/kubectl}
for b in "$CTL" "$NS_BIN"; do
  [ -x "$b" ] || make -s "$b" >/dev/null 2>&1 || { echo "SKIP: $b cannot be built"; exit 77; }
done
[ -x "$KUBECTL" ] || { echo "SKIP: no kubectl at $KUBECTL"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: no jq"; exit 77; }
hack/realkube/build.sh apiserver >/dev/null 2>&1 || true # installs etcd-server, builds once per machine
command -v etcd >/dev/null || { echo "SKIP: no etcd"; exit 77; }

TMP=$(mktemp -d /tmp/lahar-e2e-rbac.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  hack/realkube/stop.sh "$TMP/rk" >/dev/null 2>&1
  if [ -n "${KEEP_TMP:-}" ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in "$TMP"/*.log "$TMP"/rk/logs/apiserver.log; do
    [ -f "$f" ] && { echo "--- $f"; grep -v kube-informer "$f" | tail -n 25; }
  done
  exit 1
}
port_free() { python3 -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1])))' "$1" 2>/dev/null; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
# etcd needs its port, +10 and +20
etcd_port() {
  local p
  for _ in $(seq 1 50); do
    p=$(free_port)
    [ "$p" -lt 65000 ] && port_free $((p + 10)) && port_free $((p + 20)) && { echo "$p"; return; }
  done
  return 1
}
WAIT_S=${WAIT_S:-90}
wait_for() {
  local what=$1; shift
  local deadline=$((SECONDS + WAIT_S))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "timed out waiting for $what"
    sleep 0.3
  done
}
K() { "$KUBECTL" --request-timeout=20s "$@" 2>/dev/null; }
out_is() { [ "$("${@:2}")" = "$1" ]; }   # out_is WANT CMD...: CMD prints exactly WANT
has_out() { [ -n "$("$@")" ]; }

SA_NS=lahar-system SA=lahar-controller
SA_USER=system:serviceaccount:$SA_NS:$SA
cat > "$TMP/audit-policy.yaml" <<Y
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  users: [admin, system:apiserver]   # kubectl, nodesim and kube-controller-manager run as admin
- level: Metadata
Y
APISERVER_BIN=
if [ -z "${REALKUBE_PLAIN:-}" ]; then   # REALKUBE_PLAIN=1: hack/realkube/build.sh's apiserver as is
  APISERVER_BIN=$(hack/realkube/build-zerofix.sh 2>"$TMP/zerofix.log" | tail -n1)
  [ -x "$APISERVER_BIN" ] || { echo "note: build-zerofix failed, using the plain apiserver"; APISERVER_BIN=; }
fi
PORT=${REALKUBE_PORT:-$(free_port)}
EPORT=${REALKUBE_ETCD_PORT:-$(etcd_port)} || fail "no free etcd ports"
REALKUBE_PORT=$PORT REALKUBE_ETCD_PORT=$EPORT REALKUBE_APISERVER_BIN=$APISERVER_BIN \
  REALKUBE_APISERVER_ARGS="--audit-policy-file=$TMP/audit-policy.yaml --audit-log-path=$TMP/audit.json --audit-log-format=json" \
  hack/realkube/start.sh "$TMP/rk" --with-controller-manager > "$TMP/realkube.log" 2>&1 || fail "hack/realkube/start.sh"
export KUBECONFIG=$TMP/rk/kubeconfig
SERVER=https://127.0.0.1:$PORT
CA=$TMP/rk/pki/ca.crt

# --- 1: apply as admin, the service account's token ------------------------------------------
K apply -f crds/ >/dev/null || fail "apply crds/"
for c in jobs.batch.volcano.sh podgroups.scheduling.volcano.sh queues.scheduling.volcano.sh; do
  wait_for "CRD $c Established" K wait --for=condition=Established --timeout=5s crd/$c
done
K apply -f deploy/ > "$TMP/apply-deploy.out" 2>&1 || fail "apply deploy/: $(cat "$TMP/apply-deploy.out")"
K get deployment -n $SA_NS lahar-controller >/dev/null || fail "Deployment not created"
sa_secret() { K get sa -n $SA_NS $SA -o jsonpath='{.secrets[0].name}'; }
wait_for "token Secret of the ServiceAccount" has_out sa_secret
SECRET=$(sa_secret)
tok_of() { K get secret -n $SA_NS "$SECRET" -o jsonpath='{.data.token}'; }
wait_for "token in $SECRET" has_out tok_of
SADIR=$TMP/serviceaccount
mkdir -p "$SADIR"
tok_of | base64 -d > "$SADIR/token"
K get secret -n $SA_NS "$SECRET" -o jsonpath='{.data.namespace}' | base64 -d > "$SADIR/namespace"
cp "$CA" "$SADIR/ca.crt"       # the token controller adds ca.crt only with --root-ca-file
[ "$(cat "$SADIR/namespace")" = $SA_NS ] || fail "namespace in the token Secret: $(cat "$SADIR/namespace")"
SA_TOKEN=$(cat "$SADIR/token")
SACURL=(curl -sS --cacert "$CA" -H "Authorization: Bearer $SA_TOKEN")
[ "$("${SACURL[@]}" -o /dev/null -w '%{http_code}' "$SERVER/api/v1/nodes")" = 200 ] || fail "the SA token cannot list nodes"
echo "ok 1 - crds/ and deploy/ applied, ServiceAccount token from the token controller"

# --- 2: the controller in-cluster, under its RBAC only ---------------------------------------
DEPLOY_JSON=$TMP/deploy.json
K create --dry-run=client -o json -f deploy/ > "$TMP/deploy.stream" || fail "kubectl -o json deploy/"
jq -s '{items: [.[] | if .kind == "List" then .items[] else . end]}' "$TMP/deploy.stream" > "$DEPLOY_JSON"
jq -r '.items[] | select(.kind=="ConfigMap" and .metadata.name=="lahar-scheduler-conf") | .data["scheduler.conf"]' \
  "$DEPLOY_JSON" > "$TMP/scheduler.conf"
[ -s "$TMP/scheduler.conf" ] || fail "no scheduler.conf in deploy/"
MPORT=$(free_port)
mapfile -t ARGS < <(jq -r '.items[] | select(.kind=="Deployment") | .spec.template.spec.containers[0].args[]' "$DEPLOY_JSON" \
  | sed -e "s|^--metrics-listen=.*|--metrics-listen=127.0.0.1:$MPORT|" -e "s|^--scheduler-conf=.*|--scheduler-conf=$TMP/scheduler.conf|")
[ ${#ARGS[@]} -gt 0 ] || fail "no args in the Deployment"
printf '%s\n' "${ARGS[@]}" | grep -q -- '--kubeconfig' && fail "the Deployment passes --kubeconfig"
mkdir -p "$TMP/home"
env -i PATH=/usr/bin:/bin HOME="$TMP/home" ${ASAN_OPTIONS:+ASAN_OPTIONS=$ASAN_OPTIONS} \
  LAHAR_KUBE_SA_DIR="$SADIR" KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$PORT" \
  POD_NAME=lahar-controller-0 "$CTL" "${ARGS[@]}" > "$TMP/controller.log" 2>&1 &
PIDS+=($!)
wait_for "controller /readyz" curl -sf "http://127.0.0.1:$MPORT/readyz"
wait_for "controller leads" grep -q 'became leader' "$TMP/controller.log"
[ -n "$(K get lease -n $SA_NS lahar-controller -o jsonpath='{.spec.holderIdentity}')" ] || fail "no Lease holder in $SA_NS"
wait_for "default queue" K get queue default

"$NS_BIN" --kubeconfig "$KUBECONFIG" --nodes 2 --name-prefix rb- --node-cpu 4 --node-memory 8Gi \
  --running-delay-ms 200 > "$TMP/nodesim.log" 2>&1 &
PIDS+=($!)
node_ok() {
  [ "$(K get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ] &&
  [ -z "$(K get node "$1" -o jsonpath='{.spec.taints[?(@.key=="node.kubernetes.io/not-ready")].key}')" ]
}
for n in rb-0 rb-1; do wait_for "node $n Ready and untainted" node_ok $n; done

NS=rbac-e2e
K create namespace $NS >/dev/null || fail "namespace $NS"
gang() { # NAME MIN PODS CPU [ANNOTATIONS]
  local name=$1 min=$2 pods=$3 cpu=$4 ann=${5:-}
  {
    printf 'apiVersion: scheduling.volcano.sh/v1beta1\nkind: PodGroup\nmetadata: {name: %s}\nspec: {minMember: %s, queue: default}\n' "$name" "$min"
    for ((i = 0; i < pods; i++)); do
      printf -- '---\napiVersion: v1\nkind: Pod\nmetadata: {name: %s-%s, labels: {group: %s}, annotations: {scheduling.k8s.io/group-name: %s%s}}\n' \
        "$name" "$i" "$name" "$name" "$ann"
      printf 'spec:\n  schedulerName: lahar\n  restartPolicy: Never\n  containers: [{name: c, image: busybox, resources: {requests: {cpu: "%s", memory: 100Mi}}}]\n' "$cpu"
    done
  } | K apply -n $NS -f - >/dev/null || fail "creating gang $name"
}
bound() { K get pods -n $NS -l "group=$1" -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | grep -c .; }
pg() { K get podgroup -n $NS "$1" -o jsonpath="$2"; }
gang fits 3 3 1
gang toobig 2 2 3                    # 6 more cpu on 2x4 with 3 in use: never fits
wait_for "gang fits bound (3 pods)" out_is 3 bound fits
wait_for "PodGroup fits Running" out_is Running pg fits '{.status.phase}'
[ "$(pg fits '{.status.conditions[0].type}')" = Scheduled ] || fail "fits condition: $(pg fits '{.status.conditions}')"
wait_for "PodGroup fits status.running 3" out_is 3 pg fits '{.status.running}'
wait_for "toobig Unschedulable" out_is Unschedulable pg toobig '{.status.conditions[0].type}'
[ "$(bound toobig)" = 0 ] || fail "toobig partially bound"
wait_for "Unschedulable Event for toobig" sh -c "$KUBECTL get events -n $NS -o jsonpath='{range .items[*]}{.involvedObject.name} {.reason}{\"\\n\"}{end}' | grep -qx 'toobig Unschedulable'"
gang short 1 1 1 ', lahar.io/sim-duration: 1s'
wait_for "short bound and Succeeded" out_is Succeeded K get pod -n $NS short-0 -o jsonpath='{.status.phase}'
echo "ok 2a - gang bound, PodGroup status and Events written, under the service account only"

cat > "$TMP/job.yaml" <<'YAML'
apiVersion: batch.volcano.sh/v1alpha1
kind: Job
metadata: {name: rbac-job}
spec:
  minAvailable: 2
  schedulerName: lahar
  plugins: {svc: [], ssh: [], env: []}
  tasks:
  - name: worker
    replicas: 2
    template:
      metadata: {annotations: {lahar.io/sim-duration: 3s}}
      spec: {restartPolicy: Never, containers: [{name: main, image: busybox, resources: {requests: {cpu: 500m}}}]}
YAML
K apply -n $NS -f "$TMP/job.yaml" >/dev/null || fail "apply the Volcano Job"
jphase() { K get vcjob -n $NS rbac-job -o jsonpath='{.status.state.phase}'; }
jobpods() { K get pods -n $NS -l volcano.sh/job-name=rbac-job -o name | wc -l; }
wait_for "job pods created" out_is 2 jobpods
wait_for "job Service" K get svc -n $NS rbac-job
wait_for "job ConfigMap" K get cm -n $NS rbac-job-svc
wait_for "job Secret" K get secret -n $NS rbac-job-ssh
wait_for "job Completed" out_is Completed jphase
K delete vcjob -n $NS rbac-job --wait=false >/dev/null || fail "delete job"
wait_for "job's pods gone" out_is 0 jobpods
echo "ok 2b - Volcano Job with svc/ssh plugins Completed and cleaned up"

# Stop the controller (it releases its Lease): its WebSocket watches end and reach the audit log.
kill "${PIDS[0]}"; wait "${PIDS[0]}"; rc=$?
[ $rc = 0 ] || fail "controller exit status $rc"
grep -q -E "ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error" "$TMP/controller.log" && fail "sanitizer report in the controller log"
[ -z "$(K get lease -n $SA_NS lahar-controller -o jsonpath='{.spec.holderIdentity}')" ] || fail "Lease not released"
# Every request of the run (admin's are not logged): the controller's all by the service account
# (nothing else used its token yet), none refused.
AUDIT=$TMP/audit.json
sa_did() { # VERB RESOURCE [SUBRESOURCE]: the service account made such a request and was not refused
  jq -e -s --arg u "$SA_USER" --arg v "$1" --arg r "$2" --arg s "${3:-}" \
    'any(.[]; .user.username==$u and .verb==$v and .objectRef.resource==$r and (.objectRef.subresource // "")==$s and .responseStatus.code != 401 and .responseStatus.code != 403)' \
    "$AUDIT" >/dev/null
}
wait_for "the pod watch in the audit log" sa_did watch pods
cp "$AUDIT" "$TMP/audit-run.json"
AUDIT=$TMP/audit-run.json
jq -r '.user.username' "$AUDIT" | sort -u > "$TMP/users"
[ "$(cat "$TMP/users")" = "$SA_USER" ] || fail "audit: requests by $(paste -sd, "$TMP/users")"
refused=$(jq -c 'select(.responseStatus.code==401 or .responseStatus.code==403) | [.user.username, .verb, .objectRef.resource, .objectRef.subresource, .objectRef.namespace, .objectRef.name, .responseStatus.code]' "$AUDIT" | sort -u)
[ -z "$refused" ] || fail "refused requests: $refused"
for vr in "create pods binding" "list pods" "watch pods" "list nodes" "watch nodes" "create events" \
          "patch podgroups" "create queues" "patch queues status" "get leases" "create leases" "update leases" \
          "create pods" "create podgroups" "update jobs status" "create services" "create configmaps" \
          "create secrets" "get secrets"; do
  # shellcheck disable=SC2086
  sa_did $vr || fail "audit: no '$vr' by $SA_USER"
done
grep -q ' 403 \| Forbidden' "$TMP/controller.log" && fail "the controller logged a 403"
echo "ok 2c - audit log: $(jq -s 'length' "$TMP/audit-run.json") events, all by $SA_USER, no 401/403"

# --- 3: can-i matrix == deploy/'s RBAC -------------------------------------------------------
jq '[.items[] | select(.kind=="ClusterRole" and .metadata.name=="lahar-controller") | .rules[]]' "$DEPLOY_JSON" > "$TMP/cr-rules.json"
jq '[.items[] | select(.kind=="Role" and .metadata.namespace=="'$SA_NS'") | .rules[]]' "$DEPLOY_JSON" > "$TMP/role-rules.json"
[ "$(jq length "$TMP/cr-rules.json")" -gt 0 ] || fail "no ClusterRole rules in deploy/"
# what the server holds is what deploy/ says
K get clusterrole lahar-controller -o json | jq '.rules' | jq -S . > "$TMP/cr-server.json"
jq -S . "$TMP/cr-rules.json" | diff - "$TMP/cr-server.json" >/dev/null || fail "server ClusterRole differs from deploy/"
# bindings that name the service account: exactly deploy/'s two
K get clusterrolebindings,rolebindings -A -o json | jq -r --arg n $SA --arg ns $SA_NS \
  '.items[] | select(any(.subjects[]?; .kind=="ServiceAccount" and .name==$n and .namespace==$ns)) | "\(.kind) \(.metadata.name) \(.roleRef.name)"' \
  | sort > "$TMP/bindings"
printf 'ClusterRoleBinding lahar-controller lahar-controller\nRoleBinding lahar-controller-leader-election lahar-controller-leader-election\n' \
  | diff - "$TMP/bindings" >/dev/null || fail "bindings naming the SA: $(cat "$TMP/bindings")"

VERBS="get list watch create update patch delete deletecollection"
# group resource[/subresource]: what lahar touches, then what it must not
RES=(
  "'' pods" "'' pods/binding" "'' pods/status" "'' pods/exec" "'' pods/log" "'' pods/eviction" "'' pods/attach"
  "'' nodes" "'' nodes/status" "'' nodes/proxy" "'' events" "'' services" "'' configmaps" "'' secrets"
  "'' namespaces" "'' serviceaccounts" "'' serviceaccounts/token" "'' persistentvolumeclaims" "'' endpoints"
  "scheduling.volcano.sh queues" "scheduling.volcano.sh queues/status" "scheduling.volcano.sh podgroups"
  "scheduling.volcano.sh podgroups/status" "batch.volcano.sh jobs" "batch.volcano.sh jobs/status"
  "coordination.k8s.io leases" "events.k8s.io events" "apps deployments" "batch jobs"
  "rbac.authorization.k8s.io clusterroles" "rbac.authorization.k8s.io clusterrolebindings"
  "rbac.authorization.k8s.io roles" "rbac.authorization.k8s.io rolebindings"
  "apiextensions.k8s.io customresourcedefinitions" "certificates.k8s.io certificatesigningrequests"
)
# scope: "*" = cluster-wide (all namespaces; the same answers as any other namespace but
# lahar-system, where the leader-election Role adds leases), or lahar-system
SCOPES=("*" "$SA_NS")
: > "$TMP/cases"
for r in "${RES[@]}"; do
  eval "set -- $r"; g=$1 rs=$2
  for v in $VERBS; do for sc in "${SCOPES[@]}"; do echo "$v|$g|$rs|$sc" >> "$TMP/cases"; done; done
done
# special verbs an attacker would want
printf 'impersonate||serviceaccounts|*\nimpersonate||users|*\nbind|rbac.authorization.k8s.io|clusterroles|*\nescalate|rbac.authorization.k8s.io|clusterroles|*\n' >> "$TMP/cases"
# expected: some rule without resourceNames allows (verb, group, resource); the Role only in its namespace
jq -R -r --slurpfile cr "$TMP/cr-rules.json" --slurpfile ro "$TMP/role-rules.json" --arg sans "$SA_NS" '
  split("|") as [$v, $g, $r, $s]
  | def allows(rules): any(rules[]; ((.verbs // []) | index($v) or index("*"))
        and ((.apiGroups // []) | index($g) or index("*"))
        and ((.resources // []) | index($r) or index("*"))
        and ((.resourceNames // []) | length == 0));
    (allows($cr[0]) or ($s == $sans and allows($ro[0]))) as $ok
  | "\($v)|\($g)|\($r)|\($s)|\(if $ok then "yes" else "no" end)"' "$TMP/cases" > "$TMP/expected"
ADMIN_TOKEN=$(awk '/token:/ {print $2; exit}' "$KUBECONFIG")
# The review `kubectl auth can-i VERB RES --as=SA` makes: a SelfSubjectAccessReview as admin,
# impersonating the service account (the apiserver adds its groups). Sent over one connection for
# the whole matrix (a kubectl process per case costs ~0.5 s of CPU); kubectl itself answers a
# sample below. Reads cases on stdin, prints "case|yes" / "case|no".
ssar_all() {
  python3 -c '
import http.client, json, ssl, sys
host, port, ca, tok, user = sys.argv[1:6]
c = http.client.HTTPSConnection(host, int(port), context=ssl.create_default_context(cafile=ca), timeout=30)
for line in sys.stdin:
    v, g, rs, sc = line.rstrip("\n").split("|")
    r, _, sub = rs.partition("/")
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"verb": v, "group": g, "resource": r, "subresource": sub,
                                            "namespace": "" if sc == "*" else sc}}}
    c.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", json.dumps(body),
              {"Authorization": "Bearer " + tok, "Impersonate-User": user, "Content-Type": "application/json"})
    resp = c.getresponse()
    st = json.loads(resp.read() or b"{}")
    a = "ERROR(%d)" % resp.status if resp.status != 201 else ("yes" if st.get("status", {}).get("allowed") else "no")
    print("%s|%s" % (line.rstrip("\n"), a))
' 127.0.0.1 "$PORT" "$CA" "$ADMIN_TOKEN" "$SA_USER"
}
canI() { # the same with kubectl auth can-i
  local v=$1 g=$2 rs=$3 sc=$4 sub= res a
  [[ $rs == */* ]] && sub=${rs#*/}
  res=${rs%%/*}; [ -n "$g" ] && res=$res.$g
  local args=(auth can-i "$v" "$res" --as="$SA_USER")
  [ -n "$sub" ] && args+=(--subresource="$sub")
  if [ "$sc" = "*" ]; then args+=(--all-namespaces); else args+=(-n "$sc"); fi
  a=$("$KUBECTL" --request-timeout=20s "${args[@]}" 2>/dev/null)
  case $a in yes|no) ;; *) a="ERROR($a)";; esac
  echo "$v|$g|$rs|$sc|$a"
}
# run_cases FN FILE: FN over FILE's cases, 4 at a time, into FILE.out
run_cases() {
  local fn=$1 f=$2 p
  rm -f "$f".part.*
  split -n l/4 -d "$f" "$f.part."
  local cp=()
  for p in "$f".part.0?; do
    (while IFS='|' read -r v g r sc; do "$fn" "$v" "$g" "$r" "$sc"; done < "$p" > "$p.out") &
    cp+=($!)
  done
  for p in "${cp[@]}"; do wait "$p"; done
  cat "$f".part.0?.out | sort > "$f.out"
}
sort "$TMP/expected" > "$TMP/expected.s"
ssar_all < "$TMP/cases" | sort > "$TMP/cases.out"
n=$(wc -l < "$TMP/expected.s"); yes=$(grep -c '|yes$' "$TMP/expected.s")
[ "$(wc -l < "$TMP/cases.out")" = "$n" ] || fail "the reviews answered $(wc -l < "$TMP/cases.out") of $n"
if ! diff "$TMP/expected.s" "$TMP/cases.out" > "$TMP/can-i.diff"; then
  cat "$TMP/can-i.diff"; fail "can-i differs from deploy/'s RBAC (< expected from deploy/, > server)"
fi
# kubectl auth can-i on every Nth case, the special verbs and the Lease cases (CANI_EVERY=1: all)
awk -F'|' -v e="${CANI_EVERY:-32}" 'NR % e == 1 || $3 == "leases" || $1 ~ /^(impersonate|bind|escalate)$/' "$TMP/cases" > "$TMP/sample"
run_cases canI "$TMP/sample"
grep -F -x -f "$TMP/sample.out" "$TMP/expected.s" > "$TMP/sample.agree"
[ "$(wc -l < "$TMP/sample.agree")" = "$(wc -l < "$TMP/sample")" ] \
  || { grep -v -F -x -f "$TMP/expected.s" "$TMP/sample.out"; fail "kubectl auth can-i differs from deploy/'s RBAC"; }
echo "ok 3 - can-i: $n (verb, resource, scope) answers equal deploy/'s RBAC ($yes allowed, $((n - yes)) refused; $(wc -l < "$TMP/sample") of them also by kubectl auth can-i)"

# --- 4: real requests with the token: omitted verbs are 403 Forbidden --------------------------
code() { "${SACURL[@]}" -o "$TMP/body" -w '%{http_code}' "$@"; }
expect403() { # WHAT CURL-ARGS...
  local what=$1; shift
  local c; c=$(code "$@")
  [ "$c" = 403 ] && jq -e '.reason=="Forbidden"' "$TMP/body" >/dev/null || fail "$what: HTTP $c, want 403 Forbidden: $(head -c 300 "$TMP/body")"
  echo "  403 $what: $(jq -r .message "$TMP/body")"
}
expect2xx() {
  local what=$1; shift
  local c; c=$(code "$@")
  [ "${c:0:1}" = 2 ] || fail "$what: HTTP $c, want 2xx: $(head -c 300 "$TMP/body")"
}
JSON=(-H 'Content-Type: application/json')
expect2xx "list pods cluster-wide" "$SERVER/api/v1/pods?limit=1"
expect2xx "list nodes" "$SERVER/api/v1/nodes?limit=1"
expect2xx "create a Secret in $NS" -X POST "${JSON[@]}" -d '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"probe"}}' "$SERVER/api/v1/namespaces/$NS/secrets"
expect403 "delete node rb-1" -X DELETE "$SERVER/api/v1/nodes/rb-1"
expect403 "patch node rb-1" -X PATCH -H 'Content-Type: application/merge-patch+json' -d '{"metadata":{"labels":{"x":"y"}}}' "$SERVER/api/v1/nodes/rb-1"
expect403 "list secrets cluster-wide" "$SERVER/api/v1/secrets"
expect403 "list secrets in kube-system" "$SERVER/api/v1/namespaces/kube-system/secrets"
expect403 "watch secrets in $NS" "$SERVER/api/v1/namespaces/$NS/secrets?watch=1&timeoutSeconds=1"
expect403 "update a Secret" -X PUT "${JSON[@]}" -d '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"probe"}}' "$SERVER/api/v1/namespaces/$NS/secrets/probe"
expect403 "exec in pod fits-0" -X POST "$SERVER/api/v1/namespaces/$NS/pods/fits-0/exec?command=sh&stdout=true"
expect403 "update pod fits-0" -X PATCH -H 'Content-Type: application/merge-patch+json' -d '{"metadata":{"labels":{"x":"y"}}}' "$SERVER/api/v1/namespaces/$NS/pods/fits-0"
expect403 "create a ClusterRoleBinding" -X POST "${JSON[@]}" \
  -d '{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"lahar-escalate"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cluster-admin"},"subjects":[{"kind":"ServiceAccount","name":"lahar-controller","namespace":"lahar-system"}]}' \
  "$SERVER/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"
expect403 "delete namespace $NS" -X DELETE "$SERVER/api/v1/namespaces/$NS"
expect403 "delete the jobs CRD" -X DELETE "$SERVER/apis/apiextensions.k8s.io/v1/customresourcedefinitions/jobs.batch.volcano.sh"
expect403 "patch a Volcano Job's spec" -X PATCH -H 'Content-Type: application/merge-patch+json' -d '{"spec":{"minAvailable":1}}' \
  "$SERVER/apis/batch.volcano.sh/v1alpha1/namespaces/$NS/jobs/none"
expect403 "delete a Queue" -X DELETE "$SERVER/apis/scheduling.volcano.sh/v1beta1/queues/default"
expect403 "get a Lease outside $SA_NS" "$SERVER/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/x"
expect403 "create a token for another ServiceAccount" -X POST "${JSON[@]}" -d '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}}' \
  "$SERVER/api/v1/namespaces/kube-system/serviceaccounts/default/token"
K get node rb-1 >/dev/null || fail "node rb-1 is gone"
echo "ok 4 - omitted verbs refused with 403 Forbidden under the service-account token"

echo PASS
