/* many_threads N STACK_KIB: N threads alive at once, each blocked on one
 * condition variable, then woken by one broadcast and joined.
 *
 * STACK_KIB 0 keeps the default stack (8 MiB).  Each thread stores its
 * index in a __thread variable and on its stack before it waits, and checks
 * both after waking: a G that ran on another's TLS or stack would see
 * another index.  main waits for all N to check in (a handshake under the
 * mutex), so all N are alive at once. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t allin = PTHREAD_COND_INITIALIZER;
static long arrived, n;
static int go;
static atomic_long good, bad;
static __thread long mine = -1;

static void *sleeper(void *arg)
{
    volatile long onstack = (long)arg;
    mine = (long)arg;
    pthread_mutex_lock(&mu);
    if (++arrived == n)
        pthread_cond_signal(&allin);
    while (!go)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    if (mine == (long)arg && onstack == (long)arg)
        atomic_fetch_add(&good, 1);
    else
        atomic_fetch_add(&bad, 1);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: many_threads THREADS STACK_KIB (0: the default stack)\n");
        return 2;
    }
    n = atol(argv[1]);
    long kib = atol(argv[2]);
    pthread_t *t = calloc((size_t)n, sizeof *t);
    CHECK(t != NULL, "calloc");
    pthread_attr_t at;
    CHECK_OK(pthread_attr_init(&at));
    if (kib)
        CHECK_OK(pthread_attr_setstacksize(&at, (size_t)kib * 1024));
    for (long i = 0; i < n; i++) {
        int r = pthread_create(&t[i], &at, sleeper, (void *)i);
        if (r != 0)
            CHECK_FAIL("pthread_create of thread %ld of %ld: %s", i, n, strerror(r));
    }
    pthread_mutex_lock(&mu);
    while (arrived < n)
        pthread_cond_wait(&allin, &mu);
    printf("%ld threads alive at once\n", arrived);
    go = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    for (long i = 0; i < n; i++)
        CHECK_OK(pthread_join(t[i], NULL));
    CHECK_EQ(0, atomic_load(&bad), "threads that saw another thread's __thread value or stack");
    CHECK_EQ(n, atomic_load(&good), "threads that checked their __thread value after waking");
    printf("all %ld joined, each saw its own __thread value and stack\n", n);
    return 0;
}
