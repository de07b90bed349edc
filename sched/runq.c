/* Run queues: the per-P lock-free ring and the global queue.
 * Go: runqput, runqputslow, runqget, runqgrab, runqsteal, globrunqput,
 * globrunqget in proc.go.
 *
 * The ring: only the owner P writes runqtail and the slots between head and
 * tail it has not published; anybody may advance runqhead with a CAS
 * (stealers, and the owner's runqget).  A consumer reads slots first and
 * then CASes head: if the CAS fails another consumer took those slots and
 * the values read are discarded.  The owner publishes slots with a release
 * store of tail; consumers load tail with acquire. */
#include <sched.h>

#include "sched/runtime.h"
#include "sched/sys.h"

void goro__gqueue_push(struct gqueue *q, struct g *gp)
{
	gp->schedlink = NULL;
	if (q->tail)
		q->tail->schedlink = gp;
	else
		q->head = gp;
	q->tail = gp;
}

struct g *goro__gqueue_pop(struct gqueue *q)
{
	struct g *gp = q->head;
	if (gp) {
		q->head = gp->schedlink;
		if (!q->head)
			q->tail = NULL;
		gp->schedlink = NULL;
	}
	return gp;
}

/* ---- real-time Gs ------------------------------------------------------
 * A G with SCHED_FIFO/RR never sits in a P's ring: it goes to the front of
 * the global queue, ordered by priority (after those of its own priority,
 * as the kernel queues a thread that yields), and findrunnable looks there
 * first, one G at a time (goro__globrunqget).  So the Gs that would run
 * first natively run first here, each on its own M with the policy applied
 * (sched/proc.c, goro__sched_apply); the kernel then orders those Ms. */
bool goro__g_rt(const struct g *gp)
{
	return gp->sched_policy == SCHED_FIFO || gp->sched_policy == SCHED_RR;
}

/* Requires sched.lock. */
static void rtput(struct g *gp)
{
	struct gqueue *q = &goro__sched.runq;
	struct g *prev = NULL, *at = q->head;
	while (at && goro__g_rt(at) && at->sched_prio >= gp->sched_prio) {
		prev = at;
		at = at->schedlink;
	}
	gp->schedlink = at;
	if (prev)
		prev->schedlink = gp;
	else
		q->head = gp;
	if (!at)
		q->tail = gp;
	a_store_rlx(&goro__sched.nrt, goro__sched.nrt + 1);
}

/* Requires sched.lock. */
void goro__globrunqput(struct g *gp)
{
	if (__builtin_expect(goro__g_rt(gp), 0))
		rtput(gp);
	else
		goro__gqueue_push(&goro__sched.runq, gp);
	a_store_rlx(&goro__sched.runqsize, goro__sched.runqsize + 1);
}

/* Requires sched.lock.  Appends a linked batch of n Gs. */
void goro__globrunqputbatch(struct gqueue *q, int32_t n)
{
	struct gqueue *r = &goro__sched.runq;
	if (!q->head)
		return;
	if (r->tail)
		r->tail->schedlink = q->head;
	else
		r->head = q->head;
	r->tail = q->tail;
	a_store_rlx(&goro__sched.runqsize, goro__sched.runqsize + n);
	q->head = q->tail = NULL;
}

/* Slow path of runqput: the ring is full, move half of it plus gp to the
 * global queue in one batch (keeps the local queue short, Go: runqputslow). */
static bool runqputslow(struct p *pp, struct g *gp, uint32_t h, uint32_t t)
{
	struct g *batch[GORO_RUNQ_SIZE / 2 + 1];
	uint32_t n = (t - h) / 2;
	if (n != GORO_RUNQ_SIZE / 2)
		goro__throw("runqputslow: queue is not full");
	for (uint32_t i = 0; i < n; i++)
		batch[i] = a_load_rlx(&pp->runq[(h + i) % GORO_RUNQ_SIZE]);
	if (!a_cas(&pp->runqhead, &h, h + n))
		return false; /* a stealer took some: retry the fast path */
	batch[n] = gp;
	struct gqueue q = { NULL, NULL };
	for (uint32_t i = 0; i <= n; i++)
		goro__gqueue_push(&q, batch[i]);
	goro__lock(&goro__sched.lock);
	goro__globrunqputbatch(&q, (int32_t)n + 1);
	goro__unlock(&goro__sched.lock);
	return true;
}

/* Owner only.  next: put gp in runnext, kicking the old runnext out to the
 * tail. */
