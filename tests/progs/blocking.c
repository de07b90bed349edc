/* Declared blocking calls (tests/blocking.bats): the vendor library's
 * calls reached directly (the program's GOT), through a function pointer
 * (GLOB_DAT), through dlsym(RTLD_DEFAULT), and from a dlopen'ed library.
 *
 *   blocking values   results and errno of every way in: 10 declared calls
 *   blocking wait W   W's vendor_wait ("direct" or "plug"; "nested": vendor_read,
 *                     which calls goro's read) blocks on an empty
 *                     pipe; a worker counts to ROUNDS and only then writes
 *   blocking spin     vendor_spin waits for a flag a worker sets
 *   blocking cancel   vendor_wait called with a cancel pending
 *   blocking cancelwait R   a cancel while R blocks on an empty pipe: R is
 *                     "libc" (read, a cancellation point) or "vendor"
 *                     (vendor_wait, one when declared with '!')
 */
#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>

#include "check.h"

int vendor_wait(int fd, char *buf, int n);
int vendor_read(int fd, char *buf, int n);
void vendor_spin(volatile int *flag);
double vendor_sum(int a, long b, double c, char *s);
double vendor_many(int a, long b, long c, long d, long e, long f, long g, float h);
float vendor_half(float x, unsigned u);

#define ROUNDS 100000

static double (*volatile sum_ptr)(int, long, double, char *);
static int (*plug_wait)(int, char *, int);
static double (*plug_sum)(int, long, double, char *);
static int pfd[2];
static atomic_int entered;
static volatile int flag;
static atomic_long work;

static void open_plugin(void)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof path - 32);
	CHECK(n > 0, "readlink /proc/self/exe");
	path[n] = 0;
	strcpy(strrchr(path, '/') + 1, "libvendplug.so");
	void *h = dlopen(path, RTLD_NOW);
	CHECK(h != NULL, "dlopen libvendplug.so");
	plug_wait = (int (*)(int, char *, int))dlsym(h, "plug_wait");
	plug_sum = (double (*)(int, long, double, char *))dlsym(h, "plug_sum");
	CHECK(plug_wait && plug_sum, "dlsym plug_*");
}

static void show(const char *how, double r)
{
	printf("%s: %.3f errno=%d\n", how, r, errno);
}

static int values(void)
{
	errno = 0;
	show("direct", vendor_sum(7, 100000000000L, 0.25, "abc"));
	show("direct", vendor_sum(-3, -5, -1.5, ""));
	sum_ptr = vendor_sum; /* its address from the GOT: R_X86_64_GLOB_DAT */
	show("pointer", sum_ptr(11, 2, 3.5, "hello"));
	double (*f)(int, long, double, char *) = (double (*)(int, long, double, char *))dlsym(RTLD_DEFAULT, "vendor_sum");
	CHECK(f != NULL, "dlsym(RTLD_DEFAULT, vendor_sum)");
	show("dlsym", f(5, 6, 7.0, "xy"));
	f = (double (*)(int, long, double, char *))dlsym(RTLD_NEXT, "vendor_sum");
	CHECK(f != NULL, "dlsym(RTLD_NEXT, vendor_sum)");
	show("dlsym next", f(8, 9, 1.0, "z"));
	show("plugin", plug_sum(13, 1, 0.5, "four"));
	show("many", vendor_many(1, 2, 3, 4, 5, 6, -7, 0.5f));
	show("half", vendor_half(5.0f, 4000000000u));
	char buf[8];
	errno = 0;
	int r = vendor_wait(-1, buf, 1);
	printf("bad fd: %d errno=%d\n", r, errno);
	CHECK(pipe(pfd) == 0, "pipe");
	CHECK(write(pfd[1], "ok", 2) == 2, "write");
	r = plug_wait(pfd[0], buf, sizeof buf);
	printf("plugin read: %d %.2s\n", r, buf);
	return 0;
}

static void *counter(void *arg)
{
	while (!atomic_load(&entered))
		sched_yield();
	for (int i = 0; i < ROUNDS; i++)
		atomic_fetch_add(&work, 1);
	if (arg)
		__atomic_store_n(&flag, 1, __ATOMIC_RELEASE);
	else
		CHECK(write(pfd[1], "done", 4) == 4, "write");
	return NULL;
}

