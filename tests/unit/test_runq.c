/* Run queues (sched/runq.c): the per-P lock-free ring, runnext, overflow
 * to the global queue, globrunqget, work stealing, and a stress test with
 * one owner and three stealers.
 *
 * Gs are plain struct g's; each is identified by the number in its goid.
 * A broken invariant inside the runtime calls goro__throw, which aborts the
 * binary (the TAP run then reports a crash). */
#include <glib.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "sched/runtime.h"
#include "sched/sys.h"
#include "tests/unit/stubs.h"

#define NG 1024
static struct g gs[NG];
static struct p p0, p1;

static void reset(void)
{
	memset(gs, 0, sizeof gs);
	for (int i = 0; i < NG; i++)
		gs[i].goid = (uint64_t)i;
	memset(&p0, 0, sizeof p0);
	memset(&p1, 0, sizeof p1);
	p1.id = 1;
	memset(&goro__sched, 0, sizeof goro__sched);
}

static int id_of(struct g *gp) { return gp ? (int)gp->goid : -1; }

static uint32_t ringlen(struct p *pp)
{
	return a_load_acq(&pp->runqtail) - a_load_acq(&pp->runqhead);
}

/* Walks the global queue without taking anything. */
static int globlen(void)
{
	int n = 0;
	for (struct g *gp = goro__sched.runq.head; gp; gp = gp->schedlink)
		n++;
	return n;
}

static void test_fifo(void)
{
	reset();
	g_assert_true(goro__runqempty(&p0));
	g_assert_null(goro__runqget(&p0));
	for (int i = 0; i < 10; i++)
		goro__runqput(&p0, &gs[i], false);
	g_assert_false(goro__runqempty(&p0));
	g_assert_cmpuint(ringlen(&p0), ==, 10);
	for (int i = 0; i < 10; i++)
		g_assert_cmpint(id_of(goro__runqget(&p0)), ==, i);
	g_assert_null(goro__runqget(&p0));
	g_assert_true(goro__runqempty(&p0));

	/* The ring wraps around: head and tail keep counting past the size. */
	for (int round = 0; round < 5; round++) {
		for (int i = 0; i < GORO_RUNQ_SIZE; i++)
			goro__runqput(&p0, &gs[i], false);
		g_assert_cmpuint(ringlen(&p0), ==, GORO_RUNQ_SIZE);
		for (int i = 0; i < GORO_RUNQ_SIZE; i++)
			g_assert_cmpint(id_of(goro__runqget(&p0)), ==, i);
		g_assert_true(goro__runqempty(&p0));
	}
	g_assert_cmpint(a_load_rlx(&goro__sched.runqsize), ==, 0);
}

static void test_runnext(void)
{
	reset();
	/* runnext alone: not empty, and comes out first. */
	goro__runqput(&p0, &gs[7], true);
	g_assert_false(goro__runqempty(&p0));
	g_assert_cmpuint(ringlen(&p0), ==, 0);
	g_assert_cmpint(id_of(goro__runqget(&p0)), ==, 7);
	g_assert_true(goro__runqempty(&p0));

	/* A, B in the ring; N1 in runnext; N2 in runnext kicks N1 to the tail. */
	goro__runqput(&p0, &gs[1], false);
	goro__runqput(&p0, &gs[2], false);
	goro__runqput(&p0, &gs[10], true);
	g_assert_cmpint(id_of(a_load_rlx(&p0.runnext)), ==, 10);
	g_assert_cmpuint(ringlen(&p0), ==, 2);
	goro__runqput(&p0, &gs[11], true);
	g_assert_cmpint(id_of(a_load_rlx(&p0.runnext)), ==, 11);
	g_assert_cmpuint(ringlen(&p0), ==, 3);
	int want[] = { 11, 1, 2, 10 };
	for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
		g_assert_cmpint(id_of(goro__runqget(&p0)), ==, want[i]);
	g_assert_null(goro__runqget(&p0));
	g_assert_true(goro__runqempty(&p0));
}

