/* Shared checks for goro's subject programs.
 *
 * Subject programs run natively and under goro; the bats suites compare
 * stdout and the exit status byte for byte.  So everything printed here is
 * deterministic (no addresses, timings or thread-order-dependent lines), and
 * a failed check prints what it expected and what it saw, then exits 1:
 * the diff in the test report then names the broken check. */
#ifndef GORO_PROGS_CHECK_H
#define GORO_PROGS_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_FAIL(...) do {                                              \
        fflush(stdout);                                                   \
        printf("FAIL %s:%d: ", __FILE__, __LINE__);                       \
        printf(__VA_ARGS__);                                              \
        printf("\n");                                                     \
        fflush(stdout);                                                   \
        _exit(1);                                                         \
    } while (0)

/* Integers: CHECK_EQ(expected, seen, "what") */
#define CHECK_EQ(exp, seen, what) do {                                    \
        long long e_ = (long long)(exp), s_ = (long long)(seen);          \
        if (e_ != s_)                                                     \
            CHECK_FAIL("%s: expected %lld, saw %lld", (what), e_, s_);    \
    } while (0)

/* Truth: CHECK(cond, "what") */
#define CHECK(cond, what) do {                                            \
        if (!(cond))                                                      \
            CHECK_FAIL("%s: expected true: %s", (what), #cond);           \
    } while (0)

/* Strings */
#define CHECK_STREQ(exp, seen, what) do {                                 \
        const char *e_ = (exp), *s_ = (seen);                             \
        if (strcmp(e_, s_) != 0)                                          \
            CHECK_FAIL("%s: expected \"%s\", saw \"%s\"", (what), e_, s_);\
    } while (0)

/* A pthread-style call that returns 0 or an error number. */
#define CHECK_OK(call) do {                                               \
        int r_ = (call);                                                  \
        if (r_ != 0)                                                      \
            CHECK_FAIL("%s: expected 0, saw %d (%s)", #call, r_,          \
                       strerror(r_));                                     \
    } while (0)

#include <pthread.h>
#include <time.h>
#include <unistd.h>

/* Is a before b? */
static inline int check_ts_before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec ||
           (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* t plus ms milliseconds */
static inline struct timespec check_ts_add_ms(struct timespec t, long ms)
{
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

/* Clock c's time ms milliseconds from now: an absolute deadline. */
static inline struct timespec check_deadline_in(clockid_t c, long ms)
{
    struct timespec t;
    clock_gettime(c, &t);
    return check_ts_add_ms(t, ms);
}

/* Clock c's time in nanoseconds. */
static inline long long check_now_ns(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Runs fn(arg) on a new thread and returns what it returned, as an int
 * (an error number, say). */
static inline int check_on_other_thread(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    void *r;
    CHECK_OK(pthread_create(&t, NULL, fn, arg));
    CHECK_OK(pthread_join(t, &r));
    return (int)(long)r;
}

#endif
