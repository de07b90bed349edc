# The cases of the compatibility matrix (tests/apps.bats) and what runs
# them: loaded by tests/apps.bats, sourced by scripts/bench-apps.sh (after
# tests/helpers.bash: wait_until, proc_ended, require_prog).
#
# Set by the caller: APPS_DATA (the inputs, made by apps_setup) and
# APPS_WORK (a folder for this case's working folders); GORO_LIB, PROGS_DIR,
# GORO_ROOT and GORO_TEST_TIMEOUT (tests/helpers.bash).

# --- inputs, made once ------------------------------------------------------

# apps_setup DIR: the inputs every case reads, in DIR.
apps_setup() {
  local d=$1
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
  if command -v mariadb-install-db >/dev/null; then
    apps_mariadb_datadir "$d/mariadb"
  fi
}

# MariaDB's options for mariadb-install-db and the server alike: no
# configuration file but these (--no-defaults must come first), small
# buffers and logs so that it starts in a moment, root as its user.
MARIADB_OPTS=(--no-defaults --user=root --innodb-buffer-pool-size=16M --innodb-log-file-size=8M)

# apps_mariadb_datadir DIR: a fresh MariaDB data folder (the system
# tables; root logs in without a password over the unix socket), made
# natively once: case_mariadb starts its servers on copies.
apps_mariadb_datadir() {
  local dir
  dir=$(realpath -m -- "$1") # the server resolves a relative one from its basedir
  if ! mariadb-install-db "${MARIADB_OPTS[@]}" --datadir="$dir" --skip-test-db \
    --auth-root-authentication-method=normal >"$dir.log" 2>&1; then
    echo "mariadb-install-db failed; its output:" >&2
    cat "$dir.log" >&2
    rm -rf "$dir"
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
  W=$APPS_WORK/$MODE
  rm -rf "$W"
  mkdir -p "$W"
  if [ "$MODE" = native ]; then
    SUBJ=(env -u LD_PRELOAD)
  else
    SUBJ=(env LD_PRELOAD="$GORO_LIB" GOMAXPROCS="$MODE" GORO_STATS=1)
  fi
}

# proof NAME [COUNTER...]: under goro, the run of subject NAME must have
# left goro's stats line (or, with NOSTATS=1, ld.so's record of libgoro's
# initializer), with each COUNTER at least 1 (the path the case is about
# ran); a missing proof is written to $W/noproof.
proof() {
  local name=$1 c v
  shift
  [ "$MODE" = native ] && return 0
  if [ "${NOSTATS:-0}" = 1 ]; then
    grep -qh "calling init: $GORO_LIB\$" "$W/$name.ld".* 2>/dev/null ||
      echo "$name: ld.so never ran libgoro's initializer" >>"$W/noproof"
    return 0
  fi
  if ! grep -q '^goro: stats: ' "$W/$name.err"; then
    echo "$name: no 'goro: stats:' line on its stderr" >>"$W/noproof"
    return 0
  fi
  for c in "$@"; do
    v=$(goro_stat "$c" "$W/$name.err") || v=missing
    [ "$v" != missing ] && [ "$v" -ge 1 ] ||
      echo "$name: goro's counter $c is $v, expected >= 1" >>"$W/noproof"
  done
}

# sub NAME CMD...: runs the subject CMD in the current mode, stdin from
# /dev/null, stdout in $W/NAME.out, stderr in $W/NAME.err; prints
# "NAME: exit STATUS".  PROOF_STATS: the counters its proof names.
sub() {
  local name=$1 s=0 counters=()
  shift
  read -ra counters <<<"${PROOF_STATS:-}"
  local ld=()
  [ "${NOSTATS:-0}" = 1 ] && [ "$MODE" != native ] &&
    ld=(LD_DEBUG=files LD_DEBUG_OUTPUT="$W/$name.ld")
  timeout "$GORO_TEST_TIMEOUT" "${SUBJ[@]}" "${ld[@]}" "$@" \
    </dev/null >"$W/$name.out" 2>"$W/$name.err" 3>&- || s=$?
  echo "$name: exit $s"
  proof "$name" "${counters[@]}"
}

