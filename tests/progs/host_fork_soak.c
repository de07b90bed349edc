/* Fork under churn (issue 13, item 1): threads create and join threads and
 * install signal handlers while another thread forks FORKS times; every
 * child creates a thread, joins it, installs a handler and exits with a
 * status the parent checks.  A runtime lock copied into a child in the
 * locked state (TLS modules, signal actions, idle mask, scheduler, timers)
 * hangs that child: the parent's waitpid then never returns. */
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "check.h"

#define FORKS 200
#define CREATORS 2
#define HANDLERS 2
#define CHILD_OK 42

static atomic_int stop;
static atomic_long created, installed;

static void on_usr(int sig) { (void)sig; }
static void on_usr_other(int sig) { (void)sig; }

static void *leaf(void *arg) { return arg; }

static void *creator(void *arg)
{
	while (!atomic_load(&stop)) {
		pthread_t t;
		CHECK_OK(pthread_create(&t, NULL, leaf, NULL));
		CHECK_OK(pthread_join(t, NULL));
		atomic_fetch_add(&created, 1);
	}
	return arg;
}

static void *installer(void *arg)
{
	for (long i = 0; !atomic_load(&stop); i++) {
		struct sigaction sa = { .sa_handler = (i & 1) ? on_usr : on_usr_other };
		sigemptyset(&sa.sa_mask);
		CHECK(sigaction((i & 2) ? SIGUSR1 : SIGUSR2, &sa, NULL) == 0, "sigaction");
		atomic_fetch_add(&installed, 1);
		if ((i & 63) == 0) {
			struct timespec ts = { 0, 1000 };
			nanosleep(&ts, NULL); /* timers too */
		}
	}
	return arg;
}

static void child(void)
{
	pthread_t t;
	int v = 7;
	void *res;
	if (pthread_create(&t, NULL, leaf, &v) != 0 || pthread_join(t, &res) != 0 || res != &v)
		_exit(1);
	struct sigaction sa = { .sa_handler = on_usr };
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) != 0)
		_exit(2);
	_exit(CHILD_OK);
}

static void *forker(void *arg)
{
	for (int i = 0; i < FORKS; i++) {
		pid_t pid = fork();
		CHECK(pid >= 0, "fork");
		if (pid == 0)
			child();
		int st;
		CHECK_EQ(pid, waitpid(pid, &st, 0), "waitpid");
		CHECK(WIFEXITED(st), "child exited normally");
		CHECK_EQ(CHILD_OK, WEXITSTATUS(st), "child status");
	}
	return arg;
}

int main(void)
{
	pthread_t c[CREATORS], h[HANDLERS], f;
	fflush(stdout);
	for (int i = 0; i < CREATORS; i++)
		CHECK_OK(pthread_create(&c[i], NULL, creator, NULL));
	for (int i = 0; i < HANDLERS; i++)
		CHECK_OK(pthread_create(&h[i], NULL, installer, NULL));
	/* The churn is under way before the first fork. */
	while (atomic_load(&created) < 10 || atomic_load(&installed) < 10)
		sched_yield();
	CHECK_OK(pthread_create(&f, NULL, forker, NULL));
	CHECK_OK(pthread_join(f, NULL));
	atomic_store(&stop, 1);
	for (int i = 0; i < CREATORS; i++)
		CHECK_OK(pthread_join(c[i], NULL));
	for (int i = 0; i < HANDLERS; i++)
		CHECK_OK(pthread_join(h[i], NULL));
	printf("%d children, each created and joined a thread\n", FORKS);
	return 0;
}
