#!/usr/bin/env bats
# The context switch and the %fs base (issue 9): a G switch writes %fs at
# most once (g0 keeps the TCB of the G it left; the M is found through the
# %gs base), and not at all when the same G resumes.  Every mode of
# switch_tls checks after each switch that every thread still sees its own
# __thread variable and errno, natively and under goro, with wrfsbase,
# with GORO_FSGSBASE=off (arch_prctl) and with GORO_FSGSBASE=ldt (a segment
# of the LDT per thread, what a host without FSGSBASE gets by default); the
# counters prove how many writes the switches took and how many of them
# were system calls.

load helpers

# switch_counts MODE [ARGS]: runs switch_tls MODE natively, then under goro at
# GOMAXPROCS 1 and 2 with GORO_FSGSBASE auto, off and ldt; outputs must
# match and fs_writes <= context_switches.  Leaves the last run's counters in
# $GORO_ERR.
switch_counts() {
  local mode=$1
  shift
  native_run switch_tls "$mode" "$@"
  [ "$native_status" -eq 0 ] || fail "native run: exit $(describe_status "$native_status"): $(cat "$NATIVE_OUT")"
  for fsgs in auto off ldt; do
    for p in 1 2; do
      GORO_FSGSBASE=$fsgs GORO_STATS=1 goro_run "$p" switch_tls "$mode" "$@"
      [ "$goro_status" -eq 0 ] && cmp -s "$NATIVE_OUT" "$GORO_OUT" ||
        fail "$mode GORO_FSGSBASE=$fsgs GOMAXPROCS=$p: exit $(describe_status "$goro_status"): $(cat "$GORO_OUT") $(head -c 2000 "$GORO_ERR")"
      local sw fs path sys
      sw=$(goro_stat context_switches)
      fs=$(goro_stat fs_writes)
      path=$(goro_stat fsgsbase)
      sys=$(goro_stat fs_syscalls)
      [ "$fs" -le "$sw" ] ||
        fail "$mode GORO_FSGSBASE=$fsgs GOMAXPROCS=$p: fs_writes=$fs > context_switches=$sw"
      [ "$sw" -gt 0 ] || fail "$mode GOMAXPROCS=$p: no context switch counted"
      case $fsgs in
        off)
          [ "$path" -eq 0 ] || fail "GORO_FSGSBASE=off: goro says fsgsbase=$path"
          [ "$sys" -eq "$fs" ] || fail "GORO_FSGSBASE=off: fs_syscalls=$sys, fs_writes=$fs (all by arch_prctl expected)" ;;
        ldt)
          # (segments are set up at the first thread goro makes)
          [ "$path" -eq 2 ] || { [ "$(goro_stat gs_created)" -eq 0 ] && [ "$path" -eq 0 ]; } ||
            fail "GORO_FSGSBASE=ldt: goro says fsgsbase=$path (2: LDT segments; modify_ldt refused?)" ;;
        auto)
          # (wrfsbase, 1, alone or with segments for the first threads, 3:
          # no call at all; a host without it takes segments, 2)
          [ $((path & 1)) -eq 0 ] || [ "$sys" -eq 0 ] || fail "GORO_FSGSBASE=auto: fsgsbase=$path (wrfsbase) but fs_syscalls=$sys" ;;
      esac
      eval "last_${fsgs}_${p}_sw=$sw last_${fsgs}_${p}_fs=$fs last_${fsgs}_${p}_sys=$sys"
    done
  done
}

@test "switch: create+join keeps each thread's TLS; fs_writes <= context_switches, with and without GORO_FSGSBASE=off" {
  switch_counts create_join
  # 5,000 threads: each create+join is two switches (to the new G and back)
  [ "$last_off_1_fs" -ge 5000 ] || fail "GOMAXPROCS=1: fs_writes=$last_off_1_fs for 5,000 thread switches"
  # with LDT segments only the switch back to main (its TCB, made by ld.so,
  # lies above 4 GiB) is a system call
  [ "$last_ldt_1_sys" -le 5100 ] && [ "$last_ldt_1_fs" -ge 2 ] && [ "$last_ldt_1_sys" -le $((last_ldt_1_fs / 2 + 50)) ] ||
    fail "GORO_FSGSBASE=ldt GOMAXPROCS=1: fs_syscalls=$last_ldt_1_sys of fs_writes=$last_ldt_1_fs (at most one per create+join expected)"
}

@test "switch: sched_yield ping-pong keeps each thread's TLS; fs_writes <= context_switches" {
  # 500 rounds: natively every hand-off waits for the kernel to schedule the
  # other player, a whole time slice on a loaded host
  switch_counts yield_pingpong 500
}

@test "switch: condition-variable ping-pong keeps each thread's TLS; fs_writes <= context_switches" {
  switch_counts cond_pingpong
  # GOMAXPROCS=1: every hand-off is a switch to the other G, one write each
  [ "$last_off_1_fs" -eq "$last_off_1_sw" ] ||
    fail "GOMAXPROCS=1: fs_writes=$last_off_1_fs, context_switches=$last_off_1_sw (one write per switch expected)"
  # with LDT segments the players' writes are segment loads: system calls
  # only to leave and re-enter main, a handful in all
  local p v
  for p in 1 2; do
    eval "v=\$last_ldt_${p}_sys"
    [ "$v" -le 100 ] || fail "GORO_FSGSBASE=ldt GOMAXPROCS=$p: fs_syscalls=$v for 40,000 hand-offs of two threads (expected a handful: main's and the Ms' own)"
  done
}

@test "switch: a thread that yields alone resumes without writing %fs" {
  switch_counts yield_alone
  for v in "$last_auto_1_fs" "$last_auto_2_fs" "$last_off_1_fs" "$last_off_2_fs"; do
    # 20,000 yields; a handful of writes at most (a new M's first G)
    [ "$v" -le 8 ] || fail "fs_writes=$v for a lone yielding thread (expected ~0)"
  done
}

@test "GORO_FSGSBASE: bad values are refused with one line naming what is accepted" {
  require_goro
  for v in "" on yes 0 OFF LDT; do
    run env LD_PRELOAD="$GORO_LIB" GORO_FSGSBASE="$v" "$PROGS_DIR/hello"
    [ "$status" -eq 2 ] || fail "GORO_FSGSBASE='$v': exit $status (want 2): $output"
    [ "${#lines[@]}" -eq 1 ] || fail "GORO_FSGSBASE='$v': expected one line, saw: $output"
    [[ "$output" == *'GORO_FSGSBASE="'"$v"'" is not valid: auto'*off*ldt*wrfsbase* ]] || fail "GORO_FSGSBASE='$v': $output"
  done
  for v in auto off ldt wrfsbase; do
    run env LD_PRELOAD="$GORO_LIB" GORO_FSGSBASE="$v" "$PROGS_DIR/hello"
    [ "$status" -eq 0 ] || fail "GORO_FSGSBASE=$v: exit $status: $output"
  done
}
