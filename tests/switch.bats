#!/usr/bin/env bats
# The context switch and the %fs base (issue 9): a G switch writes %fs at
# most once (g0 keeps the TCB of the G it left; the M is found through the
# %gs base), and not at all when the same G resumes.  Every mode of
# switch_tls checks after each switch that every thread still sees its own
# __thread variable and errno, natively and under goro, with wrfsbase and
# with GORO_FSGSBASE=off (arch_prctl); the counters prove how many writes
# the switches took.

load helpers

# switch_counts MODE [ARGS]: runs switch_tls MODE natively, then under goro at
# GOMAXPROCS 1 and 2 with and without GORO_FSGSBASE=off; outputs must match
# and fs_writes <= context_switches.  Leaves the last run's counters in
# $GORO_ERR.
switch_counts() {
  local mode=$1
  shift
  native_run switch_tls "$mode" "$@"
  [ "$native_status" -eq 0 ] || fail "native run: exit $(describe_status "$native_status"): $(cat "$NATIVE_OUT")"
  for fsgs in auto off; do
    for p in 1 2; do
      GORO_FSGSBASE=$fsgs GORO_STATS=1 goro_run "$p" switch_tls "$mode" "$@"
      [ "$goro_status" -eq 0 ] && cmp -s "$NATIVE_OUT" "$GORO_OUT" ||
        fail "$mode GORO_FSGSBASE=$fsgs GOMAXPROCS=$p: exit $(describe_status "$goro_status"): $(cat "$GORO_OUT") $(head -c 2000 "$GORO_ERR")"
      local sw fs path
      sw=$(goro_stat context_switches)
      fs=$(goro_stat fs_writes)
      path=$(goro_stat fsgsbase)
      [ "$fs" -le "$sw" ] ||
        fail "$mode GORO_FSGSBASE=$fsgs GOMAXPROCS=$p: fs_writes=$fs > context_switches=$sw"
      [ "$sw" -gt 0 ] || fail "$mode GOMAXPROCS=$p: no context switch counted"
      if [ "$fsgs" = off ]; then
        [ "$path" -eq 0 ] || fail "GORO_FSGSBASE=off: goro says fsgsbase=$path"
      fi
      eval "last_${fsgs}_${p}_sw=$sw last_${fsgs}_${p}_fs=$fs"
    done
  done
}

@test "switch: create+join keeps each thread's TLS; fs_writes <= context_switches, with and without GORO_FSGSBASE=off" {
  switch_counts create_join
  # 5,000 threads: each create+join is two switches (to the new G and back)
  [ "$last_off_1_fs" -ge 5000 ] || fail "GOMAXPROCS=1: fs_writes=$last_off_1_fs for 5,000 thread switches"
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
  for v in "" on yes 0 OFF; do
    run env LD_PRELOAD="$GORO_LIB" GORO_FSGSBASE="$v" "$PROGS_DIR/hello"
    [ "$status" -eq 2 ] || fail "GORO_FSGSBASE='$v': exit $status (want 2): $output"
    [ "${#lines[@]}" -eq 1 ] || fail "GORO_FSGSBASE='$v': expected one line, saw: $output"
    [[ "$output" == *'GORO_FSGSBASE="'"$v"'" is not valid: auto'*off* ]] || fail "GORO_FSGSBASE='$v': $output"
  done
  for v in auto off; do
    run env LD_PRELOAD="$GORO_LIB" GORO_FSGSBASE="$v" "$PROGS_DIR/hello"
    [ "$status" -eq 0 ] || fail "GORO_FSGSBASE=$v: exit $status: $output"
  done
}
