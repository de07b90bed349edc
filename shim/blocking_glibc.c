/* The built-in declared blocking calls: glibc functions whose blocking is
 * invisible to the interposed surface, because glibc reaches the kernel
 * through its hidden aliases (name service lookups: /etc files, DNS over
 * its own sockets).  Interposed plainly, the signatures being fixed, and
 * run with the P handed off as an interposed blocking system call
 * (docs/ARCHITECTURE.md, "Declared blocking calls").  GORO_BLOCKING
 * starting with '-' makes them plain calls of glibc's.  Each counts in
 * declared_calls.  Also stdio's reads and writes that must refill or flush
 * a buffer (below). */
#include <dlfcn.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "sched/atomic.h"
#include "sched/real.h"
#include "sched/runtime.h"
#include "shim/blocking.h"
#include "shim/shim.h"

/* glibc's definition behind goro's, found once. */
static void *next_of(void *_Atomic *slot, const char *name)
{
	void *f = a_load_acq(slot);
	if (!f) {
		f = goro__real_dlsym(RTLD_NEXT, name);
		if (!f)
			goro__throw("cannot find glibc's %s (dlsym RTLD_NEXT)", name);
		a_store_rel(slot, f);
	}
	return f;
}

/* Whether this call runs with the P handed off. */
static bool declared(void)
{
	if (goro__blk_nodefaults || !goro__started)
		return false;
	a_fetch_add_rlx(&goro__sched.ndeclared, 1);
	return true;
}

/* ret name params: glibc's, declared. */
#define BLK_GLIBC(ret, name, params, args)                                        \
	GORO_EXPORT ret name params                                               \
	{                                                                         \
		static void *_Atomic next_;                                      \
		__typeof__(name) *f_ = (__typeof__(name) *)next_of(&next_, #name);\
		return declared() ? goro__blocking_real(f_ args) : f_ args;       \
	}

/* stdio's reads and writes are cancellation points inside glibc: while one
 * waits in the kernel, a cancel ends the G there, as natively (as goro's
 * system(), shim/process.c: GORO_CANCELSYS_LIBC; docs/ARCHITECTURE.md,
 * "Cancellation in the kernel").  on: whether the G may be cancelled so. */
static bool libc_cancelable(bool on)
{
	struct g *gp = getg();
	if (on && (gp->cancel_state != PTHREAD_CANCEL_ENABLE || gp->exiting))
		return false;
	a_store_rel(&gp->cancelsys, on ? GORO_CANCELSYS_LIBC : 0);
	a_store_rel(&gp->cancelable, on);
	return on;
}

/* ret name params: glibc's, declared when may_block (an expression of the
 * arguments) holds, and then a cancellation point. */
#define BLK_STDIO(ret, name, params, args, may_block)                               \
	GORO_EXPORT ret name params                                                \
	{                                                                          \
		static void *_Atomic next_;                                       \
		__typeof__(name) *f_ = (__typeof__(name) *)next_of(&next_, #name);\
		if (!(may_block) || !declared())                                  \
			return f_ args;                                           \
		goro__testcancel();                                               \
		goro__entersyscall();                                             \
		bool c_ = libc_cancelable(true);                                  \
		ret r_ = f_ args;                                                 \
		if (c_)                                                           \
			libc_cancelable(false);                                   \
		goro__exitsyscall();                                              \
		return r_;                                                        \
	}

BLK_GLIBC(int, getaddrinfo,
	  (const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res),
	  (node, service, hints, res))
BLK_GLIBC(int, getnameinfo,
	  (const struct sockaddr *sa, socklen_t salen, char *host, socklen_t hostlen, char *serv,
	   socklen_t servlen, int flags),
	  (sa, salen, host, hostlen, serv, servlen, flags))
BLK_GLIBC(struct hostent *, gethostbyname, (const char *name), (name))
BLK_GLIBC(int, gethostbyname_r,
	  (const char *name, struct hostent *ret, char *buf, size_t buflen, struct hostent **result,
	   int *h_errnop),
	  (name, ret, buf, buflen, result, h_errnop))
BLK_GLIBC(struct passwd *, getpwnam, (const char *name), (name))
BLK_GLIBC(struct passwd *, getpwuid, (uid_t uid), (uid))
BLK_GLIBC(struct group *, getgrnam, (const char *name), (name))
BLK_GLIBC(struct group *, getgrgid, (gid_t gid), (gid))
BLK_GLIBC(int, getpwnam_r, (const char *name, struct passwd *pwd, char *buf, size_t len, struct passwd **res),
	  (name, pwd, buf, len, res))
BLK_GLIBC(int, getpwuid_r, (uid_t uid, struct passwd *pwd, char *buf, size_t len, struct passwd **res),
	  (uid, pwd, buf, len, res))
BLK_GLIBC(int, getgrnam_r, (const char *name, struct group *grp, char *buf, size_t len, struct group **res),
	  (name, grp, buf, len, res))
BLK_GLIBC(int, getgrgid_r, (gid_t gid, struct group *grp, char *buf, size_t len, struct group **res),
	  (gid, grp, buf, len, res))

/* ---- stdio --------------------------------------------------------------
 * stdio reaches the kernel through glibc's own read/write only when a
 * stream's buffer must be refilled or flushed.  Whether it must is read
 * off the get and put areas as getc_unlocked/putc_unlocked do (public
 * <bits/types/struct_FILE.h>; docs/ARCHITECTURE.md G33): a call served from
 * the buffer runs plainly, one that may block runs declared.  Racy reads
 * of the pointers only choose the path: either is correct. */

/* Bytes buffered for reading. */
static size_t get_avail(FILE *fp)
{
	const char *p = fp->_IO_read_ptr, *end = fp->_IO_read_end;
	return p && end > p ? (size_t)(end - p) : 0;
}

/* Does a read of up to n bytes that stops at a newline (nl) need more
 * than the buffer holds? */
static bool read_may_block(FILE *fp, size_t n, bool nl)
{
	size_t avail = get_avail(fp);
	if (avail >= n)
		return false;
	return !(nl && avail && memchr(fp->_IO_read_ptr, '\n', avail));
}

/* Does a write of n bytes not fit in the put area (a line-buffered or
 * unbuffered stream has none: every write goes through overflow)? */
static bool write_may_block(FILE *fp, size_t n)
{
	const char *p = fp->_IO_write_ptr, *end = fp->_IO_write_end;
	return !p || end < p || (size_t)(end - p) < n;
}

/* n * size, or SIZE_MAX when it overflows (then: "may block"). */
static size_t total(size_t size, size_t n)
{
	size_t t;
	return __builtin_mul_overflow(size, n, &t) ? SIZE_MAX : t;
}

BLK_STDIO(size_t, fread, (void *p, size_t size, size_t n, FILE *fp), (p, size, n, fp),
	  read_may_block(fp, total(size, n), false))
BLK_STDIO(char *, fgets, (char *s, int n, FILE *fp), (s, n, fp),
	  n > 1 && read_may_block(fp, (size_t)n - 1, true))
BLK_STDIO(ssize_t, getline, (char **line, size_t *n, FILE *fp), (line, n, fp), read_may_block(fp, SIZE_MAX, true))
BLK_STDIO(size_t, fwrite, (const void *p, size_t size, size_t n, FILE *fp), (p, size, n, fp),
	  write_may_block(fp, total(size, n)))
BLK_STDIO(int, fputs, (const char *s, FILE *fp), (s, fp), write_may_block(fp, strlen(s)))
BLK_STDIO(int, fflush, (FILE *fp), (fp), !fp || fp->_IO_write_ptr > fp->_IO_write_base)
