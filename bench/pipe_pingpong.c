/* pipe_pingpong - two threads bounce one byte over two pipes.
 *
 *   pipe_pingpong [-n ROUND_TRIPS] [-t MAX_SECONDS]
 *
 * Thread A writes a byte into pipe 1 and reads it back from pipe 2; thread B
 * reads pipe 1 and writes pipe 2.  Plain blocking read(2)/write(2): under
 * goro each read that finds the pipe empty parks on the netpoller.  Reports
 * round trips per second.  Stops early after MAX_SECONDS (default 2).
 *
 * RESULT pipe_pingpong (round trips/s).
 */
#include "bench.h"

#include <pthread.h>
#include <unistd.h>

static int p1[2], p2[2];

static void *echoer(void *arg)
{
    (void)arg;
    char c;
    for (;;) {
        ssize_t r = read(p1[0], &c, 1);
        if (r == 0)
            return NULL; /* A closed its end: done */
        if (r != 1)
            bench_die("read", errno);
        if (write(p2[1], &c, 1) != 1)
            bench_die("write", errno);
    }
}

int main(int argc, char **argv)
{
    long n = 1000000, max_s = 2;
    bench_options(argc, argv, "[-n ROUND_TRIPS] [-t MAX_SECONDS]",
                  BENCH_OPTS(BENCH_NUM('n', &n), BENCH_NUM('t', &max_s)));
    if (pipe(p1) != 0 || pipe(p2) != 0)
        bench_die("pipe", errno);

    pthread_t tb;
    bench_start(&tb, NULL, echoer, NULL);

    long long t0 = bench_now_ns(), deadline = t0 + max_s * 1000000000LL;
    long done = 0;
    int capped = 0;
    char c = 'x';
    while (done < n) {
        if (write(p1[1], &c, 1) != 1)
            bench_die("write", errno);
        if (read(p2[0], &c, 1) != 1)
            bench_die("read", errno);
        done++;
        if ((done & 1023) == 0 && bench_now_ns() > deadline) {
            capped = 1;
            break;
        }
    }
    long long t1 = bench_now_ns();
    close(p1[1]);
    pthread_join(tb, NULL);

    double secs = (t1 - t0) / 1e9;
    printf("pipe_pingpong: %ld round trips in %.1f ms: %.0f round trips/s, %.0f ns each%s\n", done,
           secs * 1e3, done / secs, (t1 - t0) / (double)done,
           capped ? " (stopped at the time cap)" : "");
    bench_result("pipe_pingpong", done / secs, "roundtrips/s");
    return 0;
}
