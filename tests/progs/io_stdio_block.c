/* A thread blocks inside libc where goro cannot intercept: stdio's own
 * write(2) of a 1 MiB fwrite+fflush into a pipe nobody reads yet.  With one
 * P, the 100 threads that compute meanwhile only run if sysmon notices the
 * kernel-blocked M and hands its P off; main drains the pipe after them.
 * Main creates them once the pipe is full: fwrite passes the 1 MiB to one
 * write(2) (stdio writes whole buffers directly), so a full pipe means the
 * writer is inside that call, blocked. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "check.h"

static int p[2];
static volatile double sink;
static char buf[1 << 20];

static void *writer(void *arg)
{
	(void)arg;
	FILE *f = fdopen(p[1], "w");
	memset(buf, 'x', sizeof buf);
	CHECK_EQ((int)sizeof buf, (int)fwrite(buf, 1, sizeof buf, f), "fwrite");
	CHECK_OK(fflush(f));
	fclose(f);
	return NULL;
}

static void *compute(void *arg)
{
	(void)arg;
	double x = 1;
	for (long i = 0; i < 3000000; i++)
		x = x * 1.0000001 + 0.5;
	sink = x;
	return NULL;
}

int main(void)
{
	pthread_t w, c[100];
	CHECK_OK(pipe(p));
	CHECK_OK(pthread_create(&w, NULL, writer, NULL));
	/* the writer fills the pipe and blocks in libc (with one P main's
	 * sleeps only end once sysmon has handed the writer's P off) */
	int cap = fcntl(p[0], F_GETPIPE_SZ), queued = 0;
	CHECK(cap > 0, "F_GETPIPE_SZ");
	while (queued < cap) {
		usleep(1000);
		CHECK_OK(ioctl(p[0], FIONREAD, &queued));
	}
	for (int i = 0; i < 100; i++)
		CHECK_OK(pthread_create(&c[i], NULL, compute, NULL));
	for (int i = 0; i < 100; i++)
		CHECK_OK(pthread_join(c[i], NULL));
	puts("100 threads computed while the writer was blocked");
	fflush(stdout);
	char b[65536];
	long tot = 0;
	ssize_t n;
	while ((n = read(p[0], b, sizeof b)) > 0)
		tot += n;
	CHECK_OK(pthread_join(w, NULL));
	printf("read %ld bytes\n", tot);
	return 0;
}
