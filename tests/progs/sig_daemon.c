/* The daemon pattern (docs/ARCHITECTURE.md, "The signal path, end to
 * end"): SIGTERM and SIGHUP are blocked in every thread before any is
 * created, other threads park, and one thread takes the signals with
 * sigwait (argument "wait"), sigwaitinfo ("info") or sigtimedwait
 * ("timed").  The test sends SIGHUP then SIGTERM with kill(1) after
 * "ready": a blocked signal must stay pending for the process, never kill
 * it through a thread that does not take it. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include "check.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int done;
static const char *how = "wait";

static void *parked(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	while (!done)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	return NULL;
}

static int take(const sigset_t *set, siginfo_t *si)
{
	int sig = 0;
	if (strcmp(how, "wait") == 0) {
		CHECK_OK(sigwait(set, &sig));
		si->si_code = SI_USER; /* sigwait does not say */
		return sig;
	}
	if (strcmp(how, "info") == 0)
		return sigwaitinfo(set, si);
	struct timespec forever = { 3600, 0 };
	return sigtimedwait(set, si, &forever);
}

static void *waiter(void *arg)
{
	sigset_t *set = arg;
	for (int n = 0; n < 2; n++) {
		siginfo_t si;
		memset(&si, 0, sizeof si);
		if (n == 0) {
			printf("ready\n");
			fflush(stdout);
		}
		int sig = take(set, &si);
		CHECK(sig > 0, "a signal taken");
		printf("got %s si_code=%d\n", sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : "other",
		       si.si_code);
		fflush(stdout);
		if (sig == SIGTERM)
			break;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		how = argv[1];
	static sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	CHECK_OK(pthread_sigmask(SIG_BLOCK, &set, NULL));
	pthread_t p[3], w;
	for (int i = 0; i < 3; i++)
		CHECK_OK(pthread_create(&p[i], NULL, parked, NULL));
	CHECK_OK(pthread_create(&w, NULL, waiter, &set));
	CHECK_OK(pthread_join(w, NULL));
	pthread_mutex_lock(&mu);
	done = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < 3; i++)
		CHECK_OK(pthread_join(p[i], NULL));
	printf("exit 0\n");
	return 0;
}
