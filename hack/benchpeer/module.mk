# hack/benchpeer — side-by-side benchmark of lahar-controller against kube-scheduler 1.20.2 on
# the same real kube-apiserver (hack/realkube), with nodes from lahar-nodesim. Not part of
# `make test` (minutes of wall time, needs the real apiserver built): run `make bench-peer`.
# bin/lahar-benchpeer creates the pods and watches their bindings (with --null-bind it also binds
# them itself, round-robin: the apiserver's write ceiling); run.sh orchestrates the runs.
BINS += lahar-benchpeer
lahar-benchpeer_SRCS := hack/benchpeer/benchpeer.c
lahar-benchpeer_LIBS := kube util

.PHONY: bench-peer
bench-peer: deps bin/lahar-benchpeer bin/lahar-controller bin/lahar-nodesim
	hack/benchpeer/run.sh
