/* Helpers shared by the interposed families. */
#ifndef GORO_SHIM_H
#define GORO_SHIM_H

#include <stdint.h>
#include <time.h>

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

/* close(fd): forget what goro knew of fd (shim/blocking.c). */
void goro__fd_closed(int fd);

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
