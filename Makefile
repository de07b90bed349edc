# goro — build, test, bench, lint.  See README.md.
#
#   make            build/libgoro.so (and the test/bench programs)
#   make test       install what is missing, build, run unit tests + bats suites
#   make bench      native vs goro benchmarks, ratios printed
#   make demo       a real pthread program natively and under goro side by side
#   make lint       clang-tidy + cppcheck over sched/ shim/ preload/
#   make DEBUG=1    debug build in build/debug (GORO_DEBUG_ADDR endpoints)

CC      ?= gcc
CXX     ?= g++
BUILD   ?= build
DEBUG   ?= 0
# The debug build has its own tree: build/libgoro.so stays the normal one.
# make asan / make ubsan: the runtime objects and the unit tests built with
# a sanitizer (SAN=address|undefined) into their own directory.
CFLAGS_EXTRA ?=
SAN ?=
ifeq ($(DEBUG),1)
BUILD   := $(BUILD)/debug
endif

WARN     = -Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS_LIB = -O2 -g $(WARN) -Wmissing-prototypes -Wstrict-prototypes -fPIC -fvisibility=hidden -fno-stack-protector \
             -fno-omit-frame-pointer -std=gnu11 -D_GNU_SOURCE -Iinclude -I. \
             -ftls-model=initial-exec
# Link-time optimisation: the park and wake paths cross sched/ and shim/
# (a condvar wait is five calls deep before it switches), and every
# return after a switch is mispredicted; inlined, a condvar hand-off costs
# ~20% less (README, "What a switch costs").  Fat objects: the unit tests
# link some of them without it.
CFLAGS_LIB += -flto=auto -ffat-lto-objects
ifeq ($(DEBUG),1)
CFLAGS_LIB += -DGORO_DEBUG_BUILD=1
endif
ifneq ($(SAN),)
CFLAGS_LIB += -fsanitize=$(SAN) -fno-sanitize-recover=all
endif
CFLAGS_LIB += $(CFLAGS_EXTRA)
LDFLAGS_LIB = -shared -Wl,-z,now -Wl,--no-undefined -Wl,-z,defs -nodefaultlibs -lc -ldl -flto=auto -O2

