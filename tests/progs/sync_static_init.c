/* Every static initialiser works without an *_init call, exercised under
 * contention by several threads, with its kind's semantics checked:
 *   PTHREAD_MUTEX_INITIALIZER                 exact counter
 *   PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP    owner re-locks (depth 3), trylock by owner 0
 *   PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP   owner relock EDEADLK, stray unlock EPERM
 *   PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP     exact counter
 *   PTHREAD_COND_INITIALIZER                  threads pass a turn around in order
 *   PTHREAD_RWLOCK_INITIALIZER                readers overlap only readers, recursive rdlock
 *   PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP  same invariants, wrlock twice EDEADLK */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include "check.h"

#define NT 8
#define ITERS 20000

static pthread_mutex_t m_normal = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t m_rec = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static pthread_mutex_t m_err = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
static pthread_mutex_t m_adapt = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
static pthread_mutex_t m_turn = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c_turn = PTHREAD_COND_INITIALIZER;
static pthread_rwlock_t rw_default = PTHREAD_RWLOCK_INITIALIZER;
static pthread_rwlock_t rw_writer = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;

static long counter;

static void run_threads(void *(*fn)(void *))
{
    pthread_t t[NT];
    for (long i = 0; i < NT; i++)
        CHECK_OK(pthread_create(&t[i], NULL, fn, (void *)i));
    for (int i = 0; i < NT; i++)
        CHECK_OK(pthread_join(t[i], NULL));
}

/* ---- mutexes ---- */

static void *w_normal(void *arg)
{
    (void)arg;
    for (int i = 0; i < ITERS; i++) {
        CHECK_OK(pthread_mutex_lock(&m_normal));
        long c = counter;
        if (i % 1000 == 0)
            sched_yield();
        counter = c + 1;
        CHECK_OK(pthread_mutex_unlock(&m_normal));
    }
    return NULL;
}

static void *w_adapt(void *arg)
{
    (void)arg;
    for (int i = 0; i < ITERS; i++) {
        CHECK_OK(pthread_mutex_lock(&m_adapt));
        long c = counter;
        if (i % 1000 == 0)
            sched_yield();
        counter = c + 1;
        CHECK_OK(pthread_mutex_unlock(&m_adapt));
    }
    return NULL;
}

static void *w_rec(void *arg)
{
    (void)arg;
    for (int i = 0; i < ITERS / 4; i++) {
        CHECK_OK(pthread_mutex_lock(&m_rec));
        CHECK_OK(pthread_mutex_lock(&m_rec));
        CHECK_EQ(0, pthread_mutex_trylock(&m_rec), "recursive initializer: trylock by the owner");
        long c = counter;
        if (i % 500 == 0)
            sched_yield();
        counter = c + 1;
        CHECK_OK(pthread_mutex_unlock(&m_rec));
        CHECK_OK(pthread_mutex_unlock(&m_rec));
        CHECK_OK(pthread_mutex_unlock(&m_rec));
    }
    return NULL;
}

static void *w_err(void *arg)
{
    (void)arg;
    for (int i = 0; i < ITERS / 4; i++) {
        CHECK_OK(pthread_mutex_lock(&m_err));
        long c = counter;
        if (i % 500 == 0) {
            CHECK_EQ(EDEADLK, pthread_mutex_lock(&m_err), "errorcheck initializer: relock by the owner");
            sched_yield();
        }
        counter = c + 1;
        CHECK_OK(pthread_mutex_unlock(&m_err));
        if (i % 500 == 1) {
            int r = pthread_mutex_unlock(&m_err);
            CHECK_EQ(EPERM, r, "errorcheck initializer: unlock by a thread that does not hold it");
        }
    }
    return NULL;
}

/* ---- condvar: a turn goes round the NT threads ROUNDS times ---- */

#define ROUNDS 500
static int turn;

static void *w_turn(void *arg)
{
    int me = (int)(long)arg;
    for (int r = 0; r < ROUNDS; r++) {
        CHECK_OK(pthread_mutex_lock(&m_turn));
        while (turn % NT != me)
            CHECK_OK(pthread_cond_wait(&c_turn, &m_turn));
        CHECK_EQ((long)r * NT + me, turn, "cond initializer: turn number");
        turn++;
        CHECK_OK(pthread_cond_broadcast(&c_turn));
        CHECK_OK(pthread_mutex_unlock(&m_turn));
    }
    return NULL;
}

