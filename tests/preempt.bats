#!/usr/bin/env bats
# Asynchronous preemption: a thread spinning without any call is preempted
# (sysmon signals its M after 10 ms); with GORO_PREEMPT=off goro's progress
# diagnostic explains why the others cannot run.

bats_require_minimum_version 1.5.0
load helpers

@test "spin_flag: a call-free spin loop is preempted so a later thread can set the flag" {
  compare_native_goro spin_flag
}

@test "spin_flag: GOMAXPROCS=1: the preemption came from the signal (async_preemptions >= 1)" {
  require_goro
  require_prog spin_flag
  run --separate-stderr timeout "$GORO_TEST_TIMEOUT" env LD_PRELOAD="$GORO_LIB" GOMAXPROCS=1 GORO_STATS=1 \
    "$PROGS_DIR/spin_flag"
  assert_success
  printf '%s\n' "$stderr" > "$BATS_TEST_TMPDIR/err"
  n=$(goro_stat async_preemptions "$BATS_TEST_TMPDIR/err")
  [ "${n:-0}" -ge 1 ] || fail "async_preemptions=$n; stderr: $stderr"
}

@test "spin_flag: GORO_PREEMPT=off: it cannot finish, and goro says why" {
  require_goro
  require_prog spin_flag
  # With one P and no preemption the spinner keeps the P for good, so main
  # never runs again to create the thread that would stop it.  Wait for
  # goro's diagnostic; then the program must still be running, having
  # printed nothing.
  local out="$BATS_TEST_TMPDIR/out" err="$BATS_TEST_TMPDIR/err"
  env LD_PRELOAD="$GORO_LIB" GOMAXPROCS=1 GORO_PREEMPT=off "$PROGS_DIR/spin_flag" >"$out" 2>"$err" 3>&- &
  local pid=$!
  local said=0 alive=0
  wait_until "$pid" grep -qs 'without yielding' "$err" && said=1
  proc_ended "$pid" || alive=1
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  [ "$said" = 1 ] || fail "no diagnostic; stderr: $(cat "$err")"
  [ "$alive" = 1 ] || fail "it ended: stdout: $(cat "$out"); stderr: $(cat "$err")"
  [ ! -s "$out" ] || fail "it printed: $(cat "$out")"
  grep -q 'without yielding, and other threads are waiting for that P' "$err" || fail "stderr: $(cat "$err")"
  grep -q 'GORO_PREEMPT=off' "$err" || fail "stderr: $(cat "$err")"
}

@test "preempt_cond: a nudge that lands in goro's own code waits for the next call, whatever the library's file name" {
  require_goro
  require_prog preempt_cond
  # Found by address, not by name: a copy under another name must not let
  # preemption stop a thread inside the runtime (it hung or crashed).
  local lib="$BATS_TEST_TMPDIR/runtime-copy.so"
  cp "$GORO_LIB" "$lib"
  GORO_LIB="$lib" compare_native_goro preempt_cond 100000
  # At GOMAXPROCS=1 the woken thread inherits the time slice, so sysmon
  # keeps asking, and nearly all the time is goro's: some nudges must have
  # been deferred (with goro's code taken for the program's, none were).
  # Most requests are taken at a call before any signal lands, so up to 5
  # runs, each of which must succeed.
  local i n=0 err="$BATS_TEST_TMPDIR/err1"
  for i in 1 2 3 4 5; do
    run --separate-stderr timeout "$GORO_TEST_TIMEOUT" env LD_PRELOAD="$lib" GOMAXPROCS=1 GORO_STATS=1 \
      "$PROGS_DIR/preempt_cond" 200000
    assert_success
    assert_output "cond ping-pong: 200000 rounds each"
    printf '%s\n' "$stderr" > "$err"
    n=$(goro_stat preempt_deferred "$err")
    [ "${n:-0}" -ge 1 ] && break
  done
  [ "${n:-0}" -ge 1 ] || fail "preempt_deferred=$n in 5 runs; stderr: $(cat "$err")"
}

