/* Parking on an address: the runtime's futex (Go: sema.go's semtable,
 * reduced to FIFO lists per bucket).  Every pthread object that must block
 * a G (join, once, and the sync primitives) keeps its state in its own
 * memory and parks here on its address.
 *
 * A waiter checks its condition under the bucket lock and parks; a waker
 * takes the bucket lock, dequeues waiters for the address and readies them
 * through the claim protocol (sched/time.c), so a timer or an interruption
 * racing with the event wakes the G once.  A waiter that finds itself no
 * longer enqueued after waking was woken by the event, whatever else
 * happened. */
#include <string.h>

#include "sched/runtime.h"

#define SEMTABSZ 251 /* Go: semTabSize */

struct semaroot {
	struct goro_mutex lock;
	struct g *head, *tail;
} __attribute__((aligned(64)));

static struct semaroot semtable[SEMTABSZ];

static struct semaroot *root(const void *addr)
{
	return &semtable[((uintptr_t)addr >> 3) % SEMTABSZ];
}

static void enqueue(struct semaroot *r, struct g *gp)
{
	gp->waitnext = NULL;
	gp->waitprev = r->tail;
	if (r->tail)
		r->tail->waitnext = gp;
	else
		r->head = gp;
	r->tail = gp;
	gp->waitenq = true;
}

static void dequeue(struct semaroot *r, struct g *gp)
{
	if (gp->waitprev)
		gp->waitprev->waitnext = gp->waitnext;
	else
		r->head = gp->waitnext;
	if (gp->waitnext)
		gp->waitnext->waitprev = gp->waitprev;
	else
		r->tail = gp->waitprev;
	gp->waitnext = gp->waitprev = NULL;
	gp->waitenq = false;
}

static bool unlock_root(struct g *gp, void *arg)
{
	goro__unlock(&((struct semaroot *)arg)->lock);
	return true;
}

enum goro_wake goro__addrpark(void *addr, bool (*stillwait)(void *addr, void *arg), void *arg,
			      const char *reason, int64_t deadline, bool cancelable)
{
	struct g *gp = getg();
	struct semaroot *r = root(addr);
	goro__park_begin(gp);
	goro__lock(&r->lock);
	if (stillwait && !stillwait(addr, arg)) {
		goro__unlock(&r->lock);
		return GORO_WAKE_EVENT;
	}
	/* Every address wait may be woken by a signal (its handler runs,
	 * then the callers' loops wait again unless a call returns EINTR);
	 * only cancellation points by a cancel. */
	if (goro__park_interruptible(gp, cancelable)) {
		goro__unlock(&r->lock);
		goro__sig_resume(gp);
		return GORO_WAKE_INTERRUPTED;
	}
	gp->waitaddr = addr;
	a_store_rel(&gp->waitaddr_atomic, addr);
	enqueue(r, gp);
	enum goro_wake w = goro__park_until(unlock_root, r, reason, deadline);
	goro__park_done(gp);
	if (w != GORO_WAKE_EVENT) {
		/* addrrequeue may have moved us to another address's bucket. */
		for (;;) {
			void *a = a_load_acq(&gp->waitaddr_atomic);
			r = root(a);
			goro__lock(&r->lock);
			if (a_load_rlx(&gp->waitaddr_atomic) != a) {
				goro__unlock(&r->lock);
				continue;
			}
			if (gp->waitenq)
				dequeue(r, gp);
			else
				w = GORO_WAKE_EVENT;
			goro__unlock(&r->lock);
			break;
		}
	}
	return w;
}

int goro__addrwake(void *addr, int n)
{
	struct semaroot *r = root(addr);
	int woken = 0;
	struct gqueue q = { NULL, NULL };
	goro__lock(&r->lock);
	for (struct g *gp = r->head, *next; gp && woken < n; gp = next) {
		next = gp->waitnext;
		if (gp->waitaddr != addr)
			continue;
		dequeue(r, gp);
		woken++;
		if (goro__claim(gp))
			goro__gqueue_push(&q, gp);
	}
	goro__unlock(&r->lock);
	struct g *gp;
	while ((gp = goro__gqueue_pop(&q)))
		goro__ready_claimed(gp);
	return woken;
}

void goro__addrrequeue(void *from, void *to)
{
	struct semaroot *rf = root(from), *rt = root(to);
	struct g *first = NULL;
	/* Both bucket locks, in address order. */
	if (rf == rt) {
		goro__lock(&rf->lock);
	} else if (rf < rt) {
		goro__lock(&rf->lock);
		goro__lock(&rt->lock);
	} else {
		goro__lock(&rt->lock);
		goro__lock(&rf->lock);
	}
	for (struct g *gp = rf->head, *next; gp; gp = next) {
		next = gp->waitnext;
		if (gp->waitaddr != from)
			continue;
		dequeue(rf, gp);
		if (!first) {
			if (goro__claim(gp))
				first = gp;
			continue;
		}
		gp->waitaddr = to;
		a_store_rel(&gp->waitaddr_atomic, to);
		enqueue(rt, gp);
	}
	goro__unlock(&rf->lock);
	if (rf != rt)
		goro__unlock(&rt->lock);
	if (first)
		goro__ready_claimed(first);
}

/* ---- async-signal-safe wake (sem_post) --------------------------------- */

struct wakenode {
	struct wakenode *_Atomic next;
	_Atomic uint32_t queued;
	uint32_t pad;
};
static struct wakenode *_Atomic deferred;
static _Atomic int ndeferred;

bool goro__may_enter_runtime(void)
{
	struct g *gp = getg();
	/* Without a P (a thread goro did not make, or before start-up) its
	 * wakes are direct: nothing would drain a deferred one in time
	 * (sched/foreign.c); its own struct m counts the locks it holds. */
	if (gp->nop || !goro__started)
		return !goro__gsready || getm()->locks == 0;
	struct m *mp = gp->m;
	return mp && gp != mp->g0 && mp->curg == gp && mp->locks == 0 && mp->p;
}

void goro__addrwake_async(void *addr, void *node)
{
	if (goro__may_enter_runtime()) {
		goro__addrwake(addr, 1);
		return;
	}
	struct wakenode *n = node;
	uint32_t z = 0;
	if (!a_cas(&n->queued, &z, 1))
		return; /* already queued: that pass wakes a waiter per post */
	struct wakenode *h = a_load_rlx(&deferred);
	do
		n->next = h;
	while (!atomic_compare_exchange_weak_explicit(&deferred, &h, n, memory_order_release,
						      memory_order_relaxed));
	a_fetch_add(&ndeferred, 1);
}

/* Run from the scheduler and sysmon.  The object's address is the node's
 * address minus its offset in the object; both users put the node 16 bytes
 * in (sem_t). */
void goro__drain_deferred(void)
{
	goro__sig_drain(); /* signals handed on from a handler, likewise */
	if (a_load_rlx(&ndeferred) == 0)
		return;
	struct wakenode *n = a_swap(&deferred, NULL);
	while (n) {
		struct wakenode *next = n->next;
		a_fetch_add(&ndeferred, -1);
		a_store_rel(&n->queued, 0);
		/* A waiter per unit of value: wake them all, each re-checks. */
		goro__addrwake((char *)n - 16, 1 << 30);
		n = next;
	}
}

/* In a fork child: every waiter was another thread, gone now. */
void goro__sema_afterfork(void)
{
	memset(semtable, 0, sizeof semtable);
	a_store_rlx(&deferred, NULL);
	a_store_rlx(&ndeferred, 0);
}
