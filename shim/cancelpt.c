/* Cancellation points that block in the kernel: the shim half of
 * sched/cancelsys.c.  goro__blocking_cancel6 makes a blocking call with
 * the P handed off that pthread_cancel interrupts as glibc's SIGCANCEL
 * does; cancel_exit ends a G moved out of such a call (or out of libc's
 * own, inside glibc's window) with PTHREAD_CANCELED, running its cleanup
 * handlers from the frame of the call. */
#include <pthread.h>

#include "sched/runtime.h"
#include "sched/sys.h"
#include "shim/shim.h"

/* Entered by goro__cancel_tramp with an arbitrary stack alignment (that
 * of the code at the cancelled `syscall`). */
__attribute__((noreturn, force_align_arg_pointer)) static void cancel_exit(void)
{
	struct g *gp = getg();
	a_store_rel(&gp->cancelable, false);
	a_store_rel(&gp->cancelsys, 0);
	while (gp->syscalldepth > 0)
		goro__exitsyscall();
	/* libc's own cleanups belong to the innermost frames: first.  libc
	 * may have changed the kernel mask behind goro (system blocks
	 * SIGCHLD): the G's own goes back. */
	goro__cancel_libc_cleanups(gp);
	goro__sigmask_apply(gp->m, gp->sigmask);
	goro__do_exit(PTHREAD_CANCELED);
}

__attribute__((constructor)) static void cancelpt_init(void) { goro__cancel_exit = cancel_exit; }

long goro__blocking_cancel6(long nr, long a, long b, long c, long d, long e, long f)
{
	struct g *gp = getg();
	if (!goro__started || gp->cancel_state != PTHREAD_CANCEL_ENABLE || gp->exiting)
		return goro__blocking6(nr, a, b, c, d, e, f);
	goro__testcancel();
	const long args[6] = { a, b, c, d, e, f };
	goro__entersyscall();
	long r = goro__syscall_cancelable(gp, nr, args);
	goro__exitsyscall();
	if (r == GORO_SYS_CANCELLED)
		goro__do_exit(PTHREAD_CANCELED);
	return goro__sys_ret(r);
}
