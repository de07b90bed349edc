/* Stand-ins for the runtime globals that the sched objects linked into a
 * unit test refer to (the real ones live in sched/proc.c, preload/ and the
 * shims, which stay out of the test binaries: the shims would interpose
 * pthread_create and friends inside the test itself).
 *
 * The current G of every test thread is goro__g1, a zeroed struct g with
 * m == NULL, exactly as before the scheduler starts: goro__lock's m->locks
 * bookkeeping is skipped.
 *
 * Built with -DGORO_STUBS_WITH_TLS when sched/tls.o is linked too: tls.o
 * defines goro__curg itself (initialised to &goro__g1, the same value). */
#ifndef GORO_UNIT_STUBS_H
#define GORO_UNIT_STUBS_H

#include "sched/runtime.h"

/* Put the stubs back in their initial state (called by each test main
 * before g_test_run).  procs: goro__gomaxprocs, which globrunqget divides
 * by. */
void stubs_init(int32_t procs);

#endif