/* A full ring plus one more: half the ring (the oldest) and the new G go
 * to the global queue, in that order. */
static void test_overflow(void)
{
	reset();
	stubs_init(4);
	for (int i = 0; i < GORO_RUNQ_SIZE; i++)
		goro__runqput(&p0, &gs[i], false);
	g_assert_cmpuint(ringlen(&p0), ==, GORO_RUNQ_SIZE);
	g_assert_cmpint(a_load_rlx(&goro__sched.runqsize), ==, 0);

	goro__runqput(&p0, &gs[GORO_RUNQ_SIZE], false);
	const int half = GORO_RUNQ_SIZE / 2;
	g_assert_cmpuint(ringlen(&p0), ==, GORO_RUNQ_SIZE - half);
	g_assert_cmpint(a_load_rlx(&goro__sched.runqsize), ==, half + 1);
	g_assert_cmpint(globlen(), ==, half + 1);
	/* the lock was released */
	g_assert_cmpuint(a_load_rlx(&goro__sched.lock.key), ==, 0);

	/* The ring keeps the newer half, in order. */
	for (int i = half; i < GORO_RUNQ_SIZE; i++)
		g_assert_cmpint(id_of(goro__runqget(&p0)), ==, i);
	g_assert_true(goro__runqempty(&p0));

	/* globrunqget(pp, 0): size/gomaxprocs + 1 Gs, one returned, the rest
	 * in pp's ring. */
	int size = half + 1;
	int n = size / goro__gomaxprocs + 1;
	goro__lock(&goro__sched.lock);
	struct g *gp = goro__globrunqget(&p1, 0);
	goro__unlock(&goro__sched.lock);
	g_assert_cmpint(id_of(gp), ==, 0);
	g_assert_cmpint(a_load_rlx(&goro__sched.runqsize), ==, size - n);
	g_assert_cmpint(globlen(), ==, size - n);
	g_assert_cmpuint(ringlen(&p1), ==, (uint32_t)(n - 1));
	g_assert_cmpuint(p1.nglobtake, ==, 1);
	for (int i = 1; i < n; i++)
		g_assert_cmpint(id_of(goro__runqget(&p1)), ==, i);
	g_assert_true(goro__runqempty(&p1));

	/* globrunqget(pp, 1): exactly one, nothing into the ring; the G that
	 * caused the overflow comes last. */
	int next = n;
	for (;;) {
		goro__lock(&goro__sched.lock);
		gp = goro__globrunqget(&p1, 1);
		goro__unlock(&goro__sched.lock);
		if (!gp)
			break;
		g_assert_cmpuint(ringlen(&p1), ==, 0);
		int want = next < half ? next : GORO_RUNQ_SIZE;
		g_assert_cmpint(id_of(gp), ==, want);
		next++;
	}
	g_assert_cmpint(next, ==, half + 1);
	g_assert_cmpint(a_load_rlx(&goro__sched.runqsize), ==, 0);
	g_assert_null(goro__sched.runq.head);
	g_assert_null(goro__sched.runq.tail);
}

