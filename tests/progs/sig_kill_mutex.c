/* pthread_kill(SIGUSR1) to a thread parked in pthread_mutex_lock (issue
 * 12 item 4): 150 kills, each sent once the handler of the one before ran
 * (so none coalesce), every other one once every other thread sleeps.
 * Each runs the handler in the target; the lock wait goes on and gets the
 * mutex when main unlocks it. */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "check.h"

#define KILLS 150

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int handled, started, wrong_thread;
static pthread_t target;

static void on_usr1(int sig)
{
	(void)sig;
	if (!pthread_equal(pthread_self(), target))
		atomic_fetch_add(&wrong_thread, 1);
	atomic_fetch_add(&handled, 1);
}

static void *locker(void *arg)
{
	(void)arg;
	atomic_store(&started, 1);
	CHECK_OK(pthread_mutex_lock(&mu));
	CHECK_OK(pthread_mutex_unlock(&mu));
	return NULL;
}

int main(void)
{
	check_handler(SIGUSR1, on_usr1, SA_RESTART);
	CHECK_OK(pthread_mutex_lock(&mu));
	CHECK_OK(pthread_create(&target, NULL, locker, NULL));
	while (!atomic_load(&started))
		sched_yield();
	for (int i = 0; i < KILLS; i++) {
		if (i % 2)
			check_wait_blocked();
		CHECK_OK(pthread_kill(target, SIGUSR1));
		while (atomic_load(&handled) != i + 1)
			sched_yield();
	}
	CHECK_OK(pthread_mutex_unlock(&mu));
	CHECK_OK(pthread_join(target, NULL));
	printf("kills %d, handled %d, in another thread %d\n", KILLS, atomic_load(&handled),
	       atomic_load(&wrong_thread));
	return 0;
}
