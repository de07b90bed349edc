/* goro's runtime: the G, M, P and schedt of Go's scheduler, in C.
 *
 * Read src/runtime/proc.go (the comment "Goroutine scheduler" and "Worker
 * thread parking/unparking") first: the names and invariants here are the
 * same.
 *
 *   G  a user thread (one per pthread, plus G1 for main).  Own stack, own
 *      TLS block and TCB: pthread_t is the G's thread pointer (tp).
 *   M  a kernel thread, made with the real pthread_create.  Runs Gs while it
 *      holds a P.  Its g0 runs the scheduler on the M's own pthread stack
 *      with the M's own TCB as %fs, so scheduler code never touches a G's
 *      TLS.
 *   P  a run-queue holder; GOMAXPROCS of them.
 *
 * Finding the current G: goro__curg is an initial-exec __thread variable of
 * libgoro.so.  Every G has its own TLS block, so the slot is the G's own and
 * stays valid wherever the G migrates; in g0 it holds the M's g0.  Its TLS
 * initialiser is &goro__g1, so before the runtime starts every caller is G1.
 */
#ifndef GORO_RUNTIME_H
#define GORO_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <unwind.h>

#include "sched/atomic.h"

#define GORO_HIDDEN __attribute__((visibility("hidden")))
#define GORO_EXPORT __attribute__((visibility("default")))

#define GORO_RUNQ_SIZE 256        /* Go: len(p.runq) */
#define GORO_GLOBRUNQ_TICK 61     /* Go: schedtick%61 in findRunnable */
#define GORO_MAXPROCS 1024        /* accepted GOMAXPROCS range 1..1024 */
#define GORO_MAX_MCOUNT 10000     /* Go: sched.maxmcount */
#define GORO_STEAL_TRIES 4        /* Go: stealTries in stealWork */
#define GORO_IDLE_M_RESERVE 4     /* idle Ms kept beyond GOMAXPROCS; more exit (stopm) */
#define GORO_G0_STACK (256UL * 1024)
#define GORO_GFREE_LOCAL_MAX 64   /* Go: gfput moves half of 64 to global */
#define GORO_GFREE_MIN_AGE 32     /* retirements after a G's before its id names a new thread (gfget) */
#define GORO_SCAVENGE_IDLE_NS 1000000000LL /* a pooled G idle this long gives stack pages back */
#define GORO_SCAVENGE_BATCH 128   /* Gs per goro__gscavenge pass */
#define GORO_GFREE_LOCAL_STACK (256UL * 1024) /* bigger: freed to the global list */
#define GORO_KEYS_MAX 1024        /* PTHREAD_KEYS_MAX */
#define GORO_KEY_BLOCK 32         /* keys per lazily allocated block */
#define GORO_DESTRUCTOR_ITERATIONS 4 /* PTHREAD_DESTRUCTOR_ITERATIONS */
#define GORO_FORCE_PREEMPT_NS (10LL * 1000 * 1000) /* Go: forcePreemptNS */
#define GORO_BLOCKED_CHECK_NS (20LL * 1000 * 1000) /* an M asleep in an uninterposed call */
/* The same look after 1 ms when work waits for a P (docs/ARCHITECTURE.md,
 * "Raw system calls outside libc", learning early). */
#define GORO_EARLY_CHECK_NS (1000LL * 1000)
/* 100 us once a raw site has been learnt: the program waits that way, and
 * its next threads block at sites not learnt yet. */
#define GORO_EARLY_RAW_NS (100LL * 1000)
/* A G woken while every P is busy preempts one whose G has run this long
 * without blocking (the kernel's wake-up granularity, 1 ms in CFS;
 * docs/ARCHITECTURE.md, "Preemption"). */
#define GORO_WAKE_GRAN_NS (1000LL * 1000)
#define GORO_STUCK_REPORT_NS (1000LL * 1000 * 1000) /* progress diagnostic */
#define GORO_TID_BASE (1 << 22)   /* fake tids sit above PID_MAX_LIMIT */
/* A signal's bit in the first word of a kernel sigset. */
#define GORO_SIGBIT(sig) (1ULL << ((sig) - 1))
#define GORO_M_SELF 0             /* offsetof(struct m, self): %gs:0 */
#define GORO_M_GCUR 8             /* offsetof(struct m, gcur) */
/* The runtime's own signal, "the nudge": asynchronous preemption (Go's
 * sigPreempt), pthread_kill delivery inside a running G, re-masking idle
 * Ms, the set*id broadcast.  SIGURG, or GORO_PREEMPT=SIG. */
extern GORO_HIDDEN int goro__signudge;

/* ---- locks (sched/lock.c) ------------------------------------------------
 * Futex mutex for runtime state (Go: lock_futex.go).  Held only for short
 * critical sections; never held across a park. */
struct goro_mutex {
	_Atomic uint32_t key; /* 0 unlocked, 1 locked, 2 locked with sleepers */
};
void goro__lock(struct goro_mutex *l);
void goro__unlock(struct goro_mutex *l);
bool goro__trylock(struct goro_mutex *l);

/* One-shot sleep/wake-up (Go: note).  notesleep blocks the M. */
struct goro_note {
	_Atomic uint32_t key;
};
void goro__noteclear(struct goro_note *n);
void goro__notewakeup(struct goro_note *n);
void goro__notesleep(struct goro_note *n);

/* ---- context --------------------------------------------------------------
 * Callee-saved state of a switched-out G (sched/asm_amd64.S knows the
 * offsets).  Go: gobuf. */
#define GORO_NSIGSTACKS 4 /* signal stacks a G holds at once; beyond, it shares its M's */
#define GORO_NHFRAMES 8   /* nested program handlers a G tracks; deeper ones are not */

/* A program handler running in a G: its frame (live while the G's stack
 * pointer is in [lo, sp)) and the G's mask before it. */
struct goro_hframe {
	uintptr_t sp, lo;
	uint64_t prev;
};

struct goro_gctx {
	uint64_t rsp, rbx, rbp, r12, r13, r14, r15; /* 0 .. 48 */
	uint32_t mxcsr;                             /* 56 */
	uint16_t fpucw;                             /* 60 */
};

enum goro_gstatus {
	G_IDLE,     /* allocated, not yet started (or on a free list) */
	G_RUNNABLE, /* on a run queue */
	G_RUNNING,  /* owns an M and a P */
	G_SYSCALL,  /* in a blocking system call, owns an M */
	G_WAITING,  /* parked */
	G_DEAD,     /* exited, not yet joined/freed */
};

struct g;
struct m;
struct p;

/* Intrusive G queue (Go: gQueue). */
struct gqueue {
	struct g *head, *tail;
};

/* A wait that the G may be pulled out of early (cancellation, signal).
 * Go's sudog reduced to what a pthread park needs. */
typedef bool (*goro_unlockf)(struct g *gp, void *arg);

struct goro_cleanup_frame; /* shim/cancel.c */

struct g {
	struct goro_gctx ctx;   /* saved registers while not running */
	void *tp;               /* thread pointer = TCB = pthread_t */
	struct m *m;            /* M running it (valid while running) */
	struct g *schedlink;    /* run/free/wait queue link */
	struct g *alllink;      /* allgs list */
	_Atomic int status;     /* enum goro_gstatus */
	uint64_t goid;          /* 1 for main */
	int tid;                /* fake kernel tid written into the TCB */
	const char *waitreason; /* why it is parked (Go: waitReason) */
	const char *yieldreason; /* trace: why it yielded ("preempted"), else NULL */

