#!/usr/bin/env bats
# apps.bats -- the compatibility matrix: real, widely used multithreaded
# programs from Debian's packages (scripts/install-deps.sh installs them),
# each run natively and under goro at GOMAXPROCS 1 and 2 on small inputs.
#
# A case is a shell function case_NAME (tests/apps_cases.bash; make bench
# times the same functions, scripts/bench-apps.sh) that runs its subject programs through
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

load helpers
load apps_cases

APPS_PROCS="1 2"

setup_file() {
  apps_setup "$BATS_FILE_TMPDIR"
}

# the inputs and the working folders of tests/apps_cases.bash
setup() {
  APPS_DATA=$BATS_FILE_TMPDIR
  APPS_WORK=$BATS_TEST_TMPDIR
}

# --- the runner ---------------------------------------------------------------

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

# A failed case must not leave its servers (or their workers) behind.
teardown() {
  local pid
  [ -f "$APPS_WORK/servers" ] || return 0
  while read -r pid; do
    pkill -KILL -P "$pid" 2>/dev/null || true
    kill -KILL "$pid" 2>/dev/null || true
  done <"$APPS_WORK/servers"
}

# --- the cases: compressors -----------------------------------------------------

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

@test "apps: sort --parallel=4 (coreutils) sorts as natively" {
  app_matrix case_sort
}

@test "apps: ripgrep -j4 searches as natively" {
  need rg ripgrep
  app_matrix case_rg
}

@test "apps: fd -j4 (fd-find) finds as natively" {
  need fdfind fd-find
  app_matrix case_fd
}

@test "apps: make -j4 builds a C program as natively" {
  app_matrix case_make
}

@test "apps: git repack/fsck/grep with threads as natively" {
  app_matrix case_git
}

# --- language runtimes ------------------------------------------------------------

@test "apps: python3 threading + sqlite3 as natively" {
  need /usr/bin/python3 python3
  app_matrix case_python
}

@test "apps: node worker_threads + Atomics as natively" {
  need node nodejs
  app_matrix case_node
}

@test "apps: a Java thread pool (OpenJDK) as natively" {
  need javac openjdk-17-jdk-headless
  app_matrix case_java
}

# --- OpenMP (libgomp) ---------------------------------------------------------

@test "apps: an OpenMP program (gcc -fopenmp) computes as natively" {
  require_prog omp_kernels
  app_matrix case_omp
}

# --- sysbench -----------------------------------------------------------------------

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

@test "apps: memcached -t 4 serves memcaslap as natively" {
  need memcached memcached
  need memcaslap libmemcached-tools
  app_matrix case_memcached
}

@test "apps: nginx (2 workers, aio thread pool) serves ab and curl and quits as natively" {
  need nginx nginx-light
  need ab apache2-utils
  need curl curl
  app_matrix case_nginx
}

# --- more programs: a compressor, a server, a stress tool, a media tool ------------

@test "apps: pbzip2 -p4 compresses and decompresses as natively" {
  need pbzip2 pbzip2
  app_matrix case_pbzip2
}

@test "apps: redis-server serves redis-benchmark and shuts down as natively" {
  need redis-server redis-server
  need redis-benchmark redis-tools
  app_matrix case_redis
}

@test "apps: stress-ng pthread and mutex stressors as natively" {
  need stress-ng stress-ng
  app_matrix case_stress_ng
}

@test "apps: ffmpeg encodes and decodes with 4 threads as natively" {
  need ffmpeg ffmpeg
  app_matrix case_ffmpeg
}

# --- a database server under its benchmark, a ptrace tool ---------------------------

@test "apps: mariadbd serves sysbench oltp_read_write (8 connections) and shuts down as natively" {
  need /usr/sbin/mariadbd mariadb-server
  need mariadb mariadb-client
  need sysbench sysbench
  app_matrix case_mariadb
}

@test "apps: strace -f (-c, -o) traces pigz -p 4 as natively" {
  need strace strace
  need pigz pigz
  app_matrix case_strace
}
