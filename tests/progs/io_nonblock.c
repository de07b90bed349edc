/* The blocking mode the program sees never changes.
 *
 *  - a pipe the program made O_NONBLOCK: read() of an empty pipe and write()
 *    to a full one return EAGAIN; fcntl(F_GETFL) shows exactly the flags the
 *    program set;
 *  - a blocking pipe: after a reader thread blocked (parked, under goro) on
 *    it, F_GETFL on both ends still shows no O_NONBLOCK;
 *  - a socketpair: recv(MSG_DONTWAIT) on an empty socket returns EAGAIN, a
 *    blocking recv() gets data another thread writes later;
 *  - partial reads: a 10-byte message read 3 bytes at a time, then EOF after
 *    the writer closes. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include "check.h"

static void nonblocking_pipe(void)
{
    int p[2];
    CHECK_EQ(0, pipe(p), "pipe()");
    int fl0 = fcntl(p[0], F_GETFL), fl1 = fcntl(p[1], F_GETFL);
    CHECK_EQ(O_RDONLY, fl0 & ~O_LARGEFILE, "F_GETFL of a new pipe's read end");
    CHECK_EQ(O_WRONLY, fl1 & ~O_LARGEFILE, "F_GETFL of a new pipe's write end");
    CHECK_EQ(0, fcntl(p[0], F_SETFL, fl0 | O_NONBLOCK), "F_SETFL O_NONBLOCK (read end)");
    CHECK_EQ(0, fcntl(p[1], F_SETFL, fl1 | O_NONBLOCK), "F_SETFL O_NONBLOCK (write end)");
    CHECK_EQ(fl0 | O_NONBLOCK, fcntl(p[0], F_GETFL), "F_GETFL after F_SETFL (read end)");
    CHECK_EQ(fl1 | O_NONBLOCK, fcntl(p[1], F_GETFL), "F_GETFL after F_SETFL (write end)");

    char c;
    errno = 0;
    ssize_t n = read(p[0], &c, 1);
    CHECK_EQ(-1, n, "read() of an empty O_NONBLOCK pipe");
    CHECK_EQ(EAGAIN, errno, "errno of read() of an empty O_NONBLOCK pipe");

    /* fill it */
    static char big[65536];
    long total = 0;
    for (;;) {
        n = write(p[1], big, sizeof big);
        if (n < 0)
            break;
        total += n;
        CHECK(total < (64L << 20), "the O_NONBLOCK pipe fills up");
    }
    CHECK_EQ(EAGAIN, errno, "errno of write() to a full O_NONBLOCK pipe");
    errno = 0;
    CHECK_EQ(-1, write(p[1], "x", 1), "1-byte write() to a full O_NONBLOCK pipe");
    CHECK_EQ(EAGAIN, errno, "errno of 1-byte write() to a full O_NONBLOCK pipe");
    CHECK_EQ(fl0 | O_NONBLOCK, fcntl(p[0], F_GETFL), "F_GETFL after EAGAIN (read end)");
    CHECK_EQ(fl1 | O_NONBLOCK, fcntl(p[1], F_GETFL), "F_GETFL after EAGAIN (write end)");

    /* clear O_NONBLOCK again: the program's choice is what F_GETFL shows */
    CHECK_EQ(0, fcntl(p[0], F_SETFL, fl0), "F_SETFL without O_NONBLOCK");
    CHECK_EQ(fl0, fcntl(p[0], F_GETFL), "F_GETFL after clearing O_NONBLOCK");
    close(p[0]);
    close(p[1]);
    printf("nonblocking pipe: EAGAIN on empty read and full write (filled %ld bytes), "
           "F_GETFL as set\n", total);
}

static int bp[2];
static atomic_int bp_reader_in;
static char bp_got[16];

static void *bp_reader(void *arg)
{
    atomic_store(&bp_reader_in, 1);
    ssize_t n = read(bp[0], bp_got, sizeof bp_got - 1);
    CHECK_EQ(4, n, "blocking pipe read()");
    return NULL;
}

