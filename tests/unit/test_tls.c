/* Per-G TLS (sched/tls.c): the start-up self-check, a fresh TCB with its
 * own static TLS block holding the modules' initial images, the TCB fields
 * goro__tls_setup fills, and the reset of a reused TCB.
 *
 * Nothing here switches %fs: the new blocks are inspected through the
 * offsets of this program's own TLS variables from its thread pointer
 * (static TLS sits at a fixed offset from tp in every TCB). */
#include <dlfcn.h>
#include <errno.h>
#include <glib.h>
#include <string.h>
#include <sys/mman.h>

#include "sched/real.h"
#include "sched/runtime.h"
#include "tests/unit/stubs.h"

/* This program's own TLS: initialised data and bss. */
static __thread int tls_data = 12345;
static __thread char tls_str[16] = "initial";
static __thread long tls_bss[8];

/* struct pthread offsets of glibc 2.36 x86_64 that the test reads (the
 * same ones tls.c writes; goro__tls_check verified the layout). */
#define TCB_TCB 0x0
#define TCB_DTV 0x8
#define TCB_SELF 0x10
#define TCB_STACK_GUARD 0x28
#define TCB_POINTER_GUARD 0x30
#define PD_TID 0x2d0
#define TCB_SIZE 2368 /* sizeof(struct pthread) = TLS_TCB_SIZE */

#define AT(tp, off, type) (*(type *)((char *)(tp) + (off)))

static void *mytp(void) { return goro__getfs(); }

/* The copy of *var in the TCB at tp. */
static void *in_block(void *tp, void *var)
{
	return (char *)tp + ((char *)var - (char *)mytp());
}

static size_t static_tls_size(void)
{
	void (*info)(size_t *, size_t *) =
		(void (*)(size_t *, size_t *))dlsym(RTLD_DEFAULT, "_dl_get_tls_static_info");
	g_assert_nonnull(info);
	size_t size = 0, align = 0;
	info(&size, &align);
	return size;
}

static void tls_free(void *tp)
{
	void (*dealloc)(void *, bool) =
		(void (*)(void *, bool))dlsym(RTLD_DEFAULT, "_dl_deallocate_tls");
	if (dealloc)
		dealloc(tp, true);
}

/* goro__tls_check fills tls.c's offsets; every test needs it first. */
static void ensure_checked(void)
{
	static bool done;
	if (done)
		return;
	goro__real_init();
	char why[256] = "";
	int r = goro__tls_check(why, sizeof why);
	g_assert_cmpstr(why, ==, "");
	g_assert_cmpint(r, ==, 0);
	done = true;
}

static void test_check(void)
{
	goro__real_init();
	char why[256] = "";
	int r = goro__tls_check(why, sizeof why);
	g_assert_cmpstr(why, ==, "");
	g_assert_cmpint(r, ==, 0);
}

static void test_alloc(void)
{
	ensure_checked();
	/* the caller's values differ from the initial images */
	tls_data = 777;
	strcpy(tls_str, "changed");
	tls_bss[3] = 42;

	void *me = mytp();
	void *tp = goro__tls_alloc();
	g_assert_nonnull(tp);
	g_assert_true(tp != me);

	/* ld.so's static size counts the TCB (elf/dl-tls.c
	 * _dl_allocate_tls_storage: tp = block + size - TLS_TCB_SIZE), so the
	 * whole allocation is [tp + TCB - size, tp + TCB); it must not overlap
	 * the caller's. */
	size_t ssz = static_tls_size();
	g_assert_cmpuint(ssz, >, TCB_SIZE);
	char *a0 = (char *)tp + TCB_SIZE - ssz, *a1 = (char *)tp + TCB_SIZE;
	char *b0 = (char *)me + TCB_SIZE - ssz, *b1 = (char *)me + TCB_SIZE;
	g_test_message("caller tp %p, new tp %p, static TLS %zu bytes", me, tp, ssz);
	g_assert_true(a1 <= b0 || b1 <= a0);

	int *data = in_block(tp, &tls_data);
	char *str = in_block(tp, tls_str);
	long *bss = in_block(tp, tls_bss);
	g_assert_true(data != &tls_data);
	g_assert_true((char *)data >= a0 && (char *)data < (char *)tp);
	/* the new block holds the initial images, not the caller's values */
	g_assert_cmpint(*data, ==, 12345);
	g_assert_cmpstr(str, ==, "initial");
	for (int i = 0; i < 8; i++)
		g_assert_cmpint(bss[i], ==, 0);
	g_assert_cmpint(tls_data, ==, 777);
	g_assert_cmpstr(tls_str, ==, "changed");
	/* ld.so built a dtv for it */
	g_assert_nonnull(AT(tp, TCB_DTV, void *));

	/* two allocations are distinct too */
	void *tp2 = goro__tls_alloc();
	g_assert_nonnull(tp2);
	g_assert_true(tp2 != tp);
	g_assert_true((char *)tp2 + TCB_SIZE <= a0 || a1 <= (char *)tp2 + TCB_SIZE - ssz);

	tls_free(tp2);
	tls_free(tp);
	tls_data = 12345;
	strcpy(tls_str, "initial");
	tls_bss[3] = 0;
}

