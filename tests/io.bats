#!/usr/bin/env bats
# I/O: blocking reads on pipes, raw system calls, sockets, the program's own
# O_NONBLOCK, inherited file descriptions, poll/select/epoll_wait, fork and
# system(), and real multi-threaded compressors.  Subject programs run
# natively and under goro with GOMAXPROCS in $GORO_PROCS (default 1 2 4);
# stdout and exit status must be identical.

load helpers

# ---- 1. a read() that blocks before its writer ever ran -------------------

@test "io_pipe_block: read() on an empty pipe blocks until a later thread writes" {
  compare_native_goro io_pipe_block
}

@test "io_pipe_block: the blocked read parks on the netpoller (netpoll_parks >= 1)" {
  for p in $GORO_PROCS; do
    GORO_STATS=1 goro_run "$p" io_pipe_block
    assert_equal "$goro_status" 0
    n=$(goro_stat netpoll_parks)
    if [ "$n" -lt 1 ]; then
      fail "GOMAXPROCS=$p: netpoll_parks: expected >= 1, saw $n
$(cat "$GORO_ERR")"
    fi
  done
}

# ---- 2. a raw syscall(SYS_read) that goro cannot park ----------------------

@test "io_rawsyscall: 100 threads compute while a raw syscall(SYS_read) blocks" {
  compare_native_goro io_rawsyscall
}

@test "io_rawsyscall: GOMAXPROCS=1: the blocked M hands off its P (handoffs >= 1)" {
  GORO_STATS=1 goro_run 1 io_rawsyscall
  if [ "$goro_status" -ne 0 ]; then
    fail "exit status: expected 0, saw $(describe_status "$goro_status")
stdout: $(cat "$GORO_OUT")
stderr: $(head -c 2000 "$GORO_ERR")"
  fi
  n=$(goro_stat handoffs)
  if [ "$n" -lt 1 ]; then
    fail "handoffs: expected >= 1, saw $n
$(cat "$GORO_ERR")"
  fi
}

# ---- 3. sockets ------------------------------------------------------------

@test "io_echo: echo server, 1,000 client threads (TCP, unix; in-process and in a child process)" {
  STATS_MANY=1 compare_native_goro io_echo
}

# ---- 4. the program's own blocking mode -----------------------------------

@test "io_nonblock: O_NONBLOCK EAGAIN, F_GETFL as set, MSG_DONTWAIT, blocking recv, partial reads, EOF" {
  compare_native_goro io_nonblock
}

# ---- 5. file descriptions shared with another process ---------------------

# inherited_run MODE DIR [P]: runs the pipeline of MODE (write, read, copy)
# with io_inherited natively, or under goro with GOMAXPROCS=P.  io_peer
# (always native) feeds or drains the pipe, and `io_peer watch` shares
# io_inherited's fds 0 and 1 -- the same open file descriptions -- and
# samples their O_NONBLOCK until io_inherited exits.  Results in DIR: out
# (pipeline stdout), prog.err, prog.status, watch.err, drain.status.
inherited_run() {
  local mode=$1 dir=$2 p=${3:-}
  local envs=()
  [ -n "$p" ] && envs=(LD_PRELOAD="$GORO_LIB" GOMAXPROCS="$p" GORO_STATS=1)
  local T=$GORO_TEST_TIMEOUT prog="$PROGS_DIR/io_inherited" peer="$PROGS_DIR/io_peer"
  mkdir -p "$dir"
  # (`timeout` forwards no fds of its own: io_inherited's fds 0 and 1 are
  # those of the group, as are the watcher's)
  case $mode in
    write)
      { timeout "$T" env "${envs[@]}" "$prog" write 2>"$dir/prog.err" &
        local pid=$!
        timeout "$T" "$peer" watch "$pid" 2>"$dir/watch.err" || true
        local s=0; wait "$pid" || s=$?; echo "$s" >"$dir/prog.status"
      } | { timeout "$T" "$peer" drain lines >"$dir/out"; echo $? >"$dir/drain.status"; }
      ;;
    read)
      timeout "$T" "$peer" feed 300000 | {
        timeout "$T" env "${envs[@]}" "$prog" read >"$dir/out" 2>"$dir/prog.err" &
        local pid=$!
        timeout "$T" "$peer" watch "$pid" 2>"$dir/watch.err" || true
        local s=0; wait "$pid" || s=$?; echo "$s" >"$dir/prog.status"
      }
      echo 0 >"$dir/drain.status"
      ;;
    copy)
      timeout "$T" "$peer" feed 300000 | {
        timeout "$T" env "${envs[@]}" "$prog" copy 2>"$dir/prog.err" &
        local pid=$!
        timeout "$T" "$peer" watch "$pid" 2>"$dir/watch.err" || true
        local s=0; wait "$pid" || s=$?; echo "$s" >"$dir/prog.status"
      } | { timeout "$T" "$peer" drain bytes >"$dir/out"; echo $? >"$dir/drain.status"; }
      ;;
  esac
  # io_inherited copy reports on stderr: keep that line with the output
  grep -v '^goro: ' "$dir/prog.err" >>"$dir/out" || true
}

