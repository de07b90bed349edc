/* Spinning threads that wait for a woken one (tests/preempt.bats, wake-up
 * preemption).  NSPIN threads spin on a flag with plain loads, no calls (as
 * OpenMP's active wait does), which only a setter thread can set, and the
 * setter sleeps until the first spinner wakes it.  Each round: every spinner
 * arrives; once all have, spinner 0 wakes the setter (WAKE: "sem" posts a
 * semaphore, "pipe" writes a byte to a pipe the setter reads; with "sleep"
 * the setter wakes from its own 1 ms sleeps and looks whether all have
 * arrived); every spinner then spins until the setter has published the
 * round.  Natively
 * the kernel runs the woken setter at once, preempting a spinner if every
 * CPU is busy; goro has to preempt a spinner for it too (GORO_STATS
 * wake_preemptions), else the round waits for sysmon's 10 ms preemption.
 * Usage: spin_wake NSPIN ROUNDS [sem|pipe|sleep] */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"

static int nspin, rounds, usepipe, usesleep;
static sem_t sem;
static int fds[2];
static atomic_int arrived, round_done;

static void wake_setter(void)
{
	if (usepipe)
		CHECK(write(fds[1], "x", 1) == 1, "write to the setter's pipe");
	else
		CHECK_OK(sem_post(&sem));
}

static void wait_woken(int r)
{
	char c;
	if (usesleep)
		do
			usleep(1000);
		while (atomic_load(&arrived) < nspin * r);
	else if (usepipe)
		CHECK(read(fds[0], &c, 1) == 1, "read of the setter's pipe");
	else
		while (sem_wait(&sem) != 0)
			CHECK(errno == EINTR, "sem_wait");
}

static void *setter(void *arg)
{
	(void)arg;
	for (int r = 1; r <= rounds; r++) {
		wait_woken(r);
		atomic_store_explicit(&round_done, r, memory_order_release);
	}
	return NULL;
}

static void *spinner(void *arg)
{
	long id = (long)arg;
	unsigned long spins = 0;
	for (int r = 1; r <= rounds; r++) {
		atomic_fetch_add(&arrived, 1);
		if (id == 0 && !usesleep) {
			while (atomic_load_explicit(&arrived, memory_order_relaxed) < nspin * r)
				spins++;
			wake_setter();
		}
		while (atomic_load_explicit(&round_done, memory_order_acquire) < r)
			spins++;
	}
	return (void *)spins;
}

int main(int argc, char **argv)
{
	nspin = argc > 1 ? atoi(argv[1]) : 2;
	rounds = argc > 2 ? atoi(argv[2]) : 20;
	const char *how = argc > 3 ? argv[3] : "sem";
	usepipe = strcmp(how, "pipe") == 0;
	usesleep = strcmp(how, "sleep") == 0;
	if (nspin < 1 || nspin > 64 || rounds < 1 || (!usepipe && !usesleep && strcmp(how, "sem") != 0)) {
		fprintf(stderr, "usage: spin_wake NSPIN (1..64) ROUNDS (>= 1) [sem|pipe|sleep]\n");
		return 2;
	}
	CHECK_OK(sem_init(&sem, 0, 0));
	CHECK(pipe(fds) == 0, "pipe");
	pthread_t set, spin[64];
	CHECK_OK(pthread_create(&set, NULL, setter, NULL));
	for (long i = 0; i < nspin; i++)
		CHECK_OK(pthread_create(&spin[i], NULL, spinner, (void *)i));
	for (int i = 0; i < nspin; i++)
		CHECK_OK(pthread_join(spin[i], NULL));
	CHECK_OK(pthread_join(set, NULL));
	printf("spin_wake: %d spinners, %d rounds, the setter woken by %s: it ran every round\n", nspin, rounds, how);
	return 0;
}
