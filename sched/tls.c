/* Per-G TLS: every G gets its own static TLS block and TCB (struct
 * pthread), made by ld.so's _dl_allocate_tls and filled as nptl's
 * allocate_stack/start_thread fill them.  pthread_t is the thread pointer.
 *
 * Everything here is glibc-private.  Each assumption is listed next to the
 * code that makes it and verified by goro__tls_check() at start-up, which
 * refuses to run on anything but the layout measured in
 * docs/ARCHITECTURE.md, "glibc-private facts" G1-G13 (glibc 2.36,
 * x86_64). */
#include <dlfcn.h>
#include <errno.h>
#include <sys/rseq.h>
#include <gnu/libc-version.h>
#include <link.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>

#include "sched/real.h"
#include "sched/runtime.h"
#include "sched/sys.h"

/* Offsets in struct pthread (nptl/descr.h, glibc 2.36).  The ones with a
 * libthread_db descriptor are checked against it; the others are checked
 * against a real pthread in goro__tls_check_mthread(). */
#define TCB_TCB 0x0            /* tcbhead_t.tcb: sysdeps/x86_64/nptl/tls.h */
#define TCB_DTV 0x8            /* tcbhead_t.dtv; _thread_db_pthread_dtvp */
#define TCB_SELF 0x10          /* tcbhead_t.self */
#define TCB_MULTIPLE_THREADS 0x18
#define TCB_STACK_GUARD 0x28   /* %fs:0x28, gcc's stack protector ABI */
#define TCB_POINTER_GUARD 0x30 /* %fs:0x30, PTR_MANGLE */
#define TCB_FEATURE_1 0x48     /* CET */
#define PD_LIST 0x2c0          /* _thread_db_pthread_list */
#define PD_TID 0x2d0           /* _thread_db_pthread_tid */
#define PD_ROBUST_PREV 0x2d8
#define PD_ROBUST_HEAD 0x2e0   /* get_robust_list(0) - tp */
#define PD_ROBUST_FUTEX_OFF 0x2e8
#define PD_SPECIFIC_1ST 0x310
#define PD_SPECIFIC 0x510      /* _thread_db_pthread_specific */
#define PD_STACKBLOCK 0x690
#define PD_STACKBLOCK_SIZE 0x698
#define PD_GUARDSIZE 0x6a0
#define PD_SIZEOF 2368         /* _thread_db_sizeof_pthread */
#define RSEQ_CPU_ID_OFF 4      /* struct rseq.cpu_id */
#define RSEQ_CPU_ID_REGISTRATION_FAILED (-2)
/* elf/dl-tls.c: dtv_t is { size_t counter } | { void *val; void *to_free },
 * dtv[-1].counter is the slot count, a slot not yet allocated holds
 * TLS_DTV_UNALLOCATED. */
#define TLS_DTV_UNALLOCATED ((void *)-1L)
typedef union {
	size_t counter;
	struct {
		void *val;
		void *to_free;
	} pointer;
} dtv_t;

static void *(*dl_allocate_tls)(void *);
static void (*dl_get_tls_static_info)(size_t *, size_t *);
static void (*ctype_init)(void);
static size_t tls_static_size;
static size_t tls_static_align = 64;
static ptrdiff_t curg_off;  /* &goro__curg - tp, the same in every TCB */
static ptrdiff_t errno_off; /* &errno - tp */
static ptrdiff_t herrno_off;
static size_t lm_tls_offset_off, lm_tls_modid_off;
static int libc_modid;

#define AT(tp, off, type) (*(type *)((char *)(tp) + (off)))

/* NULL in the init image: a TCB goro did not set up (a thread goro did not
 * make) reads NULL here (sched/foreign.c); the main thread's is set by
 * goro__getg_slow or goro__ensure_init. */
GORO_HIDDEN __thread struct g *goro__curg;

/* Static-TLS modules whose images a reused TCB must get back, and which a
 * dlopen must push into every live G. */
