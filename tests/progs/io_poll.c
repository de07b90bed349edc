/* poll, select and epoll_wait with timeouts.
 *
 *  - poll() on one pipe fd with a 5 s timeout returns 1 (POLLIN) once
 *    another thread writes, well before the timeout;
 *  - poll(NULL, 0, 30) sleeps ~30 ms (never returns early);
 *  - select(0, NULL, NULL, NULL, 30 ms) sleeps ~30 ms;
 *  - epoll_wait() on the program's own epoll fd gets the event a thread
 *    writes, then returns 0 after a 30 ms timeout when nothing comes;
 *  - while main waits in each call, a counter thread keeps running (with
 *    GOMAXPROCS=1 that means the waits park the G rather than block the M).
 *
 * The writer writes once the counter thread has ticked 3 times since main
 * began its wait and main is seen blocked (check_wait_blocked).  A wait
 * that times out must not end early, and is run again (10 times at most)
 * until the counter ticked 3 times during one: a loaded machine may starve
 * the counter for 30 ms.  Only pass/fail lines are printed. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>
#include "check.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void msleep(int ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static atomic_int stop;
static atomic_long ticks;

/* runs while main waits: 1 ms sleeps, counted */
static void *ticker(void *arg)
{
    while (!atomic_load(&stop)) {
        msleep(1);
        atomic_fetch_add(&ticks, 1);
    }
    return NULL;
}

static int wfd;
static atomic_long wait_k0; /* ticks when main began its wait */

static void *delayed_write(void *arg)
{
    while (atomic_load(&ticks) < atomic_load(&wait_k0) + 3)
        msleep(1);
    check_wait_blocked(); /* main is in its call */
    CHECK_EQ(1, write(wfd, "x", 1), "delayed write()");
    return NULL;
}

/* Starts the writer for a wait that begins now; returns the tick count. */
static long start_writer(pthread_t *w)
{
    long k0 = atomic_load(&ticks);
    atomic_store(&wait_k0, k0);
    CHECK_OK(pthread_create(w, NULL, delayed_write, NULL));
    return k0;
}

/* the ticker advanced while main waited for the writer */
static void check_ticked(const char *what, long k0)
{
    long dt = atomic_load(&ticks) - k0;
    if (dt < 3)
        CHECK_FAIL("%s: expected another thread to run while it waited (>= 3 ticks of 1 ms), saw %ld",
                   what, dt);
}

/* A wait that times out after `want` ms: fn() must return `expect` and
 * not before `want` ms (less 1, the clock's rounding); and in one of 10
 * runs at most the ticker ticked 3 times meanwhile. */
static void timed_out(const char *what, double want, int expect, int (*fn)(void))
{
    for (int run = 1;; run++) {
        double t0 = now_ms();
        long k0 = atomic_load(&ticks);
        int r = fn();
        double el = now_ms() - t0;
        long dt = atomic_load(&ticks) - k0;
        CHECK_EQ(expect, r, what);
        if (el < want - 1)
            CHECK_FAIL("%s: expected to wait >= %.0f ms, returned after %.1f ms", what, want, el);
        if (dt >= 3)
            return;
        if (run == 10)
            CHECK_FAIL("%s: expected another thread to run while it waited (>= 3 ticks of 1 ms) "
                       "in one of 10 waits, saw %ld in the last", what, dt);
    }
}

static int p[2], ep;

static int poll_pipe_30(void)
{
    struct pollfd pfd = { .fd = p[0], .events = POLLIN };
    return poll(&pfd, 1, 30);
}

static int poll_nothing_30(void) { return poll(NULL, 0, 30); }

static int select_nothing_30(void)
{
    struct timeval tv = { 0, 30000 };
    return select(0, NULL, NULL, NULL, &tv);
}

static int epoll_30(void)
{
    struct epoll_event out[4];
    return epoll_wait(ep, out, 4, 30);
}

int main(void)
{
    pthread_t tick, w;
    CHECK_OK(pthread_create(&tick, NULL, ticker, NULL));
    msleep(5);

    /* poll() on one fd, data written while it waits */
    CHECK_EQ(0, pipe(p), "pipe()");
    wfd = p[1];
    struct pollfd pfd = { .fd = p[0], .events = POLLIN };
    long k0 = start_writer(&w);
    int r = poll(&pfd, 1, 5000);
    CHECK_EQ(1, r, "poll(1 fd, 5000 ms) with data written meanwhile");
    CHECK_EQ(POLLIN, pfd.revents, "poll revents");
    check_ticked("poll(1 fd) until data", k0);
    CHECK_OK(pthread_join(w, NULL));
    char c;
    CHECK_EQ(1, read(p[0], &c, 1), "read()");
    /* and a poll that times out */
    timed_out("poll(1 fd, 30 ms) timeout", 30, 0, poll_pipe_30);
    printf("poll: one fd readable after another thread's write; 30 ms timeout returns 0\n");

    /* poll(NULL, 0, 30) */
    timed_out("poll(NULL, 0, 30)", 30, 0, poll_nothing_30);
    printf("poll(NULL, 0, 30): slept\n");

    /* select(0, ...) with a timeval */
    timed_out("select(0, 30 ms)", 30, 0, select_nothing_30);
    /* select on the pipe with a timeout, data written while it waits */
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    struct timeval tv = { 5, 0 };
    k0 = start_writer(&w);
    CHECK_EQ(1, select(p[0] + 1, &rs, NULL, NULL, &tv), "select(pipe, 5 s) with data written meanwhile");
    CHECK(FD_ISSET(p[0], &rs), "select: the pipe is readable");
    check_ticked("select(pipe) until data", k0);
    CHECK_OK(pthread_join(w, NULL));
    CHECK_EQ(1, read(p[0], &c, 1), "read()");
    printf("select: nfds=0 sleeps; the pipe readable after another thread's write\n");

    /* epoll_wait on the program's own epoll fd */
    ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK(ep >= 0, "epoll_create1()");
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0x1234 };
    CHECK_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), "epoll_ctl(ADD)");
    struct epoll_event out[4];
    k0 = start_writer(&w);
    r = epoll_wait(ep, out, 4, 5000);
    CHECK_EQ(1, r, "epoll_wait(5000 ms) with data written meanwhile");
    CHECK_EQ(0x1234, out[0].data.u64, "epoll_wait event data");
    CHECK_EQ(EPOLLIN, out[0].events, "epoll_wait events");
    check_ticked("epoll_wait until data", k0);
    CHECK_OK(pthread_join(w, NULL));
    CHECK_EQ(1, read(p[0], &c, 1), "read()");
    timed_out("epoll_wait(30 ms) timeout", 30, 0, epoll_30);
    printf("epoll_wait: event from another thread; 30 ms timeout returns 0\n");

    atomic_store(&stop, 1);
    CHECK_OK(pthread_join(tick, NULL));
    close(ep);
    close(p[0]);
    close(p[1]);
    return 0;
}
