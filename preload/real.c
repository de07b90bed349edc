#include <dlfcn.h>

#include "preload/real.h"
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
}
