/* A signal with a handler ends a sleep with EINTR, as natively.
 *
 * For each kind of sleep a thread announces it is about to sleep for 10 s
 * and, once it is seen blocked (check_wait_blocked), the main thread sends
 * it SIGUSR1 with pthread_kill (again every 50 ms until the sleep has
 * ended): nanosleep (-1/EINTR, the remaining time left in rem),
 * clock_nanosleep relative and TIMER_ABSTIME (EINTR), usleep (-1/EINTR),
 * sleep (the unslept seconds), poll and select with no descriptors
 * (-1/EINTR); pthread_sigqueue's value reaches an SA_SIGINFO handler and
 * ends the sleep too; an SA_RESTART handler still ends it (sleeps are
 * never restarted).  The handler runs in the sleeping thread.
 * Not ended: 300 ms sleeps of a thread that blocks SIGUSR1 (the signal
 * runs in that thread once it unblocks it), and of one sent SIGUSR2 while
 * SIGUSR2 is ignored (the signal is sent until one sleep spanned it).
 * Process-directed (SIGALRM from setitimer while nothing runs): it ends
 * the main thread's nanosleep and sleep, its handler running in the main
 * thread; while the main thread waits in pthread_join the kernel gives it
 * the signal (its join goes on), so a worker's sleep is not ended.
 * The handlers are installed after threads ran, so idle kernel threads
 * must learn to block them.  With two threads computing, a signal sent
 * by another process (kill) still goes to the main thread as the kernel
 * prefers it: it ends the main thread's nanosleep and its pause(), and an
 * SA_SIGINFO handler sees the sender's pid and SI_USER.  sigaction reports
 * the program's own handler.  Nothing timing-related is printed. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/select.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static _Atomic pthread_t handler_self;
static atomic_int handler_value;
static atomic_int ready, done;

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    atomic_store(&handler_self, pthread_self());
    if (si->si_code == SI_QUEUE)
        atomic_store(&handler_value, si->si_value.sival_int);
}

static void install(int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
}

enum kind { NANOSLEEP, CLOCK_REL, CLOCK_ABS, USLEEP, SLEEP, POLL, SELECT };
static const char *const names[] = { "nanosleep", "clock_nanosleep relative", "clock_nanosleep TIMER_ABSTIME",
                                     "usleep", "sleep", "poll without fds", "select without fds" };

/* Returns 1 when the sleep ended early as natively, and sets *why. */
static int sleep_once(enum kind k, const char **why)
{
    struct timespec ten = { 10, 0 }, rem = { 0, 0 }, dl;
    struct timeval tv = { 10, 0 };
    int r, e;
    atomic_store(&ready, 1);
    switch (k) {
    case NANOSLEEP:
        r = nanosleep(&ten, &rem);
        e = errno;
        *why = "expected -1/EINTR with 1 s < rem <= 10 s";
        return r == -1 && e == EINTR && rem.tv_sec >= 1 && rem.tv_sec <= 10;
    case CLOCK_REL:
        r = clock_nanosleep(CLOCK_MONOTONIC, 0, &ten, &rem);
        *why = "expected EINTR with 1 s < rem <= 10 s";
        return r == EINTR && rem.tv_sec >= 1 && rem.tv_sec <= 10;
    case CLOCK_ABS:
        dl = check_deadline_in(CLOCK_MONOTONIC, 10000);
        r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &dl, NULL);
        *why = "expected EINTR";
        return r == EINTR;
    case USLEEP:
        r = usleep(5000000);
        e = errno;
        *why = "expected -1/EINTR";
        return r == -1 && e == EINTR;
    case SLEEP:
        r = (int)sleep(10);
        *why = "expected the unslept seconds, 1 to 10";
        return r >= 1 && r <= 10;
    case POLL:
        r = poll(NULL, 0, 10000);
        e = errno;
        *why = "expected -1/EINTR";
        return r == -1 && e == EINTR;
    case SELECT:
        r = select(0, NULL, NULL, NULL, &tv);
        e = errno;
        *why = "expected -1/EINTR";
        return r == -1 && e == EINTR;
    }
    return 0;
}

struct job {
    enum kind kind;
    int ok;
    const char *why;
};

static void *sleeper(void *arg)
{
    struct job *j = arg;
    j->ok = sleep_once(j->kind, &j->why);
    atomic_store(&done, 1);
    return NULL;
}

static void wait_ready(void)
{
    while (!atomic_load(&ready))
        usleep(1000);
}

