#!/usr/bin/env bash
# bench.sh - native threads vs goro (vs Go) on the bench/ workloads.
#
#   bash scripts/bench.sh            (or: make bench)
#
# Each benchmark program runs natively, under goro with GOMAXPROCS=1 and 2,
# and (when `go` is installed) as its Go reference, interleaved, BENCH_REPS
# times; the table shows medians.  A goro run that crashes, hangs (timeout) or
# prints no RESULT line shows as FAILED/TIMEOUT in its cell; nothing aborts.
#
# Environment:
#   BENCH_REPS=5          repetitions of each (program, mode)
#   BENCH_TIMEOUT=60      seconds before one run is killed and called TIMEOUT
#   BENCH_PROCS="1 2"     GOMAXPROCS values for the goro columns
#   BENCH_GO_PROCS=1      GOMAXPROCS for the Go reference
#   BENCH_FILTER=REGEX    only the programs whose name matches
#   BENCH_QUICK=1         small sizes (a smoke run, numbers less meaningful)
#   BENCH_NO_GO=1         skip the Go references even if go is installed
#   BUILD=build           build folder (programs in $BUILD/bench)
#   GORO_LIB              library for scripts/goro (default build/libgoro.so)
#
# Output: the table on stdout and in $BUILD/bench/results.md; every run's
# output in $BUILD/bench/logs/.

set -uo pipefail

ROOT=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd)
cd -- "$ROOT" || exit 1

BUILD=${BUILD:-build}
REPS=${BENCH_REPS:-5}
TMO=${BENCH_TIMEOUT:-60}
read -r -a PROCS <<<"${BENCH_PROCS:-1 2}"
GO_PROCS=${BENCH_GO_PROCS:-1}
FILTER=${BENCH_FILTER:-}
QUICK=${BENCH_QUICK:-0}
BIN=$BUILD/bench
LOGS=$BIN/logs
OUT=$BIN/results.md
GORO=$ROOT/scripts/goro

[[ $REPS =~ ^[1-9][0-9]*$ ]] || { echo "bench.sh: BENCH_REPS='$REPS' is not a positive integer" >&2; exit 2; }
[[ $TMO =~ ^[1-9][0-9]*$ ]] || { echo "bench.sh: BENCH_TIMEOUT='$TMO' is not a positive integer" >&2; exit 2; }

# program -> arguments.  The order here is the order of the table.
PROGRAMS=(create_join yield_pingpong cond_pingpong mutex_contention sleepers)
declare -A ARGS
if [[ $QUICK == 1 ]]; then
    ARGS=([create_join]="-n 2000" [yield_pingpong]="-n 100000 -t 1"
        [cond_pingpong]="-n 20000 -t 1" [mutex_contention]="-t 64 -n 10000"
        [sleepers]="-n 1000 -r 3 -m 10")
else
    ARGS=([create_join]="-n 20000" [yield_pingpong]="-n 1000000 -t 2"
        [cond_pingpong]="-n 200000 -t 2" [mutex_contention]="-t 64 -n 100000"
        [sleepers]="-n 10000 -r 10 -m 10")
fi

