/* pthread_barrier_wait: 8 threads x 1,000 rounds.  Per round exactly one
 * thread gets PTHREAD_BARRIER_SERIAL_THREAD, every other one 0; nobody
 * leaves round r's barrier before all 8 arrived at it, and nobody leaves
 * round r+1's barrier before all 8 left round r's (shared per-round
 * counters).  Then a barrier of count 1, reuse after destroy/init with a
 * different count, and EINVAL for count 0. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include "check.h"

#define NT 8
#define ROUNDS 1000

static pthread_barrier_t bar;
static atomic_int arrived[ROUNDS], left[ROUNDS], serial[ROUNDS];

static void *worker(void *arg)
{
    int me = (int)(long)arg;
    for (int r = 0; r < ROUNDS; r++) {
        atomic_fetch_add(&arrived[r], 1);
        if ((r + me) % 97 == 0)
            sched_yield();   /* stragglers */
        int rc = pthread_barrier_wait(&bar);
        if (rc == PTHREAD_BARRIER_SERIAL_THREAD)
            atomic_fetch_add(&serial[r], 1);
        else if (rc != 0)
            CHECK_FAIL("round %d: barrier_wait: expected 0 or SERIAL, saw %d", r, rc);
        int a = atomic_load(&arrived[r]);
        if (a != NT)
            CHECK_FAIL("round %d: left the barrier with %d of %d arrived", r, a, NT);
        if (r > 0) {
            int l = atomic_load(&left[r - 1]);
            if (l != NT)
                CHECK_FAIL("round %d: left the barrier while only %d of %d had left round %d",
                           r, l, NT, r - 1);
            int s = atomic_load(&serial[r - 1]);
            if (s != 1)
                CHECK_FAIL("round %d: expected 1 serial thread, saw %d", r - 1, s);
        }
        atomic_fetch_add(&left[r], 1);
    }
    return NULL;
}

static void *small(void *arg)
{
    (void)arg;
    int rc = pthread_barrier_wait(&bar);
    return (void *)(long)(rc == PTHREAD_BARRIER_SERIAL_THREAD);
}

int main(void)
{
    pthread_t t[NT];
    CHECK_OK(pthread_barrier_init(&bar, NULL, NT));
    for (long i = 0; i < NT; i++)
        CHECK_OK(pthread_create(&t[i], NULL, worker, (void *)i));
    for (int i = 0; i < NT; i++)
        CHECK_OK(pthread_join(t[i], NULL));
    for (int r = 0; r < ROUNDS; r++) {
        CHECK_EQ(1, atomic_load(&serial[r]), "serial threads in a round");
        CHECK_EQ(NT, atomic_load(&left[r]), "threads that left a round");
    }
    CHECK_OK(pthread_barrier_destroy(&bar));
    printf("barrier: %d threads x %d rounds, one serial thread per round, "
           "rounds never overlap\n", NT, ROUNDS);

    /* count 1: every wait returns SERIAL at once */
    CHECK_OK(pthread_barrier_init(&bar, NULL, 1));
    for (int i = 0; i < 3; i++)
        CHECK_EQ(PTHREAD_BARRIER_SERIAL_THREAD, pthread_barrier_wait(&bar), "count-1 barrier");
    CHECK_OK(pthread_barrier_destroy(&bar));

    /* re-initialised with another count; process-private attr */
    pthread_barrierattr_t a;
    int ps;
    CHECK_OK(pthread_barrierattr_init(&a));
    CHECK_OK(pthread_barrierattr_getpshared(&a, &ps));
    CHECK_EQ(PTHREAD_PROCESS_PRIVATE, ps, "barrierattr default pshared");
    CHECK_OK(pthread_barrier_init(&bar, &a, 3));
    CHECK_OK(pthread_barrierattr_destroy(&a));
    for (int round = 0; round < 10; round++) {
        long nserial = 0;
        for (long i = 0; i < 3; i++)
            CHECK_OK(pthread_create(&t[i], NULL, small, NULL));
        for (int i = 0; i < 3; i++) {
            void *r;
            CHECK_OK(pthread_join(t[i], &r));
            nserial += (long)r;
        }
        CHECK_EQ(1, nserial, "3-thread barrier: serial threads");
    }
    CHECK_OK(pthread_barrier_destroy(&bar));

    CHECK_EQ(EINVAL, pthread_barrier_init(&bar, NULL, 0), "barrier_init with count 0");
    printf("barrier: count 1, re-init with count 3, EINVAL for count 0 ok\n");
    return 0;
}
