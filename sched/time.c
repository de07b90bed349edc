/* Timers: Gs sleeping until a monotonic deadline, in one min-heap.
 * Go keeps a heap per P (runtime/time.go); goro starts with one heap under
 * its own lock, checked by every M in findrunnable, by the M that sleeps
 * for the nearest deadline when there is nothing else to do, and by sysmon
 * as a backstop. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sched/runtime.h"
#include "sched/sys.h"

static struct goro_mutex tlock;
static struct g **heap;
static size_t nheap, capheap;
static _Atomic int64_t ntimers;
static bool tsleeper;          /* an M blocks in the netpoller for timers (tlock) */
static _Atomic bool tsleeper_flag; /* the same, read without tlock */
static int64_t tsleep_until;

static bool less(size_t a, size_t b) { return heap[a]->wake_when < heap[b]->wake_when; }

static void hswap(size_t a, size_t b)
{
	struct g *t = heap[a];
	heap[a] = heap[b];
	heap[b] = t;
	heap[a]->timer_idx = (int64_t)a;
	heap[b]->timer_idx = (int64_t)b;
}

static void siftup(size_t i)
{
	while (i > 0 && less(i, (i - 1) / 2)) {
		hswap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void siftdown(size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < nheap && less(l, m))
			m = l;
		if (r < nheap && less(r, m))
			m = r;
		if (m == i)
			return;
		hswap(i, m);
		i = m;
	}
}

/* Requires tlock. */
static void heap_remove(size_t i)
{
	heap[i]->timer_idx = -1;
	nheap--;
	a_store_rlx(&ntimers, (int64_t)nheap);
	if (i == nheap)
		return;
	heap[i] = heap[nheap];
	heap[i]->timer_idx = (int64_t)i;
	siftdown(i);
	siftup(i);
}

bool goro__timers_pending(void) { return a_load_rlx(&ntimers) > 0; }

int64_t goro__checktimers(int64_t now)
{
	struct gqueue q = { NULL, NULL };
	goro__lock(&tlock);
	while (nheap > 0 && heap[0]->wake_when <= now) {
		struct g *gp = heap[0];
		heap_remove(0);
		if (goro__claim(gp)) {
			GORO_TRACE(TEV_TIMER, gp, 0, NULL);
			gp->timer_fired = true;
			goro__gqueue_push(&q, gp);
		}
	}
	int64_t next = nheap ? heap[0]->wake_when : -1;
	goro__unlock(&tlock);
	struct g *gp;
	while ((gp = goro__gqueue_pop(&q)))
		goro__ready_claimed(gp);
	return next;
}

static void kick(void) { goro__netpoll_break(); }

void goro__timer_kick(void) { kick(); }

/* Called by an M with no P and nothing to run: if timers are pending or
 * Gs wait on I/O, and no other M waits for them, block in the netpoller
 * until the nearest deadline (or an event, or a kick) and return true;
 * the caller then tries to get a P and run what became ready. */
bool goro__timer_sleep(struct m *mp)
{
	goro__lock(&tlock);
	if ((nheap == 0 && !goro__netpoll_waiters()) || tsleeper) {
		goro__unlock(&tlock);
		return false;
	}
	tsleeper = true;
	a_store_rlx(&tsleeper_flag, true);
	tsleep_until = nheap ? heap[0]->wake_when : INT64_MAX;
	goro__unlock(&tlock);
	if (tsleep_until == INT64_MAX) {
		goro__netpoll(-1); /* only I/O waiters: until an event or a kick */
	} else {
		int64_t left = tsleep_until - goro__nanotime();
		if (left > 0)
			goro__netpoll(left);
	}
	goro__lock(&tlock);
	tsleeper = false;
	a_store_rlx(&tsleeper_flag, false);
	goro__unlock(&tlock);
	(void)mp;
	return true;
}

bool goro__timer_sleeper(void) { return a_load_rlx(&tsleeper_flag); }

/* A timer is due (sysmon's progress diagnostic). */
bool goro__timers_due(int64_t now)
{
	if (!goro__timers_pending())
		return false;
	goro__lock(&tlock);
	bool due = nheap > 0 && heap[0]->wake_when <= now;
	goro__unlock(&tlock);
	return due;
}

