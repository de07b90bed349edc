/* poll, select and epoll_wait with timeouts.
 *
 *  - poll() on one pipe fd with a 5 s timeout returns 1 (POLLIN) once
 *    another thread writes 30 ms later, well before the timeout;
 *  - poll(NULL, 0, 30) sleeps ~30 ms (never returns early);
 *  - select(0, NULL, NULL, NULL, 30 ms) sleeps ~30 ms;
 *  - epoll_wait() on the program's own epoll fd gets the event a thread
 *    writes 30 ms later, then returns 0 after a 30 ms timeout when nothing
 *    comes;
 *  - while main waits in each call, a counter thread keeps running (with
 *    GOMAXPROCS=1 that means the waits park the G rather than block the M).
 *
 * Timings are checked with generous upper bounds; only pass/fail lines are
 * printed. */
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
static void *delayed_write(void *arg)
{
    msleep(30);
    CHECK_EQ(1, write(wfd, "x", 1), "delayed write()");
    return NULL;
}

/* checks that a wait of about `want` ms took [want - 1, want + slack] ms
 * and that the ticker advanced meanwhile */
static void check_elapsed(const char *what, double t0, double want, long ticks0)
{
    double el = now_ms() - t0;
    if (el < want - 1)
        CHECK_FAIL("%s: expected to wait >= %.0f ms, returned after %.1f ms", what, want, el);
    if (el > want + 1000)
        CHECK_FAIL("%s: expected to wait ~%.0f ms, took %.1f ms", what, want, el);
    long dt = atomic_load(&ticks) - ticks0;
    if (dt < 3)
        CHECK_FAIL("%s: expected another thread to run while it waited (>= 3 ticks of 1 ms), saw %ld",
                   what, dt);
}

int main(void)
{
    pthread_t tick, w;
    CHECK_OK(pthread_create(&tick, NULL, ticker, NULL));
    msleep(5);

    /* poll() on one fd, data 30 ms later */
    int p[2];
    CHECK_EQ(0, pipe(p), "pipe()");
    wfd = p[1];
    CHECK_OK(pthread_create(&w, NULL, delayed_write, NULL));
    struct pollfd pfd = { .fd = p[0], .events = POLLIN };
    double t0 = now_ms();
    long k0 = atomic_load(&ticks);
    int r = poll(&pfd, 1, 5000);
    CHECK_EQ(1, r, "poll(1 fd, 5000 ms) with data after 30 ms");
    CHECK_EQ(POLLIN, pfd.revents, "poll revents");
    check_elapsed("poll(1 fd) until data", t0, 30 - 5, k0);
    CHECK_OK(pthread_join(w, NULL));
    char c;
    CHECK_EQ(1, read(p[0], &c, 1), "read()");
    /* and a poll that times out */
    t0 = now_ms(); k0 = atomic_load(&ticks);
    CHECK_EQ(0, poll(&pfd, 1, 30), "poll(1 fd, 30 ms) with no data");
    check_elapsed("poll(1 fd, 30 ms) timeout", t0, 30, k0);
    printf("poll: one fd readable after another thread's write; 30 ms timeout returns 0\n");

    /* poll(NULL, 0, 30) */
    t0 = now_ms(); k0 = atomic_load(&ticks);
    CHECK_EQ(0, poll(NULL, 0, 30), "poll(NULL, 0, 30)");
    check_elapsed("poll(NULL, 0, 30)", t0, 30, k0);
    printf("poll(NULL, 0, 30): slept\n");

    /* select(0, ...) with a timeval */
    struct timeval tv = { 0, 30000 };
    t0 = now_ms(); k0 = atomic_load(&ticks);
    CHECK_EQ(0, select(0, NULL, NULL, NULL, &tv), "select(0, NULL, NULL, NULL, 30 ms)");
    check_elapsed("select(0, 30 ms)", t0, 30, k0);
    /* select on the pipe with a timeout, data 30 ms later */
    CHECK_OK(pthread_create(&w, NULL, delayed_write, NULL));
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    tv = (struct timeval){ 5, 0 };
    t0 = now_ms(); k0 = atomic_load(&ticks);
    CHECK_EQ(1, select(p[0] + 1, &rs, NULL, NULL, &tv), "select(pipe, 5 s) with data after 30 ms");
    CHECK(FD_ISSET(p[0], &rs), "select: the pipe is readable");
    check_elapsed("select(pipe) until data", t0, 30 - 5, k0);
    CHECK_OK(pthread_join(w, NULL));
    CHECK_EQ(1, read(p[0], &c, 1), "read()");
    printf("select: nfds=0 sleeps; the pipe readable after another thread's write\n");

    /* epoll_wait on the program's own epoll fd */
    int ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK(ep >= 0, "epoll_create1()");
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0x1234 };
    CHECK_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), "epoll_ctl(ADD)");
    CHECK_OK(pthread_create(&w, NULL, delayed_write, NULL));
    struct epoll_event out[4];
    t0 = now_ms(); k0 = atomic_load(&ticks);
    r = epoll_wait(ep, out, 4, 5000);
    CHECK_EQ(1, r, "epoll_wait(5000 ms) with data after 30 ms");
    CHECK_EQ(0x1234, out[0].data.u64, "epoll_wait event data");
    CHECK_EQ(EPOLLIN, out[0].events, "epoll_wait events");
    check_elapsed("epoll_wait until data", t0, 30 - 5, k0);
    CHECK_OK(pthread_join(w, NULL));
    CHECK_EQ(1, read(p[0], &c, 1), "read()");
    t0 = now_ms(); k0 = atomic_load(&ticks);
    CHECK_EQ(0, epoll_wait(ep, out, 4, 30), "epoll_wait(30 ms) with nothing");
    check_elapsed("epoll_wait(30 ms) timeout", t0, 30, k0);
    printf("epoll_wait: event from another thread; 30 ms timeout returns 0\n");

    atomic_store(&stop, 1);
    CHECK_OK(pthread_join(tick, NULL));
    close(ep);
    close(p[0]);
    close(p[1]);
    return 0;
}
