/* mutex_contention - many threads increment one counter under one mutex.
 *
 *   mutex_contention [-t THREADS] [-n INCREMENTS_PER_THREAD]
 *
 * Defaults: 64 threads x 100000 increments.  All threads start together
 * (a barrier built from the mutex itself, so nothing but pthread_mutex and
 * pthread_cond is exercised).  Reports lock/unlock pairs per second and
 * checks the final count.  With -t 1 nothing contends: it reports the cost
 * of one uncontended lock+unlock pair instead (RESULT mutex_uncontended).
 */
#include "bench.h"

#include <pthread.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go_cv = PTHREAD_COND_INITIALIZER;
static int go_flag;
static long counter;
static long iters;

static void *worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    while (!go_flag)
        pthread_cond_wait(&go_cv, &mu);
    pthread_mutex_unlock(&mu);
    for (long i = 0; i < iters; i++) {
        pthread_mutex_lock(&mu);
        counter++;
        pthread_mutex_unlock(&mu);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long nthreads = 64;
    iters = 100000;
    bench_options(argc, argv, "[-t THREADS] [-n INCREMENTS_PER_THREAD]",
                  BENCH_OPTS(BENCH_NUM('t', &nthreads), BENCH_NUM('n', &iters)));

    pthread_t *ts = calloc((size_t)nthreads, sizeof *ts);
    if (ts == NULL)
        bench_die("calloc", ENOMEM);
    for (long i = 0; i < nthreads; i++) {
        bench_start(&ts[i], NULL, worker, NULL);
    }
    long long t0 = bench_now_ns();
    pthread_mutex_lock(&mu);
    go_flag = 1;
    pthread_cond_broadcast(&go_cv);
    pthread_mutex_unlock(&mu);
    for (long i = 0; i < nthreads; i++)
        pthread_join(ts[i], NULL);
    long long t1 = bench_now_ns();
    free(ts);

    long expect = nthreads * iters;
    if (counter != expect) {
        fprintf(stderr, "mutex_contention: counter is %ld, expected %ld (mutex broken)\n",
                counter, expect);
        return 1;
    }
    double secs = (double)(t1 - t0) / 1e9;
    double ops = (double)expect / secs;
    printf("mutex_contention: %ld threads x %ld increments in %.1f ms: %.0f ops/s (%.1f ns/op)\n",
           nthreads, iters, secs * 1e3, ops, 1e9 / ops);
    if (nthreads == 1)
        bench_result("mutex_uncontended", 1e9 / ops, "ns/pair");
    else
        bench_result("mutex_contention", ops, "ops/s");
    return 0;
}
