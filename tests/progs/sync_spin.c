/* pthread_spin_lock under contention: 8 threads x 5,000 increments.  The
 * holder sometimes yields (sched_yield) or sleeps (usleep) while holding the
 * lock, so with GOMAXPROCS=1 a spinning waiter must not starve the holder:
 * the program must complete.  Also trylock EBUSY/0 and the pshared init. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#include "check.h"

#define NT 8
#define ITERS 5000

static pthread_spinlock_t sl;
static long counter;

static void *worker(void *arg)
{
    int me = (int)(long)arg;
    for (int i = 0; i < ITERS; i++) {
        CHECK_OK(pthread_spin_lock(&sl));
        long c = counter;
        if (i % 500 == me)
            sched_yield();
        else if (i % 1000 == 250 + me)
            usleep(100);
        counter = c + 1;
        CHECK_OK(pthread_spin_unlock(&sl));
    }
    return NULL;
}

static void *try_other(void *arg)
{
    (void)arg;
    int r = pthread_spin_trylock(&sl);
    if (r == 0)
        CHECK_OK(pthread_spin_unlock(&sl));
    return (void *)(long)r;
}

int main(void)
{
    pthread_t t[NT];
    CHECK_OK(pthread_spin_init(&sl, PTHREAD_PROCESS_PRIVATE));
    for (long i = 0; i < NT; i++)
        CHECK_OK(pthread_create(&t[i], NULL, worker, (void *)i));
    for (int i = 0; i < NT; i++)
        CHECK_OK(pthread_join(t[i], NULL));
    CHECK_EQ((long)NT * ITERS, counter, "spin-locked counter");
    printf("spin: %d threads x %d increments = %ld\n", NT, ITERS, counter);

    CHECK_EQ(0, pthread_spin_trylock(&sl), "spin_trylock of a free lock");
    CHECK_EQ(EBUSY, pthread_spin_trylock(&sl), "spin_trylock by the holder");
    CHECK_EQ(EBUSY, check_on_other_thread(try_other, NULL), "spin_trylock by another thread");
    CHECK_OK(pthread_spin_unlock(&sl));
    CHECK_EQ(0, check_on_other_thread(try_other, NULL), "spin_trylock by another thread after unlock");
    CHECK_OK(pthread_spin_destroy(&sl));

    CHECK_OK(pthread_spin_init(&sl, PTHREAD_PROCESS_SHARED));
    CHECK_OK(pthread_spin_lock(&sl));
    CHECK_EQ(EBUSY, check_on_other_thread(try_other, NULL), "pshared spin_trylock by another thread");
    CHECK_OK(pthread_spin_unlock(&sl));
    CHECK_OK(pthread_spin_destroy(&sl));
    printf("spin: trylock EBUSY ok\n");
    return 0;
}
