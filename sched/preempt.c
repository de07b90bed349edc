/* Asynchronous preemption (Go: preemptone / doSigPreempt / asyncPreempt).
 *
 * sysmon flags a G that has held its P for 10 ms (cooperative preemption
 * at the next interposed call) and signals its M.  The handler preempts
 * only at a safe point: the G is the one running on this M, the M is not
 * inside runtime code (m->locks), and the interrupted pc is in neither
 * libc, ld.so, libgcc_s, the vDSO nor goro itself: code there may hold a
 * libc-internal lock (stdio, malloc arenas, the loader lock), and a G
 * descheduled while holding one would block every M that needs it
 * (docs/ARCHITECTURE.md, G18).  At a safe point the handler does not switch stacks: it
 * rewrites the signal context so that the G "calls" goro__asyncpreempt
 * when the handler returns. */
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <string.h>
#include <ucontext.h>

#include "sched/runtime.h"
#include "sched/sys.h"

#define MAX_UNSAFE 16
#define RED_ZONE 128

GORO_HIDDEN uint64_t goro__xsave_size = 4096;
GORO_HIDDEN int goro__signudge = SIGURG;
struct range {
	uintptr_t lo, hi;
};
static struct range unsafe[MAX_UNSAFE];
static int nunsafe;


static bool unsafe_object(const char *name)
{
	static const char *const prefixes[] = { "libc.so", "ld-linux", "libgcc_s.so", "linux-vdso",
						"libpthread.so", "libdl.so", NULL };
	const char *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	for (int i = 0; prefixes[i]; i++)
		if (strncmp(base, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

/* libgoro's own text (goro__runtime_pc). */
static uintptr_t self_lo, self_hi;

/* goro's own text is found by address, not by name: the library may be
 * preloaded under any file name. */
static int phdr_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	bool named = info->dlpi_name && unsafe_object(info->dlpi_name);
	for (int i = 0; i < info->dlpi_phnum && nunsafe < MAX_UNSAFE; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
		bool self = (uintptr_t)&goro__preempt_init - lo < hi - lo;
		if (self) {
			self_lo = lo;
			self_hi = hi;
		}
		if (named || self)
			unsafe[nunsafe++] = (struct range){ lo, hi };
	}
	return 0;
}

bool goro__runtime_pc(uintptr_t pc) { return pc - self_lo < self_hi - self_lo; }

void goro__preempt_init(void)
{
	/* CPUID leaf 0xD, sub-leaf 0: ebx = xsave area size for the
	 * components enabled in XCR0. */
	uint32_t a = 0xD, b, c = 0, d;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	if (b >= 576)
		goro__xsave_size = b + 64;
	dl_iterate_phdr(phdr_cb, NULL);
}

bool goro__unsafe_overlap(uintptr_t lo, uintptr_t hi)
{
	for (int i = 0; i < nunsafe; i++)
		if (lo < unsafe[i].hi && unsafe[i].lo < hi)
			return true;
	return false;
}

bool goro__foreign_pc(uintptr_t pc)
{
	return !goro__unsafe_overlap(pc, pc + 1);
}

/* In the signal handler, on the M running gp.  Returns true if the
 * context now calls goro__asyncpreempt. */
bool goro__preempt_at(struct g *gp, struct ucontext_t *uc)
{
	if (goro__cancel_at(gp, uc)) /* a cancel ends a blocking call: sched/cancelsys.c */
		return true;
	if (a_load_rlx(&gp->preempt))
		goro__rawcall_note(gp, uc);
	if (!a_load_rlx(&gp->preempt) || !goro__can_preempt(gp))
		return false;
	greg_t *r = uc->uc_mcontext.gregs;
	uintptr_t pc = (uintptr_t)r[REG_RIP];
	if (!goro__foreign_pc(pc)) {
		a_fetch_add_rlx(&goro__sched.npreemptdefer, 1);
		return false;
	}
	uintptr_t sp = (uintptr_t)r[REG_RSP] - RED_ZONE - 8;
	if (sp - goro__xsave_size - 512 < (uintptr_t)gp->stack_lo && gp->stack_map)
		return false; /* too close to the guard: leave it to the next call */
	*(uintptr_t *)sp = pc;
	r[REG_RSP] = (greg_t)sp;
	r[REG_RIP] = (greg_t)(uintptr_t)goro__asyncpreempt;
	return true;
}

/* The GPRs goro__asyncpreempt pushed, lowest address first. */
enum { R_R15, R_R14, R_R13, R_R12, R_R11, R_R10, R_R9, R_R8, R_RDI, R_RSI, R_RDX, R_RCX, R_RBX, R_RAX,
       R_RBP, R_FLAGS, R_RET /* where `ret $128` returns to */ };

/* Called by goro__asyncpreempt on the G's stack, all registers saved. */
void goro__asyncpreempt2(uint64_t *regs)
{
	struct g *gp = getg();
	uint8_t redo = gp->resume_syscall;
	if (redo != GORO_REDO_NONE) {
		/* A system call goro did not intercept: issue it through goro
		 * (the P is handed off while it blocks), and resume after it
		 * with its result in rax. */
		gp->resume_syscall = GORO_REDO_NONE;
		const long args[6] = { (long)regs[R_RDI], (long)regs[R_RSI], (long)regs[R_RDX],
				       (long)regs[R_R10], (long)regs[R_R8], (long)regs[R_R9] };
		if (redo == GORO_REDO_TRAPPED) {
			regs[R_RAX] = (uint64_t)goro__rawcall_call((long)regs[R_RAX], args);
			return;
		}
		long r = goro__redo_syscall(gp, &regs[R_RAX], &regs[R_RET], args);
		if (r != GORO_SYS_CANCELLED) /* else cancelled: regs now resume in goro__cancel_exit */
			regs[R_RAX] = (uint64_t)r;
		a_fetch_add_rlx(&goro__sched.nblockedm, 1);
		return;
	}
	a_fetch_add_rlx(&goro__sched.nasyncpreempt, 1);
	GORO_TRACE(TEV_PREEMPT, gp, 0, "async");
	goro__preempt_park();
}

bool goro__redo_call(struct g *gp, struct ucontext_t *uc, uintptr_t retpc, long nr, uint8_t kind)
{
	if (!goro__can_preempt(gp))
		return false;
	greg_t *r = uc->uc_mcontext.gregs;
	uintptr_t sp = (uintptr_t)r[REG_RSP] - RED_ZONE - 8;
	if (sp - goro__xsave_size - 512 < (uintptr_t)gp->stack_lo && gp->stack_map)
		return false;
	*(uintptr_t *)sp = retpc;
	r[REG_RSP] = (greg_t)sp;
	r[REG_RIP] = (greg_t)(uintptr_t)goro__asyncpreempt;
	r[REG_RAX] = nr;
	gp->resume_syscall = kind;
	return true;
}

/* In the signal handler, asked by sysmon (m->blockcheck): the M has been
 * asleep in the kernel for 20 ms in a call goro did not intercept (libc's
 * internal write of stdio, an internal futex).  If the signal interrupted
 * a restartable system call (the kernel rewound rip to the `syscall`
 * instruction and put the call number back in rax: SA_RESTART), make the
 * G redo it through goro__asyncpreempt as an intercepted call instead. */
bool goro__blocked_at(struct g *gp, struct ucontext_t *uc)
{
	if (goro__cancel_at(gp, uc)) /* cancelled inside libc's window: sched/cancelsys.c */
		return true;
	goro__rawcall_note(gp, uc);
	greg_t *r = uc->uc_mcontext.gregs;
	uintptr_t pc = (uintptr_t)r[REG_RIP];
	long nr = (long)r[REG_RAX];
	if (*(const uint16_t *)pc != 0x050f || nr < 0 || nr >= 512 || nr == SYS_restart_syscall)
		return false;
	/* A futex wait of foreign code is redone as a trapped one: the G runs
	 * kernel-scheduled from now on (sched/rawcall.c), without waiting for
	 * its next wait to trap. */
	bool raw = goro__foreign_pc(pc) && goro__rawcall_is_wait(nr, (long)r[REG_RSI]);
	return goro__redo_call(gp, uc, pc + 2, nr, raw ? GORO_REDO_TRAPPED : GORO_REDO_BLOCKED);
}

bool goro__check_blocked(struct m *mp)
{
	char path[64], buf[256];
	(void)snprintf(path, sizeof path, "/proc/self/task/%d/stat", mp->tid);
	long fd = goro__sys4(SYS_openat, -100, path, 0 /* O_RDONLY */, 0);
	if (fd < 0)
		return false;
	long n = goro__sys3(SYS_read, fd, buf, sizeof buf - 1);
	goro__sys1(SYS_close, fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	const char *st = strrchr(buf, ')');
	if (!st || (st[2] != 'S' && st[2] != 'D'))
		return false; /* running: a CPU hog, which preemption handles */
	a_store_rel(&mp->blockcheck, true);
	goro__sys3(SYS_tgkill, goro__sys0(SYS_getpid), mp->tid, goro__signudge);
	return true;
}

/* sysmon: ask the M running gp to preempt it now. */
void goro__preemptone(struct g *gp, struct m *mp)
{
	if (goro__cfg.preempt_off || !mp)
		return;
	goro__sys3(SYS_tgkill, goro__sys0(SYS_getpid), mp->tid, goro__signudge);
}

/* ---- wake-up preemption ---------------------------------------------------
 *
 * Natively a thread that wakes onto a busy CPU preempts the thread there
 * when that one has run long enough (the kernel's check_preempt_wakeup
 * idea: a sleeper has credit over a thread that kept the CPU).  goro's
 * sysmon preempts after 10 ms: a G woken while every P spins on a flag that
 * G must set (OpenMP's active wait, a spin lock's owner) waited that long,
 * or until the spinner gave up.  So whoever queues a woken G with no P idle
 * and no M spinning asks the running G that has gone longest without
 * blocking, beyond GORO_WAKE_GRAN_NS, to yield.  One request per wake-up
 * at most, at the wake-up, as the kernel's; none with GORO_PREEMPT=off.
 * docs/ARCHITECTURE.md, "Preemption".
 *
 * The age is the time since the G last blocked (parked or entered a system
 * call), not since it last got its P: a spinner preempted once stays old,
 * as its virtual runtime does natively.  It costs the switch path nothing:
 * a look records when it first saw the G's block count (runseen), sysmon
 * every round and each wake-up's look, so the age is a lower bound, as
 * exact as the looks are frequent. */

static uint32_t now_us(int64_t now) { return (uint32_t)(now / 1000); }

/* How long gp has run without blocking, at least; 0 the first time. */
static int64_t runage(struct g *gp, int64_t now)
{
	uint32_t n = *(volatile uint32_t *)&gp->nblock + 1; /* never a fresh G's 0 */
	uint64_t seen = a_load_rlx(&gp->runseen);
	int32_t us = (int32_t)(now_us(now) - (uint32_t)seen); /* lookers race: signed */
	if ((uint32_t)(seen >> 32) != n) {
		/* Relaxed: two lookers that race store the same count with
		 * nearly the same time; the age stays a lower bound. */
		a_store_rlx(&gp->runseen, (uint64_t)n << 32 | now_us(now));
		return 0;
	}
	return us > 0 ? (int64_t)us * 1000 : 0;
}

void goro__runseen(struct g *gp, int64_t now)
{
	if (gp)
		(void)runage(gp, now);
}

struct p *goro__wake_victim(const struct p *self, struct m **mpp)
{
	if ((goro__gomaxprocs == 1 && self) || goro__cfg.preempt_off || !goro__all_busy())
		return NULL;
	struct p *best = NULL;
	int64_t now = 0, bestage = GORO_WAKE_GRAN_NS - 1;
	for (int32_t i = 0; i < goro__gomaxprocs; i++) {
		struct p *pp = &goro__allp[i];
		struct m *mp = pp->m;
		if (pp == self || a_load_acq(&pp->status) != P_RUNNING || !mp)
			continue;
		struct g *gp = mp->curg;
		if (!gp || a_load_rlx(&gp->preempt))
			continue;
		if (!now)
			now = goro__nanotime(); /* only once a P could qualify */
		int64_t age = runage(gp, now);
		if (age > bestage) {
			best = pp;
			bestage = age;
			*mpp = mp;
		}
	}
	return best;
}

void goro__wake_preempt(struct p *pp, struct m *mp)
{
	struct g *gp = mp->curg;
	if (!gp)
		return;
	a_store_rlx(&gp->preempt, true);
	a_fetch_add_rlx(&goro__sched.nwakepreempt, 1);
	GORO_TRACE(TEV_PREEMPT, gp, pp->id, "wakeup");
	goro__preemptone(gp, mp);
}

void goro__wakepreempt(void)
{
	struct m *mp = NULL;
	struct p *pp = goro__wake_victim(NULL, &mp);
	if (pp)
		goro__wake_preempt(pp, mp);
}
