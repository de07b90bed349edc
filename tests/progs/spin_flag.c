/* A thread spin-waits on a flag (no calls at all in the loop) that a
 * thread created later sets.  With one P this completes only if the
 * spinner is preempted: main creates the setter only after it has seen the
 * spinner running (a flag set just before the loop), and main itself only
 * runs again, once the spinner has the P, if the spinner is preempted. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>
#include "check.h"

static atomic_int flag;
static atomic_int spinning;
static volatile double sink;

static void *spinner(void *arg)
{
	(void)arg;
	double x = 1;
	atomic_store(&spinning, 1);
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
	while (!atomic_load(&spinning))
		usleep(1000); /* main parks on a timer: the spinner runs */
	CHECK_OK(pthread_create(&b, NULL, setter, NULL));
	CHECK_OK(pthread_join(a, NULL));
	CHECK_OK(pthread_join(b, NULL));
	puts("the spinner saw the flag");
	return 0;
}
