# forktrace: build, test and install.
#
#   make              build build/forktrace and the examples
#   make demo         install missing packages, build, trace an example
#   make check        install missing packages, build, run the test suite
#   make check SANITIZE=1   the same, built with ASan and UBSan
#   make check-valgrind     the integration tests, forktrace run under
#                           valgrind memcheck; fails on a leak or an error
#   make pythons      unpack Debian's CPython 3.13 and 3.14 into
#                     build/pythons, for the Python tests to run too
#   make bench        the benchmarks (docs/PERFORMANCE.md); exits 3 when a
#                     target is missed
#   make fuzz         the libFuzzer targets, for a bounded time each
#   make install PREFIX=/usr/local

VERSION = 0.1.0
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man

CC ?= cc
CFLAGS ?= -O2 -g
BUILD ?= build
WERROR ?= 1

# Debian packages needed to build and test; 'make deps' installs the missing.
DEB_PACKAGES = gcc g++ make pkg-config libdw-dev libelf-dev libjansson-dev \
	libcmocka-dev gdb python3 valgrind libxml2-utils
# Optional, for 'make fuzz' only: clang and libFuzzer's runtime, which
# clang-14 recommends but does not require.
FUZZ_PACKAGES = clang libclang-rt-14-dev

ifeq ($(SANITIZE),1)
override BUILD := $(BUILD)/sanitize
SANITIZE_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
endif

WARNINGS = -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wpointer-arith -Wundef -Wvla -Wwrite-strings \
	-Wimplicit-fallthrough -Wno-missing-field-initializers
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif

PKGS = libdw libelf jansson

