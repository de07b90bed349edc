#!/usr/bin/env bats
# Configuration from the environment: bad values are refused before main
# runs, with one line on stderr naming the variable and the value, and exit
# status 2 (never a silent fallback).  Good values are accepted.

bats_require_minimum_version 1.5.0
load helpers

# check_refused VAR VALUE: hello under goro with VAR=VALUE must print
# nothing on stdout, exactly one stderr line naming VAR and VALUE, exit 2.
check_refused() {
  local var=$1 val=$2
  require_goro
  require_prog hello
  run --separate-stderr timeout "$GORO_TEST_TIMEOUT" \
    env LD_PRELOAD="$GORO_LIB" "$var=$val" "$PROGS_DIR/hello"
  local ctx="$var=\"$val\""
  if [ "$status" -ne 2 ]; then
    fail "$ctx: exit status: expected 2, saw $(describe_status "$status"); stderr: $stderr"
  fi
  if [ -n "$output" ]; then
    fail "$ctx: the program ran (stdout: '$output'); goro must refuse before main"
  fi
  if [ "${#stderr_lines[@]}" -ne 1 ]; then
    fail "$ctx: expected exactly one line on stderr, saw ${#stderr_lines[@]}:
$stderr"
  fi
  if [[ "$stderr" != *"$var"* ]] || [[ "$stderr" != *"$val"* ]]; then
    fail "$ctx: the stderr line must name the variable and the value; saw: $stderr"
  fi
}

@test "GOMAXPROCS=abc is refused" { check_refused GOMAXPROCS abc; }
@test "GOMAXPROCS=0 is refused" { check_refused GOMAXPROCS 0; }
@test "GOMAXPROCS=-1 is refused" { check_refused GOMAXPROCS -1; }
@test "GOMAXPROCS=99999999 is refused" { check_refused GOMAXPROCS 99999999; }
@test "GOMAXPROCS=8q is refused" { check_refused GOMAXPROCS 8q; }
@test "GORO_STACK=abc is refused" { check_refused GORO_STACK abc; }
@test "GORO_STACK=0 is refused" { check_refused GORO_STACK 0; }
@test "GORO_STACK=-5 is refused" { check_refused GORO_STACK -5; }
@test "GORO_STACK=12q is refused" { check_refused GORO_STACK 12q; }
@test "GORO_STACK=99999T is refused" { check_refused GORO_STACK 99999T; }

@test "GOMAXPROCS=3 is accepted" {
  require_goro
  run --separate-stderr timeout "$GORO_TEST_TIMEOUT" \
    env LD_PRELOAD="$GORO_LIB" GOMAXPROCS=3 "$PROGS_DIR/hello"
  assert_success
  assert_output "hello"
  if [ -n "$stderr" ]; then
    fail "expected nothing on stderr, saw: $stderr"
  fi
}

@test "GORO_STATS=1 prints one stats line at exit" {
  require_goro
  run --separate-stderr timeout "$GORO_TEST_TIMEOUT" \
    env LD_PRELOAD="$GORO_LIB" GORO_STATS=1 "$PROGS_DIR/hello"
  assert_success
  assert_output "hello"
  if [ "${#stderr_lines[@]}" -ne 1 ]; then
    fail "expected exactly one line on stderr, saw ${#stderr_lines[@]}:
$stderr"
  fi
  local re='^goro: stats: gs_created=[0-9]+ max_live_gs=[0-9]+ ms_created=[0-9]+ context_switches=[0-9]+ steals=[0-9]+ globrunq_takes=[0-9]+( .*)?$'
  if ! [[ "$stderr" =~ $re ]]; then
    fail "stats line does not match $re; saw: $stderr"
  fi
}

@test "no GORO_STATS: nothing on stderr" {
  require_goro
  run --separate-stderr timeout "$GORO_TEST_TIMEOUT" \
    env -u GORO_STATS LD_PRELOAD="$GORO_LIB" "$PROGS_DIR/hello"
  assert_success
  assert_output "hello"
  if [ -n "$stderr" ]; then
    fail "expected nothing on stderr, saw: $stderr"
  fi
}
