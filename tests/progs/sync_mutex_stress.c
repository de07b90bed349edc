/* Mutexes under stress and at their edges:
 *   - 64 threads x ITERS increments of one counter under each mutex kind
 *     (NORMAL, DEFAULT, RECURSIVE, ERRORCHECK, ADAPTIVE_NP): exact total;
 *   - recursive depth: locked 10 times, another thread's trylock is EBUSY
 *     until the 10th unlock, then succeeds; a non-owner unlock is EPERM;
 *   - errorcheck: relock by the owner EDEADLK, unlock by a non-owner EPERM,
 *     unlock of an unlocked mutex EPERM;
 *   - trylock of a held mutex EBUSY (same thread and another thread);
 *   - pthread_mutex_timedlock (CLOCK_REALTIME) and pthread_mutex_clocklock
 *     (CLOCK_MONOTONIC, CLOCK_REALTIME) on a mutex held by another thread:
 *     ETIMEDOUT, never before the deadline; a deadline in the past on a free
 *     mutex still locks it; tv_nsec out of range on a held mutex is EINVAL. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include "check.h"

#define NTHREADS 64
#define ITERS 100000

static pthread_mutex_t mu;
static long counter;
static pthread_barrier_t start;

static void *incr(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&start);
    for (int i = 0; i < ITERS; i++) {
        CHECK_OK(pthread_mutex_lock(&mu));
        long c = counter;   /* a read-modify-write the lock must protect */
        counter = c + 1;
        CHECK_OK(pthread_mutex_unlock(&mu));
    }
    return NULL;
}

static void stress(int kind, const char *name)
{
    pthread_mutexattr_t a;
    pthread_t t[NTHREADS];
    CHECK_OK(pthread_mutexattr_init(&a));
    CHECK_OK(pthread_mutexattr_settype(&a, kind));
    CHECK_OK(pthread_mutex_init(&mu, &a));
    CHECK_OK(pthread_mutexattr_destroy(&a));
    counter = 0;
    CHECK_OK(pthread_barrier_init(&start, NULL, NTHREADS));
    for (int i = 0; i < NTHREADS; i++)
        CHECK_OK(pthread_create(&t[i], NULL, incr, NULL));
    for (int i = 0; i < NTHREADS; i++)
        CHECK_OK(pthread_join(t[i], NULL));
    CHECK_OK(pthread_barrier_destroy(&start));
    CHECK_EQ((long)NTHREADS * ITERS, counter, name);
    CHECK_OK(pthread_mutex_destroy(&mu));
    printf("stress %s: %d threads x %d increments = %ld\n", name, NTHREADS,
           ITERS, counter);
}

/* ---- helpers run on another thread ---- */

static void *do_trylock(void *arg)
{
    pthread_mutex_t *m = arg;
    int r = pthread_mutex_trylock(m);
    if (r == 0)
        CHECK_OK(pthread_mutex_unlock(m));
    return (void *)(long)r;
}

static void *do_unlock(void *arg)
{
    return (void *)(long)pthread_mutex_unlock((pthread_mutex_t *)arg);
}

static void recursive_depth(void)
{
    pthread_mutexattr_t a;
    pthread_mutex_t m;
    CHECK_OK(pthread_mutexattr_init(&a));
    CHECK_OK(pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE));
    CHECK_OK(pthread_mutex_init(&m, &a));
    CHECK_OK(pthread_mutexattr_destroy(&a));
    for (int i = 0; i < 10; i++)
        CHECK_OK(pthread_mutex_lock(&m));
    CHECK_EQ(0, pthread_mutex_trylock(&m), "recursive: owner's trylock at depth 10");
    CHECK_OK(pthread_mutex_unlock(&m));
    CHECK_EQ(EBUSY, check_on_other_thread(do_trylock, &m), "recursive: other thread's trylock at depth 10");
    CHECK_EQ(EPERM, check_on_other_thread(do_unlock, &m), "recursive: unlock by a non-owner");
    for (int i = 0; i < 9; i++) {
        CHECK_OK(pthread_mutex_unlock(&m));
        CHECK_EQ(EBUSY, check_on_other_thread(do_trylock, &m), "recursive: other thread's trylock while still held");
    }
    CHECK_OK(pthread_mutex_unlock(&m));
    CHECK_EQ(0, check_on_other_thread(do_trylock, &m), "recursive: other thread's trylock after 10 unlocks");
    CHECK_EQ(EPERM, pthread_mutex_unlock(&m), "recursive: unlock of an unlocked mutex");
    CHECK_OK(pthread_mutex_destroy(&m));
    printf("recursive: depth 10 ok\n");
}

static void errorcheck(void)
{
    pthread_mutexattr_t a;
    pthread_mutex_t m;
    CHECK_OK(pthread_mutexattr_init(&a));
    CHECK_OK(pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK));
    CHECK_OK(pthread_mutex_init(&m, &a));
    CHECK_OK(pthread_mutexattr_destroy(&a));
    CHECK_OK(pthread_mutex_lock(&m));
    CHECK_EQ(EDEADLK, pthread_mutex_lock(&m), "errorcheck: relock by the owner");
    CHECK_EQ(EBUSY, pthread_mutex_trylock(&m), "errorcheck: trylock by the owner");
    CHECK_EQ(EPERM, check_on_other_thread(do_unlock, &m), "errorcheck: unlock by a non-owner");
    CHECK_EQ(EBUSY, check_on_other_thread(do_trylock, &m), "errorcheck: other thread's trylock");
    CHECK_OK(pthread_mutex_unlock(&m));
    CHECK_EQ(EPERM, pthread_mutex_unlock(&m), "errorcheck: unlock of an unlocked mutex");
    CHECK_EQ(0, check_on_other_thread(do_trylock, &m), "errorcheck: other thread's trylock after unlock");
    CHECK_OK(pthread_mutex_destroy(&m));
    printf("errorcheck: EDEADLK, EPERM, EPERM ok\n");
}

