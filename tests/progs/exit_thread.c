/* exit() from a thread while others run (some yielding, some sleeping,
 * main blocked in pthread_join): the process ends with that status and the
 * atexit handlers run exactly once, from the exiting thread. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>
#include "check.h"

#define N 8

static atomic_int atexit_runs;
static atomic_int running;

static void at_exit_a(void)
{
    printf("atexit A: run %d\n", atomic_fetch_add(&atexit_runs, 1) + 1);
}

static void at_exit_b(void)
{
    printf("atexit B\n");
}

static void *spinner(void *arg)
{
    long i = (long)arg;
    atomic_fetch_add(&running, 1);
    for (;;) {
        if (i % 2)
            sched_yield();
        else
            usleep(1000);
    }
    return NULL;
}

static void *exiter(void *arg)
{
    (void)arg;
    while (atomic_load(&running) < N)
        sched_yield();
    printf("exiter: %d threads running; calling exit(3)\n", N);
    exit(3);
}

int main(void)
{
    pthread_t t[N], e;

    CHECK_OK(atexit(at_exit_a));
    CHECK_OK(atexit(at_exit_b));
    for (long i = 0; i < N; i++)
        CHECK_OK(pthread_create(&t[i], NULL, spinner, (void *)i));
    CHECK_OK(pthread_create(&e, NULL, exiter, NULL));
    pthread_join(t[0], NULL);
    printf("FAIL: main's join returned\n");
    return 1;
}
