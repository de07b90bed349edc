/* Leaving a handler with siglongjmp, as timeout code does: the mask saved
 * by sigsetjmp comes back (glibc restores it with its own sigprocmask, not
 * the program's), so the same signal is taken again next round.  Each of
 * 4 threads and main does 50 rounds of raise and pthread_kill from another
 * thread, each ending in siglongjmp out of the handler; a round whose
 * signal stayed blocked would never end. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>

#include "check.h"

#define NTHREADS 4
#define ROUNDS 50

static __thread sigjmp_buf *env;
static __thread int jumps;

static void on_alrm(int sig)
{
	(void)sig;
	siglongjmp(*env, 1);
}

static void rounds(pthread_t other)
{
	sigjmp_buf here;
	env = &here;
	for (int r = 0; r < ROUNDS; r++) {
		if (sigsetjmp(here, 1) == 0) {
			if (r % 2 == 0)
				raise(SIGALRM);
			else
				pthread_kill(other, SIGALRM);
			for (;;) /* the signal ends this round */
				sched_yield();
		}
		jumps++;
		sigset_t cur;
		pthread_sigmask(SIG_BLOCK, NULL, &cur);
		CHECK(!sigismember(&cur, SIGALRM), "SIGALRM unblocked again after siglongjmp");
	}
	CHECK_EQ(ROUNDS, jumps, "rounds left by siglongjmp");
}

static void *worker(void *arg)
{
	(void)arg;
	rounds(pthread_self());
	return NULL;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_alrm };
	sigemptyset(&sa.sa_mask);
	CHECK_EQ(0, sigaction(SIGALRM, &sa, NULL), "sigaction");
	pthread_t t[NTHREADS];
	for (int i = 0; i < NTHREADS; i++)
		CHECK_EQ(0, pthread_create(&t[i], NULL, worker, NULL), "pthread_create");
	rounds(pthread_self());
	for (int i = 0; i < NTHREADS; i++)
		CHECK_EQ(0, pthread_join(t[i], NULL), "pthread_join");
	printf("%d threads x %d rounds left their handlers with siglongjmp\n", NTHREADS + 1, ROUNDS);
	return 0;
}
