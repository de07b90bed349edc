/* sleepers - many threads that mostly sleep.
 *
 *   sleepers [-n THREADS] [-r ROUNDS] [-m SLEEP_MS] [-s STACK_KIB]
 *
 * Defaults: 10000 threads, each calling nanosleep(10 ms) 10 times.  The
 * ideal wall time is ROUNDS x SLEEP_MS (100 ms); the excess is the cost of
 * creating, waking and joining the threads.  -s sets the stack size with
 * pthread_attr_setstacksize (default: the system default).
 *
 * RESULT sleepers (wall ms), sleepers_cpu_ms (user + system CPU of the
 * whole run), sleepers_maxrss_kb (peak RSS).
 */
#include "bench.h"

#include <pthread.h>
#include <unistd.h>

static long rounds = 10, sleep_ms = 10;

static void *sleeper(void *arg)
{
    (void)arg;
    struct timespec ts = {sleep_ms / 1000, (sleep_ms % 1000) * 1000000L};
    for (long i = 0; i < rounds; i++) {
        struct timespec rem, req = ts;
        while (nanosleep(&req, &rem) != 0 && errno == EINTR)
            req = rem;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long n = 10000, stack_kib = 0;
    bench_options(argc, argv, "[-n THREADS] [-r ROUNDS] [-m SLEEP_MS] [-s STACK_KIB]",
                  BENCH_OPTS(BENCH_NUM('n', &n), BENCH_NUM('r', &rounds), BENCH_NUM('m', &sleep_ms),
                             BENCH_NUM('s', &stack_kib)));

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (stack_kib > 0) {
        int rc = pthread_attr_setstacksize(&attr, (size_t)stack_kib * 1024);
        if (rc != 0)
            bench_die("pthread_attr_setstacksize", rc);
    }
    pthread_t *ts = calloc((size_t)n, sizeof *ts);
    if (ts == NULL)
        bench_die("calloc", ENOMEM);

    double c0 = bench_cpu_seconds();
    long long t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        int rc = pthread_create(&ts[i], &attr, sleeper, NULL);
        if (rc != 0) {
            fprintf(stderr, "sleepers: pthread_create failed after %ld threads: %s\n", i,
                    strerror(rc));
            return 1;
        }
    }
    long long t1 = bench_now_ns();
    for (long i = 0; i < n; i++)
        pthread_join(ts[i], NULL);
    long long t2 = bench_now_ns();
    pthread_attr_destroy(&attr);
    free(ts);

    double wall_ms = (double)(t2 - t0) / 1e6, cpu_ms = 1e3 * (bench_cpu_seconds() - c0);
    long rss = bench_maxrss_kb();
    printf("sleepers: %ld threads x %ld sleeps of %ld ms: wall %.1f ms "
           "(ideal %ld ms; creating took %.1f ms), CPU %.1f ms, peak RSS %ld KiB\n",
           n, rounds, sleep_ms, wall_ms, rounds * sleep_ms, (double)(t1 - t0) / 1e6, cpu_ms, rss);
    bench_result("sleepers", wall_ms, "ms");
    bench_result("sleepers_cpu_ms", cpu_ms, "ms");
    bench_result("sleepers_maxrss_kb", (double)rss, "KiB");
    return 0;
}
