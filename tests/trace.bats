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
assert {1, 2, 3} <= gs, gs            # main and the first threads ran
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

# --- a trace that cannot be written at exit ----------------------------------
#
# The file is written at exit to a temporary name beside it and renamed into
# place only when every write succeeded (sched/trace.c write_at_exit): a
# failed write leaves neither a truncated trace nor the temporary file, the
# program's stdout and exit status are its own, and stderr has one line.

teardown() {
  if [ -n "${MNT:-}" ] && mountpoint -q "$MNT"; then
    umount "$MNT"
  fi
}

# fsize0_run CMD...: CMD with RLIMIT_FSIZE 0 (every write to a regular file
# fails); its stderr reaches bats' stderr file through cat, which has no
# such limit.  Sets status/output/stderr as `run --separate-stderr`.
fsize0_run() {
  run --separate-stderr timeout "$GORO_TEST_TIMEOUT" bash -c \
    'set -o pipefail; { (ulimit -f 0; exec "$@") 2>&1 >&3 3>&- | cat >&2; } 3>&1' _ "$@"
}

# check_no_trace DIR WHY: stderr is exactly the one line saying the trace
# at DIR/t.json was not written because of WHY; DIR holds nothing but
# what it held before (ARGS after WHY).
check_no_trace() {
  local dir=$1 why=$2
  shift 2
  local want="goro: GORO_TRACE=\"$dir/t.json\": write failed: $why; no trace written"
  [ "${#stderr_lines[@]}" -eq 1 ] || fail "expected one line on stderr, saw ${#stderr_lines[@]}: $stderr"
  [ "$stderr" = "$want" ] || fail "stderr: expected '$want', saw '$stderr'"
  local left
  left=$(cd "$dir" && ls -A | tr '\n' ' ')
  [ "$left" = "$*${*:+ }" ] || fail "$dir should hold only '$*', holds: $left"
}

@test "GORO_TRACE on a full file system: no file, no temporary, one line; stdout and status as native" {
  require_goro
  require_prog create_join
  native_run create_join
  local dir=$BATS_TEST_TMPDIR/fs
  mkdir "$dir"
  if mount -t tmpfs -o size=64k tmpfs "$dir" 2>/dev/null; then
    MNT=$dir
    dd if=/dev/zero of="$dir/fill" bs=4k 2>/dev/null || true # until ENOSPC
    run --separate-stderr timeout "$GORO_TEST_TIMEOUT" env LD_PRELOAD="$GORO_LIB" GOMAXPROCS=2 \
      GORO_TRACE="$dir/t.json" "$PROGS_DIR/create_join"
    check_no_trace "$dir" "No space left on device" fill
  else
    # no mount here (not root, no CAP_SYS_ADMIN): the file size limit
    # makes the writes fail instead
    echo "# tmpfs cannot be mounted here; RLIMIT_FSIZE makes the writes fail" >&3
    fsize0_run env LD_PRELOAD="$GORO_LIB" GOMAXPROCS=2 GORO_TRACE="$dir/t.json" "$PROGS_DIR/create_join"
    check_no_trace "$dir" "File too large"
  fi
  [ "$status" -eq "$native_status" ] || fail "exit status $(describe_status "$status"), native $native_status"
  [ "$output" = "$(cat "$NATIVE_OUT")" ] || fail "stdout differs from native: $output"
}

@test "GORO_TRACE past RLIMIT_FSIZE: SIGXFSZ does not kill the program, its exit status is kept" {
  require_goro
  local dir=$BATS_TEST_TMPDIR/d
  mkdir "$dir"
  fsize0_run bash -c 'echo hello; exit 3'
  [ "$status" -eq 3 ] && [ "$output" = hello ] || fail "natively: status $status, output $output"
  fsize0_run env LD_PRELOAD="$GORO_LIB" GORO_STATS=1 GORO_TRACE="$dir/t.json" bash -c 'echo hello; exit 3'
  [ "$status" -eq 3 ] || fail "exit status: expected 3, saw $(describe_status "$status"); stderr: $stderr"
  [ "$output" = hello ] || fail "stdout: $output"
  # goro ran to the end: its stats line, then the trace's one line
  [[ "${stderr_lines[0]:-}" == "goro: stats: "* ]] || fail "no stats line first: $stderr"
  stderr_lines=("${stderr_lines[@]:1}")
  stderr=${stderr#*$'\n'}
  check_no_trace "$dir" "File too large"
}

@test "GORO_TRACE replaces an existing file whole, writes through a symbolic link, leaves no temporary" {
  require_goro
  require_prog create_join
  local dir=$BATS_TEST_TMPDIR/d
  mkdir "$dir"
  head -c 8000000 /dev/zero | tr '\0' x >"$dir/real.json" # longer than the trace
  ln -s real.json "$dir/t.json"
  (cd "$dir" && env LD_PRELOAD="$GORO_LIB" GOMAXPROCS=2 GORO_TRACE=t.json "$PROGS_DIR/create_join" >/dev/null)
  [ -L "$dir/t.json" ] || fail "the symbolic link was replaced"
  run python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print("ok", len(d["traceEvents"]))' "$dir/real.json"
  assert_success
  assert_output --regexp '^ok [0-9]+$'
  [ "$(cd "$dir" && ls -A | tr '\n' ' ')" = "real.json t.json " ] || fail "left in $dir: $(ls -A "$dir")"
}
