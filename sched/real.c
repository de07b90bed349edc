#include <dlfcn.h>

#include "sched/real.h"
#include "sched/runtime.h"
#include "sched/sys.h"

GORO_HIDDEN struct goro_real goro__real;

#define RESOLVE(name)                                                            \
	do {                                                                     \
		*(void **)&goro__real.name = dlsym(RTLD_NEXT, #name);            \
		if (!goro__real.name)                                            \
			goro__throw("cannot resolve the real %s: %s", #name, dlerror()); \
	} while (0)

void goro__real_init(void)
{
	if (goro__real.pthread_create)
		return;
	RESOLVE(pthread_create);
	RESOLVE(pthread_attr_init);
	RESOLVE(pthread_attr_destroy);
	RESOLVE(pthread_attr_setstacksize);
	RESOLVE(pthread_attr_setstack);
	RESOLVE(pthread_attr_setdetachstate);
	RESOLVE(pthread_attr_setguardsize);
	RESOLVE(pthread_getattr_np);
	RESOLVE(pthread_kill);
	RESOLVE(pthread_sigqueue);
	RESOLVE(pthread_setname_np);
	RESOLVE(pthread_getname_np);
	RESOLVE(dlopen);
	RESOLVE(dlmopen);
	RESOLVE(sigaction);
	RESOLVE(system);
	RESOLVE(signal);
	RESOLVE(pclose);
	RESOLVE(pthread_mutex_lock);
	RESOLVE(pthread_mutex_trylock);
	RESOLVE(pthread_mutex_timedlock);
	RESOLVE(pthread_mutex_clocklock);
	RESOLVE(pthread_mutex_unlock);
	RESOLVE(pthread_cond_wait);
	RESOLVE(pthread_cond_timedwait);
	RESOLVE(pthread_cond_clockwait);
	RESOLVE(pthread_cond_signal);
	RESOLVE(pthread_cond_broadcast);
	RESOLVE(pthread_cond_destroy);
	RESOLVE(pthread_rwlock_rdlock);
	RESOLVE(pthread_rwlock_tryrdlock);
	RESOLVE(pthread_rwlock_timedrdlock);
	RESOLVE(pthread_rwlock_clockrdlock);
	RESOLVE(pthread_rwlock_wrlock);
	RESOLVE(pthread_rwlock_trywrlock);
	RESOLVE(pthread_rwlock_timedwrlock);
	RESOLVE(pthread_rwlock_clockwrlock);
	RESOLVE(pthread_rwlock_unlock);
	RESOLVE(pthread_barrier_init);
	RESOLVE(pthread_barrier_wait);
	RESOLVE(pthread_barrier_destroy);
	RESOLVE(clock_gettime);
	RESOLVE(clock_getres);
	RESOLVE(sem_wait);
	RESOLVE(sem_timedwait);
	RESOLVE(sem_clockwait);
	RESOLVE(sem_trywait);
	RESOLVE(sem_post);
	RESOLVE(sem_getvalue);

}
