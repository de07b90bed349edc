#!/usr/bin/env bats
# Many live threads (issue 14): 100,000 threads with 16 KiB stacks alive at
# once, each checking its __thread value after waking; 10,000 threads with
# the default 8 MiB stack alive at once, within vm.max_map_count.  A generous
# timeout per run catches a hang; nothing here is timed.

load helpers

setup() {
  ulimit -s 8192 2>/dev/null || true  # the default thread stack: 8 MiB
  GORO_TEST_TIMEOUT=300
}

# What many_threads prints when every thread was alive at once and saw its
# own __thread value and stack.
expected_many() {
  printf '%s threads alive at once\nall %s joined, each saw its own __thread value and stack\n' "$1" "$1"
}

# Natively each thread is a kernel task: pid_max, threads-max and
# RLIMIT_NPROC bound how many can live at once.
native_thread_room() {
  local pid_max threads_max nproc
  pid_max=$(cat /proc/sys/kernel/pid_max)
  threads_max=$(cat /proc/sys/kernel/threads-max)
  nproc=$(ulimit -u)
  [ "$nproc" = unlimited ] && nproc=$threads_max
  local room=$pid_max
  [ "$threads_max" -lt "$room" ] && room=$threads_max
  [ "$nproc" -lt "$room" ] && room=$nproc
  echo "$room"
}

@test "100,000 threads with 16 KiB stacks alive at once under goro, each with its own __thread value" {
  expected_many 100000 >"$BATS_TEST_TMPDIR/expected"
  for p in $GORO_PROCS; do
    GORO_STATS=1 goro_run "$p" many_threads 100000 16
    if [ "$goro_status" -ne 0 ] || ! cmp -s "$BATS_TEST_TMPDIR/expected" "$GORO_OUT"; then
      echo "GOMAXPROCS=$p: exit $(describe_status "$goro_status")" >&2
      diff -u "$BATS_TEST_TMPDIR/expected" "$GORO_OUT" >&2 || true
      head -c 2000 "$GORO_ERR" >&2
      return 1
    fi
    live=$(goro_stat max_live_gs)
    [ "$live" -gt 100000 ] || fail "GOMAXPROCS=$p: max_live_gs: expected > 100000, saw $live"
  done
}

@test "100,000 threads natively (for comparison; needs pid_max and RLIMIT_NPROC above 100,000)" {
  room=$(native_thread_room)
  if [ "$room" -le 100010 ]; then
    skip "natively every thread is a kernel task and this host allows $room (pid_max, threads-max, ulimit -u)"
  fi
  native_run many_threads 100000 16
  expected_many 100000 | cmp -s - "$NATIVE_OUT" || fail "native run: $(cat "$NATIVE_OUT" "$NATIVE_ERR")"
}

@test "10,000 threads with the default 8 MiB stack alive at once, natively and under goro" {
  compare_native_goro many_threads 10000 0
  expected_many 10000 | cmp -s - "$GORO_OUT" || fail "unexpected output: $(cat "$GORO_OUT")"
}

@test "a burst of threads with deep stacks gives its pages back after the joins (stacks_scavenged)" {
  compare_native_goro stack_burst
  for p in $GORO_PROCS; do
    GORO_STATS=1 goro_run "$p" stack_burst
    n=$(goro_stat stacks_scavenged)
    [ "$n" -ge 48 ] || fail "GOMAXPROCS=$p: stacks_scavenged: expected >= 48, saw $n"
  done
}
