/* Parking on an address: the runtime's futex (Go: sema.go's semtable and
 * semaRoot).  Every pthread object that must block a G (join, once, and
 * the sync primitives) keeps its state in its own memory and parks here on
 * its address.
 *
 * The table: SEMTABSZ buckets, each a lock and a treap (a binary search
 * tree by address, a min-heap by random ticket, so expected O(log n)
 * depth) of the addresses waited on in that bucket.  The node of an
 * address is its first waiter; the others hang off it in FIFO order
 * (waitnext/waitprev, the node's waittail).  So a wake finds its address
 * in O(log addresses) and never walks another address's waiters, however
 * many park in the same bucket (bench: wait_crowded).
 *
 * A waiter checks its condition under the bucket lock and parks; a waker
 * takes the bucket lock, dequeues waiters for the address and readies them
 * through the claim protocol (sched/park.c), so a timer or an interruption
 * racing with the event wakes the G once.  A waiter that finds itself no
 * longer enqueued after waking was woken by the event, whatever else
 * happened. */
#include <string.h>

#include "sched/runtime.h"

#define SEMTABSZ 251 /* Go: semTabSize */

struct semaroot {
	struct goro_mutex lock;
	struct g *treap; /* the node (first waiter) of each address */
	uint64_t seed;   /* ticket generator (xorshift), under lock */
} __attribute__((aligned(64)));

static struct semaroot semtable[SEMTABSZ];

static struct semaroot *root(const void *addr)
{
	return &semtable[((uintptr_t)addr >> 3) % SEMTABSZ];
}

/* ---- the treap; every function here requires r->lock ------------------- */

/* The node of addr, or NULL; *slotp and *parentp: where it would go. */
static struct g *find(struct semaroot *r, const void *addr, struct g ***slotp, struct g **parentp)
{
	struct g **slot = &r->treap, *parent = NULL;
	for (struct g *t = *slot; t; t = *slot) {
		if (t->waitaddr == addr)
			return t;
		parent = t;
		slot = (uintptr_t)addr < (uintptr_t)t->waitaddr ? &t->waitleft : &t->waitright;
	}
	if (slotp) {
		*slotp = slot;
		*parentp = parent;
	}
	return NULL;
}

/* Point the link that held old (p's child, or the root) at new. */
static void setchild(struct semaroot *r, struct g *p, struct g *old, struct g *new)
{
	if (!p)
		r->treap = new;
	else if (p->waitleft == old)
		p->waitleft = new;
	else
		p->waitright = new;
	if (new)
		new->waitparent = p;
}

/* x's child on side `right` (0: left) */
static struct g **kid(struct g *x, bool right) { return right ? &x->waitright : &x->waitleft; }

/* x's child y on side `right` takes x's place and x becomes y's child on
 * the other side (Go: semaRoot.rotateLeft with right, rotateRight
 * without). */
static void rotate(struct semaroot *r, struct g *x, bool right)
{
	struct g *y = *kid(x, right), *b = *kid(y, !right);
	setchild(r, x->waitparent, x, y);
	*kid(y, !right) = x;
	x->waitparent = y;
	*kid(x, right) = b;
	if (b)
		b->waitparent = x;
}

/* Insert gp, the first of a FIFO ending at gp->waittail, as the node of
 * its waitaddr at slot, then rotate it up to heap order. */
static void node_insert(struct semaroot *r, struct g *gp, struct g **slot, struct g *parent)
{
	uint64_t x = r->seed ? r->seed : 0x9e3779b97f4a7c15ULL;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	r->seed = x;
	gp->waitticket = (uint32_t)x | 1;
	gp->waitleft = gp->waitright = NULL;
	gp->waitparent = parent;
	*slot = gp;
	while (gp->waitparent && gp->waitparent->waitticket > gp->waitticket) {
		rotate(r, gp->waitparent, gp->waitparent->waitright == gp);
	}
}

/* Take node t (with its FIFO) out of the treap: rotate it down to a leaf,
 * then cut it off. */
static void node_delete(struct semaroot *r, struct g *t)
{
	while (t->waitleft || t->waitright) {
		/* the child with the smaller ticket comes up */
		rotate(r, t, t->waitright && (!t->waitleft || t->waitleft->waitticket >= t->waitright->waitticket));
	}
	setchild(r, t->waitparent, t, NULL);
	t->waitparent = NULL;
}

/* The second waiter nx of node t takes t's place in the treap. */
static void node_replace(struct semaroot *r, struct g *t, struct g *nx)
{
	nx->waitleft = t->waitleft;
	nx->waitright = t->waitright;
	nx->waitticket = t->waitticket;
	nx->waittail = t->waittail;
	setchild(r, t->waitparent, t, nx);
	if (nx->waitleft)
		nx->waitleft->waitparent = nx;
	if (nx->waitright)
		nx->waitright->waitparent = nx;
	t->waitleft = t->waitright = t->waitparent = NULL;
}

/* The waiter of t's FIFO that a real-time gp goes before: the first with
 * a lower priority (every other G counts as lower), as the kernel queues a
 * futex's waiters (a plist by priority, FIFO within one); NULL: the tail. */
static struct g *rt_before(struct g *t, const struct g *gp)
{
	if (__builtin_expect(!goro__g_rt(gp), 1))
		return NULL;
	while (t && goro__g_rt(t) && t->sched_prio >= gp->sched_prio)
		t = t->waitnext;
	return t;
}

