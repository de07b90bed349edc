/* Reads and writes: a call that would block parks the G on the netpoller
 * instead of blocking its M; one that cannot be polled blocks in the
 * kernel with the P handed off (sched/proc.c entersyscall).
 *
 * The program's view of the fd never changes.  goro does not flip
 * O_NONBLOCK: it asks for a non-blocking attempt per call (preadv2 /
 * pwritev2 with RWF_NOWAIT, MSG_DONTWAIT for sockets) and, when that says
 * EAGAIN, parks only if the program's own file status flags are blocking
 * (F_GETFL); otherwise the program gets its EAGAIN.  Partial transfers,
 * EOF and errors come from the kernel unchanged; a blocking write is
 * completed in pieces as the kernel would (all bytes, or an error after
 * none).  read/write/... are cancellation points. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sched/runtime.h"
#include "sched/sys.h"
#include "shim/shim.h"

#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x00000008
#endif

static bool user_nonblock(int fd)
{
	long fl = goro__sys2(SYS_fcntl, fd, F_GETFL);
	return fl >= 0 && (fl & O_NONBLOCK);
}

/* The blocking fallback: the syscall itself, with the P handed off if it
 * really blocks. */
static long blocking_rw(int fd, const struct iovec *iov, int cnt, enum goro_iomode mode)
{
	goro__entersyscall();
	long r = goro__sys3(mode == GORO_IO_READ ? SYS_readv : SYS_writev, fd, iov, cnt);
	goro__exitsyscall();
	return r;
}

/* Wait for fd in mode; 1: retry the call, 0: use the blocking fallback,
 * <0: -errno to return. */
static int wait_ready(int fd, enum goro_iomode mode)
{
	struct g *gp = getg();
	uint32_t nr = gp->sigran_nr;
	int w = goro__netpoll_wait(fd, mode, -1, true);
	if (w == 0)
		return 1;
	if (w == -EINTR) {
		goro__testcancel();
		/* A handler without SA_RESTART ran: EINTR; with SA_RESTART the
		 * kernel would restart the call. */
		return gp->sigran_nr != nr ? -EINTR : 1;
	}
	if (w == GORO_POLL_FALLBACK || w == -EBADF)
		return 0;
	return w;
}

static size_t iov_total(const struct iovec *iov, int cnt)
{
	size_t n = 0;
	for (int i = 0; i < cnt; i++)
		n += iov[i].iov_len;
	return n;
}

/* Drop the first `done` bytes of iov[0..*cnt) into the caller's copy. */
static struct iovec *iov_advance(struct iovec *iov, int *cnt, size_t done)
{
	while (*cnt > 0 && done >= iov->iov_len) {
		done -= iov->iov_len;
		iov++;
		(*cnt)--;
	}
	if (*cnt > 0) {
		iov->iov_base = (char *)iov->iov_base + done;
		iov->iov_len -= done;
	}
	return iov;
}

static ssize_t rw(int fd, const struct iovec *uiov, int cnt, enum goro_iomode mode)
{
	if (!goro__started || cnt < 0 || cnt > IOV_MAX)
		return goro__sys_ret(goro__sys3(mode == GORO_IO_READ ? SYS_readv : SYS_writev, fd, uiov, cnt));
	goro__testcancel();
	struct iovec copy[cnt > 0 ? cnt : 1];
	memcpy(copy, uiov, sizeof(struct iovec) * (size_t)cnt);
	struct iovec *iov = copy;
	size_t total = iov_total(uiov, cnt), done = 0;
	for (;;) {
		long r = goro__sys6(mode == GORO_IO_READ ? SYS_preadv2 : SYS_pwritev2, fd, (long)iov, cnt, -1, -1,
				    RWF_NOWAIT);
		if (r >= 0) {
			done += (size_t)r;
			/* A blocking write goes on until everything is written. */
			if (mode == GORO_IO_READ || done == total || r == 0)
				return (ssize_t)done;
			iov = iov_advance(iov, &cnt, (size_t)r);
			continue;
		}
		int k = 0;
		if (r == -EAGAIN) {
			if (user_nonblock(fd))
				return done ? (ssize_t)done : goro__sys_ret(r);
			k = wait_ready(fd, mode);
			if (k == 1)
				continue;
			if (k < 0)
				return done ? (ssize_t)done : goro__sys_ret(k);
		} else if (r != -EOPNOTSUPP) {
			return done ? (ssize_t)done : goro__sys_ret(r);
		}
		/* Not pollable, or no RWF_NOWAIT for this file: block. */
		r = blocking_rw(fd, iov, cnt, mode);
		if (r < 0)
			return done ? (ssize_t)done : goro__sys_ret(r);
		return (ssize_t)(done + (size_t)r);
	}
}

