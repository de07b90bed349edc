/* poll, ppoll, select, pselect, epoll_wait and epoll_pwait: the G parks on
 * the netpoller until one of the descriptors is ready or the timeout
 * passes; without descriptors the call is a sleep on a timer.  What
 * cannot be parked (more than GORO_POLL_MANY descriptors, a signal mask to
 * apply) waits in the kernel with the P handed off.  Always EINTR when a
 * handler ran during the call, as natively. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sched/runtime.h"
#include "sched/sys.h"
#include "shim/shim.h"


static int64_t ms_deadline(int ms)
{
	return ms < 0 ? -1 : goro__nanotime() + (int64_t)ms * 1000000;
}

static int cmp_req(const void *a, const void *b)
{
	const struct goro_pollreq *x = a, *y = b;
	return x->fd != y->fd ? (x->fd > y->fd) - (x->fd < y->fd) : (int)x->mode - (int)y->mode;
}

/* Park until one of the pollfds may be ready or the deadline (-1: none)
 * passes.  Returns 0 to re-check, -ETIMEDOUT, or GORO_POLL_FALLBACK when goro cannot
 * park on them (too many, not pollable, another G on the same fd): the
 * caller then blocks in the kernel. */
static int park_pollfds(const struct pollfd *fds, nfds_t n, int64_t deadline)
{
	struct goro_pollreq req[GORO_POLL_MANY];
	int k = 0;
	for (nfds_t i = 0; i < n; i++) {
		if (fds[i].fd < 0)
			continue;
		if (k + 2 > GORO_POLL_MANY)
			return GORO_POLL_FALLBACK;
		if (fds[i].events & (POLLIN | POLLPRI | POLLRDHUP | POLLRDNORM | POLLRDBAND))
			req[k++] = (struct goro_pollreq){ fds[i].fd, GORO_IO_READ };
		if (fds[i].events & (POLLOUT | POLLWRNORM | POLLWRBAND))
			req[k++] = (struct goro_pollreq){ fds[i].fd, GORO_IO_WRITE };
		if (!(fds[i].events & ~(POLLERR | POLLHUP | POLLNVAL)))
			req[k++] = (struct goro_pollreq){ fds[i].fd, GORO_IO_READ }; /* errors and hang-ups only */
	}
	if (k == 0)
		return GORO_POLL_FALLBACK;
	qsort(req, (size_t)k, sizeof req[0], cmp_req);
	uint32_t ran = getg()->sigran;
	int w = goro__netpoll_wait_many(req, k, deadline, true);
	if (w == -EINTR) {
		goro__testcancel();
		return getg()->sigran != ran ? -EINTR : 0; /* a handler ran: always EINTR */
	}
	return w;
}

/* poll/ppoll/select/pselect: try without waiting; then, with a timeout,
 * park on the netpoller until a descriptor may be ready (re-check) or the
 * deadline passes; with no fds at all, sleep on a timer. */
static int64_t ts_deadline(const struct timespec *ts)
{
	if (!ts)
		return -1;
	return goro__nanotime() + (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static int poll_wait(struct pollfd *fds, nfds_t n, int64_t deadline)
{
	struct timespec zero = { 0, 0 };
	for (;;) {
		long r = goro__sys4(SYS_ppoll, fds, n, &zero, NULL);
		if (r != 0 || (deadline >= 0 && goro__nanotime() >= deadline))
			return (int)goro__sys_ret(r);
		if (n == 0) {
			/* poll as a sleep */
			if (!goro__timesleep(deadline < 0 ? INT64_MAX : deadline, "poll")) {
				goro__testcancel();
				errno = EINTR;
				return -1;
			}
			return 0;
		}
		int w = park_pollfds(fds, n, deadline);
		if (w == -ETIMEDOUT)
			return (int)goro__sys_ret(goro__sys4(SYS_ppoll, fds, n, &zero, NULL));
		if (w == -EINTR)
			return (int)goro__sys_ret(-EINTR);
		if (w == GORO_POLL_FALLBACK) {
			struct timespec left, *lp = NULL;
			if (deadline >= 0) {
				int64_t ns = deadline - goro__nanotime();
				if (ns < 0)
					ns = 0;
				left = (struct timespec){ ns / 1000000000, ns % 1000000000 };
				lp = &left;
			}
			return (int)goro__blocking6(SYS_ppoll, (long)fds, (long)n, (long)lp, 0, 8, 0);
		}
	}
}

GORO_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (!goro__started)
		return (int)goro__blocking6(SYS_poll, (long)fds, (long)n, timeout, 0, 0, 0);
	GORO_CANCEL_POINT();
	struct timespec zero = { 0, 0 };
	if (timeout == 0)
		return (int)goro__sys_ret(goro__sys4(SYS_ppoll, fds, n, &zero, NULL));
	return poll_wait(fds, n, timeout < 0 ? -1 : goro__nanotime() + (int64_t)timeout * 1000000);
}

GORO_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask)
{
	GORO_CANCEL_POINT();
	/* A signal mask swapped in for the wait is the kernel's to do atomically. */
	if (!goro__started || mask)
		return (int)goro__blocking6(SYS_ppoll, (long)fds, (long)n, (long)ts, (long)mask, 8, 0);
	if (ts && (ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000 || ts->tv_sec < 0)) {
		errno = EINVAL;
		return -1;
	}
	return poll_wait(fds, n, ts_deadline(ts));
}

/* select through the same path: the sets become pollfds to park on, and
 * the answer comes from the kernel's select with a zero timeout on the
 * program's own sets, so its semantics (and the sets written back) are
 * the kernel's. */
