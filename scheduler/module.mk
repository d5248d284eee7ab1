# scheduler — lahar's scheduling core: a pure library (no I/O, no globals), see lahar_sched.h.
LIBS += sched
sched_SRCS := $(wildcard scheduler/*.c)
TESTS += test_sched_fairshare test_sched_allocate test_sched_predicates test_sched_evict test_sched_conf \
  test_sched_oom
test_sched_fairshare_LIBS := sched
test_sched_allocate_LIBS := sched
test_sched_predicates_LIBS := sched
test_sched_evict_LIBS := sched
test_sched_conf_LIBS := sched
test_sched_oom_LIBS := sched
