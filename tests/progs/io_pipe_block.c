/* A thread blocks in read() on an empty pipe before its writer has run.
 *
 * The reader is created first and announces (through a flag set just before
 * the read) that it is about to block; main waits until it is seen blocked
 * (check_wait_blocked), then creates the writer, which also waits until
 * every other thread is blocked (the reader in read(), main in
 * pthread_join) before writing, so the reader is parked in read() when the
 * data arrives.  Under goro the read parks the G on the netpoller (the bats
 * test checks netpoll_parks >= 1 with GORO_STATS=1). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include "check.h"

static int fds[2];
static atomic_int reader_started;
static char got[64];
static ssize_t got_n = -1;
static int got_errno;

static void *reader(void *arg)
{
    atomic_store(&reader_started, 1);
    got_n = read(fds[0], got, sizeof got - 1);
    got_errno = errno;
    return NULL;
}

static void *writer(void *arg)
{
    check_wait_blocked();
    const char *msg = "hello through the pipe";
    ssize_t n = write(fds[1], msg, strlen(msg));
    CHECK_EQ((long)strlen(msg), n, "writer: write()");
    return NULL;
}

int main(void)
{
    pthread_t r, w;
    CHECK_EQ(0, pipe(fds), "pipe()");
    CHECK_OK(pthread_create(&r, NULL, reader, NULL));
    /* let the reader reach its read() before the writer exists */
    while (!atomic_load(&reader_started))
        sched_yield();
    check_wait_blocked();
    CHECK_OK(pthread_create(&w, NULL, writer, NULL));
    CHECK_OK(pthread_join(r, NULL));
    CHECK_OK(pthread_join(w, NULL));
    if (got_n < 0)
        CHECK_FAIL("reader: read(): expected data, saw -1 (%s)", strerror(got_errno));
    got[got_n] = 0;
    CHECK_STREQ("hello through the pipe", got, "reader: data read");
    printf("io_pipe_block: reader got \"%s\" (%zd bytes)\n", got, got_n);
    return 0;
}
