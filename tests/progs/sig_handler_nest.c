/* A signal sent to a thread while its handler for that signal sleeps
 * waits for the handler to return, as the kernel blocks it meanwhile: 5
 * pthread_kills during the handler end in one more run, never a nested
 * one, 20 rounds.  Run with SA_ONSTACK too ("onstack"): the handler then
 * sleeps on the signal stack its thread took along.  Under goro the
 * sleeping handler parks, and the thread may resume on another kernel
 * thread; a nested run overflowed the signal stack. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#include "check.h"

#define ROUNDS 20
#define KILLS 5

static _Atomic int inside, release, runs, depth, maxdepth, stop;

static void on_usr1(int sig)
{
	(void)sig;
	int d = atomic_fetch_add(&depth, 1) + 1;
	if (d > atomic_load(&maxdepth))
		atomic_store(&maxdepth, d);
	volatile char buf[1024];
	memset((char *)buf, 0x5a, sizeof buf);
	atomic_store(&inside, 1);
	while (!atomic_load(&release))
		usleep(100); /* a sleep inside the handler: under goro a park */
	for (size_t i = 0; i < sizeof buf; i++)
		if (buf[i] != 0x5a)
			_exit(3);
	atomic_fetch_add(&runs, 1);
	atomic_fetch_sub(&depth, 1);
}

static void *worker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop))
		usleep(20);
	return NULL;
}

static void wait_for(_Atomic int *v, int want)
{
	while (atomic_load(v) < want)
		usleep(50); /* polls a flag the other side sets */
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
	if (argc > 1 && strcmp(argv[1], "onstack") == 0)
		sa.sa_flags |= SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	CHECK_EQ(0, sigaction(SIGUSR1, &sa, NULL), "sigaction");
	pthread_t t;
	CHECK_EQ(0, pthread_create(&t, NULL, worker, NULL), "pthread_create");
	for (int r = 0; r < ROUNDS; r++) {
		atomic_store(&inside, 0);
		atomic_store(&release, 0);
		atomic_store(&runs, 0);
		CHECK_EQ(0, pthread_kill(t, SIGUSR1), "pthread_kill");
		wait_for(&inside, 1);
		for (int k = 0; k < KILLS; k++)
			CHECK_EQ(0, pthread_kill(t, SIGUSR1), "pthread_kill while the handler sleeps");
		atomic_store(&release, 1);
		wait_for(&runs, 2);
	}
	atomic_store(&stop, 1);
	CHECK_EQ(0, pthread_join(t, NULL), "pthread_join");
	CHECK_EQ(1, atomic_load(&maxdepth), "handler nesting (the signal is blocked while its handler runs)");
	printf("%d rounds: %d kills during a sleeping handler gave one more run each\n", ROUNDS, KILLS);
	return 0;
}
