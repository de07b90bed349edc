#!/usr/bin/env bash
# lab.sh - "Schedule Forensics": completion-time distributions of 1,000
# threads natively, under goro and in Go.
#
#   bash scripts/lab.sh              (or: make lab)
#
# bench/forensics (and bench/go/forensics.go when `go` is installed) runs in
# these configurations, interleaved, LAB_REPS times each:
#
#   native-1cpu   native pthreads pinned to CPU 0 (taskset -c 0): CFS on 1 CPU
#   native-all    native pthreads on every CPU
#   goro-pN       LD_PRELOAD=libgoro.so, GOMAXPROCS=N for N in 1, 2, nproc
#   go-pN         the Go reference with GOMAXPROCS=N (same N)
#
# and these workload groups:
#
#   plain   LAB_THREADS threads x 10 ms busy loop
#   yield   the same with sched_yield()/runtime.Gosched() every ~100 us
#   sleep   one nanosleep/time.Sleep of 10 ms each
#   ms25    LAB_MS25_THREADS threads x 25 ms busy loop, 1-CPU configurations
#           only (native-1cpu, goro-p1, go-p1): longer than sysmon's 10 ms
#           preemption slice, so time slicing shows
#
# Results: medians across repetitions into NOTES.md between the markers
# <!-- lab:begin --> and <!-- lab:end --> (the rest of the file is left
# alone), one CDF per group as docs/lab/cdf-GROUP.svg and .png (gnuplot,
# scripts/lab-plot.gp), every run's output in $BUILD/lab/logs/.  A run that
# fails or hangs shows FAILED/TIMEOUT in its cell and the lab goes on; for a
# hang, the threads' backtraces (gdb) are saved next to its log as .bt.
#
# Environment:
#   LAB_REPS=3             repetitions of each configuration
#   LAB_THREADS=1000       threads in plain/yield/sleep
#   LAB_MS=10              ms of work (or sleep) per thread in plain/yield/sleep
#   LAB_MS25_THREADS=200   threads in the ms25 group
#   LAB_GROUPS="plain yield sleep ms25"
#   LAB_PROCS="1 2 $(nproc)"   GOMAXPROCS values (duplicates dropped)
#   LAB_TIMEOUT=90         seconds before one run is killed (TIMEOUT)
#   LAB_NO_GO=1            skip Go even if it is installed
#   LAB_IPM, LAB_GO_IPM    loop iterations per ms for the C / Go program
#                          (default: the best of 5 `--calibrate` runs, once
#                          for the whole lab, so that every configuration does
#                          the same work even when the host is noisy)
#   LAB_NOTES=NOTES.md     file that receives the tables
#   LAB_REUSE=1            run nothing: redo the tables and plots from the
#                          previous run's $BUILD/lab/runs.tsv and CDF data
#   BUILD=build, GORO_LIB  as in scripts/bench.sh

set -uo pipefail

ROOT=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd)
cd -- "$ROOT" || exit 1

BUILD=${BUILD:-build}
REPS=${LAB_REPS:-3}
THREADS=${LAB_THREADS:-1000}
MS=${LAB_MS:-10}
MS25_THREADS=${LAB_MS25_THREADS:-200}
read -r -a GROUPS_SEL <<<"${LAB_GROUPS:-plain yield sleep ms25}"
TMO=${LAB_TIMEOUT:-90}
NOTES=${LAB_NOTES:-NOTES.md}
NCPU=$(nproc)
BIN=$BUILD/bench
LAB=$BUILD/lab
LOGS=$LAB/logs
CDF=$LAB/cdf
DOCS=docs/lab
GORO=$ROOT/scripts/goro
PROG=$BIN/forensics
GOPROG=$BIN/go/forensics

for v in REPS THREADS MS MS25_THREADS TMO; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "lab.sh: LAB_$v='${!v}' is not a positive integer" >&2; exit 2; }
done

log() { printf '%s\n' "$*" >&2; }

PROCS=()
for n in ${LAB_PROCS:-1 2 $NCPU}; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || { log "lab.sh: LAB_PROCS: '$n' is not a positive integer"; exit 2; }
    [[ " ${PROCS[*]} " == *" $n "* ]] || PROCS+=("$n")
done

