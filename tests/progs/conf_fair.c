/* Fairness of timer wake-ups (GOMAXPROCS=1 is where it shows): a thread
 * loops on pthread_cond_timedwait with a 1 us (or 0) timeout, so a timer readies
 * it again and again; main sleeps ROUNDS times with usleep(1) and must get
 * the CPU back each time its own sleep has expired.
 *
 * Each round main notes the spinner's iteration count before the sleep
 * and after it.  Under goro with one P the spinner's iterations in one
 * round are bounded by scheduling order, not time: a timer-readied G
 * queues behind the Gs already runnable, so once main's timer has fired
 * the spinner runs at most a few more rounds before main (a timer
 * backstopped by sysmon goes to the global queue, which the scheduler
 * looks at every 61st tick).  The bound, MAX_SPINS_PER_ROUND, is checked
 * under goro at GOMAXPROCS=1 only: natively, and with several Ps, the
 * spinner runs beside main on another CPU and its count is a matter of
 * time.  Before the fix main never ran again (the spinner was re-readied
 * into runnext ahead of it). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#include "check.h"

#define ROUNDS 200
/* argv[1]: the spinner's timeout in ns, 1000 as in the report.  On a
 * host where a park and a switch take longer than that, the spinner's
 * deadline has passed before the scheduler looks again: 0 shows that on
 * any host. */
static long spin_timeout_ns = 1000;
#define MAX_SPINS_PER_ROUND 64 /* 61-tick global check plus the spinner's own wake */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static atomic_long spins;
static atomic_int stop;

static void *spinner(void *arg)
{
    pthread_mutex_lock(&mu);
    while (!atomic_load(&stop)) {
        struct timespec d;
        clock_gettime(CLOCK_REALTIME, &d);
        d.tv_nsec += spin_timeout_ns;
        if (d.tv_nsec >= 1000000000L) {
            d.tv_sec++;
            d.tv_nsec -= 1000000000L;
        }
        int e = pthread_cond_timedwait(&cv, &mu, &d);
        if (e != ETIMEDOUT && e != 0)
            CHECK_FAIL("pthread_cond_timedwait: %s", strerror(e));
        atomic_fetch_add(&spins, 1);
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

/* Under goro with one P (include/goro.h: goro_active through dlsym). */
static int goro_one_p(void)
{
    int (*active)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "goro_active");
    const char *p = getenv("GOMAXPROCS");
    return active && active() && p && strcmp(p, "1") == 0;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        spin_timeout_ns = atol(argv[1]);
    if (spin_timeout_ns < 0 || spin_timeout_ns > 999999999L)
        CHECK_FAIL("timeout %ld ns: expected 0..999999999", spin_timeout_ns);
    int bounded = goro_one_p();
    pthread_t t;
    CHECK_OK(pthread_create(&t, NULL, spinner, NULL));
    while (atomic_load(&spins) < 10)
        sched_yield();
    long worst = 0;
    for (int i = 0; i < ROUNDS; i++) {
        long before = atomic_load(&spins);
        CHECK_OK(usleep(1));
        long n = atomic_load(&spins) - before;
        if (n > worst)
            worst = n;
    }
    atomic_store(&stop, 1);
    CHECK_OK(pthread_join(t, NULL));
    if (bounded && worst > MAX_SPINS_PER_ROUND)
        CHECK_FAIL("one P: the spinner ran %ld times during one of main's 1 us sleeps (at most %d)",
                   worst, MAX_SPINS_PER_ROUND);
    if (getenv("CONF_FAIR_SHOW"))
        fprintf(stderr, "worst spins per round: %ld\n", worst);
    printf("%d rounds, spinner timeout %ld ns: main ran after each sleep\n", ROUNDS, spin_timeout_ns);
    return 0;
}
