#!/usr/bin/env bash
# bench.sh — `make bench` entry of tests/load: the release local cluster's write throughput, watch
# fan-out latency to 50 watchers and the compact informer's memory per pod, one JSON line per
# measurement (see tests/load/loadtest.c, cmd_bench). Each line also carries the server's and the
# client's CPU seconds and the seconds they spent waiting for a CPU (runqueue): on a shared
# machine a large wait means the wall-clock numbers measured the machine's load, not lahar.
# The load-test client spreads its watchers over LAHAR_BENCH_WATCH_THREADS threads (default 2,
# one per core here) so that parsing 50 streams does not queue behind one core; the latency it
# reports is defined in tests/load/loadtest.c (top comment).
# Exit status: 1 if a run failed (write errors, watchers incomplete, or a delivery lost,
# duplicated, out of order or unexpected); missed targets are reported in the JSON
# ("meets_target": false), not as a failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
for b in bin/lahar-localcluster bin/lahar-loadtest; do [ -x "$b" ] || make -s "$b" >/dev/null; done
exec tests/load/with-localcluster.sh bin/lahar-localcluster bin/lahar-loadtest \
  --watch-threads "${LAHAR_BENCH_WATCH_THREADS:-2}" bench --pods "${LAHAR_BENCH_PODS:-10000}" --watchers 50 --inflight 64 --rate 500 --lat-pods 2000