GORO_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	struct iovec iov = { buf, n };
	return rw(fd, &iov, 1, GORO_IO_READ);
}

GORO_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	struct iovec iov = { (void *)buf, n };
	return rw(fd, &iov, 1, GORO_IO_WRITE);
}

GORO_EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt) { return rw(fd, iov, cnt, GORO_IO_READ); }
GORO_EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt) { return rw(fd, iov, cnt, GORO_IO_WRITE); }

/* ---- sockets ------------------------------------------------------------- */

static bool is_stream(int fd)
{
	int type = 0;
	socklen_t len = sizeof type;
	return goro__sys6(SYS_getsockopt, fd, SOL_SOCKET, SO_TYPE, (long)&type, (long)&len, 0) == 0 &&
	       type == SOCK_STREAM;
}

/* recvmsg/sendmsg with MSG_DONTWAIT; park while the program's socket is
 * blocking and it did not ask for MSG_DONTWAIT itself. */
static ssize_t sockmsg(int fd, struct msghdr *umsg, int flags, enum goro_iomode mode)
{
	long nr = mode == GORO_IO_READ ? SYS_recvmsg : SYS_sendmsg;
	if (!goro__started)
		return goro__sys_ret(goro__sys3(nr, fd, umsg, flags));
	goro__testcancel();
	struct msghdr msg = *umsg;
	int cnt = (int)msg.msg_iovlen;
	if (cnt < 0 || cnt > IOV_MAX)
		return goro__sys_ret(goro__sys3(nr, fd, umsg, flags));
	struct iovec copy[cnt > 0 ? cnt : 1];
	memcpy(copy, umsg->msg_iov, sizeof(struct iovec) * (size_t)cnt);
	msg.msg_iov = copy;
	size_t total = iov_total(copy, cnt), done = 0;
	for (;;) {
		long r = goro__sys3(nr, fd, &msg, flags | MSG_DONTWAIT);
		if (r >= 0) {
			done += (size_t)r;
			if (mode == GORO_IO_READ) {
				umsg->msg_flags = msg.msg_flags;
				umsg->msg_namelen = msg.msg_namelen;
				umsg->msg_controllen = msg.msg_controllen;
				return r;
			}
			if (done == total || !is_stream(fd))
				return (ssize_t)done;
			int c = (int)msg.msg_iovlen;
			msg.msg_iov = iov_advance(msg.msg_iov, &c, (size_t)r);
			msg.msg_iovlen = (size_t)c;
			msg.msg_control = NULL; /* ancillary data went with the first part */
			msg.msg_controllen = 0;
			continue;
		}
		if (r != -EAGAIN || (flags & MSG_DONTWAIT) || user_nonblock(fd))
			return done ? (ssize_t)done : goro__sys_ret(r);
		int k = wait_ready(fd, mode);
		if (k < 0)
			return done ? (ssize_t)done : goro__sys_ret(k);
		if (k == 0) { /* cannot happen for sockets; block to be safe */
			goro__entersyscall();
			r = goro__sys3(nr, fd, &msg, flags);
			goro__exitsyscall();
			return r < 0 ? (done ? (ssize_t)done : goro__sys_ret(r)) : (ssize_t)(done + (size_t)r);
		}
	}
}

GORO_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags) { return sockmsg(fd, msg, flags, GORO_IO_READ); }
GORO_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	return sockmsg(fd, (struct msghdr *)msg, flags, GORO_IO_WRITE);
}

GORO_EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *addr, socklen_t *alen)
{
	struct iovec iov = { buf, n };
	struct msghdr msg = { .msg_name = addr, .msg_namelen = alen ? *alen : 0, .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t r = sockmsg(fd, &msg, flags, GORO_IO_READ);
	if (r >= 0 && alen)
		*alen = msg.msg_namelen;
	return r;
}

GORO_EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags) { return recvfrom(fd, buf, n, flags, NULL, NULL); }

GORO_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *addr, socklen_t alen)
{
	struct iovec iov = { (void *)buf, n };
	struct msghdr msg = { .msg_name = (void *)addr, .msg_namelen = alen, .msg_iov = &iov, .msg_iovlen = 1 };
	return sockmsg(fd, &msg, flags, GORO_IO_WRITE);
}

