/* A fork child takes a process signal in its own thread (issue 13, item
 * 1): the parent's other thread was asleep (a wait a signal may end) when
 * a thread forked; in the child that thread is gone, and a signal sent to
 * the child must run the handler in the child's one thread, never wake
 * the gone thread. */
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "check.h"

static atomic_int asleep, stop;
static volatile sig_atomic_t handled;
static int ready[2];

static void on_usr1(int sig)
{
	(void)sig;
	handled = 1;
}

static void *sleeper(void *arg)
{
	atomic_store(&asleep, 1);
	while (!atomic_load(&stop))
		usleep(1000);
	return arg;
}

static void child(void)
{
	check_catch(SIGUSR1, on_usr1);
	if (write(ready[1], "r", 1) != 1)
		_exit(3);
	while (!handled) /* each sleep parks: a signal may wake a sleeper */
		usleep(1000);
	_exit(0);
}

static void *forker(void *arg)
{
	while (!atomic_load(&asleep))
		usleep(100);
	usleep(2000); /* (not a handshake: the sleeper sleeps in either case) */
	pid_t pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0)
		child();
	char c;
	CHECK_EQ(1, read(ready[0], &c, 1), "the child is ready");
	CHECK_EQ(0, kill(pid, SIGUSR1), "kill");
	int st;
	CHECK_EQ(pid, waitpid(pid, &st, 0), "waitpid");
	printf("the child's own thread took the signal: %s\n",
	       WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "yes" : "no");
	return arg;
}

int main(void)
{
	CHECK_EQ(0, pipe(ready), "pipe");
	pthread_t f, s;
	CHECK_OK(pthread_create(&f, NULL, forker, NULL));
	CHECK_OK(pthread_create(&s, NULL, sleeper, NULL)); /* newer: first in goro's list of Gs */
	CHECK_OK(pthread_join(f, NULL));
	atomic_store(&stop, 1);
	CHECK_OK(pthread_join(s, NULL));
	return 0;
}
