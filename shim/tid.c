/* Thread identity: every G has one tid, stable and unique, whatever kernel
 * thread runs it (docs/ARCHITECTURE.md, "Thread identity"): the fake tid in
 * its TCB (G5; G1 keeps the kernel's, the pid).  gettid() and
 * syscall(SYS_gettid) return it, and the calls that take a tid act on the G
 * it names, as natively on the thread: tgkill/tkill deliver to it (as
 * pthread_kill), sched_{get,set}affinity, pthread_{get,set}affinity_np,
 * sched_{get,set}scheduler, sched_{get,set}param and {get,set}priority
 * (PRIO_PROCESS) read and set its attributes as pthread_setschedparam and
 * pthread_setaffinity_np do (a real-time policy and a locked G's mask are
 * its kernel thread's; nice is recorded only).  A tid that names no G (a kernel thread goro did not make, another
 * process's) goes to the kernel. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sched/runtime.h"
#include "sched/sys.h"
#include "shim/shim.h"

/* The live G whose tid is tid (0: the caller), or NULL. */
struct g *goro__g_of_tid(long tid)
{
	if (!goro__started || tid < 0)
		return NULL;
	if (tid == 0)
		return getg();
	struct g *found = NULL;
	goro__lock(&goro__allglock);
	for (struct g *gp = goro__allgs; gp && !found; gp = gp->alllink) {
		int st = a_load_acq(&gp->status);
		if (gp->tid == tid && st != G_IDLE && st != G_DEAD)
			found = gp;
	}
	goro__unlock(&goro__allglock);
	return found;
}

static int fail(int err)
{
	errno = err;
	return -1;
}

GORO_EXPORT pid_t gettid(void) { return goro__started ? getg()->tid : (pid_t)goro__sys0(SYS_gettid); }

/* syscall(SYS_set_tid_address, p): the thread's tid, and p is cleared and
 * woken when the thread ends (goro__goexit), as the kernel does for its
 * own threads.  The kernel thread's own setting stays nptl's. */
long goro__set_tid_address(int *p)
{
	if (!goro__started)
		return goro__sys1(SYS_set_tid_address, p);
	struct g *gp = getg();
	gp->cleartid = p;
	gp->cleartid_set = true;
	return gp->tid;
}

/* syscall(SYS_set_robust_list / SYS_get_robust_list): the list the kernel
 * walks at a thread's exit is the G's, walked at its end
 * (goro__tls_robust_release); by default glibc's head in the G's TCB, as
 * nptl registers it.  Registering it on the M would leave the M pointing
 * into the G's memory after the G ended (stress-ng registers a copy on
 * its stack). */
long goro__robust_list(long nr, long a, long b, long c)
{
	if (!goro__started)
		return goro__sys3(nr, a, b, c);
	if (nr == SYS_set_robust_list) {
		if ((size_t)b != 3 * sizeof(void *)) /* struct robust_list_head */
			return -EINVAL;
		getg()->robust = (void *)a;
		return 0;
	}
	struct g *gp = a == 0 ? getg() : goro__g_of_tid(a);
	if (!gp)
		return goro__sys3(nr, a, b, c);
	void *head = gp->robust ? gp->robust : goro__tls_robust_head(gp->tp);
	*(void **)b = head;
	*(size_t *)c = 3 * sizeof(void *);
	return 0;
}

/* prctl(2): the per-thread settings of a G, not of the M it runs on. */
GORO_EXPORT int prctl(int option, ...)
{
	va_list ap;
	va_start(ap, option);
	unsigned long a2 = va_arg(ap, unsigned long), a3 = va_arg(ap, unsigned long);
	unsigned long a4 = va_arg(ap, unsigned long), a5 = va_arg(ap, unsigned long);
	va_end(ap);
	struct g *gp = goro__started ? getg() : NULL;
	if (gp && !gp->nop) {
		switch (option) {
		case PR_GET_TID_ADDRESS: /* nptl's: the tid word in the TCB */
			*(int **)a2 = gp->cleartid_set ? gp->cleartid : goro__tls_tid_word(gp->tp);
			return 0;
		case PR_SET_NAME:
			return goro__setname(gp, (const char *)a2, true);
		case PR_SET_TIMERSLACK: /* the G's, applied to its kernel calls (goro__slack_g) */
			gp->timerslack = a2;
			return 0;
		case PR_GET_TIMERSLACK:
			return (int)(gp->timerslack ? gp->timerslack : goro__timerslack0);
		case PR_GET_NAME:
			if (gp->name[0]) {
				memcpy((char *)a2, gp->name, sizeof gp->name);
				return 0;
			}
			break; /* never named: its creator's, which the kernel thread has */
		default:
			break;
		}
	}
	return (int)goro__sys_ret(goro__sys6(SYS_prctl, option, (long)a2, (long)a3, (long)a4, (long)a5, 0));
}

