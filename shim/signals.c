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

/* A thread joined or detached-and-exited (its G pooled) is not signalled
 * and the call says 0, as glibc 2.36's exiting test in nptl/pthread_kill.c;
 * its pooled G is not touched (docs/ARCHITECTURE.md, "The life of a G"). */
static int send_to_thread(pthread_t t, int sig, const union sigval *val)
{
	bool gone;
	struct g *gp = goro__g_live(t, &gone);
	if (!gp && !gone)
		return ESRCH;
	if (sig < 0 || sig >= 64)
		return EINVAL;
	if (sig == 0 || gone)
		return 0;
	return goro__sig_send(gp, sig, val);
}

GORO_EXPORT int pthread_kill(pthread_t t, int sig) { return send_to_thread(t, sig, NULL); }

GORO_EXPORT int pthread_sigqueue(pthread_t t, int sig, const union sigval val)
{
	return send_to_thread(t, sig, &val);
}

/* raise: a signal to the calling thread (glibc: pthread_kill of itself),
 * kept with the G while it blocks it. */
GORO_EXPORT int raise(int sig)
{
	if (!goro__started)
		return (int)goro__sys_ret(goro__sys3(SYS_tgkill, goro__sys0(SYS_getpid), goro__gettid(), sig));
	int e = send_to_thread(pthread_self(), sig, NULL);
	if (e) {
		errno = e;
		return -1;
	}
	return 0;
}

/* ---- per-G signal masks ------------------------------------------------- */

#define UNBLOCKABLE (GORO_SIGBIT(SIGKILL) | GORO_SIGBIT(SIGSTOP))

static int setmask(int how, const sigset_t *set, sigset_t *oldset)
{
	struct g *gp = getg();
	if (gp->nhframes) /* handlers left with siglongjmp */
		goro__hframes_prune(gp, (uintptr_t)__builtin_frame_address(0), NULL);
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

/* glibc's sigtimedwait reports a signal sent with tgkill (SI_TKILL:
 * raise, pthread_kill) as SI_USER (docs/ARCHITECTURE.md, glibc-private
 * facts, G30). */
static int fix_code(int r, siginfo_t *info)
{
	if (r > 0 && info && info->si_code == SI_TKILL)
		info->si_code = SI_USER;
	return r;
}

/* Take the lowest signal of `want` (kernel layout) that pthread_kill or
 * pthread_sigqueue recorded for this thread, as the kernel dequeues a
 * thread's pending signals: 0 if none. */
static int take_recorded(struct g *gp, uint64_t want, siginfo_t *info)
{
	uint64_t rec = want << 1, old = a_load_acq(&gp->sigpending), avail;
	int sig;
	do {
		avail = old & rec;
		if (!avail)
			return 0;
		sig = __builtin_ctzll(avail);
	} while (!a_cas(&gp->sigpending, &old, old & ~(1ULL << sig)));
	memset(info, 0, sizeof *info);
	info->si_signo = sig;
	info->si_code = SI_USER; /* a tgkill as sigtimedwait shows it */
	info->si_pid = (pid_t)goro__sys0(SYS_getpid);
	info->si_uid = getuid();
	if (gp->sigqueued & (1ULL << sig)) {
		gp->sigqueued &= ~(1ULL << sig);
		info->si_code = SI_QUEUE;
		info->si_value = gp->sigvalue[sig];
	}
	return sig;
}

/* The kernel waits for a signal (sigtimedwait, sigsuspend) keep the
 * nudge blocked from before their last look at the recorded signals and
 * the cancel flag until the wait itself: a pthread_kill or pthread_cancel
 * in between leaves its nudge pending, and the wait ends at once
 * (sigtimedwait takes it; sigsuspend's mask lets it in).  false: a cancel
 * is pending, nothing was blocked. */
static bool kwait_enter(struct g *gp)
{
	uint64_t nudge = GORO_SIGBIT(goro__signudge);
	goro__sys4(SYS_rt_sigprocmask, SIG_BLOCK, &nudge, NULL, 8);
	a_store_rel(&gp->sigwaitsys, true);
	atomic_thread_fence(memory_order_seq_cst); /* pairs with goro__cancel_kick */
	if (!goro__cancel_requested(gp))
		return true;
	a_store_rlx(&gp->sigwaitsys, false);
	goro__sys4(SYS_rt_sigprocmask, SIG_UNBLOCK, &nudge, NULL, 8);
	return false;
}

/* The wait (P handed off), then the nudge unblocked before the M may run
 * another G; unblocked at once when `skip` (the wait is not needed). */
static long kwait(struct g *gp, bool skip, long nr, long a, long b, long c, long d)
{
	uint64_t nudge = GORO_SIGBIT(goro__signudge);
	long r = 0;
	if (!skip) {
		goro__entersyscall();
		r = goro__sys4(nr, a, b, c, d);
	}
	goro__sys4(SYS_rt_sigprocmask, SIG_UNBLOCK, &nudge, NULL, 8);
	if (!skip)
		goro__exitsyscall();
	a_store_rlx(&gp->sigwaitsys, false);
	return r;
}

/* One round of sigtimedwait: a recorded signal, or the kernel's wait for
 * `want` or the nudge; -ECANCELED when a cancel is pending. */
static long wait_once(struct g *gp, uint64_t want, siginfo_t *info, const struct timespec *ts)
{
	uint64_t set = want | GORO_SIGBIT(goro__signudge);
	if (!kwait_enter(gp))
		return -ECANCELED;
	long r = take_recorded(gp, want, info);
	long w = kwait(gp, r != 0, SYS_rt_sigtimedwait, (long)&set, (long)info, (long)ts, 8);
	return r ? r : w;
}

/* Waits until a signal of the set is pending for the thread: the
 * kernel's (process and this M) or one recorded for the G.  The runtime's
 * nudge ends a round (a pthread_kill or a cancel); only a program handler
 * or the timeout ends the call without a signal.  A cancellation point. */
GORO_EXPORT int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *ts)
{
	GORO_CANCEL_POINT();
	if (!goro__started)
		return fix_code((int)goro__blocking6(SYS_rt_sigtimedwait, (long)set, (long)info, (long)ts, 8, 0, 0),
				info);
	struct g *gp = getg();
	uint64_t want = *(const uint64_t *)set & ~GORO_SIGBIT(goro__signudge);
	siginfo_t mine;
	if (!info)
		info = &mine;
	int64_t deadline = ts ? goro__nanotime() + ts->tv_sec * 1000000000LL + ts->tv_nsec : -1;
	uint32_t ran = gp->sigran;
	for (;;) {
		struct timespec left, *lp = NULL;
		if (ts) {
			int64_t d = deadline - goro__nanotime();
			d = d < 0 ? 0 : d;
			left.tv_sec = d / 1000000000LL;
			left.tv_nsec = d % 1000000000LL;
			lp = &left;
		}
		long r = wait_once(gp, want, info, lp);
		if (r == -ECANCELED)
			goro__testcancel();
		else if (r == goro__signudge)
			goro__nudge_taken(info); /* a cancel, a pthread_kill or set*id */
		else if (r != -EINTR || gp->sigran != ran)
			return fix_code((int)goro__sys_ret(r), info);
	}
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
	do {
		if (!kwait_enter(gp)) {
			a_store_rlx(&gp->suspending, false);
			goro__testcancel();
		}
		/* Signals pthread_kill recorded for this thread that the wait
		 * accepts: kernel-pending now, so the wait takes them (or, when
		 * the thread's own mask lets one in, its handler runs here, as
		 * at the wait's start natively, and there is no wait). */
		goro__sig_raise_pending(gp, wm);
		kwait(gp, gp->sigran != ran, SYS_rt_sigsuspend, (long)&m, 8, 0, 0);
		/* Natively only a handler of the program ends the wait: the
		 * runtime's nudge alone waits again. */
	} while (gp->sigran == ran);
	a_store_rlx(&gp->suspending, false);
	errno = EINTR;
	return -1;
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

/* ---- alternate signal stacks -------------------------------------------- */

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31) /* include/uapi/linux/signal.h */
#endif
#define SS_MODE_MASK 0x7fffffff /* ss_flags without SS_AUTODISARM */
#define SS_ARM_BIT (~SS_MODE_MASK)

