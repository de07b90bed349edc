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

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [-n HANDOFFS] [-t MAX_SECONDS]\n", prog);
    exit(2);
}

int main(int argc, char **argv)
{
    long n = 200000, max_s = 2;
    int opt;
    while ((opt = getopt(argc, argv, "n:t:h")) != -1) {
        switch (opt) {
        case 'n': n = bench_parse_long("-n", optarg); break;
        case 't': max_s = bench_parse_long("-t", optarg); break;
        default: usage(argv[0]);
        }
    }
    if (optind != argc)
        usage(argv[0]);
    target = n;

    pthread_t t[2];
    long long t0 = bench_now_ns();
    deadline_ns = t0 + max_s * 1000000000LL;
    for (long i = 0; i < 2; i++) {
        int rc = pthread_create(&t[i], NULL, player, (void *)i);
        if (rc != 0)
            bench_die("pthread_create", rc);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    long long t1 = bench_now_ns();

    long total = handoffs[0] + handoffs[1];
    if (total <= 0) {
        fprintf(stderr, "cond_pingpong: no hand-offs happened\n");
        return 1;
    }
    double ns = (double)(t1 - t0) / (double)total;
    printf("cond_pingpong: %ld hand-offs in %.1f ms: %.0f ns/handoff%s\n", total,
           (double)(t1 - t0) / 1e6, ns, capped ? " (stopped at the time cap)" : "");
    bench_result("cond_pingpong", ns, "ns/handoff");
    return 0;
}