	/* stack */
	void *stack_lo, *stack_hi; /* usable range */
	void *stack_map;           /* mapping incl. guard (NULL: user stack) */
	size_t stack_mapsize;
	size_t guardsize;
	int64_t gfree_when;        /* when it went onto the global free list */
	uint64_t retired;          /* sched.gretired when it was freed (gfget's minimum age) */
	bool scavenged;            /* its stack pages were given back since (goro__gscavenge) */

	/* start */
	void *(*start)(void *);
	void *arg;
	void *result;

	/* park */
	goro_unlockf unlockf;
	void *unlockarg;
	void *waitaddr;         /* sched/sema.c: address parked on */
	void *_Atomic waitaddr_atomic; /* the same, read outside the bucket lock */
	/* Wait-queue links (sched/sema.c), apart from schedlink: a G a timer
	 * readied is on a run queue while still on its wait queue until it
	 * dequeues itself.  waitnext/waitprev: the FIFO of waitaddr.  The
	 * first G of each address is also the node of its bucket's treap
	 * (Go: semaRoot): parent, children, ticket, and the FIFO's tail. */
	struct g *waitnext, *waitprev, *waittail;
	struct g *waitparent, *waitleft, *waitright;
	uint32_t waitticket;
	bool waitenq;
	_Atomic uint32_t wakeclaim; /* 0 while parked unclaimed (sched/time.c) */
	_Atomic bool cancelable;    /* parked at a cancellation point */
	/* In a blocking system call a cancel must interrupt (sched/cancelsys.c):
	 * GORO_CANCELSYS_STUB in goro__sys_cancelable, GORO_CANCELSYS_LIBC in
	 * a libc call inside glibc's asynchronous-cancel window; 0 else. */
	_Atomic int cancelsys;
	_Atomic bool sigwaitable;   /* parked where a signal may wake it (goro__sig_interrupt) */
	bool interrupted;       /* woken by goro__interrupt, not the event */
	int64_t wake_when;      /* timers: deadline (monotonic ns) */
	/* Woken for a process-directed signal every M blocks: resume with
	 * caught signals blocked and unblock them inside the G (goro__park),
	 * so the kernel runs the handler in the G's own TLS. */
	_Atomic bool sigtake;
	/* The signal goro re-raises in it now (sched/sigsend.c raise_here),
	 * else 0.  The trampoline clears it as it takes that signal, so a
	 * handler that parks leaves no exemption behind for the next one. */
	int raising;
	/* Program handlers running in the G (goro_trampoline): one that
	 * leaves with pthread_exit leaves its mask on the kernel thread. */
	int inhandler;
	/* Program handlers run in this G, all and those without SA_RESTART.
	 * A blocking call ends with EINTR when one ran during it, as
	 * natively (a call SA_RESTART restarts looks at the second); a wake
	 * for a signal that ran elsewhere is no interruption. */
	uint32_t sigran, sigran_nr;
	int64_t timer_idx;      /* index in the timer heap, -1 if none */
	struct p *timerp;       /* whose heap */
	bool timer_fired;

	/* lifecycle (guarded by lock) */
	_Atomic uint32_t lock;  /* tiny spin lock: join/detach/exit handshake */
	bool detached;
	int njoin;              /* threads in pthread_join on it; -1 once joined (shim/threads.c) */
	_Atomic uint32_t exited; /* joiners park on its address */

	/* cancellation (shim/cancel.c) */
	_Atomic int cancel_pending;
	int cancel_state;       /* PTHREAD_CANCEL_ENABLE/DISABLE */
	int cancel_type;
	bool exiting;           /* in pthread_exit: no more cancellation */
	struct goro_cleanup_frame *cleanup; /* innermost registered buffer */
	/* In glibc's wait on a process-shared condvar (shim/cond.c): where a
	 * cancel broadcasts to end the wait. */
	pthread_cond_t *_Atomic realcond;
	pthread_mutex_t *realmutex;
	struct _Unwind_Exception exc;

	/* signals sent with pthread_kill, raised inside the G (shim/signals.c) */
	_Atomic uint64_t sigpending;
	uint64_t sigqueued;
	uint64_t sigorig;       /* deferred process signals: their siginfo is saved (sched/signal.c) */
	union sigval sigvalue[64];
	uint64_t sigmask;       /* the G's signal mask (first word of sigset) */
	_Atomic bool suspending; /* in sigsuspend/pause, with suspendmask */
	_Atomic bool sigwaitsys; /* in the kernel in sigwait*, sigsuspend: a cancel nudges the M */
	uint64_t suspendmask;
	/* sysmon asks a G that ran too long to yield at its next interposed
	 * call (Go: g.preempt, the cooperative half). */
	_Atomic bool preempt;
	/* Wake-up preemption's age (sched/preempt.c): nblock counts the G's
	 * parks and system calls (its own writes only); runseen is nblock << 32
	 * | the time in us (mod 2^32) a look first saw that nblock while the G
	 * ran.  Any thread writes runseen: one word. */
	uint32_t nblock;
	_Atomic uint64_t runseen;
	uint8_t resume_syscall; /* GORO_REDO_*: goro__asyncpreempt2 redoes a call */
	int *cleartid;          /* syscall(SYS_set_tid_address): cleared and woken at exit */
	bool cleartid_set;      /* cleartid was set: prctl(PR_GET_TID_ADDRESS) reports it */
	/* The thread's own sigaltstack and set_robust_list (shim/signals.c,
	 * shim/tid.c): kept in the G, never given to the M it runs on. */
	stack_t altstack;
	void *robust;           /* NULL: glibc's head in the G's TCB */
	/* Signal stacks of Ms it left while running on them, in a handler
	 * (sched/signal.c, goro__sigstack_leave); unmapped once it is off. */
	void *sigstacks[GORO_NSIGSTACKS];
	int nsigstacks;
	/* Program handlers running in the G, innermost last (sched/signal.c,
	 * "handler frames"): while one runs, its mask is part of g->sigmask. */
	struct goro_hframe hframes[GORO_NHFRAMES];
	int nhframes;
	int syscalldepth;       /* entersyscall nesting (system() -> waitpid) */
	/* LockOSThread (Go: g.lockedm): the G runs only on this M. */
	struct m *lockedm;
	bool wantlock;          /* GORO_LOCKED / RT policy or affinity: lock at first run */
	/* A thread goro did not make, served without a P (sched/foreign.c):
	 * its waits block its own kernel thread on `status` (sched/park.c). */
	bool nop;
	/* A real-time G (SCHED_FIFO/RR) runs kernel-scheduled: on its locked
	 * M without a P, as in a system call that never ends (syscalldepth
	 * 1, G_SYSCALL), so the kernel orders it by its policy, priority and
	 * CPU mask (docs/ARCHITECTURE.md, "Real-time threads run
	 * kernel-scheduled").  kdone: it left for good (it exits).  kraw: it
	 * runs so because it waits with futex calls of its own (sched/rawcall.c,
	 * a spin-then-futex runtime's worker), until it exits. */
	bool ksched, kdone, kraw;
	/* 0 while the G is on a run queue but still switching off its own
	 * stack (goro__gswitch); execute waits for 1. */
	_Atomic uint32_t ctxsaved;

	/* thread-specific data (shim/keys.c): blocks of GORO_KEY_BLOCK */
	struct goro_keydata { uint64_t seq; void *val; } *spec[GORO_KEYS_MAX / GORO_KEY_BLOCK];
	struct goro_keydata spec0[GORO_KEY_BLOCK];

	/* per-G CPU clock (docs/ARCHITECTURE.md, "Per-G CPU clocks"): CPU ns
	 * of finished runs, and its M's thread CPU time at switch-in (0: not
	 * measured), kept only while goro__cpuclocks */
	int64_t cputime;
	int64_t cpustart;

