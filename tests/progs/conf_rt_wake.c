/* Real-time threads waiting on one mutex take it in priority order (issue
 * 12, item 9; as root), on any number of CPUs: the kernel queues a
 * futex's waiters by priority (FIFO within one, every SCHED_OTHER thread
 * below every real-time one) and glibc's unlock wakes one, so natively
 * the order is the priorities' whatever the CPUs.  Main holds the mutex,
 * creates SCHED_FIFO threads with priorities 10, 30, 20, 40 and two
 * SCHED_OTHER ones (they queue, in order, in between), each of which
 * notes itself under the mutex; once all wait, main lets go.  Under goro
 * a real-time G goes into an address's wait queue by priority
 * (sched/sema.c, enqueue). */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include "check.h"

#define N 6

static const int policy[N] = { SCHED_FIFO, SCHED_OTHER, SCHED_FIFO, SCHED_FIFO, SCHED_OTHER, SCHED_FIFO };
static const int prio[N] = { 10, 0, 30, 20, 0, 40 };
static const char *const name[N] = { "fifo10", "other1", "fifo30", "fifo20", "other2", "fifo40" };
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int waiting;
static char order[128];

static void *noter(void *arg)
{
    atomic_fetch_add(&waiting, 1);
    pthread_mutex_lock(&mu);
    strcat(order, name[(long)arg]);
    strcat(order, " ");
    pthread_mutex_unlock(&mu);
    return NULL;
}

/* Creates thread i and returns once it waits on mu. */
static pthread_t start(long i)
{
    pthread_attr_t a;
    struct sched_param sp = { .sched_priority = prio[i] };
    pthread_t t;
    CHECK_OK(pthread_attr_init(&a));
    CHECK_OK(pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED));
    CHECK_OK(pthread_attr_setschedpolicy(&a, policy[i]));
    CHECK_OK(pthread_attr_setschedparam(&a, &sp));
    CHECK_OK(pthread_create(&t, &a, noter, (void *)i));
    CHECK_OK(pthread_attr_destroy(&a));
    while (atomic_load(&waiting) <= i)
        sched_yield();
    check_wait_blocked();
    return t;
}

int main(void)
{
    pthread_t t[N];
    pthread_mutex_lock(&mu);
    for (long i = 0; i < N; i++)
        t[i] = start(i);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < N; i++)
        CHECK_OK(pthread_join(t[i], NULL));
    printf("order: %s\n", order);
    return 0;
}