# digest FILE: the SHA-256 of FILE.
digest() {
  sha256sum <"$1" | cut -c1-64
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
  local ld=()
  [ "${NOSTATS:-0}" = 1 ] && [ "$MODE" != native ] &&
    ld=(LD_DEBUG=files LD_DEBUG_OUTPUT="$W/$name.ld")
  "${SUBJ[@]}" "${ld[@]}" "$@" </dev/null >"$W/$name.out" 2>"$W/$name.err" 3>&- &
  SRV_PID=$!
  echo "$SRV_PID" >>"$APPS_WORK/servers"
  if wait_until "$SRV_PID" port_open "$port"; then
    echo "$name: ready"
  else
    echo "$name: never listened"
  fi
}

# server_stop NAME [SIGNAL [COUNTER...]]: sends SIGNAL (if not empty) to
# the server, waits for it to exit (killing it after $GORO_TEST_TIMEOUT s: a
# hang guard) and prints "NAME: exit STATUS"; its proof names COUNTERs.
server_stop() {
  local name=$1 sig=${2:-} s=0
  shift $(($# < 2 ? $# : 2))
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
  proof "$name" "$@"
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
  sub "$name-c" "${comp[@]}" "$APPS_DATA/input.txt"
  echo "compressed: $(digest "$W/$name-c.out")"
  cp "$W/$name-c.out" "$W/data.$ext"
  sub "$name-d" "${decomp[@]}" "$W/data.$ext"
  echo "round trip: $(cmp -s "$W/$name-d.out" "$APPS_DATA/input.txt" && echo same || echo DIFFERS)"
}

case_pigz() { compress_case pigz gz pigz -p 4 -c -- pigz -p 4 -d -c; }
# lbzip2 and sort (coreutils' close_stdout) close their stderr before they
# exit: ld.so's record is the proof.
case_lbzip2() { NOSTATS=1 compress_case lbzip2 bz2 lbzip2 -n 4 -c -- lbzip2 -n 4 -d -c; }
case_zstd() { compress_case zstd zst zstd -T4 -q -c -- zstd -T4 -q -d -c; }
# xz closes its stderr before it exits: ld.so's record is the proof.
case_xz() { NOSTATS=1 compress_case xz xz xz -T4 -1 -c -- xz -T4 -d -c; }
case_pbzip2() { compress_case pbzip2 bz2 pbzip2 -p4 -c -- pbzip2 -p4 -d -c; }

# --- tools ------------------------------------------------------------------------

case_sort() {
  local NOSTATS=1
  sub sort sort --parallel=4 -S 1M "$APPS_DATA/input.txt"
  echo "sorted: $(digest "$W/sort.out")"
  sub sortn sort --parallel=4 -S 1M -n -k 1,1 -k 2,2 "$APPS_DATA/input.txt"
  echo "sorted -n: $(digest "$W/sortn.out")"
}

case_rg() {
  sub rg rg -j4 --sort path -n 'word9[0-9]+ goro1' "$APPS_DATA"
  echo "matches: $(wc -l <"$W/rg.out") $(digest "$W/rg.out")"
  sub rgc rg -j4 -c --sort path 'commit|unsigned' "$APPS_DATA/repo" "$APPS_DATA/proj"
  echo "counts: $(digest "$W/rgc.out")"
}

case_fd() {
  sub fd fdfind -j4 -t f -e txt . "$APPS_DATA/repo"
  echo "found: $(wc -l <"$W/fd.out") $(sort "$W/fd.out" | digest /dev/stdin)"
}

case_make() {
  cp -r "$APPS_DATA/proj" "$W/proj"
  sub make make -s -j4 -C "$W/proj"
  "$W/proj/prog" >"$W/prog.out"
  echo "program: $? $(digest "$W/prog.out")"
}

case_git() {
  cp -r "$APPS_DATA/repo" "$W/repo"
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

# --- language runtimes ------------------------------------------------------------

case_python() {
  sub python /usr/bin/python3 "$GORO_ROOT/tests/progs/app_threads.py" "$W"
  cat "$W/python.out"
}

case_node() {
  sub node node "$GORO_ROOT/tests/progs/app_workers.js"
  cat "$W/node.out"
}

case_java() {
  sub java java -Xshare:auto -cp "$APPS_DATA/java" AppThreads
  cat "$W/java.out"
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

# --- sysbench -----------------------------------------------------------------------

# sysbench's report without its timings: what it ran and how many events.
sysbench_report() {
  grep -E 'Number of threads|total number of events|transferred|Total operations' "$1" |
    sed -e 's/ *([^)]*)//g' -e 's/  */ /g'
}

# 500 events: natively each is 4 threads yielding through 8 locks, ~4 ms
# (2000 took 8 s natively, past the hang guard beside two busy loops).
case_sysbench_threads() {
  sub sb sysbench --threads=4 --time=0 --events=500 threads run
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

# --- the pending cases (tests/apps.bats) ----------------------------------------

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

# nginx_conf DIR PORT: master + 2 workers, a thread pool for aio, one file.
# The workers drop root for `user` (setgid, initgroups, setuid) as usual,
# to root itself: the default, nobody, could not read the test's folders.
nginx_conf() {
  local d=$1 port=$2
  mkdir -p "$d/html"
  head -c 300000 "$APPS_DATA/input.txt" >"$d/html/big.txt"
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
  # nginx points its stderr at the error log: ld.so's record is the proof.
  local port NOSTATS=1
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

case_stress_ng() {
  sub stress stress-ng --pthread 2 --pthread-ops 200 --futex 2 --futex-ops 2000
  grep -c 'successful run completed' "$W/stress.err"
}

case_ffmpeg() {
  local ff=(ffmpeg -nostdin -hide_banner -loglevel error -threads 4)
  sub enc "${ff[@]}" -f lavfi -i testsrc=duration=2:size=320x240:rate=25 -c:v mpeg4 -q:v 5 \
    -f avi "$W/video.avi"
  echo "encoded: $(digest "$W/video.avi")"
  sub dec "${ff[@]}" -thread_type slice+frame -i "$W/video.avi" -f framemd5 -
  echo "decoded: $(digest "$W/dec.out")"
}

# --- a database server under its benchmark ------------------------------------

# mariadb_sql SQL...: runs the statements as root over the case's socket
# (a client: native); prints their results without column names.
mariadb_sql() {
  timeout "$GORO_TEST_TIMEOUT" mariadb --no-defaults --socket="$W/my.sock" -uroot -N -e "$*"
}

# The four tables of sysbench's oltp tests, as a list for SQL.
SBTEST_TABLES="sbtest.sbtest1, sbtest.sbtest2, sbtest.sbtest3, sbtest.sbtest4"

# mariadb_start: the subject server on a copy of the data folder that
# apps_setup made, on $W/my.sock and a free port (server_start polls it),
# with an empty database sbtest.
mariadb_start() {
  local port
  # sun_path holds 107 bytes and a NUL
  if [ "${#W}" -gt 99 ]; then
    echo "case_mariadb: the socket path $W/my.sock is longer than a unix socket's 107 bytes: run from a shorter folder" >&2
    return 1
  fi
  port=$(free_port)
  cp -r "$APPS_DATA/mariadb" "$W/db" || return 1
  server_start mariadb "$port" /usr/sbin/mariadbd "${MARIADB_OPTS[@]}" --datadir="$W/db" \
    --socket="$W/my.sock" --port="$port" --bind-address=127.0.0.1 --pid-file="$W/my.pid" \
    --tmpdir="$W" --skip-log-bin --innodb-flush-log-at-trx-commit=2
  mariadb_sql 'CREATE DATABASE sbtest'
  echo "create database: exit $?"
}

# mariadb_sysbench ARGS...: sysbench oltp_read_write (a client: native) on
# 4 tables of MARIADB_ROWS rows (default 2000), seeded.
mariadb_sysbench() {
  timeout "$GORO_TEST_TIMEOUT" sysbench --rand-seed=42 --db-driver=mysql \
    --mysql-socket="$W/my.sock" --mysql-user=root --mysql-db=sbtest --tables=4 \
    --table-size="${MARIADB_ROWS:-2000}" oltp_read_write "$@"
}

# mariadb_stop: shuts the server down the way its documentation says and
# waits for its exit; under goro its connection threads must have parked
# in the netpoller.
mariadb_stop() {
  timeout "$GORO_TEST_TIMEOUT" mariadb-admin --no-defaults --socket="$W/my.sock" -uroot shutdown
  echo "mariadb-admin shutdown: exit $?"
  server_stop mariadb '' netpoll_parks
}

# MariaDB under sysbench oltp_read_write: 8 client connections, each with
# its server thread, on 4 tables of 2000 rows.  What is compared: sysbench's
# exit statuses; the tables' checksums after a seeded run on one connection
# (prepare fills the rows from an unseeded generator whatever --rand-seed
# says, so the case first rewrites every row from its id); the number of
# transactions of a run on 8 connections, the tables' row counts and CHECK
# TABLE after it (which rows those transactions change depends on the
# interleaving, natively too); the server's exit status after mariadb-admin
# shutdown.
case_mariadb() {
  local t fill=""
  mariadb_start || return 1
  mariadb_sysbench --threads=4 prepare >"$W/prepare.txt" 2>&1
  echo "sysbench prepare: exit $?"
  for t in 1 2 3 4; do
    fill+="UPDATE sbtest.sbtest$t SET k = id % 97 + 1, c = RPAD(CONCAT('c', id), 120, '-x'),"
    fill+=" pad = RPAD(CONCAT('p', id), 60, '-y');"
  done
  mariadb_sql "$fill"
  echo "rewrite the rows: exit $?"
  mariadb_sysbench --threads=1 --time=0 --events=300 run >"$W/run1.txt" 2>&1
  echo "sysbench run, 1 connection: exit $?"
  sysbench_report "$W/run1.txt"
  grep -E '^ *(read|write|other|total):' "$W/run1.txt" | sed 's/  */ /g'
  mariadb_sql "CHECKSUM TABLE $SBTEST_TABLES"
  mariadb_sysbench --threads=8 --time=0 --events=1000 run >"$W/run8.txt" 2>&1
  echo "sysbench run, 8 connections: exit $?"
  sysbench_report "$W/run8.txt"
  for t in 1 2 3 4; do mariadb_sql "SELECT 'sbtest$t', COUNT(*) FROM sbtest.sbtest$t"; done
  mariadb_sql "CHECK TABLE $SBTEST_TABLES"
  mariadb_stop
}

# --- a ptrace tool ------------------------------------------------------------

# strace under goro tracing a multithreaded program (pigz -p 4) with -f.
# First only strace runs under goro (-E LD_PRELOAD: its child runs
# natively) and counts the child's thread creations and execs (-c: pigz -p 4
# makes 4 compressing threads and a writing one); then the child runs under
# goro too (its stats line unset, -E GORO_STATS: the one on stderr is
# strace's) and strace writes the whole trace.  Compared: the child's
# output, every exit status, the counts.  Under goro, strace's waits for its
# tracees must have gone through goro's blocking-call path (syscalls).
case_strace() {
  local PROOF_STATS=syscalls
  sub strace-c strace -f -c -E LD_PRELOAD -o "$W/summary.txt" -e trace=execve,clone,clone3 \
    pigz -p 4 -c "$APPS_DATA/input.txt"
  echo "compressed: $(digest "$W/strace-c.out")"
  # "calls syscall", the columns that do not depend on the timing (the
  # rows are in order of time spent)
  awk '$NF ~ /^[a-z0-9_]+$/ && $4 ~ /^[0-9]+$/ { print $NF, $4 }' "$W/summary.txt" | sort
  cp "$W/strace-c.out" "$W/data.gz"
  sub strace-f strace -f -qq -E GORO_STATS -o "$W/trace.txt" pigz -p 4 -d -c "$W/data.gz"
  echo "round trip: $(cmp -s "$W/strace-f.out" "$APPS_DATA/input.txt" && echo same || echo DIFFERS)"
  echo "traced opens of the input: $(grep -c "openat(AT_FDCWD, \"$W/data.gz\"" "$W/trace.txt")"
}
