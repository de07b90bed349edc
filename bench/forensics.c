/* forensics.c - "Schedule Forensics": who finishes when?
 *
 *   forensics [--threads N] [--ms N] [--yield | --sleep] [--quiet] [--iters-per-ms I]
 *   forensics --calibrate          print iters_per_ms=I and exit
 *
 * Spawns N threads (default 1000).  Each waits at a start gate; when all of
 * them are there, main opens the gate (t0) and every thread does ~MS ms
 * (default 10) of work, then records the time it finished, relative to t0:
 *
 *   plain    a busy CPU loop of a calibrated iteration count (measured once
 *            at start-up, so the loop never reads a clock and means the same
 *            amount of work natively and under goro);
 *   --yield  the same loop, with sched_yield() after every ~100 us of work;
 *   --sleep  one nanosleep of MS ms instead of the loop (the timer path).
 *
 * An ordinary pthread program: nothing here knows about goro.  Output
 * (machine-readable; times in microseconds unless the key says otherwise):
 *
 *   CONFIG threads=N ms=MS mode=plain|yield|sleep iters_per_ms=I yield_every=K
 *   T <id> <start_us> <end_us>        one per thread, start = first run after t0
 *   SUMMARY min_ms= p50_ms= p90_ms= p99_ms= max_ms= wall_ms= p50_over_wall=
 *           spawn_ms= ready_ms= cpu_s= user_s= sys_s=
 *   RESULT name=forensics_p50 value=... unit=ms   (and _p99, _max, _wall)
 *
 * spawn_ms: the pthread_create loop; ready_ms: from the first create until
 * the last thread reached the gate.  wall_ms: t0 until every thread was
 * joined.  cpu_s: user+sys of the whole process (getrusage), calibration
 * included.  --quiet leaves out the T lines.  --iters-per-ms I skips the
 * calibration and uses I (scripts/lab.sh calibrates once and passes the same
 * count to every configuration, so each does the same work on a noisy host).
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/resource.h>

#include "bench.h"

enum mode { MODE_PLAIN, MODE_YIELD, MODE_SLEEP };
static const char *const mode_name[] = {"plain", "yield", "sleep"};

static long nthreads = 1000;
static long work_ms = 10;
static enum mode mode = MODE_PLAIN;
static uint64_t iters_per_ms;

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER; /* threads wait for go */
static pthread_cond_t ready_cv = PTHREAD_COND_INITIALIZER; /* main waits for arrived */
static long arrived;
static int go;
static long long t0_ns;

struct slot {
    long long start_ns, end_ns;
    uint64_t sink;
} __attribute__((aligned(64)));
static struct slot *slots;

/* The work: an LCG step per iteration; the empty asm keeps the compiler from
 * folding or vectorising the loop.  No clock, no call, no memory traffic. */
static uint64_t spin(uint64_t n, uint64_t x)
{
    for (uint64_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        __asm__ volatile("" : "+r"(x));
    }
    return x;
}

/* CPU time of the calling kernel thread: the calibration measures the CPU
 * the loop needs, not the wall time other processes on the host stole. */
static long long cpu_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Iterations per millisecond of CPU: grow the count until one run takes
 * >= 20 ms, then keep the fastest of 5 such runs (the least disturbed). */
static uint64_t calibrate(void)
{
    uint64_t n = 1 << 16, x = 1;
    long long dt;
    for (;;) {
        long long a = cpu_now_ns();
        x = spin(n, x);
        dt = cpu_now_ns() - a;
        if (dt >= 20000000LL)
            break;
        n *= 2;
    }
    long long best = dt;
    for (int i = 0; i < 5; i++) {
        long long a = cpu_now_ns();
        x = spin(n, x);
        dt = cpu_now_ns() - a;
        if (dt < best)
            best = dt;
    }
    if (x == 42) /* keep x alive */
        fputc(' ', stderr);
    uint64_t r = (uint64_t)((double)n * 1e6 / (double)best);
    return r ? r : 1;
}