static int wait_mode(const char *how)
{
	char buf[8] = { 0 };
	pthread_t t;
	CHECK(pipe(pfd) == 0, "pipe");
	CHECK_OK(pthread_create(&t, NULL, counter, NULL));
	atomic_store(&entered, 1);
	int r = strcmp(how, "plug") == 0     ? plug_wait(pfd[0], buf, 4)
		: strcmp(how, "nested") == 0 ? vendor_read(pfd[0], buf, 4)
					     : vendor_wait(pfd[0], buf, 4);
	CHECK_OK(pthread_join(t, NULL));
	printf("%s read: %d %s, work %ld\n", how, r, buf, atomic_load(&work));
	return 0;
}

/* A cancel pending when vendor_wait starts: natively (its raw syscall is no
 * cancellation point) the read returns and pthread_testcancel acts after;
 * declared with '!', the call is a cancellation point and never starts. */
static atomic_int cancel_sent, returned = -2;

static void *cancel_target(void *arg)
{
	char c;
	(void)arg;
	CHECK_OK(pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL));
	while (!atomic_load(&cancel_sent))
		sched_yield();
	CHECK_OK(pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL));
	atomic_store(&returned, vendor_wait(pfd[0], &c, 1)); /* no printf here: a cancellation point */
	pthread_testcancel();
	return NULL;
}

static int cancel_mode(void)
{
	pthread_t t;
	void *res = NULL;
	CHECK(pipe(pfd) == 0, "pipe");
	CHECK(write(pfd[1], "x", 1) == 1, "write");
	CHECK_OK(pthread_create(&t, NULL, cancel_target, NULL));
	CHECK_OK(pthread_cancel(t));
	atomic_store(&cancel_sent, 1);
	CHECK_OK(pthread_join(t, &res));
	if (atomic_load(&returned) != -2)
		printf("vendor_wait returned %d\n", atomic_load(&returned));
	printf("cancelled: %s\n", res == PTHREAD_CANCELED ? "yes" : "no");
	return 0;
}

static int waiter_libc;

static void *cancel_waiter(void *arg)
{
	char c;
	(void)arg;
	atomic_store(&entered, 1);
	if (waiter_libc)
		atomic_store(&returned, (int)read(pfd[0], &c, 1));
	else
		atomic_store(&returned, vendor_wait(pfd[0], &c, 1));
	return NULL;
}

static int cancelwait_mode(const char *how)
{
	pthread_t t;
	void *res = NULL;
	waiter_libc = strcmp(how, "libc") == 0;
	CHECK(pipe(pfd) == 0, "pipe");
	CHECK_OK(pthread_create(&t, NULL, cancel_waiter, NULL));
	while (!atomic_load(&entered))
		sched_yield();
	check_wait_blocked(); /* it sleeps in the kernel, in its read */
	CHECK_OK(pthread_cancel(t));
	CHECK_OK(pthread_join(t, &res));
	if (atomic_load(&returned) != -2)
		printf("the wait returned %d\n", atomic_load(&returned));
	printf("cancelled while blocked: %s\n", res == PTHREAD_CANCELED ? "yes" : "no");
	return 0;
}

static int spin_mode(void)
{
	pthread_t t;
	CHECK_OK(pthread_create(&t, NULL, counter, (void *)1));
	atomic_store(&entered, 1);
	vendor_spin(&flag);
	CHECK_OK(pthread_join(t, NULL));
	printf("spin done, work %ld\n", atomic_load(&work));
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	open_plugin();
	if (argc > 1 && strcmp(argv[1], "values") == 0)
		return values();
	if (argc > 2 && strcmp(argv[1], "wait") == 0)
		return wait_mode(argv[2]);
	if (argc > 1 && strcmp(argv[1], "spin") == 0)
		return spin_mode();
	if (argc > 1 && strcmp(argv[1], "cancel") == 0)
		return cancel_mode();
	if (argc > 2 && strcmp(argv[1], "cancelwait") == 0)
		return cancelwait_mode(argv[2]);
	fprintf(stderr, "usage: blocking values | wait direct|plug|nested | spin | cancel | cancelwait libc|vendor\n");
	return 2;
}