LIB_SRCS := $(wildcard sched/*.c shim/*.c preload/*.c)
LIB_ASMS := $(wildcard sched/*.S)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o) $(LIB_ASMS:%.S=$(BUILD)/obj/%.o)
LIB_HDRS := $(wildcard sched/*.h shim/*.h preload/*.h include/*.h)

.PHONY: all lib progs unit test bench demo lint clean lab asan ubsan notrace

all: lib progs

lib: $(BUILD)/libgoro.so

$(BUILD)/obj/%.o: %.c $(LIB_HDRS)
	@mkdir -p $(dir $@)
	@echo "  CC $<"; $(CC) $(CFLAGS_LIB) -c $< -o $@

$(BUILD)/obj/%.o: %.S
	@mkdir -p $(dir $@)
	@echo "  CC $<"; $(CC) $(CFLAGS_LIB) -c $< -o $@

$(BUILD)/libgoro.so: $(LIB_OBJS)
	@echo "  LD $@"; $(CC) -o $@ $(LIB_OBJS) $(LDFLAGS_LIB)

# ---- unit tests (GLib GTest; link only the runtime objects a test needs) --
# Never $(LIB_OBJS): the shim objects would interpose pthread_create & co.
# inside the test binary itself.  tests/unit/stubs.c stands in for the
# globals of sched/proc.c and friends that these objects refer to.
GLIB_CFLAGS = $(shell pkg-config --cflags glib-2.0 2>/dev/null)
GLIB_LIBS   = $(shell pkg-config --libs glib-2.0 2>/dev/null)
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/unit/%)
UNIT_OBJS  := $(BUILD)/obj/sched/runq.o $(BUILD)/obj/sched/lock.o \
              $(BUILD)/obj/sched/stack.o $(BUILD)/obj/sched/print.o
UNIT_STUBS := tests/unit/stubs.c tests/unit/stubs.h
UNIT_CFLAGS = -O2 -g $(WARN) -std=gnu11 -D_GNU_SOURCE -I. -Iinclude $(GLIB_CFLAGS) -pthread \
              $(if $(SAN),-fsanitize=$(SAN) -fno-sanitize-recover=all)

# test_tls also links the TLS code, goro__getfs (asm) and the real-symbol
# table (and the LDT arena the asm reads); tls.o defines goro__curg, so the
# stubs leave it out.
UNIT_TLS_OBJS := $(BUILD)/obj/sched/tls.o $(BUILD)/obj/sched/asm_amd64.o \
                 $(BUILD)/obj/sched/real.o $(BUILD)/obj/sched/fsldt.o
$(BUILD)/unit/test_tls: $(UNIT_TLS_OBJS)
$(BUILD)/unit/test_tls: UNIT_EXTRA = $(UNIT_TLS_OBJS)
$(BUILD)/unit/test_tls: UNIT_DEFS = -DGORO_STUBS_WITH_TLS

# test_sema links the address waits and the claim protocol; the test
# itself stands in for the scheduler's park and ready.
UNIT_SEMA_OBJS := $(BUILD)/obj/sched/sema.o $(BUILD)/obj/sched/park.o
$(BUILD)/unit/test_sema: $(UNIT_SEMA_OBJS)
$(BUILD)/unit/test_sema: UNIT_EXTRA = $(UNIT_SEMA_OBJS)

$(BUILD)/unit/%: tests/unit/%.c $(UNIT_STUBS) $(UNIT_OBJS) $(LIB_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) $(UNIT_DEFS) $< tests/unit/stubs.c $(UNIT_OBJS) $(UNIT_EXTRA) \
	    -o $@ $(GLIB_LIBS) -ldl

unit: $(UNIT_BINS)

# ---- subject programs and benchmarks: their own fragments ----------------
PROGS :=
BENCHES :=
-include tests/progs/progs.mk
-include bench/bench.mk

progs: $(PROGS) $(BENCHES)

# Suites run again by `make test` with GORO_FSGSBASE=off and =ldt: the two
# paths of a host without FSGSBASE (arch_prctl; LDT segments, its default).
FSGS_OFF_SUITES = tests/core.bats tests/sync.bats tests/switch.bats tests/signals.bats \
                  tests/io.bats tests/preempt.bats tests/poll.bats

test:
	bash scripts/install-deps.sh
	$(MAKE) all unit
	bash scripts/lint.sh
	$(MAKE) asan ubsan
	bash scripts/run-tests.sh
	@echo "== the core suites again with GORO_FSGSBASE=off (the arch_prctl path of hosts without FSGSBASE)"
	GORO_FSGSBASE=off bash scripts/run-tests.sh $(FSGS_OFF_SUITES)
	@echo "== the core suites again with GORO_FSGSBASE=ldt (LDT segments, the default of hosts without FSGSBASE)"
	GORO_FSGSBASE=ldt bash scripts/run-tests.sh $(FSGS_OFF_SUITES)

bench: all
	bash scripts/bench.sh
	bash scripts/bench-trace-off.sh
	bash scripts/bench-omp.sh
	bash scripts/bench-blocking.sh

demo:
	bash scripts/install-deps.sh
	$(MAKE) all
	bash scripts/demo.sh

lint:
	bash scripts/lint.sh

lab: all
	bash scripts/lab.sh

# libgoro.so with the tracer's recording sites compiled out: the baseline of
# scripts/bench-trace-off.sh (tracing off must cost nothing measurable).
notrace:
	$(MAKE) BUILD=build/notrace CFLAGS_EXTRA=-DGORO_NO_TRACE lib

# The unit tests under AddressSanitizer / UndefinedBehaviorSanitizer.
asan ubsan:
	$(MAKE) BUILD=build/$@ SAN=$(if $(filter asan,$@),address,undefined) unit
	set -e; for t in build/$@/unit/test_*; do echo "== $$t"; $$t --tap; done

clean:
	rm -rf $(BUILD)
