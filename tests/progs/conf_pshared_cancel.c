/* pthread_cancel ends a wait on a process-shared condition variable
 * (issue 12, item 7; goro leaves such waits to glibc):
 *
 * - a waiter with a cleanup handler that unlocks the mutex is cancelled:
 *   the joiner sees PTHREAD_CANCELED, the handler ran holding the mutex;
 * - a second waiter on the same condvar is not disturbed: it still waits
 *   for its predicate and returns normally after main's broadcast;
 * - the cancel is made while main holds the mutex, then again (a second
 *   round) while it does not. */
#include <pthread.h>
#include <stdatomic.h>
#include "check.h"

static pthread_mutex_t mu;
static pthread_cond_t cv;
static int go, waiting;
static atomic_int cleaned_locked;

static void unlock_cleanup(void *arg)
{
    /* The handler runs with the mutex held: trylock from here fails. */
    if (pthread_mutex_trylock(&mu) == EBUSY)
        atomic_fetch_add(&cleaned_locked, 1);
    pthread_mutex_unlock(&mu);
}

static void *waiter(void *arg)
{
    pthread_mutex_lock(&mu);
    pthread_cleanup_push(unlock_cleanup, NULL);
    waiting++;
    while (!go)
        pthread_cond_wait(&cv, &mu);
    waiting--;
    pthread_cleanup_pop(1);
    return (void *)"woken";
}

static void round_(int hold)
{
    pthread_t victim, other;
    go = 0;
    CHECK_OK(pthread_create(&victim, NULL, waiter, NULL));
    CHECK_OK(pthread_create(&other, NULL, waiter, NULL));
    for (;;) {
        pthread_mutex_lock(&mu);
        int n = waiting;
        pthread_mutex_unlock(&mu);
        if (n == 2)
            break;
        sched_yield();
    }
    check_wait_blocked();
    if (hold)
        pthread_mutex_lock(&mu);
    CHECK_OK(pthread_cancel(victim));
    if (hold)
        pthread_mutex_unlock(&mu);
    void *r = NULL;
    CHECK_OK(pthread_join(victim, &r));
    CHECK(r == PTHREAD_CANCELED, "the cancelled waiter's result");
    pthread_mutex_lock(&mu);
    CHECK_EQ(2, waiting, "the cancelled waiter never left its loop (its count stays)");
    waiting = 1;
    go = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    CHECK_OK(pthread_join(other, &r));
    CHECK_STREQ("woken", (const char *)r, "the other waiter's result");
    printf("cancel %s the mutex: waiter cancelled, the other woken normally\n", hold ? "holding" : "without");
}

int main(void)
{
    check_pshared_init(&mu, &cv);
    round_(1);
    round_(0);
    CHECK_EQ(2 + 2, atomic_load(&cleaned_locked), "cleanup handlers ran holding the mutex");
    return 0;
}
