/* Runtime locks and notes on futexes (Go: lock_futex.go).  Every syscall
 * is raw (sched/sys.h) so a G's errno never changes. */
#include <errno.h>

#include "sched/runtime.h"
#include "sched/sys.h"

enum { UNLOCKED = 0, LOCKED = 1, SLEEPING = 2 };
#define ACTIVE_SPIN 4      /* Go: active_spin */
#define ACTIVE_SPIN_CNT 30 /* Go: active_spin_cnt */

/* The count belongs to this kernel thread's M, not to getg()->m: the
 * yield fast path unlocks sched.lock after publishing its G on the global
 * queue, and another M may already have taken the G (and set its m). */
static inline void locks_add(int d)
{
	if (goro__gsready)
		getm()->locks += d;
}

void goro__lock(struct goro_mutex *l)
{
	locks_add(1);
	uint32_t v = UNLOCKED;
	if (a_cas(&l->key, &v, LOCKED))
		return;
	/* Contended: spin a little (the holder is running on another M,
	 * critical sections are short), then sleep in the kernel. */
	for (;;) {
		for (int i = 0; i < ACTIVE_SPIN; i++) {
			v = UNLOCKED;
			if (a_cas(&l->key, &v, SLEEPING))
				return;
			for (int j = 0; j < ACTIVE_SPIN_CNT; j++)
				a_spin();
		}
		if (a_swap(&l->key, SLEEPING) == UNLOCKED)
			return;
		goro__futex_wait(&l->key, SLEEPING, NULL);
	}
}

void goro__unlock(struct goro_mutex *l)
{
	if (a_swap(&l->key, UNLOCKED) == SLEEPING)
		goro__futex_wake(&l->key, 1);
	locks_add(-1);
}

bool goro__trylock(struct goro_mutex *l)
{
	uint32_t v = UNLOCKED;
	if (!a_cas(&l->key, &v, LOCKED))
		return false;
	locks_add(1);
	return true;
}

void goro__noteclear(struct goro_note *n) { a_store_rlx(&n->key, 0); }

void goro__notewakeup(struct goro_note *n)
{
	/* release: the sleeper reads what the waker set up (m->nextp). */
	if (a_swap(&n->key, 1) != 0)
		goro__throw("notewakeup: double wakeup");
	goro__futex_wake(&n->key, 1);
}

void goro__notesleep(struct goro_note *n)
{
	while (a_load_acq(&n->key) == 0)
		goro__futex_wait(&n->key, 0, NULL);
}

/* fork (sched/fork.c): taken before, released in the parent, re-made
 * unlocked in the child. */
void goro__fork_lock(struct goro_mutex *l, enum goro_fork_phase ph)
{
	if (ph == GORO_FORK_PREPARE)
		goro__lock(l);
	else if (ph == GORO_FORK_PARENT)
		goro__unlock(l);
	else
		a_store_rlx(&l->key, 0);
}
