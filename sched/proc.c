/* The scheduler: Go's proc.go in C.
 *
 * Worker thread parking/unparking (Go's comment, same protocol): we keep
 * enough spinning Ms to run all Ps while not wasting CPU.  An M is
 * "spinning" when it has no work in its local queue and looks elsewhere.
 * A G becoming runnable calls wakep(), which starts one spinning M only if
 * there is an idle P and no M is spinning already.  A spinning M that finds
 * work stops spinning and calls wakep() if it was the last spinner, so a
 * burst of readied Gs fans out one M at a time.  A spinning M that finds
 * nothing releases its P, drops nmspinning, then re-checks every run queue
 * (the "delicate dance"): a G submitted between its last check and the
 * decrement is found by that re-check, and a submitter after the decrement
 * sees nmspinning == 0 and wakes a new M.  No wake-up is lost.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <dlfcn.h>

#include "sched/runtime.h"
#include "sched/sys.h"
#include "sched/real.h"

GORO_HIDDEN struct schedt goro__sched;
GORO_HIDDEN struct p *goro__allp;
GORO_HIDDEN int32_t goro__gomaxprocs = 1;
GORO_HIDDEN struct g goro__g1;
GORO_HIDDEN struct m goro__m0;
GORO_HIDDEN bool goro__started;
GORO_HIDDEN bool goro__gsready;
GORO_HIDDEN uint8_t goro__fsgsbase;
GORO_HIDDEN struct goro_config goro__cfg; /* filled by preload/config.c */
GORO_HIDDEN struct goro_mutex goro__allglock;
GORO_HIDDEN struct g *goro__allgs;
GORO_HIDDEN _Atomic int32_t goro__nlocked;
static struct g m0_g0;

static void schedule(struct m *mp) __attribute__((noreturn));
static void handoffp(struct p *pp);
static bool rt_policy(int policy);
static void sched_unapply(struct m *mp);
static __attribute__((noreturn)) void kwaitstart(struct m *mp);
static __attribute__((noreturn)) void kexecute(struct m *mp, struct g *gp);
static bool kwant(const struct m *mp, const struct g *gp);
static void kdetach(struct m *mp, struct g *gp);
static bool kstart(struct g *gp, const struct goro_newg *ng);

/* ---- small helpers ------------------------------------------------------- */

void goro__spin_lock(_Atomic uint32_t *l)
{
	for (;;) {
		uint32_t v = 0;
		if (a_cas(l, &v, 1))
			return;
		for (int i = 0; a_load_rlx(l); i++)
			goro__spin_wait(i);
	}
}

void goro__spin_unlock(_Atomic uint32_t *l) { a_store_rel(l, 0); }

uint32_t goro__fastrand(void)
{
	struct m *mp = getg()->m;
	/* xorshift64*; per-M state, no sharing */
	uint64_t x = mp->fastrand;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	mp->fastrand = x;
	return (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32);
}

static void allgadd(struct g *gp)
{
	goro__lock(&goro__allglock);
	gp->alllink = goro__allgs;
	goro__allgs = gp;
	goro__unlock(&goro__allglock);
}

/* ---- per-G CPU clocks -------------------------------------------------------
 * A G's CPU time is its M's thread CPU time summed over the G's runs:
 * read at switch-in (wireg) and at every switch-out, only once the program
 * has asked for a thread CPU clock (shim/clock.c), so a switch costs
 * nothing more otherwise. */
GORO_HIDDEN _Atomic bool goro__cpuclocks;

int64_t goro__thread_cputime(int tid)
{
	/* Linux: MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED); 0 is the caller. */
	clockid_t clk = tid ? (clockid_t)((~(unsigned)tid << 3) | 6) : CLOCK_THREAD_CPUTIME_ID;
	struct timespec ts;
	if (goro__sys2(SYS_clock_gettime, clk, &ts) < 0)
		return -1;
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec + 1; /* never 0: 0 is "not measured" */
}

static inline void cpu_in(struct g *gp)
{
	if (__builtin_expect(a_load_rlx(&goro__cpuclocks), 0))
		gp->cpustart = goro__thread_cputime(0);
}

static inline void cpu_out(struct g *gp)
{
	if (__builtin_expect(a_load_rlx(&goro__cpuclocks), 0) && gp->cpustart > 0) {
		gp->cputime += goro__thread_cputime(0) - gp->cpustart;
		gp->cpustart = 0;
	}
}

/* The first request: from now on switches are measured; the caller's run
 * counts from here, G1's from the start of its M0 when it is there. */
void goro__cpuclocks_enable(void)
{
	struct g *gp = getg();
	if (a_load_acq(&goro__cpuclocks))
		return;
	gp->cpustart = gp == &goro__g1 && gp->m == &goro__m0 ? 1 : goro__thread_cputime(0);
	a_store_rel(&goro__cpuclocks, true);
}

int64_t goro__g_cputime(struct g *gp)
{
	if (gp == getg())
		return gp->cputime + (gp->cpustart > 0 ? goro__thread_cputime(0) - gp->cpustart : 0);
	int64_t base = gp->cputime, start = gp->cpustart;
	struct m *mp = gp->m;
	int st = a_load_acq(&gp->status);
	if ((st == G_RUNNING || st == G_SYSCALL) && mp && start > 0) {
		int64_t now = goro__thread_cputime(mp->tid);
		if (now > start)
			base += now - start;
	}
	return base;
}

/* ---- Ps ------------------------------------------------------------------ */

/* Requires sched.lock (Go: pidleput). */
static void pidleput(struct p *pp)
{
	if (!goro__runqempty(pp))
		goro__throw("pidleput: P has non-empty run queue");
	pp->status = P_IDLE;
	pp->link = goro__sched.pidle;
	goro__sched.pidle = pp;
	a_fetch_add(&goro__sched.npidle, 1);
}

/* Requires sched.lock (Go: pidleget). */
static struct p *pidleget(void)
{
	struct p *pp = goro__sched.pidle;
	if (pp) {
		goro__sched.pidle = pp->link;
		a_fetch_add(&goro__sched.npidle, -1);
	}
	return pp;
}

static void acquirep(struct m *mp, struct p *pp)
{
	if (mp->p || pp->m)
		goro__throw("acquirep: P %d already in use", pp->id);
	mp->p = pp;
	pp->m = mp;
	pp->status = P_RUNNING;
	GORO_TRACE(TEV_PSTART, NULL, pp->id, NULL);
}

static struct p *releasep(struct m *mp)
{
	struct p *pp = mp->p;
	if (!pp || pp->m != mp)
		goro__throw("releasep: invalid P state");
	GORO_TRACE(TEV_PSTOP, NULL, pp->id, NULL);
	pp->m = NULL;
	mp->p = NULL;
	pp->status = P_IDLE;
	return pp;
}

/* ---- Ms ------------------------------------------------------------------ */

/* Requires sched.lock (Go: mput/mget). */
static void mput(struct m *mp)
{
	mp->schedlink = goro__sched.midle;
	goro__sched.midle = mp;
	goro__sched.nmidle++;
}

static struct m *mget(void)
{
	struct m *mp = goro__sched.midle;
	if (mp) {
		goro__sched.midle = mp->schedlink;
		goro__sched.nmidle--;
	}
	return mp;
}

static void mstart1(struct g *g0)
{
	struct m *mp = g0->m;
	struct p *pp = mp->nextp;
	mp->nextp = NULL;
	if (!pp)
		kwaitstart(mp); /* made for a real-time G (kstart) */
	acquirep(mp, pp);
	schedule(mp);
}

/* Entry of every M after M0: the real pthread made by newm. */
static void *mstart(void *arg)
{
	struct m *mp = arg;
	struct g *g0 = mp->g0;
	g0->tp = goro__getfs(); /* the M's own nptl TCB */
	mp->fs = g0->tp;
	mp->gcur = g0;
	goro__setgs(mp); /* inherited from the creating thread until now */
	mp->sigmask = *(uint64_t *)&goro__idle_sigmask; /* newm started it so */
	goro__curg = g0;
	mp->tid = goro__gettid();
	/* resetsched/resetaff: not its creator's real-time policy or mask
	 * (G28); an M made for a real-time G gets its G's from the creator
	 * (kstart), which this must not undo. */
	if (!mp->lockedg)
		sched_unapply(mp);
	goro__signal_minit(mp);
	/* g0's scheduler frames live below this one; mcall restarts them at
	 * g0top each time (Go: g0.sched.sp from mstart). */
	char anchor;
	mp->g0top = ((uintptr_t)&anchor - 1024) & ~(uintptr_t)15;
	struct goro_gctx unused;
	if (__builtin_setjmp(mp->exitbuf) == 0)
		goro__mcall(&unused, mstart1, g0, mp->g0top, g0);
	return NULL; /* mexit: nptl ends the detached thread */
}

/* Requires sched.lock.  Exited Ms whose kernel thread is gone (nptl's TCB,
 * at the top of the M's stack, has tid 0: docs/ARCHITECTURE.md, G28):
 * unmap the stack, keep the struct for allocm (an unlocked walk of allm
 * may still hold it). */
static void reapm(void)
{
	for (struct m **pp = &goro__sched.mdead, *mp; (mp = *pp);) {
		if (goro__tls_tid((void *)mp->thread) != 0) {
			pp = &mp->deadlink;
			continue;
		}
		*pp = mp->deadlink;
		struct goro_stack s = { mp->stkmap, mp->stkmapsize, NULL, NULL, 0 };
		goro__stackfree(&s);
		mp->deadlink = goro__sched.mfree;
		goro__sched.mfree = mp;
	}
}

static struct m *allocm(void)
{
	goro__lock(&goro__sched.lock);
	reapm();
	struct m *mp = goro__sched.mfree;
	if (mp)
		goro__sched.mfree = mp->deadlink;
	goro__unlock(&goro__sched.lock);
	struct g *g0 = mp ? mp->g0 : calloc(1, sizeof *g0);
	if (mp)
		memset(mp, 0, sizeof *mp);
	else
		mp = calloc(1, sizeof *mp);
	if (!mp || !g0)
		goro__throw("out of memory allocating an M");
	memset(g0, 0, sizeof *g0);
	mp->self = mp;
	mp->g0 = g0;
	g0->m = mp;
	g0->goid = 0;
	return mp;
}

/* Idle Ms kept for later work; more exit, so a burst of blocking calls
 * (each holding an M, e.g. process-shared waits) leaves no lasting kernel
 * threads, whose stacks every fork() would copy. */
static bool m_surplus(void)
{
	return goro__sched.nmidle >= goro__gomaxprocs + GORO_IDLE_M_RESERVE && !a_load_rlx(&goro__tracing);
}

/* Requires sched.lock, released here: end this idle M (stopm).  Out of
 * allm (its memory stays: see reapm), its signal stack unmapped, then
 * back into mstart, which returns. */
static __attribute__((noreturn)) void mexit(struct m *mp)
{
	struct m **pp = &goro__sched.allm;
	while (*pp != mp)
		pp = &(*pp)->alllink;
	*pp = mp->alllink;
	reapm(); /* the Ms that exited before this one */
	mp->deadlink = goro__sched.mdead;
	goro__sched.mdead = mp;
	goro__sched.nmexit++;
	goro__unlock(&goro__sched.lock);
	uint64_t all = ~0ULL;
	goro__sys4(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, 8);
	stack_t ss = { .ss_flags = SS_DISABLE };
	if (mp->altstack && goro__sys2(SYS_sigaltstack, &ss, NULL) == 0)
		goro__sys2(SYS_munmap, mp->altstack, mp->altsize);
	mp->altstack = NULL;
	goro__g0_libc();
	__builtin_longjmp(mp->exitbuf, 1);
}

