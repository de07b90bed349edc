/* C11 <threads.h> synchronisation:
 *   - mtx_plain, mtx_timed, mtx_plain|mtx_recursive, mtx_timed|mtx_recursive:
 *     8 threads x 20,000 increments each, exact total;
 *   - mtx_trylock of a held mutex thrd_busy (another thread);
 *   - recursive mutex locked 5 times by its owner, busy for others until the
 *     5th unlock;
 *   - mtx_timedlock of a held mutex: thrd_timedout, not before the deadline;
 *   - cnd_timedwait with nobody signalling: thrd_timedout, not before the
 *     deadline, mutex re-acquired;
 *   - cnd_broadcast wakes all 16 waiters (bounded: main gives up after 10 s). */
#include <stdatomic.h>
#include <threads.h>
#include <time.h>
#include "check.h"

#define NT 8
#define ITERS 20000
#define NWAIT 16

static mtx_t mu;
static long counter;

static struct timespec utc_in(long ms)
{
    struct timespec t;
    timespec_get(&t, TIME_UTC);
    return check_ts_add_ms(t, ms);
}

static int incr(void *arg)
{
    int recursive = (int)(long)arg;
    for (int i = 0; i < ITERS; i++) {
        CHECK_EQ(thrd_success, mtx_lock(&mu), "mtx_lock");
        if (recursive)
            CHECK_EQ(thrd_success, mtx_lock(&mu), "mtx_lock (recursive)");
        long c = counter;
        if (i % 1000 == 0)
            thrd_yield();
        counter = c + 1;
        if (recursive)
            CHECK_EQ(thrd_success, mtx_unlock(&mu), "mtx_unlock (recursive)");
        CHECK_EQ(thrd_success, mtx_unlock(&mu), "mtx_unlock");
    }
    return 0;
}

static void stress(int type, const char *name)
{
    thrd_t t[NT];
    CHECK_EQ(thrd_success, mtx_init(&mu, type), "mtx_init");
    counter = 0;
    for (int i = 0; i < NT; i++)
        CHECK_EQ(thrd_success, thrd_create(&t[i], incr, (void *)(long)((type & mtx_recursive) != 0)), "thrd_create");
    for (int i = 0; i < NT; i++)
        CHECK_EQ(thrd_success, thrd_join(t[i], NULL), "thrd_join");
    CHECK_EQ((long)NT * ITERS, counter, name);
    mtx_destroy(&mu);
    printf("%s: %d threads x %d = %ld\n", name, NT, ITERS, counter);
}

static int trylock_other(void *arg)
{
    (void)arg;
    int r = mtx_trylock(&mu);
    if (r == thrd_success)
        CHECK_EQ(thrd_success, mtx_unlock(&mu), "mtx_unlock after trylock");
    return r;
}

static int timedlock_other(void *arg)
{
    (void)arg;
    struct timespec dl = utc_in(50), now;
    int r = mtx_timedlock(&mu, &dl);
    timespec_get(&now, TIME_UTC);
    if (r == thrd_timedout && check_ts_before(&now, &dl))
        CHECK_FAIL("mtx_timedlock timed out before its deadline");
    if (r == thrd_success)
        CHECK_EQ(thrd_success, mtx_unlock(&mu), "mtx_unlock after timedlock");
    return r;
}

static int on_other(thrd_start_t fn)
{
    thrd_t t;
    int r;
    CHECK_EQ(thrd_success, thrd_create(&t, fn, NULL), "thrd_create");
    CHECK_EQ(thrd_success, thrd_join(t, &r), "thrd_join");
    return r;
}

static void edges(void)
{
    CHECK_EQ(thrd_success, mtx_init(&mu, mtx_plain | mtx_recursive), "mtx_init recursive");
    for (int i = 0; i < 5; i++)
        CHECK_EQ(thrd_success, mtx_lock(&mu), "recursive mtx_lock");
    CHECK_EQ(thrd_success, mtx_trylock(&mu), "recursive mtx_trylock by the owner");
    CHECK_EQ(thrd_success, mtx_unlock(&mu), "mtx_unlock");
    for (int i = 0; i < 5; i++) {
        CHECK_EQ(thrd_busy, on_other(trylock_other), "mtx_trylock by another thread while held");
        CHECK_EQ(thrd_success, mtx_unlock(&mu), "recursive mtx_unlock");
    }
    CHECK_EQ(thrd_success, on_other(trylock_other), "mtx_trylock by another thread after 5 unlocks");
    mtx_destroy(&mu);
    printf("mtx recursive: depth 5 ok, thrd_busy ok\n");

    CHECK_EQ(thrd_success, mtx_init(&mu, mtx_timed), "mtx_init timed");
    CHECK_EQ(thrd_success, mtx_lock(&mu), "mtx_lock");
    CHECK_EQ(thrd_timedout, on_other(timedlock_other), "mtx_timedlock of a held mutex");
    CHECK_EQ(thrd_busy, on_other(trylock_other), "mtx_trylock of a held mutex");
    CHECK_EQ(thrd_success, mtx_unlock(&mu), "mtx_unlock");
    CHECK_EQ(thrd_success, on_other(timedlock_other), "mtx_timedlock of a free mutex");
    mtx_destroy(&mu);
    printf("mtx_timedlock: timed out ok\n");
}

