/* Deferred cancellation with cleanup handlers.
 *
 * 1. A thread spinning on pthread_testcancel (with yields) is cancelled.
 * 2. A thread blocked in pthread_join on another thread is cancelled; the
 *    other thread stays joinable.
 * 3. A thread blocked in sleep() is cancelled.
 * 4. A thread with cancellation disabled gets a cancel request: it runs on
 *    until it enables cancellation and reaches a cancellation point.
 * Each time join returns PTHREAD_CANCELED and the cleanup handlers ran in
 * LIFO order (recorded as letters in a per-case log).  In 2 and 3 the
 * cancel is sent once the thread is seen blocked (check_wait_blocked), not
 * while it is on its way to the call, where it would act at the call's
 * start instead. */
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <unistd.h>
#include "check.h"

static char logbuf[64];
static atomic_int loglen;
static atomic_int started;

static void log_letter(void *arg)
{
    int i = atomic_fetch_add(&loglen, 1);
    if (i < (int)sizeof logbuf - 1)
        logbuf[i] = *(const char *)arg;
}

static void reset(void)
{
    memset(logbuf, 0, sizeof logbuf);
    atomic_store(&loglen, 0);
    atomic_store(&started, 0);
}

static void wait_started(void)
{
    while (!atomic_load(&started))
        sched_yield();
}

static void join_cancelled(pthread_t t, const char *what, const char *exp_log)
{
    void *ret = NULL;
    CHECK_OK(pthread_join(t, &ret));
    if (ret != PTHREAD_CANCELED)
        CHECK_FAIL("%s: join: expected PTHREAD_CANCELED, saw another value", what);
    CHECK_STREQ(exp_log, logbuf, what);
    printf("%s: cancelled, cleanup handlers ran: %s\n", what, logbuf);
}

/* ---- 1: testcancel loop ---- */
static void *testcancel_loop(void *arg)
{
    (void)arg;
    pthread_cleanup_push(log_letter, "A");
    pthread_cleanup_push(log_letter, "B");
    pthread_cleanup_push(log_letter, "C");
    atomic_store(&started, 1);
    for (;;) {
        pthread_testcancel();
        sched_yield();
    }
    pthread_cleanup_pop(0);
    pthread_cleanup_pop(0);
    pthread_cleanup_pop(0);
    return NULL;
}

/* ---- 2: blocked in pthread_join ---- */
static sem_t release_target;

static void *join_target(void *arg)
{
    (void)arg;
    while (sem_wait(&release_target) != 0)
        ;
    return (void *)7;
}

static void *joiner(void *arg)
{
    pthread_t target = *(pthread_t *)arg;
    pthread_cleanup_push(log_letter, "J");
    pthread_cleanup_push(log_letter, "K");
    atomic_store(&started, 1);
    pthread_join(target, NULL);
    log_letter("X"); /* not reached: join was cancelled */
    pthread_cleanup_pop(0);
    pthread_cleanup_pop(0);
    return NULL;
}

/* ---- 3: blocked in sleep ---- */
static void *sleeper(void *arg)
{
    (void)arg;
    pthread_cleanup_push(log_letter, "S");
    pthread_cleanup_push(log_letter, "T");
    atomic_store(&started, 1);
    sleep(100);
    log_letter("X");
    pthread_cleanup_pop(0);
    pthread_cleanup_pop(0);
    return NULL;
}

/* ---- 4: cancellation disabled ---- */
static atomic_int cancel_sent;
static atomic_int work_after_request;

static void *disabled(void *arg)
{
    (void)arg;
    int old;
    CHECK_OK(pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old));
    CHECK_EQ(PTHREAD_CANCEL_ENABLE, old, "initial cancel state");
    pthread_cleanup_push(log_letter, "D");
    pthread_cleanup_push(log_letter, "E");
    atomic_store(&started, 1);
    while (!atomic_load(&cancel_sent))
        sched_yield();
    /* cancellation points do not act while disabled */
    for (int i = 0; i < 10; i++) {
        pthread_testcancel();
        usleep(100);
        atomic_fetch_add(&work_after_request, 1);
    }
    log_letter("w");
    CHECK_OK(pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old));
    CHECK_EQ(PTHREAD_CANCEL_DISABLE, old, "cancel state while disabled");
    pthread_testcancel();
    log_letter("X");
    pthread_cleanup_pop(0);
    pthread_cleanup_pop(0);
    return NULL;
}

int main(void)
{
    pthread_t t, target;

    reset();
    CHECK_OK(pthread_create(&t, NULL, testcancel_loop, NULL));
    wait_started();
    CHECK_OK(pthread_cancel(t));
    join_cancelled(t, "testcancel loop", "CBA");

    reset();
    CHECK_OK(sem_init(&release_target, 0, 0));
    CHECK_OK(pthread_create(&target, NULL, join_target, NULL));
    CHECK_OK(pthread_create(&t, NULL, joiner, &target));
    wait_started();
    check_wait_blocked(); /* the joiner is in pthread_join, its target in sem_wait */
    CHECK_OK(pthread_cancel(t));
    join_cancelled(t, "blocked in pthread_join", "KJ");
    CHECK_OK(sem_post(&release_target));
    void *ret = NULL;
    CHECK_OK(pthread_join(target, &ret));
    CHECK_EQ(7, (long)ret, "join target still joinable after its joiner was cancelled");
    printf("join target still joinable, returned %ld\n", (long)ret);

    reset();
    CHECK_OK(pthread_create(&t, NULL, sleeper, NULL));
    wait_started();
    check_wait_blocked(); /* it is in sleep() */
    CHECK_OK(pthread_cancel(t));
    join_cancelled(t, "blocked in sleep", "TS");

    reset();
    CHECK_OK(pthread_create(&t, NULL, disabled, NULL));
    wait_started();
    CHECK_OK(pthread_cancel(t));
    atomic_store(&cancel_sent, 1);
    join_cancelled(t, "cancel disabled then enabled", "wED");
    CHECK_EQ(10, atomic_load(&work_after_request), "work done after the deferred cancel request");
    printf("work after deferred request: %d\n", atomic_load(&work_after_request));
    return 0;
}
