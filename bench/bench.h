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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline long long bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Parse a positive integer option argument; exit 2 on garbage. */
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

#endif
