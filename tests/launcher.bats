#!/usr/bin/env bats
# scripts/goro, the launcher: runs a program under goro, refuses programs
# LD_PRELOAD cannot reach (static, set-id), reports usage errors with exit
# status 2; `goro compare` tabulates native vs goro and catches programs
# whose output or exit status differs; `goro trace` dispatches to
# scripts/goro-trace when the build has one.

bats_require_minimum_version 1.5.0
load helpers

GORO="$GORO_ROOT/scripts/goro"

setup() {
  require_goro
  require_prog hello
  export TMPDIR="$BATS_TEST_TMPDIR" # compare's run files, kept on mismatch
}

# --- run ---------------------------------------------------------------------

@test "run: hello under goro, GORO_STATS shows goro ran it with -p's GOMAXPROCS" {
  run --separate-stderr timeout "$GORO_TEST_TIMEOUT" "$GORO" --stats -p 2 -- "$PROGS_DIR/hello"
  assert_success
  assert_output "hello"
  [[ "$stderr" == *"goro: stats: "* ]] || fail "no 'goro: stats:' line on stderr: $stderr"
  [[ "$stderr" == *"gomaxprocs=2"* ]] || fail "GOMAXPROCS=2 not in the stats line: $stderr"
}

@test "run: 'run' may be named, and a program is found on PATH" {
  PATH="$PROGS_DIR:$PATH" run --separate-stderr timeout "$GORO_TEST_TIMEOUT" \
    "$GORO" run --stats -p1 hello
  assert_success
  assert_output "hello"
  [[ "$stderr" == *"gomaxprocs=1"* ]] || fail "GOMAXPROCS=1 not in the stats line: $stderr"
}

@test "run: a create/join benchmark completes under goro" {
  [ -x "$GORO_ROOT/build/bench/create_join" ] || skip "build/bench/create_join not built (make progs)"
  run --separate-stderr timeout "$GORO_TEST_TIMEOUT" \
    "$GORO" --stats -p 2 -- "$GORO_ROOT/build/bench/create_join" -n 2000
  assert_success
  [[ "$stderr" == *"goro: stats: "* ]] || fail "no stats line: $stderr"
  local created
  created=$(printf '%s\n' "$stderr" | tr ' ' '\n' | sed -n 's/^gs_created=//p')
  [ "${created:-0}" -ge 2000 ] || fail "expected gs_created >= 2000, saw '$created'"
}

@test "run: --dry-run prints the environment and the command" {
  run "$GORO" --dry-run -p 3 --stack 256K --stats -- "$PROGS_DIR/hello" a 'b c'
  assert_success
  assert_line --regexp "^LD_PRELOAD=.*libgoro\.so"
  assert_line "GOMAXPROCS=3"
  assert_line "GORO_STACK=256K"
  assert_line "GORO_STATS=1"
  assert_line "exec $PROGS_DIR/hello a b\\ c"
}

@test "run: a statically linked program is refused" {
  [ -f "$(gcc -print-file-name=libc.a)" ] || skip "no libc.a (libc6-dev) to link a static program"
  printf 'int main(void) { return 0; }\n' >"$BATS_TEST_TMPDIR/st.c"
  gcc -static -o "$BATS_TEST_TMPDIR/static" "$BATS_TEST_TMPDIR/st.c" ||
    skip "gcc -static failed"
  run --separate-stderr "$GORO" -- "$BATS_TEST_TMPDIR/static"
  assert_failure 2
  [[ "$stderr" == *"statically linked"* ]] || fail "expected 'statically linked': $stderr"
}

@test "run: a setuid program owned by another user is refused" {
  [ "$(id -u)" -eq 0 ] || skip "needs root to give a copy to another owner"
  local owner
  owner=$(id -u nobody 2>/dev/null) || skip "no user 'nobody'"
  cp "$PROGS_DIR/hello" "$BATS_TEST_TMPDIR/suid"
  chown "$owner" "$BATS_TEST_TMPDIR/suid"
  chmod u+s "$BATS_TEST_TMPDIR/suid"
  run --separate-stderr "$GORO" -- "$BATS_TEST_TMPDIR/suid"
  assert_failure 2
  [ -z "$output" ] || fail "the program ran: $output"
  [[ "$stderr" == *"is setuid"*"ignores LD_PRELOAD"* ]] ||
    fail "expected the setuid message: $stderr"
}

