# amishare build. GNU make.
#
#   make               build build/amishare
#   make check         unit + integration tests (closing line: N passed, N failed)
#   make test          install dependencies, then the whole suite as CI runs it
#   make demo          install dependencies, then the end-to-end demo on the emulator
#   make asan          the whole suite with ASan+UBSan (SANITIZE=address,undefined)
#   make lint          clang-format check, cppcheck, banned functions
#   make bench         amishare beside an AWS CLI loop and boto3 on the emulator
#   make fuzz          libFuzzer targets with clang, FUZZ_SECONDS each
#   make valgrind      end-to-end runs and the fuzz corpus under memcheck
#   make DEVELOPER=1   warnings are errors, debug hooks (AMS_FAKE_TIME) on
#   make V=1           show full commands

BUILD      ?= build
PREFIX     ?= /usr/local
DESTDIR    ?=
CC         ?= cc
PKG_CONFIG ?= pkg-config
PYTHON     ?= python3
PKGS        = libcurl libcrypto libxml-2.0 libgit2 libcjson
DEP_CFLAGS ?= $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
DEP_LIBS   ?= $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CFLAGS     ?= -O2 -g
VERSION    := 0.1.0

AMS_CFLAGS  = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Isrc -MMD -MP \
	-DAMS_VERSION='"$(VERSION)"' \
	-Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wold-style-definition \
	-Wdeclaration-after-statement -Wpointer-arith -Wwrite-strings -Wvla \
	-Wformat=2 -Wformat-security -Wcast-qual -Wundef -fno-common
AMS_LDFLAGS =

ifdef DEVELOPER
AMS_CFLAGS += -Werror -DAMS_DEBUG
endif
ifdef SANITIZE
AMS_CFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=$(SANITIZE) \
	-fno-omit-frame-pointer
AMS_LDFLAGS += -fsanitize=$(SANITIZE)
endif
ifdef RELEASE
AMS_CFLAGS += -D_FORTIFY_SOURCE=2 -fstack-protector-strong
endif

ifndef V
QUIET_CC = @echo '   ' CC $@;
QUIET_AR = @echo '   ' AR $@;
QUIET_LINK = @echo '   ' LINK $@;
endif

