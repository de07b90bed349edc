/* Timers: Gs sleeping until a monotonic deadline, in a min-heap per P
 * (Go: p.timers in runtime/time.go).  A G's timer goes into the heap of
 * the P it runs on; every M with a P runs the due timers of its own P and
 * of the others (Go's timer stealing in findRunnable/stealWork), guided by
 * each heap's earliest deadline, readable without its lock (when0).  An M
 * with nothing to do blocks in the netpoller until the earliest deadline
 * of all heaps (the timer waiter); sysmon is the backstop. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "sched/runtime.h"
#include "sched/sys.h"

/* The process's timer slack as the main thread had it (50 us by default):
 * a G's kernel calls get it, or the G's own, as a thread's natively; only
 * the runtime's timed waits take 1 ns (goro__signal_minit).  Without it a
 * raw futex wait of 5 us ended before a waker in another process could
 * reach it, where natively the slack stretched it to ~55 us (stress-ng's
 * futex stressor backed off for 250 ms at a time). */
GORO_HIDDEN uint64_t goro__timerslack0;

void goro__slack_set(struct m *mp, uint64_t ns)
{
	goro__sys2(SYS_prctl, PR_SET_TIMERSLACK, (long)ns);
	mp->timerslack = ns;
}

static _Atomic int64_t ntimers;        /* timers in all heaps */
/* The timer waiter: the one idle M that blocks in the netpoller until the
 * nearest timer (goro__timerwait). */
static struct goro_mutex tw_lock;  /* guards tw_held */
static bool tw_held;               /* an M is the timer waiter */
static _Atomic bool tw_active;     /* tw_held, published for lock-free readers */
static _Atomic int64_t tw_until;   /* the waiter's deadline */

#define NEVER INT64_MAX

static bool less(struct goro_timers *t, size_t a, size_t b)
{
	return t->heap[a]->wake_when < t->heap[b]->wake_when;
}

static void hswap(struct goro_timers *t, size_t a, size_t b)
{
	struct g *x = t->heap[a];
	t->heap[a] = t->heap[b];
	t->heap[b] = x;
	t->heap[a]->timer_idx = (int64_t)a;
	t->heap[b]->timer_idx = (int64_t)b;
}

