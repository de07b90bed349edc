/* pthread_mutex_*: Gs park instead of blocking the M.
 *
 * goro keeps its state in the program's own pthread_mutex_t, in glibc's
 * layout (sysdeps/nptl/bits/struct_mutex.h), so static initialisers work
 * unchanged and glibc's pthread_mutex_init/attr code sets the kind:
 *   __lock   0 unlocked, 1 locked, 2 locked and Gs may be parked on it
 *   __count  recursion depth (recursive kind; 0 for the others, as glibc)
 *   __owner  owner's tid (the G's fake tid; G1 keeps the kernel tid)
 *   __nusers lock holders, so glibc's pthread_mutex_destroy says EBUSY
 *   __kind   PTHREAD_MUTEX_{NORMAL,RECURSIVE,ERRORCHECK,ADAPTIVE}_NP in the
 *            low bits; robust (16), PI (32), PP (64) and process-shared
 *            (128) objects go to glibc's real functions (blocking the M).
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "sched/real.h"
#include "sched/runtime.h"
#include "shim/shim.h"
#include "shim/sync.h"

#define KIND_MASK 3          /* PTHREAD_MUTEX_KIND_MASK_NP */
#define KIND_FALLBACK (16 | 32 | 64 | 128) /* robust, PI, PP, pshared */
#define MUTEX_SPIN 100       /* brief spin before parking (adaptive) */

#define M_LOCK(m) ((_Atomic int *)&(m)->__data.__lock)

static inline int self_tid(void) { return getg()->tid; }

static bool lock_is_contended(void *addr, void *arg)
{
	return a_load_acq((_Atomic int *)addr) == 2;
}

/* The futex-mutex slow path (Drepper, "Futexes are tricky", mutex2): once
 * contended, the word stays 2 so the unlocker wakes a waiter. */
int goro__mutex_lock_slow(pthread_mutex_t *m, int64_t deadline, bool waiter)
{
	_Atomic int *l = M_LOCK(m);
	/* A cond waiter woken off the mutex's queue (waiter) must take the
	 * word as 2: others may have been requeued behind it. */
	for (int i = 0; !waiter && i < MUTEX_SPIN; i++) {
		int z = 0;
		if (a_load_rlx(l) == 0 && a_cas(l, &z, 1))
			return 0;
		a_spin();
	}
	while (a_swap(l, 2) != 0) {
		enum goro_wake w = goro__addrpark((void *)l, lock_is_contended, NULL,
						  "pthread_mutex_lock", deadline, false);
		if (w == GORO_WAKE_TIMEOUT) {
			int z = 0;
			if (a_cas(l, &z, 2))
				return 0;
			return ETIMEDOUT;
		}
	}
	return 0;
}

void goro__mutex_unlock_word(pthread_mutex_t *m)
{
	if (a_swap(M_LOCK(m), 0) == 2)
		goro__addrwake((void *)M_LOCK(m), 1);
}

bool goro__mutex_is_ours(const pthread_mutex_t *m)
{
	return !(m->__data.__kind & KIND_FALLBACK);
}

static int lock_common(pthread_mutex_t *m, clockid_t clk, const struct timespec *abs, bool trylock)
{
	int kind = m->__data.__kind & KIND_MASK;
	int tid = self_tid();
	if (kind == PTHREAD_MUTEX_RECURSIVE_NP && m->__data.__owner == tid) {
		if (m->__data.__count + 1 == 0)
			return EAGAIN;
		m->__data.__count++;
		return 0;
	}
	int z = 0;
	if (!a_cas(M_LOCK(m), &z, 1)) {
		if (trylock)
			return EBUSY; /* glibc: even for an errorcheck mutex's owner */
		if (kind == PTHREAD_MUTEX_ERRORCHECK_NP && m->__data.__owner == tid)
			return EDEADLK;
		int64_t deadline;
		int de = goro__wait_deadline(clk, abs, &deadline);
		if (de)
			return de;
		int e = goro__mutex_lock_slow(m, deadline, false);
		if (e)
			return e;
	}
	m->__data.__owner = tid;
	if (kind == PTHREAD_MUTEX_RECURSIVE_NP)
		m->__data.__count = 1;
	m->__data.__nusers++;
	return 0;
}

