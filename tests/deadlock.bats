#!/usr/bin/env bats
# Go's "all goroutines are asleep - deadlock!": when every thread is parked
# on goro primitives and nothing can wake any of them, goro says so once,
# naming each thread, then keeps native semantics (the process hangs)
# unless GORO_DEBUG=deadlock=abort.

bats_require_minimum_version 1.5.0
load helpers

# all_asleep PID: every thread of PID is asleep (S), seen twice 50 ms apart.
all_asleep() {
  local round t
  for round in 1 2; do
    [ "$round" = 1 ] || sleep 0.05
    for t in /proc/"$1"/task/*; do
      [ "$(proc_state "$1/task/${t##*/}")" = S ] || return 1
    done
  done
}

# sched_lines_after_report FILE N: N SCHED lines (sysmon's schedtrace)
# follow the deadlock report in FILE.
sched_lines_after_report() {
  [ "$(sed -n '/all threads are asleep - deadlock!/,$p' "$1" 2>/dev/null | grep -c '^SCHED ')" -ge "$2" ]
}

@test "deadlock: natively the program hangs, and under goro too (report printed once)" {
  require_goro
  require_prog deadlock
  # (each run has its own files: a background job truncates its files
  # when it gets to it, and the previous run's must not pass for its own)
  local out="$BATS_TEST_TMPDIR/native.out" err="$BATS_TEST_TMPDIR/native.err" pid ok
  # natively: "started", then every thread asleep for good (the two on each
  # other's mutex, main in pthread_join), the process still there
  "$PROGS_DIR/deadlock" >"$out" 2>"$err" 3>&- &
  pid=$!
  ok=0
  wait_until "$pid" grep -qsx started "$out" && wait_until "$pid" all_asleep "$pid" && ! proc_ended "$pid" && ok=1
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  [ "$ok" = 1 ] || fail "natively: expected it to hang, all threads asleep, after 'started'; stdout: $(cat "$out")"
  [ "$(cat "$out")" = started ] || fail "natively: stdout: $(cat "$out")"
  # under goro: the report, once -- and still once after sysmon has looked
  # again 20 times (its schedtrace lines, one per look at most, count the
  # looks; a second report would need 50 ms of them) -- and the process
  # hangs on as natively
  for p in 1 2; do
    out="$BATS_TEST_TMPDIR/goro$p.out" err="$BATS_TEST_TMPDIR/goro$p.err"
    env LD_PRELOAD="$GORO_LIB" GOMAXPROCS=$p GORO_DEBUG=schedtrace=10 "$PROGS_DIR/deadlock" \
      >"$out" 2>"$err" 3>&- &
    pid=$!
    ok=0
    wait_until "$pid" sched_lines_after_report "$err" 20 && ! proc_ended "$pid" && ok=1
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    [ "$ok" = 1 ] || fail "GOMAXPROCS=$p: expected the report, then the same hang; stdout: $(cat "$out"); stderr: $(grep -v '^SCHED ' "$err")"
    [ "$(cat "$out")" = started ] || fail "GOMAXPROCS=$p: stdout: $(cat "$out")"
    [ "$(grep -c 'all threads are asleep - deadlock!' "$err")" -eq 1 ] ||
      fail "GOMAXPROCS=$p: expected the report once; stderr: $(grep -v '^SCHED ' "$err")"
  done
}

@test "deadlock: the report names every thread, its state, wait reason and start routine" {
  require_goro
  require_prog deadlock
  run --separate-stderr timeout "$GORO_TEST_TIMEOUT" env LD_PRELOAD="$GORO_LIB" GOMAXPROCS=2 \
    GORO_DEBUG=deadlock=abort "$PROGS_DIR/deadlock"
  [ "$status" -eq 134 ] || fail "expected SIGABRT (134) with deadlock=abort, saw $status; stderr: $stderr"
  [[ "$stderr" == *"goro: all threads are asleep - deadlock!"* ]] || fail "no report: $stderr"
  [[ "$stderr" =~ goroutine\ 1\ \[pthread_join\].*start\ routine\ main ]] || fail "main missing: $stderr"
  [[ "$stderr" =~ \[pthread_mutex_lock\]:\ thread\ \"lock_ba\".*waiting.*start\ routine\ lock_ba ]] ||
    fail "lock_ba missing: $stderr"
  [[ "$stderr" =~ \[pthread_mutex_lock\]:\ thread\ \"lock_ab\".*waiting.*start\ routine\ lock_ab ]] ||
    fail "lock_ab missing: $stderr"
}

@test "deadlock: sleepers and I/O waiters are not a deadlock" {
  require_goro
  require_prog sync_sleepers
  run --separate-stderr timeout "$GORO_TEST_TIMEOUT" env LD_PRELOAD="$GORO_LIB" GOMAXPROCS=1 \
    GORO_DEBUG=deadlock=abort "$PROGS_DIR/sync_sleepers"
  assert_success
  [[ "$stderr" != *deadlock* ]] || fail "false report: $stderr"
}
