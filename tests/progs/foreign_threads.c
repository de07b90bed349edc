/* Threads goro did not make share every kind of sync object with goro's.
 *
 * glibc's own pthread_create, fetched with dlvsym(RTLD_NEXT, ...,
 * "GLIBC_2.34") (an explicit version: goro hands it over unchanged), makes
 * kernel threads goro never created; glibc's timer_create(SIGEV_THREAD)
 * makes one of its own internally.  Under goro they are served without a
 * P (sched/foreign.c): their waits block their own kernel thread, and
 * goro's threads wake them and are woken by them.  Phases:
 *   1. a foreign thread blocks in sem_wait until a G posts, and a G blocks
 *      in sem_wait until the foreign thread posts (both surely asleep first);
 *   2. two foreign and two goro threads hammer one mutex, a condvar ring,
 *      a rwlock and a barrier;
 *   3. glibc's SIGEV_THREAD helper wakes a G through a mutex and condvar;
 *   4. dlsym through a libc handle names the same pthread_create the
 *      program links (goro's under goro);
 *   5. a foreign thread creates and joins one of goro's threads.
 * Output is the same natively and under goro at any GOMAXPROCS. */
#include <dlfcn.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define NF 2      /* foreign threads */
#define NG 2      /* goro's threads */
#define ITERS 3000
#define RING 2  /* small: putters wait for getters of the other kind */

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t notfull = PTHREAD_COND_INITIALIZER, notempty = PTHREAD_COND_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_barrier_t bar;
static sem_t s_to_foreign, s_to_goro;
static atomic_int flag;
static long counter, rw_a, rw_b, produced, consumed, barrier_bad;
static int ring[RING], head, tail, count;

/* Phase 1, on a foreign thread. */
static void *ping(void *arg)
{
    atomic_store(&flag, 1);
    CHECK_OK(sem_wait(&s_to_foreign)); /* a G posts once we sleep */
    while (atomic_load(&flag) != 2)
        sched_yield();
    check_wait_blocked(); /* the G is asleep in sem_wait */
    CHECK_OK(sem_post(&s_to_goro));
    return NULL;
}

static void ring_put(int v)
{
    pthread_mutex_lock(&mu);
    while (count == RING)
        pthread_cond_wait(&notfull, &mu);
    ring[tail] = v;
    tail = (tail + 1) % RING;
    count++;
    produced += v;
    pthread_cond_signal(&notempty);
    pthread_mutex_unlock(&mu);
}

static void ring_get(void)
{
    pthread_mutex_lock(&mu);
    while (count == 0)
        pthread_cond_wait(&notempty, &mu);
    consumed += ring[head];
    head = (head + 1) % RING;
    count--;
    pthread_cond_signal(&notfull);
    pthread_mutex_unlock(&mu);
}

/* Phase 2: every thread puts an item into the small ring, then takes one
 * (often another thread's): a putter finding it full waits for a getter of
 * either kind.  Never a deadlock: a thread between its put and its get
 * holds an item in the ring. */
static void *worker(void *arg)
{
    long id = (long)arg;
    bool foreign = id < NF;
    for (int i = 0; i < ITERS; i++) {
        pthread_mutex_lock(&mu);
        counter++;
        pthread_mutex_unlock(&mu);
        ring_put(i + (foreign ? 0 : ITERS));
        ring_get();
        if (i % 3 == 0) {
            pthread_rwlock_wrlock(&rw);
            rw_a++;
            rw_b++;
            pthread_rwlock_unlock(&rw);
        } else {
            pthread_rwlock_rdlock(&rw);
            if (rw_a != rw_b)
                CHECK_FAIL("rwlock: a reader saw a=%ld b=%ld", rw_a, rw_b);
            pthread_rwlock_unlock(&rw);
        }
        if (i % 100 == 0) {
            static atomic_long round;
            long before = atomic_load(&round);
            int r = pthread_barrier_wait(&bar);
            if (r == PTHREAD_BARRIER_SERIAL_THREAD)
                atomic_fetch_add(&round, 1);
            else if (r != 0)
                CHECK_FAIL("pthread_barrier_wait: %d", r);
            pthread_barrier_wait(&bar);
            if (atomic_load(&round) != before + 1)
                barrier_bad++;
        }
    }
    return NULL;
}

