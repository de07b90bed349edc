/* A signal that arrives while every thread is parked (issue 12 item 3):
 * main waits on a semaphore that only a signal handler posts, the other
 * thread waits on a mutex main holds.  The signal comes from alarm(1)
 * once, then 30 rounds each of a one-shot ITIMER_REAL and of a POSIX
 * timer (timer_create, SIGEV_SIGNAL) and 30 of a SIGEV_THREAD timer whose
 * function posts.  Every round the handler runs and main goes on; goro's
 * deadlock report must not fire while such a signal can still come (run
 * with GORO_DEBUG=deadlock=abort). */
#include <errno.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define ROUNDS 30

static sem_t posted;
static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t handled;

static void on_signal(int sig)
{
	(void)sig;
	handled++;
	sem_post(&posted);
}

static void on_thread_timer(union sigval v)
{
	(void)v;
	sem_post(&posted);
}

static void wait_posted(void)
{
	while (sem_wait(&posted) != 0)
		CHECK_EQ(EINTR, errno, "sem_wait fails only with EINTR");
}

static void *blocked(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&held);
	pthread_mutex_unlock(&held);
	return NULL;
}

static void posix_timer_round(int notify)
{
	struct sigevent ev;
	memset(&ev, 0, sizeof ev);
	ev.sigev_notify = notify;
	ev.sigev_signo = SIGUSR1;
	ev.sigev_notify_function = on_thread_timer;
	timer_t tm;
	CHECK_EQ(0, timer_create(CLOCK_MONOTONIC, &ev, &tm), "timer_create");
	struct itimerspec its = { { 0, 0 }, { 0, 2000000 } };
	CHECK_EQ(0, timer_settime(tm, 0, &its, NULL), "timer_settime");
	wait_posted();
	CHECK_EQ(0, timer_delete(tm), "timer_delete");
}

int main(void)
{
	CHECK_EQ(0, sem_init(&posted, 0, 0), "sem_init");
	check_handler(SIGALRM, on_signal, 0);
	check_handler(SIGUSR1, on_signal, 0);
	pthread_mutex_lock(&held);
	pthread_t t;
	CHECK_OK(pthread_create(&t, NULL, blocked, NULL));

	alarm(1);
	wait_posted();
	printf("alarm: handled %d\n", (int)handled);
	for (int i = 0; i < ROUNDS; i++) {
		struct itimerval it = { { 0, 0 }, { 0, 2000 } };
		CHECK_EQ(0, setitimer(ITIMER_REAL, &it, NULL), "setitimer");
		wait_posted();
	}
	printf("setitimer: handled %d\n", (int)handled);
	for (int i = 0; i < ROUNDS; i++)
		posix_timer_round(SIGEV_SIGNAL);
	printf("timer_create SIGEV_SIGNAL: handled %d\n", (int)handled);
	for (int i = 0; i < ROUNDS; i++)
		posix_timer_round(SIGEV_THREAD);
	printf("timer_create SIGEV_THREAD: handled %d\n", (int)handled);
	pthread_mutex_unlock(&held);
	CHECK_OK(pthread_join(t, NULL));
	return 0;
}
