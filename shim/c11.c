/* C11 <threads.h>: glibc implements these on its internal __pthread_*
 * entry points (not through the PLT), so each is interposed and mapped
 * onto goro's pthread functions here.  Error mapping as nptl's
 * thrd_err_map. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <threads.h>
#include <time.h>

#include "sched/runtime.h"
#include "shim/shim.h"

static int thrd_err(int e)
{
	switch (e) {
	case 0: return thrd_success;
	case ENOMEM: return thrd_nomem;
	case ETIMEDOUT: return thrd_timedout;
	case EBUSY: return thrd_busy;
	default: return thrd_error;
	}
}

GORO_EXPORT int thrd_create(thrd_t *thr, thrd_start_t func, void *arg)
{
	/* An int-returning start routine called as void *(*)(void *): the
	 * int lands in the low half of the result, read back by thrd_join
	 * exactly as nptl does (nptl/thrd_create.c). */
	int e = pthread_create((pthread_t *)thr, NULL, (void *(*)(void *))(void *)func, arg);
	return e == EAGAIN ? thrd_nomem : thrd_err(e);
}

GORO_EXPORT int thrd_join(thrd_t thr, int *res)
{
	void *r;
	int e = pthread_join((pthread_t)thr, &r);
	if (e == 0 && res)
		*res = (int)(intptr_t)r;
	return thrd_err(e);
}

GORO_EXPORT int thrd_detach(thrd_t thr) { return thrd_err(pthread_detach((pthread_t)thr)); }
GORO_EXPORT thrd_t thrd_current(void) { return (thrd_t)pthread_self(); }
GORO_EXPORT int thrd_equal(thrd_t a, thrd_t b) { return a == b; }
GORO_EXPORT void thrd_yield(void) { goro__gosched(); }

GORO_EXPORT _Noreturn void thrd_exit(int res)
{
	goro__ensure_init();
	goro__do_exit((void *)(intptr_t)res);
}

GORO_EXPORT int thrd_sleep(const struct timespec *d, struct timespec *rem)
{
	if (nanosleep(d, rem) == 0)
		return 0;
	return errno == EINTR ? -1 : -2;
}

GORO_EXPORT int tss_create(tss_t *key, tss_dtor_t dtor)
{
	return thrd_err(pthread_key_create((pthread_key_t *)key, dtor));
}

GORO_EXPORT void *tss_get(tss_t key) { return pthread_getspecific((pthread_key_t)key); }

GORO_EXPORT int tss_set(tss_t key, void *val)
{
	return thrd_err(pthread_setspecific((pthread_key_t)key, val));
}

GORO_EXPORT void tss_delete(tss_t key) { pthread_key_delete((pthread_key_t)key); }

GORO_EXPORT void call_once(once_flag *flag, void (*func)(void))
{
	pthread_once((pthread_once_t *)(void *)flag, func);
}

/* ---- mtx_* / cnd_* (mtx_t and cnd_t are pthread objects in nptl) ------- */

GORO_EXPORT int mtx_init(mtx_t *m, int type)
{
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, (type & mtx_recursive) ? PTHREAD_MUTEX_RECURSIVE
							     : PTHREAD_MUTEX_NORMAL);
	int e = pthread_mutex_init((pthread_mutex_t *)m, &a);
	pthread_mutexattr_destroy(&a);
	return thrd_err(e);
}

GORO_EXPORT int mtx_lock(mtx_t *m) { return thrd_err(pthread_mutex_lock((pthread_mutex_t *)m)); }
GORO_EXPORT int mtx_trylock(mtx_t *m) { return thrd_err(pthread_mutex_trylock((pthread_mutex_t *)m)); }
GORO_EXPORT int mtx_unlock(mtx_t *m) { return thrd_err(pthread_mutex_unlock((pthread_mutex_t *)m)); }

GORO_EXPORT int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict t)
{
	return thrd_err(pthread_mutex_timedlock((pthread_mutex_t *)m, t));
}

GORO_EXPORT int cnd_init(cnd_t *c) { return thrd_err(pthread_cond_init((pthread_cond_t *)c, NULL)); }
GORO_EXPORT int cnd_signal(cnd_t *c) { return thrd_err(pthread_cond_signal((pthread_cond_t *)c)); }
GORO_EXPORT int cnd_broadcast(cnd_t *c) { return thrd_err(pthread_cond_broadcast((pthread_cond_t *)c)); }

GORO_EXPORT int cnd_wait(cnd_t *c, mtx_t *m)
{
	return thrd_err(pthread_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m));
}

GORO_EXPORT int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m, const struct timespec *restrict t)
{
	return thrd_err(pthread_cond_timedwait((pthread_cond_t *)c, (pthread_mutex_t *)m, t));
}
