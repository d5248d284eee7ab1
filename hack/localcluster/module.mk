# hack/localcluster — lahar's local cluster: a Kubernetes-compatible API server on SQLite.
# The pure libraries (store, selectors, patches) are in lib.mk (library lcstore); the server is
# the library lcserver plus bin/lahar-localcluster (main.c: flags, signals).
include hack/localcluster/lib.mk

LIBS += lcserver
lcserver_SRCS := $(addprefix hack/localcluster/,status.c router.c registry.c api.c objmeta.c \
  crd_schema.c gojson.c proto.c table.c watch.c gc.c logs.c server.c openapi.c kubeconfig_out.c sim_nodes.c)

BINS += lahar-localcluster
lahar-localcluster_SRCS := hack/localcluster/main.c
lahar-localcluster_LIBS := lcserver lcstore nodesim kube util

TESTS += test_lc_router test_lc_status test_lc_registry test_lc_proto test_lc_table test_lc_gojson test_lc_api_writes
test_lc_api_writes_LIBS := lcserver lcstore util
test_lc_gojson_LIBS := lcserver lcstore util
test_lc_router_LIBS := lcserver lcstore util
test_lc_status_LIBS := lcserver lcstore util
test_lc_registry_LIBS := lcserver lcstore util
test_lc_proto_LIBS := lcserver lcstore util
test_lc_table_LIBS := lcserver lcstore util
