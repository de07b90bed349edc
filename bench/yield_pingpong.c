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

int main(int argc, char **argv)
{
    long n = 1000000, max_s = 2;
    bench_options(argc, argv, "[-n SWITCHES] [-t MAX_SECONDS]",
                  BENCH_OPTS(BENCH_NUM('n', &n), BENCH_NUM('t', &max_s)));
    target = n;
    return bench_pingpong("yield_pingpong", "ns/switch", player, max_s, &deadline_ns, handoffs,
                          &capped);
}
