#!/usr/bin/env bash
# make lint: clang-tidy (checks in .clang-tidy) and cppcheck over the code
# that goes into libgoro.so.  Zero findings or a nonzero exit.
set -euo pipefail
cd "$(dirname "$0")/.."
srcs=(sched/*.c shim/*.c preload/*.c)
status=0
echo "clang-tidy: ${#srcs[@]} files"
tidy=$(clang-tidy -quiet "${srcs[@]}" -- -std=gnu11 -D_GNU_SOURCE -I. -Iinclude 2>/dev/null || true)
if grep -E "warning:|error:" <<<"$tidy"; then
  status=1
fi
echo "cppcheck"
out=$(cppcheck --quiet --enable=warning,performance,portability --inline-suppr \
  --error-exitcode=1 -I. -Iinclude -D_GNU_SOURCE -D__x86_64__ sched shim preload 2>&1) || status=1
[ -z "$out" ] || { echo "$out"; status=1; }
if [ $status -eq 0 ]; then echo "lint: clean"; else echo "lint: findings above"; fi
exit $status
