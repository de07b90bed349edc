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

# wait_exit PID: waits for the background child PID to end; sets st to its
# exit status.  A hang guard, not a timing: after $GORO_TEST_TIMEOUT s it
# kills PID and fails.
wait_exit() {
  local pid=$1
  if ! wait_until "$pid" proc_ended "$pid"; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    echo "process $pid did not end within ${GORO_TEST_TIMEOUT}s (hang?); killed" >&2
    return 1
  fi
  st=0
  wait "$pid" || st=$?
}

# start_subject ADDR [LIB [SLEEPERS]]: debug_subject under goro with
# GORO_DEBUG_ADDR=ADDR, in the background; returns once it printed "ready"
# (the listener is bound before main).  The subject lives until its stdin,
# a FIFO whose only writer is this shell's fd $SUBJ_CTL, reaches its end:
# stop_subject (or teardown) closes it.  On failure the subject is reaped
# and its stderr is in $SUBJ_ERR.
start_subject() {
  local addr=$1 lib=${2:-$DEBUG_LIB} nsleepers=${3:-}
  require_prog debug_subject
  SUBJ_OUT="$BATS_TEST_TMPDIR/subject.out"
  SUBJ_ERR="$BATS_TEST_TMPDIR/subject.err"
  local ctl="$BATS_TEST_TMPDIR/subject.ctl"
  rm -f "$ctl" "$SUBJ_OUT" "$SUBJ_ERR"
  mkfifo "$ctl"
  # (the FIFO is opened by the child before exec: it waits for our end)
  env GORO_DEBUG_ADDR="$addr" LD_PRELOAD="$lib" "$PROGS_DIR/debug_subject" $nsleepers \
    <"$ctl" >"$SUBJ_OUT" 2>"$SUBJ_ERR" 3>&- &
  SUBJ_PID=$!
  exec {SUBJ_CTL}>"$ctl"
  wait_until "$SUBJ_PID" grep -qs '^ready$' "$SUBJ_OUT" && return 0
  exec {SUBJ_CTL}>&-
  SUBJ_CTL=
  wait_exit "$SUBJ_PID" || true
  SUBJ_PID=
  echo "debug_subject with GORO_DEBUG_ADDR=$addr did not get ready; stderr:" >&2
  cat "$SUBJ_ERR" >&2
  return 1
}

# start_tcp_subject HOST [LIB [SLEEPERS]]: start_subject on HOST:$PORT, PORT
# a free port.  free_port's port is free when it answers, but another
# process may bind it before the subject does: then the subject refuses
# with "Address already in use" and another port is tried.
start_tcp_subject() {
  local host=$1 try
  for try in 1 2 3 4 5; do
    PORT=$(free_port)
    ADDR="$host:$PORT"
    start_subject "$ADDR" "${@:2}" 2>"$BATS_TEST_TMPDIR/start.err" && return 0
    grep -q 'Address already in use' "$SUBJ_ERR" || break
  done
  cat "$BATS_TEST_TMPDIR/start.err" >&2
  return 1
}

# stop_subject: the subject must end as it does natively: its own stdout,
# exit status 3, nothing on stderr.
stop_subject() {
  local want=${1:-$SUBJECT_OUT_WANT}
  exec {SUBJ_CTL}>&-
  SUBJ_CTL=
  wait_exit "$SUBJ_PID" || { SUBJ_PID=; return 1; }
  SUBJ_PID=
  if [ "$st" -ne 3 ] || [ "$(cat "$SUBJ_OUT")" != "$want" ] || [ -s "$SUBJ_ERR" ]; then
    {
      echo "the subject ended differently: status $(describe_status "$st") (want 3)"
      echo "--- stdout"; cat "$SUBJ_OUT"
      echo "--- stderr"; cat "$SUBJ_ERR"
    } >&2
    return 1
  fi
}

