/* Files: reads and writes at an offset, syncs, locks and opens that may
 * block in the kernel (a FIFO's open waits for the other end).  Regular
 * files cannot be polled: the call runs with the P marked in-syscall and
 * sysmon hands the P to another M if it really blocks (Go's entersyscall
 * discipline).  The same system call, errno from the kernel, and glibc's
 * cancellation points. */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdarg.h>
#include <sys/file.h>
#include <sys/msg.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sched/runtime.h"
#include "sched/sys.h"
#include "shim/shim.h"

GORO_EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	GORO_CANCEL_POINT();
	return goro__blocking6(SYS_pread64, fd, (long)buf, (long)n, off, 0, 0);
}
GORO_EXPORT ssize_t pread64(int fd, void *buf, size_t n, off_t off) __attribute__((alias("pread")));

GORO_EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	GORO_CANCEL_POINT();
	return goro__blocking6(SYS_pwrite64, fd, (long)buf, (long)n, off, 0, 0);
}
GORO_EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) __attribute__((alias("pwrite")));

GORO_EXPORT int fsync(int fd)
{
	GORO_CANCEL_POINT();
	return (int)goro__blocking6(SYS_fsync, fd, 0, 0, 0, 0, 0);
}

GORO_EXPORT int fdatasync(int fd)
{
	GORO_CANCEL_POINT();
	return (int)goro__blocking6(SYS_fdatasync, fd, 0, 0, 0, 0, 0);
}

GORO_EXPORT int flock(int fd, int op) { return (int)goro__blocking6(SYS_flock, fd, op, 0, 0, 0, 0); }

/* open of a FIFO blocks until the other end opens.  The mode argument of
 * open/openat is present only with O_CREAT/O_TMPFILE. */
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
	return (int)goro__blocking_cancel6(SYS_openat, dirfd, (long)path, flags, mode, 0, 0);
}

GORO_EXPORT int open(const char *path, int flags, ...)
{
	return openat(AT_FDCWD, path, flags, OPEN_MODE(flags));
}

GORO_EXPORT int open64(const char *path, int flags, ...) __attribute__((alias("open")));
GORO_EXPORT int openat64(int dirfd, const char *path, int flags, ...) __attribute__((alias("openat")));


/* fcntl: only the waiting lock commands block. */
GORO_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	long arg = va_arg(ap, long);
	va_end(ap);
	if (cmd == F_SETLKW || cmd == F_OFD_SETLKW)
		return (int)goro__blocking_cancel6(SYS_fcntl, fd, cmd, arg, 0, 0, 0);
	return (int)goro__sys_ret(goro__sys3(SYS_fcntl, fd, cmd, arg));
}
GORO_EXPORT int fcntl64(int fd, int cmd, ...) __attribute__((alias("fcntl")));

/* System V and POSIX message queues: blocking cancellation points. */
GORO_EXPORT ssize_t msgrcv(int id, void *msg, size_t n, long type, int flags)
{
	return goro__blocking_cancel6(SYS_msgrcv, id, (long)msg, (long)n, type, flags, 0);
}

GORO_EXPORT int msgsnd(int id, const void *msg, size_t n, int flags)
{
	return (int)goro__blocking_cancel6(SYS_msgsnd, id, (long)msg, (long)n, flags, 0, 0);
}

GORO_EXPORT ssize_t mq_timedreceive(mqd_t q, char *msg, size_t n, unsigned *prio, const struct timespec *abs)
{
	return goro__blocking_cancel6(SYS_mq_timedreceive, q, (long)msg, (long)n, (long)prio, (long)abs, 0);
}

GORO_EXPORT ssize_t mq_receive(mqd_t q, char *msg, size_t n, unsigned *prio)
{
	return goro__blocking_cancel6(SYS_mq_timedreceive, q, (long)msg, (long)n, (long)prio, 0, 0);
}

