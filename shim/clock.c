/* Per-thread CPU clocks: pthread_getcpuclockid, and clock_gettime /
 * clock_getres for CLOCK_THREAD_CPUTIME_ID and the clocks
 * pthread_getcpuclockid returns (docs/ARCHITECTURE.md, "Per-G CPU clocks").
 *
 * Natively a thread's CPU clock is its kernel thread's; a G has none of
 * its own, so goro sums its M's thread CPU time over the G's runs
 * (sched/proc.c, goro__g_cputime).  A G's clock id has the kernel's
 * encoding, MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED) of the G's tid (G5;
 * docs/ARCHITECTURE.md, G29),
 * so a program that builds one by hand from gettid() reaches it too.  Every
 * other clock goes straight to glibc: CLOCK_MONOTONIC and CLOCK_REALTIME
 * pass one comparison.  clock_nanosleep on a thread CPU clock is EINVAL
 * natively, and so in shim/sleep.c. */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "sched/real.h"
#include "sched/runtime.h"
#include "sched/sys.h"
#include "shim/shim.h"

#define CPUCLOCK_THREAD_SCHED 6 /* CPUCLOCK_PERTHREAD_MASK | CPUCLOCK_SCHED (linux/posix-timers.h) */

static clockid_t g_clock(const struct g *gp) { return (clockid_t)((~(unsigned)gp->tid << 3) | CPUCLOCK_THREAD_SCHED); }

/* The live G whose CPU clock clk is, or NULL (another clock: glibc's). */
static struct g *clock_g(clockid_t clk)
{
	if (!goro__started)
		return NULL;
	if (clk == CLOCK_THREAD_CPUTIME_ID)
		return getg()->tp ? getg() : NULL;
	if (clk >= 0 || (clk & 7) != CPUCLOCK_THREAD_SCHED)
		return NULL;
	return goro__g_of_tid((int)~(clk >> 3));
}

static int real_gettime(clockid_t clk, struct timespec *ts)
{
	int (*f)(clockid_t, struct timespec *) = goro__real.clock_gettime;
	if (f)
		return f(clk, ts);
	/* Before start-up resolved glibc's (goro__nanotime in a constructor). */
	return (int)goro__sys_ret(goro__sys2(SYS_clock_gettime, clk, ts));
}

GORO_EXPORT int clock_gettime(clockid_t clk, struct timespec *ts)
{
	if (__builtin_expect(clk >= 0 && clk != CLOCK_THREAD_CPUTIME_ID, 1))
		return real_gettime(clk, ts);
	struct g *gp = clock_g(clk);
	if (!gp)
		return real_gettime(clk, ts);
	goro__cpuclocks_enable();
	int64_t ns = goro__g_cputime(gp);
	ts->tv_sec = ns / 1000000000LL;
	ts->tv_nsec = ns % 1000000000LL;
	return 0;
}

/* A G's CPU clock has the resolution of the kernel's thread CPU clocks. */
GORO_EXPORT int clock_getres(clockid_t clk, struct timespec *res)
{
	int (*f)(clockid_t, struct timespec *) = goro__real.clock_getres;
	if (!f)
		return (int)goro__sys_ret(goro__sys2(SYS_clock_getres, clk, res));
	return f(clock_g(clk) ? CLOCK_THREAD_CPUTIME_ID : clk, res);
}

GORO_EXPORT int pthread_getcpuclockid(pthread_t t, clockid_t *clk)
{
	struct g *gp = goro__g_live(t, NULL);
	if (!gp)
		return ESRCH;
	goro__cpuclocks_enable();
	*clk = g_clock(gp);
	return 0;
}
