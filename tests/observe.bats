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
  require_prog debug_subject
  (cd "$GORO_ROOT" && make -s DEBUG=1 lib >&2)
  # debug_subject with 1,000 more threads sleeping in a loop: it says
  # "ready" once they all exist, and runs until its stdin (a FIFO this
  # shell holds open) ends.  The endpoint is a unix socket: no port to race
  # for.  (mktemp under /tmp: a socket path must fit in 108 bytes.)
  local dir sock ctl ctlfd out="$BATS_TEST_TMPDIR/out" err="$BATS_TEST_TMPDIR/err"
  dir=$(mktemp -d /tmp/goro-observe.XXXXXX)
  sock="$dir/debug.sock"
  ctl="$BATS_TEST_TMPDIR/ctl"
  mkfifo "$ctl"
  env GORO_DEBUG_ADDR="$sock" LD_PRELOAD="$DEBUG_LIB" GOMAXPROCS=2 "$PROGS_DIR/debug_subject" 1000 \
    <"$ctl" >"$out" 2>"$err" 3>&- &
  local pid=$!
  exec {ctlfd}>"$ctl"
  wait_until "$pid" grep -qs '^ready$' "$out" || fail "the subject did not get ready: $(cat "$out" "$err")"
  local body
  body=$(python3 - "$sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(60)
s.connect(sys.argv[1])
s.sendall(b"GET /debug/goroutines HTTP/1.0\r\n\r\n")
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
print(data.decode(errors="replace"))
PY
)
  exec {ctlfd}>&-
  wait_until "$pid" proc_ended "$pid" || { kill -KILL "$pid"; fail "the subject did not end at the end of its stdin"; }
  local st=0
  wait "$pid" || st=$?
  rm -rf "$dir"
  [[ "$body" == "HTTP/1.0 200 OK"* ]] || fail "no 200 from /debug/goroutines: ${body:0:300}"
  # main, 4 workers, the waiter and the 1,000 sleepers
  local n
  n=$(grep -c '^  goroutine ' <<<"$body")
  [ "$n" -ge 1006 ] || fail "expected >= 1006 goroutines listed, saw $n"
  [ "$st" -eq 3 ] || fail "the subject's exit status: $st; stderr: $(cat "$err")"
  [ "$(tail -1 "$out")" = "sleepers joined: 1000" ] || fail "the subject's output: $(cat "$out")"
  [ ! -s "$err" ] || fail "the subject's stderr: $(cat "$err")"
}