static void blocking_pipe(void)
{
    CHECK_EQ(0, pipe(bp), "pipe()");
    pthread_t t;
    CHECK_OK(pthread_create(&t, NULL, bp_reader, NULL));
    while (!atomic_load(&bp_reader_in))
        sched_yield();
    check_wait_blocked();
    /* the reader is blocked in read() now: the flags are unchanged */
    CHECK_EQ(0, fcntl(bp[0], F_GETFL) & O_NONBLOCK, "O_NONBLOCK on a blocking pipe's read end while a reader is blocked");
    CHECK_EQ(0, fcntl(bp[1], F_GETFL) & O_NONBLOCK, "O_NONBLOCK on a blocking pipe's write end while a reader is blocked");
    CHECK_EQ(4, write(bp[1], "data", 4), "write()");
    CHECK_OK(pthread_join(t, NULL));
    CHECK_STREQ("data", bp_got, "data read");
    CHECK_EQ(0, fcntl(bp[0], F_GETFL) & O_NONBLOCK, "O_NONBLOCK on a blocking pipe's read end after the read");
    CHECK_EQ(0, fcntl(bp[1], F_GETFL) & O_NONBLOCK, "O_NONBLOCK on a blocking pipe's write end after the read");
    close(bp[0]);
    close(bp[1]);
    printf("blocking pipe: reader blocked then got \"data\"; O_NONBLOCK never set\n");
}

static int sp[2];

static void *sp_writer(void *arg)
{
    check_wait_blocked(); /* main is in recv() */
    CHECK_EQ(5, send(sp[1], "later", 5, 0), "send()");
    return NULL;
}

static void socketpair_dontwait(void)
{
    CHECK_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sp), "socketpair()");
    char buf[16];
    errno = 0;
    CHECK_EQ(-1, recv(sp[0], buf, sizeof buf, MSG_DONTWAIT), "recv(MSG_DONTWAIT) of an empty socket");
    CHECK_EQ(EAGAIN, errno, "errno of recv(MSG_DONTWAIT)");
    pthread_t t;
    CHECK_OK(pthread_create(&t, NULL, sp_writer, NULL));
    ssize_t n = recv(sp[0], buf, sizeof buf - 1, 0);
    CHECK_EQ(5, n, "blocking recv()");
    buf[n] = 0;
    CHECK_STREQ("later", buf, "blocking recv() data");
    CHECK_OK(pthread_join(t, NULL));
    CHECK_EQ(0, fcntl(sp[0], F_GETFL) & O_NONBLOCK, "O_NONBLOCK on the socket after a blocking recv");
    /* MSG_DONTWAIT on send to a full socket */
    static char big[65536];
    long total = 0;
    for (;;) {
        n = send(sp[1], big, sizeof big, MSG_DONTWAIT);
        if (n < 0)
            break;
        total += n;
        CHECK(total < (256L << 20), "the socket fills up");
    }
    CHECK_EQ(EAGAIN, errno, "errno of send(MSG_DONTWAIT) to a full socket");
    CHECK_EQ(0, fcntl(sp[1], F_GETFL) & O_NONBLOCK, "O_NONBLOCK on the socket after send(MSG_DONTWAIT)");
    close(sp[0]);
    close(sp[1]);
    printf("socketpair: recv/send(MSG_DONTWAIT) EAGAIN; blocking recv got \"later\"\n");
}

static int pr[2];

static void *pr_writer(void *arg)
{
    check_wait_blocked(); /* the reader waits for the message */
    CHECK_EQ(10, write(pr[1], "0123456789", 10), "write() of the 10-byte message");
    check_wait_blocked(); /* it has read it all and waits again */
    close(pr[1]);
    return NULL;
}

static void partial_reads(void)
{
    CHECK_EQ(0, pipe(pr), "pipe()");
    pthread_t t;
    CHECK_OK(pthread_create(&t, NULL, pr_writer, NULL));
    char out[64] = "";
    for (;;) {
        char b[4] = "";
        ssize_t n = read(pr[0], b, 3);
        CHECK(n >= 0, "read() of 3 bytes");
        char piece[16];
        snprintf(piece, sizeof piece, "[%.*s]", (int)n, b);
        strcat(out, piece);
        if (n == 0)
            break;
    }
    CHECK_OK(pthread_join(t, NULL));
    CHECK_STREQ("[012][345][678][9][]", out, "3-byte reads of a 10-byte message then EOF");
    errno = 0;
    char b;
    CHECK_EQ(0, read(pr[0], &b, 1), "read() after EOF");
    close(pr[0]);
    printf("partial reads: %s\n", out);
}

int main(void)
{
    nonblocking_pipe();
    blocking_pipe();
    socketpair_dontwait();
    partial_reads();
    return 0;
}
