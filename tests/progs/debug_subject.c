/* debug_subject STOPFILE: a long-running subject for tests/debug.bats.
 *
 * Four named workers take a mutex and sleep 5 ms in a loop; a fifth thread
 * waits on a condition variable.  Main prints "ready" (the debug listener,
 * if any, is up: it is bound before main), then checks every 20 ms for
 * STOPFILE; when it appears everything is joined, two lines are printed and
 * the exit status is 3 (so the suite can see it unchanged).  Without
 * STOPFILE for 60 s it prints "timeout" and exits 4. */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define NWORKERS 4

static atomic_int stop;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long counter;

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
    while (!atomic_load(&stop))
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s STOPFILE\n", argv[0]);
        return 2;
    }
    pthread_t w[NWORKERS], cw;
    for (int i = 0; i < NWORKERS; i++) {
        CHECK_EQ(0, pthread_create(&w[i], NULL, worker, NULL), "pthread_create");
        char name[16];
        snprintf(name, sizeof name, "worker-%d", i);
        CHECK_EQ(0, pthread_setname_np(w[i], name), "pthread_setname_np");
    }
    CHECK_EQ(0, pthread_create(&cw, NULL, waiter, NULL), "pthread_create");
    CHECK_EQ(0, pthread_setname_np(cw, "waiter"), "pthread_setname_np");
    printf("ready\n");
    fflush(stdout);

    struct timespec tick = {0, 20 * 1000 * 1000};
    int stopped = 0;
    for (int i = 0; i < 60 * 50; i++) {
        if (access(argv[1], F_OK) == 0) {
            stopped = 1;
            break;
        }
        nanosleep(&tick, NULL);
    }
    pthread_mutex_lock(&mu);
    atomic_store(&stop, 1);
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < NWORKERS; i++)
        CHECK_EQ(0, pthread_join(w[i], NULL), "pthread_join");
    CHECK_EQ(0, pthread_join(cw, NULL), "pthread_join");
    CHECK(counter > 0, "the workers ran");
    if (!stopped) {
        printf("timeout\n");
        return 4;
    }
    printf("workers joined: %d\nwaiter joined\n", NWORKERS);
    return 3;
}
