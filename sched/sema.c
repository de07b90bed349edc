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
	gp->schedlink = NULL;
	gp->waitprev = r->tail;
	if (r->tail)
		r->tail->schedlink = gp;
	else
		r->head = gp;
	r->tail = gp;
	gp->waitenq = true;
}

static void dequeue(struct semaroot *r, struct g *gp)
{
	if (gp->waitprev)
		gp->waitprev->schedlink = gp->schedlink;
	else
		r->head = gp->schedlink;
	if (gp->schedlink)
		gp->schedlink->waitprev = gp->waitprev;
	else
		r->tail = gp->waitprev;
	gp->schedlink = gp->waitprev = NULL;
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
	goro__lock(&r->lock);
	if (stillwait && !stillwait(addr, arg)) {
		goro__unlock(&r->lock);
		return GORO_WAKE_EVENT;
	}
	if (cancelable) {
		a_store_rel(&gp->cancelable, true);
		atomic_thread_fence(memory_order_seq_cst); /* pairs with pthread_cancel */
		if (goro__cancel_requested(gp)) {
			a_store_rlx(&gp->cancelable, false);
			goro__unlock(&r->lock);
			return GORO_WAKE_INTERRUPTED;
		}
	}
	gp->waitaddr = addr;
	enqueue(r, gp);
	enum goro_wake w = goro__park_until(unlock_root, r, reason, deadline);
	a_store_rlx(&gp->cancelable, false);
	if (w != GORO_WAKE_EVENT) {
		goro__lock(&r->lock);
		if (gp->waitenq)
			dequeue(r, gp);
		else
			w = GORO_WAKE_EVENT;
		goro__unlock(&r->lock);
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
		next = gp->schedlink;
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