/* A TCB and static TLS placed in memory goro provides (a G block's top,
 * docs/ARCHITECTURE.md G27): inside it, tp aligned, the modules' initial
 * images copied in, a dtv built, and nothing written above top. */
static void test_alloc_at(void)
{
	ensure_checked();
	tls_data = 555;
	size_t len = 64 * 1024;
	char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	g_assert_true(mem != MAP_FAILED);
	char *top = mem + len - 4096; /* a page above top must stay untouched */
	void *low = NULL;
	void *tp = goro__tls_alloc_at(top, &low);
	g_assert_nonnull(tp);
	g_assert_cmpuint((uintptr_t)tp % 64, ==, 0);
	g_assert_true((char *)tp + TCB_SIZE <= top);
	g_assert_true((char *)low == (char *)tp + TCB_SIZE - static_tls_size());
	g_assert_true((char *)low >= mem);
	g_assert_cmpuint(goro__tls_area(), >=, (size_t)(top - (char *)low));
	g_assert_cmpint(*(int *)in_block(tp, &tls_data), ==, 12345);
	g_assert_cmpstr((char *)in_block(tp, tls_str), ==, "initial");
	g_assert_nonnull(AT(tp, TCB_DTV, void *));
	for (char *p = top; p < mem + len; p++)
		g_assert_cmpint(*p, ==, 0);
	tls_data = 12345;
}

static void test_setup(void)
{
	ensure_checked();
	void *me = mytp();
	void *tp = goro__tls_alloc();
	g_assert_nonnull(tp);

	struct goro_stack st;
	memset(&st, 0, sizeof st);
	g_assert_cmpint(goro__stackalloc(&st, 64 * 1024, 4096), ==, 0);
	struct g *gp = g_new0(struct g, 1);
	gp->tp = tp;
	gp->tid = GORO_TID_BASE + 7;
	gp->goid = 2;
	gp->stack_lo = st.lo;
	gp->stack_hi = st.hi;
	gp->guardsize = st.guard;
	goro__tls_setup(gp, false);

	/* tcbhead_t: tcb and self are the thread pointer */
	g_assert_true(AT(tp, TCB_TCB, void *) == tp);
	g_assert_true(AT(tp, TCB_SELF, void *) == tp);
	/* stack protector and pointer guard inherited from the caller */
	g_assert_cmphex(AT(tp, TCB_STACK_GUARD, uintptr_t), ==, AT(me, TCB_STACK_GUARD, uintptr_t));
	g_assert_cmphex(AT(tp, TCB_POINTER_GUARD, uintptr_t), ==,
			AT(me, TCB_POINTER_GUARD, uintptr_t));
	g_assert_cmpint(AT(tp, PD_TID, int), ==, GORO_TID_BASE + 7);
	/* the G's own goro__curg slot points at it; ours is untouched */
	g_assert_true(*(struct g **)in_block(tp, &goro__curg) == gp);
	g_assert_true(goro__curg == NULL); /* sched/tls.c: NULL in the init image */
	g_assert_true(goro__g_of((pthread_t)tp) == gp);
	/* errno of the G lives in its block */
	int *e = goro__errno_of(gp);
	g_assert_true(e != &errno);
	g_assert_true((char *)e < (char *)tp && (char *)e >= (char *)tp + TCB_SIZE - static_tls_size());
	g_assert_true(e == in_block(tp, &errno));

	/* A reused TCB: module variables back to their images, errno reset,
	 * the G pointer updated. */
	*(int *)in_block(tp, &tls_data) = 999;
	strcpy(in_block(tp, tls_str), "dirty");
	((long *)in_block(tp, tls_bss))[5] = 55;
	*e = EINTR;
	struct g *gp2 = g_new0(struct g, 1);
	*gp2 = *gp;
	gp2->tid = GORO_TID_BASE + 8;
	goro__tls_setup(gp2, true);
	g_assert_cmpint(*(int *)in_block(tp, &tls_data), ==, 12345);
	g_assert_cmpstr(in_block(tp, tls_str), ==, "initial");
	g_assert_cmpint(((long *)in_block(tp, tls_bss))[5], ==, 0);
	g_assert_cmpint(*goro__errno_of(gp2), ==, 0);
	g_assert_cmpint(AT(tp, PD_TID, int), ==, GORO_TID_BASE + 8);
	g_assert_true(*(struct g **)in_block(tp, &goro__curg) == gp2);
	g_assert_true(AT(tp, TCB_TCB, void *) == tp);
	g_assert_true(AT(tp, TCB_SELF, void *) == tp);

	/* the caller's own TLS never changed */
	g_assert_cmpint(tls_data, ==, 12345);
	g_assert_true(AT(me, TCB_TCB, void *) == me);

	tls_free(tp);
	goro__stackfree(&st);
	g_free(gp);
	g_free(gp2);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	stubs_init(1);
	g_test_add_func("/tls/check", test_check);
	g_test_add_func("/tls/alloc-fresh-static-block", test_alloc);
	g_test_add_func("/tls/alloc-at-top-of-given-memory", test_alloc_at);
	g_test_add_func("/tls/setup-fills-tcb", test_setup);
	return g_test_run();
}
