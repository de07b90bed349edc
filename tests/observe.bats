#!/usr/bin/env bats
# Observability: the forensics lab program, schedtrace, and the debug
# endpoints of a DEBUG build while 1,000 threads run.

bats_require_minimum_version 1.5.0
load helpers

FORENSICS="$GORO_ROOT/build/bench/forensics"
DEBUG_LIB="$GORO_ROOT/build/debug/libgoro.so"

# check_forensics OUTPUT N: every thread reported once, and a summary that
# parses into ordered percentiles.
check_forensics() {
  local out=$1 n=$2
  [ "$(grep -c '^T ' <<<"$out")" -eq "$n" ] || fail "expected $n per-thread lines: $out"
  local s
  s=$(grep '^SUMMARY ' <<<"$out") || fail "no SUMMARY line: $out"
  python3 - "$s" <<'PY' || fail "summary does not parse or is out of order: $s"
import sys
kv = dict(f.split("=") for f in sys.argv[1].split()[1:])
v = {k: float(x) for k, x in kv.items()}
assert 0 < v["min_ms"] <= v["p50_ms"] <= v["p90_ms"] <= v["p99_ms"] <= v["max_ms"] <= v["wall_ms"] * 1.01, v
assert 0 < v["p50_over_wall"] <= 1.01, v
PY
}

@test "forensics: 50 threads x 2 ms, plain, --yield and --sleep, natively and under goro; output parses" {
  [ -x "$FORENSICS" ] || fail "missing $FORENSICS (make progs)"
  require_goro
  local mode out
  for mode in "" --yield --sleep; do
    out=$("$FORENSICS" --threads 50 --ms 2 --iters-per-ms 200000 $mode) || fail "native $mode failed"
    check_forensics "$out" 50
    for p in 1 2; do
      out=$(timeout "$GORO_TEST_TIMEOUT" env LD_PRELOAD="$GORO_LIB" GOMAXPROCS=$p \
        "$FORENSICS" --threads 50 --ms 2 --iters-per-ms 200000 $mode) || fail "goro p=$p $mode failed"
      check_forensics "$out" 50
    done
  done
}

@test "GORO_DEBUG=schedtrace=50 prints Go's SCHED line about every 50 ms" {
  require_goro
  [ -x "$GORO_ROOT/build/bench/sleepers" ] || fail "missing sleepers (make progs)"
  run --separate-stderr timeout "$GORO_TEST_TIMEOUT" env LD_PRELOAD="$GORO_LIB" GOMAXPROCS=2 \
    GORO_DEBUG=schedtrace=50 "$GORO_ROOT/build/bench/sleepers" -n 200 -r 10 -m 40
  assert_success
  local lines
  lines=$(grep -E '^SCHED [0-9]+ms: gomaxprocs=2 idleprocs=[0-9]+ threads=[0-9]+ spinningthreads=[0-9]+ idlethreads=[0-9]+ runqueue=[0-9]+ \[[0-9]+ [0-9]+\]$' <<<"$stderr" | wc -l)
  # the program runs ~400 ms: 8 periods; allow for start-up and a loaded machine
  [ "$lines" -ge 4 ] || fail "expected SCHED lines every 50 ms, saw $lines: $stderr"
  # and they are spaced by the period: the ms stamps increase by >= 50
  python3 - <<<"$stderr" <<'PY' || fail "SCHED stamps not spaced by the period: $stderr"
import re, sys
ts = [int(m) for m in re.findall(r"^SCHED (\d+)ms", sys.stdin.read(), re.M)]
assert all(b - a >= 45 for a, b in zip(ts, ts[1:])), ts
PY
}

@test "debug build: /debug/goroutines answers, listing every thread, while 1,000 threads run" {
  require_goro
  (cd "$GORO_ROOT" && make -s DEBUG=1 lib >&2)
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  timeout "$GORO_TEST_TIMEOUT" env GORO_DEBUG_ADDR="127.0.0.1:$port" LD_PRELOAD="$DEBUG_LIB" GOMAXPROCS=2 \
    "$GORO_ROOT/build/bench/sleepers" -n 1000 -r 40 -m 50 >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
  pid=$!
  body=""
  for i in $(seq 1 100); do
    body=$(python3 - "$port" <<'PY' 2>/dev/null
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"GET /debug/goroutines HTTP/1.0\r\n\r\n")
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
print(data.decode(errors="replace"))
PY
) && [ "$(grep -c 'goroutine ' <<<"$body")" -ge 1000 ] && break
    sleep 0.05
  done
  [[ "$body" == "HTTP/1.0 200 OK"* ]] || fail "no 200 from /debug/goroutines: ${body:0:300}"
  n=$(grep -c '^  goroutine ' <<<"$body")
  [ "$n" -ge 1000 ] || fail "expected >= 1000 goroutines listed, saw $n"
  wait "$pid" || fail "the program failed: $(cat "$BATS_TEST_TMPDIR/err")"
  grep -q '^RESULT name=sleepers' "$BATS_TEST_TMPDIR/out" || fail "program output: $(cat "$BATS_TEST_TMPDIR/out")"
}
