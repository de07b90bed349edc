/* N threads pass a token around a ring ROUNDS times, each waiting for its
 * turn with a raw futex wait made inside librawfutex.so (inline `syscall`),
 * as OpenMP runtimes do.  Under goro those waits must park the thread, not
 * its kernel thread and P (tests/omp.bats).
 * Then, with "sigsys", the program catches a SIGTRAP, a SIGILL and a
 * SIGSYS of its own (goro's trap handler must pass them on); with "fork", a child runs the ring again
 * with new threads (the kernel does not keep the trap across fork).
 * With "libc" the ring waits through libc's syscall() instead, after a
 * short spin, as a runtime with its own locks does (InnoDB's, Rust's).
 * Usage: rawfutex THREADS ROUNDS [sigsys|fork|libc] */
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>

void raw_wait(int *addr, int val);
void raw_wake(int *addr);

static _Atomic int turn;
static int nthreads, rounds;
static long work[64];
static volatile sig_atomic_t caught;
static int use_libc;

/* libc's syscall(): spin a little for the turn, then wait. */
static void libc_wait(int *addr, int val)
{
	for (int i = 0; i < 100; i++) {
		if (atomic_load((_Atomic int *)addr) != val)
			return;
		__builtin_ia32_pause();
	}
	syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void libc_wake(int *addr) { syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0); }

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	caught = si->si_signo == sig && si->si_code == SI_TKILL ? sig : -1;
}

/* The program's own handler for sig runs for a raise(). */
static void own_handler(int sig, const char *name)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO;
	sigaction(sig, &sa, NULL);
	caught = 0;
	raise(sig);
	printf("own %s handler: %s\n", name, caught == sig ? "ran" : "did not run");
}

static void *ring(void *arg)
{
	int me = (int)(long)arg;
	for (int r = 0; r < rounds; r++) {
		for (;;) {
			int t = atomic_load(&turn);
			if (t % nthreads == me)
				break;
			(use_libc ? libc_wait : raw_wait)((int *)&turn, t);
		}
		work[me] += r;
		atomic_fetch_add(&turn, 1);
		(use_libc ? libc_wake : raw_wake)((int *)&turn);
	}
	return NULL;
}

static long run_ring(void)
{
	pthread_t t[64];
	atomic_store(&turn, 0);
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&t[i], NULL, ring, (void *)(long)i) != 0)
			exit(1);
	long sum = 0;
	for (int i = 0; i < nthreads; i++) {
		pthread_join(t[i], NULL);
		sum += work[i];
		work[i] = 0;
	}
	return sum;
}

int main(int argc, char **argv)
{
	nthreads = argc > 1 ? atoi(argv[1]) : 4;
	rounds = argc > 2 ? atoi(argv[2]) : 1000;
	if (nthreads < 1 || nthreads > 64 || rounds < 1) {
		fprintf(stderr, "usage: rawfutex THREADS(1-64) ROUNDS\n");
		return 2;
	}
	use_libc = argc > 3 && strcmp(argv[3], "libc") == 0;
	long sum = run_ring();
	printf("turn=%d sum=%ld\n", atomic_load(&turn), sum);
	if (argc > 3 && strcmp(argv[3], "sigsys") == 0) {
		own_handler(SIGTRAP, "SIGTRAP");
		own_handler(SIGILL, "SIGILL");
		own_handler(SIGSYS, "SIGSYS");
	}
	if (argc > 3 && strcmp(argv[3], "fork") == 0) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			sum = run_ring();
			printf("child: turn=%d sum=%ld\n", atomic_load(&turn), sum);
			return 0;
		}
		int st;
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			return 1;
		printf("child exited 0\n");
	}
	return 0;
}
