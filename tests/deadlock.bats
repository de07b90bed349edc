#!/usr/bin/env bats
# Go's "all goroutines are asleep - deadlock!": when every thread is parked
# on goro primitives and nothing can wake any of them, goro says so once,
# naming each thread, then keeps native semantics (the process hangs)
# unless GORO_DEBUG=deadlock=abort.

bats_require_minimum_version 1.5.0
load helpers

@test "deadlock: natively the program hangs, and under goro too (report printed once)" {
  require_goro
  require_prog deadlock
  run timeout 2 "$PROGS_DIR/deadlock"
  [ "$status" -eq 124 ] || fail "natively: expected a hang (124), saw $status"
  assert_output "started"
  for p in 1 2; do
    run --separate-stderr timeout 2 env LD_PRELOAD="$GORO_LIB" GOMAXPROCS=$p "$PROGS_DIR/deadlock"
    [ "$status" -eq 124 ] || fail "GOMAXPROCS=$p: expected the same hang (124), saw $status"
    assert_output "started"
    [ "$(grep -c 'all threads are asleep - deadlock!' <<<"$stderr")" -eq 1 ] ||
      fail "GOMAXPROCS=$p: expected the report once; stderr: $stderr"
  done
}

@test "deadlock: the report names every thread, its state, wait reason and start routine" {
  require_goro
  require_prog deadlock
  run --separate-stderr timeout 10 env LD_PRELOAD="$GORO_LIB" GOMAXPROCS=2 \
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
  run --separate-stderr timeout 60 env LD_PRELOAD="$GORO_LIB" GOMAXPROCS=1 \
    GORO_DEBUG=deadlock=abort "$PROGS_DIR/sync_sleepers"
  assert_success
  [[ "$stderr" != *deadlock* ]] || fail "false report: $stderr"
}
