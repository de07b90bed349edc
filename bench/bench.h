/* bench.h - tiny helpers shared by the goro benchmarks.
 *
 * The benchmarks are ordinary pthread programs: nothing here knows about
 * goro.  Each program prints human text plus one or more machine-readable
 * lines of the form
 *
 *     RESULT name=<bench> value=<number> unit=<unit>
 *
 * which scripts/bench.sh collects.
 */
#ifndef GORO_BENCH_H
#define GORO_BENCH_H

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static inline long long bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Parse a positive integer option argument; exit 2 on garbage. */
/* CPU time (user + system) this process has used, in seconds. */
static inline double bench_cpu_seconds(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec) + (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

/* Peak resident set size of this process, KiB. */
static inline long bench_maxrss_kb(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return r.ru_maxrss;
}

static inline long bench_parse_long(const char *opt, const char *s)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v <= 0) {
        fprintf(stderr, "bad value for %s: '%s' (want a positive integer)\n", opt, s);
        exit(2);
    }
    return v;
}

static inline void bench_result(const char *name, double value, const char *unit)
{
    printf("RESULT name=%s value=%.3f unit=%s\n", name, value, unit);
    fflush(stdout);
}

static inline void bench_die(const char *what, int err)
{
    fprintf(stderr, "%s: %s\n", what, strerror(err));
    exit(1);
}

/* Print "usage: PROG ARGS" to stderr and exit 2. */
static inline void bench_usage(const char *prog, const char *args)
{
    fprintf(stderr, "usage: %s %s\n", prog, args);
    exit(2);
}

/* One command-line option: -LETTER VALUE, stored as a positive integer in
 * *num (checked by bench_parse_long) or, when num is NULL, as the string
 * itself in *str. */
struct bench_opt {
    char letter;
    long *num;
    const char **str;
};
#define BENCH_NUM(letter, num) {(letter), (num), NULL}
#define BENCH_STR(letter, str) {(letter), NULL, (str)}
#define BENCH_END {0, NULL, NULL}
/* bench_options' table: BENCH_OPTS(BENCH_NUM('n', &n), ...) */
#define BENCH_OPTS(...) ((const struct bench_opt[]){__VA_ARGS__, BENCH_END})

/* getopt over opts (ended by an entry with letter 0), plus -h; anything
 * else, -h, or a left-over argument prints the usage line (ARGS, see
 * bench_usage) and exits 2. */
static inline void bench_options(int argc, char **argv, const char *args,
                                 const struct bench_opt *opts)
{
    char optstring[64];
    size_t k = 0;
    for (const struct bench_opt *o = opts; o->letter; o++) {
        optstring[k++] = o->letter;
        optstring[k++] = ':';
    }
    optstring[k++] = 'h';
    optstring[k] = '\0';
    int opt;
    while ((opt = getopt(argc, argv, optstring)) != -1) {
        const struct bench_opt *o = opts;
        while (o->letter && o->letter != opt)
            o++;
        if (!o->letter)
            bench_usage(argv[0], args);
        if (o->num) {
            char name[3] = {'-', o->letter, '\0'};
            *o->num = bench_parse_long(name, optarg);
        } else {
            *o->str = optarg;
        }
    }
    if (optind != argc)
        bench_usage(argv[0], args);
}

/* pthread_create(t, attr, fn, arg), exiting 1 if it fails. */
static inline void bench_start(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *),
                               void *arg)
{
    int rc = pthread_create(t, attr, fn, arg);
    if (rc != 0)
        bench_die("pthread_create", rc);
}

/* The two-player ping-pongs (yield_pingpong, cond_pingpong): run
 * player((void *)0) and player((void *)1) to completion, setting
 * *deadline_ns to MAX_S seconds after the start first, then report the
 * hand-offs the players counted in handoffs[] as NAME's RESULT in UNIT
 * (ns/...).  Returns main's exit status. */
static inline int bench_pingpong(const char *name, const char *unit, void *(*player)(void *),
                                 long max_s, long long *deadline_ns, const long handoffs[2],
                                 const int *capped)
{
    pthread_t t[2];
    long long t0 = bench_now_ns();
    *deadline_ns = t0 + max_s * 1000000000LL;
    for (long i = 0; i < 2; i++)
        bench_start(&t[i], NULL, player, (void *)i);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    long long t1 = bench_now_ns();

    long total = handoffs[0] + handoffs[1];
    if (total <= 0) {
        fprintf(stderr, "%s: no hand-offs happened\n", name);
        return 1;
    }
    double ns = (double)(t1 - t0) / (double)total;
    printf("%s: %ld hand-offs in %.1f ms: %.0f %s%s\n", name, total, (double)(t1 - t0) / 1e6, ns,
           unit, *capped ? " (stopped at the time cap)" : "");
    bench_result(name, ns, unit);
    return 0;
}

/* Whether the machine keeps `room` kernel tasks free besides ours: a
 * native thread is one, and pid_max is shared by every process on the host
 * (the many-thread benchmarks stop there rather than starve the others of
 * fork).  Under goro threads are no tasks and the count stays put.  Reads
 * pid_max and /proc/loadavg's running/total. */
static inline int bench_task_room(long room)
{
    long pid_max = 32768, run = 0, total = 0;
    double l1, l5, l15;
    FILE *f = fopen("/proc/sys/kernel/pid_max", "r");
    if (f) {
        if (fscanf(f, "%ld", &pid_max) != 1)
            pid_max = 32768;
        fclose(f);
    }
    f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf %lf %lf %ld/%ld", &l1, &l5, &l15, &run, &total) != 5)
            total = 0;
        fclose(f);
    }
    return total + room < pid_max;
}

#endif
