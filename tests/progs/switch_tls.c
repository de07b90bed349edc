/* Every G switch keeps each thread's own TLS (issue 9: at most one %fs
 * write per switch, none when the same G resumes).  Modes, each the shape
 * of a benchmark, with every thread checking after every switch that its
 * __thread variable and errno are still its own:
 *   create_join  threads created and joined one at a time
 *   yield_pingpong [N]  two threads hand a turn back and forth with
 *                sched_yield, N rounds (20,000); natively each hand-off
 *                waits for the kernel to run the other thread, which on a
 *                loaded host takes a time slice
 *   cond_pingpong   the same through a mutex and a condition variable
 *   yield_alone  one thread yields in a loop (nothing else to run)
 * A switch that skipped a needed %fs write would show another thread's
 * value here. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include "check.h"

#define ROUNDS 20000

static int rounds = ROUNDS; /* argv[2]: fewer for a mode natively slow under load */

static __thread uintptr_t mine;
static atomic_int turn;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int cturn;

static void own(uintptr_t id)
{
    mine = id;
    errno = (int)id;
}

static void still_own(uintptr_t id)
{
    if (mine != id || errno != (int)id)
        CHECK_FAIL("thread %lu: __thread %lu, errno %d after a switch", (unsigned long)id,
                   (unsigned long)mine, errno);
}

static void *ret_id(void *arg)
{
    own((uintptr_t)arg);
    sched_yield();
    still_own((uintptr_t)arg);
    return (void *)mine;
}

static void *yielder(void *arg)
{
    int me = (int)(intptr_t)arg;
    own(100 + (uintptr_t)me);
    for (int r = 0; r < rounds; r++) {
        while (atomic_load(&turn) != me) {
            sched_yield();
            still_own(100 + (uintptr_t)me);
        }
        atomic_store(&turn, 1 - me);
    }
    return NULL;
}

static void *condplayer(void *arg)
{
    int me = (int)(intptr_t)arg;
    own(200 + (uintptr_t)me);
    for (int r = 0; r < ROUNDS; r++) {
        pthread_mutex_lock(&mu);
        while (cturn != me) {
            pthread_cond_wait(&cv, &mu);
            still_own(200 + (uintptr_t)me);
        }
        cturn = 1 - me;
        pthread_cond_signal(&cv);
        pthread_mutex_unlock(&mu);
        still_own(200 + (uintptr_t)me);
    }
    return NULL;
}

static void pair(void *(*fn)(void *))
{
    pthread_t t[2];
    own(7);
    for (intptr_t i = 0; i < 2; i++)
        CHECK_EQ(0, pthread_create(&t[i], NULL, fn, (void *)i), "pthread_create");
    for (int i = 0; i < 2; i++)
        CHECK_EQ(0, pthread_join(t[i], NULL), "pthread_join");
    still_own(7);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (argc > 2)
        rounds = atoi(argv[2]);
    if (strcmp(mode, "create_join") == 0) {
        own(1);
        for (uintptr_t i = 0; i < ROUNDS / 4; i++) {
            pthread_t t;
            void *r;
            CHECK_EQ(0, pthread_create(&t, NULL, ret_id, (void *)(i + 1000)), "pthread_create");
            CHECK_EQ(0, pthread_join(t, &r), "pthread_join");
            CHECK_EQ(i + 1000, (uintptr_t)r, "the thread's own __thread value");
            still_own(1);
        }
    } else if (strcmp(mode, "yield_pingpong") == 0) {
        pair(yielder);
    } else if (strcmp(mode, "cond_pingpong") == 0) {
        pair(condplayer);
    } else if (strcmp(mode, "yield_alone") == 0) {
        own(3);
        for (int r = 0; r < ROUNDS; r++) {
            sched_yield();
            still_own(3);
        }
    } else {
        printf("usage: switch_tls create_join|yield_pingpong|cond_pingpong|yield_alone\n");
        return 2;
    }
    printf("%s: every thread kept its own __thread and errno\n", mode);
    return 0;
}
