/* preempt - preemption latency of a CPU hog, and the cost of preemption on a
 * CPU-bound workload.
 *
 *   preempt [-m latency|work|both] [-n TRIALS] [-s SLEEP_MS] [-w THREADS] [-i ITERS]
 *
 * latency: one thread spins in a loop with no calls at all (it only reads a
 *   flag) while another sleeps until an absolute time T (clock_nanosleep,
 *   TIMER_ABSTIME, T = now + SLEEP_MS) and takes the time it actually runs.
 *   The lateness (run time - T) is what it waits for the hog to be preempted
 *   when both share one P (GOMAXPROCS=1); natively (or with a second P) it
 *   is plain timer latency.  TRIALS trials (default 40, SLEEP_MS 5).
 *   RESULT preempt_latency_p50_ms, preempt_latency_max_ms.
 * work: THREADS threads (default 4) each run ITERS (default 200,000,000)
 *   steps of an arithmetic recurrence, no calls; reports the wall time.
 *   RESULT preempt_work_ms.
 */
#include "bench.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

static atomic_int hog_stop;
static atomic_long hog_spins;

static void *hog(void *arg)
{
    (void)arg;
    long spins = 0;
    while (!atomic_load_explicit(&hog_stop, memory_order_relaxed))
        spins++;
    atomic_store(&hog_spins, spins);
    return NULL;
}

static long trials = 40, sleep_ms = 5;
static long long *late;

static void *sleeper(void *arg)
{
    (void)arg;
    for (long i = 0; i < trials; i++) {
        struct timespec now, t;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long target = (long long)now.tv_sec * 1000000000LL + now.tv_nsec + sleep_ms * 1000000LL;
        t.tv_sec = target / 1000000000LL;
        t.tv_nsec = target % 1000000000LL;
        int rc;
        while ((rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL)) == EINTR)
            ;
        if (rc != 0)
            bench_die("clock_nanosleep", rc);
        late[i] = bench_now_ns() - target;
    }
    return NULL;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

static void run_latency(void)
{
    late = calloc((size_t)trials, sizeof *late);
    if (!late)
        bench_die("calloc", ENOMEM);
    pthread_t th, ts;
    bench_start(&th, NULL, hog, NULL);
    bench_start(&ts, NULL, sleeper, NULL);
    pthread_join(ts, NULL);
    atomic_store(&hog_stop, 1);
    pthread_join(th, NULL);
    qsort(late, (size_t)trials, sizeof *late, cmp_ll);
    double p50 = late[(trials - 1) / 2] / 1e6, mx = late[trials - 1] / 1e6;
    printf("preempt latency: %ld sleeps of %ld ms beside a spinning hog: late by p50 %.3f ms, "
           "min %.3f ms, max %.3f ms (hog spun %ld times)\n",
           trials, sleep_ms, p50, late[0] / 1e6, mx, atomic_load(&hog_spins));
    bench_result("preempt_latency_p50_ms", p50, "ms");
    bench_result("preempt_latency_max_ms", mx, "ms");
    free(late);
}

static long iters = 200000000;
static unsigned long sink[256];

static void *worker(void *arg)
{
    long id = (long)arg;
    unsigned long x = (unsigned long)id + 1;
    for (long i = 0; i < iters; i++)
        x = x * 6364136223846793005UL + 1442695040888963407UL;
    sink[id & 255] = x;
    return NULL;
}

static void run_work(long nthreads)
{
    pthread_t *t = calloc((size_t)nthreads, sizeof *t);
    if (!t)
        bench_die("calloc", ENOMEM);
    long long t0 = bench_now_ns();
    for (long i = 0; i < nthreads; i++) {
        bench_start(&t[i], NULL, worker, (void *)i);
    }
    for (long i = 0; i < nthreads; i++)
        pthread_join(t[i], NULL);
    double ms = (bench_now_ns() - t0) / 1e6;
    unsigned long check = 0;
    for (long i = 0; i < nthreads; i++)
        check ^= sink[i & 255];
    printf("preempt work: %ld threads x %ld steps in %.1f ms (check %016lx)\n", nthreads, iters, ms,
           check);
    bench_result("preempt_work_ms", ms, "ms");
    free(t);
}

#define USAGE_ARGS "[-m latency|work|both] [-n TRIALS] [-s SLEEP_MS] [-w THREADS] [-i ITERS]"

int main(int argc, char **argv)
{
    const char *mode = "both";
    long nthreads = 4;
    bench_options(argc, argv, USAGE_ARGS,
                  BENCH_OPTS(BENCH_STR('m', &mode), BENCH_NUM('n', &trials),
                             BENCH_NUM('s', &sleep_ms), BENCH_NUM('w', &nthreads),
                             BENCH_NUM('i', &iters)));
    int lat = !strcmp(mode, "latency") || !strcmp(mode, "both");
    int work = !strcmp(mode, "work") || !strcmp(mode, "both");
    if (!lat && !work)
        bench_usage(argv[0], USAGE_ARGS);
    if (lat)
        run_latency();
    if (work)
        run_work(nthreads);
    return 0;
}
