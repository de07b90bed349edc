/* Signals the runtime owns: the stack-overflow report (SIGSEGV on a G's
 * guard page, handled on each M's alternate stack), and the per-M mask. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <ucontext.h>

#include "sched/real.h"
#include "sched/runtime.h"
#include "sched/sys.h"

#define ALTSTACK_SIZE (64UL * 1024)

/* The mask of an M with no G to run (and the one newm starts Ms with):
 * every signal the program catches is blocked, so the kernel gives a
 * process-directed one to a thread that runs program code. */
GORO_HIDDEN sigset_t goro__idle_sigmask;
static struct sigaction old_segv;

static void segv_handler(int sig, siginfo_t *si, void *uc)
{
	/* Not sig_enter: a G's overflow report needs no TLS of its own, and a
	 * fault in g0 reports nothing. */
	struct g *gp = getg();
	uintptr_t a = (uintptr_t)si->si_addr;
	if (gp && gp->stack_map && a >= (uintptr_t)gp->stack_map && a < (uintptr_t)gp->stack_lo + 4096) {
		size_t sz = (size_t)((char *)gp->stack_hi - (char *)gp->stack_lo);
		goro__errorf("goro: stack overflow in thread %llu%s%s%s (stack %zu KiB); "
			     "raise it with GORO_STACK or pthread_attr_setstacksize\n",
			     (unsigned long long)gp->goid, gp->name[0] ? " \"" : "", gp->name,
			     gp->name[0] ? "\"" : "", sz >> 10);
	}
	/* Die (or let the program's own handler run) as natively: restore
	 * the previous disposition and return; the access faults again. */
	goro__real.sigaction(SIGSEGV, &old_segv, NULL);
	(void)sig;
	(void)uc;
}

/* The runtime's signal (SIGURG, as Go's preemption signal): a nudge to
 * whatever G the M runs now.  If that G has signals recorded by
 * pthread_kill, raise them here, inside it. */
/* The program's own disposition for the runtime's signal: sigaction and
 * signal on it record it here (goro__sigaction) instead of replacing
 * nudge_handler, which runs it for signals goro did not send. */
static struct sigaction old_nudge;

/* The program's own handler for the runtime's signal, for one goro did
 * not send. */
static void run_prog_nudge(int sig, siginfo_t *si, void *uc)
{
	if (si->si_code == SI_TKILL && si->si_pid == getpid())
		return;
	if (old_nudge.sa_flags & SA_SIGINFO) {
		if (old_nudge.sa_sigaction)
			old_nudge.sa_sigaction(sig, si, uc);
	} else if (old_nudge.sa_handler != SIG_DFL && old_nudge.sa_handler != SIG_IGN) {
		old_nudge.sa_handler(sig);
	}
}

void goro__nudge_taken(const siginfo_t *si)
{
	goro__setxid_handle();
	siginfo_t copy = *si;
	if (copy.si_code != SI_TKILL || copy.si_pid != getpid())
		getg()->sigran++;
	run_prog_nudge(goro__signudge, &copy, NULL);
}

static void nudge_handler(int sig, siginfo_t *si, void *uc)
{
	void *fs = goro__sig_enter();
	struct g *gp = getg();
	int saved = errno;
	goro__setxid_handle();
	if (gp && gp->m && gp->m->curg == gp) {
		uint64_t ucmask;
		memcpy(&ucmask, &((ucontext_t *)uc)->uc_sigmask, sizeof ucmask);
		if (gp->nhframes && gp->m->locks == 0) /* handlers left with siglongjmp */
			goro__hframes_prune(gp, (uintptr_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RSP], &ucmask);
		/* Inside runtime code (locks held) a handler must not run:
		 * the scheduler or sysmon nudges again (goro__sig_drain). */
		if (a_load_rlx(&gp->sigpending)) {
			if (gp->m->locks == 0)
				goro__sig_deliver_at_return(gp, ucmask);
			else
				goro__sig_kick_later(gp);
		}
		bool f = true;
		if (!(a_load_acq(&gp->m->blockcheck) && a_cas(&gp->m->blockcheck, &f, false) &&
		      goro__blocked_at(gp, uc)))
			goro__preempt_at(gp, uc);
	}
	errno = saved;
	/* A program's own handler for the signal still runs. */
	run_prog_nudge(sig, si, uc);
	goro__sig_leave(fs);
}

