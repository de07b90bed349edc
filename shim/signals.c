/* Signals to a thread and per-thread signal state: pthread_kill,
 * pthread_sigqueue, the signal mask, sigpending, and the calls that wait
 * for a signal.  Recording and delivery are the runtime's (sched/sigsend.c). */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "sched/real.h"
#include "sched/runtime.h"
#include "sched/sys.h"
#include "shim/shim.h"

static int send_to_thread(pthread_t t, int sig, const union sigval *val)
{
	struct g *gp = goro__g_of(t);
	if (!gp)
		return ESRCH;
	if (sig < 0 || sig >= 64)
		return EINVAL;
	if (sig == 0)
		return 0;
	return goro__sig_send(gp, sig, val);
}

GORO_EXPORT int pthread_kill(pthread_t t, int sig) { return send_to_thread(t, sig, NULL); }

GORO_EXPORT int pthread_sigqueue(pthread_t t, int sig, const union sigval val)
{
	return send_to_thread(t, sig, &val);
}

/* ---- per-G signal masks ------------------------------------------------- */

#define UNBLOCKABLE (GORO_SIGBIT(SIGKILL) | GORO_SIGBIT(SIGSTOP))

static int setmask(int how, const sigset_t *set, sigset_t *oldset)
{
	struct g *gp = getg();
	uint64_t old = gp->sigmask;
	if (set) {
		uint64_t s = *(const uint64_t *)set, n;
		switch (how) {
		case SIG_BLOCK: n = old | s; break;
		case SIG_UNBLOCK: n = old & ~s; break;
		case SIG_SETMASK: n = s; break;
		default: return EINVAL;
		}
		n &= ~UNBLOCKABLE;
		gp->sigmask = n;
		if (goro__started)
			goro__sig_unblocked(old & ~n);
	}
	if (oldset) {
		/* Keep the kernel's words beyond the first (realtime 65+: none
		 * on x86_64's 64 signals) as the kernel reports them. */
		sigemptyset(oldset);
		*(uint64_t *)oldset = old;
	}
	if (set && gp->m && goro__started) {
		goro__sigmask_apply(gp->m, gp->sigmask);
		if (a_load_rlx(&gp->sigpending))
			goro__sig_deliver(gp);
	} else if (set) {
		goro__sys4(SYS_rt_sigprocmask, SIG_SETMASK, &gp->sigmask, NULL, 8);
	}
	return 0;
}

GORO_EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *oldset)
{
	return setmask(how, set, oldset);
}

GORO_EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *oldset)
{
	int e = setmask(how, set, oldset);
	if (e) {
		errno = e;
		return -1;
	}
	return 0;
}

/* Pending for the thread: the kernel's (process + this M) and the ones
 * recorded for the G while it blocks them. */
GORO_EXPORT int sigpending(sigset_t *set)
{
	long r = goro__sys2(SYS_rt_sigpending, set, 8);
	if (r < 0)
		return (int)goro__sys_ret(r);
	uint64_t g = a_load_rlx(&getg()->sigpending);
	for (int sig = 1; sig < 64; sig++)
		if (g & (1ULL << sig))
			sigaddset(set, sig);
	return 0;
}

/* ---- waiting for a signal ------------------------------------------------ */

GORO_EXPORT int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *ts)
{
	GORO_CANCEL_POINT();
	return (int)goro__blocking6(SYS_rt_sigtimedwait, (long)set, (long)info, (long)ts, 8, 0, 0);
}

GORO_EXPORT int sigwaitinfo(const sigset_t *set, siginfo_t *info) { return sigtimedwait(set, info, NULL); }

GORO_EXPORT int sigwait(const sigset_t *set, int *sig)
{
	siginfo_t si;
	int r;
	do
		r = sigtimedwait(set, &si, NULL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno;
	*sig = r;
	return 0;
}

/* open of a FIFO blocks until the other end opens. */

/* sigsuspend/pause wait in the kernel for a signal to this thread: the
 * M's mask is the G's (idle Ms and sysmon block program signals), so the
 * signal comes here.  The runtime's own signal stays deliverable. */
GORO_EXPORT int sigsuspend(const sigset_t *mask)
{
	GORO_CANCEL_POINT();
	sigset_t m = *mask;
	if (!goro__started)
		return (int)goro__blocking6(SYS_rt_sigsuspend, (long)&m, 8, 0, 0, 0, 0);
	sigdelset(&m, goro__signudge);
	struct g *gp = getg();
	uint64_t wm = *(const uint64_t *)&m;
	uint32_t ran = gp->sigran;
	/* A pthread_kill while the wait runs nudges this M; the nudge raises
	 * what the wait's mask accepts (goro__sig_deliver). */
	gp->suspendmask = wm;
	a_store_rel(&gp->suspending, true);
	long r;
	do {
		/* Signals pthread_kill recorded for this thread that the wait
		 * accepts: kernel-pending now, so the wait takes them. */
		goro__sig_raise_pending(gp, wm);
		r = goro__blocking6(SYS_rt_sigsuspend, (long)&m, 8, 0, 0, 0, 0);
		/* Natively only a handler of the program ends the wait: the
		 * runtime's nudge alone waits again. */
	} while (gp->sigran == ran);
	a_store_rlx(&gp->suspending, false);
	return (int)r;
}

GORO_EXPORT int pause(void)
{
	sigset_t cur;
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	return sigsuspend(&cur);
}

/* ---- handlers ------------------------------------------------------------- */

/* The program's handlers run behind the runtime's trampoline; sigaction
 * shows the program its own (sched/signal.c goro__sigaction). */
GORO_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	return goro__sigaction(sig, act, old);
}

GORO_EXPORT __sighandler_t signal(int sig, __sighandler_t h)
{
	if (!goro__started)
		return goro__real.signal(sig, h);
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = h;
	sa.sa_flags = SA_RESTART; /* BSD semantics, as glibc's signal() */
	if (goro__sigaction(sig, &sa, &old) != 0)
		return SIG_ERR;
	return old.sa_handler;
}
