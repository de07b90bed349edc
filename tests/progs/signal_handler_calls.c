/* A signal handler that calls interposed functions while its thread waits
 * in sigsuspend (issue 10: a handler's pthread_self() while main's P was
 * detached ran the scheduler without a P and crashed, ~1 run in 30 of
 * signal_sleep at GOMAXPROCS=1).  Two threads compute without making a
 * call (so the runtime keeps asking them to yield, and may ask main just
 * as it goes to wait); one of them sends SIGUSR1 to main each time main
 * waits in sigsuspend.  The handler calls pthread_self, pthread_equal,
 * pthread_getspecific, a mutex trylock/unlock, sched_yield and sem_post;
 * main checks each round that sigsuspend ended with EINTR after exactly one
 * handler run that saw main's own identity. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include "check.h"

#define ROUNDS 150

static pthread_t main_thread;
static pthread_key_t key;
static pthread_mutex_t hm = PTHREAD_MUTEX_INITIALIZER;
static sem_t posted;
static atomic_int waiting, stop, handled, wrong;

static void handler(int sig)
{
    int e = errno;
    if (!pthread_equal(pthread_self(), main_thread) || pthread_getspecific(key) != &key)
        atomic_fetch_add(&wrong, 1);
    if (pthread_mutex_trylock(&hm) == 0)
        pthread_mutex_unlock(&hm);
    sched_yield();
    sem_post(&posted);
    atomic_fetch_add(&handled, 1);
    errno = e;
}

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *busy(void *arg)
{
    int sender = arg != NULL;
    volatile unsigned long x = 0;
    while (!atomic_load(&stop)) {
        long long until = now_ns() + 12 * 1000000LL; /* past one 10 ms slice */
        while (now_ns() < until)
            for (int i = 0; i < 1000; i++)
                x += (unsigned long)i;
        if (sender && atomic_exchange(&waiting, 0))
            CHECK_EQ(0, pthread_kill(main_thread, SIGUSR1), "pthread_kill");
    }
    return NULL;
}

int main(void)
{
    main_thread = pthread_self();
    CHECK_EQ(0, pthread_key_create(&key, NULL), "pthread_key_create");
    CHECK_EQ(0, pthread_setspecific(key, &key), "pthread_setspecific");
    CHECK_EQ(0, sem_init(&posted, 0, 0), "sem_init");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    CHECK_EQ(0, sigaction(SIGUSR1, &sa, NULL), "sigaction");
    sigset_t block, waitmask;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    CHECK_EQ(0, pthread_sigmask(SIG_BLOCK, &block, &waitmask), "pthread_sigmask");
    sigdelset(&waitmask, SIGUSR1);

    pthread_t t[2];
    for (long i = 0; i < 2; i++)
        CHECK_EQ(0, pthread_create(&t[i], NULL, busy, (void *)i), "pthread_create");
    for (int r = 0; r < ROUNDS; r++) {
        atomic_store(&waiting, 1);
        errno = 0;
        int rc = sigsuspend(&waitmask);
        CHECK_EQ(-1, rc, "sigsuspend");
        CHECK_EQ(EINTR, errno, "sigsuspend's errno");
        CHECK_EQ(0, sem_wait(&posted), "sem_wait for the handler's post");
        CHECK_EQ(r + 1, atomic_load(&handled), "handler runs");
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; i++)
        CHECK_EQ(0, pthread_join(t[i], NULL), "pthread_join");
    CHECK_EQ(0, atomic_load(&wrong), "handler runs that saw another thread's identity");
    printf("%d rounds: sigsuspend ended with EINTR after one handler run each, in main\n", ROUNDS);
    return 0;
}