/* The mask of an M without a G, of sysmon and of every M as it starts:
 * every asynchronous signal is blocked (only the synchronous ones, the
 * nudge and glibc's internal SIGCANCEL/SIGSETXID stay open).  A kernel
 * thread that runs no program thread must never take a signal that no
 * program thread takes: a process-directed signal goes to an M whose G
 * accepts it, or stays pending for the process until one does (it
 * unblocks it, or waits for it with sigwait*, sigsuspend or a signalfd).
 * The signalfd watch sees such a pending signal; goro__sig_forward gives
 * it to a G that accepts it (docs/ARCHITECTURE.md, "The signal path, end
 * to end"). */
static sigset_t runtime_mask;
static struct goro_mutex idlemask_lock;
/* Signals found pending that no live G accepts (kernel sigset layout):
 * out of the watch until a G unblocks one (goro__sig_unblocked). */
static _Atomic uint64_t unwanted;
/* Signals the program catches (kernel sigset layout). */
static _Atomic uint64_t caught_set;

static bool is_caught(const struct sigaction *a);
static int install(int sig, const struct sigaction *act);

static bool sync_signal(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGTRAP ||
	       sig == SIGSYS || sig == goro__signudge;
}

/* The signalfd watch: every blocked asynchronous signal some G may take.
 * Caller holds idlemask_lock. */
static void watch_update(void)
{
	sigset_t w = runtime_mask;
	*(uint64_t *)&w &= ~a_load_acq(&unwanted);
	goro__netpoll_sigmask(&w);
}

static void idlemask_note(int sig, const struct sigaction *sa)
{
	if (sig <= 0 || sig >= 64 || sync_signal(sig))
		return;
	if (is_caught(sa))
		a_fetch_or(&caught_set, GORO_SIGBIT(sig));
	else
		a_fetch_and(&caught_set, ~GORO_SIGBIT(sig));
}

/* A G unblocked `bits` (kernel layout): watch them again. */
void goro__sig_unblocked(uint64_t bits)
{
	if (!(a_load_rlx(&unwanted) & bits))
		return;
	goro__lock(&idlemask_lock);
	a_fetch_and(&unwanted, ~bits);
	watch_update();
	goro__unlock(&idlemask_lock);
}

void goro__signal_init(void)
{
	struct sigaction nu;
	memset(&nu, 0, sizeof nu);
	nu.sa_sigaction = nudge_handler;
	nu.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigemptyset(&nu.sa_mask);
	goro__real.sigaction(goro__signudge, &nu, &old_nudge);
	goro__preempt_init();

	/* sigfillset leaves out glibc's SIGCANCEL and SIGSETXID, which
	 * nptl's set*id broadcast sends to every kernel thread. */
	sigfillset(&runtime_mask);
	for (int sig = 1; sig < 64; sig++) {
		if (sync_signal(sig)) {
			sigdelset(&runtime_mask, sig);
			continue;
		}
		struct sigaction cur;
		if (goro__real.sigaction(sig, NULL, &cur) == 0) {
			if (is_caught(&cur))
				install(sig, &cur); /* handlers set before goro started */
			idlemask_note(sig, &cur);
		}
	}
	goro__idle_sigmask = runtime_mask;
	goro__lock(&idlemask_lock);
	watch_update();
	goro__unlock(&idlemask_lock);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = segv_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	goro__real.sigaction(SIGSEGV, NULL, &old_segv);
	/* Only when the program has no handler of its own yet. */
	if (old_segv.sa_handler == SIG_DFL)
		goro__real.sigaction(SIGSEGV, &sa, NULL);
}

static void sigstack_new(struct m *mp);

/* Per-M set-up: an alternate signal stack, so the overflow report runs
 * when a G's stack is exhausted (Go: minit/minitSignalStack). */
