#!/usr/bin/env bats
# Debug endpoints (make DEBUG=1): build/debug/libgoro.so serves /debug/sched,
# /debug/goroutines, /debug/vars and /debug/trace on GORO_DEBUG_ADDR (a
# loopback address or a unix socket path) from its own kernel threads.  The
# subject's output and exit status must not change; a non-loopback address
# is refused before main; the normal build/libgoro.so has none of it.
#
# No curl: TCP requests go through bash's /dev/tcp or a few lines of python3
# (which also speaks to the unix socket).

bats_require_minimum_version 1.5.0
load helpers

DEBUG_LIB="$GORO_ROOT/build/debug/libgoro.so"
HTTP_PY="$BATS_FILE_TMPDIR/http.py"
SUBJECT_OUT_WANT=$'ready\nworkers joined: 4\nwaiter joined'

setup_file() {
  cd "$GORO_ROOT" || return 1
  make -s DEBUG=1 lib >&2 || return 1
  make -s lib build/progs/debug_subject >&2 || return 1
  # http.py ADDR HDRFILE BODYFILE < REQUEST: sends the raw request to
  # host:port or a unix socket path, prints the status code (or "none"),
  # writes the header section and the body to the files.
  cat >"$BATS_FILE_TMPDIR/http.py" <<'EOF'
import socket, sys
addr, hdrfile, bodyfile = sys.argv[1:4]
req = sys.stdin.buffer.read()
if addr.startswith("/"):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    target = addr
else:
    host, port = addr.rsplit(":", 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    target = (host, int(port))
s.settimeout(90)
s.connect(target)
s.sendall(req)
data = b""
while True:
    try:
        chunk = s.recv(65536)
    except ConnectionResetError:
        break
    if not chunk:
        break
    data += chunk
s.close()
head, sep, body = data.partition(b"\r\n\r\n")
open(hdrfile, "wb").write(head)
open(bodyfile, "wb").write(body)
line = head.split(b"\r\n", 1)[0].split()
print(line[1].decode() if len(line) >= 2 and line[0].startswith(b"HTTP/1.") else "none")
EOF
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_subject ADDR [LIB]: debug_subject under goro with GORO_DEBUG_ADDR=ADDR,
# in the background; returns once it printed "ready" (the listener is bound
# before main).
start_subject() {
  local addr=$1 lib=${2:-$DEBUG_LIB}
  require_prog debug_subject
  STOP="$BATS_TEST_TMPDIR/stop"
  SUBJ_OUT="$BATS_TEST_TMPDIR/subject.out"
  SUBJ_ERR="$BATS_TEST_TMPDIR/subject.err"
  rm -f "$STOP"
  # (env after timeout: timeout itself must not run under goro)
  timeout "$GORO_TEST_TIMEOUT" env GORO_DEBUG_ADDR="$addr" LD_PRELOAD="$lib" \
    "$PROGS_DIR/debug_subject" "$STOP" >"$SUBJ_OUT" 2>"$SUBJ_ERR" 3>&- &
  SUBJ_PID=$!
  local i
  for ((i = 0; i < 200; i++)); do
    grep -q '^ready$' "$SUBJ_OUT" 2>/dev/null && return 0
    kill -0 "$SUBJ_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "debug_subject with GORO_DEBUG_ADDR=$addr did not get ready; stderr:" >&2
  cat "$SUBJ_ERR" >&2
  return 1
}

# stop_subject: the subject must end as it does natively: its own stdout,
# exit status 3, nothing on stderr.
stop_subject() {
  touch "$STOP"
  local st=0
  wait "$SUBJ_PID" || st=$?
  SUBJ_PID=
  if [ "$st" -ne 3 ] || [ "$(cat "$SUBJ_OUT")" != "$SUBJECT_OUT_WANT" ] || [ -s "$SUBJ_ERR" ]; then
    {
      echo "the subject ended differently: status $(describe_status "$st") (want 3)"
      echo "--- stdout"; cat "$SUBJ_OUT"
      echo "--- stderr"; cat "$SUBJ_ERR"
    } >&2
    return 1
  fi
}

teardown() {
  if [ -n "${SUBJ_PID:-}" ]; then
    touch "$STOP"
    sleep 0.5
    kill "$SUBJ_PID" 2>/dev/null || true
    wait "$SUBJ_PID" 2>/dev/null || true
  fi
}

# req ADDR RAW: sends RAW (printf format) to ADDR; sets code, hdr, body.
req() {
  hdr="$BATS_TEST_TMPDIR/resp.hdr"
  body="$BATS_TEST_TMPDIR/resp.body"
  # shellcheck disable=SC2059
  code=$(printf "$2" | timeout 100 python3 "$HTTP_PY" "$1" "$hdr" "$body")
}

# get ADDR PATH
get() { req "$1" "GET $2 HTTP/1.0\r\nHost: localhost\r\n\r\n"; }

# expect CODE WHAT: the last response had status CODE.
expect() {
  if [ "$code" != "$1" ]; then
    {
      echo "$2: expected status $1, saw $code"
      echo "--- header"; cat "$hdr"; echo
      echo "--- body"; head -c 2000 "$body"
      echo "--- subject stderr"; cat "$SUBJ_ERR"
    } >&2
    return 1
  fi
}

has_tracer() {
  nm "$DEBUG_LIB" | grep -qE ' [tT] goro__trace_capture$'
}

@test "/debug/vars over TCP (bash /dev/tcp): JSON counters" {
  local port
  port=$(free_port)
  start_subject "127.0.0.1:$port"
  exec 4<>"/dev/tcp/127.0.0.1/$port"
  printf 'GET /debug/vars HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' >&4
  local resp
  resp=$(cat <&4)
  exec 4<&-
  local first=${resp%%$'\r'*}
  [ "$first" = "HTTP/1.0 200 OK" ] || fail "status line: $first"
  [[ "$resp" == *$'\r\nContent-Type: application/json\r\n'* ]] || fail "content type: $resp"
  [[ "$resp" == *$'\r\nConnection: close\r\n'* ]] || fail "no Connection: close: $resp"
  local json=${resp#*$'\r\n\r\n'}
  printf '%s' "$json" | python3 -m json.tool >/dev/null || fail "not JSON: $json"
  [[ "$json" == *'"gomaxprocs"'* ]] || fail "no gomaxprocs: $json"
  [[ "$json" == *'"context_switches"'* ]] || fail "no context_switches: $json"
  stop_subject
}

@test "/debug/goroutines lists goroutine 1 and the named threads" {
  local addr="127.0.0.1:$(free_port)"
  start_subject "$addr"
  get "$addr" /debug/goroutines
  expect 200 /debug/goroutines
  grep -q '^Content-Type: text/plain' "$hdr" || fail "content type: $(cat "$hdr")"
  grep -q 'goroutine 1 \[' "$body" || fail "no goroutine 1: $(cat "$body")"
  grep -q 'start routine main' "$body" || fail "no main: $(cat "$body")"
  local w
  for w in worker-0 worker-1 worker-2 worker-3 waiter; do
    grep -q "thread \"$w\"" "$body" || fail "no thread $w: $(cat "$body")"
  done
  grep -q 'waiter.*waiting' "$body" || fail "the waiter is not waiting: $(cat "$body")"
  stop_subject
}

@test "/debug/sched is a schedtrace snapshot with every P and G" {
  local addr="127.0.0.1:$(free_port)"
  start_subject "$addr"
  GOMAXPROCS=2 get "$addr" /debug/sched
  expect 200 /debug/sched
  head -1 "$body" | grep -q '^SCHED [0-9]*ms: gomaxprocs=[0-9]* ' || fail "first line: $(head -1 "$body")"
  grep -q '^  P0: status=' "$body" || fail "no P0 line: $(cat "$body")"
  grep -q 'goroutine 1 \[' "$body" || fail "no goroutine 1: $(cat "$body")"
  # the Content-Length is the body's
  local len
  len=$(sed -n 's/^Content-Length: \([0-9]*\)\r*$/\1/p' "$hdr")
  [ "$len" = "$(wc -c <"$body")" ] || fail "Content-Length $len, body $(wc -c <"$body") bytes"
  stop_subject
}

@test "/debug/trace?seconds=1: a Chrome trace (or 501 without the tracer); one capture at a time" {
  local addr="127.0.0.1:$(free_port)"
  start_subject "$addr"
  if ! has_tracer; then
    get "$addr" '/debug/trace?seconds=1'
    expect 501 "/debug/trace without the tracer"
    grep -q 'tracer not built' "$body" || fail "body: $(cat "$body")"
    stop_subject
    return
  fi
  # a second capture while the first runs: 409
  local h2="$BATS_TEST_TMPDIR/t2.hdr" b2="$BATS_TEST_TMPDIR/t2.body" c2
  printf 'GET /debug/trace?seconds=2 HTTP/1.0\r\n\r\n' |
    python3 "$HTTP_PY" "$addr" "$h2" "$b2" >"$BATS_TEST_TMPDIR/t2.code" 3>&- &
  local bg=$!
  sleep 0.5
  get "$addr" '/debug/trace?seconds=1'
  expect 409 "a second capture at once"
  wait "$bg"
  c2=$(cat "$BATS_TEST_TMPDIR/t2.code")
  [ "$c2" = 200 ] || fail "/debug/trace?seconds=2: status $c2: $(head -c 500 "$b2")"
  grep -q '^Content-Type: application/json' "$h2" || fail "content type: $(cat "$h2")"
  python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))
ev = t["traceEvents"] if isinstance(t, dict) else t
assert isinstance(ev, list) and len(ev) > 0, "no events"
assert all("ph" in e for e in ev), "an event without ph"
' "$b2" || fail "not a Chrome trace: $(head -c 1000 "$b2")"
  stop_subject
}

@test "bad trace queries get 400" {
  local addr="127.0.0.1:$(free_port)" q
  start_subject "$addr"
  for q in 'seconds=0' 'seconds=abc' 'seconds=61' 'seconds=-1' 'seconds=1.5' 'seconds=' \
           'seconds=100' 'secs=1' 'seconds=1&x=2' ''; do
    get "$addr" "/debug/trace?$q"
    expect 400 "/debug/trace?$q"
  done
  get "$addr" /debug/trace
  expect 400 "/debug/trace without a query"
  get "$addr" '/debug/vars?x=1'
  expect 400 "/debug/vars with a query"
  stop_subject
}

@test "malformed requests get 400, unknown paths 404, and the program carries on" {
  local addr="127.0.0.1:$(free_port)" r
  start_subject "$addr"
  for r in 'hello\r\n\r\n' 'GET /debug/vars\r\n\r\n' 'GET /debug/vars HTTP/2.0\r\n\r\n' \
           'GET debug/vars HTTP/1.0\r\n\r\n' 'GET  /debug/vars HTTP/1.0\r\n\r\n' \
           'GET /debug/vars HTTP/1.0 x\r\n\r\n' 'get /debug/vars HTTP/1.0\r\n\r\n' \
           '\r\n\r\n' 'GET /debug/\x01 HTTP/1.0\r\n\r\n'; do
    req "$addr" "$r"
    expect 400 "request '$r'"
  done
  # a header section over 8 KiB
  local big
  big=$(head -c 9000 /dev/zero | tr '\0' 'a')
  req "$addr" "GET /debug/vars HTTP/1.0\r\nX-Big: $big\r\n\r\n"
  expect 400 "a 9000-byte header"
  # just under the limit is fine
  big=$(head -c 8000 /dev/zero | tr '\0' 'a')
  req "$addr" "GET /debug/vars HTTP/1.0\r\nX-Big: $big\r\n\r\n"
  expect 200 "an 8000-byte header"
  req "$addr" 'POST /debug/vars HTTP/1.0\r\n\r\n'
  expect 405 POST
  for r in / /debug/nope /debug/vars/ /debug/varsx /favicon.ico; do
    get "$addr" "$r"
    expect 404 "$r"
  done
  get "$addr" /debug/
  expect 200 "the index"
  grep -q '/debug/trace?seconds=N' "$body" || fail "index: $(cat "$body")"
  get "$addr" /debug/vars
  expect 200 "/debug/vars after the bad requests"
  stop_subject
}

@test "concurrent requests are all answered, a silent client blocks nobody" {
  local port addr
  port=$(free_port)
  addr="127.0.0.1:$port"
  start_subject "$addr"
  # a client that connects and never sends anything
  exec 5<>"/dev/tcp/127.0.0.1/$port"
  local i pids=() start=$SECONDS
  for i in 1 2 3; do
    printf 'GET /debug/goroutines HTTP/1.0\r\n\r\n' |
      python3 "$HTTP_PY" "$addr" "$BATS_TEST_TMPDIR/c$i.hdr" "$BATS_TEST_TMPDIR/c$i.body" \
        >"$BATS_TEST_TMPDIR/c$i.code" 3>&- &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i"; done
  exec 5<&-
  for i in 1 2 3; do
    [ "$(cat "$BATS_TEST_TMPDIR/c$i.code")" = 200 ] || fail "request $i: $(cat "$BATS_TEST_TMPDIR/c$i.code")"
    grep -q 'goroutine 1 \[' "$BATS_TEST_TMPDIR/c$i.body" || fail "request $i body: $(cat "$BATS_TEST_TMPDIR/c$i.body")"
  done
  [ $((SECONDS - start)) -lt 4 ] || fail "three requests took $((SECONDS - start)) s behind a silent client"
  stop_subject
}

@test "a client trickling its request is answered 408 after 5 s" {
  local addr="127.0.0.1:$(free_port)"
  start_subject "$addr"
  run python3 -c '
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=30)
t0 = time.monotonic()
s.setblocking(False)
resp = b""
for c in b"GET /debug/vars HTTP/1.0\r\nX: " + b"y" * 100:
    try:
        s.send(bytes([c]))
    except OSError:
        break
    time.sleep(0.5)
    try:
        resp += s.recv(4096)
    except BlockingIOError:
        pass
    if resp:
        break
s.setblocking(True)
try:
    while True:
        d = s.recv(4096)
        if not d:
            break
        resp += d
except OSError:
    pass
print(resp.split(b"\r\n")[0].decode(), round(time.monotonic() - t0))' "$addr"
  [[ "$output" == "HTTP/1.0 408 "* ]] || fail "saw: $output"
  local secs=${output##* }
  [ "$secs" -ge 4 ] && [ "$secs" -le 7 ] || fail "answered after $secs s: $output"
  stop_subject
}

@test "over 16 connections at once: 503, then service again" {
  local port addr i fds=()
  port=$(free_port)
  addr="127.0.0.1:$port"
  start_subject "$addr"
  for i in $(seq 16); do
    exec {fd}<>"/dev/tcp/127.0.0.1/$port"
    fds+=("$fd")
  done
  sleep 0.5
  get "$addr" /debug/vars
  expect 503 "the 17th connection"
  for fd in "${fds[@]}"; do exec {fd}<&-; done
  # the server notices the closed connections at once (EOF)
  for i in $(seq 50); do
    get "$addr" /debug/vars
    [ "$code" = 200 ] && break
    sleep 0.1
  done
  expect 200 "after the idle connections closed"
  stop_subject
}

@test "unix socket: endpoints served, socket private and removed at exit" {
  local dir sock
  dir=$(mktemp -d /tmp/goro-debug.XXXXXX)
  sock="$dir/debug.sock"
  start_subject "$sock"
  [ -S "$sock" ] || fail "no socket at $sock"
  [ "$(stat -c %a "$sock")" = 600 ] || fail "socket mode $(stat -c %a "$sock"), want 600"
  get "$sock" /debug/vars
  expect 200 "/debug/vars on the unix socket"
  python3 -m json.tool "$body" >/dev/null || fail "not JSON: $(cat "$body")"
  get "$sock" /debug/goroutines
  expect 200 "/debug/goroutines on the unix socket"
  grep -q 'goroutine 1 \[' "$body" || fail "no goroutine 1: $(cat "$body")"
  get "$sock" /nope
  expect 404 "/nope on the unix socket"
  stop_subject
  [ ! -e "$sock" ] || fail "the socket $sock is left behind"
  # a stale socket file (its process died) is replaced
  python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$sock"
  start_subject "$sock"
  get "$sock" /debug/vars
  expect 200 "/debug/vars over a stale socket file"
  stop_subject
  rm -rf "$dir"
}

@test "the subject's output and exit status are those of the native run" {
  local stop="$BATS_TEST_TMPDIR/stop-native"
  touch "$stop"
  native_status=0
  timeout "$GORO_TEST_TIMEOUT" "$PROGS_DIR/debug_subject" "$stop" >"$NATIVE_OUT" 2>"$NATIVE_ERR" ||
    native_status=$?
  [ "$native_status" -eq 3 ] || fail "native status $native_status"
  [ "$(cat "$NATIVE_OUT")" = "$SUBJECT_OUT_WANT" ] || fail "native stdout: $(cat "$NATIVE_OUT")"
  local addr="127.0.0.1:$(free_port)"
  start_subject "$addr"
  get "$addr" /debug/sched
  expect 200 /debug/sched
  stop_subject
  cmp -s "$NATIVE_OUT" "$SUBJ_OUT" || fail "stdout differs: $(diff "$NATIVE_OUT" "$SUBJ_OUT")"
}

# check_refused VALUE [WORDS]: exit 2 before main, one stderr line naming
# GORO_DEBUG_ADDR, the value and WORDS.
check_refused() {
  local val=$1 words=${2:-}
  require_prog debug_subject
  local stop="$BATS_TEST_TMPDIR/stop-refused"
  touch "$stop"
  run --separate-stderr timeout "$GORO_TEST_TIMEOUT" \
    env LD_PRELOAD="$DEBUG_LIB" GORO_DEBUG_ADDR="$val" "$PROGS_DIR/debug_subject" "$stop"
  [ "$status" -eq 2 ] || fail "GORO_DEBUG_ADDR=\"$val\": status $(describe_status "$status"), want 2; stderr: $stderr"
  [ -z "$output" ] || fail "GORO_DEBUG_ADDR=\"$val\": the program ran: $output"
  [ "${#stderr_lines[@]}" -eq 1 ] || fail "GORO_DEBUG_ADDR=\"$val\": want one stderr line, saw: $stderr"
  [[ "$stderr" == *GORO_DEBUG_ADDR* && "$stderr" == *"\"$val\""* ]] ||
    fail "GORO_DEBUG_ADDR=\"$val\": the line must name the variable and value: $stderr"
  [[ "$stderr" == *"$words"* ]] || fail "GORO_DEBUG_ADDR=\"$val\": want '$words' in: $stderr"
}

@test "non-loopback addresses are refused before main with exit status 2" {
  check_refused 0.0.0.0:8080 non-loopback
  check_refused 10.1.2.3:80 non-loopback
  check_refused 192.168.0.1:6060 non-loopback
  check_refused :6060 non-loopback
  check_refused '[::]:6060' non-loopback
  check_refused '[2001:db8::1]:6060' non-loopback
}

@test "malformed addresses are refused before main with exit status 2" {
  check_refused example.com:80
  check_refused 127.0.0.1
  check_refused 127.0.0.1:0
  check_refused 127.0.0.1:65536
  check_refused 127.0.0.1:http
  check_refused '[::1]6060'
  check_refused debug.sock
  check_refused "/$(head -c 120 /dev/zero | tr '\0' 'x')" "108 bytes"
}

@test "an address in use is refused with exit status 2" {
  local addr="127.0.0.1:$(free_port)"
  start_subject "$addr"
  check_refused "$addr" "Address already in use"
  stop_subject
}

@test "localhost:PORT and [::1]:PORT are accepted" {
  local port
  port=$(free_port)
  start_subject "localhost:$port"
  get "127.0.0.1:$port" /debug/vars
  expect 200 "localhost:$port"
  stop_subject
  if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
    start_subject "[::1]:$port"
    code=$(printf 'GET /debug/vars HTTP/1.0\r\n\r\n' | python3 -c '
import socket, sys
s = socket.create_connection(("::1", int(sys.argv[1])), timeout=30)
s.sendall(sys.stdin.buffer.read())
print(s.recv(100).split()[1].decode())' "$port")
    [ "$code" = 200 ] || fail "[::1]:$port: $code"
    stop_subject
  fi
}

@test "the normal build has no debug code and ignores GORO_DEBUG_ADDR" {
  require_goro
  [ -z "$(nm "$GORO_LIB" | grep -i 'debug_')" ] || fail "debug symbols in $GORO_LIB: $(nm "$GORO_LIB" | grep -i debug_)"
  [ -z "$(nm -D "$GORO_LIB" | grep -i 'debug')" ] || fail "debug dynamic symbols in $GORO_LIB"
  [ -z "$(strings "$GORO_LIB" | grep -F '/debug/')" ] || fail "debug strings in $GORO_LIB: $(strings "$GORO_LIB" | grep -F /debug/)"
  [ -z "$(strings "$GORO_LIB" | grep -F 'GORO_DEBUG_ADDR')" ] || fail "GORO_DEBUG_ADDR in $GORO_LIB"
  # the checks can see debug code when it is there
  nm "$DEBUG_LIB" | grep -q 'goro__debug_start' || fail "no goro__debug_start in $DEBUG_LIB"
  strings "$DEBUG_LIB" | grep -qF '/debug/vars' || fail "no /debug/vars in $DEBUG_LIB"
  # GORO_DEBUG_ADDR means nothing to it, even a non-loopback one
  local port
  port=$(free_port)
  start_subject "0.0.0.0:$port" "$GORO_LIB"
  if (exec 6<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    fail "the normal build listens on $port"
  fi
  stop_subject
}

@test "child processes do not inherit the listener" {
  local port stop="$BATS_TEST_TMPDIR/stop-child"
  port=$(free_port)
  touch "$stop"
  # sh listens; the subject it runs is a child under goro without
  # GORO_DEBUG_ADDR: it runs to its end instead of failing to bind
  run --separate-stderr timeout "$GORO_TEST_TIMEOUT" \
    env LD_PRELOAD="$DEBUG_LIB" GORO_DEBUG_ADDR="127.0.0.1:$port" \
    sh -c 'echo "addr=[$GORO_DEBUG_ADDR]"; "$0" "$1"; echo "status=$?"' "$PROGS_DIR/debug_subject" "$stop"
  [ "$status" -eq 0 ] || fail "status $status; stderr: $stderr"
  [ "$output" = $'addr=[]\n'"$SUBJECT_OUT_WANT"$'\nstatus=3' ] || fail "stdout: $output; stderr: $stderr"
}
