#!/usr/bin/env bash
# 20-localcluster-api — lahar's local cluster at the HTTP level (curl + kubectl, ASan build):
# discovery and /version, Status bodies for bad JSON / unknown path / oversized body / stale
# update (409) / create in a missing namespace, pod binding (201, then 409 on rebind), chunked
# watch resumed from a resourceVersion, WebSocket watch (Origin required), 410 Expired for a
# compacted resourceVersion, bookmarks + timeoutSeconds, ownerReference garbage collection,
# pod logs, --nodes, bad flags (exit 2), and a restart on the same data directory.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$ROOT/build/san/bin/lahar-localcluster
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
  "$BIN" --listen 127.0.0.1:$PORT --data-dir "$T/data" --kubeconfig-out "$T/kubeconfig" --bookmark-interval 1 "$@" >>"$T/server.log" 2>&1 &
  PID=$!
  for i in $(seq 1 100); do curl -sf "$URL/readyz" >/dev/null && return 0; sleep 0.1; done
  cat "$T/server.log"; echo "FAIL: not ready"; exit 1
}
stop() { kill "$PID"; wait "$PID"; local rc=$?; PID=; return $rc; }
wait_for() { for i in $(seq 1 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }
J() { curl -s -H 'Content-Type: application/json' "$@"; }

# bad flags → exit 2 with a message
"$BIN" --listen nonsense >/dev/null 2>"$T/err"; [ $? -eq 2 ] && grep -q "HOST:PORT" "$T/err" && ok "bad --listen exits 2" || fail "bad flag"
"$BIN" --nodes 2 --node-cpu lots >/dev/null 2>"$T/err"; [ $? -eq 2 ] && grep -q "node-cpu" "$T/err" && ok "bad --node-cpu exits 2" || fail "bad node-cpu"
"$BIN" --bogus >/dev/null 2>&1; [ $? -eq 2 ] && ok "unknown flag exits 2" || fail "unknown flag"

start --nodes 3 --node-cpu 16 --node-memory 64Gi --node-gpu 2 --node-labels pool=a,zone=z1
[ "$(curl -s "$URL/version" | jq -r .minor)" = 20 ] && ok "/version" || fail "/version"
[ "$(curl -s "$URL/api" | jq -r .versions[0])" = v1 ] && ok "/api" || fail "/api"
curl -s "$URL/apis" | jq -e '.groups[] | select(.name=="coordination.k8s.io")' >/dev/null && ok "/apis" || fail "/apis"
curl -s "$URL/api/v1" | jq -e '.resources[] | select(.name=="pods/binding")' >/dev/null && ok "/api/v1" || fail "/api/v1"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/openapi/v3")" = 404 ] && [ "$(curl -s "$URL/openapi/v2" | jq -r .swagger)" = 2.0 ] && ok "openapi" || fail "openapi"
N=$(curl -s "$URL/api/v1/nodes?labelSelector=pool%3Da" | jq -r '[.items[] | select(.status.capacity["nvidia.com/gpu"]=="2" and .status.capacity.cpu=="16")] | length')
[ "$N" = 3 ] && ok "--nodes creates Ready nodes with capacity and labels" || fail "nodes: $N"

# errors are Status objects
st=$(J -XPOST "$URL/api/v1/namespaces/default/pods" -d '{not json')
[ "$(jq -r .reason <<<"$st")" = BadRequest ] && [ "$(jq -r .code <<<"$st")" = 400 ] && ok "bad JSON → 400 Status" || fail "bad json: $st"
st=$(curl -s "$URL/no/such/path")
[ "$(jq -r .reason <<<"$st")" = NotFound ] && ok "unknown path → 404 Status" || fail "unknown path: $st"
head -c 3200000 /dev/zero | tr '\0' ' ' >"$T/big"
st=$(J -XPOST "$URL/api/v1/namespaces/default/configmaps" --data-binary @"$T/big")
[ "$(jq -r .code <<<"$st")" = 413 ] && ok "oversized body → 413 Status" || fail "oversized: $st"
st=$(J -XPOST "$URL/api/v1/namespaces/missing/configmaps" -d '{"metadata":{"name":"x"}}')
[ "$(jq -r .code <<<"$st")" = 404 ] && [ "$(jq -r .details.kind <<<"$st")" = namespaces ] && ok "create in missing namespace → 404" || fail "missing ns: $st"
st=$(J -XPOST "$URL/api/v1/namespaces/default/pods" -d '{"metadata":{"name":"bad"},"spec":{}}')
[ "$(jq -r .reason <<<"$st")" = Invalid ] && [ "$(jq -r '.details.causes[0].field' <<<"$st")" = spec.containers ] && ok "422 Invalid with causes" || fail "422: $st"
J -XPOST "$URL/api/v1/namespaces/default/configmaps" -d '{"metadata":{"name":"c"}}' >/dev/null
st=$(J -XPOST "$URL/api/v1/namespaces/default/configmaps" -d '{"metadata":{"name":"c"}}')
[ "$(jq -r .reason <<<"$st")" = AlreadyExists ] && ok "409 AlreadyExists" || fail "exists: $st"
RV=$(curl -s "$URL/api/v1/namespaces/default/configmaps/c" | jq -r .metadata.resourceVersion)
J -XPUT "$URL/api/v1/namespaces/default/configmaps/c" -d "{\"metadata\":{\"name\":\"c\",\"resourceVersion\":\"$RV\"},\"data\":{\"a\":\"1\"}}" >/dev/null
st=$(J -XPUT "$URL/api/v1/namespaces/default/configmaps/c" -d "{\"metadata\":{\"name\":\"c\",\"resourceVersion\":\"$RV\"},\"data\":{\"a\":\"2\"}}")
[ "$(jq -r .reason <<<"$st")" = Conflict ] && [ "$(jq -r .code <<<"$st")" = 409 ] && ok "stale update → 409 Conflict" || fail "stale: $st"