teardown() {
  if [ -n "${SUBJ_CTL:-}" ]; then
    exec {SUBJ_CTL}>&-
  fi
  if [ -n "${SUBJ_PID:-}" ]; then
    wait_exit "$SUBJ_PID" || true
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

# get_until_served: GET /debug/vars on $ADDR until it is no longer 503
# (every slot taken); a hang guard of $GORO_TEST_TIMEOUT s, not a timing.
get_until_served() {
  local i
  for ((i = 0; i < GORO_TEST_TIMEOUT * 10; i++)); do
    get "$ADDR" /debug/vars
    [ "$code" = 503 ] || return 0
    sleep 0.1
  done
}

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
  start_tcp_subject 127.0.0.1
  exec 4<>"/dev/tcp/127.0.0.1/$PORT"
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
  start_tcp_subject 127.0.0.1
  get "$ADDR" /debug/goroutines
  expect 200 /debug/goroutines
  grep -q '^Content-Type: text/plain' "$hdr" || fail "content type: $(cat "$hdr")"
  grep -q 'goroutine 1 \[' "$body" || fail "no goroutine 1: $(cat "$body")"
  grep -q 'start routine main' "$body" || fail "no main: $(cat "$body")"
  local w
  for w in worker-0 worker-1 worker-2 worker-3 waiter; do
    grep -q "thread \"$w\"" "$body" || fail "no thread $w: $(cat "$body")"
  done
  # (the subject says "ready" once the waiter is in pthread_cond_wait)
  grep -q 'waiter.*waiting' "$body" || fail "the waiter is not waiting: $(cat "$body")"
  stop_subject
}

@test "/debug/sched is a schedtrace snapshot with every P and G" {
  start_tcp_subject 127.0.0.1
  GOMAXPROCS=2 get "$ADDR" /debug/sched
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

@test "/debug/trace?seconds=2: a Chrome trace (or 501 without the tracer); one capture at a time" {
  start_tcp_subject 127.0.0.1
  if ! has_tracer; then
    get "$ADDR" '/debug/trace?seconds=1'
    expect 501 "/debug/trace without the tracer"
    grep -q 'tracer not built' "$body" || fail "body: $(cat "$body")"
    stop_subject
    return
  fi
  # Two captures of 2 s at once: both requests are sent in full (over
  # /dev/tcp, by this shell) before either answer is read, so whichever of
  # the server's threads starts its capture first, the other asks while it
  # runs: one must get 200 and a trace, the other 409 at once.  (Both 200
  # can only mean the two did not overlap -- a thread of the server kept
  # off the CPU for the whole 2 s -- or that two captures ran at once: a
  # round like that is run again, three rounds at most.)
  local round i fd fds c1 c2 ok_hdr ok_body busy_body
  for round in 1 2 3; do
    fds=()
    for i in 1 2; do
      exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
      printf 'GET /debug/trace?seconds=2 HTTP/1.0\r\n\r\n' >&"$fd"
      fds+=("$fd")
    done
    for i in 1 2; do
      fd=${fds[i - 1]}
      cat <&"$fd" >"$BATS_TEST_TMPDIR/t$i.resp"
      exec {fd}<&-
      python3 -c '
import sys
data = open(sys.argv[1], "rb").read()
head, _, body = data.partition(b"\r\n\r\n")
open(sys.argv[1] + ".hdr", "wb").write(head)
open(sys.argv[1] + ".body", "wb").write(body)
line = head.split(b"\r\n", 1)[0].split()
print(line[1].decode() if len(line) >= 2 else "none")' "$BATS_TEST_TMPDIR/t$i.resp" >"$BATS_TEST_TMPDIR/t$i.code"
    done
    c1=$(cat "$BATS_TEST_TMPDIR/t1.code")
    c2=$(cat "$BATS_TEST_TMPDIR/t2.code")
    [ "$c1" = 200 ] && [ "$c2" = 200 ] || break
  done
  if [ "$c1" = 200 ] && [ "$c2" = 409 ]; then
    ok_hdr="$BATS_TEST_TMPDIR/t1.resp.hdr" ok_body="$BATS_TEST_TMPDIR/t1.resp.body"
    busy_body="$BATS_TEST_TMPDIR/t2.resp.body"
  elif [ "$c1" = 409 ] && [ "$c2" = 200 ]; then
    ok_hdr="$BATS_TEST_TMPDIR/t2.resp.hdr" ok_body="$BATS_TEST_TMPDIR/t2.resp.body"
    busy_body="$BATS_TEST_TMPDIR/t1.resp.body"
  else
    fail "two captures asked for at once: expected one 200 and one 409, saw $c1 and $c2 (round $round)"
  fi
  grep -q 'already being captured' "$busy_body" || fail "the 409's body: $(cat "$busy_body")"
  grep -q '^Content-Type: application/json' "$ok_hdr" || fail "content type: $(cat "$ok_hdr")"
  python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))
