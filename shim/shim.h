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

#endif
