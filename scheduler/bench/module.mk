# scheduler/bench — the scheduling core's benchmark (lahar-bench) and the seeded random-snapshot
# generator (library schedgen) shared with the property tests (tests/unit/test_sched_props.c).
LIBS += schedgen
schedgen_SRCS := scheduler/bench/gen.c

BINS += lahar-bench
lahar-bench_SRCS := scheduler/bench/bench.c
lahar-bench_LIBS := schedgen sched

TESTS += test_sched_props
test_sched_props_LIBS := schedgen sched

# One word: the root bench rule runs $(foreach b,$(BENCHES),$(b);), which splits on spaces;
# lahar-bench without arguments runs every scenario (= --all).
BENCHES += bin/lahar-bench
