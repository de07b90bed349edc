/* Start-up check of the glibc object layouts the sync shims rely on
 * (shim/mutex.c, cond.c, rwlock.c, barrier.c, sem.c): each is made with
 * glibc's own init function and the attribute under test, and the field
 * goro reads must say what goro expects.  On a mismatch goro refuses to
 * start rather than misread a program's locks. */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "sched/runtime.h"
#include "shim/shim.h"

#define CHECK(cond, what)                                                     \
	do {                                                                  \
		if (!(cond)) {                                                \
			(void)snprintf(why, whylen, "glibc's %s layout differs from 2.36's", what); \
			return -1;                                            \
		}                                                             \
	} while (0)

int goro__sync_check(char *why, size_t whylen)
{
	pthread_mutexattr_t ma;
	pthread_mutex_t m;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&m, &ma);
	CHECK(m.__data.__kind == PTHREAD_MUTEX_RECURSIVE_NP && m.__data.__lock == 0, "pthread_mutex_t kind");
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&m, &ma);
	CHECK(m.__data.__kind & 128, "pthread_mutex_t process-shared bit");
	pthread_mutexattr_destroy(&ma);
	pthread_mutex_t sm = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
	CHECK(sm.__data.__kind == PTHREAD_MUTEX_ERRORCHECK_NP, "static mutex initialiser");

	pthread_condattr_t ca;
	pthread_cond_t c;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c, &ca);
	CHECK(c.__data.__wrefs == 2, "pthread_cond_t clock bit");
	pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
	pthread_cond_init(&c, &ca);
	CHECK(c.__data.__wrefs & 1, "pthread_cond_t process-shared bit");
	pthread_condattr_destroy(&ca);

	pthread_rwlockattr_t ra;
	pthread_rwlock_t rw;
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&rw, &ra);
	CHECK(rw.__data.__flags == 2 && rw.__data.__shared == 0 && rw.__data.__readers == 0,
	      "pthread_rwlock_t flags");
	pthread_rwlockattr_setpshared(&ra, PTHREAD_PROCESS_SHARED);
	pthread_rwlock_init(&rw, &ra);
	CHECK(rw.__data.__shared != 0, "pthread_rwlock_t process-shared field");
	pthread_rwlockattr_destroy(&ra);

	pthread_barrier_t b;
	pthread_barrier_init(&b, NULL, 3);
	const unsigned *bw = (const unsigned *)(const void *)&b;
	CHECK(bw[2] == 3 && bw[3] == 0, "pthread_barrier_t count/shared");

	/* shim/threads.c: an attr without a stack address reports lo = -size. */
	pthread_attr_t pa;
	void *lo = NULL;
	size_t lsz = 0;
	pthread_attr_init(&pa);
	pthread_attr_setstacksize(&pa, 1 << 20);
	CHECK(pthread_attr_getstack(&pa, &lo, &lsz) == 0 && (uintptr_t)lo + lsz == 0, "pthread_attr_t stack address");
	pthread_attr_destroy(&pa);

	sem_t s;
	sem_init(&s, 0, 5);
	const int *sw = (const int *)(const void *)&s;
	CHECK(sw[0] == 5 && sw[2] == 0, "sem_t private");
	sem_init(&s, 1, 0);
	CHECK(sw[2] != 0, "sem_t shared");
	return 0;
}
