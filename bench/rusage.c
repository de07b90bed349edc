/* rusage - run a command and report what it cost.
 *
 *   rusage [-o FILE] [-i POLL_US] -- CMD ARGS...
 *
 * fork/execs CMD, and while it runs polls /proc/PID/task to find the peak
 * number of kernel tasks (threads) the process had.  When it exits, prints
 *
 *   RUSAGE wall_ms=.. user_ms=.. sys_ms=.. cpu_ms=.. maxrss_kib=.. peak_tasks=.. status=..
 *
 * on stderr (or appends it to FILE with -o), and exits with CMD's status
 * (128+signal when it was killed).  The polling samples every POLL_US
 * microseconds (default 200), so a very short-lived burst of threads can be
 * missed: the figure is a lower bound.
 *
 * This is a tool for scripts/demo.sh, not a benchmark; it is never run under
 * goro itself (the command it runs may be).
 */
#include "bench.h"

#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static int count_tasks(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void usage(void)
{
    fprintf(stderr, "usage: rusage [-o FILE] [-i POLL_US] -- CMD ARGS...\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *out = NULL;
    long poll_us = 200;
    int opt;
    while ((opt = getopt(argc, argv, "+o:i:h")) != -1) {
        switch (opt) {
        case 'o': out = optarg; break;
        case 'i': poll_us = bench_parse_long("-i", optarg); break;
        default: usage();
        }
    }
    if (optind >= argc)
        usage();

    long long t0 = bench_now_ns();
    pid_t pid = fork();
    if (pid < 0)
        bench_die("fork", errno);
    if (pid == 0) {
        execvp(argv[optind], &argv[optind]);
        fprintf(stderr, "rusage: cannot run %s: %s\n", argv[optind], strerror(errno));
        _exit(127);
    }

    int peak = 0, status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    for (;;) {
        pid_t r = wait4(pid, &status, WNOHANG, &ru);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR)
            bench_die("wait4", errno);
        int n = count_tasks(pid);
        if (n > peak)
            peak = n;
        struct timespec ts = {0, poll_us * 1000};
        nanosleep(&ts, NULL);
    }
    long long t1 = bench_now_ns();

    int code = WIFEXITED(status) ? WEXITSTATUS(status)
               : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;
    double user_ms = ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3;
    double sys_ms = ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
    FILE *f = stderr;
    if (out != NULL) {
        f = fopen(out, "a");
        if (f == NULL)
            bench_die(out, errno);
    }
    fprintf(f,
            "RUSAGE wall_ms=%.1f user_ms=%.1f sys_ms=%.1f cpu_ms=%.1f maxrss_kib=%ld "
            "peak_tasks=%d status=%d\n",
            (double)(t1 - t0) / 1e6, user_ms, sys_ms, user_ms + sys_ms, ru.ru_maxrss, peak,
            code);
    if (f != stderr)
        fclose(f);
    return code;
}
