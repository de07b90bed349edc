/* Thread identity (issue 13, item 4): gettid() and syscall(SYS_gettid)
 * are stable while threads yield, sleep and migrate, unique, the pid for
 * main and for a fork child; tgkill/tkill reach the thread a tid names;
 * sched_{get,set}affinity, pthread_{get,set}affinity_np,
 * sched_{get,set}scheduler/param and {get,set}priority act on the thread
 * a tid names, and a new thread inherits affinity and nice. */
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "check.h"

#define THREADS 8
#define ROUNDS 200

static pid_t tids[THREADS];
static atomic_int hit_tid, stop;

static void on_usr1(int sig)
{
	(void)sig;
	atomic_store(&hit_tid, (int)gettid());
}

/* A call's result and errno, printed after the call. */
static void show(const char *what, int r)
{
	printf("%s: %d %s\n", what, r, r ? strerror(errno) : "");
}

static void *churn(void *arg)
{
	long i = (long)arg;
	pid_t t = gettid();
	CHECK_EQ(t, syscall(SYS_gettid), "syscall(SYS_gettid) = gettid()");
	for (int r = 0; r < ROUNDS; r++) {
		if (r % 2)
			sched_yield();
		else
			usleep(50);
		CHECK_EQ(t, gettid(), "gettid() after a yield or a sleep");
	}
	tids[i] = t;
	return NULL;
}

static void *target_thread(void *arg)
{
	*(pid_t *)arg = gettid();
	while (!atomic_load(&stop))
		usleep(100);
	return NULL;
}

static void *report_inherited(void *arg)
{
	cpu_set_t s;
	CHECK_EQ(0, sched_getaffinity(0, sizeof s, &s), "sched_getaffinity(0) in the new thread");
	printf("a thread it creates: nice %+d, %d CPU(s) in its affinity\n",
	       getpriority(PRIO_PROCESS, 0) - *(int *)arg, CPU_COUNT(&s));
	return NULL;
}

static void ids(void)
{
	CHECK_EQ(getpid(), gettid(), "main's tid is the pid");
	pthread_t t[THREADS];
	for (long i = 0; i < THREADS; i++)
		CHECK_OK(pthread_create(&t[i], NULL, churn, (void *)i));
	for (int i = 0; i < THREADS; i++)
		CHECK_OK(pthread_join(t[i], NULL));
	for (int i = 0; i < THREADS; i++) {
		CHECK(tids[i] != getpid(), "a thread's tid is not the pid");
		for (int j = 0; j < i; j++)
			CHECK(tids[i] != tids[j], "tids are unique");
	}
	printf("%d threads: tid stable over %d yields and sleeps, unique\n", THREADS, ROUNDS);
	pid_t pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0)
		_exit(gettid() == getpid() && syscall(SYS_gettid) == getpid() ? 0 : 1);
	int st;
	CHECK_EQ(pid, waitpid(pid, &st, 0), "waitpid");
	printf("fork child: tid is its pid: %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "yes" : "no");
}

static void kill_by_tid(pid_t tid)
{
	check_catch(SIGUSR1, on_usr1);
	const char *how[] = { "tgkill", "syscall(SYS_tgkill)", "syscall(SYS_tkill)" };
	for (int k = 0; k < 3; k++) {
		atomic_store(&hit_tid, 0);
		int r = k == 0 ? tgkill(getpid(), tid, SIGUSR1)
		      : k == 1 ? (int)syscall(SYS_tgkill, getpid(), tid, SIGUSR1)
			       : (int)syscall(SYS_tkill, tid, SIGUSR1);
		CHECK_EQ(0, r, how[k]);
		while (atomic_load(&hit_tid) == 0)
			usleep(100);
		printf("%s: the handler ran in the named thread: %s\n", how[k],
		       atomic_load(&hit_tid) == tid ? "yes" : "no");
	}
	show("tgkill of a tid that is no thread", tgkill(getpid(), 4000000, 0));
}

