/* pthread_key_create with destructors.
 *
 * - N threads set a value; the destructor runs once per thread at exit with
 *   exactly that value (checked by count and by a per-value tally).
 * - A NULL value runs no destructor.
 * - A destructor that sets its key again is called again, up to
 *   PTHREAD_DESTRUCTOR_ITERATIONS rounds (glibc runs exactly that many).
 * - Values are per thread: main's value is not seen by threads.
 * - After pthread_key_delete, the destructor of the deleted key is not run
 *   for a thread that still held a value. */
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include "check.h"

#define N 32

static pthread_key_t key, reset_key, forever_key, deleted_key;
static atomic_int dtor_calls;
static atomic_int seen_value[N];
static atomic_int reset_calls[N];
static atomic_int forever_calls[N];
static atomic_int deleted_calls;

static void dtor(void *v)
{
    uintptr_t i = (uintptr_t)v - 1;
    atomic_fetch_add(&dtor_calls, 1);
    if (i < N)
        atomic_fetch_add(&seen_value[i], 1);
}

/* Re-sets its key until it has run 3 times for this thread. */
static void reset_dtor(void *v)
{
    uintptr_t i = (uintptr_t)v - 1;
    if (i >= N)
        return;
    if (atomic_fetch_add(&reset_calls[i], 1) + 1 < 3)
        pthread_setspecific(reset_key, v);
}

/* Always re-sets its key: glibc gives up after the iteration limit. */
static void forever_dtor(void *v)
{
    uintptr_t i = (uintptr_t)v - 1;
    if (i >= N)
        return;
    atomic_fetch_add(&forever_calls[i], 1);
    pthread_setspecific(forever_key, v);
}

static void deleted_dtor(void *v)
{
    (void)v;
    atomic_fetch_add(&deleted_calls, 1);
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int phase;

static void *holder_main(void *arg)
{
    (void)arg;
    CHECK_OK(pthread_setspecific(deleted_key, (void *)(uintptr_t)1));
    pthread_mutex_lock(&mu);
    phase = 1;
    pthread_cond_broadcast(&cv);
    while (phase != 2)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return NULL;
}

static void *worker(void *arg)
{
    uintptr_t i = (uintptr_t)arg;
    void *v = (void *)(i + 1);

    CHECK(pthread_getspecific(key) == NULL, "fresh thread sees NULL, not main's value");
    if (i % 2 == 0) {
        CHECK_OK(pthread_setspecific(key, v));
        CHECK(pthread_getspecific(key) == v, "getspecific returns what was set");
    } else {
        /* odd threads set and then clear: no destructor call for them */
        CHECK_OK(pthread_setspecific(key, v));
        CHECK_OK(pthread_setspecific(key, NULL));
    }
    CHECK_OK(pthread_setspecific(reset_key, v));
    CHECK_OK(pthread_setspecific(forever_key, v));
    CHECK_OK(pthread_setspecific(deleted_key, v));
    return NULL;
}

int main(void)
{
    pthread_t t[N];

    CHECK_OK(pthread_key_create(&key, dtor));
    CHECK_OK(pthread_key_create(&reset_key, reset_dtor));
    CHECK_OK(pthread_key_create(&forever_key, forever_dtor));
    CHECK_OK(pthread_key_create(&deleted_key, deleted_dtor));
    CHECK_OK(pthread_setspecific(key, (void *)(uintptr_t)999));

    for (uintptr_t i = 0; i < N; i++)
        CHECK_OK(pthread_create(&t[i], NULL, worker, (void *)i));
    for (int i = 0; i < N; i++)
        CHECK_OK(pthread_join(t[i], NULL));
    CHECK(pthread_getspecific(key) == (void *)(uintptr_t)999,
          "main's value survives other threads");

    printf("destructor calls: %d (expected %d)\n",
           atomic_load(&dtor_calls), N / 2);
    for (int i = 0; i < N; i++)
        CHECK_EQ(i % 2 == 0 ? 1 : 0, atomic_load(&seen_value[i]),
                 "destructor calls for this thread's value");
    for (int i = 0; i < N; i++)
        CHECK_EQ(3, atomic_load(&reset_calls[i]),
                 "calls of a destructor that re-set its key twice");
    for (int i = 0; i < N; i++)
        CHECK_EQ(PTHREAD_DESTRUCTOR_ITERATIONS, atomic_load(&forever_calls[i]),
                 "calls of a destructor that always re-sets its key");
    printf("re-setting destructor ran 3 times per thread\n");
    printf("always-re-setting destructor ran PTHREAD_DESTRUCTOR_ITERATIONS=%d "
           "times per thread\n", PTHREAD_DESTRUCTOR_ITERATIONS);
    CHECK_EQ(N, atomic_load(&deleted_calls), "destructor calls of a live key");

    /* A thread holds a value on a key that main deletes before the thread
     * exits: the deleted key's destructor must not run. */
    atomic_store(&deleted_calls, 0);
    pthread_t holder;
    CHECK_OK(pthread_create(&holder, NULL, holder_main, NULL));
    pthread_mutex_lock(&mu);
    while (phase != 1)
        pthread_cond_wait(&cv, &mu);
    CHECK_OK(pthread_key_delete(deleted_key));
    phase = 2;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    CHECK_OK(pthread_join(holder, NULL));
    CHECK_EQ(0, atomic_load(&deleted_calls), "destructor calls of a deleted key");
    printf("deleted key: no destructor call\n");
    printf("keys ok\n");
    return 0;
}
