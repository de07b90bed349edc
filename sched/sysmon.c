/* sysmon: a thread with no P that watches the scheduler (Go: sysmon).
 * It sleeps 20 us, doubling to 10 ms while it finds nothing to do. */
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "sched/real.h"
#include "sched/runtime.h"
#include "sched/sys.h"

#define SYSMON_MIN_DELAY_US 20
#define SYSMON_MAX_DELAY_US 10000
#define SYSMON_IDLE_CYCLES 50          /* Go: idle > 50 */
#define DEADLOCK_CONFIRM_NS (50LL * 1000 * 1000)
#define SYSMON_POLL_NS (10LL * 1000 * 1000)

GORO_HIDDEN struct g goro__sysmon_g; /* identity for getg() on the sysmon thread */

/* The deadlock report (Go's "all goroutines are asleep"): the condition
 * must hold on two checks at least 50 ms apart with no scheduling in
 * between, and no signal may still come (goro__sig_may_arrive), then it
 * is printed once.  Natively such a program hangs, and so
 * it does here unless GORO_DEBUG=deadlock=abort. */
static void checkdead(int64_t now)
{
	static int64_t since;
	static uint64_t ticks;
	static bool reported;
	if (reported)
		return;
	if (!goro__all_asleep()) {
		since = 0;
		return;
	}
	uint64_t t = 0;
	for (int32_t i = 0; i < goro__gomaxprocs; i++)
		t += goro__allp[i].schedtick;
	if (!since || t != ticks) {
		since = now;
		ticks = t;
		return;
	}
	if (now - since < DEADLOCK_CONFIRM_NS)
		return;
	if (goro__sig_may_arrive()) {
		since = 0; /* a signal may still wake a G: no deadlock yet */
		return;
	}
	reported = true;
	goro__write_err("goro: all threads are asleep - deadlock!\n\n");
	goro__dump_gs();
	if (goro__cfg.deadlock_abort) {
		goro__write_err("goro: aborting (GORO_DEBUG=deadlock=abort)\n");
		goro__sys2(SYS_kill, goro__sys0(SYS_getpid), SIGABRT);
	}
}

static _Atomic int sysmon_tid;

int goro__sysmon_tid(void) { return a_load_acq(&sysmon_tid); }

static void *sysmon(void *arg)
{
	struct m self;
	goro__thread_as(&self, &goro__sysmon_g);
	/* sysmon takes no program signal (only the runtime's own). */
	goro__sys4(SYS_rt_sigprocmask, SIG_SETMASK, goro__runtime_sigmask(), NULL, 8);
	a_store_rel(&sysmon_tid, goro__gettid());
	uint32_t delay = SYSMON_MIN_DELAY_US;
	int idle = 0;
	int64_t lastpoll = goro__nanotime();
	int64_t lasttrace = lastpoll;
	for (;;) {
		/* Go: 20 us while it finds work, doubling after 1 ms idle. */
		if (idle == 0)
			delay = SYSMON_MIN_DELAY_US;
		else if (idle > SYSMON_IDLE_CYCLES)
			delay = delay * 2 > SYSMON_MAX_DELAY_US ? SYSMON_MAX_DELAY_US : delay * 2;
		uint32_t us = goro__sysmon_timer_delay(delay, SYSMON_MIN_DELAY_US, goro__nanotime());
		uint32_t early = (uint32_t)(goro__early_check_ns() / 1000);
		if (goro__sysmon_early_due() && us > early)
			us = early; /* an early blocked check falls due (sched/proc.c) */
		struct timespec ts = { 0, (long)us * 1000 };
		goro__sys2(SYS_nanosleep, &ts, NULL);
		int64_t now = goro__nanotime();
		goro__sysmon_timers(now);
		goro__drain_deferred();
		goro__netpoll_sigrearm();
		goro__sig_poll();
		goro__rawcall_sysmon();
		/* Nobody polled the network for 10 ms: poll and inject. */
		if (goro__netpoll_waiters() && now - lastpoll > SYSMON_POLL_NS) {
			goro__netpoll(0);
			lastpoll = now;
		}
		if (goro__sysmon_retake(now) > 0)
			idle = 0;
		else
			idle++;
		if (goro__cfg.schedtrace_ms > 0 && now - lasttrace >= goro__cfg.schedtrace_ms * 1000000) {
			goro__schedtrace(goro__cfg.scheddetail);
			lasttrace = now;
		}
		goro__gscavenge(now);
		checkdead(now);
	}
	return arg;
}

void goro__sysmon_start(void)
{
	static char stack[64 * 1024] __attribute__((aligned(4096)));
	pthread_attr_t attr;
	pthread_t t;
	a_store_rel(&sysmon_tid, 0); /* a fork child's is not the parent's */
	goro__real.pthread_attr_init(&attr);
	goro__real.pthread_attr_setstack(&attr, stack, sizeof stack);
	goro__real.pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	goro__sysmon_g.goid = 0;
	strcpy(goro__sysmon_g.name, "sysmon");
	int err = goro__real.pthread_create(&t, &attr, sysmon, NULL);
	goro__real.pthread_attr_destroy(&attr);
	if (err)
		goro__throw("cannot start sysmon: %s", strerror(err));
	/* With a user stack nptl records it in stackblock: confirm the
	 * offsets no descriptor covers (nptl/allocatestack.c). */
	char why[256];
	if (goro__tls_check_mthread((void *)t, stack, sizeof stack, why, sizeof why)) {
		goro__refuse("refusing to start: %s", why);
	}
}