void goro__runqput(struct p *pp, struct g *gp, bool next)
{
	if (__builtin_expect(goro__g_rt(gp), 0)) {
		goro__lock(&goro__sched.lock);
		goro__globrunqput(gp);
		goro__unlock(&goro__sched.lock);
		return;
	}
	if (next) {
		struct g *old = a_load_rlx(&pp->runnext);
		while (!a_cas(&pp->runnext, &old, gp))
			;
		if (!old)
			return;
		gp = old;
	}
	for (;;) {
		/* acquire: head may have moved by a stealer that read the slots
		 * we are about to overwrite. */
		uint32_t h = a_load_acq(&pp->runqhead);
		uint32_t t = a_load_rlx(&pp->runqtail);
		if (t - h < GORO_RUNQ_SIZE) {
			a_store_rlx(&pp->runq[t % GORO_RUNQ_SIZE], gp);
			a_store_rel(&pp->runqtail, t + 1);
			return;
		}
		if (runqputslow(pp, gp, h, t))
			return;
	}
}

/* Owner only.  runnext first, then the ring head. */
struct g *goro__runqget(struct p *pp)
{
	struct g *next = a_load_rlx(&pp->runnext);
	if (next && a_cas(&pp->runnext, &next, NULL)) {
		pp->inherit = true;
		return next;
	}
	for (;;) {
		uint32_t h = a_load_acq(&pp->runqhead);
		uint32_t t = a_load_rlx(&pp->runqtail);
		if (t == h)
			return NULL;
		struct g *gp = a_load_rlx(&pp->runq[h % GORO_RUNQ_SIZE]);
		if (a_cas(&pp->runqhead, &h, h + 1))
			return gp;
	}
}

bool goro__runqempty(struct p *pp)
{
	/* Same dance as Go's runqempty: a G moving between runnext and the
	 * ring must not make the queue look empty. */
	for (;;) {
		uint32_t h = a_load_acq(&pp->runqhead);
		uint32_t t = a_load_acq(&pp->runqtail);
		struct g *next = a_load_acq(&pp->runnext);
		if (a_load_acq(&pp->runqtail) == t)
			return h == t && next == NULL;
	}
}

/* Grab half of victim's queue into batch (Go: runqgrab).  Returns count. */
static uint32_t runqgrab(struct p *victim, struct g **batch, bool stealnext)
{
	for (;;) {
		uint32_t h = a_load_acq(&victim->runqhead);
		uint32_t t = a_load_acq(&victim->runqtail);
		uint32_t n = t - h;
		n = n - n / 2;
		if (n == 0) {
			if (stealnext) {
				struct g *next = a_load_acq(&victim->runnext);
				if (next && a_cas(&victim->runnext, &next, NULL)) {
					batch[0] = next;
					return 1;
				}
			}
			return 0;
		}
		if (n > GORO_RUNQ_SIZE / 2)
			continue; /* read inconsistent h and t */
		for (uint32_t i = 0; i < n; i++)
			batch[i] = a_load_rlx(&victim->runq[(h + i) % GORO_RUNQ_SIZE]);
		if (a_cas(&victim->runqhead, &h, h + n))
			return n;
	}
}

/* Steal half of victim's Gs into pp's ring; return one to run.  pp must be
 * owned by the caller (Go: runqsteal). */
struct g *goro__runqsteal(struct p *pp, struct p *victim, bool stealnext)
{
	struct g *batch[GORO_RUNQ_SIZE / 2];
	uint32_t n = runqgrab(victim, batch, stealnext);
	if (n == 0)
		return NULL;
	struct g *gp = batch[--n];
	if (n == 0)
		return gp;
	uint32_t t = a_load_rlx(&pp->runqtail);
	uint32_t h = a_load_acq(&pp->runqhead);
	if (t - h + n >= GORO_RUNQ_SIZE)
		goro__throw("runqsteal: runq overflow");
	for (uint32_t i = 0; i < n; i++)
		a_store_rlx(&pp->runq[(t + i) % GORO_RUNQ_SIZE], batch[i]);
	a_store_rel(&pp->runqtail, t + n);
	return gp;
}

/* Requires sched.lock.  Take a fair share of the global queue: one G to
 * return, up to max-1 (or half the local ring) more into pp's ring
 * (Go: globrunqget). */
struct g *goro__globrunqget(struct p *pp, int32_t max)
{
	int32_t size = a_load_rlx(&goro__sched.runqsize);
	if (size == 0)
		return NULL;
	struct g *head = goro__sched.runq.head;
	if (head && goro__g_rt(head)) {
		a_store_rlx(&goro__sched.runqsize, size - 1);
		a_store_rlx(&goro__sched.nrt, goro__sched.nrt - 1);
		pp->nglobtake++;
		return goro__gqueue_pop(&goro__sched.runq);
	}
	int32_t n = (goro__gomaxprocs == 1 ? size : size / goro__gomaxprocs) + 1;
	if (n > size)
		n = size;
	if (max > 0 && n > max)
		n = max;
	if (n > GORO_RUNQ_SIZE / 2)
		n = GORO_RUNQ_SIZE / 2;
	a_store_rlx(&goro__sched.runqsize, size - n);
	struct g *gp = goro__gqueue_pop(&goro__sched.runq);
	while (--n > 0)
		goro__runqput(pp, goro__gqueue_pop(&goro__sched.runq), false);
	pp->nglobtake++;
	return gp;
}
