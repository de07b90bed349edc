/* Thread-specific data: the key table and each G's values, and the
 * destructors run when a G exits.  Key slots carry a sequence number, odd
 * while in use (as nptl's __pthread_keys), so a value set under a deleted
 * key is never returned under its successor. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "sched/runtime.h"

static struct {
	_Atomic uint64_t seq;
	void (*_Atomic dtor)(void *);
} keys[GORO_KEYS_MAX];

/* 1 + the highest key ever created: no value sits above it, so an exiting
 * G looks at no more slots than the program has keys (none in most). */
static _Atomic unsigned keys_hiwater;

static inline bool key_inuse(uint64_t seq) { return seq & 1; }

int goro__key_create(pthread_key_t *key, void (*dtor)(void *))
{
	for (unsigned i = 0; i < GORO_KEYS_MAX; i++) {
		uint64_t s = a_load_acq(&keys[i].seq);
		if (key_inuse(s))
			continue;
		if (a_cas(&keys[i].seq, &s, s + 1)) {
			keys[i].dtor = dtor;
			unsigned h = a_load_rlx(&keys_hiwater);
			while (h < i + 1 && !a_cas(&keys_hiwater, &h, i + 1))
				;
			*key = i;
			return 0;
		}
	}
	return EAGAIN;
}

int goro__key_delete(pthread_key_t key)
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

void *goro__getspecific(pthread_key_t key)
{
	if (key >= GORO_KEYS_MAX)
		return NULL;
	struct goro_keydata *d = slot(getg(), key, false);
	if (!d || d->seq != a_load_rlx(&keys[key].seq))
		return NULL;
	return d->val;
}

int goro__setspecific(pthread_key_t key, void *val)
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
	d->val = val;
	return 0;
}

/* At thread exit: call each destructor with a non-NULL value, repeating up
 * to PTHREAD_DESTRUCTOR_ITERATIONS rounds (nptl/nptl_deallocate_tsd.c). */
void goro__keys_run_destructors(struct g *gp)
{
	for (int round = 0; round < GORO_DESTRUCTOR_ITERATIONS; round++) {
		bool again = false;
		pthread_key_t hi = a_load_acq(&keys_hiwater); /* a destructor may create keys */
		for (pthread_key_t k = 0; k < hi; k++) {
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

