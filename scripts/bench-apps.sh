#!/usr/bin/env bash
# bench-apps.sh - wall time of the compatibility matrix (tests/apps.bats)
# natively and under goro.
#
#   bash scripts/bench-apps.sh            (make bench runs it after bench.sh)
#   bash scripts/bench-apps.sh one CASE MODE    one run of a case (MODE:
#                                               native or a GOMAXPROCS value)
#
# Times the very case functions the suite runs (tests/apps_cases.bash): each
# case's subjects (compressors, tools, runtimes, servers with their clients)
# natively and under goro with GOMAXPROCS=2, interleaved, BENCH_APPS_REPS
# times after one untimed run of each mode that also checks the case printed
# the same under goro as natively.  The table gives medians and goro/native.
#
# Environment:
#   BENCH_APPS_REPS=3       timed runs of each (case, mode)
#   BENCH_APPS_PROCS=2      GOMAXPROCS of the goro column
#   BENCH_APPS_FILTER=RE    only the cases whose name matches
#   BENCH_APPS_PENDING=1    also the cases tests/apps.bats keeps pending
#                           (they fail or hang on main: each costs timeouts)
#   BENCH_TIMEOUT=60        seconds before one subject is called hung
#   BENCH_APPS_TPS_TIME=20  seconds of each timed sysbench oltp_read_write run
#                           (the MariaDB throughput table, after the matrix)
#   BUILD=build             build folder (results in $BUILD/bench/apps.md)
#   GORO_LIB                the library (default $BUILD/libgoro.so)

set -uo pipefail

ROOT=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd)
cd -- "$ROOT" || exit 1

BUILD=${BUILD:-build}
REPS=${BENCH_APPS_REPS:-3}
PROCS=${BENCH_APPS_PROCS:-2}
OUTD=$ROOT/$BUILD/bench/apps
OUT=$ROOT/$BUILD/bench/apps.md
export GORO_LIB=${GORO_LIB:-$ROOT/$BUILD/libgoro.so}
export GORO_TEST_TIMEOUT=${BENCH_TIMEOUT:-60}

[[ $REPS =~ ^[1-9][0-9]*$ ]] || { echo "bench-apps.sh: BENCH_APPS_REPS='$REPS' is not a positive integer" >&2; exit 2; }
[[ $PROCS =~ ^[1-9][0-9]*$ ]] || { echo "bench-apps.sh: BENCH_APPS_PROCS='$PROCS' is not a positive integer" >&2; exit 2; }
TPS_TIME=${BENCH_APPS_TPS_TIME:-20}
[[ $TPS_TIME =~ ^[1-9][0-9]*$ ]] || { echo "bench-apps.sh: BENCH_APPS_TPS_TIME='$TPS_TIME' is not a positive number of seconds" >&2; exit 2; }

# The cases and their subjects need tests/helpers.bash, written for bats:
# its `load`s (bats-support, bats-assert) are not used here; the BATS_ and
# APPS_ variables set here are read by the sourced files.
load() { :; }
BATS_TEST_DIRNAME=$ROOT/tests
BATS_TEST_TMPDIR=$OUTD
# shellcheck source=../tests/helpers.bash
source "$ROOT/tests/helpers.bash"
# shellcheck source=../tests/apps_cases.bash
source "$ROOT/tests/apps_cases.bash"

# The cases in the order of tests/apps.bats; PENDING as its pending group.
CASES=(pigz lbzip2 zstd xz sort rg fd make git python node java omp
    sysbench_threads sysbench_mutex sysbench_memory memcached nginx
    pbzip2 redis stress_ng ffmpeg mariadb strace)
PENDING=()

# one CASE MODE: runs case_CASE in MODE with a fresh working folder; its
# output in $OUTD/CASE.MODE.out; the exit status says whether the case ran
# and, under goro, every subject left goro's proof.
one() {
    local name=$1 mode=$2 s=0
    APPS_DATA=$OUTD/data
    APPS_WORK=$OUTD/work.$name.$mode
    rm -rf -- "$APPS_WORK"
    mkdir -p -- "$APPS_WORK"
    set_mode "$mode"
    "case_$name" >"$OUTD/$name.$mode.out" 2>"$OUTD/$name.$mode.err" || s=$?
    [[ -s $W/noproof ]] && s=3
    rm -rf -- "$APPS_WORK"
    return "$s"
}