	/* scheduling attributes given at creation or later (recorded; goro
	 * schedules every G alike) */
	int sched_policy;
	int sched_prio;
	bool sched_explicit;
	char name[16];
	/* what sched_setaffinity and setpriority set for this G's tid
	 * (shim/tid.c); the mask is applied to the M of a locked G
	 * (goro__sched_apply), nice is recorded only */
	bool affinity_set, nice_set;
	int nice;
	/* Its PR_SET_TIMERSLACK (shim/tid.c), 0 for the process's default: the
	 * slack its own kernel waits get (goro__slack_g). */
	uint64_t timerslack;
	cpu_set_t affinity;
};

struct m {
	/* Read by the context switch through %gs (sched/asm_amd64.S knows the
	 * offsets: GORO_M_* below).  The %gs base of an M's kernel thread is
	 * its struct m, set once when the M starts (goro__setgs). */
	struct m *self;         /* %gs:0 */
	struct g *gcur;         /* %gs:8: the g this kernel thread runs now, g0 or a G */
	void *fs;               /* %gs:16: the TCB last written to %fs here */
	uint64_t fswrites;      /* %gs:24: %fs writes by this M (GORO_STATS fs_writes) */
	uint64_t fssyscalls;    /* %gs:32: those made by arch_prctl (fs_syscalls) */
	struct g *g0;           /* scheduler context */
	struct g *curg;         /* G running on it, or NULL */
	struct p *p;            /* attached P, or NULL */
	struct p *nextp;        /* P handed over by startm */
	struct p *oldp;         /* P held when entering a system call */
	uint32_t syscalltick;   /* oldp's syscalltick then: another M's call on it since, if it differs */
	int64_t id;
	int tid;                /* kernel tid */
	bool spinning;          /* looking for work (Go: m.spinning) */
	/* >0 while the M is inside runtime code that a signal handler must not
	 * re-enter (Go: m.locks).  Only the M itself writes it. */
	volatile int locks;
	struct goro_note park;
	struct m *schedlink;    /* idle list */
	struct m *alllink;
	uintptr_t g0top;        /* where mcall puts rsp on g0 */
	uint64_t fastrand;
	uint64_t sigmask;       /* mask currently applied to the kernel thread */
	pthread_t thread;       /* the real pthread */
	_Atomic bool blockcheck; /* sysmon: see if a stuck call can be redone */
	struct tracebuf *tracebuf; /* sched/trace.c, written by this M only */
	struct g *lockedg;      /* the G locked to this M (Go: m.lockedg) */
	struct goro_note lockednote; /* a locked M waits here for its G */
	/* Its kernel thread has its locked G's SCHED_FIFO/RR policy
	 * (goro__sched_apply); resetsched: made by such an M, drop the
	 * inherited policy at start. */
	bool rtapplied;
	bool resetsched;
	/* The same for a locked G's CPU mask: affapplied, its kernel thread
	 * has one; resetaff, made by such an M: back to goro__sched.cpus. */
	bool affapplied;
	bool resetaff;
	/* An idle M beyond the reserve exits (stopm -> mexit): it returns
	 * from mstart through exitbuf (__builtin_setjmp), then, once its
	 * kernel thread is gone, its stack is unmapped and the struct reused
	 * (reapm). */
	void *altstack;         /* its signal stack (goro__signal_minit) */
	size_t altsize;
	void (*altfn)(struct g *); /* mcall's fn, after goro__sigstack_leave */
	uint64_t altmask;          /* the kernel mask to put back after it */
	uint64_t timerslack;       /* the kernel thread's timer slack now (goro__slack_g) */
	void *stkmap;           /* its stack's mapping (goro__stackalloc) */
	size_t stkmapsize;
	void *exitbuf[5];
	struct m *deadlink;
};

_Static_assert(offsetof(struct m, self) == GORO_M_SELF && offsetof(struct m, gcur) == GORO_M_GCUR &&
		       offsetof(struct m, fs) == 16 && offsetof(struct m, fswrites) == 24 &&
		       offsetof(struct m, fssyscalls) == 32,
	       "sched/asm_amd64.S: M_GCUR, M_FS, M_FSWRITES, M_FSSYSCALLS");
_Static_assert(offsetof(struct g, tp) == 64, "sched/asm_amd64.S: goro__gogo reads gp->tp at 64");

enum { P_IDLE, P_RUNNING, P_SYSCALL };

/* A P's timer heap (sched/time.c; Go: p.timers). */
struct goro_timers {
	struct goro_mutex lock;
	struct g **heap;
	size_t n, cap;
	_Atomic int64_t when0;   /* earliest deadline, INT64_MAX when empty */
};

struct p {
	int32_t id;
	/* P_RUNNING -> P_SYSCALL by its M in entersyscall; back by the same
	 * M in exitsyscall, or P_SYSCALL -> P_IDLE by sysmon's retake: one
	 * CAS decides who owns the P (Go: p.status). */
	_Atomic int32_t status;
	struct p *link;          /* idle list */
	struct m *m;             /* back link to the M */
	uint32_t schedtick;      /* incremented on every scheduler call */

	/* Lock-free ring (Go: runq/runqhead/runqtail).  The owner P writes
	 * tail and reads head; stealers CAS head. */
	_Atomic uint32_t runqhead;
	_Atomic uint32_t runqtail;
	struct g *_Atomic runq[GORO_RUNQ_SIZE];
	/* A G readied by the running G runs next, inheriting its time slice
	 * (Go: runnext). */
	struct g *_Atomic runnext;
	/* goro__runqget took runnext: wireg keeps schedtick, so a pair that
	 * hands the P back and forth through runnext still looks like one
	 * long run to sysmon, which preempts it after 10 ms (Go:
	 * inheritTime).  Owner only. */
	bool inherit;

	struct gqueue gfree;     /* dead Gs with reusable TCB+stack */
	int32_t gfreecnt;

	uint32_t syscalltick;     /* incremented by every entersyscall */
	struct goro_timers timers;

	/* sysmon's view (Go: sysmontick) */
	uint32_t sysmon_tick;
	int64_t sysmon_when;
	int64_t sysmon_nudged;    /* when it last nudged the P's G to stop */
	uint32_t sysmon_reported; /* schedtick of the last stuck report */
	uint32_t sysmon_blockcheck; /* schedtick of the last blocked-M check */
	uint32_t sysmon_earlycheck; /* schedtick of the last early one */
	uint32_t sysmon_syscalltick;
	int64_t sysmon_syscallwhen;

	/* counters (GORO_STATS), summed at exit */
	uint64_t nswitch, nsteal, nglobtake;
};

struct schedt {
	struct goro_mutex lock;

	struct m *midle;         /* idle Ms waiting for work */
	int32_t nmidle;
	struct m *mdead;         /* exited Ms whose stacks wait to be unmapped (reapm) */
	struct m *mfree;         /* reaped Ms, reused by allocm */
	int64_t nmexit;          /* idle Ms that exited (GORO_STATS ms_exited) */
	int64_t mnext;           /* next M id = Ms created */
	struct m *allm;

	struct p *pidle;
	_Atomic int32_t npidle;
	_Atomic int32_t nmspinning;

	struct gqueue runq;      /* global run queue: real-time Gs first, by priority (sched/runq.c) */
	_Atomic int32_t runqsize;
	_Atomic int32_t nrt;     /* real-time Gs in it */
	cpu_set_t cpus;          /* the process's CPUs at start-up: an M's mask when no locked G sets one */

	struct gqueue gfree;     /* global G free list */
	int32_t ngfree;

