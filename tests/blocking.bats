#!/usr/bin/env bats
# Declared blocking calls (GORO_BLOCKING, docs/ARCHITECTURE.md "Declared
# blocking calls"): a vendor library (tests/progs/libvendor.c) that blocks
# where goro cannot see it, declared at run time.  Results and errno equal
# native ones at GOMAXPROCS 1 and 2; the counters prove the declared path
# ran: declared_calls counts the calls, and the P of a blocked declared
# call was handed off without sysmon's blocked-call detection or the raw
# system-call trap.

load helpers

GORO_PROCS="1 2"
DECL='vendor_wait:int(int,ptr,int),libvendor.so:vendor_sum:double(int,long,double,ptr),vendor_spin:void(ptr)'
# a stack argument (avcall) and float in both directions (the register path)
DECL+=',vendor_many:double(int,long,long,long,long,long,long,float),vendor_half:float(float,uint)'
DECL+=',vendor_read:int(int,ptr,int)'

# assert_stat_eq NAME WANT WHERE
assert_stat_eq() {
  local v
  v=$(goro_stat "$1") || return 1
  [ "$v" -eq "$2" ] || fail "$3: $1=$v, expected $2
$(head -c 2000 "$GORO_ERR")"
}

# with_spec CMD...: CMD with GORO_BLOCKING=$BLK (default $DECL); BLK set
# and empty: GORO_BLOCKING unset (only the built-in entries).
with_spec() {
  if [ -n "${BLK+x}" ] && [ -z "$BLK" ]; then
    "$@"
  else
    GORO_BLOCKING=${BLK-$DECL} "$@"
  fi
}

# compare_declared WANT PROG ARGS...: PROG ARGS under with_spec equals native
# at each GOMAXPROCS and ran WANT declared calls; each counter named in
# $ZERO_STATS stayed 0.
compare_declared() {
  local want=$1 p c
  shift
  with_spec compare_native_goro "$@"
  for p in $GORO_PROCS; do
    GORO_STATS=1 with_spec goro_run "$p" "$@"
    assert_stat_eq declared_calls "$want" "$* GOMAXPROCS=$p"
    for c in ${ZERO_STATS:-}; do
      assert_stat_eq "$c" 0 "$* GOMAXPROCS=$p"
    done
  done
}

@test "blocking values: results and errno equal native; 10 declared calls (program GOT, GLOB_DAT pointer, dlsym RTLD_DEFAULT and RTLD_NEXT, dlopen'ed library, stack and float arguments)" {
  compare_declared 10 blocking values
}

@test "blocking values: without a declaration the same results, no declared call" {
  compare_native_goro blocking values
  GORO_STATS=1 goro_run 1 blocking values
  assert_stat_eq declared_calls 0 "undeclared"
}

@test "blocking wait: a raw-syscall read declared blocking hands its P off at once (program and dlopen'ed library)" {
  # the other G ran while the call blocked: not by trapping the raw syscall
  # nor by sysmon's blocked-call redo, but by the declared path
  ZERO_STATS="trapped_calls blocked_calls_redone" compare_declared 1 blocking wait direct
  ZERO_STATS="trapped_calls blocked_calls_redone" compare_declared 1 blocking wait plug
}

@test "blocking wait nested: goro's read parks inside a declared call (the G keeps its M)" {
  compare_declared 1 blocking wait nested
  assert_stat_ge nop_waits 1 "the read inside the declared call"
}

@test "blocking wait: undeclared, the same result (through goro's own fallbacks), no declared call" {
  compare_native_goro blocking wait direct
  GORO_STATS=1 goro_run 1 blocking wait direct
  assert_stat_eq declared_calls 0 "undeclared"
}

@test "blocking spin: a declared user-space busy-wait lets the G that sets its flag run at GOMAXPROCS=1" {
  compare_declared 1 blocking spin
}

@test "a '!' entry is a cancellation point: a pending cancel acts before the call (without '!' it does not, as natively)" {
  compare_declared 1 blocking cancel # DECL's vendor_wait has no '!'
  BLK='vendor_wait:int(int,ptr,int)!' GORO_STATS=1 with_spec goro_run 1 blocking cancel
  assert_equal "$goro_status" 0
  assert_equal "$(cat "$GORO_OUT")" "cancelled: yes"
}

