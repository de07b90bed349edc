/* Configuration from the environment (README.md: the variable table).  A bad
 * value is one line naming the variable, the value and what is accepted,
 * and exit status 2 before main runs: never a silent fallback. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include "preload/preload.h"
#include "sched/runtime.h"
#include "sched/sys.h"

#define GORO_STACK_MIN (16UL << 10) /* PTHREAD_STACK_MIN */
#define GORO_STACK_MAX (1UL << 30)

static __attribute__((noreturn)) void bad(const char *var, const char *val, const char *accepted)
{
	goro__errorf("goro: %s=\"%s\" is not valid: %s\n", var, val, accepted);
	goro__sys1(SYS_exit_group, 2);
	__builtin_unreachable();
}

/* Strict decimal: digits only, no sign, no spaces; -1 if not. */
static long long parse_uint(const char *s, const char **end)
{
	long long v = 0;
	if (!isdigit((unsigned char)*s))
		return -1;
	while (isdigit((unsigned char)*s)) {
		if (v > (LLONG_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*s++ - '0');
	}
	*end = s;
	return v;
}

static int32_t default_procs(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof set, &set) == 0) {
		int n = CPU_COUNT(&set);
		if (n > 0)
			return n > GORO_MAXPROCS ? GORO_MAXPROCS : n;
	}
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int32_t)n : 1;
}

void goro__config_parse(void)
{
	const char *v = getenv("GOMAXPROCS");
	goro__cfg.procs = default_procs();
	if (v) {
		const char *end;
		long long n = parse_uint(v, &end);
		if (n < 1 || n > GORO_MAXPROCS || *end)
			bad("GOMAXPROCS", v, "a whole number of Ps from 1 to 1024");
		goro__cfg.procs = (int32_t)n;
	}

	v = getenv("GORO_STACK");
	if (v) {
		const char *end;
		long long n = parse_uint(v, &end);
		unsigned long long mul = 1;
		if (n >= 0) {
			if (*end == 'k' || *end == 'K')
				mul = 1ULL << 10, end++;
			else if (*end == 'm' || *end == 'M')
				mul = 1ULL << 20, end++;
			else if (*end == 'g' || *end == 'G')
				mul = 1ULL << 30, end++;
		}
		if (n < 0 || *end || (unsigned long long)n > GORO_STACK_MAX / mul ||
		    (unsigned long long)n * mul < GORO_STACK_MIN)
			bad("GORO_STACK", v, "a stack size from 16K to 1G, in bytes or with a K, M or G suffix");
		goro__cfg.stack = (size_t)n * mul;
	}

	v = getenv("GORO_STATS");
	if (v) {
		if (strcmp(v, "1") == 0)
			goro__cfg.stats = true;
		else if (strcmp(v, "0") != 0 && *v)
			bad("GORO_STATS", v, "1 (print counters at exit) or 0");
	}
	v = getenv("GORO_FSGSBASE");
	if (v) {
		if (strcmp(v, "off") == 0)
			goro__cfg.fsgsbase_off = true;
		else if (strcmp(v, "auto") != 0)
			bad("GORO_FSGSBASE", v, "auto (wrfsbase where the CPU and kernel allow it, the default) or "
						"off (always the arch_prctl system call)");
	}
	goro__cfg.trace = getenv("GORO_TRACE");
	goro__cfg.locked = getenv("GORO_LOCKED");

	v = getenv("GORO_DEBUG");
	if (v && *v) {
		static const char accepted[] = "comma-separated schedtrace=MS, scheddetail=0|1, deadlock=abort|hang";
		const char *p = v;
		while (*p) {
			size_t n = strcspn(p, ",");
			const char *eq = memchr(p, '=', n);
			if (!eq)
				bad("GORO_DEBUG", v, accepted);
			size_t klen = (size_t)(eq - p);
			const char *val = eq + 1;
			size_t vlen = n - klen - 1;
			const char *end;
			if (klen == 10 && strncmp(p, "schedtrace", 10) == 0) {
				long long ms = parse_uint(val, &end);
				if (ms < 0 || end != val + vlen || ms > 3600000)
					bad("GORO_DEBUG", v, accepted);
				goro__cfg.schedtrace_ms = ms;
			} else if (klen == 11 && strncmp(p, "scheddetail", 11) == 0 && vlen == 1 &&
				   (*val == '0' || *val == '1')) {
				goro__cfg.scheddetail = *val == '1';
			} else if (klen == 8 && strncmp(p, "deadlock", 8) == 0 &&
				   ((vlen == 5 && strncmp(val, "abort", 5) == 0) ||
				    (vlen == 4 && strncmp(val, "hang", 4) == 0))) {
				goro__cfg.deadlock_abort = *val == 'a';
			} else {
				bad("GORO_DEBUG", v, accepted);
			}
			p += n;
			if (*p == ',')
				p++;
		}
	}

	v = getenv("GORO_PREEMPT");
	if (v) {
		static const struct { const char *name; int sig; } sigs[] = {
			{ "SIGURG", SIGURG }, { "SIGUSR1", SIGUSR1 }, { "SIGUSR2", SIGUSR2 },
			{ "SIGWINCH", SIGWINCH }, { "SIGIO", SIGIO }, { "SIGPWR", SIGPWR },
		};
		int sig = 0;
		if (strcmp(v, "off") == 0) {
			goro__cfg.preempt_off = true;
		} else {
			for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
				if (strcmp(v, sigs[i].name) == 0 || strcmp(v, sigs[i].name + 3) == 0)
					sig = sigs[i].sig;
			const char *end;
			if (strncmp(v, "SIGRTMIN+", 9) == 0) {
				long long n = parse_uint(v + 9, &end);
				if (n >= 0 && !*end && SIGRTMIN + n <= SIGRTMAX)
					sig = SIGRTMIN + (int)n;
			}
			if (!sig)
				bad("GORO_PREEMPT", v, "off, or the preemption signal: SIGURG (default), SIGUSR1, "
						      "SIGUSR2, SIGWINCH, SIGIO, SIGPWR or SIGRTMIN+N");
			goro__signudge = sig;
		}
	}

	if (goro__cfg.stack) {
		goro__default_stack = goro__cfg.stack;
	} else {
		/* nptl's default: RLIMIT_STACK when finite, else 8 MiB
		 * (nptl/nptl-stack.c __pthread_initialize_minimal). */
		struct rlimit rl;
		if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
		    rl.rlim_cur >= GORO_STACK_MIN)
			goro__default_stack = (rl.rlim_cur + 4095) & ~4095UL;
		else
			goro__default_stack = 8UL << 20;
	}
}
