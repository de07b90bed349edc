/* Calls that may block in the kernel and cannot be parked on the
 * netpoller: the syscall runs with the P marked in-syscall, and sysmon
 * hands the P to another M if it really blocks (Go's entersyscall
 * discipline).  Each keeps glibc's semantics: the same syscall, errno
 * from the kernel, and the same cancellation points. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "preload/real.h"
#include "sched/runtime.h"
#include "sched/sys.h"
#include "shim/shim.h"

static long sys_ret(long r)
{
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

/* A raw syscall with the P handed off while it blocks. */
static long blocking6(long nr, long a, long b, long c, long d, long e, long f)
{
	goro__entersyscall();
	long r = goro__sys6(nr, a, b, c, d, e, f);
	goro__exitsyscall();
	return sys_ret(r);
}

#define CANCEL_POINT()                     \
	do {                               \
		if (goro__started)         \
			goro__testcancel(); \
	} while (0)

GORO_EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	CANCEL_POINT();
	return blocking6(SYS_pread64, fd, (long)buf, (long)n, off, 0, 0);
}
GORO_EXPORT ssize_t pread64(int fd, void *buf, size_t n, off_t off) __attribute__((alias("pread")));

GORO_EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	CANCEL_POINT();
	return blocking6(SYS_pwrite64, fd, (long)buf, (long)n, off, 0, 0);
}
GORO_EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) __attribute__((alias("pwrite")));

GORO_EXPORT int fsync(int fd)
{
	CANCEL_POINT();
	return (int)blocking6(SYS_fsync, fd, 0, 0, 0, 0, 0);
}

GORO_EXPORT int fdatasync(int fd)
{
	CANCEL_POINT();
	return (int)blocking6(SYS_fdatasync, fd, 0, 0, 0, 0, 0);
}

GORO_EXPORT int flock(int fd, int op) { return (int)blocking6(SYS_flock, fd, op, 0, 0, 0, 0); }

GORO_EXPORT pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
	CANCEL_POINT();
	return (pid_t)blocking6(SYS_wait4, pid, (long)status, options, (long)ru, 0, 0);
}

GORO_EXPORT pid_t waitpid(pid_t pid, int *status, int options) { return wait4(pid, status, options, NULL); }
GORO_EXPORT pid_t wait(int *status) { return wait4(-1, status, 0, NULL); }

GORO_EXPORT int waitid(idtype_t type, id_t id, siginfo_t *info, int options)
{
	CANCEL_POINT();
	return (int)blocking6(SYS_waitid, type, id, (long)info, options, 0, 0);
}

GORO_EXPORT int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *ts)
{
	CANCEL_POINT();
	return (int)blocking6(SYS_rt_sigtimedwait, (long)set, (long)info, (long)ts, 8, 0, 0);
}

GORO_EXPORT int sigwaitinfo(const sigset_t *set, siginfo_t *info) { return sigtimedwait(set, info, NULL); }

GORO_EXPORT int sigwait(const sigset_t *set, int *sig)
{
	siginfo_t si;
	int r;
	do
		r = sigtimedwait(set, &si, NULL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno;
	*sig = r;
	return 0;
}

/* open of a FIFO blocks until the other end opens. */
/* The mode argument of open/openat, present only with O_CREAT/O_TMPFILE. */
#define OPEN_MODE(flags)                                              \
	__extension__({                                               \
		mode_t m_ = 0;                                        \
		if ((flags) & (O_CREAT | __O_TMPFILE)) {              \
			va_list ap_;                                  \
			va_start(ap_, flags);                         \
			m_ = va_arg(ap_, mode_t);                     \
			va_end(ap_);                                  \
		}                                                     \
		m_;                                                   \
	})

GORO_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = OPEN_MODE(flags);
	CANCEL_POINT();
	return (int)blocking6(SYS_openat, dirfd, (long)path, flags, mode, 0, 0);
}

GORO_EXPORT int open(const char *path, int flags, ...)
{
	return openat(AT_FDCWD, path, flags, OPEN_MODE(flags));
}

