/* A raw syscall(SYS_read) blocks on an empty pipe while 100 other threads
 * compute.  goro cannot park a raw system call on the netpoller, so the
 * blocked M must hand its P to another M (sysmon's retake): with
 * GOMAXPROCS=1 the 100 compute threads can only finish if it does.  Once
 * they are all done, main writes to the pipe and the raw read completes.
 * The bats test checks handoffs >= 1 with GORO_STATS=1. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include "check.h"

#define NWORKERS 100

static int fds[2];
static atomic_int raw_started;
static atomic_int workers_done;
static long raw_n = -2;
static int raw_errno;
static char raw_buf[32];
static int done_before_read_returned = -1;
static uint64_t results[NWORKERS];

static void *raw_reader(void *arg)
{
    atomic_store(&raw_started, 1);
    raw_n = syscall(SYS_read, fds[0], raw_buf, sizeof raw_buf - 1);
    raw_errno = errno;
    done_before_read_returned = atomic_load(&workers_done);
    return NULL;
}

/* a fixed CPU loop, a few ms each natively */
static void *worker(void *arg)
{
    uint64_t x = (uintptr_t)arg + 1;
    for (long i = 0; i < 3000000; i++)
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    results[(uintptr_t)arg] = x;
    atomic_fetch_add(&workers_done, 1);
    return NULL;
}

int main(void)
{
    pthread_t r, w[NWORKERS];
    CHECK_EQ(0, pipe(fds), "pipe()");
    CHECK_OK(pthread_create(&r, NULL, raw_reader, NULL));
    while (!atomic_load(&raw_started))
        sched_yield();
    check_wait_blocked(); /* the raw read has blocked */
    for (uintptr_t i = 0; i < NWORKERS; i++)
        CHECK_OK(pthread_create(&w[i], NULL, worker, (void *)i));
    for (int i = 0; i < NWORKERS; i++)
        CHECK_OK(pthread_join(w[i], NULL));
    CHECK_EQ(NWORKERS, atomic_load(&workers_done), "workers done");
    CHECK_EQ(-2, raw_n, "raw read still blocked after the workers finished");
    CHECK_EQ(5, write(fds[1], "ready", 5), "write()");
    CHECK_OK(pthread_join(r, NULL));
    if (raw_n < 0)
        CHECK_FAIL("syscall(SYS_read): expected 5, saw -1 (%s)", strerror(raw_errno));
    raw_buf[raw_n] = 0;
    CHECK_STREQ("ready", raw_buf, "raw read data");
    CHECK_EQ(NWORKERS, done_before_read_returned, "workers done when the raw read returned");
    uint64_t sum = 0;
    for (int i = 0; i < NWORKERS; i++)
        sum ^= results[i];
    printf("io_rawsyscall: %d workers done while a raw read blocked; read \"%s\"; xor %016llx\n",
           NWORKERS, raw_buf, (unsigned long long)sum);
    return 0;
}
