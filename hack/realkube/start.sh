#!/usr/bin/env bash
# Starts etcd and a real kube-apiserver 1.20.2 (built by hack/realkube/build.sh) on loopback only,
# with a generated CA-signed serving certificate, a token file, service-account keys and RBAC, and
# writes an admin kubeconfig. Optionally starts kube-controller-manager (namespace deletion and GC).
#
# Usage: hack/realkube/start.sh DIR [--with-controller-manager]
#   env: REALKUBE_PORT (26443), REALKUBE_ETCD_PORT (23790: uses it, +10 peer, +20 metrics),
#        REALKUBE_APISERVER_BIN (another kube-apiserver binary, e.g. from build-zerofix.sh),
#        REALKUBE_APISERVER_ARGS (extra kube-apiserver flags, split on blanks; paths relative to DIR)
# Writes DIR/kubeconfig, DIR/pids, DIR/logs/*.log; stop with hack/realkube/stop.sh DIR.
set -euo pipefail
D=$(mkdir -p "$1" && cd "$1" && pwd); shift
with_kcm=0; [ "${1:-}" = --with-controller-manager ] && with_kcm=1
R=$("$(dirname "$0")/build.sh" apiserver $([ $with_kcm = 1 ] && echo controller-manager))
R=$(echo "$R" | tail -n1)
PORT=${REALKUBE_PORT:-26443}
EP=${REALKUBE_ETCD_PORT:-23790}
mkdir -p "$D/pki" "$D/logs" "$D/etcd"
cd "$D"
if [ ! -f pki/apiserver.crt ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout pki/ca.key -out pki/ca.crt -days 30 -subj /CN=realkube-ca 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout pki/apiserver.key -out pki/apiserver.csr -subj /CN=kube-apiserver 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\n' > pki/san.ext
  openssl x509 -req -in pki/apiserver.csr -CA pki/ca.crt -CAkey pki/ca.key -CAcreateserial -days 30 \
    -extfile pki/san.ext -out pki/apiserver.crt 2>/dev/null
  openssl genrsa -out pki/sa.key 2048 2>/dev/null && openssl rsa -in pki/sa.key -pubout -out pki/sa.pub 2>/dev/null
  tok=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  echo "$tok,admin,admin-uid,\"system:masters\"" > pki/tokens.csv
fi
tok=$(cut -d, -f1 pki/tokens.csv)
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$EP" "$((EP+10))" "$((EP+20))" "$PORT"; do
  if port_busy "$p"; then echo "realkube: port $p on 127.0.0.1 is already in use" >&2; exit 1; fi
done
: > pids
setsid nohup etcd --name realkube --data-dir "$D/etcd/data" \
  --listen-client-urls "http://127.0.0.1:$EP" --advertise-client-urls "http://127.0.0.1:$EP" \
  --listen-peer-urls "http://127.0.0.1:$((EP+10))" --initial-advertise-peer-urls "http://127.0.0.1:$((EP+10))" \
  --initial-cluster "realkube=http://127.0.0.1:$((EP+10))" --listen-metrics-urls "http://127.0.0.1:$((EP+20))" \
  > logs/etcd.log 2>&1 < /dev/null &
echo $! >> pids
for i in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$EP/health" >/dev/null 2>&1 && break
  if [ "$i" = 100 ] || ! kill -0 "$(tail -n1 pids)" 2>/dev/null; then
    echo "realkube: etcd did not start; see $D/logs/etcd.log" >&2; exit 1
  fi
  sleep 0.1
done
APISERVER=${REALKUBE_APISERVER_BIN:-$R/bin/kube-apiserver}
# shellcheck disable=SC2086 # REALKUBE_APISERVER_ARGS is a blank-separated flag list
setsid nohup "$APISERVER" --etcd-servers="http://127.0.0.1:$EP" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$PORT" --insecure-port=0 \
  --tls-cert-file=pki/apiserver.crt --tls-private-key-file=pki/apiserver.key --client-ca-file=pki/ca.crt \
  --token-auth-file=pki/tokens.csv --authorization-mode=RBAC \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file=pki/sa.pub --service-account-signing-key-file=pki/sa.key \
  --service-cluster-ip-range=10.96.0.0/24 --disable-admission-plugins=ServiceAccount \
  --cert-dir=pki/generated --endpoint-reconciler-type=none --v=1 ${REALKUBE_APISERVER_ARGS:-} > logs/apiserver.log 2>&1 < /dev/null &
echo $! >> pids
cat > kubeconfig <<KC
apiVersion: v1
kind: Config
clusters:
- name: realkube
  cluster:
    server: https://127.0.0.1:$PORT
    certificate-authority: $D/pki/ca.crt
users:
- name: admin
  user:
    token: $tok
contexts:
- name: realkube
  context: {cluster: realkube, user: admin}
current-context: realkube
KC
for i in $(seq 1 120); do
  if curl -sf --cacert pki/ca.crt -H "Authorization: Bearer $tok" "https://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; then
    break
  fi
  [ "$i" = 120 ] && { echo "realkube: apiserver not ready; see $D/logs/apiserver.log" >&2; exit 1; }
  sleep 0.5
done
if [ $with_kcm = 1 ]; then
  setsid nohup "$R/bin/kube-controller-manager" --kubeconfig="$D/kubeconfig" \
    --controllers=namespace,garbagecollector,serviceaccount-token --leader-elect=false \
    --port=0 --secure-port=0 --bind-address=127.0.0.1 --service-account-private-key-file=pki/sa.key \
    > logs/controller-manager.log 2>&1 < /dev/null &
  echo $! >> pids
fi
echo "realkube: ready at https://127.0.0.1:$PORT (kubeconfig $D/kubeconfig)"
