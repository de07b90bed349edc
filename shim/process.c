/* Waiting for other processes, and system calls the program makes itself:
 * wait4/waitpid/wait/waitid, system and pclose (which wait for a child),
 * and syscall(2).  Each runs with the P handed off while it blocks; the
 * wait family are cancellation points a cancel interrupts. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sched/real.h"
#include "sched/runtime.h"
#include "sched/sys.h"
#include "shim/shim.h"

GORO_EXPORT pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
	return (pid_t)goro__blocking_cancel6(SYS_wait4, pid, (long)status, options, (long)ru, 0, 0);
}

GORO_EXPORT pid_t waitpid(pid_t pid, int *status, int options) { return wait4(pid, status, options, NULL); }
GORO_EXPORT pid_t wait(int *status) { return wait4(-1, status, 0, NULL); }

GORO_EXPORT int waitid(idtype_t type, id_t id, siginfo_t *info, int options)
{
	return (int)goro__blocking_cancel6(SYS_waitid, type, id, (long)info, options, 0, 0);
}

/* A cancellation point: a cancel while it waits for the command ends the
 * G inside glibc's waitpid (GORO_CANCELSYS_LIBC, sched/cancelsys.c), and
 * glibc's own cleanup kills and reaps the command, as natively.  A cancel
 * that lands outside glibc's window (while the command is spawned) is
 * acted on at the next cancellation point. */
GORO_EXPORT int system(const char *cmd)
{
	GORO_CANCEL_POINT();
	struct g *gp = getg();
	bool cancel = goro__started && gp->cancel_state == PTHREAD_CANCEL_ENABLE && !gp->exiting;
	goro__entersyscall();
	if (cancel) {
		a_store_rel(&gp->cancelsys, GORO_CANCELSYS_LIBC);
		a_store_rel(&gp->cancelable, true);
	}
	int r = goro__real.system(cmd);
	if (cancel) {
		a_store_rel(&gp->cancelable, false);
		a_store_rel(&gp->cancelsys, 0);
	}
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
	case SYS_gettid: /* the G's own tid (shim/tid.c) */
		return gettid();
	case SYS_set_tid_address:
		return goro__set_tid_address((int *)a);
	case SYS_set_robust_list:
	case SYS_get_robust_list:
		return goro__sys_ret(goro__robust_list(nr, a, b, c));
	case SYS_sigaltstack:
		return goro__sys_ret(goro__sigaltstack((const stack_t *)a, (stack_t *)b));
	case SYS_prctl:
		return prctl((int)a, b, c, d, e);
	case SYS_tgkill:
		return tgkill((pid_t)a, (pid_t)b, (int)c);
	case SYS_tkill:
		return tgkill((pid_t)goro__sys0(SYS_getpid), (pid_t)a, (int)b);
	case SYS_close: /* goro's own fds stay out of reach (shim/file.c) */
		return close((int)a);
	case SYS_close_range:
		return close_range((unsigned)a, (unsigned)b, (int)c);
	case SYS_dup2:
		return dup2((int)a, (int)b);
	case SYS_dup3:
		return dup3((int)a, (int)b, (int)c);
	/* a G's scheduling attributes (shim/tid.c), not its M's */
	case SYS_sched_getaffinity:
		return goro__getaffinity_syscall(a, b, c);
	case SYS_sched_setaffinity:
		return sched_setaffinity((pid_t)a, (size_t)b, (const cpu_set_t *)c);
	case SYS_sched_setscheduler:
		return sched_setscheduler((pid_t)a, (int)b, (const struct sched_param *)c);
	case SYS_sched_setparam:
		return sched_setparam((pid_t)a, (const struct sched_param *)b);
	case SYS_sched_getscheduler:
		return sched_getscheduler((pid_t)a);
	case SYS_sched_getparam:
		return sched_getparam((pid_t)a, (struct sched_param *)b);
	case SYS_futex: /* a runtime's own lock: sched/rawcall.c */
		if (goro__rawcall_is_wait(nr, b) && goro__ksched_raw())
			return goro__sys_ret(goro__sys6(nr, a, b, c, d, e, f));
		return goro__blocking6(nr, a, b, c, d, e, f);
	case SYS_getpid:
	case SYS_clone:
	case SYS_clone3:
	case SYS_fork:
	case SYS_vfork:
	case SYS_exit:
	case SYS_rt_sigreturn:
	case SYS_arch_prctl:
		return goro__sys_ret(goro__sys6(nr, a, b, c, d, e, f));
	default:
		return goro__blocking6(nr, a, b, c, d, e, f);
	}
}

