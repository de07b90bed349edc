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

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#ifndef __cplusplus
#include <stdatomic.h>
#endif
#include <sys/syscall.h>
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

/* System calls made directly (x86_64), so that a look at /proc does not
 * go through goro's wrappers and show up in its counters (syscalls,
 * handoffs) that the suites check. */
static inline long check_raw3(long nr, long a, long b, long c)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return r;
}

/* The state letter of thread tid of this process (R, S, D...), 0 if gone. */
static inline char check_thread_state(long tid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/self/task/%ld/stat", tid);
    long fd = check_raw3(SYS_openat, AT_FDCWD, (long)path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    long n = check_raw3(SYS_read, fd, (long)buf, sizeof buf - 1);
    check_raw3(SYS_close, fd, 0, 0);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    const char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : 0;
}

/* Is every kernel thread of this process but the caller's asleep (state S
 * in /proc/self/task/TID/stat)?  A thread waiting for a CPU is R, one in a
 * page fault D: neither counts as asleep. */
static inline int check_others_asleep(void)
{
    long self = check_raw3(SYS_gettid, 0, 0, 0), all = 1;
    long dfd = check_raw3(SYS_openat, AT_FDCWD, (long)"/proc/self/task",
                          O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        CHECK_FAIL("open /proc/self/task: %s", strerror((int)-dfd));
    union { char b[4096]; long align; } u;
    long n;
    while (all && (n = check_raw3(SYS_getdents64, dfd, (long)u.b, sizeof u.b)) > 0) {
        for (long off = 0; off < n;) {
            const char *rec = u.b + off;
            unsigned short reclen;
            memcpy(&reclen, rec + 16, sizeof reclen); /* linux_dirent64: ino, off, reclen, type, name */
            long tid = atol(rec + 19);
            off += reclen;
            if (tid <= 0 || tid == self)
                continue;
            char st = check_thread_state(tid);
            if (st != 0 && st != 'S')
                all = 0;
        }
    }
    check_raw3(SYS_close, dfd, 0, 0);
    return (int)all;
}

/* The handshake "the threads I wait for have blocked": returns once every
 * other kernel thread of the process is asleep, seen twice in a row with a
 * 200 us sleep before each look.  Call it after the other threads said
 * (through a flag) that they are about to block, and only where every
 * other thread then blocks: it waits for as long as one keeps running.
 *
 * Natively a thread is a kernel thread, so this is exact: they are all
 * in the kernel, waiting.  Under goro a parked thread has no kernel thread
 * at all; what the kernel shows is the Ms, and they are all asleep only
 * when no M runs a thread (the caller's excepted) and none is about to:
 * the caller's own sleeps park it, so with one P a thread still waiting
 * for the P runs then, and with several an idle P with work wakes an M,
 * which is R until it has run it. */
static inline void check_wait_blocked(void)
{
    for (int seen = 0; seen < 2;) {
        usleep(200);
        seen = check_others_asleep() ? seen + 1 : 0;
    }
}

/* A process-shared mutex and condition variable (glibc's own waits under
 * goro). */
static inline void check_pshared_init(pthread_mutex_t *m, pthread_cond_t *c)
{
    pthread_mutexattr_t ma;
    pthread_condattr_t ca;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_condattr_init(&ca);
    pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
    CHECK_OK(pthread_mutex_init(m, &ma));
    CHECK_OK(pthread_cond_init(c, &ca));
    pthread_mutexattr_destroy(&ma);
    pthread_condattr_destroy(&ca);
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

#include <signal.h>

/* Catch sig with handler h (no flags, nothing else blocked). */
static inline void check_catch(int sig, void (*h)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0)
        CHECK_FAIL("sigaction(%d): %s", sig, strerror(errno));
}

/* Installs fn as the handler of sig, with sa_flags `flags`. */
static inline void check_handler(int sig, void (*fn)(int), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = flags;
    CHECK_EQ(0, sigaction(sig, &sa, NULL), "sigaction");
}

#ifndef __cplusplus
/* Starts fn(arg) on a new thread and returns once it has set *ready (it
 * says so just before it waits); with `settle`, once every other thread
 * sleeps as well (check_wait_blocked). */
static inline pthread_t check_start_ready(void *(*fn)(void *), void *arg, atomic_int *ready, int settle)
{
    pthread_t t;
    atomic_store(ready, 0);
    CHECK_OK(pthread_create(&t, NULL, fn, arg));
    while (!atomic_load(ready))
        sched_yield();
    if (settle)
        check_wait_blocked();
    return t;
}
#endif

#endif
