/* %fs without FSGSBASE: a segment of the process's LDT per G
 * (docs/ARCHITECTURE.md, "%fs without FSGSBASE: LDT segments").
 *
 * Where user space may not write the %fs base (no FSGSBASE: kernels before
 * 5.9, hypervisors that hide it), arch_prctl(ARCH_SET_FS) is a system call
 * per switch, 1-5 us on a host with page-table isolation.  Loading %fs with
 * a selector costs a few ns instead: the CPU takes the base from the
 * descriptor, which modify_ldt writes once per G.  A descriptor's base has
 * 32 bits, so the TCBs that get one live in an arena below 4 GiB
 * (MAP_32BIT): slot i of the arena holds one G's static TLS and TCB, and
 * LDT entry i has that TCB as its base (sched/asm_amd64.S WRFS computes the
 * selector from the address).  Other TCBs (G1's, each M's, Gs beyond the
 * arena, heap Gs) keep arch_prctl.  The kernel saves and reloads a nonzero
 * selector across its own switches, copies the LDT into a fork child and
 * drops it at exec. */
#include <asm/ldt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "sched/runtime.h"
#include "sched/sys.h"

#define LDT_SLOTS 1024 /* of 8192 entries: each write copies the whole table */
#define ARCH_SET_FS 0x1002

GORO_HIDDEN uintptr_t goro__ldt_lo, goro__ldt_size; /* size 0: no LDT path */
GORO_HIDDEN uint8_t goro__ldt_shift;                /* log2 of a slot's bytes */
static _Atomic uint32_t ldt_next;                   /* slots handed out */

/* LDT entry idx: a flat data segment whose base is base. */
static int ldt_write(uint32_t idx, uintptr_t base)
{
	struct user_desc d = { .entry_number = idx, .base_addr = (unsigned int)base, .limit = 0xfffff,
			       .seg_32bit = 1, .limit_in_pages = 1, .useable = 1 };
	return goro__sys3(SYS_modify_ldt, 1, &d, sizeof d) == 0 ? 0 : -1;
}

static uint16_t selector(uintptr_t tp) { return (uint16_t)((((tp - goro__ldt_lo) >> goro__ldt_shift) << 3) | 7); }

/* Load the segment for tp (a self-pointing word) and read %fs:0 back, then
 * put the current base back: does this kernel honour LDT selectors? */
static bool ldt_works(uintptr_t tp)
{
	void *cur = goro__getfs();
	uintptr_t seen;
	uint16_t sel = selector(tp);
	uint64_t all = ~0ULL, old; /* no handler may run on the probe's TLS */
	goro__sys4(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, 8);
	__asm__ volatile("mov %1, %%fs\n\tmov %%fs:0, %0" : "=r"(seen) : "r"(sel) : "memory");
	goro__sys2(SYS_arch_prctl, ARCH_SET_FS, cur);
	goro__sys4(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, 8);
	return seen == tp && goro__getfs() == cur;
}

/* At start-up, on the main thread, before any other thread exists.  area:
 * the bytes of one G's static TLS and TCB (goro__tls_area). */
bool goro__ldt_init(size_t area)
{
	uint8_t shift = 12;
	while (((size_t)1 << shift) < area && shift < 20)
		shift++;
	if (((size_t)1 << shift) < area)
		return false;
	size_t size = (size_t)LDT_SLOTS << shift;
	long r = goro__sys6(SYS_mmap, 0, (long)size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_32BIT, -1, 0);
	if (r < 0 && r > -4096)
		return false;
	uintptr_t lo = (uintptr_t)r;
	if (lo + size > (1ULL << 32)) {
		goro__sys2(SYS_munmap, lo, size);
		return false;
	}
	goro__ldt_lo = lo;
	goro__ldt_shift = shift;
	/* The table is as long as its highest entry: write the last one first
	 * (each write copies the table, so growing it one entry at a time
	 * would cost a copy per G), as a probe that the kernel allows it. */
	uintptr_t probe = lo + ((uintptr_t)(LDT_SLOTS - 1) << shift);
	*(uintptr_t *)probe = probe;
	bool ok = ldt_write(LDT_SLOTS - 1, probe) == 0 && ldt_works(probe);
	*(uintptr_t *)probe = 0;
	if (!ok) { /* seccomp (a container's default profile), no CONFIG_MODIFY_LDT_SYSCALL */
		goro__sys2(SYS_munmap, lo, size);
		goro__ldt_lo = 0;
		return false;
	}
	goro__ldt_size = size;
	return true;
}

/* The top of a free slot for a new G's static TLS and TCB, or NULL. */
void *goro__ldt_slot(void)
{
	if (!goro__ldt_size || a_load_rlx(&ldt_next) >= LDT_SLOTS)
		return NULL;
	uint32_t i = a_fetch_add(&ldt_next, 1);
	if (i >= LDT_SLOTS)
		return NULL;
	return (void *)(goro__ldt_lo + ((uintptr_t)(i + 1) << goro__ldt_shift));
}

/* Give tp's slot its segment, based at tp, before any switch to it. */
int goro__ldt_bind(void *tp)
{
	uintptr_t t = (uintptr_t)tp;
	return ldt_write((uint32_t)((t - goro__ldt_lo) >> goro__ldt_shift), t);
}
