/* pthread lifecycle: create, join, detach, self, equal, attributes of a
 * running thread, names, yield.  Each function keeps glibc's return values
 * (POSIX errors as return values, errno untouched). */
#include <dlfcn.h>
#include <errno.h>
#include <fnmatch.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include "goro.h"
#include "sched/real.h"
#include "sched/runtime.h"
#include "sched/sys.h"
#include "shim/shim.h"


/* GORO_LOCKED=glob[,glob]: threads whose start routine's symbol matches
 * run locked, each on its own M. */
static bool locked_by_config(void *(*fn)(void *))
{
	const char *pat = goro__cfg.locked;
	Dl_info di;
	if (!pat || !*pat || !dladdr((void *)fn, &di) || !di.dli_sname)
		return false;
	char one[256];
	while (*pat) {
		size_t n = strcspn(pat, ",");
		if (n < sizeof one) {
			memcpy(one, pat, n);
			one[n] = 0;
			if (fnmatch(one, di.dli_sname, 0) == 0)
				return true;
		}
		pat += n + (pat[n] == ',');
	}
	return false;
}

GORO_EXPORT int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
			       void *(*fn)(void *), void *arg)
{
	goro__ensure_init();
	size_t stacksize = goro__default_stack, guard = 4096, usize = 0;
	void *ustack = NULL;
	int detach = PTHREAD_CREATE_JOINABLE;
	if (attr) {
		size_t sz = 0, defsz = 0;
		pthread_attr_t def;
		pthread_attr_getdetachstate(attr, &detach);
		pthread_attr_getguardsize(attr, &guard);
		pthread_attr_getstacksize(attr, &sz);
		/* An attr whose size was never set reports nptl's default:
		 * then GORO_STACK (goro__default_stack) applies instead. */
		if (pthread_getattr_default_np(&def) == 0) {
			pthread_attr_getstacksize(&def, &defsz);
			goro__real.pthread_attr_destroy(&def);
		}
		if (sz && sz != defsz)
			stacksize = sz;
		/* glibc's getstack reports the stored top minus the size: a top
		 * never set (NULL) comes back as exactly -size
		 * (nptl/pthread_attr_getstack.c). */
		void *lo = NULL;
		size_t ssz = 0;
		if (pthread_attr_getstack(attr, &lo, &ssz) == 0 && (uintptr_t)lo + ssz != 0) {
			usize = ssz;
			ustack = lo;
		}
	}
	int inherit = PTHREAD_INHERIT_SCHED, policy = SCHED_OTHER;
	struct sched_param sp = { 0 };
	if (attr) {
		pthread_attr_getinheritsched(attr, &inherit);
		pthread_attr_getschedpolicy(attr, &policy);
		pthread_attr_getschedparam(attr, &sp);
	}
	/* An explicit real-time policy or a CPU affinity asks for a kernel
	 * thread of its own: such a thread runs locked.  The scheduling
	 * attributes are recorded (getschedparam, getattr_np); goro runs
	 * every G under the same scheduler. */
	cpu_set_t cpus;
	CPU_ZERO(&cpus);
	/* glibc reports every CPU (all bits set) for an attr whose affinity was
	 * never set (nptl/pthread_attr_getaffinity.c): that is not a request. */
	bool affinity = attr && pthread_attr_getaffinity_np(attr, sizeof cpus, &cpus) == 0 &&
			CPU_COUNT(&cpus) > 0 && CPU_COUNT(&cpus) < CPU_SETSIZE;
	bool explicit = inherit == PTHREAD_EXPLICIT_SCHED;
	struct goro_newg ng = {
		.fn = fn, .arg = arg, .stacksize = stacksize, .guard = guard,
		.ustack = ustack, .ustacksize = usize, .detached = detach == PTHREAD_CREATE_DETACHED,
		.wantlock = locked_by_config(fn) || affinity ||
			    (explicit && (policy == SCHED_FIFO || policy == SCHED_RR)),
		.sched_explicit = explicit, .sched_policy = policy, .sched_prio = sp.sched_priority,
		.out = thread,
	};
	int err = 0;
	return goro__newproc(&ng, &err) ? 0 : err;
}

static bool not_exited(void *addr, void *arg)
{
	return a_load_acq((_Atomic uint32_t *)addr) == 0;
}

/* Shared by the join family.  deadline < 0: wait forever; 0: don't wait.
 * Cancellation point when cancelable. */
static int join(pthread_t t, void **ret, int64_t deadline, bool cancelable)
{
	struct g *self = getg(), *gp = goro__g_of(t);
	if (!gp) /* a thread goro did not make (sched/foreign.c): glibc's join */
		return deadline < 0 ? goro__blocking_real(goro__real.pthread_join(t, ret)) : ESRCH;
	if (gp == self)
		return EDEADLK;
	if (gp->detached)
		return EINVAL;
	if (cancelable)
		goro__testcancel();
	while (a_load_acq(&gp->exited) == 0) {
		if (deadline == 0)
			return EBUSY;
		enum goro_wake w = goro__addrpark((void *)&gp->exited, not_exited, NULL,
						  "pthread_join", deadline, cancelable);
		if (w == GORO_WAKE_INTERRUPTED)
			goro__testcancel();
		else if (w == GORO_WAKE_TIMEOUT && a_load_acq(&gp->exited) == 0)
			return ETIMEDOUT;
	}
	if (ret)
		*ret = gp->result;
	goro__gfree(gp);
	return 0;
}

