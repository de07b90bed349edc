#!/usr/bin/env bats
# Raw system calls of foreign code (docs/ARCHITECTURE.md, "Raw system calls
# outside libc"): libgomp and librawfutex wait with `syscall` instructions
# of their own.  goro makes a site trap once it has seen it block
# (GORO_STATS: trapped_calls); a G whose futex wait traps (trapped_waits)
# runs kernel-scheduled from then on (ksched_raw), its P given away, so at
# GOMAXPROCS=1 the others run at once instead of after sysmon's 10 ms, and
# its spins and waits are the kernel's to schedule, as natively.  A site
# only such Gs trap at gets its `syscall` back (trap_sites_restored).

bats_require_minimum_version 1.5.0
load helpers

# stat_at_least NAME MIN: counter NAME of the last goro run is >= MIN.
stat_at_least() {
  local n
  n=$(goro_stat "$1") || return 1
  [ "$n" -ge "$2" ] || fail "$1=$n, expected >= $2; stderr: $(head -c 2000 "$GORO_ERR")"
}

# omp_case THREADS POLICY: omp_mix natively and under goro at every
# GOMAXPROCS; at GOMAXPROCS=1 a wait was trapped and its G made
# kernel-scheduled.
omp_case() {
  export OMP_NUM_THREADS=$1 OMP_WAIT_POLICY=$2
  compare_native_goro omp_mix 60
  GORO_STATS=1 goro_run 1 omp_mix 60
  cmp -s "$NATIVE_OUT" "$GORO_OUT" || fail "GOMAXPROCS=1 rerun differs: $(cat "$GORO_OUT")"
  stat_at_least trapped_calls 1
  stat_at_least trapped_waits 1
  stat_at_least ksched_raw 1
}

@test "OpenMP (parallel for, reduction, barrier, critical, tasks): 4 threads, passive wait" {
  omp_case 4 passive
}

@test "OpenMP: 4 threads, active wait" {
  omp_case 4 active
}

@test "OpenMP: 8 threads, passive wait" {
  omp_case 8 passive
}

@test "OpenMP: 8 threads, active wait" {
  omp_case 8 active
}

@test "rawfutex: a token ring through inline futex waits: identical, the waiting threads kernel-scheduled" {
  compare_native_goro rawfutex 4 2000
  for p in $GORO_PROCS; do
    GORO_STATS=1 goro_run "$p" rawfutex 4 2000
    cmp -s "$NATIVE_OUT" "$GORO_OUT" || fail "GOMAXPROCS=$p differs: $(cat "$GORO_OUT")"
    [ "$p" -ge 4 ] && continue
    stat_at_least trapped_waits 1
    stat_at_least ksched_raw 1
  done
  # At GOMAXPROCS=1 a thread that never trapped would hold the one P while
  # the ring waits for its turn: each of the four took its turn by trapping
  # (sched/proc.c, goro__ksched_raw).  Then only kernel-scheduled Gs trap,
  # and the site is given its `syscall` back after 64 of their traps, long
  # before the 8,000 waits end (sched/rawcall.c, trapped_idle).
  GORO_STATS=1 goro_run 1 rawfutex 4 2000
  stat_at_least ksched_raw 4
  stat_at_least trap_sites_restored 1
  local t
  t=$(goro_stat trapped_calls)
  [ "$t" -lt 4000 ] || fail "trapped_calls=$t: the site was not restored"
}

@test "rawfutex: the program's own SIGTRAP, SIGILL and SIGSYS handlers still run while goro traps" {
  compare_native_goro rawfutex 4 300 sigsys
  grep -q 'own SIGTRAP handler: ran' "$NATIVE_OUT"
  grep -q 'own SIGILL handler: ran' "$NATIVE_OUT"
  grep -q 'own SIGSYS handler: ran' "$NATIVE_OUT"
  GORO_STATS=1 goro_run 1 rawfutex 4 300 sigsys
  stat_at_least trapped_calls 1
}

@test "rawfutex: a forked child's threads wait through goro too" {
  STATS_MANY=1 compare_native_goro rawfutex 4 300 fork
  GORO_STATS=1 goro_run 1 rawfutex 4 300 fork
  cmp -s "$NATIVE_OUT" "$GORO_OUT" || fail "differs: $(cat "$GORO_OUT")"
  # Two stats lines: the child's (printed first) counts the parent's
  # threads plus its own ring's.  The parent had given the site its
  # `syscall` back; in the child a thread blocked there again, the site was
  # learnt anew and each of the child's four threads made kernel-scheduled.
  local child parent
  child=$(grep '^goro: stats: ' "$GORO_ERR" | head -1 | tr ' ' '\n' | sed -n 's/^ksched_raw=//p')
  parent=$(grep '^goro: stats: ' "$GORO_ERR" | tail -1 | tr ' ' '\n' | sed -n 's/^ksched_raw=//p')
  [ "$((child - parent))" -ge 4 ] || fail "child ksched_raw=$child, parent=$parent"
}

@test "GORO_TRAP=off: nothing is trapped, the result is the same" {
  native_run rawfutex 4 3
  GORO_TRAP=off GORO_STATS=1 goro_run 1 rawfutex 4 3
  cmp -s "$NATIVE_OUT" "$GORO_OUT" || fail "differs: $(cat "$GORO_OUT")"
  [ "$(goro_stat trapped_calls)" -eq 0 ] || fail "trapped with GORO_TRAP=off"
}

# The first waits of a short OpenMP program: a raw futex wait that holds
# its P while the new workers wait for one is looked at after 1 ms (sched/
# proc.c, early_check), not found by a 10 ms preemption.  At GOMAXPROCS=1
# the master's first wait blocks every worker, so the early look must be
# what ends it.
early_case() {
  export OMP_NUM_THREADS=$1 OMP_WAIT_POLICY=$2
  compare_native_goro omp_kernels -t "$1" -r 1
  GORO_STATS=1 goro_run 1 omp_kernels -t "$1" -r 1
  cmp -s "$NATIVE_OUT" "$GORO_OUT" || fail "GOMAXPROCS=1 rerun differs: $(cat "$GORO_OUT")"
  stat_at_least early_block_checks 1
  stat_at_least trapped_waits 1
}

@test "OpenMP first waits: raw futex sites learnt by the early blocked check (1 ms while others wait), passive" {
  early_case 4 passive
}

@test "OpenMP first waits: learnt early, active wait, 8 threads" {
  early_case 8 active
}

@test "rawfutex through libc's syscall(): a spin, then a futex wait of the program's own: the waiting threads kernel-scheduled" {
  compare_native_goro rawfutex 4 2000 libc
  # At GOMAXPROCS=1 a thread that spins for its turn holds the one P, so
  # the turn cannot come: it waits, and from then on runs kernel-scheduled
  # (shim/process.c, syscall; sched/proc.c, goro__ksched_raw).  Before, such
  # a wait held its P until sysmon handed it off.
  GORO_STATS=1 goro_run 1 rawfutex 4 2000 libc
  cmp -s "$NATIVE_OUT" "$GORO_OUT" || fail "differs: $(cat "$GORO_OUT")"
  stat_at_least ksched_raw 1
  [ "$(goro_stat trapped_calls)" -eq 0 ] || fail "libc's syscall() was trapped"
}
