/* 10,000 threads created and joined, 100 at a time.  Each thread returns a
 * value derived from its argument; join must hand back exactly that value.
 * Under goro these are Gs: core.bats also checks with GORO_STATS=1 that only
 * a handful of Ms (OS threads) were made for them. */
#include <pthread.h>
#include <stdint.h>
#include "check.h"

#define TOTAL 10000
#define BATCH 100

static void *worker(void *arg)
{
    uintptr_t i = (uintptr_t)arg;
    return (void *)(i * 3 + 1);
}

int main(void)
{
    pthread_t t[BATCH];
    unsigned long long sum = 0;
    int joined = 0;

    for (uintptr_t base = 0; base < TOTAL; base += BATCH) {
        for (uintptr_t j = 0; j < BATCH; j++)
            CHECK_OK(pthread_create(&t[j], NULL, worker, (void *)(base + j)));
        for (uintptr_t j = 0; j < BATCH; j++) {
            void *ret = NULL;
            CHECK_OK(pthread_join(t[j], &ret));
            CHECK_EQ((base + j) * 3 + 1, (uintptr_t)ret, "join return value");
            sum += (uintptr_t)ret;
            joined++;
        }
    }
    printf("created and joined %d threads\n", joined);
    printf("sum of return values %llu\n", sum);
    return 0;
}
