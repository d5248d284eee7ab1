# controller/kube — Kubernetes client library: REST (libcurl), watch (libwebsockets + chunked
# HTTP fallback), informers, work queues, compact pod cache. See controller/kube/kube.h.
LIBS += kube
kube_SRCS := $(wildcard controller/kube/*.c)

TESTS += test_kube_config test_kube_watch test_kube_informer test_kube_workqueue test_kube_pod test_kube_async
test_kube_config_LIBS := kube util
test_kube_watch_LIBS := kube util
test_kube_informer_LIBS := kube util
test_kube_workqueue_LIBS := kube util
test_kube_pod_LIBS := kube util
test_kube_async_LIBS := kube util

# Debug client used by tests/e2e/30-kube-client-*.sh.
BINS += lahar-kubewatch
lahar-kubewatch_SRCS := controller/kube/tools/kubewatch_main.c
lahar-kubewatch_LIBS := kube util

# CPU per item of the informer's list path on a saved list response (jansson vs byte path).
BINS += lahar-listbench
lahar-listbench_SRCS := controller/kube/tools/listbench_main.c
lahar-listbench_LIBS := kube util
