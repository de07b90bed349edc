/* A higher-priority real-time thread readied while a lower one spins
 * preempts it at once (issue 12, item 9; as root, two CPUs).  Everything
 * runs on the first CPU the process may use, c0 (main pins itself with
 * syscall(SYS_sched_setaffinity), which its threads inherit), but for a
 * SCHED_OTHER helper pinned to a second one, c1.  Main, SCHED_FIFO 50,
 * creates L (FIFO 10), H (FIFO 20) and the helper, then joins them.  H
 * runs first and waits on `wake_h`; then L runs, tells the helper that it
 * spins and spins, counting, until H is done.  The helper, on c1, posts
 * `wake_h`: natively H preempts L on c0 at once, finds it spinning, and
 * while H runs a fixed loop L's count stands still (one CPU, H first).
 * Under goro both run kernel-scheduled on kernel threads given their
 * policy and mask (docs/ARCHITECTURE.md, "Real-time threads run
 * kernel-scheduled"); without that, H would wait for L's P or run beside
 * it on another CPU, and the count would move. */
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include "check.h"

#define H_LOOP 2000000L

static int c0 = -1, c1 = -1;
static sem_t wake_h, spinning;
static atomic_long count;
static atomic_int l_spinning, h_done;
static int cpu_l = -1, cpu_h = -1, cpu_helper = -1;
static long seen_before, seen_after;
static int found_spinning;

static void *low(void *arg)
{
    cpu_l = sched_getcpu();
    atomic_store(&l_spinning, 1);
    CHECK_OK(sem_post(&spinning));
    while (!atomic_load(&h_done))
        atomic_fetch_add_explicit(&count, 1, memory_order_relaxed);
    return arg;
}

static void *high(void *arg)
{
    while (sem_wait(&wake_h) != 0)
        CHECK_EQ(EINTR, errno, "sem_wait(wake_h)");
    cpu_h = sched_getcpu();
    found_spinning = atomic_load(&l_spinning);
    seen_before = atomic_load(&count);
    for (volatile long i = 0; i < H_LOOP; i++)
        ;
    seen_after = atomic_load(&count);
    atomic_store(&h_done, 1);
    return arg;
}

static void *helper(void *arg)
{
    cpu_helper = sched_getcpu();
    while (sem_wait(&spinning) != 0)
        CHECK_EQ(EINTR, errno, "sem_wait(spinning)");
    CHECK_OK(sem_post(&wake_h));
    return arg;
}

static pthread_t start(void *(*fn)(void *), int policy, int prio, int cpu)
{
    pthread_attr_t a;
    struct sched_param sp = { .sched_priority = prio };
    CHECK_OK(pthread_attr_init(&a));
    CHECK_OK(pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED));
    CHECK_OK(pthread_attr_setschedpolicy(&a, policy));
    CHECK_OK(pthread_attr_setschedparam(&a, &sp));
    if (cpu >= 0) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        CHECK_OK(pthread_attr_setaffinity_np(&a, sizeof one, &one));
    }
    pthread_t t;
    CHECK_OK(pthread_create(&t, &a, fn, NULL));
    pthread_attr_destroy(&a);
    return t;
}

int main(void)
{
    cpu_set_t all, one;
    CHECK_OK(sched_getaffinity(0, sizeof all, &all));
    for (int c = 0; c < CPU_SETSIZE && c1 < 0; c++)
        if (CPU_ISSET(c, &all))
            *(c0 < 0 ? &c0 : &c1) = c;
    if (c1 < 0) {
        printf("needs two CPUs\n");
        return 0;
    }
    CPU_ZERO(&one);
    CPU_SET(c0, &one);
    CHECK_EQ(0, syscall(SYS_sched_setaffinity, 0, sizeof one, &one), "syscall(SYS_sched_setaffinity, c0)");
    CHECK_OK(sem_init(&wake_h, 0, 0));
    CHECK_OK(sem_init(&spinning, 0, 0));
    struct sched_param sp = { .sched_priority = 50 };
    CHECK_OK(pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp));
    pthread_t l = start(low, SCHED_FIFO, 10, -1);
    pthread_t h = start(high, SCHED_FIFO, 20, -1);
    pthread_t o = start(helper, SCHED_OTHER, 0, c1);
    CHECK_OK(pthread_join(h, NULL));
    CHECK_OK(pthread_join(l, NULL));
    CHECK_OK(pthread_join(o, NULL));
    sp.sched_priority = 0;
    CHECK_OK(pthread_setschedparam(pthread_self(), SCHED_OTHER, &sp));
    printf("L and H on the first CPU: %s %s; helper on the second: %s\n", cpu_l == c0 ? "yes" : "no",
           cpu_h == c0 ? "yes" : "no", cpu_helper == c1 ? "yes" : "no");
    printf("H found L spinning: %s\n", found_spinning ? "yes" : "no");
    printf("L's count stood still while H ran: %s\n", seen_before == seen_after ? "yes" : "no");
    return 0;
}
