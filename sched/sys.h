/* Raw system calls for the runtime.
 *
 * The scheduler never calls libc's syscall(): that wrapper writes errno,
 * which lives in the TLS of whichever G (or g0) %fs points at, and a G's
 * errno must not change behind the program's back.  These return -errno. */
#ifndef GORO_SYS_H
#define GORO_SYS_H

#include <stdint.h>
#include <sys/syscall.h>
#include <linux/futex.h>
#include <time.h>

static inline long goro__sys6(long n, long a, long b, long c, long d, long e, long f)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#define goro__sys0(n) goro__sys6((n), 0, 0, 0, 0, 0, 0)
#define goro__sys1(n, a) goro__sys6((n), (long)(a), 0, 0, 0, 0, 0)
#define goro__sys2(n, a, b) goro__sys6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define goro__sys3(n, a, b, c) goro__sys6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define goro__sys4(n, a, b, c, d) goro__sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

static inline int goro__gettid(void) { return (int)goro__sys0(SYS_gettid); }

/* futex on a private 32-bit word; timeout relative, may be NULL. */
static inline long goro__futex_wait(void *addr, uint32_t val, const struct timespec *rel)
{
	return goro__sys4(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, rel);
}
static inline long goro__futex_wake(void *addr, int n)
{
	return goro__sys3(SYS_futex, addr, FUTEX_WAKE_PRIVATE, n);
}

/* Monotonic time in nanoseconds (vDSO through libc; clock_gettime on a
 * valid clock never touches errno). */
static inline int64_t goro__nanotime(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Write a message to stderr without stdio (usable anywhere, any state). */
void goro__write_err(const char *s);
/* The same on any fd (raw write, loops on short writes). */
void goro__write_fd(int fd, const char *s);
void goro__fdprintf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* printf-like into a stack buffer, then goro__write_err. */
void goro__errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* goro will not run this program (a bad configuration value, a glibc or
 * machine it does not know): "goro: <message>" on stderr, one line, and
 * exit status 2, before main runs. */
void goro__refuse(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Print "goro: fatal: ..." and abort. */
void goro__throw(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
