/* The daemon idiom against goro's own fds (issue 13, item 2): close every
 * fd from 3 up (argv[1]: "loop" 3..1024, "range" close_range(3, ~0U, 0),
 * "closefrom", or "dup2": /dev/null dup2'ed over every fd below the soft
 * limit, each closed again), then thread work that needs goro's netpoller
 * and timers: sleepers, a pipe ping-pong between threads, and an epoll
 * instance of the program's own, which gets the lowest free fd. */
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>

#include "check.h"

#define ROUNDS 200
#define SLEEPS 50

static int ping[2], pong[2];

static void on_usr1(int sig) { (void)sig; }

static void *sleeper(void *arg)
{
	for (int i = 0; i < SLEEPS; i++)
		CHECK_EQ(0, usleep(1000), "usleep");
	return arg;
}

static void *ponger(void *arg)
{
	char c;
	for (int i = 0; i < ROUNDS; i++) {
		CHECK_EQ(1, read(ping[0], &c, 1), "read ping");
		CHECK_EQ(1, write(pong[1], &c, 1), "write pong");
	}
	return arg;
}

static void close_all(const char *how)
{
	if (strcmp(how, "loop") == 0) {
		for (int fd = 3; fd <= 1024; fd++)
			close(fd);
	} else if (strcmp(how, "range") == 0) {
		CHECK_EQ(0, close_range(3, ~0U, 0), "close_range");
	} else if (strcmp(how, "closefrom") == 0) {
		closefrom(3);
	} else if (strcmp(how, "dup2") == 0) {
		struct rlimit lim;
		CHECK_EQ(0, getrlimit(RLIMIT_NOFILE, &lim), "getrlimit");
		int null = open("/dev/null", O_RDWR);
		CHECK(null >= 3, "open /dev/null");
		long ok = 0;
		for (int fd = 3; fd < (int)lim.rlim_cur; fd++) {
			if (fd == null)
				continue;
			ok += dup2(null, fd) == fd;
			close(fd);
		}
		close(null);
		printf("dup2 over every fd below the limit: %ld succeeded\n", ok);
	} else {
		CHECK_FAIL("unknown mode \"%s\" (loop, range, closefrom, dup2)", how);
	}
}

static void work(void)
{
	int ep = epoll_create1(0);
	printf("the program's epoll instance is fd %d\n", ep);
	CHECK_EQ(0, pipe(ping), "pipe");
	CHECK_EQ(0, pipe(pong), "pipe");
	pthread_t s[2], p;
	for (int i = 0; i < 2; i++)
		CHECK_OK(pthread_create(&s[i], NULL, sleeper, NULL));
	CHECK_OK(pthread_create(&p, NULL, ponger, NULL));
	for (int i = 0; i < ROUNDS; i++) {
		char c = (char)i, r;
		CHECK_EQ(1, write(ping[1], &c, 1), "write ping");
		CHECK_EQ(1, read(pong[0], &r, 1), "read pong");
		CHECK_EQ(c, r, "echoed byte");
	}
	CHECK_OK(pthread_join(p, NULL));
	for (int i = 0; i < 2; i++)
		CHECK_OK(pthread_join(s[i], NULL));
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 7 };
	CHECK_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, ping[0], &ev), "epoll_ctl");
	CHECK_EQ(1, write(ping[1], "x", 1), "write");
	struct epoll_event got;
	CHECK_EQ(1, epoll_wait(ep, &got, 1, -1), "epoll_wait");
	CHECK_EQ(7, got.data.u32, "the program's own event");
	printf("%d pipe round trips, %d sleeps in 2 threads, the program's epoll works\n", ROUNDS, SLEEPS);
}

int main(int argc, char **argv)
{
	CHECK(argc == 2, "usage: host_fds loop|range|closefrom|dup2");
	check_catch(SIGUSR1, on_usr1);
	pthread_t t;
	CHECK_OK(pthread_create(&t, NULL, sleeper, NULL));
	CHECK_OK(pthread_join(t, NULL));
	close_all(argv[1]);
	work();
	return 0;
}