void goro__signal_minit(struct m *mp)
{
	/* The M that waits for the next timer does so in epoll_pwait2, whose
	 * timeout the kernel stretches by the thread's timer slack (50 us by
	 * default): a usleep(50) would take ~110 us.  1 ns asks for the
	 * deadline itself; coalescing happens in goro's own timer heap. */
	if (!goro__timerslack0) /* the first M: the main thread's, the process's default */
		goro__timerslack0 = (uint64_t)goro__sys2(SYS_prctl, PR_GET_TIMERSLACK, 0);
	goro__slack_set(mp, 1);
	sigstack_new(mp);
}

/* ---- a G leaving its M while on the M's signal stack ---------------------
 * A program's handler runs on the M's signal stack (a G's own sigaltstack
 * is kept in the G: shim/signals.c) and may park there (a lock, a sleep)
 * or be preempted.  Its frames, the kernel's signal frame among them, must
 * stay with the G while the M takes other signals: the M gives the G that
 * stack and takes a new one (goro__sigstack_leave, on g0, where the kernel
 * allows the change), and the G unmaps it once it runs on no signal stack
 * (goro__sigstack_reclaim).  goro_trampoline makes sigreturn restore the
 * stack of the M it returns on, not of the one it came in on. */
/* The start of the signal stack (the M's, or one gp took along) sp is
 * on, or 0. */
static uintptr_t sigstack_base(const struct g *gp, uintptr_t sp)
{
	const struct m *mp = gp->m;
	if (mp && sp - (uintptr_t)mp->altstack < mp->altsize)
		return (uintptr_t)mp->altstack;
	for (int i = 0; i < gp->nsigstacks; i++)
		if (sp - (uintptr_t)gp->sigstacks[i] < ALTSTACK_SIZE)
			return (uintptr_t)gp->sigstacks[i];
	return 0;
}

bool goro__on_sigstack(const struct g *gp, uintptr_t sp) { return sigstack_base(gp, sp) != 0; }

void goro__sigstack_leave(struct g *gp, struct m *mp)
{
	void *old = mp->altstack;
	if (gp->nsigstacks == GORO_NSIGSTACKS)
		return;
	sigstack_new(mp);
	if (mp->altstack != old) {
		gp->sigstacks[gp->nsigstacks++] = old;
		a_fetch_add_rlx(&goro__sched.nsigstacktaken, 1);
	}
}

/* Unmap the stacks gp took along that hold none of its frames: neither
 * sp nor a live handler's frame (goro__hframes_prune first) is on them. */
void goro__sigstack_reclaim(struct g *gp, uintptr_t sp)
{
	int n = 0;
	for (int i = 0; i < gp->nsigstacks; i++) {
		uintptr_t b = (uintptr_t)gp->sigstacks[i];
		bool used = sp - b < ALTSTACK_SIZE;
		for (int j = 0; j < gp->nhframes && !used; j++)
			used = gp->hframes[j].lo == b;
		if (used)
			gp->sigstacks[n++] = gp->sigstacks[i];
		else
			goro__sys2(SYS_munmap, b, ALTSTACK_SIZE);
	}
	gp->nsigstacks = n;
}

/* ---- handler frames --------------------------------------------------------
 * Natively the kernel blocks a handler's sa_mask and its own signal while it
 * runs.  Under goro it does so on the M, but the G may park in the handler
 * and resume on another M with its recorded mask, where the next signal for
 * it would nest (a sleeping handler, interrupted again and again, overflowed
 * its stack).  So a handler's bits are part of g->sigmask while it runs (a
 * signal sent meanwhile stays recorded in the G) and leave at its end.  A
 * handler left with siglongjmp never reaches its end (glibc restores the
 * kernel mask itself): each handler is recorded with its frame, and one the
 * G's stack pointer has left (above it, or on another stack) is dropped at
 * the G's next entry into the runtime, its mask read back from the kernel
 * thread (goro__hframes_prune). */

#define NEVER_BLOCKED (GORO_SIGBIT(SIGTRAP)) /* with the nudge: see goro__sigmask_apply */

