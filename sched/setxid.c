/* set*id and setgroups: Linux changes credentials per kernel thread, so
 * nptl broadcasts the change to every thread (nptl/nptl_setxid.c).  Its
 * broadcast cannot work for Gs (the handler clears a flag in THREAD_SELF,
 * which is the interrupted G's TCB, not the M's: docs/ARCHITECTURE.md,
 * G16), so goro
 * does its own: the raw syscall on the calling M, then on every other M
 * and on sysmon through the runtime's signal, waiting until all are done.
 * As with nptl, the first failure (on the calling thread) is returned and
 * nothing is changed anywhere else. */
#include <errno.h>
#include <signal.h>

#include "sched/runtime.h"
#include "sched/sys.h"

#define MAX_XID_THREADS 1024

static struct goro_mutex xid_lock; /* one broadcast at a time */
static struct {
	long nr, a, b, c;
	int tids[MAX_XID_THREADS];
	_Atomic int done[MAX_XID_THREADS];
	int n;
	_Atomic int active;
	_Atomic int pending;
} req;

/* From the runtime's signal handler on every thread. */
void goro__setxid_handle(void)
{
	if (!a_load_acq(&req.active))
		return;
	int tid = goro__gettid();
	for (int i = 0; i < req.n; i++) {
		if (req.tids[i] != tid)
			continue;
		int z = 0;
		if (a_cas(&req.done[i], &z, 1)) {
			goro__sys3(req.nr, req.a, req.b, req.c);
			a_fetch_add(&req.pending, -1);
		}
	}
}

/* Signal thread i of the request.  A thread that no longer exists (it
 * ended, or the tid was recorded before a fork) has no credentials to
 * change: it counts as done, or the wait would never end. */
static void nudge(long pid, int i)
{
	if (goro__sys3(SYS_tgkill, pid, req.tids[i], goro__signudge) != -ESRCH)
		return;
	int z = 0;
	if (a_cas(&req.done[i], &z, 1))
		a_fetch_add(&req.pending, -1);
}

long goro__setxid_broadcast(long nr, long a, long b, long c)
{
	long r = goro__sys3(nr, a, b, c);
	if (r < 0 || !goro__started)
		return r;
	goro__lock(&xid_lock);
	int self = goro__gettid();
	req.nr = nr;
	req.a = a;
	req.b = b;
	req.c = c;
	req.n = 0;
	goro__lock(&goro__sched.lock);
	for (struct m *mp = goro__sched.allm; mp && req.n < MAX_XID_THREADS - 1; mp = mp->alllink)
		if (mp->tid && mp->tid != self)
			req.tids[req.n++] = mp->tid;
	goro__unlock(&goro__sched.lock);
	int st = goro__sysmon_tid();
	if (st && st != self)
		req.tids[req.n++] = st;
	for (int i = 0; i < req.n; i++)
		a_store_rlx(&req.done[i], 0);
	a_store_rlx(&req.pending, req.n);
	a_store_rel(&req.active, 1);
	long pid = goro__sys0(SYS_getpid);
	for (int spins = 0; a_load_acq(&req.pending) > 0; spins++) {
		if (spins % 1000 == 0) /* re-send: a thread may have been starting */
			for (int i = 0; i < req.n; i++)
				if (!a_load_rlx(&req.done[i]))
					nudge(pid, i);
		goro__sys0(SYS_sched_yield);
	}
	a_store_rel(&req.active, 0);
	goro__unlock(&xid_lock);
	return r;
}


/* fork (sched/fork.c): no broadcast is half done in the child. */
void goro__setxid_fork(enum goro_fork_phase ph)
{
	goro__fork_lock(&xid_lock, ph);
	if (ph == GORO_FORK_CHILD)
		a_store_rlx(&req.active, 0);
}
