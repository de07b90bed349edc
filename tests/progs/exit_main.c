/* pthread_exit from main keeps the process alive until the other threads
 * finish.  main's thread-specific-data destructor (run by its pthread_exit)
 * raises a flag; the worker waits for it, so its lines are printed after
 * main has exited.  The last thread's exit ends the process with status 0,
 * running atexit handlers once. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static atomic_int main_exited;
static atomic_int atexit_runs;
static pthread_key_t key;

static void main_key_dtor(void *v)
{
    (void)v;
    atomic_store(&main_exited, 1);
}

static void at_exit(void)
{
    printf("atexit handler: run %d\n", atomic_fetch_add(&atexit_runs, 1) + 1);
}

static void *worker(void *arg)
{
    long i = (long)arg;
    /* (if main's key destructor never runs, the suite's timeout ends it) */
    while (!atomic_load(&main_exited)) {
        sched_yield();
        usleep(100);
    }
    if (i == 1) {
        printf("worker 1: main has exited; still running\n");
        fflush(stdout);
    }
    return NULL;
}

static void *chained(void *arg)
{
    pthread_t prev = *(pthread_t *)arg;
    /* joins worker 1 so the lines below come strictly after its line */
    CHECK_OK(pthread_join(prev, NULL));
    usleep(1000);
    printf("worker 2: worker 1 done; exiting last\n");
    return NULL;
}

int main(void)
{
    static pthread_t w1;
    pthread_t w2;

    CHECK_OK(atexit(at_exit));
    CHECK_OK(pthread_key_create(&key, main_key_dtor));
    CHECK_OK(pthread_setspecific(key, &key));
    CHECK_OK(pthread_create(&w1, NULL, worker, (void *)1));
    CHECK_OK(pthread_create(&w2, NULL, chained, &w1));
    printf("main: calling pthread_exit\n");
    fflush(stdout);
    pthread_exit(NULL);
}
