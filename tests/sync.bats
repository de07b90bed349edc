#!/usr/bin/env bats
# Synchronisation primitives: every subject program runs natively and under
# goro with GOMAXPROCS in $GORO_PROCS (default 1 2 4); stdout and exit status
# must be identical (see compare_native_goro in helpers.bash).  Programs are
# tests/progs/sync_*.c.

load helpers

@test "sync_mutex_stress: 64 threads x 100,000 increments per mutex kind; recursive, errorcheck, trylock, timedlock, clocklock" {
  compare_native_goro sync_mutex_stress
}

@test "sync_static_init: every static mutex/cond/rwlock initialiser under contention" {
  compare_native_goro sync_static_init
}

@test "sync_prodcons: bounded producer/consumer with condvars (signal, broadcast) and semaphores" {
  compare_native_goro sync_prodcons
}

@test "sync_rwlock: no reader/writer overlap; EBUSY, ETIMEDOUT, EDEADLK; reader and writer preference" {
  compare_native_goro sync_rwlock
}

@test "sync_barrier: 8 threads x 1,000 rounds, one serial thread per round, rounds never overlap" {
  compare_native_goro sync_barrier
}

@test "sync_spin: contended spin lock whose holder yields and sleeps completes (GOMAXPROCS=1 too)" {
  compare_native_goro sync_spin
}

@test "sync_sleepers: 1,000 nanosleeping threads; clock_nanosleep clocks, TIMER_ABSTIME, EINVAL" {
  compare_native_goro sync_sleepers
}

# sleepers_wall FILE: the sleepers_wall_ms sync_sleepers printed on stderr.
sleepers_wall() {
  sed -n 's/^sleepers_wall_ms=\([0-9][0-9]*\)$/\1/p' "$1"
}

@test "sync_sleepers: 1,000 sleepers park on timers (ms_created <= 2 x GOMAXPROCS + 2, not one per sleeper; wall time at most 2x native's), the idle M waits for them in the netpoller" {
  for p in $GORO_PROCS; do
    # The wall time of the 1,000 sleepers is compared with that of the
    # native run just before (1,000 kernel threads: goro takes ~0.3x on a
    # quiet machine).  A loaded machine can stall either run: a round whose
    # ratio is off is run again, three rounds at most.
    local round walls="" ok=0
    for round in 1 2 3; do
      native_run sync_sleepers
      [ "$native_status" -eq 0 ] || fail "native run: exit status $(describe_status "$native_status"); stdout: $(cat "$NATIVE_OUT")"
      GORO_STATS=1 goro_run "$p" sync_sleepers
      if [ "$goro_status" -ne 0 ]; then
        fail "GOMAXPROCS=$p: exit status $(describe_status "$goro_status"); stdout:
$(cat "$GORO_OUT")
stderr:
$(head -c 2000 "$GORO_ERR")"
      fi
      gs=$(goro_stat gs_created)
      ms=$(goro_stat ms_created)
      waits=$(goro_stat timer_waits)
      if [ "$gs" -lt 1000 ]; then
        fail "GOMAXPROCS=$p: gs_created: expected >= 1000, saw $gs"
      fi
      # Kernel threads scale with GOMAXPROCS, not with the sleepers: one
      # per P, sysmon's, and the Ms that hand-offs and spinning start on
      # the way (5-7 at GOMAXPROCS=4 for 1,000 sleepers and for 8,000)
      if [ "$ms" -gt $((2 * p + 2)) ]; then
        fail "GOMAXPROCS=$p: ms_created: expected <= $((2 * p + 2)), saw $ms"
      fi
      if [ "$waits" -lt 1 ]; then
        fail "GOMAXPROCS=$p: timer_waits: expected the timer sleeper's timed waits, saw $waits"
      fi
      local nw gw
      nw=$(sleepers_wall "$NATIVE_ERR")
      gw=$(sleepers_wall "$GORO_ERR")
      [ -n "$nw" ] && [ -n "$gw" ] || fail "no sleepers_wall_ms line: native: $(cat "$NATIVE_ERR"); goro: $(head -c 2000 "$GORO_ERR")"
      walls+=" native ${nw} ms / goro ${gw} ms;"
      # (+1: the figures are whole milliseconds)
      if [ "$gw" -le $((2 * nw + 1)) ]; then
        ok=1
        break
      fi
    done
    [ "$ok" = 1 ] || fail "GOMAXPROCS=$p: 1,000 threads sleeping 10 ms: expected at most 2x native's wall time, saw:$walls"
  done
}

@test "sync_cancel_cond: a thread cancelled in cond_wait/cond_timedwait cleans up with the mutex held" {
  compare_native_goro sync_cancel_cond
}

@test "sync_pshared: process-shared mutex, condvar and semaphores between parent and forked child" {
  compare_native_goro sync_pshared
}

@test "sync_c11: mtx kinds under contention, mtx_timedlock, cnd_timedwait, cnd_broadcast to 16 waiters" {
  compare_native_goro sync_c11
}