@test "a '!' entry is a cancellation point while it blocks: a cancel ends a vendor_wait blocked in its own syscall, as one ends read (native: read)" {
  native_run blocking cancelwait libc
  assert_equal "$native_status" 0
  local p
  for p in $GORO_PROCS; do
    BLK='vendor_wait:int(int,ptr,int)!' GORO_STATS=1 with_spec goro_run "$p" blocking cancelwait vendor
    assert_equal "$goro_status" 0
    diff -u "$NATIVE_OUT" "$GORO_OUT" || fail "GOMAXPROCS=$p: a declared '!' call differs from native read"
    assert_stat_eq declared_calls 1 "GOMAXPROCS=$p"
    assert_stat_eq trapped_calls 0 "GOMAXPROCS=$p"
  done
}

@test "GORO_DEBUG=blocking names the patched objects: the program and the dlopen'ed library" {
  GORO_DEBUG=blocking GORO_BLOCKING=$DECL goro_run 1 blocking values
  assert_equal "$goro_status" 0
  grep -q '^goro: blocking: vendor_sum: 1 GOT slot of the program$' "$GORO_ERR" ||
    fail "no line for the program: $(cat "$GORO_ERR")"
  grep -q '^goro: blocking: vendor_sum: 1 GOT slot of .*/libvendplug.so$' "$GORO_ERR" ||
    fail "no line for libvendplug.so: $(cat "$GORO_ERR")"
}

@test "an entry that matches no GOT slot is warned about once, and the program runs" {
  GORO_BLOCKING='vendor_unused:int()' goro_run 1 blocking values
  assert_equal "$goro_status" 0
  assert_equal "$(grep -c 'vendor_unused:int()" matched nothing' "$GORO_ERR")" 1
}

