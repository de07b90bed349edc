/* ptrace: the kernel takes a tracer's requests only from the kernel thread
 * that attached (kernel/ptrace.c, ptrace_check_attach: child->parent ==
 * current), and a G may run on any M.  So a G that attaches
 * (PTRACE_ATTACH, PTRACE_SEIZE) or asks to be traced (PTRACE_TRACEME) is
 * locked to its M from then on (Go: LockOSThread), before the request: its
 * later requests, waits and PTRACE_CONTs all come from that kernel thread.
 * docs/ARCHITECTURE.md, "Start-up and threads goro did not make". */
#include <dlfcn.h>
#include <stdarg.h>
#include <sys/ptrace.h>
#include <sys/types.h>

#include "sched/atomic.h"
#include "sched/real.h"
#include "sched/runtime.h"
#include "sched/sys.h"

typedef long (*ptrace_fn)(enum __ptrace_request, ...);

GORO_EXPORT long ptrace(enum __ptrace_request req, ...)
{
	static ptrace_fn _Atomic real;
	ptrace_fn f = a_load_acq(&real);
	if (!f) {
		f = (ptrace_fn)goro__real_dlsym(RTLD_NEXT, "ptrace");
		if (!f)
			goro__throw("cannot resolve the real ptrace");
		a_store_rel(&real, f);
	}
	/* glibc's ptrace reads all three (misc/ptrace.c), whatever req. */
	va_list ap;
	va_start(ap, req);
	pid_t pid = va_arg(ap, pid_t);
	void *addr = va_arg(ap, void *);
	void *data = va_arg(ap, void *);
	va_end(ap);
	if (req == PTRACE_ATTACH || req == PTRACE_SEIZE || req == PTRACE_TRACEME)
		goro__lockosthread();
	return f(req, pid, addr, data);
}
