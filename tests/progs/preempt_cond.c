/* Condvar ping-pong for ROUNDS hand-offs (argument, default 200000): under
 * goro almost all of the time is spent in goro's own code (parking, waking,
 * switching), and the waker's time slice passes to the woken thread, so
 * sysmon keeps asking the running thread to yield and its preemption
 * signals land inside the runtime, where the thread must not be stopped
 * (sched/preempt.c).  tests/preempt.bats runs it with the library under
 * another file name too. */
#include <pthread.h>
#include <stdlib.h>
#include "check.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv[2] = { PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER };
static int turn;
static long rounds;
static long done[2];

static void *player(void *arg)
{
    int me = (int)(long)arg;
    CHECK_OK(pthread_mutex_lock(&mu));
    for (long i = 0; i < rounds; i++) {
        while (turn != me)
            CHECK_OK(pthread_cond_wait(&cv[me], &mu));
        done[me]++;
        turn = 1 - me;
        CHECK_OK(pthread_cond_signal(&cv[1 - me]));
    }
    CHECK_OK(pthread_mutex_unlock(&mu));
    return NULL;
}

int main(int argc, char **argv)
{
    rounds = argc > 1 ? atol(argv[1]) : 200000;
    pthread_t t[2];
    for (long i = 0; i < 2; i++)
        CHECK_OK(pthread_create(&t[i], NULL, player, (void *)i));
    for (int i = 0; i < 2; i++)
        CHECK_OK(pthread_join(t[i], NULL));
    CHECK_EQ(rounds, done[0], "rounds of player 0");
    CHECK_EQ(rounds, done[1], "rounds of player 1");
    printf("cond ping-pong: %ld rounds each\n", rounds);
    return 0;
}
