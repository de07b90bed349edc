/* The runtime's atomics: a handful of named helpers over <stdatomic.h>,
 * like musl's a_cas/a_swap.  Each call site says why its order suffices. */
#ifndef GORO_ATOMIC_H
#define GORO_ATOMIC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define a_load_acq(p) atomic_load_explicit((p), memory_order_acquire)
#define a_load_rlx(p) atomic_load_explicit((p), memory_order_relaxed)
#define a_store_rel(p, v) atomic_store_explicit((p), (v), memory_order_release)
#define a_store_rlx(p, v) atomic_store_explicit((p), (v), memory_order_relaxed)
#define a_fetch_add(p, v) atomic_fetch_add_explicit((p), (v), memory_order_acq_rel)
#define a_fetch_add_rlx(p, v) atomic_fetch_add_explicit((p), (v), memory_order_relaxed)
#define a_fetch_or(p, v) atomic_fetch_or_explicit((p), (v), memory_order_seq_cst)
#define a_fetch_and(p, v) atomic_fetch_and_explicit((p), (v), memory_order_seq_cst)
#define a_swap(p, v) atomic_exchange_explicit((p), (v), memory_order_acq_rel)
/* Strong CAS, acq_rel on success: used where the winner publishes or
 * consumes the data the word guards. */
#define a_cas(p, expp, v)                                                     \
	atomic_compare_exchange_strong_explicit((p), (expp), (v),             \
						memory_order_acq_rel,         \
						memory_order_acquire)

static inline void a_spin(void) { __builtin_ia32_pause(); }

#endif