/* globrunqget never takes more than half a ring, and at most max. */
static void test_globrunqget_limits(void)
{
	reset();
	stubs_init(1);
	goro__lock(&goro__sched.lock);
	for (int i = 0; i < 600; i++)
		goro__globrunqput(&gs[i]);
	g_assert_cmpint(a_load_rlx(&goro__sched.runqsize), ==, 600);
	struct g *gp = goro__globrunqget(&p0, 0);
	g_assert_cmpint(id_of(gp), ==, 0);
	g_assert_cmpuint(ringlen(&p0), ==, GORO_RUNQ_SIZE / 2 - 1);
	g_assert_cmpint(a_load_rlx(&goro__sched.runqsize), ==, 600 - GORO_RUNQ_SIZE / 2);
	while (goro__runqget(&p0))
		;
	gp = goro__globrunqget(&p0, 5);
	g_assert_cmpint(id_of(gp), ==, GORO_RUNQ_SIZE / 2);
	g_assert_cmpuint(ringlen(&p0), ==, 4);
	for (int i = 1; i <= 4; i++)
		g_assert_cmpint(id_of(goro__runqget(&p0)), ==, GORO_RUNQ_SIZE / 2 + i);

	/* globrunqputbatch appends a linked batch at the tail. */
	struct gqueue q = { NULL, NULL };
	for (int i = 600; i < 603; i++)
		goro__gqueue_push(&q, &gs[i]);
	int before = a_load_rlx(&goro__sched.runqsize);
	goro__globrunqputbatch(&q, 3);
	g_assert_null(q.head);
	g_assert_cmpint(a_load_rlx(&goro__sched.runqsize), ==, before + 3);
	int last = -1, count = 0;
	while ((gp = goro__globrunqget(&p0, 1))) {
		g_assert_cmpint(id_of(gp), >, last);
		last = id_of(gp);
		count++;
	}
	goro__unlock(&goro__sched.lock);
	g_assert_cmpint(count, ==, before + 3);
	g_assert_cmpint(last, ==, 602);
	g_assert_null(goro__globrunqget(&p0, 0)); /* empty: NULL (no lock needed to see it) */
}

/* runqsteal takes the older half (n - n/2) of the victim's ring: one is
 * returned, the rest land in the thief's ring in order. */
static void test_steal(void)
{
	for (int n = 0; n <= GORO_RUNQ_SIZE; n++) {
		reset();
		for (int i = 0; i < n; i++)
			goro__runqput(&p0, &gs[i], false);
		int take = n - n / 2;
		struct g *gp = goro__runqsteal(&p1, &p0, false);
		if (n == 0) {
			g_assert_null(gp);
			continue;
		}
		g_assert_nonnull(gp);
		g_assert_cmpint(id_of(gp), ==, take - 1);
		g_assert_cmpuint(ringlen(&p1), ==, (uint32_t)(take - 1));
		g_assert_cmpuint(ringlen(&p0), ==, (uint32_t)(n / 2));
		for (int i = 0; i < take - 1; i++)
			g_assert_cmpint(id_of(goro__runqget(&p1)), ==, i);
		for (int i = take; i < n; i++)
			g_assert_cmpint(id_of(goro__runqget(&p0)), ==, i);
		g_assert_true(goro__runqempty(&p0));
		g_assert_true(goro__runqempty(&p1));
	}

	/* runnext: only taken when asked for and the ring is empty. */
	reset();
	goro__runqput(&p0, &gs[5], true);
	g_assert_null(goro__runqsteal(&p1, &p0, false));
	g_assert_cmpint(id_of(a_load_rlx(&p0.runnext)), ==, 5);
	g_assert_cmpint(id_of(goro__runqsteal(&p1, &p0, true)), ==, 5);
	g_assert_null(a_load_rlx(&p0.runnext));
	g_assert_true(goro__runqempty(&p0));
	g_assert_true(goro__runqempty(&p1));

	reset();
	goro__runqput(&p0, &gs[1], false);
	goro__runqput(&p0, &gs[2], false);
	goro__runqput(&p0, &gs[9], true);
	g_assert_cmpint(id_of(goro__runqsteal(&p1, &p0, true)), ==, 1);
	g_assert_cmpint(id_of(a_load_rlx(&p0.runnext)), ==, 9);
	g_assert_cmpint(id_of(goro__runqget(&p0)), ==, 9);
	g_assert_cmpint(id_of(goro__runqget(&p0)), ==, 2);
	g_assert_true(goro__runqempty(&p0));

	/* Stealing from a victim whose ring has wrapped around. */
	reset();
	for (int i = 0; i < 200; i++)
		goro__runqput(&p0, &gs[i], false);
	for (int i = 0; i < 200; i++)
		goro__runqget(&p0);
	for (int i = 0; i < 100; i++)
		goro__runqput(&p0, &gs[i], false);
	g_assert_cmpint(id_of(goro__runqsteal(&p1, &p0, false)), ==, 49);
	g_assert_cmpuint(ringlen(&p1), ==, 49);
	g_assert_cmpuint(ringlen(&p0), ==, 50);
	g_assert_cmpint(id_of(goro__runqget(&p0)), ==, 50);
}