REUSE=${LAB_REUSE:-0}
mkdir -p -- "$LOGS" "$CDF" "$DOCS"
if [[ $REUSE == 1 ]]; then
    [[ -f $LAB/runs.tsv ]] || { log "lab.sh: LAB_REUSE=1 but there is no $LAB/runs.tsv"; exit 2; }
else
    rm -f -- "$LOGS"/* "$CDF"/*
fi

# --- build -----------------------------------------------------------------------

if [[ ! -x $PROG ]]; then
    make --no-print-directory BUILD="$BUILD" "$PROG" >&2 || log "lab.sh: build of $PROG failed: its rows will show FAILED"
fi
GORO_OK=1
lib=${GORO_LIB:-$BUILD/libgoro.so}
if [[ ! -f $lib ]]; then
    GORO_OK=0
    log "lab.sh: $lib is missing: the goro rows show FAILED (build it with make)"
fi
HAVE_GO=0
GO_NOTE="go is not installed: no Go rows"
if [[ ${LAB_NO_GO:-0} == 1 ]]; then
    GO_NOTE="LAB_NO_GO=1: no Go rows"
elif command -v go >/dev/null 2>&1; then
    mkdir -p -- "$BIN/go"
    if [[ -z ${HOME:-} && -z ${GOCACHE:-} ]]; then export GOCACHE=$ROOT/$BIN/go/.cache; fi
    if go build -o "$GOPROG" bench/go/forensics.go >"$LOGS/go-build.log" 2>&1; then
        HAVE_GO=1
        GO_NOTE="Go: $(go version 2>/dev/null | awk '{print $3}')"
    else
        GO_NOTE="go build bench/go/forensics.go failed (see $LOGS/go-build.log): no Go rows"
        log "lab.sh: $GO_NOTE"
    fi
fi
HAVE_TASKSET=1
command -v taskset >/dev/null 2>&1 || { HAVE_TASKSET=0; log "lab.sh: no taskset: native-1cpu rows show FAILED"; }
HAVE_TIMEOUT=1
command -v timeout >/dev/null 2>&1 || { HAVE_TIMEOUT=0; log "lab.sh: no 'timeout': a hang will block"; }
HAVE_GDB=0
command -v gdb >/dev/null 2>&1 && HAVE_GDB=1

# --- calibration: one iteration count for every run of a program ----------------

calib() { # calib CMD... -> the highest iters_per_ms of 5 runs (the least disturbed)
    local i best=0 v
    for ((i = 0; i < 5; i++)); do
        v=$(env -u LD_PRELOAD "$@" --calibrate 2>/dev/null | sed -n 's/^iters_per_ms=//p')
        [[ $v =~ ^[0-9]+$ ]] && ((v > best)) && best=$v
    done
    echo "$best"
}
IPM=${LAB_IPM:-}
if [[ $REUSE == 1 ]]; then # the count the previous run used
    IPM=$(sed -n 's/.*mode=[a-z]* iters_per_ms=\([0-9]*\).*/\1/p' "$LOGS"/plain.native-1cpu.*.log 2>/dev/null | head -n 1)
    LAB_GO_IPM=$(sed -n 's/.*mode=[a-z]* iters_per_ms=\([0-9]*\).*/\1/p' "$LOGS"/plain.go-p1.*.log 2>/dev/null | head -n 1)
fi
[[ -n $IPM ]] || IPM=$(calib "$PROG")
[[ $IPM =~ ^[1-9][0-9]*$ ]] || { log "lab.sh: calibration of $PROG failed; each run calibrates itself"; IPM=""; }
GO_IPM=""
if ((HAVE_GO)); then
    GO_IPM=${LAB_GO_IPM:-}
    [[ -n $GO_IPM ]] || GO_IPM=$(calib "$GOPROG")
    [[ $GO_IPM =~ ^[1-9][0-9]*$ ]] || { log "lab.sh: calibration of $GOPROG failed; each run calibrates itself"; GO_IPM=""; }
fi
log "lab.sh: iterations per ms: C ${IPM:-per run}, Go ${GO_IPM:-per run}"

# --- configurations ----------------------------------------------------------------

MODES=(native-1cpu native-all)
for n in "${PROCS[@]}"; do MODES+=("goro-p$n"); done
if ((HAVE_GO)); then for n in "${PROCS[@]}"; do MODES+=("go-p$n"); done; fi