@test "GORO_PREEMPT: a signal name is accepted, a bad value refused" {
  require_goro
  require_prog spin_flag
  run --separate-stderr timeout "$GORO_TEST_TIMEOUT" env LD_PRELOAD="$GORO_LIB" GOMAXPROCS=1 GORO_PREEMPT=SIGUSR2 \
    "$PROGS_DIR/spin_flag"
  assert_success
  run --separate-stderr env LD_PRELOAD="$GORO_LIB" GORO_PREEMPT=SIGBOGUS "$PROGS_DIR/spin_flag"
  [ "$status" -eq 2 ] || fail "expected 2, saw $status"
  [[ "$stderr" == *'GORO_PREEMPT="SIGBOGUS"'* ]] || fail "stderr: $stderr"
}

@test "io_stdio_block: a thread blocked in libc's internal write does not starve the others" {
  compare_native_goro io_stdio_block
}

@test "io_stdio_block: GOMAXPROCS=1: sysmon saw the blocked M and the call was redone with a hand-off" {
  require_goro
  require_prog io_stdio_block
  # GORO_BLOCKING=-: stdio's writes are not declared blocking (tests/blocking.bats
  # has them), so the redo is what runs here
  run --separate-stderr timeout "$GORO_TEST_TIMEOUT" env LD_PRELOAD="$GORO_LIB" GOMAXPROCS=1 GORO_STATS=1 \
    GORO_BLOCKING=- "$PROGS_DIR/io_stdio_block"
  assert_success
  printf '%s\n' "$stderr" > "$BATS_TEST_TMPDIR/err"
  n=$(goro_stat blocked_calls_redone "$BATS_TEST_TMPDIR/err")
  h=$(goro_stat handoffs "$BATS_TEST_TMPDIR/err")
  [ "${n:-0}" -ge 1 ] && [ "${h:-0}" -ge 1 ] || fail "blocked_calls_redone=$n handoffs=$h; stderr: $stderr"
}

# Wake-up preemption (docs/ARCHITECTURE.md, "Preemption"): spinners that hold
# every P wait for a thread woken after they started; goro preempts one of
# them for it, as the kernel does natively, instead of after sysmon's 10 ms.
@test "spin_wake: spinners waiting for a woken thread, through a semaphore, a pipe and a sleep: identical" {
  compare_native_goro spin_wake 2 20 sem
  compare_native_goro spin_wake 2 10 pipe
  compare_native_goro spin_wake 2 10 sleep
}

@test "spin_wake: GOMAXPROCS=2, every P spinning: a spinner is preempted for the woken thread, whoever woke it (wake_preemptions)" {
  native_run spin_wake 2 20 sem
  # From a waker that holds a P (sem_post: goro__ready) ...
  GORO_STATS=1 goro_run 2 spin_wake 2 20 sem
  cmp -s "$NATIVE_OUT" "$GORO_OUT" || fail "differs: $(cat "$GORO_OUT"); stderr: $(cat "$GORO_ERR")"
  assert_stat_ge wake_preemptions 1 "sem_post"
  # ... and from one without (the netpoller readies the pipe's reader).
  native_run spin_wake 2 20 pipe
  GORO_STATS=1 goro_run 2 spin_wake 2 20 pipe
  cmp -s "$NATIVE_OUT" "$GORO_OUT" || fail "differs: $(cat "$GORO_OUT"); stderr: $(cat "$GORO_ERR")"
  assert_stat_ge wake_preemptions 1 "pipe"
  # ... and from the sleeper's timer: sysmon sleeps until the deadline
  # while every P is busy, and a spinner yields to the sleeper.
  native_run spin_wake 2 10 sleep
  GORO_STATS=1 goro_run 2 spin_wake 2 10 sleep
  cmp -s "$NATIVE_OUT" "$GORO_OUT" || fail "differs: $(cat "$GORO_OUT"); stderr: $(cat "$GORO_ERR")"
  assert_stat_ge wake_preemptions 1 "sleep"
}
