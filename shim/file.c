/* Files: reads and writes at an offset, syncs, locks and opens that may
 * block in the kernel (a FIFO's open waits for the other end).  Regular
 * files cannot be polled: the call runs with the P marked in-syscall and
 * sysmon hands the P to another M if it really blocks (Go's entersyscall
 * discipline).  The same system call, errno from the kernel, and glibc's
 * cancellation points. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/file.h>
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
	GORO_CANCEL_POINT();
	return (int)goro__blocking6(SYS_openat, dirfd, (long)path, flags, mode, 0, 0);
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
	if (cmd == F_SETLKW || cmd == F_OFD_SETLKW) {
		GORO_CANCEL_POINT();
		return (int)goro__blocking6(SYS_fcntl, fd, cmd, arg, 0, 0, 0);
	}
	return (int)goro__sys_ret(goro__sys3(SYS_fcntl, fd, cmd, arg));
}
GORO_EXPORT int fcntl64(int fd, int cmd, ...) __attribute__((alias("fcntl")));

GORO_EXPORT ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen) /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
{
	if (n > buflen)
		__chk_fail();
	return pread(fd, buf, n, off);
}

GORO_EXPORT ssize_t __pread64_chk(int fd, void *buf, size_t n, off_t off, size_t buflen) /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
	__attribute__((alias("__pread_chk")));
