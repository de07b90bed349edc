/* Per-thread CPU clocks follow the program's threads, not kernel threads
 * (issue 12, item 10).  All bounds compare CPU times with CPU times.
 *
 * - pthread_getcpuclockid for main and for another thread gives a clock
 *   that clock_gettime and clock_getres accept; clock_nanosleep on it and
 *   on CLOCK_THREAD_CPUTIME_ID says EINVAL.
 * - main's clock (from pthread_getcpuclockid and CLOCK_THREAD_CPUTIME_ID)
 *   advances by BURN_MS while main alternates CPU work with short sleeps
 *   (under goro each sleep may move it to another kernel thread).
 * - a thread created after main burned CPU starts near zero: its first
 *   reading is below half of what main burned.
 * - a thread asleep in pthread_mutex_lock while main burns BURN_MS gains
 *   less than half of that.
 * - another thread reads a running thread's clock through its id and
 *   sees it advance. */
#include <pthread.h>
#include <stdatomic.h>
#include "check.h"

#define BURN_MS 60
#define NS_PER_MS 1000000LL

static long long clock_ns(clockid_t c)
{
    struct timespec ts;
    int r = clock_gettime(c, &ts);
    if (r != 0)
        CHECK_FAIL("clock_gettime(%d): %s", (int)c, strerror(errno));
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static volatile unsigned long sink;

/* Use CPU until clock c advanced by ms, sleeping now and then. */
static void burn(clockid_t c, long ms)
{
    long long end = clock_ns(c) + ms * NS_PER_MS;
    while (clock_ns(c) < end) {
        for (int i = 0; i < 100000; i++)
            sink++;
        usleep(1);
    }
}

static long long first_reading;
static void *fresh(void *arg)
{
    first_reading = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    return NULL;
}

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER; /* main holds it while sleeper waits */
static atomic_int asleep;

static void *sleeper(void *arg)
{
    atomic_store(&asleep, 1);
    pthread_mutex_lock(&gate);
    pthread_mutex_unlock(&gate);
    return NULL;
}

static atomic_int stop_spin;
static void *spinner(void *arg)
{
    while (!atomic_load(&stop_spin))
        sink++;
    return NULL;
}

int main(void)
{
    clockid_t mainc, c;
    struct timespec res;
    CHECK_OK(pthread_getcpuclockid(pthread_self(), &mainc));
    CHECK_EQ(0, clock_getres(mainc, &res), "clock_getres of main's clock");
    CHECK_EQ(0, clock_getres(CLOCK_THREAD_CPUTIME_ID, &res), "clock_getres of CLOCK_THREAD_CPUTIME_ID");
    struct timespec tiny = { 0, 1000 };
    CHECK_EQ(EINVAL, clock_nanosleep(mainc, 0, &tiny, NULL), "clock_nanosleep on main's CPU clock");
    CHECK_EQ(EINVAL, clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &tiny, NULL),
             "clock_nanosleep on CLOCK_THREAD_CPUTIME_ID");

    long long m0 = clock_ns(mainc);
    burn(mainc, BURN_MS);
    burn(CLOCK_THREAD_CPUTIME_ID, BURN_MS);
    long long burned = clock_ns(mainc) - m0;
    CHECK(burned >= 2 * BURN_MS * NS_PER_MS, "main's clock advanced while main burned");
    printf("main's clock advances across sleeps\n");

    pthread_t t;
    CHECK_OK(pthread_create(&t, NULL, fresh, NULL));
    CHECK_OK(pthread_join(t, NULL));
    CHECK(first_reading < burned / 2, "a new thread's CPU clock starts near zero");
    printf("a new thread's clock starts near zero\n");

    pthread_mutex_lock(&gate);
    CHECK_OK(pthread_create(&t, NULL, sleeper, NULL));
    while (!atomic_load(&asleep))
        sched_yield();
    CHECK_OK(pthread_getcpuclockid(t, &c));
    CHECK_EQ(0, clock_getres(c, &res), "clock_getres of another thread's clock");
    long long s0 = clock_ns(c);
    burn(mainc, BURN_MS);
    long long gained = clock_ns(c) - s0;
    CHECK(gained < BURN_MS * NS_PER_MS / 2, "a sleeping thread's clock hardly moves");
    pthread_mutex_unlock(&gate);
    CHECK_OK(pthread_join(t, NULL));
    printf("a sleeping thread's clock stands still\n");

    CHECK_OK(pthread_create(&t, NULL, spinner, NULL));
    CHECK_OK(pthread_getcpuclockid(t, &c));
    long long r0 = clock_ns(c);
    while (clock_ns(c) < r0 + 10 * NS_PER_MS)
        usleep(100);
    atomic_store(&stop_spin, 1);
    CHECK_OK(pthread_join(t, NULL));
    printf("another thread's clock advances while it runs\n");
    return 0;
}
