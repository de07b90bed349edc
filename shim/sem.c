/* Unnamed, process-private semaphores park Gs; named (sem_open) and
 * process-shared ones keep glibc's real functions (blocking the M).
 *
 * sem_t layout: glibc's struct new_sem (nptl/semaphoreP.h) keeps `private`
 * at offset 8: 0 for sem_init(pshared = 0), FUTEX_SHARED's 128 for shared
 * ones and sem_open's (measured on 2.36).  goro uses the rest as:
 *   0  value          4  waiters
 *   16 a 16-byte node for sem_post's async-signal-safe deferred wake. */
#include <errno.h>
#include <limits.h>
#include <semaphore.h>
#include <time.h>

#include "sched/real.h"
#include "sched/runtime.h"
#include "shim/shim.h"

#define SEM_PROCESS_PRIVATE 0

struct goro_sem {
	_Atomic uint32_t value;
	_Atomic uint32_t waiters;
	int private_;
	int pad;
	char node[16];
};
_Static_assert(sizeof(struct goro_sem) <= sizeof(sem_t), "sem layout");

static inline struct goro_sem *S(sem_t *s) { return (struct goro_sem *)s; }
static inline bool ours(sem_t *s) { return S(s)->private_ == SEM_PROCESS_PRIVATE; }

static bool sem_zero(void *addr, void *arg)
{
	return a_load_acq((_Atomic uint32_t *)addr) == 0;
}

static bool trydec(struct goro_sem *s)
{
	uint32_t v = a_load_acq(&s->value);
	while (v > 0)
		if (a_cas(&s->value, &v, v - 1))
			return true;
	return false;
}

static int sem_wait_common(sem_t *sem, clockid_t clk, const struct timespec *abs)
{
	struct goro_sem *s = S(sem);
	goro__testcancel();
	if (trydec(s))
		return 0;
	int64_t deadline;
	int de = goro__wait_deadline(clk, abs, &deadline);
	if (de)
		return de;
	uint32_t nr = getg()->sigran_nr;
	a_fetch_add(&s->waiters, 1);
	for (;;) {
		if (trydec(s))
			break;
		enum goro_wake w = goro__addrpark((void *)&s->value, sem_zero, NULL, "sem_wait",
						  deadline, true);
		if (w == GORO_WAKE_INTERRUPTED) {
			a_fetch_add(&s->waiters, -1);
			goro__testcancel();
			if (getg()->sigran_nr != nr)
				return EINTR; /* a handler without SA_RESTART ran */
			a_fetch_add(&s->waiters, 1);
			continue;
		}
		if (w == GORO_WAKE_TIMEOUT && !trydec(s)) {
			a_fetch_add(&s->waiters, -1);
			return ETIMEDOUT;
		}
		if (w == GORO_WAKE_TIMEOUT)
			break;
	}
	a_fetch_add(&s->waiters, -1);
	return 0;
}

static int ret_errno(int e)
{
	if (!e)
		return 0;
	errno = e;
	return -1;
}

GORO_EXPORT int sem_wait(sem_t *s)
{
	if (!ours(s))
		return goro__blocking_real(goro__real.sem_wait(s));
	return ret_errno(sem_wait_common(s, 0, NULL));
}

GORO_EXPORT int sem_timedwait(sem_t *s, const struct timespec *abs)
{
	if (!ours(s))
		return goro__blocking_real(goro__real.sem_timedwait(s, abs));
	return ret_errno(sem_wait_common(s, CLOCK_REALTIME, abs));
}

GORO_EXPORT int sem_clockwait(sem_t *s, clockid_t clk, const struct timespec *abs)
{
	if (!ours(s))
		return goro__blocking_real(goro__real.sem_clockwait(s, clk, abs));
	return ret_errno(sem_wait_common(s, clk, abs));
}

GORO_EXPORT int sem_trywait(sem_t *s)
{
	if (!ours(s))
		return goro__real.sem_trywait(s);
	goro__coop();
	return trydec(S(s)) ? 0 : ret_errno(EAGAIN);
}

/* Async-signal-safe (POSIX): no runtime lock is taken when the caller may
 * have interrupted the runtime (goro__addrwake_async). */
GORO_EXPORT int sem_post(sem_t *sem)
{
	if (!ours(sem))
		return goro__real.sem_post(sem);
	struct goro_sem *s = S(sem);
	uint32_t v = a_load_rlx(&s->value);
	do {
		if (v >= SEM_VALUE_MAX)
			return ret_errno(EOVERFLOW);
	} while (!a_cas(&s->value, &v, v + 1));
	if (a_load_acq(&s->waiters) > 0)
		goro__addrwake_async((void *)&s->value, s->node);
	return 0;
}

GORO_EXPORT int sem_getvalue(sem_t *s, int *val)
{
	if (!ours(s))
		return goro__real.sem_getvalue(s, val);
	goro__coop();
	*val = (int)a_load_acq(&S(s)->value);
	return 0;
}

/* sem_init/sem_destroy: glibc's (same value and private fields). */
