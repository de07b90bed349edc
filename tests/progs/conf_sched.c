/* Scheduling attributes reach the kernel thread the program's thread runs
 * on (issue 12, items 8 and 9; needs root for SCHED_FIFO/RR, as the suites
 * run):
 *
 * - a thread created with an explicit SCHED_FIFO priority sees that policy
 *   from the kernel (sched_getscheduler(0), sched_getparam(0)) and from
 *   pthread_getschedparam; pthread_setschedprio on itself changes both;
 *   pthread_setschedparam to SCHED_RR and back to SCHED_OTHER as well.
 * - main gives another, waiting thread SCHED_FIFO 15: once it runs again
 *   the kernel says so there.
 * - pthread_setschedprio: EINVAL outside the policy's range, ESRCH for a
 *   joined thread; main's own priority changes too.
 * - a thread created after a real-time one ended runs SCHED_OTHER (the
 *   kernel thread it used does not keep the policy). */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include "check.h"

static void expect(int policy, int prio, const char *who)
{
    struct sched_param sp;
    int kp = sched_getscheduler(0);
    CHECK(sched_getparam(0, &sp) == 0, "sched_getparam(0)");
    if (kp != policy || sp.sched_priority != prio)
        CHECK_FAIL("%s: kernel policy %d prio %d, expected %d %d", who, kp, sp.sched_priority, policy, prio);
    int pp;
    CHECK_OK(pthread_getschedparam(pthread_self(), &pp, &sp));
    if (pp != policy || sp.sched_priority != prio)
        CHECK_FAIL("%s: pthread_getschedparam %d %d, expected %d %d", who, pp, sp.sched_priority, policy, prio);
}

static void *fifo_thread(void *arg)
{
    expect(SCHED_FIFO, 10, "created SCHED_FIFO 10");
    CHECK_OK(pthread_setschedprio(pthread_self(), 20));
    expect(SCHED_FIFO, 20, "after pthread_setschedprio 20");
    struct sched_param sp = { .sched_priority = 5 };
    CHECK_OK(pthread_setschedparam(pthread_self(), SCHED_RR, &sp));
    expect(SCHED_RR, 5, "after pthread_setschedparam SCHED_RR 5");
    CHECK_EQ(EINVAL, pthread_setschedprio(pthread_self(), 1000), "setschedprio out of range");
    sp.sched_priority = 0;
    CHECK_OK(pthread_setschedparam(pthread_self(), SCHED_OTHER, &sp));
    expect(SCHED_OTHER, 0, "after pthread_setschedparam SCHED_OTHER");
    sp.sched_priority = 30;
    CHECK_OK(pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp));
    expect(SCHED_FIFO, 30, "SCHED_FIFO 30 at exit");
    return NULL;
}

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
static atomic_int waiting;

static void *changed_thread(void *arg)
{
    expect(SCHED_OTHER, 0, "created with inherited SCHED_OTHER");
    atomic_store(&waiting, 1);
    pthread_mutex_lock(&gate);
    pthread_mutex_unlock(&gate);
    expect(SCHED_FIFO, 15, "given SCHED_FIFO 15 by main while waiting");
    return NULL;
}

static void *plain_thread(void *arg)
{
    expect(SCHED_OTHER, 0, "a thread created after the real-time ones");
    return NULL;
}

int main(void)
{
    expect(SCHED_OTHER, 0, "main at start");
    CHECK_EQ(EINVAL, pthread_setschedprio(pthread_self(), 3), "SCHED_OTHER takes priority 0 only");
    CHECK_OK(pthread_setschedprio(pthread_self(), 0));

    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED);
    pthread_attr_setschedpolicy(&a, SCHED_FIFO);
    struct sched_param sp = { .sched_priority = 10 };
    pthread_attr_setschedparam(&a, &sp);
    pthread_t t;
    CHECK_OK(pthread_create(&t, &a, fifo_thread, NULL));
    pthread_attr_destroy(&a);
    CHECK_OK(pthread_join(t, NULL));
    CHECK_EQ(ESRCH, pthread_setschedprio(t, 1), "setschedprio of a joined thread");
    printf("SCHED_FIFO thread: kernel and pthread agree through setschedprio/setschedparam\n");

    pthread_mutex_lock(&gate);
    CHECK_OK(pthread_create(&t, NULL, changed_thread, NULL));
    while (!atomic_load(&waiting))
        sched_yield();
    check_wait_blocked();
    sp.sched_priority = 15;
    CHECK_OK(pthread_setschedparam(t, SCHED_FIFO, &sp));
    int pol;
    CHECK_OK(pthread_getschedparam(t, &pol, &sp));
    CHECK_EQ(SCHED_FIFO, pol, "policy main set, read back");
    CHECK_EQ(15, sp.sched_priority, "priority main set, read back");
    pthread_mutex_unlock(&gate);
    CHECK_OK(pthread_join(t, NULL));
    printf("policy set by another thread reaches the kernel\n");

    for (int i = 0; i < 4; i++) {
        CHECK_OK(pthread_create(&t, NULL, plain_thread, NULL));
        CHECK_OK(pthread_join(t, NULL));
    }
    sp.sched_priority = 1;
    CHECK_OK(pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp));
    expect(SCHED_FIFO, 1, "main after setschedparam SCHED_FIFO 1");
    CHECK_OK(pthread_setschedprio(pthread_self(), 2));
    expect(SCHED_FIFO, 2, "main after setschedprio 2");
    sp.sched_priority = 0;
    CHECK_OK(pthread_setschedparam(pthread_self(), SCHED_OTHER, &sp));
    expect(SCHED_OTHER, 0, "main back to SCHED_OTHER");
    printf("later threads run SCHED_OTHER; main's own policy changes\n");
    return 0;
}