static uint64_t never_blocked(void) { return NEVER_BLOCKED | GORO_SIGBIT(goro__signudge); }

/* The lowest address of the stack sp (a handler's frame) is on. */
static uintptr_t frame_region(const struct g *gp, uintptr_t sp)
{
	uintptr_t b = sigstack_base(gp, sp);
	if (b)
		return b;
	if (gp->stack_lo && sp - (uintptr_t)gp->stack_lo < (uintptr_t)gp->stack_hi - (uintptr_t)gp->stack_lo)
		return (uintptr_t)gp->stack_lo;
	return sp > (8UL << 20) ? sp - (8UL << 20) : 0; /* the main thread's stack: bounds unknown */
}

static void hframe_push(struct g *gp, uintptr_t sp, uint64_t bits)
{
	if (gp->nhframes == GORO_NHFRAMES)
		return;
	gp->hframes[gp->nhframes++] = (struct goro_hframe){ sp, frame_region(gp, sp), gp->sigmask };
	gp->sigmask |= bits;
	gp->m->sigmask |= bits; /* as the kernel thread has it now */
}

/* The handler whose frame is sp returns: sigreturn installs uc_sigmask on
 * the kernel thread the G is on now, the G's mask from before or the one
 * the handler wrote there. */
static void hframe_pop(struct g *gp, uintptr_t sp, uint64_t *ucmask, uint64_t entrymask)
{
	int i = gp->nhframes - 1;
	while (i >= 0 && gp->hframes[i].sp != sp)
		i--;
	if (i < 0)
		return;
	uint64_t prev = gp->hframes[i].prev, keep = never_blocked();
	gp->nhframes = i;
	gp->sigmask = *ucmask == entrymask ? prev : (*ucmask & ~keep) | (prev & keep);
	*ucmask = gp->sigmask & ~keep;
	gp->m->sigmask = gp->sigmask;
	goro__sig_deliver_at_return(gp, gp->sigmask);
}

void goro__hframes_prune(struct g *gp, uintptr_t sp, const uint64_t *kmask)
{
	int n = gp->nhframes;
	while (n > 0 && !(sp >= gp->hframes[n - 1].lo && sp < gp->hframes[n - 1].sp))
		n--;
	if (n == gp->nhframes)
		return;
	gp->nhframes = n;
	/* kmask: the interrupted context's, from a handler's ucontext */
	uint64_t k = 0, keep = never_blocked();
	if (kmask)
		k = *kmask;
	else
		goro__sys4(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &k, 8);
	gp->sigmask = (k & ~keep) | (gp->sigmask & keep);
	gp->m->sigmask = gp->sigmask;
}

/* A new signal stack for mp's kernel thread (the old one, if any, is left
 * to its caller). */
static void sigstack_new(struct m *mp)
{
	long r = goro__sys6(SYS_mmap, 0, ALTSTACK_SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r < 0 && r > -4096)
		return;
	stack_t ss = { .ss_sp = (void *)r, .ss_flags = 0, .ss_size = ALTSTACK_SIZE };
	if (goro__sys2(SYS_sigaltstack, &ss, NULL) != 0) {
		goro__sys2(SYS_munmap, r, ALTSTACK_SIZE);
		return;
	}
	mp->altstack = (void *)r;
	mp->altsize = ALTSTACK_SIZE;
}

/* ---- the program's handlers, behind goro's trampoline ----------------------
 * The kernel gives a process-directed signal to whichever kernel thread
 * does not block it, which under goro is whatever G that M runs now;
 * natively it is the main thread when that accepts it, and the signal ends
 * the main thread's blocking call (a pause() or sleep in main while other
 * threads compute).  So every handler the program installs for an
 * asynchronous signal is entered through goro_trampoline, which hands a
 * process-directed signal to G1 (woken, or nudged if it runs or blocks in
 * the kernel) when G1 accepts it and is not the current G; G1 then raises
 * it in itself and the program's handler gets the original siginfo.
 * sigaction/signal show the program its own handler throughout. */
