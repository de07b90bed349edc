#!/usr/bin/env bats
# poll and select on several descriptors park the thread on the netpoller.

bats_require_minimum_version 1.5.0
load helpers

@test "io_pollmany: poll and select on two pipes see the one written later; a timeout expires" {
  compare_native_goro io_pollmany
}

@test "io_pollmany: GOMAXPROCS=1: the waits parked on the netpoller, no kernel-blocking poll" {
  require_goro
  require_prog io_pollmany
  run --separate-stderr timeout "$GORO_TEST_TIMEOUT" env LD_PRELOAD="$GORO_LIB" GOMAXPROCS=1 GORO_STATS=1 \
    "$PROGS_DIR/io_pollmany"
  assert_success
  printf '%s\n' "$stderr" > "$BATS_TEST_TMPDIR/err"
  n=$(goro_stat netpoll_parks "$BATS_TEST_TMPDIR/err")
  s=$(goro_stat syscalls "$BATS_TEST_TMPDIR/err")
  [ "${n:-0}" -ge 3 ] && [ "${s:-1}" -eq 0 ] || fail "netpoll_parks=$n syscalls=$s; stderr: $stderr"
}
