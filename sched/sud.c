/* Raw system calls of foreign code (docs/ARCHITECTURE.md, "Raw system
 * calls outside libc").
 *
 * Some libraries issue `syscall` instructions of their own: libgomp waits
 * on its barriers with an inline FUTEX_WAIT, Go c-shared libraries and
 * hand-written assembly do the same.  No interposed symbol sees those
 * calls, so a G blocked in one keeps its P until sysmon notices (10-20 ms).
 *
 * goro learns which object issues them: when a nudge finds a G stopped at
 * (or just after) a `syscall` instruction outside libc, ld.so and goro,
 * sysmon adds that object's text to a trap range.  Every M then asks the
 * kernel to trap system calls made from that range (syscall user
 * dispatch: SIGSYS instead of the call).  The handler has the G redo the
 * call through goro: a futex wait parks the G on the address like goro's
 * own waits, a wake readies the parked Gs (and wakes kernel waiters), any
 * other call runs with the P handed off as an intercepted system call.
 *
 * Emulated futex waits are only woken by wakes goro sees.  The range only
 * grows, and waits are emulated only once every M traps the current range
 * (sysmon nudges the others until they have applied it): until then a
 * trapped wait blocks in the kernel, where every wake reaches it. */
#include <errno.h>
#include <link.h>
#include <linux/futex.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <ucontext.h>

#include "sched/real.h"
#include "sched/runtime.h"
#include "sched/sys.h"

/* <linux/prctl.h> of Debian 12 predates the inclusive mode (Linux 6.16). */
#define SUD_PRCTL 59 /* PR_SET_SYSCALL_USER_DISPATCH */
#define SUD_EXCLUSIVE 1
#define SUD_INCLUSIVE 2
#define SUD_OFF 0
#define SUD_BLOCK 1              /* SYSCALL_DISPATCH_FILTER_BLOCK */
#define SUD_SI_CODE 2            /* SYS_USER_DISPATCH */
#define SUD_UNAVAILABLE (-1)

static struct {
	_Atomic uintptr_t lo, hi;  /* the trap range, [lo, hi) */
	_Atomic uint32_t gen;      /* bumped each time the range grows */
	_Atomic uint32_t emulgen;  /* == gen once every M traps the range */
	_Atomic uintptr_t learnpc; /* a pc seen in a raw call, for sysmon */
	int mode;                  /* SUD_INCLUSIVE, SUD_EXCLUSIVE (wrapped), SUD_UNAVAILABLE or 0 */
	struct sigaction prog;     /* the program's SIGSYS disposition */
} sud;

GORO_HIDDEN _Atomic bool goro__sud_on;

/* ---- which code is trapped ---------------------------------------------- */

/* In a signal handler: the G was stopped at pc.  If that is a raw system
 * call of foreign code not trapped yet, tell sysmon. */
void goro__sud_note(const struct ucontext_t *uc)
{
	if (goro__cfg.trap_off || sud.mode == SUD_UNAVAILABLE)
		return;
	const greg_t *r = uc->uc_mcontext.gregs;
	uintptr_t pc = (uintptr_t)r[REG_RIP];
	/* Rewound to the instruction (SA_RESTART: rax is the call number
	 * again) or just past it (ended by the signal: rax is -EINTR). */
	if (*(const uint16_t *)pc == 0x050f)
		(void)0;
	else if ((pc & 4095) >= 2 && *(const uint16_t *)(pc - 2) == 0x050f && r[REG_RAX] == -EINTR)
		pc -= 2;
	else
		return;
	if (!goro__foreign_pc(pc) || (pc >= a_load_acq(&sud.lo) && pc < a_load_acq(&sud.hi)))
		return;
	uintptr_t none = 0;
	a_cas(&sud.learnpc, &none, pc);
}

struct segment_find {
	uintptr_t pc, lo, hi;
};

static int find_segment(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	struct segment_find *f = arg;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && f->pc >= lo && f->pc < lo + ph->p_memsz) {
			f->lo = lo;
			f->hi = lo + ph->p_memsz;
			return 1;
		}
	}
	return 0;
}

