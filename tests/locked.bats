#!/usr/bin/env bats
# LockOSThread: threads that need thread affinity keep their kernel thread
# across blocking waits while the others keep running.

bats_require_minimum_version 1.5.0
load helpers

@test "locked: GORO_LOCKED, goro_lock_os_thread and an affinity attr keep their kernel thread" {
  GORO_LOCKED='ui_*' compare_native_goro locked
}

@test "locked: without the lock a thread does move between kernel threads (GOMAXPROCS=2)" {
  # The control: the same program with GORO_LOCKED unset must show the
  # first thread moving, or the test above proves nothing.  Whether and
  # when it moves is the scheduler's choice (it nearly always does in the
  # first run): run it until it does, up to 50 times.
  require_goro
  require_prog locked
  local i moved=0
  for ((i = 1; i <= 50; i++)); do
    out=$(timeout "$GORO_TEST_TIMEOUT" env LD_PRELOAD="$GORO_LIB" GOMAXPROCS=2 "$PROGS_DIR/locked" 2>/dev/null) || true
    if grep -q "GORO_LOCKED thread: kept its kernel thread across 100 waits: no" <<<"$out"; then
      moved=1
      break
    fi
  done
  [ "$moved" = 1 ] || fail "an unlocked thread never changed kernel thread in 50 runs; last output: $out"
}