static struct sigaction prog_act[64];
static _Atomic uint64_t wrapped;      /* bit sig: goro's trampoline is installed */
static siginfo_t redirect_info[64];   /* a handed-over signal's own siginfo */
static _Atomic uint64_t redirect_saved; /* bit sig: redirect_info[sig] is valid */
static struct goro_mutex act_lock;

/* Not wrapped: synchronous ones and the runtime's, and those the kernel
 * sends to the thread that caused them. */
static bool wrappable(int sig)
{
	return sig > 0 && sig < 64 && !sync_signal(sig) && sig != SIGPIPE && sig != SIGXFSZ;
}

static bool is_caught(const struct sigaction *a) { return a->sa_handler != SIG_DFL && a->sa_handler != SIG_IGN; }

bool goro__sig_wrapped(int sig) { return sig > 0 && sig < 64 && (a_load_acq(&wrapped) & (1ULL << sig)); }

static void prog_view(int sig, struct sigaction *out);

/* A program handler runs for sig without the trampoline (raised in a G,
 * counted there): one neither wrapped nor ignored nor left default. */
bool goro__sig_unwrapped_handler(int sig)
{
	if (goro__sig_wrapped(sig))
		return false;
	struct sigaction a;
	prog_view(sig, &a);
	return is_caught(&a);
}

/* The disposition as the program set it. */
static void prog_view(int sig, struct sigaction *out)
{
	if (sig == goro__signudge)
		*out = old_nudge;
	else if (sig > 0 && sig < 64 && (a_load_acq(&wrapped) & (1ULL << sig)))
		*out = prog_act[sig];
	else if (goro__real.sigaction(sig, NULL, out) != 0)
		memset(out, 0, sizeof *out);
}

/* A process-directed signal (not one a thread raised at a thread: tgkill,
 * pthread_kill, or goro re-raising in a G). */
static bool process_directed(const siginfo_t *si)
{
	return si->si_code != SI_TKILL;
}

/* Hand sig to G1 if the kernel would have given it to the main thread. */
static bool redirect(int sig, const siginfo_t *si, bool raised)
{
	struct g *gp = getg(), *g1 = &goro__g1;
	if (gp == g1 || raised || !process_directed(si))
		return false;
	int st = a_load_acq(&g1->status);
	if (st == G_DEAD || st == G_IDLE || (g1->sigmask & (1ULL << (sig - 1))))
		return false;
	redirect_info[sig] = *si;
	uint64_t b = 1ULL << sig;
	a_fetch_or(&redirect_saved, b);
	a_fetch_or(&g1->sigpending, b);
	if (goro__may_enter_runtime())
		goro__sig_kick(g1);
	else
		goro__sig_kick_later(g1); /* on g0, or runtime code interrupted */
	return true;
}

/* A program handler may park, which a G may do only at the runtime's own
 * points, never in the middle of runtime code (a lock held, its M cached in
 * a local).  A signal that interrupts a running G there is recorded in the
 * G instead and raised at its next such point (or by a nudge, which the
 * kick arranges).  Not when goro raises a recorded one itself (`raised`), in
 * a blocking call (the handler must end it with EINTR), or with
 * SA_RESETHAND (the kernel has already reset the disposition). */
static bool defer_in_runtime(struct g *gp, int sig, const siginfo_t *si, void *uc, const struct sigaction *a,
			     bool raised)
{
	/* (G_RUNNABLE: a yield's direct switch, on the next G's stack before
	 * that G is current) */
	int st = a_load_rlx(&gp->status);
	if (raised || gp->nop || !gp->m || gp == gp->m->g0 || !uc || (a->sa_flags & SA_RESETHAND) ||
	    (st != G_RUNNING && st != G_RUNNABLE) ||
	    (gp->m->locks == 0 && !goro__runtime_pc((uintptr_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP])))
		return false;
	uint64_t b = 1ULL << sig;
	if (process_directed(si)) { /* its own siginfo when raised (goro_trampoline) */
		redirect_info[sig] = *si;
		a_fetch_or(&redirect_saved, b);
		gp->sigorig |= b;
	} else if (si->si_code == SI_QUEUE) {
		gp->sigvalue[sig] = si->si_value;
		gp->sigqueued |= b;
	}
	a_fetch_or(&gp->sigpending, b);
	goro__sig_kick_later(gp);
	return true;
}

