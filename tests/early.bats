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
    [ "$(goro_stat nop_waits)" -ge 1 ] ||
      fail "GOMAXPROCS=$p: nop_waits=$(goro_stat nop_waits), expected >= 1"
    [ "$(goro_stat foreign_threads)" -ge 1 ] ||
      fail "GOMAXPROCS=$p: foreign_threads=$(goro_stat foreign_threads), expected >= 1"
  done
}
