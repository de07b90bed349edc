/* pthread_barrier_*: the last arriving G releases the round.
 *
 * goro's layout in pthread_barrier_t (32 bytes; glibc's own is in, round,
 * count, shared, out): one 64-bit word at offset 0 holds the round number
 * (high half) and the arrivals of this round (low half), so an arrival and
 * the round it belongs to are taken in one atomic add; the count is at
 * offset 8 and the process-shared flag at 12, where glibc's
 * pthread_barrier_init keeps them (nptl/pthread_barrier_init.c); at 16,
 * where glibc keeps `out` (zeroed by init), the Gs still inside a wait
 * (low 31 bits) and a destroyer's flag (bit 31). */
#include <errno.h>
#include <limits.h>
#include <pthread.h>

#include "sched/real.h"
#include "sched/runtime.h"
#include "shim/shim.h"

struct goro_barrier {
	_Atomic uint64_t word;
	unsigned count;
	int shared;
	_Atomic uint32_t inside;
};

#define INSIDE_DESTROY (1U << 31)

_Static_assert(sizeof(struct goro_barrier) <= sizeof(pthread_barrier_t), "barrier layout");

GORO_EXPORT int pthread_barrier_init(pthread_barrier_t *b, const pthread_barrierattr_t *attr, unsigned count)
{
	int e = goro__real.pthread_barrier_init(b, attr, count);
	if (e)
		return e;
	struct goro_barrier *gb = (struct goro_barrier *)b;
	if (!gb->shared) {
		a_store_rlx(&gb->word, 0);
		a_store_rlx(&gb->inside, 0);
	}
	return 0;
}

static bool same_round(void *addr, void *arg)
{
	return (a_load_acq((_Atomic uint64_t *)addr) >> 32) == (uint64_t)(uintptr_t)arg;
}

GORO_EXPORT int pthread_barrier_wait(pthread_barrier_t *b)
{
	struct goro_barrier *gb = (struct goro_barrier *)b;
	if (gb->shared)
		return goro__blocking_real(goro__real.pthread_barrier_wait(b));
	a_fetch_add(&gb->inside, 1);
	uint64_t v = a_fetch_add(&gb->word, 1);
	uint32_t round = (uint32_t)(v >> 32);
	if ((uint32_t)v + 1 == gb->count) {
		a_fetch_add(&gb->inside, -1); /* leaves at once: no wait to count */
		a_store_rel(&gb->word, (uint64_t)(round + 1) << 32);
		goro__addrwake((void *)&gb->word, INT_MAX);
		return PTHREAD_BARRIER_SERIAL_THREAD;
	}
	/* Not a cancellation point (POSIX). */
	while (same_round((void *)&gb->word, (void *)(uintptr_t)round))
		goro__addrpark((void *)&gb->word, same_round, (void *)(uintptr_t)round,
			       "pthread_barrier_wait", -1, false);
	/* The last touch of the barrier: a destroyer may free it after. */
	if (a_fetch_add(&gb->inside, -1) == (INSIDE_DESTROY | 1))
		goro__addrwake((void *)&gb->inside, INT_MAX);
	return 0;
}

static bool waiters_inside(void *addr, void *arg)
{
	return (a_load_acq((_Atomic uint32_t *)addr) & ~INSIDE_DESTROY) != 0;
}

/* As glibc (nptl/pthread_barrier_destroy.c): wait until every thread
 * that entered a wait has left it, so a destroy while a round is still
 * open returns 0 once the round completes; then the memory may be
 * reused. */
GORO_EXPORT int pthread_barrier_destroy(pthread_barrier_t *b)
{
	struct goro_barrier *gb = (struct goro_barrier *)b;
	if (gb->shared)
		return goro__blocking_real(goro__real.pthread_barrier_destroy(b));
	a_fetch_or(&gb->inside, INSIDE_DESTROY);
	while (waiters_inside((void *)&gb->inside, NULL))
		goro__addrpark((void *)&gb->inside, waiters_inside, NULL, "pthread_barrier_destroy", -1, false);
	return 0;
}