# list paging
for i in 1 2 3 4 5; do J -XPOST "$URL/api/v1/namespaces/default/configmaps" -d "{\"metadata\":{\"generateName\":\"g-\"}}" >/dev/null; done
P1=$(curl -s "$URL/api/v1/namespaces/default/configmaps?limit=2")
TOK=$(jq -r .metadata.continue <<<"$P1")
P2=$(curl -s "$URL/api/v1/namespaces/default/configmaps?limit=10&continue=$TOK")
[ "$(jq '.items|length' <<<"$P1")" = 2 ] && [ "$(jq '.items|length' <<<"$P2")" = 4 ] && [ "$(jq -r .metadata.remainingItemCount <<<"$P1")" = 4 ] \
  && ok "limit + continue" || fail "paging: $P1"

# pod binding, then 409 on a second binding
J -XPOST "$URL/api/v1/namespaces/default/pods" -d '{"metadata":{"name":"p1"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}' >/dev/null
RV0=$(curl -s "$URL/api/v1/namespaces/default/pods/p1" | jq -r .metadata.resourceVersion)
curl -sN "$URL/api/v1/namespaces/default/pods?watch=1&resourceVersion=$RV0" >"$T/watch" &
B='{"apiVersion":"v1","kind":"Binding","metadata":{"name":"p1"},"target":{"apiVersion":"v1","kind":"Node","name":"sim-00001"}}'
st=$(J -XPOST "$URL/api/v1/namespaces/default/pods/p1/binding" -d "$B")
[ "$(jq -r .status <<<"$st")" = Success ] && [ "$(jq -r .code <<<"$st")" = 201 ] && ok "binding → 201 Success" || fail "binding: $st"
P=$(curl -s "$URL/api/v1/namespaces/default/pods/p1")
[ "$(jq -r .spec.nodeName <<<"$P")" = sim-00001 ] && jq -e '.status.conditions[] | select(.type=="PodScheduled" and .status=="True")' <<<"$P" >/dev/null \
  && ok "binding sets nodeName + PodScheduled" || fail "bound pod: $P"
st=$(J -XPOST "$URL/api/v1/namespaces/default/pods/p1/binding" -d "$B")
[ "$(jq -r .code <<<"$st")" = 409 ] && ok "rebinding → 409" || fail "rebind: $st"
wait_for "$T/watch" '"type":"MODIFIED".*sim-00001' && ok "chunked watch from rv sees the binding" || fail "watch: $(cat "$T/watch")"

# pod logs (lahar's log write extension + the standard read)
printf 'line1\nline2\nline3\n' | curl -s -XPOST -H 'Content-Type: text/plain' --data-binary @- "$URL/api/v1/namespaces/default/pods/p1/log" >/dev/null
[ "$(curl -s "$URL/api/v1/namespaces/default/pods/p1/log?tailLines=2")" = "$(printf 'line2\nline3')" ] && ok "pods/log" || fail "log: $(curl -s "$URL/api/v1/namespaces/default/pods/p1/log")"

