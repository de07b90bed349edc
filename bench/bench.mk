# bench/bench.mk - included by the top Makefile (after `BENCHES :=`).
# Builds the benchmark programs and the rusage helper into $(BUILD)/bench/.
# They are ordinary pthread programs: no goro headers, no goro library.

BENCH_NAMES   := create_join yield_pingpong cond_pingpong mutex_contention sleepers rusage arch_prctl
BENCH_CFLAGS  := -O2 -g -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -pthread

BENCHES += $(BENCH_NAMES:%=$(BUILD)/bench/%)

$(BUILD)/bench/%: bench/%.c bench/bench.h
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) $< -o $@ -pthread

# forensics: the "Schedule Forensics" lab (scripts/lab.sh, make lab)
BENCHES += $(BUILD)/bench/forensics

# handoff_latency, preempt, pipe_pingpong, echo_server: scripts/bench.sh
BENCHES += $(BUILD)/bench/handoff_latency $(BUILD)/bench/preempt $(BUILD)/bench/pipe_pingpong $(BUILD)/bench/echo_server

# sleep_accuracy: usleep(50) p50/p99 and CPU (scripts/bench.sh)
BENCHES += $(BUILD)/bench/sleep_accuracy

# scale, wait_crowded: many live threads, a crowded wait table (scripts/bench.sh, scale rows)
BENCHES += $(BUILD)/bench/scale $(BUILD)/bench/wait_crowded

# declared_call: GORO_BLOCKING's cost and effect (scripts/bench-blocking.sh),
# linked with the tests' vendor library.
BENCHES += $(BUILD)/bench/declared_call
$(BUILD)/bench/declared_call: bench/declared_call.c bench/bench.h $(BUILD)/progs/libvendor.so
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) $< -o $@ -pthread -L$(BUILD)/progs -lvendor -Wl,-rpath,'$$ORIGIN/../progs'
