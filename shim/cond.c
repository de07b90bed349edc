/* pthread_cond_*: waiters park on the condvar's address; broadcast wakes
 * one and requeues the rest onto the mutex (no thundering herd).
 *
 * goro owns pthread_cond_t's layout except __wrefs, which glibc's
 * pthread_cond_init fills from the attributes (nptl/pthread_cond_common.c:
 * bit 0 process-shared, bit 1 CLOCK_MONOTONIC):
 *   __wseq (0)      32-bit wake sequence, bumped by signal/broadcast
 *   __g1_start (8)  the mutex the current waiters use
 *   __g_refs[0] (16) number of waiters
 * PTHREAD_COND_INITIALIZER (all zero) is a valid empty condvar. */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "sched/real.h"
#include "sched/runtime.h"
#include "shim/shim.h"
#include "shim/sync.h"

#define C_SEQ(c) ((_Atomic uint32_t *)&(c)->__data.__wseq)
#define C_MUTEX(c) ((pthread_mutex_t *_Atomic *)&(c)->__data.__g1_start)
#define C_NWAIT(c) ((_Atomic uint32_t *)&(c)->__data.__g_refs[0])
#define WREFS_PSHARED 1
#define WREFS_MONOTONIC 2
#define WREFS_DESTROY 4 /* glibc's wake-request flag: a destroyer waits for the waiters to leave */
#define C_WREFS(c) ((_Atomic unsigned *)&(c)->__data.__wrefs)

static bool cond_pshared(const pthread_cond_t *c) { return c->__data.__wrefs & WREFS_PSHARED; }

static bool seq_unchanged(void *addr, void *arg)
{
	return a_load_acq((_Atomic uint32_t *)addr) == (uint32_t)(uintptr_t)arg;
}

static int cond_wait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clk, const struct timespec *abs)
{
	int64_t deadline;
	int de = goro__wait_deadline(clk, abs, &deadline);
	if (de)
		return de;
	goro__testcancel();
	struct g *gp = getg();
	uint32_t seq = a_load_acq(C_SEQ(c));
	a_store_rel(C_MUTEX(c), m);
	a_fetch_add(C_NWAIT(c), 1);

	/* Release the mutex completely, remembering a recursive depth. */
	unsigned count = m->__data.__count;
	m->__data.__owner = 0;
	m->__data.__count = 0;
	m->__data.__nusers--;
	goro__mutex_unlock_word(m);

	enum goro_wake w;
	/* Woken for a signal (its handler ran in us, or not): glibc's
	 * condvar goes on waiting, unless a broadcast already moved us onto
	 * the mutex. */
	do
		w = goro__addrpark((void *)C_SEQ(c), seq_unchanged, (void *)(uintptr_t)seq, "pthread_cond_wait",
				   deadline, true);
	while (w == GORO_WAKE_INTERRUPTED && gp->waitaddr == (void *)C_SEQ(c) && !goro__cancel_requested(gp));
	if (a_fetch_add(C_NWAIT(c), -1) == 1 && (a_load_acq(C_WREFS(c)) & WREFS_DESTROY))
		goro__addrwake((void *)C_NWAIT(c), 1 << 30);

	/* Woken off the mutex's queue (a broadcast's requeue), or not by the
	 * event: the word goes to 2, as others may wait behind it unseen.
	 * Woken straight off the condvar: an ordinary lock, so that the
	 * holder's next unlock wakes nobody. */
	goro__mutex_lock_slow(m, -1, w != GORO_WAKE_EVENT || gp->waitaddr != (void *)C_SEQ(c));
	m->__data.__owner = gp->tid;
	m->__data.__count = count; /* 0 unless recursive */
	m->__data.__nusers++;

	if (w == GORO_WAKE_INTERRUPTED)
		goro__testcancel(); /* exits holding the mutex, as POSIX wants */
	return w == GORO_WAKE_TIMEOUT ? ETIMEDOUT : 0;
}