/* Does this kernel trap one range (Linux >= 6.16), or everything outside
 * a wrapped exempt range?  Tried on sysmon's own thread, then undone. */
static int probe_mode(uintptr_t lo, uintptr_t hi)
{
	static volatile char sel;
	if (goro__sys6(SYS_prctl, SUD_PRCTL, SUD_INCLUSIVE, (long)lo, (long)(hi - lo), (long)&sel, 0) == 0) {
		goro__sys6(SYS_prctl, SUD_PRCTL, SUD_OFF, 0, 0, 0, 0);
		return SUD_INCLUSIVE;
	}
	if (goro__sys6(SYS_prctl, SUD_PRCTL, SUD_EXCLUSIVE, (long)hi, (long)(lo - hi), (long)&sel, 0) == 0) {
		goro__sys6(SYS_prctl, SUD_PRCTL, SUD_OFF, 0, 0, 0, 0);
		return SUD_EXCLUSIVE;
	}
	return SUD_UNAVAILABLE;
}

static void sigsys_handler(int sig, siginfo_t *si, void *uc);

static void install_handler(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = sigsys_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, goro__signudge);
	goro__real.sigaction(SIGSYS, &sa, &sud.prog);
}

/* sysmon: add the object around pc to the trap range.  The range only
 * grows, and never over libc, ld.so or goro (their calls must not trap). */
static void learn(uintptr_t pc)
{
	struct segment_find f = { pc, 0, 0 };
	if (!dl_iterate_phdr(find_segment, &f))
		return;
	uintptr_t lo = a_load_rlx(&sud.lo), hi = a_load_rlx(&sud.hi);
	if (lo != hi) {
		f.lo = f.lo < lo ? f.lo : lo;
		f.hi = f.hi > hi ? f.hi : hi;
	}
	if (goro__unsafe_overlap(f.lo, f.hi))
		return; /* stays with sysmon's detection */
	if (sud.mode == 0)
		sud.mode = probe_mode(f.lo, f.hi);
	if (sud.mode == SUD_UNAVAILABLE)
		return;
	if (!a_load_rlx(&goro__sud_on))
		install_handler();
	a_store_rel(&sud.lo, f.lo);
	a_store_rel(&sud.hi, f.hi);
	a_fetch_add(&sud.gen, 1);
	a_store_rel(&goro__sud_on, true);
}

/* sysmon: once every M traps the current range, futex waits there are
 * emulated; until then nudge the Ms that have not applied it. */
static void sweep(void)
{
	uint32_t gen = a_load_acq(&sud.gen);
	bool all = true;
	int pid = (int)goro__sys0(SYS_getpid);
	goro__lock(&goro__sched.lock);
	struct m *allm = goro__sched.allm;
	goro__unlock(&goro__sched.lock);
	for (struct m *mp = allm; mp; mp = mp->alllink) {
		if (a_load_acq(&mp->sud_gen) == gen)
			continue;
		int tid = *(volatile int *)&mp->tid;
		if (tid && goro__sys3(SYS_tgkill, pid, tid, goro__signudge) == -ESRCH)
			continue; /* gone */
		all = false;
	}
	if (all)
		a_store_rel(&sud.emulgen, gen);
}

void goro__sud_sysmon(void)
{
	uintptr_t pc = a_load_acq(&sud.learnpc);
	if (pc) {
		learn(pc);
		a_store_rel(&sud.learnpc, 0);
	}
	if (a_load_rlx(&goro__sud_on) && a_load_acq(&sud.emulgen) != a_load_acq(&sud.gen))
		sweep();
}

/* On mp's own kernel thread (M start, scheduler, nudge handler): trap the
 * current range here.  SIGSYS must stay deliverable: a blocked one would
 * kill the process.  mask: a signal context's mask, restored at its return. */