@test "run: bad options give usage and exit 2" {
  run --separate-stderr "$GORO" --bogus -- "$PROGS_DIR/hello"
  assert_failure 2
  [[ "$stderr" == *"unknown option '--bogus'"* ]] || fail "stderr: $stderr"
  [[ "$stderr" == *"usage: goro"* ]] || fail "no usage line: $stderr"

  run --separate-stderr "$GORO"
  assert_failure 2
  [[ "$stderr" == *"no command given"*"usage: goro"* ]] || fail "stderr: $stderr"

  run --separate-stderr "$GORO" -p
  assert_failure 2
  [[ "$stderr" == *"-p needs a value"* ]] || fail "stderr: $stderr"

  run --separate-stderr "$GORO" -p 0 -- "$PROGS_DIR/hello"
  assert_failure 2
  [[ "$stderr" == *"'0' is not a positive integer"* ]] || fail "stderr: $stderr"
}

@test "run: a missing program exits 127" {
  run -127 --separate-stderr "$GORO" -- "$BATS_TEST_TMPDIR/no-such-program"
  assert_failure 127
  [[ "$stderr" == *"No such file or directory"* ]] || fail "stderr: $stderr"
}

# bash_status FILE: the exit status bash gives for running FILE natively.
bash_status() {
  local st=0
  bash -c '"$0"' "$1" >/dev/null 2>&1 </dev/null || st=$?
  echo "$st"
}

