#!/usr/bin/env bash
# bench-blocking.sh - the declared_call rows (make bench): what a GORO_BLOCKING
# declaration costs and what it buys (docs/ARCHITECTURE.md, "Declared
# blocking calls").
#
#   declared_call      ns per call of vendor_sum (never blocks): native, under
#                      goro undeclared, under goro declared; the overhead is
#                      declared - undeclared (target <= 150 ns)
#   declared_progress  counts per ms a counter thread makes at GOMAXPROCS=1
#                      while main sits in vendor_wait (a raw syscall read)
#                      for BENCH_WAIT_MS: undeclared vs declared
#   declared_latency   us from main entering vendor_wait to the counter's
#                      first instruction (it needs main's P)
#
# Environment: BENCH_REPS=5, BENCH_CALLS=2000000, BENCH_WAIT_MS=100, BUILD,
# GORO_LIB.  Medians of BENCH_REPS runs; output also in
# $BUILD/bench/blocking.md.
set -uo pipefail

ROOT=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd)
cd -- "$ROOT" || exit 1
BUILD=${BUILD:-build}
REPS=${BENCH_REPS:-5}
CALLS=${BENCH_CALLS:-2000000}
WAIT_MS=${BENCH_WAIT_MS:-100}
LIB=${GORO_LIB:-$ROOT/$BUILD/libgoro.so}
BIN=$ROOT/$BUILD/bench/declared_call
OUT=$ROOT/$BUILD/bench/blocking.md
DECL='vendor_sum:double(int,long,double,ptr),vendor_wait:int(int,ptr,int)'

for v in REPS CALLS WAIT_MS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "bench-blocking.sh: BENCH_$v='${!v}' is not a positive integer" >&2; exit 2; }
done
[[ -x $BIN && -f $LIB ]] || { echo "bench-blocking.sh: build first (make all): $BIN, $LIB" >&2; exit 2; }

# value NAME MODE ARGS...: the RESULT NAME value of one run; MODE
# native|plain|declared
value() {
  local name=$1 mode=$2
  shift 2
  local env=()
  case $mode in
  plain) env=(LD_PRELOAD="$LIB" GOMAXPROCS=1 GORO_BLOCKING=-) ;;
  declared) env=(LD_PRELOAD="$LIB" GOMAXPROCS=1 GORO_BLOCKING="$DECL") ;;
  esac
  # timeout runs outside goro: GORO_BLOCKING names functions only this program has
  timeout 60 env "${env[@]}" "$BIN" "$@" 2>/dev/null | sed -n "s/^RESULT name=$name value=\\([0-9.]*\\) .*/\\1/p"
}

# median MODE ARGS...: interleaving is left to the caller's loop order
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "FAILED" }'; }

declare -A runs
for ((i = 0; i < REPS; i++)); do
  for mode in native plain declared; do
    runs[calls_$mode]+="$(value declared_call "$mode" calls "$CALLS")"$'\n'
  done
  for mode in plain declared; do
    out=$(value '[a-z_]*' "$mode" progress "$WAIT_MS")
    runs[prog_$mode]+="$(sed -n 1p <<<"$out")"$'\n'
    runs[lat_$mode]+="$(sed -n 2p <<<"$out")"$'\n'
  done
done
m() { printf '%s' "${runs[$1]}" | grep . | median; }
{
  echo "| row | native | goro p=1 undeclared | goro p=1 declared | declared - undeclared |"
  echo "|---|---|---|---|---|"
  n=$(m calls_native) p=$(m calls_plain) d=$(m calls_declared)
  echo "| declared_call (ns/call, vendor_sum) | $n | $p | $d | $(awk -v a="$d" -v b="$p" 'BEGIN { printf "%.1f", a - b }') |"
  p=$(m prog_plain) d=$(m prog_declared)
  echo "| declared_progress (counts/ms of another thread during a ${WAIT_MS} ms vendor_wait) | - | $p | $d | x$(awk -v a="$d" -v b="$p" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "inf" }') |"
  p=$(m lat_plain) d=$(m lat_declared)
  echo "| declared_latency (us until another thread runs, p=1) | - | $p | $d | |"
} | tee "$OUT"