ev = t["traceEvents"] if isinstance(t, dict) else t
assert isinstance(ev, list) and len(ev) > 0, "no events"
assert all("ph" in e for e in ev), "an event without ph"
' "$ok_body" || fail "not a Chrome trace: $(head -c 1000 "$ok_body")"
  # the capture is over: another one is served
  get "$ADDR" '/debug/trace?seconds=1'
  expect 200 "a capture after the first ended"
  stop_subject
}

@test "bad trace queries get 400" {
  local q
  start_tcp_subject 127.0.0.1
  for q in 'seconds=0' 'seconds=abc' 'seconds=61' 'seconds=-1' 'seconds=1.5' 'seconds=' \
           'seconds=100' 'secs=1' 'seconds=1&x=2' ''; do
    get "$ADDR" "/debug/trace?$q"
    expect 400 "/debug/trace?$q"
  done
  get "$ADDR" /debug/trace
  expect 400 "/debug/trace without a query"
  get "$ADDR" '/debug/vars?x=1'
  expect 400 "/debug/vars with a query"
  stop_subject
}

@test "malformed requests get 400, unknown paths 404, and the program carries on" {
  local r
  start_tcp_subject 127.0.0.1
  for r in 'hello\r\n\r\n' 'GET /debug/vars\r\n\r\n' 'GET /debug/vars HTTP/2.0\r\n\r\n' \
           'GET debug/vars HTTP/1.0\r\n\r\n' 'GET  /debug/vars HTTP/1.0\r\n\r\n' \
           'GET /debug/vars HTTP/1.0 x\r\n\r\n' 'get /debug/vars HTTP/1.0\r\n\r\n' \
           '\r\n\r\n' 'GET /debug/\x01 HTTP/1.0\r\n\r\n'; do
    req "$ADDR" "$r"
    expect 400 "request '$r'"
  done
  # a header section over 8 KiB
  local big
  big=$(head -c 9000 /dev/zero | tr '\0' 'a')
  req "$ADDR" "GET /debug/vars HTTP/1.0\r\nX-Big: $big\r\n\r\n"
  expect 400 "a 9000-byte header"
  # just under the limit is fine
  big=$(head -c 8000 /dev/zero | tr '\0' 'a')
  req "$ADDR" "GET /debug/vars HTTP/1.0\r\nX-Big: $big\r\n\r\n"
  expect 200 "an 8000-byte header"
  req "$ADDR" 'POST /debug/vars HTTP/1.0\r\n\r\n'
  expect 405 POST
  for r in / /debug/nope /debug/vars/ /debug/varsx /favicon.ico; do
    get "$ADDR" "$r"
    expect 404 "$r"
  done
  get "$ADDR" /debug/
  expect 200 "the index"
  grep -q '/debug/trace?seconds=N' "$body" || fail "index: $(cat "$body")"
  get "$ADDR" /debug/vars
  expect 200 "/debug/vars after the bad requests"
  stop_subject
}

@test "concurrent requests are all answered, a silent client blocks nobody" {
  start_tcp_subject 127.0.0.1
  # a client that connects and never sends anything: the server keeps its
  # connection for 5 s, then answers it 408
  local silent
  exec {silent}<>"/dev/tcp/127.0.0.1/$PORT"
  # three requests, all sent before any answer is read
  local i fd fds=()
  for i in 1 2 3; do
    exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'GET /debug/goroutines HTTP/1.0\r\n\r\n' >&"$fd"
    fds+=("$fd")
  done
  for i in 1 2 3; do
    fd=${fds[i - 1]}
    cat <&"$fd" >"$BATS_TEST_TMPDIR/c$i.resp"
    exec {fd}<&-
  done
  # They were answered before the silent client was: had they waited
  # behind it, its 408 (or its end) would be there to read by now.
  if read -r -t 0 -u "$silent"; then
    fail "the silent client was answered before the three requests: they waited behind it"
  fi
  for i in 1 2 3; do
    head -1 "$BATS_TEST_TMPDIR/c$i.resp" | grep -q '^HTTP/1.0 200 ' || fail "request $i: $(head -c 300 "$BATS_TEST_TMPDIR/c$i.resp")"
    grep -q 'goroutine 1 \[' "$BATS_TEST_TMPDIR/c$i.resp" || fail "request $i body: $(cat "$BATS_TEST_TMPDIR/c$i.resp")"
  done
  # and the silent client was being served all along: it gets its 408
  local resp
  resp=$(timeout "$GORO_TEST_TIMEOUT" cat <&"$silent")
  exec {silent}<&-
  [[ "$resp" == "HTTP/1.0 408 "* ]] || fail "the silent client: ${resp:0:300}"
  stop_subject
}

