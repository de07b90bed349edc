/* wait_crowded - a semaphore ping-pong beside a crowd parked on another
 * address.
 *
 *   wait_crowded [-c CROWD] [-n ROUNDS] [-t MAX_SECONDS]
 *
 * Two threads pass a token through two semaphores (post one, wait on the
 * other), first alone (wait_uncrowded), then with CROWD threads (default
 * 50,000, 16 KiB stacks) blocked in sem_wait on a third semaphore
 * (wait_crowded).  The three semaphores lie 251 * 8 bytes apart, so any
 * table hashing addresses into 251 buckets puts them in one bucket: a wait
 * table that walks a bucket's waiters pays for the crowd on every wake.
 * Reports microseconds per round trip.  Natively the crowd stops while
 * 4096 kernel tasks are still free under pid_max (other processes must
 * still fork): it says how many it made.
 */
#include "bench.h"

#include <semaphore.h>
#include <stdatomic.h>

#define STRIDE (251 * 8)
static char area[3 * STRIDE] __attribute__((aligned(64)));
#define SEM(i) ((sem_t *)&area[(i) * STRIDE])

static long rounds = 20000, max_s = 10;
static _Atomic long crowd_in;

static void *crowd(void *arg __attribute__((unused)))
{
    atomic_fetch_add(&crowd_in, 1);
    while (sem_wait(SEM(2)) != 0)
        ;
    return NULL;
}

static void *pong(void *arg)
{
    for (;;) {
        while (sem_wait(SEM(0)) != 0)
            ;
        if (atomic_load((_Atomic int *)arg))
            return NULL;
        sem_post(SEM(1));
    }
}

/* Microseconds per round trip over up to `rounds` (MAX_SECONDS cap), with
 * pong (made before the crowd, which may use up every kernel task). */
static double pingpong(void)
{
    long long t0 = bench_now_ns(), end = t0 + max_s * 1000000000LL;
    long i;
    for (i = 0; i < rounds && ((i & 255) || bench_now_ns() < end); i++) {
        sem_post(SEM(0));
        while (sem_wait(SEM(1)) != 0)
            ;
    }
    return (double)(bench_now_ns() - t0) / 1e3 / (double)i;
}

int main(int argc, char **argv)
{
    long ncrowd = 50000;
    bench_options(argc, argv, "[-c CROWD] [-n ROUNDS] [-t MAX_SECONDS]",
                  BENCH_OPTS(BENCH_NUM('c', &ncrowd), BENCH_NUM('n', &rounds), BENCH_NUM('t', &max_s)));
    for (int i = 0; i < 3; i++)
        sem_init(SEM(i), 0, 0);
    static _Atomic int stop;
    pthread_t pt;
    bench_start(&pt, NULL, pong, &stop);
    double alone = pingpong();
    pthread_t *t = calloc((size_t)ncrowd, sizeof *t);
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, 16384);
    long have = 0;
    for (; t && have < ncrowd; have++) {
        if ((have & 255) == 0 && !bench_task_room(4096))
            break; /* natively: leave pid_max room for other processes */
        int rc = pthread_create(&t[have], &at, crowd, NULL);
        if (rc == EAGAIN)
            break;
        if (rc)
            bench_die("pthread_create", rc);
    }
    while (atomic_load(&crowd_in) < have)
        usleep(1000);
    usleep(100000); /* let the last ones reach sem_wait */
    double crowded = pingpong();
    printf("%ld parked beside: %.2f us per round trip, alone %.2f us (%.1fx)\n", have, crowded, alone,
           crowded / alone);
    bench_result("wait_uncrowded", alone, "us/round");
    bench_result("wait_crowded", crowded, "us/round");
    bench_result("wait_crowd_size", (double)have, "threads");
    atomic_store(&stop, 1);
    sem_post(SEM(0));
    pthread_join(pt, NULL);
    for (long i = 0; i < have; i++)
        sem_post(SEM(2));
    for (long i = 0; i < have; i++)
        pthread_join(t[i], NULL);
    return 0;
}
