#!/usr/bin/env bats
# Threads goro did not make (docs/ARCHITECTURE.md, "Start-up and threads
# goro did not make"): glibc's own pthread_create and glibc's internal helper
# threads share goro's sync objects; they are served without a P, their
# waits block their own kernel thread.  Programs: tests/progs/foreign_*.c.

load helpers

@test "foreign_threads: glibc-made threads and goro's share mutex, condvar, semaphores, rwlock, barrier; a SIGEV_THREAD helper wakes a G; a glibc-made thread creates and joins a G" {
  compare_native_goro foreign_threads
  for p in $GORO_PROCS; do
    GORO_STATS=1 goro_run "$p" foreign_threads
    # 3 threads from glibc's pthread_create + the SIGEV_THREAD helper
    assert_stat_ge foreign_threads 4 "GOMAXPROCS=$p"
    # phase 1 makes a foreign thread wait surely asleep
    assert_stat_ge nop_waits 1 "GOMAXPROCS=$p"
  done
}

@test "foreign_ptrace: a G among busy threads PTRACE_CONTs its tracee 20 times, seized and PTRACE_TRACEME (its M stays the tracer)" {
  compare_native_goro foreign_ptrace
}

@test "strace -f -o /dev/null true under goro, 20 runs at GOMAXPROCS=1" {
  require_goro
  local i s
  for i in $(seq 20); do
    s=0
    GOMAXPROCS=1 timeout "$GORO_TEST_TIMEOUT" env LD_PRELOAD="$GORO_LIB" strace -f -o /dev/null true || s=$?
    [ "$s" -eq 0 ] || fail "run $i: strace under goro exited $(describe_status "$s")"
  done
}
