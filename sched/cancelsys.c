/* Cancellation points that block in the kernel (docs/ARCHITECTURE.md,
 * "Cancellation in the kernel").
 *
 * glibc 2.36 opens an asynchronous-cancel window around each blocking
 * cancellation point (SYSCALL_CANCEL: __pthread_enable_asynccancel sets
 * CANCELTYPE in THREAD_SELF->cancelhandling) and pthread_cancel ends a
 * thread inside one with SIGCANCEL.  goro does the same with the nudge, for
 * two kinds of call:
 *
 * - goro's own (wait4, waitid, F_SETLKW, msgrcv, mq_*, a FIFO's open):
 *   goro__sys_cancelable looks at the cancel flag and then makes the call;
 *   a handler that finds the G between the look and the `syscall`
 *   instruction (where the kernel also leaves rip for a call it restarts
 *   after the handler: the nudge is SA_RESTART) moves it to the stub's
 *   "cancelled" exit, so the call is either made to the end or not at all.
 * - libc's own (stdio's read under fgets, waitpid inside system): inside
 *   glibc's window, at a `syscall` instruction of libc, the handler makes
 *   the G "call" goro__cancel_exit from there (the trampoline pushes the
 *   address after the instruction as its return address), so the unwinder
 *   walks from libc's frame up as glibc's own unwinding would.  Such a call
 *   the blocked-call redo re-issues (sched/preempt.c) is made here through
 *   the stub, and a cancel resumes the G the same way.
 *
 * The G announces itself in gp->cancelsys with gp->cancelable set, so
 * pthread_cancel's goro__interrupt comes to goro__cancel_kick, which nudges
 * its M. */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <ucontext.h>

#include "sched/runtime.h"
#include "sched/sys.h"

#define CANCELTYPE_BITMASK 0x2 /* nptl/descr.h: the async-cancel window is open */

GORO_HIDDEN void (*goro__cancel_exit)(void);

/* rdi pending, rsi nr, rdx rcx r8 r9 and two on the stack: the arguments. */
__asm__(".text\n"
	".globl goro__sys_cancelable\n"
	".hidden goro__sys_cancelable\n"
	".type goro__sys_cancelable, @function\n"
	"goro__sys_cancelable:\n"
	".cfi_startproc\n"
	"	mov %rsi, %rax\n"
	"	mov %rdi, %r11\n"
	"	mov %rdx, %rdi\n"
	"	mov %rcx, %rsi\n"
	"	mov %r8, %rdx\n"
	"	mov %r9, %r10\n"
	"	mov 8(%rsp), %r8\n"
	"	mov 16(%rsp), %r9\n"
	"goro__cancel_sys_begin:\n"
	"	cmpl $0, (%r11)\n"
	"	jne goro__cancel_sys_cancelled\n"
	"goro__cancel_sys_call:\n"
	"	syscall\n"
	"	ret\n"
	"goro__cancel_sys_cancelled:\n"
	"	mov $-4096, %rax\n"
	"	ret\n"
	".cfi_endproc\n"
	".size goro__sys_cancelable, .-goro__sys_cancelable\n"
	/* Entered with rsp where the cancelled code had it and rax the
	 * address after its `syscall`: that becomes goro__cancel_exit's
	 * return address, so the unwinder starts in the caller's frame. */
	".globl goro__cancel_tramp\n"
	".hidden goro__cancel_tramp\n"
	".type goro__cancel_tramp, @function\n"
	"goro__cancel_tramp:\n"
	"	push %rax\n"
	"	jmp *goro__cancel_exit(%rip)\n"
	".size goro__cancel_tramp, .-goro__cancel_tramp\n");

extern char goro__cancel_sys_begin[], goro__cancel_sys_call[], goro__cancel_sys_cancelled[];
void goro__cancel_tramp(void);

static int cancelhandling_off = -1; /* in struct pthread; -1: unknown */
static int cleanup_off = -1;        /* struct pthread.cleanup, 16 bytes before */

/* glibc's compatibility cleanup push, the one __libc_cleanup_push_defer
 * also keeps in THREAD_SELF->cleanup (nptl/libc-cleanup.c). */
void _pthread_cleanup_push(struct _pthread_cleanup_buffer *b, void (*fn)(void *), void *arg); /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp): glibc's */
void _pthread_cleanup_pop(struct _pthread_cleanup_buffer *b, int exec); /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp): glibc's */
static void nothing(void *arg) { (void)arg; }

/* _thread_db_pthread_cancelhandling: {bits, count, offset}
 * (nptl_db/structs.def); `cleanup` has no descriptor: found with a push on
 * this (the main) thread.  docs/ARCHITECTURE.md G26. */
