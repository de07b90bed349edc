/* pthread_setname_np / pthread_getname_np, pthread_self / pthread_equal.
 *
 * - A thread names itself; main reads the name back, and names another
 *   thread, which reads its new name itself.
 * - A name longer than 15 characters is ERANGE and changes nothing;
 *   getname with a buffer shorter than 16 bytes is ERANGE.
 * - A new thread's default name is the program's name (the kernel copies
 *   the creator's comm), main's name is the program's name.
 * - pthread_self in a thread equals the pthread_t its creator got;
 *   different threads are not equal. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include "check.h"

static pthread_t self_in_thread[2];
static atomic_int phase;

static void *named(void *arg)
{
    long i = (long)arg;
    char buf[16];

    self_in_thread[i] = pthread_self();
    CHECK(pthread_equal(pthread_self(), pthread_self()), "self equals self");
    CHECK_OK(pthread_getname_np(pthread_self(), buf, sizeof buf));
    CHECK_STREQ("thread_names", buf, "a new thread's default name");
    if (i == 0) {
        CHECK_OK(pthread_setname_np(pthread_self(), "worker-zero"));
        CHECK_OK(pthread_getname_np(pthread_self(), buf, sizeof buf));
        CHECK_STREQ("worker-zero", buf, "name set by the thread itself");
        CHECK_EQ(ERANGE, pthread_setname_np(pthread_self(), "a-name-that-is-too-long"),
                 "setname with a 23-character name");
        CHECK_OK(pthread_getname_np(pthread_self(), buf, sizeof buf));
        CHECK_STREQ("worker-zero", buf, "name after a rejected setname");
        atomic_store(&phase, 1);
        while (atomic_load(&phase) != 2)
            sched_yield();
    } else {
        atomic_store(&phase, 3);
        while (atomic_load(&phase) != 4)
            sched_yield();
        CHECK_OK(pthread_getname_np(pthread_self(), buf, sizeof buf));
        CHECK_STREQ("named-by-main", buf, "name set by another thread, read by the thread");
    }
    return NULL;
}

int main(void)
{
    pthread_t t[2];
    char buf[16], small[8];

    CHECK_OK(pthread_getname_np(pthread_self(), buf, sizeof buf));
    CHECK_STREQ("thread_names", buf, "main thread's name");
    printf("main's name: %s\n", buf);

    CHECK_OK(pthread_create(&t[0], NULL, named, (void *)0));
    while (atomic_load(&phase) != 1)
        sched_yield();
    CHECK_OK(pthread_getname_np(t[0], buf, sizeof buf));
    CHECK_STREQ("worker-zero", buf, "thread's own name read by main");
    printf("thread 0 named itself: %s\n", buf);
    CHECK_EQ(ERANGE, pthread_getname_np(t[0], small, sizeof small),
             "getname into an 8-byte buffer");
    printf("getname into 8 bytes: ERANGE\n");
    atomic_store(&phase, 2);
    CHECK_OK(pthread_join(t[0], NULL));

    CHECK_OK(pthread_create(&t[1], NULL, named, (void *)1));
    while (atomic_load(&phase) != 3)
        sched_yield();
    CHECK_OK(pthread_setname_np(t[1], "named-by-main"));
    CHECK_EQ(ERANGE, pthread_setname_np(t[1], "sixteen-chars-xx"),
             "setname of another thread with a 16-character name");
    CHECK_OK(pthread_getname_np(t[1], buf, sizeof buf));
    CHECK_STREQ("named-by-main", buf, "name main gave another thread");
    printf("main named thread 1: %s\n", buf);
    atomic_store(&phase, 4);
    CHECK_OK(pthread_join(t[1], NULL));
    printf("setname with a too-long name: ERANGE\n");

    CHECK(pthread_equal(self_in_thread[0], t[0]), "thread 0's pthread_self equals its pthread_t");
    CHECK(pthread_equal(self_in_thread[1], t[1]), "thread 1's pthread_self equals its pthread_t");
    CHECK(!pthread_equal(t[0], pthread_self()), "thread 0 is not main");
    CHECK(pthread_equal(pthread_self(), pthread_self()), "main equals main");
    printf("pthread_self/pthread_equal ok\n");
    return 0;
}
