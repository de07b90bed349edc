/* The real-symbol table: glibc's own functions behind the ones goro
 * interposes.  Every entry is usable from the first instruction of the
 * process: it starts as a stub that resolves the whole table (dlsym
 * RTLD_NEXT) and calls through, so another library's constructor that runs
 * before goro's (docs/ARCHITECTURE.md, "Start-up and threads goro did not
 * make") reaches glibc's function, never a NULL pointer. */
#ifndef GORO_REAL_H
#define GORO_REAL_H

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <semaphore.h>
#include <time.h>
#include <stdbool.h>
#include <stddef.h>

/* X(return type, name, parameters, arguments) */
#define GORO_REAL_FUNCS(X)                                                                                   \
	X(int, pthread_create, (pthread_t * t, const pthread_attr_t *a, void *(*f)(void *), void *p), (t, a, f, p)) \
	X(int, pthread_attr_init, (pthread_attr_t * a), (a))                                                 \
	X(int, pthread_attr_destroy, (pthread_attr_t * a), (a))                                              \
	X(int, pthread_attr_setstacksize, (pthread_attr_t * a, size_t n), (a, n))                            \
	X(int, pthread_attr_setstack, (pthread_attr_t * a, void *s, size_t n), (a, s, n))                    \
	X(int, pthread_attr_setdetachstate, (pthread_attr_t * a, int d), (a, d))                             \
	X(int, pthread_attr_setguardsize, (pthread_attr_t * a, size_t n), (a, n))                            \
	X(int, pthread_getattr_np, (pthread_t t, pthread_attr_t * a), (t, a))                                \
	X(int, pthread_join, (pthread_t t, void **r), (t, r))                                                \
	X(int, pthread_kill, (pthread_t t, int s), (t, s))                                                   \
	X(int, pthread_sigqueue, (pthread_t t, int s, const union sigval v), (t, s, v))                      \
	X(int, pthread_setname_np, (pthread_t t, const char *n), (t, n))                                     \
	X(int, pthread_getname_np, (pthread_t t, char *n, size_t l), (t, n, l))                              \
	X(void *, dlopen, (const char *f, int m), (f, m))                                                    \
	X(void *, dlmopen, (long l, const char *f, int m), (l, f, m))                                        \
	X(int, sigaction, (int s, const struct sigaction *a, struct sigaction *o), (s, a, o))                \
	X(int, pthread_mutex_lock, (pthread_mutex_t * m), (m))                                               \
	X(int, pthread_mutex_trylock, (pthread_mutex_t * m), (m))                                            \
	X(int, pthread_mutex_timedlock, (pthread_mutex_t * m, const struct timespec *t), (m, t))             \
	X(int, pthread_mutex_clocklock, (pthread_mutex_t * m, clockid_t c, const struct timespec *t), (m, c, t)) \
	X(int, pthread_mutex_unlock, (pthread_mutex_t * m), (m))                                             \
	X(int, pthread_cond_wait, (pthread_cond_t * c, pthread_mutex_t *m), (c, m))                          \
	X(int, pthread_cond_timedwait, (pthread_cond_t * c, pthread_mutex_t *m, const struct timespec *t), (c, m, t)) \
	X(int, pthread_cond_clockwait,                                                                       \
	  (pthread_cond_t * c, pthread_mutex_t *m, clockid_t k, const struct timespec *t), (c, m, k, t))     \
	X(int, pthread_cond_signal, (pthread_cond_t * c), (c))                                               \
	X(int, pthread_cond_broadcast, (pthread_cond_t * c), (c))                                            \
	X(int, pthread_cond_destroy, (pthread_cond_t * c), (c))                                              \
	X(int, pthread_rwlock_rdlock, (pthread_rwlock_t * r), (r))                                           \
	X(int, pthread_rwlock_tryrdlock, (pthread_rwlock_t * r), (r))                                        \
	X(int, pthread_rwlock_timedrdlock, (pthread_rwlock_t * r, const struct timespec *t), (r, t))         \
	X(int, pthread_rwlock_clockrdlock, (pthread_rwlock_t * r, clockid_t c, const struct timespec *t), (r, c, t)) \
	X(int, pthread_rwlock_wrlock, (pthread_rwlock_t * r), (r))                                           \
	X(int, pthread_rwlock_trywrlock, (pthread_rwlock_t * r), (r))                                        \
	X(int, pthread_rwlock_timedwrlock, (pthread_rwlock_t * r, const struct timespec *t), (r, t))         \
	X(int, pthread_rwlock_clockwrlock, (pthread_rwlock_t * r, clockid_t c, const struct timespec *t), (r, c, t)) \
	X(int, pthread_rwlock_unlock, (pthread_rwlock_t * r), (r))                                           \
	X(int, pthread_barrier_init, (pthread_barrier_t * b, const pthread_barrierattr_t *a, unsigned n), (b, a, n)) \
	X(int, pthread_barrier_wait, (pthread_barrier_t * b), (b))                                           \
	X(int, pthread_barrier_destroy, (pthread_barrier_t * b), (b))                                        \
	X(int, clock_gettime, (clockid_t c, struct timespec *t), (c, t))                                     \
	X(int, clock_getres, (clockid_t c, struct timespec *t), (c, t))                                      \
	X(int, sem_wait, (sem_t * s), (s))                                                                   \
	X(int, sem_timedwait, (sem_t * s, const struct timespec *t), (s, t))                                 \
	X(int, sem_clockwait, (sem_t * s, clockid_t c, const struct timespec *t), (s, c, t))                 \
	X(int, sem_trywait, (sem_t * s), (s))                                                                \
	X(int, sem_post, (sem_t * s), (s))                                                                   \
	X(int, sem_getvalue, (sem_t * s, int *v), (s, v))                                                    \
	X(int, system, (const char *c), (c))                                                                 \
	X(__sighandler_t, signal, (int s, __sighandler_t h), (s, h))                                         \
	X(int, pclose, (FILE * f), (f))

