/* C11 <threads.h>: thrd_create/thrd_join (result), thrd_current/thrd_equal,
 * thrd_yield, thrd_sleep, mtx_t, cnd_t, tss_create with a destructor, and
 * call_once from many threads (runs once). */
#include <stdatomic.h>
#include <threads.h>
#include "check.h"

#define N 16

static once_flag once = ONCE_FLAG_INIT;
static atomic_int once_runs;
static tss_t tss;
static atomic_int tss_dtor_runs;
static atomic_int tss_dtor_sum;
static mtx_t mu;
static cnd_t cv;
static int arrived;
static thrd_t current_in[N];

static void once_fn(void)
{
    atomic_fetch_add(&once_runs, 1);
    thrd_yield();
}

static void tss_dtor(void *v)
{
    atomic_fetch_add(&tss_dtor_runs, 1);
    atomic_fetch_add(&tss_dtor_sum, (int)(long)v);
}

static int worker(void *arg)
{
    int i = (int)(long)arg;
    current_in[i] = thrd_current();
    call_once(&once, once_fn);
    CHECK(tss_get(tss) == NULL, "fresh thread's tss value");
    CHECK_EQ(thrd_success, tss_set(tss, (void *)(long)(i + 1)), "tss_set");
    for (int k = 0; k < 10; k++) {
        thrd_yield();
        CHECK_EQ(i + 1, (long)tss_get(tss), "tss value across thrd_yield");
    }
    struct timespec d = { 0, 100000 };
    thrd_sleep(&d, NULL);
    CHECK_EQ(i + 1, (long)tss_get(tss), "tss value across thrd_sleep");

    mtx_lock(&mu);
    arrived++;
    cnd_broadcast(&cv);
    mtx_unlock(&mu);
    return i * 10;
}

int main(void)
{
    thrd_t t[N];

    CHECK_EQ(thrd_success, mtx_init(&mu, mtx_plain), "mtx_init");
    CHECK_EQ(thrd_success, cnd_init(&cv), "cnd_init");
    CHECK_EQ(thrd_success, tss_create(&tss, tss_dtor), "tss_create");
    for (long i = 0; i < N; i++)
        CHECK_EQ(thrd_success, thrd_create(&t[i], worker, (void *)i), "thrd_create");

    mtx_lock(&mu);
    while (arrived < N)
        cnd_wait(&cv, &mu);
    mtx_unlock(&mu);

    int sum = 0;
    for (int i = 0; i < N; i++) {
        int res = -1;
        CHECK_EQ(thrd_success, thrd_join(t[i], &res), "thrd_join");
        CHECK_EQ(i * 10, res, "thrd_join result");
        CHECK(thrd_equal(current_in[i], t[i]), "thrd_current in the thread equals its thrd_t");
        sum += res;
    }
    CHECK(!thrd_equal(thrd_current(), t[0]), "main is not thread 0");
    printf("thrd_create/join: %d threads, results sum %d\n", N, sum);
    CHECK_EQ(1, atomic_load(&once_runs), "call_once runs");
    printf("call_once: ran %d time(s)\n", atomic_load(&once_runs));
    CHECK_EQ(N, atomic_load(&tss_dtor_runs), "tss destructor runs");
    CHECK_EQ(N * (N + 1) / 2, atomic_load(&tss_dtor_sum), "tss destructor values");
    printf("tss destructor: ran %d times with each thread's value\n",
           atomic_load(&tss_dtor_runs));
    tss_delete(tss);
    cnd_destroy(&cv);
    mtx_destroy(&mu);
    return 0;
}
