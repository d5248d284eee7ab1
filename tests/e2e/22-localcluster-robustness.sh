#!/usr/bin/env bash
# 22-localcluster-robustness — the local cluster's connection handling under misbehaving clients
# (ASan build):
#   1. chunked-HTTP watch clients that disconnect are dropped: no socket stays in CLOSE-WAIT and
#      the idle server does not spin (CPU over 3 s stays far below a busy loop; a generous bound,
#      a check against spinning, not a speed test);
#   2. writes keep being answered, each with its whole body, while watchers that never read
#      (chunked HTTP and WebSocket) have backlogs: 16 keep-alive clients create 640 pods of
#      ~8 KiB concurrently (so they are group-committed), every answer is a complete 201 with a
#      distinct resourceVersion;
#   3. a reading watcher sees exactly those 640 ADDED events in resourceVersion order, and after a
#      restart on the same data directory all 640 pods are still there (acknowledged = durable).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${LAHAR_LC_BIN:-$ROOT/build/san/bin/lahar-localcluster}
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
command -v ss >/dev/null || { echo "SKIP: no ss"; exit 77; }
[ -x "$BIN" ] || { echo "SKIP: $BIN not built"; exit 77; }
T=$(mktemp -d); PID=; fails=0
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; jobs -p | xargs -r kill 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; fails=$((fails+1)); }
ok() { echo "ok: $*"; }
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
PORT=$(free_port); URL=http://127.0.0.1:$PORT
start() {
  "$BIN" --listen 127.0.0.1:$PORT --data-dir "$T/data" --kubeconfig-out "$T/kubeconfig" >>"$T/server.log" 2>&1 &
  PID=$!
  for i in $(seq 1 200); do curl -sf "$URL/readyz" >/dev/null && return 0; sleep 0.1; done
  cat "$T/server.log"; echo "FAIL: not ready"; exit 1
}
stop() { kill "$PID"; wait "$PID"; local rc=$?; PID=; return $rc; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$PID/stat"; }
estab() { ss -Htn state established "( sport = :$PORT )" | wc -l; }
closewait() { ss -Htn state close-wait "( sport = :$PORT )" | wc -l; }
pod() { printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}' "$1"; }

start

# 1. disconnected chunked-HTTP watchers
WP=()
for i in 1 2 3 4 5; do curl -sN "$URL/api/v1/pods?watch=1" >/dev/null 2>&1 & WP+=($!); done
for i in $(seq 1 100); do [ "$(estab)" -ge 5 ] && break; sleep 0.1; done
[ "$(estab)" -ge 5 ] || fail "5 watch connections did not come up"
kill "${WP[@]}" 2>/dev/null; wait "${WP[@]}" 2>/dev/null
# no event happens meanwhile: the server must notice the close by itself (within ~1 s)
for i in $(seq 1 100); do [ "$(closewait)" = 0 ] && break; sleep 0.1; done
[ "$(closewait)" = 0 ] && ok "no CLOSE-WAIT socket after 5 watch clients disconnected" || { fail "CLOSE-WAIT sockets remain"; ss -tn "( sport = :$PORT )"; }
# an event for the (gone) watchers, then the sockets must be gone
curl -s -o /dev/null -H 'Content-Type: application/json' -X POST "$URL/api/v1/namespaces/default/pods" -d "$(pod after-kill)"
for i in $(seq 1 100); do [ "$(closewait)" = 0 ] && [ "$(estab)" = 0 ] && break; sleep 0.1; done
[ "$(estab)" = 0 ] && [ "$(closewait)" = 0 ] && ok "their connections are closed" || fail "$(estab) connections still established, $(closewait) in CLOSE-WAIT"
HZ=$(getconf CLK_TCK); c0=$(cpu_ticks); sleep 3; c1=$(cpu_ticks)
used=$((c1 - c0)); limit=$((HZ * 3 / 10))
[ "$used" -lt "$limit" ] && ok "idle server after disconnects: $used ticks CPU in 3 s (< $limit)" || fail "idle server used $used ticks in 3 s (busy loop?)"

# 2 + 3. concurrent writes while non-reading watchers have backlogs
RV0=$(curl -s "$URL/api/v1/namespaces/default/pods" | python3 -c 'import json,sys;print(json.load(sys.stdin)["metadata"]["resourceVersion"])')
curl -sN "$URL/api/v1/namespaces/default/pods?watch=1&resourceVersion=$RV0&timeoutSeconds=600" >"$T/watch.out" 2>/dev/null & RW=$!
cat >"$T/load.py" <<'PY'
import base64, http.client, json, os, socket, sys, threading
port = int(sys.argv[1]); out = sys.argv[2]
stuck = []
for i in range(6):  # watchers that never read: chunked HTTP and WebSocket
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    if i % 2:
        s.sendall(b"GET /api/v1/pods?watch=1 HTTP/1.1\r\nHost: x\r\n\r\n")
    else:
        key = base64.b64encode(os.urandom(16)).decode()
        s.sendall(("GET /api/v1/pods?watch=1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Origin: http://x\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n\r\n" % key).encode())
    stuck.append(s)
pad = "x" * 8000
results, errors = [], []
lock = threading.Lock()
def worker(w):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for j in range(40):
        name = "bulk-%02d-%02d" % (w, j)
        body = json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "annotations": {"pad": pad}},
                           "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
        try:
            c.request("POST", "/api/v1/namespaces/default/pods", body, {"Content-Type": "application/json"})
            r = c.getresponse(); data = r.read()
            o = json.loads(data)
            if r.status != 201 or o["metadata"]["name"] != name:
                raise Exception("status %d" % r.status)
            with lock: results.append(int(o["metadata"]["resourceVersion"]))
        except Exception as e:
            with lock: errors.append("%s: %r" % (name, e))
            c.close(); c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