struct tlsmod {
	size_t modid;
	size_t offset; /* block at tp - offset */
	const void *image;
	size_t filesz, memsz;
};
#define MAX_TLSMODS 256
static struct tlsmod tlsmods[MAX_TLSMODS];
static int ntlsmods;
static struct goro_mutex tlsmods_lock;

static const uint32_t *tdb(const char *name) { return dlsym(RTLD_DEFAULT, name); }

static bool tdb_is(const char *name, uint32_t off)
{
	const uint32_t *d = tdb(name);
	return d && d[2] == off;
}

struct phdr_scan {
	struct tlsmod found[MAX_TLSMODS];
	int n;
	size_t libc_modid;
};

static int phdr_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct phdr_scan *s = arg;
	if (info->dlpi_tls_modid == 0)
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_TLS || s->n >= MAX_TLSMODS)
			continue;
		struct tlsmod *t = &s->found[s->n++];
		t->modid = info->dlpi_tls_modid;
		t->image = (const char *)info->dlpi_addr + ph->p_vaddr;
		t->filesz = ph->p_filesz;
		t->memsz = ph->p_memsz;
		t->offset = 0;
		const char *base = strrchr(info->dlpi_name, '/');
		base = base ? base + 1 : info->dlpi_name;
		if (strncmp(base, "libc.so", 7) == 0)
			s->libc_modid = info->dlpi_tls_modid;
	}
	return 0;
}

/* Fill s with every module in static TLS (l_tls_offset from the link_map,
 * a private field located through _thread_db_link_map_l_tls_offset). */
static void scan_tls_modules(struct phdr_scan *s)
{
	s->n = 0;
	s->libc_modid = 0;
	dl_iterate_phdr(phdr_cb, s);
	struct link_map *lm = NULL;
	void *self = goro__real.dlopen(NULL, RTLD_NOW | RTLD_NOLOAD);
	if (self && dlinfo(self, RTLD_DI_LINKMAP, &lm) == 0) {
		while (lm && lm->l_prev)
			lm = lm->l_prev;
		for (; lm; lm = lm->l_next) {
			size_t modid = AT(lm, lm_tls_modid_off, size_t);
			size_t off = AT(lm, lm_tls_offset_off, size_t);
			for (int i = 0; i < s->n; i++)
				if (s->found[i].modid == modid)
					s->found[i].offset = off;
		}
	}
	if (self)
		dlclose(self);
	/* offset 0 is NO_TLS_OFFSET and -1 FORCED_DYNAMIC_TLS_OFFSET
	 * (elf/dl-tls.c): those modules are dynamic TLS, handled by the dtv. */
	int k = 0;
	for (int i = 0; i < s->n; i++)
		if (s->found[i].offset != 0 && s->found[i].offset != (size_t)-1 &&
		    s->found[i].offset <= tls_static_size)
			s->found[k++] = s->found[i];
	s->n = k;
}

/* Start-up self-check.  Fills why and returns -1 when goro cannot run. */
#define REFUSE(...)                                          \
	do {                                                 \
		(void)snprintf(why, whylen, __VA_ARGS__);    \
		return -1;                                   \
	} while (0)

/* glibc 2.36, with the private symbols goro calls. */
static int check_glibc(char *why, size_t whylen)
{
	const char *ver = gnu_get_libc_version();
	if (strcmp(ver, "2.36") != 0)
		REFUSE("glibc %s is not supported (goro knows the thread layout of glibc 2.36 only)", ver);
	static const char *const syms[] = { "_dl_allocate_tls", "_dl_get_tls_static_info", "__ctype_init", NULL };
	for (int i = 0; syms[i]; i++)
		if (!dlsym(RTLD_DEFAULT, syms[i]))
			REFUSE("glibc-private symbol %s not found", syms[i]);
	dl_allocate_tls = (void *(*)(void *))dlsym(RTLD_DEFAULT, "_dl_allocate_tls");
	dl_get_tls_static_info = (void (*)(size_t *, size_t *))dlsym(RTLD_DEFAULT, "_dl_get_tls_static_info");
	ctype_init = (void (*)(void))dlsym(RTLD_DEFAULT, "__ctype_init");
	return 0;
}

