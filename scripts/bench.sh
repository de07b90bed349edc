#!/usr/bin/env bash
# bench.sh - native threads vs goro (vs Go) on the bench/ workloads.
#
#   bash scripts/bench.sh            (or: make bench)
#
# Each benchmark program runs natively, under goro with GOMAXPROCS=1 and 2,
# and (when `go` is installed) as its Go reference, interleaved, BENCH_REPS
# times; the table shows medians.  A goro run that crashes, hangs (timeout) or
# prints no RESULT line shows as FAILED/TIMEOUT in its cell; nothing aborts.
# Some rows are variants of one program (other arguments, other environment:
# preempt_off runs bench/preempt with GORO_PREEMPT=off and, for Go,
# GODEBUG=asyncpreemptoff=1).
#
# Then real multi-threaded programs, when installed (pigz -p 4, xz -T4 -1,
# zstd -T4), compress a generated ~30 MB file natively and under goro
# (LD_PRELOAD set directly, as scripts/goro would, so its start-up is not
# timed), with hyperfine when installed (and jq to read its JSON), else timed
# here; a second table shows medians, ratios and whether goro's output is
# byte-identical to the native one.
#
# Environment:
#   BENCH_REPS=5          repetitions of each (program, mode)
#   BENCH_TIMEOUT=60      seconds before one run is killed and called TIMEOUT
#   BENCH_PROCS="1 2"     GOMAXPROCS values for the goro columns
#   BENCH_GO_PROCS=1      GOMAXPROCS for the Go reference
#   BENCH_FILTER=REGEX    only the programs whose name matches
#   BENCH_QUICK=1         small sizes (a smoke run, numbers less meaningful)
#   BENCH_NO_GO=1         skip the Go references even if go is installed
#   BENCH_NO_REAL=1       skip the real programs (pigz, xz, zstd)
#   BENCH_SCALE_1M=1      add the scale_1m row (a million live threads; minutes)
#   BENCH_QUIET=N         before each run, wait until at most N tasks are
#                         runnable (/proc/loadavg) in 5 looks 0.1 s apart, for
#                         at most 60 s: on a shared host the others' load
#                         otherwise decides the numbers (the table says how
#                         many runs started without a quiet host)
#   BENCH_NO_APPS=1       skip the compatibility matrix (scripts/bench-apps.sh,
#                         run last; also skipped with BENCH_FILTER)
#   BENCH_NO_HYPERFINE=1  time the real programs here even if hyperfine is installed
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
QUIET=${BENCH_QUIET:-}
[[ -z $QUIET || $QUIET =~ ^[1-9][0-9]*$ ]] || { echo "bench.sh: BENCH_QUIET='$QUIET' is not a positive integer (tasks runnable at most)" >&2; exit 2; }

# entry -> arguments.  The order here is the order of the table.  An entry is
# a program in $BIN (and bench/go), or a variant of one: BINARY names the
# program, GOROENV/GOENV add environment to the goro/Go runs, SUFFIX is
# appended to the variant's RESULT names so that they get rows of their own.
# *_fsoff: the same switches with GORO_FSGSBASE=off (one arch_prctl per
# switch); *_ldt: with GORO_FSGSBASE=ldt (a segment load per switch, the
# default of a host without FSGSBASE; arch_prctl only to switch to main);
# arch_prctl: what one call costs here.
PROGRAMS=(create_join yield_pingpong cond_pingpong create_join_fsoff yield_pingpong_fsoff cond_pingpong_fsoff
    create_join_ldt yield_pingpong_ldt cond_pingpong_ldt
    arch_prctl mutex_uncontended mutex_contention sleepers sleep_accuracy
    handoff_latency pipe_pingpong preempt preempt_off echo_1k echo_10k)
declare -A ARGS BINARY GOROENV GOENV SUFFIX
BINARY=([preempt_off]=preempt [echo_1k]=echo_server [echo_10k]=echo_server
    [mutex_uncontended]=mutex_contention [create_join_fsoff]=create_join
    [yield_pingpong_fsoff]=yield_pingpong [cond_pingpong_fsoff]=cond_pingpong
    [create_join_ldt]=create_join [yield_pingpong_ldt]=yield_pingpong [cond_pingpong_ldt]=cond_pingpong)