ts = [threading.Thread(target=worker, args=(w,)) for w in range(16)]
[t.start() for t in ts]; [t.join() for t in ts]
with open(out, "w") as f:
    f.write("%d %d %d\n" % (len(results), len(set(results)), len(errors)))
    for e in errors[:5]: f.write(e + "\n")
PY
timeout 300 python3 "$T/load.py" "$PORT" "$T/load.res"
read -r n uniq nerr <"$T/load.res" || { n=0; uniq=0; nerr=?; }
[ "$n" = 640 ] && [ "$uniq" = 640 ] && ok "640 concurrent creates answered 201 with full bodies, distinct resourceVersions, while 6 watchers never read" || { fail "creates: $n ok, $uniq distinct rvs, $nerr errors"; cat "$T/load.res"; }
for i in $(seq 1 300); do [ "$(grep -c '"ADDED"' "$T/watch.out")" -ge 640 ] && break; sleep 0.1; done
kill "$RW" 2>/dev/null; wait "$RW" 2>/dev/null
python3 - "$T/watch.out" <<'PY' && ok "a reading watcher got the 640 ADDED events once each, in resourceVersion order" || fail "watch events wrong"
import json, sys
rvs = []
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["type"] == "ADDED" and e["object"]["metadata"]["name"].startswith("bulk-"):
        rvs.append(int(e["object"]["metadata"]["resourceVersion"]))
sys.exit(0 if len(rvs) == 640 and rvs == sorted(rvs) and len(set(rvs)) == 640 else 1)
PY
stop || true
start
cnt=$(curl -s "$URL/api/v1/namespaces/default/pods" | python3 -c 'import json,sys;print(sum(1 for p in json.load(sys.stdin)["items"] if p["metadata"]["name"].startswith("bulk-")))')
[ "$cnt" = 640 ] && ok "after a restart all 640 acknowledged pods are there" || fail "after restart: $cnt pods"
stop || fail "server exit status"
grep -q "AddressSanitizer\|runtime error" "$T/server.log" && { fail "sanitizer report"; grep -A5 "AddressSanitizer\|runtime error" "$T/server.log" | head -30; }
[ $fails = 0 ] && echo "all checks passed" || { echo "$fails check(s) failed"; exit 1; }
