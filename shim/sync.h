/* Shared by the sync families (mutex, cond, C11). */
#ifndef GORO_SYNC_H
#define GORO_SYNC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* Acquire the lock word after a failed fast path; returns 0 or ETIMEDOUT.
 * Leaves the word in the contended state (2). */
int goro__mutex_lock_slow(pthread_mutex_t *m, int64_t deadline, bool waiter);
void goro__mutex_unlock_word(pthread_mutex_t *m);
bool goro__mutex_is_ours(const pthread_mutex_t *m);

#endif
