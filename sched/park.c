/* Parking and waking a G: the wake-claim protocol every wait uses (Go:
 * the selectDone CAS of select, casgstatus's wait for _Gwaiting).  See
 * docs/ARCHITECTURE.md, "The life of a G". */
#include <stdatomic.h>

#include "sched/runtime.h"

/* A claimed G may still be on its way into park_m: wait until it is parked. */
void goro__wait_parked(struct g *gp)
{
	while (a_load_acq(&gp->status) != G_WAITING)
		a_spin();
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
