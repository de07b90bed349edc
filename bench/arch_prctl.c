/* arch_prctl - what one %fs write by system call costs on this machine:
 * the unit in which GORO_FSGSBASE=off (and any host without FSGSBASE)
 * pays for each G switch (issue 9; README: "What a switch costs").
 *
 *   arch_prctl [-n CALLS]
 *
 * Writes the thread's own %fs base back with arch_prctl(ARCH_SET_FS) in a
 * loop and reports nanoseconds per call (the median of 5 rounds). */
#include "bench.h"

#include <asm/prctl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    long n = 200000;
    for (int i = 1; i + 1 < argc; i += 2)
        if (argv[i][0] == '-' && argv[i][1] == 'n')
            n = bench_parse_long("-n", argv[i + 1]);
    unsigned long fs;
    if (syscall(SYS_arch_prctl, ARCH_GET_FS, &fs) != 0)
        bench_die("arch_prctl(ARCH_GET_FS)", errno);
    double r[5];
    for (int k = 0; k < 5; k++) {
        long long t0 = bench_now_ns();
        for (long i = 0; i < n; i++)
            syscall(SYS_arch_prctl, ARCH_SET_FS, fs);
        r[k] = (double)(bench_now_ns() - t0) / (double)n;
    }
    qsort(r, 5, sizeof r[0], cmp);
    bench_result("arch_prctl", r[2], "ns/call");
    return 0;
}
