# Shared helpers for goro's bats suites.  Load with:
#
#   load helpers
#
# Subject programs live in build/progs (built by `make progs`).  A test runs
# a program natively and under goro (LD_PRELOAD=$GORO_LIB) with each
# GOMAXPROCS in $GORO_PROCS, and compares stdout and exit status byte for
# byte.  Every run is guarded by `timeout $GORO_TEST_TIMEOUT` so a hang
# fails the test instead of blocking the suite.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

GORO_ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
: "${GORO_LIB:=$GORO_ROOT/build/libgoro.so}"
: "${GORO_PROCS:=1 2 4}"
: "${GORO_TEST_TIMEOUT:=60}"
PROGS_DIR="$GORO_ROOT/build/progs"

# Files of the most recent goro_run / native_run.
GORO_OUT="$BATS_TEST_TMPDIR/goro.out"
GORO_ERR="$BATS_TEST_TMPDIR/goro.err"
NATIVE_OUT="$BATS_TEST_TMPDIR/native.out"
NATIVE_ERR="$BATS_TEST_TMPDIR/native.err"

# The library must exist: without it ld.so only warns and runs the program
# natively, which would make every comparison pass vacuously.
require_goro() {
  if [ ! -f "$GORO_LIB" ]; then
    echo "goro library not found: $GORO_LIB (build it with: make lib)" >&2
    return 1
  fi
}

require_prog() {
  if [ ! -x "$PROGS_DIR/$1" ]; then
    echo "subject program not found: $PROGS_DIR/$1 (build it with: make progs)" >&2
    return 1
  fi
}

# Describe an exit status the way a reader wants it.
describe_status() {
  local s=$1
  if [ "$s" -eq 124 ]; then
    echo "$s (timed out after ${GORO_TEST_TIMEOUT}s: hang?)"
  elif [ "$s" -gt 128 ]; then
    echo "$s (killed by signal $((s - 128)): $(kill -l "$((s - 128))" 2>/dev/null))"
  else
    echo "$s"
  fi
}

# native_run PROG ARGS...: runs build/progs/PROG without goro.
# Sets native_status; stdout/stderr in $NATIVE_OUT / $NATIVE_ERR.
native_run() {
  local prog=$1; shift
  require_prog "$prog"
  native_status=0
  timeout "$GORO_TEST_TIMEOUT" "$PROGS_DIR/$prog" "$@" \
    >"$NATIVE_OUT" 2>"$NATIVE_ERR" || native_status=$?
}

# goro_run P PROG ARGS...: runs build/progs/PROG under goro with
# GOMAXPROCS=P (plus whatever GORO_* the caller exported).
# Sets goro_status; stdout/stderr in $GORO_OUT / $GORO_ERR.
goro_run() {
  local p=$1 prog=$2; shift 2
  require_goro
  require_prog "$prog"
  goro_status=0
  timeout "$GORO_TEST_TIMEOUT" env LD_PRELOAD="$GORO_LIB" GOMAXPROCS="$p" \
    "$PROGS_DIR/$prog" "$@" >"$GORO_OUT" 2>"$GORO_ERR" || goro_status=$?
  if grep -q 'cannot be preloaded' "$GORO_ERR"; then
    echo "GOMAXPROCS=$p: ld.so could not preload $GORO_LIB:" >&2
    cat "$GORO_ERR" >&2
    return 1
  fi
}

