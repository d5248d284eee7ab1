# controller — lahar-controller: the controller core (context, informers, scheduling loop, queue
# reconciler, leader election, health/metrics) in library ctlcore; Volcano Jobs in library jobs
# (controller/jobs/module.mk), always linked in; main.c registers it.
#
LIBS += ctlcore
ctlcore_SRCS := $(filter-out controller/core/main.c,$(wildcard controller/core/*.c))


BINS += lahar-controller
lahar-controller_SRCS := controller/core/main.c
lahar-controller_LIBS := ctlcore jobs kube sched util

TESTS += test_ctl_args test_ctl_snap test_ctl_leader test_ctl_queue test_ctl_metrics test_ctl_loop
test_ctl_args_LIBS := ctlcore kube util
test_ctl_snap_LIBS := ctlcore kube sched util
test_ctl_leader_LIBS := ctlcore util
test_ctl_queue_LIBS := ctlcore kube sched util
test_ctl_metrics_LIBS := ctlcore util
test_ctl_loop_LIBS := ctlcore kube sched util

# Benchmarks (`make bench`): lahar-ctlbench creates objects and observes bindings;
# controller/bench/bench-e2e.sh runs the local cluster + controller scenarios (end-to-end bind
# rate, memory per cached pod, recovery at 5,000 nodes / 140,000 pods / 87,000 PodGroups).
BINS += lahar-ctlbench
lahar-ctlbench_SRCS := controller/bench/ctlbench.c
lahar-ctlbench_LIBS := kube util
BENCHES += controller/bench/bench-e2e.sh