	_Atomic int64_t gcount;  /* live Gs (not dead) */
	_Atomic int64_t maxgcount;
	_Atomic uint64_t goidgen;
	_Atomic uint64_t gcreated;
	_Atomic uint64_t greused;    /* creates that took a pooled G (gfget) */
	_Atomic uint64_t gretired;   /* Gs freed so far: a pooled G's age (goro__gfree) */
	_Atomic uint64_t gscavenged; /* pooled Gs whose stack pages went back (goro__gscavenge) */
	_Atomic int32_t tidgen;
	_Atomic uint64_t nhandoff;   /* Ps retaken from system calls */
	_Atomic uint64_t npreempt;   /* preemption requests by sysmon */
	_Atomic uint64_t nasyncpreempt; /* Gs preempted by the signal */
	_Atomic uint64_t npreemptdefer; /* nudges that found a flagged G where it cannot stop */
	_Atomic uint64_t nwakepreempt; /* preemption requests for a woken G (sched/preempt.c) */
	_Atomic uint64_t nblockedm;  /* uninterposed blocking calls redone */
	_Atomic uint64_t nearlyblock; /* Ms found asleep by the early check */
	_Atomic uint64_t ntrapped;   /* raw system calls of foreign code trapped */
	_Atomic uint64_t ndeclared;  /* declared blocking calls run (shim/blocking_ffi.c) */
	_Atomic uint64_t nsigstacktaken; /* signal stacks a G took from its M (goro__sigstack_leave) */
	_Atomic uint64_t ntrappedwait; /* their futex waits */
	_Atomic uint64_t nnetpollpark; /* Gs parked on the netpoller */
	_Atomic uint64_t nsyscall;   /* blocking calls entered */
	_Atomic uint64_t nforeign;   /* threads goro did not make, adopted (sched/foreign.c) */
	_Atomic uint64_t nnopwait;   /* waits served in the kernel, without a P */
	_Atomic uint64_t nksched;    /* real-time Gs run kernel-scheduled, without a P */
	_Atomic uint64_t nkraw;      /* of them, Gs that wait with raw futex calls (sched/rawcall.c) */
	_Atomic uint64_t ntraprestored; /* trapped sites given their `syscall` back (sched/rawcall.c) */
	_Atomic uint64_t nthreadas;  /* goro__thread_as calls: sysmon, debug threads, adoptions */
	_Atomic uint64_t ntimerwait; /* timer waiter's waits that timed out */
	_Atomic uint64_t ntimerspin; /* ... that came back early and spun */
};

/* ---- globals ------------------------------------------------------------- */
extern GORO_HIDDEN struct schedt goro__sched;
extern GORO_HIDDEN struct p *goro__allp;
extern GORO_HIDDEN int32_t goro__gomaxprocs;
extern GORO_HIDDEN struct g goro__g1;
extern GORO_HIDDEN struct m goro__m0;
extern GORO_HIDDEN bool goro__started;  /* scheduler running */
extern GORO_HIDDEN __thread struct g *goro__curg;
extern GORO_HIDDEN struct goro_mutex goro__allglock;
extern GORO_HIDDEN struct g *goro__allgs;

/* The g running now: a G, or the M's g0 while it schedules (Go: getg).
 * Once the runtime has started every M's %gs base is its struct m, whose
 * gcur the switch keeps exact; %fs may still point at the TCB of the G the
 * M last ran (g0 never writes %fs, sched/asm_amd64.S), so g0 must not read
 * its own TLS.  Every TCB goro runs code on has goro__curg set (a G's, an
 * M's own, sysmon's); a NULL there is a thread goro did not make, whose %gs
 * base is inherited from whoever cloned it (the kernel copies it) or 0:
 * goro__getg_slow adopts it (or names the main thread before start-up),
 * so getg() and getm() are never another thread's (docs/ARCHITECTURE.md,
 * "Start-up and threads goro did not make"). */
extern GORO_HIDDEN bool goro__gsready;
struct g *goro__getg_slow(void);
/* Does the process have kernel threads other than its Ms and goro's own
 * runtime threads (sched/foreign.c)?  One of them may still wake a G. */
bool goro__others_alive(void);
static inline struct g *getg(void)
{
	struct g *tg = goro__curg;
	if (__builtin_expect(!tg, 0))
		return goro__getg_slow();
	if (__builtin_expect(!goro__gsready, 0))
		return tg;
	/* A load the compiler knows may fault: never hoisted above the test
	 * (an asm would be). */
	return *(struct g *__seg_gs const *)GORO_M_GCUR;
}
/* The M of this kernel thread (only once goro__gsready). */
static inline struct m *getm(void)
{
	if (__builtin_expect(!goro__curg, 0))
		(void)goro__getg_slow();
	/* cppcheck-suppress nullPointer ; %gs-relative, not address 0 */
	return *(struct m *__seg_gs const *)GORO_M_SELF;
}

/* ---- asm (sched/asm_amd64.S) -------------------------------------------- */
extern GORO_HIDDEN uint8_t goro__fsgsbase; /* use wr{fs,gs}base, else arch_prctl */
/* %fs by LDT segment (sched/fsldt.c): the arena of TCBs that have one
 * (size 0: none), read by WRFS. */
extern GORO_HIDDEN uintptr_t goro__ldt_lo, goro__ldt_size;
extern GORO_HIDDEN uint8_t goro__ldt_shift;
void goro__ldt_want(size_t area, bool mixed);
void *goro__ldt_slot(void);
/* Save the current context into *save, make g0 current and rsp g0top, call
 * fn(gp), all without touching %fs.  fn never returns; the G resumes when
 * goro__gogo(save). */
void goro__mcall(struct goro_gctx *save, void (*fn)(struct g *), struct g *gp,
		 uintptr_t g0top, struct g *g0);
/* Make gp current, %fs = gp->tp unless it already is, load gp's saved
 * context; "returns" into the G. */
__attribute__((noreturn)) void goro__gogo(struct goro_gctx *ctx, struct g *gp);
/* First frame of every G: calls goro__gmain(r12). */
void goro__gstart(void);
/* Where a preempted G resumes: saves every register, yields (asyncPreempt). */
void goro__asyncpreempt(void);
void goro__asyncpreempt2(uint64_t *regs);
/* G to G without g0 (Gosched's fast path): save into *save, move to to's
 * stack, write %fs, publish *saved = 1, resume to. */
void goro__gswitch(struct goro_gctx *save, _Atomic uint32_t *saved, struct goro_gctx *to, struct g *to_g);
/* %fs = tp through the M's cache (counted; nothing when already so). */
void goro__setfs(void *tp);
/* %fs = tp, bypassing the M's cache (signal handlers that put it back). */
void goro__setfs_raw(void *tp);
void goro__setgs(struct m *mp);
/* A runtime thread that is no M (sysmon, the debug listener): getg() is
 * gp there, through *self (no g0, no P), which lives as long as it. */
void goro__thread_as(struct m *self, struct g *gp);
void *goro__getfs(void);
/* The %gs base now, by arch_prctl (start-up check). */
void *goro__getgs_slow(void);
/* On g0, before a call into libc (malloc, nptl): %fs = the M's own TCB,
 * whose TLS is g0's (sched/asm_amd64.S: g0 otherwise keeps the last G's). */
void goro__g0_libc(void);
/* A signal handler that may have interrupted g0 (or an idle M): switch to
 * the M's own TCB for the handler's TLS and put back what was there.
 * Returns the TCB to restore, or NULL when nothing was switched. */
void *goro__sig_enter(void);
void goro__sig_leave(void *tp);

