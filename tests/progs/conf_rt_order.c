/* Real-time threads run in priority order (issue 12, item 9; as root).
 * The program first pins itself to one CPU (syscall(SYS_sched_setaffinity)
 * of the calling thread, which every thread made afterwards inherits).  Main
 * raises itself to SCHED_FIFO 50 (syscall(SYS_sched_setscheduler)),
 * creates four SCHED_FIFO threads with priorities 10, 30, 20, 40 (each
 * only notes its turn), then joins them: natively the kernel runs them by
 * priority once main blocks.  (Equal priorities are left out: the kernel
 * puts a thread whose priority glibc lowers from main's at the head of
 * its level, so natively the later of two runs first.)  Under goro
 * each runs kernel-scheduled on a kernel thread of its own given its
 * policy and mask (docs/ARCHITECTURE.md, "Real-time threads run
 * kernel-scheduled"), at any GOMAXPROCS. */
#include <pthread.h>
#include <sched.h>
#include "check.h"

#define N 4

static const int prio[N] = { 10, 30, 20, 40 };
static const char *const name[N] = { "10", "30", "20", "40" };
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char order[64];

static void *noter(void *arg)
{
    pthread_mutex_lock(&mu);
    strcat(order, name[(long)arg]);
    strcat(order, " ");
    pthread_mutex_unlock(&mu);
    return NULL;
}

int main(void)
{
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    long r = syscall(SYS_sched_setaffinity, 0, sizeof one, &one);
    CHECK_EQ(0, r, "syscall(SYS_sched_setaffinity, CPU 0)");
    /* the raw system call's form: goro must see it as sched_setscheduler */
    struct sched_param sp = { .sched_priority = 50 };
    CHECK_EQ(0, syscall(SYS_sched_setscheduler, 0, SCHED_FIFO, &sp), "syscall(SYS_sched_setscheduler, FIFO 50)");
    int policy;
    CHECK_OK(pthread_getschedparam(pthread_self(), &policy, &sp));
    printf("main: %s %d\n", policy == SCHED_FIFO ? "SCHED_FIFO" : "not SCHED_FIFO", sp.sched_priority);
    pthread_t t[N];
    for (long i = 0; i < N; i++) {
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED);
        pthread_attr_setschedpolicy(&a, SCHED_FIFO);
        sp.sched_priority = prio[i];
        pthread_attr_setschedparam(&a, &sp);
        CHECK_OK(pthread_create(&t[i], &a, noter, (void *)i));
        pthread_attr_destroy(&a);
    }
    for (int i = 0; i < N; i++)
        CHECK_OK(pthread_join(t[i], NULL));
    sp.sched_priority = 0;
    CHECK_OK(pthread_setschedparam(pthread_self(), SCHED_OTHER, &sp));
    printf("order: %s\n", order);
    return 0;
}
