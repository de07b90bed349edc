/* pthread_kill / pthread_sigqueue to a thread waiting for the signal in
 * sigwait, sigwaitinfo or sigtimedwait (issue 12 item 2; pbzip2's
 * shutdown: main sends SIGQUIT to a thread in sigwait, then joins it).
 * 150 rounds, each one signal sent after the waiter said it is about to
 * wait (so no two coalesce): every one is taken, with si_code SI_USER for
 * raise/pthread_kill as glibc's sigtimedwait reports it, SI_QUEUE and the
 * value for pthread_sigqueue, and si_pid the process.  A timed wait with
 * nothing sent ends with EAGAIN. */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "check.h"

#define ROUNDS 150

static atomic_int ready = -1, taken = -1;
static sigset_t set;
static int codes[3]; /* SI_USER, SI_QUEUE, other */

static int take(int how, siginfo_t *si)
{
	struct timespec hour = { 3600, 0 };
	int sig = 0;
	switch (how) {
	case 0:
		CHECK_OK(sigwait(&set, &sig));
		si->si_code = SI_USER;
		si->si_pid = getpid();
		return sig;
	case 1:
		return sigwaitinfo(&set, si);
	default:
		return sigtimedwait(&set, si, &hour);
	}
}

static void *waiter(void *arg)
{
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		siginfo_t si;
		memset(&si, 0, sizeof si);
		atomic_store(&ready, i);
		int sig = take(i % 3, &si);
		CHECK_EQ(i % 2 ? SIGQUIT : SIGUSR1, sig, "the signal sent this round");
		CHECK_EQ(getpid(), si.si_pid, "si_pid");
		if (si.si_code == SI_USER) {
			codes[0]++;
		} else if (si.si_code == SI_QUEUE) {
			codes[1]++;
			CHECK_EQ(i, si.si_value.sival_int, "the value queued");
		} else {
			codes[2]++;
		}
		atomic_store(&taken, i);
	}
	struct timespec ms = { 0, 1000000 };
	siginfo_t si;
	int r = sigtimedwait(&set, &si, &ms);
	printf("timed wait with nothing sent: %d %s\n", r, r < 0 && errno == EAGAIN ? "EAGAIN" : "?");
	/* pbzip2: SIGQUIT ends the last wait, then main joins */
	int sig = 0;
	atomic_store(&ready, ROUNDS);
	CHECK_OK(sigwait(&set, &sig));
	printf("last sigwait: %s\n", sig == SIGQUIT ? "SIGQUIT" : "other");
	return NULL;
}

static void wait_for(atomic_int *v, int want)
{
	while (atomic_load(v) != want)
		sched_yield();
}

static void *pending_here(void *arg)
{
	sigset_t p;
	CHECK_EQ(0, sigpending(&p), "sigpending");
	return (void *)(long)sigismember(&p, SIGUSR2);
}

/* raise() of a signal the thread blocks: pending for that thread across
 * its sleeps (wherever it then runs), not for a thread created later. */
static void raise_stays_with_thread(void)
{
	sigset_t u2, p;
	sigemptyset(&u2);
	sigaddset(&u2, SIGUSR2);
	CHECK_OK(pthread_sigmask(SIG_BLOCK, &u2, NULL));
	CHECK_EQ(0, raise(SIGUSR2), "raise");
	for (int i = 0; i < 20; i++)
		usleep(100);
	CHECK_EQ(0, sigpending(&p), "sigpending");
	printf("raised SIGUSR2 pending in the thread: %d, in a new thread: %d\n", sigismember(&p, SIGUSR2),
	       check_on_other_thread(pending_here, NULL));
	siginfo_t si;
	CHECK_EQ(SIGUSR2, sigwaitinfo(&u2, &si), "raised SIGUSR2 taken");
	CHECK_EQ(0, sigpending(&p), "sigpending");
	printf("taken: si_code %s, still pending: %d\n", si.si_code == SI_USER ? "SI_USER" : "other",
	       sigismember(&p, SIGUSR2));
}

int main(void)
{
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGQUIT);
	CHECK_OK(pthread_sigmask(SIG_BLOCK, &set, NULL));
	pthread_t t;
	CHECK_OK(pthread_create(&t, NULL, waiter, NULL));
	for (int i = 0; i < ROUNDS; i++) {
		wait_for(&ready, i);
		int sig = i % 2 ? SIGQUIT : SIGUSR1;
		if (i % 5 == 4) {
			union sigval v = { .sival_int = i };
			CHECK_OK(pthread_sigqueue(t, sig, v));
		} else {
			CHECK_OK(pthread_kill(t, sig));
		}
		wait_for(&taken, i);
	}
	wait_for(&ready, ROUNDS);
	CHECK_OK(pthread_kill(t, SIGQUIT));
	CHECK_OK(pthread_join(t, NULL));
	printf("rounds %d: SI_USER %d, SI_QUEUE %d, other %d\n", ROUNDS, codes[0], codes[1], codes[2]);
	/* raise in a thread that blocks the signal, then sigwaitinfo */
	siginfo_t si;
	raise(SIGUSR1);
	CHECK_EQ(SIGUSR1, sigwaitinfo(&set, &si), "raised signal taken");
	printf("raise: si_code %s\n", si.si_code == SI_USER ? "SI_USER" : "other");
	raise_stays_with_thread();
	return 0;
}
