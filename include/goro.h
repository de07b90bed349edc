/* goro public API.  A program may call these through dlsym(RTLD_DEFAULT,
 * "goro_...") so that it still runs natively, without goro preloaded. */
#ifndef GORO_H
#define GORO_H

#ifdef __cplusplus
extern "C" {
#endif

/* Nonzero when the calling thread runs as a goro G. */
int goro_active(void);
/* Gosched: put the calling G at the back of the global run queue. */
void goro_gosched(void);
/* The calling G's goroutine id (1 for the main thread). */
unsigned long goro_goid(void);
/* Go's LockOSThread/UnlockOSThread: the calling thread keeps its kernel
 * thread (M) until it unlocks or exits; while it blocks, that M waits for
 * it and its P runs other threads.  For code that needs thread affinity
 * (GUI toolkits, OpenGL, per-thread kernel state). */
void goro_lock_os_thread(void);
void goro_unlock_os_thread(void);

#ifdef __cplusplus
}
#endif
#endif
