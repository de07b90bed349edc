/* Timer slack is per thread, as natively: a thread starts with its
 * creator's, PR_SET_TIMERSLACK changes only its own, and PR_GET_TIMERSLACK
 * reads it back; each thread's kernel waits get it.  Under goro the kernel
 * thread of an M keeps 1 ns for the runtime's own timed waits, which a G
 * used to see (PR_GET gave 1) and whose raw futex waits it used to get: a
 * 5 us futex wait then ended before a waker could reach it, where natively
 * the default 50 us slack stretched it (docs/ARCHITECTURE.md, "Timers").
 * Prints each thread's slack at each step; the 4 rounds move the threads
 * between kernel threads under goro (a raw futex call and a sleep each). */
#include <linux/futex.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include "check.h"

static long slack(void) { return (long)prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0); }

/* Each thread's lines, printed after the join: the order stays fixed. */
static char wlog[1024], mlog[1024];
#define LOG(buf, ...) snprintf(buf + strlen(buf), sizeof buf - strlen(buf), __VA_ARGS__)

/* A raw futex call that returns at once (the word is not 1) and a short
 * sleep: both may move the caller to another kernel thread under goro. */
static void move(void)
{
    static int word;
    struct timespec ts = { 0, 5000 };
    long r = syscall(SYS_futex, &word, FUTEX_WAIT, 1, &ts, NULL, 0);
    CHECK_EQ(-1, r, "futex wait on a mismatched word");
    usleep(100);
}

static void *child(void *arg)
{
    LOG(wlog, "child starts with its creator's: %ld\n", slack());
    return arg;
}

static void *worker(void *arg)
{
    long start = slack();
    LOG(wlog, "worker starts with main's: %s\n", start == (long)arg ? "yes" : "no");
    CHECK_OK(prctl(PR_SET_TIMERSLACK, 200000, 0, 0, 0));
    for (int i = 0; i < 4; i++) {
        move();
        LOG(wlog, "worker after round %d: %ld\n", i, slack());
    }
    pthread_t c;
    CHECK_OK(pthread_create(&c, NULL, child, NULL));
    CHECK_OK(pthread_join(c, NULL));
    CHECK_OK(prctl(PR_SET_TIMERSLACK, 0, 0, 0, 0)); /* 0: back to the default */
    LOG(wlog, "worker reset to the default: %s\n", slack() == (long)arg ? "yes" : "no");
    return NULL;
}

int main(void)
{
    long def = slack();
    printf("main has a slack above 1 ns: %s\n", def > 1 ? "yes" : "no");
    pthread_t t;
    CHECK_OK(pthread_create(&t, NULL, worker, (void *)def));
    for (int i = 0; i < 4; i++) {
        move();
        LOG(mlog, "main after round %d unchanged: %s\n", i, slack() == def ? "yes" : "no");
    }
    CHECK_OK(pthread_join(t, NULL));
    printf("%s%s", mlog, wlog);
    printf("main at the end unchanged: %s\n", slack() == def ? "yes" : "no");
    return 0;
}