static void enqueue(struct semaroot *r, void *addr, struct g *gp)
{
	gp->waitaddr = addr;
	a_store_rel(&gp->waitaddr_atomic, addr);
	gp->waitnext = gp->waitprev = NULL;
	gp->waitleft = gp->waitright = gp->waitparent = NULL;
	gp->waitenq = true;
	struct g **slot, *parent;
	struct g *t = find(r, addr, &slot, &parent);
	struct g *at = t ? rt_before(t, gp) : NULL;
	if (at) { /* at's place: the node's own when at is the node */
		gp->waitnext = at;
		gp->waitprev = at->waitprev;
		if (at == t)
			node_replace(r, t, gp);
		else
			at->waitprev->waitnext = gp;
		at->waitprev = gp;
		return;
	}
	if (t) {
		gp->waitprev = t->waittail;
		t->waittail->waitnext = gp;
		t->waittail = gp;
		return;
	}
	gp->waittail = gp;
	node_insert(r, gp, slot, parent);
}

static void dequeue(struct semaroot *r, struct g *gp)
{
	struct g *prev = gp->waitprev, *next = gp->waitnext;
	if (prev) {
		prev->waitnext = next;
		if (next)
			next->waitprev = prev;
		else
			find(r, gp->waitaddr, NULL, NULL)->waittail = prev;
	} else if (next) {
		next->waitprev = NULL;
		node_replace(r, gp, next);
	} else {
		node_delete(r, gp);
	}
	gp->waitnext = gp->waitprev = NULL;
	gp->waitenq = false;
}

/* ---- parking and waking ------------------------------------------------ */

static bool unlock_root(struct g *gp, void *arg)
{
	goro__unlock(&((struct semaroot *)arg)->lock);
	return true;
}

/* After a timeout or an interruption: leave the queue, following
 * goro__addrrequeue's moves.  False when the event already took gp. */
static bool dequeue_self(struct g *gp)
{
	for (;;) {
		void *a = a_load_acq(&gp->waitaddr_atomic);
		struct semaroot *r = root(a);
		goro__lock(&r->lock);
		if (a_load_rlx(&gp->waitaddr_atomic) != a) {
			goro__unlock(&r->lock);
			continue;
		}
		bool enq = gp->waitenq;
		if (enq)
			dequeue(r, gp);
		goro__unlock(&r->lock);
		return enq;
	}
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
		if (!cancelable)
			goro__async_cancel_point();
		return GORO_WAKE_INTERRUPTED;
	}
	enqueue(r, addr, gp);
	enum goro_wake w = goro__park_until(unlock_root, r, reason, deadline);
	goro__park_done(gp);
	if (w != GORO_WAKE_EVENT && !dequeue_self(gp))
		w = GORO_WAKE_EVENT;
	goro__sig_resume(gp); /* off the queue: a handler may exit */
	/* Not a cancellation point: only an asynchronous cancel acts here. */
	if (w == GORO_WAKE_INTERRUPTED && !cancelable)
		goro__async_cancel_point();
	return w;
}

int goro__addrwake(void *addr, int n)
{
	struct semaroot *r = root(addr);
	int woken = 0;
	struct gqueue q = { NULL, NULL };
	goro__lock(&r->lock);
	struct g *gp = find(r, addr, NULL, NULL);
	while (gp && woken < n) {
		struct g *next = gp->waitnext;
		dequeue(r, gp);
		woken++;
		if (goro__claim(gp))
			goro__gqueue_push(&q, gp);
		gp = next;
	}
	goro__unlock(&r->lock);
	while ((gp = goro__gqueue_pop(&q)))
		goro__ready_claimed(gp);
	return woken;
}

/* Both bucket locks, in address order. */
static void lock2(struct semaroot *a, struct semaroot *b)
{
	if (a == b) {
		goro__lock(&a->lock);
		return;
	}
	goro__lock(&(a < b ? a : b)->lock);
	goro__lock(&(a < b ? b : a)->lock);
}

/* Move the whole FIFO of node h (already out of its treap) to address to,
 * behind to's own waiters.  Requires both locks. */
static void move_fifo(struct semaroot *rt, struct g *h, void *to)
{
	for (struct g *gp = h; gp; gp = gp->waitnext) {
		gp->waitaddr = to;
		a_store_rel(&gp->waitaddr_atomic, to);
	}
	struct g **slot, *parent;
	struct g *t = find(rt, to, &slot, &parent);
	if (!t) {
		node_insert(rt, h, slot, parent);
		return;
	}
	h->waitprev = t->waittail;
	t->waittail->waitnext = h;
	t->waittail = h->waittail;
}

void goro__addrrequeue(void *from, void *to)
{
	struct semaroot *rf = root(from), *rt = root(to);
	struct g *first = NULL, *gp;
	lock2(rf, rt);
	/* Wake one: the first waiter whose claim we win (a timer or an
	 * interruption may have claimed some already: they only leave). */
	while (!first && (gp = find(rf, from, NULL, NULL))) {
		dequeue(rf, gp);
		if (goro__claim(gp))
			first = gp;
	}
	struct g *h = find(rf, from, NULL, NULL);
	if (h && from != to) {
		node_delete(rf, h);
		move_fifo(rt, h, to);
	}
	goro__unlock(&rf->lock);
	if (rf != rt)
		goro__unlock(&rt->lock);
	if (first) {
		/* It wakes as the mutex's: it must take the word as 2 for the
		 * others moved behind it (shim/cond.c). */
		first->waitaddr = to;
		goro__ready_claimed(first);
	}
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
