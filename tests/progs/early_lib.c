/* libearly.so: a library whose constructor runs before goro's.
 *
 * early_ctor links it (DT_NEEDED).  ld.so runs constructors dependencies
 * first, in reverse load order: libc, then this library, then the
 * LD_PRELOAD objects, then the program; so everything below runs while goro
 * has not started (the constructor checks it through goro_active, found
 * with dlsym so that it also runs natively).  It does what libGLdispatch's
 * constructor does (dlopen(NULL), dlsym) and what other early constructors
 * do: locks, a condvar wait that a thread made with glibc's own
 * pthread_create (dlvsym) must end, semaphores, a sleep, sigaction, pipe
 * I/O; and last a pthread_create + join, which starts goro there and then.
 * Every result goes into early_report for early_ctor's main to print. */
#include <dlfcn.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

char early_report[1024];
static size_t used;

static void note(const char *what, int ok)
{
    int n = snprintf(early_report + used, sizeof early_report - used, "%s: %s\n", what,
                     ok ? "ok" : "FAILED");
    if (n > 0 && (size_t)n < sizeof early_report - used)
        used += (size_t)n;
}

static int goro_started(void)
{
    int (*active)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "goro_active");
    return active && active();
}

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static sem_t sem;
static int state;

/* On a thread made by glibc's own pthread_create, before goro started:
 * it takes the mutex main holds (a wait in the kernel, no P), then ends
 * main's condvar wait, then posts the semaphore main waits on. */
static void *helper(void *arg)
{
    pthread_mutex_lock(&mu);
    state = 1;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    sem_post(&sem);
    return arg;
}

static void *goro_thread(void *arg) { return arg; }

static void check_waits(void)
{
    create_fn glibc_create = (create_fn)dlvsym(RTLD_NEXT, "pthread_create", "GLIBC_2.34");
    sem_init(&sem, 0, 0);
    pthread_t t;
    pthread_mutex_lock(&mu);
    int ok = glibc_create && glibc_create(&t, NULL, helper, (void *)7) == 0;
    while (ok && state == 0)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    note("condvar wait ended by a glibc thread", ok && state == 1);
    note("sem_wait ended by a glibc thread", ok && sem_wait(&sem) == 0);
    void *r = NULL;
    note("pthread_join of the glibc thread", ok && pthread_join(t, &r) == 0 && r == (void *)7);
}

static void on_usr1(int sig) { (void)sig; }

__attribute__((constructor)) static void early_init(void)
{
    note("goro not started in the constructor", !goro_started());
    void *self = dlopen(NULL, RTLD_NOW);
    note("dlopen(NULL)", self != NULL);
    note("dlsym(handle, early_report)", self && dlsym(self, "early_report") == (void *)early_report);
    /* RTLD_NEXT from this library lands in libc natively; under goro the
     * pthread_create this library links is goro's, and so is the answer. */
    note("dlsym(RTLD_NEXT, pthread_create) is the linked one",
         dlsym(RTLD_NEXT, "pthread_create") == (void *)pthread_create);
    pthread_mutex_t m2 = PTHREAD_MUTEX_INITIALIZER;
    note("mutex lock/unlock", pthread_mutex_lock(&m2) == 0 && pthread_mutex_unlock(&m2) == 0);
    struct timespec ts = { 0, 1000000 };
    note("nanosleep", nanosleep(&ts, NULL) == 0);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    note("sigaction", sigaction(SIGUSR1, &sa, &old) == 0 && sigaction(SIGUSR1, NULL, &old) == 0 &&
                          old.sa_handler == on_usr1);
    int p[2];
    char c = 0;
    note("pipe write/read", pipe(p) == 0 && write(p[1], "x", 1) == 1 && read(p[0], &c, 1) == 1 && c == 'x');
    check_waits();
    note("goro still not started", !goro_started());
    pthread_t t;
    void *r = NULL;
    note("pthread_create + join", pthread_create(&t, NULL, goro_thread, (void *)3) == 0 &&
                                      pthread_join(t, &r) == 0 && r == (void *)3);
}
