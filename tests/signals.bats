#!/usr/bin/env bats
# Process-directed signals under goro: they reach a thread whose mask
# accepts them (never an idle kernel thread or sysmon), and a signal left
# at its default action still ends a process whose threads are all parked.

bats_require_minimum_version 1.5.0
load helpers

@test "coreutils timeout under goro: SIGCHLD/SIGALRM wake its sigsuspend (same status and timing class as natively)" {
  require_goro
  for p in 1 2; do
    run env LD_PRELOAD="$GORO_LIB" GOMAXPROCS=$p timeout 5 sleep 0.1
    [ "$status" -eq 0 ] || fail "GOMAXPROCS=$p: timeout 5 sleep 0.1 exited $status"
    start=$(date +%s%N)
    run env LD_PRELOAD="$GORO_LIB" GOMAXPROCS=$p timeout 1 sleep 5
    took=$(( ($(date +%s%N) - start) / 1000000 ))
    [ "$status" -eq 124 ] || fail "GOMAXPROCS=$p: timeout 1 sleep 5 exited $status (want 124)"
    [ "$took" -lt 3000 ] || fail "GOMAXPROCS=$p: the 1 s timeout fired after $took ms"
  done
}

@test "SIGTERM at its default action ends a goro process whose threads all sleep" {
  require_goro
  require_prog sync_sleepers
  env LD_PRELOAD="$GORO_LIB" GOMAXPROCS=2 sleep 5 &
  pid=$!
  sleep 0.3
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
