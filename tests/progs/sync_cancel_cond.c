/* A thread cancelled while in pthread_cond_wait (and in
 * pthread_cond_timedwait) runs its cleanup handler with the mutex
 * re-acquired.  The mutex is ERRORCHECK, so the handler can prove it owns
 * it: a relock is EDEADLK, and its unlock returns 0 (it would be EPERM if
 * the mutex had not been re-acquired).  Main then locks and unlocks it. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include "check.h"

static pthread_mutex_t mu;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int waiting;   /* under mu */
static int never;     /* the condition nobody makes true */
static atomic_int handler_relock = -1, handler_unlock = -1, handler_runs;

static void cleanup(void *arg)
{
    (void)arg;
    atomic_fetch_add(&handler_runs, 1);
    atomic_store(&handler_relock, pthread_mutex_lock(&mu));
    atomic_store(&handler_unlock, pthread_mutex_unlock(&mu));
}

static void *waiter(void *arg)
{
    int timed = (int)(long)arg;
    CHECK_OK(pthread_mutex_lock(&mu));
    pthread_cleanup_push(cleanup, NULL);
    waiting = 1;
    while (!never) {
        if (timed) {
            struct timespec dl;
            clock_gettime(CLOCK_REALTIME, &dl);
            dl.tv_sec += 60;
            int r = pthread_cond_timedwait(&cv, &mu, &dl);
            CHECK(r == 0 || r == ETIMEDOUT, "cond_timedwait result");
        } else {
            CHECK_OK(pthread_cond_wait(&cv, &mu));
        }
    }
    pthread_cleanup_pop(1);
    return (void *)1;
}

static void one(int timed, const char *name)
{
    pthread_mutexattr_t a;
    pthread_t t;
    void *res;
    CHECK_OK(pthread_mutexattr_init(&a));
    CHECK_OK(pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK));
    CHECK_OK(pthread_mutex_init(&mu, &a));
    CHECK_OK(pthread_mutexattr_destroy(&a));
    waiting = 0;
    atomic_store(&handler_runs, 0);
    atomic_store(&handler_relock, -1);
    atomic_store(&handler_unlock, -1);

    CHECK_OK(pthread_create(&t, NULL, waiter, (void *)(long)timed));
    /* the waiter sets `waiting` under the mutex and releases the mutex only
     * inside the wait: once we hold it and see waiting == 1, it waits */
    for (;;) {
        CHECK_OK(pthread_mutex_lock(&mu));
        if (waiting)
            break;
        CHECK_OK(pthread_mutex_unlock(&mu));
        struct timespec d = { 0, 1000000L };
        nanosleep(&d, NULL);
    }
    CHECK_OK(pthread_cancel(t));
    CHECK_OK(pthread_mutex_unlock(&mu));
    CHECK_OK(pthread_join(t, &res));
    CHECK(res == PTHREAD_CANCELED, "join result is PTHREAD_CANCELED");
    CHECK_EQ(1, atomic_load(&handler_runs), "cleanup handler runs");
    CHECK_EQ(EDEADLK, atomic_load(&handler_relock), "relock in the cleanup handler (mutex held)");
    CHECK_EQ(0, atomic_load(&handler_unlock), "unlock in the cleanup handler");
    CHECK_OK(pthread_mutex_lock(&mu));
    CHECK_OK(pthread_mutex_unlock(&mu));
    CHECK_EQ(EPERM, pthread_mutex_unlock(&mu), "unlock of the unlocked mutex");
    CHECK_OK(pthread_mutex_destroy(&mu));
    printf("%s: cancelled waiter's cleanup ran with the mutex held ok\n", name);
}

int main(void)
{
    one(0, "pthread_cond_wait");
    one(1, "pthread_cond_timedwait");
    /* the condvar is still usable */
    CHECK_OK(pthread_cond_signal(&cv));
    CHECK_OK(pthread_cond_broadcast(&cv));
    CHECK_OK(pthread_cond_destroy(&cv));
    return 0;
}
