#!/usr/bin/env bats
# Core pthread behaviour: every subject program runs natively and under goro
# with GOMAXPROCS in $GORO_PROCS (default 1 2 4); stdout and exit status must
# be identical (see compare_native_goro in helpers.bash).

load helpers

setup() {
  ulimit -c 0 2>/dev/null || true     # no core files from the stack-overflow test
  # the default thread stack (8 MiB) that stack_attr assumes; if the hard
  # limit forbids it, stack_attr says so itself
  ulimit -s 8192 2>/dev/null || true
}

@test "hello: a single-threaded program" {
  compare_native_goro hello
}

@test "create_join: 10,000 threads created and joined, 100 at a time" {
  compare_native_goro create_join
}

@test "create_join: Gs, not OS threads (ms_created <= GOMAXPROCS + 4)" {
  for p in $GORO_PROCS; do
    GORO_STATS=1 goro_run "$p" create_join
    assert_equal "$goro_status" 0
    gs=$(goro_stat gs_created)
    ms=$(goro_stat ms_created)
    if [ "$gs" -lt 10000 ]; then
      fail "GOMAXPROCS=$p: gs_created: expected >= 10000, saw $gs"
    fi
    if [ "$ms" -gt $((p + 4)) ]; then
      fail "GOMAXPROCS=$p: ms_created: expected <= $((p + 4)), saw $ms"
    fi
  done
}

@test "tls: __thread (program, linked lib, dlopen'ed lib) and errno are per thread" {
  compare_native_goro tls
}

@test "tls: initial-exec TLS of a library dlopen'ed after threads exist reads its initializer" {
  # (the second half of tls's output; checked separately so a failure names it)
  native_run tls
  assert_equal "$native_status" 0
  for p in $GORO_PROCS; do
    goro_run "$p" tls
    run grep -F 'tls initial-exec dlopen: 16 live threads + 1 new thread read 42' "$GORO_OUT"
    if [ "$status" -ne 0 ]; then
      fail "GOMAXPROCS=$p: expected the initial-exec line; stdout was:
$(cat "$GORO_OUT")
stderr:
$(head -c 2000 "$GORO_ERR")"
    fi
  done
}

@test "cxx_exc: exceptions across sched_yield, thread_local, std::thread, forced unwinding" {
  compare_native_goro cxx_exc
}

@test "keys: pthread_key_create destructors, re-set iterations, key_delete" {
  compare_native_goro keys
}

@test "once: pthread_once from 64 contending threads runs init once" {
  compare_native_goro once
}

@test "cancel: deferred cancellation, cleanup handlers LIFO, cancel state" {
  compare_native_goro cancel
}

@test "detach: detached threads (pthread_detach, attr, self) finish before main exits" {
  compare_native_goro detach
}

@test "thread_names: setname/getname (ERANGE), pthread_self/pthread_equal" {
  compare_native_goro thread_names
}

@test "stack_attr: getattr_np bounds, setstacksize, setstack, 4 MiB recursion" {
  compare_native_goro stack_attr
}

@test "exit_main: pthread_exit from main keeps the process alive" {
  compare_native_goro exit_main
}

@test "exit_thread: exit() from a thread runs atexit handlers once" {
  NATIVE_STATUS=3 compare_native_goro exit_thread
}

@test "join_np: tryjoin EBUSY, timedjoin ETIMEDOUT, pthread_kill(t, 0)" {
  compare_native_goro join_np
}

@test "thread_kill: the signal handler runs in the target thread" {
  compare_native_goro thread_kill
}

@test "yield_pingpong: sched_yield lets the other thread run" {
  compare_native_goro yield_pingpong
}

@test "c11_threads: thrd_*, mtx/cnd, tss destructor, call_once" {
  compare_native_goro c11_threads
}

@test "stack_overflow: dies of SIGSEGV and goro names the thread and the fix" {
  native_run stack_overflow
  assert_equal "$(describe_status "$native_status")" "$(describe_status 139)"
  for p in $GORO_PROCS; do
    goro_run "$p" stack_overflow
    if [ "$goro_status" -ne 139 ]; then
      fail "GOMAXPROCS=$p: exit status: expected 139 (SIGSEGV), saw $(describe_status "$goro_status")
stderr: $(head -c 2000 "$GORO_ERR")"
    fi
    if ! cmp -s "$NATIVE_OUT" "$GORO_OUT"; then
      fail "GOMAXPROCS=$p: stdout differs: $(diff "$NATIVE_OUT" "$GORO_OUT")"
    fi
    for msg in 'goro: stack overflow in thread' 'raise it with GORO_STACK or pthread_attr_setstacksize'; do
      if ! grep -qF "$msg" "$GORO_ERR"; then
        fail "GOMAXPROCS=$p: expected stderr to contain '$msg'; stderr was:
$(head -c 2000 "$GORO_ERR")"
      fi
    done
  done
}