/* ---- run queues (sched/runq.c) ------------------------------------------ */
void goro__runqput(struct p *pp, struct g *gp, bool next);
struct g *goro__runqget(struct p *pp);
bool goro__runqempty(struct p *pp);
struct g *goro__runqsteal(struct p *pp, struct p *victim, bool stealnext);
/* The next two require sched.lock. */
void goro__globrunqput(struct g *gp);
void goro__globrunqputbatch(struct gqueue *q, int32_t n);
struct g *goro__globrunqget(struct p *pp, int32_t max);
void goro__gqueue_push(struct gqueue *q, struct g *gp);
bool goro__g_rt(const struct g *gp); /* SCHED_FIFO/RR: queued by priority, ahead of the rest */
struct g *goro__gqueue_pop(struct gqueue *q);

/* ---- proc (sched/proc.c) ------------------------------------------------- */
void goro__schedinit(int32_t procs);
void goro__park(goro_unlockf unlockf, void *arg, const char *reason);
void goro__ready(struct g *gp);
void goro__ready_nowake(struct g *gp);
void goro__ready_timer(struct g *gp); /* at the ring's tail, not runnext */
void goro__gosched(void);
__attribute__((noreturn)) void goro__goexit(void);
void goro__gmain(struct g *gp);
void goro__wakep(void);
struct g *goro__g_of(pthread_t t);  /* NULL if t is not a goro G */
/* One round of a spin wait, the i-th: pause, later yield (sched/park.c). */
#define GORO_SPIN_BEFORE_YIELD 100
#define GORO_SPIN_RT_SLEEP_NS 20000 /* a real-time waiter's pause for a preempted lower thread */
void goro__spin_wait(int i);
void goro__spin_lock(_Atomic uint32_t *l);
void goro__spin_unlock(_Atomic uint32_t *l);
uint32_t goro__fastrand(void);
void goro__print_stats(void);
void goro__lockosthread(void);
/* Give gp's locked M's kernel thread gp's recorded policy, priority and
 * CPU mask (nothing for an unlocked G, which locks at its next run when it
 * wants a real-time policy).  0 or an errno value (the kernel's). */
int goro__sched_apply(struct g *gp);
/* The calling G, locked and given a real-time policy, gives its P away and
 * runs on kernel-scheduled; leave: it takes a P again (its policy dropped,
 * or it exits).  docs/ARCHITECTURE.md, "Real-time threads run
 * kernel-scheduled". */
void goro__ksched_enter(void);
void goro__ksched_leave(void);
bool goro__ksched_raw(void);
void goro__unlockosthread(void);
extern GORO_HIDDEN _Atomic int32_t goro__nlocked; /* Gs locked to an M */
void goro__schedtrace(bool detail);
/* The same reports on any fd (debug endpoints); raw writes only. */
void goro__schedtrace_fd(int fd, bool detail);
void goro__dump_gs_fd(int fd);
void goro__stats_json_fd(int fd);
bool goro__all_asleep(void);
void goro__dump_gs(void);
/* What pthread_create asks for (Go: newproc's arguments). */
struct goro_newg {
	void *(*fn)(void *);
	void *arg;
	size_t stacksize, guard;
	void *ustack;           /* pthread_attr_setstack, or NULL */
	size_t ustacksize;
	bool detached;
	bool wantlock;          /* run locked to its own M */
	bool sched_explicit;
	int sched_policy, sched_prio;
	bool affinity_set;      /* pthread_attr_setaffinity_np: affinity */
	cpu_set_t affinity;
	pthread_t *out;         /* written before the G can run, as nptl does */
};
struct g *goro__newproc(const struct goro_newg *ng, int *err);
void goro__gfree(struct g *gp);
void goro__gscavenge(int64_t now); /* sysmon: long-idle pooled Gs give stack pages back */
void goro__ensure_init(void);
void goro__sig_deliver(struct g *gp);
/* The same from the nudge's handler: those `mask` (the interrupted
 * context's) accepts; their handlers run once it returns. */
void goro__sig_deliver_at_return(struct g *gp, uint64_t mask);
/* Raise those recorded for gp that `mask` (a kernel sigset's first word)
 * does not block, at its own kernel thread: blocked there by the G's mask
 * they stay pending in the kernel for a sigsuspend with that mask. */
void goro__sig_raise_pending(struct g *gp, uint64_t mask);
void goro__sigmask_apply(struct m *mp, uint64_t mask);
void goro__sigmask_idle(struct m *mp);
struct m *goro__m_by_tid(int tid);
const sigset_t *goro__runtime_sigmask(void);
/* Cooperative preemption point, at interposed calls. */
void goro__preempt_park(void);
void goro__preempt_init(void);
void goro__preemptone(struct g *gp, struct m *mp);
/* Wake-up preemption (sched/preempt.c): record when gp, running, was
 * first seen since it last blocked (sysmon's rounds, wake-ups' looks). */
void goro__runseen(struct g *gp, int64_t now);
/* Every P is taken: none idle, no M spinning to take a queued G
 * (wake-up preemption's first test, inline for the ready path). */
static inline bool goro__all_busy(void)
{
	return a_load_rlx(&goro__sched.npidle) == 0 && a_load_rlx(&goro__sched.nmspinning) == 0;
}
/* The P (not self) to preempt for a woken G about to be queued, or NULL;
 * then, with the G queued globally, ask it.  Any thread, P or not. */
struct p *goro__wake_victim(const struct p *self, struct m **mpp);
void goro__wake_preempt(struct p *pp, struct m *mp);
/* A woken G was queued globally: both of the above. */
void goro__wakepreempt(void);
struct ucontext_t;
bool goro__preempt_at(struct g *gp, struct ucontext_t *uc);
bool goro__runtime_pc(uintptr_t pc); /* in libgoro's own text */
bool goro__blocked_at(struct g *gp, struct ucontext_t *uc);
/* Make gp, interrupted by a signal with context uc, call goro__asyncpreempt
 * which redoes system call nr (args in the context) through goro, then
 * resumes at retpc.  false: not at a safe point. */
enum { GORO_REDO_NONE, GORO_REDO_BLOCKED, GORO_REDO_TRAPPED };
bool goro__redo_call(struct g *gp, struct ucontext_t *uc, uintptr_t retpc, long nr, uint8_t kind);
/* pc is outside libc, ld.so, libgcc_s, the vDSO and goro. */
bool goro__foreign_pc(uintptr_t pc);
/* [lo, hi) overlaps one of those. */
bool goro__unsafe_overlap(uintptr_t lo, uintptr_t hi);

/* ---- raw system calls of foreign code (sched/rawcall.c) ------------------ */
extern GORO_HIDDEN _Atomic bool goro__rawcall_on; /* some site traps */
void goro__rawcall_note(const struct g *gp, const struct ucontext_t *uc);
/* pc holds a `syscall` instruction, or one goro made trap (its int3 and 05):
 * where the kernel leaves a thread it stopped in a call, or just before. */
bool goro__syscall_insn(uintptr_t pc);
void goro__rawcall_sysmon(void);
bool goro__rawcall_sigaction(int sig, const struct sigaction *act, struct sigaction *old);
long goro__rawcall_call(long nr, const long a[6]);
bool goro__rawcall_is_wait(long nr, long op); /* a futex wait */
/* sysmon: is the M running gp asleep in the kernel?  Then nudge it to
 * redo the call through goro (and learn a raw site).  true: it was. */
