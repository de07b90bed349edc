/* scale - many live threads, each blocked on one condition variable.
 *
 *   scale [-n THREADS] [-s STACK_KIB] [-m MAX_SECONDS]
 *
 * Creates THREADS threads with STACK_KIB stacks (default 16); each stores
 * its index in a __thread variable, checks in under the mutex and waits on
 * the condvar.  Then one broadcast, and every thread checks its __thread
 * value and is joined.  Reports, for THREADS=N (as "100k", "1m", ...):
 *   scale_N_create   seconds from the first create until all N are waiting
 *   scale_N_create_cpu  CPU time (user + system, all threads) per thread over
 *                    the same span, us: what the load of a shared host
 *                    leaves alone, unlike the seconds
 *   scale_N_rss      resident memory per live thread, KiB (RSS growth / N)
 *   scale_N_wake     seconds for the broadcast and joining all N
 *   scale_N_alive    threads that were alive at once
 * Natively every thread is a kernel task: the program stops creating while
 * BENCH_TASK_ROOM tasks are still free under pid_max (so other processes
 * can still fork), or at EAGAIN, and goes on with the threads it has.  It stops
 * creating after MAX_SECONDS (default 100) as well.
 */
#include "bench.h"

#include <stdatomic.h>

#define BENCH_TASK_ROOM 4096

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t allin = PTHREAD_COND_INITIALIZER;
static long arrived, target;
static int go;
static _Atomic long bad;
static __thread long mine;

static void *sleeper(void *arg)
{
    mine = (long)arg;
    pthread_mutex_lock(&mu);
    if (++arrived == target)
        pthread_cond_signal(&allin);
    while (!go)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    if (mine != (long)arg)
        atomic_fetch_add(&bad, 1);
    return NULL;
}

static long rss_kib(void)
{
    long size = 0, res = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%ld %ld", &size, &res) != 2)
        bench_die("/proc/self/statm", errno ? errno : EIO);
    fclose(f);
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static void label(char *buf, size_t len, long n)
{
    if (n % 1000000 == 0)
        snprintf(buf, len, "%ldm", n / 1000000);
    else if (n % 1000 == 0)
        snprintf(buf, len, "%ldk", n / 1000);
    else
        snprintf(buf, len, "%ld", n);
}

static void result(const char *lab, const char *what, double v, const char *unit)
{
    char name[64];
    snprintf(name, sizeof name, "scale_%s_%s", lab, what);
    bench_result(name, v, unit);
}

/* Create up to n sleepers; returns how many exist. */
static long create_all(pthread_t *t, long n, long stack_kib, long max_s)
{
    pthread_attr_t at;
    pthread_attr_init(&at);
    if (pthread_attr_setstacksize(&at, (size_t)stack_kib * 1024) != 0)
        bench_die("pthread_attr_setstacksize", EINVAL);
    long long stop = bench_now_ns() + max_s * 1000000000LL;
    long i;
    for (i = 0; i < n; i++) {
        if ((i & 255) == 0 && (!bench_task_room(BENCH_TASK_ROOM) || bench_now_ns() > stop)) {
            fprintf(stderr, "scale: %ld threads alive (%s)\n", i,
                    bench_now_ns() > stop ? "time limit" : "pid_max: leaving room for other processes");
            break;
        }
        int rc = pthread_create(&t[i], &at, sleeper, (void *)i);
        if (rc == EAGAIN) {
            fprintf(stderr, "scale: %ld threads alive (%s)\n", i, strerror(rc));
            break;
        }
        if (rc != 0)
            bench_die("pthread_create", rc);
    }
    pthread_attr_destroy(&at);
    return i;
}

int main(int argc, char **argv)
{
    long n = 100000, stack_kib = 16, max_s = 100;
    bench_options(argc, argv, "[-n THREADS] [-s STACK_KIB] [-m MAX_SECONDS]",
                  BENCH_OPTS(BENCH_NUM('n', &n), BENCH_NUM('s', &stack_kib), BENCH_NUM('m', &max_s)));
    pthread_t *t = calloc((size_t)n, sizeof *t);
    if (!t)
        bench_die("calloc", ENOMEM);
    char lab[32];
    label(lab, sizeof lab, n);
    long rss0 = rss_kib();
    target = n;
    double c0 = bench_cpu_seconds();
    long long t0 = bench_now_ns();
    long have = create_all(t, n, stack_kib, max_s);
    pthread_mutex_lock(&mu);
    target = have;
    while (arrived < have)
        pthread_cond_wait(&allin, &mu);
    long long t1 = bench_now_ns();
    double c1 = bench_cpu_seconds();
    long rss1 = rss_kib();
    go = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    for (long i = 0; i < have; i++)
        pthread_join(t[i], NULL);
    long long t2 = bench_now_ns();
    printf("%ld threads: create %.3f s (%.1f us each), %.2f KiB RSS each, wake+join %.3f s\n", have,
           (double)(t1 - t0) / 1e9, (double)(t1 - t0) / 1e3 / (double)have,
           (double)(rss1 - rss0) / (double)have, (double)(t2 - t1) / 1e9);
    result(lab, "alive", (double)have, "threads");
    result(lab, "create", (double)(t1 - t0) / 1e9, "s");
    result(lab, "create_each", (double)(t1 - t0) / 1e3 / (double)have, "us");
    result(lab, "create_cpu", (c1 - c0) * 1e6 / (double)have, "us");
    result(lab, "rss", (double)(rss1 - rss0) / (double)have, "KiB/thread");
    result(lab, "wake", (double)(t2 - t1) / 1e9, "s");
    if (atomic_load(&bad)) {
        fprintf(stderr, "scale: %ld threads saw another thread's __thread value\n", atomic_load(&bad));
        return 1;
    }
    return 0;
}