#define GORO_REAL_FIELD(ret, name, params, args) ret(*name) params;
struct goro_real {
	GORO_REAL_FUNCS(GORO_REAL_FIELD)
};
#undef GORO_REAL_FIELD

extern __attribute__((visibility("hidden"))) struct goro_real goro__real;
/* Resolve every entry; idempotent, safe from any thread at any time (each
 * pointer is one aligned store: a racing caller sees the stub or glibc's). */
void goro__real_init(void);

/* glibc's dlsym, found in libc's own symbol table (goro interposes it,
 * shim/dl.c); usable from the first instruction.  Its address is in
 * goro__glibc_dlsym once goro__glibc_dl_init has run (the tail jump of
 * shim/dl.c's stub). */
void *goro__real_dlsym(void *handle, const char *name);
extern __attribute__((visibility("hidden"))) void *_Atomic goro__glibc_dlsym;
void goro__glibc_dl_init(void);
/* An object's own dynamic definition of name (GNU hash; any version), or
 * NULL. */
struct link_map;
void *goro__elf_lookup(const struct link_map *lm, const char *name);
/* Does the object import name (an undefined dynamic symbol)? */
bool goro__elf_imports(const struct link_map *lm, const char *name);
/* The link map of the object holding addr (dladdr1), or NULL. */
const struct link_map *goro__map_of(const void *addr);
/* *slot, found once as goro__map_of(addr); what names the object in the
 * message of a failure, which is fatal. */
const struct link_map *goro__map_once(const struct link_map *_Atomic *slot, const void *addr, const char *what);
/* libc.so.6's link map (through dladdr1, which goro does not interpose). */
const struct link_map *goro__libc_map(void);

/* Per-M signal set-up (sched/signal.c) */
struct m;
void goro__signal_minit(struct m *mp);
void goro__signal_init(void);
extern __attribute__((visibility("hidden"))) sigset_t goro__idle_sigmask;

#endif
