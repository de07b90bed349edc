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
#include <stdlib.h>
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
						"libgoro", "libpthread.so", "libdl.so", NULL };
	const char *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	for (int i = 0; prefixes[i]; i++)
		if (strncmp(base, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

/* libgoro's own text (goro__runtime_pc). */
static uintptr_t self_lo, self_hi;

static int phdr_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	if (!info->dlpi_name || !unsafe_object(info->dlpi_name) || nunsafe >= MAX_UNSAFE)
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X) || nunsafe >= MAX_UNSAFE)
			continue;
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
		unsafe[nunsafe++] = (struct range){ lo, hi };
		if ((uintptr_t)&goro__preempt_init - lo < hi - lo) {
			self_lo = lo;
			self_hi = hi;
		}
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
		goro__rawcall_note(uc);
	if (!a_load_rlx(&gp->preempt) || !goro__can_preempt(gp))
		return false;
	greg_t *r = uc->uc_mcontext.gregs;
	uintptr_t pc = (uintptr_t)r[REG_RIP];
	if (!goro__foreign_pc(pc))
		return false;
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
	goro__rawcall_note(uc);
	greg_t *r = uc->uc_mcontext.gregs;
	uintptr_t pc = (uintptr_t)r[REG_RIP];
	long nr = (long)r[REG_RAX];
	if (*(const uint16_t *)pc != 0x050f || nr < 0 || nr >= 512 || nr == SYS_restart_syscall)
		return false;
	return goro__redo_call(gp, uc, pc + 2, nr, GORO_REDO_BLOCKED);
}

/* sysmon: the M running gp seems stuck in the kernel; look and ask. */
void goro__check_blocked(struct m *mp)
{
	char path[64], buf[256];
	(void)snprintf(path, sizeof path, "/proc/self/task/%d/stat", mp->tid);
	long fd = goro__sys4(SYS_openat, -100, path, 0 /* O_RDONLY */, 0);
	if (fd < 0)
		return;
	long n = goro__sys3(SYS_read, fd, buf, sizeof buf - 1);
	goro__sys1(SYS_close, fd);
	if (n <= 0)
		return;
	buf[n] = 0;
	const char *st = strrchr(buf, ')');
	if (!st || (st[2] != 'S' && st[2] != 'D'))
		return; /* running: a CPU hog, which preemption handles */
	a_store_rel(&mp->blockcheck, true);
	goro__sys3(SYS_tgkill, goro__sys0(SYS_getpid), mp->tid, goro__signudge);
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
 * once that one has run its wake-up granularity (the kernel's
 * check_preempt_wakeup idea).  goro's sysmon preempts after 10 ms: a G
 * queued while every P spins on a flag that G must set (OpenMP's active
 * wait, a spin lock's owner) waited that long, or until the spinner gave up.
 * So whoever queues a woken G with no P idle and no M spinning asks the G
 * that has run longest, beyond GORO_WAKE_GRAN_NS, to yield; if none has run
 * that long yet, sysmon looks again each round (goro__wake_recheck) until
 * one has or the queues are empty.  At most one request per wake-up, as the
 * kernel's.  docs/ARCHITECTURE.md, "Preemption".
 *
 * The ages cost the switch path nothing, nor the waker a clock read: only
 * sysmon records when it first saw each P's schedtick (runseen) and
 * publishes its clock (sysmonnow).  While the tick is unchanged the G has
 * run at least sysmonnow - runseen: a lower bound, as exact as sysmon's
 * period, which stays at its shortest while a wake-up is pending. */

static uint32_t now_us(int64_t now) { return (uint32_t)(now / 1000); }

/* sysmon, each round, for each running P. */
void goro__runage(struct p *pp, int64_t now)
{
	uint32_t t = *(volatile uint32_t *)&pp->schedtick;
	if ((uint32_t)(a_load_rlx(&pp->runseen) >> 32) != t)
		a_store_rlx(&pp->runseen, (uint64_t)t << 32 | now_us(now));
}

/* How long pp's G has run at least, by sysmon's clock; 0: not known. */
static int64_t runage(struct p *pp, uint32_t nowus)
{
	uint32_t t = *(volatile uint32_t *)&pp->schedtick;
	uint64_t seen = a_load_rlx(&pp->runseen);
	if ((uint32_t)(seen >> 32) != t)
		return 0;
	return (int64_t)(uint32_t)(nowus - (uint32_t)seen) * 1000;
}

static int64_t wake_gran(void)
{
	static int64_t gran = -1;
	if (gran < 0) {
		const char *e = getenv("GORO_WAKEGRAN_US");
		gran = e ? atoll(e) * 1000 : GORO_WAKE_GRAN_NS;
	}
	return gran;
}

/* The running P other than self whose G has run longest, beyond the
 * granularity, and was not asked to stop already; its M in *mpp.  local:
 * only a P with Gs in its own queue (whose M would run them next). */
static struct p *oldest(const struct p *self, bool local, struct m **mpp)
{
	struct p *best = NULL;
	int64_t bestage = wake_gran() - 1;
	uint32_t nowus = now_us(a_load_rlx(&goro__sched.sysmonnow));
	for (int32_t i = 0; i < goro__gomaxprocs; i++) {
		struct p *pp = &goro__allp[i];
		struct m *mp = pp->m;
		if (pp == self || a_load_acq(&pp->status) != P_RUNNING || !mp || (local && goro__runqempty(pp)))
			continue;
		struct g *gp = mp->curg;
		int64_t age = runage(pp, nowus);
		if (gp && !a_load_rlx(&gp->preempt) && age > bestage) {
			best = pp;
			bestage = age;
			*mpp = mp;
		}
	}
	return best;
}

/* None old enough yet: sysmon looks again.  kick: wake it if it sleeps
 * long (then it keeps short periods for a while: at most one kick per
 * ~1 ms).  A G readied into its waker's runnext does not kick: the waker
 * mostly blocks next, and sysmon's next round looks anyway. */
static void wake_pend(bool kick)
{
	uint32_t zero = 0;
	if (a_load_rlx(&goro__sched.wakepend) != 0 || !a_cas(&goro__sched.wakepend, &zero, 1))
		return;
	atomic_thread_fence(memory_order_seq_cst); /* against sysmon_sleep's store, then look */
	if (kick)
		goro__sysmon_wake();
}

struct p *goro__wake_victim(const struct p *self, struct m **mpp)
{
	if ((goro__gomaxprocs == 1 && self) || goro__cfg.preempt_off || !goro__all_busy())
		return NULL;
	struct p *pp = oldest(self, false, mpp);
	if (!pp)
		wake_pend(!self);
	return pp;
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

bool goro__wake_recheck(int64_t now)
{
	a_store_rlx(&goro__sched.sysmonnow, now);
	if (a_load_rlx(&goro__sched.wakepend) == 0)
		return false;
	bool global = a_load_rlx(&goro__sched.runqsize) > 0;
	struct m *mp = NULL;
	struct p *pp = NULL;
	if (goro__all_busy() && !goro__cfg.preempt_off) {
		pp = oldest(NULL, !global, &mp);
		if (!pp && (global || goro__any_runq()))
			return true; /* still waiting for one to age */
	}
	a_store_rlx(&goro__sched.wakepend, 0);
	if (pp)
		goro__wake_preempt(pp, mp);
	return pp != NULL;
}