/* Runs one sleep on a new thread, signals it until it is over. */
static void interrupted(enum kind k, int queue)
{
    struct job j = { k, 0, NULL };
    pthread_t t;
    atomic_store(&ready, 0);
    atomic_store(&done, 0);
    atomic_store(&handler_self, (pthread_t)0);
    atomic_store(&handler_value, 0);
    CHECK_OK(pthread_create(&t, NULL, sleeper, &j));
    wait_ready();
    check_wait_blocked(); /* the first signal lands in the sleep */
    for (int first = 1; !atomic_load(&done); first = 0) {
        if (!first)
            usleep(50000);
        if (atomic_load(&done))
            break;
        if (queue) {
            union sigval v = { .sival_int = 42 };
            CHECK_OK(pthread_sigqueue(t, SIGUSR1, v));
        } else {
            CHECK_OK(pthread_kill(t, SIGUSR1));
        }
    }
    CHECK_OK(pthread_join(t, NULL));
    if (!j.ok)
        CHECK_FAIL("%s: %s", names[k], j.why);
    if (!pthread_equal(atomic_load(&handler_self), t))
        CHECK_FAIL("%s: the handler did not run in the sleeping thread", names[k]);
    if (queue && atomic_load(&handler_value) != 42)
        CHECK_FAIL("%s: pthread_sigqueue's value: expected 42, saw %d", names[k], atomic_load(&handler_value));
    printf("%s: ended by %s, handler in the sleeper ok\n", names[k], queue ? "pthread_sigqueue" : "pthread_kill");
}

/* not_interrupted: main sends the signal again and again, each time once
 * the sleeper is seen blocked, counting sends begun and done; the sleeper
 * sleeps 300 ms at a time until one of its sleeps spanned a whole send
 * (begun after the sleep began, done before it ended), each sleep running
 * its full time.  Then it says so and waits for main to stop sending. */
static atomic_int sends_begun, sends_done, slept_through, sending_over;

static void sleep_through_a_signal(const char *what)
{
    for (;;) {
        int begun = atomic_load(&sends_begun);
        struct timespec d = { 0, 300 * 1000000L };
        CHECK_EQ(0, nanosleep(&d, NULL), what);
        if (atomic_load(&sends_done) > begun)
            break;
    }
    atomic_store(&slept_through, 1);
    while (!atomic_load(&sending_over))
        usleep(1000);
}

static void *blocked_sleeper(void *arg)
{
    (void)arg;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    CHECK_OK(pthread_sigmask(SIG_BLOCK, &s, NULL));
    atomic_store(&ready, 1);
    sleep_through_a_signal("nanosleep with SIGUSR1 blocked");
    CHECK(!pthread_equal(atomic_load(&handler_self), pthread_self()), "handler ran while blocked");
    CHECK_OK(pthread_sigmask(SIG_UNBLOCK, &s, NULL));
    CHECK(pthread_equal(atomic_load(&handler_self), pthread_self()), "handler after unblocking, in this thread");
    return NULL;
}

static void *ignored_sleeper(void *arg)
{
    (void)arg;
    atomic_store(&ready, 1);
    sleep_through_a_signal("nanosleep sent an ignored SIGUSR2");
    return NULL;
}

static void not_interrupted(void *(*fn)(void *), int sig, const char *what)
{
    pthread_t t;
    atomic_store(&ready, 0);
    atomic_store(&handler_self, (pthread_t)0);
    atomic_store(&sends_begun, 0);
    atomic_store(&sends_done, 0);
    atomic_store(&slept_through, 0);
    atomic_store(&sending_over, 0);
    CHECK_OK(pthread_create(&t, NULL, fn, NULL));
    wait_ready();
    while (!atomic_load(&slept_through)) {
        check_wait_blocked();
        atomic_fetch_add(&sends_begun, 1);
        CHECK_OK(pthread_kill(t, sig));
        atomic_fetch_add(&sends_done, 1);
    }
    atomic_store(&sending_over, 1);
    CHECK_OK(pthread_join(t, NULL));
    printf("%s: sleep not ended ok\n", what);
}

static _Atomic pthread_t alrm_self;

static void on_alrm(int sig)
{
    (void)sig;
    atomic_store(&alrm_self, pthread_self());
}

/* SIGALRM in 100 ms and then every 100 ms (interval 0: once), until
 * alarm_off: a first one that fired before the main thread got into its
 * sleep (a loaded machine) does not leave it sleeping its full time. */
static void alarm_in_100ms(long interval_us)
{
    struct itimerval it = { { 0, interval_us }, { 0, 100000 } };
    atomic_store(&alrm_self, (pthread_t)0);
    CHECK_OK(setitimer(ITIMER_REAL, &it, NULL));
}

static void alarm_off(void)
{
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    CHECK_OK(setitimer(ITIMER_REAL, &off, NULL));
}

/* Arms the alarm once main is seen blocked in pthread_join, then sleeps
 * 50 ms at a time, each sleep running its full time, until the handler
 * has run (in main: natively the kernel prefers the main thread, which
 * does not block SIGALRM). */
static void *short_sleeper(void *arg)
{
    (void)arg;
    check_wait_blocked();
    alarm_in_100ms(0);
    struct timespec d = { 0, 50 * 1000000L };
    do
        CHECK_EQ(0, nanosleep(&d, NULL), "worker nanosleep while main joins");
    while (!atomic_load(&alrm_self));
    return NULL;
}