__attribute__((constructor)) static void cancelsys_init(void)
{
	const uint32_t *d = dlsym(RTLD_DEFAULT, "_thread_db_pthread_cancelhandling");
	if (!d || d[0] != 32 || d[1] != 1)
		return;
	cancelhandling_off = (int)d[2];
	struct _pthread_cleanup_buffer b;
	_pthread_cleanup_push(&b, nothing, NULL);
	if (*(void **)((char *)__builtin_thread_pointer() + cancelhandling_off - 16) == &b)
		cleanup_off = cancelhandling_off - 16;
	_pthread_cleanup_pop(&b, 0);
}

void goro__cancel_libc_cleanups(struct g *gp)
{
	if (cleanup_off < 0)
		return;
	struct _pthread_cleanup_buffer **head = (void *)((char *)gp->tp + cleanup_off), *b;
	while ((b = *head)) {
		*head = b->__prev;
		b->__routine(b->__arg);
	}
}

bool goro__cancel_window(struct g *gp)
{
	if (cancelhandling_off < 0 || !gp->tp)
		return false;
	int ch = *(volatile int *)((char *)gp->tp + cancelhandling_off);
	return (ch & CANCELTYPE_BITMASK) != 0;
}

void goro__cancel_kick(struct g *gp)
{
	struct m *mp = gp->m;
	int tid = mp ? mp->tid : 0;
	/* (sigwaitsys: a signal wait of shim/signals.c, which looks at the
	 * cancel after the nudge ends its kernel wait) */
	atomic_thread_fence(memory_order_seq_cst); /* pairs with kwait_enter */
	if (tid > 0 && (a_load_acq(&gp->cancelsys) || a_load_acq(&gp->sigwaitsys)))
		goro__sys3(SYS_tgkill, goro__sys0(SYS_getpid), tid, goro__signudge);
}

/* From the nudge's handler on gp's own M. */
bool goro__cancel_at(struct g *gp, struct ucontext_t *uc)
{
	int kind = a_load_acq(&gp->cancelsys);
	if (!kind && !goro__cancel_window(gp))
		return false;
	struct m *mp = gp->m;
	if (!mp || mp->curg != gp || gp == mp->g0 || mp->locks || !goro__cancel_requested(gp) ||
	    !goro__cancel_exit)
		return false;
	greg_t *r = uc->uc_mcontext.gregs;
	uintptr_t pc = (uintptr_t)r[REG_RIP];
	if (pc >= (uintptr_t)goro__cancel_sys_begin && pc <= (uintptr_t)goro__cancel_sys_call) {
		r[REG_RIP] = (greg_t)(uintptr_t)goro__cancel_sys_cancelled;
		return true;
	}
	/* libc's own call, in glibc's window, or a declared call with '!'
	 * (shim/blocking_ffi.c), stopped at its `syscall` (or just after it,
	 * ended by the nudge with EINTR: not restartable), which sysmon may
	 * have made trap meanwhile (sched/rawcall.c). */
	if (kind == GORO_CANCELSYS_STUB || (kind != GORO_CANCELSYS_DECL && !goro__cancel_window(gp)))
		return false;
	if (goro__syscall_insn(pc))
		pc += 2;
	else if (r[REG_RAX] != -EINTR || !goro__syscall_insn(pc - 2))
		return false;
	r[REG_RAX] = (greg_t)pc;
	r[REG_RIP] = (greg_t)(uintptr_t)goro__cancel_tramp;
	return true;
}

long goro__syscall_cancelable(struct g *gp, long nr, const long args[6])
{
	a_store_rel(&gp->cancelsys, GORO_CANCELSYS_STUB);
	a_store_rel(&gp->cancelable, true);
	atomic_thread_fence(memory_order_seq_cst); /* pairs with pthread_cancel's */
	long r = goro__sys_cancelable(&gp->cancel_pending, nr, args[0], args[1], args[2], args[3], args[4],
				      args[5]);
	a_store_rel(&gp->cancelable, false);
	a_store_rel(&gp->cancelsys, 0);
	/* A call SA_RESTART does not restart (msgrcv, poll...) ended with
	 * EINTR for the nudge, having done nothing: cancelled there. */
	if (r == -EINTR && goro__cancel_requested(gp))
		r = GORO_SYS_CANCELLED;
	return r;
}

long goro__redo_syscall(struct g *gp, uint64_t *rax, uint64_t *ret, const long args[6])
{
	long nr = (long)*rax;
	bool window = goro__cancel_exit && goro__cancel_window(gp) && gp->cancel_state == PTHREAD_CANCEL_ENABLE &&
		      !gp->exiting;
	goro__entersyscall();
	long r = window ? goro__syscall_cancelable(gp, nr, args)
			: goro__sys6(nr, args[0], args[1], args[2], args[3], args[4], args[5]);
	goro__exitsyscall();
	if (r == GORO_SYS_CANCELLED) {
		/* Resume in goro__cancel_exit, "called" from after the call. */
		*rax = *ret;
		*ret = (uint64_t)(uintptr_t)goro__cancel_tramp;
	}
	return r;
}
