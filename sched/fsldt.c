/* %fs without FSGSBASE: a segment of the process's LDT per G
 * (docs/ARCHITECTURE.md, "%fs without FSGSBASE: LDT segments").
 *
 * Where user space may not write the %fs base (no FSGSBASE: kernels before
 * 5.9, hypervisors that hide it), arch_prctl(ARCH_SET_FS) is a system call
 * per switch, 1-5 us on a host with page-table isolation.  Loading %fs with
 * a selector costs a few ns instead: the CPU takes the base from the
 * descriptor, which modify_ldt writes once per G block (pooled Gs keep
 * theirs).  A descriptor's base has
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

#define LDT_SLOTS 1024 /* of the 8,192 entries an LDT may have */
#define LDT_MIXED 64   /* with wrfsbase allowed too: the first threads only */
#define ARCH_SET_FS 0x1002

GORO_HIDDEN uintptr_t goro__ldt_lo, goro__ldt_size; /* size 0: no LDT path */
GORO_HIDDEN uint8_t goro__ldt_shift;                /* log2 of a slot's bytes */
static _Atomic uint32_t ldt_next;                   /* slots handed out */
static uint32_t ldt_nslots;                         /* slots in the arena */
/* Set up at the first thread goro makes (a process that makes none pays
 * nothing): 0 not wanted or refused, 1 wanted, 2 set up. */
static _Atomic int ldt_state;
static size_t ldt_area;
static bool ldt_mixed;
static struct goro_mutex ldt_lock;

/* Slot i's top, and the TCB goro__tls_alloc_at makes there: its base. */
static uintptr_t slot_top(uint32_t i) { return goro__ldt_lo + ((uintptr_t)(i + 1) << goro__ldt_shift); }
static uintptr_t slot_tp(uint32_t i) { return (uintptr_t)goro__tls_tp_at((void *)slot_top(i)); }

/* LDT entry i: a flat data segment based at slot i's TCB.  Each write
 * copies the table and, once other threads run, interrupts every CPU that
 * runs one (2 us alone; tens on a loaded VM): written when a slot is first
 * handed out (entries 0 and 1, the probes, at start-up), so a process that
 * makes no thread pays two writes. */
static int ldt_write(uint32_t i)
{
	struct user_desc d = { .entry_number = i, .base_addr = (unsigned int)slot_tp(i), .limit = 0xfffff,
			       .seg_32bit = 1, .limit_in_pages = 1, .useable = 1 };
	return goro__sys3(SYS_modify_ldt, 1, &d, sizeof d) == 0 ? 0 : -1;
}

/* Load slot 0's segment and read %fs:0 back (a self-pointer put there
 * meanwhile), then put the current base back: does this kernel honour LDT
 * selectors? */
