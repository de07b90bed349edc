/* declared_call - the cost of GORO_BLOCKING (scripts/bench-blocking.sh).
 *
 *   declared_call calls N     N calls of vendor_sum (it does not block): ns per call
 *   declared_call progress MS a counter thread counts while main sits in
 *                             vendor_wait (a raw syscall read) on a pipe that a
 *                             child process writes after MS ms: counts per ms,
 *                             and how long after main entered it the counter
 *                             first ran (at GOMAXPROCS=1 it waits for main's P)
 *
 * Linked with the tests' libvendor.so (build/progs). */
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "bench.h"

int vendor_wait(int fd, char *buf, int n);
double vendor_sum(int a, long b, double c, char *s);

static atomic_int stop;
static atomic_long work;
static _Atomic long long first_ns; /* when the counter first ran */

static int calls(long n)
{
	double acc = 0;
	long long t0 = bench_now_ns();
	for (long i = 0; i < n; i++)
		acc += vendor_sum(1, i, 0.5, "x");
	long long t1 = bench_now_ns();
	printf("sum %.1f\n", acc);
	printf("RESULT name=declared_call value=%.1f unit=ns_per_call\n", (double)(t1 - t0) / (double)n);
	return 0;
}

static void *counter(void *arg)
{
	(void)arg;
	atomic_store(&first_ns, bench_now_ns());
	while (!atomic_load_explicit(&stop, memory_order_relaxed))
		atomic_fetch_add_explicit(&work, 1, memory_order_relaxed);
	return NULL;
}

static int progress(long ms)
{
	int pfd[2];
	if (pipe(pfd) != 0)
		return 1;
	pid_t pid = fork();
	if (pid == 0) { /* the writer: a separate process, so goro's P is not needed to wake main */
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
		nanosleep(&ts, NULL);
		_exit(write(pfd[1], "x", 1) == 1 ? 0 : 1);
	}
	pthread_t t;
	pthread_create(&t, NULL, counter, NULL);
	char c;
	long long t0 = bench_now_ns();
	int r = vendor_wait(pfd[0], &c, 1);
	long long t1 = bench_now_ns();
	long done = atomic_load(&work);
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	waitpid(pid, NULL, 0);
	printf("read %d after %.1f ms\n", r, (double)(t1 - t0) / 1e6);
	long long first = atomic_load(&first_ns);
	printf("RESULT name=declared_progress value=%.0f unit=counts_per_ms\n", (double)done * 1e6 / (double)(t1 - t0));
	printf("RESULT name=declared_latency value=%.1f unit=us\n", first > t0 ? (double)(first - t0) / 1e3 : 0.0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "calls") == 0)
		return calls(atol(argv[2]));
	if (argc == 3 && strcmp(argv[1], "progress") == 0)
		return progress(atol(argv[2]));
	fprintf(stderr, "usage: declared_call calls N | progress MS\n");
	return 2;
}
