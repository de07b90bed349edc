/* A process-directed signal while main waits in pthread_join and a worker
 * waits in pause() (issue 13 item 10): the kernel gives it to the main
 * thread, which accepts it; the worker's pause goes on until a signal of
 * its own (pthread_kill SIGUSR2) ends it.  60 rounds. */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "check.h"

#define ROUNDS 60

static pthread_t main_thread, worker_thread;
static atomic_int in_main, elsewhere, usr2, pausing;

static void on_usr1(int sig)
{
	(void)sig;
	if (pthread_equal(pthread_self(), main_thread))
		atomic_fetch_add(&in_main, 1);
	else
		atomic_fetch_add(&elsewhere, 1);
}

static void on_usr2(int sig)
{
	(void)sig;
	atomic_fetch_add(&usr2, 1);
}

static void *worker(void *arg)
{
	(void)arg;
	int before = atomic_load(&usr2);
	atomic_store(&pausing, 1);
	while (atomic_load(&usr2) == before)
		pause();
	return NULL;
}

static void *sender(void *arg)
{
	int round = (int)(long)arg;
	while (!atomic_load(&pausing))
		sched_yield();
	check_wait_blocked(); /* main in its join, the worker in pause */
	CHECK_EQ(0, kill(getpid(), SIGUSR1), "kill");
	while (atomic_load(&in_main) + atomic_load(&elsewhere) != round + 1)
		sched_yield();
	CHECK_OK(pthread_kill(worker_thread, SIGUSR2));
	return NULL;
}

int main(void)
{
	main_thread = pthread_self();
	check_handler(SIGUSR1, on_usr1, SA_RESTART);
	check_handler(SIGUSR2, on_usr2, SA_RESTART);
	for (int i = 0; i < ROUNDS; i++) {
		pthread_t s;
		atomic_store(&pausing, 0);
		CHECK_OK(pthread_create(&worker_thread, NULL, worker, NULL));
		CHECK_OK(pthread_create(&s, NULL, sender, (void *)(long)i));
		CHECK_OK(pthread_join(worker_thread, NULL));
		CHECK_OK(pthread_join(s, NULL));
	}
	printf("SIGUSR1 handled in main %d, elsewhere %d; SIGUSR2 %d\n", atomic_load(&in_main),
	       atomic_load(&elsewhere), atomic_load(&usr2));
	return 0;
}
