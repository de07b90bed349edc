/* Several threads read stdin and/or write stdout, file descriptions the
 * program inherited from the shell and shares with other processes.  goro
 * must never switch O_NONBLOCK on them (another process would see it); the
 * bats test runs io_peer (natively) next to this program on the same file
 * descriptions to watch their flags from the outside.
 *
 *   io_inherited read   4 threads read fd 0 until EOF; prints bytes + sum
 *   io_inherited write  4 threads write 2,000 lines each to fd 1 (whole-line
 *                       write()s), then a "#" summary line
 *   io_inherited copy   4 threads copy fd 0 to fd 1 until EOF, then a "#"
 *                       summary line on stderr
 *
 * Each mode also checks its own F_GETFL of fds 0 and 1 at the end. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include "check.h"

#define NTHREADS 4
#define NLINES   2000

static atomic_ullong nbytes, bsum;

static uint64_t byte_sum(const unsigned char *p, size_t n)
{
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += p[i];
    return s;
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            fprintf(stderr, "io_inherited: write(%d): %s\n", fd, strerror(errno));
            _exit(1);
        }
        p += w;
        n -= w;
    }
}

/* One read(0) into buf, counted in nbytes and bsum; 0 at end of file. */
static ssize_t read_counted(unsigned char *buf, size_t size)
{
    ssize_t n = read(0, buf, size);
    if (n < 0) {
        fprintf(stderr, "io_inherited: read(0): %s\n", strerror(errno));
        _exit(1);
    }
    atomic_fetch_add(&nbytes, n);
    atomic_fetch_add(&bsum, byte_sum(buf, n));
    return n;
}

static void *reader(void *arg)
{
    unsigned char buf[777];
    while (read_counted(buf, sizeof buf) > 0)
        ;
    return NULL;
}

static void *copier(void *arg)
{
    unsigned char buf[1000];
    ssize_t n;
    while ((n = read_counted(buf, sizeof buf)) > 0)
        write_all(1, (const char *)buf, n);
    return NULL;
}

static void *writer(void *arg)
{
    int t = (int)(intptr_t)arg;
    for (int i = 0; i < NLINES; i++) {
        char line[128];
        int n = snprintf(line, sizeof line, "T%d L%04d %0*d\n", t, i, 20 + (i * 7 + t) % 40, i * t);
        write_all(1, line, n);     /* < PIPE_BUF: one atomic write per line */
    }
    return NULL;
}

static int flag_nb(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : !!(fl & O_NONBLOCK);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    void *(*fn)(void *) = strcmp(mode, "read") == 0 ? reader :
                          strcmp(mode, "write") == 0 ? writer :
                          strcmp(mode, "copy") == 0 ? copier : NULL;
    if (!fn) {
        fprintf(stderr, "usage: io_inherited read|write|copy\n");
        return 2;
    }
    pthread_t t[NTHREADS];
    for (intptr_t i = 0; i < NTHREADS; i++)
        CHECK_OK(pthread_create(&t[i], NULL, fn, (void *)i));
    for (int i = 0; i < NTHREADS; i++)
        CHECK_OK(pthread_join(t[i], NULL));
    char line[256];
    int n;
    if (fn == reader) {
        n = snprintf(line, sizeof line, "io_inherited read: %d threads read %llu bytes, "
                     "byte sum %llu; O_NONBLOCK on fd 0: %d\n", NTHREADS,
                     (unsigned long long)nbytes, (unsigned long long)bsum, flag_nb(0));
        write_all(1, line, n);
    } else if (fn == writer) {
        n = snprintf(line, sizeof line, "# io_inherited write: %d threads x %d lines; "
                     "O_NONBLOCK on fd 1: %d\n", NTHREADS, NLINES, flag_nb(1));
        write_all(1, line, n);
    } else {
        n = snprintf(line, sizeof line, "io_inherited copy: %d threads copied %llu bytes, "
                     "byte sum %llu; O_NONBLOCK on fd 0: %d, fd 1: %d\n", NTHREADS,
                     (unsigned long long)nbytes, (unsigned long long)bsum,
                     flag_nb(0), flag_nb(1));
        write_all(2, line, n);
    }
    return 0;
}
