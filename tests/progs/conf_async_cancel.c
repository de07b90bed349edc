/* PTHREAD_CANCEL_ASYNCHRONOUS acts wherever the thread is, not only at
 * cancellation points (issue 12, item 6):
 *
 * - spinning in its own code (no call at all);
 * - blocked in pthread_mutex_lock on a mutex main holds;
 * - spinning in pthread_spin_lock on a lock main holds.
 *
 * Each time its cleanup handler and its key destructor run, and the
 * joiner sees PTHREAD_CANCELED.  The thread says it is about to block or
 * spin through a flag; main cancels it after that (check_wait_blocked for
 * the blocking cases). */
#include <pthread.h>
#include <stdatomic.h>
#include "check.h"

enum { SPIN_USER, MUTEX, SPINLOCK, NCASES };
static const char *const names[NCASES] = { "spinning in its own code", "blocked in pthread_mutex_lock",
                                           "spinning in pthread_spin_lock" };

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_spinlock_t sl;
static pthread_key_t key;
static atomic_int ready, cleaned, destroyed;
static volatile unsigned long work;

static void cleanup(void *arg) { atomic_fetch_add(&cleaned, 1); }
static void destructor(void *v) { atomic_fetch_add(&destroyed, 1); }

static void *victim(void *arg)
{
    long which = (long)arg;
    CHECK_OK(pthread_setspecific(key, (void *)1));
    CHECK_OK(pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL));
    pthread_cleanup_push(cleanup, NULL);
    atomic_store(&ready, 1);
    if (which == SPIN_USER)
        for (;;)
            work++;
    else if (which == MUTEX)
        pthread_mutex_lock(&mu);
    else
        pthread_spin_lock(&sl);
    pthread_cleanup_pop(0);
    return (void *)"not cancelled";
}

static void one(long which)
{
    atomic_store(&ready, 0);
    atomic_store(&cleaned, 0);
    atomic_store(&destroyed, 0);
    work = 0;
    pthread_t t;
    CHECK_OK(pthread_create(&t, NULL, victim, (void *)which));
    while (!atomic_load(&ready))
        sched_yield();
    if (which == SPIN_USER)
        while (work < 1000)
            sched_yield();
    else if (which == MUTEX)
        check_wait_blocked();
    /* (SPINLOCK: it spins, never sleeps; a cancel before it reaches the
     * lock acts as well: asynchronous means anywhere) */
    CHECK_OK(pthread_cancel(t));
    void *r = NULL;
    CHECK_OK(pthread_join(t, &r));
    CHECK(r == PTHREAD_CANCELED, names[which]);
    CHECK_EQ(1, atomic_load(&cleaned), "cleanup handlers run");
    CHECK_EQ(1, atomic_load(&destroyed), "key destructors run");
    printf("%s: cancelled, cleanup and destructor ran\n", names[which]);
}

int main(void)
{
    CHECK_OK(pthread_key_create(&key, destructor));
    CHECK_OK(pthread_spin_init(&sl, PTHREAD_PROCESS_PRIVATE));
    one(SPIN_USER);
    pthread_mutex_lock(&mu);
    one(MUTEX);
    pthread_mutex_unlock(&mu);
    CHECK_OK(pthread_mutex_trylock(&mu)); /* the cancelled waiter left it free */
    pthread_mutex_unlock(&mu);
    pthread_spin_lock(&sl);
    one(SPINLOCK);
    pthread_spin_unlock(&sl);
    return 0;
}
