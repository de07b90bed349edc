/* dlopen: after the real dlopen, a library that landed in static TLS
 * (initial-exec __thread) gets its TLS image copied into every live G
 * (docs/ARCHITECTURE.md G17; sched/tls.c).
 *
 * ld.so searches the *calling* object's DT_RPATH/DT_RUNPATH, and the
 * caller of the real dlopen is libgoro.  So for a bare file name goro first
 * tries the caller's own search path (with $ORIGIN expanded), then the
 * usual search (LD_LIBRARY_PATH, cache, default directories). */
#include <dlfcn.h>
#include <elf.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sched/atomic.h"

#include "sched/real.h"
#include "sched/runtime.h"
#include "sched/sys.h"
#include "shim/blocking.h"

static const char *caller_searchpath(void *caller, char *origin, size_t olen)
{
	Dl_info info;
	struct link_map *lm = NULL;
	if (!dladdr1(caller, &info, (void **)&lm, RTLD_DL_LINKMAP) || !lm)
		return NULL;
	const char *strtab = NULL, *path = NULL;
	ElfW(Xword) rpath = 0, runpath = 0;
	bool have_rpath = false, have_runpath = false;
	for (const ElfW(Dyn) *d = lm->l_ld; d && d->d_tag != DT_NULL; d++) {
		if (d->d_tag == DT_STRTAB)
			strtab = (const char *)d->d_un.d_ptr;
		else if (d->d_tag == DT_RPATH)
			rpath = d->d_un.d_val, have_rpath = true;
		else if (d->d_tag == DT_RUNPATH)
			runpath = d->d_un.d_val, have_runpath = true;
	}
	if (!strtab || (!have_rpath && !have_runpath))
		return NULL;
	path = strtab + (have_runpath ? runpath : rpath);
	const char *name = lm->l_name && *lm->l_name ? lm->l_name : NULL;
	char exe[PATH_MAX];
	if (!name) {
		ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
		if (n <= 0)
			return NULL;
		exe[n] = 0;
		name = exe;
	}
	(void)snprintf(origin, olen, "%s", name);
	char *slash = strrchr(origin, '/');
	if (slash)
		*slash = 0;
	return path;
}

static void *open_in(const char *path, const char *origin, const char *file, int mode)
{
	char dir[PATH_MAX], full[2 * PATH_MAX + 64];
	while (path && *path) {
		size_t n = strcspn(path, ":");
		(void)snprintf(dir, sizeof dir, "%.*s", (int)n, path);
		path += n + (path[n] == ':');
		const char *o = strstr(dir, "$ORIGIN");
		if (o) {
			(void)snprintf(full, sizeof full, "%.*s%s%s/%s", (int)(o - dir), dir, origin, o + 7, file);
		} else {
			(void)snprintf(full, sizeof full, "%s/%s", dir, file);
		}
		if (strlen(full) < PATH_MAX && access(full, F_OK) == 0)
			return goro__real.dlopen(full, mode);
	}
	return NULL;
}

GORO_EXPORT void *dlopen(const char *file, int mode)
{
	void *h = NULL;
	if (file && !strchr(file, '/')) {
		h = goro__real.dlopen(file, mode | RTLD_NOLOAD);
		if (!h) {
			char origin[PATH_MAX];
			const char *path = caller_searchpath(__builtin_return_address(0), origin, sizeof origin);
			if (path)
				h = open_in(path, origin, file, mode);
		}
	}
	if (!h)
		h = goro__real.dlopen(file, mode);
	if (h && goro__started) {
		goro__tls_dlopen_fixup();
		goro__blocking_dlopen();
	}
	return h;
}

GORO_EXPORT void *dlmopen(Lmid_t lmid, const char *file, int mode)
{
	void *h = goro__real.dlmopen(lmid, file, mode);
	if (h && goro__started)
		goro__tls_dlopen_fixup();
	return h;
}

/* ---- dlsym -----------------------------------------------------------------
 * A program or library that asks for glibc's own pthread_create (jemalloc:
 * dlsym(RTLD_NEXT, "pthread_create")) would make a kernel thread goro never
 * sees.  So a lookup whose answer would be glibc's default version of a
 * function goro interposes gets goro's instead, as if goro sat just in
 * front of libc; every other lookup is glibc's own.  RTLD_NEXT and
 * RTLD_DEFAULT depend on the caller's object, which glibc finds from its
 * return address: the stubs below therefore tail-jump into glibc's dlsym
 * with the caller's return address still on the stack.  Lookups made by
 * goro itself are never redirected, nor dlvsym's: a caller that names a
 * version asks for that very definition (tests/progs/foreign_threads.c
 * makes glibc threads so). */

static const struct link_map *self_map(void)
{
	static const struct link_map *_Atomic self;
	return goro__map_once(&self, (const void *)&self_map, "libgoro");
}

/* RTLD_NEXT from `from`: the first object after it in the search order that
 * defines name is libgoro or libc. */
static bool next_is_ours(const struct link_map *from, const char *name)
{
	const struct link_map *self = self_map(), *libc = goro__libc_map();
	for (const struct link_map *lm = from->l_next; lm; lm = lm->l_next) {
		if (lm == self || lm == libc)
			return true;
		if (goro__elf_lookup(lm, name))
			return false;
	}
	return false;
}

/* goro's function to return instead of glibc's, or NULL: the stub then
 * runs glibc's own lookup. */
GORO_HIDDEN __attribute__((used)) void *goro__dl_pick(void *handle, const char *name, void *caller);
GORO_HIDDEN __attribute__((used)) void *goro__dl_pick(void *handle, const char *name, void *caller)
{
	goro__glibc_dl_init(); /* the stubs' jump targets */
	void *declared = name && (handle == RTLD_DEFAULT || handle == RTLD_NEXT) ? goro__blocking_wrapper(name) : NULL;
	if (declared) /* GORO_BLOCKING: a program that looks it up goes through the wrapper too */
		return declared;
	if (!name || handle == RTLD_DEFAULT) /* goro precedes libc in the global scope */
		return NULL;
	const struct link_map *from = goro__map_of(caller);
	if (!from || from == self_map())
		return NULL;
	void *ours = goro__elf_lookup(self_map(), name);
	if (!ours)
		return NULL;
	static void *_Atomic libc;
	if (!a_load_acq(&libc)) /* a handle with its search list, unlike a bare link map */
		a_store_rel(&libc, goro__real.dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD));
	void *glibc = goro__real_dlsym(libc, name); /* its default version */
	if (!glibc)
		return NULL;
	if (handle == RTLD_NEXT)
		return next_is_ours(from, name) ? ours : NULL;
	return goro__real_dlsym(handle, name) == glibc ? ours : NULL;
}

/* dlsym(handle, name): ask goro__dl_pick with the return address; on NULL,
 * restore the arguments and jump to glibc's dlsym with the caller's frame
 * untouched. */
__asm__(".text\n"
	".globl dlsym\n"
	".type dlsym, @function\n"
	"dlsym:\n"
	"	push %rdi\n"
	"	push %rsi\n"
	"	sub $8, %rsp\n" /* 16-aligned for the call */
	"	mov 24(%rsp), %rdx\n"
	"	call goro__dl_pick\n"
	"	add $8, %rsp\n"
	"	pop %rsi\n"
	"	pop %rdi\n"
	"	test %rax, %rax\n"
	"	jz 1f\n"
	"	ret\n"
	"1:	jmp *goro__glibc_dlsym(%rip)\n"
	".size dlsym, .-dlsym\n");
