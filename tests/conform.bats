#!/usr/bin/env bats
# Conformance with glibc where a program misuses or leans on the edges of
# the pthread API (issue 12, items 6-14): every subject runs natively and
# under goro with GOMAXPROCS in $GORO_PROCS (default 1 2 4); stdout and exit
# status must be identical (compare_native_goro in helpers.bash).  Programs
# are tests/progs/conf_*.c.

load helpers

@test "conf_stale: a joined or detached thread's id gives ESRCH/EINVAL/EBUSY as glibc; 200 rounds of create pairs after it get distinct threads" {
  compare_native_goro conf_stale
}

@test "conf_stale_gen: a joined or detached-and-exited thread's id names no thread created in the next 32 create+join rounds (goro only: glibc reuses at once) and says ESRCH meanwhile; pooled Gs are still recycled" {
  compare_native_goro conf_stale_gen
  local p
  for p in $GORO_PROCS; do
    # goro only, labelled: natively the next create takes the joined descriptor
    GORO_STATS=1 goro_run "$p" conf_stale_gen 32
    [ "$goro_status" -eq 0 ] || fail "GOMAXPROCS=$p: goro-only window check: exit status $(describe_status "$goro_status"); stderr: $(head -c 2000 "$GORO_ERR")"
    local made reused
    made=$(goro_stat gs_created)
    reused=$(goro_stat gs_reused)
    [ "$made" -ge 280 ] || fail "GOMAXPROCS=$p: gs_created=$made, expected >= 280"
    # New Gs: the 24 live at once, plus up to a window's worth (32) still
    # too young in each free list a create may look at: each P's and the
    # global one.  Without recycling every create would make one (~292).
    local most=$((16 + 32 * (p + 1)))
    [ $((made - reused)) -le "$most" ] ||
      fail "GOMAXPROCS=$p: $((made - reused)) new Gs for $made creates (gs_reused=$reused): the pool must recycle Gs older than the window (<= $most new)"
  done
}

@test "conf_destroy: mutex EBUSY while held; cond and barrier destroy wait for their waiters to leave; rwlock, spin, sem 0 (glibc 2.36)" {
  compare_native_goro conf_destroy
}

@test "conf_fair: one P: a thread re-readied by its 1 us (or 0) timed wait queues behind main, whose sleep expired (200 rounds, spinner iterations per round bounded)" {
  compare_native_goro conf_fair 1000
  compare_native_goro conf_fair 0
}

@test "conf_async_cancel: PTHREAD_CANCEL_ASYNCHRONOUS cancels a thread spinning in its own code, blocked in pthread_mutex_lock, spinning in pthread_spin_lock; cleanup and key destructors run" {
  compare_native_goro conf_async_cancel
}

@test "conf_cpuclock: per-thread CPU clocks (pthread_getcpuclockid, CLOCK_THREAD_CPUTIME_ID) follow the thread across kernel threads, start near zero, stand still while it sleeps" {
  compare_native_goro conf_cpuclock
}

@test "conf_sched: SCHED_FIFO/RR reach the locked thread's kernel thread; pthread_setschedprio/setschedparam change kernel and pthread views alike; the policy is dropped when the thread ends (needs root)" {
  [ "$(id -u)" -eq 0 ] || skip "SCHED_FIFO needs root (the suites run as root)"
  compare_native_goro conf_sched
}

@test "conf_idle_ms: after 200 process-shared waits (a kernel thread each) idle Ms beyond the reserve exit (ms_created - ms_exited <= 2*GOMAXPROCS + 6); forks after the burst" {
  compare_native_goro conf_idle_ms
  local p
  for p in $GORO_PROCS; do
    GORO_STATS=1 goro_run "$p" conf_idle_ms
    [ "$goro_status" -eq 0 ] || fail "GOMAXPROCS=$p: exit status $(describe_status "$goro_status"); stderr: $(head -c 2000 "$GORO_ERR")"
    local made exited
    made=$(goro_stat ms_created)
    exited=$(goro_stat ms_exited)
    [ "$made" -ge 100 ] || fail "GOMAXPROCS=$p: ms_created=$made: expected an M per process-shared waiter (>= 100)"
    [ $((made - exited)) -le $((2 * p + 6)) ] ||
      fail "GOMAXPROCS=$p: $((made - exited)) Ms left after the burst (ms_created=$made ms_exited=$exited), expected <= $((2 * p + 6))"
  done
}

