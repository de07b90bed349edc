/* pthread_kill delivers to the target thread.
 *
 * A SIGUSR1 handler records pthread_self(); the handler must see the thread
 * that was targeted:
 * - a thread spinning with sched_yield;
 * - a thread sleeping in usleep (which may return early with EINTR);
 * - the main thread signalling itself (handled before pthread_kill returns);
 * - a thread with SIGUSR1 blocked by pthread_sigmask: the signal stays
 *   pending until the thread unblocks it, and then runs in that thread.
 * Other threads run meanwhile and must never see the handler. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static _Atomic pthread_t handler_self;
static atomic_int handler_runs;
static atomic_int stop;
static atomic_int ready;
static atomic_int masked_ready, masked_sent;

static void on_usr1(int sig)
{
    (void)sig;
    atomic_store(&handler_self, pthread_self());
    atomic_fetch_add(&handler_runs, 1);
}

static void wait_for(atomic_int *v, int want, const char *what)
{
    struct timespec s, n;
    clock_gettime(CLOCK_MONOTONIC, &s);
    while (atomic_load(v) < want) {
        clock_gettime(CLOCK_MONOTONIC, &n);
        if (n.tv_sec - s.tv_sec > 30)
            CHECK_FAIL("%s: expected %d within 30 s, saw %d", what, want,
                       atomic_load(v));
        sched_yield();
    }
}

static void *yielder(void *arg)
{
    (void)arg;
    atomic_fetch_add(&ready, 1);
    while (!atomic_load(&stop))
        sched_yield();
    return NULL;
}

static void *sleeper(void *arg)
{
    (void)arg;
    atomic_fetch_add(&ready, 1);
    while (!atomic_load(&stop))
        usleep(500);
    return NULL;
}

static void *masked(void *arg)
{
    (void)arg;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    CHECK_OK(pthread_sigmask(SIG_BLOCK, &s, NULL));
    atomic_store(&masked_ready, 1);
    wait_for(&masked_sent, 1, "masked thread waiting for the signal to be sent");
    /* let the scheduler move us around while the signal is pending */
    for (int i = 0; i < 20; i++) {
        sched_yield();
        usleep(100);
    }
    sigset_t pend;
    sigemptyset(&pend);
    CHECK_OK(sigpending(&pend) == 0 ? 0 : errno);
    CHECK(sigismember(&pend, SIGUSR1), "SIGUSR1 pending while blocked");
    CHECK_EQ(0, atomic_load(&handler_runs), "handler runs while SIGUSR1 blocked");
    CHECK_OK(pthread_sigmask(SIG_UNBLOCK, &s, NULL));
    CHECK_EQ(1, atomic_load(&handler_runs), "handler runs right after unblocking");
    CHECK(pthread_equal(atomic_load(&handler_self), pthread_self()),
          "the handler ran in the thread that unblocked the signal");
    return NULL;
}

static void kill_and_check(pthread_t target, const char *what)
{
    atomic_store(&handler_runs, 0);
    CHECK_OK(pthread_kill(target, SIGUSR1));
    wait_for(&handler_runs, 1, what);
    CHECK_EQ(1, atomic_load(&handler_runs), what);
    CHECK(pthread_equal(atomic_load(&handler_self), target),
          "the handler's pthread_self() is the target thread");
    printf("%s: handler ran in the target thread\n", what);
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    CHECK_OK(sigaction(SIGUSR1, &sa, NULL) == 0 ? 0 : errno);

    pthread_t y[3], s[3], m;
    for (int i = 0; i < 3; i++) {
        CHECK_OK(pthread_create(&y[i], NULL, yielder, NULL));
        CHECK_OK(pthread_create(&s[i], NULL, sleeper, NULL));
    }
    wait_for(&ready, 6, "workers started");
    kill_and_check(y[1], "yielding thread");
    kill_and_check(s[1], "sleeping thread");
    kill_and_check(y[2], "another yielding thread");

    atomic_store(&handler_runs, 0);
    CHECK_OK(pthread_kill(pthread_self(), SIGUSR1));
    CHECK_EQ(1, atomic_load(&handler_runs), "handler runs before pthread_kill(self) returns");
    CHECK(pthread_equal(atomic_load(&handler_self), pthread_self()),
          "the handler's pthread_self() is main");
    printf("main thread signalling itself: handler ran before pthread_kill returned\n");

    atomic_store(&handler_runs, 0);
    CHECK_OK(pthread_create(&m, NULL, masked, NULL));
    wait_for(&masked_ready, 1, "masked thread started");
    CHECK_OK(pthread_kill(m, SIGUSR1));
    atomic_store(&masked_sent, 1);
    CHECK_OK(pthread_join(m, NULL));
    printf("blocked signal: pending until unblocked, then ran in the target\n");

    atomic_store(&stop, 1);
    for (int i = 0; i < 3; i++) {
        CHECK_OK(pthread_join(y[i], NULL));
        CHECK_OK(pthread_join(s[i], NULL));
    }
    return 0;
}