static void *worker(void *arg)
{
    struct slot *s = arg;

    pthread_mutex_lock(&gate_mu);
    if (++arrived == nthreads)
        pthread_cond_signal(&ready_cv);
    while (!go)
        pthread_cond_wait(&gate_cv, &gate_mu);
    pthread_mutex_unlock(&gate_mu);

    s->start_ns = bench_now_ns();
    uint64_t total = iters_per_ms * (uint64_t)work_ms, x = (uint64_t)(s - slots) + 1;
    switch (mode) {
    case MODE_PLAIN:
        x = spin(total, x);
        break;
    case MODE_YIELD: {
        uint64_t chunk = iters_per_ms / 10; /* ~100 us */
        if (chunk == 0)
            chunk = 1;
        for (uint64_t done = 0; done < total; done += chunk) {
            x = spin(total - done < chunk ? total - done : chunk, x);
            sched_yield();
        }
        break;
    }
    case MODE_SLEEP: {
        struct timespec ts = {work_ms / 1000, (work_ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        break;
    }
    }
    s->end_ns = bench_now_ns();
    s->sink = x;
    return NULL;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

/* nearest-rank percentile of a sorted array */
static long long pct(const long long *v, long n, double p)
{
    long k = (long)(p / 100.0 * (double)n + 0.999999);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return v[k - 1];
}

static void usage(FILE *f)
{
    fprintf(f, "usage: forensics [--threads N] [--ms N] [--yield | --sleep] [--quiet] "
               "[--iters-per-ms I]\n       forensics --calibrate\n");
}

int main(int argc, char **argv)
{
    int quiet = 0, calib_only = 0;
    long ipm_opt = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--yield"))
            mode = MODE_YIELD;
        else if (!strcmp(a, "--sleep"))
            mode = MODE_SLEEP;
        else if (!strcmp(a, "--quiet"))
            quiet = 1;
        else if (!strcmp(a, "--calibrate"))
            calib_only = 1;
        else if (!strcmp(a, "--iters-per-ms") && i + 1 < argc)
            ipm_opt = bench_parse_long(a, argv[++i]);
        else if ((!strcmp(a, "--threads") || !strcmp(a, "-n")) && i + 1 < argc)
            nthreads = bench_parse_long(a, argv[++i]);
        else if ((!strcmp(a, "--ms") || !strcmp(a, "-m")) && i + 1 < argc)
            work_ms = bench_parse_long(a, argv[++i]);
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }

    if (calib_only) {
        printf("iters_per_ms=%llu\n", (unsigned long long)calibrate());
        return 0;
    }
    iters_per_ms = mode == MODE_SLEEP ? 0 : ipm_opt ? (uint64_t)ipm_opt : calibrate();
    printf("CONFIG threads=%ld ms=%ld mode=%s iters_per_ms=%llu yield_every=%llu\n", nthreads,
           work_ms, mode_name[mode], (unsigned long long)iters_per_ms,
           (unsigned long long)(mode == MODE_YIELD ? (iters_per_ms / 10 ? iters_per_ms / 10 : 1) : 0));
    fflush(stdout);

    slots = calloc((size_t)nthreads, sizeof *slots);
    pthread_t *tids = calloc((size_t)nthreads, sizeof *tids);
    if (!slots || !tids)
        bench_die("calloc", ENOMEM);

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);

    long long c0 = bench_now_ns();
    for (long i = 0; i < nthreads; i++) {
        int err = pthread_create(&tids[i], &attr, worker, &slots[i]);
        if (err)
            bench_die("pthread_create", err);
    }
    long long c1 = bench_now_ns();

    pthread_mutex_lock(&gate_mu);
    while (arrived < nthreads)
        pthread_cond_wait(&ready_cv, &gate_mu);
    long long c2 = bench_now_ns();
    go = 1;
    t0_ns = bench_now_ns();
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);

    for (long i = 0; i < nthreads; i++) {
        int err = pthread_join(tids[i], NULL);
        if (err)
            bench_die("pthread_join", err);
    }
    long long t1 = bench_now_ns();

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
    double sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;

    long long *ends = malloc((size_t)nthreads * sizeof *ends);
    if (!ends)
        bench_die("malloc", ENOMEM);
    for (long i = 0; i < nthreads; i++) {
        ends[i] = slots[i].end_ns - t0_ns;
        if (!quiet)
            printf("T %ld %lld %lld\n", i, (slots[i].start_ns - t0_ns) / 1000, ends[i] / 1000);
    }
    qsort(ends, (size_t)nthreads, sizeof *ends, cmp_ll);

    double wall = (double)(t1 - t0_ns) / 1e6, p50 = (double)pct(ends, nthreads, 50) / 1e6;
    printf("SUMMARY min_ms=%.3f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f wall_ms=%.3f "
           "p50_over_wall=%.3f spawn_ms=%.3f ready_ms=%.3f cpu_s=%.3f user_s=%.3f sys_s=%.3f\n",
           (double)ends[0] / 1e6, p50, (double)pct(ends, nthreads, 90) / 1e6,
           (double)pct(ends, nthreads, 99) / 1e6, (double)ends[nthreads - 1] / 1e6, wall,
           wall > 0 ? p50 / wall : 0.0, (double)(c1 - c0) / 1e6, (double)(c2 - c0) / 1e6,
           user + sys, user, sys);
    bench_result("forensics_p50", p50, "ms");
    bench_result("forensics_p99", (double)pct(ends, nthreads, 99) / 1e6, "ms");
    bench_result("forensics_max", (double)ends[nthreads - 1] / 1e6, "ms");
    bench_result("forensics_wall", wall, "ms");
    free(ends);
    free(slots);
    free(tids);
    return 0;
}