# tps MODE POOL: one time-based sysbench oltp_read_write run (8
# connections, 4 tables of 10k rows, TPS_TIME seconds) against MariaDB in
# MODE with an InnoDB buffer pool of POOL (default: the server's own,
# 128M; the suite's case runs with 16M, which makes the tables' pages come
# from the page cache through pread); prints its transactions per second,
# or FAILED when a step failed.  Its steps' output in $OUTD/tps.MODE.out.
tps() {
    local mode=$1 pool=$2 rate
    local MARIADB_OPTS=(--no-defaults --user=root)
    [[ $pool == default ]] || MARIADB_OPTS+=(--innodb-buffer-pool-size="$pool" --innodb-log-file-size=8M)
    APPS_DATA=$OUTD/data
    APPS_WORK=$OUTD/work.tps.$mode
    rm -rf -- "$APPS_WORK"
    mkdir -p -- "$APPS_WORK"
    set_mode "$mode"
    {
        mariadb_start
        MARIADB_ROWS=10000 mariadb_sysbench --threads=4 prepare >"$W/prepare.txt" 2>&1
        echo "sysbench prepare: exit $?"
        MARIADB_ROWS=10000 mariadb_sysbench --threads=8 --time="$TPS_TIME" --events=0 run >"$W/run.txt" 2>&1
        echo "sysbench run: exit $?"
        mariadb_stop
    } >"$OUTD/tps.$mode.out" 2>&1
    rate=$(sed -n 's/^ *transactions: *[0-9]* *(\([0-9.]*\) per sec.)/\1/p' "$W/run.txt")
    if grep -q 'exit [1-9]\|never listened\|hung' "$OUTD/tps.$mode.out" || [[ -s $W/noproof || -z $rate ]]; then
        echo FAILED
    else
        echo "$rate"
    fi
    rm -rf -- "$APPS_WORK"
}

