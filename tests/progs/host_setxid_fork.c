/* set*id in a fork child and initgroups (issue 11, nginx): a worker
 * forked from a threaded master sets its ids at once, then initgroups
 * (glibc's own setgroups inside libc).  goro's broadcast waited for the
 * parent's kernel threads, which a child does not have; glibc's setgroups
 * broadcast never completes over goro's Gs.  Prints each call's result. */
#include <grp.h>
#include <pwd.h>
#include <sys/wait.h>

#include "check.h"

#define FORKS 20

static void *nap(void *arg)
{
	usleep(1000);
	return arg;
}

static const char *res(int r) { return r == 0 ? "ok" : strerror(errno); }

static int ids(const char *who, int print)
{
	struct passwd *pw = getpwuid(getuid());
	CHECK(pw != NULL, "getpwuid");
	int a = setgid(getgid()), b = setuid(getuid());
	int c = initgroups(pw->pw_name, getgid());
	if (print)
		printf("%s: setgid %s, setuid %s, initgroups %s\n", who, res(a), res(b), res(c));
	return a == 0 && b == 0;
}

int main(void)
{
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		CHECK_OK(pthread_create(&t[i], NULL, nap, NULL));
	ids("threaded parent", 1);
	fflush(stdout);
	for (int i = 0; i < FORKS; i++) {
		pid_t pid = fork();
		CHECK(pid >= 0, "fork");
		if (pid == 0) {
			int ok = ids("child", i == 0);
			pthread_t c;
			if (pthread_create(&c, NULL, nap, NULL) || pthread_join(c, NULL))
				_exit(3);
			ok &= ids("child after a thread", i == 0);
			fflush(stdout);
			_exit(ok ? 0 : 1);
		}
		int st;
		CHECK_EQ(pid, waitpid(pid, &st, 0), "waitpid");
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status");
	}
	for (int i = 0; i < 4; i++)
		CHECK_OK(pthread_join(t[i], NULL));
	printf("%d children set their ids\n", FORKS);
	return 0;
}
