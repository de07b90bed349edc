/* Without the privilege a real-time policy is refused as natively (issue
 * 12, item 9; started as root, then drops to nobody with RLIMIT_RTPRIO 0):
 * pthread_create with an explicit SCHED_FIFO attr fails with EPERM (nptl
 * applies the attributes before the thread runs), and so does
 * pthread_setschedparam; the caller stays SCHED_OTHER.  Under goro the
 * create must fail too, not start a thread that merely lacks its policy
 * (docs/ARCHITECTURE.md, "Real-time threads run kernel-scheduled"). */
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include "check.h"

static void *noop(void *arg) { return arg; }

int main(void)
{
    struct rlimit rl = { 0, 0 };
    CHECK_OK(setrlimit(RLIMIT_RTPRIO, &rl));
    CHECK_OK(setresgid(65534, 65534, 65534));
    CHECK_OK(setresuid(65534, 65534, 65534));
    pthread_attr_t a;
    struct sched_param sp = { .sched_priority = 5 };
    CHECK_OK(pthread_attr_init(&a));
    CHECK_OK(pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED));
    CHECK_OK(pthread_attr_setschedpolicy(&a, SCHED_FIFO));
    CHECK_OK(pthread_attr_setschedparam(&a, &sp));
    pthread_t t;
    int e = pthread_create(&t, &a, noop, NULL);
    printf("create SCHED_FIFO 5: %s\n", strerror(e));
    if (e == 0)
        CHECK_OK(pthread_join(t, NULL));
    printf("setschedparam SCHED_FIFO 5: %s\n", strerror(pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp)));
    int policy;
    CHECK_OK(pthread_getschedparam(pthread_self(), &policy, &sp));
    printf("main: %s %d\n", policy == SCHED_OTHER ? "SCHED_OTHER" : "not SCHED_OTHER", sp.sched_priority);
    return 0;
}
