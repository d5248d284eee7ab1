# tests/conformance — lahar-conformance, the differential conformance harness: runs
# tests/conformance/steps.txt against one Kubernetes API server and writes a normalized transcript.
# tests/e2e/50-conformance-diff.sh compares the local cluster's transcript with a real
# kube-apiserver 1.20.2's (docs/conformance.md).
BINS += lahar-conformance
lahar-conformance_SRCS := $(addprefix tests/conformance/,main.c steps.c http.c normalize.c)
lahar-conformance_LIBS := util