@test "run: a file that cannot be run gets bash's exit status (126, 127) and one line naming it" {
  local d=$BATS_TEST_TMPDIR
  printf '\001\002\000garbage\n' >"$d/binary"            # not ELF, NUL in line 1
  printf '\177ELFjunk' >"$d/badelf"                      # ELF magic, no header
  head -c 200 "$PROGS_DIR/hello" >"$d/truncated"        # header, no program headers
  gcc -c -x c -o "$d/object.o" - <<<'int f(void) { return 0; }'
  printf '#!%s/no-such-interpreter\necho hi\n' "$d" >"$d/nointerp"
  printf '#!/etc/passwd\necho hi\n' >"$d/badinterp"     # interpreter not executable
  printf 'echo hi\n' >"$d/noexec"
  mkdir "$d/dir"
  chmod +x "$d/binary" "$d/badelf" "$d/truncated" "$d/object.o" "$d/nointerp" "$d/badinterp"
  local cases=(binary badelf truncated object.o nointerp badinterp noexec dir no-such-file)
  # another architecture's ELF: the kernel refuses it unless binfmt_misc
  # (qemu) takes it, when goro refuses it with 2 instead
  if [ "$(cat /proc/sys/fs/binfmt_misc/status 2>/dev/null)" != enabled ]; then
    cp "$PROGS_DIR/hello" "$d/aarch64"
    printf '\267\000' | dd of="$d/aarch64" bs=1 seek=18 conv=notrunc status=none # EM_AARCH64
    cases+=(aarch64)
  fi
  local f want errs=()
  for f in "${cases[@]}"; do
    want=$(bash_status "$d/$f")
    run --separate-stderr "$GORO" -- "$d/$f"
    if [ "$status" -ne "$want" ] || [ "$want" -lt 126 ] || [ -n "$output" ] ||
      [ "${#stderr_lines[@]}" -ne 1 ] || [[ "$stderr" != "goro: $d/$f"* ]]; then
      errs+=("$f: exit $status (bash: $want), stdout '$output', stderr (${#stderr_lines[@]} lines): $stderr")
    fi
  done
  [ ${#errs[@]} -eq 0 ] || fail "$(printf '%s\n' "${errs[@]}")"
}

@test "run: an empty file and a script without #! run as bash runs them" {
  local d=$BATS_TEST_TMPDIR
  : >"$d/empty"
  printf 'echo "from a script without #!"\nexit 3\n' >"$d/nohashbang"
  chmod +x "$d/empty" "$d/nohashbang"
  run --separate-stderr "$GORO" -- "$d/empty"
  assert_success
  [ -z "$output$stderr" ] || fail "stdout: $output, stderr: $stderr"
  run --separate-stderr "$GORO" -- "$d/nohashbang"
  assert_failure 3
  assert_output "from a script without #!"
  [ -z "$stderr" ] || fail "stderr: $stderr"
}

@test "run: an option's value is never missing, empty or the next option (--trace -- makes no file '--')" {
  mkdir "$BATS_TEST_TMPDIR/cwd" # (bats keeps its own files in BATS_TEST_TMPDIR)
  cd "$BATS_TEST_TMPDIR/cwd"
  local args want
  while IFS='|' read -r args want; do
    # shellcheck disable=SC2086 # args: words, split on purpose
    run --separate-stderr "$GORO" $args "$PROGS_DIR/hello"
    [ "$status" -eq 2 ] || fail "goro $args: exit $status, expected 2; stderr: $stderr"
    [ -z "$output" ] || fail "goro $args: the program ran: $output"
    [[ "$stderr" == "goro: $want"*"usage: goro"* ]] || fail "goro $args: expected 'goro: $want': $stderr"
  done <<'EOF'
--trace --|--trace needs a value, saw the option '--'
--trace --stats --|--trace needs a value, saw the option '--stats'
--trace= --|--trace: empty value
--stack --|--stack needs a value, saw the option '--'
--stack= --|--stack: empty value
-p --|-p needs a value, saw the option '--'
--procs= --|--procs: empty value
compare -n --|-n needs a value, saw the option '--'
compare --runs= --|--runs: empty value
compare -p --|-p needs a value, saw the option '--'
compare --procs= --|--procs: empty value
EOF
  [ -z "$(ls -A)" ] || fail "files were made: $(ls -A)"
  run "$GORO" --dry-run --trace=-x.json -- "$PROGS_DIR/hello"
  assert_success
  assert_line "GORO_TRACE=$BATS_TEST_TMPDIR/cwd/-x.json"
}

# bad_lib LIB WHAT: run and compare with GORO_LIB=LIB refuse before running
# anything, with one line naming GORO_LIB=LIB and saying WHAT, exit 2.
bad_lib() {
  local lib=$1 what=$2 sub
  for sub in run compare; do
    GORO_LIB=$lib run --separate-stderr "$GORO" "$sub" -- "$PROGS_DIR/hello"
    [ "$status" -eq 2 ] || fail "GORO_LIB=$lib ($sub): exit $status, expected 2; stderr: $stderr"
    [ -z "$output" ] || fail "GORO_LIB=$lib ($sub): something ran: $output"
    [ "${#stderr_lines[@]}" -eq 1 ] || fail "GORO_LIB=$lib ($sub): expected one line: $stderr"
    [[ "$stderr" == "goro: GORO_LIB=$lib "*"$what"* ]] || fail "GORO_LIB=$lib ($sub): expected '$what': $stderr"
  done
}

@test "run: GORO_LIB must be an x86_64 ELF shared object exporting goro_active" {
  local d=$BATS_TEST_TMPDIR
  cp "$GORO_LIB" "$d/aarch64.so"
  printf '\267\000' | dd of="$d/aarch64.so" bs=1 seek=18 conv=notrunc status=none # e_machine
  cp "$GORO_LIB" "$d/class32.so"
  printf '\001' | dd of="$d/class32.so" bs=1 seek=4 conv=notrunc status=none     # EI_CLASS
  gcc -c -x c -o "$d/goro.o" - <<<'int goro_active(void) { return 1; }'
  gcc -shared -fPIC -x c -o "$d/other.so" - <<<'int not_goro(void) { return 1; }'
  mkdir "$d/dir.so"
  bad_lib /etc/passwd "is not an ELF file"
  bad_lib "$d/aarch64.so" "is not a 64-bit x86_64 ELF"
  bad_lib "$d/class32.so" "is not a 64-bit x86_64 ELF"
  bad_lib "$d/goro.o" "is a relocatable object"
  bad_lib "$PROGS_DIR/hello" "does not export goro_active" # a PIE: ET_DYN too
  bad_lib "$d/other.so" "does not export goro_active"
  bad_lib "$d/dir.so" "is not a regular file"
  run --separate-stderr "$GORO" --stats -- "$PROGS_DIR/hello"
  assert_success
  assert_output "hello"
  [[ "$stderr" == "goro: stats: "* ]] || fail "stderr: $stderr"
}

@test "run: without readelf and nm, GORO_LIB is checked from its bytes" {
  local d=$BATS_TEST_TMPDIR f
  mkdir "$d/bin"
  for f in /usr/bin/* /bin/*; do
    case ${f##*/} in *readelf | *nm | *objdump) continue ;; esac
    [ -e "$d/bin/${f##*/}" ] || ln -s "$f" "$d/bin/${f##*/}"
  done
  gcc -shared -fPIC -x c -o "$d/other.so" - <<<'int not_goro(void) { return 1; }'
  PATH=$d/bin
  ! command -v readelf && ! command -v nm || fail "readelf or nm still on PATH"
  bad_lib /etc/passwd "is not an ELF file"
  bad_lib "$d/other.so" "does not export goro_active"
  run --separate-stderr "$GORO" --stats -- "$PROGS_DIR/hello"
  assert_success
  assert_output "hello"
}