if [[ -n $FILTER ]]; then
    sel=()
    for p in "${PROGRAMS[@]}"; do
        [[ $p =~ $FILTER ]] && sel+=("$p")
    done
    PROGRAMS=("${sel[@]}")
    ((${#PROGRAMS[@]} > 0)) || { echo "bench.sh: BENCH_FILTER='$FILTER' matches no benchmark" >&2; exit 2; }
fi

mkdir -p -- "$LOGS"
rm -f -- "$LOGS"/*.log

log() { printf '%s\n' "$*" >&2; }

# --- build what is missing ------------------------------------------------------

missing=()
for p in "${PROGRAMS[@]}"; do
    [[ -x $BIN/$p ]] || missing+=("$BIN/$p")
done
if ((${#missing[@]} > 0)); then
    log "bench.sh: building ${missing[*]}"
    make --no-print-directory BUILD="$BUILD" "${missing[@]}" >&2 || log "bench.sh: build failed; those rows will show FAILED"
fi

GORO_OK=1
GORO_NOTE=""
lib=${GORO_LIB:-$BUILD/libgoro.so}
if [[ ! -f $lib ]]; then
    GORO_OK=0
    GORO_NOTE="$lib is missing: the goro columns show FAILED (build it with make)."
    log "bench.sh: $GORO_NOTE"
fi

HAVE_GO=0
declare -A GO_BUILT
if [[ ${BENCH_NO_GO:-0} != 1 ]] && command -v go >/dev/null 2>&1; then
    HAVE_GO=1
    mkdir -p -- "$BIN/go"
    if [[ -z ${HOME:-} && -z ${GOCACHE:-} ]]; then
        export GOCACHE=$ROOT/$BIN/go/.cache
    fi
    for p in "${PROGRAMS[@]}"; do
        [[ -f bench/go/$p.go ]] || continue
        if go build -o "$BIN/go/$p" "bench/go/$p.go" >"$LOGS/$p.go-build.log" 2>&1; then
            GO_BUILT[$p]=1
        else
            GO_BUILT[$p]=0
            log "bench.sh: go build bench/go/$p.go failed (see $LOGS/$p.go-build.log)"
        fi
    done
fi

HAVE_TIMEOUT=1
command -v timeout >/dev/null 2>&1 || { HAVE_TIMEOUT=0; log "bench.sh: no 'timeout' command: a hang will block"; }

MODES=(native)
for n in "${PROCS[@]}"; do MODES+=("goro-p$n"); done
((HAVE_GO)) && MODES+=(go)

# --- run ---------------------------------------------------------------------------

declare -A VALS     # "name|mode" -> space-separated values
declare -A UNIT     # name -> unit
declare -A PROG_OF  # name -> program
declare -A BAD      # "prog|mode" -> failed runs
declare -A TIMEOUTS # "prog|mode" -> timed-out runs
declare -A RUNS     # "prog|mode" -> runs attempted
NAMES=()

# guarded CMD...: run with a timeout when we have one.
guarded() {
    if ((HAVE_TIMEOUT)); then
        timeout -k 5 "$TMO" "$@"
    else
        "$@"
    fi
}

run_one() { # run_one PROG MODE REP
    local prog=$1 mode=$2 rep=$3 logf rc t0 t1 found=0 tag name value unit rest
    local -a args cmd
    read -r -a args <<<"${ARGS[$prog]}"
    logf=$LOGS/$prog.$mode.$rep.log
    case $mode in
    native) cmd=(env -u LD_PRELOAD "$BIN/$prog" "${args[@]}") ;;
    goro-p*)
        if ((!GORO_OK)); then
            echo "libgoro.so missing" >"$logf"
            BAD[$prog|$mode]=$((${BAD[$prog|$mode]:-0} + 1))
            RUNS[$prog|$mode]=$((${RUNS[$prog|$mode]:-0} + 1))
            return
        fi
        cmd=("$GORO" -p "${mode#goro-p}" -- "$BIN/$prog" "${args[@]}") ;;
    go)
        [[ ${GO_BUILT[$prog]:-} ]] || return # no Go reference for it
        if [[ ${GO_BUILT[$prog]} != 1 ]]; then
            BAD[$prog|$mode]=$((${BAD[$prog|$mode]:-0} + 1))
            RUNS[$prog|$mode]=$((${RUNS[$prog|$mode]:-0} + 1))
            return
        fi
        cmd=(env GOMAXPROCS="$GO_PROCS" "$BIN/go/$prog" "${args[@]}") ;;
    esac
    RUNS[$prog|$mode]=$((${RUNS[$prog|$mode]:-0} + 1))
    t0=$(date +%s.%N)
    guarded "${cmd[@]}" >"$logf" 2>&1 </dev/null
    rc=$?
    t1=$(date +%s.%N)
    while read -r tag name value unit rest; do
        [[ $tag == RESULT ]] || continue
        name=${name#name=} value=${value#value=} unit=${unit#unit=}
        [[ $value =~ ^[0-9.eE+-]+$ ]] || continue
        found=1
        if [[ -z ${PROG_OF[$name]:-} ]]; then
            PROG_OF[$name]=$prog
            UNIT[$name]=$unit
            NAMES+=("$name")
        fi
        VALS[$name|$mode]+=" $value"
    done < <(grep -a '^RESULT ' "$logf")
    local what=ok
    if ((rc == 124 || rc == 137)) && ((HAVE_TIMEOUT)); then
        what="TIMEOUT after ${TMO}s"
        TIMEOUTS[$prog|$mode]=$((${TIMEOUTS[$prog|$mode]:-0} + 1))
        BAD[$prog|$mode]=$((${BAD[$prog|$mode]:-0} + 1))
    elif ((rc != 0 || !found)); then
        if ((rc > 128 && rc < 160)); then
            what="FAILED (killed by SIG$(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128)))"
        else
            what="FAILED (exit $rc"
        fi
        ((found)) || what+=", no RESULT line"
        what+=")"
        BAD[$prog|$mode]=$((${BAD[$prog|$mode]:-0} + 1))
    fi
    log "$(printf '  [%d/%d] %-17s %-8s %6.2fs  %s' "$rep" "$REPS" "$prog" "$mode" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" "$what")"
    if [[ $what != ok ]]; then
        tail -n 3 -- "$logf" | sed 's/^/        | /' >&2
    fi
}

log "bench.sh: ${#PROGRAMS[@]} programs x modes (${MODES[*]}) x $REPS reps, timeout ${TMO}s each"
for ((rep = 1; rep <= REPS; rep++)); do
    for p in "${PROGRAMS[@]}"; do
        for m in "${MODES[@]}"; do
            run_one "$p" "$m" "$rep"
        done
    done
done

# --- summarise -------------------------------------------------------------------

# A program that never printed a RESULT line in any mode still gets a row.
for p in "${PROGRAMS[@]}"; do
    seen=0
    for n in "${NAMES[@]}"; do [[ ${PROG_OF[$n]} == "$p" ]] && seen=1; done
    if ((!seen)); then
        PROG_OF[$p]=$p
        UNIT[$p]="?"
        NAMES+=("$p")
    fi
done

median() { # median VALUES... -> prints the median, nothing when empty
    (($# > 0)) || return 0
    printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{
        if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2 }'
}

fmt_num() { # human-sized number
    awk -v x="$1" 'BEGIN{
        a = x < 0 ? -x : x
        if (a >= 1e9) printf "%.2fG", x/1e9
        else if (a >= 1e6) printf "%.2fM", x/1e6
        else if (a >= 1e4) printf "%.0f", x
        else if (a >= 100) printf "%.0f", x
        else printf "%.3g", x }'
}

declare -A MED # "name|mode" -> median
CELL=""
cell() {       # cell NAME MODE: sets CELL to the text for the table (and MED)
    local name=$1 mode=$2 prog=${PROG_OF[$1]} v runs bad tmo
    local -a vals
    read -r -a vals <<<"${VALS[$name|$mode]:-}"
    runs=${RUNS[$prog|$mode]:-0}
    bad=${BAD[$prog|$mode]:-0}
    tmo=${TIMEOUTS[$prog|$mode]:-0}
    if ((runs == 0)); then
        CELL="-"
    elif ((${#vals[@]} == 0)); then
        if ((tmo > 0 && tmo == bad)); then CELL=TIMEOUT; else CELL=FAILED; fi
    else
        v=$(median "${vals[@]}")
        MED[$name|$mode]=$v
        CELL=$(fmt_num "$v")
        ((bad == 0)) || CELL+=" ($bad/$runs failed)"
    fi
}

ratio() { # ratio NAME MODE -> goro/native
    local a=${MED[$1|$2]:-} b=${MED[$1|native]:-}
    if [[ -z $a || -z $b ]]; then
        printf '%s' "-"
        return
    fi
    awk -v a="$a" -v b="$b" 'BEGIN{ if (b == 0) print "-"; else printf "%.2fx", a/b }'
}

cpu=$(awk -F: '/^model name/{sub(/^[ \t]+/, "", $2); print $2; exit}' /proc/cpuinfo 2>/dev/null)
machine="nproc $(nproc), CPU ${cpu:-unknown}, kernel $(uname -sr)"
libc=$(ldd --version 2>/dev/null | head -n 1)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo "no commit")

header=("bench" "unit" "native")
for n in "${PROCS[@]}"; do header+=("goro p=$n"); done
for n in "${PROCS[@]}"; do header+=("p=$n/native"); done
((HAVE_GO)) && header+=("Go p=$GO_PROCS")

table() {
    local line sep="|" h
    line=$(printf '| %s ' "${header[@]}")
    printf '%s|\n' "$line"
    for h in "${header[@]}"; do sep+="$(printf '%*s' $((${#h} + 2)) '' | tr ' ' '-')|"; done
    printf '%s\n' "$sep"
    for line in "${rows[@]}"; do printf '%s\n' "$line"; done
}

# pad the columns of a markdown table so it reads well on a terminal too
align() {
    awk -F'|' '
        { n[NR] = NF; for (i = 2; i < NF; i++) { c = $i; gsub(/^ +| +$/, "", c); cell[NR, i] = c
              if (length(c) > w[i]) w[i] = length(c) } }
        END { for (r = 1; r <= NR; r++) { line = "|"
                  for (i = 2; i < n[r]; i++) {
                      c = cell[r, i]
                      if (r == 2) { d = ""; for (k = 0; k < w[i] + 2; k++) d = d "-"; line = line d "|" }
                      else if (i <= 3 || r == 1) line = line sprintf(" %-" w[i] "s |", c)
                      else line = line sprintf(" %" w[i] "s |", c) }
                  print line } }'
}

rows=()
for name in "${NAMES[@]}"; do
    r=("$name" "${UNIT[$name]}")
    cell "$name" native
    r+=("$CELL")
    for n in "${PROCS[@]}"; do
        cell "$name" "goro-p$n"
        r+=("$CELL")
    done
    for n in "${PROCS[@]}"; do r+=("$(ratio "$name" "goro-p$n")"); done
    if ((HAVE_GO)); then
        cell "$name" go
        r+=("$CELL")
    fi
    rows+=("$(printf '| %s ' "${r[@]}")|")
done

{
    echo "# goro benchmarks"
    echo
    echo "- machine: $machine"
    echo "- libc: ${libc:-unknown}"
    echo "- commit: $commit, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- medians of $REPS runs each, interleaved; timeout ${TMO}s per run$([[ $QUICK == 1 ]] && echo '; BENCH_QUICK sizes')"
    if ((!HAVE_GO)); then
        if [[ ${BENCH_NO_GO:-0} == 1 ]]; then echo "- Go column absent: BENCH_NO_GO=1"
        else echo "- Go column absent: go is not installed"; fi
    fi
    [[ -z $GORO_NOTE ]] || echo "- $GORO_NOTE"
    echo
    table | align
    echo
    echo "ns/... and ms: lower is better; ops/s: higher is better. The ratio is goro/native."
    echo "Logs of every run: $LOGS/."
} | tee "$OUT"
log "bench.sh: table written to $OUT"
exit 0