static void siftup(struct goro_timers *t, size_t i)
{
	while (i > 0 && less(t, i, (i - 1) / 2)) {
		hswap(t, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void siftdown(struct goro_timers *t, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < t->n && less(t, l, m))
			m = l;
		if (r < t->n && less(t, r, m))
			m = r;
		if (m == i)
			return;
		hswap(t, i, m);
		i = m;
	}
}

/* Requires t->lock. */
static void publish(struct goro_timers *t)
{
	a_store_rel(&t->when0, t->n ? t->heap[0]->wake_when : NEVER);
}

/* Requires t->lock. */
static void heap_remove(struct goro_timers *t, size_t i)
{
	t->heap[i]->timer_idx = -1;
	t->n--;
	a_fetch_add(&ntimers, -1);
	if (i != t->n) {
		t->heap[i] = t->heap[t->n];
		t->heap[i]->timer_idx = (int64_t)i;
		siftdown(t, i);
		siftup(t, i);
	}
	publish(t);
}

void goro__timers_pinit(struct p *pp)
{
	a_store_rlx(&pp->timers.when0, NEVER);
}

bool goro__timers_pending(void) { return a_load_rlx(&ntimers) > 0; }

/* Run the due timers of one heap; their Gs go to the current P, without
 * waking another M (the caller does, once).  Returns how many. */
static int runtimers(struct goro_timers *t, int64_t now)
{
	if (a_load_acq(&t->when0) > now)
		return 0;
	struct gqueue q = { NULL, NULL };
	goro__lock(&t->lock);
	while (t->n > 0 && t->heap[0]->wake_when <= now) {
		struct g *gp = t->heap[0];
		heap_remove(t, 0);
		if (goro__claim(gp)) {
			GORO_TRACE(TEV_TIMER, gp, 0, NULL);
			gp->timer_fired = true;
			goro__gqueue_push(&q, gp);
		}
	}
	goro__unlock(&t->lock);
	int n = 0;
	struct g *gp;
	while ((gp = goro__gqueue_pop(&q))) {
		goro__wait_parked(gp);
		goro__ready_timer(gp);
		n++;
	}
	return n;
}

/* The earliest deadline of all heaps, NEVER if none. */
static int64_t next_when(void)
{
	int64_t w = NEVER;
	for (int32_t i = 0; i < goro__gomaxprocs; i++) {
		int64_t x = a_load_acq(&goro__allp[i].timers.when0);
		if (x < w)
			w = x;
	}
	return w;
}

/* Own P's timers first, then everybody else's (timer stealing).  Returns
 * the next deadline or -1. */
int64_t goro__checktimers(int64_t now)
{
	struct m *mp = getg()->m;
	struct p *own = mp ? mp->p : NULL;
	int n = own ? runtimers(&own->timers, now) : 0;
	for (int32_t i = 0; i < goro__gomaxprocs; i++)
		if (&goro__allp[i] != own)
			n += runtimers(&goro__allp[i].timers, now);
	/* The caller (findrunnable) runs the first G itself: another M is
	 * woken only for the rest.  Waking one for a lone sleeper, as Go's
	 * ready does, costs a wake-up and an idle round trip on another CPU
	 * for every sleep. */
	if (n > 1 || (n > 0 && !own))
		goro__wakep();
	int64_t w = next_when();
	return w == NEVER ? -1 : w;
}

static void kick(void) { goro__netpoll_break(); }

/* ---- the timer lead ---------------------------------------------------------
 * A kernel timeout comes back late by the machine's wake-up latency.  On the
 * VM this was built on (a Firecracker guest whose idle vCPU halts, guest
 * halt-polling off) that is ~25 µs for every mechanism alike: nanosleep,
 * epoll_pwait2, futex, timerfd, even under SCHED_FIFO, with a 1 ns timer
 * slack.  So the sleeper asks the kernel for the deadline minus a lead it
 * learns, and lands about on the deadline; when the kernel comes back
 * before the deadline it spins out the rest.  A sleep never ends early.
 *
 * The lead tracks the LEAD_Q quantile of the latency (a stochastic
 * quantile estimate: up LEAD_Q·step on a late wake, down (1−LEAD_Q)·step
 * on an early one), so about one wake in five spins, and only for part of
 * the latency's spread.  It is capped at LEAD_MAX_NS, so a loaded machine
 * (long, erratic latency) never spins long, and a deadline nearer than the
 * lead is slept in the kernel as natively (a usleep(1) loop costs what it
 * costs natively, it does not become a busy loop). */
#define LEAD_STEP_NS 2000
#define LEAD_Q_PCT 20
#define LEAD_MAX_NS 50000
static _Atomic int64_t lead_ns;

int64_t goro__timer_lead(void) { return a_load_rlx(&lead_ns); }

static void wait_until(int64_t until)
{
	int64_t lead = a_load_rlx(&lead_ns);
	int64_t left = until - goro__nanotime();
	if (left <= 0)
		return;
	if (left <= lead) { /* too near to aim early: sleep as natively */
		goro__netpoll(left);
		return;
	}
	if (goro__netpoll(left - lead) != 0)
		return; /* an event, a kick or a signal: not a timeout */
	a_fetch_add_rlx(&goro__sched.ntimerwait, 1);
	int64_t now = goro__nanotime();
	if (now >= until) {
		lead += LEAD_STEP_NS * LEAD_Q_PCT / 100;
		a_store_rlx(&lead_ns, lead < LEAD_MAX_NS ? lead : LEAD_MAX_NS);
		return;
	}
	lead -= LEAD_STEP_NS * (100 - LEAD_Q_PCT) / 100;
	a_store_rlx(&lead_ns, lead > 0 ? lead : 0);
	a_fetch_add_rlx(&goro__sched.ntimerspin, 1);
	while (goro__nanotime() < until) /* at most the lead */
		a_spin();
}

/* Called by an M with no P and nothing to run: if timers are pending or
 * Gs wait on I/O, and no other M waits for them, block in the netpoller
 * until the nearest deadline (or an event, or a kick) and return true;
 * the caller then tries to get a P and run what became ready. */
bool goro__timerwait(struct m *mp)
{
	goro__lock(&tw_lock);
	if ((!goro__timers_pending() && !goro__netpoll_waiters()) || tw_held) {
		goro__unlock(&tw_lock);
		return false;
	}
	tw_held = true;
	int64_t until = next_when();
	a_store_rel(&tw_until, until);
	a_store_rel(&tw_active, true);
	goro__unlock(&tw_lock);
	/* A timer added after next_when() with an earlier deadline sees the
	 * flag and kicks; one added before is in until, or in this look. */
	atomic_thread_fence(memory_order_seq_cst);
	int64_t again = next_when();
	if (again < until)
		until = again;
	if (until == NEVER)
		goro__netpoll(-1); /* only I/O waiters: until an event or a kick */
	else
		wait_until(until);
	goro__lock(&tw_lock);
	tw_held = false;
	a_store_rel(&tw_active, false);
	goro__unlock(&tw_lock);
	(void)mp;
	return true;
}

bool goro__timerwait_active(void) { return a_load_rlx(&tw_active); }

/* A timer is due (sysmon's progress diagnostic). */
bool goro__timers_due(int64_t now) { return goro__timers_pending() && next_when() <= now; }

/* sysmon's backstop: timers due and nobody waiting for them.  With every
 * P busy wakep finds none: a G yields to the sleeper instead, as a woken
 * thread preempts natively (sched/preempt.c, wake-up preemption). */
void goro__sysmon_timers(int64_t now)
{
	if (goro__timers_due(now) && !a_load_acq(&tw_active)) {
		goro__wakep();
		goro__wakepreempt();
	}
}

/* sysmon's next sleep, at most us: with every P busy and no M waiting
 * for the timers, only sysmon's look runs a due one before a preemption,
 * so it sleeps until the earliest deadline (at least min_us). */
uint32_t goro__sysmon_timer_delay(uint32_t us, uint32_t min_us, int64_t now)
{
	if (!goro__timers_pending() || a_load_acq(&tw_active) || !goro__all_busy() || goro__cfg.preempt_off)
		return us; /* (with preemption off no G would yield to it anyway) */
	int64_t left = (next_when() - now) / 1000;
	if (left >= us)
		return us;
	return left > min_us ? (uint32_t)left : min_us;
}

/* No run queue, local or global, holds a G. */
static bool nothing_to_run(void)
{
	if (a_load_rlx(&goro__sched.runqsize) > 0)
		return false;
	for (int32_t i = 0; i < goro__gomaxprocs; i++)
		if (!goro__runqempty(&goro__allp[i]))
			return false;
	return true;
}

/* Park the current G (see goro__park) with an optional deadline `when`
 * (monotonic ns, < 0 for none).  The caller holds the lock that unlockf
 * releases.  Returns how the G was woken. */
enum goro_wake goro__park_until(goro_unlockf unlockf, void *arg, const char *reason, int64_t when)
{
	struct g *gp = getg();
	if (__builtin_expect(gp->nop || !goro__started, 0))
		return goro__park_nop(gp, unlockf, arg, when); /* no P to park on */
	struct m *mp = gp->m;
	/* No G to park: a program's signal handler on g0 (its M was between
	 * Gs), or a G inside a declared blocking call, which has handed its P
	 * off and must keep its M (shim/blocking_ffi.c).  The kernel thread
	 * blocks, as a thread without a P does; wakers see `nop` meanwhile
	 * (docs/ARCHITECTURE.md, "Handlers that park", "Declared blocking
	 * calls"). */
	bool insys = gp->syscalldepth > 0;
	if (__builtin_expect((mp && gp == mp->g0) || insys, 0)) {
		gp->nop = true;
		enum goro_wake w = goro__park_nop(gp, unlockf, arg, when);
		gp->nop = false;
		if (insys) /* back in its system call */
			a_store_rlx(&gp->status, G_SYSCALL);
		if (gp->ksched && !goro__g_rt(gp))
			goro__ksched_leave(); /* another thread dropped its real-time policy */
		return w;
	}
	if (when >= 0) {
		struct p *pp = mp && mp->p ? mp->p : &goro__allp[0];
		struct goro_timers *t = &pp->timers;
		goro__lock(&t->lock);
		if (t->n == t->cap) {
			size_t nc = t->cap ? t->cap * 2 : 64;
			struct g **nh = realloc(t->heap, nc * sizeof(struct g *));
			if (!nh)
				goro__throw("out of memory growing the timer heap");
			t->heap = nh;
			t->cap = nc;
		}
		gp->wake_when = when;
		gp->timerp = pp;
		t->heap[t->n] = gp;
		gp->timer_idx = (int64_t)t->n;
		t->n++;
		a_fetch_add(&ntimers, 1);
		siftup(t, t->n - 1);
		publish(t);
		goro__unlock(&t->lock);
		/* Dekker with goro__timerwait: our deadline is published before
		 * we look for a sleeper; it looks at the deadlines again after it
		 * raised its flag. */
		atomic_thread_fence(memory_order_seq_cst);
		if (!a_load_acq(&tw_active)) {
			/* Somebody must sleep for this timer.  When this M will
			 * find nothing to run once the G is parked, it will
			 * (findrunnable ends in goro__timerwait); otherwise an
			 * idle P's M.  Go wakes one always: for a lone sleeper
			 * that is a wake-up and an idle round trip on another
			 * CPU per sleep.  Work that turns up after this look
			 * comes with its own wakep. */
			if (!mp || !mp->p || gp->lockedm || !nothing_to_run())
				goro__wakep();
		} else if (when < a_load_acq(&tw_until))
			kick();
	}
	goro__park(unlockf, arg, reason);
	if (gp->timer_idx >= 0) {
		struct goro_timers *t = &gp->timerp->timers;
		goro__lock(&t->lock);
		if (gp->timer_idx >= 0)
			heap_remove(t, (size_t)gp->timer_idx);
		goro__unlock(&t->lock);
	}
	if (gp->timer_fired)
		return GORO_WAKE_TIMEOUT;
	return gp->interrupted ? GORO_WAKE_INTERRUPTED : GORO_WAKE_EVENT;
}

bool goro__timesleep(int64_t when, const char *reason)
{
	if (!goro__started) {
		int64_t left;
		while ((left = when - goro__nanotime()) > 0) {
			struct timespec ts = { left / 1000000000LL, left % 1000000000LL };
			goro__sys2(SYS_nanosleep, &ts, NULL);
		}
		return true;
	}
	if (when <= goro__nanotime())
		return true;
	struct g *gp = getg();
	uint32_t ran = gp->sigran;
	for (;;) {
		/* Parked on an address nobody wakes: only the timer, a cancel
		 * or a signal (goro__sig_interrupt) end it. */
		enum goro_wake w = goro__addrpark((void *)&gp->wake_when, NULL, NULL, reason, when, true);
		if (gp->sigran != ran || (w == GORO_WAKE_INTERRUPTED && goro__cancel_requested(gp)))
			return false; /* a handler ran in us (EINTR), or a cancel */
		if (goro__nanotime() >= when)
			return true;
		/* woken for a signal that ran elsewhere: sleep on */
	}
}

/* In a fork child: the timers belonged to threads that do not exist. */
void goro__timers_afterfork(void)
{
	for (int32_t i = 0; i < goro__gomaxprocs; i++) {
		struct goro_timers *t = &goro__allp[i].timers;
		memset(&t->lock, 0, sizeof t->lock);
		for (size_t k = 0; k < t->n; k++)
			t->heap[k]->timer_idx = -1;
		t->n = 0;
		a_store_rlx(&t->when0, NEVER);
	}
	memset(&tw_lock, 0, sizeof tw_lock);
	a_store_rlx(&ntimers, 0);
	tw_held = false;
	a_store_rlx(&tw_active, false);
}

/* fork (sched/fork.c): the timer waiter's lock, then every P's heap. */
void goro__timers_fork(enum goro_fork_phase ph)
{
	goro__fork_lock(&tw_lock, ph);
	for (int32_t i = 0; i < goro__gomaxprocs; i++)
		goro__fork_lock(&goro__allp[i].timers.lock, ph);
}
