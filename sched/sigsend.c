/* Signals to a G: pthread_kill / pthread_sigqueue record them in the G,
 * and the G takes them inside its own TLS.  A signal for a G must run in
 * that G (its handler may read pthread_self or __thread data).  It is
 * recorded in the G; if the G is running, its M is nudged with the
 * runtime's signal so the handler re-raises it from inside the G;
 * otherwise it is raised when the G next resumes, and a parked G is woken
 * at once to take it (EINTR as natively).  See docs/ARCHITECTURE.md, "The
 * signal path, end to end". */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "sched/runtime.h"
#include "sched/sys.h"

/* Raise sig in the current G through its own kernel thread.  With
 * `defer` (from the nudge's handler) the signal is first blocked in the
 * handler's mask, so the kernel delivers it only at sigreturn, on the G's
 * own stack: a program handler run nested on the M's alternate stack
 * could not park or pthread_exit safely. */
static int raise_here(int sig, const union sigval *val, bool defer)
{
	struct g *gp = getg();
	if (defer) {
		uint64_t b = GORO_SIGBIT(sig);
		goro__sys4(SYS_rt_sigprocmask, SIG_BLOCK, &b, NULL, 8);
	}
	int tid = gp->m ? gp->m->tid : goro__gettid();
	long pid = goro__sys0(SYS_getpid);
	long r;
	int was = gp->raising;
	gp->raising = sig; /* the trampoline runs it here, not elsewhere */
	if (val) {
		siginfo_t si;
		memset(&si, 0, sizeof si);
		si.si_signo = sig;
		si.si_code = SI_QUEUE;
		si.si_pid = (pid_t)pid;
		si.si_uid = getuid();
		si.si_value = *val;
		r = goro__sys4(SYS_rt_tgsigqueueinfo, pid, tid, sig, &si);
	} else {
		r = goro__sys3(SYS_tgkill, pid, tid, sig);
	}
	gp->raising = was;
	if (goro__sig_unwrapped_handler(sig)) { /* the trampoline counts the others */
		gp->sigran++;
		if (!goro__sa_restart(sig))
			gp->sigran_nr++;
	}
	return r < 0 ? (int)-r : 0;
}

static void raise_pending(struct g *gp, uint64_t mask, bool defer);

/* Raise the signals recorded for the current G (runs in the G).  Those
 * the G blocks stay recorded until it unblocks them. */
void goro__sig_deliver(struct g *gp)
{
	/* In sigsuspend the wait's mask is the thread's mask (shim/signals.c). */
	raise_pending(gp, a_load_acq(&gp->suspending) ? gp->suspendmask : gp->sigmask, false);
}

/* `mask` is the one sigreturn installs: a signal it blocks (a sigsuspend
 * interrupted: its wait's mask is gone) stays recorded, never pending on
 * a kernel thread the G may leave before it unblocks it. */
void goro__sig_deliver_at_return(struct g *gp, uint64_t mask) { raise_pending(gp, mask, true); }

void goro__sig_raise_pending(struct g *gp, uint64_t mask) { raise_pending(gp, mask, false); }

static void raise_pending(struct g *gp, uint64_t mask, bool defer)
{
	/* sigpending has bit sig; a kernel sigset has bit sig-1. */
	uint64_t blocked = mask << 1;
	uint64_t set = 0, old = a_load_rlx(&gp->sigpending);
	for (;;) {
		uint64_t deliver = old & ~blocked;
		if (!deliver)
			return;
		if (a_cas(&gp->sigpending, &old, old & ~deliver)) {
			set = deliver;
			break;
		}
	}
	for (int sig = 1; set && sig < 64; sig++) {
		if (set & (1ULL << sig)) {
			set &= ~(1ULL << sig);
			if (gp->sigqueued & (1ULL << sig)) {
				gp->sigqueued &= ~(1ULL << sig);
				union sigval v = gp->sigvalue[sig];
				raise_here(sig, &v, defer);
			} else {
				raise_here(sig, NULL, defer);
			}
		}
	}
}

int goro__sig_send(struct g *gp, int sig, const union sigval *val)
{
	/* To itself: at once, unless it blocks the signal; then it stays
	 * recorded in the G (not pending on this kernel thread, which the G
	 * may leave), as a signal pending for this thread natively. */
	if (gp == getg() && !(gp->sigmask & GORO_SIGBIT(sig)))
		return raise_here(sig, val, false);
	if (val) {
		gp->sigvalue[sig] = *val;
		gp->sigqueued |= 1ULL << sig;
	}
	uint64_t bit = 1ULL << sig;
	a_fetch_add(&gp->sigpending, 0); /* ordering for the value above */
	uint64_t old = a_load_rlx(&gp->sigpending);
	while (!a_cas(&gp->sigpending, &old, old | bit))
		;
	if (gp == getg())
		return 0; /* blocked here: taken when it unblocks or waits */
	if (goro__may_enter_runtime())
		goro__sig_kick(gp);
	else
		goro__sig_kick_later(gp); /* a handler that interrupted the runtime */
	return 0;
}

/* The M gp runs or blocks on now, or NULL: its M read on both sides of
 * its status, so a G that left a system call on one M for another is not
 * nudged on the M it left. */
static struct m *running_on(struct g *gp)
{
	for (;;) {
		struct m *mp = __atomic_load_n(&gp->m, __ATOMIC_ACQUIRE);
		int st = a_load_acq(&gp->status);
		if (__atomic_load_n(&gp->m, __ATOMIC_ACQUIRE) != mp)
			continue;
		return st == G_RUNNING || st == G_SYSCALL ? mp : NULL;
	}
}

void goro__sig_kick(struct g *gp)
{
	/* A G that announced a wait a signal may end (sigwaitable, set
	 * before it looked at its recorded signals) may still be on its way
	 * into park_m with RUNNING status: a nudge would find its M on g0 and
	 * be lost, so it is woken (goro__ready_claimed waits for the park). */
	if (a_load_acq(&gp->sigwaitable) && goro__sig_interrupting(gp) && goro__sig_interrupt(gp))
		return;
	struct m *mp = running_on(gp);
	if (mp)
		/* running, or blocked in the kernel (sigsuspend, a read): the
		 * nudge raises it in the G and ends such a call */
		goro__sys3(SYS_tgkill, goro__sys0(SYS_getpid), mp->tid, goro__signudge);
	else if (goro__sig_interrupting(gp))
		/* parked: EINTR (or SA_RESTART's retry) as natively, or the
		 * handler runs and the wait goes on */
		goro__sig_interrupt(gp);
}

/* From a context that may have interrupted the runtime (locks held):
 * the scheduler or sysmon kicks it at its next pass. */
static struct g *_Atomic kick_later;

void goro__sig_kick_later(struct g *gp)
{
	a_store_rel(&kick_later, gp);
}

void goro__sig_drain(void)
{
	if (!a_load_rlx(&kick_later))
		return;
	struct g *gp = a_swap(&kick_later, NULL);
	if (gp)
		goro__sig_kick(gp);
}

/* ---- per-G signal masks ------------------------------------------------- */

void goro__sigmask_apply(struct m *mp, uint64_t mask)
{
	/* The runtime's nudge stays deliverable on every M. */
	uint64_t k = mask & ~GORO_SIGBIT(goro__signudge);
	/* So does SIGTRAP, which raw call sites raise (sched/rawcall.c): the
	 * kernel kills a thread that has a synchronous signal blocked. */
	k &= ~GORO_SIGBIT(SIGTRAP);
	goro__sys4(SYS_rt_sigprocmask, SIG_SETMASK, &k, NULL, 8);
	mp->sigmask = mask;
}
