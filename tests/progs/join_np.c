/* pthread_tryjoin_np, pthread_timedjoin_np, pthread_kill(t, 0).
 *
 * While a thread runs: tryjoin is EBUSY, timedjoin with a deadline 50 ms
 * ahead is ETIMEDOUT (and does not return early), pthread_kill(t, 0) is 0.
 * Once it finished, tryjoin / timedjoin collect its value. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include "check.h"

static atomic_int release;

static void *worker(void *arg)
{
    while (!atomic_load(&release))
        sched_yield();
    return arg;
}

int main(void)
{
    pthread_t t;
    void *ret = NULL;
    struct timespec dl;

    CHECK_OK(pthread_create(&t, NULL, worker, (void *)11));
    CHECK_EQ(EBUSY, pthread_tryjoin_np(t, &ret), "tryjoin on a running thread");
    printf("tryjoin on a running thread: EBUSY\n");
    CHECK_EQ(0, pthread_kill(t, 0), "pthread_kill(t, 0) on a live thread");
    printf("pthread_kill(live, 0): 0\n");

    long long start = check_now_ns(CLOCK_MONOTONIC);
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_nsec += 50 * 1000000;
    if (dl.tv_nsec >= 1000000000) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000;
    }
    CHECK_EQ(ETIMEDOUT, pthread_timedjoin_np(t, &ret, &dl), "timedjoin on a running thread");
    long long waited_ms = (check_now_ns(CLOCK_MONOTONIC) - start) / 1000000;
    if (waited_ms < 45)
        CHECK_FAIL("timedjoin returned ETIMEDOUT after %lld ms, expected >= 50 ms",
                   waited_ms);
    printf("timedjoin with a 50 ms deadline on a running thread: ETIMEDOUT, not early\n");

    atomic_store(&release, 1);
    int r;
    while ((r = pthread_tryjoin_np(t, &ret)) == EBUSY)
        sched_yield();
    CHECK_EQ(0, r, "tryjoin after the thread finished");
    CHECK_EQ(11, (long)ret, "tryjoin's value");
    printf("tryjoin after finish: %ld\n", (long)ret);

    atomic_store(&release, 0);
    CHECK_OK(pthread_create(&t, NULL, worker, (void *)22));
    atomic_store(&release, 1);
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 30;
    CHECK_OK(pthread_timedjoin_np(t, &ret, &dl));
    CHECK_EQ(22, (long)ret, "timedjoin's value");
    printf("timedjoin of a finishing thread: %ld\n", (long)ret);
    return 0;
}
