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

# --- fuzz: every variable, hostile values and the edges of what it accepts ---

# shown VALUE: VALUE as goro's message quotes it (preload/config.c bad):
# '"' and '\' escaped, other bytes outside printable ASCII as \xNN, at most
# 120 bytes and then '..." (N bytes)'; with the closing quote.
shown() {
  local LC_ALL=C v=$1 i c out=""
  for ((i = 0; i < ${#v} && i < 120; i++)); do
    c=${v:i:1}
    case $c in
    '"' | '\') out+="\\$c" ;;
    [[:print:]]) out+=$c ;;
    *) printf -v c '\\x%02x' "'$c"; out+=$c ;;
    esac
  done
  if ((${#v} > 120)); then out+="...\" (${#v} bytes)"; else out+='"'; fi
  printf '%s' "$out"
}

# Hostile values for a variable that takes a number or a keyword (a path
# or a glob takes most of them as a name: those pass what applies).
HUGE=$(printf '9%.0s' {1..5000})
COMMON_BAD=("" " " "abc" "-1" "9223372036854775808" "18446744073709551617"
  "99999999999999999999" "$HUGE" $'1\n' $'\t')

# fuzz VAR REFUSED... -- ACCEPTED...: hello under goro, in a directory of
# its own (GORO_TRACE's relative names land there), with VAR set to each
# value.  A refused value: nothing
# on stdout, exit status 2, and exactly one line on stderr, `goro:
# VAR="VALUE" is not valid: WHAT IS ACCEPTED`.  An accepted value: stdout and
# exit status as native, nothing 'not valid' on stderr, and GORO_STATS's
# line (goro ran to the end: it did not silently fall back to native).
# Every value is tried; the failures are listed together.
fuzz() {
  local var=$1 v st line nl want
  shift
  local refused=() accepted=()
  while (($# > 0)) && [ "$1" != -- ]; do refused+=("$1"); shift; done
  (($# == 0)) || shift
  accepted=("$@")
  require_goro
  native_run hello
  [ "$native_status" -eq 0 ] || fail "native hello exited $native_status"
  local o=$BATS_TEST_TMPDIR/fuzz.out e=$BATS_TEST_TMPDIR/fuzz.err errs=()
  for v in "${refused[@]}"; do
    st=0
    (cd "$BATS_TEST_TMPDIR" && timeout "$GORO_TEST_TIMEOUT" env LD_PRELOAD="$GORO_LIB" "$var=$v" \
      "$PROGS_DIR/hello") >"$o" 2>"$e" || st=$?
    want="goro: $var=\"$(shown "$v") is not valid: "
    nl=$(wc -l <"$e")
    line=$(head -n 1 "$e")
    if [ "$st" -ne 2 ] || [ -s "$o" ] || [ "$nl" -ne 1 ] || [ "$(tail -c 1 "$e" | od -An -tx1)" != " 0a" ] ||
      [[ $line != "$want"?* ]]; then
      errs+=("refused $var=\"$(shown "$v"): exit $(describe_status "$st") (want 2), stdout $(wc -c <"$o") bytes (want 0), stderr $nl line(s) (want 1: '$want...'): $(head -c 300 "$e")")
    fi
  done
  for v in "${accepted[@]}"; do
    st=0
    local stats=(GORO_STATS=1)
    [ "$var" != GORO_STATS ] || stats=()
    (cd "$BATS_TEST_TMPDIR" && timeout "$GORO_TEST_TIMEOUT" env LD_PRELOAD="$GORO_LIB" "${stats[@]}" \
      "$var=$v" "$PROGS_DIR/hello") >"$o" 2>"$e" || st=$?
    local nstats
    nstats=$(grep -c '^goro: stats: ' "$e" || true)
    if [ "$st" -ne "$native_status" ] || ! cmp -s "$o" "$NATIVE_OUT" || grep -q 'not valid' "$e" ||
      { [ ${#stats[@]} -gt 0 ] && [ "$nstats" -ne 1 ]; }; then
      errs+=("accepted $var=\"$(shown "$v"): exit $(describe_status "$st") (native $native_status), stdout '$(head -c 200 "$o")' (native '$(cat "$NATIVE_OUT")'), $nstats stats line(s); stderr: $(head -c 300 "$e")")
    fi
  done
  if [ ${#errs[@]} -gt 0 ]; then
    printf '%s\n' "${errs[@]}" >&2
    fail "$var: ${#errs[@]} of $((${#refused[@]} + ${#accepted[@]})) values handled wrongly (above)"
  fi
}

@test "fuzz GOMAXPROCS: refuses 0, 1025, overflow, signs and spaces; accepts 1 and 1024" {
  fuzz GOMAXPROCS "${COMMON_BAD[@]}" 0 1025 " 4" "4 " "+4" "4.0" "0x4" "4q" "9223372036854775807" \
    -- 1 2 1024 0001
}

@test "fuzz GORO_STACK: refuses below 16K, above 1G, overflow and bad suffixes; accepts 16K..1G" {
  fuzz GORO_STACK "${COMMON_BAD[@]}" 0 16383 15K 1073741825 1025M 2G " 16K" "16K " "16 K" 16KB 16KK K 16T \
    99999999999999999999K 18014398509481984K 17179869184G 9223372036854775807 \
    -- 16384 16K 16k 1G 1g 1024M 1048576K 1073741824
}

@test "fuzz GORO_STATS: only 0 and 1" {
  fuzz GORO_STATS "${COMMON_BAD[@]}" 2 01 " 1" "1 " yes true on -- 0 1
}

@test "fuzz GORO_PREEMPT: refuses other signals, SIGRTMIN+N out of range or overflowing; accepts each name and SIGRTMIN+0..max" {
  local max=$(($(kill -l SIGRTMAX) - $(kill -l SIGRTMIN)))
  fuzz GORO_PREEMPT "${COMMON_BAD[@]}" SIGKILL SIGSEGV KILL 9 sigurg OFF " SIGURG" "SIGURG " SIGRTMIN SIGRTMIN+ \
    SIGRTMIN-1 SIGRTMIN+-1 "SIGRTMIN+ 1" "SIGRTMIN+$((max + 1))" SIGRTMAX \
    SIGRTMIN+9223372036854775783 SIGRTMIN+9223372036854775807 SIGRTMIN+9223372036854775808 \
    SIGRTMIN+18446744073709551617 SIGRTMIN+99999999999999999999 \
    -- off SIGURG URG SIGUSR1 USR1 SIGUSR2 SIGWINCH SIGIO SIGPWR SIGRTMIN+0 "SIGRTMIN+$max"
}

@test "fuzz GORO_TRACE: refuses a directory, a missing directory, a too-long name; accepts writable paths" {
  local d=$BATS_TEST_TMPDIR
  : >"$d/exists.json"
  ln -s "$d/missing-target.json" "$d/dangling"
  fuzz GORO_TRACE "" "$HUGE" "$d" "$d/" "$d/no-such-dir/t.json" "/proc/t.json" "$d/dangling" \
    "$d/$(printf 'x%.0s' {1..300})" "/$(printf 'a/%.0s' {1..3000})t.json" \
    -- "$d/new.json" "$d/exists.json" t.json " t.json" " " -1 9223372036854775808 /dev/null
}

@test "fuzz GORO_LOCKED: refuses empty globs, spaces, globs over 255 bytes; accepts globs" {
  local g255 g256
  g255=$(printf 'a%.0s' {1..255})
  g256=${g255}a
  fuzz GORO_LOCKED "" " " $'\t' $'1\n' "$HUGE" "," "a," ",a" "a,,b" " a" "a " "a b" $'a\tb' "$g256" "a,$g256" \
    -- worker 'ui_*,net_?' '[a-z]*' '*' "$g255" "a,$g255"
}

@test "fuzz GORO_DEBUG: refuses unknown keys, bad values, overflow, empty entries; accepts every documented setting" {
  fuzz GORO_DEBUG "${COMMON_BAD[@]}" "," schedtrace schedtrace= schedtrace=-1 schedtrace=3600001 \
    schedtrace=9223372036854775808 schedtrace=18446744073709551617 schedtrace=99999999999999999999 \
    scheddetail=2 scheddetail= deadlock=panic deadlock= bogus=1 SCHEDTRACE=1 " schedtrace=1" \
    "schedtrace=1 " "schedtrace=1," ",schedtrace=1" "schedtrace=1,,scheddetail=1" "=1" \
    -- schedtrace=0 schedtrace=3600000 scheddetail=0 scheddetail=1 deadlock=abort deadlock=hang \
    schedtrace=3600000,scheddetail=1,deadlock=abort
}

@test "fuzz GORO_TRAP: only auto and off" {
  fuzz GORO_TRAP "${COMMON_BAD[@]}" on AUTO Off " auto" "auto " 1 0 -- auto off
}

@test "fuzz GORO_FSGSBASE: only auto, off, ldt and wrfsbase" {
  fuzz GORO_FSGSBASE "${COMMON_BAD[@]}" on AUTO Off " auto" "auto " 1 0 LDT WRFSBASE -- auto off ldt wrfsbase
}
