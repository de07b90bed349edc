/* pthread_cancel of a thread blocked in pause, sigsuspend, sigwait,
 * sigwaitinfo or sigtimedwait (issue 13 item 3: all cancellation points):
 * it is cancelled, its cleanup handler runs and the joiner sees
 * PTHREAD_CANCELED.  Each call 40 times, the cancel sent once the thread
 * is about to wait or, every other round, once every other thread
 * sleeps (check_wait_blocked). */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "check.h"

#define ROUNDS 40

static const char *names[] = { "pause", "sigsuspend", "sigwait", "sigwaitinfo", "sigtimedwait" };
static atomic_int ready, cleaned;

static void cleanup(void *arg)
{
	(void)arg;
	atomic_fetch_add(&cleaned, 1);
}

static void *waiter(void *arg)
{
	int how = (int)(long)arg;
	sigset_t set, none;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigemptyset(&none);
	struct timespec hour = { 3600, 0 };
	siginfo_t si;
	int sig;
	pthread_cleanup_push(cleanup, NULL);
	atomic_store(&ready, 1);
	switch (how) {
	case 0: pause(); break;
	case 1: sigsuspend(&set); break;
	case 2: sigwait(&set, &sig); break;
	case 3: sigwaitinfo(&set, &si); break;
	default: sigtimedwait(&set, &si, &hour); break;
	}
	pthread_cleanup_pop(0);
	return NULL;
}

int main(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	CHECK_OK(pthread_sigmask(SIG_BLOCK, &set, NULL));
	for (int how = 0; how < 5; how++) {
		int canceled = 0;
		atomic_store(&cleaned, 0);
		for (int i = 0; i < ROUNDS; i++) {
			void *r;
			pthread_t t = check_start_ready(waiter, (void *)(long)how, &ready, i % 2);
			CHECK_OK(pthread_cancel(t));
			CHECK_OK(pthread_join(t, &r));
			canceled += r == PTHREAD_CANCELED;
		}
		printf("%s: %d of %d cancelled, %d cleanups\n", names[how], canceled, ROUNDS, atomic_load(&cleaned));
	}
	return 0;
}
