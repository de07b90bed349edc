/* sched_yield ping-pong: two threads hand a token back and forth, each
 * waiting for its turn in a sched_yield loop.  With GOMAXPROCS=1 this only
 * terminates if sched_yield lets the other G run (Gosched).  A third pair
 * does the same through a mutex-protected counter. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include "check.h"

#define ROUNDS 5000

static atomic_int turn;           /* whose turn: 0 or 1 */
static atomic_long passes[2];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long shared_count;
static int mturn;

static void *player(void *arg)
{
    int me = (int)(long)arg;
    for (int r = 0; r < ROUNDS; r++) {
        while (atomic_load_explicit(&turn, memory_order_acquire) != me)
            sched_yield();
        atomic_fetch_add(&passes[me], 1);
        atomic_store_explicit(&turn, 1 - me, memory_order_release);
    }
    return NULL;
}

static void *mplayer(void *arg)
{
    int me = (int)(long)arg;
    for (int r = 0; r < ROUNDS; ) {
        pthread_mutex_lock(&mu);
        if (mturn == me) {
            shared_count++;
            mturn = 1 - me;
            r++;
        }
        pthread_mutex_unlock(&mu);
        sched_yield();
    }
    return NULL;
}

int main(void)
{
    pthread_t a, b;

    CHECK_OK(pthread_create(&a, NULL, player, (void *)0));
    CHECK_OK(pthread_create(&b, NULL, player, (void *)1));
    CHECK_OK(pthread_join(a, NULL));
    CHECK_OK(pthread_join(b, NULL));
    CHECK_EQ(ROUNDS, atomic_load(&passes[0]), "passes by player 0");
    CHECK_EQ(ROUNDS, atomic_load(&passes[1]), "passes by player 1");
    printf("atomic ping-pong: %d round trips\n", ROUNDS);

    CHECK_OK(pthread_create(&a, NULL, mplayer, (void *)0));
    CHECK_OK(pthread_create(&b, NULL, mplayer, (void *)1));
    CHECK_OK(pthread_join(a, NULL));
    CHECK_OK(pthread_join(b, NULL));
    CHECK_EQ(2 * ROUNDS, shared_count, "mutex ping-pong count");
    printf("mutex ping-pong: %ld passes\n", shared_count);
    return 0;
}
