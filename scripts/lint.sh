#!/usr/bin/env bash
# make lint: clang-tidy (checks in .clang-tidy) and cppcheck over the code
# that goes into libgoro.so, and the layering of docs/ARCHITECTURE.md
# ("Layers": sched/ includes nothing from shim/ or preload/).  Zero
# findings or a nonzero exit; a tool that is missing or crashes is a
# failure, never a silent "clean".
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
srcs=(sched/*.c shim/*.c preload/*.c)
status=0
for tool in clang-tidy cppcheck; do
  command -v "$tool" >/dev/null 2>&1 || { echo "lint: $tool is not installed (scripts/install-deps.sh installs it)"; exit 2; }
done

echo "layers"
up=$(grep -lE '#include "(shim|preload)/' sched/*.c sched/*.h sched/*.S 2>/dev/null)
if [ -n "$up" ]; then
  echo "sched/ must not include from shim/ or preload/ (docs/ARCHITECTURE.md, Layers):"
  grep -nE '#include "(shim|preload)/' $up
  status=1
fi
up=$(grep -lE '#include "preload/' shim/*.c shim/*.h 2>/dev/null)
if [ -n "$up" ]; then
  echo "shim/ must not include from preload/ (docs/ARCHITECTURE.md, Layers):"
  grep -nE '#include "preload/' $up
  status=1
fi

echo "clang-tidy: ${#srcs[@]} files"
tidy=$(clang-tidy -quiet "${srcs[@]}" -- -std=gnu11 -D_GNU_SOURCE -I. -Iinclude 2>&1)
rc=$?
if grep -E "warning:|error:" <<<"$tidy"; then
  status=1
elif [ $rc -ne 0 ]; then
  echo "$tidy" | tail -20
  echo "lint: clang-tidy failed (exit $rc) without a finding: it crashed or could not run"
  status=1
fi

echo "cppcheck"
out=$(cppcheck --quiet --enable=warning,performance,portability --inline-suppr \
  --error-exitcode=1 -I. -Iinclude -D_GNU_SOURCE -D__x86_64__ sched shim preload 2>&1)
rc=$?
if [ -n "$out" ] || [ $rc -ne 0 ]; then
  [ -n "$out" ] && echo "$out"
  [ -z "$out" ] && echo "lint: cppcheck exited $rc"
  status=1
fi
if [ $status -eq 0 ]; then echo "lint: clean"; else echo "lint: findings above"; fi
exit $status
