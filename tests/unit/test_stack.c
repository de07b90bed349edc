/* G stacks (sched/stack.c): size and layout, the guard page, reserved not
 * committed memory, munmap on free, and 100k guarded stacks within
 * vm.max_map_count. */
#include <errno.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sched/runtime.h"
#include "tests/unit/stubs.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

#define PAGE 4096UL

/* Resident and total pages of this process (/proc/self/statm). */
static void statm(long *size, long *resident)
{
	FILE *f = fopen("/proc/self/statm", "r");
	g_assert_nonnull(f);
	g_assert_cmpint(fscanf(f, "%ld %ld", size, resident), ==, 2);
	fclose(f);
}

static int count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	g_assert_nonnull(f);
	int n = 0, c;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* Whether any page of [addr, addr+len) is mapped: mincore fails with
 * ENOMEM on an unmapped range. */
static bool mapped(void *addr, size_t len)
{
	size_t pages = (len + PAGE - 1) / PAGE;
	unsigned char *vec = g_malloc(pages);
	int r = mincore(addr, len, vec);
	int e = errno;
	g_free(vec);
	if (r == 0)
		return true;
	g_assert_cmpint(e, ==, ENOMEM);
	return false;
}

static void check_layout(size_t size, size_t guard)
{
	struct goro_stack s;
	memset(&s, 0, sizeof s);
	g_assert_cmpint(goro__stackalloc(&s, size, guard), ==, 0);
	size_t rsize = (size + PAGE - 1) & ~(PAGE - 1);
	size_t rguard = (guard + PAGE - 1) & ~(PAGE - 1);
	g_assert_nonnull(s.map);
	g_assert_cmpuint((uintptr_t)s.lo % PAGE, ==, 0);
	g_assert_cmpuint((size_t)((char *)s.hi - (char *)s.lo), ==, rsize);
	g_assert_cmpuint(s.guard, ==, rguard);
	g_assert_cmpuint(s.mapsize, ==, rsize + rguard);
	g_assert_true((char *)s.lo == (char *)s.map + rguard);
	g_assert_true((char *)s.hi == (char *)s.map + s.mapsize);
	/* the whole usable range can be written and read back */
	memset(s.lo, 0xa5, rsize);
	unsigned char *lo = s.lo, *hi = s.hi;
	g_assert_cmpuint(lo[0], ==, 0xa5);
	g_assert_cmpuint(hi[-1], ==, 0xa5);
	for (size_t off = 0; off < rsize; off += PAGE)
		g_assert_cmpuint(lo[off], ==, 0xa5);
	goro__stackfree(&s);
	g_assert_null(s.map);
}

static void test_layout(void)
{
	check_layout(64 * 1024, PAGE);
	check_layout(100000, 1);            /* both rounded up to pages */
	check_layout(1, PAGE * 3);
	check_layout(8 << 20, 64 * 1024);
	check_layout(256 * 1024, 0);        /* no guard */
}

/* In a child: write one byte at p.  Returns the child's wait status. */
static int child_write(volatile char *p)
{
	pid_t pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };
		setrlimit(RLIMIT_CORE, &no_core);
		signal(SIGSEGV, SIG_DFL);
		*p = 1;
		_exit(0);
	}
	int status;
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	return status;
}