static void affinity(pthread_t t, pid_t tid)
{
	cpu_set_t all, one, got;
	CHECK_EQ(0, sched_getaffinity(tid, sizeof all, &all), "sched_getaffinity(tid)");
	int first = 0;
	while (!CPU_ISSET(first, &all))
		first++;
	CPU_ZERO(&one);
	CPU_SET(first, &one);
	CHECK_EQ(0, sched_setaffinity(tid, sizeof one, &one), "sched_setaffinity(tid)");
	CHECK_EQ(0, sched_getaffinity(tid, sizeof got, &got), "sched_getaffinity(tid)");
	printf("sched_setaffinity(tid, one CPU): it reads back %d CPU, the right one: %s\n", CPU_COUNT(&got),
	       CPU_EQUAL(&got, &one) ? "yes" : "no");
	CHECK_OK(pthread_getaffinity_np(t, sizeof got, &got));
	printf("pthread_getaffinity_np agrees: %s\n", CPU_EQUAL(&got, &one) ? "yes" : "no");
	CHECK_OK(pthread_setaffinity_np(t, sizeof all, &all));
	CHECK_EQ(0, sched_getaffinity(tid, sizeof got, &got), "sched_getaffinity(tid)");
	printf("pthread_setaffinity_np back to all: sched_getaffinity agrees: %s\n", CPU_EQUAL(&got, &all) ? "yes" : "no");
	CPU_ZERO(&got);
	CHECK_EQ(0, sched_getaffinity(0, sizeof got, &got), "sched_getaffinity(0)");
	printf("main's own affinity unchanged: %s\n", CPU_EQUAL(&got, &all) ? "yes" : "no");
	CPU_ZERO(&one);
	show("sched_setaffinity(tid, no CPU)", sched_setaffinity(tid, sizeof one, &one));
	CPU_SET(first, &one);
	CHECK_EQ(0, sched_setaffinity(0, sizeof one, &one), "sched_setaffinity(0)");
}

static void policy(pid_t tid)
{
	struct sched_param sp = { 0 };
	printf("sched_getscheduler(tid): %d\n", sched_getscheduler(tid));
	CHECK_EQ(0, sched_setscheduler(tid, SCHED_BATCH, &sp), "sched_setscheduler(tid, SCHED_BATCH)");
	printf("after SCHED_BATCH: thread %d, main %d\n", sched_getscheduler(tid), sched_getscheduler(0));
	CHECK_EQ(0, sched_getparam(tid, &sp), "sched_getparam(tid)");
	printf("sched_getparam(tid): priority %d\n", sp.sched_priority);
	sp.sched_priority = 5;
	show("SCHED_BATCH with priority 5", sched_setscheduler(tid, SCHED_BATCH, &sp));
	show("policy 12345", sched_setscheduler(tid, 12345, &sp));
	CHECK_EQ(0, sched_setscheduler(tid, SCHED_OTHER, &(struct sched_param){ 0 }), "back to SCHED_OTHER");
}

static void nice_of_thread(pid_t tid, int base)
{
	CHECK_EQ(0, setpriority(PRIO_PROCESS, (id_t)tid, base + 5), "setpriority(tid)");
	printf("setpriority(tid, +5): thread %+d, main %+d\n", getpriority(PRIO_PROCESS, (id_t)tid) - base,
	       getpriority(PRIO_PROCESS, 0) - base);
	CHECK_EQ(0, setpriority(PRIO_PROCESS, 0, base + 3), "setpriority(0)");
	printf("setpriority(0, +3) in main: main %+d, thread %+d\n", getpriority(PRIO_PROCESS, 0) - base,
	       getpriority(PRIO_PROCESS, (id_t)tid) - base);
	pthread_t c;
	CHECK_OK(pthread_create(&c, NULL, report_inherited, &base));
	CHECK_OK(pthread_join(c, NULL));
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	ids();
	pid_t tid = 0;
	pthread_t t;
	CHECK_OK(pthread_create(&t, NULL, target_thread, &tid));
	while (!tid)
		usleep(100);
	kill_by_tid(tid);
	affinity(t, tid);
	policy(tid);
	nice_of_thread(tid, getpriority(PRIO_PROCESS, 0));
	atomic_store(&stop, 1);
	CHECK_OK(pthread_join(t, NULL));
	return 0;
}
