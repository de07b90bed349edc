#!/usr/bin/env bats
# Process-directed signals under goro: they reach a thread whose mask
# accepts them (never an idle kernel thread or sysmon), and a signal left
# at its default action still ends a process whose threads are all parked.

bats_require_minimum_version 1.5.0
load helpers

@test "coreutils timeout under goro: SIGCHLD/SIGALRM wake its sigsuspend (same status as natively)" {
  require_goro
  for p in 1 2; do
    # SIGCHLD: the child's end wakes it long before its own alarm (which
    # would make the status 124)
    run env LD_PRELOAD="$GORO_LIB" GOMAXPROCS=$p timeout "$GORO_TEST_TIMEOUT" sleep 0.1
    [ "$status" -eq 0 ] || fail "GOMAXPROCS=$p: timeout $GORO_TEST_TIMEOUT sleep 0.1 exited $status"
    # SIGALRM: a child that never ends by itself, so only the alarm can end
    # it; if the alarm never woke timeout, the outer guard kills it (137)
    run timeout -s KILL "$GORO_TEST_TIMEOUT" env LD_PRELOAD="$GORO_LIB" GOMAXPROCS=$p timeout 1 sleep 3600
    [ "$status" -eq 124 ] || fail "GOMAXPROCS=$p: timeout 1 sleep 3600 exited $status (want 124)"
  done
}

@test "SIGTERM at its default action ends a goro process whose threads all sleep" {
  require_goro
  # (schedtrace with scheddetail says when the main thread, the only one,
  # is parked in its sleep)
  local err="$BATS_TEST_TMPDIR/err"
  env LD_PRELOAD="$GORO_LIB" GOMAXPROCS=2 GORO_DEBUG=schedtrace=10,scheddetail=1 sleep 3600 2>"$err" 3>&- &
  pid=$!
  if ! wait_until "$pid" grep -qs '^  goroutine 1 \[sleep\]: .* waiting' "$err"; then
    kill -KILL "$pid"
    fail "never saw the main thread parked in its sleep: $(tail -20 "$err")"
  fi
  kill -TERM "$pid"
  st=0
  wait "$pid" || st=$?
  [ "$st" -eq 143 ] || fail "expected death by SIGTERM (143), saw $st"
}

@test "signal_sleep: pthread_kill/pthread_sigqueue end a sleep with EINTR (nanosleep, clock_nanosleep, usleep, sleep, poll, select), not when blocked or ignored" {
  compare_native_goro signal_sleep
}

@test "signal_io: a signal interrupts read/accept/sem_wait (EINTR, or SA_RESTART retry), poll/select/epoll_wait (EINTR); lock waits go on; SIGALRM ends main read/accept; sigsuspend takes a blocked one" {
  compare_native_goro signal_io
}
