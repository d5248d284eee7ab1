# controller — lahar-controller: the controller core (context, informers, scheduling loop, queue
# reconciler, leader election, health/metrics) in library ctlcore; Volcano Jobs in library jobs
# (controller/jobs/module.mk, the jobs engineer's), linked in when that fragment exists.
#
# Link workaround: scheduler/arena.c and controller/kube/pod.c both define the global symbols
# lh_intern_free / lh_intern_put / lh_intern_bytes (different types), so `sched` and `kube`
# cannot be linked into one binary. Until one side renames them, the controller links a copy of
# the sched archive ("schedctl") in which every lh_intern_* symbol is renamed lh_schedintern_*
# consistently (objcopy --redefine-syms over the whole archive; nothing outside scheduler/
# calls the scheduler's intern functions).
LIBS += ctlcore
ctlcore_SRCS := $(filter-out controller/core/main.c,$(wildcard controller/core/*.c))

define CTL_SCHEDCTL_rule
$(1)/liblahar-schedctl.a: $(1)/liblahar-sched.a
	@mkdir -p $$(@D)
	nm -g --defined-only $$< | awk 'NF==3 && $$$$3 ~ /^lh_intern_/ {print $$$$3, "lh_schedintern_" substr($$$$3, 11)}' | sort -u > $$@.syms
	objcopy --redefine-syms=$$@.syms $$< $$@
endef
$(eval $(call CTL_SCHEDCTL_rule,lib))
$(eval $(call CTL_SCHEDCTL_rule,build/san/lib))

# The jobs reconciler is registered by main.c once controller/jobs/ defines lh_jobs_register.
CTL_JOBS_READY := $(shell grep -ls '^int lh_jobs_register' controller/jobs/*.c 2>/dev/null)
ifneq ($(wildcard controller/jobs/module.mk),)
CTL_JOBS_LIB := jobs
endif
ifneq ($(CTL_JOBS_READY),)
build/rel/controller/core/main.o: REL_CFLAGS += -DLAHAR_WITH_JOBS
build/san/controller/core/main.o: SAN_CFLAGS += -DLAHAR_WITH_JOBS
endif

BINS += lahar-controller
lahar-controller_SRCS := controller/core/main.c
lahar-controller_LIBS := ctlcore $(CTL_JOBS_LIB) kube schedctl util

TESTS += test_ctl_args test_ctl_snap test_ctl_leader test_ctl_queue test_ctl_metrics
test_ctl_args_LIBS := ctlcore kube util
test_ctl_snap_LIBS := ctlcore kube schedctl util
test_ctl_leader_LIBS := ctlcore util
test_ctl_queue_LIBS := ctlcore kube schedctl util
test_ctl_metrics_LIBS := ctlcore util
