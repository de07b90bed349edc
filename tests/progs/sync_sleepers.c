/* Sleepers: 1,000 threads each nanosleep(10 ms) and exit (under goro they
 * park on timers: the suite checks with GORO_STATS that no M per sleeper is
 * made, and compares the 1,000's wall time, the sleepers_wall_ms line on
 * stderr, with that of the native run).  Then clock_nanosleep: TIMER_ABSTIME on CLOCK_MONOTONIC and
 * CLOCK_REALTIME, relative on CLOCK_BOOTTIME, an absolute deadline in the
 * past, EINVAL for tv_nsec = 1e9, a negative tv_nsec and a negative tv_sec
 * (nanosleep: -1/EINVAL); each returns 0 and never wakes before the time
 * asked.  Last, short sleeps (5 to 200 µs, relative and absolute) from two
 * threads at once, thousands of them: under goro the timer sleeper aims
 * its kernel timeouts early by the wake-up latency it learns and spins out
 * the rest, and none of them may end before its time.  Nothing
 * timing-related is printed. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include "check.h"

#define NSLEEPERS 1000

static atomic_int done;
static atomic_int early;

static long long ns_of(const struct timespec *t)
{
    return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static void *sleeper(void *arg)
{
    (void)arg;
    struct timespec d = { 0, 10 * 1000000L }, rem = { 0, 0 };
    long long t0 = check_now_ns(CLOCK_MONOTONIC);
    int r = nanosleep(&d, &rem);
    if (r != 0)
        CHECK_FAIL("nanosleep(10 ms): expected 0, saw %d (errno %d)", r, errno);
    if (check_now_ns(CLOCK_MONOTONIC) - t0 < ns_of(&d))
        atomic_fetch_add(&early, 1);
    atomic_fetch_add(&done, 1);
    return NULL;
}

static void abs_sleep(clockid_t c, const char *name)
{
    struct timespec dl = check_deadline_in(c, 20);
    int r = clock_nanosleep(c, TIMER_ABSTIME, &dl, NULL);
    CHECK_EQ(0, r, name);
    if (check_now_ns(c) < ns_of(&dl))
        CHECK_FAIL("%s: woke before the deadline", name);

    /* a deadline in the past: returns 0 at once */
    dl.tv_sec -= 10;
    CHECK_EQ(0, clock_nanosleep(c, TIMER_ABSTIME, &dl, NULL), name);
    printf("%s: no early wake ok\n", name);
}

static void rel_sleep(clockid_t c, const char *name)
{
    struct timespec d = { 0, 15 * 1000000L };
    long long t0 = check_now_ns(c);
    CHECK_EQ(0, clock_nanosleep(c, 0, &d, NULL), name);
    if (check_now_ns(c) - t0 < ns_of(&d))
        CHECK_FAIL("%s: woke before the time asked", name);
    printf("%s: no early wake ok\n", name);
}

static void einval(void)
{
    struct timespec bad = { 0, 1000000000L };
    CHECK_EQ(EINVAL, clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, NULL), "clock_nanosleep relative tv_nsec=1e9");
    CHECK_EQ(EINVAL, clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &bad, NULL), "clock_nanosleep absolute tv_nsec=1e9");
    CHECK_EQ(EINVAL, clock_nanosleep(CLOCK_REALTIME, 0, &bad, NULL), "clock_nanosleep(REALTIME) tv_nsec=1e9");
    bad.tv_nsec = -1;
    CHECK_EQ(EINVAL, clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, NULL), "clock_nanosleep tv_nsec=-1");
    bad.tv_sec = -1;
    bad.tv_nsec = 0;
    CHECK_EQ(EINVAL, clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, NULL), "clock_nanosleep tv_sec=-1");

    bad.tv_sec = 0;
    bad.tv_nsec = 1000000000L;
    errno = 0;
    CHECK_EQ(-1, nanosleep(&bad, NULL), "nanosleep tv_nsec=1e9");
    CHECK_EQ(EINVAL, errno, "nanosleep tv_nsec=1e9 errno");
    bad.tv_sec = -1;
    bad.tv_nsec = 0;
    errno = 0;
    CHECK_EQ(-1, nanosleep(&bad, NULL), "nanosleep tv_sec=-1");
    CHECK_EQ(EINVAL, errno, "nanosleep tv_sec=-1 errno");
    printf("EINVAL: tv_nsec=1e9, tv_nsec=-1, tv_sec=-1 ok\n");
}