static bool ours(const pthread_cond_t *c, const pthread_mutex_t *m)
{
	return !cond_pshared(c) && goro__mutex_is_ours(m);
}

/* glibc's wait (process-shared), a cancellation point as glibc's: the
 * waiter publishes the condvar in realcond, then looks for a cancel; a
 * cancel published before that look is seen by it, one after is seen by
 * pthread_cancel, which broadcasts holding the mutex (goro__cancel_realwait):
 * the waiter holds the mutex until glibc has queued it, so the broadcast
 * cannot fall in between.  Woken, it acts on the cancel holding the mutex,
 * as POSIX wants.  clk < 0: no deadline (pthread_cond_wait). */
static int real_wait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clk, const struct timespec *abs)
{
	struct g *gp = getg();
	gp->realmutex = m;
	a_store_rel(&gp->realcond, c);
	atomic_thread_fence(memory_order_seq_cst); /* pairs with pthread_cancel */
	int e = 0;
	if (!goro__cancel_requested(gp)) {
		if (clk < 0)
			e = goro__blocking_real(goro__real.pthread_cond_wait(c, m));
		else
			e = goro__blocking_real(goro__real.pthread_cond_clockwait(c, m, clk, abs));
	}
	a_store_rel(&gp->realcond, NULL);
	goro__testcancel();
	return e;
}

GORO_EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	if (!ours(c, m))
		return real_wait(c, m, -1, NULL);
	return cond_wait(c, m, 0, NULL);
}

GORO_EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *abs)
{
	clockid_t clk = (c->__data.__wrefs & WREFS_MONOTONIC) ? CLOCK_MONOTONIC : CLOCK_REALTIME;
	if (!ours(c, m))
		return real_wait(c, m, clk, abs);
	return cond_wait(c, m, clk, abs);
}

GORO_EXPORT int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clk,
				       const struct timespec *abs)
{
	if (!ours(c, m))
		return real_wait(c, m, clk, abs);
	return cond_wait(c, m, clk, abs);
}

GORO_EXPORT int pthread_cond_signal(pthread_cond_t *c)
{
	if (cond_pshared(c))
		return goro__real.pthread_cond_signal(c);
	if (a_load_acq(C_NWAIT(c)) == 0)
		return 0;
	a_fetch_add(C_SEQ(c), 1);
	goro__addrwake((void *)C_SEQ(c), 1);
	return 0;
}

GORO_EXPORT int pthread_cond_broadcast(pthread_cond_t *c)
{
	if (cond_pshared(c))
		return goro__real.pthread_cond_broadcast(c);
	if (a_load_acq(C_NWAIT(c)) == 0)
		return 0;
	a_fetch_add(C_SEQ(c), 1);
	pthread_mutex_t *m = a_load_acq(C_MUTEX(c));
	if (m && goro__mutex_is_ours(m)) {
		goro__addrrequeue((void *)C_SEQ(c), (void *)&m->__data.__lock);
		/* Make sure the holder's unlock wakes the requeued Gs. */
		int one = 1;
		a_cas((_Atomic int *)&m->__data.__lock, &one, 2);
	} else {
		goro__addrwake((void *)C_SEQ(c), 1 << 30);
	}
	return 0;
}

static bool cond_has_waiters(void *addr, void *arg)
{
	return a_load_acq((_Atomic uint32_t *)addr) != 0;
}

/* As glibc (nptl/pthread_cond_destroy.c): set the wake-request flag and
 * wait until every waiter has left the condvar (a timed one at its
 * timeout); then the memory may be reused. */
GORO_EXPORT int pthread_cond_destroy(pthread_cond_t *c)
{
	if (cond_pshared(c))
		return goro__blocking_real(goro__real.pthread_cond_destroy(c));
	a_fetch_or(C_WREFS(c), WREFS_DESTROY);
	while (cond_has_waiters((void *)C_NWAIT(c), NULL))
		goro__addrpark((void *)C_NWAIT(c), cond_has_waiters, NULL, "pthread_cond_destroy", -1, false);
	return 0;
}