/* struct pthread and link_map offsets, as libthread_db's descriptors in
 * libc say them. */
static int check_thread_db(char *why, size_t whylen)
{
	static const struct { const char *name; uint32_t off; } descs[] = {
		{ "_thread_db_pthread_tid", PD_TID },
		{ "_thread_db_pthread_list", PD_LIST },
		{ "_thread_db_pthread_specific", PD_SPECIFIC },
		{ "_thread_db_pthread_dtvp", TCB_DTV },
		{ "_thread_db_dtv_t_pointer_val", 0 },
		{ "_thread_db_dtv_t_counter", 0 },
	};
	const uint32_t *sz = tdb("_thread_db_sizeof_pthread");
	if (!sz || sz[0] != PD_SIZEOF)
		REFUSE("sizeof(struct pthread) is not %d", PD_SIZEOF);
	for (size_t i = 0; i < sizeof descs / sizeof descs[0]; i++)
		if (!tdb_is(descs[i].name, descs[i].off))
			REFUSE("struct pthread layout differs: %s is not %#x", descs[i].name, descs[i].off);
	const uint32_t *lo = tdb("_thread_db_link_map_l_tls_offset");
	const uint32_t *lm = tdb("_thread_db_link_map_l_tls_modid");
	if (!lo || !lm || lo[0] != 64 || lm[0] != 64)
		REFUSE("link_map TLS descriptors missing");
	lm_tls_offset_off = lo[2];
	lm_tls_modid_off = lm[2];
	return 0;
}

/* The running thread's TCB holds what goro writes into every G's. */
static int check_tcb(void *tp, char *why, size_t whylen)
{
	if (AT(tp, TCB_TCB, void *) != tp || AT(tp, TCB_SELF, void *) != tp)
		REFUSE("tcbhead_t.tcb/self do not point at the TCB");
	if (AT(tp, PD_TID, int) != goro__gettid())
		REFUSE("struct pthread.tid does not hold the kernel tid");
	void *rh = NULL;
	size_t rlen = 0;
	if (goro__sys3(SYS_get_robust_list, 0, &rh, &rlen) != 0 || (char *)rh - (char *)tp != PD_ROBUST_HEAD)
		REFUSE("robust_head is not at tp+%#x", PD_ROBUST_HEAD);
	if (__rseq_offset != 0x920)
		REFUSE("__rseq_offset is %td, not 0x920", __rseq_offset);
	if (AT(tp, PD_SPECIFIC, void *) != (char *)tp + PD_SPECIFIC_1ST)
		REFUSE("specific[0] is not &specific_1stblock");
	return 0;
}

/* libgoro's own TLS (goro__curg, errno) lies in the static block, and the
 * dtv slot of its module points there. */
static int check_static_tls(void *tp, char *why, size_t whylen)
{
	dl_get_tls_static_info(&tls_static_size, &tls_static_align);
	curg_off = (char *)&goro__curg - (char *)tp;
	errno_off = (char *)&errno - (char *)tp;
	herrno_off = (char *)&h_errno - (char *)tp;
	if (curg_off >= 0 || -curg_off > (ptrdiff_t)tls_static_size || errno_off >= 0 ||
	    -errno_off > (ptrdiff_t)tls_static_size)
		REFUSE("libgoro's TLS is not in the static TLS block");
	struct phdr_scan *s = calloc(1, sizeof *s);
	if (!s)
		REFUSE("out of memory");
	scan_tls_modules(s);
	dtv_t *dtv = AT(tp, TCB_DTV, dtv_t *);
	bool ok = false;
	for (int i = 0; i < s->n; i++) {
		char *blk = (char *)tp - s->found[i].offset;
		if ((char *)&goro__curg >= blk && (char *)&goro__curg < blk + s->found[i].memsz)
			ok = s->found[i].modid < dtv[-1].counter && dtv[s->found[i].modid].pointer.val == blk;
	}
	libc_modid = (int)s->libc_modid;
	memcpy(tlsmods, s->found, sizeof(struct tlsmod) * (size_t)s->n);
	ntlsmods = s->n;
	free(s);
	if (!ok || libc_modid == 0)
		REFUSE("the dtv or link_map TLS layout differs from glibc 2.36");
	return 0;
}