@test "help: -h and 'help compare' print usage, exit 0" {
  run "$GORO" -h
  assert_success
  assert_line --partial "goro compare [-n RUNS] [-p LIST]"
  run "$GORO" help compare
  assert_success
  assert_line --partial "--ignore-output"
  run "$GORO" compare --help
  assert_success
  assert_line --partial "interleaved"
}

# --- compare -----------------------------------------------------------------

# row LABEL: the table line for configuration LABEL in $output
row() {
  printf '%s\n' "$output" | grep -E "^$1  " || true
}

@test "compare: hello, -n 2 -p 1,2 prints rows native, goro p=1, goro p=2" {
  run --separate-stderr timeout "$GORO_TEST_TIMEOUT" \
    "$GORO" compare -n 2 -p 1,2 -- "$PROGS_DIR/hello"
  assert_success
  assert_line --regexp '^config +wall ms +x native +cpu ms +x native +maxrss KiB +x native +vol cs +invol cs$'
  [ -n "$(row native)" ] || fail "no native row: $output"
  [ -n "$(row 'goro p=1')" ] || fail "no goro p=1 row: $output"
  [ -n "$(row 'goro p=2')" ] || fail "no goro p=2 row: $output"
  [ "$(printf '%s\n' "$output" | grep -c '^goro p=')" -eq 2 ] || fail "expected two goro rows: $output"
  # native's ratios are 1.00; goro's wall cell and ratio are numbers
  [[ "$(row native)" =~ ^native\ +[0-9.]+.*\ 1\.00\ .*\ 1\.00\ .*\ 1\.00\  ]] ||
    fail "native row: $(row native)"
  # (the min-max is left out when both runs measured the same value)
  [[ "$(row 'goro p=2')" =~ ^goro\ p=2\ +[0-9.]+(\ \([0-9.]+-[0-9.]+\))?\ +[0-9.]+\ \( ]] ||
    fail "goro p=2 row (median (min-max), ratio (min-max)): $(row 'goro p=2')"
  [[ "$output" == *"2 rounds of native, goro p=1, goro p=2, interleaved"* ]] || fail "$output"
  [[ "$stderr" != *"differs"* ]] || fail "unexpected mismatch: $stderr"
}

@test "compare: -p accepts spaces and drops duplicates; the default is 1,2,nproc" {
  run --separate-stderr timeout "$GORO_TEST_TIMEOUT" \
    "$GORO" compare -n 1 -p '2 1,2 2' -- "$PROGS_DIR/hello"
  assert_success
  [ "$(printf '%s\n' "$output" | grep -c '^goro p=')" -eq 2 ] || fail "$output"
  [[ "$output" == *"native, goro p=2, goro p=1,"* ]] || fail "order of -p not kept: $output"

  run --separate-stderr timeout "$GORO_TEST_TIMEOUT" "$GORO" compare -n 1 -- "$PROGS_DIR/hello"
  assert_success
  local want=2 n
  n=$(nproc)
  [ "$n" -le 2 ] || want=3
  [ "$(printf '%s\n' "$output" | grep -c '^goro p=')" -eq "$want" ] || fail "nproc=$n: $output"
  [ -n "$(row "goro p=$n")" ] || fail "no row for GOMAXPROCS=nproc=$n: $output"
}

@test "compare: output that differs under goro is reported, exit 1" {
  # prints GOMAXPROCS: "none" natively, the value under goro
  run --separate-stderr timeout "$GORO_TEST_TIMEOUT" \
    "$GORO" compare -n 2 -p 1,2 -- /bin/sh -c 'echo ${GOMAXPROCS:-none}'
  assert_failure 1
  [[ "$stderr" == *"output differs under goro (GOMAXPROCS=1, run 1)"* ]] || fail "stderr: $stderr"
  [[ "$stderr" == *"output differs under goro (GOMAXPROCS=2, run 2)"* ]] || fail "stderr: $stderr"
  [[ "$stderr" == *"-none"*"+1"* ]] || fail "no diff shown: $stderr"
  [[ "$stderr" != *"between native runs"* ]] || fail "native runs agree: $stderr"
  [[ "$stderr" == *"4 mismatch(es)"* ]] || fail "stderr: $stderr"
  # the table is still printed, and the run files are kept
  [ -n "$(row 'goro p=2')" ] || fail "no table: $output"
  local dir
  dir=$(printf '%s\n' "$stderr" | sed -n 's/.*measurements) are in //p')
  [ -f "$dir/2.2.out" ] || fail "run files not kept: $stderr"
  [ "$(cat "$dir/2.2.out")" = 2 ] || fail "2.2.out: $(cat "$dir/2.2.out")"
}

@test "compare: a program printing its pid is reported (and native runs disagree too)" {
  run --separate-stderr timeout "$GORO_TEST_TIMEOUT" \
    "$GORO" compare -n 2 -p 1 -- /bin/sh -c 'echo $$'
  assert_failure 1
  [[ "$stderr" == *"output differs under goro (GOMAXPROCS=1, run 1)"* ]] || fail "stderr: $stderr"
  [[ "$stderr" == *"output differs between native runs (run 1 and run 2)"* ]] || fail "stderr: $stderr"
  [[ "$stderr" == *"--ignore-output"* ]] || fail "no hint: $stderr"
}

@test "compare: an exit status that differs under goro is reported, exit 1" {
  run --separate-stderr timeout "$GORO_TEST_TIMEOUT" \
    "$GORO" compare -n 1 -p 2 -- /bin/sh -c 'test -z "$LD_PRELOAD"'
  assert_failure 1
  [[ "$stderr" == *"exit status differs under goro (GOMAXPROCS=2, run 1): native 0, goro 1"* ]] ||
    fail "stderr: $stderr"
}

@test "compare: --ignore-output still checks exit statuses; same status passes" {
  run --separate-stderr timeout "$GORO_TEST_TIMEOUT" \
    "$GORO" compare -n 2 -p 1 --ignore-output -- /bin/sh -c 'echo $$; exit 3'
  assert_success
  [[ "$stderr" != *"differs"* ]] || fail "stderr: $stderr"
  [ -n "$(row 'goro p=1')" ] || fail "no table: $output"
}

@test "compare: create_join under goro, --markdown" {
  [ -x "$GORO_ROOT/build/bench/create_join" ] || skip "build/bench/create_join not built (make progs)"
  run --separate-stderr timeout "$GORO_TEST_TIMEOUT" \
    "$GORO" compare -n 2 -p 2 --ignore-output --markdown -- "$GORO_ROOT/build/bench/create_join" -n 2000
  assert_success
  assert_line --regexp '^\| config \| wall ms \| x native \|'
  assert_line --regexp '^\|---\|---:\|'
  assert_line --regexp '^\| goro p=2 \| [0-9.]+ '
}

@test "compare: without GNU time the context-switch columns are '-'" {
  GORO_TIME=none run --separate-stderr timeout "$GORO_TEST_TIMEOUT" \
    "$GORO" compare -n 1 -p 1 -- "$PROGS_DIR/hello"
  assert_success
  [[ "$(row 'goro p=1')" =~ \ -\ +-$ ]] || fail "goro p=1 row: $(row 'goro p=1')"
  [[ "$output" == *"no GNU time"* ]] || fail "$output"
}

@test "compare: --hyperfine adds hyperfine's wall times" {
  command -v hyperfine >/dev/null || skip "hyperfine not installed"
  run --separate-stderr timeout "$GORO_TEST_TIMEOUT" \
    "$GORO" compare -n 2 -p 1 --hyperfine -- "$PROGS_DIR/hello"
  assert_success
  assert_line --partial "hyperfine: each configuration 2 runs after 1 warm-up"
  [ "$(printf '%s\n' "$output" | grep -c '^goro p=1 ')" -eq 2 ] || fail "$output"
}

@test "compare: bad options give compare's usage and exit 2" {
  run --separate-stderr "$GORO" compare --bogus -- "$PROGS_DIR/hello"
  assert_failure 2
  [[ "$stderr" == *"unknown option '--bogus'"*"usage: goro compare"* ]] || fail "stderr: $stderr"

  run --separate-stderr "$GORO" compare -n 2
  assert_failure 2
  [[ "$stderr" == *"no command given"*"usage: goro compare"* ]] || fail "stderr: $stderr"

  run --separate-stderr "$GORO" compare -n 0 -- "$PROGS_DIR/hello"
  assert_failure 2
  [[ "$stderr" == *"-n: '0' is not a positive integer"* ]] || fail "stderr: $stderr"

  run --separate-stderr "$GORO" compare -p 1,x -- "$PROGS_DIR/hello"
  assert_failure 2
  [[ "$stderr" == *"-p: 'x' is not a positive integer"* ]] || fail "stderr: $stderr"
  [ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ] || fail "one line expected: $stderr"

  run --separate-stderr "$GORO" compare -p ', ' -- "$PROGS_DIR/hello"
  assert_failure 2
  [[ "$stderr" == *"no GOMAXPROCS value"* ]] || fail "stderr: $stderr"
}

@test "compare: refuses a program goro cannot run, before running anything" {
  [ -f "$(gcc -print-file-name=libc.a)" ] || skip "no libc.a (libc6-dev) to link a static program"
  printf 'int main(void) { return 0; }\n' >"$BATS_TEST_TMPDIR/st.c"
  gcc -static -o "$BATS_TEST_TMPDIR/static" "$BATS_TEST_TMPDIR/st.c" || skip "gcc -static failed"
  run --separate-stderr "$GORO" compare -n 1 -- "$BATS_TEST_TMPDIR/static"
  assert_failure 2
  [[ "$stderr" == *"statically linked"* ]] || fail "stderr: $stderr"
  [ -z "$output" ] || fail "a table was printed: $output"
}

# --- trace -------------------------------------------------------------------

# a copy of the launcher in a directory of its own, with or without a
# goro-trace beside it
launcher_copy() {
  mkdir -p "$BATS_TEST_TMPDIR/bin"
  cp "$GORO" "$BATS_TEST_TMPDIR/bin/goro"
}

@test "trace: without goro-trace, 'not available in this build', exit 2" {
  launcher_copy
  run --separate-stderr "$BATS_TEST_TMPDIR/bin/goro" trace some.json
  assert_failure 2
  [ "$stderr" = "goro trace: not available in this build" ] || fail "stderr: $stderr"
}

@test "trace: execs goro-trace beside the launcher with the arguments" {
  launcher_copy
  printf '#!/bin/sh\necho "goro-trace:$#:$*"\nexit 7\n' >"$BATS_TEST_TMPDIR/bin/goro-trace"
  chmod +x "$BATS_TEST_TMPDIR/bin/goro-trace"
  run "$BATS_TEST_TMPDIR/bin/goro" trace t.json --svg out.svg
  assert_failure 7
  assert_output "goro-trace:3:t.json --svg out.svg"
}
