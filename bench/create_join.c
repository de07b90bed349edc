/* create_join - cost of pthread_create + pthread_join.
 *
 *   create_join [-n THREADS] [-b BATCH]
 *
 * Phase 1 creates and joins THREADS threads one at a time; phase 2 creates
 * them BATCH at a time (default 100) and then joins the batch.  Reports
 * nanoseconds per thread for each phase.
 */
#include "bench.h"

#include <pthread.h>
#include <unistd.h>

static void *worker(void *arg)
{
    /* Touch the argument so the thread does a little real work. */
    return (void *)((char *)arg + 1);
}

int main(int argc, char **argv)
{
    long n = 20000, batch = 100;
    bench_options(argc, argv, "[-n THREADS] [-b BATCH]",
                  BENCH_OPTS(BENCH_NUM('n', &n), BENCH_NUM('b', &batch)));

    /* Phase 1: one at a time. */
    long long t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        pthread_t t;
        void *ret = NULL;
        bench_start(&t, NULL, worker, (void *)i);
        int rc = pthread_join(t, &ret);
        if (rc != 0)
            bench_die("pthread_join", rc);
        if (ret != (void *)((char *)i + 1)) {
            fprintf(stderr, "create_join: wrong return value from thread %ld\n", i);
            return 1;
        }
    }
    long long t1 = bench_now_ns();
    double seq = (double)(t1 - t0) / (double)n;

    /* Phase 2: batches. */
    pthread_t *ts = calloc((size_t)batch, sizeof *ts);
    if (ts == NULL)
        bench_die("calloc", ENOMEM);
    long done = 0;
    long long t2 = bench_now_ns();
    while (done < n) {
        long k = n - done < batch ? n - done : batch;
        for (long i = 0; i < k; i++) {
            bench_start(&ts[i], NULL, worker, (void *)(done + i));
        }
        for (long i = 0; i < k; i++) {
            void *ret = NULL;
            int rc = pthread_join(ts[i], &ret);
            if (rc != 0)
                bench_die("pthread_join", rc);
            if (ret != (void *)((char *)(done + i) + 1)) {
                fprintf(stderr, "create_join: wrong return value from thread %ld\n", done + i);
                return 1;
            }
        }
        done += k;
    }
    long long t3 = bench_now_ns();
    double bat = (double)(t3 - t2) / (double)n;
    free(ts);

    printf("create_join: %ld threads one at a time: %.0f ns/thread (%.1f ms total)\n",
           n, seq, (double)(t1 - t0) / 1e6);
    printf("create_join: %ld threads in batches of %ld: %.0f ns/thread (%.1f ms total)\n",
           n, batch, bat, (double)(t3 - t2) / 1e6);
    bench_result("create_join_seq", seq, "ns/thread");
    bench_result("create_join_batch", bat, "ns/thread");
    return 0;
}