GOROENV=([preempt_off]="GORO_PREEMPT=off" [create_join_fsoff]="GORO_FSGSBASE=off"
    [yield_pingpong_fsoff]="GORO_FSGSBASE=off" [cond_pingpong_fsoff]="GORO_FSGSBASE=off"
    [create_join_ldt]="GORO_FSGSBASE=ldt" [yield_pingpong_ldt]="GORO_FSGSBASE=ldt"
    [cond_pingpong_ldt]="GORO_FSGSBASE=ldt")
GOENV=([preempt_off]="GODEBUG=asyncpreemptoff=1")
SUFFIX=([preempt_off]=_preempt_off [create_join_fsoff]=_fsoff [yield_pingpong_fsoff]=_fsoff
    [cond_pingpong_fsoff]=_fsoff [create_join_ldt]=_ldt [yield_pingpong_ldt]=_ldt [cond_pingpong_ldt]=_ldt)
# 10,000 connections in one process need 20,000+ fds; below that hard limit
# (which an unprivileged or capability-less root cannot raise) the clients run
# in a second process (-P; the peak RSS is then the sum of both).
ECHO_SPLIT=""
hardfd=$(ulimit -Hn)
[[ $hardfd == unlimited ]] || ((hardfd >= 20100)) || ECHO_SPLIT=" -P"
if [[ $QUICK == 1 ]]; then
    ARGS=([create_join]="-n 2000" [yield_pingpong]="-n 100000 -t 1"
        [cond_pingpong]="-n 20000 -t 1" [create_join_fsoff]="-n 2000" [yield_pingpong_fsoff]="-n 100000 -t 1"
        [cond_pingpong_fsoff]="-n 20000 -t 1" [create_join_ldt]="-n 2000" [yield_pingpong_ldt]="-n 100000 -t 1"
        [cond_pingpong_ldt]="-n 20000 -t 1" [arch_prctl]="-n 20000" [mutex_contention]="-t 64 -n 10000"
        [mutex_uncontended]="-t 1 -n 1000000"
        [sleepers]="-n 1000 -r 3 -m 10" [sleep_accuracy]="-n 500" [handoff_latency]="-n 500 -t 1"
        [pipe_pingpong]="-n 100000 -t 1" [preempt]="-n 10 -i 20000000"
        [preempt_off]="-m work -i 20000000" [echo_1k]="-c 1000 -k 5"
        [echo_10k]="-c 2000 -k 2$ECHO_SPLIT")
else
    ARGS=([create_join]="-n 20000" [yield_pingpong]="-n 1000000 -t 2"
        [cond_pingpong]="-n 200000 -t 2" [create_join_fsoff]="-n 20000" [yield_pingpong_fsoff]="-n 1000000 -t 2"
        [cond_pingpong_fsoff]="-n 200000 -t 2" [create_join_ldt]="-n 20000" [yield_pingpong_ldt]="-n 1000000 -t 2"
        [cond_pingpong_ldt]="-n 200000 -t 2" [arch_prctl]="-n 200000" [mutex_contention]="-t 64 -n 100000"
        [mutex_uncontended]="-t 1 -n 20000000"
        [sleepers]="-n 10000 -r 10 -m 10" [sleep_accuracy]="-n 2000" [handoff_latency]="-n 5000 -t 2"
        [pipe_pingpong]="-n 1000000 -t 2" [preempt]="-n 40 -s 5 -w 4 -i 200000000"
        [preempt_off]="-m work -w 4 -i 200000000" [echo_1k]="-c 1000 -k 50"
        [echo_10k]="-c 10000 -k 5$ECHO_SPLIT")
fi
binof() { printf '%s' "${BINARY[$1]:-$1}"; }

