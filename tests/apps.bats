#!/usr/bin/env bats
# apps.bats -- the compatibility matrix: real, widely used multithreaded
# programs from Debian's packages (scripts/install-deps.sh installs them),
# each run natively and under goro at GOMAXPROCS 1 and 2 on small inputs.
#
# A case is a shell function case_NAME that runs its subject programs through
# `sub` (or `server_start`/`server_stop`) and prints what they produced: exit
# statuses, output checksums, the deterministic lines of their reports.  The
# case runs once natively (every subject must exit 0 there) and once per
# GOMAXPROCS under goro; its stdout must be identical each time, and every
# subject run under goro must leave goro's proof (its `goro: stats:` line,
# GORO_STATS=1; or, for a program that closes its stderr, ld.so's record that
# libgoro's initializer ran).  Only subjects run under goro: load generators
# and checkers (md5sum, memcstat, redis-cli, ab, curl) run natively.
#
# Each subject run is bounded by `timeout $GORO_TEST_TIMEOUT` (a hang guard:
# the cases take seconds).  Servers listen on a free port; the case waits for
# the port to accept a connection (a handshake), runs the client, then stops
# the server the way its documentation says (SIGTERM, SIGQUIT, SHUTDOWN) and
# compares its exit status too.
#
# The cases at the bottom fail on main today; each says why (`# needs:`) and
# runs only with GORO_APPS_PENDING=1 until the fix lands.

load helpers

APPS_PROCS="1 2"

# --- inputs, made once ------------------------------------------------------

setup_file() {
  local d=$BATS_FILE_TMPDIR
  # ~4 MB of text: a counting sequence and seeded pseudo-random records
  {
    seq 1 200000
    awk 'BEGIN { srand(7); for (i = 0; i < 120000; i++)
      printf "%d %x word%d goro%d\n", int(rand() * 1e9), i, i % 977, i % 13 }'
  } >"$d/input.txt"
  apps_make_project "$d/proj"
  apps_git_repo "$d/repo"
  if command -v javac >/dev/null; then
    mkdir -p "$d/java"
    javac -d "$d/java" "$GORO_ROOT/tests/progs/AppThreads.java"
  fi
}

# apps_make_project DIR: 8 C sources and a Makefile that builds a program
# from them (make -j4 runs the compilers in parallel).
apps_make_project() {
  local dir=$1 i
  mkdir -p "$dir"
  for i in 1 2 3 4 5 6 7 8; do
    printf 'unsigned long f%d(unsigned long x) { for (int i = 0; i < %d; i++) x = x * 6364136223846793005UL + %d; return x; }\n' \
      "$i" "$((i * 1000))" "$i" >"$dir/f$i.c"
  done
  {
    echo '#include <stdio.h>'
    for i in 1 2 3 4 5 6 7 8; do echo "unsigned long f$i(unsigned long);"; done
    echo 'int main(void) { unsigned long x = 1;'
    for i in 1 2 3 4 5 6 7 8; do echo "  x = f$i(x); printf(\"f$i %lx\\n\", x);"; done
    echo '  return 0; }'
  } >"$dir/main.c"
  cat >"$dir/Makefile" <<'EOF'
OBJS = main.o f1.o f2.o f3.o f4.o f5.o f6.o f7.o f8.o
prog: $(OBJS)
	$(CC) -o $@ $(OBJS)
%.o: %.c
	$(CC) -O2 -c $< -o $@
EOF
}

# apps_git_repo DIR: a repository of 12 commits over 60 files, with fixed
# names and dates so that every copy has the same object ids.
apps_git_repo() {
  local dir=$1 c f
  git init -q "$dir"
  export GIT_AUTHOR_NAME=goro GIT_AUTHOR_EMAIL=goro@localhost
  export GIT_COMMITTER_NAME=goro GIT_COMMITTER_EMAIL=goro@localhost
  for c in $(seq 1 12); do
    for f in $(seq 1 60); do
      seq "$c" "$f" 4000 | sed "s/^/line $f /" >"$dir/file$f.txt"
    done
    git -C "$dir" add -A
    GIT_AUTHOR_DATE="2026-01-$((c + 10))T12:00:00Z" GIT_COMMITTER_DATE="2026-01-$((c + 10))T12:00:00Z" \
      git -C "$dir" commit -q -m "commit $c"
  done
}

# --- the runner ---------------------------------------------------------------

