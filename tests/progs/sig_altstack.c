/* Per-thread kernel settings a thread makes for itself: its alternate
 * signal stack (sigaltstack), its name (prctl PR_SET_NAME), its
 * clear-child-tid address (prctl PR_GET_TID_ADDRESS, set_tid_address) and
 * its robust-futex list (get/set_robust_list), as stress-ng's pthread
 * stressor and Rust's threads use them.
 *
 * Each of NTHREADS threads, ROUNDS times: maps a signal stack, installs
 * it, checks what sigaltstack reports, takes a SA_ONSTACK signal it sends
 * itself (the handler must see SS_ONSTACK and get EPERM replacing it),
 * yields and sleeps (so under goro it moves between kernel threads), then
 * disables and unmaps the stack.  Meanwhile the main thread keeps sending
 * SA_ONSTACK signals to every thread: a signal stack left behind on a
 * kernel thread after its owner unmapped it would kill the process.
 * Output is deterministic; any mismatch exits 1 naming the check. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

#define NTHREADS 8
#define ROUNDS 40
#define STK (64 * 1024)

static _Atomic long poked;          /* SIGUSR2 handlers run, all threads */
static __thread int self_onstack;   /* SIGUSR1: SS_ONSTACK seen */
static __thread int self_eperm;     /* SIGUSR1: EPERM replacing it */
static __thread int self_runs;

static void on_usr1(int sig)
{
	(void)sig;
	int saved = errno;
	stack_t cur, other = { .ss_sp = NULL, .ss_size = STK, .ss_flags = 0 };
	self_runs++;
	if (sigaltstack(NULL, &cur) == 0 && (cur.ss_flags & SS_ONSTACK))
		self_onstack++;
	if (sigaltstack(&other, NULL) == -1 && errno == EPERM)
		self_eperm++;
	errno = saved;
}

static void on_usr2(int sig)
{
	(void)sig;
	atomic_fetch_add(&poked, 1);
}

static void check_tid_address(void)
{
	int *addr = NULL;
	CHECK_EQ(0, prctl(PR_GET_TID_ADDRESS, &addr, 0, 0, 0), "prctl(PR_GET_TID_ADDRESS)");
	CHECK(addr != NULL, "a thread's clear-child-tid address is set");
	CHECK_EQ(gettid(), *addr, "the clear-child-tid word holds the thread's tid");
	CHECK_EQ(gettid(), syscall(SYS_set_tid_address, NULL), "set_tid_address(NULL) returns the tid");
	int *none = addr;
	CHECK_EQ(0, prctl(PR_GET_TID_ADDRESS, &none, 0, 0, 0), "prctl(PR_GET_TID_ADDRESS) after clearing");
	CHECK(none == NULL, "PR_GET_TID_ADDRESS reports the NULL just set");
	CHECK_EQ(gettid(), syscall(SYS_set_tid_address, addr), "set_tid_address(back) returns the tid");
}

static void check_robust_list(void)
{
	void *head = NULL, *now = NULL;
	size_t len = 0;
	CHECK_EQ(0, syscall(SYS_get_robust_list, 0, &head, &len), "get_robust_list(0)");
	CHECK_EQ(3 * sizeof(void *), len, "robust list head size");
	CHECK(*(void **)head == head, "a thread holding no robust mutex has an empty list");
	/* stress-ng registers a copy on its stack, then leaves it there */
	void *copy[3];
	memcpy(copy, head, sizeof copy);
	CHECK_EQ(0, syscall(SYS_set_robust_list, copy, len), "set_robust_list(copy)");
	CHECK_EQ(0, syscall(SYS_get_robust_list, 0, &now, &len), "get_robust_list after set");
	CHECK(now == (void *)copy, "get_robust_list reports the list just set");
	CHECK_EQ(-1, syscall(SYS_set_robust_list, copy, 7), "set_robust_list with a bad length");
	CHECK_EQ(EINVAL, errno, "set_robust_list with a bad length: EINVAL");
	CHECK_EQ(0, syscall(SYS_set_robust_list, head, len), "set_robust_list(back)");
}