int goro__tls_check(char *why, size_t whylen)
{
	void *tp = goro__getfs();
	if (check_glibc(why, whylen) || check_thread_db(why, whylen) || check_tcb(tp, why, whylen) ||
	    check_static_tls(tp, why, whylen))
		return -1;
	return 0;
}

/* Check the stack fields against a real pthread whose stack we chose
 * (the first M).  No descriptor covers them. */
int goro__tls_check_mthread(void *tp, void *stack, size_t size, char *why, size_t whylen)
{
	if (AT(tp, PD_STACKBLOCK, void *) != stack || AT(tp, PD_STACKBLOCK_SIZE, size_t) != size) {
		(void)snprintf(why, whylen, "struct pthread.stackblock is not at %#x", PD_STACKBLOCK);
		return -1;
	}
	/* kstart (sched/proc.c) reads a new M's tid as soon as glibc's
	 * pthread_create returns (docs/ARCHITECTURE.md, G28). */
	if (goro__tls_tid(tp) <= 0) {
		(void)snprintf(why, whylen, "struct pthread.tid (%#x) is not set when pthread_create returns", PD_TID);
		return -1;
	}
	return 0;
}

void *goro__tls_alloc(void)
{
	/* With NULL, _dl_allocate_tls mallocs static TLS + TCB, zeroes the
	 * TCB, builds a dtv and copies every static module's init image. */
	return dl_allocate_tls(NULL);
}

/* Bytes a G block (sched/proc.c, newg_block) keeps for the static TLS and
 * TCB above the stack, alignment slack included. */
size_t goro__tls_area(void) { return tls_static_size + tls_static_align; }

/* A TCB and static TLS ending below top, in zeroed memory (fresh mmap), as
 * nptl's allocate_stack places them at the top of a thread's stack: with
 * the TCB's address, _dl_allocate_tls only builds the dtv and copies every
 * static module's init image (docs/ARCHITECTURE.md G2).  Returns tp, or
 * NULL; *lowp: the lowest byte of the static TLS, where the stack may end. */
void *goro__tls_alloc_at(void *top, void **lowp)
{
	char *tp = goro__tls_tp_at(top);
	*lowp = tp + PD_SIZEOF - tls_static_size;
	return dl_allocate_tls(tp);
}

void *goro__tls_tp_at(void *top)
{
	return (void *)(((uintptr_t)top - PD_SIZEOF) & ~(uintptr_t)(tls_static_align - 1));
}

/* A reused TCB keeps libc's own TLS (malloc's tcache would otherwise leak:
 * __libc_thread_freeres is not exported, docs/ARCHITECTURE.md G13) but gets errno,
 * h_errno and the locale reset, every other static module's variables back
 * to their initial values, and its dynamic TLS blocks dropped. */
/* Bytes [lo, hi) of a module's block back to its initial image. */
static void reset_range(char *blk, const struct tlsmod *t, size_t lo, size_t hi)
{
	size_t f = t->filesz < hi ? t->filesz : hi;
	if (lo < f)
		memcpy(blk + lo, (const char *)t->image + lo, f - lo);
	size_t z = lo > f ? lo : f;
	if (z < hi)
		memset(blk + z, 0, hi - z);
}

