#!/usr/bin/env bash
# bench-omp.sh - OpenMP and raw futex waits: native threads vs goro.
#
#   bash scripts/bench-omp.sh          (part of: make bench)
#
# build/progs/omp_mix (libgomp: parallel for, reduction, barrier, critical,
# tasks) with OMP_WAIT_POLICY passive and active, and build/progs/rawfutex (a
# token ring through inline futex waits, then through libc's syscall()), each run natively on every CPU,
# natively on one CPU (taskset -c 0), under goro at GOMAXPROCS=1 on that one
# CPU and under goro at GOMAXPROCS=nproc, interleaved, BENCH_REPS times.  The
# table shows median wall seconds and the ratios the targets name:
# goro p=1 / native on one CPU, and goro p=nproc / native.
#
# Environment: BENCH_REPS=5, BENCH_QUICK=1 (fewer rounds), BUILD=build,
# GORO_LIB (default $BUILD/libgoro.so).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
LIB=${GORO_LIB:-$BUILD/libgoro.so}
REPS=${BENCH_REPS:-5}
NPROC=$(nproc)
ROUNDS=2000 RING=20000
[[ ${BENCH_QUICK:-0} == 1 ]] && ROUNDS=200 RING=2000
OUT=$BUILD/bench/omp.md
mkdir -p "$BUILD/bench"
for f in "$LIB" "$BUILD/progs/omp_mix" "$BUILD/progs/rawfutex"; do
    [[ -e $f ]] || { echo "bench-omp.sh: $f missing (make all progs)" >&2; exit 2; }
done

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{ if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2+1]+v[NR/2])/2 }'; }

# secs CMD...: wall seconds of one run (FAILED when it does not exit 0).
secs() {
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || { echo FAILED; return; }
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b - a}'
}

ratio() { [[ $1 == FAILED || $2 == FAILED ]] && { echo n/a; return; }; awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2fx", a / b}'; }

# row NAME ENV... -- CMD...
row() {
    local name=$1; shift
    local envs=()
    while [[ $1 != -- ]]; do envs+=("$1"); shift; done
    shift
    local n1=() n0=() g1=() gn=() i
    for ((i = 0; i < REPS; i++)); do
        n1+=("$(secs env "${envs[@]}" taskset -c 0 "$@")")
        n0+=("$(secs env "${envs[@]}" "$@")")
        g1+=("$(secs env "${envs[@]}" LD_PRELOAD="$LIB" GOMAXPROCS=1 taskset -c 0 "$@")")
        gn+=("$(secs env "${envs[@]}" LD_PRELOAD="$LIB" GOMAXPROCS="$NPROC" "$@")")
    done
    local a b c d
    a=$(median "${n1[@]}") b=$(median "${g1[@]}") c=$(median "${n0[@]}") d=$(median "${gn[@]}")
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$a" "$b" "$(ratio "$b" "$a")" "$c" "$d" "$(ratio "$d" "$c")"
}

{
    echo "OpenMP and raw futex waits: median wall seconds of $REPS runs, $(nproc) CPUs ($(uname -r))."
    echo
    echo "| program | native, 1 CPU | goro p=1, 1 CPU | ratio | native | goro p=$NPROC | ratio |"
    echo "|---|---|---|---|---|---|---|"
    for pol in passive active; do
        for nt in 4 "$NPROC"; do
            row "omp_mix $ROUNDS, $nt threads, $pol" OMP_NUM_THREADS="$nt" OMP_WAIT_POLICY="$pol" -- \
                "$BUILD/progs/omp_mix" "$ROUNDS"
        done
    done
    row "rawfutex 4 threads x $RING" -- "$BUILD/progs/rawfutex" 4 "$RING"
    row "rawfutex 4 threads x $RING, libc's syscall()" -- "$BUILD/progs/rawfutex" 4 "$RING" libc
} | tee "$OUT"