group_args() { # group_args GROUP -> forensics arguments
    case $1 in
    plain) echo "--threads $THREADS --ms $MS" ;;
    yield) echo "--threads $THREADS --ms $MS --yield" ;;
    sleep) echo "--threads $THREADS --ms $MS --sleep" ;;
    ms25) echo "--threads $MS25_THREADS --ms 25" ;;
    *) return 1 ;;
    esac
}
group_modes() { # group_modes GROUP -> the configurations it runs in
    local m
    if [[ $1 == ms25 ]]; then
        for m in native-1cpu goro-p1 go-p1; do
            [[ " ${MODES[*]} " == *" $m "* ]] && printf '%s\n' "$m"
        done
    else
        printf '%s\n' "${MODES[@]}"
    fi
}
for g in "${GROUPS_SEL[@]}"; do
    group_args "$g" >/dev/null || { log "lab.sh: LAB_GROUPS: unknown group '$g' (plain yield sleep ms25)"; exit 2; }
done

# --- run ---------------------------------------------------------------------------

RUNS=$LAB/runs.tsv # group mode rep status min p50 p90 p99 max wall ratio spawn ready cpu preq pasync
((REUSE)) || : >"$RUNS"

# watchdog PID LOGF: shortly before the timeout fires, save every thread's
# backtrace of the program under timeout PID (its child).
watchdog() {
    local tpid=$1 logf=$2 child spid
    sleep $((TMO > 5 ? TMO - 3 : TMO)) &
    spid=$!
    trap 'kill "$spid" 2>/dev/null; exit 0' TERM
    wait "$spid"
    child=$(pgrep -P "$tpid" | head -n 1)
    [[ -n $child ]] || return 0
    { echo "# $(date -u '+%F %T') still running after ~${TMO}s: pid $child"
      gdb -p "$child" -batch -ex 'info threads' -ex 'thread apply all bt' 2>&1 | head -n 3000
    } >"${logf%.log}.bt"
}

run_one() { # run_one GROUP MODE REP
    local g=$1 m=$2 rep=$3 logf rc t0 t1 wd=""
    local -a args cmd
    read -r -a args <<<"$(group_args "$g")"
    if [[ $g != sleep ]]; then
        if [[ $m == go-* ]]; then
            [[ -z $GO_IPM ]] || args+=(--iters-per-ms "$GO_IPM")
        else
            [[ -z $IPM ]] || args+=(--iters-per-ms "$IPM")
        fi
    fi
    logf=$LOGS/$g.$m.$rep.log
    case $m in
    native-1cpu) cmd=(taskset -c 0 env -u LD_PRELOAD "$PROG" "${args[@]}")
        ((HAVE_TASKSET)) || cmd=(false) ;;
    native-all) cmd=(env -u LD_PRELOAD "$PROG" "${args[@]}") ;;
    goro-p*) cmd=("$GORO" -p "${m#goro-p}" --stats -- "$PROG" "${args[@]}")
        ((GORO_OK)) || cmd=(false) ;;
    go-p*) cmd=(env -u LD_PRELOAD GOMAXPROCS="${m#go-p}" "$GOPROG" "${args[@]}") ;;
    esac
    t0=$(date +%s.%N)
    if ((HAVE_TIMEOUT)); then
        timeout -k 5 "$TMO" "${cmd[@]}" >"$logf" 2>&1 </dev/null &
        local tpid=$!
        if ((HAVE_GDB)); then
            watchdog "$tpid" "$logf" &
            wd=$!
        fi
        wait "$tpid"
        rc=$?
        if [[ -n $wd ]]; then
            kill "$wd" 2>/dev/null
            wait "$wd" 2>/dev/null
        fi
    else
        "${cmd[@]}" >"$logf" 2>&1 </dev/null
        rc=$?
    fi
    t1=$(date +%s.%N)
    local status=ok sum
    sum=$(grep -a -m 1 '^SUMMARY ' "$logf")
    if ((rc == 124 || rc == 137)) && ((HAVE_TIMEOUT)); then
        status=TIMEOUT
    elif ((rc != 0)) || [[ -z $sum ]]; then
        status=FAILED
    fi
    # goro's counters (GORO_STATS=1) for the goro rows
    local preq=- pasync=-
    if [[ $m == goro-* ]]; then
        preq=$(grep -ao 'preempt_requests=[0-9]*' "$logf" | tail -n 1 | cut -d= -f2)
        pasync=$(grep -ao 'async_preemptions=[0-9]*' "$logf" | tail -n 1 | cut -d= -f2)
        preq=${preq:--} pasync=${pasync:--}
    fi
    if [[ $status == ok ]]; then
        awk -v g="$g" -v m="$m" -v r="$rep" -v pq="$preq" -v pa="$pasync" '{
            for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
            printf "%s\t%s\t%s\tok\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", g, m, r,
                v["min_ms"], v["p50_ms"], v["p90_ms"], v["p99_ms"], v["max_ms"], v["wall_ms"],
                v["p50_over_wall"], v["spawn_ms"], v["ready_ms"], v["cpu_s"], pq, pa }' <<<"$sum" >>"$RUNS"
        # completion times (ms) for the CDF, every repetition pooled
        awk '$1 == "T" { printf "%.3f\n", $4 / 1000 }' "$logf" >>"$CDF/$g.$m.raw"
    else
        printf '%s\t%s\t%s\t%s\n' "$g" "$m" "$rep" "$status" >>"$RUNS"
    fi
    local what=$status
    [[ $status == ok ]] || what+=" (exit $rc)"
    log "$(printf '  [%d/%d] %-6s %-12s %7.2fs  %s' "$rep" "$REPS" "$g" "$m" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" "$what")"
    if [[ $status != ok ]]; then
        tail -n 3 -- "$logf" | sed 's/^/        | /' >&2
        [[ -f ${logf%.log}.bt ]] && log "        backtraces: ${logf%.log}.bt"
    fi
}

