/* A thread spin-waits on a flag (no calls at all in the loop) that a
 * thread created later sets.  With one P this completes only if the
 * spinner is preempted. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>
#include "check.h"

static atomic_int flag;
static volatile double sink;

static void *spinner(void *arg)
{
	(void)arg;
	double x = 1;
	while (!atomic_load_explicit(&flag, memory_order_relaxed))
		x = x * 1.0000001 + 0.5;
	sink = x;
	return NULL;
}

static void *setter(void *arg)
{
	(void)arg;
	atomic_store(&flag, 1);
	return NULL;
}

int main(void)
{
	pthread_t a, b;
	CHECK_OK(pthread_create(&a, NULL, spinner, NULL));
	usleep(1000); /* the spinner runs first (main parks on a timer) */
	CHECK_OK(pthread_create(&b, NULL, setter, NULL));
	CHECK_OK(pthread_join(a, NULL));
	CHECK_OK(pthread_join(b, NULL));
	puts("the spinner saw the flag");
	return 0;
}
