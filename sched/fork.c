/* fork(): the child keeps only the forking thread (POSIX), so the
 * scheduler is re-made around it: one M (the forking kernel thread), its
 * P, the forking G; every other G, M, timer and waiter is forgotten, the
 * runtime's locks start unlocked, the netpoller gets its own epoll
 * instance and sysmon a new thread.
 *
 * Done in pthread_atfork handlers that goro registers before main, so in
 * the child they run before the program's own child handlers (which may
 * already lock mutexes or create threads).  The prepare handler holds
 * sched.lock and the allgs lock across the fork so the child never copies
 * them half-updated. */
#include <pthread.h>
#include <string.h>

#include "sched/runtime.h"
#include "sched/sys.h"


static void prepare(void)
{
	goro__lock(&goro__allglock);
	goro__lock(&goro__sched.lock);
}


static void parent(void)
{
	goro__own_sockets_forget();
	goro__unlock(&goro__sched.lock);
	goro__unlock(&goro__allglock);
}

static void child(void)
{
	struct g *gp = getg();
	struct m *mp = gp->m;
	struct p *cur = mp->p;

	memset(&goro__sched.lock, 0, sizeof goro__sched.lock);
	memset(&goro__allglock, 0, sizeof goro__allglock);
	mp->locks = 0;
	mp->tid = goro__gettid();
	/* nptl's fork wrote the child's kernel tid into the TCB; the G keeps
	 * its own identity (mutex owners). */
	if (gp != &goro__g1)
		goro__tls_set_tid(gp->tp, gp->tid);
	else
		gp->tid = mp->tid;

	goro__sched.midle = NULL;
	goro__sched.nmidle = 0;
	goro__sched.allm = mp;
	mp->alllink = NULL;
	mp->spinning = false;
	a_store_rlx(&goro__sched.nmspinning, 0);
	goro__sched.runq.head = goro__sched.runq.tail = NULL;
	a_store_rlx(&goro__sched.runqsize, 0);
	goro__sched.pidle = NULL;
	a_store_rlx(&goro__sched.npidle, 0);
	for (int32_t i = 0; i < goro__gomaxprocs; i++) {
		struct p *pp = &goro__allp[i];
		a_store_rlx(&pp->runqhead, 0);
		a_store_rlx(&pp->runqtail, 0);
		a_store_rlx(&pp->runnext, NULL);
		if (pp == cur)
			continue;
		pp->m = NULL;
		a_store_rlx(&pp->status, P_IDLE);
		pp->link = goro__sched.pidle;
		goro__sched.pidle = pp;
		a_fetch_add(&goro__sched.npidle, 1);
	}
	a_store_rlx(&cur->status, P_RUNNING);
	mp->oldp = NULL;

	/* The other threads are gone: their Gs can never run or be joined. */
	for (struct g *o = goro__allgs; o; o = o->alllink) {
		if (o == gp || a_load_rlx(&o->status) == G_IDLE || a_load_rlx(&o->status) == G_DEAD)
			continue;
		a_store_rlx(&o->status, G_DEAD);
		o->detached = true;
	}
	a_store_rlx(&goro__sched.gcount, 1);

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