bool goro__check_blocked(struct m *mp);
/* May the runtime switch gp out now, on its behalf?  The one test of
 * every path that yields for a G it did not ask (a cooperative check at an
 * interposed call, the preemption signal, a redone blocked call, a
 * program's sched_yield): gp is the G this M runs, holds a P, runs (not in
 * a system call: a handler that runs while the G waits in sigsuspend or
 * a hand-off does not), and the M is not inside the runtime (Go:
 * canPreemptM; the pc half of isAsyncSafePoint is goro__preempt_at's). */
static inline bool goro__can_preempt(struct g *gp)
{
	struct m *mp = gp->m;
	return goro__started && mp && mp->curg == gp && gp != mp->g0 && mp->locks == 0 && mp->p &&
	       a_load_rlx(&gp->status) == G_RUNNING && gp->syscalldepth == 0;
}
/* A cancel is pending for gp, enabled, and gp is not already exiting. */
static inline bool goro__cancel_requested(struct g *gp)
{
	return a_load_acq(&gp->cancel_pending) && gp->cancel_state == PTHREAD_CANCEL_ENABLE &&
	       !gp->exiting;
}
/* An asynchronous cancel is due for gp: PTHREAD_CANCEL_ASYNCHRONOUS and a
 * cancel it must act on now, wherever it stands. */
static inline bool goro__async_cancel_due(struct g *gp)
{
	return gp->cancel_type == PTHREAD_CANCEL_ASYNCHRONOUS && goro__cancel_requested(gp);
}
/* Where a G may be unwound (no runtime lock held, on its own stack): act
 * on a due asynchronous cancel through the hook shim/cancel.c installs
 * (sched/ does not call shim/).  Reached from goro__preempt_park (the
 * cooperative check and the nudge's asynchronous preemption) and from an
 * address wait that a cancel interrupted outside a cancellation point. */
extern GORO_HIDDEN void (*goro__async_cancel_hook)(void);
void goro__async_cancel_point(void);
static inline void goro__coop(void)
{
	struct g *gp = getg();
	if (__builtin_expect(a_load_rlx(&gp->preempt), 0) && goro__can_preempt(gp))
		goro__preempt_park();
}
/* pthread_key_* (sched/keys.c): errno values as pthread's. */
int goro__key_create(pthread_key_t *key, void (*dtor)(void *));
int goro__key_delete(pthread_key_t key);
void *goro__getspecific(pthread_key_t key);
int goro__setspecific(pthread_key_t key, void *val);
void goro__keys_run_destructors(struct g *gp);
/* glibc's: C++ thread_local destructors of the calling thread. */
void __call_tls_dtors(void); /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp): glibc's name */

/* ---- per-G CPU clocks (sched/proc.c) -------------------------------------
 * Off until the program asks for a thread CPU clock (shim/clock.c); then
 * every switch reads the M's thread CPU time, in and out. */
extern GORO_HIDDEN _Atomic bool goro__cpuclocks;
void goro__cpuclocks_enable(void);
int64_t goro__g_cputime(struct g *gp); /* ns; gp may run on another M */
int64_t goro__thread_cputime(int tid);  /* a kernel thread's CPU ns (0: this one), -1 if none */

/* ---- sysmon (sched/sysmon.c) and fork (sched/fork.c) ---------------------- */
void goro__sysmon_start(void);
int goro__sysmon_tid(void);   /* its kernel tid, 0 before it runs */
void goro__fork_init(void);   /* pthread_atfork handlers */
void goro__timers_afterfork(void);
void goro__sema_afterfork(void);
void goro__netpoll_afterfork(void);
/* Around fork (sched/fork.c, "Fork and the runtime's locks"): each file's
 * own locks are taken in the prepare phase (in the order fork.c calls
 * them), released in the parent and re-made unlocked in the child. */
enum goro_fork_phase { GORO_FORK_PREPARE, GORO_FORK_PARENT, GORO_FORK_CHILD };
void goro__fork_lock(struct goro_mutex *l, enum goro_fork_phase ph);
void goro__sig_fork(enum goro_fork_phase ph);     /* sched/signal.c */
void goro__tls_fork(enum goro_fork_phase ph);     /* sched/tls.c */
void goro__timers_fork(enum goro_fork_phase ph);  /* sched/time.c */
void goro__netpoll_fork(enum goro_fork_phase ph); /* sched/netpoll.c */
void goro__setxid_fork(enum goro_fork_phase ph);  /* sched/setxid.c */

/* ---- cancellation points that block in the kernel (sched/cancelsys.c) ----
 * glibc ends such a call with SIGCANCEL; goro with the nudge: the handler
 * moves a G that a cancel waits for out of the call (goro__cancel_at), to
 * goro__cancel_exit, which the shim layer sets (it runs cleanup handlers
 * and ends the G with PTHREAD_CANCELED). */
enum { GORO_CANCELSYS_STUB = 1, GORO_CANCELSYS_LIBC = 2, GORO_CANCELSYS_DECL = 3 };
#define GORO_SYS_CANCELLED (-4096L) /* goro__sys_cancelable: cancelled, the call not made */
long goro__sys_cancelable(_Atomic int *pending, long nr, long a, long b, long c, long d, long e, long f);
struct ucontext_t;
bool goro__cancel_at(struct g *gp, struct ucontext_t *uc); /* from the nudge's handler */
bool goro__cancel_window(struct g *gp); /* glibc's async-cancel window is open in gp */
void goro__cancel_kick(struct g *gp);   /* pthread_cancel of a G with cancelsys (or sigwaitsys) set */
/* The current G (gp) makes system call nr, which a cancel interrupts:
 * GORO_SYS_CANCELLED, or the call's result (-errno). */
long goro__syscall_cancelable(struct g *gp, long nr, const long args[6]);
/* asyncpreempt2's redo of an uninterposed call: cancelable in glibc's
 * window; a cancel resumes the G in goro__cancel_exit. */
long goro__redo_syscall(struct g *gp, uint64_t *rax, uint64_t *ret, const long args[6]);
extern GORO_HIDDEN void (*goro__cancel_exit)(void);
/* Run the cleanups glibc registered inside libc in gp (system()'s, which
 * kills and reaps the child), innermost first: glibc's unwinder runs them,
 * goro's does not. */
void goro__cancel_libc_cleanups(struct g *gp);

/* ---- set*id on every kernel thread (sched/setxid.c) ------------------------
 * The raw call here, then on every other M and sysmon through the runtime
 * signal, waiting until all are done.  Returns the calling thread's
 * result (-errno). */
long goro__setxid_broadcast(long nr, long a, long b, long c);
void goro__setxid_handle(void); /* from the runtime signal's handler */

/* ---- system calls (sched/proc.c) ------------------------------------------
 * Around a call that may block in the kernel: the M keeps its P on the
 * fast path; sysmon retakes it after ~20 us when other work waits (Go:
 * entersyscall/exitsyscall, retake, handoffp).  errno is preserved. */
/* Timer slack (sched/time.c): the kernel thread of an M takes 1 ns for the
 * runtime's own timed waits and the G's slack (the process's default: 50 us
 * unless set) for the G's kernel calls, as natively; switched only when it
 * differs. */
extern GORO_HIDDEN uint64_t goro__timerslack0;
void goro__slack_set(struct m *mp, uint64_t ns);
static inline void goro__slack_g(struct m *mp, const struct g *gp)
{
	uint64_t want = gp->timerslack ? gp->timerslack : goro__timerslack0;
	if (__builtin_expect(mp->timerslack != want, 0))
		goro__slack_set(mp, want);
}
void goro__entersyscall(void);
void goro__entersyscallblock(void);
void goro__exitsyscall(void);
int64_t goro__sysmon_retake(int64_t now); /* returns Ps retaken+preempted */
/* The last retake left an early check due within 1 ms: sysmon looks again
 * by then. */
