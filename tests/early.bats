#!/usr/bin/env bats
# Interposed calls before goro has started (docs/ARCHITECTURE.md, "Start-up
# and threads goro did not make").  libearly.so's constructor runs before
# libgoro's (tests/progs/early_lib.c) and calls dlopen(NULL), dlsym, locks,
# condvar and semaphore waits ended by a glibc-made thread, nanosleep,
# sigaction, pipe I/O and finally pthread_create + join.

load helpers

@test "early_ctor: every interposed call works in a constructor that runs before goro's" {
  compare_native_goro early_ctor
  # the report says the constructor saw goro not started (goro_active() 0)
  grep -qx 'goro not started in the constructor: ok' "$GORO_OUT" ||
    fail "the constructor did not run before goro started"
  for p in $GORO_PROCS; do
    GORO_STATS=1 goro_run "$p" early_ctor
    # main's condvar wait, before start-up, was served in the kernel
    assert_stat_ge nop_waits 1 "GOMAXPROCS=$p"
    assert_stat_ge foreign_threads 1 "GOMAXPROCS=$p"
  done
}
