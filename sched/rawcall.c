/* Raw system calls of foreign code (docs/ARCHITECTURE.md, "Raw system
 * calls outside libc").
 *
 * Some libraries issue `syscall` instructions of their own: libgomp waits
 * on its barriers with an inline FUTEX_WAIT, Go c-shared libraries and
 * hand-written assembly do the same.  No interposed symbol sees those
 * calls, so a G blocked in one keeps its P until sysmon notices (10-20 ms).
 *
 * goro learns where they block: when a nudge finds a G stopped at (or just
 * after) a `syscall` instruction outside libc, ld.so and goro, sysmon
 * turns that one instruction into `int3` (its first byte, 0f -> cc).  From
 * then on the call at that site raises SIGTRAP; the handler has the G make
 * it through goro, a futex wait keeping its P only until another M needs
 * one (sched/proc.c).  The call still happens in the kernel, so every wake
 * reaches it, and only the sites seen blocking are changed: the many wakes
 * elsewhere run natively.  Each site has a trampoline (`syscall`, then a
 * jump back) where calls that must run in place are made natively (clone,
 * exit, a thread goro did not create). */
#include <errno.h>
#include <link.h>
#include <linux/futex.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "sched/real.h"
#include "sched/runtime.h"
#include "sched/sys.h"

#define MAX_SITES 64
/* Traps in a row from kernel-scheduled Gs after which a site is restored. */
#define RESTORE_AFTER 64

struct site {
	uintptr_t pc;    /* the `syscall` instruction, now `int3` and its 05 */
	uintptr_t tramp; /* syscall; jmp *0(%rip); .quad pc + 2 */
	/* Traps in a row whose G already runs kernel-scheduled: for them the
	 * trap only costs a signal, so at RESTORE_AFTER the handler puts the
	 * `syscall` back (restored), until a G blocks there again. */
	_Atomic uint32_t idle;
	_Atomic bool restored;
};

static struct {
	struct site sites[MAX_SITES];
	_Atomic int n;             /* published sites */
	_Atomic uintptr_t learnpc; /* a pc seen in a raw call, for sysmon */
	struct goro_mutex patching; /* one text change at a time (mprotect) */
	bool failed;               /* the text could not be changed: stop */
	struct sigaction prog;     /* the program's SIGTRAP disposition */
} raw;

GORO_HIDDEN _Atomic bool goro__rawcall_on;

/* ---- learning --------------------------------------------------------------- */

static struct site *lookup(uintptr_t pc);

bool goro__syscall_insn(uintptr_t pc)
{
	const uint8_t *b = (const uint8_t *)pc;
	return b[1] == 0x05 && (b[0] == 0x0f || (b[0] == 0xcc && lookup(pc)));
}

/* In a signal handler: the G, running (not in a call goro made for it,
 * such as a declared one: shim/blocking_ffi.c), was stopped at uc.  If
 * that is a `syscall` instruction of foreign code, tell sysmon. */
void goro__rawcall_note(const struct g *gp, const struct ucontext_t *uc)
{
	if (goro__cfg.trap_off || raw.failed || a_load_rlx(&gp->status) != G_RUNNING)
		return;
	const greg_t *r = uc->uc_mcontext.gregs;
	uintptr_t pc = (uintptr_t)r[REG_RIP];
	/* Rewound to the instruction (SA_RESTART: rax is the call number
	 * again) or just past it (ended by the signal: rax is -EINTR). */
	if (*(const uint16_t *)pc != 0x050f) {
		if ((pc & 4095) < 2 || *(const uint16_t *)(pc - 2) != 0x050f || r[REG_RAX] != -EINTR)
			return;
		pc -= 2;
	}
	if (!goro__foreign_pc(pc))
		return;
	uintptr_t none = 0;
	a_cas(&raw.learnpc, &none, pc);
}

struct find_text {
	uintptr_t pc;
	bool found;
};

static int find_text(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	struct find_text *f = arg;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && f->pc >= lo && f->pc + 2 <= lo + ph->p_memsz)
			f->found = true;
	}
	return f->found;
}

static void sigtrap_handler(int sig, siginfo_t *si, void *uc);

static void install_handler(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = sigtrap_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, goro__signudge);
	goro__real.sigaction(SIGTRAP, &sa, &raw.prog);
}

