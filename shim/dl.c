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

#include "sched/real.h"
#include "sched/runtime.h"

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
	if (h && goro__started)
		goro__tls_dlopen_fixup();
	return h;
}

GORO_EXPORT void *dlmopen(Lmid_t lmid, const char *file, int mode)
{
	void *h = goro__real.dlmopen(lmid, file, mode);
	if (h && goro__started)
		goro__tls_dlopen_fixup();
	return h;
}