void goro__sud_apply(struct m *mp, uint64_t *mask)
{
	uint32_t gen = a_load_acq(&sud.gen);
	if (a_load_rlx(&mp->sud_gen) == gen) {
		mp->sud_sel = SUD_BLOCK; /* after a call made natively (native_only) */
		return;
	}
	uintptr_t lo = a_load_acq(&sud.lo), hi = a_load_acq(&sud.hi);
	uint64_t sys = GORO_SIGBIT(SIGSYS);
	goro__sys4(SYS_rt_sigprocmask, SIG_UNBLOCK, &sys, NULL, 8);
	if (mask)
		*mask &= ~sys;
	mp->sud_sel = SUD_BLOCK;
	if (sud.mode == SUD_INCLUSIVE)
		goro__sys6(SYS_prctl, SUD_PRCTL, SUD_INCLUSIVE, (long)lo, (long)(hi - lo), (long)&mp->sud_sel, 0);
	else
		goro__sys6(SYS_prctl, SUD_PRCTL, SUD_EXCLUSIVE, (long)hi, (long)(lo - hi), (long)&mp->sud_sel, 0);
	a_store_rel(&mp->sud_gen, gen);
}

/* fork: the child's thread does not inherit the kernel's setting. */
void goro__sud_afterfork(struct m *mp)
{
	mp->sud_gen = 0;
	if (a_load_rlx(&goro__sud_on))
		goro__sud_apply(mp, NULL);
}

/* ---- the trap ------------------------------------------------------------ */

/* A SIGSYS that is not ours goes to the program's disposition; its
 * default (and SIG_IGN: the kernel forces a synchronous SIGSYS) ends the
 * process as it would natively. */
static void forward(int sig, siginfo_t *si, void *uc)
{
	const struct sigaction *p = &sud.prog;
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
 * the caller's own context): made there, natively, once. */
static bool native_only(long nr)
{
	return nr == SYS_clone || nr == SYS_clone3 || nr == SYS_fork || nr == SYS_vfork || nr == SYS_exit ||
	       nr == SYS_rt_sigreturn || nr == SYS_arch_prctl || nr == SYS_execve || nr == SYS_execveat;
}

static bool futex_wakeop(int op, long val3)
{
	int cmd = op & FUTEX_CMD_MASK;
	return (op & FUTEX_PRIVATE_FLAG) && (cmd == FUTEX_WAKE || (cmd == FUTEX_WAKE_BITSET && (int)val3 != 0));
}

static void sigsys_handler(int sig, siginfo_t *si, void *ucv)
{
	if (si->si_code != SUD_SI_CODE) {
		forward(sig, si, ucv);
		return;
	}
	void *fs = goro__sig_enter();
	int saved = errno;
	ucontext_t *uc = ucv;
	greg_t *r = uc->uc_mcontext.gregs;
	struct g *gp = getg();
	a_fetch_add_rlx(&goro__sched.ntrapped, 1);
	if (native_only(si->si_syscall) && gp && gp->m) {
		gp->m->sud_sel = 0; /* SYSCALL_DISPATCH_FILTER_ALLOW until the next scheduler pass */
		r[REG_RIP] -= 2;
		r[REG_RAX] = si->si_syscall;
		errno = saved;
		goro__sig_leave(fs);
		return;
	}
	/* A futex wake parks nobody: made here, without leaving the handler
	 * (the G was in foreign code, not inside goro or libc). */
	if (si->si_syscall == SYS_futex && gp && goro__can_preempt(gp) && futex_wakeop((int)r[REG_RSI], r[REG_R9])) {
		long a[6] = { r[REG_RDI], r[REG_RSI], r[REG_RDX], r[REG_R10], r[REG_R8], r[REG_R9] };
		r[REG_RAX] = goro__futex(a, false);
		errno = saved;
		goro__sig_leave(fs);
		return;
	}
	/* The kernel did not make the call; rip is past the instruction. */
	if (!(gp && gp->m && gp->m->curg == gp &&
	      goro__redo_call(gp, uc, (uintptr_t)r[REG_RIP], si->si_syscall, GORO_REDO_TRAPPED)))
		r[REG_RAX] = goro__sys6(si->si_syscall, r[REG_RDI], r[REG_RSI], r[REG_RDX], r[REG_R10], r[REG_R8],
					r[REG_R9]);
	errno = saved;
	goro__sig_leave(fs);
}

/* sigaction(SIGSYS) of the program once goro traps: recorded, ours stays. */
bool goro__sud_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (sig != SIGSYS || !a_load_acq(&goro__sud_on))
		return false;
	struct sigaction prev = sud.prog;
	if (act)
		sud.prog = *act;
	if (old)
		*old = prev;
	return true;
}