# need CMD PACKAGE: CMD must be installed (scripts/install-deps.sh installs
# PACKAGE); a missing program fails the case rather than passing it.
need() {
  command -v "$1" >/dev/null && return 0
  echo "$1 is not installed: scripts/install-deps.sh installs Debian's $2" >&2
  return 1
}

# set_mode MODE: native or a GOMAXPROCS value.  Sets MODE, W (a fresh
# working folder) and SUBJ (the prefix that runs a subject in that mode).
set_mode() {
  MODE=$1
  W=$BATS_TEST_TMPDIR/$MODE
  rm -rf "$W"
  mkdir -p "$W"
  if [ "$MODE" = native ]; then
    SUBJ=(env -u LD_PRELOAD)
  else
    SUBJ=(env LD_PRELOAD="$GORO_LIB" GOMAXPROCS="$MODE" GORO_STATS=1)
  fi
}

# proof NAME: under goro, the run of subject NAME must have left goro's
# stats line (or, with NOSTATS=1, ld.so's record of libgoro's initializer);
# a missing proof is written to $W/noproof.
proof() {
  local name=$1
  [ "$MODE" = native ] && return 0
  if [ "${NOSTATS:-0}" = 1 ]; then
    grep -qh "calling init: $GORO_LIB\$" "$W/$name.ld".* 2>/dev/null ||
      echo "$name: ld.so never ran libgoro's initializer" >>"$W/noproof"
  else
    grep -q '^goro: stats: ' "$W/$name.err" ||
      echo "$name: no 'goro: stats:' line on its stderr" >>"$W/noproof"
  fi
}

# sub NAME CMD...: runs the subject CMD in the current mode, stdin from
# /dev/null, stdout in $W/NAME.out, stderr in $W/NAME.err; prints
# "NAME: exit STATUS".
sub() {
  local name=$1 s=0
  shift
  local ld=()
  [ "${NOSTATS:-0}" = 1 ] && [ "$MODE" != native ] &&
    ld=(LD_DEBUG=files LD_DEBUG_OUTPUT="$W/$name.ld")
  timeout "$GORO_TEST_TIMEOUT" "${SUBJ[@]}" "${ld[@]}" "$@" \
    </dev/null >"$W/$name.out" 2>"$W/$name.err" 3>&- || s=$?
  echo "$name: exit $s"
  proof "$name"
}

# digest FILE: the SHA-256 of FILE.
digest() {
  sha256sum <"$1" | cut -c1-64
}

# run_case FN MODE: runs FN in MODE; its stdout in $BATS_TEST_TMPDIR/MODE.out.
run_case() {
  set_mode "$2"
  local s=0
  "$1" >"$BATS_TEST_TMPDIR/$MODE.out" 2>"$BATS_TEST_TMPDIR/$MODE.err" || s=$?
  echo "case exit $s" >>"$BATS_TEST_TMPDIR/$MODE.out"
}

