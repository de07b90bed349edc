/* Per-thread TLS isolation.
 *
 * Part 1: each of NTHREADS threads stores its index in a __thread variable
 * of the program, in errno, in a __thread of a linked library (libtlsdep.so)
 * and in a global-dynamic __thread of a dlopen'ed library (libtlsdl.so); it
 * then yields and sleeps in a loop and checks all four values every
 * iteration.  Under goro many Gs share one M: a G must never see another
 * G's values.
 *
 * Part 2: with threads alive and parked, main dlopens libtlsie.so, whose
 * initial-exec __thread has initializer 42.  Every live thread, and a thread
 * created afterwards, must read 42 and then keep its own value. */
#include <dlfcn.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <unistd.h>
#include "check.h"

#define NTHREADS 16
#define ITERS 200

extern void tlsdep_set(long v);
extern long tlsdep_get(void);

static __thread long prog_value = -3;
static void (*tlsdl_set)(long);
static long (*tlsdl_get)(void);
static int (*tlsie_get)(void);
static void (*tlsie_set)(int);

static char dir[PATH_MAX];

static void *open_lib(const char *name)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    void *h = dlopen(path, RTLD_NOW);
    if (!h)
        CHECK_FAIL("dlopen %s: %s", name, dlerror());
    return h;
}

static void *sym(void *h, const char *name)
{
    void *p = dlsym(h, name);
    if (!p)
        CHECK_FAIL("dlsym %s: %s", name, dlerror());
    return p;
}

static void check_all(long id, int iter)
{
    if (prog_value != id)
        CHECK_FAIL("thread %ld iter %d: program __thread: expected %ld, saw %ld",
                   id, iter, id, prog_value);
    if (errno != (int)id)
        CHECK_FAIL("thread %ld iter %d: errno: expected %ld, saw %d",
                   id, iter, id, errno);
    if (tlsdep_get() != id)
        CHECK_FAIL("thread %ld iter %d: libtlsdep __thread: expected %ld, saw %ld",
                   id, iter, id, tlsdep_get());
    if (tlsdl_get() != id)
        CHECK_FAIL("thread %ld iter %d: libtlsdl __thread: expected %ld, saw %ld",
                   id, iter, id, tlsdl_get());
}

static void *isolation_worker(void *arg)
{
    long id = (long)(intptr_t)arg;

    CHECK_EQ(-3, prog_value, "fresh thread's program __thread initializer");
    CHECK_EQ(-1, tlsdep_get(), "fresh thread's libtlsdep __thread initializer");
    CHECK_EQ(-2, tlsdl_get(), "fresh thread's libtlsdl __thread initializer");

    prog_value = id;
    tlsdep_set(id);
    tlsdl_set(id);
    errno = (int)id;
    for (int i = 0; i < ITERS; i++) {
        check_all(id, i);
        for (int y = 0; y < 5; y++) {
            sched_yield();
            if (errno != (int)id)
                CHECK_FAIL("thread %ld: errno changed by sched_yield: %d",
                           id, errno);
        }
        if (i % 2 == 0) {
            /* a sleep parks the G under goro: errno must survive it unless
             * the call itself failed (EINTR) and so set it */
            if (usleep(100) != 0)
                errno = (int)id;
            else if (errno != (int)id)
                CHECK_FAIL("thread %ld: errno changed by a successful usleep: %d",
                           id, errno);
        }
    }
    check_all(id, ITERS);
    return (void *)(intptr_t)(id + 1000);
}

/* ---- part 2: dlopen of an initial-exec TLS library with live threads --- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int parked;      /* threads waiting for the dlopen */
static int opened;      /* main has dlopened libtlsie.so */

static void *ie_worker(void *arg)
{
    long id = (long)(intptr_t)arg;

    pthread_mutex_lock(&mu);
    parked++;
    pthread_cond_broadcast(&cv);
    while (!opened)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);

    int v = tlsie_get();
    if (v != 42)
        CHECK_FAIL("thread %ld alive at dlopen: libtlsie initial-exec "
                   "__thread: expected 42, saw %d", id, v);
    tlsie_set((int)id);
    for (int i = 0; i < 50; i++) {
        sched_yield();
        if (tlsie_get() != (int)id)
            CHECK_FAIL("thread %ld: libtlsie __thread: expected %ld, saw %d",
                       id, id, tlsie_get());
    }
    return NULL;
}

static void *ie_late_worker(void *arg)
{
    (void)arg;
    int v = tlsie_get();
    if (v != 42)
        CHECK_FAIL("thread created after dlopen: libtlsie __thread: "
                   "expected 42, saw %d", v);
    return NULL;
}

int main(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n < 0)
        CHECK_FAIL("readlink /proc/self/exe failed");
    exe[n] = '\0';
    snprintf(dir, sizeof dir, "%s", dirname(exe));

    void *h = open_lib("libtlsdl.so");
    tlsdl_set = (void (*)(long))sym(h, "tlsdl_set");
    tlsdl_get = (long (*)(void))sym(h, "tlsdl_get");

    /* main is thread 0 and runs the same checks, interleaved with the rest */
    pthread_t t[NTHREADS];
    for (long i = 1; i < NTHREADS; i++)
        CHECK_OK(pthread_create(&t[i], NULL, isolation_worker,
                                (void *)(intptr_t)(i * 7)));
    isolation_worker((void *)0);
    for (long i = 1; i < NTHREADS; i++) {
        void *ret;
        CHECK_OK(pthread_join(t[i], &ret));
        CHECK_EQ(i * 7 + 1000, (intptr_t)ret, "isolation worker result");
    }
    printf("tls isolation: %d threads x %d iterations ok\n", NTHREADS, ITERS);

    for (long i = 0; i < NTHREADS; i++)
        CHECK_OK(pthread_create(&t[i], NULL, ie_worker, (void *)(intptr_t)(i + 1)));
    pthread_mutex_lock(&mu);
    while (parked < NTHREADS)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);

    void *ie = open_lib("libtlsie.so");
    tlsie_get = (int (*)(void))sym(ie, "tlsie_get");
    tlsie_set = (void (*)(int))sym(ie, "tlsie_set");
    CHECK_EQ(42, tlsie_get(), "main thread: libtlsie __thread after dlopen");

    pthread_mutex_lock(&mu);
    opened = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    for (long i = 0; i < NTHREADS; i++)
        CHECK_OK(pthread_join(t[i], NULL));

    pthread_t late;
    CHECK_OK(pthread_create(&late, NULL, ie_late_worker, NULL));
    CHECK_OK(pthread_join(late, NULL));
    CHECK_EQ(42, tlsie_get(), "main thread: libtlsie __thread after workers");
    printf("tls initial-exec dlopen: %d live threads + 1 new thread read 42\n",
           NTHREADS);
    return 0;
}