static void *worker(void *arg)
{
	int id = (int)(long)arg;
	char name[16], got[16];
	snprintf(name, sizeof name, "altstack-%d", id);
	CHECK_EQ(0, prctl(PR_SET_NAME, name, 0, 0, 0), "prctl(PR_SET_NAME)");
	check_tid_address();
	check_robust_list();

	stack_t old;
	CHECK_EQ(0, sigaltstack(NULL, &old), "sigaltstack query");
	CHECK(old.ss_flags == SS_DISABLE, "a new thread has no signal stack");
	stack_t bad = { .ss_sp = NULL, .ss_size = STK, .ss_flags = 12345 };
	CHECK_EQ(-1, sigaltstack(&bad, NULL), "sigaltstack with bad flags");
	CHECK_EQ(EINVAL, errno, "sigaltstack with bad flags: EINVAL");
	char tiny[64];
	stack_t small = { .ss_sp = tiny, .ss_size = sizeof tiny, .ss_flags = 0 };
	CHECK_EQ(-1, sigaltstack(&small, NULL), "sigaltstack too small");
	CHECK_EQ(ENOMEM, errno, "sigaltstack too small: ENOMEM");

	for (int r = 0; r < ROUNDS; r++) {
		void *mem = mmap(NULL, STK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		CHECK(mem != MAP_FAILED, "mmap signal stack");
		stack_t ss = { .ss_sp = mem, .ss_size = STK, .ss_flags = 0 }, cur;
		CHECK_EQ(0, sigaltstack(&ss, &old), "sigaltstack install");
		CHECK(old.ss_flags == SS_DISABLE, "no signal stack before installing one");
		for (int k = 0; k < 3; k++) {
			sched_yield();
			usleep(50);
			CHECK_EQ(0, sigaltstack(NULL, &cur), "sigaltstack query after moving");
			CHECK(cur.ss_sp == mem && cur.ss_size == STK && cur.ss_flags == 0,
			      "the thread's own signal stack, wherever it runs");
		}
		CHECK_EQ(0, pthread_kill(pthread_self(), SIGUSR1), "pthread_kill(self, SIGUSR1)");
		stack_t off = { .ss_flags = SS_DISABLE };
		CHECK_EQ(0, sigaltstack(&off, &old), "sigaltstack disable");
		CHECK(old.ss_sp == mem && old.ss_flags == 0, "disabling reports the stack it had");
		CHECK_EQ(0, munmap(mem, STK), "munmap signal stack");
		CHECK_EQ(0, sigaltstack(NULL, &cur), "sigaltstack query after disabling");
		CHECK(cur.ss_flags == SS_DISABLE, "disabled");
	}
	CHECK_EQ(ROUNDS, self_runs, "SIGUSR1 handlers run in the thread");
	CHECK_EQ(ROUNDS, self_onstack, "the handler saw SS_ONSTACK");
	CHECK_EQ(ROUNDS, self_eperm, "replacing the stack in use: EPERM");
	CHECK_EQ(0, prctl(PR_GET_NAME, got, 0, 0, 0), "prctl(PR_GET_NAME)");
	CHECK_STREQ(name, got, "the thread's own name after moving");
	CHECK_EQ(0, pthread_getname_np(pthread_self(), got, sizeof got), "pthread_getname_np");
	CHECK_STREQ(name, got, "pthread_getname_np sees the prctl name");
	return NULL;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_ONSTACK };
	sigemptyset(&sa.sa_mask);
	CHECK_EQ(0, sigaction(SIGUSR1, &sa, NULL), "sigaction SIGUSR1");
	sa.sa_handler = on_usr2;
	sa.sa_flags = SA_ONSTACK | SA_RESTART;
	CHECK_EQ(0, sigaction(SIGUSR2, &sa, NULL), "sigaction SIGUSR2");

	pthread_t t[NTHREADS];
	for (int i = 0; i < NTHREADS; i++) {
		CHECK_EQ(0, pthread_create(&t[i], NULL, worker, (void *)(long)i), "pthread_create");
	}
	/* Poke every thread while they come and go from their stacks: each
	 * kernel thread then takes SA_ONSTACK signals after some thread on it
	 * unmapped its stack. */
	long sent = 0;
	for (int round = 0; round < 400; round++)
		for (int i = 0; i < NTHREADS; i++)
			if (pthread_kill(t[i], SIGUSR2) == 0)
				sent++;
	for (int i = 0; i < NTHREADS; i++)
		CHECK_EQ(0, pthread_join(t[i], NULL), "pthread_join");
	CHECK(atomic_load(&poked) > 0, "SIGUSR2 handlers ran");
	CHECK(atomic_load(&poked) <= sent, "no more SIGUSR2 handlers than signals sent");

	char name[32];
	CHECK_EQ(0, prctl(PR_SET_NAME, "altstack-main-thread-long", 0, 0, 0), "main: prctl(PR_SET_NAME)");
	CHECK_EQ(0, prctl(PR_GET_NAME, name, 0, 0, 0), "main: prctl(PR_GET_NAME)");
	CHECK_STREQ("altstack-main-t", name, "main: the name cut to 15 bytes");
	FILE *f = fopen("/proc/self/comm", "r");
	CHECK(f != NULL, "open /proc/self/comm");
	CHECK(fgets(name, sizeof name, f) != NULL, "read /proc/self/comm");
	fclose(f);
	CHECK_STREQ("altstack-main-t\n", name, "the process's name (ps) is the main thread's");
	printf("threads %d, rounds %d: signal stacks, names, tid addresses and robust lists per thread\n",
	       NTHREADS, ROUNDS);
	return 0;
}
