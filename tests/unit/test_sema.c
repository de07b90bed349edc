/* Address waits (sched/sema.c): the per-bucket treap of addresses with a
 * FIFO per address.  Many addresses in one bucket, many waiters per
 * address, wake-one, wake-all, requeue and timeouts, alone and under
 * concurrent use; every waiter is woken exactly once.
 *
 * Each waiter is a real thread playing a G: getg() is its own struct g
 * (the stubs' goro__curg slot), and the scheduler's park is replaced here
 * by a futex wait on the G's wrapper (goro__park_until, goro__ready); the
 * claim protocol is sched/park.c's own. */
#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sched/runtime.h"
#include "sched/sys.h"
#include "tests/unit/stubs.h"

#define SEMTABSZ 251 /* sched/sema.c */

struct tg {
	struct g g; /* first: getg() is &tg->g */
	_Atomic uint32_t ready;
	_Atomic uint32_t readies;     /* goro__ready calls, all parks */
	_Atomic uint32_t timer_won;   /* parks whose timeout won the claim */
	int id;
};

static _Atomic uint32_t double_ready;

/* ---- the scheduler, replaced ------------------------------------------ */

void goro__ready(struct g *gp)
{
	struct tg *t = (struct tg *)gp;
	if (a_load_acq(&gp->status) != G_WAITING || a_swap(&t->ready, 1) != 0)
		a_fetch_add(&double_ready, 1);
	a_fetch_add(&t->readies, 1);
	goro__futex_wake(&t->ready, 1);
}

bool goro__sig_interrupting(struct g *gp) { return false; }
void goro__sig_resume(struct g *gp) {}
void goro__sig_drain(void) {}
void goro__cancel_kick(struct g *gp) {} /* sched/cancelsys.c: no cancellation here */
void goro__async_cancel_point(void) {} /* sched/proc.c: nor asynchronous cancellation */

/* park_m + the timer: publish G_WAITING, run unlockf, sleep until readied
 * or the deadline; a deadline that wins the claim returns TIMEOUT. */
enum goro_wake goro__park_until(goro_unlockf unlockf, void *arg, const char *reason, int64_t when)
{
	struct g *gp = getg();
	struct tg *t = (struct tg *)gp;
	a_store_rel(&gp->status, G_WAITING);
	unlockf(gp, arg);
	enum goro_wake w = GORO_WAKE_EVENT;
	while (!a_load_acq(&t->ready)) {
		int64_t now = goro__nanotime();
		if (when >= 0 && now >= when) {
			if (goro__claim(gp)) {
				a_fetch_add(&t->timer_won, 1);
				w = GORO_WAKE_TIMEOUT;
				break;
			}
			when = -1; /* a waker claimed it: it readies us */
			continue;
		}
		struct timespec ts = { 0, 200000 };
		goro__futex_wait(&t->ready, 0, when >= 0 ? &ts : NULL);
	}
	a_store_rlx(&t->ready, 0);
	a_store_rel(&gp->status, G_RUNNING);
	return w;
}

/* ---- helpers ------------------------------------------------------------ */

static char arena[SEMTABSZ * 8 * 64] __attribute__((aligned(8)));

/* The i-th address of bucket b's row: every one lands in bucket b. */
static void *addr_in(int b, int i) { return &arena[((size_t)i * SEMTABSZ + (size_t)b) * 8]; }

struct waiter {
	struct tg t;
	pthread_t th;
	void *addr;
	int64_t timeout_ns; /* < 0: none */
	enum goro_wake result;
	_Atomic int done;
	_Atomic int parked;
};

static void *waiter_main(void *a)
{
	struct waiter *w = a;
	goro__curg = &w->t.g;
	int64_t dl = w->timeout_ns >= 0 ? goro__nanotime() + w->timeout_ns : -1;
	a_store_rel(&w->parked, 1);
	w->result = goro__addrpark(w->addr, NULL, NULL, "test", dl, false);
	a_store_rel(&w->done, 1);
	return NULL;
}

static void start_waiter(struct waiter *w, int id, void *addr, int64_t timeout_ns)
{
	memset(w, 0, sizeof *w);
	w->t.id = id;
	w->t.g.status = G_RUNNING;
	w->addr = addr;
	w->timeout_ns = timeout_ns;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 64 * 1024);
	g_assert_cmpint(pthread_create(&w->th, &at, waiter_main, w), ==, 0);
	pthread_attr_destroy(&at);
}

/* Until w is enqueued (its status turns G_WAITING under the bucket lock's
 * release, after the enqueue). */
static void wait_parked(struct waiter *w)
{
	while (a_load_acq(&w->t.g.status) != G_WAITING && !a_load_acq(&w->done))
		usleep(50);
}

static void wait_done(struct waiter *w)
{
	while (!a_load_acq(&w->done))
		usleep(50);
	pthread_join(w->th, NULL);
}

static int count_done(struct waiter *ws, int n)
{
	int k = 0;
	for (int i = 0; i < n; i++)
		k += a_load_acq(&ws[i].done);
	return k;
}

