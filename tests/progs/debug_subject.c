/* debug_subject [SLEEPERS]: a long-running subject for tests/debug.bats and
 * tests/observe.bats.
 *
 * Four named workers take a mutex and sleep 5 ms in a loop; a fifth thread
 * waits on a condition variable; SLEEPERS more threads (default 0) sleep
 * 20 ms in a loop.  Main prints "ready" once they all exist and the waiter
 * is in pthread_cond_wait (the debug
 * listener, if any, is up: it is bound before main), then reads stdin until
 * end of file: the test keeps a pipe open for as long as it wants the
 * subject alive (with stdin /dev/null the subject ends at once).  Then
 * everything is joined, the lines below are printed and the exit status is
 * 3 (so the suite can see it unchanged):
 *   workers joined: 4
 *   waiter joined
 *   sleepers joined: N        (only with SLEEPERS > 0) */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define NWORKERS 4
#define MAX_SLEEPERS 10000

static atomic_int stop;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long counter;
static int waiting; /* under mu: the waiter is in (or entering) cond_wait */

static void *worker(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 5 * 1000 * 1000};
    do {
        pthread_mutex_lock(&mu);
        counter++;
        pthread_mutex_unlock(&mu);
        nanosleep(&ts, NULL);
    } while (!atomic_load(&stop));
    return NULL;
}

static void *waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    waiting = 1;
    while (!atomic_load(&stop))
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return NULL;
}

static void *sleeper(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 20 * 1000 * 1000};
    while (!atomic_load(&stop))
        nanosleep(&ts, NULL);
    return NULL;
}

int main(int argc, char **argv)
{
    long nsleepers = argc == 2 ? atol(argv[1]) : 0;
    if (argc > 2 || nsleepers < 0 || nsleepers > MAX_SLEEPERS) {
        fprintf(stderr, "usage: %s [SLEEPERS (0-%d)]\n", argv[0], MAX_SLEEPERS);
        return 2;
    }
    static pthread_t s[MAX_SLEEPERS];
    pthread_t w[NWORKERS], cw;
    for (int i = 0; i < NWORKERS; i++) {
        CHECK_EQ(0, pthread_create(&w[i], NULL, worker, NULL), "pthread_create");
        char name[16];
        snprintf(name, sizeof name, "worker-%d", i);
        CHECK_EQ(0, pthread_setname_np(w[i], name), "pthread_setname_np");
    }
    CHECK_EQ(0, pthread_create(&cw, NULL, waiter, NULL), "pthread_create");
    CHECK_EQ(0, pthread_setname_np(cw, "waiter"), "pthread_setname_np");
    for (long i = 0; i < nsleepers; i++)
        CHECK_EQ(0, pthread_create(&s[i], NULL, sleeper, NULL), "pthread_create");
    /* The waiter set `waiting` under the mutex and only lets it go in
     * cond_wait: once main holds the mutex with `waiting` set, the waiter
     * is waiting (what /debug/goroutines must show). */
    for (;;) {
        pthread_mutex_lock(&mu);
        int w = waiting;
        pthread_mutex_unlock(&mu);
        if (w)
            break;
        usleep(1000);
    }
    printf("ready\n");
    fflush(stdout);

    char buf[256];
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) != 0)
        if (n < 0 && errno != EINTR)
            CHECK_FAIL("read(stdin): %s", strerror(errno));

    pthread_mutex_lock(&mu);
    atomic_store(&stop, 1);
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < NWORKERS; i++)
        CHECK_EQ(0, pthread_join(w[i], NULL), "pthread_join");
    CHECK_EQ(0, pthread_join(cw, NULL), "pthread_join");
    for (long i = 0; i < nsleepers; i++)
        CHECK_EQ(0, pthread_join(s[i], NULL), "pthread_join");
    CHECK(counter > 0, "the workers ran");
    printf("workers joined: %d\nwaiter joined\n", NWORKERS);
    if (nsleepers > 0)
        printf("sleepers joined: %ld\n", nsleepers);
    return 3;
}