@test "conf_pshared_cancel: pthread_cancel ends a wait on a process-shared condvar (glibc's) with the mutex held for the cleanup handler; another waiter is not disturbed" {
  compare_native_goro conf_pshared_cancel
}

# Real-time threads run kernel-scheduled: on kernel threads of their own
# given their policy, priority and CPU mask, without a P, so the kernel
# orders them as natively at any GOMAXPROCS (docs/ARCHITECTURE.md,
# "Real-time threads run kernel-scheduled").  The program pins itself
# through syscall(SYS_sched_setaffinity), which goro must see.
@test "conf_rt_order: one CPU: SCHED_FIFO threads created by a SCHED_FIFO 50 main run in priority order once it blocks, at GOMAXPROCS 1, 2, 4 (needs root)" {
  [ "$(id -u)" -eq 0 ] || skip "SCHED_FIFO needs root (the suites run as root)"
  local i
  for i in 1 2 3 4 5; do
    compare_native_goro conf_rt_order
    assert_stat_ge ksched 5 "main and its four SCHED_FIFO threads (the last GOMAXPROCS)"
  done
}

# Natively H, readied on L's CPU by a thread on another CPU, preempts L at
# once; L's spin count stands still while H runs.  Under goro the kernel
# does it too: both kernel threads have their policies and the mask main
# set; the helper's M has the helper's own CPU (its attr's affinity).
@test "conf_rt_preempt: a SCHED_FIFO 20 thread readied while a SCHED_FIFO 10 one spins on the same CPU preempts it, at GOMAXPROCS 1, 2, 4 (needs root, two CPUs)" {
  [ "$(id -u)" -eq 0 ] || skip "SCHED_FIFO needs root (the suites run as root)"
  [ "$(nproc)" -ge 2 ] || skip "needs two CPUs"
  local i
  for i in 1 2 3 4 5; do
    compare_native_goro conf_rt_preempt
    grep -qx "L's count stood still while H ran: yes" "$NATIVE_OUT" ||
      fail "native run: H did not preempt L: $(cat "$NATIVE_OUT")"
    assert_stat_ge ksched 3 "main, L and H (the last GOMAXPROCS)"
  done
}

@test "conf_rt_eperm: without the privilege, pthread_create with an explicit SCHED_FIFO attr and pthread_setschedparam fail with EPERM as natively, at GOMAXPROCS 1, 2, 4 (starts as root)" {
  [ "$(id -u)" -eq 0 ] || skip "drops privileges from root (the suites run as root)"
  compare_native_goro conf_rt_eperm
  grep -qx "create SCHED_FIFO 5: Operation not permitted" "$NATIVE_OUT" ||
    fail "native run: the create was not refused: $(cat "$NATIVE_OUT")"
}

@test "conf_rt_wake: SCHED_FIFO threads waiting on one mutex take it by priority, ahead of SCHED_OTHER ones (the kernel's futex order, any number of CPUs) at GOMAXPROCS 1, 2, 4 (needs root)" {
  [ "$(id -u)" -eq 0 ] || skip "SCHED_FIFO needs root (the suites run as root)"
  local i
  for i in 1 2 3; do
    compare_native_goro conf_rt_wake
  done
}

@test "conf_timerslack: timer slack is per thread (inherited at create, PR_SET/PR_GET_TIMERSLACK on the thread alone, 0 resets it), never the runtime's 1 ns" {
  compare_native_goro conf_timerslack
}