GORO_EXPORT int open64(const char *path, int flags, ...) __attribute__((alias("open")));
GORO_EXPORT int openat64(int dirfd, const char *path, int flags, ...) __attribute__((alias("openat")));

/* Sockets this process made itself (socket(2) under goro), so no other
 * process can share their file description yet: only those may have their
 * blocking mode flipped for the length of a connect. */
#define OWN_SOCKETS 65536
static _Atomic uint8_t own_socket[OWN_SOCKETS];

GORO_EXPORT int socket(int domain, int type, int proto)
{
	long fd = goro__sys3(SYS_socket, domain, type, proto);
	if (fd >= 0 && fd < OWN_SOCKETS)
		a_store_rlx(&own_socket[fd], 1);
	return (int)sys_ret(fd);
}

/* After fork() every socket is shared with the other process. */
void goro__own_sockets_forget(void)
{
	for (int i = 0; i < OWN_SOCKETS; i++)
		a_store_rlx(&own_socket[i], 0);
}

void goro__fd_closed(int fd)
{
	if (fd >= 0 && fd < OWN_SOCKETS)
		a_store_rlx(&own_socket[fd], 0);
}

/* connect on a blocking socket: the connection is started non-blocking and
 * the G parks on the netpoller until it completes (10,000 threads
 * connecting at once must not each hold a kernel thread).  The
 * O_NONBLOCK flip lasts only for the call and is done only on a socket
 * this process created (never an inherited one); anything else blocks in
 * the kernel with the P handed off. */
GORO_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	CANCEL_POINT();
	bool own = fd >= 0 && fd < OWN_SOCKETS && a_load_rlx(&own_socket[fd]);
	long fl = goro__started && own ? goro__sys2(SYS_fcntl, fd, F_GETFL) : -1;
	if (fl < 0 || (fl & O_NONBLOCK))
		return (int)blocking6(SYS_connect, fd, (long)addr, len, 0, 0, 0);
	if (goro__sys3(SYS_fcntl, fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return (int)blocking6(SYS_connect, fd, (long)addr, len, 0, 0, 0);
	long r = goro__sys3(SYS_connect, fd, addr, len);
	if (r == -EINPROGRESS) {
		int w = goro__netpoll_wait(fd, 'w', -1, false);
		if (w == 0 || w == -EPERM) {
			if (w == -EPERM) { /* cannot poll it: wait in the kernel */
				struct pollfd p = { fd, POLLOUT, 0 };
				blocking6(SYS_poll, (long)&p, 1, -1, 0, 0, 0);
			}
			int err = 0;
			socklen_t elen = sizeof err;
			r = goro__sys6(SYS_getsockopt, fd, SOL_SOCKET, SO_ERROR, (long)&err, (long)&elen, 0);
			if (r == 0 && err)
				r = -err;
		}
	}
	goro__sys3(SYS_fcntl, fd, F_SETFL, fl);
	return (int)sys_ret(r);
}

GORO_EXPORT int system(const char *cmd)
{
	goro__entersyscall();
	int r = goro__real.system(cmd);
	goro__exitsyscall();
	return r;
}

GORO_EXPORT int pclose(FILE *f)
{
	goro__entersyscall();
	int r = goro__real.pclose(f);
	goro__exitsyscall();
	return r;
}

/* fcntl: only the waiting lock commands block. */
GORO_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	long arg = va_arg(ap, long);
	va_end(ap);
	if (cmd == F_SETLKW || cmd == F_OFD_SETLKW) {
		CANCEL_POINT();
		return (int)blocking6(SYS_fcntl, fd, cmd, arg, 0, 0, 0);
	}
	return (int)sys_ret(goro__sys3(SYS_fcntl, fd, cmd, arg));
}
GORO_EXPORT int fcntl64(int fd, int cmd, ...) __attribute__((alias("fcntl")));

/* syscall(2): a raw system call of the program (SYS_read, SYS_futex...)
 * may block; give the P away while it does. */
