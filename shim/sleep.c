/* Sleeping parks the G on a timer instead of blocking the M.  nanosleep,
 * clock_nanosleep, usleep and sleep are cancellation points. */
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "sched/runtime.h"
#include "sched/sys.h"
#include "shim/shim.h"

#define NSEC 1000000000LL

static bool ts_valid(const struct timespec *ts)
{
	return ts->tv_nsec >= 0 && ts->tv_nsec < NSEC;
}

int goro__abs_deadline(clockid_t clk, const struct timespec *abs, int64_t *deadline)
{
	struct timespec now;
	if (!ts_valid(abs) || clock_gettime(clk, &now) != 0)
		return EINVAL;
	int64_t delta = (int64_t)(abs->tv_sec - now.tv_sec) * NSEC + (abs->tv_nsec - now.tv_nsec);
	*deadline = goro__nanotime() + (delta > 0 ? delta : 0);
	return 0;
}

/* The deadline of a timed wait of the sync family: abs NULL waits forever
 * (-1); only CLOCK_REALTIME and CLOCK_MONOTONIC are accepted (EINVAL), as
 * glibc does for mutexes, condvars, rwlocks and semaphores. */
int goro__wait_deadline(clockid_t clk, const struct timespec *abs, int64_t *deadline)
{
	*deadline = -1;
	if (!abs)
		return 0;
	if (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC)
		return EINVAL;
	return goro__abs_deadline(clk, abs, deadline);
}

/* The clocks a sleep can park on; the others go to the kernel. */
static bool parkable_clock(clockid_t clk)
{
	return clk == CLOCK_REALTIME || clk == CLOCK_MONOTONIC || clk == CLOCK_BOOTTIME ||
	       clk == CLOCK_TAI;
}

static int sleep_until(int64_t deadline)
{
	if (goro__timesleep(deadline, "sleep"))
		return 0;
	goro__testcancel();
	return EINTR;
}

static void remaining(int64_t deadline, struct timespec *rem)
{
	if (!rem)
		return;
	int64_t left = deadline - goro__nanotime();
	if (left < 0)
		left = 0;
	rem->tv_sec = left / NSEC;
	rem->tv_nsec = left % NSEC;
}

GORO_EXPORT int clock_nanosleep(clockid_t clk, int flags, const struct timespec *req, struct timespec *rem)
{
	if (clk == CLOCK_THREAD_CPUTIME_ID)
		return EINVAL;
	if (!ts_valid(req) || req->tv_sec < 0)
		return EINVAL;
	if (!goro__started || !parkable_clock(clk)) {
		long r = goro__sys4(SYS_clock_nanosleep, clk, flags, req, rem);
		return r < 0 ? (int)-r : 0;
	}
	int64_t deadline;
	if (flags & TIMER_ABSTIME) {
		int e = goro__abs_deadline(clk, req, &deadline);
		if (e)
			return e;
	} else {
		deadline = goro__nanotime() + (int64_t)req->tv_sec * NSEC + req->tv_nsec;
	}
	goro__testcancel();
	int e = sleep_until(deadline);
	if (e == EINTR && !(flags & TIMER_ABSTIME))
		remaining(deadline, rem);
	return e;
}

GORO_EXPORT int nanosleep(const struct timespec *req, struct timespec *rem)
{
	int e = clock_nanosleep(CLOCK_REALTIME, 0, req, rem);
	if (e) {
		errno = e;
		return -1;
	}
	return 0;
}

GORO_EXPORT int usleep(useconds_t us)
{
	struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000 };
	return nanosleep(&ts, NULL);
}

GORO_EXPORT unsigned int sleep(unsigned int s)
{
	struct timespec ts = { s, 0 }, rem = { 0, 0 };
	if (nanosleep(&ts, &rem) == 0)
		return 0;
	return (unsigned int)rem.tv_sec; /* whole seconds left, as glibc's sleep */
}