static pthread_cond_t timer_cond = PTHREAD_COND_INITIALIZER;
static int timer_fired;

/* Phase 3: runs on glibc's internal SIGEV_THREAD helper thread. */
static void on_timer(union sigval v)
{
    pthread_mutex_lock(&mu);
    timer_fired = v.sival_int;
    pthread_cond_signal(&timer_cond);
    pthread_mutex_unlock(&mu);
}

static void *child(void *arg) { return (void *)((long)arg * 2); }

/* Phase 5, on a foreign thread. */
static void *spawner(void *arg)
{
    pthread_t t;
    void *r = NULL;
    CHECK_OK(pthread_create(&t, NULL, child, arg));
    CHECK_OK(pthread_join(t, &r));
    return r;
}

int main(void)
{
    create_fn glibc_create = (create_fn)dlvsym(RTLD_NEXT, "pthread_create", "GLIBC_2.34");
    CHECK(glibc_create != NULL, "dlvsym(RTLD_NEXT, pthread_create, GLIBC_2.34)");
    CHECK_OK(sem_init(&s_to_foreign, 0, 0));
    CHECK_OK(sem_init(&s_to_goro, 0, 0));

    pthread_t f;
    CHECK_OK(glibc_create(&f, NULL, ping, NULL));
    while (atomic_load(&flag) != 1)
        sched_yield();
    check_wait_blocked(); /* the foreign thread is asleep in sem_wait */
    CHECK_OK(sem_post(&s_to_foreign));
    atomic_store(&flag, 2);
    CHECK_OK(sem_wait(&s_to_goro));
    CHECK_OK(pthread_join(f, NULL));
    printf("phase 1: foreign and goro threads woke each other\n");

    CHECK_OK(pthread_barrier_init(&bar, NULL, NF + NG));
    pthread_t t[NF + NG];
    for (long i = 0; i < NF + NG; i++)
        CHECK_OK((i < NF ? glibc_create : pthread_create)(&t[i], NULL, worker, (void *)i));
    for (int i = 0; i < NF + NG; i++)
        CHECK_OK(pthread_join(t[i], NULL));
    printf("phase 2: counter=%ld produced=%ld consumed=%ld writes=%ld barrier_bad=%ld\n", counter,
           produced, consumed, rw_a, barrier_bad);

    timer_t tm;
    struct sigevent sev = { .sigev_notify = SIGEV_THREAD, .sigev_notify_function = on_timer,
                            .sigev_value.sival_int = 7 };
    CHECK_OK(timer_create(CLOCK_MONOTONIC, &sev, &tm));
    struct itimerspec its = { .it_value = { 0, 1000000 } };
    CHECK_OK(timer_settime(tm, 0, &its, NULL));
    pthread_mutex_lock(&mu);
    while (!timer_fired)
        pthread_cond_wait(&timer_cond, &mu);
    pthread_mutex_unlock(&mu);
    timer_delete(tm);
    printf("phase 3: glibc's SIGEV_THREAD helper woke a waiter: %d\n", timer_fired);

    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    CHECK(libc != NULL, "dlopen(libc.so.6, RTLD_NOLOAD)");
    printf("phase 4: dlsym(libc, pthread_create) is the linked one: %s\n",
           dlsym(libc, "pthread_create") == (void *)pthread_create ? "yes" : "no");

    void *r = NULL;
    CHECK_OK(glibc_create(&f, NULL, spawner, (void *)21));
    CHECK_OK(pthread_join(f, &r));
    printf("phase 5: a foreign thread's own thread returned %ld\n", (long)r);
    return 0;
}