static int select_wait(int n, fd_set *r, fd_set *w, fd_set *e, int64_t deadline)
{
	fd_set r0, w0, e0;
	if (r)
		r0 = *r;
	if (w)
		w0 = *w;
	if (e)
		e0 = *e;
	struct pollfd pf[GORO_POLL_MANY];
	nfds_t k = 0;
	bool many = false;
	for (int fd = 0; fd < n && fd < FD_SETSIZE; fd++) {
		short ev = (short)((r && FD_ISSET(fd, r) ? POLLIN : 0) | (w && FD_ISSET(fd, w) ? POLLOUT : 0) |
				   (e && FD_ISSET(fd, e) ? POLLPRI : 0));
		if (!ev)
			continue;
		if (k == GORO_POLL_MANY / 2) {
			many = true;
			break;
		}
		pf[k++] = (struct pollfd){ fd, ev, 0 };
	}
	for (;;) {
		struct timeval zero = { 0, 0 };
		if (r)
			*r = r0;
		if (w)
			*w = w0;
		if (e)
			*e = e0;
		long res = goro__sys6(SYS_select, n, (long)r, (long)w, (long)e, (long)&zero, 0);
		if (res != 0 || (deadline >= 0 && goro__nanotime() >= deadline))
			return (int)goro__sys_ret(res);
		int wr = many ? GORO_POLL_FALLBACK : park_pollfds(pf, k, deadline);
		if (wr == -ETIMEDOUT)
			continue; /* one last look, then the deadline check returns 0 */
		if (wr == -EINTR)
			return (int)goro__sys_ret(-EINTR);
		if (wr == GORO_POLL_FALLBACK) {
			if (r)
				*r = r0;
			if (w)
				*w = w0;
			if (e)
				*e = e0;
			struct timeval left, *lp = NULL;
			if (deadline >= 0) {
				int64_t ns = deadline - goro__nanotime();
				if (ns < 0)
					ns = 0;
				left = (struct timeval){ ns / 1000000000, (ns % 1000000000) / 1000 };
				lp = &left;
			}
			return (int)goro__blocking6(SYS_select, n, (long)r, (long)w, (long)e, (long)lp, 0);
		}
	}
}

GORO_EXPORT int select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	if (!goro__started)
		return (int)goro__blocking6(SYS_select, n, (long)r, (long)w, (long)e, (long)tv, 0);
	GORO_CANCEL_POINT();
	if (tv && (tv->tv_sec < 0 || tv->tv_usec < 0 || tv->tv_usec >= 1000000)) {
		errno = EINVAL;
		return -1;
	}
	int64_t when = tv ? goro__nanotime() + (int64_t)tv->tv_sec * 1000000000 + tv->tv_usec * 1000 : -1;
	if (n == 0 && tv) {
		/* select as a sleep */
		bool done = goro__timesleep(when, "select");
		if (!done) {
			goro__testcancel();
			errno = EINTR;
			return -1;
		}
		tv->tv_sec = 0;
		tv->tv_usec = 0;
		return 0;
	}
	int res = select_wait(n, r, w, e, when);
	if (tv && res >= 0) { /* Linux writes back the time not slept */
		int64_t left = when - goro__nanotime();
		if (left < 0)
			left = 0;
		tv->tv_sec = left / 1000000000;
		tv->tv_usec = (left % 1000000000) / 1000;
	}
	return res;
}

GORO_EXPORT int pselect(int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *ts, const sigset_t *mask)
{
	GORO_CANCEL_POINT();
	if (!goro__started || mask) {
		struct { const sigset_t *ss; size_t len; } data = { mask, 8 };
		return (int)goro__blocking6(SYS_pselect6, n, (long)r, (long)w, (long)e, (long)ts, (long)&data);
	}
	if (ts && (ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000 || ts->tv_sec < 0)) {
		errno = EINVAL;
		return -1;
	}
	return select_wait(n, r, w, e, ts_deadline(ts));
}

/* epoll_wait on the program's own epoll fd: an epoll fd is itself
 * pollable, so the G parks on goro's netpoller until it is readable. */
GORO_EXPORT int epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout, const sigset_t *mask)
{
	if (!goro__started || mask)
		return (int)goro__blocking6(SYS_epoll_pwait, epfd, (long)ev, max, timeout, (long)mask, 8);
	GORO_CANCEL_POINT();
	int64_t deadline = ms_deadline(timeout);
	uint32_t ran = getg()->sigran; /* a handler run during the call ends it */
	for (;;) {
		long r = goro__sys6(SYS_epoll_pwait, epfd, (long)ev, max, 0, 0, 8);
		if (r != 0 || timeout == 0)
			return (int)goro__sys_ret(r);
		int w = goro__netpoll_wait(epfd, GORO_IO_READ, deadline, true);
		if (w == -EINTR) {
			goro__testcancel();
			if (getg()->sigran != ran)
				return (int)goro__sys_ret(-EINTR); /* a handler ran: always EINTR */
		}
		else if (w == -ETIMEDOUT)
			return (int)goro__sys_ret(goro__sys6(SYS_epoll_pwait, epfd, (long)ev, max, 0, 0, 8));
		else if (w < 0)
			return (int)goro__blocking6(SYS_epoll_pwait, epfd, (long)ev, max, timeout, 0, 8);
	}
}

GORO_EXPORT int epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
	return epoll_pwait(epfd, ev, max, timeout, NULL);
}

GORO_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen) /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
{
	if (fdslen / sizeof(*fds) < n)
		__chk_fail();
	return poll(fds, n, timeout);
}
