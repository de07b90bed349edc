/* Thread stacks.
 *
 * - pthread_attr_setstacksize(256 KiB): inside the thread,
 *   pthread_getattr_np(pthread_self()) reports a stack that contains a local
 *   variable's address and whose size is 256 KiB.
 * - pthread_attr_setstack with a malloc'ed stack is honoured: a local's
 *   address lies inside it, and getattr_np reports exactly that stack.
 * - A default-stack thread recurses through 4 MiB of frames (the default
 *   stack is 8 MiB: RLIMIT_STACK, which core.bats sets to 8 MiB).
 * - The main thread's getattr_np stack contains a local too. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include "check.h"

#define SMALL (256 * 1024)
#define USER_STACK (512 * 1024)
#define FRAME 1024
#define DEEP_BYTES (4 * 1024 * 1024)

static void check_own_stack(const char *who, size_t want_size,
                            void *want_lo)
{
    volatile char local = 0;
    pthread_attr_t a;
    void *lo = NULL;
    size_t size = 0;

    CHECK_OK(pthread_getattr_np(pthread_self(), &a));
    CHECK_OK(pthread_attr_getstack(&a, &lo, &size));
    pthread_attr_destroy(&a);
    uintptr_t p = (uintptr_t)&local, l = (uintptr_t)lo;
    if (!(l <= p && p < l + size))
        CHECK_FAIL("%s: a local's address is not inside the stack "
                   "pthread_getattr_np reports (local at lo+%lld, size %zu)",
                   who, (long long)(p - l), size);
    if (want_size)
        CHECK_EQ(want_size, size, who);
    if (want_lo)
        CHECK(lo == want_lo, "getattr_np reports the user-supplied stack's address");
    printf("%s: stack contains a local%s%s\n", who,
           want_size ? ", size as set" : "",
           want_lo ? ", address as set" : "");
}

static void *sized(void *arg)
{
    (void)arg;
    check_own_stack("setstacksize 256 KiB", SMALL, NULL);
    return NULL;
}

static void *user_stack(void *arg)
{
    check_own_stack("setstack (malloc'ed 512 KiB)", USER_STACK, arg);
    return NULL;
}

/* Not a tail call, and the frame is really used: 4096 frames of >= 1 KiB. */
__attribute__((noinline)) static long recurse(int depth)
{
    volatile char frame[FRAME];
    frame[0] = (char)depth;
    frame[FRAME - 1] = (char)(depth >> 8);
    if (depth == 0)
        return frame[0];
    return recurse(depth - 1) + frame[FRAME - 1] + frame[0];
}

static void *deep(void *arg)
{
    (void)arg;
    long r = recurse(DEEP_BYTES / FRAME);
    (void)r; /* recurse() has volatile side effects: it cannot be elided */
    return (void *)1;
}

int main(void)
{
    pthread_t t;
    pthread_attr_t a;
    size_t got = 0;

    check_own_stack("main thread", 0, NULL);

    CHECK_OK(pthread_attr_init(&a));
    CHECK_OK(pthread_attr_setstacksize(&a, SMALL));
    CHECK_OK(pthread_attr_getstacksize(&a, &got));
    CHECK_EQ(SMALL, got, "attr stack size read back");
    CHECK_OK(pthread_create(&t, &a, sized, NULL));
    CHECK_OK(pthread_join(t, NULL));
    pthread_attr_destroy(&a);

    void *stk = NULL;
    CHECK_OK(posix_memalign(&stk, 4096, USER_STACK));
    CHECK_OK(pthread_attr_init(&a));
    CHECK_OK(pthread_attr_setstack(&a, stk, USER_STACK));
    CHECK_OK(pthread_create(&t, &a, user_stack, stk));
    CHECK_OK(pthread_join(t, NULL));
    pthread_attr_destroy(&a);
    free(stk);

    struct rlimit rl;
    CHECK_OK(getrlimit(RLIMIT_STACK, &rl));
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur < 2 * DEEP_BYTES)
        CHECK_FAIL("RLIMIT_STACK must be >= 8 MiB for the deep recursion check, "
                   "saw %lld (run with ulimit -s 8192)", (long long)rl.rlim_cur);
    void *ret = NULL;
    CHECK_OK(pthread_create(&t, NULL, deep, NULL));
    CHECK_OK(pthread_join(t, &ret));
    CHECK_EQ(1, (intptr_t)ret, "deep recursion result");
    printf("default stack: recursed through %d KiB of frames\n", DEEP_BYTES / 1024);
    return 0;
}
