/* pthread_exit from a signal handler that interrupted a wait (issue 12
 * item 5): the thread waits in pthread_spin_lock, pthread_mutex_lock,
 * sem_wait or pthread_barrier_wait; pthread_kill(SIGUSR1) runs a handler
 * that calls pthread_exit(42).  The joiner wakes with 42, and the objects
 * still work afterwards.  Then a handler that interrupted a barrier wait
 * sleeps before returning, and the barrier completes.  60 rounds of each. */
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "check.h"

#define ROUNDS 60

static pthread_spinlock_t spin;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static sem_t sem;
static pthread_barrier_t bar;
static atomic_int ready, slept;
static const char *names[] = { "spin", "mutex", "sem", "barrier" };

static void exit_handler(int sig)
{
	(void)sig;
	pthread_exit((void *)42L);
}

static void sleep_handler(int sig)
{
	(void)sig;
	usleep(1000);
	atomic_fetch_add(&slept, 1);
}

static void *waiter(void *arg)
{
	int how = (int)(long)arg;
	atomic_store(&ready, 1);
	switch (how) {
	case 0: pthread_spin_lock(&spin); pthread_spin_unlock(&spin); break;
	case 1: pthread_mutex_lock(&mu); pthread_mutex_unlock(&mu); break;
	case 2: sem_wait(&sem); break;
	default: pthread_barrier_wait(&bar); break;
	}
	return (void *)7L;
}

static void exit_rounds(int how)
{
	int ok = 0;
	for (int i = 0; i < ROUNDS; i++) {
		void *r;
		/* (a spinning thread never sleeps) */
		pthread_t t = check_start_ready(waiter, (void *)(long)how, &ready, i % 2 && how != 0);
		CHECK_OK(pthread_kill(t, SIGUSR1));
		CHECK_OK(pthread_join(t, &r));
		ok += r == (void *)42L;
	}
	printf("%s: %d of %d joined with 42\n", names[how], ok, ROUNDS);
}

int main(void)
{
	CHECK_OK(pthread_spin_init(&spin, 0));
	CHECK_EQ(0, sem_init(&sem, 0, 0), "sem_init");
	CHECK_OK(pthread_barrier_init(&bar, NULL, 2));
	check_handler(SIGUSR1, exit_handler, 0);
	CHECK_OK(pthread_spin_lock(&spin));
	CHECK_OK(pthread_mutex_lock(&mu));
	for (int how = 0; how < 3; how++)
		exit_rounds(how);
	CHECK_OK(pthread_spin_unlock(&spin));
	CHECK_OK(pthread_mutex_unlock(&mu));
	/* the objects still work after their waiters left through a handler */
	CHECK_OK(pthread_spin_lock(&spin));
	CHECK_OK(pthread_spin_unlock(&spin));
	CHECK_OK(pthread_mutex_lock(&mu));
	CHECK_OK(pthread_mutex_unlock(&mu));
	CHECK_EQ(0, sem_post(&sem), "sem_post");
	CHECK_EQ(0, sem_wait(&sem), "sem_wait");
	/* A barrier round interrupted by an exit is not one glibc can
	 * complete; a handler that sleeps and returns is. */
	check_handler(SIGUSR1, sleep_handler, 0);
	for (int i = 0; i < ROUNDS; i++) {
		void *r;
		pthread_t t = check_start_ready(waiter, (void *)3L, &ready, i % 2);
		CHECK_OK(pthread_kill(t, SIGUSR1));
		while (atomic_load(&slept) != i + 1)
			sched_yield();
		pthread_barrier_wait(&bar);
		CHECK_OK(pthread_join(t, &r));
		CHECK_EQ(7, (long)r, "barrier waiter's result");
	}
	printf("barrier: %d handlers slept, %d rounds completed\n", atomic_load(&slept), ROUNDS);
	return 0;
}