static void goro_trampoline(int sig, siginfo_t *si, void *uc)
{
	/* On g0 or an idle M: the handler gets the M's own TLS, as it would
	 * have on a kernel thread of its own. */
	void *fs = goro__sig_enter();
	int saved = errno;
	struct g *gp = getg();
	/* Goro's own raise of sig in gp (sched/sigsend.c): taken here, at
	 * once.  Only this one: were the mark left while the handler parks,
	 * a later signal would run in the middle of the runtime (a G being
	 * switched in, still on g0's stack) and resume there on another M. */
	bool raised = gp->raising == sig;
	if (raised)
		gp->raising = 0;
	if (redirect(sig, si, raised)) {
		errno = saved;
		goro__sig_leave(fs);
		return;
	}
	struct sigaction a = prog_act[sig];
	if (defer_in_runtime(gp, sig, si, uc, &a, raised)) {
		errno = saved;
		goro__sig_leave(fs);
		return;
	}
	siginfo_t mine;
	uint64_t b = 1ULL << sig;
	/* (raised by goro in G1, or in a G that deferred it, itself: a tgkill
	 * from this process) */
	if ((gp == &goro__g1 || (gp->sigorig & b)) && si->si_code == SI_TKILL && si->si_pid == getpid() &&
	    (a_load_acq(&redirect_saved) & b)) {
		mine = redirect_info[sig]; /* the original, handed over */
		a_fetch_and(&redirect_saved, ~b);
		gp->sigorig &= ~b;
		si = &mine;
	}
	gp->sigran++;
	if (!(a.sa_flags & SA_RESTART))
		gp->sigran_nr++;
	if (a.sa_flags & SA_RESETHAND) {
		/* The kernel has put SIG_DFL back; so does the program's view. */
		a_fetch_and(&wrapped, ~b);
	}
	errno = saved;
	bool isg = gp->m && gp != gp->m->g0 && !gp->nop && uc;
	uintptr_t frame = (uintptr_t)__builtin_frame_address(0);
	uint64_t *ucmask = isg ? (uint64_t *)&((ucontext_t *)uc)->uc_sigmask : NULL, entrymask = 0;
	if (isg) {
		uintptr_t isp = (uintptr_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RSP];
		goro__hframes_prune(gp, isp, ucmask);
		if (gp->nsigstacks)
			goro__sigstack_reclaim(gp, isp);
		entrymask = *ucmask;
		hframe_push(gp, frame, *(uint64_t *)&a.sa_mask | (a.sa_flags & SA_NODEFER ? 0 : GORO_SIGBIT(sig)));
	}
	gp->inhandler++;
	if (a.sa_flags & SA_SIGINFO)
		a.sa_sigaction(sig, si, uc);
	else if (is_caught(&a))
		a.sa_handler(sig);
	gp->inhandler--;
	if (isg)
		hframe_pop(gp, frame, ucmask, entrymask);
	/* sigreturn sets the kernel thread's signal stack from uc_stack: the
	 * G may have moved to another M in the handler. */
	struct m *now = gp->m;
	if (now && now->altstack && uc)
		((ucontext_t *)uc)->uc_stack = (stack_t){ .ss_sp = now->altstack, .ss_size = now->altsize };
	goro__sig_leave(fs);
}

/* Install act for sig (goro's trampoline in front of a program handler). */
static int install(int sig, const struct sigaction *act)
{
	if (!wrappable(sig) || !is_caught(act)) {
		int r = goro__real.sigaction(sig, act, NULL);
		if (r == 0 && sig > 0 && sig < 64)
			a_fetch_and(&wrapped, ~(1ULL << sig));
		return r;
	}
	struct sigaction t = *act;
	t.sa_sigaction = goro_trampoline;
	t.sa_flags |= SA_SIGINFO;
	prog_act[sig] = *act;
	int r = goro__real.sigaction(sig, &t, NULL);
	if (r == 0)
		a_fetch_or(&wrapped, 1ULL << sig);
	return r;
}