GORO_EXPORT int tgkill(pid_t tgid, pid_t tid, int sig)
{
	struct g *gp = tid > 0 && tgid == goro__sys0(SYS_getpid) ? goro__g_of_tid(tid) : NULL;
	if (!gp)
		return (int)goro__sys_ret(goro__sys3(SYS_tgkill, tgid, tid, sig));
	if (sig < 0 || sig >= 64)
		return fail(EINVAL);
	int err = sig ? goro__sig_send(gp, sig, NULL) : 0;
	return err ? fail(err) : 0;
}

/* ---- CPU affinity ------------------------------------------------------------- */

/* gp's mask into set as the system call reports a thread's: the bytes
 * written, or -errno. */
static long get_affinity_raw(struct g *gp, size_t size, cpu_set_t *set)
{
	long r = goro__sys3(SYS_sched_getaffinity, 0, size > INT_MAX ? INT_MAX : size, set);
	if (r >= 0 && gp->affinity_set)
		memcpy(set, &gp->affinity, (size_t)r < sizeof gp->affinity ? (size_t)r : sizeof gp->affinity);
	return r;
}

/* The same, the rest of size zeroed, as glibc's: 0 or an errno value. */
static int get_affinity(struct g *gp, size_t size, cpu_set_t *set)
{
	long r = get_affinity_raw(gp, size, set);
	if (r < 0)
		return (int)-r;
	memset((char *)set + r, 0, size - (size_t)r);
	return 0;
}

/* syscall(SYS_sched_getaffinity, tid, size, set): the G's mask. */
long goro__getaffinity_syscall(long tid, long size, long set)
{
	struct g *gp = goro__g_of_tid(tid);
	long r = gp ? get_affinity_raw(gp, (size_t)size, (cpu_set_t *)set) : goro__sys3(SYS_sched_getaffinity, tid, size, set);
	return goro__sys_ret(r);
}

/* Natively the mask the thread gets is the request within the CPUs the
 * process may use: EINVAL when none is left. */
static int set_affinity(struct g *gp, size_t size, const cpu_set_t *set)
{
	cpu_set_t allowed, want;
	long r = goro__sys3(SYS_sched_getaffinity, 0, sizeof allowed, &allowed);
	if (r < 0)
		return (int)-r;
	CPU_ZERO(&want);
	memcpy(&want, set, size < sizeof want ? size : sizeof want);
	CPU_AND(&want, &want, &allowed);
	if (CPU_COUNT(&want) == 0)
		return EINVAL;
	gp->affinity = want;
	gp->affinity_set = true;
	/* The calling thread's own mask also binds its kernel thread, which
	 * it keeps from now on (as a thread created with an affinity does):
	 * the kernel then honours it, and an exec keeps it (taskset).  So
	 * does a locked G's M (a real-time G's: the kernel places it). */
	if (gp == getg())
		goro__lockosthread();
	return goro__sched_apply(gp);
}

GORO_EXPORT int sched_getaffinity(pid_t pid, size_t size, cpu_set_t *set)
{
	struct g *gp = goro__g_of_tid(pid);
	if (!gp) {
		long r = goro__sys3(SYS_sched_getaffinity, pid, size > INT_MAX ? INT_MAX : size, set);
		if (r < 0)
			return fail((int)-r);
		memset((char *)set + r, 0, size - (size_t)r);
		return 0;
	}
	int err = get_affinity(gp, size, set);
	return err ? fail(err) : 0;
}

GORO_EXPORT int sched_setaffinity(pid_t pid, size_t size, const cpu_set_t *set)
{
	struct g *gp = goro__g_of_tid(pid);
	if (!gp)
		return (int)goro__sys_ret(goro__sys3(SYS_sched_setaffinity, pid, size, set));
	int err = set_affinity(gp, size, set);
	return err ? fail(err) : 0;
}

/* Before goro has started (a library constructor: libgomp counts the CPUs
 * it may use there) the only thread is the caller's own kernel thread. */
GORO_EXPORT int pthread_getaffinity_np(pthread_t t, size_t size, cpu_set_t *set)
{
	if (!goro__started) {
		long r = goro__sys3(SYS_sched_getaffinity, 0, size > INT_MAX ? INT_MAX : size, set);
		if (r < 0)
			return (int)-r;
		memset((char *)set + r, 0, size - (size_t)r);
		return 0;
	}
	struct g *gp = goro__g_of(t);
	return gp ? get_affinity(gp, size, set) : ESRCH;
}