# case_report MODE WHY...: prints a mismatch with the evidence.
case_report() {
  local mode=$1 label=$1
  shift
  [ "$mode" = native ] || label="GOMAXPROCS=$mode"
  {
    echo "=== $CASE, $label:"
    printf '  %s\n' "$@"
    echo "--- diff of the case's output (native = expected)"
    diff -u --label native --label "$label" "$BATS_TEST_TMPDIR/native.out" \
      "$BATS_TEST_TMPDIR/$mode.out" || true
    local f
    for f in "$BATS_TEST_TMPDIR/$mode"/*.err; do
      [ -s "$f" ] || continue
      echo "--- stderr of $(basename "$f" .err) (last 40 lines)"
      tail -n 40 "$f"
    done
    echo "---"
  } >&2
}

# app_matrix FN [PROCS]: the case FN natively, then under goro with each
# GOMAXPROCS in PROCS (default $APPS_PROCS); see the top of this file.
app_matrix() {
  local fn=$1 procs=${2:-$APPS_PROCS} p failed=0
  CASE=${fn#case_}
  require_goro
  run_case "$fn" native
  if grep -E ': exit ' "$BATS_TEST_TMPDIR/native.out" | grep -qv ': exit 0$' ||
    ! grep -qx 'case exit 0' "$BATS_TEST_TMPDIR/native.out"; then
    case_report native "a subject failed natively: the case is broken, not goro"
    { echo "--- the case's output"; cat "$BATS_TEST_TMPDIR/native.out" "$BATS_TEST_TMPDIR/native.err"; } >&2
    return 1
  fi
  for p in $procs; do
    run_case "$fn" "$p"
    local why=()
    cmp -s "$BATS_TEST_TMPDIR/native.out" "$BATS_TEST_TMPDIR/$p.out" ||
      why+=("output differs from native")
    [ -s "$BATS_TEST_TMPDIR/$p/noproof" ] &&
      mapfile -t -O "${#why[@]}" why <"$BATS_TEST_TMPDIR/$p/noproof"
    if [ ${#why[@]} -gt 0 ]; then
      case_report "$p" "${why[@]}"
      cat "$BATS_TEST_TMPDIR/$p.err" >&2
      failed=1
    fi
  done
  return "$failed"
}

# --- servers ------------------------------------------------------------------

# free_port: a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# server_start NAME PORT CMD...: starts the subject server CMD in the
# background (SRV_PID) and waits until PORT accepts a connection; prints
# "NAME: ready" or "NAME: never listened".
server_start() {
  local name=$1 port=$2
  shift 2
  "${SUBJ[@]}" "$@" </dev/null >"$W/$name.out" 2>"$W/$name.err" 3>&- &
  SRV_PID=$!
  echo "$SRV_PID" >>"$BATS_TEST_TMPDIR/servers"
  if wait_until "$SRV_PID" port_open "$port"; then
    echo "$name: ready"
  else
    echo "$name: never listened"
  fi
}

# server_stop NAME [SIGNAL]: sends SIGNAL (if given) to the server, waits
# for it to exit (killing it after $GORO_TEST_TIMEOUT s: a hang guard) and
# prints "NAME: exit STATUS".
server_stop() {
  local name=$1 sig=${2:-} s=0
  [ -n "$sig" ] && kill "-$sig" "$SRV_PID" 2>/dev/null
  if ! wait_until "$SRV_PID" proc_ended "$SRV_PID"; then
    echo "$name: still running ${GORO_TEST_TIMEOUT}s after the stop request: killed" >&2
    pkill -KILL -P "$SRV_PID" 2>/dev/null
    kill -KILL "$SRV_PID" 2>/dev/null
    wait "$SRV_PID"
    echo "$name: hung"
    return 0
  fi
  wait "$SRV_PID" || s=$?
  echo "$name: exit $s"
  proof "$name"
}

# A failed case must not leave its servers (or their workers) behind.
teardown() {
  local pid
  [ -f "$BATS_TEST_TMPDIR/servers" ] || return 0
  while read -r pid; do
    pkill -KILL -P "$pid" 2>/dev/null || true
    kill -KILL "$pid" 2>/dev/null || true
  done <"$BATS_TEST_TMPDIR/servers"
}

# --- the cases: compressors -----------------------------------------------------

# compress_case NAME EXT COMPRESS... -- DECOMPRESS...: compresses the input
# and decompresses the result, both as subjects; prints both digests.
compress_case() {
  local name=$1 ext=$2 comp=() decomp=()
  shift 2
  while [ "$1" != -- ]; do comp+=("$1"); shift; done
  shift
  decomp=("$@")
  sub "$name-c" "${comp[@]}" "$BATS_FILE_TMPDIR/input.txt"
  echo "compressed: $(digest "$W/$name-c.out")"
  cp "$W/$name-c.out" "$W/data.$ext"
  sub "$name-d" "${decomp[@]}" "$W/data.$ext"
  echo "round trip: $(cmp -s "$W/$name-d.out" "$BATS_FILE_TMPDIR/input.txt" && echo same || echo DIFFERS)"
}

case_pigz() { compress_case pigz gz pigz -p 4 -c -- pigz -p 4 -d -c; }
# lbzip2 and sort (coreutils' close_stdout) close their stderr before they
# exit: ld.so's record is the proof.
case_lbzip2() { NOSTATS=1 compress_case lbzip2 bz2 lbzip2 -n 4 -c -- lbzip2 -n 4 -d -c; }
case_zstd() { compress_case zstd zst zstd -T4 -q -c -- zstd -T4 -q -d -c; }
# xz closes its stderr before it exits: ld.so's record is the proof.
case_xz() { NOSTATS=1 compress_case xz xz xz -T4 -1 -c -- xz -T4 -d -c; }
case_pbzip2() { compress_case pbzip2 bz2 pbzip2 -p4 -c -- pbzip2 -p4 -d -c; }

@test "apps: pigz -p 4 compresses and decompresses as natively" {
  need pigz pigz
  app_matrix case_pigz
}

@test "apps: lbzip2 -n 4 compresses and decompresses as natively" {
  need lbzip2 lbzip2
  app_matrix case_lbzip2
}

@test "apps: zstd -T4 compresses and decompresses as natively" {
  need zstd zstd
  app_matrix case_zstd
}

@test "apps: xz -T4 compresses and decompresses as natively" {
  need xz xz-utils
  app_matrix case_xz
}

# --- tools ------------------------------------------------------------------------

case_sort() {
  local NOSTATS=1
  sub sort sort --parallel=4 -S 1M "$BATS_FILE_TMPDIR/input.txt"
  echo "sorted: $(digest "$W/sort.out")"
  sub sortn sort --parallel=4 -S 1M -n -k 1,1 -k 2,2 "$BATS_FILE_TMPDIR/input.txt"
  echo "sorted -n: $(digest "$W/sortn.out")"
}

@test "apps: sort --parallel=4 (coreutils) sorts as natively" {
  app_matrix case_sort
}

case_rg() {
  sub rg rg -j4 --sort path -n 'word9[0-9]+ goro1' "$BATS_FILE_TMPDIR"
  echo "matches: $(wc -l <"$W/rg.out") $(digest "$W/rg.out")"
  sub rgc rg -j4 -c --sort path 'commit|unsigned' "$BATS_FILE_TMPDIR/repo" "$BATS_FILE_TMPDIR/proj"
  echo "counts: $(digest "$W/rgc.out")"
}

@test "apps: ripgrep -j4 searches as natively" {
  need rg ripgrep
  app_matrix case_rg
}

case_fd() {
  sub fd fdfind -j4 -t f -e txt . "$BATS_FILE_TMPDIR/repo"
  echo "found: $(wc -l <"$W/fd.out") $(sort "$W/fd.out" | digest /dev/stdin)"
}

@test "apps: fd -j4 (fd-find) finds as natively" {
  need fdfind fd-find
  app_matrix case_fd
}

case_make() {
  cp -r "$BATS_FILE_TMPDIR/proj" "$W/proj"
  sub make make -s -j4 -C "$W/proj"
  "$W/proj/prog" >"$W/prog.out"
  echo "program: $? $(digest "$W/prog.out")"
}

@test "apps: make -j4 builds a C program as natively" {
  app_matrix case_make
}

case_git() {
  cp -r "$BATS_FILE_TMPDIR/repo" "$W/repo"
  local g=(git -C "$W/repo")
  sub repack "${g[@]}" -c pack.threads=4 repack -a -d -f -q
  sub fsck "${g[@]}" fsck --no-progress --full
  sub objects "${g[@]}" rev-list --objects --all
  echo "objects: $(sort "$W/objects.out" | digest /dev/stdin)"
  sub grep "${g[@]}" grep --threads=4 -c 'line 3[0-9] 1' HEAD
  echo "grep: $(digest "$W/grep.out")"
  sub log "${g[@]}" log --stat --format='%H %s'
  echo "log: $(digest "$W/log.out")"
}

@test "apps: git repack/fsck/grep with threads as natively" {
  app_matrix case_git
}

# --- language runtimes ------------------------------------------------------------

case_python() {
  sub python /usr/bin/python3 "$GORO_ROOT/tests/progs/app_threads.py" "$W"
  cat "$W/python.out"
}

@test "apps: python3 threading + sqlite3 as natively" {
  need /usr/bin/python3 python3
  app_matrix case_python
}

case_node() {
  sub node node "$GORO_ROOT/tests/progs/app_workers.js"
  cat "$W/node.out"
}

@test "apps: node worker_threads + Atomics as natively" {
  need node nodejs
  app_matrix case_node
}

case_java() {
  sub java java -Xshare:auto -cp "$BATS_FILE_TMPDIR/java" AppThreads
  cat "$W/java.out"
}

@test "apps: a Java thread pool (OpenJDK) as natively" {
  need javac openjdk-17-jdk-headless
  app_matrix case_java
}

# --- OpenMP (libgomp) ---------------------------------------------------------

case_omp() {
  local pol
  for pol in active passive; do
    OMP_WAIT_POLICY=$pol sub "omp-$pol" "$PROGS_DIR/omp_kernels" -t 4 -r 1
    cat "$W/omp-$pol.out"
  done
  sub omp8 "$PROGS_DIR/omp_kernels" -t 8 -r 1
  cat "$W/omp8.out"
}

@test "apps: an OpenMP program (gcc -fopenmp) computes as natively" {
  require_prog omp_kernels
  app_matrix case_omp
}

# --- sysbench -----------------------------------------------------------------------

# sysbench's report without its timings: what it ran and how many events.
sysbench_report() {
  grep -E 'Number of threads|total number of events|transferred|Total operations' "$1" |
    sed -e 's/ *([^)]*)//g' -e 's/  */ /g'
}

case_sysbench_threads() {
  sub sb sysbench --threads=4 --time=0 --events=2000 threads run
  sysbench_report "$W/sb.out"
}

case_sysbench_mutex() {
  sub sb sysbench --threads=4 --time=0 --mutex-num=64 --mutex-locks=20000 mutex run
  sysbench_report "$W/sb.out"
}

case_sysbench_memory() {
  sub sb sysbench --threads=4 --time=0 --memory-total-size=256M memory run
  sysbench_report "$W/sb.out"
}

@test "apps: sysbench threads (mutex + sched_yield) as natively" {
  need sysbench sysbench
  app_matrix case_sysbench_threads
}

@test "apps: sysbench mutex as natively" {
  need sysbench sysbench
  app_matrix case_sysbench_mutex
}

@test "apps: sysbench memory as natively" {
  need sysbench sysbench
  app_matrix case_sysbench_memory
}

# --- servers with a load generator ------------------------------------------------

case_memcached() {
  local port
  port=$(free_port)
  # -u: memcached refuses to run as root without a user to switch to
  server_start memcached "$port" memcached -u nobody -l 127.0.0.1 -p "$port" -t 4 -U 0
  timeout "$GORO_TEST_TIMEOUT" memcaslap -s "127.0.0.1:$port" -T 2 -c 8 -x 4000 >"$W/memcaslap.txt" 2>&1
  echo "memcaslap: exit $?"
  grep -E '^(cmd_get|cmd_set|get_misses|written_bytes|read_bytes|object_bytes):' "$W/memcaslap.txt"
  memcstat --servers="127.0.0.1:$port" |
    grep -E '^\s*(cmd_get|cmd_set|get_hits|get_misses|curr_items|total_items|total_connections):'
  server_stop memcached TERM
}

@test "apps: memcached -t 4 serves memcaslap as natively" {
  need memcached memcached
  need memcaslap libmemcached-tools
  app_matrix case_memcached
}

# --- pending: these fail on main today ---------------------------------------------

# pending: the case runs only with GORO_APPS_PENDING=1 (see the top).
pending() {
  [ "${GORO_APPS_PENDING:-0}" = 1 ] ||
    skip "fails on main today (GORO_APPS_PENDING=1 runs it)"
}

# needs: sigwait/sigwaitinfo/sigtimedwait consult goro's per-thread pending
# set (pbzip2's main thread pthread_kill(SIGQUIT)s its terminator thread,
# which waits in sigwait: the signal stays in goro's set and the waiter
# blocks in rt_sigtimedwait forever, so pbzip2 hangs at exit).
@test "apps: pbzip2 -p4 compresses and decompresses as natively" {
  pending
  need pbzip2 pbzip2
  app_matrix case_pbzip2
}

case_redis() {
  local port
  port=$(free_port)
  server_start redis "$port" redis-server --port "$port" --bind 127.0.0.1 --save '' \
    --appendonly no --dir "$W" --io-threads 2
  timeout "$GORO_TEST_TIMEOUT" redis-benchmark -p "$port" -n 2000 -c 8 -t set,get,incr,lpush \
    -q --csv >"$W/redis-benchmark.txt" 2>&1
  echo "redis-benchmark: exit $?"
  # the tests it ran (its rates and latencies vary run to run)
  cut -d, -f1 "$W/redis-benchmark.txt"
  # INCR without -r increments one key; LPUSH pushes onto one list
  echo "counter: $(redis-cli -p "$port" get counter:__rand_int__)"
  echo "list: $(redis-cli -p "$port" llen mylist)"
  echo "keys: $(redis-cli -p "$port" dbsize)"
  echo "shutdown: $(redis-cli -p "$port" shutdown nosave 2>&1)"
  server_stop redis
}

# needs: threads goro did not create (redis's jemalloc makes its background
# threads with glibc's pthread_create, found through dlsym(RTLD_NEXT); such a
# thread then waits in goro's pthread_cond_wait (shim/cond.c) and parks on an
# M with no P: SIGSEGV in findrunnable, sched/proc.c, ~5 ms after start).
@test "apps: redis-server serves redis-benchmark and shuts down as natively" {
  pending
  need redis-server redis-server
  need redis-benchmark redis-tools
  app_matrix case_redis
}

# nginx_conf DIR PORT: master + 2 workers, a thread pool for aio, one file.
# The workers drop root for `user` (setgid, initgroups, setuid) as usual,
# to root itself: the default, nobody, could not read the test's folders.
nginx_conf() {
  local d=$1 port=$2
  mkdir -p "$d/html"
  head -c 300000 "$BATS_FILE_TMPDIR/input.txt" >"$d/html/big.txt"
  cat >"$d/nginx.conf" <<EOC
daemon off;
user root root;
master_process on;
worker_processes 2;
pid $d/nginx.pid;
error_log $d/error.log;
thread_pool tp threads=4;
events { worker_connections 256; }
http {
  access_log off;
  sendfile off;
  aio threads=tp;
  client_body_temp_path $d/cb;
  proxy_temp_path $d/pt;
  fastcgi_temp_path $d/ft;
  uwsgi_temp_path $d/ut;
  scgi_temp_path $d/st;
  server { listen 127.0.0.1:$port; root $d/html; }
}
EOC
}

case_nginx() {
  local port
  port=$(free_port)
  nginx_conf "$W/ng" "$port"
  server_start nginx "$port" nginx -p "$W/ng" -c "$W/ng/nginx.conf" -e "$W/ng/error.log"
  timeout "$GORO_TEST_TIMEOUT" ab -q -n 400 -c 4 "http://127.0.0.1:$port/big.txt" >"$W/ab.txt" 2>&1
  echo "ab: exit $?"
  grep -E '^(Document Length|Complete requests|Failed requests|Non-2xx)' "$W/ab.txt"
  timeout "$GORO_TEST_TIMEOUT" curl -s "http://127.0.0.1:$port/big.txt" >"$W/curl.out"
  echo "curl: exit $?"
  echo "body: $(digest "$W/curl.out")"
  # SIGQUIT: graceful shutdown
  server_stop nginx QUIT
}

# needs: set-id calls in a forked child (nginx's workers, forked by the
# master, call setgid/initgroups/setuid to drop root): goro's set-id
# broadcast (goro__setxid_broadcast, sched/setxid.c) still lists the
# parent's Ms, which do not exist in the child, and spins forever waiting for
# them; and glibc's internal setgroups broadcast from initgroups.
@test "apps: nginx (2 workers, aio thread pool) serves ab and curl and quits as natively" {
  pending
  need nginx nginx-light
  need ab apache2-utils
  need curl curl
  app_matrix case_nginx
}

case_stress_ng() {
  sub stress stress-ng --pthread 2 --pthread-ops 200 --futex 2 --futex-ops 2000
  grep -c 'successful run completed' "$W/stress.err"
}

# needs: interposed calls before goro has started (libGLdispatch's
# constructor, run before goro's, calls dlopen(NULL); goro's dlopen
# (shim/dl.c) calls goro__real.dlopen, still NULL: SIGSEGV before main).
@test "apps: stress-ng pthread and mutex stressors as natively" {
  pending
  need stress-ng stress-ng
  app_matrix case_stress_ng
}

case_ffmpeg() {
  local ff=(ffmpeg -nostdin -hide_banner -loglevel error -threads 4)
  sub enc "${ff[@]}" -f lavfi -i testsrc=duration=2:size=320x240:rate=25 -c:v mpeg4 -q:v 5 \
    -f avi "$W/video.avi"
  echo "encoded: $(digest "$W/video.avi")"
  sub dec "${ff[@]}" -thread_type slice+frame -i "$W/video.avi" -f framemd5 -
  echo "decoded: $(digest "$W/dec.out")"
}

# needs: interposed calls before goro has started (as stress-ng: ffmpeg
# links libGLdispatch through libavdevice's dependencies).
@test "apps: ffmpeg encodes and decodes with 4 threads as natively" {
  pending
  need ffmpeg ffmpeg
  app_matrix case_ffmpeg
}
