/* pthread_once under contention: 64 threads released together by a barrier
 * all call pthread_once on the same control.  The init routine (slow on
 * purpose: it sleeps and yields, so under goro other Gs run meanwhile) must
 * run exactly once, and every caller must return only after it finished. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>
#include "check.h"

#define N 64

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_barrier_t barrier;
static atomic_int init_runs;
static atomic_int init_done;
static atomic_int saw_done;

static void init(void)
{
    atomic_fetch_add(&init_runs, 1);
    for (int i = 0; i < 10; i++) {
        sched_yield();
        usleep(200);
    }
    atomic_store(&init_done, 1);
}

static void *worker(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&barrier);
    CHECK_OK(pthread_once(&once, init));
    if (atomic_load(&init_done))
        atomic_fetch_add(&saw_done, 1);
    /* a second call is a no-op */
    CHECK_OK(pthread_once(&once, init));
    return NULL;
}

int main(void)
{
    pthread_t t[N];
    CHECK_OK(pthread_barrier_init(&barrier, NULL, N));
    for (int i = 0; i < N; i++)
        CHECK_OK(pthread_create(&t[i], NULL, worker, NULL));
    for (int i = 0; i < N; i++)
        CHECK_OK(pthread_join(t[i], NULL));
    CHECK_EQ(1, atomic_load(&init_runs), "init routine runs");
    CHECK_EQ(N, atomic_load(&saw_done), "callers that saw init complete");
    printf("pthread_once: init ran %d time(s); %d of %d callers returned "
           "after it completed\n", atomic_load(&init_runs),
           atomic_load(&saw_done), N);
    CHECK_OK(pthread_barrier_destroy(&barrier));
    return 0;
}