/* One address's waiter becomes done after a wake-one, and nobody else. */
static void wake_one_expect(void *addr, struct waiter *all, int n, struct waiter *expect)
{
	int before = count_done(all, n);
	g_assert_cmpint(goro__addrwake(addr, 1), ==, 1);
	wait_done(expect);
	g_assert_cmpint(expect->result, ==, GORO_WAKE_EVENT);
	g_assert_cmpint(count_done(all, n), ==, before + 1);
}

static void check_all_woken_once(struct waiter *ws, int n)
{
	for (int i = 0; i < n; i++) {
		g_assert_true(a_load_acq(&ws[i].done));
		g_assert_cmpuint(a_load_acq(&ws[i].t.readies) + a_load_acq(&ws[i].t.timer_won), ==, 1);
	}
	g_assert_cmpuint(a_load_acq(&double_ready), ==, 0);
}

#define NA 12 /* addresses, all in bucket 7 */
#define NR 5  /* waiters per address, parked round by round */

/* FIFO per address with many addresses in one bucket: wake-one in order,
 * wake-all, requeue onto a waited-on address (behind its waiters) and
 * onto an empty one in another bucket. */
static void test_fifo(void)
{
	static struct waiter w[NA][NR];
	int n = NA * NR, order[NA] = { 5, 0, 11, 3, 8, 1, 10, 6, 2, 9, 4, 7 };
	for (int r = 0; r < NR; r++)
		for (int k = 0; k < NA; k++) {
			int i = order[k];
			start_waiter(&w[i][r], i * NR + r, addr_in(7, i), -1);
			wait_parked(&w[i][r]);
		}
	struct waiter *all = &w[0][0];
	for (int i = 0; i < 4; i++)
		for (int r = 0; r < NR; r++)
			wake_one_expect(addr_in(7, i), all, n, &w[i][r]);
	for (int i = 4; i < 6; i++) {
		g_assert_cmpint(goro__addrwake(addr_in(7, i), 1 << 30), ==, NR);
		for (int r = 0; r < NR; r++)
			wait_done(&w[i][r]);
	}
	/* requeue 6 onto 7: 6's first wakes, the rest queue behind 7's */
	int before = count_done(all, n);
	goro__addrrequeue(addr_in(7, 6), addr_in(7, 7));
	wait_done(&w[6][0]);
	g_assert_cmpint(count_done(all, n), ==, before + 1);
	g_assert_cmpint(goro__addrwake(addr_in(7, 6), 1), ==, 0);
	for (int r = 0; r < NR; r++)
		wake_one_expect(addr_in(7, 7), all, n, &w[7][r]);
	for (int r = 1; r < NR; r++)
		wake_one_expect(addr_in(7, 7), all, n, &w[6][r]);
	/* requeue 8 onto an address nobody waits on, in another bucket */
	goro__addrrequeue(addr_in(7, 8), addr_in(9, 0));
	wait_done(&w[8][0]);
	for (int r = 1; r < NR; r++)
		wake_one_expect(addr_in(9, 0), all, n, &w[8][r]);
	g_assert_cmpint(goro__addrwake(addr_in(7, 40), 1 << 30), ==, 0);
	for (int i = NA - 1; i >= 9; i--) {
		g_assert_cmpint(goro__addrwake(addr_in(7, i), 1 << 30), ==, NR);
		for (int r = 0; r < NR; r++)
			wait_done(&w[i][r]);
	}
	check_all_woken_once(all, n);
	for (int i = 0; i < NA; i++)
		g_assert_cmpint(goro__addrwake(addr_in(7, i), 1 << 30), ==, 0);
}

/* Timeouts at the head, in the middle, at the tail of a FIFO and of a
 * whole address: the timed-out leave, the others keep their order. */
static void test_timeouts(void)
{
	enum { A = 4, R = 4 };
	static struct waiter w[A][R];
	static const bool timed[A][R] = {
		{ true, false, false, false },
		{ false, false, true, false },
		{ false, false, false, true },
		{ true, true, true, true },
	};
	for (int r = 0; r < R; r++)
		for (int i = 0; i < A; i++) {
			start_waiter(&w[i][r], i * R + r, addr_in(3, i), timed[i][r] ? 20 * 1000 * 1000 : -1);
			wait_parked(&w[i][r]);
		}
	for (int i = 0; i < A; i++)
		for (int r = 0; r < R; r++)
			if (timed[i][r]) {
				wait_done(&w[i][r]);
				g_assert_cmpint(w[i][r].result, ==, GORO_WAKE_TIMEOUT);
			}
	for (int i = 0; i < A; i++)
		for (int r = 0; r < R; r++)
			if (!timed[i][r])
				wake_one_expect(addr_in(3, i), &w[0][0], A * R, &w[i][r]);
	g_assert_cmpint(goro__addrwake(addr_in(3, 3), 1 << 30), ==, 0);
	check_all_woken_once(&w[0][0], A * R);
}

/* 1,000 waiters, 25 on each of 40 addresses in two buckets: wake-ones in a
 * shuffled order of addresses always wake that address's oldest waiter,
 * whatever the treap did with the other 39 meanwhile. */