static void tls_reinit(void *tp)
{
	goro__lock(&tlsmods_lock);
	for (int i = 0; i < ntlsmods; i++) {
		struct tlsmod *t = &tlsmods[i];
		char *blk = (char *)tp - t->offset;
		if ((int)t->modid == libc_modid)
			continue;
		/* goro__curg must never read NULL, even for a moment: an M's g0
		 * may still run on this TCB (sched/foreign.c).  Its value (the
		 * G, reused with its TCB) stays. */
		size_t s = (size_t)((char *)tp + curg_off - blk);
		if (s < t->memsz) {
			reset_range(blk, t, 0, s);
			reset_range(blk, t, s + sizeof(struct g *), t->memsz);
		} else {
			reset_range(blk, t, 0, t->memsz);
		}
	}
	goro__unlock(&tlsmods_lock);
	AT(tp, errno_off, int) = 0;
	AT(tp, herrno_off, int) = 0;
	dtv_t *dtv = AT(tp, TCB_DTV, dtv_t *);
	/* The static size includes the TCB, which lies above tp
	 * (elf/dl-tls.c _dl_allocate_tls_storage: tp = block + size - TCB). */
	char *slo = (char *)tp + PD_SIZEOF - tls_static_size;
	for (size_t i = 1; i < dtv[-1].counter; i++) {
		char *v = dtv[i].pointer.val;
		if (v == TLS_DTV_UNALLOCATED || v == NULL || (v >= slo && v < (char *)tp))
			continue;
		free(dtv[i].pointer.to_free);
		dtv[i].pointer.val = TLS_DTV_UNALLOCATED;
		dtv[i].pointer.to_free = NULL;
	}
}

/* Fill the TCB of gp as nptl fills a new thread's (docs/ARCHITECTURE.md G3-G11). */
void goro__tls_setup(struct g *gp, bool reused)
{
	void *tp = gp->tp;
	void *cur = goro__getfs();
	if (reused)
		tls_reinit(tp);
	AT(tp, TCB_TCB, void *) = tp;
	AT(tp, TCB_SELF, void *) = tp;
	AT(tp, TCB_MULTIPLE_THREADS, int) = 1;
	AT(tp, TCB_STACK_GUARD, uintptr_t) = AT(cur, TCB_STACK_GUARD, uintptr_t);
	AT(tp, TCB_POINTER_GUARD, uintptr_t) = AT(cur, TCB_POINTER_GUARD, uintptr_t);
	AT(tp, TCB_FEATURE_1, uint32_t) = AT(cur, TCB_FEATURE_1, uint32_t);
	AT(tp, PD_LIST, void *) = (char *)tp + PD_LIST;
	AT(tp, PD_LIST + 8, void *) = (char *)tp + PD_LIST;
	AT(tp, PD_TID, int) = gp->tid;
	AT(tp, PD_ROBUST_PREV, void *) = (char *)tp + PD_ROBUST_HEAD;
	AT(tp, PD_ROBUST_HEAD, void *) = (char *)tp + PD_ROBUST_HEAD;
	AT(tp, PD_ROBUST_FUTEX_OFF, long) = AT(cur, PD_ROBUST_FUTEX_OFF, long);
	AT(tp, PD_SPECIFIC, void *) = (char *)tp + PD_SPECIFIC_1ST;
	AT(tp, PD_STACKBLOCK, void *) = gp->stack_lo;
	AT(tp, PD_STACKBLOCK_SIZE, size_t) = (size_t)((char *)gp->stack_hi - (char *)gp->stack_lo);
	AT(tp, PD_GUARDSIZE, size_t) = gp->guardsize;
	/* sched_getcpu() falls back to the syscall instead of reading a
	 * registration the G does not have. */
	AT(tp, 0x920 + RSEQ_CPU_ID_OFF, int32_t) = RSEQ_CPU_ID_REGISTRATION_FAILED;
	AT(tp, curg_off, struct g *) = gp;
}

/* Runs on a new G before user code (start_thread does the same). */
void goro__tls_start(void)
{
	ctype_init();
}

struct g *goro__g_of(pthread_t t)
{
	if (!t)
		return NULL;
	if (t == (pthread_t)goro__g1.tp || (!goro__started && t == (pthread_t)goro__getfs()))
		return &goro__g1;
	if (!curg_off) /* before goro__tls_check: no G but G1 exists yet */
		return NULL;
	struct g *gp = AT(t, curg_off, struct g *);
	if (!gp || gp->tp != (void *)t)
		return NULL;
	return gp;
}