/* ---- concurrency ---------------------------------------------------------
 * The owner pushes NPUSH Gs into its P (sometimes as runnext) and pops some
 * itself; three stealers, each with its own P, steal half of the owner's
 * queue into their P and drain it, and take from the global queue (the
 * owner's overflow).  Each push uses a free struct g of a pool; whoever
 * takes a G counts its push number and gives the struct back to the pool.
 * At the end every push must have been taken exactly once. */
#define NPUSH 1000000
#define POOL 4096
#define NSTEALERS 3

static struct g pool[POOL];
static _Atomic uint8_t *taken; /* per push number */
static struct p owner_p, thief_p[NSTEALERS];
static _Atomic bool done;
static _Atomic uint64_t ntaken_owner, ntaken_steal, ntaken_glob, nfull_bursts;

static void take(struct g *gp, _Atomic uint64_t *counter)
{
	/* A G handed out twice shows here first: its struct is already back
	 * in the pool (or reused, with another push number). */
	g_assert_nonnull(gp);
	uint64_t id = gp->goid;
	g_assert_cmpuint(id, <, NPUSH);
	uint8_t before = a_fetch_add(&taken[id], 1);
	if (before != 0)
		g_error("push %" G_GUINT64_FORMAT " taken %u times (G struct %td)", id,
			(unsigned)before + 1, gp - pool);
	a_fetch_add(counter, 1);
	/* release: the owner may reuse the struct only after we read goid */
	int st = G_RUNNABLE;
	if (!a_cas(&gp->status, &st, G_IDLE))
		g_error("push %" G_GUINT64_FORMAT ": G struct %td taken while not queued (status %d)",
			id, gp - pool, st);
}

/* Global queue: take what there is into pp (whose ring the caller has
 * drained, so globrunqget's batch fits) and drain pp. */
static bool take_global(struct p *pp)
{
	if (a_load_rlx(&goro__sched.runqsize) == 0)
		return false;
	goro__lock(&goro__sched.lock);
	struct g *gp = goro__globrunqget(pp, 0);
	goro__unlock(&goro__sched.lock);
	if (!gp)
		return false;
	take(gp, &ntaken_glob);
	while ((gp = goro__runqget(pp)))
		take(gp, &ntaken_glob);
	return true;
}

static void *stealer(void *arg)
{
	struct p *pp = arg;
	unsigned idle = 0;
	while (!a_load_acq(&done)) {
		struct g *gp = goro__runqsteal(pp, &owner_p, (idle & 1) != 0);
		if (gp) {
			take(gp, &ntaken_steal);
			while ((gp = goro__runqget(pp)))
				take(gp, &ntaken_steal);
			idle = 0;
			continue;
		}
		if (take_global(pp))
			continue;
		if (++idle % 16 == 0)
			sched_yield();
	}
	return NULL;
}

