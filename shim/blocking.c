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
GORO_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	if (flags & (O_CREAT | __O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	CANCEL_POINT();
	return (int)blocking6(SYS_openat, dirfd, (long)path, flags, mode, 0, 0);
}

GORO_EXPORT int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	if (flags & (O_CREAT | __O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	return openat(AT_FDCWD, path, flags, mode);
}

GORO_EXPORT int open64(const char *path, int flags, ...) __attribute__((alias("open")));
GORO_EXPORT int openat64(int dirfd, const char *path, int flags, ...) __attribute__((alias("openat")));

/* connect on a blocking socket: the connection is started non-blocking and
 * the G parks on the netpoller until it completes (10,000 threads
 * connecting at once must not each hold a kernel thread).  The
 * O_NONBLOCK flip lasts only for the call and is done only on sockets the
 * program could not have shared yet through inheritance (fd > 2);
 * anything unusual falls back to the blocking call with the P handed
 * off. */
GORO_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	CANCEL_POINT();
	long fl = goro__started && fd > 2 ? goro__sys2(SYS_fcntl, fd, F_GETFL) : -1;
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

GORO_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (!goro__started)
		return (int)blocking6(SYS_poll, (long)fds, (long)n, timeout, 0, 0, 0);
	CANCEL_POINT();
	struct timespec zero = { 0, 0 };
	long r = goro__sys4(SYS_ppoll, fds, n, &zero, NULL);
	if (r != 0 || timeout == 0)
		return (int)sys_ret(r);
	int64_t deadline = ms_deadline(timeout);
	if (n == 0) {
		/* poll as a sleep */
		if (!goro__sleep_until(deadline < 0 ? INT64_MAX : deadline, "poll")) {
			goro__testcancel();
			errno = EINTR;
			return -1;
		}
		return 0;
	}
	if (n == 1 && fds[0].fd >= 0 &&
	    ((fds[0].events & (POLLIN | POLLPRI)) != 0) != ((fds[0].events & POLLOUT) != 0)) {
		/* One fd, one direction: park on the netpoller. */
		for (;;) {
			int w = goro__netpoll_wait(fds[0].fd, (fds[0].events & POLLOUT) ? 'w' : 'r', deadline, true);
			if (w == -EINTR)
				goro__testcancel();
			else if (w == -EPERM)
				break;
			r = goro__sys4(SYS_ppoll, fds, n, &zero, NULL);
			if (r != 0 || w == -ETIMEDOUT)
				return (int)sys_ret(r);
		}
	}
	int left = timeout;
	if (deadline >= 0) {
		int64_t ns = deadline - goro__nanotime();
		left = ns <= 0 ? 0 : (int)((ns + 999999) / 1000000);
	}
	return (int)blocking6(SYS_poll, (long)fds, (long)n, left, 0, 0, 0);
}

GORO_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask)
{
	CANCEL_POINT();
	return (int)blocking6(SYS_ppoll, (long)fds, (long)n, (long)ts, (long)mask, 8, 0);
}

GORO_EXPORT int select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	if (goro__started && n == 0 && tv) {
		/* select as a sleep; Linux writes back the time not slept. */
		int64_t when = goro__nanotime() + (int64_t)tv->tv_sec * 1000000000 + tv->tv_usec * 1000;
		CANCEL_POINT();
		bool done = goro__sleep_until(when, "select");
		int64_t left = when - goro__nanotime();
		if (left < 0)
			left = 0;
		tv->tv_sec = left / 1000000000;
		tv->tv_usec = (left % 1000000000) / 1000;
		if (!done) {
			goro__testcancel();
			errno = EINTR;
			return -1;
		}
		return 0;
	}
	CANCEL_POINT();
	return (int)blocking6(SYS_select, n, (long)r, (long)w, (long)e, (long)tv, 0);
}

GORO_EXPORT int pselect(int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *ts, const sigset_t *mask)
{
	CANCEL_POINT();
	struct { const sigset_t *ss; size_t len; } data = { mask, 8 };
	return (int)blocking6(SYS_pselect6, n, (long)r, (long)w, (long)e, (long)ts, (long)&data);
}

/* epoll_wait on the program's own epoll fd: an epoll fd is itself
 * pollable, so the G parks on goro's netpoller until it is readable. */
GORO_EXPORT int epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout, const sigset_t *mask)
{
	if (!goro__started || mask)
		return (int)blocking6(SYS_epoll_pwait, epfd, (long)ev, max, timeout, (long)mask, 8);
	CANCEL_POINT();
	int64_t deadline = ms_deadline(timeout);
	for (;;) {
		long r = goro__sys6(SYS_epoll_pwait, epfd, (long)ev, max, 0, 0, 8);
		if (r != 0 || timeout == 0)
			return (int)sys_ret(r);
		int w = goro__netpoll_wait(epfd, 'r', deadline, true);
		if (w == -EINTR)
			goro__testcancel();
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
	if (goro__started)
		sigdelset(&m, GORO_SIGNUDGE);
	return (int)blocking6(SYS_rt_sigsuspend, (long)&m, 8, 0, 0, 0, 0);
}

GORO_EXPORT int pause(void)
{
	sigset_t cur;
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	return sigsuspend(&cur);
}