int *goro__errno_of(struct g *gp) { return &AT(gp->tp, errno_off, int); }

/* After a dlopen: a module that landed in static TLS was initialised by
 * ld.so only for nptl's threads (elf/dl-tls.c _dl_init_static_tls, notes
 * item 2); copy its image into every live G. */
void goro__tls_dlopen_fixup(void)
{
	struct phdr_scan *s = calloc(1, sizeof *s);
	if (!s)
		return;
	scan_tls_modules(s);
	goro__lock(&tlsmods_lock);
	for (int i = 0; i < s->n; i++) {
		bool known = false;
		for (int j = 0; j < ntlsmods; j++)
			if (tlsmods[j].modid == s->found[i].modid && tlsmods[j].offset == s->found[i].offset)
				known = true;
		if (known || ntlsmods >= MAX_TLSMODS)
			continue;
		struct tlsmod *t = &tlsmods[ntlsmods++];
		*t = s->found[i];
		goro__lock(&goro__allglock);
		for (struct g *gp = goro__allgs; gp; gp = gp->alllink) {
			if (gp == &goro__g1 || a_load_acq(&gp->status) == G_IDLE)
				continue; /* G1 is nptl's own; idle TCBs get reinit */
			char *blk = (char *)gp->tp - t->offset;
			memcpy(blk, t->image, t->filesz);
			memset(blk + t->filesz, 0, t->memsz - t->filesz);
		}
		goro__unlock(&goro__allglock);
	}
	goro__unlock(&tlsmods_lock);
	free(s);
}

void goro__tls_set_tid(void *tp, int tid) { AT(tp, PD_TID, int) = tid; }
int goro__tls_tid(void *tp) { return a_load_acq(&AT(tp, PD_TID, _Atomic int)); }
int *goro__tls_tid_word(void *tp) { return &AT(tp, PD_TID, int); }

static void robust_owner_died(_Atomic uint32_t *w, int tid)
{
	uint32_t old = a_load_acq(w);
	while ((old & FUTEX_TID_MASK) == (uint32_t)tid) {
		uint32_t nv = (old & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
		if (a_cas(w, &old, nv)) {
			if (old & FUTEX_WAITERS)
				goro__sys3(SYS_futex, w, FUTEX_WAKE, 1);
			return;
		}
	}
}

/* A thread that ends holding robust mutexes: the kernel marks them at the
 * exit of a kernel thread (kernel/futex/core.c, exit_robust_list), but a
 * G ends without one.  Do what the kernel does with the G's list (glibc
 * keeps it at robust_head in the TCB, checked at start-up): each futex
 * word still owned by the G's tid gets FUTEX_OWNER_DIED, and a waiter is
 * woken, so its pthread_mutex_lock returns EOWNERDEAD. */
void *goro__tls_robust_head(void *tp) { return (char *)tp + PD_ROBUST_HEAD; }

void goro__tls_robust_release(struct g *gp)
{
	/* The list the thread registered (set_robust_list, shim/tid.c), by
	 * default glibc's.  struct robust_list_head is kernel ABI: list,
	 * futex_offset, list_op_pending. */
	char *head = gp->robust ? gp->robust : goro__tls_robust_head(gp->tp);
	long off = AT(head, 8, long);
	char *pending = AT(head, 16, char *);
	int n = 0;
	for (char *e = AT(head, 0, char *); e && e != head && n < 2048; n++) {
		char *next = *(char **)e;
		if (e != pending)
			robust_owner_died((_Atomic uint32_t *)(e + off), gp->tid);
		e = next;
	}
	if (pending)
		robust_owner_died((_Atomic uint32_t *)(pending + off), gp->tid);
	if (!gp->robust) /* the TCB is reused with the G */
		AT(head, 0, void *) = head;
	gp->robust = NULL;
}
/* fork (sched/fork.c): a child's pthread_create reinitialises TCBs. */
void goro__tls_fork(enum goro_fork_phase ph) { goro__fork_lock(&tlsmods_lock, ph); }