static void expect_segv(volatile char *p, const char *what)
{
	int st = child_write(p);
	if (!WIFSIGNALED(st))
		g_test_message("writing %s (%p): child exited with status %d, no signal", what,
			       (void *)p, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	g_assert_true(WIFSIGNALED(st));
	g_assert_cmpint(WTERMSIG(st), ==, SIGSEGV);
}

static void expect_ok(volatile char *p, const char *what)
{
	int st = child_write(p);
	if (WIFSIGNALED(st))
		g_test_message("writing %s (%p): child killed by signal %d", what, (void *)p,
			       WTERMSIG(st));
	g_assert_true(WIFEXITED(st));
	g_assert_cmpint(WEXITSTATUS(st), ==, 0);
}

static void test_guard(void)
{
	struct goro_stack s;
	memset(&s, 0, sizeof s);
	g_assert_cmpint(goro__stackalloc(&s, 64 * 1024, 3 * PAGE), ==, 0);
	char *lo = s.lo, *hi = s.hi;
	expect_ok(lo, "lo");
	expect_ok(hi - 1, "hi-1");
	expect_segv(lo - 1, "lo-1 (top of the guard)");
	expect_segv(lo - PAGE - 1, "the middle guard page");
	expect_segv((char *)s.map, "the bottom of the guard");
	goro__stackfree(&s);
}

/* Small stacks come from batches (one mmap, guards installed together):
 * consecutive ones are neighbours, and every guard faults, across a batch
 * boundary too; freeing one leaves its neighbours usable. */
static void test_batch(void)
{
	enum { N = 70 }; /* more than one batch of 24 KiB blocks */
	struct goro_stack s[N];
	int neighbours = 0;
	for (int i = 0; i < N; i++) {
		g_assert_cmpint(goro__stackalloc(&s[i], 20 * 1024, PAGE), ==, 0);
		if (i > 0 && (char *)s[i].map == (char *)s[i - 1].map + s[i - 1].mapsize)
			neighbours++;
	}
	g_test_message("%d of %d stacks right after the previous one", neighbours, N - 1);
	g_assert_cmpint(neighbours, >=, N / 2);
	for (int i = 0; i < N; i += 23) {
		expect_segv((char *)s[i].lo - 1, "lo-1 of a carved stack");
		expect_ok((char *)s[i].hi - 1, "hi-1 of a carved stack");
	}
	expect_segv((char *)s[N - 1].lo - 1, "lo-1 of the last carved stack");
	goro__stackfree(&s[1]);
	memset(s[0].lo, 1, (size_t)((char *)s[0].hi - (char *)s[0].lo));
	memset(s[2].lo, 1, (size_t)((char *)s[2].hi - (char *)s[2].lo));
	for (int i = 0; i < N; i++)
		if (i != 1)
			goro__stackfree(&s[i]);
}

/* 1000 stacks of 8 MiB: the address space is there, the memory is not
 * (only the page each one touches at its top counts). */
static void test_reserved(void)
{
	enum { N = 1000 };
	const size_t size = 8UL << 20;
	struct goro_stack *s = g_new0(struct goro_stack, N);
	long vm0, rss0, vm1, rss1;
	statm(&vm0, &rss0);
	for (int i = 0; i < N; i++) {
		int r = goro__stackalloc(&s[i], size, PAGE);
		if (r != 0)
			g_test_message("stack %d of %d: goro__stackalloc returned %d", i, N, r);
		g_assert_cmpint(r, ==, 0);
		((char *)s[i].hi)[-1] = 1;
	}
	statm(&vm1, &rss1);
	long grow_mib = (rss1 - rss0) * (long)PAGE >> 20;
	long vm_mib = (vm1 - vm0) * (long)PAGE >> 20;
	g_test_message("%d stacks of 8 MiB: virtual +%ld MiB, resident +%ld MiB", N, vm_mib, grow_mib);
	g_assert_cmpint(vm_mib, >=, (long)(N * (size >> 20)));
	g_assert_cmpint(grow_mib, <, 50);
	for (int i = 0; i < N; i++)
		goro__stackfree(&s[i]);
	statm(&vm1, &rss1);
	g_assert_cmpint((vm1 - vm0) * (long)PAGE >> 20, <, 64);
	g_free(s);
}

static void test_free(void)
{
	struct goro_stack s;
	memset(&s, 0, sizeof s);
	g_assert_cmpint(goro__stackalloc(&s, 256 * 1024, PAGE), ==, 0);
	void *map = s.map;
	size_t mapsize = s.mapsize;
	memset(s.lo, 1, (size_t)((char *)s.hi - (char *)s.lo));
	g_assert_true(mapped(map, mapsize));
	goro__stackfree(&s);
	g_assert_null(s.map);
	/* the whole mapping, guard included, is gone */
	g_assert_false(mapped(map, PAGE));
	g_assert_false(mapped((char *)map + mapsize - PAGE, PAGE));
	/* and the range can be mapped again without replacing anything */
	void *again = mmap(map, mapsize, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	g_assert_true(again == map);
	munmap(again, mapsize);
	/* freeing twice is harmless */
	goro__stackfree(&s);
	g_assert_null(s.map);
}

static bool kernel_has_guard_install(void)
{
	void *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	g_assert_true(p != MAP_FAILED);
	int r = madvise(p, PAGE, MADV_GUARD_INSTALL);
	munmap(p, 2 * PAGE);
	return r == 0;
}

static long max_map_count(void)
{
	long v = 65530;
	FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = 65530;
		fclose(f);
	}
	return v;
}

/* 100k stacks of 64 KiB with a guard page each: with MADV_GUARD_INSTALL the
 * guard does not split the mapping, so the mappings stay far below
 * vm.max_map_count (an mprotect guard would need two per stack). */
static void test_many(void)
{
	if (!kernel_has_guard_install()) {
		g_test_skip("the kernel lacks MADV_GUARD_INSTALL (Linux < 6.13): stack.c falls back "
			    "to mprotect guards, which cost a mapping each, so 100k stacks cannot fit "
			    "vm.max_map_count");
		return;
	}
	enum { N = 100000 };
	long limit = max_map_count();
	struct goro_stack *s = g_new0(struct goro_stack, N);
	int maps0 = count_maps();
	for (int i = 0; i < N; i++) {
		int r = goro__stackalloc(&s[i], 64 * 1024, PAGE);
		if (r != 0)
			g_test_message("stack %d of %d: goro__stackalloc returned %d (%d mappings)", i,
				       N, r, count_maps());
		g_assert_cmpint(r, ==, 0);
	}
	/* touch each stack so the kernel has something to lose */
	for (int i = 0; i < N; i++)
		((char *)s[i].hi)[-1] = (char)i;
	int maps1 = count_maps();
	g_test_message("%d guarded stacks: %d -> %d mappings (vm.max_map_count %ld)", N, maps0,
		       maps1, limit);
	g_assert_cmpint(maps1 - maps0, <, limit / 4);
	for (int i = 0; i < N; i += 997)
		g_assert_cmpint(((char *)s[i].hi)[-1], ==, (char)i);
	/* guards still work after all that merging (one sample) */
	expect_segv((char *)s[N / 2].lo - 1, "lo-1 of stack 50000");
	for (int i = 0; i < N; i++)
		goro__stackfree(&s[i]);
	g_assert_cmpint(count_maps(), <=, maps0 + 2);
	g_free(s);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	stubs_init(1);
	g_test_add_func("/stack/layout", test_layout);
	g_test_add_func("/stack/guard-page-faults", test_guard);
	g_test_add_func("/stack/batches", test_batch);
	g_test_add_func("/stack/reserved-not-committed", test_reserved);
	g_test_add_func("/stack/free-unmaps", test_free);
	g_test_add_func("/stack/100k-guarded-stacks", test_many);
	return g_test_run();
}
