# tests/load — the local cluster's bounded load test and its benchmarks (issue 4).
#   bin/lahar-loadtest load   10,000 pods created (some updated/deleted) while 50 watchers run
#                             (WebSocket and chunked HTTP, all-namespace / one-namespace / label
#                             selector): every watcher must see exactly the expected events, once
#                             each, in strictly increasing resourceVersion order. Run by
#                             tests/e2e/25-localcluster-load.sh against the ASan server.
#   bin/lahar-loadtest bench  writes/s (creates, updates, deletes), watch fan-out latency to 50
#                             watchers (every delivery verified), compact informer bytes per pod:
#                             one JSON line each.
# Writes run on the main thread; watchers on --watch-threads threads (default 2), each with its
# own loop, stream client and wsclient.
# tests/load/with-localcluster.sh starts a local cluster on a free loopback port for either.
BINS += lahar-loadtest
lahar-loadtest_SRCS := tests/load/loadtest.c
lahar-loadtest_LIBS := kube util

# One word each (the root bench rule splits BENCHES on spaces): the script runs the release
# server and bin/lahar-loadtest bench against it.
BENCHES += tests/load/bench.sh
