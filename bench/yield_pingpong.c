/* yield_pingpong - two threads alternate strictly through a shared atomic
 * "turn" variable, calling sched_yield() while it is not their turn.
 *
 *   yield_pingpong [-n SWITCHES] [-t MAX_SECONDS]
 *
 * Reports nanoseconds per hand-off.  With one CPU (or under goro with
 * GOMAXPROCS=1) every hand-off is a thread switch.  The run stops early
 * after MAX_SECONDS (default 2) so a slow native sched_yield cannot make the
 * benchmark take minutes; the per-switch figure stays valid.
 */
#include "bench.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

static _Atomic int turn;
static _Atomic int stop;
static int capped; /* written by player 0 only, read after join */
static long target;
static long long deadline_ns;
static long handoffs[2];

static void *player(void *arg)
{
    int me = (int)(long)arg;
    long mine = 0;
    for (;;) {
        while (atomic_load_explicit(&turn, memory_order_acquire) != me) {
            if (atomic_load_explicit(&stop, memory_order_relaxed))
                goto out;
            sched_yield();
        }
        if (atomic_load_explicit(&stop, memory_order_relaxed))
            break;
        mine++;
        /* Player 0 decides when to stop; it checks the clock rarely. */
        if (me == 0 && mine * 2 - 1 >= target)
            atomic_store_explicit(&stop, 1, memory_order_relaxed);
        else if (me == 0 && (mine & 1023) == 0 && bench_now_ns() > deadline_ns) {
            capped = 1;
            atomic_store_explicit(&stop, 1, memory_order_relaxed);
        }
        atomic_store_explicit(&turn, 1 - me, memory_order_release);
    }
out:
    handoffs[me] = mine;
    return NULL;
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [-n SWITCHES] [-t MAX_SECONDS]\n", prog);
    exit(2);
}

int main(int argc, char **argv)
{
    long n = 1000000, max_s = 2;
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
        fprintf(stderr, "yield_pingpong: no hand-offs happened\n");
        return 1;
    }
    double ns = (double)(t1 - t0) / (double)total;
    printf("yield_pingpong: %ld hand-offs in %.1f ms: %.0f ns/switch%s\n", total,
           (double)(t1 - t0) / 1e6, ns, capped ? " (stopped at the time cap)" : "");
    bench_result("yield_pingpong", ns, "ns/switch");
    return 0;
}
