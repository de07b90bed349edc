/* ptrace: the kernel takes a tracer's requests only from the kernel thread
 * that attached (kernel/ptrace.c, ptrace_check_attach: child->parent ==
 * current), and a G may run on any M.  So a G that attaches
 * (PTRACE_ATTACH, PTRACE_SEIZE) or asks to be traced (PTRACE_TRACEME) is
 * locked to its M from then on (Go: LockOSThread), before the request: its
 * later requests, waits and PTRACE_CONTs all come from that kernel thread.
 *
 * The parent of a child that calls PTRACE_TRACEME makes no attach call:
 * its tracer is the kernel thread it forked on.  So in a program that
 * imports ptrace at all (a tracer: strace, gdb, a sandbox), a G that forks
 * is locked to its M from then on; other programs are untouched.
 * docs/ARCHITECTURE.md, "Start-up and threads goro did not make". */
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
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

/* Does any loaded object import ptrace?  Asked at each fork until yes (a
 * scan of each object's imports; dlopen may add one). */
static bool program_traces(void)
{
	static _Atomic bool yes;
	if (a_load_rlx(&yes))
		return true;
	const struct link_map *head = goro__libc_map();
	while (head->l_prev)
		head = head->l_prev;
	for (const struct link_map *lm = head; lm; lm = lm->l_next)
		if (goro__elf_imports(lm, "ptrace")) {
			a_store_rlx(&yes, true);
			return true;
		}
	return false;
}

static void forked_parent(void)
{
	if (goro__started && program_traces())
		goro__lockosthread(); /* its children's PTRACE_TRACEME name this M */
}

__attribute__((constructor)) static void ptrace_init(void)
{
	if (pthread_atfork(NULL, forked_parent, NULL) != 0)
		goro__errorf("goro: cannot register the ptrace fork handler\n");
}
