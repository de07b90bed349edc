/* Parking and waking a G: the wake-claim protocol every wait uses (Go:
 * the selectDone CAS of select, casgstatus's wait for _Gwaiting).  See
 * docs/ARCHITECTURE.md, "The life of a G". */
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#include "sched/runtime.h"
#include "sched/sys.h"

void goro__spin_wait(int i)
{
	if (i < GORO_SPIN_BEFORE_YIELD) {
		a_spin();
		return;
	}
	/* The thread it waits for was preempted by the kernel.  A yield
	 * gives its CPU back only to threads of the caller's own priority:
	 * a real-time caller (a kernel-scheduled G) sleeps instead, so a
	 * lower thread on its CPU can run. */
	long pol = goro__sys1(SYS_sched_getscheduler, 0);
	if (pol == SCHED_FIFO || pol == SCHED_RR) {
		struct timespec ts = { 0, GORO_SPIN_RT_SLEEP_NS };
		goro__sys2(SYS_nanosleep, &ts, NULL);
	} else {
		goro__sys0(SYS_sched_yield);
	}
}

/* A claimed G may still be on its way into park_m: wait until it is parked. */
void goro__wait_parked(struct g *gp)
{
	for (int i = 0; a_load_acq(&gp->status) != G_WAITING; i++)
		goro__spin_wait(i);
}

/* ---- wake-up claims --------------------------------------------------------
 * A parked G may be woken by its event (a waker holding the wait queue's
 * lock), by its timer, or by an interruption (cancellation, signal).  Each
 * waker must first win gp->wakeclaim; only the winner readies it (Go: the
 * selectDone CAS in select).  Wakers that do not hold the queue lock may
 * claim a G that is still on its way into park_m: they wait for G_WAITING
 * before readying it, as Go's casgstatus loops do. */

bool goro__claim(struct g *gp)
{
	uint32_t zero = 0;
	return a_cas(&gp->wakeclaim, &zero, 1);
}

void goro__ready_claimed(struct g *gp)
{
	goro__wait_parked(gp);
	if (__builtin_expect(gp->nop || !goro__started, 0)) {
		/* It waits in goro__park_nop, in the kernel. */
		a_store_rel(&gp->status, G_RUNNABLE);
		goro__futex_wake((void *)&gp->status, 1);
		return;
	}
	goro__ready(gp);
}

bool goro__wake(struct g *gp)
{
	if (!goro__claim(gp))
		return false;
	goro__ready_claimed(gp);
	return true;
}

void goro__interrupt(struct g *gp)
{
	if (a_load_acq(&gp->cancelsys)) {
		/* blocked in the kernel, not parked: sched/cancelsys.c */
		goro__cancel_kick(gp);
		return;
	}
	if (goro__claim(gp)) {
		gp->interrupted = true;
		goro__ready_claimed(gp);
	}
}

void goro__park_begin(struct g *gp)
{
	a_store_rlx(&gp->wakeclaim, 0);
	gp->interrupted = false;
	gp->timer_fired = false;
}

bool goro__park_interruptible(struct g *gp, bool cancel)
{
	/* With asynchronous cancellation every wait ends at a cancel
	 * (goro__async_cancel_point). */
	if (gp->cancel_type == PTHREAD_CANCEL_ASYNCHRONOUS && gp->cancel_state == PTHREAD_CANCEL_ENABLE)
		cancel = true;
	a_store_rel(&gp->sigwaitable, true);
	if (cancel)
		a_store_rel(&gp->cancelable, true);
	atomic_thread_fence(memory_order_seq_cst); /* pairs with pthread_cancel, signals */
	bool take = a_load_rlx(&gp->sigtake), sig = take || goro__sig_interrupting(gp);
	if (!sig && !(cancel && goro__cancel_requested(gp)))
		return false;
	/* Whoever claims the G readies it: if an interrupter already has,
	 * park, and it readies us at once. */
	if (!goro__claim(gp))
		return false;
	goro__park_done(gp);
	return true;
}

void goro__park_done(struct g *gp)
{
	a_store_rlx(&gp->cancelable, false);
	a_store_rlx(&gp->sigwaitable, false);
}

bool goro__sig_interrupt(struct g *gp)
{
	if (!a_load_acq(&gp->sigwaitable) || !goro__claim(gp))
		return false;
	gp->interrupted = true;
	goro__ready_claimed(gp);
	return true;
}

/* ---- waits without a P -----------------------------------------------------
 * A thread goro did not make (sched/foreign.c), and every thread before
 * start-up, has no P to park on: it blocks its own kernel thread on the
 * futex word gp->status, exactly as glibc's objects would block it.  The
 * claim protocol is unchanged: its waker publishes G_RUNNABLE and wakes the
 * word; its deadline is its own futex timeout, after which it must win its
 * own claim (Go's timer does the same for a parked G) or wait for the
 * waker that did. */
enum goro_wake goro__park_nop(struct g *gp, goro_unlockf unlockf, void *arg, int64_t when)
{
	a_fetch_add_rlx(&goro__sched.nnopwait, 1);
	a_store_rel(&gp->status, G_WAITING);
	if (!unlockf(gp, arg)) {
		a_store_rlx(&gp->status, G_RUNNING);
		return GORO_WAKE_EVENT;
	}
	while (a_load_acq(&gp->status) == G_WAITING) {
		if (when < 0) {
			goro__futex_wait((void *)&gp->status, G_WAITING, NULL);
			continue;
		}
		int64_t left = when - goro__nanotime();
		if (left <= 0) {
			if (goro__claim(gp)) {
				gp->timer_fired = true;
				break;
			}
			when = -1; /* a waker claimed it first: it is on its way */
			continue;
		}
		struct timespec ts = { left / 1000000000LL, left % 1000000000LL };
		goro__futex_wait((void *)&gp->status, G_WAITING, &ts);
	}
	a_store_rlx(&gp->status, G_RUNNING);
	if (gp->timer_fired)
		return GORO_WAKE_TIMEOUT;
	return gp->interrupted ? GORO_WAKE_INTERRUPTED : GORO_WAKE_EVENT;
}
