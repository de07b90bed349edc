/* pthread_exit and deferred cancellation.
 *
 * pthread_exit unwinds the G's stack with _Unwind_ForcedUnwind as nptl
 * does (nptl/unwind.c), so C++ destructors and -fexceptions cleanups run.
 * C's pthread_cleanup_push without exceptions registers a setjmp buffer
 * through __pthread_register_cancel: goro interposes that family and keeps
 * the chain in the G (prev pointer in the buffer's private __pad[0]).  The
 * stop function longjmps into the innermost buffer once the unwinder has
 * passed the frames below it; the macro runs the handler and calls
 * __pthread_unwind_next, which continues with the next buffer.  At the end
 * of the stack (goro__gstart's frame ends every unwind) the G exits. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdlib.h>
#include <unwind.h>

#include "sched/real.h"
#include "sched/runtime.h"
#include "sched/sys.h"
#include "shim/shim.h"

static _Unwind_Reason_Code (*forced_unwind)(struct _Unwind_Exception *, _Unwind_Stop_Fn, void *);
static _Unwind_Word (*get_cfa)(struct _Unwind_Context *);

static void load_unwinder(void)
{
	if (forced_unwind)
		return;
	void *h = RTLD_DEFAULT;
	void *fu = dlsym(h, "_Unwind_ForcedUnwind");
	if (!fu) {
		/* glibc loads it the same way for pthread_exit/cancel. */
		h = goro__real.dlopen("libgcc_s.so.1", RTLD_NOW);
		fu = h ? dlsym(h, "_Unwind_ForcedUnwind") : NULL;
	}
	if (!fu)
		goro__throw("libgcc_s.so.1 must be installed for pthread_exit to work");
	*(void **)&get_cfa = dlsym(h, "_Unwind_GetCFA");
	forced_unwind = (_Unwind_Reason_Code(*)(struct _Unwind_Exception *, _Unwind_Stop_Fn, void *))fu;
}

static void unwind_cleanup(_Unwind_Reason_Code reason, struct _Unwind_Exception *exc)
{
	goro__write_err("FATAL: exception not rethrown\n");
	abort();
}

static __attribute__((noreturn)) void finish(struct g *gp)
{
	goro__goexit();
}

static _Unwind_Reason_Code unwind_stop(int version, _Unwind_Action actions, _Unwind_Exception_Class cls,
				       struct _Unwind_Exception *exc, struct _Unwind_Context *ctx, void *param)
{
	struct g *gp = param;
	__pthread_unwind_buf_t *buf = (__pthread_unwind_buf_t *)gp->cleanup;
	uintptr_t cfa = get_cfa(ctx);
	/* A frame's CFA lies above its locals: once it is above the buffer,
	 * the frame that registered it is the one being unwound. */
	if (buf && (cfa > (uintptr_t)buf || (actions & _UA_END_OF_STACK))) {
		/* The buffer is the __sigsetjmp target of the cleanup macro: a
		 * jmp_buf plus __mask_was_saved, which is all longjmp reads
		 * (the rest of struct __jmp_buf_tag is the unused mask). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-overflow"
		longjmp((struct __jmp_buf_tag *)(void *)buf->__cancel_jmp_buf, 1);
#pragma GCC diagnostic pop
	}
	if (actions & _UA_END_OF_STACK)
		finish(gp);
	return _URC_NO_REASON;
}

static __attribute__((noreturn)) void unwind(struct g *gp)
{
	load_unwinder();
	gp->exc.exception_class = 0;
	gp->exc.exception_cleanup = unwind_cleanup;
	forced_unwind(&gp->exc, unwind_stop, gp);
	/* No unwind information at all: exit without running handlers. */
	finish(gp);
}

void goro__do_exit(void *value)
{
	struct g *gp = getg();
	gp->exiting = true;
	gp->result = value;
	unwind(gp);
}

GORO_EXPORT void pthread_exit(void *value)
{
	goro__ensure_init();
	goro__do_exit(value);
}

GORO_EXPORT void __pthread_register_cancel(__pthread_unwind_buf_t *buf)
{
	struct g *gp = getg();
	buf->__pad[0] = gp->cleanup;
	gp->cleanup = (void *)buf;
}

GORO_EXPORT void __pthread_unregister_cancel(__pthread_unwind_buf_t *buf)
{
	getg()->cleanup = buf->__pad[0];
}

GORO_EXPORT void __pthread_register_cancel_defer(__pthread_unwind_buf_t *buf)
{
	struct g *gp = getg();
	__pthread_register_cancel(buf);
	buf->__pad[1] = (void *)(intptr_t)gp->cancel_type;
	gp->cancel_type = PTHREAD_CANCEL_DEFERRED;
}

GORO_EXPORT void __pthread_unregister_cancel_restore(__pthread_unwind_buf_t *buf)
{
	struct g *gp = getg();
	__pthread_unregister_cancel(buf);
	gp->cancel_type = (int)(intptr_t)buf->__pad[1];
	if (gp->cancel_type == PTHREAD_CANCEL_ASYNCHRONOUS)
		goro__testcancel();
}

GORO_EXPORT void __pthread_unwind_next(__pthread_unwind_buf_t *buf)
{
	struct g *gp = getg();
	gp->cleanup = buf->__pad[0];
	unwind(gp);
}

/* ---- cancellation -------------------------------------------------------- */

void goro__testcancel(void)
{
	struct g *gp = getg();
	if (goro__cancel_requested(gp))
		goro__do_exit(PTHREAD_CANCELED);
}

GORO_EXPORT void pthread_testcancel(void)
{
	goro__coop();
	goro__testcancel();
}

/* Ending glibc's wait on a process-shared condvar (shim/cond.c, real_wait):
 * a broadcast made holding the mutex, so the waiter is either queued in
 * glibc's condvar or has yet to see the cancel.  A detached helper thread
 * takes the mutex, since the canceller may hold it itself; the other
 * waiters see a spurious wake-up, which POSIX allows. */
struct realwake {
	pthread_cond_t *c;
	pthread_mutex_t *m;
};

static void *realwake(void *arg)
{
	struct realwake w = *(struct realwake *)arg;
	free(arg);
	pthread_mutex_lock(w.m);
	pthread_cond_broadcast(w.c);
	pthread_mutex_unlock(w.m);
	return NULL;
}

static void cancel_realwait(struct g *gp, pthread_cond_t *c)
{
	struct realwake *w = malloc(sizeof *w);
	if (!w)
		return;
	w->c = c;
	w->m = gp->realmutex;
	pthread_attr_t a;
	pthread_t t;
	goro__real.pthread_attr_init(&a);
	goro__real.pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &a, realwake, w) != 0)
		free(w);
	goro__real.pthread_attr_destroy(&a);
}