@test "a client trickling its request is answered 408 after 5 s" {
  start_tcp_subject 127.0.0.1
  # One byte every 0.5 s for 65 s: a server with a timeout per read would
  # wait for all of it; the 5 s are for the whole request, so the 408 must
  # come while the client is still sending, and not before 5 s.
  run python3 -c '
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
t0 = time.monotonic()  # before connecting: the server starts its 5 s later
s = socket.create_connection((host, int(port)), timeout=30)
s.setblocking(False)
trickle = b"GET /debug/vars HTTP/1.0\r\nX: " + b"y" * 100
resp = b""
sent = 0
for c in trickle:
    try:
        s.send(bytes([c]))
    except OSError:
        break
    sent += 1
    time.sleep(0.5)
    try:
        resp += s.recv(4096)
    except BlockingIOError:
        pass
    except OSError:
        break
    if resp:
        break
s.settimeout(60)
try:
    while True:
        d = s.recv(4096)
        if not d:
            break
        resp += d
except OSError:
    pass
print(resp.split(b"\r\n")[0].decode(), "sent=%d/%d" % (sent, len(trickle)),
      "after=%.1f" % (time.monotonic() - t0))' "$ADDR"
  [[ "$output" == "HTTP/1.0 408 "* ]] || fail "saw: $output"
  local sent=${output#*sent=} after=${output##*after=}
  sent=${sent%% *}
  [ "${sent%/*}" -lt "${sent#*/}" ] || fail "answered only once the client had sent everything: $output"
  python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= 4.5 else 1)' "$after" ||
    fail "answered before the 5 s were up: $output"
  stop_subject
}

@test "over 16 connections at once: 503, then service again" {
  start_tcp_subject 127.0.0.1
  # 16 silent connections take every slot: the listener counts each one as
  # it accepts it, in the order they connected, so the 17th, connected
  # after them, must get 503 -- provided none of the 16 has been let go
  # yet (the server drops a silent connection after 5 s with a 408).  A
  # round where a holder was already let go proves nothing: try again.
  local try i fd f fds resp dropped
  for try in 1 2 3; do
    fds=()
    for i in $(seq 16); do
      exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
      fds+=("$fd")
    done
    # (the 17th sends nothing: a 503 comes without reading a request, and
    # closing a connection with an unread request would reset it)
    exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
    resp=$(cat <&"$fd") || true
    exec {fd}<&-
    dropped=0
    for f in "${fds[@]}"; do
      read -r -t 0 -u "$f" && dropped=1
    done
    for f in "${fds[@]}"; do
      exec {f}<&-
    done
    [[ "$resp" == "HTTP/1.0 503 "* ]] && break
    [ "$dropped" = 1 ] || break
  done
  [[ "$resp" == "HTTP/1.0 503 "* ]] || fail "the 17th connection (try $try): ${resp:0:300}"
  [[ "$resp" == *"too many debug requests"* ]] || fail "the 503's body: $resp"
  # the server notices the closed connections (EOF) and serves again
  get_until_served
  expect 200 "after the idle connections closed"
  stop_subject
}