/* Start a new M that will acquire pp (Go: newm); or, with lockg, one
 * without a P that waits until kstart has set it up to run lockg. */
static struct m *newm(struct p *pp, bool spinning, struct g *lockg)
{
	goro__g0_libc(); /* malloc and nptl below use the caller's TLS */
	struct m *mp = allocm();
	goro__lock(&goro__sched.lock);
	if (goro__sched.mnext - goro__sched.nmexit >= GORO_MAX_MCOUNT) {
		goro__unlock(&goro__sched.lock);
		goro__throw("program exceeds %d-thread limit (Go: sched.maxmcount); "
			    "too many threads blocked in system calls", GORO_MAX_MCOUNT);
	}
	mp->id = goro__sched.mnext++;
	mp->alllink = goro__sched.allm;
	goro__sched.allm = mp;
	goro__unlock(&goro__sched.lock);
	mp->fastrand = (uint64_t)mp->id * 0x9E3779B97F4A7C15ULL + 1;
	mp->nextp = pp;
	mp->spinning = spinning;
	mp->resetsched = getm()->rtapplied;
	mp->resetaff = getm()->affapplied;
	mp->lockedg = lockg;
	pthread_attr_t attr;
	goro__real.pthread_attr_init(&attr);
	/* A stack of our own, not nptl's: after fork() nptl's child puts every
	 * stack it allocated, except THREAD_SELF's (a G's TCB), into its cache
	 * and would hand the forking M's stack to the next pthread_create
	 * (nptl/fork.c reclaim_stacks); user stacks are left alone. */
	struct goro_stack st;
	if (goro__stackalloc(&st, GORO_G0_STACK, 4096))
		goro__throw("cannot allocate an M's stack");
	mp->stkmap = st.map;
	mp->stkmapsize = st.mapsize;
	goro__real.pthread_attr_setstack(&attr, st.lo, (size_t)((char *)st.hi - (char *)st.lo));
	goro__real.pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* The M must not inherit the creating G's signal mask. */
	sigset_t old;
	goro__sys4(SYS_rt_sigprocmask, SIG_SETMASK, &goro__idle_sigmask, &old, 8);
	int err = goro__real.pthread_create(&mp->thread, &attr, mstart, mp);
	goro__sys4(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, 8);
	goro__real.pthread_attr_destroy(&attr);
	if (err)
		goro__throw("cannot create an M (pthread_create: %s)", strerror(err));
	if (lockg) /* kstart sets it up by tid before it runs anything */
		mp->tid = goro__tls_tid((void *)mp->thread);
	return mp;
}

/* Park the M until startm hands it a P (Go: stopm). */
static void stopm(struct m *mp)
{
	if (mp->p)
		goro__throw("stopm holding p");
	goro__lock(&goro__sched.lock);
	if (mp != &goro__m0 && m_surplus())
		mexit(mp);
	mput(mp);
	goro__unlock(&goro__sched.lock);
	goro__notesleep(&mp->park);
	goro__noteclear(&mp->park);
	if (!mp->nextp && mp->lockedg)
		kexecute(mp, mp->lockedg); /* taken by kstart for a real-time G */
	acquirep(mp, mp->nextp);
	mp->nextp = NULL;
}

/* Schedule some M to run pp (or an idle P if pp is NULL).  If spinning,
 * the caller incremented nmspinning and the M inherits it (Go: startm). */
static void startm(struct p *pp, bool spinning)
{
	goro__lock(&goro__sched.lock);
	if (!pp) {
		pp = pidleget();
		if (!pp) {
			goro__unlock(&goro__sched.lock);
			if (spinning)
				a_fetch_add(&goro__sched.nmspinning, -1);
			return;
		}
	}
	struct m *nmp = mget();
	goro__unlock(&goro__sched.lock);
	if (!nmp) {
		newm(pp, spinning, NULL);
		return;
	}
	nmp->spinning = spinning;
	nmp->nextp = pp;
	goro__notewakeup(&nmp->park);
}

/* Try to add one more spinning M if there are idle Ps (Go: wakep). */
void goro__wakep(void)
{
	if (a_load_acq(&goro__sched.npidle) == 0)
		return;
	int32_t zero = 0;
	if (a_load_rlx(&goro__sched.nmspinning) != 0 ||
	    !a_cas(&goro__sched.nmspinning, &zero, 1))
		return;
	startm(NULL, true);
}

static void resetspinning(struct m *mp)
{
	mp->spinning = false;
	int32_t n = a_fetch_add(&goro__sched.nmspinning, -1) - 1;
	if (n < 0)
		goro__throw("findrunnable: negative nmspinning");
	/* We were the last spinner and found work: there may be more. */
	goro__wakep();
}

/* ---- finding work -------------------------------------------------------- */

static struct g *stealwork(struct m *mp, struct p *pp)
{
	int32_t n = goro__gomaxprocs;
	for (int i = 0; i < GORO_STEAL_TRIES; i++) {
		bool stealnext = i == GORO_STEAL_TRIES - 1;
		/* Random start and a stride coprime with n: each P once per
		 * round, in a random order (Go: stealOrder). */
		uint32_t start = goro__fastrand() % (uint32_t)n;
		uint32_t stride = 1;
		if (n > 2) {
			stride = 1 + goro__fastrand() % (uint32_t)(n - 1);
			while (stride > 1) {
				uint32_t a = stride, b = (uint32_t)n;
				while (b) {
					uint32_t t = a % b;
					a = b;
					b = t;
				}
				if (a == 1)
					break;
				stride--;
			}
		}
		for (int32_t k = 0; k < n; k++) {
			struct p *victim = &goro__allp[(start + (uint32_t)k * stride) % (uint32_t)n];
			if (victim == pp)
				continue;
			struct g *gp = goro__runqsteal(pp, victim, stealnext);
			if (gp) {
				pp->nsteal++;
				GORO_TRACE(TEV_STEAL, gp, victim->id, NULL);
				return gp;
			}
		}
	}
	(void)mp;
	return NULL;
}

/* A spinning M that gave up its P stops spinning, then looks at every run
 * queue again: a G queued between its last look and the decrement would
 * otherwise wait for the next wakep (the delicate dance of the comment at
 * the top).  true: it found work and holds an idle P again, spinning. */
static bool stopspinning_recheck(struct m *mp)
{
	mp->spinning = false;
	if (a_fetch_add(&goro__sched.nmspinning, -1) - 1 < 0)
		goro__throw("findrunnable: negative nmspinning");
	for (int32_t i = 0; i < goro__gomaxprocs; i++) {
		if (goro__runqempty(&goro__allp[i]))
			continue;
		goro__lock(&goro__sched.lock);
		struct p *pp = pidleget();
		goro__unlock(&goro__sched.lock);
		if (!pp)
			return false;
		acquirep(mp, pp);
		mp->spinning = true;
		a_fetch_add(&goro__sched.nmspinning, 1);
		return true;
	}
	return false;
}

/* An idle P, now the caller's.  NULL if none. */
static struct p *idle_p(void)
{
	goro__lock(&goro__sched.lock);
	struct p *pp = pidleget();
	goro__unlock(&goro__sched.lock);
	return pp;
}

/* An M without a P and without work: wait as the timer waiter until a
 * timer is due (then take an idle P if there is one), or park until
 * startm hands it a P.  Meanwhile no program signal lands here. */
static void idle_wait(struct m *mp)
{
	goro__sigmask_idle(mp);
	bool waited = goro__timerwait(mp);
	if (waited) {
		struct p *pp = idle_p();
		if (pp) {
			acquirep(mp, pp);
			return;
		}
		/* Every P busy: the M that runs the due timers next is the one
		 * whose G yields to the sleeper, as a woken thread preempts
		 * natively (sched/preempt.c, wake-up preemption). */
		if (goro__timers_due(goro__nanotime()))
			goro__wakepreempt();
	}
	stopm(mp);
}

/* Find a runnable G; blocks the M (without a P) until there is one
 * (Go: findRunnable). */
static struct g *findrunnable(struct m *mp)
{
	struct p *pp;
	struct g *gp;
top:
	pp = mp->p;
	goro__drain_deferred();
	if (goro__timers_pending())
		goro__checktimers(goro__nanotime());
	/* Non-blocking netpoll while Gs wait on I/O and no M blocks in it
	 * (Go: the netpoll(0) step of findRunnable). */
	if (goro__netpoll_waiters() && !goro__timerwait_active())
		goro__netpoll(0);

	/* Real-time Gs first (sched/runq.c), and every 61st tick one G of the
	 * global queue (fairness). */
	if ((a_load_rlx(&goro__sched.nrt) > 0 || pp->schedtick % GORO_GLOBRUNQ_TICK == 0) &&
	    a_load_rlx(&goro__sched.runqsize) > 0) {
		goro__lock(&goro__sched.lock);
		gp = goro__globrunqget(pp, 1);
		goro__unlock(&goro__sched.lock);
		if (gp)
			return gp;
	}
	if ((gp = goro__runqget(pp)))
		return gp;
	if (a_load_rlx(&goro__sched.runqsize) > 0) {
		goro__lock(&goro__sched.lock);
		gp = goro__globrunqget(pp, 0);
		goro__unlock(&goro__sched.lock);
		if (gp)
			return gp;
	}

	/* Spin only while fewer than half the busy Ps have a spinner. */
	int32_t busy = goro__gomaxprocs - a_load_rlx(&goro__sched.npidle);
	if (mp->spinning || 2 * a_load_rlx(&goro__sched.nmspinning) < busy) {
		if (!mp->spinning) {
			mp->spinning = true;
			a_fetch_add(&goro__sched.nmspinning, 1);
		}
		if ((gp = stealwork(mp, pp)))
			return gp;
	}

	/* Nothing: give up the P. */
	goro__lock(&goro__sched.lock);
	if (a_load_rlx(&goro__sched.runqsize) > 0) {
		gp = goro__globrunqget(pp, 0);
		goro__unlock(&goro__sched.lock);
		return gp;
	}
	releasep(mp);
	pidleput(pp);
	goro__unlock(&goro__sched.lock);
	if (mp->spinning && stopspinning_recheck(mp))
		goto top;
	idle_wait(mp);
	goto top;
}

struct m *goro__m_by_tid(int tid)
{
	for (struct m *mp = goro__sched.allm; mp; mp = mp->alllink)
		if (mp->tid == tid)
			return mp;
	return NULL;
}