GORO_EXPORT int pthread_setaffinity_np(pthread_t t, size_t size, const cpu_set_t *set)
{
	if (!goro__started)
		return (int)-goro__sys3(SYS_sched_setaffinity, 0, size, set);
	struct g *gp = goro__g_of(t);
	return gp ? set_affinity(gp, size, set) : ESRCH;
}

/* ---- scheduling policy and nice ------------------------------------------------- */

/* Whether policy/prio may be set, as the kernel decides for an
 * unprivileged thread (RLIMIT_RTPRIO); 0 or an errno value. */
int goro__sched_check(int policy, const struct sched_param *sp)
{
	if (!sp)
		return EINVAL;
	int lo = sched_get_priority_min(policy), hi = sched_get_priority_max(policy);
	if (lo < 0 || sp->sched_priority < lo || sp->sched_priority > hi)
		return EINVAL;
	if ((policy == SCHED_FIFO || policy == SCHED_RR) && goro__sys0(SYS_geteuid) != 0) {
		struct rlimit rl;
		if (getrlimit(RLIMIT_RTPRIO, &rl) != 0 || (rlim_t)sp->sched_priority > rl.rlim_cur)
			return EPERM;
	}
	return 0;
}

GORO_EXPORT int sched_getscheduler(pid_t pid)
{
	struct g *gp = goro__g_of_tid(pid);
	return gp ? gp->sched_policy : (int)goro__sys_ret(goro__sys1(SYS_sched_getscheduler, pid));
}

/* sched_setscheduler, or sched_setparam (keep: the G's own policy stays). */
static int set_sched(struct g *gp, bool keep, int policy, const struct sched_param *sp)
{
	int base = keep ? gp->sched_policy : policy & ~SCHED_RESET_ON_FORK, err = goro__sched_check(base, sp);
	if (!err)
		err = goro__setsched(gp, base, sp->sched_priority);
	return err ? fail(err) : 0;
}

GORO_EXPORT int sched_setscheduler(pid_t pid, int policy, const struct sched_param *sp)
{
	struct g *gp = goro__g_of_tid(pid);
	return gp ? set_sched(gp, false, policy, sp) : (int)goro__sys_ret(goro__sys3(SYS_sched_setscheduler, pid, policy, sp));
}

GORO_EXPORT int sched_getparam(pid_t pid, struct sched_param *sp)
{
	struct g *gp = goro__g_of_tid(pid);
	if (!gp)
		return (int)goro__sys_ret(goro__sys2(SYS_sched_getparam, pid, sp));
	if (!sp)
		return fail(EINVAL);
	sp->sched_priority = gp->sched_prio;
	return 0;
}

GORO_EXPORT int sched_setparam(pid_t pid, const struct sched_param *sp)
{
	struct g *gp = goro__g_of_tid(pid);
	return gp ? set_sched(gp, true, 0, sp) : (int)goro__sys_ret(goro__sys2(SYS_sched_setparam, pid, sp));
}

/* PRIO_PROCESS with a thread's tid (0: the calling thread) is that
 * thread's nice on Linux. */
static struct g *prio_g(int which, id_t who) { return which == PRIO_PROCESS ? goro__g_of_tid((long)who) : NULL; }

/* gp's nice: recorded, else the process's (no M's nice is ever changed;
 * the system call, which cannot fail for the caller, says 20 - nice). */
static int nice_of(struct g *gp)
{
	if (gp->nice_set)
		return gp->nice;
	long r = goro__sys2(SYS_getpriority, PRIO_PROCESS, 0);
	return r > 0 ? (int)(20 - r) : 0;
}

GORO_EXPORT int getpriority(__priority_which_t which, id_t who)
{
	struct g *gp = prio_g(which, who);
	if (gp)
		return nice_of(gp);
	long r = goro__sys2(SYS_getpriority, which, who);
	return r < 0 ? fail((int)-r) : (int)(20 - r);
}

GORO_EXPORT int setpriority(__priority_which_t which, id_t who, int prio)
{
	struct g *gp = prio_g(which, who);
	if (!gp)
		return (int)goro__sys_ret(goro__sys3(SYS_setpriority, which, who, prio));
	prio = prio < -20 ? -20 : prio > 19 ? 19 : prio;
	int cur = nice_of(gp);
	struct rlimit rl;
	/* lowering nice below RLIMIT_NICE (20 - rlim) needs privilege */
	if (prio < cur && goro__sys0(SYS_geteuid) != 0 &&
	    (getrlimit(RLIMIT_NICE, &rl) != 0 || (rlim_t)(20 - prio) > rl.rlim_cur))
		return fail(EACCES);
	gp->nice = prio;
	gp->nice_set = true;
	return 0;
}
