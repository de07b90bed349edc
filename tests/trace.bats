#!/usr/bin/env bats
# The execution tracer: GORO_TRACE=file writes Chrome trace-event JSON with
# one track per P and per M, and scripts/goro-trace summarises it.

bats_require_minimum_version 1.5.0
load helpers

# (once, not yield_pingpong: at GOMAXPROCS=2 yield_pingpong's players spin
# on sched_yield from 10 thousand to tens of millions of times a run, each
# yield a slice: gigabytes of trace and minutes to write them.  once's init
# routine yields 10 times while 63 callers wait.)
@test "GORO_TRACE writes a Chrome trace with P and M tracks; output unchanged" {
  require_goro
  require_prog once
  native_out=$("$PROGS_DIR/once")
  tr="$BATS_TEST_TMPDIR/t.json"
  run --separate-stderr timeout "$GORO_TEST_TIMEOUT" env LD_PRELOAD="$GORO_LIB" GOMAXPROCS=2 \
    GORO_TRACE="$tr" "$PROGS_DIR/once"
  assert_success
  [ "$output" = "$native_out" ] || fail "stdout differs under tracing: $output"
  [ -z "$stderr" ] || fail "stderr: $stderr"
  local tmps
  tmps=$(cd "$BATS_TEST_TMPDIR" && ls -A | grep '^\.goro-trace-' || true)
  [ -z "$tmps" ] || fail "left beside the trace: $tmps"
  run python3 - "$tr" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ev = d["traceEvents"]
names = {(e["pid"], e["args"]["name"]) for e in ev if e.get("ph") == "M" and e["name"] == "thread_name"}
assert (1, "P0") in names and (1, "P1") in names, names
assert any(p == 2 and n.startswith("M") for p, n in names), names
xs = [e for e in ev if e.get("ph") == "X"]
gs = {e["args"]["goid"] for e in xs if e["pid"] == 1}
assert {1, 2, 3} <= gs, gs            # main and the first two callers ran
assert any(e["args"].get("end") == "yield" for e in xs if e["pid"] == 1)
assert any(e["pid"] == 2 for e in xs)  # Ms held Ps
assert sum(1 for e in ev if e.get("ph") == "i" and e["name"] == "create") >= 2
print("ok", len(ev))
PY
  assert_success
  assert_output --partial "ok"
}

@test "goro-trace summarises a trace and draws an SVG timeline" {
  require_goro
  require_prog yield_pingpong
  tr="$BATS_TEST_TMPDIR/t.json"
  env LD_PRELOAD="$GORO_LIB" GOMAXPROCS=1 GORO_TRACE="$tr" "$PROGS_DIR/yield_pingpong" >/dev/null
  run "$BATS_TEST_DIRNAME/../scripts/goro-trace" "$tr" --svg "$BATS_TEST_TMPDIR/t.svg"
  assert_success
  assert_output --partial "P0: busy"
  assert_output --partial "scheduling latency (us): p50="
  assert_output --partial "slice ends:"
  grep -q "<rect" "$BATS_TEST_TMPDIR/t.svg" || fail "SVG has no slices"
}

@test "GORO_TRACE to an unwritable path: refused before main, one line, exit 2" {
  require_goro
  require_prog hello
  run --separate-stderr env LD_PRELOAD="$GORO_LIB" GORO_TRACE=/nonexistent/dir/t.json "$PROGS_DIR/hello"
  assert_failure 2
  [ -z "$output" ] || fail "the program ran: $output"
  [ "${#stderr_lines[@]}" -eq 1 ] || fail "expected one line on stderr: $stderr"
  [[ "$stderr" == 'goro: GORO_TRACE="/nonexistent/dir/t.json" is not valid: a writable'*'No such file or directory'* ]] ||
    fail "stderr: $stderr"
}