# WebSocket watch: Origin required; events as text frames
WS=(--http1.1 -s -N -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==')
curl "${WS[@]}" -H "Origin: $URL" -D "$T/wshead" -o "$T/ws" "$URL/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=$RV0" &
J -XPOST "$URL/api/v1/namespaces/default/configmaps" -d '{"metadata":{"name":"ws-seen"}}' >/dev/null
wait_for "$T/ws" ws-seen && grep -q "101" "$T/wshead" && ok "WebSocket watch" || fail "ws: $(head -c 300 "$T/ws")"
code=$(curl "${WS[@]}" -o /dev/null -w '%{http_code}' --max-time 3 "$URL/api/v1/namespaces/default/configmaps?watch=1")
[ "$code" != 101 ] && ok "WebSocket without Origin refused" || fail "ws without origin accepted"

# bookmarks and timeoutSeconds
curl -s --max-time 10 "$URL/api/v1/namespaces/default/configmaps?watch=1&allowWatchBookmarks=true&timeoutSeconds=2&resourceVersion=$RV0" >"$T/bm"
grep -q '"type":"BOOKMARK"' "$T/bm" && ok "BOOKMARK + timeoutSeconds ends the watch" || fail "bookmark: $(tail -c 300 "$T/bm")"

# ownerReference garbage collection (background)
OWN=$(J -XPOST "$URL/api/v1/namespaces/default/configmaps" -d '{"metadata":{"name":"owner"}}' | jq -r .metadata.uid)
J -XPOST "$URL/api/v1/namespaces/default/configmaps" -d "{\"metadata\":{\"name\":\"dep\",\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":\"owner\",\"uid\":\"$OWN\"}]}}" >/dev/null
curl -s -XDELETE "$URL/api/v1/namespaces/default/configmaps/owner" >/dev/null
for i in $(seq 1 50); do [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/namespaces/default/configmaps/dep")" = 404 ] && break; sleep 0.1; done
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/namespaces/default/configmaps/dep")" = 404 ] && ok "GC deletes dependents" || fail "dependent survived"
# finalizers hold deletion until removed
J -XPOST "$URL/api/v1/namespaces/default/configmaps" -d '{"metadata":{"name":"fin","finalizers":["example.com/x"]}}' >/dev/null
curl -s -XDELETE "$URL/api/v1/namespaces/default/configmaps/fin" >/dev/null
[ "$(curl -s "$URL/api/v1/namespaces/default/configmaps/fin" | jq -r '.metadata.deletionTimestamp != null')" = true ] && ok "finalizer keeps object with deletionTimestamp" || fail "finalizer"
curl -s -XPATCH -H 'Content-Type: application/merge-patch+json' "$URL/api/v1/namespaces/default/configmaps/fin" -d '{"metadata":{"finalizers":null}}' >/dev/null
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/namespaces/default/configmaps/fin")" = 404 ] && ok "removing the last finalizer deletes" || fail "finalizer removal"

# restart on the same data dir: objects kept, resourceVersion keeps growing
RV1=$(curl -s "$URL/api/v1/namespaces/default/configmaps" | jq -r .metadata.resourceVersion)
stop && ok "clean shutdown" || fail "shutdown"
start
[ "$(curl -s "$URL/api/v1/namespaces/default/configmaps/c" | jq -r .data.a)" = 1 ] && ok "objects survive restart" || fail "restart lost data"
RV2=$(J -XPOST "$URL/api/v1/namespaces/default/configmaps" -d '{"metadata":{"name":"after"}}' | jq -r .metadata.resourceVersion)
[ "$RV2" -gt "$RV1" ] && ok "resourceVersion grows across restart ($RV1 → $RV2)" || fail "rv $RV1 → $RV2"
[ "$(curl -s "$URL/api/v1/nodes" | jq '.items|length')" = 3 ] && ok "nodes not duplicated on restart" || fail "nodes after restart"

# 410 Expired: a watch from a resourceVersion older than the kept history answers HTTP 200, then
# one in-stream ERROR event (reason Expired, code 410), like 1.20
stop || fail "shutdown before retention restart"
start --event-retention 8
for i in $(seq 1 30); do J -XPOST "$URL/api/v1/namespaces/default/configmaps" -d "{\"metadata\":{\"name\":\"r$i\"}}" >/dev/null; done
code=$(curl -s --max-time 5 -o "$T/old" -w '%{http_code}' "$URL/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=2")
[ "$code" = 200 ] && [ "$(head -1 "$T/old" | jq -r '.type + " " + .object.reason + " " + (.object.code|tostring)')" = "ERROR Expired 410" ] \
  && ok "too-old watch → 200 + ERROR 410 Expired" || fail "old watch ($code): $(head -c 300 "$T/old")"
stop || fail "shutdown 2"
grep -q "ERROR: AddressSanitizer\|runtime error" "$T/server.log" && fail "sanitizer: $(grep -m3 -A5 Sanitizer "$T/server.log")"
[ $fails -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all checks passed"
