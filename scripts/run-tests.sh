#!/usr/bin/env bash
# Runs goro's tests and sums them up:
#   - every GLib GTest unit binary build/unit/test_* (with --tap);
#   - every bats suite tests/*.bats (bats --tap).
# Each failure is printed with its diagnostics; the last line is exactly
#   N passed, N failed
# and the exit status is nonzero when anything failed (a binary that
# crashes, bails out or runs fewer tests than it planned counts as failed).
#
# Usage: scripts/run-tests.sh [TEST...]   (default: all; a TEST is a unit
# binary or a .bats file)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

UNIT_TIMEOUT=${GORO_UNIT_TIMEOUT:-300}
BATS_TIMEOUT=${GORO_BATS_TIMEOUT:-600}

total_pass=0
total_fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# tap_summarize NAME RC FILE: parses the TAP in FILE (the output of a run
# that exited with RC); prints failures; adds to the totals.
tap_summarize() {
  local name=$1 rc=$2 file=$3
  local counts
  counts=$(awk -v name="$name" -v rc="$rc" -v failfile="$tmp/failures" '
    function flush_fail() { infail = 0 }
    function show_context(   i) {
      for (i = 0; i < nctx; i++) print "    | " ctx[i] >> failfile
      nctx = 0
    }
    /^1\.\.[0-9]+/ { plan = substr($0, 4) + 0; sawplan = 1; next }
    /^ok / {
      if ($0 ~ /# [Ss][Kk][Ii][Pp]/) skip++; else pass++
      infail = 0; nctx = 0; seen++; next
    }
    /^not ok / {
      seen++
      if ($0 ~ /# [Tt][Oo][Dd][Oo]/) { todo++; infail = 0; nctx = 0; next }
      fail++
      print "FAIL [" name "] " $0 >> failfile
      show_context()
      infail = 1; next
    }
    /^Bail out!/ {
      fail++
      print "FAIL [" name "] " $0 >> failfile
      show_context()
      infail = 1; bailed = 1; next
    }
    {
      if (infail) { print "    " $0 >> failfile; next }
      # keep the lines before a failure (GTest prints its messages there)
      if (nctx < 40) ctx[nctx++] = $0
      else { for (i = 1; i < 40; i++) ctx[i-1] = ctx[i]; ctx[39] = $0 }
    }
    END {
      if (!sawplan && seen == 0) {
        # no TAP at all: the whole run is one test, judged by its status
        if (rc == 0) pass++
        else {
          fail++
          print "FAIL [" name "] exited with status " rc " and printed no TAP" >> failfile
          show_context()
        }
      } else {
        # tests that never ran did not pass (a GTest assertion bails out of
        # the whole binary; the test that bailed is already counted)
        missing = plan - seen - (bailed ? 1 : 0)
        if (sawplan && missing > 0) {
          fail += missing
          print "FAIL [" name "] " missing " planned test(s) did not run (" seen " reported of " plan ", exit status " rc ")" >> failfile
          if (!bailed) show_context()
        }
        if (rc != 0 && fail == 0) {
          fail++
          print "FAIL [" name "] all tests passed but it exited with status " rc >> failfile
          show_context()
        }
      }
      printf "%d %d %d %d\n", pass + 0, fail + 0, skip + 0, todo + 0
    }' "$file")
  local p f s t
  read -r p f s t <<<"$counts"
  total_pass=$((total_pass + p))
  total_fail=$((total_fail + f))
  local extra=""
  [ "$s" -gt 0 ] && extra+=", $s skipped"
  [ "$t" -gt 0 ] && extra+=", $t todo"
  printf '%-28s %d passed, %d failed%s\n' "$name:" "$p" "$f" "$extra"
}

run_unit() {
  local bin=$1 rc=0 name
  name="unit/$(basename "$bin")"
  # GTest (GLib >= 2.38) takes --tap; output without TAP is judged by the
  # exit status alone.  (The group's 2>/dev/null only hides bash's own
  # "Aborted" job report: the test's output goes to the file.)
  { timeout "$UNIT_TIMEOUT" "$bin" --tap >"$tmp/out" 2>&1 || rc=$?; } 2>/dev/null
  [ "$rc" -eq 124 ] && echo "Bail out! timed out after ${UNIT_TIMEOUT}s" >>"$tmp/out"
  tap_summarize "$name" "$rc" "$tmp/out"
}

run_bats() {
  local suite=$1 rc=0
  if ! command -v bats >/dev/null 2>&1; then
    echo "Bail out! bats is not installed (run scripts/install-deps.sh)" >"$tmp/out"
    rc=127
  else
    { timeout "$BATS_TIMEOUT" bats --tap "$suite" >"$tmp/out" 2>&1 || rc=$?; } 2>/dev/null
    [ "$rc" -eq 124 ] && echo "Bail out! timed out after ${BATS_TIMEOUT}s" >>"$tmp/out"
  fi
  tap_summarize "$suite" "$rc" "$tmp/out"
}

: >"$tmp/failures"
if [ $# -gt 0 ]; then
  tests=("$@")
else
  tests=()
  for b in build/unit/test_*; do
    [ -f "$b" ] && [ -x "$b" ] && tests+=("$b")
  done
  for s in tests/*.bats; do
    [ -f "$s" ] && tests+=("$s")
  done
fi
if [ ${#tests[@]} -eq 0 ]; then
  echo "run-tests: no unit binaries in build/unit and no tests/*.bats" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

for t in "${tests[@]}"; do
  case "$t" in
    *.bats) run_bats "$t" ;;
    *)      run_unit "$t" ;;
  esac
done

if [ -s "$tmp/failures" ]; then
  echo
  echo "Failures:"
  cat "$tmp/failures"
  echo
fi
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