/* Run gp on the current M; never returns (Go: execute). */
/* Make gp the M's current G (Go: the first half of execute). */
static void wireg(struct m *mp, struct g *gp)
{
	if (__builtin_expect(gp->wantlock, 0) && !gp->lockedm && !mp->lockedg) {
		/* GORO_LOCKED or a real-time/affinity attribute: this G keeps
		 * the M it first runs on. */
		gp->wantlock = false;
		gp->lockedm = mp;
		mp->lockedg = gp;
		a_fetch_add(&goro__nlocked, 1);
		if (rt_policy(gp->sched_policy) || gp->affinity_set)
			goro__sched_apply(gp);
	}
	uint64_t mask = gp->sigmask;
	if (__builtin_expect(a_load_rlx(&gp->sigtake), 0) && gp->waitreason)
		mask |= *(volatile uint64_t *)&goro__idle_sigmask; /* unblocked in goro__park */
	if (mp->sigmask != mask)
		goro__sigmask_apply(mp, mask);
	a_store_rlx(&gp->preempt, false);
	mp->curg = gp;
	gp->m = mp;
	cpu_in(gp);
	a_store_rlx(&gp->status, G_RUNNING);
	struct p *pp = mp->p; /* none for a kernel-scheduled G (kexecute) */
	if (pp && pp->inherit)
		pp->inherit = false;
	else if (pp)
		pp->schedtick++;
	if (pp)
		pp->nswitch++;
	/* A G another M queued from its own stack may still be saving it. */
	while (!a_load_acq(&gp->ctxsaved))
		a_spin();
	GORO_TRACE(TEV_GSTART, gp, 0, NULL);
}

static __attribute__((noreturn)) void execute(struct m *mp, struct g *gp)
{
	wireg(mp, gp);
	if (__builtin_expect(kwant(mp, gp), 0))
		kdetach(mp, gp);
	goro__gogo(&gp->ctx, gp);
}

void goro__thread_as(struct m *self, struct g *gp)
{
	memset(self, 0, sizeof *self);
	self->self = self;
	self->gcur = gp;
	self->fs = goro__getfs();
	goro__curg = gp;
	goro__setgs(self);
	a_fetch_add_rlx(&goro__sched.nthreadas, 1);
}

void goro__g0_libc(void)
{
	struct m *mp = getm();
	if (mp->gcur != mp->g0 || !mp->g0->tp)
		return;
	/* Not a switch's write: fs_writes and fs_syscalls count those only
	 * (README, GORO_STATS), so that they stay <= context_switches. */
	uint64_t w = mp->fswrites, sys = mp->fssyscalls;
	goro__setfs(mp->g0->tp);
	mp->fswrites = w;
	mp->fssyscalls = sys;
}

void *goro__sig_enter(void)
{
	if (!goro__gsready)
		return NULL;
	struct m *mp = getm();
	struct g *g0 = mp->g0;
	if (mp->gcur != g0 || !g0 || !g0->tp)
		return NULL;
	void *cur = goro__getfs();
	if (cur == g0->tp)
		return NULL;
	goro__setfs_raw(g0->tp);
	return cur;
}

void goro__sig_leave(void *tp)
{
	if (tp)
		goro__setfs_raw(tp);
}

/* One round of scheduler: find a runnable G and run it (Go: schedule).
 * Runs on g0. */
/* The M of a locked G whose G stopped running: give the P away and wait
 * until the G is runnable again and someone hands this M a P to run it
 * (Go: stoplockedm). */
static __attribute__((noreturn)) void stoplockedm(struct m *mp)
{
	if (mp->p)
		handoffp(releasep(mp));
	goro__sigmask_idle(mp);
	goro__notesleep(&mp->lockednote);
	goro__noteclear(&mp->lockednote);
	acquirep(mp, mp->nextp);
	mp->nextp = NULL;
	execute(mp, mp->lockedg);
}

/* gp is locked to another M: hand it our P and wake it; this M goes idle
 * (Go: startlockedm). */
static void startlockedm(struct m *mp, struct g *gp)
{
	struct m *lm = gp->lockedm;
	struct p *pp = releasep(mp);
	lm->nextp = pp;
	goro__notewakeup(&lm->lockednote);
	stopm(mp);
}

static void schedule(struct m *mp)
{
	if (mp->lockedg)
		stoplockedm(mp);
	for (;;) {
		struct g *gp = findrunnable(mp);
		if (mp->spinning)
			resetspinning(mp);
		if (gp->lockedm && gp->lockedm != mp) {
			startlockedm(mp, gp);
			continue;
		}
		execute(mp, gp);
	}
}

/* ---- switching out of a G ----------------------------------------------- */

/* On g0: gp leaves mp while on mp's signal stack (sched/signal.c). */
static void sigstack_leave_then(struct g *gp)
{
	struct m *mp = gp->m;
	goro__sigstack_leave(gp, mp);
	goro__sys4(SYS_rt_sigprocmask, SIG_SETMASK, &mp->altmask, NULL, 8);
	mp->altfn(gp);
}

static inline void mcall(struct g *gp, void (*fn)(struct g *))
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	if (__builtin_expect(gp->nhframes != 0, 0))
		goro__hframes_prune(gp, sp, NULL); /* handlers left with siglongjmp */
	if (__builtin_expect(gp->nsigstacks != 0, 0))
		goro__sigstack_reclaim(gp, sp);
	/* Only now: a handler run at the system calls above may have parked
	 * and moved the G to another M. */
	struct m *mp = gp->m;
	if (__builtin_expect(sp - (uintptr_t)mp->altstack < mp->altsize, 0)) {
		/* Until the M has another signal stack, the kernel would put
		 * a signal that comes on g0 at the top of this one, over the
		 * G's frames (the handler's, the interrupted context's): none
		 * may come before sigstack_leave_then. */
		uint64_t all = ~0ULL;
		goro__sys4(SYS_rt_sigprocmask, SIG_SETMASK, &all, &mp->altmask, 8);
		mp->altfn = fn;
		fn = sigstack_leave_then;
	}
	goro__mcall(&gp->ctx, fn, gp, mp->g0top, mp->g0);
}

static void park_m(struct g *gp)
{
	struct m *mp = gp->m;
	/* Take unlockf before the G can be woken: once unlockf has run, a
	 * waker may ready gp and it may park again elsewhere with a new one. */
	goro_unlockf unlockf = gp->unlockf;
	void *arg = gp->unlockarg;
	gp->unlockf = NULL;
	cpu_out(gp);
	mp->curg = NULL;
	GORO_TRACE(TEV_GSTOP, gp, 0, gp->waitreason);
	a_store_rel(&gp->status, G_WAITING);
	if (unlockf && !unlockf(gp, arg))
		execute(mp, gp);
	schedule(mp);
}

/* Park the current G.  unlockf(gp, arg) runs on g0 after the G's context
 * is saved; it releases the lock that protects the wait queue gp sits on,
 * so a waker that takes that lock sees a fully parked G.  If it returns
 * false the G resumes at once (Go: gopark/park_m). */
void goro__park(goro_unlockf unlockf, void *arg, const char *reason)
{
	struct g *gp = getg();
	gp->nblock++; /* wake-up preemption's ages (sched/preempt.c) */
	gp->unlockf = unlockf;
	gp->unlockarg = arg;
	gp->waitreason = reason;
	mcall(gp, park_m);
	gp->waitreason = NULL;
	/* Signal handlers run once the wait has taken the G off its queues
	 * (goro__sig_resume at the end of each wait): a handler may park
	 * again or pthread_exit. */
}

void goro__sig_resume(struct g *gp)
{
	if (__builtin_expect(a_load_rlx(&gp->sigtake), 0)) {
		/* Woken for a pending process signal: take it here, in the G
		 * (goro__sig_forward). */
		a_store_rlx(&gp->sigtake, false);
		if (gp->m->sigmask != gp->sigmask)
			goro__sigmask_apply(gp->m, gp->sigmask);
	}
	if (a_load_rlx(&gp->sigpending))
		goro__sig_deliver(gp);
}

struct g *goro__sig_target(uint64_t bits)
{
	/* The kernel gives a process signal to the main thread when it
	 * accepts it: then no other thread's sleep may end. */
	struct g *g1 = &goro__g1;
	int st = a_load_acq(&g1->status);
	if (st != G_DEAD && st != G_IDLE && !(g1->sigmask & bits))
		return a_load_acq(&g1->sigwaitable) ? g1 : NULL;
	struct g *t = NULL;
	goro__lock(&goro__allglock);
	for (struct g *gp = goro__allgs; gp && !t; gp = gp->alllink)
		if (a_load_acq(&gp->sigwaitable) && !(gp->sigmask & bits))
			t = gp;
	goro__unlock(&goro__allglock);
	return t;
}

/* gp runnable at the tail of the global queue; the caller wakes an M. */
static void readyglobal(struct g *gp)
{
	GORO_TRACE(TEV_GUNBLOCK, gp, 0, NULL);
	a_store_rlx(&gp->status, G_RUNNABLE);
	goro__lock(&goro__sched.lock);
	goro__globrunqput(gp);
	goro__unlock(&goro__sched.lock);
}

/* Make gp runnable on the current P, in runnext (Go: ready).  When every
 * other P runs a G past the wake-up granularity, gp goes to the global
 * queue instead, for the M of the one asked to yield (docs/ARCHITECTURE.md,
 * "Preemption"). */
void goro__ready(struct g *gp)
{
	struct m *mp = getg()->m, *vm = NULL;
	struct p *self = mp ? mp->p : NULL;
	struct p *victim = self && goro__gomaxprocs > 1 && goro__all_busy() ? goro__wake_victim(self, &vm) : NULL;
	if (__builtin_expect(victim != NULL, 0)) {
		readyglobal(gp);
		goro__wake_preempt(victim, vm);
		return;
	}
	goro__ready_nowake(gp);
	goro__wakep();
	if (!self)
		goro__wakepreempt(); /* queued globally; wakep preferred an idle P */
}

static void readyq(struct g *gp, bool next)
{
	struct m *mp = getg()->m;
	if (mp && mp->p) {
		GORO_TRACE(TEV_GUNBLOCK, gp, 0, NULL);
		a_store_rlx(&gp->status, G_RUNNABLE);
		mp->locks++;
		goro__runqput(mp->p, gp, next);
		mp->locks--;
	} else {
		readyglobal(gp);
	}
}

/* The same without waking an idle P's M: for a caller that runs gp itself
 * next, or wakes one for a whole batch. */
void goro__ready_nowake(struct g *gp) { readyq(gp, true); }

/* A G its timer readied: at the tail of the P's ring, behind the Gs that
 * were runnable already, never in runnext, where a G looping on a short
 * timed wait would be re-readied ahead of them for ever (Go's timers
 * ready into the run queue; docs/ARCHITECTURE.md, "Timers, netpoller,
 * sysmon"). */
void goro__ready_timer(struct g *gp) { readyq(gp, false); }

/* Would findrunnable take the head of the global queue next, at schedtick
 * `tick`?  Nothing in pp's own queue, no timers, not the 1-in-61 tick of
 * the fairness check, no locked G to hand over.  Both yield fast paths ask
 * this: they then take that G under the lock hold that queued the
 * yielding one, instead of a second round trip through findrunnable. */
static bool next_is_global(struct p *pp, uint32_t tick)
{
	return goro__runqempty(pp) && !goro__timers_pending() && tick % GORO_GLOBRUNQ_TICK != 0 &&
	       a_load_rlx(&goro__nlocked) == 0 && a_load_rlx(&goro__sched.nrt) == 0;
}

static void gosched_m(struct g *gp)
{
	struct m *mp = gp->m;
	struct p *pp = mp->p;
	GORO_TRACE(TEV_GSTOP, gp, 0, gp->yieldreason ? gp->yieldreason : "yield");
	cpu_out(gp);
	a_store_rlx(&gp->status, G_RUNNABLE);
	mp->curg = NULL;
	struct g *next = NULL;
	bool global = next_is_global(pp, pp->schedtick);
	goro__lock(&goro__sched.lock);
	goro__globrunqput(gp);
	if (global)
		next = goro__globrunqget(pp, 0);
	goro__unlock(&goro__sched.lock);
	goro__wakep();
	if (next)
		execute(mp, next);
	schedule(mp);
}

