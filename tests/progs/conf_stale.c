/* Stale pthread_t values (docs/ARCHITECTURE.md, "The life of a G", Exit):
 * a thread joined or detached-and-exited is gone; its id must not reach a
 * recycled G.
 *
 * - join twice: the second says ESRCH, as glibc (the descriptor's tid is
 *   -1 after a join); detach after the join: ESRCH; getschedparam: ESRCH;
 *   tryjoin: EBUSY and cancel: 0, as glibc's tests come out.
 * - detach twice while the thread runs: EINVAL; join of a detached running
 *   thread: EINVAL.
 * - after all that, ROUNDS rounds of two creates: the two ids differ and
 *   both threads run and are joined (the double free used to hand one G to
 *   both creates, losing a thread and deadlocking).
 * (Two joiners at once are not compared: glibc 2.36 lets both wait and
 * the kernel's exit wakes one, so natively the other hangs.) */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include "check.h"

#define ROUNDS 200

static atomic_int ran;
static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER; /* main holds it to keep hold() waiting */

static void *quick(void *arg)
{
    atomic_fetch_add(&ran, 1);
    return arg;
}

static void *hold(void *arg)
{
    pthread_mutex_lock(&gate);
    pthread_mutex_unlock(&gate);
    return arg;
}

static void joined_twice(void)
{
    pthread_t t;
    void *r = NULL;
    CHECK_OK(pthread_create(&t, NULL, quick, (void *)7L));
    CHECK_OK(pthread_join(t, &r));
    CHECK_EQ(7, (long)r, "first join's result");
    CHECK_EQ(ESRCH, pthread_join(t, &r), "second join of a joined thread");
    CHECK_EQ(EBUSY, pthread_tryjoin_np(t, &r), "tryjoin of a joined thread (glibc tests tid first)");
    CHECK_EQ(0, pthread_cancel(t), "cancel of a joined thread (its outcome is settled)");
    CHECK_EQ(ESRCH, pthread_detach(t), "detach of a joined thread");
    int pol;
    struct sched_param sp;
    CHECK_EQ(ESRCH, pthread_getschedparam(t, &pol, &sp), "getschedparam of a joined thread");
    printf("joined twice: ESRCH\n");
}

static void detached_twice(void)
{
    pthread_t t;
    pthread_mutex_lock(&gate);
    CHECK_OK(pthread_create(&t, NULL, hold, NULL));
    CHECK_OK(pthread_detach(t));
    CHECK_EQ(EINVAL, pthread_detach(t), "second detach of a running thread");
    CHECK_EQ(EINVAL, pthread_join(t, NULL), "join of a detached running thread");
    pthread_mutex_unlock(&gate);
    printf("detached twice: EINVAL\n");
}

int main(void)
{
    joined_twice();
    detached_twice();
    for (int i = 0; i < ROUNDS; i++) {
        pthread_t a, b;
        CHECK_OK(pthread_create(&a, NULL, quick, (void *)1L));
        CHECK_OK(pthread_create(&b, NULL, quick, (void *)2L));
        CHECK(!pthread_equal(a, b), "two live threads have different ids");
        void *ra = NULL, *rb = NULL;
        CHECK_OK(pthread_join(a, &ra));
        CHECK_OK(pthread_join(b, &rb));
        CHECK_EQ(1, (long)ra, "first thread's result");
        CHECK_EQ(2, (long)rb, "second thread's result");
        if (i % 2 == 0) {
            CHECK_EQ(ESRCH, pthread_join(a, NULL), "join of a joined thread, again");
            CHECK_EQ(ESRCH, pthread_detach(b), "detach of a joined thread, again");
        }
    }
    CHECK_EQ(2 * ROUNDS + 1, atomic_load(&ran), "threads that ran");
    printf("%d rounds of two creates: all ran\n", ROUNDS);
    return 0;
}
