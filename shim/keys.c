/* Thread-specific data (pthread_key_*, and pthread_once which parks).
 * Key slots carry a sequence number, odd while in use (as nptl's
 * __pthread_keys), so a value set under a deleted key is never returned
 * under its successor. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "sched/runtime.h"
#include "shim/shim.h"

static struct {
	_Atomic uint64_t seq;
	void (*_Atomic dtor)(void *);
} keys[GORO_KEYS_MAX];

static inline bool key_inuse(uint64_t seq) { return seq & 1; }

GORO_EXPORT int pthread_key_create(pthread_key_t *key, void (*dtor)(void *))
{
	for (unsigned i = 0; i < GORO_KEYS_MAX; i++) {
		uint64_t s = a_load_acq(&keys[i].seq);
		if (key_inuse(s))
			continue;
		if (a_cas(&keys[i].seq, &s, s + 1)) {
			keys[i].dtor = dtor;
			*key = i;
			return 0;
		}
	}
	return EAGAIN;
}

GORO_EXPORT int pthread_key_delete(pthread_key_t key)
{
	if (key >= GORO_KEYS_MAX)
		return EINVAL;
	uint64_t s = a_load_acq(&keys[key].seq);
	if (!key_inuse(s) || !a_cas(&keys[key].seq, &s, s + 1))
		return EINVAL;
	return 0;
}

static struct goro_keydata *slot(struct g *gp, pthread_key_t key, bool create)
{
	if (key < GORO_KEY_BLOCK)
		return &gp->spec0[key];
	struct goro_keydata *blk = gp->spec[key / GORO_KEY_BLOCK];
	if (!blk) {
		if (!create)
			return NULL;
		blk = calloc(GORO_KEY_BLOCK, sizeof *blk);
		if (!blk)
			return NULL;
		gp->spec[key / GORO_KEY_BLOCK] = blk;
	}
	return &blk[key % GORO_KEY_BLOCK];
}

GORO_EXPORT void *pthread_getspecific(pthread_key_t key)
{
	if (key >= GORO_KEYS_MAX)
		return NULL;
	goro__coop();
	struct goro_keydata *d = slot(getg(), key, false);
	if (!d || d->seq != a_load_rlx(&keys[key].seq))
		return NULL;
	return d->val;
}

GORO_EXPORT int pthread_setspecific(pthread_key_t key, const void *val)
{
	if (key >= GORO_KEYS_MAX)
		return EINVAL;
	uint64_t s = a_load_rlx(&keys[key].seq);
	if (!key_inuse(s))
		return EINVAL;
	struct goro_keydata *d = slot(getg(), key, val != NULL);
	if (!d)
		return val ? ENOMEM : 0;
	d->seq = s;
	d->val = (void *)val;
	return 0;
}

/* At thread exit: call each destructor with a non-NULL value, repeating up
 * to PTHREAD_DESTRUCTOR_ITERATIONS rounds (nptl/nptl_deallocate_tsd.c). */
void goro__keys_run_destructors(struct g *gp)
{
	for (int round = 0; round < GORO_DESTRUCTOR_ITERATIONS; round++) {
		bool again = false;
		for (pthread_key_t k = 0; k < GORO_KEYS_MAX; k++) {
			if (k % GORO_KEY_BLOCK == 0 && k >= GORO_KEY_BLOCK && !gp->spec[k / GORO_KEY_BLOCK]) {
				k += GORO_KEY_BLOCK - 1;
				continue;
			}
			struct goro_keydata *d = slot(gp, k, false);
			if (!d || !d->val)
				continue;
			void *v = d->val;
			d->val = NULL;
			void (*dtor)(void *) = keys[k].dtor;
			if (d->seq == a_load_rlx(&keys[k].seq) && dtor) {
				dtor(v);
				again = true;
			}
		}
		if (!again)
			break;
	}
}

/* ---- pthread_once --------------------------------------------------------
 * The control word is the program's own int: 0 not run, 1 running,
 * 2 done (nptl's __PTHREAD_ONCE_INPROGRESS / __PTHREAD_ONCE_DONE).  Late
 * callers park on its address instead of futex-waiting the M. */
enum { ONCE_INIT = 0, ONCE_RUNNING = 1, ONCE_DONE = 2 };

static bool once_running(void *addr, void *arg)
{
	return a_load_acq((_Atomic int *)addr) == ONCE_RUNNING;
}

static void once_cancelled(void *arg)
{
	/* The init routine was cancelled: let another caller run it. */
	a_store_rel((_Atomic int *)arg, ONCE_INIT);
	goro__addrwake(arg, 1 << 30);
}

GORO_EXPORT int pthread_once(pthread_once_t *ctl, void (*init)(void))
{
	_Atomic int *c = (_Atomic int *)ctl;
	for (;;) {
		int v = a_load_acq(c);
		if (v == ONCE_DONE)
			return 0;
		if (v == ONCE_INIT) {
			if (!a_cas(c, &v, ONCE_RUNNING))
				continue;
			pthread_cleanup_push(once_cancelled, (void *)c);
			init();
			pthread_cleanup_pop(0);
			a_store_rel(c, ONCE_DONE);
			goro__addrwake((void *)c, 1 << 30);
			return 0;
		}
		goro__addrpark((void *)c, once_running, NULL, "pthread_once", -1, false);
	}
}
