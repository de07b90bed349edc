#!/usr/bin/env bash
# Tracing off costs nothing measurable: the hottest paths (yield and
# mutex+cond ping-pong, GOMAXPROCS=1) under build/libgoro.so (tracer
# compiled in, GORO_TRACE unset) and under build/notrace/libgoro.so (the
# recording sites compiled out), interleaved, medians and the ratio.
#   TRACE_REPS=7   repetitions of each
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${TRACE_REPS:-7}
[[ $REPS =~ ^[1-9][0-9]*$ ]] || { echo "bench-trace-off.sh: TRACE_REPS='$REPS' is not a positive integer" >&2; exit 2; }
make -s lib notrace progs >/dev/null
declare -A ARGS=([yield_pingpong]="-n 1000000 -t 2" [cond_pingpong]="-n 200000 -t 2")
median() { sort -g | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
printf '%-16s %-10s %12s %12s %8s\n' bench unit "tracer in" "compiled out" ratio
for b in yield_pingpong cond_pingpong; do
    on=() off=()
    unit=""
    for ((i = 0; i < REPS; i++)); do
        for lib in build/libgoro.so build/notrace/libgoro.so; do
            # shellcheck disable=SC2086
            line=$(GOMAXPROCS=1 LD_PRELOAD="$PWD/$lib" timeout 60 "build/bench/$b" ${ARGS[$b]} | grep '^RESULT ' | head -1)
            v=$(sed -E 's/.* value=([^ ]+).*/\1/' <<<"$line")
            unit=$(sed -E 's/.* unit=([^ ]+).*/\1/' <<<"$line")
            if [[ $lib == build/libgoro.so ]]; then on+=("$v"); else off+=("$v"); fi
        done
    done
    m_on=$(printf '%s\n' "${on[@]}" | median)
    m_off=$(printf '%s\n' "${off[@]}" | median)
    printf '%-16s %-10s %12.1f %12.1f %7.3fx\n' "$b" "$unit" "$m_on" "$m_off" "$(awk -v a="$m_on" -v b="$m_off" 'BEGIN {print a / b}')"
done
echo "medians of $REPS interleaved runs each, GOMAXPROCS=1; ratio = tracer compiled in (off) / compiled out"