int goro__sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (!goro__started)
		return goro__real.sigaction(sig, act, old);
	if (sig == goro__signudge) {
		struct sigaction prev = old_nudge;
		if (act)
			old_nudge = *act;
		if (old)
			*old = prev;
		return 0;
	}
	if (goro__rawcall_sigaction(sig, act, old))
		return 0;
	goro__lock(&act_lock);
	struct sigaction prev;
	prog_view(sig, &prev);
	int r = act ? install(sig, act) : goro__real.sigaction(sig, NULL, NULL);
	goro__unlock(&act_lock);
	if (r != 0)
		return r;
	if (old)
		*old = prev;
	if (act)
		idlemask_note(sig, act);
	return 0;
}


/* Does sig, raised now, end a sleep natively: it has a handler, or its
 * default action ends the process (not one that ignores or stops). */
static bool interrupts(int sig)
{
	struct sigaction cur;
	prog_view(sig, &cur);
	if (cur.sa_handler == SIG_IGN)
		return false;
	if (cur.sa_handler != SIG_DFL)
		return true;
	switch (sig) {
	case SIGCHLD: case SIGCONT: case SIGURG: case SIGWINCH:
	case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
		return false;
	default:
		return true;
	}
}

bool goro__sa_restart(int sig)
{
	struct sigaction cur;
	prog_view(sig, &cur);
	return (cur.sa_flags & SA_RESTART) != 0;
}

bool goro__sig_interrupting(struct g *gp)
{
	/* sigpending has bit sig; the mask a kernel sigset's bit sig-1. */
	uint64_t p = a_load_acq(&gp->sigpending) & ~(gp->sigmask << 1);
	for (int sig = 1; p && sig < 64; sig++) {
		if ((p & (1ULL << sig)) && interrupts(sig))
			return true;
		p &= ~(1ULL << sig);
	}
	return false;
}

/* ---- process-directed signals nobody can take -----------------------------
 * A signal sent to the process while every M blocks it (idle Ms, sysmon
 * and g0 block every asynchronous signal; running Gs may too) stays
 * pending.  Natively the kernel would hand it to a thread that accepts
 * it, the main one first.  The netpoller's signalfd watch (or sysmon's
 * look, goro__sig_poll) sees it pending, and here:
 * - a caught one goes to a G that accepts it, parked where a signal may
 *   wake it (G1 first): woken with sigtake set, it resumes with signals
 *   still blocked and unblocks them inside itself (goro__sig_resume),
 *   where the kernel delivers the pending signal with its own siginfo;
 * - one at its default action or ignored is taken on this thread when
 *   some G accepts it: the process ends, stops, or the signal is
 *   discarded, as natively;
 * - one no live G accepts stays pending for a later sigwait, sigsuspend
 *   or unblocking, out of the watch until a G unblocks it. */

/* Does some live G accept the signals of `bit` (kernel layout)? */
static bool any_accepts(uint64_t bit)
{
	bool yes = false;
	goro__lock(&goro__allglock);
	for (struct g *gp = goro__allgs; gp && !yes; gp = gp->alllink) {
		int st = a_load_acq(&gp->status);
		if (st != G_DEAD && st != G_IDLE && !(gp->sigmask & bit))
			yes = true;
	}
	goro__unlock(&goro__allglock);
	return yes;
}

/* A default or ignored disposition: let the kernel act on this thread. */
static void take_default(uint64_t bit)
{
	goro__sys4(SYS_rt_sigprocmask, SIG_UNBLOCK, &bit, NULL, 8);
	goro__sys4(SYS_rt_sigprocmask, SIG_BLOCK, &bit, NULL, 8);
}

/* One pending signal: true when a G was woken to take it. */
static bool forward_one(uint64_t bit, uint64_t *drop)
{
	if (a_load_acq(&caught_set) & bit) {
		struct g *t = goro__sig_target(bit);
		if (t) {
			a_store_rel(&t->sigtake, true);
			return goro__sig_interrupt(t);
		}
		if (!any_accepts(bit))
			*drop |= bit;
		return false;
	}
	if (any_accepts(bit))
		take_default(bit);
	else
		*drop |= bit;
	return false;
}

