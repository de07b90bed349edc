/* G stacks: reserved with MAP_NORESERVE (only touched pages cost memory),
 * a guard below each one.
 *
 * The guard uses MADV_GUARD_INSTALL (Linux 6.13+) when the kernel has it:
 * it does not split the mapping, so 100k stacks stay within
 * vm.max_map_count (docs/ARCHITECTURE.md, G25: mprotect guards stop at ~32k).
 * Older kernels get mprotect(PROT_NONE).
 *
 * Small stacks are carved out of batches: one mmap reserves BATCH_BYTES
 * of equal blocks, and one process_madvise (where the kernel accepts it for
 * the calling process, G25) installs every guard of the batch, so creating
 * a thread costs no system call most of the time.  A carved block is freed
 * with its own munmap like any other. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sched/runtime.h"
#include "sched/sys.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef SYS_process_madvise
#define SYS_process_madvise 440
#endif
/* The calling thread (include/uapi/linux/pidfd.h, Linux 6.14+): its mm is
 * the process's.  PIDFD_SELF_THREAD_GROUP (-20000) is refused here. */
#define PIDFD_SELF_THREAD (-10000)

#define PAGE 4096UL
#define BATCH_BYTES (2UL << 20) /* blocks up to 1/8 of this are carved */
#define BATCH_MAX 64            /* blocks per batch, at most */
#define NCARVERS 4              /* sizes batched at once */

GORO_HIDDEN size_t goro__default_stack = 8UL << 20;
static _Atomic int guard_install_works = 1; /* cleared at first EINVAL */
static _Atomic int guard_vector_works = 1;  /* process_madvise on ourselves */

/* The rest of the last batch of one block size. */
struct carver {
	size_t total, guard, hot; /* block size incl. guard; guard; bytes populated at each top */
	char *next;
	int left;
};
static struct carver carvers[NCARVERS];
static unsigned carver_clock;
static struct goro_mutex carve_lock;

static size_t roundup_page(size_t n) { return (n + PAGE - 1) & ~(PAGE - 1); }

/* Guards at the start of n blocks of `total` bytes from base.  0 or -1. */
static int guard_install(char *base, size_t total, size_t guard, int n)
{
	if (n > 1 && a_load_rlx(&guard_vector_works)) {
		struct iovec iov[BATCH_MAX];
		for (int i = 0; i < n; i++)
			iov[i] = (struct iovec){ base + (size_t)i * total, guard };
		long r = goro__sys6(SYS_process_madvise, PIDFD_SELF_THREAD, (long)iov, n, MADV_GUARD_INSTALL, 0, 0);
		if (r == (long)(guard * (size_t)n))
			return 0;
		a_store_rlx(&guard_vector_works, 0);
	}
	for (int i = 0; i < n; i++) {
		char *b = base + (size_t)i * total;
		long g = -EINVAL;
		if (a_load_rlx(&guard_install_works))
			g = goro__sys3(SYS_madvise, b, guard, MADV_GUARD_INSTALL);
		if (g != 0) {
			a_store_rlx(&guard_install_works, 0);
			g = goro__sys3(SYS_mprotect, b, guard, PROT_NONE);
		}
		if (g != 0)
			return -1;
	}
	return 0;
}

/* The top `hot` bytes of n blocks, written in by the kernel in one call
 * (MADV_POPULATE_WRITE): the pages every new thread touches at once, without
 * a fault each.  Best effort. */
static void populate(char *base, size_t total, size_t hot, int n)
{
	struct iovec iov[BATCH_MAX];
	for (int i = 0; i < n; i++)
		iov[i] = (struct iovec){ base + (size_t)(i + 1) * total - hot, hot };
	if (a_load_rlx(&guard_vector_works))
		goro__sys6(SYS_process_madvise, PIDFD_SELF_THREAD, (long)iov, n, MADV_POPULATE_WRITE, 0, 0);
}

/* n blocks of `total` bytes with their guards, or NULL. */
static char *reserve(size_t total, size_t guard, int n)
{
	long r = goro__sys6(SYS_mmap, 0, (long)(total * (size_t)n), PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (r < 0 && r > -4096)
		return NULL;
	if (guard && guard_install((char *)r, total, guard, n) != 0) {
		goro__sys2(SYS_munmap, r, (long)(total * (size_t)n));
		return NULL;
	}
	return (char *)r;
}

/* One block from the batch of its size (a new batch when it is used up). */
static char *carve(size_t total, size_t guard, size_t hot)
{
	goro__lock(&carve_lock);
	struct carver *c = NULL;
	for (int i = 0; i < NCARVERS; i++)
		if (carvers[i].total == total && carvers[i].guard == guard && carvers[i].hot == hot)
			c = &carvers[i];
	if (!c || c->left == 0) {
		int n = (int)(BATCH_BYTES / total);
		n = n > BATCH_MAX ? BATCH_MAX : n;
		char *b = reserve(total, guard, n);
		if (!b) {
			goro__unlock(&carve_lock);
			return NULL;
		}
		if (hot)
			populate(b, total, hot, n);
		if (!c)
			c = &carvers[carver_clock++ % NCARVERS];
		*c = (struct carver){ total, guard, hot, b, n };
	}
	char *b = c->next;
	c->next += total;
	c->left--;
	goro__unlock(&carve_lock);
	return b;
}

/* Returns 0 or an errno value (EAGAIN like pthread_create on ENOMEM).
 * hot: bytes at the top that the caller will touch at once (populated
 * with the batch, where one is used). */
int goro__stackalloc_hot(struct goro_stack *s, size_t size, size_t guard, size_t hot)
{
	size = roundup_page(size);
	guard = roundup_page(guard);
	hot = roundup_page(hot) < size ? roundup_page(hot) : size;
	size_t total = size + guard;
	char *base = total <= BATCH_BYTES / 8 ? carve(total, guard, hot) : reserve(total, guard, 1);
	if (!base)
		return EAGAIN;
	s->map = base;
	s->mapsize = total;
	s->lo = base + guard;
	s->hi = base + total;
	s->guard = guard;
	return 0;
}

int goro__stackalloc(struct goro_stack *s, size_t size, size_t guard)
{
	return goro__stackalloc_hot(s, size, guard, 0);
}

void goro__stackfree(struct goro_stack *s)
{
	if (s->map)
		goro__sys2(SYS_munmap, s->map, s->mapsize);
	s->map = NULL;
}

/* Give the pages of n ranges back to the kernel (MADV_DONTNEED: the next
 * touch finds zeroes), in one process_madvise where the kernel takes it. */
void goro__stack_release(struct iovec *iov, int n)
{
	size_t total = 0;
	for (int i = 0; i < n; i++)
		total += iov[i].iov_len;
	if (n == 0)
		return;
	if (a_load_rlx(&guard_vector_works) &&
	    goro__sys6(SYS_process_madvise, PIDFD_SELF_THREAD, (long)iov, n, MADV_DONTNEED, 0, 0) == (long)total)
		return;
	for (int i = 0; i < n; i++)
		goro__sys3(SYS_madvise, iov[i].iov_base, iov[i].iov_len, MADV_DONTNEED);
}

/* In a fork child: a thread of the parent may have been carving. */
void goro__stack_afterfork(void) { memset(&carve_lock, 0, sizeof carve_lock); }
