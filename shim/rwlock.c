/* pthread_rwlock_*: readers and writers park on the lock's address.
 *
 * State in the program's pthread_rwlock_t (glibc layout, struct
 * __pthread_rwlock_arch_t; static initialisers are all zero except
 * __flags):
 *   __readers (0)    bit 31 writer holds it; bits 0..30 reader count
 *   __writers (4)    writers waiting (for writer preference)
 *   __cur_writer(24) tid of the writing G (EDEADLK checks, as glibc)
 *   __shared (28)    process-shared: glibc's real functions
 *   __flags (48)     PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP (2)
 *                    makes new readers wait behind waiting writers;
 *                    glibc's default prefers readers. */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "sched/real.h"
#include "sched/runtime.h"
#include "shim/shim.h"

#define W_HELD (1u << 31)
#define PREFER_WRITER 2

#define RW_STATE(rw) ((_Atomic uint32_t *)&(rw)->__data.__readers)
#define RW_WWAIT(rw) ((_Atomic uint32_t *)&(rw)->__data.__writers)

static bool reader_blocked(pthread_rwlock_t *rw, uint32_t s)
{
	return (s & W_HELD) || (rw->__data.__flags == PREFER_WRITER && a_load_acq(RW_WWAIT(rw)) > 0);
}

static bool cant_read(void *addr, void *arg)
{
	pthread_rwlock_t *rw = arg;
	return reader_blocked(rw, a_load_acq(RW_STATE(rw)));
}

static bool cant_write(void *addr, void *arg)
{
	return a_load_acq((_Atomic uint32_t *)addr) != 0;
}

static int rdlock(pthread_rwlock_t *rw, clockid_t clk, const struct timespec *abs, bool try)
{
	if (!try && rw->__data.__cur_writer == getg()->tid && (a_load_rlx(RW_STATE(rw)) & W_HELD))
		return EDEADLK; /* the try variants say EBUSY, as glibc */
	int64_t deadline = -2;
	for (;;) {
		uint32_t s = a_load_acq(RW_STATE(rw));
		if (!reader_blocked(rw, s)) {
			if ((s & ~W_HELD) == ~W_HELD)
				return EAGAIN; /* too many readers */
			if (a_cas(RW_STATE(rw), &s, s + 1))
				return 0;
			continue;
		}
		if (try)
			return EBUSY;
		if (deadline == -2) {
			int e = goro__wait_deadline(clk, abs, &deadline);
			if (e)
				return e;
		}
		if (goro__addrpark((void *)RW_STATE(rw), cant_read, rw, "pthread_rwlock_rdlock",
				   deadline, false) == GORO_WAKE_TIMEOUT &&
		    reader_blocked(rw, a_load_acq(RW_STATE(rw))))
			return ETIMEDOUT;
	}
}

static int wrlock(pthread_rwlock_t *rw, clockid_t clk, const struct timespec *abs, bool try)
{
	int tid = getg()->tid;
	uint32_t z = 0;
	if (a_cas(RW_STATE(rw), &z, W_HELD))
		goto got;
	if (try)
		return EBUSY;
	if (rw->__data.__cur_writer == tid && (a_load_rlx(RW_STATE(rw)) & W_HELD))
		return EDEADLK;
	int64_t deadline;
	int e = goro__wait_deadline(clk, abs, &deadline);
	if (e)
		return e;
	a_fetch_add(RW_WWAIT(rw), 1);
	for (;;) {
		z = 0;
		if (a_cas(RW_STATE(rw), &z, W_HELD))
			break;
		if (goro__addrpark((void *)RW_STATE(rw), cant_write, NULL, "pthread_rwlock_wrlock",
				   deadline, false) == GORO_WAKE_TIMEOUT) {
			z = 0;
			if (a_cas(RW_STATE(rw), &z, W_HELD))
				break;
			/* Readers held back for us may go now. */
			a_fetch_add(RW_WWAIT(rw), -1);
			goro__addrwake((void *)RW_STATE(rw), 1 << 30);
			return ETIMEDOUT;
		}
	}
	a_fetch_add(RW_WWAIT(rw), -1);
got:
	rw->__data.__cur_writer = tid;
	return 0;
}

#define RW_FAMILY(name, body, realcall)                                                 \
	GORO_EXPORT int name                                                            \
	{                                                                               \
		if (rw->__data.__shared)                                                \
			return goro__blocking_real(goro__real.realcall);                \
		return body;                                                            \
	}

RW_FAMILY(pthread_rwlock_rdlock(pthread_rwlock_t *rw), rdlock(rw, 0, NULL, false),
	  pthread_rwlock_rdlock(rw))
RW_FAMILY(pthread_rwlock_tryrdlock(pthread_rwlock_t *rw), rdlock(rw, 0, NULL, true),
	  pthread_rwlock_tryrdlock(rw))
RW_FAMILY(pthread_rwlock_timedrdlock(pthread_rwlock_t *rw, const struct timespec *abs),
	  rdlock(rw, CLOCK_REALTIME, abs, false), pthread_rwlock_timedrdlock(rw, abs))
RW_FAMILY(pthread_rwlock_clockrdlock(pthread_rwlock_t *rw, clockid_t clk, const struct timespec *abs),
	  rdlock(rw, clk, abs, false), pthread_rwlock_clockrdlock(rw, clk, abs))
RW_FAMILY(pthread_rwlock_wrlock(pthread_rwlock_t *rw), wrlock(rw, 0, NULL, false),
	  pthread_rwlock_wrlock(rw))
RW_FAMILY(pthread_rwlock_trywrlock(pthread_rwlock_t *rw), wrlock(rw, 0, NULL, true),
	  pthread_rwlock_trywrlock(rw))
RW_FAMILY(pthread_rwlock_timedwrlock(pthread_rwlock_t *rw, const struct timespec *abs),
	  wrlock(rw, CLOCK_REALTIME, abs, false), pthread_rwlock_timedwrlock(rw, abs))
RW_FAMILY(pthread_rwlock_clockwrlock(pthread_rwlock_t *rw, clockid_t clk, const struct timespec *abs),
	  wrlock(rw, clk, abs, false), pthread_rwlock_clockwrlock(rw, clk, abs))

GORO_EXPORT int pthread_rwlock_unlock(pthread_rwlock_t *rw)
{
	if (rw->__data.__shared)
		return goro__real.pthread_rwlock_unlock(rw);
	uint32_t s = a_load_acq(RW_STATE(rw));
	if (s & W_HELD) {
		rw->__data.__cur_writer = 0;
		a_store_rel(RW_STATE(rw), 0);
	} else if (s == 0) {
		return EPERM;
	} else if (a_fetch_add(RW_STATE(rw), (uint32_t)-1) != 1) {
		return 0; /* other readers remain */
	}
	goro__addrwake((void *)RW_STATE(rw), 1 << 30);
	return 0;
}