static void test_concurrent(void)
{
	memset(&goro__sched, 0, sizeof goro__sched);
	memset(&owner_p, 0, sizeof owner_p);
	memset(thief_p, 0, sizeof thief_p);
	memset(pool, 0, sizeof pool);
	stubs_init(NSTEALERS + 1);
	taken = calloc(NPUSH, 1);
	g_assert_nonnull(taken);
	a_store_rlx(&done, false);
	ntaken_owner = ntaken_steal = ntaken_glob = nfull_bursts = 0;

	pthread_t th[NSTEALERS];
	for (int i = 0; i < NSTEALERS; i++) {
		thief_p[i].id = i + 1;
		g_assert_cmpint(pthread_create(&th[i], NULL, stealer, &thief_p[i]), ==, 0);
	}

	unsigned cursor = 0;
	uint32_t rnd = 12345;
	for (uint64_t seq = 0; seq < NPUSH; seq++) {
		/* a free struct g: its last taker stored G_IDLE */
		struct g *gp;
		for (unsigned scanned = 0;; scanned++) {
			gp = &pool[cursor++ % POOL];
			if (a_load_acq(&gp->status) == G_IDLE)
				break;
			if (scanned >= POOL) {
				/* Everything is queued: take some back. */
				struct g *mine = goro__runqget(&owner_p);
				if (mine)
					take(mine, &ntaken_owner);
				else if (goro__runqempty(&owner_p))
					take_global(&owner_p);
				scanned = 0;
			}
		}
		gp->goid = seq;
		a_store_rlx(&gp->status, G_RUNNABLE);
		rnd = rnd * 1103515245u + 12345u;
		goro__runqput(&owner_p, gp, (rnd >> 16) % 8 == 0);
		/* pop about one in three; every 4096 pushes stop popping for a
		 * while so the ring fills up and overflows */
		bool burst = (seq / 512) % 8 == 7;
		if (!burst && (rnd >> 20) % 3 == 0) {
			struct g *mine = goro__runqget(&owner_p);
			if (mine)
				take(mine, &ntaken_owner);
		}
		if (burst && seq % 512 == 0)
			nfull_bursts++;
	}
	a_store_rel(&done, true);
	for (int i = 0; i < NSTEALERS; i++)
		g_assert_cmpint(pthread_join(th[i], NULL), ==, 0);

	/* What is left: the owner's ring and runnext, the global queue.  The
	 * stealers drained their own Ps before looking for more. */
	struct g *gp;
	while ((gp = goro__runqget(&owner_p)))
		take(gp, &ntaken_owner);
	goro__lock(&goro__sched.lock);
	while ((gp = goro__globrunqget(&owner_p, 1)))
		take(gp, &ntaken_glob);
	goro__unlock(&goro__sched.lock);
	g_assert_cmpint(a_load_rlx(&goro__sched.runqsize), ==, 0);
	for (int i = 0; i < NSTEALERS; i++)
		g_assert_true(goro__runqempty(&thief_p[i]));
	g_assert_true(goro__runqempty(&owner_p));

	uint64_t total = ntaken_owner + ntaken_steal + ntaken_glob;
	g_test_message("taken: %llu by the owner, %llu stolen, %llu from the global queue",
		       (unsigned long long)ntaken_owner, (unsigned long long)ntaken_steal,
		       (unsigned long long)ntaken_glob);
	uint64_t bad = 0, first_bad = NPUSH;
	for (uint64_t i = 0; i < NPUSH; i++)
		if (taken[i] != 1) {
			if (!bad)
				first_bad = i;
			bad++;
		}
	if (bad)
		g_test_message("%llu push numbers not taken exactly once; first: %llu taken %u times",
			       (unsigned long long)bad, (unsigned long long)first_bad,
			       (unsigned)taken[first_bad]);
	g_assert_cmpuint(bad, ==, 0);
	g_assert_cmpuint(total, ==, NPUSH);
	for (int i = 0; i < POOL; i++)
		g_assert_cmpint(a_load_rlx(&pool[i].status), ==, G_IDLE);
	/* Both slow paths ran (scheduling decides how often). */
	g_assert_cmpuint(ntaken_steal, >, 0);
	if (ntaken_glob == 0)
		g_test_message("note: the owner's ring never overflowed in this run");
	free((void *)taken);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	stubs_init(4);
	g_test_add_func("/runq/fifo", test_fifo);
	g_test_add_func("/runq/runnext", test_runnext);
	g_test_add_func("/runq/overflow-to-global", test_overflow);
	g_test_add_func("/runq/globrunqget-limits", test_globrunqget_limits);
	g_test_add_func("/runq/steal-half", test_steal);
	g_test_add_func("/runq/concurrent-owner-and-stealers", test_concurrent);
	return g_test_run();
}
