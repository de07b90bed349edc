/* The other end of io_inherited's pipes; always runs natively.
 *
 *   io_peer feed N      waits until io_inherited's threads are blocked (its
 *                       readers on the empty pipe), then writes N bytes of
 *                       a fixed pattern to fd 1 in 10 bursts 20 ms apart;
 *                       checks O_NONBLOCK of its fd 1
 *   io_peer drain MODE  waits until io_inherited's threads are blocked (its
 *                       writers on the full pipe), reads fd 0 to EOF; prints
 *                       bytes, byte sum and newlines; MODE "lines" also
 *                       checks the lines written by io_inherited write,
 *                       prints their order-independent checksum, and echoes
 *                       "#" lines
 *   io_peer watch PID   until process PID exits (or is a zombie), samples
 *                       fcntl(F_GETFL) & O_NONBLOCK of its fds 0 and 1 (the
 *                       same file descriptions as PID's) every 200 us;
 *                       prints, on stderr, how many samples saw O_NONBLOCK
 *                       and the flag at the end */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <time.h>
#include "check.h"

static void msleep_us(long us)
{
    struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
    nanosleep(&ts, NULL);
}

static int flag_nb(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : !!(fl & O_NONBLOCK);
}

/* Are all the threads of process pid asleep (state S)? */
static int all_threads_asleep(long pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/task", pid);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int all = 1, any = 0;
    struct dirent *e;
    while (all && (e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char sp[320], st[512];
        snprintf(sp, sizeof sp, "/proc/%ld/task/%s/stat", pid, e->d_name);
        FILE *f = fopen(sp, "r");
        if (!f)
            continue;
        size_t n = fread(st, 1, sizeof st - 1, f);
        fclose(f);
        st[n] = 0;
        char *p = strrchr(st, ')');
        any = 1;
        if (!p || p[1] != ' ' || p[2] != 'S')
            all = 0;
    }
    closedir(d);
    return all && any;
}

/* Waits until the io_inherited process whose fd `theirs` is the pipe of
 * our fd `ours` has every thread asleep, seen twice in a row 1 ms apart
 * (natively its threads are then blocked on the pipe; under goro no M
 * runs a thread, so they are parked on it). */
static void wait_peer_blocked(int ours, int theirs)
{
    char path[64], mine[64], other[64], comm[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", ours);
    ssize_t n = readlink(path, mine, sizeof mine - 1);
    if (n <= 0) {
        fprintf(stderr, "io_peer: readlink %s: %s\n", path, strerror(errno));
        exit(1);
    }
    mine[n] = 0;
    for (int seen = 0; seen < 2;) {
        msleep_us(1000);
        int ok = 0;
        DIR *d = opendir("/proc");
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            long pid = atol(e->d_name);
            if (pid <= 0 || pid == (long)getpid())
                continue;
            snprintf(path, sizeof path, "/proc/%ld/comm", pid);
            FILE *f = fopen(path, "r");
            if (!f)
                continue;
            int named = fgets(comm, sizeof comm, f) && strcmp(comm, "io_inherited\n") == 0;
            fclose(f);
            if (!named)
                continue;
            snprintf(path, sizeof path, "/proc/%ld/fd/%d", pid, theirs);
            n = readlink(path, other, sizeof other - 1);
            if (n <= 0)
                continue;
            other[n] = 0;
            if (strcmp(mine, other) == 0) {
                ok = all_threads_asleep(pid);
                break;
            }
        }
        if (d)
            closedir(d);
        seen = ok ? seen + 1 : 0;
    }
}

static int feed(long n)
{
    wait_peer_blocked(1, 0);
    static unsigned char buf[1 << 20];
    for (long i = 0; i < n && i < (long)sizeof buf; i++)
        buf[i] = (unsigned char)('a' + (i * 7 + i / 26) % 26);
    if (n > (long)sizeof buf)
        n = sizeof buf;
    long burst = (n + 9) / 10, off = 0;
    for (int b = 0; b < 10 && off < n; b++) {
        long end = off + burst < n ? off + burst : n;
        while (off < end) {
            ssize_t w = write(1, buf + off, end - off);
            if (w < 0) {
                fprintf(stderr, "io_peer feed: write: %s\n", strerror(errno));
                return 1;
            }
            off += w;
        }
        msleep_us(20000);
    }
    if (flag_nb(1) != 0) {
        fprintf(stderr, "io_peer feed: O_NONBLOCK on its fd 1: expected 0, saw %d\n", flag_nb(1));
        return 1;
    }
    return 0;
}

static int drain(const char *mode)
{
    int lines_mode = strcmp(mode, "lines") == 0;
    wait_peer_blocked(0, 1);
    static char buf[1 << 16];
    char line[256];
    size_t ll = 0;
    unsigned long long bytes = 0, sum = 0, nl = 0, lines = 0, lsum = 0, bad = 0;
    for (;;) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n < 0) {
            fprintf(stderr, "io_peer drain: read: %s\n", strerror(errno));
            return 1;
        }
        if (n == 0)
            break;
        bytes += n;
        for (ssize_t i = 0; i < n; i++) {
            sum += (unsigned char)buf[i];
            if (ll < sizeof line - 1)
                line[ll++] = buf[i];
            if (buf[i] != '\n')
                continue;
            nl++;
            line[ll] = 0;
            if (lines_mode) {
                int t, l, len;
                char pad[128];
                if (line[0] == '#') {
                    fputs(line, stdout);
                } else if (sscanf(line, "T%d L%d %127s", &t, &l, pad) == 3 &&
                           (len = (int)strlen(pad)) == 20 + (l * 7 + t) % 40 &&
                           atoll(pad) == (long long)l * t) {
                    uint64_t h = 14695981039346656037ULL;
                    for (size_t k = 0; k < ll; k++)
                        h = (h ^ (unsigned char)line[k]) * 1099511628211ULL;
                    lsum += h;
                    lines++;
                } else if (bad++ < 5) {
                    printf("io_peer drain: malformed line: %s", line);
                }
            }
            ll = 0;
        }
    }
    printf("io_peer drain: %llu bytes, byte sum %llu, %llu newlines\n", bytes, sum, nl);
    if (lines_mode)
        printf("io_peer drain: %llu well-formed lines, line checksum %016llx, %llu malformed\n",
               lines, lsum, bad);
    return bad ? 1 : 0;
}