bool goro__sysmon_early_due(void);
int64_t goro__early_check_ns(void); /* GORO_EARLY_CHECK_NS or _RAW_NS */
void goro__sysmon_wake(void);

/* ---- netpoller (sched/netpoll.c) ----------------------------------------- */
void goro__netpoll_init(void);
/* What a G waits for on a descriptor. */
enum goro_iomode { GORO_IO_READ, GORO_IO_WRITE };
/* A netpoll wait's results besides -errno (-ETIMEDOUT at the deadline,
 * -EINTR when interrupted by a cancel or a signal, -EBADF...). */
enum {
	GORO_POLL_READY = 0,
	/* fd cannot be parked on (a regular file, or another G already
	 * waits the same way): the caller blocks in the kernel instead */
	GORO_POLL_FALLBACK = 1,
};
/* Park the current G until fd is ready for mode.  GORO_POLL_READY,
 * GORO_POLL_FALLBACK, or -errno. */
int goro__netpoll_wait(int fd, enum goro_iomode mode, int64_t deadline, bool cancelable);
/* Poll once: ready the Gs whose fds are ready.  ns: <0 block, 0 poll.
 * Returns the events seen (a kick counts), 0 when the wait timed out,
 * -errno (-EINTR) when it was interrupted. */
int goro__netpoll(int64_t ns);
/* The signals the program catches changed (sched/signal.c): watch them
 * with a signalfd in the netpoller.  It fires while one is pending that
 * every M blocks (no running G could take it); goro__sig_forward then
 * wakes a sleeping G to take it, and re-arms the watch when it did
 * (sysmon re-arms it otherwise, goro__netpoll_sigarm). */
void goro__netpoll_sigmask(const sigset_t *caught);
void goro__netpoll_sigarm(void);
void goro__netpoll_sigrearm(void); /* sysmon: arm it again if left disarmed */
void goro__sig_forward(void);
/* sysmon: forward pending signals when no M waits in the netpoller. */
void goro__sig_poll(void);
/* A G unblocked `bits` (kernel layout): signals pending that nobody took
 * are watched again. */
void goro__sig_unblocked(uint64_t bits);
/* The deadlock report: may a signal still wake a parked G (a timer is
 * armed or exists, or a caught signal some G accepts may be sent)? */
bool goro__sig_may_arrive(void);
/* The G to wake for a process signal in `bits` (kernel sigset layout):
 * G1 if it accepts the signal (the kernel's choice) and sleeps or waits at
 * a cancellation point, else such a G that accepts it when G1 does not;
 * NULL if none. */
struct g *goro__sig_target(uint64_t bits);
bool goro__netpoll_waiters(void);
void goro__netpoll_break(void);
void goro__netpoll_close(int fd);
/* Sockets this process made (socket(2) under goro since the last fork):
 * only those may have O_NONBLOCK flipped for a connect. */
#define GORO_OWN_SOCKETS_MAX 65536 /* fds above are never flipped */
void goro__own_socket_made(int fd);
bool goro__own_socket(int fd);
void goro__fd_closed(int fd);          /* close(fd): forget what goro knew of it */
void goro__own_sockets_forget(void);   /* fork: every socket is shared now */
/* goro's own fds (sched/netpoll.c): moved out of the program's reach
 * (at or above the soft RLIMIT_NOFILE) and protected from its close,
 * close_range, closefrom, dup2 and dup3 (shim/file.c). */
#define GORO_OWN_FDS_MAX 4
void goro__fd_hide(_Atomic int *slot);      /* move *slot high, remember it */
void goro__fd_close_own(_Atomic int *slot); /* goro closes its own: forget it, *slot = -1 */
bool goro__fd_is_own(int fd);
void goro__fd_evict(int fd);                /* fd is about to be taken: move goro's away */
int goro__fd_own_in(unsigned first, unsigned last, int out[GORO_OWN_FDS_MAX]); /* sorted */
#define GORO_POLL_MANY 64 /* more fds than this: poll blocks in the kernel */
struct goro_pollreq {
	int fd;
	enum goro_iomode mode;
};
int goro__netpoll_wait_many(const struct goro_pollreq *req, int n, int64_t deadline, bool cancelable);

/* ---- parking and waking (sched/park.c) -----------------------------------
 * A parked G may be woken by its event, its timer or an interruption
 * (cancel, signal); the waker that wins gp->wakeclaim readies it. */
enum goro_wake { GORO_WAKE_EVENT, GORO_WAKE_TIMEOUT, GORO_WAKE_INTERRUPTED };
bool goro__claim(struct g *gp);
void goro__wait_parked(struct g *gp); /* a claimed G may still be entering park_m */
void goro__ready_claimed(struct g *gp);
bool goro__wake(struct g *gp);        /* claim + ready; false if lost */
void goro__interrupt(struct g *gp);   /* cancellation / signal */
/* A wait without a P (a thread goro did not make, or any thread before
 * start-up): blocks the kernel thread on gp->status until a waker's
 * goro__ready_claimed or `when` (sched/park.c). */
enum goro_wake goro__park_nop(struct g *gp, goro_unlockf unlockf, void *arg, int64_t when);
/* Before a G makes itself findable by wakers (wait queue, poll slot). */
void goro__park_begin(struct g *gp);
/* Announce an interruptible park, under the lock that publishes the G:
 * by a signal always, by a cancel when `cancel`.  true: one is already
 * pending, do not park (return interrupted, and run goro__sig_resume once
 * unlocked).  goro__park_done clears both after the park. */
bool goro__park_interruptible(struct g *gp, bool cancel);
void goro__park_done(struct g *gp);
/* Wake gp from a park for a signal (GORO_WAKE_INTERRUPTED): its handler
 * runs as it resumes; the call it waits in decides from sigran. */
bool goro__sig_interrupt(struct g *gp);

/* ---- signals (sched/signal.c, sched/sigsend.c) --------------------------- */
/* The program's handler for sig is entered through goro's trampoline. */
bool goro__sig_wrapped(int sig);
bool goro__sig_unwrapped_handler(int sig);
/* Record sig (with val when queued) for gp and get it there: nudge its M
 * if it runs or blocks in the kernel, wake it if parked.  0 or an errno
 * value (pthread_kill's). */
int goro__sig_send(struct g *gp, int sig, const union sigval *val);
/* Get gp's recorded signals to it now (a runtime context), or at the
 * scheduler's or sysmon's next pass (goro__sig_drain). */
void goro__sig_kick(struct g *gp);
void goro__sig_kick_later(struct g *gp);
void goro__sig_drain(void);
bool goro__sa_restart(int sig);
/* A wait took the runtime's nudge itself (sigtimedwait with it blocked):
 * do what the nudge's handler would have done. */
void goro__nudge_taken(const siginfo_t *si);
/* sigaction as the program sees it: its handlers installed behind the
 * trampoline, the runtime signal's slot kept for its own handler, the
 * idle mask updated (0 or -1 with errno, as sigaction). */
int goro__sigaction(int sig, const struct sigaction *act, struct sigaction *old);
/* After a park: unblock caught signals if woken for a process signal
 * (sigtake), and raise those recorded for the G; runs the handlers here. */
void goro__sig_resume(struct g *gp);
/* Recorded signals gp does not block that interrupt a sleep. */
bool goro__sig_interrupting(struct g *gp);

/* ---- timers (sched/time.c) ------------------------------------------------ */
/* Park the current G (goro__park) with a deadline `when` (monotonic ns, < 0
 * for none).  The caller holds the lock that unlockf releases.  Returns
 * how the G was woken.  The caller takes the G off its wait queues, then
 * calls goro__sig_resume (a handler run there may park or pthread_exit). */