GORO_EXPORT int pthread_cancel(pthread_t t)
{
	bool gone;
	struct g *gp = goro__g_live(t, &gone);
	if (!gp) /* a joined thread's outcome is settled (nptl/pthread_cancel.c) */
		return gone ? 0 : ESRCH;
	a_store_rel(&gp->cancel_pending, 1);
	atomic_thread_fence(memory_order_seq_cst); /* pairs with goro__addrpark */
	if (gp == getg()) {
		if (gp->cancel_type == PTHREAD_CANCEL_ASYNCHRONOUS)
			goro__testcancel();
		return 0;
	}
	if (gp->cancel_state != PTHREAD_CANCEL_ENABLE)
		return 0;
	pthread_cond_t *rc = a_load_acq(&gp->realcond);
	if (rc) {
		cancel_realwait(gp, rc); /* in glibc's wait (process-shared) */
	} else if (a_load_acq(&gp->cancelable)) {
		goro__interrupt(gp); /* parked: at a cancellation point, or any wait when asynchronous */
	} else if (gp->cancel_type == PTHREAD_CANCEL_ASYNCHRONOUS && a_load_acq(&gp->status) == G_RUNNING) {
		/* Running: stop it through preemption's path, at its next
		 * interposed call or where the nudge lands in its own code
		 * (goro__preempt_park acts on the cancel).  Runnable: it acts
		 * when it next yields or waits. */
		a_store_rel(&gp->preempt, true);
		goro__preemptone(gp, gp->m);
	} else {
		goro__cancel_kick(gp); /* in a signal wait (sched/cancelsys.c) */
	}
	return 0;
}

/* goro__async_cancel_hook: the G ends as if it had called
 * pthread_exit(PTHREAD_CANCELED) where it stood. */
static void async_cancel(void) { goro__do_exit(PTHREAD_CANCELED); }

GORO_EXPORT int pthread_setcancelstate(int state, int *old)
{
	if (state != PTHREAD_CANCEL_ENABLE && state != PTHREAD_CANCEL_DISABLE)
		return EINVAL;
	struct g *gp = getg();
	if (old)
		*old = gp->cancel_state;
	gp->cancel_state = state;
	if (gp->cancel_type == PTHREAD_CANCEL_ASYNCHRONOUS)
		goro__testcancel();
	return 0;
}

GORO_EXPORT int pthread_setcanceltype(int type, int *old)
{
	if (type != PTHREAD_CANCEL_DEFERRED && type != PTHREAD_CANCEL_ASYNCHRONOUS)
		return EINVAL;
	struct g *gp = getg();
	if (old)
		*old = gp->cancel_type;
	gp->cancel_type = type;
	if (type == PTHREAD_CANCEL_ASYNCHRONOUS) {
		goro__async_cancel_hook = async_cancel;
		goro__testcancel();
	}
	return 0;
}
