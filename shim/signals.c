/* Signals to a thread: pthread_kill / pthread_sigqueue to a G.
 *
 * A signal for a G must run in that G's TLS (its handler may read
 * pthread_self or __thread data).  It is recorded in the G; if the G is
 * running, its M is nudged with the runtime signal so the handler re-raises
 * it from inside the G; otherwise it is raised when the G next resumes. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "preload/real.h"
#include "sched/runtime.h"
#include "sched/sys.h"
#include "shim/shim.h"

static int raise_here(int sig, const union sigval *val)
{
	struct g *gp = getg();
	int tid = gp->m ? gp->m->tid : goro__gettid();
	long pid = goro__sys0(SYS_getpid);
	long r;
	if (val) {
		siginfo_t si;
		memset(&si, 0, sizeof si);
		si.si_signo = sig;
		si.si_code = SI_QUEUE;
		si.si_pid = (pid_t)pid;
		si.si_uid = getuid();
		si.si_value = *val;
		r = goro__sys4(SYS_rt_tgsigqueueinfo, pid, tid, sig, &si);
	} else {
		r = goro__sys3(SYS_tgkill, pid, tid, sig);
	}
	return r < 0 ? (int)-r : 0;
}

/* Raise the signals recorded for the current G (runs in the G). */
void goro__sig_deliver(struct g *gp)
{
	uint64_t set = a_swap(&gp->sigpending, 0);
	for (int sig = 1; set && sig < 64; sig++) {
		if (set & (1ULL << sig)) {
			set &= ~(1ULL << sig);
			if (gp->sigqueued & (1ULL << sig)) {
				gp->sigqueued &= ~(1ULL << sig);
				union sigval v = gp->sigvalue[sig];
				raise_here(sig, &v);
			} else {
				raise_here(sig, NULL);
			}
		}
	}
}

static int send(pthread_t t, int sig, const union sigval *val)
{
	struct g *gp = goro__g_of(t);
	if (!gp)
		return ESRCH;
	if (sig < 0 || sig >= 64)
		return EINVAL;
	if (sig == 0)
		return 0;
	if (gp == getg())
		return raise_here(sig, val);
	if (val) {
		gp->sigvalue[sig] = *val;
		gp->sigqueued |= 1ULL << sig;
	}
	uint64_t bit = 1ULL << sig;
	a_fetch_add(&gp->sigpending, 0); /* ordering for the value above */
	uint64_t old = a_load_rlx(&gp->sigpending);
	while (!a_cas(&gp->sigpending, &old, old | bit))
		;
	struct m *mp = gp->m;
	if (a_load_acq(&gp->status) == G_RUNNING && mp)
		goro__sys3(SYS_tgkill, goro__sys0(SYS_getpid), mp->tid, GORO_SIGNUDGE);
	return 0;
}

GORO_EXPORT int pthread_kill(pthread_t t, int sig) { return send(t, sig, NULL); }

GORO_EXPORT int pthread_sigqueue(pthread_t t, int sig, const union sigval val)
{
	return send(t, sig, &val);
}