GORO_EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
	/* The uncontended fast path, as short as glibc's: one look at the
	 * kind (neither recursive nor a fallback object), the preemption
	 * flag, one CAS. */
	struct g *gp = getg();
	int k = m->__data.__kind, z = 0;
	bool plain = !(k & KIND_FALLBACK) && (k & KIND_MASK) != PTHREAD_MUTEX_RECURSIVE_NP;
	if (__builtin_expect(plain && !a_load_rlx(&gp->preempt) && a_cas(M_LOCK(m), &z, 1), 1)) {
		m->__data.__owner = gp->tid;
		m->__data.__nusers++;
		return 0;
	}
	if (!goro__mutex_is_ours(m))
		return goro__blocking_real(goro__real.pthread_mutex_lock(m));
	goro__coop();
	return lock_common(m, 0, NULL, false);
}

GORO_EXPORT int pthread_mutex_trylock(pthread_mutex_t *m)
{
	if (!goro__mutex_is_ours(m))
		return goro__real.pthread_mutex_trylock(m);
	goro__coop();
	return lock_common(m, 0, NULL, true);
}

GORO_EXPORT int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clk, const struct timespec *abs)
{
	if (!goro__mutex_is_ours(m))
		return goro__blocking_real(goro__real.pthread_mutex_clocklock(m, clk, abs));
	return lock_common(m, clk, abs, false);
}

GORO_EXPORT int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *abs)
{
	if (!goro__mutex_is_ours(m))
		return goro__blocking_real(goro__real.pthread_mutex_timedlock(m, abs));
	return lock_common(m, CLOCK_REALTIME, abs, false);
}

GORO_EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
	if (!goro__mutex_is_ours(m))
		return goro__real.pthread_mutex_unlock(m);
	int kind = m->__data.__kind & KIND_MASK;
	if (kind == PTHREAD_MUTEX_RECURSIVE_NP || kind == PTHREAD_MUTEX_ERRORCHECK_NP) {
		if (m->__data.__owner != self_tid() || a_load_rlx(M_LOCK(m)) == 0)
			return EPERM;
		if (kind == PTHREAD_MUTEX_RECURSIVE_NP && --m->__data.__count > 0)
			return 0;
	}
	m->__data.__owner = 0;
	m->__data.__nusers--;
	goro__mutex_unlock_word(m);
	return 0;
}

/* pthread_mutex_init/destroy, consistent, prioceiling: glibc's own code
 * works on the same layout. */

/* ---- spin locks ---------------------------------------------------------
 * A spinner must not starve the holder when both share one P: after a
 * short spin it yields the P (Gosched). */
#define SPIN_BEFORE_YIELD 64

GORO_EXPORT int pthread_spin_lock(pthread_spinlock_t *s)
{
	_Atomic int *l = (_Atomic int *)s;
	goro__coop();
	for (int i = 0;; i++) {
		int z = 0;
		if (a_load_rlx(l) == 0 && a_cas(l, &z, 1))
			return 0;
		if (i % SPIN_BEFORE_YIELD == SPIN_BEFORE_YIELD - 1) {
			/* The nudge never stops a G inside goro: an
			 * asynchronous cancel acts here. */
			goro__async_cancel_point();
			goro__gosched();
		} else
			a_spin();
	}
}

GORO_EXPORT int pthread_spin_trylock(pthread_spinlock_t *s)
{
	goro__coop();
	int z = 0;
	return a_cas((_Atomic int *)s, &z, 1) ? 0 : EBUSY;
}

GORO_EXPORT int pthread_spin_unlock(pthread_spinlock_t *s)
{
	a_store_rel((_Atomic int *)s, 0);
	return 0;
}

/* glibc's x86_64 spin lock counts down from 1 (unlocked); goro's word is
 * 0 unlocked, 1 locked, so goro owns init too.  pshared changes nothing
 * for a word that is only ever CASed. */
GORO_EXPORT int pthread_spin_init(pthread_spinlock_t *s, int pshared)
{
	a_store_rel((_Atomic int *)s, 0);
	return 0;
}

GORO_EXPORT int pthread_spin_destroy(pthread_spinlock_t *s) { return 0; }