static void trylock_busy(void)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    CHECK_EQ(0, pthread_mutex_trylock(&m), "trylock of a free mutex");
    CHECK_EQ(EBUSY, pthread_mutex_trylock(&m), "normal: trylock by the owner");
    CHECK_EQ(EBUSY, check_on_other_thread(do_trylock, &m), "normal: trylock by another thread");
    CHECK_OK(pthread_mutex_unlock(&m));
    CHECK_EQ(0, check_on_other_thread(do_trylock, &m), "normal: trylock by another thread after unlock");
    printf("trylock: EBUSY ok\n");
}

/* ---- timed locks ---- */

enum { TIMEDLOCK, CLOCKLOCK_MONO, CLOCKLOCK_REAL };
static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static atomic_int which;

static void *timed_waiter(void *arg)
{
    (void)arg;
    int w = atomic_load(&which);
    clockid_t c = w == CLOCKLOCK_MONO ? CLOCK_MONOTONIC : CLOCK_REALTIME;
    struct timespec dl = check_deadline_in(c, 50), now;
    int r;
    if (w == TIMEDLOCK)
        r = pthread_mutex_timedlock(&held, &dl);
    else
        r = pthread_mutex_clocklock(&held, c, &dl);
    clock_gettime(c, &now);
    CHECK_EQ(ETIMEDOUT, r, "timed lock of a held mutex");
    if (check_ts_before(&now, &dl))
        CHECK_FAIL("timed lock returned ETIMEDOUT before its deadline");

    /* out-of-range tv_nsec on a held mutex */
    struct timespec bad = dl;
    bad.tv_nsec = 1000000000L;
    if (w == TIMEDLOCK)
        r = pthread_mutex_timedlock(&held, &bad);
    else
        r = pthread_mutex_clocklock(&held, c, &bad);
    CHECK_EQ(EINVAL, r, "timed lock with tv_nsec = 1e9 on a held mutex");
    bad.tv_nsec = -1;
    if (w == TIMEDLOCK)
        r = pthread_mutex_timedlock(&held, &bad);
    else
        r = pthread_mutex_clocklock(&held, c, &bad);
    CHECK_EQ(EINVAL, r, "timed lock with tv_nsec = -1 on a held mutex");
    return NULL;
}

static void timed(int w, const char *name)
{
    pthread_t t;
    atomic_store(&which, w);
    CHECK_OK(pthread_mutex_lock(&held));
    CHECK_OK(pthread_create(&t, NULL, timed_waiter, NULL));
    CHECK_OK(pthread_join(t, NULL));
    CHECK_OK(pthread_mutex_unlock(&held));

    /* a free mutex is taken even with a deadline already past */
    clockid_t c = w == CLOCKLOCK_MONO ? CLOCK_MONOTONIC : CLOCK_REALTIME;
    struct timespec past;
    clock_gettime(c, &past);
    past.tv_sec -= 1;
    if (w == TIMEDLOCK)
        CHECK_OK(pthread_mutex_timedlock(&held, &past));
    else
        CHECK_OK(pthread_mutex_clocklock(&held, c, &past));
    CHECK_OK(pthread_mutex_unlock(&held));
    printf("%s: timed out ok, EINVAL ok, past deadline on a free mutex ok\n", name);
}

/* A timed lock that succeeds: the holder releases before the deadline. */
static atomic_int got_it;
static atomic_int acquiring;

static void *timed_acquirer(void *arg)
{
    (void)arg;
    atomic_store(&acquiring, 1);
    struct timespec dl = check_deadline_in(CLOCK_MONOTONIC, 10000);
    int r = pthread_mutex_clocklock(&held, CLOCK_MONOTONIC, &dl);
    CHECK_EQ(0, r, "clocklock released by its holder before the deadline");
    atomic_store(&got_it, 1);
    CHECK_OK(pthread_mutex_unlock(&held));
    return NULL;
}

static void timed_success(void)
{
    pthread_t t;
    CHECK_OK(pthread_mutex_lock(&held));
    CHECK_OK(pthread_create(&t, NULL, timed_acquirer, NULL));
    while (!atomic_load(&acquiring))
        sched_yield();
    check_wait_blocked(); /* it waits in clocklock */
    CHECK_EQ(0, atomic_load(&got_it), "clocklock acquired while held");
    CHECK_OK(pthread_mutex_unlock(&held));
    CHECK_OK(pthread_join(t, NULL));
    CHECK_EQ(1, atomic_load(&got_it), "clocklock acquired after unlock");
    printf("clocklock: acquired when the holder unlocked ok\n");
}

int main(void)
{
    stress(PTHREAD_MUTEX_NORMAL, "NORMAL");
    stress(PTHREAD_MUTEX_DEFAULT, "DEFAULT");
    stress(PTHREAD_MUTEX_RECURSIVE, "RECURSIVE");
    stress(PTHREAD_MUTEX_ERRORCHECK, "ERRORCHECK");
    stress(PTHREAD_MUTEX_ADAPTIVE_NP, "ADAPTIVE_NP");
    recursive_depth();
    errorcheck();
    trylock_busy();
    timed(TIMEDLOCK, "pthread_mutex_timedlock");
    timed(CLOCKLOCK_MONO, "pthread_mutex_clocklock(CLOCK_MONOTONIC)");
    timed(CLOCKLOCK_REAL, "pthread_mutex_clocklock(CLOCK_REALTIME)");
    timed_success();
    return 0;
}