/* ---- futex --------------------------------------------------------------- */

static bool futex_stillwait(void *addr, void *arg)
{
	return *(volatile int *)addr == *(const int *)arg;
}

/* The monotonic deadline of a futex wait, or < 0 for none; false: EINVAL. */
static bool futex_deadline(int cmd, int op, const struct timespec *ts, int64_t *deadline)
{
	*deadline = -1;
	if (!ts)
		return true;
	if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L)
		return false;
	int64_t t = (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
	if (cmd == FUTEX_WAIT) { /* relative */
		*deadline = goro__nanotime() + t;
		return true;
	}
	struct timespec now;
	clock_gettime((op & FUTEX_CLOCK_REALTIME) ? CLOCK_REALTIME : CLOCK_MONOTONIC, &now);
	*deadline = goro__nanotime() + t - ((int64_t)now.tv_sec * 1000000000 + now.tv_nsec);
	return true;
}

static long futex_park(int *addr, int val, int64_t deadline)
{
	if (*(volatile int *)addr != val)
		return -EAGAIN;
	a_fetch_add_rlx(&goro__sched.nfutexpark, 1);
	enum goro_wake w = goro__addrpark(addr, futex_stillwait, &val, "futex", deadline, false);
	return w == GORO_WAKE_TIMEOUT ? -ETIMEDOUT : w == GORO_WAKE_INTERRUPTED ? -EINTR : 0;
}

static long kernel_call(long nr, const long a[6])
{
	goro__entersyscall();
	long r = goro__sys6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	goro__exitsyscall();
	return r;
}

/* A futex call of the program, trapped (emulate: waits may park the G) or
 * through syscall().  Returns what the kernel would (-errno on error). */
long goro__futex(const long a[6], bool emulate)
{
	int op = (int)a[1];
	int cmd = op & FUTEX_CMD_MASK;
	bool private = op & FUTEX_PRIVATE_FLAG;
	int *addr = (int *)a[0];
	if (futex_wakeop(op, a[5])) {
		/* Gs parked here first, then kernel waiters: a thread goro did
		 * not create, or a wait made before goro trapped the code. */
		int n = (int)a[2] > 0 ? (int)a[2] : 1;
		int woken = a_load_rlx(&goro__sud_on) ? goro__addrwake(addr, n) : 0;
		if (woken >= n)
			return woken;
		long b[6] = { a[0], a[1], n - woken, a[3], a[4], a[5] };
		long k = goro__sys6(SYS_futex, b[0], b[1], b[2], b[3], b[4], b[5]);
		return k < 0 ? (woken ? woken : k) : woken + k;
	}
	bool waitop = cmd == FUTEX_WAIT || (cmd == FUTEX_WAIT_BITSET && (uint32_t)a[5] == FUTEX_BITSET_MATCH_ANY);
	if (emulate && private && waitop && a_load_acq(&sud.emulgen) == a_load_acq(&sud.gen)) {
		int64_t deadline;
		if (!futex_deadline(cmd, op, (const struct timespec *)a[3], &deadline))
			return -EINVAL;
		return futex_park(addr, (int)a[2], deadline);
	}
	long r = kernel_call(SYS_futex, a);
	/* Requeues and wake-ops may concern Gs parked here: a spurious wake
	 * is allowed, a lost one is not. */
	if (private && r >= 0 && a_load_rlx(&goro__sud_on) &&
	    (cmd == FUTEX_REQUEUE || cmd == FUTEX_CMP_REQUEUE || cmd == FUTEX_WAKE_OP)) {
		goro__addrwake(addr, 1 << 30);
		goro__addrwake((void *)a[4], 1 << 30);
	}
	return r;
}

/* goro__asyncpreempt2, on the G: the trapped call, made through goro. */
long goro__sud_call(long nr, const long a[6])
{
	if (nr == SYS_futex)
		return goro__futex(a, true);
	return kernel_call(nr, a);
}