# refused VALUE...: each exits 2 before main with one stderr line naming
# GORO_BLOCKING and the entry, stdout empty.
refused() {
  local v st errs=() o=$BATS_TEST_TMPDIR/r.out e=$BATS_TEST_TMPDIR/r.err
  for v in "$@"; do
    st=0
    timeout "$GORO_TEST_TIMEOUT" env LD_PRELOAD="$GORO_LIB" GORO_BLOCKING="$v" "$PROGS_DIR/blocking" values \
      >"$o" 2>"$e" || st=$?
    if [ "$st" -ne 2 ] || [ -s "$o" ] || [ "$(wc -l <"$e")" -ne 1 ] || ! grep -q '^goro: GORO_BLOCKING' "$e"; then
      errs+=("GORO_BLOCKING='$v': exit $st (want 2), stdout $(wc -c <"$o") bytes (want 0), stderr: $(head -c 300 "$e")")
    fi
  done
  [ ${#errs[@]} -eq 0 ] || fail "$(printf '%s\n' "${errs[@]}")"
}

@test "bad GORO_BLOCKING entries: one line naming the entry, exit 2" {
  local many=int
  for _ in {1..12}; do many+=",int"; done
  refused "" $'vendor_sum:double(int)\n' "f" "f:int" "f:int(" "f:int)" "f:bogus()" "f:int(bogus)" "f:int(int,...)" \
    "1f:int()" "a:b:c:int()" "dir/libvendor.so:vendor_sum:int()" "f:int(void,int)" "f:int(int)x" "f:int(int)!!" \
    "f:int((int))" "vendor_sum:double(),,vendor_wait:int()" "," "vendor_spin:void(ptr)," "-," "vendor_sum:double($many)" \
    "vendor_sum:double(),vendor_sum:double()" "@/nonexistent/blocking.spec" \
    "nosuchlib.so:vendor_sum:double()" "no_such_function:int()" "libc.so.6:vendor_sum:double()" \
    "printf:int(ptr,...)"
  grep -q 'is not valid: variadic functions cannot be declared' "$BATS_TEST_TMPDIR/r.err" ||
    fail "the last refusal should name the cause: $(cat "$BATS_TEST_TMPDIR/r.err")"
}

@test "GORO_BLOCKING accepts '-', @file with comments, spaces, '!' and a library; the program runs as natively" {
  native_run blocking values
  local spec=$BATS_TEST_TMPDIR/blocking.spec
  printf '# vendor calls\n\nvendor_wait:int(int, ptr, int)!  # a cancellation point\nlibvendor.so:vendor_sum:double(int,long,double,ptr)\n' >"$spec"
  for v in "-" "-vendor_spin:void(ptr)" "@$spec" "@$spec,vendor_spin:void(ptr)" " vendor_spin:void( ptr ) " ; do
    GORO_STATS=1 GORO_BLOCKING="$v" goro_run 1 blocking values
    [ "$goro_status" -eq 0 ] && cmp -s "$NATIVE_OUT" "$GORO_OUT" ||
      fail "GORO_BLOCKING='$v': exit $goro_status, stdout $(cat "$GORO_OUT"), stderr $(cat "$GORO_ERR")"
  done
  GORO_STATS=1 GORO_BLOCKING="@$spec" goro_run 1 blocking values
  assert_stat_eq declared_calls 8 "@file" # vendor_many and vendor_half undeclared
}

@test "GORO_BLOCKING with user entries and no loadable libffcall: one line, exit 2" {
  local d=$BATS_TEST_TMPDIR/noffcall
  mkdir -p "$d" && : >"$d/libffcall.so.0" # not an ELF object: dlopen fails
  st=0
  LD_LIBRARY_PATH=$d GORO_BLOCKING=$DECL goro_run 1 blocking values || st=$?
  assert_equal "$goro_status" 2
  assert_equal "$(wc -l <"$GORO_ERR")" 1
  grep -q '^goro: GORO_BLOCKING declares functions but libffcall cannot be loaded' "$GORO_ERR" ||
    fail "$(cat "$GORO_ERR")"
  # without user entries libffcall is never loaded
  LD_LIBRARY_PATH=$d GORO_BLOCKING=- goro_run 1 blocking values
  assert_equal "$goro_status" 0
}

@test "built-in declared calls: 100 threads in getaddrinfo(localhost) at once, then user and group lookups, as natively" {
  # 100 getaddrinfo, getnameinfo, gethostbyname, getpwnam, getpwuid,
  # getgrnam, getpwnam_r, getgrgid_r
  BLK= compare_declared 107 blocking_nss
}

@test "GORO_BLOCKING=- drops the built-in declared calls: the same results, none counted" {
  GORO_BLOCKING=- compare_native_goro blocking_nss
  GORO_STATS=1 GORO_BLOCKING=- goro_run 1 blocking_nss
  assert_stat_eq declared_calls 0 "GORO_BLOCKING=-"
}

@test "scripts/goro --blocking SPEC passes GORO_BLOCKING through" {
  run "$GORO_ROOT/scripts/goro" --dry-run --blocking "$DECL" -- "$PROGS_DIR/blocking" values
  assert_success
  assert_line "GORO_BLOCKING=$(printf '%q' "$DECL")"
  run "$GORO_ROOT/scripts/goro" --dry-run --blocking - -- "$PROGS_DIR/blocking" values
  assert_success
  assert_line "GORO_BLOCKING=-"
  run "$GORO_ROOT/scripts/goro" --blocking -- "$PROGS_DIR/blocking" values
  assert_failure 2
  run "$GORO_ROOT/scripts/goro" --stats --blocking "$DECL" -- "$PROGS_DIR/blocking" values
  assert_success
  [[ $output == *"declared_calls=10"* ]] || fail "$output"
}

@test "built-in declared stdio: fgets/getline/fread on a pipe block with the P handed off; buffered calls stay plain" {
  # the writer's first fputs (no buffer yet) and its fflush, the reader's
  # fgets and fread; getline finds its line in the buffer, and the other
  # writes fit in it
  BLK= ZERO_STATS=blocked_calls_redone compare_declared 4 blocking_stdio
  GORO_BLOCKING=- compare_native_goro blocking_stdio
}
