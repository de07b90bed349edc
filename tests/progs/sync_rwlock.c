/* Read-write locks:
 *   - 6 readers and 2 writers hammer one rwlock: a writer never overlaps a
 *     reader or another writer (atomic counters inside the critical
 *     section), readers never see a half-done write;
 *   - tryrdlock/trywrlock EBUSY from another thread (and tryrdlock succeeds
 *     alongside another reader);
 *   - pthread_rwlock_timedwrlock (CLOCK_REALTIME) while a reader holds it and
 *     pthread_rwlock_clockrdlock (CLOCK_MONOTONIC) while a writer holds it:
 *     ETIMEDOUT, never before the deadline;
 *   - wrlock and rdlock by the thread that holds the write lock: EDEADLK
 *     (its trywrlock and tryrdlock: EBUSY, as glibc);
 *   - default kind (prefer readers): a reader may re-lock for reading while a
 *     writer waits (glibc's documented recursive-read guarantee);
 *   - PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP: once a writer waits, new
 *     readers are held back (tryrdlock EBUSY), and a writer gets in while
 *     readers keep arriving with overlapping read locks. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static void sleep_ms(long ms)
{
    struct timespec d = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&d, &d) != 0)
        ;
}

static pthread_rwlock_t rw;

/* ---- hammer ---- */

#define NREAD 6
#define NWRITE 2
#define RITERS 20000
#define WITERS 5000

static atomic_int readers, writers;
static long shared_a, shared_b;

static void *reader(void *arg)
{
    (void)arg;
    for (int i = 0; i < RITERS; i++) {
        CHECK_OK(pthread_rwlock_rdlock(&rw));
        atomic_fetch_add(&readers, 1);
        CHECK_EQ(0, atomic_load(&writers), "hammer: writers inside with a reader");
        long a = shared_a;
        if (i % 500 == 0)
            sched_yield();
        CHECK_EQ(a, shared_b, "hammer: reader saw a half-done write");
        atomic_fetch_sub(&readers, 1);
        CHECK_OK(pthread_rwlock_unlock(&rw));
    }
    return NULL;
}

static void *writer(void *arg)
{
    (void)arg;
    for (int i = 0; i < WITERS; i++) {
        CHECK_OK(pthread_rwlock_wrlock(&rw));
        CHECK_EQ(0, atomic_fetch_add(&writers, 1), "hammer: another writer inside");
        CHECK_EQ(0, atomic_load(&readers), "hammer: readers inside with a writer");
        shared_a++;
        if (i % 500 == 0)
            sched_yield();
        shared_b++;
        atomic_fetch_sub(&writers, 1);
        CHECK_OK(pthread_rwlock_unlock(&rw));
    }
    return NULL;
}

static void hammer(void)
{
    pthread_t t[NREAD + NWRITE];
    CHECK_OK(pthread_rwlock_init(&rw, NULL));
    for (int i = 0; i < NREAD + NWRITE; i++)
        CHECK_OK(pthread_create(&t[i], NULL, i < NWRITE ? writer : reader, NULL));
    for (int i = 0; i < NREAD + NWRITE; i++)
        CHECK_OK(pthread_join(t[i], NULL));
    CHECK_EQ((long)NWRITE * WITERS, shared_a, "hammer: writes");
    CHECK_EQ(shared_a, shared_b, "hammer: both halves written");
    CHECK_OK(pthread_rwlock_destroy(&rw));
    printf("hammer: %d readers x %d, %d writers x %d: no overlap ok\n",
           NREAD, RITERS, NWRITE, WITERS);
}

/* ---- try / timed / EDEADLK ---- */

enum { TRYRD, TRYWR, TIMEDWR, CLOCKRD };

static void *other(void *arg)
{
    int op = (int)(long)arg;
    int r = 0;
    if (op == TRYRD) {
        r = pthread_rwlock_tryrdlock(&rw);
    } else if (op == TRYWR) {
        r = pthread_rwlock_trywrlock(&rw);
    } else {
        clockid_t c = op == TIMEDWR ? CLOCK_REALTIME : CLOCK_MONOTONIC;
        struct timespec dl = check_deadline_in(c, 50), now;
        if (op == TIMEDWR)
            r = pthread_rwlock_timedwrlock(&rw, &dl);
        else
            r = pthread_rwlock_clockrdlock(&rw, CLOCK_MONOTONIC, &dl);
        clock_gettime(c, &now);
        if (r == ETIMEDOUT && check_ts_before(&now, &dl))
            CHECK_FAIL("timed rwlock returned ETIMEDOUT before its deadline");
    }
    if (r == 0)
        CHECK_OK(pthread_rwlock_unlock(&rw));
    return (void *)(long)r;
}

