/* stack_burst: 64 threads with the default stack each touch 1 MiB of it,
 * all alive at once, then end.  A burst must not keep its peak memory for
 * ever: after the joins, the resident size goes back down (natively nptl
 * gives an exiting thread's stack pages back; goro's sysmon gives back
 * those of Gs idle in its pool).  The wait for that polls the resident size
 * (a condition, with a generous limit), it does not sleep for a time. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "check.h"

#define N 64
#define DEPTH (1L << 20)

static pthread_barrier_t touched, measured;

static long rss_kib(void)
{
    long size = 0, res = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    CHECK(f != NULL, "open /proc/self/statm");
    CHECK_EQ(2, fscanf(f, "%ld %ld", &size, &res), "fields read from /proc/self/statm");
    fclose(f);
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static void *deep(void *arg)
{
    volatile char buf[DEPTH];
    for (long i = 0; i < DEPTH; i += 512)
        buf[i] = (char)i;
    pthread_barrier_wait(&touched);
    pthread_barrier_wait(&measured);
    return (void *)(long)buf[512];
}

int main(void)
{
    pthread_t t[N];
    long before = rss_kib();
    CHECK_OK(pthread_barrier_init(&touched, NULL, N + 1));
    CHECK_OK(pthread_barrier_init(&measured, NULL, N + 1));
    for (int i = 0; i < N; i++)
        CHECK_OK(pthread_create(&t[i], NULL, deep, NULL));
    pthread_barrier_wait(&touched);
    long peak = rss_kib();
    pthread_barrier_wait(&measured);
    for (int i = 0; i < N; i++)
        CHECK_OK(pthread_join(t[i], NULL));
    CHECK(peak - before >= N * DEPTH / 1024 * 3 / 4, "the burst's stacks were resident at its peak");
    printf("%d threads touched 1 MiB of stack each, all alive at once\n", N);
    long now = rss_kib();
    for (int polls = 0; now - before > N * DEPTH / 1024 / 4 && polls < 12000; polls++) {
        usleep(10000);
        now = rss_kib();
    }
    if (now - before > N * DEPTH / 1024 / 4)
        CHECK_FAIL("resident size still %ld KiB above the start (peak %ld KiB above) after 120 s",
                   now - before, peak - before);
    printf("after the joins, their stack pages went back\n");
    return 0;
}
