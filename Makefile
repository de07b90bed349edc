# goro — build, test, bench, lint.  See README.md.
#
#   make            build/libgoro.so (and the test/bench programs)
#   make test       install what is missing, build, run unit tests + bats suites
#   make bench      native vs goro benchmarks, ratios printed
#   make demo       a real pthread program natively and under goro side by side
#   make lint       clang-tidy + cppcheck over sched/ shim/ preload/
#   make DEBUG=1    debug build (extra endpoints compiled in)

CC      ?= gcc
CXX     ?= g++
BUILD   ?= build
DEBUG   ?= 0

WARN     = -Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS_LIB = -O2 -g $(WARN) -fPIC -fvisibility=hidden -fno-stack-protector \
             -fno-omit-frame-pointer -std=gnu11 -D_GNU_SOURCE -Iinclude -I. \
             -ftls-model=initial-exec
ifeq ($(DEBUG),1)
CFLAGS_LIB += -DGORO_DEBUG_BUILD=1
endif
LDFLAGS_LIB = -shared -Wl,-z,now -Wl,--no-undefined -Wl,-z,defs -nodefaultlibs -lc -ldl

LIB_SRCS := $(wildcard sched/*.c shim/*.c preload/*.c)
LIB_ASMS := $(wildcard sched/*.S)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o) $(LIB_ASMS:%.S=$(BUILD)/obj/%.o)
LIB_HDRS := $(wildcard sched/*.h shim/*.h preload/*.h include/*.h)

.PHONY: all lib progs unit test bench demo lint clean lab asan ubsan

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

# ---- unit tests (GLib GTest; link the runtime objects directly) ----------
GLIB_CFLAGS = $(shell pkg-config --cflags glib-2.0 2>/dev/null)
GLIB_LIBS   = $(shell pkg-config --libs glib-2.0 2>/dev/null)
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/unit/%)

$(BUILD)/unit/%: tests/unit/%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter -std=gnu11 -D_GNU_SOURCE -I. -Iinclude \
	    $(GLIB_CFLAGS) $< -o $@ $(GLIB_LIBS) -pthread

unit: $(UNIT_BINS)

# ---- subject programs and benchmarks: their own fragments ----------------
PROGS :=
BENCHES :=
-include tests/progs/progs.mk
-include bench/bench.mk

progs: $(PROGS) $(BENCHES)

test:
	bash scripts/install-deps.sh
	$(MAKE) all unit
	bash scripts/lint.sh
	bash scripts/run-tests.sh

bench: all
	bash scripts/bench.sh

demo:
	bash scripts/install-deps.sh
	$(MAKE) all
	bash scripts/demo.sh

lint:
	bash scripts/lint.sh

clean:
	rm -rf $(BUILD)