#define NSHORT 1500

static void *short_sleeps(void *arg)
{
    (void)arg;
    static const long us[] = { 5, 20, 50, 50, 50, 100, 200 };
    int bad = 0;
    for (int i = 0; i < NSHORT; i++) {
        long ns = us[i % (int)(sizeof us / sizeof us[0])] * 1000;
        long long t0 = check_now_ns(CLOCK_MONOTONIC);
        if (i % 3 == 0) {
            CHECK_EQ(0, usleep((useconds_t)(ns / 1000)), "usleep");
        } else if (i % 3 == 1) {
            struct timespec d = { 0, ns };
            CHECK_EQ(0, nanosleep(&d, NULL), "nanosleep");
        } else {
            long long dl = t0 + ns;
            struct timespec a = { (time_t)(dl / 1000000000LL), (long)(dl % 1000000000LL) };
            CHECK_EQ(0, clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &a, NULL), "clock_nanosleep abs");
        }
        if (check_now_ns(CLOCK_MONOTONIC) - t0 < ns)
            bad++;
    }
    return (void *)(long)bad;
}

int main(void)
{
    static pthread_t t[NSLEEPERS];
    long long w0 = check_now_ns(CLOCK_MONOTONIC);
    for (int i = 0; i < NSLEEPERS; i++)
        CHECK_OK(pthread_create(&t[i], NULL, sleeper, NULL));
    for (int i = 0; i < NSLEEPERS; i++)
        CHECK_OK(pthread_join(t[i], NULL));
    /* On stderr (not compared): the suite compares it with native's. */
    fprintf(stderr, "sleepers_wall_ms=%lld\n", (check_now_ns(CLOCK_MONOTONIC) - w0) / 1000000);
    CHECK_EQ(NSLEEPERS, atomic_load(&done), "sleepers finished");
    CHECK_EQ(0, atomic_load(&early), "sleepers that woke early");
    printf("sleepers: %d threads slept 10 ms each, none woke early\n", NSLEEPERS);

    abs_sleep(CLOCK_MONOTONIC, "clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)");
    abs_sleep(CLOCK_REALTIME, "clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME)");
    rel_sleep(CLOCK_BOOTTIME, "clock_nanosleep(CLOCK_BOOTTIME, relative)");
    rel_sleep(CLOCK_MONOTONIC, "clock_nanosleep(CLOCK_MONOTONIC, relative)");
    einval();

    /* zero-length sleeps return 0 */
    struct timespec z = { 0, 0 };
    CHECK_EQ(0, nanosleep(&z, NULL), "nanosleep(0)");
    CHECK_EQ(0, clock_nanosleep(CLOCK_MONOTONIC, 0, &z, NULL), "clock_nanosleep(0)");
    printf("zero-length sleeps ok\n");

    pthread_t s1, s2;
    void *b1, *b2;
    CHECK_OK(pthread_create(&s1, NULL, short_sleeps, NULL));
    CHECK_OK(pthread_create(&s2, NULL, short_sleeps, NULL));
    CHECK_OK(pthread_join(s1, &b1));
    CHECK_OK(pthread_join(s2, &b2));
    CHECK_EQ(0, (int)(long)b1 + (int)(long)b2, "short sleeps that ended early");
    printf("short sleeps: 2 threads x %d sleeps of 5-200 us, none ended early\n", NSHORT);
    return 0;
}
