/* sleep_accuracy - how long usleep(US) really takes, and what it costs.
 *
 *   sleep_accuracy [-n SLEEPS] [-u US] [-t THREADS]
 *
 * THREADS threads (default 1) each call usleep(US) (default 50) SLEEPS
 * times (default 2000) and record each call's actual duration.  Reports the
 * p50 and p99 duration in microseconds and the CPU the process used: per
 * second of wall time, and per sleep.  Under goro each sleep parks the
 * thread on a timer; the idle M waits in epoll_pwait2 with a
 * sub-millisecond timeout, aimed early by the wake-up latency it has
 * learnt (sched/time.c, "the timer lead").
 *
 * The same number of raw epoll_pwait2(US) waits with a 1 ns timer slack,
 * on a thread of its own, give the machine's floor: the kernel's own
 * wake-up latency for such a timeout, and the CPU one kernel sleep costs
 * here.  A process that sleeps more often per second uses more CPU per
 * second even at the same cost per sleep: compare sleep_cpu_us.
 *
 * RESULT sleep_p50_us, sleep_p99_us (µs), sleep_cpu_pct (% of one CPU),
 * sleep_cpu_us (CPU µs per sleep), sleep_floor_p50_us (µs),
 * sleep_floor_cpu_us (CPU µs per raw wait).
 */
#include "bench.h"

#include <pthread.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static long nsleeps = 2000, us = 50;
static double *durs;

static void *sleeper(void *arg)
{
    double *d = (double *)arg;
    for (long i = 0; i < nsleeps; i++) {
        long long t0 = bench_now_ns();
        usleep((useconds_t)us);
        d[i] = (double)(bench_now_ns() - t0) / 1000.0;
    }
    return NULL;
}

/* The floor: raw epoll_pwait2 with a 1 ns slack (what goro's idle M does). */
static void *floor_probe(void *arg)
{
    double *d = arg;
    prctl(PR_SET_TIMERSLACK, 1UL);
    int ep = (int)syscall(SYS_epoll_create1, 0);
    struct epoll_event ev;
    for (long i = 0; i < nsleeps; i++) {
        struct timespec ts = { 0, us * 1000 };
        long long t0 = bench_now_ns();
        syscall(SYS_epoll_pwait2, ep, &ev, 1, &ts, NULL, 8);
        d[i] = (double)(bench_now_ns() - t0) / 1000.0;
    }
    close(ep);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    long threads = 1;
    int opt;
    while ((opt = getopt(argc, argv, "n:u:t:")) != -1) {
        if (opt == 'n')
            nsleeps = bench_parse_long("-n", optarg);
        else if (opt == 'u')
            us = bench_parse_long("-u", optarg);
        else if (opt == 't')
            threads = bench_parse_long("-t", optarg);
        else {
            fprintf(stderr, "usage: %s [-n SLEEPS] [-u US] [-t THREADS]\n", argv[0]);
            return 2;
        }
    }
    size_t total = (size_t)(nsleeps * threads);
    durs = calloc(total, sizeof *durs);
    pthread_t *t = calloc((size_t)threads, sizeof *t);
    if (!durs || !t)
        bench_die("calloc", ENOMEM);
    double c0 = bench_cpu_seconds();
    long long w0 = bench_now_ns();
    for (long i = 0; i < threads; i++)
        if ((errno = pthread_create(&t[i], NULL, sleeper, durs + i * nsleeps)))
            bench_die("pthread_create", errno);
    for (long i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    long long wall = bench_now_ns() - w0;
    double cpu = bench_cpu_seconds() - c0;
    qsort(durs, total, sizeof *durs, cmp);
    double p50 = durs[total / 2], p99 = durs[total * 99 / 100];
    printf("sleep_accuracy: %ld thread(s) x %ld usleep(%ld): p50 %.1f us, p99 %.1f us, CPU %.1f%% of one core, "
           "%.1f us per sleep\n",
           threads, nsleeps, us, p50, p99, 100.0 * cpu / ((double)wall / 1e9), 1e6 * cpu / (double)total);
    bench_result("sleep_p50_us", p50, "us");
    bench_result("sleep_p99_us", p99, "us");
    bench_result("sleep_cpu_pct", 100.0 * cpu / ((double)wall / 1e9), "%");
    bench_result("sleep_cpu_us", 1e6 * cpu / (double)total, "us/sleep");
    /* Measured after the run, so it does not disturb it.  Under goro the
     * probe's syscall(2) is a plain system call (goro only marks it as one
     * that may block): this is the kernel's own latency. */
    double *fl = calloc((size_t)nsleeps, sizeof *fl);
    pthread_t ft;
    c0 = bench_cpu_seconds();
    if (!fl || pthread_create(&ft, NULL, floor_probe, fl))
        bench_die("floor probe", ENOMEM);
    pthread_join(ft, NULL);
    double fcpu = 1e6 * (bench_cpu_seconds() - c0) / (double)nsleeps;
    qsort(fl, (size_t)nsleeps, sizeof *fl, cmp);
    printf("sleep_accuracy: the kernel's floor for a %ld us epoll_pwait2 here: p50 %.1f us, %.1f CPU us per wait\n",
           us, fl[nsleeps / 2], fcpu);
    bench_result("sleep_floor_p50_us", fl[nsleeps / 2], "us");
    bench_result("sleep_floor_cpu_us", fcpu, "us/sleep");
    return 0;
}
