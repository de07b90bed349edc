/* fork(): the child keeps only the forking thread (POSIX), so the
 * scheduler is re-made around it: one M (the forking kernel thread), its
 * P, the forking G; every other G, M, timer and waiter is forgotten, the
 * runtime's locks start unlocked, the netpoller gets its own epoll
 * instance and sysmon a new thread (docs/ARCHITECTURE.md, "Fork").
 *
 * Done in pthread_atfork handlers that goro registers before main, so in
 * the prepare phase goro's handler runs last (after the program's own,
 * which may still lock mutexes or create threads) and in the child first.
 *
 * Every runtime lock that guards state the child keeps is taken by the
 * prepare handler, in one fixed order, so the child never copies it
 * half-updated (Go: forkLock and syscall_runtime_BeforeFork serve the same
 * end); the parent releases them and the child re-makes them unlocked.
 * The order follows the nesting found in the runtime: a lock earlier in
 * the list may be held while a later one is taken, never the reverse.
 *   set*id broadcast (sched/setxid.c)
 *   signal actions, idle mask (sched/signal.c)
 *   goro's own fds, netpoll descriptor table (sched/netpoll.c)
 *   TLS modules (sched/tls.c)
 *   all Gs, sched.lock (sched/proc.c)
 *   timer waiter, each P's timer heap (sched/time.c)
 * Locks that guard only other threads' waits (the address-wait buckets,
 * each fd's poll descriptor, each G's join/exit spin lock) are not taken:
 * the child drops what they guard, and re-makes them unlocked. */
#include <pthread.h>
#include <string.h>

#include "sched/runtime.h"
#include "sched/sys.h"

/* The order of the header comment; the parent unlocks in the same order
 * (any order releases them). */
static void forklocks(enum goro_fork_phase ph)
{
	goro__setxid_fork(ph);
	goro__sig_fork(ph);
	goro__netpoll_fork(ph);
	goro__tls_fork(ph);
	goro__fork_lock(&goro__allglock, ph);
	goro__fork_lock(&goro__sched.lock, ph);
	goro__timers_fork(ph);
}

static void prepare(void)
{
	if (goro__started)
		forklocks(GORO_FORK_PREPARE);
}

static void parent(void)
{
	if (!goro__started)
		return;
	goro__own_sockets_forget();
	forklocks(GORO_FORK_PARENT);
}

/* The child's Ps: its own keeps running, every other one is idle with
 * empty queues.  Requires nothing: the child has one thread. */
static void child_ps(struct p *cur)
{
	goro__sched.pidle = NULL;
	a_store_rlx(&goro__sched.npidle, 0);
	for (int32_t i = 0; i < goro__gomaxprocs; i++) {
		struct p *pp = &goro__allp[i];
		a_store_rlx(&pp->runqhead, 0);
		a_store_rlx(&pp->runqtail, 0);
		a_store_rlx(&pp->runnext, NULL);
		if (pp == cur)
			continue;
		/* Another M may have been editing this P's free list. */
		pp->gfree.head = pp->gfree.tail = NULL;
		pp->gfreecnt = 0;
		pp->m = NULL;
		a_store_rlx(&pp->status, P_IDLE);
		pp->link = goro__sched.pidle;
		goro__sched.pidle = pp;
		a_fetch_add(&goro__sched.npidle, 1);
	}
	if (cur) /* none: a real-time G forked, kernel-scheduled (sched/proc.c) */
		a_store_rlx(&cur->status, P_RUNNING);
}

/* The other threads are gone: their Gs can never run or be joined, and a
 * join/exit spin lock one of them held is free.  A G that was parked stays
 * claimed and unwakeable, so no signal (goro__sig_target, a kick left for
 * later) or cancel can ready it. */
static void child_gs(struct g *gp)
{
	for (struct g *o = goro__allgs; o; o = o->alllink) {
		a_store_rlx(&o->lock, 0);
		if (o == gp || a_load_rlx(&o->status) == G_IDLE || a_load_rlx(&o->status) == G_DEAD)
			continue;
		a_store_rlx(&o->status, G_DEAD);
		a_store_rlx(&o->wakeclaim, 1);
		a_store_rlx(&o->sigwaitable, false);
		a_store_rlx(&o->cancelable, false);
		a_store_rlx(&o->cancelsys, 0);
		o->detached = true;
	}
	a_store_rlx(&goro__sched.gcount, 1);
}

static void child(void)
{
	if (!goro__started)
		return;
	struct g *gp = getg();
	struct m *mp = gp->m;
	forklocks(GORO_FORK_CHILD);
	mp->locks = 0;
	mp->tid = goro__gettid();
	/* As natively, the child's one thread has the child's pid as its
	 * tid (gettid, mutex owners), which nptl's fork wrote into the TCB. */
	gp->tid = mp->tid;
	goro__tls_set_tid(gp->tp, gp->tid);

	goro__sched.midle = NULL;
	goro__sched.nmidle = 0;
	goro__sched.allm = mp;
	mp->alllink = NULL;
	mp->spinning = false;
	mp->oldp = NULL;
	a_store_rlx(&goro__sched.nmspinning, 0);
	goro__sched.runq.head = goro__sched.runq.tail = NULL;
	a_store_rlx(&goro__sched.runqsize, 0);
	child_ps(mp->p);
	child_gs(gp);

	goro__own_sockets_forget();
	goro__timers_afterfork();
	goro__sema_afterfork();
	goro__stack_afterfork();
	goro__netpoll_afterfork();
	goro__sysmon_start();
}

void goro__fork_init(void)
{
	if (pthread_atfork(prepare, parent, child) != 0)
		goro__throw("cannot register the fork handlers");
}