# --- scale rows (issue 14): many live threads, a crowded wait table ---------------
# scale_30k: 30,000 threads (issue 14's "create 30k live threads" target: natively
# 28,672 with pid_max 32,768); scale_100k: 100,000 threads with 16 KiB stacks blocked on one condvar
# (create s, RSS KiB per thread, wake+join s; natively pid_max stops it
# short: scale_100k_alive says how many, the per-thread rows still compare).
# scale_1m: a million, only with BENCH_SCALE_1M=1 (minutes, ~8 GiB).
# wait_crowded: a semaphore ping-pong beside 50,000 threads parked on a third
# semaphore in the same wait-table bucket, against the same ping-pong alone.
add_scale_rows() {
    local quick=$1
    PROGRAMS+=(scale_30k scale_100k wait_crowded)
    BINARY+=([scale_30k]=scale [scale_100k]=scale [scale_1m]=scale)
    if [[ $quick == 1 ]]; then
        ARGS+=([scale_30k]="-n 30000 -m 10" [scale_100k]="-n 100000 -m 10" [wait_crowded]="-c 5000 -n 2000 -t 2")
    else
        ARGS+=([scale_30k]="-n 30000 -m 50" [scale_100k]="-n 100000 -m 50" [wait_crowded]="-c 50000 -n 20000 -t 10")
    fi
    if [[ ${BENCH_SCALE_1M:-0} == 1 ]]; then
        PROGRAMS+=(scale_1m)
        ARGS+=([scale_1m]="-n 1000000 -m 100")
        ((TMO >= 300)) || TMO=300
    fi
}
add_scale_rows "$QUICK"

# real programs: name -> compressor arguments (output on stdout)
REAL_TOOLS=(pigz xz zstd)
declare -A REAL_ARGS=([pigz]="-p 4 -c" [xz]="-T4 -1 -c" [zstd]="-T4 -q -c")