GORO_HIDDEN void (*goro__async_cancel_hook)(void);

void goro__async_cancel_point(void)
{
	void (*hook)(void) = goro__async_cancel_hook;
	if (hook && goro__async_cancel_due(getg()))
		hook();
}

/* A G that sysmon (or an asynchronous pthread_cancel) flagged yields at an
 * interposed call (Go: gopreempt_m, reached from a stack check; here from
 * goro__coop) or where the nudge stopped it; a due asynchronous cancel
 * ends it here instead, before or after its turn in the queue. */
void goro__preempt_park(void)
{
	struct g *gp = getg();
	a_store_rlx(&gp->preempt, false);
	goro__async_cancel_point();
	gp->yieldreason = "preempted";
	goro__gosched();
	goro__async_cancel_point();
}

/* Go: Gosched.  The G goes to the back of the global queue. */
void goro__gosched(void)
{
	struct g *gp = getg();
	if (gp->ksched) { /* the kernel's yield, to its equals (SCHED_FIFO/RR) */
		goro__sys0(SYS_sched_yield);
		return;
	}
	if (!goro__can_preempt(gp))
		return; /* a handler over a parked or syscalling G: a yield is only a hint */
	struct m *mp = gp->m;
	struct p *pp = mp->p;
	/* Fast path for yield loops: switch straight to the next G of the
	 * global queue without going through g0, when findrunnable would pick
	 * exactly that G (and no netpoll is due).  Only the owner adds to its
	 * own queue, so a plain look at it is exact enough here: a stealer
	 * can only make it emptier. */
	if (a_load_rlx(&goro__sched.runqsize) > 0 && next_is_global(pp, pp->schedtick + 1) &&
	    !goro__netpoll_waiters() && !gp->nsigstacks && !gp->nhframes && !goro__on_sigstack(gp, (uintptr_t)&pp)) {
		mp->locks++; /* no async preemption or signal re-entry meanwhile */
		GORO_TRACE(TEV_GSTOP, gp, 0, gp->yieldreason ? gp->yieldreason : "yield");
		a_store_rlx(&gp->ctxsaved, 0);
		a_store_rlx(&gp->status, G_RUNNABLE);
		goro__lock(&goro__sched.lock);
		goro__globrunqput(gp);
		struct g *next = goro__globrunqget(pp, 1); /* leave the rest global: the next yield stays on this path */
		goro__unlock(&goro__sched.lock);
		if (next == gp) {
			a_store_rlx(&gp->status, G_RUNNING);
			a_store_rlx(&gp->ctxsaved, 1);
			mp->locks--;
			return;
		}
		goro__wakep();
		mp->locks--;
		cpu_out(gp);
		wireg(mp, next);
		goro__gswitch(&gp->ctx, &gp->ctxsaved, &next->ctx, next);
	} else {
		mcall(gp, gosched_m);
	}
	gp->yieldreason = NULL;
	if (a_load_rlx(&gp->sigpending))
		goro__sig_deliver(gp);
}

/* ---- G free list (Go: gfput/gfget) -------------------------------------- */

/* A G with a big stack goes straight to the global list, where
 * goro__gscavenge may give its pages back; the P keeps small ones. */
static void gfput(struct p *pp, struct g *gp)
{
	a_store_rlx(&gp->status, G_IDLE);
	if (gp->stack_mapsize > GORO_GFREE_LOCAL_STACK) {
		int64_t now = goro__nanotime();
		goro__lock(&goro__sched.lock);
		gp->gfree_when = now;
		gp->scavenged = false;
		goro__gqueue_push(&goro__sched.gfree, gp);
		goro__sched.ngfree++;
		goro__unlock(&goro__sched.lock);
		return;
	}
	goro__gqueue_push(&pp->gfree, gp);
	if (++pp->gfreecnt >= GORO_GFREE_LOCAL_MAX) {
		int64_t now = goro__nanotime();
		goro__lock(&goro__sched.lock);
		while (pp->gfreecnt > GORO_GFREE_LOCAL_MAX / 2) {
			struct g *old = goro__gqueue_pop(&pp->gfree);
			old->gfree_when = now;
			old->scavenged = false;
			goro__gqueue_push(&goro__sched.gfree, old);
			pp->gfreecnt--;
			goro__sched.ngfree++;
		}
		goro__unlock(&goro__sched.lock);
	}
}

/* Take up to n Gs idle since before `old` off the head of the global free
 * list (the oldest first), rotating those already scavenged to its tail.
 * Requires sched.lock. */
static int gscavenge_take(struct g **out, int n, int64_t old)
{
	int k = 0;
	for (int looked = 0; k < n && looked < 4 * n; looked++) {
		struct g *gp = goro__sched.gfree.head;
		if (!gp || gp->gfree_when > old)
			break;
		goro__gqueue_pop(&goro__sched.gfree);
		if (gp->scavenged) {
			goro__gqueue_push(&goro__sched.gfree, gp);
			continue;
		}
		goro__sched.ngfree--;
		out[k++] = gp;
	}
	return k;
}

/* Run by sysmon (Go: the background scavenger).  A burst of threads must
 * not keep its peak RSS for ever: Gs idle on the global free list for
 * GORO_SCAVENGE_IDLE_NS give back the pages of their stack frames (the page
 * holding the g, TLS and TCB stays), in batches, at most twice a second.
 * They are off the list while their pages go and return to its tail. */
void goro__gscavenge(int64_t now)
{
	static int64_t last;
	if (now - last < GORO_SCAVENGE_IDLE_NS / 2 || goro__sched.ngfree == 0)
		return;
	last = now;
	struct g *batch[GORO_SCAVENGE_BATCH];
	struct iovec iov[GORO_SCAVENGE_BATCH];
	goro__lock(&goro__sched.lock);
	int n = gscavenge_take(batch, GORO_SCAVENGE_BATCH, now - GORO_SCAVENGE_IDLE_NS);
	goro__unlock(&goro__sched.lock);
	int k = 0;
	for (int i = 0; i < n; i++) {
		struct g *gp = batch[i];
		uintptr_t lo = (uintptr_t)gp->stack_lo, hi = (uintptr_t)gp & ~(uintptr_t)4095;
		if (gp->stack_map && hi > lo)
			iov[k++] = (struct iovec){ (void *)lo, hi - lo };
		gp->scavenged = true;
	}
	a_fetch_add_rlx(&goro__sched.gscavenged, k); /* before: a program that sees its RSS drop may exit */
	goro__stack_release(iov, k);
	goro__lock(&goro__sched.lock);
	for (int i = 0; i < n; i++)
		goro__gqueue_push(&goro__sched.gfree, batch[i]);
	goro__sched.ngfree += n;
	goro__unlock(&goro__sched.lock);
}

/* A G block (newg_block): the guard, then the stack as the program asked
 * for it, holding at its top the TCB, the static TLS below it, the struct g
 * below that, and the frames below the g.  Its stack size for a request:
 * room for all that and two pages of frames at least. */
#define GBLOCK_G_BYTES ((sizeof(struct g) + 63) & ~(size_t)63)
static size_t page_up(size_t n) { return (n + 4095) & ~(size_t)4095; }
static size_t gblock_stack_bytes(const struct goro_newg *ng)
{
	size_t least = page_up(GBLOCK_G_BYTES + goro__tls_area() + 8192);
	size_t want = page_up(ng->stacksize);
	return want > least ? want : least;
}

/* Whether a pooled G can be reused for ng: a G block keeps the stack it
 * was made with (same mapping size and guard); a heap G (no mapping) runs
 * on user stacks. */
static bool gfits(const struct g *gp, const struct goro_newg *ng)
{
	if (ng->ustack)
		return !gp->stack_map;
	return gp->stack_map && gp->guardsize == page_up(ng->guard) &&
	       gp->stack_mapsize == gblock_stack_bytes(ng) + page_up(ng->guard);
}

/* Unlink the first G of q (among its first `max`) that fits ng, if it was
 * freed GORO_GFREE_MIN_AGE retirements ago: until then its id (its TCB
 * address) still names the thread that was joined or detached, so a stale
 * pthread_t says ESRCH instead of naming a new thread (docs/ARCHITECTURE.md,
 * "The life of a G", Exit).  The lists are FIFO, in retirement order as
 * near as matters: the first young G ends the search. */
static struct g *gqueue_take_fit(struct gqueue *q, const struct goro_newg *ng, int max)
{
	uint64_t retired = a_load_rlx(&goro__sched.gretired);
	struct g *prev = NULL;
	for (struct g *gp = q->head; gp && max-- > 0; prev = gp, gp = gp->schedlink) {
		if (retired - gp->retired < GORO_GFREE_MIN_AGE)
			return NULL;
		if (!gfits(gp, ng))
			continue;
		if (prev)
			prev->schedlink = gp->schedlink;
		else
			q->head = gp->schedlink;
		if (q->tail == gp)
			q->tail = prev;
		gp->schedlink = NULL;
		return gp;
	}
	return NULL;
}

/* A pooled G that fits ng: the P's list (refilled from the global one when
 * empty), then the head of the global list. */
static struct g *gfget(struct p *pp, const struct goro_newg *ng)
{
	if (!pp->gfree.head && goro__sched.ngfree > 0) {
		goro__lock(&goro__sched.lock);
		while (pp->gfreecnt < GORO_GFREE_LOCAL_MAX / 2 && goro__sched.gfree.head) {
			goro__gqueue_push(&pp->gfree, goro__gqueue_pop(&goro__sched.gfree));
			goro__sched.ngfree--;
			pp->gfreecnt++;
		}
		goro__unlock(&goro__sched.lock);
	}
	struct g *gp = gqueue_take_fit(&pp->gfree, ng, GORO_GFREE_LOCAL_MAX);
	if (gp) {
		pp->gfreecnt--;
		return gp;
	}
	if (goro__sched.ngfree == 0)
		return NULL;
	goro__lock(&goro__sched.lock);
	gp = gqueue_take_fit(&goro__sched.gfree, ng, GORO_GFREE_LOCAL_MAX);
	if (gp)
		goro__sched.ngfree--;
	goro__unlock(&goro__sched.lock);
	return gp;
}

/* Free a dead, joined-or-detached G (may be called on any G or g0 with a
 * P). */
void goro__gfree(struct g *gp)
{
	if (gp == &goro__g1)
		return; /* the main thread's stack and TCB belong to the kernel/ld.so */
	gp->retired = a_fetch_add_rlx(&goro__sched.gretired, 1) + 1;
	struct m *mp = getg()->m;
	if (!mp || !mp->p) { /* a thread goro did not make joined it */
		a_store_rlx(&gp->status, G_IDLE);
		goro__lock(&goro__sched.lock);
		goro__gqueue_push(&goro__sched.gfree, gp);
		goro__sched.ngfree++;
		goro__unlock(&goro__sched.lock);
		return;
	}
	mp->locks++;
	gfput(mp->p, gp);
	mp->locks--;
}

/* ---- creating and ending Gs ------------------------------------------- */

/* Static TLS and TCB in a slot of the LDT arena, whose segment %fs takes
 * on a switch without FSGSBASE (sched/fsldt.c), or NULL: none left. */
