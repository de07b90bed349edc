/* A handler that sleeps: SIGUSR1 sent to four busy-sleeping threads, whose
 * handler calls usleep (under goro a park) until 200 handlers ran.  A
 * signal that arrives while an M is between Gs runs its handler on the
 * scheduler's own stack; a sleep there must block that kernel thread, not
 * park the scheduler (which then ran as a thread on another M). */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#include "check.h"

#define NTHREADS 4
#define HANDLED 200

static _Atomic int handled;

static void on_usr1(int sig)
{
	(void)sig;
	volatile char buf[1024];
	memset((char *)buf, 0x5a, sizeof buf);
	usleep(200);
	for (size_t i = 0; i < sizeof buf; i++)
		if (buf[i] != 0x5a)
			_exit(3); /* its frame was overwritten while it slept */
	atomic_fetch_add(&handled, 1);
}

static void *worker(void *arg)
{
	(void)arg;
	while (atomic_load(&handled) < HANDLED)
		usleep(10);
	return NULL;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
	sigemptyset(&sa.sa_mask);
	CHECK_EQ(0, sigaction(SIGUSR1, &sa, NULL), "sigaction");
	pthread_t t[NTHREADS];
	for (int i = 0; i < NTHREADS; i++)
		CHECK_EQ(0, pthread_create(&t[i], NULL, worker, NULL), "pthread_create");
	while (atomic_load(&handled) < HANDLED) {
		for (int i = 0; i < NTHREADS; i++)
			CHECK_EQ(0, pthread_kill(t[i], SIGUSR1), "pthread_kill");
		usleep(300); /* pacing only: the loop ends on the count */
	}
	for (int i = 0; i < NTHREADS; i++)
		CHECK_EQ(0, pthread_join(t[i], NULL), "pthread_join");
	printf("%d handlers slept and returned intact\n", HANDLED);
	return 0;
}
