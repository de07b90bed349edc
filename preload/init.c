/* Bootstrap: the constructor that turns the process into a goro runtime.
 * The main thread becomes G1 on M0 with P0; then the first real pthread
 * (sysmon) is made with glibc's pthread_create, which clears
 * __libc_single_threaded before any G runs (docs/ARCHITECTURE.md G14). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/prctl.h>

#include "sched/real.h"
#include "preload/preload.h"
#include "sched/runtime.h"
#include "sched/sys.h"
#include "shim/shim.h"
#include "shim/blocking.h"

#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1)
#endif

#ifdef GORO_DEBUG_BUILD
#endif

static __attribute__((noreturn)) void refuse(const char *why) { goro__refuse("refusing to start: %s", why); }

static void print_stats_at_exit(void)
{
	if (goro__cfg.stats && goro__started)
		goro__print_stats();
}

/* Idempotent; interposed entry points that can run before the constructor
 * (another library's constructor creating a thread) call it too. */
void goro__ensure_init(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	goro__curg = &goro__g1; /* this is the main thread (sched/foreign.c) */
	goro__real_init();
	goro__config_parse();
	char why[256];
	if (goro__tls_check(why, sizeof why) != 0 || goro__sync_check(why, sizeof why) != 0)
		refuse(why);
	/* The kernel allows wr{fs,gs}base in user mode when it says so in
	 * AT_HWCAP2 (Linux >= 5.9 on a CPU with the feature). */
	goro__fsgsbase = (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE) != 0 && !goro__cfg.fsgsbase_off &&
			 !goro__cfg.fsgsbase_ldt;
	/* A G's %fs may also be a segment of the LDT (sched/fsldt.c): without
	 * wrfsbase where the kernel allows it, arch_prctl otherwise; with it,
	 * for the first threads where a segment load is faster. */
	if (!goro__cfg.fsgsbase_off && !goro__cfg.fsgsbase_noldt)
		goro__ldt_want(goro__tls_area(), goro__fsgsbase);
	/* Each M keeps its struct m in the %gs base (sched/runtime.h getg),
	 * which glibc on x86_64 never uses.  Something else that does (an
	 * emulator, another runtime preloaded) would be overwritten. */
	if (goro__getgs_slow() != NULL)
		refuse("the %gs base is already in use in this process; goro keeps its per-thread "
		       "scheduler state there");
	prctl(PR_GET_NAME, goro__g1.name);
	goro__schedinit(goro__cfg.procs);
	goro__netpoll_init();
	goro__signal_init();
	goro__signal_minit(&goro__m0);
	goro__sysmon_start();
	goro__fork_init();
	goro__trace_init();
	goro__blocking_install();
	if (atexit(print_stats_at_exit) != 0)
		goro__write_err("goro: cannot register the GORO_STATS report\n");
#ifdef GORO_DEBUG_BUILD
	goro__debug_start();
#endif
}

__attribute__((constructor(101))) static void goro_init(void) { goro__ensure_init(); }