static void *ldt_tls(void)
{
	void *top = goro__ldt_slot(), *low;
	if (!top)
		return NULL;
	return goro__tls_alloc_at(top, &low);
}

/* A new G block: one mapping holds the guard and the stack, with the TCB
 * and static TLS at its top as nptl's allocate_stack puts them, and the
 * struct g just below them, so a thread that touches little of its stack
 * touches two pages in all (docs/ARCHITECTURE.md, "The life of a G").  The
 * block lives as long as the G: pooled Gs are reused for the same stack
 * size only.  The frames start below the g (newg_context). */
static struct g *newg_block(const struct goro_newg *ng)
{
	struct goro_stack s;
	if (goro__stackalloc_hot(&s, gblock_stack_bytes(ng), ng->guard, GBLOCK_G_BYTES + goro__tls_area() + 256))
		return NULL;
	void *low = s.hi, *tp = ldt_tls();
	if (!tp)
		tp = goro__tls_alloc_at(s.hi, &low);
	if (!tp) {
		goro__stackfree(&s);
		return NULL;
	}
	struct g *gp = (struct g *)(((uintptr_t)low - GBLOCK_G_BYTES) & ~(uintptr_t)63);
	gp->tp = tp;
	gp->stack_map = s.map;
	gp->stack_mapsize = s.mapsize;
	gp->stack_lo = s.lo;
	gp->stack_hi = s.hi;
	gp->guardsize = s.guard;
	return gp;
}

/* A G for a user stack (pthread_attr_setstack): descriptor and TLS from
 * the heap. */
static struct g *newg_heap(void)
{
	struct g *gp = calloc(1, sizeof *gp);
	if (!gp)
		return NULL;
	gp->tp = goro__tls_alloc();
	if (!gp->tp) {
		free(gp);
		return NULL;
	}
	return gp;
}

/* A G for newproc: a pooled one that fits (its TCB reused), else a new
 * one (Go: gfget / malg).  *reused says which. */
static struct g *newg_alloc(struct m *mp, struct p *pp, const struct goro_newg *ng, bool *reused)
{
	struct g *gp = NULL;
	if (pp) { /* a thread goro did not make has no P, nor free list */
		mp->locks++;
		gp = gfget(pp, ng);
		mp->locks--;
	}
	*reused = gp != NULL;
	if (gp)
		a_fetch_add_rlx(&goro__sched.greused, 1);
	if (!gp) {
		gp = ng->ustack ? newg_heap() : newg_block(ng);
		if (!gp)
			return NULL;
		allgadd(gp);
	}
	if (ng->ustack) {
		gp->stack_lo = ng->ustack;
		gp->stack_hi = (char *)ng->ustack + ng->ustacksize;
		gp->guardsize = 0;
	}
	return gp;
}

/* A reused G's key values: none survives into its next life. */
static void newg_keys_clear(struct g *gp)
{
	memset(gp->spec0, 0, sizeof gp->spec0);
	for (size_t i = 1; i < GORO_KEYS_MAX / GORO_KEY_BLOCK; i++)
		if (gp->spec[i])
			memset(gp->spec[i], 0, sizeof(struct goro_keydata) * GORO_KEY_BLOCK);
}

/* Every per-thread field a reused G may still hold from its last life,
 * set as pthread_create leaves a new thread; what it inherits comes from
 * its creator `self` (name, signal mask, scheduling attributes). */
static void newg_reset(struct g *gp, const struct goro_newg *ng, struct g *self, bool reused)
{
	gp->start = ng->fn;
	gp->arg = ng->arg;
	a_store_rlx(&gp->ctxsaved, 1);
	gp->result = NULL;
	gp->cleartid = NULL;
	gp->cleartid_set = false;
	gp->altstack = (stack_t){ .ss_flags = SS_DISABLE }; /* a new thread has none */
	gp->nsigstacks = 0;
	gp->nhframes = 0;
	gp->robust = NULL;
	gp->detached = ng->detached;
	gp->njoin = 0;
	a_store_rlx(&gp->exited, 0);
	a_store_rlx(&gp->lock, 0);
	a_store_rlx(&gp->cancel_pending, 0);
	gp->cancel_state = PTHREAD_CANCEL_ENABLE;
	gp->cancel_type = PTHREAD_CANCEL_DEFERRED;
	gp->exiting = false;
	gp->cleanup = NULL;
	a_store_rlx(&gp->sigpending, 0);
	gp->sigqueued = 0;
	gp->sigorig = 0;
	gp->interrupted = false;
	goro__park_done(gp);
	a_store_rlx(&gp->sigtake, false);
	a_store_rlx(&gp->suspending, false);
	gp->timer_idx = -1;
	gp->cputime = 0;
	gp->cpustart = 0;
	if (reused) /* a new G's block (or calloc) holds zeroes: no store to make */
		newg_keys_clear(gp);
	gp->spec[0] = gp->spec0;
	memcpy(gp->name, self->name, sizeof gp->name);
	gp->sigmask = self->sigmask; /* a new thread inherits its creator's mask */
	gp->timerslack = self->timerslack; /* and timer slack */
	gp->wantlock = ng->wantlock;
	gp->lockedm = NULL;
	gp->sched_explicit = ng->sched_explicit;
	gp->sched_policy = ng->sched_explicit ? ng->sched_policy : self->sched_policy;
	gp->sched_prio = ng->sched_explicit ? ng->sched_prio : self->sched_prio;
	/* a new thread inherits its creator's affinity and nice (shim/tid.c) */
	gp->affinity_set = self->affinity_set;
	gp->affinity = self->affinity;
	gp->nice_set = self->nice_set;
	gp->nice = self->nice;
	gp->wantlock |= rt_policy(gp->sched_policy); /* inherited too: every real-time G runs locked */
	a_store_rlx(&gp->preempt, false);
	gp->goid = a_fetch_add(&goro__sched.goidgen, 1) + 1;
	gp->tid = GORO_TID_BASE + (a_fetch_add(&goro__sched.tidgen, 1) & 0x3fffffff);
}

/* The first switch to gp "returns" into goro__gstart, rsp 16-aligned, with
 * the creator's control words (Go: gostartcallfn). */
static void newg_context(struct g *gp)
{
	/* A G block's frames start below its struct g (newg_block). */
	uintptr_t top = (gp->stack_map ? (uintptr_t)gp : (uintptr_t)gp->stack_hi) & ~(uintptr_t)15;
	top -= 16;
	*(uintptr_t *)(top - 8) = (uintptr_t)goro__gstart;
	memset(&gp->ctx, 0, sizeof gp->ctx);
	gp->ctx.rsp = top - 8;
	gp->ctx.r12 = (uint64_t)gp;
	__asm__ volatile("stmxcsr %0" : "=m"(gp->ctx.mxcsr));
	__asm__ volatile("fnstcw %0" : "=m"(gp->ctx.fpucw));
}

/* Create a G running ng->fn(ng->arg) and put it in runnext (Go: newproc).
 * Returns NULL with an errno value in *err. */
struct g *goro__newproc(const struct goro_newg *ng, int *err)
{
	struct g *self = getg();
	struct m *mp = self->m;
	struct p *pp = mp ? mp->p : NULL; /* none on a thread goro did not make */
	bool reused;
	struct g *gp = newg_alloc(mp, pp, ng, &reused);
	if (!gp) {
		*err = EAGAIN;
		return NULL;
	}
	newg_reset(gp, ng, self, reused);
	if (ng->out)
		*ng->out = (pthread_t)gp->tp; /* before the G can run, as nptl */
	goro__tls_setup(gp, reused);
	newg_context(gp);

	int64_t n = a_fetch_add(&goro__sched.gcount, 1) + 1;
	int64_t mx = a_load_rlx(&goro__sched.maxgcount);
	while (n > mx && !a_cas(&goro__sched.maxgcount, &mx, n))
		;
	a_fetch_add_rlx(&goro__sched.gcreated, 1);
	GORO_TRACE(TEV_GCREATE, gp, (uintptr_t)ng->fn, NULL);
	a_store_rlx(&gp->status, G_RUNNABLE);
	if (kstart(gp, ng)) /* real-time: on a kernel thread of its own now */
		return gp;
	if (pp) {
		mp->locks++;
		goro__runqput(pp, gp, true);
		mp->locks--;
	} else {
		goro__lock(&goro__sched.lock);
		goro__globrunqput(gp);
		goro__unlock(&goro__sched.lock);
	}
	goro__wakep();
	return gp;
}

static void goexit0(struct g *gp)
{
	struct m *mp = gp->m;
	GORO_TRACE(TEV_GSTOP, gp, 0, "exit");
	gp->nhframes = 0;
	if (gp->nsigstacks) /* pthread_exit from a handler that had moved */
		goro__sigstack_reclaim(gp, 0);
	cpu_out(gp);
	if (gp->lockedm) {
		gp->lockedm = NULL;
		mp->lockedg = NULL;
		a_fetch_add(&goro__nlocked, -1);
		sched_unapply(mp);
	}
	a_store_rlx(&gp->status, G_DEAD);
	mp->curg = NULL;
	/* detached vs exited under gp->lock: exactly one of pthread_detach
	 * and this frees the G. */
	goro__spin_lock(&gp->lock);
	a_store_rel(&gp->exited, 1);
	bool detached = gp->detached;
	goro__spin_unlock(&gp->lock);
	if (detached)
		goro__gfree(gp);
	else
		goro__addrwake((void *)&gp->exited, 1 << 30);
	schedule(mp);
}

/* End the current G (after its destructors ran).  Go: goexit1. */
void goro__goexit(void)
{
	struct g *gp = getg();
	/* nptl's start_thread order: C++ thread_local destructors, then
	 * pthread key destructors. */
	__call_tls_dtors();
	goro__keys_run_destructors(gp);
	goro__tls_robust_release(gp);
	if (gp->cleartid) { /* as the kernel's CLONE_CHILD_CLEARTID */
		a_store_rel((_Atomic int *)gp->cleartid, 0);
		goro__sys6(SYS_futex, (long)gp->cleartid, FUTEX_WAKE, 1, 0, 0, 0); /* shared, as the kernel's */
		gp->cleartid = NULL;
	}
	if (a_fetch_add(&goro__sched.gcount, -1) == 1) {
		/* The last thread: the process ends as under nptl, where the
		 * last thread to exit calls exit(0) (nptl/pthread_create.c). */
		exit(0);
	}
	if (gp->inhandler) {
		/* pthread_exit from a signal handler: the kernel thread keeps
		 * the handler's mask; the M's next G or idle wait sets its own. */
		gp->inhandler = 0;
		gp->m->sigmask = UINT64_MAX;
	}
	if (gp->ksched) { /* goexit0 needs a P */
		gp->kdone = true;
		goro__ksched_leave();
	}
	mcall(gp, goexit0);
	__builtin_unreachable();
}

/* Body of every G, called from goro__gstart. */
void goro__gmain(struct g *gp)
{
	goro__tls_start();
	if (a_load_rlx(&gp->sigpending))
		goro__sig_deliver(gp);
	gp->result = gp->start(gp->arg);
	goro__goexit();
}

/* ---- start-up ------------------------------------------------------------ */

/* The main thread becomes M0: its %gs base, and a g0 with a stack and TCB
 * of its own. */
