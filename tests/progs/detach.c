/* Detached threads finish their work before main exits.
 *
 * - N threads detached with pthread_detach after creation bump a counter;
 *   main polls it with sched_yield until all have run.
 * - N threads created with PTHREAD_CREATE_DETACHED bump a counter under a
 *   mutex and signal a condition that main waits on.
 * - pthread_attr_getdetachstate reads back what was set, and
 *   pthread_getattr_np on a detached running thread reports it detached.
 * - 1,000 short-lived detached threads: their resources are reclaimed
 *   (this loop would exhaust memory or ids otherwise). */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include "check.h"

#define N 50
#define MANY 1000

static atomic_int polled_done;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int cond_done;
static atomic_int many_done;
static atomic_int self_detached;

static void *polled(void *arg)
{
    (void)arg;
    sched_yield();
    atomic_fetch_add(&polled_done, 1);
    return NULL;
}

static void *signalling(void *arg)
{
    (void)arg;
    pthread_attr_t a;
    int st = -1;
    CHECK_OK(pthread_getattr_np(pthread_self(), &a));
    CHECK_OK(pthread_attr_getdetachstate(&a, &st));
    CHECK_EQ(PTHREAD_CREATE_DETACHED, st, "detach state seen by a detached thread");
    pthread_attr_destroy(&a);
    sched_yield();
    pthread_mutex_lock(&mu);
    cond_done++;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    return NULL;
}

static void *self_detaching(void *arg)
{
    (void)arg;
    CHECK_OK(pthread_detach(pthread_self()));
    atomic_fetch_add(&self_detached, 1);
    return NULL;
}

static void *short_lived(void *arg)
{
    (void)arg;
    atomic_fetch_add(&many_done, 1);
    return NULL;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void wait_count(atomic_int *c, int want, const char *what)
{
    double deadline = now() + 30;
    while (atomic_load(c) < want) {
        if (now() > deadline)
            CHECK_FAIL("%s: expected %d within 30 s, saw %d", what, want,
                       atomic_load(c));
        sched_yield();
    }
}

int main(void)
{
    pthread_t t;
    pthread_attr_t attr;
    int st = -1;

    for (int i = 0; i < N; i++) {
        CHECK_OK(pthread_create(&t, NULL, polled, NULL));
        CHECK_OK(pthread_detach(t));
    }
    wait_count(&polled_done, N, "threads detached with pthread_detach");
    printf("pthread_detach: %d detached threads finished\n", atomic_load(&polled_done));

    CHECK_OK(pthread_attr_init(&attr));
    CHECK_OK(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED));
    CHECK_OK(pthread_attr_getdetachstate(&attr, &st));
    CHECK_EQ(PTHREAD_CREATE_DETACHED, st, "attr detach state read back");
    for (int i = 0; i < N; i++)
        CHECK_OK(pthread_create(&t, &attr, signalling, NULL));
    pthread_mutex_lock(&mu);
    while (cond_done < N)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    printf("attr detached: %d detached threads finished\n", cond_done);

    for (int i = 0; i < N; i++)
        CHECK_OK(pthread_create(&t, NULL, self_detaching, NULL));
    wait_count(&self_detached, N, "threads that detached themselves");
    printf("self-detached: %d threads finished\n", atomic_load(&self_detached));

    for (int i = 0; i < MANY; i++)
        CHECK_OK(pthread_create(&t, &attr, short_lived, NULL));
    wait_count(&many_done, MANY, "short-lived detached threads");
    printf("short-lived detached: %d threads finished\n", atomic_load(&many_done));
    pthread_attr_destroy(&attr);
    return 0;
}
