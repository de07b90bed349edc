/* pthread lifecycle: create, join, detach, self, equal, attributes of a
 * running thread, names, yield.  Each function keeps glibc's return values
 * (POSIX errors as return values, errno untouched). */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
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

/* Some CPUs but not all of them.  By words: CPU_COUNT counts every set
 * bit one at a time in glibc 2.36, 2 x 1024 steps for the all-set mask of
 * an attr without affinity, a third of pthread_create's time (bench/scale.c). */
static bool affinity_asked(const cpu_set_t *s)
{
	bool any = false, all = true;
	for (size_t i = 0; i < sizeof s->__bits / sizeof s->__bits[0]; i++) {
		any |= s->__bits[i] != 0;
		all &= s->__bits[i] == ~(__cpu_mask)0;
	}
	return any && !all;
}

GORO_EXPORT int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
			       void *(*fn)(void *), void *arg)
{
	goro__ensure_init();
	goro__coop(); /* a preemption point: sysmon may have asked this G to yield */
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
	bool affinity = attr && pthread_attr_getaffinity_np(attr, sizeof cpus, &cpus) == 0 && affinity_asked(&cpus);
	bool explicit = inherit == PTHREAD_EXPLICIT_SCHED;
	/* nptl applies explicit attributes before the thread runs and fails
	 * the create with their error (EPERM without the privilege). */
	int err = explicit ? goro__sched_check(policy, &sp) : 0;
	if (err)
		return err;
	struct goro_newg ng = {
		.fn = fn, .arg = arg, .stacksize = stacksize, .guard = guard,
		.ustack = ustack, .ustacksize = usize, .detached = detach == PTHREAD_CREATE_DETACHED,
		.wantlock = locked_by_config(fn) || affinity ||
			    (explicit && (policy == SCHED_FIFO || policy == SCHED_RR)),
		.sched_explicit = explicit, .sched_policy = policy, .sched_prio = sp.sched_priority,
		.affinity_set = affinity, .affinity = cpus,
		.out = thread,
	};
	return goro__newproc(&ng, &err) ? 0 : err;
}

static bool not_exited(void *addr, void *arg)
{
	return a_load_acq((_Atomic uint32_t *)addr) == 0;
}

/* The G that t names while its thread lives or waits to be joined, else
 * NULL; *gone says t named a G that was joined or freed since: its TCB is
 * pooled (status G_IDLE on a free list) until a pthread_create reuses it,
 * as glibc keeps a joined descriptor in its stack cache with tid -1
 * (nptl/pthread_join_common.c).  A reused one names the new thread, as
 * glibc's reused descriptor does. */
struct g *goro__g_live(pthread_t t, bool *gone)
{
	struct g *gp = goro__g_of(t);
	bool idle = gp && a_load_acq(&gp->status) == G_IDLE;
	if (gone)
		*gone = idle;
	return idle ? NULL : gp;
}

/* Join gp: EINVAL when it is detached, ESRCH when another joiner took it
 * meanwhile.  glibc 2.36's joinid claim never fails (its compare-exchange
 * in nptl/pthread_join_common.c expects the joiner, not NULL), so several
 * joiners all wait and all get the result: goro counts them and the last
 * one frees the G. */
static int join_claim(struct g *gp)
{
	goro__spin_lock(&gp->lock);
	int e = gp->njoin < 0 ? ESRCH : gp->detached ? EINVAL : 0;
	if (!e)
		gp->njoin++;
	goro__spin_unlock(&gp->lock);
	return e;
}

/* Leave gp's joiners; true for the last one after the exit (it frees). */
static bool join_unclaim(struct g *gp)
{
	goro__spin_lock(&gp->lock);
	bool last = --gp->njoin == 0 && a_load_acq(&gp->exited) != 0;
	if (last)
		gp->njoin = -1;
	goro__spin_unlock(&gp->lock);
	return last;
}

/* Wait for the claimed gp to exit: 0, EBUSY (deadline 0), ETIMEDOUT;
 * a cancel unclaims first, as glibc's cleanup handler does. */
static int join_wait(struct g *gp, int64_t deadline, bool cancelable)
{
	while (a_load_acq(&gp->exited) == 0) {
		if (deadline == 0)
			return EBUSY;
		enum goro_wake w = goro__addrpark((void *)&gp->exited, not_exited, NULL,
						  "pthread_join", deadline, cancelable);
		if (w == GORO_WAKE_INTERRUPTED && goro__cancel_requested(getg())) {
			if (join_unclaim(gp))
				goro__gfree(gp);
			goro__testcancel();
		} else if (w == GORO_WAKE_TIMEOUT && a_load_acq(&gp->exited) == 0) {
			return ETIMEDOUT;
		}
	}
	return 0;
}

/* Shared by the join family.  deadline < 0: wait forever; 0: don't wait.
 * Cancellation point when cancelable.  Exactly one joiner frees the G;
 * a stale id says ESRCH (tryjoin: EBUSY, glibc's tid test comes first). */