static void m0init(struct m *m0, struct g *g1)
{
	m0->self = m0;
	m0->gcur = g1;
	m0->fs = goro__getfs();
	goro__setgs(m0);
	goro__gsready = true;
	m0->g0 = &m0_g0;
	m0_g0.m = m0;
	m0->id = goro__sched.mnext++;
	m0->tid = goro__gettid();
	m0->fastrand = 0x9E3779B97F4A7C15ULL;
	goro__sched.allm = m0;

	/* M0's g0 needs its own stack and TCB: the main thread's belong to
	 * G1, which may later run on another M. */
	struct goro_stack s;
	if (goro__stackalloc(&s, GORO_G0_STACK, 4096))
		goro__throw("cannot allocate M0's g0 stack");
	m0_g0.stack_lo = s.lo;
	m0_g0.stack_hi = s.hi;
	m0_g0.tp = goro__tls_alloc();
	if (!m0_g0.tp)
		goro__throw("cannot allocate M0's g0 TLS");
	m0_g0.tid = m0->tid;
	goro__tls_setup(&m0_g0, false);
	m0->g0top = ((uintptr_t)s.hi - 64) & ~(uintptr_t)15;
}

/* The main thread becomes G1 running on M0 with P0 (Go: schedinit +
 * mcommoninit + procresize).  Runs in the constructor, on the main thread. */
void goro__schedinit(int32_t procs)
{
	goro__gomaxprocs = procs;
	if (goro__sys3(SYS_sched_getaffinity, 0, sizeof goro__sched.cpus, &goro__sched.cpus) < 0)
		memset(&goro__sched.cpus, 0xff, sizeof goro__sched.cpus);
	goro__allp = calloc((size_t)procs, sizeof(struct p));
	if (!goro__allp)
		goro__throw("out of memory");
	for (int32_t i = 0; i < procs; i++) {
		goro__allp[i].id = i;
		goro__allp[i].status = P_IDLE;
		/* sysmon's marks (sysmon_blockcheck, sysmon_reported) use 0 for
		 * "none yet": a P whose first Gs all came from runnext (which
		 * keeps the tick, inherit) must not sit at tick 0. */
		goro__allp[i].schedtick = 1;
		goro__timers_pinit(&goro__allp[i]);
	}

	struct m *m0 = &goro__m0;
	struct g *g1 = &goro__g1;
	m0init(m0, g1);
	/* An alternate signal stack the main thread set before goro started
	 * is G1's; M0 gets one of the runtime's, as every M (shim/signals.c,
	 * sigaltstack). */
	goro__sys2(SYS_sigaltstack, NULL, &g1->altstack);
	g1->altstack.ss_flags &= ~SS_ONSTACK;
	goro__signal_minit(m0);

	g1->tp = goro__getfs();
	g1->m = m0;
	g1->goid = 1;
	g1->tid = m0->tid;
	g1->timer_idx = -1;
	g1->cancel_state = PTHREAD_CANCEL_ENABLE;
	g1->cancel_type = PTHREAD_CANCEL_DEFERRED;
	g1->spec[0] = g1->spec0;
	goro__sys4(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &g1->sigmask, 8);
	m0->sigmask = g1->sigmask;
	a_store_rlx(&g1->status, G_RUNNING);
	a_store_rlx(&g1->ctxsaved, 1);
	goro__sched.goidgen = 1;
	goro__sched.gcount = 1;
	goro__sched.maxgcount = 1;
	goro__sched.gcreated = 0;
	allgadd(g1);
	m0->curg = g1;

	goro__lock(&goro__sched.lock);
	for (int32_t i = procs - 1; i >= 1; i--)
		pidleput(&goro__allp[i]);
	goro__unlock(&goro__sched.lock);
	acquirep(m0, &goro__allp[0]);
	goro__started = true;
}

/* One snapshot of the counters, for the stats line (GORO_STATS=1) and
 * /debug/vars: a name and a value each, in the stats line's order; the
 * ones marked live are gauges that only /debug/vars shows. */
struct counter {
	const char *name;
	long long v;
	bool live;
};
enum { NCOUNTERS = 38 };

static void counters(struct counter c[NCOUNTERS])
{
	unsigned long long nswitch = 0, nsteal = 0, nglob = 0, fswrites = 0, fssys = 0;
	for (int32_t i = 0; i < goro__gomaxprocs; i++) {
		nswitch += goro__allp[i].nswitch;
		nsteal += goro__allp[i].nsteal;
		nglob += goro__allp[i].nglobtake;
	}
	for (struct m *mp = goro__sched.allm; mp; mp = mp->alllink) {
		fswrites += mp->fswrites;
		fssys += mp->fssyscalls;
	}
	const struct counter all[NCOUNTERS] = {
		{ "gs_created", (long long)a_load_rlx(&goro__sched.gcreated), false },
		{ "live_gs", (long long)a_load_rlx(&goro__sched.gcount), true },
		{ "max_live_gs", (long long)a_load_rlx(&goro__sched.maxgcount), false },
		{ "ms_created", (long long)goro__sched.mnext, false },
		{ "idle_ms", goro__sched.nmidle, true },
		{ "idle_ps", a_load_rlx(&goro__sched.npidle), true },
		{ "global_runq", a_load_rlx(&goro__sched.runqsize), true },
		{ "context_switches", (long long)nswitch, false },
		{ "steals", (long long)nsteal, false },
		{ "globrunq_takes", (long long)nglob, false },
		{ "gomaxprocs", goro__gomaxprocs, false },
		{ "syscalls", (long long)a_load_rlx(&goro__sched.nsyscall), false },
		{ "foreign_threads", (long long)a_load_rlx(&goro__sched.nforeign), false },
		{ "nop_waits", (long long)a_load_rlx(&goro__sched.nnopwait), false },
		{ "handoffs", (long long)a_load_rlx(&goro__sched.nhandoff), false },
		{ "preempt_requests", (long long)a_load_rlx(&goro__sched.npreempt), false },
		{ "async_preemptions", (long long)a_load_rlx(&goro__sched.nasyncpreempt), false },
		{ "preempt_deferred", (long long)a_load_rlx(&goro__sched.npreemptdefer), false },
		{ "wake_preemptions", (long long)a_load_rlx(&goro__sched.nwakepreempt), false },
		{ "netpoll_parks", (long long)a_load_rlx(&goro__sched.nnetpollpark), false },
		{ "blocked_calls_redone", (long long)a_load_rlx(&goro__sched.nblockedm), false },
		{ "early_block_checks", (long long)a_load_rlx(&goro__sched.nearlyblock), false },
		{ "trapped_calls", (long long)a_load_rlx(&goro__sched.ntrapped), false },
		{ "trapped_waits", (long long)a_load_rlx(&goro__sched.ntrappedwait), false },
		{ "timer_waits", (long long)a_load_rlx(&goro__sched.ntimerwait), false },
		{ "timer_spins", (long long)a_load_rlx(&goro__sched.ntimerspin), false },
		{ "timer_lead_ns", goro__timer_lead(), false },
		{ "fs_writes", (long long)fswrites, false },
		{ "fsgsbase", (goro__fsgsbase ? 1 : 0) | (goro__ldt_size ? 2 : 0), false },
		{ "fs_syscalls", (long long)fssys, false },
		{ "stacks_scavenged", (long long)a_load_rlx(&goro__sched.gscavenged), false },
		{ "ms_exited", (long long)goro__sched.nmexit, false },
		{ "gs_reused", (long long)a_load_rlx(&goro__sched.greused), false },
		{ "declared_calls", (long long)a_load_rlx(&goro__sched.ndeclared), false },
		{ "sigstacks_taken", (long long)a_load_rlx(&goro__sched.nsigstacktaken), false },
		{ "ksched", (long long)a_load_rlx(&goro__sched.nksched), false },
		{ "ksched_raw", (long long)a_load_rlx(&goro__sched.nkraw), false },
		{ "trap_sites_restored", (long long)a_load_rlx(&goro__sched.ntraprestored), false },
	};
	memcpy(c, all, sizeof all);
}

/* The counters as one JSON object (the /debug/vars endpoint). */
void goro__stats_json_fd(int fd)
{
	struct counter c[NCOUNTERS];
	counters(c);
	char buf[2048];
	size_t n = 0;
	for (int i = 0; i < NCOUNTERS && n < sizeof buf; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%s\"%s\": %lld", i ? ", " : "{", c[i].name, c[i].v);
	if (n < sizeof buf)
		(void)snprintf(buf + n, sizeof buf - n, "}\n");
	goro__write_fd(fd, buf);
}

void goro__print_stats(void)
{
	struct counter c[NCOUNTERS];
	counters(c);
	char buf[2048];
	size_t n = (size_t)snprintf(buf, sizeof buf, "goro: stats:");
	for (int i = 0; i < NCOUNTERS && n < sizeof buf; i++)
		if (!c[i].live)
			n += (size_t)snprintf(buf + n, sizeof buf - n, " %s=%lld", c[i].name, c[i].v);
	if (n < sizeof buf)
		(void)snprintf(buf + n, sizeof buf - n, "\n");
	goro__write_err(buf);
}

/* ---- system calls --------------------------------------------------------- */

void goro__entersyscall(void)
{
	struct g *gp = getg();
	struct m *mp = gp->m;
	if (!goro__started || !mp || mp->curg != gp)
		return;
	gp->nblock++; /* wake-up preemption's ages (sched/preempt.c) */
	goro__slack_g(mp, gp); /* its kernel waits get its own timer slack */
	/* Nested (system() waits through waitpid): the outer call owns it. */
	if (gp->syscalldepth++ > 0 || !mp->p)
		return;
	/* Detach the P as Go does: whoever wins the status CAS (this M on
	 * return, or sysmon) wires it again, so a P retaken, handed to
	 * another M and put back in P_SYSCALL by that M cannot be owned
	 * twice. */
	struct p *pp = mp->p;
	GORO_TRACE(TEV_GSTOP, gp, 0, "syscall");
	mp->oldp = pp;
	mp->syscalltick = ++pp->syscalltick;
	mp->p = NULL;
	pp->m = NULL;
	a_store_rlx(&gp->status, G_SYSCALL);
	a_store_rel(&pp->status, P_SYSCALL);
	a_fetch_add_rlx(&goro__sched.nsyscall, 1);
}

/* The P of this M's system call, now, unless someone took it already. */
static void handoff_now(struct p *pp)
{
	int32_t s = P_SYSCALL;
	if (!a_cas(&pp->status, &s, P_IDLE))
		return;
	a_fetch_add_rlx(&goro__sched.nhandoff, 1);
	GORO_TRACE(TEV_HANDOFF, NULL, pp->id, NULL);
	handoffp(pp);
}

/* entersyscall, and the P handed to another M now rather than by sysmon:
 * the call will block (Go: entersyscallblock). */
void goro__entersyscallblock(void)
{
	goro__entersyscall();
	struct g *gp = getg();
	struct m *mp = gp->m;
	if (!goro__started || !mp || gp->syscalldepth != 1 || !mp->oldp)
		return;
	handoff_now(mp->oldp);
}

static void exitsyscall0(struct g *gp)
{
	struct m *mp = gp->m;
	cpu_out(gp);
	a_store_rlx(&gp->status, G_RUNNABLE);
	mp->curg = NULL;
	goro__lock(&goro__sched.lock);
	struct p *pp = pidleget();
	if (!pp)
		goro__globrunqput(gp);
	goro__unlock(&goro__sched.lock);
	if (pp) {
		acquirep(mp, pp);
		execute(mp, gp);
	}
	goro__wakepreempt(); /* every P busy: the kernel would preempt one */
	if (mp->lockedg)
		stoplockedm(mp); /* the G is queued; whoever takes it wakes us */
	stopm(mp);
	schedule(mp);
}