GORO_EXPORT int pthread_join(pthread_t t, void **ret) { return join(t, ret, -1, true); }

GORO_EXPORT int pthread_tryjoin_np(pthread_t t, void **ret) { return join(t, ret, 0, false); }

GORO_EXPORT int pthread_clockjoin_np(pthread_t t, void **ret, clockid_t clk, const struct timespec *abstime)
{
	if (!abstime)
		return join(t, ret, -1, true);
	int64_t d;
	int e = goro__abs_deadline(clk, abstime, &d);
	if (e)
		return e;
	return join(t, ret, d, true);
}

GORO_EXPORT int pthread_timedjoin_np(pthread_t t, void **ret, const struct timespec *abstime)
{
	return pthread_clockjoin_np(t, ret, CLOCK_REALTIME, abstime);
}

GORO_EXPORT int pthread_detach(pthread_t t)
{
	struct g *gp = goro__g_of(t);
	if (!gp)
		return ESRCH;
	goro__spin_lock(&gp->lock);
	if (gp->detached) {
		goro__spin_unlock(&gp->lock);
		return EINVAL;
	}
	gp->detached = true;
	bool done = a_load_acq(&gp->exited) != 0;
	goro__spin_unlock(&gp->lock);
	if (done)
		goro__gfree(gp);
	return 0;
}

/* Not a preemption point: signal handlers call it wherever they land. */
GORO_EXPORT pthread_t pthread_self(void)
{
	struct g *gp = getg();
	return (pthread_t)(gp->tp ? gp->tp : goro__getfs());
}

GORO_EXPORT int pthread_equal(pthread_t a, pthread_t b) { return a == b; }

GORO_EXPORT int pthread_getattr_np(pthread_t t, pthread_attr_t *attr)
{
	struct g *gp = goro__g_of(t);
	if (!gp || gp == &goro__g1)
		return goro__real.pthread_getattr_np(t, attr); /* main: nptl knows */
	int e = goro__real.pthread_attr_init(attr);
	if (e)
		return e;
	size_t size = (size_t)((char *)gp->stack_hi - (char *)gp->stack_lo);
	goro__real.pthread_attr_setstack(attr, gp->stack_lo, size);
	goro__real.pthread_attr_setguardsize(attr, gp->guardsize);
	goro__real.pthread_attr_setdetachstate(attr, gp->detached ? PTHREAD_CREATE_DETACHED
								  : PTHREAD_CREATE_JOINABLE);
	struct sched_param sp = { .sched_priority = gp->sched_prio };
	pthread_attr_setschedpolicy(attr, gp->sched_policy);
	pthread_attr_setschedparam(attr, &sp);
	return 0;
}

GORO_EXPORT int pthread_getschedparam(pthread_t t, int *policy, struct sched_param *param)
{
	struct g *gp = goro__g_of(t);
	if (!gp)
		return ESRCH;
	*policy = gp->sched_policy;
	param->sched_priority = gp->sched_prio;
	return 0;
}

GORO_EXPORT int pthread_setschedparam(pthread_t t, int policy, const struct sched_param *param)
{
	struct g *gp = goro__g_of(t);
	if (!gp)
		return ESRCH;
	int lo = sched_get_priority_min(policy), hi = sched_get_priority_max(policy);
	if (lo < 0 || param->sched_priority < lo || param->sched_priority > hi)
		return EINVAL;
	gp->sched_policy = policy;
	gp->sched_prio = param->sched_priority;
	return 0;
}

GORO_EXPORT int pthread_setname_np(pthread_t t, const char *name)
{
	struct g *gp = goro__g_of(t);
	if (!gp)
		return ESRCH;
	size_t n = strlen(name);
	if (n >= sizeof gp->name)
		return ERANGE;
	memcpy(gp->name, name, n + 1);
	return 0;
}

GORO_EXPORT int pthread_getname_np(pthread_t t, char *buf, size_t len)
{
	struct g *gp = goro__g_of(t);
	if (!gp)
		return ESRCH;
	size_t n = strlen(gp->name);
	if (len <= n)
		return ERANGE;
	memcpy(buf, gp->name, n + 1);
	return 0;
}

/* sched_yield from a G is Gosched (docs/ARCHITECTURE.md, "Deviations from Go's design"). */
GORO_EXPORT int sched_yield(void)
{
	goro__gosched();
	return 0;
}

/* <pthread.h> redirects pthread_yield to sched_yield; old binaries still
 * import the symbol itself. */
GORO_EXPORT int goro_pthread_yield(void) __asm__("pthread_yield");
int goro_pthread_yield(void) { return sched_yield(); }

/* ---- goro_ API (include/goro.h) ----------------------------------------- */
GORO_EXPORT int goro_active(void) { return goro__started; }
GORO_EXPORT void goro_gosched(void) { goro__gosched(); }
GORO_EXPORT unsigned long goro_goid(void) { return getg()->goid; }
GORO_EXPORT void goro_lock_os_thread(void) { goro__lockosthread(); }
GORO_EXPORT void goro_unlock_os_thread(void) { goro__unlockosthread(); }