static void process_directed(void)
{
    signal(SIGALRM, on_alrm);
    alarm_in_100ms(100000);
    struct timespec ten = { 10, 0 }, rem = { 0, 0 };
    int r = nanosleep(&ten, &rem);
    alarm_off();
    CHECK(r == -1 && errno == EINTR && rem.tv_sec >= 1, "main nanosleep ended by SIGALRM with EINTR");
    CHECK(pthread_equal(atomic_load(&alrm_self), pthread_self()), "SIGALRM handler in the main thread");
    printf("SIGALRM: ends the main thread's nanosleep, handler in main ok\n");

    alarm_in_100ms(100000);
    unsigned left = sleep(10);
    alarm_off();
    CHECK(left >= 1 && left <= 9, "main sleep(10) ended by SIGALRM: the unslept whole seconds");
    printf("SIGALRM: ends the main thread's sleep ok\n");

    pthread_t t;
    atomic_store(&alrm_self, (pthread_t)0);
    CHECK_OK(pthread_create(&t, NULL, short_sleeper, NULL));
    CHECK_OK(pthread_join(t, NULL));
    CHECK(pthread_equal(atomic_load(&alrm_self), pthread_self()), "SIGALRM handler in the joining main thread");
    printf("SIGALRM while main joins: the worker's sleep runs out, handler in main ok\n");
}

static atomic_int stop_busy;
static _Atomic pthread_t kill_self;
static atomic_int kill_pid, kill_code;

static void on_kill(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    atomic_store(&kill_self, pthread_self());
    atomic_store(&kill_pid, si->si_pid);
    atomic_store(&kill_code, si->si_code);
}

static void *busy(void *arg)
{
    (void)arg;
    volatile unsigned long x = 0;
    while (!atomic_load(&stop_busy))
        x++;
    return NULL;
}

/* A child process sends SIGUSR2 to us every 100 ms until we kill it (a
 * first one may come before the main thread is in its wait: the next one
 * ends that); returns its pid. */
static pid_t kill_me_soon(void)
{
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        for (;;) {
            usleep(100000);
            if (kill(getppid(), SIGUSR2) != 0)
                _exit(0);
        }
    }
    return pid;
}

static void stop_child(pid_t child)
{
    CHECK_OK(kill(child, SIGKILL));
    CHECK_OK(waitpid(child, NULL, 0) == child ? 0 : -1);
}

static void main_preferred(void)
{
    struct sigaction sa, cur;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_kill;
    sa.sa_flags = SA_SIGINFO;
    CHECK_OK(sigaction(SIGUSR2, &sa, NULL));
    CHECK_OK(sigaction(SIGUSR2, NULL, &cur));
    CHECK(cur.sa_sigaction == on_kill && (cur.sa_flags & SA_SIGINFO), "sigaction reports the program's handler");
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        CHECK_OK(pthread_create(&t[i], NULL, busy, NULL));
    for (int i = 0; i < 20; i++)
        usleep(1000); /* the main thread parks and resumes: it may move */

    pid_t child = kill_me_soon();
    struct timespec ten = { 10, 0 };
    int r = nanosleep(&ten, NULL);
    CHECK(r == -1 && errno == EINTR, "main nanosleep ended by kill() with busy threads around");
    CHECK(pthread_equal(atomic_load(&kill_self), pthread_self()), "handler in the main thread");
    CHECK_EQ(child, atomic_load(&kill_pid), "si_pid: the sender");
    CHECK_EQ(SI_USER, atomic_load(&kill_code), "si_code");
    stop_child(child);
    printf("kill with busy threads: ends the main thread's nanosleep, handler in main with the sender's siginfo ok\n");

    atomic_store(&kill_self, (pthread_t)0);
    child = kill_me_soon();
    CHECK_EQ(-1, pause(), "pause");
    CHECK(pthread_equal(atomic_load(&kill_self), pthread_self()), "handler in the main thread (pause)");
    stop_child(child);
    printf("kill with busy threads: ends the main thread's pause ok\n");
    atomic_store(&stop_busy, 1);
    for (int i = 0; i < 2; i++)
        CHECK_OK(pthread_join(t[i], NULL));
}

int main(void)
{
    install(0);
    for (int k = NANOSLEEP; k <= SELECT; k++)
        interrupted((enum kind)k, 0);
    interrupted(NANOSLEEP, 1);
    install(SA_RESTART);
    interrupted(NANOSLEEP, 0);
    interrupted(SLEEP, 0);
    not_interrupted(blocked_sleeper, SIGUSR1, "SIGUSR1 blocked in the sleeper");
    signal(SIGUSR2, SIG_IGN);
    not_interrupted(ignored_sleeper, SIGUSR2, "SIGUSR2 ignored");
    process_directed();
    main_preferred();
    return 0;
}