GORO_EXPORT long syscall(long nr, ...)
{
	va_list ap;
	va_start(ap, nr);
	long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long);
	long d = va_arg(ap, long), e = va_arg(ap, long), f = va_arg(ap, long);
	va_end(ap);
	switch (nr) {
	case SYS_gettid:
	case SYS_getpid:
	case SYS_clone:
	case SYS_clone3:
	case SYS_fork:
	case SYS_vfork:
	case SYS_exit:
	case SYS_rt_sigreturn:
	case SYS_arch_prctl:
		return sys_ret(goro__sys6(nr, a, b, c, d, e, f));
	default:
		return blocking6(nr, a, b, c, d, e, f);
	}
}

/* ---- poll family --------------------------------------------------------- */

static int64_t ms_deadline(int ms)
{
	return ms < 0 ? -1 : goro__nanotime() + (int64_t)ms * 1000000;
}

static int cmp_req(const void *a, const void *b)
{
	const struct goro_pollreq *x = a, *y = b;
	return x->fd != y->fd ? (x->fd > y->fd) - (x->fd < y->fd) : x->mode - y->mode;
}

/* Park until one of the pollfds may be ready or the deadline (-1: none)
 * passes.  Returns 0 to re-check, -ETIMEDOUT, or -EPERM when goro cannot
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
			return -EPERM;
		if (fds[i].events & (POLLIN | POLLPRI | POLLRDHUP | POLLRDNORM | POLLRDBAND))
			req[k++] = (struct goro_pollreq){ fds[i].fd, 'r' };
		if (fds[i].events & (POLLOUT | POLLWRNORM | POLLWRBAND))
			req[k++] = (struct goro_pollreq){ fds[i].fd, 'w' };
		if (!(fds[i].events & ~(POLLERR | POLLHUP | POLLNVAL)))
			req[k++] = (struct goro_pollreq){ fds[i].fd, 'r' }; /* errors and hang-ups only */
	}
	if (k == 0)
		return -EPERM;
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
			return (int)sys_ret(r);
		if (n == 0) {
			/* poll as a sleep */
			if (!goro__sleep_until(deadline < 0 ? INT64_MAX : deadline, "poll")) {
				goro__testcancel();
				errno = EINTR;
				return -1;
			}
			return 0;
		}
		int w = park_pollfds(fds, n, deadline);
		if (w == -ETIMEDOUT)
			return (int)sys_ret(goro__sys4(SYS_ppoll, fds, n, &zero, NULL));
		if (w == -EINTR)
			return (int)sys_ret(-EINTR);
		if (w == -EPERM) {
			struct timespec left, *lp = NULL;
			if (deadline >= 0) {
				int64_t ns = deadline - goro__nanotime();
				if (ns < 0)
					ns = 0;
				left = (struct timespec){ ns / 1000000000, ns % 1000000000 };
				lp = &left;
			}
			return (int)blocking6(SYS_ppoll, (long)fds, (long)n, (long)lp, 0, 8, 0);
		}
	}
}

GORO_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (!goro__started)
		return (int)blocking6(SYS_poll, (long)fds, (long)n, timeout, 0, 0, 0);
	CANCEL_POINT();
	struct timespec zero = { 0, 0 };
	if (timeout == 0)
		return (int)sys_ret(goro__sys4(SYS_ppoll, fds, n, &zero, NULL));
	return poll_wait(fds, n, timeout < 0 ? -1 : goro__nanotime() + (int64_t)timeout * 1000000);
}

GORO_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask)
{
	CANCEL_POINT();
	/* A signal mask swapped in for the wait is the kernel's to do atomically. */
	if (!goro__started || mask)
		return (int)blocking6(SYS_ppoll, (long)fds, (long)n, (long)ts, (long)mask, 8, 0);
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
			return (int)sys_ret(res);
		int wr = many ? -EPERM : park_pollfds(pf, k, deadline);
		if (wr == -ETIMEDOUT)
			continue; /* one last look, then the deadline check returns 0 */
		if (wr == -EINTR)
			return (int)sys_ret(-EINTR);
		if (wr == -EPERM) {
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
			return (int)blocking6(SYS_select, n, (long)r, (long)w, (long)e, (long)lp, 0);
		}
	}
}

