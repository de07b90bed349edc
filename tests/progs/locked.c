/* Thread affinity under goro: a thread whose start routine matches
 * GORO_LOCKED (the bats test sets GORO_LOCKED='ui_*'), one that locks
 * itself through goro_lock_os_thread (found with dlsym, so the program
 * runs natively too), and one created with a CPU-affinity attribute keep
 * the same kernel thread (the raw gettid system call: goro's gettid() is
 * the thread's own tid wherever it runs) across 100 blocking waits, while other
 * threads keep running.  Natively every thread is its own kernel thread,
 * so the output is the same. */
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>
#include "check.h"

static atomic_int others;

static int kernel_tid(void) { return (int)check_raw3(SYS_gettid, 0, 0, 0); }

static int blocking_rounds(const char *who)
{
	int t0 = kernel_tid(), moved = 0;
	int p[2];
	CHECK_OK(pipe(p));
	for (int i = 0; i < 100; i++) {
		usleep(100);                      /* timer park */
		char c = 'x';
		CHECK_EQ(1, (int)write(p[1], &c, 1), "pipe write");
		CHECK_EQ(1, (int)read(p[0], &c, 1), "pipe read");
		sched_yield();
		if (kernel_tid() != t0)
			moved++;
	}
	close(p[0]);
	close(p[1]);
	(void)who;
	return moved;
}

void *ui_main(void *arg)
{
	(void)arg;
	return (void *)(long)blocking_rounds("GORO_LOCKED thread");
}

static void *self_locking(void *arg)
{
	(void)arg;
	void (*lock)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "goro_lock_os_thread");
	if (lock)
		lock();
	return (void *)(long)blocking_rounds("goro_lock_os_thread thread");
}

static void *pinned(void *arg)
{
	(void)arg;
	return (void *)(long)blocking_rounds("affinity thread");
}

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 200; i++) {
		atomic_fetch_add(&others, 1);
		usleep(50);
	}
	return NULL;
}

int main(void)
{
	pthread_t t[3], w[4];
	pthread_attr_t a;
	cpu_set_t all;
	CPU_ZERO(&all);
	CHECK_OK(sched_getaffinity(0, sizeof all, &all));
	CHECK_OK(pthread_attr_init(&a));
	CHECK_OK(pthread_attr_setaffinity_np(&a, sizeof all, &all));
	CHECK_OK(pthread_create(&t[0], NULL, ui_main, NULL));
	CHECK_OK(pthread_create(&t[1], NULL, self_locking, NULL));
	CHECK_OK(pthread_create(&t[2], &a, pinned, NULL));
	for (int i = 0; i < 4; i++)
		CHECK_OK(pthread_create(&w[i], NULL, worker, NULL));
	static const char *const who[] = { "GORO_LOCKED thread", "goro_lock_os_thread thread",
					    "affinity thread" };
	long moved = 0;
	for (int i = 0; i < 3; i++) {
		void *r;
		CHECK_OK(pthread_join(t[i], &r));
		printf("%s: kept its kernel thread across 100 waits: %s\n", who[i], r ? "no" : "yes");
		moved += (long)r;
	}
	for (int i = 0; i < 4; i++)
		CHECK_OK(pthread_join(w[i], NULL));
	CHECK_EQ(800, atomic_load(&others), "the other threads kept running");
	printf("others: %d\n", atomic_load(&others));
	return moved ? 1 : 0;
}
