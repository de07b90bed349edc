/* A thread with a 64 KiB stack recurses without bound.  Natively it hits
 * the guard page and the process dies of SIGSEGV; under goro it must die of
 * SIGSEGV too, after goro names the thread and says how to raise its stack
 * (core.bats checks both).  Output before the overflow is deterministic. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include "check.h"

static long limit;

/* Bounded by a run-time value so the compiler cannot prove it infinite
 * (gcc's -Winfinite-recursion) or turn it into a loop. */
__attribute__((noinline)) static long recurse(long depth)
{
    volatile char frame[512];
    frame[0] = (char)depth;
    if (depth >= limit)
        return frame[0];
    return recurse(depth + 1) + frame[0];
}

static void *overflow(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)recurse(0);
}

int main(int argc, char **argv)
{
    pthread_t t;
    pthread_attr_t a;

    (void)argv;
    limit = argc > 100 ? 10 : 1L << 40;
    printf("starting a thread with a 64 KiB stack that recurses forever\n");
    fflush(stdout);
    CHECK_OK(pthread_attr_init(&a));
    CHECK_OK(pthread_attr_setstacksize(&a, 64 * 1024));
    CHECK_OK(pthread_create(&t, &a, overflow, NULL));
    pthread_join(t, NULL);
    printf("FAIL: the thread returned instead of overflowing its stack\n");
    return 1;
}