inherited_check() {
  local mode=$1
  require_prog io_inherited
  require_prog io_peer
  local nat="$BATS_TEST_TMPDIR/native"
  inherited_run "$mode" "$nat"
  if [ "$(cat "$nat/prog.status")" != 0 ] || [ "$(cat "$nat/drain.status")" != 0 ] ||
     ! grep -q 'seen on fd 0 in 0 samples, on fd 1 in 0 samples .*at the end fd 0: 0, fd 1: 0$' "$nat/watch.err"; then
    fail "native run of the $mode pipeline failed: io_inherited exit $(cat "$nat/prog.status"), drain exit $(cat "$nat/drain.status")
$(cat "$nat/out" "$nat/prog.err" "$nat/watch.err")"
  fi
  require_goro
  local p failed=0
  for p in $GORO_PROCS; do
    local d="$BATS_TEST_TMPDIR/goro$p" why=()
    inherited_run "$mode" "$d" "$p"
    local st; st=$(cat "$d/prog.status")
    [ "$st" = 0 ] || why+=("io_inherited exit status: expected 0, saw $(describe_status "$st")")
    [ "$(cat "$d/drain.status")" = 0 ] || why+=("io_peer drain exit status: $(cat "$d/drain.status")")
    cmp -s "$nat/out" "$d/out" || why+=("output differs from native")
    grep -q 'seen on fd 0 in 0 samples, on fd 1 in 0 samples .*at the end fd 0: 0, fd 1: 0$' "$d/watch.err" ||
      why+=("another process saw O_NONBLOCK on the shared file description: $(cat "$d/watch.err")")
    if [ "$st" = 0 ]; then
      # the threads really blocked on the inherited pipe under goro: it
      # parked them (netpoll) or handed their P off
      local parks handoffs
      parks=$(goro_stat netpoll_parks "$d/prog.err") || parks=0
      handoffs=$(goro_stat handoffs "$d/prog.err") || handoffs=0
      [ $((parks + handoffs)) -ge 1 ] ||
        why+=("expected netpoll_parks + handoffs >= 1 (threads blocked on the pipe), saw $parks + $handoffs")
    fi
    if [ ${#why[@]} -gt 0 ]; then
      failed=1
      {
        echo "=== io_inherited $mode under goro, GOMAXPROCS=$p:"
        printf '  %s\n' "${why[@]}"
        diff -u --label native --label "goro GOMAXPROCS=$p" "$nat/out" "$d/out" || true
        echo "--- io_inherited stderr"; head -c 3000 "$d/prog.err"
        echo "--- watcher"; cat "$d/watch.err"
      } >&2
    fi
  done
  return "$failed"
}

@test "io_inherited write: 4 threads write a shared stdout pipe; no one else ever sees O_NONBLOCK" {
  inherited_check write
}

@test "io_inherited read: 4 threads read a shared stdin pipe; no one else ever sees O_NONBLOCK" {
  inherited_check read
}

@test "io_inherited copy: 4 threads copy shared stdin to shared stdout; no O_NONBLOCK on either" {
  inherited_check copy
}

# ---- 6. poll, select, epoll_wait ---------------------------------------------

@test "io_poll: poll/select/epoll_wait park until ready or timeout; poll(NULL,0,30) and select(0) sleep" {
  compare_native_goro io_poll
}

# ---- 7. fork and system() from a multi-threaded program --------------------

@test "io_fork: fork from 8 busy threads (child makes 4 threads); system() from 8 threads" {
  STATS_MANY=1 compare_native_goro io_fork
}

# ---- 8. real multi-threaded programs ---------------------------------------

# ~50 MB, deterministic (fixed awk seed; the same file for the native and the
# goro runs, so the awk implementation does not matter), compressible but
# not trivially: numbered lines of pseudo-random numbers and words.
realbins_data() {
  REALBINS_DATA="$BATS_FILE_TMPDIR/realbins.data"
  [ -s "$REALBINS_DATA" ] && return 0
  awk 'BEGIN { srand(20240601)
      split("goro thread netpoll sysmon handoff park steal runq", w, " ")
      n = 0
      while (n < 50000000) {
        r = int(rand() * 1000000)
        line = sprintf("%08d %s %d %x %s\n", NR++, w[1 + int(rand() * 8)], r,
                       int(rand() * 65536), w[1 + r % 8])
        printf "%s", line; n += length(line) } }' |
    head -c 50000000 >"$REALBINS_DATA.tmp"
  mv "$REALBINS_DATA.tmp" "$REALBINS_DATA"
}

# realbins TOOL EXT COMPRESS... -- DECOMPRESS...: compresses the data
# natively, then under goro with GOMAXPROCS=1 and 2: the compressed stream
# must equal the native one and decompress (under goro) to the input.
realbins() {
  local tool=$1 ext=$2; shift 2
  local comp=() decomp=()
  while [ "$1" != -- ]; do comp+=("$1"); shift; done; shift
  decomp=("$@")
  command -v "$tool" >/dev/null || skip "$tool not installed (scripts/install-deps.sh)"
  require_goro
  realbins_data
  local dir=$BATS_TEST_TMPDIR T=$GORO_TEST_TIMEOUT
  timeout "$T" "${comp[@]}" <"$REALBINS_DATA" >"$dir/native.$ext"
  local p failed=0
  for p in 1 2; do
    local why=() s=0
    rm -f "$dir/ld$p".*
    timeout "$T" env LD_PRELOAD="$GORO_LIB" GOMAXPROCS="$p" GORO_STATS=1 \
      LD_DEBUG=files LD_DEBUG_OUTPUT="$dir/ld$p" "${comp[@]}" \
      <"$REALBINS_DATA" >"$dir/goro$p.$ext" 2>"$dir/goro$p.cerr" || s=$?
    [ "$s" -eq 0 ] || why+=("${comp[*]}: exit status $(describe_status "$s")")
    # Proof that goro ran: its stats line -- except that xz closes its
    # stderr before exiting (goro's write of the line gets EBADF), so there
    # ld.so's own record that libgoro's initializer ran has to do.
    if [ "$tool" = xz ]; then
      grep -qh "calling init: $GORO_LIB\$" "$dir/ld$p".* 2>/dev/null ||
        why+=("${comp[*]}: ld.so never ran libgoro's initializer (LD_DEBUG=files)")
    else
      grep -q '^goro: stats: ' "$dir/goro$p.cerr" || why+=("${comp[*]}: no 'goro: stats:' line")
    fi
    cmp -s "$dir/native.$ext" "$dir/goro$p.$ext" ||
      why+=("${comp[*]}: compressed output differs from native ($(stat -c %s "$dir/native.$ext") vs $(stat -c %s "$dir/goro$p.$ext") bytes)")
    s=0
    timeout "$T" env LD_PRELOAD="$GORO_LIB" GOMAXPROCS="$p" "${decomp[@]}" \
      <"$dir/goro$p.$ext" >"$dir/goro$p.out" 2>"$dir/goro$p.derr" || s=$?
    [ "$s" -eq 0 ] || why+=("${decomp[*]}: exit status $(describe_status "$s")")
    cmp -s "$REALBINS_DATA" "$dir/goro$p.out" || why+=("${decomp[*]}: round trip differs from the input")
    rm -f "$dir/goro$p.out"
    if [ ${#why[@]} -gt 0 ]; then
      failed=1
      {
        echo "=== $tool under goro, GOMAXPROCS=$p:"
        printf '  %s\n' "${why[@]}"
        echo "--- compress stderr"; head -c 2000 "$dir/goro$p.cerr"
        echo "--- decompress stderr"; head -c 2000 "$dir/goro$p.derr"
      } >&2
    fi
  done
  return "$failed"
}

@test "io_realbins: pigz -p 4 on 50 MB under goro: same .gz as native, round trip" {
  realbins pigz gz pigz -p 4 -c -- pigz -p 4 -d -c
}

# xz's multi-threaded output depends only on the block size (here the -1
# preset's 3 MiB), not on scheduling, so it is compared with native's too.
# -1 rather than the default -6: -6 takes ~24 s natively on 2 cores.
@test "io_realbins: xz -T4 -1 on 50 MB under goro: same .xz as native, round trip" {
  realbins xz xz xz -T4 -1 -c -- xz -T4 -d -c
}

@test "io_realbins: zstd -T4 on 50 MB under goro: same .zst as native, round trip" {
  realbins zstd zst zstd -T4 -q -c -- zstd -T4 -q -d -c
}