static void test_many(void)
{
	enum { A = 40, R = 25 };
	static struct waiter w[A][R];
	int next[A] = { 0 }, left = A * R;
	for (int r = 0; r < R; r++)
		for (int i = 0; i < A; i++) {
			start_waiter(&w[i][r], i * R + r, addr_in(11 + (i & 1), i), -1);
			wait_parked(&w[i][r]);
		}
	unsigned seed = 12345;
	while (left > 0) {
		int i = rand_r(&seed) % A;
		if (next[i] == R)
			continue;
		wake_one_expect(addr_in(11 + (i & 1), i), &w[0][0], A * R, &w[i][next[i]]);
		next[i]++;
		left--;
	}
	check_all_woken_once(&w[0][0], A * R);
}

/* ---- concurrent use ------------------------------------------------------ */

#define CW 48      /* waiter threads */
#define CR 150     /* parks each */
#define CADDR 8    /* 4 in bucket 5, 4 in bucket 6 */
#define CWAKERS 3

struct cwaiter {
	struct tg t;
	pthread_t th;
	unsigned seed;
	int events, timeouts;
};
static struct cwaiter cws[CW];
static _Atomic int cdone;

static void *caddr(int k) { return addr_in(5 + (k & 1), k >> 1); }

static void *cwaiter_main(void *a)
{
	struct cwaiter *w = a;
	goro__curg = &w->t.g;
	for (int i = 0; i < CR; i++) {
		int k = rand_r(&w->seed) % CADDR;
		int64_t dl = -1;
		if (rand_r(&w->seed) % 4 == 0)
			dl = goro__nanotime() + (rand_r(&w->seed) % 200) * 1000;
		enum goro_wake r = goro__addrpark(caddr(k), NULL, NULL, "test", dl, false);
		if (r == GORO_WAKE_EVENT)
			w->events++;
		else if (r == GORO_WAKE_TIMEOUT)
			w->timeouts++;
	}
	a_fetch_add(&cdone, 1);
	return NULL;
}

static void *cwaker_main(void *a)
{
	unsigned seed = (unsigned)(uintptr_t)a;
	while (a_load_acq(&cdone) < CW) {
		int k = rand_r(&seed) % CADDR, op = rand_r(&seed) % 4;
		if (op == 0)
			goro__addrwake(caddr(k), 1 << 30);
		else if (op == 1)
			goro__addrrequeue(caddr(k), caddr(rand_r(&seed) % CADDR));
		else
			goro__addrwake(caddr(k), 1);
		sched_yield();
	}
	return NULL;
}

/* Waiters park on random addresses (a quarter with a short timeout) while
 * wakers wake one, wake all and requeue at random: every park ends by
 * exactly one claim, the waker's ready or the timer's, and nothing is
 * left queued. */
static void test_concurrent(void)
{
	pthread_t wk[CWAKERS];
	a_store_rlx(&cdone, 0);
	for (int i = 0; i < CW; i++) {
		memset(&cws[i], 0, sizeof cws[i]);
		cws[i].t.g.status = G_RUNNING;
		cws[i].seed = (unsigned)i * 7919u + 1;
		g_assert_cmpint(pthread_create(&cws[i].th, NULL, cwaiter_main, &cws[i]), ==, 0);
	}
	for (int i = 0; i < CWAKERS; i++)
		g_assert_cmpint(pthread_create(&wk[i], NULL, cwaker_main, (void *)(uintptr_t)(i + 1)), ==, 0);
	for (int i = 0; i < CW; i++)
		pthread_join(cws[i].th, NULL);
	for (int i = 0; i < CWAKERS; i++)
		pthread_join(wk[i], NULL);
	int timeouts = 0;
	for (int i = 0; i < CW; i++) {
		struct cwaiter *w = &cws[i];
		g_assert_cmpint(w->events + w->timeouts, ==, CR);
		g_assert_cmpuint(a_load_acq(&w->t.readies) + a_load_acq(&w->t.timer_won), ==, CR);
		g_assert_cmpuint((unsigned)w->timeouts, <=, a_load_acq(&w->t.timer_won));
		timeouts += w->timeouts;
	}
	g_test_message("%d parks, %d timed out", CW * CR, timeouts);
	g_assert_cmpuint(a_load_acq(&double_ready), ==, 0);
	for (int k = 0; k < CADDR; k++)
		g_assert_cmpint(goro__addrwake(caddr(k), 1 << 30), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	stubs_init(1);
	/* The runtime's paths, not those of a thread before start-up, which
	 * wait in the kernel (sched/park.c, goro__park_nop). */
	goro__started = true;
	alarm(300); /* a lost wake-up hangs a waiter: fail instead */
	g_test_add_func("/sema/fifo-many-addresses-one-bucket", test_fifo);
	g_test_add_func("/sema/timeouts", test_timeouts);
	g_test_add_func("/sema/1000-waiters-40-addresses", test_many);
	g_test_add_func("/sema/concurrent-wake-requeue-timeout", test_concurrent);
	return g_test_run();
}