@test "16 clients trickling after their request hold no slot past the 5 s limit" {
  start_tcp_subject 127.0.0.1
  # Each client sends a whole request, never reads the answer and then
  # sends one byte every 0.5 s for as long as the test lasts: a server that
  # bounds each read, not the connection, keeps draining them forever and
  # answers every new request 503.  The clients say "sent" once every
  # request is out; they stop when the file $stopf appears.
  local stopf="$BATS_TEST_TMPDIR/stop" log="$BATS_TEST_TMPDIR/trickle.log" i
  python3 -c '
import os, socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
conns = [socket.create_connection((host, int(port)), timeout=30) for _ in range(16)]
for s in conns:
    s.sendall(b"GET /debug/vars HTTP/1.0\r\n\r\n")
    s.setblocking(False)
print("sent", flush=True)
while not os.path.exists(sys.argv[2]):
    time.sleep(0.5)
    for s in conns:
        try:
            s.send(b"y")
        except OSError:
            pass' "$ADDR" "$stopf" >"$log" 2>&1 &
  local tpid=$!
  wait_until "$tpid" grep -qs '^sent$' "$log" || { touch "$stopf"; wait "$tpid"; fail "the clients did not start: $(cat "$log")"; }
  # While the clients still trickle, a new request must be served once
  # their time is up (a hang guard of $GORO_TEST_TIMEOUT s, no timing).
  get_until_served
  proc_ended "$tpid" && fail "the trickling clients ended early: $(cat "$log")"
  touch "$stopf"
  wait "$tpid"
  expect 200 "a request while 16 clients trickle"
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
  native_status=0
  timeout "$GORO_TEST_TIMEOUT" "$PROGS_DIR/debug_subject" </dev/null >"$NATIVE_OUT" 2>"$NATIVE_ERR" ||
    native_status=$?
  [ "$native_status" -eq 3 ] || fail "native status $native_status"
  [ "$(cat "$NATIVE_OUT")" = "$SUBJECT_OUT_WANT" ] || fail "native stdout: $(cat "$NATIVE_OUT")"
  start_tcp_subject 127.0.0.1
  get "$ADDR" /debug/sched
  expect 200 /debug/sched
  stop_subject
  cmp -s "$NATIVE_OUT" "$SUBJ_OUT" || fail "stdout differs: $(diff "$NATIVE_OUT" "$SUBJ_OUT")"
}

# check_refused VALUE [WORDS]: exit 2 before main, one stderr line naming
# GORO_DEBUG_ADDR, the value and WORDS.  (stdin /dev/null: a subject that
# did start would end at once.)
check_refused() {
  local val=$1 words=${2:-}
  require_prog debug_subject
  run --separate-stderr timeout "$GORO_TEST_TIMEOUT" \
    env LD_PRELOAD="$DEBUG_LIB" GORO_DEBUG_ADDR="$val" "$PROGS_DIR/debug_subject" </dev/null
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
  start_tcp_subject 127.0.0.1
  check_refused "$ADDR" "Address already in use"
  stop_subject
}

@test "localhost:PORT and [::1]:PORT are accepted" {
  start_tcp_subject localhost
  get "127.0.0.1:$PORT" /debug/vars
  expect 200 "localhost:$PORT"
  stop_subject
  if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
    start_tcp_subject '[::1]'
    code=$(printf 'GET /debug/vars HTTP/1.0\r\n\r\n' | python3 -c '
import socket, sys
s = socket.create_connection(("::1", int(sys.argv[1])), timeout=30)
s.sendall(sys.stdin.buffer.read())
print(s.recv(100).split()[1].decode())' "$PORT")
    [ "$code" = 200 ] || fail "[::1]:$PORT: $code"
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
  # GORO_DEBUG_ADDR means nothing to it, even a non-loopback one: the
  # subject runs, and has no socket at all (a listener would be one)
  start_subject "0.0.0.0:$(free_port)" "$GORO_LIB"
  local f socks=""
  for f in /proc/"$SUBJ_PID"/fd/*; do
    [[ "$(readlink "$f")" == socket:* ]] && socks+=" $(basename "$f")"
  done
  [ -z "$socks" ] || fail "the normal build opened sockets (fds$socks): $(ls -l /proc/"$SUBJ_PID"/fd)"
  stop_subject
}

@test "child processes do not inherit the listener" {
  # sh listens; the subject it runs is a child under goro without
  # GORO_DEBUG_ADDR: it runs to its end instead of failing to bind.  (A
  # port free a moment ago may be taken by someone else before sh binds
  # it: then sh says "Address already in use" and another is tried.)
  local try port
  for try in 1 2 3 4 5; do
    port=$(free_port)
    run --separate-stderr timeout "$GORO_TEST_TIMEOUT" \
      env LD_PRELOAD="$DEBUG_LIB" GORO_DEBUG_ADDR="127.0.0.1:$port" \
      sh -c 'echo "addr=[$GORO_DEBUG_ADDR]"; "$0" </dev/null; echo "status=$?"' "$PROGS_DIR/debug_subject"
    [[ "$status" -eq 2 && "$stderr" == *"Address already in use"* ]] || break
  done
  [ "$status" -eq 0 ] || fail "status $status; stderr: $stderr"
  [ "$output" = $'addr=[]\n'"$SUBJECT_OUT_WANT"$'\nstatus=3' ] || fail "stdout: $output; stderr: $stderr"
}