void goro__sig_forward(void)
{
	uint64_t pend = 0, drop = 0;
	if (goro__sys2(SYS_rt_sigpending, &pend, 8) < 0)
		return;
	pend &= *(volatile uint64_t *)&goro__idle_sigmask & ~a_load_acq(&unwanted);
	bool took = false;
	for (int sig = 1; pend && sig < 64; sig++) {
		uint64_t bit = GORO_SIGBIT(sig);
		if (!(pend & bit))
			continue;
		pend &= ~bit;
		if (forward_one(bit, &drop))
			took = true;
	}
	if (drop) {
		goro__lock(&idlemask_lock);
		a_fetch_or(&unwanted, drop);
		watch_update(); /* re-arms the watch */
		goro__unlock(&idlemask_lock);
	} else if (took) {
		/* Still pending until the woken G runs: the watch fires again
		 * in the meantime and finds it no longer asleep.  Nobody woken:
		 * sysmon re-arms the watch at its next look. */
		goro__netpoll_sigarm();
	}
}

/* sysmon: with no M waiting in the netpoller, nobody sees the watch fire;
 * look at the process's pending signals here instead. */
void goro__sig_poll(void)
{
	if (goro__timerwait_active())
		return;
	uint64_t pend = 0;
	if (goro__sys2(SYS_rt_sigpending, &pend, 8) < 0)
		return;
	if (pend & *(volatile uint64_t *)&goro__idle_sigmask & ~a_load_acq(&unwanted))
		goro__sig_forward();
}

/* ---- the deadlock report's question ---------------------------------------
 * Can a signal still wake a parked G?  Then no deadlock is certain
 * (Go's checkdead asks the same of its timers).  Yes when an interval
 * timer is armed (alarm, setitimer), a POSIX timer exists (its signal or
 * its SIGEV_THREAD function may post), or the program catches a signal
 * some G accepts (another process may send it; the handler may post). */
static bool itimer_armed(void)
{
	for (int which = ITIMER_REAL; which <= ITIMER_PROF; which++) {
		struct itimerval it;
		if (goro__sys2(SYS_getitimer, which, &it) == 0 &&
		    (it.it_value.tv_sec != 0 || it.it_value.tv_usec != 0))
			return true;
	}
	return false;
}

/* /proc/self/timers lists the process's POSIX timers (kernels without
 * it: assume one may exist). */
static bool posix_timers_exist(void)
{
	long fd = goro__sys4(SYS_openat, AT_FDCWD, (long)"/proc/self/timers", O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return true;
	char c;
	long n = goro__sys3(SYS_read, fd, &c, 1);
	goro__sys1(SYS_close, fd);
	return n != 0;
}

bool goro__sig_may_arrive(void)
{
	uint64_t caught = a_load_acq(&caught_set);
	for (int sig = 1; caught && sig < 64; sig++) {
		uint64_t bit = GORO_SIGBIT(sig);
		if ((caught & bit) && any_accepts(bit))
			return true;
		caught &= ~bit;
	}
	return itimer_armed() || posix_timers_exist();
}

/* An M about to wait without a G (Go: the idle M's signal mask). */
void goro__sigmask_idle(struct m *mp)
{
	uint64_t idle = *(volatile uint64_t *)&goro__idle_sigmask;
	if (mp->sigmask != idle) {
		goro__sys4(SYS_rt_sigprocmask, SIG_SETMASK, &idle, NULL, 8);
		mp->sigmask = idle;
	}
}

const sigset_t *goro__runtime_sigmask(void) { return &runtime_mask; }

/* fork (sched/fork.c): the action table and the idle mask, in this order. */
void goro__sig_fork(enum goro_fork_phase ph)
{
	if (ph == GORO_FORK_PARENT) {
		goro__fork_lock(&idlemask_lock, ph);
		goro__fork_lock(&act_lock, ph);
		return;
	}
	goro__fork_lock(&act_lock, ph);
	goro__fork_lock(&idlemask_lock, ph);
}