GORO_EXPORT int select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	if (!goro__started)
		return (int)blocking6(SYS_select, n, (long)r, (long)w, (long)e, (long)tv, 0);
	CANCEL_POINT();
	if (tv && (tv->tv_sec < 0 || tv->tv_usec < 0 || tv->tv_usec >= 1000000)) {
		errno = EINVAL;
		return -1;
	}
	int64_t when = tv ? goro__nanotime() + (int64_t)tv->tv_sec * 1000000000 + tv->tv_usec * 1000 : -1;
	if (n == 0 && tv) {
		/* select as a sleep */
		bool done = goro__sleep_until(when, "select");
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
	CANCEL_POINT();
	if (!goro__started || mask) {
		struct { const sigset_t *ss; size_t len; } data = { mask, 8 };
		return (int)blocking6(SYS_pselect6, n, (long)r, (long)w, (long)e, (long)ts, (long)&data);
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
		return (int)blocking6(SYS_epoll_pwait, epfd, (long)ev, max, timeout, (long)mask, 8);
	CANCEL_POINT();
	int64_t deadline = ms_deadline(timeout);
	uint32_t ran = getg()->sigran; /* a handler run during the call ends it */
	for (;;) {
		long r = goro__sys6(SYS_epoll_pwait, epfd, (long)ev, max, 0, 0, 8);
		if (r != 0 || timeout == 0)
			return (int)sys_ret(r);
		int w = goro__netpoll_wait(epfd, 'r', deadline, true);
		if (w == -EINTR) {
			goro__testcancel();
			if (getg()->sigran != ran)
				return (int)sys_ret(-EINTR); /* a handler ran: always EINTR */
		}
		else if (w == -ETIMEDOUT)
			return (int)sys_ret(goro__sys6(SYS_epoll_pwait, epfd, (long)ev, max, 0, 0, 8));
		else if (w < 0)
			return (int)blocking6(SYS_epoll_pwait, epfd, (long)ev, max, timeout, 0, 8);
	}
}

GORO_EXPORT int epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
	return epoll_pwait(epfd, ev, max, timeout, NULL);
}

extern void __chk_fail(void) __attribute__((noreturn)); /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */

GORO_EXPORT ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen) /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
{
	if (n > buflen)
		__chk_fail();
	return pread(fd, buf, n, off);
}

GORO_EXPORT ssize_t __pread64_chk(int fd, void *buf, size_t n, off_t off, size_t buflen) /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
	__attribute__((alias("__pread_chk")));

GORO_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen) /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
{
	if (fdslen / sizeof(*fds) < n)
		__chk_fail();
	return poll(fds, n, timeout);
}

/* sigsuspend/pause wait in the kernel for a signal to this thread: the
 * M's mask is the G's (idle Ms and sysmon block program signals), so the
 * signal comes here.  The runtime's own signal stays deliverable. */
GORO_EXPORT int sigsuspend(const sigset_t *mask)
{
	CANCEL_POINT();
	sigset_t m = *mask;
	if (!goro__started)
		return (int)blocking6(SYS_rt_sigsuspend, (long)&m, 8, 0, 0, 0, 0);
	sigdelset(&m, GORO_SIGNUDGE);
	struct g *gp = getg();
	uint64_t wm = *(const uint64_t *)&m;
	uint32_t ran = gp->sigran;
	/* A pthread_kill while the wait runs nudges this M; the nudge raises
	 * what the wait's mask accepts (goro__sig_deliver). */
	gp->suspendmask = wm;
	a_store_rel(&gp->suspending, true);
	long r;
	do {
		/* Signals pthread_kill recorded for this thread that the wait
		 * accepts: kernel-pending now, so the wait takes them. */
		goro__sig_raise_pending(gp, wm);
		r = blocking6(SYS_rt_sigsuspend, (long)&m, 8, 0, 0, 0, 0);
		/* Natively only a handler of the program ends the wait: the
		 * runtime's nudge alone waits again. */
	} while (gp->sigran == ran);
	a_store_rlx(&gp->suspending, false);
	return (int)r;
}

GORO_EXPORT int pause(void)
{
	sigset_t cur;
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	return sigsuspend(&cur);
}