/* Natively every thread has an alternate signal stack of its own.  A G moves
 * between Ms, and each M keeps the runtime's (goro__signal_minit): a
 * program's stack handed to the kernel thread would stay there after the G
 * moved on and freed it (stress-ng's and Rust's threads unmap theirs at
 * exit), and the next SA_ONSTACK signal that M takes kills the process.  So
 * a G's setting is kept in the G and reported back as the kernel would; its
 * SA_ONSTACK handlers run on the M's stack.  The kernel still judges a new
 * setting (EINVAL, ENOMEM, EFAULT, EPERM while on it): it is tried on the
 * M, whose own is put back at once. */
long goro__sigaltstack(const stack_t *ss, stack_t *old)
{
	struct g *gp = goro__started ? getg() : NULL;
	if (!gp || gp->nop || !gp->m || !gp->m->altstack)
		return goro__sys2(SYS_sigaltstack, ss, old);
	struct m *mp = gp->m;
	mp->locks++; /* stay on this M until its own stack is back */
	stack_t prev = gp->altstack, mine;
	/* In a handler on the M's stack: natively on the G's own, if it has
	 * one (the kernel, asked here, would say EPERM either way). */
	bool inm = goro__on_sigstack(gp, (uintptr_t)&prev);
	bool on = inm && prev.ss_size;
	long r = 0;
	if (ss) {
		/* The kernel's checks (kernel/signal.c, do_sigaltstack). */
		int mode = ss->ss_flags & SS_MODE_MASK;
		if (on)
			r = -EPERM;
		else if (!inm && (r = goro__sys2(SYS_sigaltstack, ss, &mine)) == 0)
			goro__sys2(SYS_sigaltstack, &mine, NULL);
		else if (inm && mode != 0 && mode != SS_ONSTACK && mode != SS_DISABLE)
			r = -EINVAL;
		else if (inm && mode != SS_DISABLE && ss->ss_size < (size_t)sysconf(_SC_MINSIGSTKSZ))
			r = -ENOMEM;
		if (r == 0) {
			gp->altstack = *ss;
			if (mode == SS_DISABLE)
				gp->altstack = (stack_t){ .ss_flags = ss->ss_flags };
		}
	}
	mp->locks--;
	if (r == 0 && old) {
		*old = prev;
		old->ss_flags = (!prev.ss_size ? SS_DISABLE : on ? SS_ONSTACK : 0) | (prev.ss_flags & SS_ARM_BIT);
	}
	return r;
}

GORO_EXPORT int sigaltstack(const stack_t *ss, stack_t *old)
{
	return (int)goro__sys_ret(goro__sigaltstack(ss, old));
}
