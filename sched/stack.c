/* G stacks: reserved with MAP_NORESERVE (only touched pages cost memory),
 * a guard below each one.
 *
 * The guard uses MADV_GUARD_INSTALL (Linux 6.13+) when the kernel has it:
 * it does not split the mapping, so 100k stacks stay within
 * vm.max_map_count (docs/ARCHITECTURE.md, G25: mprotect guards stop at ~32k).
 * Older kernels get mprotect(PROT_NONE). */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sched/runtime.h"
#include "sched/sys.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

#define PAGE 4096UL

GORO_HIDDEN size_t goro__default_stack = 8UL << 20;
static _Atomic int guard_install_works = 1; /* cleared at first EINVAL */

static size_t roundup_page(size_t n) { return (n + PAGE - 1) & ~(PAGE - 1); }

/* Returns 0 or an errno value (EAGAIN like pthread_create on ENOMEM). */
int goro__stackalloc(struct goro_stack *s, size_t size, size_t guard)
{
	size = roundup_page(size);
	guard = roundup_page(guard);
	size_t total = size + guard;
	long r = goro__sys6(SYS_mmap, 0, (long)total, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (r < 0 && r > -4096)
		return EAGAIN;
	char *base = (char *)r;
	if (guard) {
		long g = -EINVAL;
		if (a_load_rlx(&guard_install_works))
			g = goro__sys3(SYS_madvise, base, guard, MADV_GUARD_INSTALL);
		if (g != 0) {
			a_store_rlx(&guard_install_works, 0);
			g = goro__sys3(SYS_mprotect, base, guard, PROT_NONE);
		}
		if (g != 0) {
			goro__sys2(SYS_munmap, base, total);
			return EAGAIN;
		}
	}
	s->map = base;
	s->mapsize = total;
	s->lo = base + guard;
	s->hi = base + total;
	s->guard = guard;
	return 0;
}

void goro__stackfree(struct goro_stack *s)
{
	if (s->map)
		goro__sys2(SYS_munmap, s->map, s->mapsize);
	s->map = NULL;
}