GORO_EXPORT int mq_timedsend(mqd_t q, const char *msg, size_t n, unsigned prio, const struct timespec *abs)
{
	return (int)goro__blocking_cancel6(SYS_mq_timedsend, q, (long)msg, (long)n, prio, (long)abs, 0);
}

GORO_EXPORT int mq_send(mqd_t q, const char *msg, size_t n, unsigned prio)
{
	return (int)goro__blocking_cancel6(SYS_mq_timedsend, q, (long)msg, (long)n, prio, 0, 0);
}

GORO_EXPORT ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen) /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
{
	if (n > buflen)
		__chk_fail();
	return pread(fd, buf, n, off);
}

GORO_EXPORT ssize_t __pread64_chk(int fd, void *buf, size_t n, off_t off, size_t buflen) /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
	__attribute__((alias("__pread_chk")));

/* ---- closing and replacing fds: goro's own are not the program's -------
 * goro keeps a few fds of its own out of the program's way (sched/netpoll.c,
 * goro__fd_hide); a call that would close or replace one acts as natively,
 * where nothing is open there: close_range skips them, dup2/dup3 first move
 * goro's fd elsewhere, a dup of one is EBADF.  An fd the call closes wakes
 * its waiters, as close does. */

/* The program closes fd (or replaces it): what goro knew of it goes. */
static void fd_gone(int fd)
{
	if (goro__started)
		goro__netpoll_close(fd);
	goro__fd_closed(fd);
}

GORO_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	int own[GORO_OWN_FDS_MAX];
	if (first > last) {
		errno = EINVAL;
		return -1;
	}
	int n = goro__fd_own_in(first, last, own);
	long r = 0;
	unsigned lo = first;
	unsigned unshare = CLOSE_RANGE_UNSHARE;
	/* The ranges between goro's fds, each its own call; only the first
	 * unshares the table (CLOSE_RANGE_UNSHARE), all close in it. */
	for (int i = 0; i <= n && r == 0; i++) {
		unsigned hi = i < n ? (unsigned)own[i] - 1 : last;
		if (lo <= hi) {
			r = goro__sys3(SYS_close_range, lo, hi, flags);
			flags = (int)((unsigned)flags & ~unshare);
		}
		if (i < n)
			lo = (unsigned)own[i] + 1;
	}
	if (r == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
		for (unsigned fd = first; fd <= last && fd < GORO_OWN_SOCKETS_MAX; fd++)
			fd_gone((int)fd);
	return (int)goro__sys_ret(r);
}

/* glibc's closefrom is close_range(lowfd, ~0U, 0) reached inside libc. */
GORO_EXPORT void closefrom(int lowfd)
{
	if (lowfd < 0)
		lowfd = 0;
	int saved = errno;
	if (close_range((unsigned)lowfd, ~0U, 0) != 0)
		goro__throw("closefrom: close_range failed: %d", errno);
	errno = saved;
}

GORO_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	if (goro__fd_is_own(oldfd)) {
		errno = EBADF;
		return -1;
	}
	if (goro__fd_is_own(newfd))
		goro__fd_evict(newfd);
	long r = goro__sys3(SYS_dup3, oldfd, newfd, flags);
	if (r >= 0)
		fd_gone(newfd);
	return (int)goro__sys_ret(r);
}

GORO_EXPORT int dup2(int oldfd, int newfd)
{
	if (oldfd == newfd && !goro__fd_is_own(oldfd)) /* dup3 refuses this one */
		return (int)goro__sys_ret(goro__sys3(SYS_fcntl, oldfd, F_GETFD, 0) < 0 ? -EBADF : newfd);
	return dup3(oldfd, newfd, 0);
}

GORO_EXPORT int dup(int oldfd)
{
	if (goro__fd_is_own(oldfd)) {
		errno = EBADF;
		return -1;
	}
	return (int)goro__sys_ret(goro__sys1(SYS_dup, oldfd));
}