/* A page holding the site's trampoline, made executable once written. */
static uintptr_t make_tramp(uintptr_t pc)
{
	void *page = (void *)goro__sys6(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if ((uintptr_t)page >= (uintptr_t)-4096)
		return 0;
	static const uint8_t code[] = { 0x0f, 0x05, 0xff, 0x25, 0, 0, 0, 0 }; /* syscall; jmp *0(%rip) */
	uintptr_t back = pc + 2;
	memcpy(page, code, sizeof code);
	memcpy((char *)page + sizeof code, &back, sizeof back);
	if (goro__sys3(SYS_mprotect, page, 4096, PROT_READ | PROT_EXEC) != 0)
		return 0;
	return (uintptr_t)page;
}

/* Write int3 over the first byte of the `syscall` at pc.  One byte of one
 * instruction, the kernel's own way to patch live text: another CPU runs
 * either the old call or the new trap.  Not ud2: a hypervisor intercepts
 * #UD (KVM emulates the instruction before it reflects the fault), which
 * made a trap cost 9.5 us on the reference VM, int3 3.1 us. */
static bool patch(uintptr_t pc, uint8_t byte)
{
	uintptr_t page = pc & ~(uintptr_t)4095;
	if (goro__sys3(SYS_mprotect, page, 4096, PROT_READ | PROT_WRITE | PROT_EXEC) != 0)
		return false;
	a_store_rel((_Atomic uint8_t *)pc, byte);
	return goro__sys3(SYS_mprotect, page, 4096, PROT_READ | PROT_EXEC) == 0;
}

/* sysmon: make the site at pc trap. */
static void learn(uintptr_t pc)
{
	int n = a_load_rlx(&raw.n);
	struct site *old = lookup(pc);
	if (old && a_load_rlx(&old->restored)) { /* a G blocked there again */
		a_store_rlx(&old->idle, 0);
		a_store_rlx(&old->restored, false);
		if (!patch(pc, 0xcc))
			raw.failed = true;
		return;
	}
	struct find_text f = { pc, false };
	if (old || n >= MAX_SITES || *(const uint16_t *)pc != 0x050f || !dl_iterate_phdr(find_text, &f))
		return;
	uintptr_t tramp = make_tramp(pc);
	if (!tramp) {
		raw.failed = true;
		return;
	}
	if (!a_load_rlx(&goro__rawcall_on)) {
		install_handler();
		a_store_rel(&goro__rawcall_on, true);
	}
	raw.sites[n].pc = pc;
	raw.sites[n].tramp = tramp;
	a_store_rel(&raw.n, n + 1);
	if (!patch(pc, 0xcc))
		raw.failed = true; /* the text is not writable here: detection only */
}

void goro__rawcall_sysmon(void)
{
	uintptr_t pc = a_load_acq(&raw.learnpc);
	if (pc) {
		goro__lock(&raw.patching);
		learn(pc);
		goro__unlock(&raw.patching);
		a_store_rel(&raw.learnpc, 0);
	}
}

/* In the handler: a kernel-scheduled G trapped at s.  Only such Gs have
 * trapped there lately, and their waits block their own kernel threads
 * anyway: past RESTORE_AFTER the site gets its `syscall` back, until a G
 * is seen blocking there again (learn).  Not while sysmon changes text. */
static void trapped_idle(struct site *s)
{
	if (a_fetch_add_rlx(&s->idle, 1) + 1 < RESTORE_AFTER || a_load_rlx(&s->restored) ||
	    !goro__trylock(&raw.patching))
		return;
	a_store_rlx(&s->restored, true);
	if (!patch(s->pc, 0x0f))
		raw.failed = true;
	a_fetch_add_rlx(&goro__sched.ntraprestored, 1);
	goro__unlock(&raw.patching);
}

/* ---- the trap ------------------------------------------------------------ */

static struct site *lookup(uintptr_t pc)
{
	int n = a_load_acq(&raw.n);
	for (int i = 0; i < n; i++)
		if (raw.sites[i].pc == pc)
			return &raw.sites[i];
	return NULL;
}

/* A SIGTRAP that is not ours goes to the program's disposition; its default
 * (and SIG_IGN: the kernel forces a synchronous SIGTRAP) ends the process as
 * it would natively. */
static void forward(int sig, siginfo_t *si, void *uc)
{
	const struct sigaction *p = &raw.prog;
	if ((p->sa_flags & SA_SIGINFO) && p->sa_sigaction) {
		p->sa_sigaction(sig, si, uc);
		return;
	}
	if (!(p->sa_flags & SA_SIGINFO) && p->sa_handler != SIG_DFL && p->sa_handler != SIG_IGN) {
		p->sa_handler(sig);
		return;
	}
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	goro__real.sigaction(sig, &dfl, NULL);
	uint64_t bit = GORO_SIGBIT(sig);
	goro__sys4(SYS_rt_sigprocmask, SIG_UNBLOCK, &bit, NULL, 8);
	goro__sys3(SYS_tgkill, goro__sys0(SYS_getpid), goro__sys0(SYS_gettid), sig);
}

/* Calls that only make sense where they were issued (a new thread or
 * process resumes after the instruction; sigreturn and arch_prctl act on
 * the caller's own context). */
static bool in_place(long nr)
{
	return nr == SYS_clone || nr == SYS_clone3 || nr == SYS_fork || nr == SYS_vfork || nr == SYS_exit ||
	       nr == SYS_rt_sigreturn || nr == SYS_arch_prctl || nr == SYS_execve || nr == SYS_execveat;
}

/* int3 is a trap: the kernel reports it (SI_KERNEL, as for any int3; a
 * kill or raise is SI_USER or SI_TKILL) with the pc past the one byte. */
static void sigtrap_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *r = uc->uc_mcontext.gregs;
	struct site *s = si->si_code == SI_KERNEL ? lookup((uintptr_t)r[REG_RIP] - 1) : NULL;
	if (!s) {
		forward(sig, si, ucv);
		return;
	}
	/* A G of this M only if %fs is its TCB: a thread goro did not create
	 * may carry the %gs base of the M that cloned it. */
	struct g *gp = goro__gsready ? getg() : NULL;
	void *self;
	__asm__("mov %%fs:16, %0" : "=r"(self)); /* the TCB's self pointer (docs/ARCHITECTURE.md, G4) */
	if (gp && gp->tp != self)
		gp = NULL;
	void *fs = goro__sig_enter();
	int saved = errno;
	long nr = r[REG_RAX]; /* int3 left every register as the call's */
	a_fetch_add_rlx(&goro__sched.ntrapped, 1);
	if (in_place(nr) || !(gp && gp->m && gp->m->curg == gp &&
			      goro__redo_call(gp, uc, s->pc + 2, nr, GORO_REDO_TRAPPED))) {
		r[REG_RIP] = (greg_t)s->tramp; /* natively, then back after the site */
		if (gp && gp->ksched)
			trapped_idle(s);
	} else {
		a_store_rlx(&s->idle, 0);
	}
	errno = saved;
	goro__sig_leave(fs);
}