# compare_native_goro PROG ARGS...
#
# Runs PROG natively, which must exit with $NATIVE_STATUS (default 0: a
# subject that fails natively is a broken test, not a goro bug), then under
# goro for each GOMAXPROCS in $GORO_PROCS with GORO_STATS=1.  Under goro,
# stdout and exit status must equal the native ones, and goro's stats line
# must be on stderr (proof that goro really ran the program): exactly one,
# or with STATS_MANY=1 at least one, for a program that starts other
# processes which also run under goro (LD_PRELOAD and GORO_STATS are
# inherited) and print their own line.  Reports every mismatching GOMAXPROCS
# with a diff, then fails.
compare_native_goro() {
  local prog=$1; shift
  local want_native=${NATIVE_STATUS:-0}
  local p failed=0

  native_run "$prog" "$@"
  if [ "$native_status" -ne "$want_native" ]; then
    {
      echo "native run of $prog $* exited $(describe_status "$native_status"), expected $want_native"
      echo "--- native stdout"; cat "$NATIVE_OUT"
      echo "--- native stderr"; cat "$NATIVE_ERR"
    } >&2
    return 1
  fi

  for p in $GORO_PROCS; do
    GORO_STATS=1 goro_run "$p" "$prog" "$@"
    local why=()
    if ! cmp -s "$NATIVE_OUT" "$GORO_OUT"; then
      why+=("stdout differs from native")
    fi
    if [ "$goro_status" -ne "$native_status" ]; then
      why+=("exit status: expected $native_status, saw $(describe_status "$goro_status")")
    fi
    # (only for a run that ended as the native one did: a program killed
    # by a signal or failing a check with _exit never reaches goro's exit)
    if [ "$goro_status" -eq "$native_status" ] && [ "$native_status" -lt 128 ]; then
      local nstats
      nstats=$(grep -c '^goro: stats: ' "$GORO_ERR" || true)
      if [ "${STATS_MANY:-0}" = 1 ]; then
        [ "$nstats" -ge 1 ] ||
          why+=("expected a 'goro: stats:' line on stderr (GORO_STATS=1)")
      elif [ "$nstats" -ne 1 ]; then
        why+=("expected exactly one 'goro: stats:' line on stderr (GORO_STATS=1)")
      fi
    fi
    if [ ${#why[@]} -gt 0 ]; then
      failed=1
      {
        echo "=== ${prog}${*:+ $*} under goro, GOMAXPROCS=$p:"
        printf '  %s\n' "${why[@]}"
        echo "--- diff of stdout (native = expected, goro = seen)"
        diff -u --label "native" --label "goro GOMAXPROCS=$p" "$NATIVE_OUT" "$GORO_OUT" || true
        echo "--- goro stderr"
        head -c 4000 "$GORO_ERR"
        echo "---"
      } >&2
      # A hang costs a full timeout per GOMAXPROCS: one is enough to fail,
      # and stopping here keeps a broken runtime from stalling the suite.
      if [ "$goro_status" -eq 124 ]; then
        echo "(GOMAXPROCS values after $p not tried: the run timed out)" >&2
        break
      fi
    fi
  done
  return "$failed"
}

# goro_stat NAME [FILE]: prints counter NAME from the single
# `goro: stats: k=v k=v ...` line in FILE (default: stderr of the last
# goro_run).  Fails, saying why, when the line or the counter is missing.
# assert_stat_ge NAME MIN WHERE: goro's counter NAME in the last goro_run's
# stats line is at least MIN; WHERE names the run in the failure.
assert_stat_ge() {
  local v
  v=$(goro_stat "$1") || return 1
  [ "$v" -ge "$2" ] || fail "$3: $1=$v, expected >= $2"
}

goro_stat() {
  local name=$1 file=${2:-$GORO_ERR}
  local lines
  lines=$(grep '^goro: stats: ' "$file" || true)
  if [ -z "$lines" ] || [ "$(printf '%s\n' "$lines" | wc -l)" -ne 1 ]; then
    {
      echo "expected exactly one 'goro: stats:' line in $file, saw:"
      cat "$file"
    } >&2
    return 1
  fi
  local v
  v=$(printf '%s\n' "$lines" | tr ' ' '\n' | sed -n "s/^$name=\\([0-9][0-9]*\\)\$/\\1/p")
  if [ -z "$v" ]; then
    echo "counter '$name' not found in stats line: $lines" >&2
    return 1
  fi
  echo "$v"
}

# proc_state PID: the state letter of process PID (R, S, D, Z, ...) from
# /proc/PID/stat; empty when it is gone.
proc_state() {
  sed -n 's/^.*) \(.\).*$/\1/p' "/proc/$1/stat" 2>/dev/null || true
}

# proc_ended PID: PID has exited (a zombie not yet waited for, or gone).
proc_ended() {
  case $(proc_state "$1") in
    '' | Z) return 0 ;;
  esac
  return 1
}

# wait_until PID CMD...: the handshake with a background program PID: runs
# CMD every 50 ms until it succeeds (status 0).  Fails (status 1) when PID
# ended without CMD succeeding, or after $GORO_TEST_TIMEOUT s -- a hang
# guard, not a timing: a test never passes on it.
wait_until() {
  local pid=$1 i
  shift
  for ((i = 0; i < GORO_TEST_TIMEOUT * 20; i++)); do
    "$@" && return 0
    if proc_ended "$pid"; then
      "$@"
      return
    fi
    sleep 0.05
  done
  return 1
}
