/* Signal rates (issue 13 item 5): signals the kernel delivers one by one
 * must not be merged by goro's routing.  A sender thread sends 300
 * process-directed SIGUSR1 (kill), each once the handler of the one
 * before ran, while main is parked in sem_wait, sleeps in nanosleep, or
 * computes: every one is handled.  Then a 1 ms ITIMER_REAL: 200 pause()
 * calls each end after a SIGALRM handler ran.  With the argument
 * "measure" it prints the handlers run by a 1 ms ITIMER_REAL in one
 * second and by a storm of 100000 kills instead (not compared: timing). */
#include <errno.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define SENDS 300
#define PAUSES 200
#define STORM 100000

static atomic_int handled, alarms;
static sem_t done;
static const char *modes[] = { "sem_wait", "nanosleep", "computing" };

static void on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&handled, 1);
}

static void on_alrm(int sig)
{
	(void)sig;
	atomic_fetch_add(&alarms, 1);
}

static void *sender(void *arg)
{
	(void)arg;
	for (int i = 0; i < SENDS; i++) {
		CHECK_EQ(0, kill(getpid(), SIGUSR1), "kill");
		while (atomic_load(&handled) != i + 1)
			sched_yield();
	}
	sem_post(&done);
	return NULL;
}

static void main_waits(int mode)
{
	struct timespec ms = { 0, 1000000 };
	volatile unsigned long x = 0;
	switch (mode) {
	case 0:
		while (sem_wait(&done) != 0)
			CHECK_EQ(EINTR, errno, "sem_wait fails only with EINTR");
		return;
	case 1:
		while (sem_trywait(&done) != 0)
			nanosleep(&ms, NULL);
		return;
	default:
		while (sem_trywait(&done) != 0)
			for (int i = 0; i < 100000; i++)
				x += (unsigned long)i;
		return;
	}
}

static void measure(void)
{
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } }, off;
	memset(&off, 0, sizeof off);
	setitimer(ITIMER_REAL, &it, NULL);
	struct timespec s = { 1, 0 };
	while (nanosleep(&s, &s) != 0)
		;
	setitimer(ITIMER_REAL, &off, NULL);
	printf("1 ms ITIMER_REAL, main in nanosleep: %d handlers in 1 s\n", atomic_load(&alarms));
	atomic_store(&handled, 0);
	for (int i = 0; i < STORM; i++)
		kill(getpid(), SIGUSR1);
	printf("kill storm from main: %d handlers for %d kills\n", atomic_load(&handled), STORM);
	atomic_store(&handled, 0);
	pid_t parent = getpid(), child = fork();
	if (child == 0) {
		for (int i = 0; i < STORM; i++)
			kill(parent, SIGUSR1);
		_exit(0);
	}
	while (waitpid(child, NULL, 0) != child)
		;
	printf("kill storm from another process, main in waitpid: %d handlers for %d kills\n",
	       atomic_load(&handled), STORM);
}

int main(int argc, char **argv)
{
	CHECK_EQ(0, sem_init(&done, 0, 0), "sem_init");
	check_handler(SIGUSR1, on_usr1, SA_RESTART);
	check_handler(SIGALRM, on_alrm, SA_RESTART);
	if (argc > 1 && strcmp(argv[1], "measure") == 0) {
		measure();
		return 0;
	}
	for (int mode = 0; mode < 3; mode++) {
		pthread_t t;
		atomic_store(&handled, 0);
		CHECK_OK(pthread_create(&t, NULL, sender, NULL));
		main_waits(mode);
		CHECK_OK(pthread_join(t, NULL));
		printf("main %s: %d of %d signals handled\n", modes[mode], atomic_load(&handled), SENDS);
	}
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } }, off;
	memset(&off, 0, sizeof off);
	CHECK_EQ(0, setitimer(ITIMER_REAL, &it, NULL), "setitimer");
	int ended = 0;
	for (int i = 0; i < PAUSES; i++) {
		int before = atomic_load(&alarms);
		pause();
		ended += atomic_load(&alarms) > before;
	}
	setitimer(ITIMER_REAL, &off, NULL);
	printf("%d of %d pauses ended after a SIGALRM handler\n", ended, PAUSES);
	return 0;
}