if [[ ${1:-} == one ]]; then
    (($# == 3)) || { echo "usage: bench-apps.sh one CASE MODE" >&2; exit 2; }
    declare -F "case_$2" >/dev/null || { echo "bench-apps.sh: no case '$2' in tests/apps_cases.bash" >&2; exit 2; }
    one "$2" "$3"
    exit
fi

log() { printf '%s\n' "$*" >&2; }

[[ -f $GORO_LIB ]] || { log "bench-apps.sh: $GORO_LIB is missing (build it with make)"; exit 1; }
[[ ${BENCH_APPS_PENDING:-0} == 1 ]] && CASES+=("${PENDING[@]}")
if [[ -n ${BENCH_APPS_FILTER:-} ]]; then
    sel=()
    for c in "${CASES[@]}"; do [[ $c =~ $BENCH_APPS_FILTER ]] && sel+=("$c"); done
    CASES=("${sel[@]}")
    ((${#CASES[@]} > 0)) || { log "bench-apps.sh: BENCH_APPS_FILTER='$BENCH_APPS_FILTER' matches no case"; exit 2; }
fi

mkdir -p -- "$OUTD/data"
[[ -s $OUTD/data/input.txt ]] || { log "bench-apps.sh: making the inputs in $OUTD/data"; apps_setup "$OUTD/data"; }
# inputs made before the mariadb case existed lack its data folder
if [[ ! -d $OUTD/data/mariadb ]] && command -v mariadb-install-db >/dev/null; then
    apps_mariadb_datadir "$OUTD/data/mariadb"
fi

median() { # median VALUES... -> the median
    printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{
        if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2+1]+v[NR/2])/2 }'
}

# timed CASE MODE: one run in a child process; prints its wall seconds, or
# FAILED when it failed.
timed() {
    local t0 t1
    t0=$(date +%s.%N)
    bash "$ROOT/scripts/bench-apps.sh" one "$1" "$2" || { echo FAILED; return; }
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}'
}

rows=()
log "bench-apps.sh: ${#CASES[@]} cases x (native, goro p=$PROCS) x $REPS runs, interleaved"
for c in "${CASES[@]}"; do
    # the untimed run: the case's output must equal native's
    check=same
    if ! one "$c" native; then
        check="native run failed"
    elif ! one "$c" "$PROCS"; then
        check="FAILED under goro"
    elif ! cmp -s "$OUTD/$c.native.out" "$OUTD/$c.$PROCS.out"; then
        check="DIFFERS"
    fi
    nat=() gor=()
    if [[ $check == same ]]; then
        for ((r = 1; r <= REPS; r++)); do
            nat+=("$(timed "$c" native)")
            gor+=("$(timed "$c" "$PROCS")")
        done
    fi
    if [[ $check != same || " ${nat[*]} ${gor[*]} " == *" FAILED "* ]]; then
        [[ $check == same ]] && check="a timed run FAILED"
        rows+=("| $c | - | - | - | $check |")
    else
        n=$(median "${nat[@]}") g=$(median "${gor[@]}")
        rows+=("$(awk -v c="$c" -v n="$n" -v g="$g" -v k="$check" \
            'BEGIN{printf "| %s | %.2f | %.2f | %.2fx | %s |", c, n, g, (n > 0 ? g/n : 0), k}')")
    fi
    log "  ${rows[-1]}"
done

# MariaDB's throughput (issue 11's target: goro within 1.2x of native)
tps_rows=()
if [[ " ${CASES[*]} " == *" mariadb "* ]]; then
  for pool in default 16M; do
    log "bench-apps.sh: MariaDB oltp_read_write, buffer pool $pool, ${TPS_TIME}s runs, native and goro p=$PROCS x $REPS, interleaved"
    nat=() gor=()
    for ((r = 1; r <= REPS; r++)); do
        nat+=("$(tps native "$pool")")
        gor+=("$(tps "$PROCS" "$pool")")
        log "  run $r: native ${nat[-1]} tps, goro ${gor[-1]} tps"
    done
    what="oltp_read_write, 8 connections, 4 x 10k rows, buffer pool $pool"
    if [[ " ${nat[*]} ${gor[*]} " == *" FAILED "* ]]; then
        tps_rows+=("| $what | - | - | - | a run FAILED ($OUTD/tps.*.out) |")
    else
        n=$(median "${nat[@]}") g=$(median "${gor[@]}")
        tps_rows+=("$(awk -v w="$what" -v n="$n" -v g="$g" -v a="${nat[*]}" -v b="${gor[*]}" 'BEGIN{
            printf "| %s | %.0f | %.0f | %.2fx | %s / %s |", w, n, g, (g > 0 ? n/g : 0), a, b}')")
    fi
  done
fi

cpu=$(awk -F: '/^model name/{sub(/^[ \t]+/, "", $2); print $2; exit}' /proc/cpuinfo 2>/dev/null)
{
    echo "Compatibility matrix (tests/apps.bats), wall time in seconds of each case"
    echo "(its subjects and clients), medians of $REPS interleaved runs; goro at GOMAXPROCS=$PROCS."
    echo "Machine: nproc $(nproc), CPU ${cpu:-unknown}, kernel $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    echo "| case | native s | goro p=$PROCS s | goro/native | output |"
    echo "|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
    if [[ ${BENCH_APPS_PENDING:-0} != 1 ]] && ((${#PENDING[@]} > 0)); then
        printf '| %s | - | - | - | pending: fails on main (BENCH_APPS_PENDING=1 times it) |\n' "${PENDING[@]}"
    fi
    if ((${#tps_rows[@]} > 0)); then
        echo
        echo "MariaDB 10.11 under sysbench oltp_read_write (${TPS_TIME}s runs), transactions per second,"
        echo "medians of $REPS interleaved runs; native/goro above 1.2 misses issue 11's target."
        echo
        echo "| run | native tps | goro p=$PROCS tps | native/goro | runs (native / goro) |"
        echo "|---|---|---|---|---|"
        printf '%s\n' "${tps_rows[@]}"
    fi
} | tee "$OUT"
