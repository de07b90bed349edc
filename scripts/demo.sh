#!/usr/bin/env bash
# demo.sh - real pthread programs natively and under goro, side by side.
#
#   bash scripts/demo.sh            (or: make demo)
#
# For each workload prints wall time, CPU time (user+sys), peak RSS and the
# peak number of kernel tasks (threads) the process had, natively and under
# goro.  Natively N threads are N kernel tasks; under goro they are
# goroutines on GOMAXPROCS Ms plus a few (sysmon, Ms in syscalls).
# Measured by bench/rusage.c, which fork/execs the command and polls
# /proc/PID/task.
#
# Environment:
#   DEMO_PROCS=2      GOMAXPROCS for the goro runs
#   DEMO_TIMEOUT=120  seconds before a run is killed
#   BUILD=build       build folder
#   GORO_LIB          library for scripts/goro (default build/libgoro.so)

set -uo pipefail

ROOT=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd)
cd -- "$ROOT" || exit 1

BUILD=${BUILD:-build}
PROCS=${DEMO_PROCS:-2}
TMO=${DEMO_TIMEOUT:-120}
BIN=$BUILD/bench
WORK=$BUILD/demo
GORO=$ROOT/scripts/goro
RUSAGE=$BIN/rusage

[[ $PROCS =~ ^[1-9][0-9]*$ ]] || { echo "demo.sh: DEMO_PROCS='$PROCS' is not a positive integer" >&2; exit 2; }
[[ $TMO =~ ^[1-9][0-9]*$ ]] || { echo "demo.sh: DEMO_TIMEOUT='$TMO' is not a positive integer" >&2; exit 2; }

mkdir -p -- "$WORK"

need=()
for p in rusage create_join sleepers; do
    [[ -x $BIN/$p ]] || need+=("$BIN/$p")