static bool ldt_works(void)
{
	uintptr_t tp = slot_tp(0), seen;
	void *cur = goro__getfs();
	uint16_t sel = 7; /* entry 0 | LDT | RPL 3 */
	uint64_t all = ~0ULL, old; /* no handler may run on the probe's TLS */
	*(uintptr_t *)tp = tp;
	goro__sys4(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, 8);
	__asm__ volatile("mov %1, %%fs\n\tmov %%fs:0, %0" : "=r"(seen) : "r"(sel) : "memory");
	goro__sys2(SYS_arch_prctl, ARCH_SET_FS, cur);
	goro__sys4(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, 8);
	*(uintptr_t *)tp = 0; /* _dl_allocate_tls wants the slot zeroed */
	return seen == tp && goro__getfs() == cur;
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* With wrfsbase allowed too: is a segment load the cheaper switch on this
 * CPU?  (On the AMD EPYC VM of docs/ARCHITECTURE.md, 9 ns against 14, and
 * a yield hand-off 35 ns against 52.)  The best of 4 rounds of 32
 * alternating writes each way (~4 us); %fs is put back before any TLS is
 * read. */
static bool segments_faster(void)
{
	uintptr_t a = slot_tp(0), b = slot_tp(1), cur = (uintptr_t)goro__getfs();
	uint64_t seg = UINT64_MAX, wr = UINT64_MAX, all = ~0ULL, old;
	goro__sys4(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, 8);
	for (int r = 0; r < 4; r++) {
		uint64_t t0 = rdtsc();
		for (int i = 0; i < 32; i++)
			__asm__ volatile("mov %0, %%fs\n\tmov %1, %%fs" : : "r"((uint16_t)7), "r"((uint16_t)15));
		uint64_t t1 = rdtsc();
		for (int i = 0; i < 32; i++)
			__asm__ volatile("wrfsbase %0\n\twrfsbase %1" : : "r"(a), "r"(b));
		uint64_t t2 = rdtsc();
		__asm__ volatile("mov %0, %%fs\n\twrfsbase %1" : : "r"((uint16_t)0), "r"(cur) : "memory");
		seg = t1 - t0 < seg ? t1 - t0 : seg;
		wr = t2 - t1 < wr ? t2 - t1 : wr;
	}
	goro__sys4(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, 8);
	return seg * 10 < wr * 9;
}

/* At start-up: segments are wanted.  area: the bytes of one G's static TLS
 * and TCB (goro__tls_area).  mixed: wrfsbase is allowed; then only the
 * first LDT_MIXED threads get segments (each costs a write and a page of
 * RSS), and only where a segment load is the faster write
 * (segments_faster). */
void goro__ldt_want(size_t area, bool mixed)
{
	ldt_area = area;
	ldt_mixed = mixed;
	a_store_rel(&ldt_state, 1);
}

/* The arena, the probe entries and the checks (~25 us on this VM), by the
 * thread that makes the first G block.  Its %fs is moved only with its
 * signals blocked and put back as it was. */
static bool ldt_init(size_t area, bool mixed)
{
	uint8_t shift = 12;
	while (((size_t)1 << shift) < area && shift < 20)
		shift++;
	if (((size_t)1 << shift) < area)
		return false;
	ldt_nslots = mixed ? LDT_MIXED : LDT_SLOTS;
	size_t size = (size_t)ldt_nslots << shift;
	long r = goro__sys6(SYS_mmap, 0, (long)size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_32BIT, -1, 0);
	if (r < 0 && r > -4096)
		return false;
	uintptr_t lo = (uintptr_t)r;
	/* Small pages: a transparent huge page would be tried at the first
	 * G's fault (zeroed, or compacted for) for 256 slots' TLS. */
	goro__sys3(SYS_madvise, r, (long)size, MADV_NOHUGEPAGE);
	goro__ldt_lo = lo;
	goro__ldt_shift = shift;
	bool ok = lo + size <= (1ULL << 32) && ldt_write(0) == 0 && ldt_works() && ldt_write(1) == 0;
	if (ok && mixed)
		ok = segments_faster();
	if (!ok) { /* seccomp (a container's default profile), no CONFIG_MODIFY_LDT_SYSCALL */
		goro__sys2(SYS_munmap, r, (long)size);
		goro__ldt_lo = 0;
		return false;
	}
	goro__ldt_size = size;
	return true;
}

/* The top of a free slot, its segment in place, for a new G's static TLS
 * and TCB (goro__tls_alloc_at), or NULL: none left. */
void *goro__ldt_slot(void)
{
	if (__builtin_expect(a_load_acq(&ldt_state) == 1, 0)) {
		goro__lock(&ldt_lock);
		if (a_load_rlx(&ldt_state) == 1)
			a_store_rel(&ldt_state, ldt_init(ldt_area, ldt_mixed) ? 2 : 0);
		goro__unlock(&ldt_lock);
	}
	if (!goro__ldt_size || a_load_rlx(&ldt_next) >= ldt_nslots)
		return NULL;
	uint32_t i = a_fetch_add(&ldt_next, 1);
	if (i >= ldt_nslots || (i >= 2 && ldt_write(i) != 0))
		return NULL; /* (a slot whose write failed stays unused) */
	return (void *)slot_top(i);
}