static int zombie_or_gone(long pid)
{
    char path[64], st[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 1;
    size_t n = fread(st, 1, sizeof st - 1, f);
    fclose(f);
    st[n] = 0;
    char *p = strrchr(st, ')');
    return !p || p[1] == 0 || p[2] == 'Z' || p[2] == 'X';
}

static int watch(long pid)
{
    long samples = 0, seen0 = 0, seen1 = 0;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!zombie_or_gone(pid)) {
        samples++;
        seen0 += flag_nb(0) == 1;
        seen1 += flag_nb(1) == 1;
        msleep_us(200);
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > 120)
            break;
    }
    fprintf(stderr, "io_peer watch: O_NONBLOCK seen on fd 0 in %ld samples, on fd 1 in %ld "
            "samples (of %ld); at the end fd 0: %d, fd 1: %d\n",
            seen0, seen1, samples, flag_nb(0), flag_nb(1));
    return seen0 || seen1 || flag_nb(0) || flag_nb(1);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "feed") == 0)
        return feed(atol(argv[2]));
    if (argc == 3 && strcmp(argv[1], "drain") == 0)
        return drain(argv[2]);
    if (argc == 3 && strcmp(argv[1], "watch") == 0)
        return watch(atol(argv[2]));
    fprintf(stderr, "usage: io_peer feed N | drain bytes|lines | watch PID\n");
    return 2;
}
