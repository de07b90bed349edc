/* Threads goro did not make (docs/ARCHITECTURE.md, "Start-up and threads
 * goro did not make"): glibc's pthread_create reached without goro (a
 * compat dlvsym, glibc's own helper threads: timer_create SIGEV_THREAD,
 * AIO, mq_notify), a raw clone with its own TLS, threads made before goro
 * started.  Such a thread is served without a P, never run as a G: the
 * first time it enters goro (getg() finds its goro__curg slot NULL) it is
 * adopted with a struct m of its own (no g0, no P, as sysmon) and a pseudo-G
 * marked `nop`, whose waits block its kernel thread (goro__park_nop) and
 * whose wakers find it through the usual claim protocol.  The kernel copies
 * the %gs base into a clone, so until adoption its %gs is its creator's M
 * (or 0): the slot, reached through %fs, is what tells. */
#include <pthread.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>

#include "sched/runtime.h"
#include "sched/sys.h"

/* glibc's: run fn(obj) when this thread exits, before key destructors
 * (stdlib/cxa_thread_atexit_impl.c, nptl/pthread_create.c start_thread). */
int __cxa_thread_atexit_impl(void (*fn)(void *), void *obj, void *dso); /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
extern void *__dso_handle; /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */

struct foreign {
	struct m m;
	struct g g;
};

#define FOREIGN_SIZE ((sizeof(struct foreign) + 4095) & ~(size_t)4095)

/* At the thread's exit: forget it.  A later call into goro (a key
 * destructor) adopts it again.  A waker still on its way out of
 * goro__ready_claimed may wake the unmapped word: the futex call then
 * fails with EFAULT, harmlessly. */
static void release(void *arg)
{
	goro__curg = NULL;
	goro__setgs(NULL);
	goro__sys2(SYS_munmap, arg, FOREIGN_SIZE);
}

/* mmap, not calloc: the first call may come from a signal handler. */
static struct g *adopt(int tid)
{
	long r = goro__sys6(SYS_mmap, 0, (long)FOREIGN_SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r < 0 && r > -4096)
		goro__throw("cannot adopt thread %d, which goro did not create: out of memory", tid);
	struct foreign *f = (struct foreign *)r;
	struct g *gp = &f->g;
	gp->nop = true;
	gp->tid = tid;        /* its own kernel tid: mutex owners stay distinct */
	gp->tp = NULL;        /* never a pthread_t of goro's (goro__g_of) */
	gp->timer_idx = -1;
	gp->cancel_state = PTHREAD_CANCEL_ENABLE;
	gp->cancel_type = PTHREAD_CANCEL_DEFERRED;
	gp->spec[0] = gp->spec0;
	goro__sys4(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &gp->sigmask, 8);
	a_store_rlx(&gp->status, G_RUNNING);
	goro__thread_as(&f->m, gp); /* slot and %gs: getg() is gp from now on */
	a_fetch_add_rlx(&goro__sched.nforeign, 1);
	if (__cxa_thread_atexit_impl(release, f, &__dso_handle) != 0)
		goro__errorf("goro: thread %d: cannot register its release at exit\n", tid);
	return gp;
}

struct g *goro__getg_slow(void)
{
	int tid = goro__gettid();
	/* An M whose g0 runs on a TCB goro does not own any more: still
	 * goro's (its %gs base is its own struct m, with its tid). */
	struct m *mp = goro__gsready ? goro__getgs_slow() : NULL;
	if (mp && mp->self == mp && mp->tid == tid)
		return mp->gcur;
	if (tid == (int)goro__sys0(SYS_getpid)) {
		/* The main thread, before start-up made it G1 (or a call on it
		 * before goro's constructor ran): it is G1. */
		goro__curg = &goro__g1;
		return &goro__g1;
	}
	return adopt(tid);
}

/* num_threads, field 20 of /proc/self/stat (proc(5)), counted after the
 * last ')' (the name may hold spaces); -1 if unreadable.  Raw calls only:
 * sysmon asks, when everything else looks deadlocked. */
static long kernel_threads(void)
{
	char buf[512];
	long fd = goro__sys4(SYS_openat, AT_FDCWD, "/proc/self/stat", O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	long n = goro__sys3(SYS_read, fd, buf, sizeof buf - 1);
	goro__sys1(SYS_close, fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	const char *p = strrchr(buf, ')');
	int field = 2;
	for (; p && *p && field < 20; p++)
		field += *p == ' ';
	if (!p || field != 20)
		return -1;
	long v = 0;
	for (; *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (*p - '0');
	return v;
}

bool goro__others_alive(void)
{
	long n = kernel_threads();
	/* Ms never exit; sysmon and the debug threads are the thread_as calls
	 * that were no adoption. */
	long runtime = (long)(a_load_rlx(&goro__sched.nthreadas) - a_load_rlx(&goro__sched.nforeign));
	return n > (long)goro__sched.mnext + runtime; /* mnext only grows: a stale read errs towards "alive" */
}