if [[ -n $FILTER ]]; then
    sel=()
    for p in "${PROGRAMS[@]}"; do
        [[ $p =~ $FILTER ]] && sel+=("$p")
    done
    PROGRAMS=("${sel[@]}")
    sel=()
    for p in "${REAL_TOOLS[@]}"; do
        [[ $p =~ $FILTER ]] && sel+=("$p")
    done
    REAL_TOOLS=("${sel[@]}")
    ((${#PROGRAMS[@]} + ${#REAL_TOOLS[@]} > 0)) || { echo "bench.sh: BENCH_FILTER='$FILTER' matches no benchmark" >&2; exit 2; }
fi
[[ ${BENCH_NO_REAL:-0} == 1 ]] && REAL_TOOLS=()

mkdir -p -- "$LOGS"
rm -f -- "$LOGS"/*.log

log() { printf '%s\n' "$*" >&2; }

median() { # median VALUES... -> prints the median, nothing when empty
    (($# > 0)) || return 0
    printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{
        if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2+1]+v[NR/2])/2 }'
}

# --- build what is missing ------------------------------------------------------

missing=()
declare -A seenbin
for p in "${PROGRAMS[@]}"; do
    b=$(binof "$p")
    [[ -x $BIN/$b || -n ${seenbin[$b]:-} ]] || missing+=("$BIN/$b")
    seenbin[$b]=1
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
        p=$(binof "$p")
        [[ -f bench/go/$p.go && -z ${GO_BUILT[$p]:-} ]] || continue
        if go build -o "$BIN/go/$p" "bench/go/$p.go" >"$LOGS/$p.go-build.log" 2>&1; then
            GO_BUILT[$p]=1
        else
            GO_BUILT[$p]=0
            log "bench.sh: go build bench/go/$p.go failed (see $LOGS/$p.go-build.log)"
        fi
    done
elif [[ ${BENCH_NO_GO:-0} != 1 ]]; then
    log "bench.sh: go is not installed: the Go rows are skipped (Debian: apt-get install golang-go)"
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

NOISY=0 # runs started without a quiet host (BENCH_QUIET)
# wait_quiet: with BENCH_QUIET=N, wait until at most N tasks are runnable
# (the 4th field of /proc/loadavg counts this shell's own look too) in 5 looks
# in a row, 0.1 s apart, giving up after 60 s.
wait_quiet() {
    [[ -n $QUIET ]] || return 0
    local ok=0 tries=0 r
    while ((ok < 5)); do
        if ((tries++ >= 600)); then
            NOISY=$((NOISY + 1))
            return 0
        fi
        r=$(cut -d' ' -f4 /proc/loadavg)
        if ((${r%/*} <= QUIET)); then ok=$((ok + 1)); else ok=0; fi
        sleep 0.1
    done
}

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
    local bin sfx=${SUFFIX[$1]:-}
    local -a args cmd goroenv goenv
    bin=$(binof "$prog")
    read -r -a args <<<"${ARGS[$prog]}"
    read -r -a goroenv <<<"${GOROENV[$prog]:-}"
    read -r -a goenv <<<"${GOENV[$prog]:-}"
    logf=$LOGS/$prog.$mode.$rep.log
    case $mode in
    native) cmd=(env -u LD_PRELOAD "$BIN/$bin" "${args[@]}") ;;
    goro-p*)
        if ((!GORO_OK)); then
            echo "libgoro.so missing" >"$logf"
            BAD[$prog|$mode]=$((${BAD[$prog|$mode]:-0} + 1))
            RUNS[$prog|$mode]=$((${RUNS[$prog|$mode]:-0} + 1))
            return
        fi
        cmd=(env "${goroenv[@]}" "$GORO" -p "${mode#goro-p}" -- "$BIN/$bin" "${args[@]}") ;;
    go)
        [[ ${GO_BUILT[$bin]:-} ]] || return # no Go reference for it
        if [[ ${GO_BUILT[$bin]} != 1 ]]; then
            BAD[$prog|$mode]=$((${BAD[$prog|$mode]:-0} + 1))
            RUNS[$prog|$mode]=$((${RUNS[$prog|$mode]:-0} + 1))
            return
        fi
        cmd=(env GOMAXPROCS="$GO_PROCS" "${goenv[@]}" "$BIN/go/$bin" "${args[@]}") ;;
    esac
    RUNS[$prog|$mode]=$((${RUNS[$prog|$mode]:-0} + 1))
    wait_quiet
    t0=$(date +%s.%N)
    guarded "${cmd[@]}" >"$logf" 2>&1 </dev/null
    rc=$?
    t1=$(date +%s.%N)
    while read -r tag name value unit rest; do
        [[ $tag == RESULT ]] || continue
        name=${name#name=}$sfx value=${value#value=} unit=${unit#unit=}
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

((${#PROGRAMS[@]} > 0)) && log "bench.sh: ${#PROGRAMS[@]} programs x modes (${MODES[*]}) x $REPS reps, timeout ${TMO}s each"
for ((rep = 1; rep <= REPS; rep++)); do
    for p in "${PROGRAMS[@]}"; do
        for m in "${MODES[@]}"; do
            run_one "$p" "$m" "$rep"
        done
    done
done

# --- real programs --------------------------------------------------------------

declare -A REAL_MED REAL_CELL REAL_CHECK # "tool|mode" -> median s, cell text; tool -> output check
REAL_MODES=(native)
for n in "${PROCS[@]}"; do REAL_MODES+=("goro-p$n"); done
REAL_MISSING=()
REAL_HOW=""
avail=()
for t in "${REAL_TOOLS[@]}"; do
    if command -v "$t" >/dev/null 2>&1; then avail+=("$t"); else REAL_MISSING+=("$t"); fi
done
REAL_TOOLS=("${avail[@]}")
RD=$BIN/real
INPUT=$RD/input.dat

gen_input() { # ~30 MB, deterministic: a counting sequence and a seeded pseudo-random text
    mkdir -p -- "$RD"
    {
        seq 1 1900000
        awk 'BEGIN { srand(42); n = split("alpha beta gamma delta goro thread park ready steal spin netpoll sysmon", w, " ")
            for (i = 0; i < 350000; i++)
                printf "%s %s %d %.6f %d\n", w[int(rand() * n) + 1], w[int(rand() * n) + 1],
                    int(rand() * 1000000), rand(), int(rand() * 2147483647) }'
    } >"$INPUT.tmp" && mv -f -- "$INPUT.tmp" "$INPUT"
}

real_cmd() { # real_cmd TOOL MODE -> a shell command line
    local tool=$1 mode=$2 pre libabs
    if [[ $mode == native ]]; then
        pre="env -u LD_PRELOAD"
    else
        libabs=$(readlink -f -- "$lib")
        pre="env LD_PRELOAD=$(printf '%q' "$libabs") GOMAXPROCS=${mode#goro-p}"
    fi
    local t=""
    ((HAVE_TIMEOUT)) && t="timeout -k 5 $TMO "
    printf '%s%s %s %s %q >%q' "$t" "$pre" "$tool" "${REAL_ARGS[$tool]}" "$ROOT/$INPUT" \
        "$ROOT/$RD/out.$tool.$mode"
}

if ((${#REAL_TOOLS[@]} > 0)); then
    [[ -s $INPUT ]] || { log "bench.sh: generating $INPUT"; gen_input; }
    USE_HF=0
    if [[ ${BENCH_NO_HYPERFINE:-0} != 1 ]] && command -v hyperfine >/dev/null 2>&1 && command -v jq >/dev/null 2>&1; then
        USE_HF=1
        REAL_HOW="hyperfine $(hyperfine --version | awk '{print $2}'), $REPS runs after 1 warm-up, per mode in turn"
    else
        REAL_HOW="timed by bench.sh, $REPS runs, interleaved"
    fi
    log "bench.sh: real programs (${REAL_TOOLS[*]}) x modes (${REAL_MODES[*]}): $REAL_HOW"
    for t in "${REAL_TOOLS[@]}"; do
        for m in "${REAL_MODES[@]}"; do rm -f -- "$RD/out.$t.$m"; done
        declare -A rvals=() rbad=()
        if ((USE_HF)); then
            hf=(hyperfine -i --style basic --runs "$REPS" --warmup 1 --export-json "$RD/$t.json")
            for m in "${REAL_MODES[@]}"; do
                [[ $m != native ]] && ((!GORO_OK)) && continue
                hf+=(-n "$m" "$(real_cmd "$t" "$m")")
            done
            "${hf[@]}" >"$LOGS/real.$t.hyperfine.log" 2>&1 || log "bench.sh: hyperfine $t failed (see $LOGS/real.$t.hyperfine.log)"
            while read -r m med nbad; do
                [[ -n $m ]] || continue
                rvals[$m]=$med
                rbad[$m]=$nbad
            done < <(jq -r '.results[] | "\(.command) \(.median) \([.exit_codes[] | select(. != 0)] | length)"' "$RD/$t.json" 2>/dev/null)
        else
            declare -A all=()
            for ((rep = 1; rep <= REPS; rep++)); do
                for m in "${REAL_MODES[@]}"; do
                    [[ $m != native ]] && ((!GORO_OK)) && continue
                    t0=$(date +%s.%N)
                    bash -c "$(real_cmd "$t" "$m")" 2>>"$LOGS/real.$t.$m.log"
                    rc=$?
                    t1=$(date +%s.%N)
                    if ((rc != 0)); then
                        rbad[$m]=$((${rbad[$m]:-0} + 1))
                        echo "run $rep: exit $rc" >>"$LOGS/real.$t.$m.log"
                    else
                        all[$m]+=" $(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')"
                    fi
                done
            done
            for m in "${REAL_MODES[@]}"; do
                read -r -a vv <<<"${all[$m]:-}"
                ((${#vv[@]} > 0)) && rvals[$m]=$(median "${vv[@]}")
            done
            unset all
        fi
        for m in "${REAL_MODES[@]}"; do
            if [[ -z ${rvals[$m]:-} ]] || ((${rbad[$m]:-0} >= REPS)); then
                REAL_CELL[$t|$m]=FAILED
            else
                REAL_MED[$t|$m]=${rvals[$m]}
                REAL_CELL[$t|$m]=$(awk -v x="${rvals[$m]}" 'BEGIN{printf "%.3f", x}')
                ((${rbad[$m]:-0} == 0)) || REAL_CELL[$t|$m]+=" (${rbad[$m]} failed)"
            fi
            log "$(printf '  %-5s %-8s %s' "$t" "$m" "${REAL_CELL[$t|$m]}")"
        done
        # outputs: the native one must decompress to the input; goro's must equal it
        chk=""
        nat=$RD/out.$t.native
        if [[ ! -s $nat ]]; then
            chk="no native output"
        elif ! "$t" -dc <"$nat" 2>/dev/null | cmp -s - "$INPUT"; then
            chk="native output does not decompress to the input"
        fi
        for m in "${REAL_MODES[@]}"; do
            [[ $m == native ]] && continue
            if [[ ! -s $RD/out.$t.$m ]]; then chk+="${chk:+; }$m: no output"
            elif [[ -s $nat ]] && ! cmp -s -- "$nat" "$RD/out.$t.$m"; then chk+="${chk:+; }$m: MISMATCH"
            fi
        done
        REAL_CHECK[$t]=${chk:-identical}
        [[ -z $chk ]] || log "bench.sh: $t outputs: $chk"
        unset rvals rbad
    done
fi

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
    elif ((${#vals[@]} == 0 && bad == 0)); then
        CELL="n/a" # every run passed; this variant does not measure it
    elif ((${#vals[@]} == 0)); then
        if ((tmo > 0 && tmo == bad)); then CELL=TIMEOUT; else CELL=FAILED; fi
    else
        v=$(median "${vals[@]}")
        MED[$name|$mode]=$v
        CELL=$(fmt_num "$v")
        ((bad == 0)) || CELL+=" ($bad/$runs failed)"
    fi
}

# ratio NAME MODE -> goro/native: the median of the ratios within each
# repetition (the runs of one repetition are back to back, so a host whose
# load drifts weighs on both alike), else the ratio of the medians when a run
# of either gave no value.
ratio() {
    local a=${MED[$1|$2]:-} b=${MED[$1|native]:-} i
    local -a va vb r
    if [[ -z $a || -z $b ]]; then
        printf '%s' "-"
        return
    fi
    read -r -a va <<<"${VALS[$1|$2]:-}"
    read -r -a vb <<<"${VALS[$1|native]:-}"
    if ((${#va[@]} == REPS && ${#vb[@]} == REPS)); then
        for ((i = 0; i < REPS; i++)); do
            r+=("$(awk -v a="${va[i]}" -v b="${vb[i]}" 'BEGIN{ if (b == 0) print "-"; else print a/b }')")
        done
        [[ " ${r[*]} " == *" - "* ]] || { a=$(median "${r[@]}"); b=1; }
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

fs_syscall_cost() { # the _fsoff and _ldt rows in units of one arch_prctl of the same run
    local c n m v s
    c=${MED[arch_prctl|native]:-}
    [[ -n $c ]] || return 0
    for s in fsoff ldt; do
        printf 'one arch_prctl(ARCH_SET_FS): %.0f ns here; with GORO_FSGSBASE=%s, in those units:' "$c" "${s/fsoff/off}"
        for n in create_join_seq yield_pingpong cond_pingpong; do
            for m in "${PROCS[@]/#/goro-p}"; do
                v=${MED[${n}_$s|$m]:-}
                [[ -n $v ]] && awk -v v="$v" -v c="$c" -v n="$n" -v m="$m" 'BEGIN{ printf " %s %s %.2fx;", n, m, v/c }'
            done
        done
        echo
    done
}

preempt_overhead() { # preempt_work_ms with preemption on vs off, same mode
    local a b m label
    for m in "${PROCS[@]/#/goro-p}" go; do
        a=${MED[preempt_work_ms|$m]:-} b=${MED[preempt_work_ms_preempt_off|$m]:-}
        [[ -n $a && -n $b ]] || continue
        if [[ $m == go ]]; then label="Go p=$GO_PROCS (GODEBUG=asyncpreemptoff=1)"; else label="goro p=${m#goro-p} (GORO_PREEMPT=off)"; fi
        awk -v a="$a" -v b="$b" -v l="$label" 'BEGIN{ if (b > 0) printf "preemption overhead, %s: preempt_work_ms %+.1f%% with preemption on vs off\n", l, (a/b-1)*100 }'
    done
}

real_table() {
    local t m line sep="|" h
    local -a hdr=("program" "unit") r
    for m in "${REAL_MODES[@]}"; do
        if [[ $m == native ]]; then hdr+=(native); else hdr+=("goro p=${m#goro-p}"); fi
    done
    for n in "${PROCS[@]}"; do hdr+=("p=$n/native"); done
    hdr+=(output)
    printf '| %s ' "${hdr[@]}"
    printf '|\n'
    for h in "${hdr[@]}"; do sep+="$(printf '%*s' $((${#h} + 2)) '' | tr ' ' '-')|"; done
    printf '%s\n' "$sep"
    for t in "${REAL_TOOLS[@]}"; do
        r=("$t ${REAL_ARGS[$t]% -c}" s)
        for m in "${REAL_MODES[@]}"; do r+=("${REAL_CELL[$t|$m]:--}"); done
        for n in "${PROCS[@]}"; do
            r+=("$(awk -v a="${REAL_MED[$t|goro-p$n]:-}" -v b="${REAL_MED[$t|native]:-}" \
                'BEGIN{ if (a == "" || b == "" || b == 0) print "-"; else printf "%.3fx", a/b }')")
        done
        r+=("${REAL_CHECK[$t]:--}")
        printf '| %s ' "${r[@]}"
        printf '|\n'
    done
}

{
    echo "# goro benchmarks"
    echo
    echo "- machine: $machine"
    echo "- libc: ${libc:-unknown}"
    echo "- commit: $commit, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- medians of $REPS runs each, interleaved; timeout ${TMO}s per run$([[ $QUICK == 1 ]] && echo '; BENCH_QUICK sizes')"
    [[ -z $QUIET ]] || echo "- BENCH_QUIET=$QUIET: each run waited for at most $QUIET runnable tasks; $NOISY started without (60 s wait)"
    if ((!HAVE_GO)); then
        if [[ ${BENCH_NO_GO:-0} == 1 ]]; then echo "- Go column absent: BENCH_NO_GO=1"
        else echo "- Go column absent: go is not installed (Debian: apt-get install golang-go; optional)"; fi
    fi
    [[ -z $GORO_NOTE ]] || echo "- $GORO_NOTE"
    echo
    if ((${#PROGRAMS[@]} > 0)); then
        table | align
        echo
        echo "ns/..., us and ms: lower is better; .../s: higher is better. The ratio is goro/native: the median of the ratios within each repetition."
        [[ -n $ECHO_SPLIT && " ${PROGRAMS[*]} " == *" echo_10k "* ]] &&
            echo "echo_10k: clients in a second process (-P): the hard RLIMIT_NOFILE ($hardfd) is below 2 fds x 10,000 connections; maxrss is server + clients."
        preempt_overhead
        fs_syscall_cost
    fi
    if ((${#REAL_TOOLS[@]} > 0)); then
        echo
        echo "## real programs: compressing $(($(stat -c %s -- "$INPUT") / 1000000)) MB ($INPUT)"
        echo
        echo "- $REAL_HOW; goro runs get LD_PRELOAD and GOMAXPROCS directly"
        echo
        real_table | align
        echo
        echo "Seconds, lower is better; within 3% (ratio <= 1.03x) is the target. output: goro's compressed bytes vs native's."
    fi
    ((${#REAL_MISSING[@]} == 0)) || { echo; echo "Not installed, skipped: ${REAL_MISSING[*]}."; }
    echo "Logs of every run: $LOGS/."
} | tee "$OUT"
log "bench.sh: table written to $OUT"
# the compatibility matrix's cases (tests/apps.bats), timed the same way
if [[ ${BENCH_NO_APPS:-0} != 1 && -z $FILTER ]]; then
    echo
    bash "$ROOT/scripts/bench-apps.sh"
fi
exit 0