/* A G out of its system call whose P sysmon handed to another M (or a
 * kernel-scheduled G that had none): take an idle P, else queue the G and
 * park the M (Go: exitsyscallfast, exitsyscall0). */
static void exitsyscall_slow(struct g *gp, struct m *mp)
{
	struct p *np = idle_p();
	if (np) {
		acquirep(mp, np);
		a_store_rlx(&gp->status, G_RUNNING);
		GORO_TRACE(TEV_GSTART, gp, 0, NULL);
	} else {
		mcall(gp, exitsyscall0);
	}
}

void goro__exitsyscall(void)
{
	struct g *gp = getg();
	struct m *mp = gp->m;
	if (!mp || gp->syscalldepth == 0 || --gp->syscalldepth > 0 || !mp->oldp)
		return;
	int saved = errno;
	struct p *pp = mp->oldp;
	mp->oldp = NULL;
	int32_t s = P_SYSCALL;
	if (a_cas(&pp->status, &s, P_IDLE)) {
		/* Still ours (Go: exitsyscallfast). */
		acquirep(mp, pp);
		a_store_rlx(&gp->status, G_RUNNING);
		GORO_TRACE(TEV_GSTART, gp, 0, NULL);
		return;
	}
	exitsyscall_slow(gp, mp);
	errno = saved;
}

/* Some P's own ring holds a G. */
static bool any_runq(void)
{
	for (int32_t i = 0; i < goro__gomaxprocs; i++)
		if (!goro__runqempty(&goro__allp[i]))
			return true;
	return false;
}

/* Give away a P retaken from a system call (Go: handoffp).  Runs on
 * sysmon, or on an M about to block, without a P.
 *
 * Go starts a spinning M here whenever no M spins and no P is idle, for a
 * G another P's ring may hold.  goro parks the P and looks at the rings
 * after npidle has risen instead (the delicate dance of the comment at the
 * top: a G queued later finds the idle P in its wakep): a blocking wait
 * with nothing to run (every OpenMP barrier wait at GOMAXPROCS=1) no
 * longer wakes an M that finds nothing and parks again. */
static void handoffp(struct p *pp)
{
	if (!goro__runqempty(pp) || a_load_rlx(&goro__sched.runqsize) > 0) {
		startm(pp, false);
		return;
	}
	goro__lock(&goro__sched.lock);
	if (a_load_rlx(&goro__sched.runqsize) > 0) {
		goro__unlock(&goro__sched.lock);
		startm(pp, false);
		return;
	}
	pidleput(pp); /* a seq_cst increment of npidle: before the look below */
	goro__unlock(&goro__sched.lock);
	if (any_runq() || goro__timers_pending() || goro__netpoll_waiters())
		goro__wakep(); /* someone must run them, or sleep for them */
}

/* sysmon, for a P in a system call: retake it once it has stayed in the
 * same call for a whole sysmon period, unless there is nothing for it and
 * others can take new work (then up to 10 ms, Go's rule).  true: retaken
 * and handed off. */
static bool retake_syscall(struct p *pp, int32_t s, int64_t now)
{
	uint32_t t = pp->syscalltick;
	if (pp->sysmon_syscalltick != t) {
		pp->sysmon_syscalltick = t;
		pp->sysmon_syscallwhen = now;
		return false;
	}
	if (goro__runqempty(pp) && a_load_rlx(&goro__sched.nmspinning) + a_load_rlx(&goro__sched.npidle) > 0 &&
	    now - pp->sysmon_syscallwhen < GORO_FORCE_PREEMPT_NS)
		return false;
	if (!a_cas(&pp->status, &s, P_IDLE))
		return false;
	a_fetch_add_rlx(&goro__sched.nhandoff, 1);
	GORO_TRACE(TEV_HANDOFF, NULL, pp->id, NULL);
	handoffp(pp);
	return true;
}

/* Progress diagnostic with GORO_PREEMPT=off: say why the others cannot run. */
static void report_stuck(struct p *pp, struct g *gp, int64_t now)
{
	if (!goro__cfg.preempt_off || now - pp->sysmon_when < GORO_STUCK_REPORT_NS ||
	    pp->sysmon_reported == pp->sysmon_tick ||
	    (goro__runqempty(pp) && a_load_rlx(&goro__sched.runqsize) == 0 && !goro__timers_due(now)))
		return;
	pp->sysmon_reported = pp->sysmon_tick;
	goro__errorf("goro: thread %llu%s%s%s has run for %lld ms on P%d without yielding, "
		     "and other threads are waiting for that P; asynchronous preemption is "
		     "off (GORO_PREEMPT=off), so it keeps the P until it makes a call goro "
		     "intercepts\n",
		     (unsigned long long)gp->goid, gp->name[0] ? " \"" : "", gp->name, gp->name[0] ? "\"" : "",
		     (long long)((now - pp->sysmon_when) / 1000000), pp->id);
}

static bool early_due; /* sysmon's own: goro__sysmon_early_due */

bool goro__sysmon_early_due(void) { return early_due; }

int64_t goro__early_check_ns(void)
{
	return a_load_rlx(&goro__rawcall_on) ? GORO_EARLY_RAW_NS : GORO_EARLY_CHECK_NS;
}

/* sysmon: an M that has held its P for 1 ms (100 us once a raw site is
 * known) while a G waits for one (its ring, the global queue) is looked at
 * once per schedtick: asleep in the kernel at a call goro did not
 * intercept (a raw futex wait of libgomp's), it is nudged to redo the call
 * through goro, and a raw site is learnt after 1 ms rather than 10-20
 * (docs/ARCHITECTURE.md, "Raw system calls outside libc", learning early).  A CPU-bound G costs one /proc read per
 * schedtick, on sysmon, and only when others wait. */
static void early_check(struct p *pp, struct m *mp, uint32_t t, int64_t now)
{
	if (pp->sysmon_earlycheck == t || (goro__runqempty(pp) && a_load_rlx(&goro__sched.runqsize) == 0))
		return;
	if (now - pp->sysmon_when < goro__early_check_ns()) {
		early_due = true;
		return;
	}
	pp->sysmon_earlycheck = t;
	if (goro__check_blocked(mp))
		a_fetch_add_rlx(&goro__sched.nearlyblock, 1);
}

/* sysmon, for a running P: a G that has held it for 10 ms is asked to
 * yield (Go: preemptone), again every period while it keeps it (a nudge
 * that lands where the G cannot stop — libc, goro, a signal handler — is
 * otherwise the last one); after 20 ms (1 ms while others wait: above), an
 * M asleep in the kernel in a call goro did not intercept is looked at.
 * true: it acted. */
static bool preempt_long(struct p *pp, struct m *mp, int64_t now)
{
	uint32_t t = pp->schedtick;
	if (pp->sysmon_tick != t || pp->sysmon_when == 0) { /* 0: not seen yet */
		pp->sysmon_tick = t;
		pp->sysmon_when = now;
		return false; /* a P that switches between looks needs no early one */
	}
	struct g *gp = mp->curg;
	if (gp)
		early_check(pp, mp, t, now);
	if (now - pp->sysmon_when < GORO_FORCE_PREEMPT_NS || !gp)
		return false;
	bool acted = false;
	if (now - pp->sysmon_when >= GORO_BLOCKED_CHECK_NS && pp->sysmon_blockcheck != t) {
		pp->sysmon_blockcheck = t;
		goro__check_blocked(mp);
	}
	bool first = !a_load_rlx(&gp->preempt);
	if (first || now - pp->sysmon_nudged >= GORO_FORCE_PREEMPT_NS) {
		if (first) {
			a_store_rlx(&gp->preempt, true);
			a_fetch_add_rlx(&goro__sched.npreempt, 1);
			GORO_TRACE(TEV_PREEMPT, gp, pp->id, "sysmon");
		}
		pp->sysmon_nudged = now;
		goro__preemptone(gp, mp);
		acted = true;
	}
	report_stuck(pp, gp, now);
	return acted;
}

/* sysmon: retake Ps blocked in system calls and ask Gs that held their P
 * for 10 ms to yield (Go: retake).  Returns how many it acted on. */
int64_t goro__sysmon_retake(int64_t now)
{
	int64_t n = 0;
	early_due = false;
	for (int32_t i = 0; i < goro__gomaxprocs; i++) {
		struct p *pp = &goro__allp[i];
		int32_t s = a_load_acq(&pp->status);
		struct m *mp = pp->m;
		if (s == P_SYSCALL)
			n += retake_syscall(pp, s, now);
		else if (s == P_RUNNING && mp) {
			goro__runseen(mp->curg, now); /* wake-up preemption's ages */
			n += preempt_long(pp, mp, now);
		}
	}
	return n;
}

/* ---- diagnostics ---------------------------------------------------------- */

static const char *const gstatus_name[] = { "idle", "runnable", "running", "syscall", "waiting", "dead" };

/* Go's schedtrace line (proc.go schedtrace). */
void goro__schedtrace(bool detail) { goro__schedtrace_fd(2, detail); }

void goro__schedtrace_fd(int fd, bool detail)
{
	static int64_t start;
	int64_t now = goro__nanotime();
	if (!start)
		start = now;
	char buf[4096];
	int n = snprintf(buf, sizeof buf,
			 "SCHED %lldms: gomaxprocs=%d idleprocs=%d threads=%lld spinningthreads=%d "
			 "idlethreads=%d runqueue=%d [",
			 (long long)((now - start) / 1000000), goro__gomaxprocs,
			 a_load_rlx(&goro__sched.npidle), (long long)goro__sched.mnext,
			 a_load_rlx(&goro__sched.nmspinning), goro__sched.nmidle,
			 a_load_rlx(&goro__sched.runqsize));
	for (int32_t i = 0; i < goro__gomaxprocs && n < (int)sizeof buf - 16; i++) {
		struct p *pp = &goro__allp[i];
		uint32_t len = a_load_rlx(&pp->runqtail) - a_load_rlx(&pp->runqhead);
		n += snprintf(buf + n, sizeof buf - (size_t)n, "%s%u", i ? " " : "", len);
	}
	if (n < (int)sizeof buf - 2)
		(void)snprintf(buf + n, sizeof buf - (size_t)n, "]\n");
	goro__write_fd(fd, buf);
	if (!detail)
		return;
	for (int32_t i = 0; i < goro__gomaxprocs; i++) {
		struct p *pp = &goro__allp[i];
		struct m *mp = pp->m;
		goro__fdprintf(fd, "  P%d: status=%d schedtick=%u syscalltick=%u m=%lld runqsize=%u\n", i,
			     a_load_rlx(&pp->status), pp->schedtick, pp->syscalltick,
			     mp ? (long long)mp->id : -1LL,
			     a_load_rlx(&pp->runqtail) - a_load_rlx(&pp->runqhead));
	}
	goro__dump_gs_fd(fd);
}

void goro__dump_gs(void) { goro__dump_gs_fd(2); }

/* The call stack of a switched-out G, from its saved context along the
 * frame-pointer chain (goro is built with frame pointers; a program built
 * without them ends the chain early).  Every read stays inside the G's
 * stack. */
