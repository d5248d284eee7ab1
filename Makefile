# lahar — root build. Each folder contributes a fragment (`*/module.mk`) that declares its
# libraries, binaries, unit tests and benchmarks; the templates below turn them into rules.
#
#   make          build bin/ (release, -O2) and lib/
#   make test     install deps if missing, build tests with ASan+UBSan, run unit + e2e tests
#   make bench    run the benchmarks
#   make run      build, start the local cluster + controller (see README)
#   make deps     install the Debian packages lahar needs (apt-get), only when missing

CC      ?= cc
NPROC   := $(shell nproc 2>/dev/null || echo 2)
PKGS    := libcurl jansson yaml-0.1 libwebsockets sqlite3
STD     := -std=c11 -D_GNU_SOURCE
WARN    := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
INCS    := -I. -Icontroller -Ihack
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcrypto -lpthread -lm
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

REL_CFLAGS := $(STD) $(WARN) -O2 -g $(INCS)
SAN_FLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_CFLAGS := $(STD) $(WARN) -O1 -g $(SAN_FLAGS) $(INCS) -DLAHAR_TEST_BUILD

# Filled in by the fragments.
LIBS   :=   # library names: liblahar-<name>.a, from <name>_SRCS
BINS   :=   # binary names: bin/<name>, from <name>_SRCS and <name>_LIBS
TESTS  :=   # unit test names: build/san/tests/<name>, from tests/unit/<name>.c (+ <name>_LIBS)
BENCHES :=  # benchmark commands run by `make bench`

include $(sort $(wildcard */module.mk */*/module.mk))

.PHONY: all test unit-test e2e-test bench run deps clean
.DEFAULT_GOAL := all

all: $(addprefix lib/liblahar-,$(addsuffix .a,$(LIBS))) $(addprefix bin/,$(BINS))

# --- templates ---------------------------------------------------------------------------
define LIB_template
$(1)_REL_OBJS := $$(patsubst %.c,build/rel/%.o,$$($(1)_SRCS))
$(1)_SAN_OBJS := $$(patsubst %.c,build/san/%.o,$$($(1)_SRCS))
lib/liblahar-$(1).a: $$($(1)_REL_OBJS)
	@mkdir -p $$(@D); rm -f $$@; ar rcs $$@ $$^
build/san/lib/liblahar-$(1).a: $$($(1)_SAN_OBJS)
	@mkdir -p $$(@D); rm -f $$@; ar rcs $$@ $$^
endef

define BIN_template
$(1)_REL_OBJS := $$(patsubst %.c,build/rel/%.o,$$($(1)_SRCS))
$(1)_SAN_OBJS := $$(patsubst %.c,build/san/%.o,$$($(1)_SRCS))
bin/$(1): $$($(1)_REL_OBJS) $$(foreach l,$$($(1)_LIBS),lib/liblahar-$$(l).a)
	@mkdir -p $$(@D)
	$$(CC) $$(REL_CFLAGS) -o $$@ $$($(1)_REL_OBJS) -Wl,--start-group $$(foreach l,$$($(1)_LIBS),lib/liblahar-$$(l).a) -Wl,--end-group $$(PKG_LIBS)
build/san/bin/$(1): $$($(1)_SAN_OBJS) $$(foreach l,$$($(1)_LIBS),build/san/lib/liblahar-$$(l).a)
	@mkdir -p $$(@D)
	$$(CC) $$(SAN_CFLAGS) -o $$@ $$($(1)_SAN_OBJS) -Wl,--start-group $$(foreach l,$$($(1)_LIBS),build/san/lib/liblahar-$$(l).a) -Wl,--end-group $$(PKG_LIBS)
endef

define TEST_template
build/san/tests/$(1): build/san/tests/unit/$(1).o $$(foreach l,$$($(1)_LIBS),build/san/lib/liblahar-$$(l).a)
	@mkdir -p $$(@D)
	$$(CC) $$(SAN_CFLAGS) -o $$@ $$< -Wl,--start-group $$(foreach l,$$($(1)_LIBS),build/san/lib/liblahar-$$(l).a) -Wl,--end-group $$(PKG_LIBS) $$(CMOCKA_LIBS)
endef

$(foreach l,$(LIBS),$(eval $(call LIB_template,$(l))))
$(foreach b,$(BINS),$(eval $(call BIN_template,$(b))))
$(foreach t,$(TESTS),$(eval $(call TEST_template,$(t))))

build/rel/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(REL_CFLAGS) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<
build/san/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

-include $(shell find build -name '*.d' 2>/dev/null)

# --- commands ------------------------------------------------------------------------------
SAN_BINS := $(addprefix build/san/bin/,$(BINS))

unit-test: deps
	$(MAKE) -j$(NPROC) all $(addprefix build/san/tests/,$(TESTS)) $(SAN_BINS)
	@tests/run-unit.sh $(TESTS)

e2e-test: deps
	$(MAKE) -j$(NPROC) all $(SAN_BINS)
	@tests/run-e2e.sh

test: deps
	$(MAKE) -j$(NPROC) all $(addprefix build/san/tests/,$(TESTS)) $(SAN_BINS)
	@tests/run-all.sh $(TESTS)

bench: deps all
	@set -e; $(foreach b,$(BENCHES),$(b);)

run: deps all
	@hack/run.sh

deps:
	@hack/deps.sh

clean:
	rm -rf build bin lib
