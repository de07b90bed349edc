/* An OpenMP program (gcc -fopenmp, libgomp) for tests/apps.bats: the
 * constructs numeric code uses, each checked against a serial computation.
 *
 *   omp_kernels [-t THREADS] [-r ROUNDS]
 *
 * Each round runs, with THREADS threads (default 4):
 *   - parallel for (static and dynamic schedules) over an integer array;
 *   - a reduction (+ and max);
 *   - barriers between phases of one parallel region, each phase reading
 *     what every thread wrote in the previous one;
 *   - critical sections updating a shared histogram;
 *   - tasks: a recursive task tree (fib) with taskwait.
 * All arithmetic is on integers, so the printed totals are exact and do not
 * depend on the thread count or the schedule: native and goro print the
 * same lines, and a wrong result prints FAIL and exits 1. */
#include <omp.h>
#include <stdint.h>
#include <unistd.h>
#include "check.h"

#define N 20000
#define PHASES 20
#define HIST 16

static int64_t a[N], b[N];

static uint64_t mix(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x9e3779b97f4a7c15ULL;
    return x ^ (x >> 29);
}

static int64_t fib(int n)
{
    if (n < 12) {
        int64_t x = 0, y = 1;
        for (int i = 0; i < n; i++) {
            int64_t t = x + y;
            x = y;
            y = t;
        }
        return x;
    }
    int64_t l, r;
#pragma omp task shared(l)
    l = fib(n - 1);
#pragma omp task shared(r)
    r = fib(n - 2);
#pragma omp taskwait
    return l + r;
}

/* parallel for + reduction: sum and max of mix(i + round) */
static void loops(int round, int64_t *sum, int64_t *max)
{
    int64_t s = 0, m = 0;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < N; i++)
        a[i] = (int64_t)(mix((uint64_t)(i + round)) % 1000003);
#pragma omp parallel for schedule(dynamic, 64) reduction(+ : s) reduction(max : m)
    for (int i = 0; i < N; i++) {
        s += a[i];
        if (a[i] > m)
            m = a[i];
    }
    *sum = s;
    *max = m;
}

/* barriers: phase p writes b[i] from b of phase p-1 at other threads'
 * indices; the serial replay must give the same array */
static int64_t phases(void)
{
    for (int i = 0; i < N; i++)
        b[i] = i;
#pragma omp parallel
    {
        for (int p = 0; p < PHASES; p++) {
            int64_t mine[N / 8 + 1];
            int k = 0;
#pragma omp for schedule(static) nowait
            for (int i = 0; i < N; i += 8)
                mine[k++] = b[(i + 4096) % N] + p;
#pragma omp barrier
            k = 0;
#pragma omp for schedule(static) nowait
            for (int i = 0; i < N; i += 8)
                b[i] = mine[k++];
#pragma omp barrier
        }
    }
    int64_t h = 0;
    for (int i = 0; i < N; i++)
        h = h * 31 + b[i];
    return h;
}

static int64_t phases_serial(void)
{
    static int64_t c[N], d[N];
    for (int i = 0; i < N; i++)
        c[i] = i;
    for (int p = 0; p < PHASES; p++) {
        for (int i = 0; i < N; i += 8)
            d[i] = c[(i + 4096) % N] + p;
        for (int i = 0; i < N; i += 8)
            c[i] = d[i];
    }
    int64_t h = 0;
    for (int i = 0; i < N; i++)
        h = h * 31 + c[i];
    return h;
}

/* critical: a shared histogram of a[] */
static int64_t histogram(void)
{
    int64_t hist[HIST] = {0};
#pragma omp parallel for schedule(static, 500)
    for (int i = 0; i < N; i++) {
#pragma omp critical(hist)
        hist[a[i] % HIST]++;
    }
    int64_t h = 0;
    for (int i = 0; i < HIST; i++)
        h = h * 1000003 + hist[i];
    return h;
}

static void round_check(int round)
{
    int64_t sum, max, ssum = 0, smax = 0;
    loops(round, &sum, &max);
    for (int i = 0; i < N; i++) {
        int64_t v = (int64_t)(mix((uint64_t)(i + round)) % 1000003);
        ssum += v;
        if (v > smax)
            smax = v;
    }
    CHECK_EQ(ssum, sum, "reduction(+)");
    CHECK_EQ(smax, max, "reduction(max)");
    int64_t hist = histogram();
    int64_t hist_serial[HIST] = {0}, hs = 0;
    for (int i = 0; i < N; i++)
        hist_serial[a[i] % HIST]++;
    for (int i = 0; i < HIST; i++)
        hs = hs * 1000003 + hist_serial[i];
    CHECK_EQ(hs, hist, "critical histogram");
    CHECK_EQ(phases_serial(), phases(), "barrier phases");
    int64_t f = 0;
#pragma omp parallel
#pragma omp single
    f = fib(24 + round % 3);
    CHECK_EQ(fib(24 + round % 3), f, "task fib");
    printf("round %d: sum=%lld max=%lld hist=%lld fib=%lld\n", round, (long long)sum,
           (long long)max, (long long)hist, (long long)f);
}

int main(int argc, char **argv)
{
    int threads = 4, rounds = 3, c;
    while ((c = getopt(argc, argv, "t:r:")) != -1) {
        if (c == 't')
            threads = atoi(optarg);
        else if (c == 'r')
            rounds = atoi(optarg);
        else {
            fprintf(stderr, "usage: omp_kernels [-t THREADS 1..64] [-r ROUNDS 1..1000]\n");
            return 2;
        }
    }
    if (threads < 1 || threads > 64 || rounds < 1 || rounds > 1000) {
        fprintf(stderr, "omp_kernels: -t must be 1..64 and -r 1..1000 (saw -t %d -r %d)\n",
                threads, rounds);
        return 2;
    }
    omp_set_num_threads(threads);
    for (int r = 0; r < rounds; r++)
        round_check(r);
    int seen = 0;
#pragma omp parallel
#pragma omp single
    seen = omp_get_num_threads();
    CHECK_EQ(threads, seen, "omp_get_num_threads");
    printf("ok: %d rounds with %d threads\n", rounds, threads);
    return 0;
}