static int on_other(int op)
{
    return check_on_other_thread(other, (void *)(long)op);
}

static void edges(void)
{
    CHECK_OK(pthread_rwlock_init(&rw, NULL));

    CHECK_OK(pthread_rwlock_rdlock(&rw));
    CHECK_EQ(0, on_other(TRYRD), "tryrdlock while another thread reads");
    CHECK_EQ(EBUSY, on_other(TRYWR), "trywrlock while another thread reads");
    CHECK_EQ(ETIMEDOUT, on_other(TIMEDWR), "timedwrlock while another thread reads");
    CHECK_EQ(EBUSY, pthread_rwlock_trywrlock(&rw), "trywrlock by a reader");
    CHECK_OK(pthread_rwlock_unlock(&rw));

    CHECK_OK(pthread_rwlock_wrlock(&rw));
    CHECK_EQ(EBUSY, on_other(TRYRD), "tryrdlock while another thread writes");
    CHECK_EQ(EBUSY, on_other(TRYWR), "trywrlock while another thread writes");
    CHECK_EQ(ETIMEDOUT, on_other(CLOCKRD), "clockrdlock(CLOCK_MONOTONIC) while another thread writes");
    CHECK_EQ(EDEADLK, pthread_rwlock_wrlock(&rw), "wrlock by the writer");
    CHECK_EQ(EDEADLK, pthread_rwlock_rdlock(&rw), "rdlock by the writer");
    CHECK_EQ(EBUSY, pthread_rwlock_trywrlock(&rw), "trywrlock by the writer");
    CHECK_EQ(EBUSY, pthread_rwlock_tryrdlock(&rw), "tryrdlock by the writer");
    CHECK_OK(pthread_rwlock_unlock(&rw));

    CHECK_EQ(0, on_other(TRYWR), "trywrlock of a free rwlock");
    CHECK_EQ(0, on_other(TIMEDWR), "timedwrlock of a free rwlock");
    CHECK_EQ(0, on_other(CLOCKRD), "clockrdlock of a free rwlock");
    CHECK_OK(pthread_rwlock_destroy(&rw));
    printf("edges: EBUSY, timed out ok, EDEADLK ok\n");
}

/* ---- preference ---- */

static atomic_int writer_started, writer_in, writer_done;

static void *waiting_writer(void *arg)
{
    (void)arg;
    atomic_store(&writer_started, 1);
    CHECK_OK(pthread_rwlock_wrlock(&rw));
    atomic_store(&writer_in, 1);
    CHECK_OK(pthread_rwlock_unlock(&rw));
    atomic_store(&writer_done, 1);
    return NULL;
}

static void *probe_tryrd(void *arg)
{
    (void)arg;
    int r = pthread_rwlock_tryrdlock(&rw);
    if (r == 0)
        CHECK_OK(pthread_rwlock_unlock(&rw));
    return (void *)(long)r;
}

static void default_recursive_read(void)
{
    pthread_t w;
    atomic_store(&writer_started, 0);
    atomic_store(&writer_in, 0);
    CHECK_OK(pthread_rwlock_init(&rw, NULL));
    CHECK_OK(pthread_rwlock_rdlock(&rw));
    CHECK_OK(pthread_create(&w, NULL, waiting_writer, NULL));
    while (!atomic_load(&writer_started))
        sched_yield();
    check_wait_blocked(); /* the writer is waiting */
    struct timespec dl = check_deadline_in(CLOCK_MONOTONIC, 5000);
    CHECK_EQ(0, pthread_rwlock_clockrdlock(&rw, CLOCK_MONOTONIC, &dl),
             "default rwlock: recursive rdlock while a writer waits");
    CHECK_EQ(0, check_on_other_thread(probe_tryrd, NULL),
             "default rwlock: tryrdlock by a new reader while a writer waits");
    CHECK_EQ(0, atomic_load(&writer_in), "writer got in while readers hold the lock");
    CHECK_OK(pthread_rwlock_unlock(&rw));
    CHECK_OK(pthread_rwlock_unlock(&rw));
    CHECK_OK(pthread_join(w, NULL));
    CHECK_EQ(1, atomic_load(&writer_in), "writer got in after the readers left");
    CHECK_OK(pthread_rwlock_destroy(&rw));
    printf("default rwlock: recursive read lock while a writer waits ok\n");
}

