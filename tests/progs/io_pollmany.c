/* poll and select on several fds park on the netpoller: a thread writes
 * one of two pipes once main is seen blocked in the call; poll, then
 * select, see exactly that one; a poll with nothing coming times out. */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/select.h>
#include <unistd.h>
#include "check.h"

static int a[2], b[2];

static void *writer(void *arg)
{
	(void)arg;
	check_wait_blocked(); /* main is in its poll/select */
	CHECK_EQ(1, (int)write(b[1], "x", 1), "write");
	return NULL;
}

int main(void)
{
	pthread_t t;
	char c;
	CHECK_OK(pipe(a));
	CHECK_OK(pipe(b));
	CHECK_OK(pthread_create(&t, NULL, writer, NULL));
	struct pollfd p[2] = { { a[0], POLLIN, 0 }, { b[0], POLLIN, 0 } };
	int r = poll(p, 2, 5000);
	printf("poll: %d ready, a %s, b %s\n", r, p[0].revents ? "ready" : "idle", p[1].revents & POLLIN ? "ready" : "idle");
	CHECK_OK(pthread_join(t, NULL));
	CHECK_EQ(1, (int)read(b[0], &c, 1), "read");

	CHECK_OK(pthread_create(&t, NULL, writer, NULL));
	fd_set s;
	FD_ZERO(&s);
	FD_SET(a[0], &s);
	FD_SET(b[0], &s);
	struct timeval tv = { 5, 0 };
	r = select((a[0] > b[0] ? a[0] : b[0]) + 1, &s, NULL, NULL, &tv);
	printf("select: %d ready, a %s, b %s\n", r, FD_ISSET(a[0], &s) ? "set" : "clear", FD_ISSET(b[0], &s) ? "set" : "clear");
	CHECK_OK(pthread_join(t, NULL));
	CHECK_EQ(1, (int)read(b[0], &c, 1), "read");

	struct pollfd q[2] = { { a[0], POLLIN, 0 }, { b[0], POLLIN, 0 } };
	printf("poll with nothing coming: %d\n", poll(q, 2, 30));
	return 0;
}
