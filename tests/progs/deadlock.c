/* A real deadlock: two threads take two mutexes in opposite orders (a
 * barrier makes sure each holds its first before wanting the second), and
 * main joins one of them.  Natively it hangs forever. */
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t bar;

void *lock_ba(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "lock_ba");
	pthread_mutex_lock(&b);
	pthread_barrier_wait(&bar);
	pthread_mutex_lock(&a);
	return NULL;
}

void *lock_ab(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "lock_ab");
	pthread_mutex_lock(&a);
	pthread_barrier_wait(&bar);
	pthread_mutex_lock(&b);
	return NULL;
}

int main(void)
{
	pthread_t t1, t2;
	pthread_barrier_init(&bar, NULL, 2);
	pthread_create(&t1, NULL, lock_ba, NULL);
	pthread_create(&t2, NULL, lock_ab, NULL);
	puts("started");
	fflush(stdout);
	pthread_join(t1, NULL);
	puts("unreachable");
	return 0;
}