done
if ((${#need[@]} > 0)); then
    make --no-print-directory BUILD="$BUILD" "${need[@]}" >&2 || true
fi
if [[ ! -x $RUSAGE ]]; then
    echo "demo.sh: $RUSAGE could not be built; nothing to measure with" >&2
    exit 1
fi

lib=${GORO_LIB:-$BUILD/libgoro.so}
GORO_OK=1
if [[ ! -f $lib ]]; then
    GORO_OK=0
    echo "demo.sh: $lib is missing: the goro column shows FAILED (build it with make)" >&2
fi

guard=()
command -v timeout >/dev/null 2>&1 && guard=(timeout -k 5 "$TMO")

cpu=$(awk -F: '/^model name/{sub(/^[ \t]+/, "", $2); print $2; exit}' /proc/cpuinfo 2>/dev/null)
echo "goro demo: native threads vs goro goroutines (GOMAXPROCS=$PROCS)"
echo "machine: nproc $(nproc), CPU ${cpu:-unknown}, kernel $(uname -sr)"

# measure TAG STDOUT_FILE CMD... : runs CMD under rusage (and the timeout
# guard); leaves "KEY=VALUE ..." in $WORK/TAG.rusage and stderr in
# $WORK/TAG.err.  Returns CMD's status.
measure() {
    local tag=$1 out=$2
    shift 2
    rm -f -- "$WORK/$tag.rusage"
    "${guard[@]}" "$RUSAGE" -o "$WORK/$tag.rusage" -- "$@" >"$out" 2>"$WORK/$tag.err" </dev/null
}

# field TAG KEY: one value from TAG's RUSAGE line (empty when absent)
field() {
    local f=$WORK/$1.rusage
    [[ -f $f ]] || return 0
    tr ' ' '\n' <"$f" | awk -F= -v k="$2" '$1 == k { print $2; exit }'
}

# column TAG STATUS: fills COL with the formatted cells for one run
COL=()
column_for() {
    local tag=$1 status=$2 wall cpu_ms rss tasks
    wall=$(field "$tag" wall_ms)
    cpu_ms=$(field "$tag" cpu_ms)
    rss=$(field "$tag" maxrss_kib)
    tasks=$(field "$tag" peak_tasks)
    if [[ -z $wall ]]; then
        COL=(FAILED FAILED FAILED FAILED "FAILED (exit $status)")
        return
    fi
    local st="0"
    if ((status == 124 || status == 137)) && ((${#guard[@]} > 0)); then
        st="TIMEOUT (${TMO}s)"
    elif ((status != 0)); then
        st="FAILED (exit $status)"
    fi
    COL=("$wall ms" "$cpu_ms ms" "$(awk -v k="$rss" 'BEGIN{printf "%.1f MiB", k/1024}')" "$tasks" "$st")
}

# show TITLE NATIVE_TAG NATIVE_STATUS GORO_TAG GORO_STATUS
show() {
    local title=$1 nt=$2 ns=$3 gt=$4 gs=$5 i
    local -a a b labels=("wall time" "CPU time (user+sys)" "peak RSS" "peak kernel tasks" "exit status")
    column_for "$nt" "$ns"
    a=("${COL[@]}")
    if ((GORO_OK)); then
        column_for "$gt" "$gs"
        b=("${COL[@]}")
    else
        b=(FAILED FAILED FAILED FAILED "FAILED (no libgoro.so)")
    fi
    echo
    echo "== $title"
    printf '  %-22s %-22s %s\n' "" "native" "goro -p $PROCS"
    for i in "${!labels[@]}"; do
        printf '  %-22s %-22s %s\n' "${labels[$i]}" "${a[$i]}" "${b[$i]}"
    done
    if ((GORO_OK)) && [[ $gs != 0 && -s $WORK/$gt.err ]]; then
        echo "  goro stderr (last lines):"
        tail -n 5 -- "$WORK/$gt.err" | sed 's/^/    | /'
    fi
}

# program_line FILE: the program's first human line (not RESULT)
program_line() {
    grep -av '^RESULT ' -- "$1" 2>/dev/null | head -n 1 | sed 's/^/  native says: /'
}

run_pair() { # run_pair NAME TITLE CMD...
    local name=$1 title=$2 ns gs=0
    shift 2
    measure "$name.native" "$WORK/$name.native.out" env -u LD_PRELOAD "$@"
    ns=$?
    if ((GORO_OK)); then
        measure "$name.goro" "$WORK/$name.goro.out" "$GORO" -p "$PROCS" -- "$@"
        gs=$?
    fi
    show "$title" "$name.native" "$ns" "$name.goro" "$gs"
    program_line "$WORK/$name.native.out"
    if ((GORO_OK)) && [[ -s $WORK/$name.goro.out ]]; then
        grep -av '^RESULT ' -- "$WORK/$name.goro.out" | head -n 1 | sed 's/^/  goro says:   /'
    fi
}

# 1. Many threads alive at once, mostly asleep.
run_pair sleepers "sleepers: 2000 threads alive at once, each sleeping 5 x 50 ms" \
    "$BIN/sleepers" -n 2000 -r 5 -m 50

# 2. Thread churn.
run_pair create_join "create_join: 5000 threads created and joined" \
    "$BIN/create_join" -n 5000

# 3. A real Debian binary, when installed: pigz compresses with 4 threads.
if command -v pigz >/dev/null 2>&1; then
    input=$WORK/pigz-input
    if [[ ! -s $input ]]; then
        # 32 MiB, compressible about 4:1: text lines plus some random bytes.
        { seq 1 2000000; head -c 16M /dev/urandom | base64; } | head -c 32M >"$input"
    fi
    pigz_bin=$(command -v pigz)
    measure pigz.native "$WORK/pigz.native.gz" env -u LD_PRELOAD "$pigz_bin" -p 4 -c "$input"
    ns=$?
    gs=0
    if ((GORO_OK)); then
        measure pigz.goro "$WORK/pigz.goro.gz" "$GORO" -p "$PROCS" -- "$pigz_bin" -p 4 -c "$input"
        gs=$?
    fi
    show "pigz -p 4: compress $(($(stat -c %s "$input") / 1048576)) MiB" pigz.native "$ns" pigz.goro "$gs"
    if ((GORO_OK)); then
        if cmp -s -- "$WORK/pigz.native.gz" "$WORK/pigz.goro.gz"; then
            echo "  output: byte-identical ($(stat -c %s "$WORK/pigz.native.gz") bytes)"
        else
            echo "  output: DIFFERENT from the native run"
        fi
    fi
else
    echo
    echo "== pigz not installed: skipping the real-binary demo (apt-get install pigz)"
fi

echo
echo "peak kernel tasks: sampled from /proc/PID/task every 200 us (a lower bound)."
echo "Raw measurements and program output: $WORK/"
exit 0
