/* How many fds the program can open (issue 13, item 2): as many as
 * natively, though goro keeps an epoll instance, an eventfd and a
 * signalfd of its own.  Opens /dev/null until EMFILE with a thread and a
 * caught signal in place, and prints the count. */
#include <signal.h>

#include "check.h"

static void on_usr1(int sig) { (void)sig; }

static void *nap(void *arg)
{
	usleep(1000);
	return arg;
}

int main(void)
{
	check_catch(SIGUSR1, on_usr1);
	pthread_t t;
	CHECK_OK(pthread_create(&t, NULL, nap, NULL));
	CHECK_OK(pthread_join(t, NULL));
	long n = 0;
	int fd;
	while ((fd = open("/dev/null", O_RDONLY)) >= 0)
		n++;
	CHECK_EQ(EMFILE, errno, "errno after the last open");
	printf("opened %ld fds before EMFILE\n", n);
	/* The runtime still works with every fd taken. */
	CHECK_OK(pthread_create(&t, NULL, nap, NULL));
	CHECK_OK(pthread_join(t, NULL));
	return 0;
}
