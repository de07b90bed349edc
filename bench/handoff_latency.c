/* handoff_latency - how soon a runnable thread runs once another blocks in a
 * system call the runtime cannot park.
 *
 *   handoff_latency [-n TRIALS] [-t MAX_SECONDS]
 *
 * Per trial, thread A makes thread B runnable (a condition-variable signal:
 * B was waiting, so it is ready but has not started), takes t0 and enters a
 * raw syscall(SYS_read) on an empty pipe.  B's first act is to take t1; it
 * then writes the byte that ends A's read.  The trial's latency is t1 - t0.
 *
 * Under an M:N runtime with one P, B cannot run until A's P is handed to
 * another thread (goro: sysmon's retake, like Go's).  A raw syscall(2) is used
 * on purpose: read(2) on a pipe would be parked on the netpoller instead.
 * Natively (two CPUs) B starts on its own CPU at once, often before A has
 * even entered read(): such trials count as 0 and are reported as "early".
 *
 * RESULT handoff_p50_us, handoff_p99_us (microseconds).
 */
#include "bench.h"

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv_b = PTHREAD_COND_INITIALIZER; /* A -> B: run trial */
static pthread_cond_t cv_a = PTHREAD_COND_INITIALIZER; /* B -> A: B waits again */
static long b_waiting = -1; /* trial B is waiting for (set under mu) */
static long go_trial = -1;  /* trial B may run (set under mu) */
static int quit;
static int pfd[2];
static long long t1_ns; /* written by B before its write(), read by A after its read() */

static void *thread_b(void *arg)
{
    (void)arg;
    for (long i = 0;; i++) {
        pthread_mutex_lock(&mu);
        b_waiting = i;
        pthread_cond_signal(&cv_a);
        while (go_trial < i && !quit)
            pthread_cond_wait(&cv_b, &mu);
        long long t1 = bench_now_ns();
        int q = quit;
        pthread_mutex_unlock(&mu);
        if (q)
            return NULL;
        t1_ns = t1;
        char c = 'x';
        if (write(pfd[1], &c, 1) != 1)
            bench_die("write", errno);
    }
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    long n = 5000, max_s = 2;
    bench_options(argc, argv, "[-n TRIALS] [-t MAX_SECONDS]",
                  BENCH_OPTS(BENCH_NUM('n', &n), BENCH_NUM('t', &max_s)));
    if (pipe(pfd) != 0)
        bench_die("pipe", errno);
    long long *lat = calloc((size_t)n, sizeof *lat);
    if (!lat)
        bench_die("calloc", ENOMEM);

    pthread_t tb;
    bench_start(&tb, NULL, thread_b, NULL);

    /* The main thread is A. */
    long long start = bench_now_ns(), deadline = start + max_s * 1000000000LL;
    long done = 0, early = 0;
    int capped = 0;
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(&mu);
        while (b_waiting < i)
            pthread_cond_wait(&cv_a, &mu);
        go_trial = i;
        pthread_cond_signal(&cv_b);
        pthread_mutex_unlock(&mu);
        long long t0 = bench_now_ns();
        char c;
        long r = syscall(SYS_read, pfd[0], &c, 1);
        if (r != 1)
            bench_die("read", r < 0 ? errno : EIO);
        long long d = t1_ns - t0;
        if (d < 0) {
            d = 0;
            early++;
        }
        lat[done++] = d;
        if (bench_now_ns() > deadline) {
            capped = 1;
            break;
        }
    }
    long long wall = bench_now_ns() - start;
    pthread_mutex_lock(&mu);
    quit = 1;
    pthread_cond_signal(&cv_b);
    pthread_mutex_unlock(&mu);
    pthread_join(tb, NULL);

    qsort(lat, (size_t)done, sizeof *lat, cmp_ll);
    double p50 = lat[(done - 1) / 2] / 1e3;
    double p99 = lat[(long)((done - 1) * 0.99)] / 1e3;
    double mx = lat[done - 1] / 1e3;
    printf("handoff_latency: %ld trials in %.1f ms%s: p50 %.1f us, p99 %.1f us, max %.1f us; "
           "%ld early (B ran before A blocked)\n",
           done, wall / 1e6, capped ? " (stopped at the time cap)" : "", p50, p99, mx, early);
    bench_result("handoff_p50_us", p50, "us");
    bench_result("handoff_p99_us", p99, "us");
    free(lat);
    return 0;
}
