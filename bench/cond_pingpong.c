/* cond_pingpong - mutex + condition variable ping-pong between two threads.
 *
 *   cond_pingpong [-n HANDOFFS] [-t MAX_SECONDS]
 *
 * The two threads pass a "turn" back and forth under one mutex, each waiting
 * on its own condition variable.  Reports nanoseconds per hand-off.  Stops
 * early after MAX_SECONDS (default 2).
 */
#include "bench.h"

#include <pthread.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv[2] = {PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER};
static int turn;
static int stop;
static int capped;
static long target;
static long long deadline_ns;
static long handoffs[2];

static void *player(void *arg)
{
    int me = (int)(long)arg;
    long mine = 0;
    pthread_mutex_lock(&mu);
    for (;;) {
        while (turn != me && !stop)
            pthread_cond_wait(&cv[me], &mu);
        if (stop)
            break;
        mine++;
        if (me == 0 && mine * 2 - 1 >= target)
            stop = 1;
        else if (me == 0 && (mine & 1023) == 0 && bench_now_ns() > deadline_ns)
            stop = capped = 1;
        turn = 1 - me;
        pthread_cond_signal(&cv[1 - me]);
    }
    pthread_mutex_unlock(&mu);
    handoffs[me] = mine;
    return NULL;
}

int main(int argc, char **argv)
{
    long n = 200000, max_s = 2;
    bench_options(argc, argv, "[-n HANDOFFS] [-t MAX_SECONDS]",
                  BENCH_OPTS(BENCH_NUM('n', &n), BENCH_NUM('t', &max_s)));
    target = n;
    return bench_pingpong("cond_pingpong", "ns/handoff", player, max_s, &deadline_ns, handoffs,
                          &capped);
}