static cnd_t cv, all_up;
static int go, waiting, woke;

static int waiter(void *arg)
{
    (void)arg;
    CHECK_EQ(thrd_success, mtx_lock(&mu), "mtx_lock");
    waiting++;
    CHECK_EQ(thrd_success, cnd_signal(&all_up), "cnd_signal");
    while (!go)
        CHECK_EQ(thrd_success, cnd_wait(&cv, &mu), "cnd_wait");
    woke++;
    CHECK_EQ(thrd_success, cnd_signal(&all_up), "cnd_signal");
    CHECK_EQ(thrd_success, mtx_unlock(&mu), "mtx_unlock");
    return 0;
}

static void conds(void)
{
    CHECK_EQ(thrd_success, mtx_init(&mu, mtx_timed), "mtx_init");
    CHECK_EQ(thrd_success, cnd_init(&cv), "cnd_init");
    CHECK_EQ(thrd_success, cnd_init(&all_up), "cnd_init");

    /* timed wait with nobody signalling */
    CHECK_EQ(thrd_success, mtx_lock(&mu), "mtx_lock");
    struct timespec dl = utc_in(50), now;
    int r;
    do
        r = cnd_timedwait(&cv, &mu, &dl);
    while (r == thrd_success);   /* spurious wake-ups are allowed */
    timespec_get(&now, TIME_UTC);
    CHECK_EQ(thrd_timedout, r, "cnd_timedwait with nobody signalling");
    if (check_ts_before(&now, &dl))
        CHECK_FAIL("cnd_timedwait timed out before its deadline");
    CHECK_EQ(thrd_busy, on_other(trylock_other), "mutex re-acquired after cnd_timedwait timed out");
    CHECK_EQ(thrd_success, mtx_unlock(&mu), "mtx_unlock");
    printf("cnd_timedwait: thrd_timedout ok\n");

    /* broadcast wakes all */
    thrd_t t[NWAIT];
    for (int i = 0; i < NWAIT; i++)
        CHECK_EQ(thrd_success, thrd_create(&t[i], waiter, NULL), "thrd_create");
    CHECK_EQ(thrd_success, mtx_lock(&mu), "mtx_lock");
    while (waiting < NWAIT)
        CHECK_EQ(thrd_success, cnd_wait(&all_up, &mu), "cnd_wait(all_up)");
    go = 1;
    CHECK_EQ(thrd_success, cnd_broadcast(&cv), "cnd_broadcast");
    struct timespec give_up = utc_in(10000);
    while (woke < NWAIT) {
        r = cnd_timedwait(&all_up, &mu, &give_up);
        if (r == thrd_timedout && woke < NWAIT)
            CHECK_FAIL("cnd_broadcast: expected %d waiters woken, saw %d after 10 s", NWAIT, woke);
    }
    CHECK_EQ(thrd_success, mtx_unlock(&mu), "mtx_unlock");
    for (int i = 0; i < NWAIT; i++)
        CHECK_EQ(thrd_success, thrd_join(t[i], NULL), "thrd_join");
    printf("cnd_broadcast: woke %d of %d waiters\n", woke, NWAIT);
    cnd_destroy(&cv);
    cnd_destroy(&all_up);
    mtx_destroy(&mu);
}

int main(void)
{
    stress(mtx_plain, "mtx_plain");
    stress(mtx_timed, "mtx_timed");
    stress(mtx_plain | mtx_recursive, "mtx_plain|mtx_recursive");
    stress(mtx_timed | mtx_recursive, "mtx_timed|mtx_recursive");
    edges();
    conds();
    return 0;
}
