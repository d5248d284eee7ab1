# tests/fuzz — fuzz harnesses for every parser of untrusted input (tests/fuzz/fuzz_<target>.c,
# entry fuzz_<target>_one; LLVMFuzzerTestOneInput with -DLAHAR_LIBFUZZER) and a deterministic
# driver (driver.c: seed corpus + fixed pseudo-random mutations, no libFuzzer needed).
#
#   make test        runs the smoke tests test_fuzz_smoke_sched / test_fuzz_smoke_kube (ASan+UBSan):
#                    every harness over tests/fuzz/corpus/<target>/ plus N mutations of each seed.
#   make fuzz        builds real libFuzzer binaries (clang, -fsanitize=fuzzer,address,undefined)
#                    into build/fuzz/ and runs each for FUZZ_TIME seconds (default 60), niced.
#                    FUZZ_TARGETS="lc_patch kube_pod" narrows it; findings land in
#                    build/fuzz/artifacts/<target>/, new coverage in build/fuzz/corpus/<target>/.
#   make fuzz-build  only builds them.
# Reproduce one input: build/fuzz/fuzz_<target> FILE (libFuzzer runs the file once), or without
# clang: cc $(SAN_CFLAGS) -DFUZZ_DRIVER_MAIN -DLAHAR_LIBFUZZER tests/fuzz/driver.c
# tests/fuzz/fuzz_<target>.c + the target's build/san/lib archives, then `a.out [-n MUTATIONS] FILE|DIR`.
# Crash reproducers that still fail are kept in tests/fuzz/crashers/<target>/ (not run by
# make test); fixed ones move into tests/fuzz/corpus/<target>/ as regression seeds.
#
# Two smoke binaries: the scheduler's harness alone, and everything else (which links sched too).

FUZZ_TARGETS_ALL := sched_conf kube_config kube_watch kube_pod lc_selector lc_patch lc_router \
  lc_proto lc_crd nodesim ctl_args jobs_spec ctl_snap

# --- the harness library (ASan+UBSan copy only: nothing in `make all` needs it) -------------
fuzzharness_SRCS := tests/fuzz/driver.c $(foreach t,$(FUZZ_TARGETS_ALL),tests/fuzz/fuzz_$(t).c)
build/san/lib/liblahar-fuzzharness.a: $(patsubst %.c,build/san/%.o,$(fuzzharness_SRCS))
	@mkdir -p $(@D); rm -f $@; ar rcs $@ $^

TESTS += test_fuzz_smoke_sched test_fuzz_smoke_kube
test_fuzz_smoke_sched_LIBS := fuzzharness sched util
test_fuzz_smoke_kube_LIBS := fuzzharness ctlcore jobs lcserver lcstore nodesim kube sched util

# --- libFuzzer builds (make fuzz) ----------------------------------------------------------
FUZZ_CC     ?= clang
FUZZ_TIME   ?= 60
FUZZ_TARGETS ?= $(FUZZ_TARGETS_ALL)
FUZZ_JOBS_ARGS ?=
FUZZ_SANS   := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := $(STD) -O1 -g $(FUZZ_SANS) -fsanitize=fuzzer-no-link $(INCS) -DLAHAR_TEST_BUILD \
  -DLAHAR_LIBFUZZER -Wall -Wno-unused-parameter

fuzz_LIBS_sched_conf  := sched util
fuzz_LIBS_kube_config := kube util
fuzz_LIBS_kube_watch  := kube util
fuzz_LIBS_kube_pod    := kube util
fuzz_LIBS_lc_selector := lcstore util
fuzz_LIBS_lc_patch    := lcstore util
fuzz_LIBS_lc_router   := lcserver lcstore util
fuzz_LIBS_lc_proto    := lcserver lcstore util
fuzz_LIBS_lc_crd      := lcserver lcstore util
fuzz_LIBS_nodesim     := nodesim kube util
fuzz_LIBS_ctl_args    := ctlcore kube util
fuzz_LIBS_jobs_spec   := jobs kube util
fuzz_LIBS_ctl_snap    := ctlcore kube sched util

build/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

define FUZZ_LIB_template
build/fuzz/lib/liblahar-$(1).a: $$(patsubst %.c,build/fuzz/obj/%.o,$$($(1)_SRCS))
	@mkdir -p $$(@D); rm -f $$@; ar rcs $$@ $$^
endef
$(foreach l,sched util kube lcstore lcserver nodesim ctlcore jobs,$(eval $(call FUZZ_LIB_template,$(l))))

define FUZZ_BIN_template
build/fuzz/fuzz_$(1): build/fuzz/obj/tests/fuzz/fuzz_$(1).o build/fuzz/obj/tests/fuzz/driver.o \
    $$(foreach l,$$(fuzz_LIBS_$(1)),build/fuzz/lib/liblahar-$$(l).a)
	$$(FUZZ_CC) $$(FUZZ_SANS) -fsanitize=fuzzer -o $$@ $$(filter %.o,$$^) -Wl,--start-group \
	  $$(foreach l,$$(fuzz_LIBS_$(1)),build/fuzz/lib/liblahar-$$(l).a) -Wl,--end-group $$(PKG_LIBS)
endef
$(foreach t,$(FUZZ_TARGETS_ALL),$(eval $(call FUZZ_BIN_template,$(t))))

.PHONY: fuzz fuzz-build
fuzz-build: $(addprefix build/fuzz/fuzz_,$(FUZZ_TARGETS))

fuzz: fuzz-build
	@fail=; for t in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/corpus/$$t build/fuzz/artifacts/$$t; \
	  echo "== fuzz_$$t ($(FUZZ_TIME)s)"; \
	  nice -n 10 build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_TIME) -max_len=16384 -timeout=10 \
	    -rss_limit_mb=2048 -dict=tests/fuzz/lahar.dict -print_final_stats=1 $(FUZZ_JOBS_ARGS) \
	    -artifact_prefix=build/fuzz/artifacts/$$t/ build/fuzz/corpus/$$t tests/fuzz/corpus/$$t \
	    || fail="$$fail $$t"; \
	done; \
	if [ -n "$$fail" ]; then echo "fuzz: findings in:$$fail (see build/fuzz/artifacts/)"; exit 1; fi
