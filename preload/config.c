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
#include "shim/blocking.h"

#define GORO_STACK_MIN (16UL << 10) /* PTHREAD_STACK_MIN */
#define GORO_STACK_MAX (1UL << 30)

/* The longest part of a bad value the message quotes (then "..." and its
 * length): a 100 KiB value still gives one short line. */
#define SHOWN_MAX 120

/* One line on stderr, exit status 2.  The value is quoted as C would:
 * '"' and '\\' escaped, bytes outside printable ASCII as \xNN, so a
 * newline in it cannot make a second line. */
static __attribute__((noreturn)) void bad(const char *var, const char *val, const char *accepted)
{
	char shown[4 * SHOWN_MAX + 64];
	size_t len = strlen(val), k = 0;
	for (size_t i = 0; i < len && i < SHOWN_MAX; i++) {
		unsigned char c = (unsigned char)val[i];
		if (c == '"' || c == '\\') {
			shown[k++] = '\\';
			shown[k++] = (char)c;
		} else if (c < 0x20 || c > 0x7e) {
			k += (size_t)snprintf(shown + k, sizeof shown - k, "\\x%02x", c);
		} else {
			shown[k++] = (char)c;
		}
	}
	shown[k] = 0;
	char tail[48] = "\"";
	if (len > SHOWN_MAX)
		(void)snprintf(tail, sizeof tail, "...\" (%zu bytes)", len);
	goro__refuse("%s=\"%s%s is not valid: %s", var, shown, tail, accepted);
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

static void parse_gomaxprocs(const char *v)
{
	const char *end;
	long long n = parse_uint(v, &end);
	if (n < 1 || n > GORO_MAXPROCS || *end)
		bad("GOMAXPROCS", v, "a whole number of Ps from 1 to 1024");
	goro__cfg.procs = (int32_t)n;
}

static void parse_stack(const char *v)
{
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

static void parse_stats(const char *v)
{
	if (strcmp(v, "1") == 0)
		goro__cfg.stats = true;
	else if (strcmp(v, "0") != 0)
		bad("GORO_STATS", v, "1 (print counters at exit) or 0");
}

static void parse_fsgsbase(const char *v)
{
	if (strcmp(v, "off") == 0)
		goro__cfg.fsgsbase_off = true;
	else if (strcmp(v, "ldt") == 0)
		goro__cfg.fsgsbase_ldt = true;
	else if (strcmp(v, "wrfsbase") == 0)
		goro__cfg.fsgsbase_noldt = true;
	else if (strcmp(v, "auto") != 0)
		bad("GORO_FSGSBASE", v, "auto (LDT segments and wrfsbase, whichever is faster where the CPU and "
					"kernel allow them, the default), off (always the arch_prctl system call), ldt "
					"(LDT segments, as without FSGSBASE) or wrfsbase (never LDT segments)");
}

static void parse_trap(const char *v)
{
	if (strcmp(v, "off") == 0)
		goro__cfg.trap_off = true;
	else if (strcmp(v, "auto") != 0)
		bad("GORO_TRAP", v, "auto (trap the raw system calls of code outside libc once seen, the "
				    "default) or off (leave them to sysmon's detection)");
}

static void parse_trace(const char *v)
{
	char why[160];
	goro__cfg.trace = goro__trace_prepare(v, why, sizeof why);
	if (!goro__cfg.trace)
		bad("GORO_TRACE", v, why);
}

static void parse_locked(const char *v)
{
	/* Symbol names have no spaces or commas: a glob with one could
	 * never match, and shim/threads.c matches at most 255 bytes. */
	const char *p = v;
	do {
		size_t n = strcspn(p, ",");
		bool ok = n > 0 && n < 256;
		for (size_t i = 0; ok && i < n; i++)
			ok = p[i] > ' ' && p[i] < 0x7f;
		if (!ok)
			bad("GORO_LOCKED", v, "comma-separated globs of start routine names, each 1 to 255 "
					      "printable characters without spaces");
		p += n;
	} while (*p++ == ',');
	goro__cfg.locked = v;
}

static void parse_debug(const char *v)
{
	static const char accepted[] = "comma-separated schedtrace=MS (0 to 3600000), scheddetail=0|1, "
				       "deadlock=abort|hang, blocking";
	const char *p = v;
	do {
		size_t n = strcspn(p, ",");
		if (n == 8 && strncmp(p, "blocking", 8) == 0) {
			goro__blk_debug = true; /* shim/blocking.c: what was patched */
			p += n;
			continue;
		}
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
	} while (*p++ == ',');
}

static void parse_preempt(const char *v)
{
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
		/* n is checked against the range before it is added:
		 * SIGRTMIN + a huge n wraps round to a small signal
		 * number (SIGKILL, say). */
		if (strncmp(v, "SIGRTMIN+", 9) == 0) {
			long long n = parse_uint(v + 9, &end);
			if (n >= 0 && !*end && n <= SIGRTMAX - SIGRTMIN)
				sig = SIGRTMIN + (int)n;
		}
		if (!sig) {
			char accepted[200];
			(void)snprintf(accepted, sizeof accepted,
				       "off, or the preemption signal: SIGURG (default), SIGUSR1, SIGUSR2, "
				       "SIGWINCH, SIGIO, SIGPWR (SIG may be left out) or SIGRTMIN+N, "
				       "N from 0 to %d",
				       SIGRTMAX - SIGRTMIN);
			bad("GORO_PREEMPT", v, accepted);
		}
		goro__signudge = sig;
	}
}

/* Every variable of README's table: its name and its parser, which is
 * called only when the variable is set and refuses (goro__refuse through
 * bad) anything README does not list. */
static const struct {
	const char *name;
	void (*parse)(const char *v);
} vars[] = {
	{ "GOMAXPROCS", parse_gomaxprocs }, { "GORO_STACK", parse_stack },
	{ "GORO_STATS", parse_stats },      { "GORO_FSGSBASE", parse_fsgsbase },
	{ "GORO_TRAP", parse_trap },
	{ "GORO_TRACE", parse_trace },      { "GORO_LOCKED", parse_locked },
	{ "GORO_DEBUG", parse_debug },      { "GORO_PREEMPT", parse_preempt },
	{ "GORO_BLOCKING", goro__blocking_parse },
};

void goro__config_parse(void)
{
	goro__cfg.procs = default_procs();
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
		const char *v = getenv(vars[i].name);
		if (v)
			vars[i].parse(v);
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