GORO_EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags) { return sendto(fd, buf, n, flags, NULL, 0); }

/* accept: readiness first (there is no per-call non-blocking accept); a
 * connection taken by someone else between readiness and accept blocks
 * in the kernel with the P handed off. */
GORO_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *alen, int flags)
{
	if (goro__started) {
		goro__testcancel();
		for (;;) {
			struct pollfd p = { fd, POLLIN, 0 };
			struct timespec zero = { 0, 0 };
			if (goro__sys4(SYS_ppoll, &p, 1, &zero, NULL) != 0 || user_nonblock(fd))
				break;
			int k = wait_ready(fd, GORO_IO_READ);
			if (k < 0)
				return (int)goro__sys_ret(k); /* EINTR: a handler ran */
			if (k != 1)
				break;
		}
	}
	goro__entersyscall();
	long r = goro__sys4(SYS_accept4, fd, addr, alen, flags);
	goro__exitsyscall();
	return (int)goro__sys_ret(r);
}

GORO_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *alen) { return accept4(fd, addr, alen, 0); }

GORO_EXPORT int close(int fd)
{
	/* goro's own: natively nothing is open there (sched/netpoll.c). */
	if (goro__fd_is_own(fd)) {
		errno = EBADF;
		return -1;
	}
	if (goro__started)
		goro__netpoll_close(fd);
	goro__fd_closed(fd);
	/* close is a cancellation point, but a cancelled close must still
	 * close (POSIX leaves the fd state unspecified; glibc closes). */
	return (int)goro__sys_ret(goro__sys1(SYS_close, fd));
}

/* _FORTIFY_SOURCE builds call the checking variants (debian packages are
 * built that way): the same calls after glibc's size check. */

GORO_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen) /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
{
	if (n > buflen)
		__chk_fail();
	return read(fd, buf, n);
}

GORO_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags) /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
{
	if (n > buflen)
		__chk_fail();
	return recv(fd, buf, n, flags);
}

GORO_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags, /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
				   struct sockaddr *addr, socklen_t *alen)
{
	if (n > buflen)
		__chk_fail();
	return recvfrom(fd, buf, n, flags, addr, alen);
}

/* ---- sockets ------------------------------------------------------------ */

GORO_EXPORT int socket(int domain, int type, int proto)
{
	long fd = goro__sys3(SYS_socket, domain, type, proto);
	if (fd >= 0)
		goro__own_socket_made((int)fd);
	return (int)goro__sys_ret(fd);
}

/* connect on a blocking socket: the connection is started non-blocking and
 * the G parks on the netpoller until it completes (10,000 threads
 * connecting at once must not each hold a kernel thread).  The
 * O_NONBLOCK flip lasts only for the call and is done only on a socket
 * this process created (never an inherited one); anything else blocks in
 * the kernel with the P handed off. */
GORO_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	GORO_CANCEL_POINT();
	bool own = goro__own_socket(fd);
	long fl = goro__started && own ? goro__sys2(SYS_fcntl, fd, F_GETFL) : -1;
	if (fl < 0 || (fl & O_NONBLOCK))
		return (int)goro__blocking6(SYS_connect, fd, (long)addr, len, 0, 0, 0);
	if (goro__sys3(SYS_fcntl, fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return (int)goro__blocking6(SYS_connect, fd, (long)addr, len, 0, 0, 0);
	long r = goro__sys3(SYS_connect, fd, addr, len);
	if (r == -EINPROGRESS) {
		int w = goro__netpoll_wait(fd, GORO_IO_WRITE, -1, false);
		if (w == 0 || w == GORO_POLL_FALLBACK) {
			if (w == GORO_POLL_FALLBACK) { /* cannot poll it: wait in the kernel */
				struct pollfd p = { fd, POLLOUT, 0 };
				goro__blocking6(SYS_poll, (long)&p, 1, -1, 0, 0, 0);
			}
			int err = 0;
			socklen_t elen = sizeof err;
			r = goro__sys6(SYS_getsockopt, fd, SOL_SOCKET, SO_ERROR, (long)&err, (long)&elen, 0);
			if (r == 0 && err)
				r = -err;
		}
	}
	goro__sys3(SYS_fcntl, fd, F_SETFL, fl);
	return (int)goro__sys_ret(r);
}
