/* Helpers shared by the interposed families. */
#ifndef GORO_SHIM_H
#define GORO_SHIM_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include "sched/runtime.h"
#include "sched/sys.h"

/* The G a pthread_t names while its thread lives or awaits its join;
 * NULL, with *gone (may be NULL) set when it names one since joined or
 * freed (shim/threads.c). */
struct g *goro__g_live(pthread_t t, bool *gone);
/* Act on a pending cancellation (deferred mode): pthread_exit(CANCELED). */
void goro__testcancel(void);
/* Exit the current G with value (runs cleanup handlers, unwinding). */
__attribute__((noreturn)) void goro__do_exit(void *value);
/* Convert an absolute time on clk to a monotonic deadline in ns.  Returns
 * EINVAL for a bad clock or timespec. */
int goro__abs_deadline(clockid_t clk, const struct timespec *abs, int64_t *deadline);
/* A sync wait's deadline: -1 without abs, EINVAL for a clock other than
 * CLOCK_REALTIME/CLOCK_MONOTONIC. */
int goro__wait_deadline(clockid_t clk, const struct timespec *abs, int64_t *deadline);

/* A raw system call's result as libc returns it: -1 with errno, or the
 * value. */
static inline long goro__sys_ret(long r)
{
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

/* A raw system call with the P handed off while it blocks. */
static inline long goro__blocking6(long nr, long a, long b, long c, long d, long e, long f)
{
	goro__entersyscall();
	long r = goro__sys6(nr, a, b, c, d, e, f);
	goro__exitsyscall();
	return goro__sys_ret(r);
}

/* A blocking call with the P handed off that is a cancellation point: a
 * cancel before or during it ends the G (shim/cancelpt.c). */
/* The live G whose tid (as programs see it) is tid, 0 for the caller's;
 * NULL for none (shim/tid.c). */
struct g *goro__g_of_tid(long tid);
/* syscall(SYS_set_tid_address) of a G (shim/tid.c). */
long goro__set_tid_address(int *p);
long goro__sigaltstack(const stack_t *ss, stack_t *old);
long goro__robust_list(long nr, long a, long b, long c);
int goro__setname(struct g *gp, const char *name, bool truncate);
/* pthread_setschedparam's core (shim/threads.c): 0 or an errno value. */
int goro__setsched(struct g *gp, int policy, int prio);
/* May the caller set policy/priority (shim/tid.c)?  0 or an errno value. */
int goro__sched_check(int policy, const struct sched_param *sp);
long goro__getaffinity_syscall(long tid, long size, long set); /* shim/tid.c */
long goro__blocking_cancel6(long nr, long a, long b, long c, long d, long e, long f);

/* A cancellation point: act on a pending deferred cancel. */
#define GORO_CANCEL_POINT()                \
	do {                               \
		if (goro__started)         \
			goro__testcancel(); \
	} while (0)

/* Start-up check: glibc's sync object layouts are what goro assumes
 * (shim/layout.c). */
int goro__sync_check(char *why, size_t whylen);

/* glibc's _FORTIFY_SOURCE entry points goro interposes, and the failure
 * they report (declared by glibc only under _FORTIFY_SOURCE). */
struct pollfd;
struct sockaddr;
__attribute__((noreturn)) void __chk_fail(void); /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen); /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen); /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags); /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags, struct sockaddr *addr, socklen_t *alen); /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
int __poll_chk(struct pollfd *fds, unsigned long n, int timeout, size_t fdslen); /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */

/* A call into glibc that may block the kernel thread (process-shared and
 * robust objects, named semaphores): with the P handed off while it
 * blocks, as a system call. */
#define goro__blocking_real(call)                                               \
	__extension__({                                                         \
		goro__entersyscall();                                           \
		__typeof__(call) r_ = (call);                                   \
		goro__exitsyscall();                                            \
		r_;                                                             \
	})

#endif
