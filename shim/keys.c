/* Thread-specific data (pthread_key_*: the key table is the runtime's,
 * sched/keys.c), and pthread_once, which parks. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "sched/runtime.h"
#include "shim/shim.h"

GORO_EXPORT int pthread_key_create(pthread_key_t *key, void (*dtor)(void *))
{
	return goro__key_create(key, dtor);
}

GORO_EXPORT int pthread_key_delete(pthread_key_t key) { return goro__key_delete(key); }

GORO_EXPORT void *pthread_getspecific(pthread_key_t key)
{
	goro__coop();
	return goro__getspecific(key);
}

GORO_EXPORT int pthread_setspecific(pthread_key_t key, const void *val) { return goro__setspecific(key, (void *)(uintptr_t)val); }

/* ---- pthread_once --------------------------------------------------------
 * The control word is the program's own int: 0 not run, 1 running,
 * 2 done (nptl's __PTHREAD_ONCE_INPROGRESS / __PTHREAD_ONCE_DONE).  Late
 * callers park on its address instead of futex-waiting the M. */
enum { ONCE_INIT = 0, ONCE_RUNNING = 1, ONCE_DONE = 2 };

static bool once_running(void *addr, void *arg)
{
	return a_load_acq((_Atomic int *)addr) == ONCE_RUNNING;
}

static void once_cancelled(void *arg)
{
	/* The init routine was cancelled: let another caller run it. */
	a_store_rel((_Atomic int *)arg, ONCE_INIT);
	goro__addrwake(arg, 1 << 30);
}

GORO_EXPORT int pthread_once(pthread_once_t *ctl, void (*init)(void))
{
	_Atomic int *c = (_Atomic int *)ctl;
	for (;;) {
		int v = a_load_acq(c);
		if (v == ONCE_DONE)
			return 0;
		if (v == ONCE_INIT) {
			if (!a_cas(c, &v, ONCE_RUNNING))
				continue;
			pthread_cleanup_push(once_cancelled, (void *)c);
			init();
			pthread_cleanup_pop(0);
			a_store_rel(c, ONCE_DONE);
			goro__addrwake((void *)c, 1 << 30);
			return 0;
		}
		goro__addrpark((void *)c, once_running, NULL, "pthread_once", -1, false);
	}
}