# pkg-config runs once, when a recipe first needs its answer, so that
# 'make deps' can install it first.
pkg = $(shell pkg-config $(1) $(2) || echo pkg-config-failed-for-$(2))
PKG_CFLAGS = $(eval PKG_CFLAGS := $$(call pkg,--cflags,$(PKGS)))$(PKG_CFLAGS)
PKG_LIBS = $(eval PKG_LIBS := $$(call pkg,--libs,$(PKGS)))$(PKG_LIBS)
CMOCKA_LIBS = $(eval CMOCKA_LIBS := $$(call pkg,--libs,cmocka))$(CMOCKA_LIBS)

ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE -Iinclude \
	-DFORKTRACE_VERSION='"$(VERSION)"' $(WARNINGS) $(CFLAGS) \
	$(SANITIZE_FLAGS) $(PKG_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(SANITIZE_FLAGS)

LIB_SOURCES = $(filter-out tracer/main.c,$(wildcard tracer/*.c)) \
	$(wildcard attach/*.c)
LIB_OBJECTS = $(LIB_SOURCES:%.c=$(BUILD)/obj/%.o)
LIB = $(BUILD)/libforktrace.a
BIN = $(BUILD)/forktrace

EXAMPLE_SOURCES = $(wildcard examples/*.c)
EXAMPLES = $(EXAMPLE_SOURCES:examples/%.c=$(BUILD)/examples/%) \
	$(BUILD)/examples/fork_tree_static $(BUILD)/examples/fork_tree_stripped \
	$(BUILD)/examples/cxx_fork
# The traced examples are built plainly, with full debug information.
EXAMPLE_CFLAGS = -std=gnu11 -g -O0 -pthread -Wall -Wextra

TEST_SOURCES = $(wildcard tests/test_*.c)
TESTS = $(TEST_SOURCES:tests/%.c=$(BUILD)/tests/%)
TEST_HELPERS = $(BUILD)/obj/tests/harness.o
TEST_CFLAGS = -DFT_SOURCE_DIR='"$(CURDIR)"' \
	-DFT_BUILD_DIR='"$(abspath $(BUILD))"'

.PHONY: all deps demo check check-build pythons bench install uninstall clean style \
	fuzz fuzz-deps

# Keep the objects that the test programs are linked from.
.SECONDARY:

all: $(BIN) $(EXAMPLES)

$(BUILD)/obj/%.o: %.c $(wildcard include/forktrace/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/obj/tests/%.o: tests/%.c $(wildcard include/forktrace/*.h) \
		tests/harness.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(TEST_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJECTS)
	@rm -f $@
	$(AR) rcs $@ $^

$(BIN): $(BUILD)/obj/tracer/main.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lstdc++

$(BUILD)/examples/%: examples/%.c
	@mkdir -p $(dir $@)
	$(CC) $(EXAMPLE_CFLAGS) -o $@ $<

# The same fork tree linked statically, and stripped of its symbol table
# (its exported functions stay in the dynamic one).
$(BUILD)/examples/fork_tree_static: examples/fork_tree.c
	$(CC) $(EXAMPLE_CFLAGS) -static -o $@ $<

# Built optimized, so that the compiler inlines the forking function.
$(BUILD)/examples/inline_fork: examples/inline_fork.c
	@mkdir -p $(dir $@)
	$(CC) $(EXAMPLE_CFLAGS) -O2 -o $@ $<

$(BUILD)/examples/cxx_fork: examples/cxx_fork.cpp
	@mkdir -p $(dir $@)
	$(CXX) -g -O0 -Wall -Wextra -o $@ $<

$(BUILD)/examples/fork_tree_stripped: examples/fork_tree.c
	$(CC) $(EXAMPLE_CFLAGS) -rdynamic -o $@ $<
	strip --strip-all $@

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(TEST_HELPERS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(PKG_LIBS) -lstdc++

deps:
	@missing=; \
	for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
			grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	echo "installing:$$missing"; \
	if [ "$$(id -u)" = 0 ]; then sudo=; \
	elif command -v sudo >/dev/null; then sudo=sudo; \
	else echo "make deps: run as root: apt-get install$$missing" >&2; \
		exit 1; fi; \
	$$sudo apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing

# Every build of the tests, sanitized or not, looks in build/pythons.
pythons:
	tests/pythons.sh build

demo: deps
	@$(MAKE) --no-print-directory all
	$(BIN) $(BUILD)/examples/fork_tree

check: deps
	@$(MAKE) --no-print-directory check-build
	@[ -x build/pythons/python3.13 ] || echo "note: the Python tests" \
		"skip CPython 3.13 and 3.14; 'make pythons' unpacks them"
	@tests/run.sh $(BUILD) $(TESTS)

check-build: $(BIN) $(EXAMPLES) $(TESTS)

# The suites that run forktrace, each run of it under valgrind memcheck
# through tests/valgrind.sh; the traced programs run natively.  The unit
# suites are left out: they never start forktrace.  All of these pass
# under valgrind's slowdown, the hang suite's 2 s and the pause suite's
# 10 ms timers included; the few checks that a wrapper changes skip
# themselves.  Any log with an error fails the target and is printed.
VALGRIND_SUITES = attach cli examples faults hang hostile pause programs \
	python snapshot stacks stress svg trace
VALGRIND_LOGS = $(BUILD)/tests/valgrind
VALGRIND_STACK_LIB = $(BUILD)/tests/valgrind_stack.so

$(VALGRIND_STACK_LIB): tests/valgrind_stack.c
	@mkdir -p $(dir $@)
	$(CC) -shared -fPIC -O1 -g -Wall -Wextra -o $@ $<

.PHONY: check-valgrind
check-valgrind: deps
	@if [ "$(SANITIZE)" = 1 ]; then \
		echo "check-valgrind: run it without SANITIZE=1" >&2; exit 2; fi
	@$(MAKE) --no-print-directory check-build $(VALGRIND_STACK_LIB)
	@rm -rf $(VALGRIND_LOGS) && mkdir -p $(VALGRIND_LOGS)
	@FT_VALGRIND_LOGS=$(abspath $(VALGRIND_LOGS)) \
	FT_VALGRIND_STACK_LIB=$(abspath $(VALGRIND_STACK_LIB)) \
	FT_TEST_WRAPPER=$(CURDIR)/tests/valgrind.sh \
		tests/run.sh $(BUILD) $(VALGRIND_SUITES:%=$(BUILD)/tests/test_%); \
	status=$$?; \
	bad=$$(grep -l 'ERROR SUMMARY: [1-9]' $(VALGRIND_LOGS)/vg.*); \
	for log in $$bad; do echo "valgrind found errors: $$log"; \
		cat "$$log"; done; \
	echo "check-valgrind: $$(ls $(VALGRIND_LOGS) | wc -l) runs," \
		"$$(echo $$bad | wc -w) with errors"; \
	[ $$status -eq 0 ] && [ -z "$$bad" ]

# The benchmarks' own programs: the floor tracer, the peak memory reader
# and two workloads.
BENCH_PROGRAMS = $(addprefix $(BUILD)/bench/,floor peak fork_exec threads)

$(BUILD)/bench/%: tests/bench/%.c tests/bench/launch.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g -pthread -Wall -Wextra -o $@ $<

# Times stack capture at fork, snapshots and the hang detector, then
# compares forktrace with the floor and strace on six workloads.
# BENCH_ROUNDS=N sets the rounds of each part; BENCH_BASELINE=FORKTRACE
# adds another forktrace binary to the comparison.
bench: $(BIN) $(EXAMPLES) $(BENCH_PROGRAMS)
	@tests/bench/stacks.sh $(BUILD)
	@tests/bench/snapshot.sh $(BUILD)
	@tests/bench/python_snapshot.sh $(BUILD)
	@tests/bench/hang.sh $(BUILD)
	@/usr/bin/python3 tests/bench/compare.py \
		$(if $(BENCH_ROUNDS),--rounds=$(BENCH_ROUNDS)) \
		$(if $(BENCH_BASELINE),--baseline=$(BENCH_BASELINE)) $(BUILD)

install: $(BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(BIN) $(DESTDIR)$(BINDIR)/forktrace
	install -m 644 docs/forktrace.1 $(DESTDIR)$(MANDIR)/man1/forktrace.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/forktrace \
		$(DESTDIR)$(MANDIR)/man1/forktrace.1

# libFuzzer targets in tests/fuzz/, built with clang against the library's
# sources with ASan and UBSan.  'make fuzz' runs each for FUZZ_SECONDS
# from its seed corpus in tests/fuzz/corpus/; CI does not run them.
FUZZ_CC = clang
FUZZ_SECONDS = 60
FUZZ_BUILD = $(BUILD)/fuzz
FUZZ_CFLAGS = -std=gnu11 -D_GNU_SOURCE -Iinclude \
	-DFORKTRACE_VERSION='"$(VERSION)"' $(filter-out -Werror,$(WARNINGS)) \
	-Wno-format-nonliteral -g -O1 -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=all $(PKG_CFLAGS)
FUZZ_TARGETS = $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%, \
	$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_LIB = $(FUZZ_BUILD)/libforktrace.a

$(FUZZ_BUILD)/obj/%.o: %.c $(wildcard include/forktrace/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_LIB): $(LIB_SOURCES:%.c=$(FUZZ_BUILD)/obj/%.o)
	@rm -f $@
	$(AR) rcs $@ $^

# fuzz_elf.c includes tracer/stacks.c, so the archive's stacks.o stays out.
$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB) tracer/stacks.c \
		$(wildcard include/forktrace/*.h)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) \
		$(PKG_LIBS) -lstdc++

fuzz-deps:
	@$(MAKE) --no-print-directory deps DEB_PACKAGES="$(FUZZ_PACKAGES)"

fuzz: deps fuzz-deps
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS)
	@tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Formats the C lines that differ from HEAD.
style:
	git diff -U0 --no-color HEAD -- '*.c' '*.h' | \
		clang-format-diff -p1 -i

clean:
	rm -rf build
