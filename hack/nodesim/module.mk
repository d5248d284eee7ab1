# hack/nodesim — simulated nodes (kwok-like) on the client library: library nodesim (pure parts
# in quantity.c, node.c, podsm.c, podslim.c, execspec.c; runtime in nodesim.c, proc.c) and bin/lahar-nodesim.
LIBS += nodesim
nodesim_SRCS := $(addprefix hack/nodesim/,quantity.c node.c podsm.c podslim.c execspec.c nodesim.c proc.c)

BINS += lahar-nodesim
lahar-nodesim_SRCS := hack/nodesim/main.c
lahar-nodesim_LIBS := nodesim kube util

TESTS += test_nodesim_parse test_nodesim_pod test_nodesim_node test_nodesim_exec test_nodesim_runtime test_nodesim_slim
test_nodesim_parse_LIBS := nodesim kube util
test_nodesim_pod_LIBS := nodesim kube util
test_nodesim_node_LIBS := nodesim kube util
test_nodesim_exec_LIBS := nodesim kube util
test_nodesim_runtime_LIBS := nodesim kube util
test_nodesim_slim_LIBS := nodesim kube util