/* sysmon's backstop: timers due and nobody waiting for them. */
void goro__timers_sysmon(int64_t now)
{
	if (!goro__timers_pending())
		return;
	goro__lock(&tlock);
	bool due = nheap > 0 && heap[0]->wake_when <= now && !tsleeper;
	goro__unlock(&tlock);
	if (due)
		goro__wakep();
}

/* ---- wake-up claims --------------------------------------------------------
 * A parked G may be woken by its event (a waker holding the wait queue's
 * lock), by its timer, or by an interruption (cancellation, signal).  Each
 * waker must first win gp->wakeclaim; only the winner readies it (Go: the
 * selectDone CAS in select).  Wakers that do not hold the queue lock may
 * claim a G that is still on its way into park_m: they wait for G_WAITING
 * before readying it, as Go's casgstatus loops do. */

bool goro__claim(struct g *gp)
{
	uint32_t zero = 0;
	return a_cas(&gp->wakeclaim, &zero, 1);
}

void goro__ready_claimed(struct g *gp)
{
	while (a_load_acq(&gp->status) != G_WAITING)
		a_spin();
	goro__ready(gp);
}

bool goro__wake(struct g *gp)
{
	if (!goro__claim(gp))
		return false;
	goro__ready_claimed(gp);
	return true;
}

void goro__interrupt(struct g *gp)
{
	if (goro__claim(gp)) {
		gp->interrupted = true;
		goro__ready_claimed(gp);
	}
}

/* Park the current G (see goro__park) with an optional deadline `when`
 * (monotonic ns, < 0 for none).  The caller holds the lock that unlockf
 * releases.  Returns how the G was woken. */
enum goro_wake goro__park_until(goro_unlockf unlockf, void *arg, const char *reason, int64_t when)
{
	struct g *gp = getg();
	a_store_rlx(&gp->wakeclaim, 0);
	gp->interrupted = false;
	gp->timer_fired = false;
	if (when >= 0) {
		goro__lock(&tlock);
		if (nheap == capheap) {
			size_t nc = capheap ? capheap * 2 : 64;
			struct g **nh = realloc(heap, nc * sizeof(struct g *));
			if (!nh)
				goro__throw("out of memory growing the timer heap");
			heap = nh;
			capheap = nc;
		}
		gp->wake_when = when;
		heap[nheap] = gp;
		gp->timer_idx = (int64_t)nheap;
		nheap++;
		a_store_rlx(&ntimers, (int64_t)nheap);
		siftup(nheap - 1);
		bool k = tsleeper && gp->timer_idx == 0 && when < tsleep_until;
		bool nobody = !tsleeper;
		goro__unlock(&tlock);
		if (k)
			kick();
		else if (nobody)
			goro__wakep(); /* an idle P's M becomes the timer sleeper */
	}
	goro__park(unlockf, arg, reason);
	if (gp->timer_idx >= 0) {
		goro__lock(&tlock);
		if (gp->timer_idx >= 0)
			heap_remove((size_t)gp->timer_idx);
		goro__unlock(&tlock);
	}
	if (gp->timer_fired)
		return GORO_WAKE_TIMEOUT;
	return gp->interrupted ? GORO_WAKE_INTERRUPTED : GORO_WAKE_EVENT;
}

bool goro__sleep_until(int64_t when, const char *reason)
{
	if (!goro__started) {
		int64_t left;
		while ((left = when - goro__nanotime()) > 0) {
			struct timespec ts = { left / 1000000000LL, left % 1000000000LL };
			goro__sys2(SYS_nanosleep, &ts, NULL);
		}
		return true;
	}
	if (when <= goro__nanotime())
		return true;
	return goro__park_until(NULL, NULL, reason, when) != GORO_WAKE_INTERRUPTED;
}

/* In a fork child: the timers belonged to threads that do not exist. */
void goro__timers_afterfork(void)
{
	memset(&tlock, 0, sizeof tlock);
	for (size_t i = 0; i < nheap; i++)
		heap[i]->timer_idx = -1;
	nheap = 0;
	a_store_rlx(&ntimers, 0);
	tsleeper = false;
	a_store_rlx(&tsleeper_flag, false);
}