static void backtrace_parked(int fd, struct g *gp)
{
	uintptr_t lo = (uintptr_t)gp->stack_lo, hi = (uintptr_t)gp->stack_hi;
	uintptr_t sp = gp->ctx.rsp, fp = gp->ctx.rbp;
	if (!lo) { /* G1: the main thread's stack */
		lo = sp;
		hi = sp + (8UL << 20);
	}
	if (sp < lo || sp + 8 > hi)
		return;
	uintptr_t pc = *(uintptr_t *)sp;
	for (int depth = 0; depth < 24 && pc; depth++) {
		Dl_info di;
		if (dladdr((void *)pc, &di) && di.dli_fname) {
			uintptr_t base = di.dli_sname ? (uintptr_t)di.dli_saddr : (uintptr_t)di.dli_fbase;
			goro__fdprintf(fd, "      %s+%#lx (%s)\n", di.dli_sname ? di.dli_sname : "?",
				       (unsigned long)(pc - base), di.dli_fname);
		} else {
			goro__fdprintf(fd, "      %#lx\n", (unsigned long)pc);
		}
		if (fp < sp || fp < lo || fp + 16 > hi || (fp & 7))
			break;
		pc = ((uintptr_t *)fp)[1];
		sp = fp;
		fp = ((uintptr_t *)fp)[0];
	}
}

/* Every live G: id, name, state, wait reason, start routine. */
void goro__dump_gs_fd(int fd)
{
	goro__lock(&goro__allglock);
	for (struct g *gp = goro__allgs; gp; gp = gp->alllink) {
		int st = a_load_rlx(&gp->status);
		if (st == G_IDLE || st == G_DEAD)
			continue;
		Dl_info di;
		const char *fn = "main";
		char where[256] = "";
		if (gp != &goro__g1) {
			fn = "?";
			if (dladdr((void *)gp->start, &di)) {
				if (di.dli_sname)
					fn = di.dli_sname;
				/* static functions have no dynamic symbol: give the
				 * offset, for addr2line */
				(void)snprintf(where, sizeof where, " (%s+%#lx)", di.dli_fname ? di.dli_fname : "?",
					       (unsigned long)((uintptr_t)gp->start - (uintptr_t)di.dli_fbase));
			}
		}
		const char *reason = st == G_WAITING && gp->waitreason ? gp->waitreason : gstatus_name[st];
		goro__fdprintf(fd, "  goroutine %llu [%s]: thread \"%s\" tid %d, %s, start routine %s%s\n",
			     (unsigned long long)gp->goid, reason, gp->name, gp->tid, gstatus_name[st], fn,
			     where);
		if (st == G_WAITING || st == G_RUNNABLE)
			backtrace_parked(fd, gp);
	}
	goro__unlock(&goro__allglock);
}

/* Go: checkdead.  Every M idle, nothing runnable, no timer or I/O wait
 * pending, no G in a system call, yet live Gs: nothing can ever wake
 * them (short of a signal handler calling sem_post, which sysmon would
 * see). */
bool goro__all_asleep(void)
{
	/* Lock-free answers first: sysmon asks every cycle. */
	if (a_load_rlx(&goro__sched.npidle) != goro__gomaxprocs || a_load_rlx(&goro__sched.gcount) == 0 ||
	    goro__timers_pending() || goro__netpoll_waiters() || a_load_rlx(&goro__sched.runqsize) > 0 ||
	    a_load_rlx(&goro__sched.nmspinning) > 0)
		return false;
	goro__lock(&goro__sched.lock);
	bool dead = goro__sched.nmidle == goro__sched.mnext &&
		    a_load_rlx(&goro__sched.npidle) == goro__gomaxprocs;
	goro__unlock(&goro__sched.lock);
	if (!dead)
		return false;
	for (int32_t i = 0; i < goro__gomaxprocs; i++)
		if (!goro__runqempty(&goro__allp[i]))
			return false;
	return !goro__others_alive(); /* a thread goro did not make may wake one */
}

/* ---- LockOSThread (Go: LockOSThread / UnlockOSThread) ------------------- */

/* ---- real-time policies on locked Ms -------------------------------------
 * A G with SCHED_FIFO/RR runs locked to an M of its own, kernel-scheduled:
 * without a P, as a G in a system call that never ends, so the kernel
 * orders it against every other thread by the policy, priority and CPU
 * mask goro applies to that M's kernel thread, exactly as natively
 * (docs/ARCHITECTURE.md, "Real-time threads run kernel-scheduled").  The
 * policy and a locked G's mask are applied when the G locks and at every
 * later change, dropped (SCHED_OTHER, the process's CPUs) when it unlocks
 * or exits, before the M runs anything else; an M such an M makes does not
 * inherit them (mstart). */
static bool rt_policy(int policy) { return policy == SCHED_FIFO || policy == SCHED_RR; }

static long sched_set(int tid, int policy, int prio)
{
	struct sched_param sp = { .sched_priority = prio };
	return goro__sys3(SYS_sched_setscheduler, tid, policy, &sp);
}

int goro__sched_apply(struct g *gp)
{
	struct m *mp = gp->lockedm;
	if (!mp)
		return 0;
	int tid = mp == getm() ? 0 : mp->tid;
	if (rt_policy(gp->sched_policy) || mp->rtapplied || mp->resetsched) {
		long r = sched_set(tid, gp->sched_policy, gp->sched_prio);
		if (r < 0)
			return (int)-r;
		mp->rtapplied = rt_policy(gp->sched_policy);
		mp->resetsched = false;
	}
	if (gp->affinity_set || mp->affapplied || mp->resetaff) {
		const cpu_set_t *set = gp->affinity_set ? &gp->affinity : &goro__sched.cpus;
		long r = goro__sys3(SYS_sched_setaffinity, tid, sizeof *set, set);
		if (r < 0)
			return (int)-r;
		mp->affapplied = gp->affinity_set;
		mp->resetaff = false;
	}
	return 0;
}

/* On mp's own kernel thread. */
static void sched_unapply(struct m *mp)
{
	if (mp->rtapplied || mp->resetsched)
		sched_set(0, SCHED_OTHER, 0);
	if (mp->affapplied || mp->resetaff)
		goro__sys3(SYS_sched_setaffinity, 0, sizeof goro__sched.cpus, &goro__sched.cpus);
	mp->rtapplied = mp->resetsched = false;
	mp->affapplied = mp->resetaff = false;
}

/* ---- kernel-scheduled Gs ---------------------------------------------------
 * Such a G has syscalldepth 1 and status G_SYSCALL while it runs: every
 * wait blocks its kernel thread (goro__park_until's "in a system call"
 * path, goro__park_nop), its wakers wake that thread through the claim
 * protocol, its I/O blocks in the kernel (the netpoller's fallback), a G
 * it readies goes to the global queue, as from a thread without a P. */

/* gp, wired on mp (its locked M), should run kernel-scheduled. */
static bool kwant(const struct m *mp, const struct g *gp)
{
	return rt_policy(gp->sched_policy) && !gp->ksched && !gp->kdone && gp->syscalldepth == 0 &&
	       gp->lockedm == mp;
}

static void kmark(struct g *gp)
{
	gp->ksched = true;
	gp->syscalldepth = 1;
	a_store_rlx(&gp->status, G_SYSCALL);
	a_fetch_add_rlx(&goro__sched.nksched, 1);
}

/* gp, just wired on mp with a P: give the P away (Go: handoffp). */
static void kdetach(struct m *mp, struct g *gp)
{
	kmark(gp);
	handoffp(releasep(mp));
}

/* Run mp's locked G without a P. */
static __attribute__((noreturn)) void kexecute(struct m *mp, struct g *gp)
{
	wireg(mp, gp);
	kmark(gp);
	goro__gogo(&gp->ctx, gp);
}

/* A new M made for a real-time G: wait until kstart has applied its
 * policy and mask, then run it. */
static __attribute__((noreturn)) void kwaitstart(struct m *mp)
{
	goro__notesleep(&mp->park);
	goro__noteclear(&mp->park);
	kexecute(mp, mp->lockedg);
}

/* newproc: the attr's CPU mask; a real-time G then gets a kernel thread of
 * its own at once (an idle M, else a new one), its policy and mask applied
 * by tid before it runs and before pthread_create returns, as nptl applies
 * them to a new thread it holds stopped (G28).  true: gp is started. */
static bool kstart(struct g *gp, const struct goro_newg *ng)
{
	if (ng->affinity_set) {
		gp->affinity = ng->affinity;
		gp->affinity_set = true;
	}
	gp->ksched = gp->kdone = gp->kraw = false; /* a pooled G's last life */
	if (!rt_policy(gp->sched_policy))
		return false;
	goro__lock(&goro__sched.lock);
	struct m *mp = mget();
	goro__unlock(&goro__sched.lock);
	if (mp)
		mp->lockedg = gp;
	else
		mp = newm(NULL, false, gp);
	gp->wantlock = false;
	gp->lockedm = mp;
	a_fetch_add(&goro__nlocked, 1);
	int e = goro__sched_apply(gp);
	if (e)
		goro__errorf("goro: cannot give a new thread its real-time policy %d, priority %d: %s\n",
			     gp->sched_policy, gp->sched_prio, strerror(e));
	goro__notewakeup(&mp->park);
	return true;
}

void goro__ksched_enter(void)
{
	struct g *gp = getg();
	struct m *mp = gp->m;
	if (!goro__started || !mp || mp->curg != gp || !mp->p || !kwant(mp, gp))
		return;
	mp->locks++; /* no preemption between the mark and the hand-off */
	kdetach(mp, gp);
	mp->locks--;
}

/* The running G waits with a futex call of its own (sched/rawcall.c): from
 * now on it runs kernel-scheduled, locked to its M, its P given away, so
 * its spins and waits meet the other threads' in the kernel's scheduler,
 * as natively (docs/ARCHITECTURE.md, "Raw system calls outside libc").
 * true: it does. */
bool goro__ksched_raw(void)
{
	struct g *gp = getg();
	struct m *mp = gp->m;
	if (gp->ksched)
		return true;
	if (!goro__started || !mp || mp->curg != gp || !mp->p || gp->syscalldepth)
		return false;
	goro__lockosthread();
	if (gp->lockedm != mp)
		return false;
	gp->kraw = true;
	mp->locks++; /* no preemption between the mark and the hand-off */
	kdetach(mp, gp);
	mp->locks--;
	a_fetch_add_rlx(&goro__sched.nkraw, 1);
	return true;
}

void goro__ksched_leave(void)
{
	struct g *gp = getg();
	if (!gp->ksched || gp->syscalldepth != 1 || (gp->kraw && !gp->kdone))
		return; /* not kernel-scheduled, inside a call of its own, or for good */
	gp->ksched = gp->kraw = false;
	gp->syscalldepth = 0;
	exitsyscall_slow(gp, gp->m);
}

void goro__lockosthread(void)
{
	struct g *gp = getg();
	struct m *mp = gp->m;
	if (!goro__started || !mp || gp->lockedm)
		return;
	gp->lockedm = mp;
	mp->lockedg = gp;
	a_fetch_add(&goro__nlocked, 1);
}

void goro__unlockosthread(void)
{
	struct g *gp = getg();
	struct m *mp = gp->lockedm;
	if (!mp)
		return;
	gp->lockedm = NULL;
	mp->lockedg = NULL;
	a_fetch_add(&goro__nlocked, -1);
	sched_unapply(mp);
}
