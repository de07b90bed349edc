/* Stale ids and recycled Gs (docs/ARCHITECTURE.md, "The life of a G",
 * Exit): a joined or detached-and-exited thread's pthread_t must not name a
 * later thread for a long window.
 *
 *   conf_stale_gen [WINDOW]
 *
 * Without WINDOW (compared with native): what glibc guarantees.  Right
 * after a join the stale id says ESRCH to join, detach, getschedparam and
 * setschedprio, and 0 to pthread_kill (glibc 2.36 does not signal an
 * exited thread); LIVE threads created together have distinct ids; CYCLES
 * create+join rounds all run.
 *
 * With WINDOW (goro only: glibc's stack cache hands the joined descriptor
 * to the very next create, so natively none of this holds): none of the
 * LIVE threads, nor of WINDOW create+join rounds after a join (or after a
 * detached thread's exit), gets the stale id, and while each lives the
 * stale id still says the above, and a SIGUSR1 sent through it reaches no
 * thread. */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include "check.h"

#define LIVE 24
#define CYCLES 200

static long window; /* 0: the native-comparable part only */
static atomic_int usr1;
static atomic_int ran;
static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER; /* main holds it while it checks */

static void on_usr1(int sig) { (void)sig; atomic_fetch_add(&usr1, 1); }

static void *quick(void *arg)
{
    atomic_fetch_add(&ran, 1);
    return arg;
}

static void *held(void *arg)
{
    pthread_mutex_lock(&gate);
    pthread_mutex_unlock(&gate);
    return quick(arg);
}

static void stale_says(pthread_t s, const char *when)
{
    int pol;
    struct sched_param sp;
    if (pthread_join(s, NULL) != ESRCH || pthread_detach(s) != ESRCH ||
        pthread_getschedparam(s, &pol, &sp) != ESRCH || pthread_setschedprio(s, 0) != ESRCH ||
        pthread_kill(s, 0) != 0 || pthread_kill(s, SIGUSR1) != 0)
        CHECK_FAIL("stale id %s: join/detach/getschedparam/setschedprio not ESRCH or kill not 0", when);
}

static pthread_t joined_one(void)
{
    pthread_t t;
    CHECK_OK(pthread_create(&t, NULL, quick, NULL));
    CHECK_OK(pthread_join(t, NULL));
    return t;
}

/* LIVE threads at once after a join: distinct ids; under goro (WINDOW)
 * none is the stale one. */
static void live_after_join(void)
{
    pthread_t stale = joined_one(), t[LIVE];
    stale_says(stale, "right after its join");
    pthread_mutex_lock(&gate);
    for (int i = 0; i < LIVE; i++) {
        CHECK_OK(pthread_create(&t[i], NULL, held, NULL));
        for (int j = 0; j < i; j++)
            CHECK(!pthread_equal(t[i], t[j]), "two live threads have different ids");
        if (window) {
            CHECK(!pthread_equal(t[i], stale), "goro: a live thread got the id of one just joined");
            stale_says(stale, "while later threads live");
        }
    }
    pthread_mutex_unlock(&gate);
    for (int i = 0; i < LIVE; i++)
        CHECK_OK(pthread_join(t[i], NULL));
    printf("live after a join: %d distinct ids\n", LIVE);
}

/* n create+join rounds after stale was retired; in the first `checked`
 * (goro only) the new thread's id differs from it while it lives. */
static void rounds_after(pthread_t stale, long n, long checked, const char *what)
{
    for (long i = 0; i < n; i++) {
        pthread_t t;
        pthread_mutex_lock(&gate);
        CHECK_OK(pthread_create(&t, NULL, held, NULL));
        if (i < checked) {
            CHECK(!pthread_equal(t, stale), what);
            stale_says(stale, what);
        }
        pthread_mutex_unlock(&gate);
        CHECK_OK(pthread_join(t, NULL));
    }
}

/* goro only: a detached thread's id once it exited (its G pooled: detach
 * says ESRCH instead of EINVAL). */
static pthread_t detached_exited(void)
{
    pthread_t d;
    pthread_attr_t a;
    CHECK_OK(pthread_attr_init(&a));
    CHECK_OK(pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED));
    CHECK_OK(pthread_create(&d, &a, quick, NULL));
    CHECK_OK(pthread_attr_destroy(&a));
    while (pthread_detach(d) != ESRCH)
        sched_yield();
    return d;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        window = strtol(argv[1], NULL, 10);
    CHECK(window >= 0, "WINDOW must be a count of rounds (0 or more)");
    struct sigaction sa = { .sa_handler = on_usr1 };
    CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
    live_after_join();
    rounds_after(joined_one(), window, window, "goro: a round after a join got the joined id");
    if (window)
        rounds_after(detached_exited(), window, window, "goro: a round after a detached exit got its id");
    rounds_after(joined_one(), CYCLES, 0, "");
    CHECK_EQ(0, atomic_load(&usr1), "SIGUSR1 sent through stale ids");
    printf("%d create+join rounds; SIGUSR1 through stale ids reached no thread\n", CYCLES);
    return 0;
}