/* ---- rwlocks ---- */

static pthread_rwlock_t *rw;
static atomic_int readers, writers;
static atomic_int max_readers;
static long shared_a, shared_b;

static void *w_rw(void *arg)
{
    int me = (int)(long)arg;
    for (int i = 0; i < ITERS / 10; i++) {
        if (me < 2 && i % 4 == 0) {
            CHECK_OK(pthread_rwlock_wrlock(rw));
            CHECK_EQ(0, atomic_fetch_add(&writers, 1), "rwlock: writers already inside with a writer");
            CHECK_EQ(0, atomic_load(&readers), "rwlock: readers inside with a writer");
            if (rw == &rw_writer && i % 100 == 0)
                CHECK_EQ(EDEADLK, pthread_rwlock_wrlock(rw), "writer-nonrecursive initializer: wrlock by the writer");
            shared_a++;
            if (i % 200 == 0)
                sched_yield();
            shared_b++;
            atomic_fetch_sub(&writers, 1);
            CHECK_OK(pthread_rwlock_unlock(rw));
        } else {
            CHECK_OK(pthread_rwlock_rdlock(rw));
            int n = atomic_fetch_add(&readers, 1) + 1;
            int mx = atomic_load(&max_readers);
            while (n > mx && !atomic_compare_exchange_weak(&max_readers, &mx, n))
                ;
            CHECK_EQ(0, atomic_load(&writers), "rwlock: writer inside with a reader");
            if (rw == &rw_default && i % 50 == 0) {
                /* the default kind allows a recursive read lock */
                CHECK_OK(pthread_rwlock_rdlock(rw));
                CHECK_OK(pthread_rwlock_unlock(rw));
            }
            CHECK_EQ(shared_a, shared_b, "rwlock: reader saw a half-done write");
            if (i % 200 == 0)
                sched_yield();
            atomic_fetch_sub(&readers, 1);
            CHECK_OK(pthread_rwlock_unlock(rw));
        }
    }
    return NULL;
}

static void rwlock_test(pthread_rwlock_t *l, const char *name)
{
    rw = l;
    shared_a = shared_b = 0;
    run_threads(w_rw);
    CHECK_EQ(2 * (ITERS / 10 / 4), shared_a, name);
    CHECK_EQ(shared_a, shared_b, name);
    CHECK_EQ(0, pthread_rwlock_trywrlock(l), "trywrlock of a free rwlock");
    CHECK_EQ(EBUSY, pthread_rwlock_tryrdlock(l), "tryrdlock of a write-locked rwlock");
    CHECK_OK(pthread_rwlock_unlock(l));
    printf("%s: %ld writes, no overlap ok\n", name, shared_a);
}

int main(void)
{
    counter = 0;
    run_threads(w_normal);
    CHECK_EQ((long)NT * ITERS, counter, "PTHREAD_MUTEX_INITIALIZER total");
    printf("PTHREAD_MUTEX_INITIALIZER: %ld ok\n", counter);

    counter = 0;
    run_threads(w_rec);
    CHECK_EQ((long)NT * (ITERS / 4), counter, "PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP total");
    CHECK_EQ(EPERM, pthread_mutex_unlock(&m_rec), "recursive initializer: unlock of an unlocked mutex");
    printf("PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP: %ld ok\n", counter);

    counter = 0;
    run_threads(w_err);
    CHECK_EQ((long)NT * (ITERS / 4), counter, "PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP total");
    printf("PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP: %ld ok\n", counter);

    counter = 0;
    run_threads(w_adapt);
    CHECK_EQ((long)NT * ITERS, counter, "PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP total");
    printf("PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP: %ld ok\n", counter);

    run_threads(w_turn);
    CHECK_EQ((long)NT * ROUNDS, turn, "PTHREAD_COND_INITIALIZER turns");
    printf("PTHREAD_COND_INITIALIZER: %d turns in order ok\n", turn);

    rwlock_test(&rw_default, "PTHREAD_RWLOCK_INITIALIZER");
    rwlock_test(&rw_writer, "PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP");
    return 0;
}