static int join(pthread_t t, void **ret, int64_t deadline, bool cancelable)
{
	bool gone;
	struct g *self = getg(), *gp = goro__g_live(t, &gone);
	if (!gp && !gone && deadline < 0) /* a thread goro did not make (sched/foreign.c): glibc's join */
		return goro__blocking_real(goro__real.pthread_join(t, ret));
	if (!gp)
		return gone && deadline == 0 ? EBUSY : ESRCH;
	if (gp == self)
		return EDEADLK;
	if (deadline == 0 && a_load_acq(&gp->exited) == 0)
		return EBUSY;
	if (cancelable)
		goro__testcancel();
	int e = join_claim(gp);
	if (e)
		return e;
	e = join_wait(gp, deadline, cancelable);
	if (!e && ret)
		*ret = gp->result;
	if (join_unclaim(gp))
		goro__gfree(gp);
	return e;
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

/* EINVAL when already detached; 0 and nothing more while a thread joins
 * it: the joiners free it (nptl/pthread_detach.c, whose free is guarded by
 * TERMINATED_BIT when a joiner also frees). */
GORO_EXPORT int pthread_detach(pthread_t t)
{
	struct g *gp = goro__g_live(t, NULL);
	if (!gp)
		return ESRCH;
	goro__spin_lock(&gp->lock);
	if (gp->detached || gp->njoin != 0) {
		int e = gp->detached ? EINVAL : gp->njoin < 0 ? ESRCH : 0;
		goro__spin_unlock(&gp->lock);
		return e;
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
	struct g *gp = goro__g_live(t, NULL);
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
	struct g *gp = goro__g_live(t, NULL);
	if (!gp)
		return ESRCH;
	*policy = gp->sched_policy;
	param->sched_priority = gp->sched_prio;
	return 0;
}

/* Record gp's policy and apply it to its kernel thread: a locked G's M
 * at once (goro__sched_apply); a real-time policy locks the caller itself
 * now, another G at its next run.  A real-time caller then runs on
 * kernel-scheduled, without a P; one that drops it takes a P again
 * (docs/ARCHITECTURE.md, "Real-time threads run kernel-scheduled").
 * EINVAL for a priority outside the policy's range, as
 * sched_setscheduler; its errno otherwise. */
int goro__setsched(struct g *gp, int policy, int prio)
{
	int lo = sched_get_priority_min(policy), hi = sched_get_priority_max(policy);
	if (lo < 0 || prio < lo || prio > hi)
		return EINVAL;
	bool rt = policy == SCHED_FIFO || policy == SCHED_RR;
	int oldpolicy = gp->sched_policy, oldprio = gp->sched_prio;
	gp->sched_policy = policy;
	gp->sched_prio = prio;
	if (rt && gp == getg())
		goro__lockosthread();
	int e = goro__sched_apply(gp);
	if (e) {
		gp->sched_policy = oldpolicy;
		gp->sched_prio = oldprio;
		return e;
	}
	if (rt && !gp->lockedm)
		gp->wantlock = true;
	if (gp == getg() && rt)
		goro__ksched_enter();
	else if (gp == getg())
		goro__ksched_leave();
	return 0;
}

GORO_EXPORT int pthread_setschedparam(pthread_t t, int policy, const struct sched_param *param)
{
	struct g *gp = goro__g_live(t, NULL);
	if (!gp)
		return ESRCH;
	return goro__setsched(gp, policy, param->sched_priority);
}

/* glibc's uses the kernel tid (ESRCH for a G's fake one, G15). */
GORO_EXPORT int pthread_setschedprio(pthread_t t, int prio)
{
	struct g *gp = goro__g_live(t, NULL);
	if (!gp)
		return ESRCH;
	return goro__setsched(gp, gp->sched_policy, prio);
}

/* A thread's name (comm): kept in the G.  The main thread's is also the
 * process's (ps, pkill), so G1's goes to the main kernel thread too.
 * truncate: prctl(PR_SET_NAME) cuts it to 15 bytes; pthread_setname_np
 * refuses a longer one (ERANGE). */
int goro__setname(struct g *gp, const char *name, bool truncate)
{
	size_t n = strnlen(name, sizeof gp->name);
	if (n >= sizeof gp->name) {
		if (!truncate)
			return ERANGE;
		n = sizeof gp->name - 1;
	}
	memcpy(gp->name, name, n);
	gp->name[n] = 0;
	if (gp == &goro__g1) {
		char path[64];
		long pid = goro__sys0(SYS_getpid);
		(void)snprintf(path, sizeof path, "/proc/self/task/%ld/comm", pid);
		long fd = goro__sys3(SYS_open, (long)path, O_WRONLY | O_CLOEXEC, 0);
		if (fd >= 0) {
			goro__sys3(SYS_write, fd, (long)gp->name, (long)n);
			goro__sys1(SYS_close, fd);
		}
	}
	return 0;
}

GORO_EXPORT int pthread_setname_np(pthread_t t, const char *name)
{
	struct g *gp = goro__g_live(t, NULL);
	return gp ? goro__setname(gp, name, false) : ESRCH;
}

GORO_EXPORT int pthread_getname_np(pthread_t t, char *buf, size_t len)
{
	struct g *gp = goro__g_live(t, NULL);
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