/* sigaction(SIGTRAP) of the program once goro traps: recorded, ours stays. */
bool goro__rawcall_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (sig != SIGTRAP || !a_load_acq(&goro__rawcall_on))
		return false;
	struct sigaction prev = raw.prog;
	if (act)
		raw.prog = *act;
	if (old)
		*old = prev;
	return true;
}

/* goro__asyncpreempt2, on the G: the trapped call, made through goro.  A
 * futex wait is what a spin-then-futex runtime's worker does between its
 * spins: its G runs kernel-scheduled from then on (sched/proc.c,
 * goro__ksched_raw), so the wait blocks its own kernel thread and the
 * kernel's scheduler weighs its spins against the other threads', as
 * natively.  Any other call goes between entersyscall and exitsyscall.
 * (Also for a wait found blocked at an unlearnt site: sched/preempt.c,
 * goro__blocked_at.) */
bool goro__rawcall_is_wait(long nr, long op)
{
	int cmd = (int)op & FUTEX_CMD_MASK;
	return nr == SYS_futex && (cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET);
}

long goro__rawcall_call(long nr, const long a[6])
{
	if (goro__rawcall_is_wait(nr, a[1])) {
		a_fetch_add_rlx(&goro__sched.ntrappedwait, 1);
		if (goro__ksched_raw())
			return goro__sys6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	}
	goro__entersyscall();
	long r = goro__sys6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	goro__exitsyscall();
	return r;
}
