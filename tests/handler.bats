#!/usr/bin/env bats
# Signal handlers that call interposed functions wherever they land
# (issue 10: one preemption predicate, goro__can_preempt; pthread_self is
# no preemption point).  signal_handler_calls repeats 150 times the case
# that crashed: main waits in sigsuspend with its P handed off while two
# threads compute, one sends SIGUSR1 to main, and the handler calls
# pthread_self, pthread_getspecific, a mutex, sched_yield and sem_post.
# Natively and under goro at GOMAXPROCS 1, 2, 4: same output and status;
# the counters prove main's P was handed off while it waited.

load helpers

@test "signal_handler_calls: a handler calling interposed functions over a thread in sigsuspend, 150 rounds" {
  compare_native_goro signal_handler_calls
  GORO_STATS=1 goro_run 1 signal_handler_calls
  [ "$(goro_stat handoffs)" -ge 1 ] || fail "no hand-off: main's P was never taken while it waited"
}