enum goro_wake goro__park_until(goro_unlockf unlockf, void *arg, const char *reason, int64_t when);
/* The current G sleeps until `when` (Go: timeSleep; a cancellation point).
 * false: cancelled, or a signal whose handler ran ended it early (EINTR). */
bool goro__timesleep(int64_t when, const char *reason);
/* Runs expired timers; returns the next deadline or -1. */
int64_t goro__checktimers(int64_t now);
bool goro__timers_pending(void);
/* An idle M without a P waits in the netpoller for the nearest timer (one
 * M at a time: the timer waiter).  false: another M already does. */
bool goro__timerwait(struct m *mp);
bool goro__timerwait_active(void);    /* some M is the timer waiter */
/* The lead the timer waiter now aims its kernel timeouts early by (ns). */
int64_t goro__timer_lead(void);
bool goro__timers_due(int64_t now);
/* sysmon's sleep, at most us: until the earliest deadline while every P
 * is busy and no M waits for the timers (wake-up preemption of sleepers). */
uint32_t goro__sysmon_timer_delay(uint32_t us, uint32_t min_us, int64_t now);
void goro__sysmon_timers(int64_t now); /* sysmon: run due timers no M runs */
void goro__timers_pinit(struct p *pp);

/* ---- parking on an address (sched/sema.c) -------------------------------- */
/* Park on addr while stillwait(addr, arg) holds (checked under the bucket
 * lock, so a waker that changes the state and then calls addrwake cannot be
 * missed).  deadline: monotonic ns or -1.  cancelable: a cancellation
 * point (returns GORO_WAKE_INTERRUPTED when cancelled). */
enum goro_wake goro__addrpark(void *addr, bool (*stillwait)(void *addr, void *arg), void *arg,
			      const char *reason, int64_t deadline, bool cancelable);
int goro__addrwake(void *addr, int n);
/* Wake one waiter on from and move the rest to to (FUTEX_CMP_REQUEUE):
 * broadcast without a thundering herd. */
void goro__addrrequeue(void *from, void *to);
/* addrwake(addr, 1) that is async-signal-safe (sem_post): when the caller
 * may have interrupted runtime code on this M the wake is deferred to the
 * next scheduler pass or sysmon.  node: 16 bytes of the object's own
 * memory. */
void goro__addrwake_async(void *addr, void *node);
/* True when this context (maybe a signal handler) cannot have interrupted
 * runtime code on its M: runtime locks may be taken. */
bool goro__may_enter_runtime(void);
void goro__drain_deferred(void);


/* ---- stacks (sched/stack.c) -------------------------------------------- */
struct goro_stack {
	void *map;      /* whole mapping incl. guard */
	size_t mapsize;
	void *lo, *hi;  /* usable */
	size_t guard;
};
int goro__stackalloc(struct goro_stack *s, size_t size, size_t guard);
int goro__stackalloc_hot(struct goro_stack *s, size_t size, size_t guard, size_t hot);
void goro__stackfree(struct goro_stack *s);
void goro__stack_afterfork(void);
struct iovec;
void goro__stack_release(struct iovec *iov, int n); /* MADV_DONTNEED each range */
extern GORO_HIDDEN size_t goro__default_stack;

/* ---- TLS (sched/tls.c) -------------------------------------------------- */
int goro__tls_check(char *why, size_t whylen); /* start-up self-check */
void *goro__tls_alloc(void);                   /* fresh TCB + static TLS */
size_t goro__tls_area(void);                   /* bytes goro__tls_alloc_at needs */
void *goro__tls_alloc_at(void *top, void **lowp); /* TCB + static TLS below top */
void *goro__tls_tp_at(void *top);                 /* the TCB goro__tls_alloc_at(top) makes */
void goro__tls_setup(struct g *gp, bool reused);
/* A G leaving its M while on the M's signal stack (sched/signal.c). */
bool goro__on_sigstack(const struct g *gp, uintptr_t sp);
void goro__sigstack_leave(struct g *gp, struct m *mp);
void goro__sigstack_reclaim(struct g *gp, uintptr_t sp);
void goro__hframes_prune(struct g *gp, uintptr_t sp, const uint64_t *kmask);
void goro__tls_robust_release(struct g *gp); /* at G exit: robust mutexes it holds */
void *goro__tls_robust_head(void *tp);      /* glibc's robust list head in a TCB */
int *goro__tls_tid_word(void *tp);          /* glibc's tid in a TCB (nptl's clear_child_tid) */
void goro__tls_dlopen_fixup(void);
/* Start-up check against a real pthread (its TCB tp, its stack). */
int goro__tls_check_mthread(void *tp, void *stack, size_t size, char *why, size_t whylen);
void goro__tls_start(void);               /* first thing a new G runs */
void goro__tls_set_tid(void *tp, int tid); /* the tid nptl reads from a TCB */
int goro__tls_tid(void *tp); /* 0 once the kernel thread of an nptl TCB has exited (CLONE_CHILD_CLEARTID) */
int *goro__errno_of(struct g *gp);

/* ---- tracer (sched/trace.c) --------------------------------------------- */
enum {
	TEV_GCREATE, TEV_GSTART, TEV_GSTOP, TEV_GUNBLOCK, TEV_SYSCALL, TEV_HANDOFF,
	TEV_STEAL, TEV_PREEMPT, TEV_TIMER, TEV_NETPOLL, TEV_PSTART, TEV_PSTOP,
};
extern GORO_HIDDEN _Atomic bool goro__tracing;
extern GORO_HIDDEN struct g goro__sysmon_g;
void goro__trace_ev(int type, struct g *gp, uint64_t arg, const char *reason);
void goro__trace_init(void);
const char *goro__trace_prepare(const char *v, char *why, size_t whylen);
int goro__trace_capture(int fd, int64_t ns);
/* One predicted-not-taken branch when tracing is off.  GORO_NO_TRACE
 * compiles the sites out (make notrace): the baseline of the benchmark
 * showing that the branch costs nothing measurable. */
#ifdef GORO_NO_TRACE
#define GORO_TRACE(type, gp, arg, reason) ((void)0)
#else
#define GORO_TRACE(type, gp, arg, reason)                                          \
	do {                                                                      \
		if (__builtin_expect(a_load_rlx(&goro__tracing), 0))              \
			goro__trace_ev((type), (gp), (uint64_t)(arg), (reason));  \
	} while (0)
#endif

/* ---- config (preload/config.c) ------------------------------------------ */
struct goro_config {
	int32_t procs;
	size_t stack;    /* 0: RLIMIT_STACK default */
	bool stats;
	const char *trace;
	const char *locked;  /* GORO_LOCKED: start-routine globs, comma-separated */
	bool preempt_off;  /* GORO_PREEMPT=off: no asynchronous preemption */
	bool fsgsbase_off; /* GORO_FSGSBASE=off: %fs/%gs through arch_prctl */
	bool fsgsbase_ldt; /* GORO_FSGSBASE=ldt: %fs by LDT segment, never wrfsbase */
	bool fsgsbase_noldt; /* GORO_FSGSBASE=wrfsbase: no LDT segment */
	bool trap_off;     /* GORO_TRAP=off: never trap raw system calls */
	/* GORO_DEBUG, as Go's GODEBUG */
	int64_t schedtrace_ms; /* schedtrace=N: scheduler summary every N ms */
	bool scheddetail;      /* scheddetail=1: with every P, M and G */
	bool deadlock_abort;   /* deadlock=abort: abort after the report */
};
extern GORO_HIDDEN struct goro_config goro__cfg;

#endif