total=0
for g in "${GROUPS_SEL[@]}"; do total=$((total + $(group_modes "$g" | wc -l))); done
log "lab.sh: groups (${GROUPS_SEL[*]}) x configurations (${MODES[*]}): $total runs x $REPS reps, timeout ${TMO}s each"
for ((rep = 1; rep <= REPS && !REUSE; rep++)); do
    for g in "${GROUPS_SEL[@]}"; do
        while read -r m; do
            run_one "$g" "$m" "$rep"
        done < <(group_modes "$g")
    done
done

# --- CDFs and plots ------------------------------------------------------------------

# repetitions actually recorded (fewer than LAB_REPS after an interrupted run)
if ((REUSE)); then
    REPS=$(awk -F'\t' '$4 == "ok" && $3 > n { n = $3 } END { print n + 0 }' "$RUNS")
fi

for f in "$CDF"/*.raw; do
    [[ -e $f ]] || continue
    sort -g "$f" | awk '{ v[NR] = $1 } END { for (i = 1; i <= NR; i++) printf "%s %.5f\n", v[i], i / NR }' >"${f%.raw}.dat"
done

PLOTS=()
if command -v gnuplot >/dev/null 2>&1; then
    for g in "${GROUPS_SEL[@]}"; do
        confs=""
        while read -r m; do
            [[ -s $CDF/$g.$m.dat ]] && confs+="$m "
        done < <(group_modes "$g")
        [[ -n $confs ]] || continue
        read -r -a a <<<"$(group_args "$g")"
        title="$g: ${a[1]} threads, ${a[3]} ms each${a[4]:+ (${a[4]})}"
        if gnuplot -e "datadir='$CDF'; group='$g'; confs='${confs% }'; out='$DOCS/cdf-$g'; ttl='$title'" \
            scripts/lab-plot.gp >"$LOGS/plot-$g.log" 2>&1; then
            PLOTS+=("$g")
        else
            log "lab.sh: gnuplot failed for $g (see $LOGS/plot-$g.log)"
        fi
    done
else
    log "lab.sh: gnuplot is not installed (scripts/install-deps.sh installs gnuplot-nox): no plots"
fi

# --- tables ----------------------------------------------------------------------------

# table GROUP: one markdown row per configuration, medians across repetitions
table() {
    local g=$1
    echo "| config | min | p50 | p90 | p99 | max | wall | p50/wall | spawn | CPU s | preempt req/async |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    while read -r m; do
        awk -F'\t' -v g="$g" -v m="$m" '
            function med(col,   n, i, j, t, a) {
                n = 0
                for (i = 1; i <= ok; i++) if (val[i, col] != "-" && val[i, col] != "") a[++n] = val[i, col] + 0
                if (n == 0) return "-"
                for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
                return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
            }
            function ms(x) { if (x == "-") return x; return x >= 100 ? sprintf("%.0f", x) : sprintf("%.1f", x) }
            $1 == g && $2 == m { runs++
                if ($4 == "ok") { ok++; for (c = 5; c <= 16; c++) val[ok, c] = $c }
                else if ($4 == "TIMEOUT") tmo++; else bad++ }
            END {
                if (runs == 0) exit
                if (ok == 0) {
                    s = (tmo > 0 && bad == 0) ? "TIMEOUT" : "FAILED"
                    printf "| %s | %s | | | | | | | | | |\n", m, s " (" runs "/" runs ")"
                    exit
                }
                note = (ok < runs) ? sprintf(" (%d/%d %s)", runs - ok, runs, tmo ? "TIMEOUT" : "FAILED") : ""
                pr = med(15); pa = med(16)
                printf "| %s%s | %s | %s | %s | %s | %s | %s | %.2f | %s | %.2f | %s |\n", m, note,
                    ms(med(5)), ms(med(6)), ms(med(7)), ms(med(8)), ms(med(9)), ms(med(10)),
                    med(11), ms(med(12)), med(14), (pr == "-" ? "-" : pr "/" pa)
            }' "$RUNS"
    done < <(group_modes "$g")
}

cpu=$(awk -F: '/^model name/{sub(/^[ \t]+/, "", $2); print $2; exit}' /proc/cpuinfo 2>/dev/null)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo "no commit")
GEN=$LAB/generated.md
{
    echo "<!-- lab:begin -->"
    echo "<!-- generated by scripts/lab.sh ($(date -u '+%Y-%m-%d %H:%M UTC')); edit outside the markers -->"
    echo
    echo "- machine: nproc $NCPU, CPU ${cpu:-unknown}, kernel $(uname -sr); $(ldd --version 2>/dev/null | head -n 1)"
    echo "- commit $commit; medians of $REPS repetitions, configurations interleaved; timeout ${TMO}s per run"
    echo "- $GO_NOTE"
    echo "- work loop: ${IPM:-calibrated per run} iterations/ms (C), ${GO_IPM:-calibrated per run} (Go):"
    echo "  the best of 5 calibration runs at the start of the lab, the same count in every run"
    echo "- times in ms from the common start (t0: main opens the gate once every thread"
    echo "  waits at it); wall = t0 to the last join; spawn = the pthread_create loop"
    echo "  (before t0); CPU s = user+sys of the process (calibration included);"
    echo "  preempt = goro's preempt_requests/async_preemptions (GORO_STATS)"
    for g in "${GROUPS_SEL[@]}"; do
        read -r -a a <<<"$(group_args "$g")"
        echo
        case $g in
        plain) echo "### plain: ${a[1]} threads x ${a[3]} ms busy loop" ;;
        yield) echo "### yield: ${a[1]} threads x ${a[3]} ms busy loop, sched_yield / Gosched every ~100 us" ;;
        sleep) echo "### sleep: ${a[1]} threads x one ${a[3]} ms nanosleep / time.Sleep" ;;
        ms25) echo "### ms25: ${a[1]} threads x ${a[3]} ms busy loop (one CPU / one P)" ;;
        esac
        echo
        table "$g"
        if [[ " ${PLOTS[*]} " == *" $g "* ]]; then
            echo
            echo "![completion-time CDF, $g]($DOCS/cdf-$g.svg) ([PNG]($DOCS/cdf-$g.png))"
        fi
    done
    echo
    echo "<!-- lab:end -->"
} >"$GEN"

if [[ ! -f $NOTES ]]; then
    printf '# Schedule Forensics\n\n## Results\n\n<!-- lab:begin -->\n<!-- lab:end -->\n' >"$NOTES"
fi
if grep -q '^<!-- lab:begin -->' "$NOTES" && grep -q '^<!-- lab:end -->' "$NOTES"; then
    awk -v gen="$GEN" '
        /^<!-- lab:begin -->/ { while ((getline l < gen) > 0) print l; skip = 1; next }
        /^<!-- lab:end -->/ { skip = 0; next }
        !skip { print }' "$NOTES" >"$NOTES.tmp" && mv -- "$NOTES.tmp" "$NOTES"
else
    { echo; cat "$GEN"; } >>"$NOTES"
fi

cat "$GEN"
log "lab.sh: tables written to $NOTES; plots in $DOCS/; logs in $LOGS/"
exit 0