LIB_SRCS  := $(sort $(wildcard src/*.c))
CMD_SRCS  := $(sort $(wildcard cmd/*.c))
UNIT_SRCS := $(sort $(wildcard tests/unit/t_*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CMD_OBJS  := $(CMD_SRCS:%.c=$(BUILD)/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
UNIT_PY   := $(sort $(wildcard tests/unit/t_*.py))
# Helper programs the tests drive (oracle drivers, fuzz replayers).
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tests/tools/%)
# libFuzzer targets: replayed over their committed corpus in every check
# (built with $(CC) and replay.c), fuzzed by `make fuzz` (clang).
FUZZ_SRCS    := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REPLAYS := $(FUZZ_SRCS:tests/fuzz/fuzz_%.c=$(BUILD)/tests/fuzz/replay_%)
# The bench's transport floor: the HTTP engine alone (tests/bench).
FLOOR_BIN := $(BUILD)/tests/bench/http_floor
LIB       := $(BUILD)/libamishare.a
BIN       := $(BUILD)/amishare

INTEGRATION_TESTS = $(sort $(wildcard tests/integration/t[0-9]*.sh)) \
	$(sort $(wildcard tests/fakeaws/conformance/t_*.py))

all: $(BIN)
lib: $(LIB)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(QUIET_CC)$(CC) $(AMS_CFLAGS) $(DEP_CFLAGS) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	$(QUIET_AR)rm -f $@ && ar rcs $@ $^

$(BIN): $(CMD_OBJS) $(LIB)
	$(QUIET_LINK)$(CC) $(CFLAGS) $(AMS_LDFLAGS) -o $@ $(CMD_OBJS) $(LIB) $(DEP_LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(QUIET_LINK)$(CC) $(CFLAGS) $(AMS_LDFLAGS) -o $@ $< $(LIB) $(DEP_LIBS)

$(BUILD)/tests/tools/%: $(BUILD)/tests/tools/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(QUIET_LINK)$(CC) $(CFLAGS) $(AMS_LDFLAGS) -o $@ $< $(LIB) $(DEP_LIBS)

$(BUILD)/tests/fuzz/replay_%: $(BUILD)/tests/fuzz/fuzz_%.o \
		$(BUILD)/tests/fuzz/replay.o $(LIB)
	@mkdir -p $(dir $@)
	$(QUIET_LINK)$(CC) $(CFLAGS) $(AMS_LDFLAGS) -o $@ $^ $(DEP_LIBS) -lm

$(FLOOR_BIN): $(BUILD)/tests/bench/http_floor.o $(LIB)
	@mkdir -p $(dir $@)
	$(QUIET_LINK)$(CC) $(CFLAGS) $(AMS_LDFLAGS) -o $@ $< $(LIB) $(DEP_LIBS)

unit-bins: $(UNIT_BINS) $(TOOL_BINS) $(FUZZ_REPLAYS) $(FLOOR_BIN)

# One runner for every kind of test so that one closing line counts them all.
check: $(BIN) unit-bins
	@AMS_BIN=$(CURDIR)/$(BIN) AMS_BUILD=$(CURDIR)/$(BUILD) \
		tests/run $(UNIT_BINS) $(UNIT_PY) tests/fuzz/replay.sh \
		$(INTEGRATION_TESTS)

unit: unit-bins
	@AMS_BUILD=$(CURDIR)/$(BUILD) tests/run $(UNIT_BINS) $(UNIT_PY) \
		tests/fuzz/replay.sh

integration: $(BIN)
	@AMS_BIN=$(CURDIR)/$(BIN) AMS_BUILD=$(CURDIR)/$(BUILD) \
		tests/run $(INTEGRATION_TESTS)

asan:
	$(MAKE) BUILD=build/asan SANITIZE=address,undefined DEVELOPER=1 CFLAGS='-O1 -g' check

# What CI runs: dependencies, lint, the optimised build with warnings as
# errors and its unit tests, then the whole suite (unit, integration,
# emulator conformance) once, built with ASan+UBSan and warnings as errors:
# one full pass that is both strict and memory-checked keeps CI short.
# Before it, a short libFuzzer pass over every target's corpus and
# end-to-end runs under valgrind; the suite's closing line comes last.
test: deps
	$(MAKE) DEVELOPER=1 lint
	$(MAKE) DEVELOPER=1 all unit
	$(MAKE) fuzz FUZZ_SECONDS=3 FUZZ_JOBS=2
	$(MAKE) DEVELOPER=1 valgrind
	$(MAKE) asan

# valgrind memcheck over end-to-end runs against the emulator and the
# fuzz corpus (tests/valgrind/memcheck.sh): no error, no definite or
# indirect leak; suppressions only for one-time library allocations.
valgrind: $(BIN) unit-bins
	@AMS_BIN=$(CURDIR)/$(BIN) AMS_BUILD=$(CURDIR)/$(BUILD) \
		tests/run tests/valgrind/memcheck.sh

# libFuzzer: the library and every target built with clang and
# ASan+UBSan, then each target fuzzed for FUZZ_SECONDS from its corpus
# (tests/fuzz/run.sh). `make test` runs a short pass.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 1
FUZZ_BUILD    = build/fuzz
FUZZ_SAN      = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
FUZZ_BINS     = $(FUZZ_SRCS:tests/fuzz/fuzz_%.c=$(FUZZ_BUILD)/fuzz_%)

fuzz-bins:
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) DEVELOPER=1 \
		CFLAGS='-O1 -g -fsanitize=fuzzer-no-link $(FUZZ_SAN)' \
		$(FUZZ_BINS)

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(LIB)
	$(QUIET_LINK)$(FUZZ_CC) $(AMS_CFLAGS) $(DEP_CFLAGS) -O1 -g \
		-fsanitize=fuzzer $(FUZZ_SAN) -o $@ $< $(LIB) $(DEP_LIBS) -lm

fuzz: fuzz-bins
	@FUZZ_BUILD=$(CURDIR)/$(FUZZ_BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) \
		FUZZ_JOBS=$(FUZZ_JOBS) tests/fuzz/run.sh

# Side-by-side benchmark on the emulator; not a test (tests/bench/README.md).
# BENCH_ARGS passes options, e.g. BENCH_ARGS='--n 10,100 --latency-ms 50'.
bench: $(BIN) $(FLOOR_BIN)
	@AMS_BIN=$(CURDIR)/$(BIN) AMS_HTTP_FLOOR=$(CURDIR)/$(FLOOR_BIN) \
		tests/bench/bench $(BENCH_ARGS)

demo: deps
	$(MAKE) $(BIN)
	AMS_BIN=$(CURDIR)/$(BIN) tests/demo/run

deps:
	@tests/deps.sh

lint:
	@tests/lint.sh

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/amishare

clean:
	rm -rf $(BUILD)

.PHONY: all lib unit-bins check unit integration asan test demo deps lint bench \
	install clean fuzz fuzz-bins valgrind
.SECONDARY:

-include $(LIB_OBJS:.o=.d) $(CMD_OBJS:.o=.d) \
	$(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%.d) \
	$(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tests/tools/%.d) \
	$(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/tests/fuzz/%.d) \
	$(BUILD)/tests/fuzz/replay.d
