#!/usr/bin/env bash
# Install what goro's build, tests, benchmarks and lint need on Debian 12.
# Idempotent: packages already installed are not touched, and the apt index is
# refreshed only when something must be installed (CI machines reach only
# Debian's archive, so every avoided network round trip counts).
set -euo pipefail

PKGS=(
  libffcall-dev                                      # GORO_BLOCKING: libffcall.so.0, dlopen'ed by shim/blocking_ffi.c
  build-essential g++ pkg-config libglib2.0-dev      # build + GTest unit tests
  bats bats-support bats-assert                      # the bats suites
  hyperfine gnuplot-nox                              # benchmarks and plots
  pigz xz-utils zstd                                 # real programs run under goro
  clang-tidy cppcheck                                # make lint
  file binutils                                      # ELF inspection in tests
  python3 time                                       # trace summary, debug tests, compare
  lbzip2 pbzip2 ripgrep fd-find sysbench memcached libmemcached-tools redis-server redis-tools nginx-light apache2-utils curl stress-ng ffmpeg nodejs openjdk-17-jdk-headless  # tests/apps.bats: the compatibility matrix
  strace                                             # tests/foreign.bats, tests/apps.bats: a ptrace tool under goro
  mariadb-server mariadb-client                      # tests/apps.bats: MariaDB under sysbench oltp_read_write
)

missing=()
for p in "${PKGS[@]}"; do
  # A package counts as present only when dpkg says it is fully installed.
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "install-deps: missing packages: ${missing[*]}" >&2
    echo "install-deps: run this script as root (or install sudo) to install them" >&2
    exit 1
  fi
else
  SUDO=()
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! "${SUDO[@]}" apt-get update -qq >"$log" 2>&1; then
  cat "$log" >&2
  echo "install-deps: 'apt-get update' failed (is Debian's archive reachable?)" >&2
  exit 1
fi
if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
  cat "$log" >&2
  echo "install-deps: 'apt-get install ${missing[*]}' failed" >&2
  exit 1
fi
echo "install-deps: done"