static void init_prefer_writer(void)
{
    pthread_rwlockattr_t a;
    int kind;
    CHECK_OK(pthread_rwlockattr_init(&a));
    CHECK_OK(pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP));
    CHECK_OK(pthread_rwlockattr_getkind_np(&a, &kind));
    CHECK_EQ(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP, kind, "getkind_np");
    CHECK_OK(pthread_rwlock_init(&rw, &a));
    CHECK_OK(pthread_rwlockattr_destroy(&a));
}

/* A writer waits behind a reader: new readers must be held back (a
 * tryrdlock from a new thread once the writer is seen blocked: EBUSY). */
static void prefer_writer_blocks_readers(void)
{
    pthread_t w;
    atomic_store(&writer_started, 0);
    atomic_store(&writer_in, 0);
    init_prefer_writer();
    CHECK_OK(pthread_rwlock_rdlock(&rw));
    CHECK_OK(pthread_create(&w, NULL, waiting_writer, NULL));
    while (!atomic_load(&writer_started))
        sched_yield();
    check_wait_blocked(); /* the writer is waiting */
    int r = check_on_other_thread(probe_tryrd, NULL);
    CHECK_EQ(EBUSY, r, "prefer-writer: a new reader's tryrdlock while a writer waits");
    CHECK_EQ(0, atomic_load(&writer_in), "writer got in while a reader holds the lock");
    CHECK_OK(pthread_rwlock_unlock(&rw));
    CHECK_OK(pthread_join(w, NULL));
    CHECK_EQ(1, atomic_load(&writer_in), "writer got in after the reader left");
    CHECK_OK(pthread_rwlock_destroy(&rw));
    printf("prefer-writer: new readers held back while a writer waits ok\n");
}

/* Readers keep arriving with overlapping read locks (the lock is never
 * free of readers while they run); the writer must still get in, well
 * before the readers give up: each gives up after 1,000 read locks taken
 * once the writer has started (with the writer preferred, new read locks
 * wait for it, so a reader takes one or two). */
#define NSTREAM 4
#define GIVE_UP_READS 1000
static atomic_int stop_readers;
static atomic_long reads;

static void *streaming_reader(void *arg)
{
    (void)arg;
    long after_writer = 0;
    while (!atomic_load(&writer_done)) {
        CHECK_OK(pthread_rwlock_rdlock(&rw));
        atomic_fetch_add(&reads, 1);
        int started = atomic_load(&writer_started);
        usleep(1000);
        CHECK_OK(pthread_rwlock_unlock(&rw));
        if (started && ++after_writer >= GIVE_UP_READS) {
            atomic_store(&stop_readers, 1);
            break;
        }
    }
    return NULL;
}

static void prefer_writer_stream(void)
{
    pthread_t r[NSTREAM], w;
    atomic_store(&writer_started, 0);
    atomic_store(&writer_in, 0);
    atomic_store(&writer_done, 0);
    init_prefer_writer();
    for (int i = 0; i < NSTREAM; i++)
        CHECK_OK(pthread_create(&r[i], NULL, streaming_reader, NULL));
    while (atomic_load(&reads) < 2 * NSTREAM)
        sleep_ms(1);
    CHECK_OK(pthread_create(&w, NULL, waiting_writer, NULL));
    CHECK_OK(pthread_join(w, NULL));
    int starved = atomic_load(&stop_readers);
    atomic_store(&writer_done, 1);
    for (int i = 0; i < NSTREAM; i++)
        CHECK_OK(pthread_join(r[i], NULL));
    CHECK_EQ(0, starved, "prefer-writer: writer waited until the readers gave up (1,000 read locks each)");
    CHECK_OK(pthread_rwlock_destroy(&rw));
    printf("prefer-writer: writer got in while readers kept arriving ok\n");
}

int main(void)
{
    hammer();
    edges();
    default_recursive_read();
    prefer_writer_blocks_readers();
    prefer_writer_stream();
    return 0;
}
