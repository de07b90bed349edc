/* The real-symbol table (sched/real.h).  Its entries start as lazy stubs, so
 * a call that arrives before goro's constructor (another object's
 * constructor: libGLdispatch calls dlopen(NULL) from its own) resolves the
 * table first.  dlsym itself is interposed (shim/dl.c): glibc's dlsym is
 * found in libc's dynamic symbol table with the ELF GNU hash, so
 * the table never depends on a lookup that goro's own dlsym serves. */
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <string.h>

#include "sched/real.h"
#include "sched/runtime.h"
#include "sched/sys.h"

#define GORO_REAL_LAZY(ret, name, params, args)          \
	static ret lazy_##name params                    \
	{                                                \
		goro__real_init();                       \
		return goro__real.name args;             \
	}
GORO_REAL_FUNCS(GORO_REAL_LAZY)
#undef GORO_REAL_LAZY

#define GORO_REAL_INIT(ret, name, params, args) .name = lazy_##name,
GORO_HIDDEN struct goro_real goro__real = { GORO_REAL_FUNCS(GORO_REAL_INIT) };
#undef GORO_REAL_INIT

/* ---- ELF lookup ------------------------------------------------------------
 * The GNU hash table (DT_GNU_HASH): nbuckets, symoffset, bloom size, bloom
 * shift, the bloom words, the buckets, then one chain word per symbol from
 * symoffset on whose low bit ends a bucket's chain. */
static uint32_t gnu_hash(const char *s)
{
	uint32_t h = 5381;
	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h;
}

/* ld.so relocates the d_ptr entries of a writable dynamic section in place;
 * an address still below the load base is an offset. */
static const void *dynptr(const struct link_map *lm, Elf64_Addr p)
{
	return (const void *)(p < lm->l_addr ? p + lm->l_addr : p);
}

struct dynsyms {
	const uint32_t *ht;
	const Elf64_Sym *symtab;
	const char *strtab;
};

static bool dynsyms(const struct link_map *lm, struct dynsyms *ds)
{
	*ds = (struct dynsyms){ NULL, NULL, NULL };
	for (const Elf64_Dyn *d = lm->l_ld; d && d->d_tag != DT_NULL; d++) {
		if (d->d_tag == DT_GNU_HASH)
			ds->ht = dynptr(lm, d->d_un.d_ptr);
		else if (d->d_tag == DT_SYMTAB)
			ds->symtab = dynptr(lm, d->d_un.d_ptr);
		else if (d->d_tag == DT_STRTAB)
			ds->strtab = dynptr(lm, d->d_un.d_ptr);
	}
	return ds->ht && ds->symtab && ds->strtab && ds->ht[0] != 0;
}

/* The GNU hash table holds only the symbols from symoffset on; the
 * undefined ones (imports) come before. */
bool goro__elf_imports(const struct link_map *lm, const char *name)
{
	struct dynsyms ds;
	if (!dynsyms(lm, &ds))
		return false;
	for (uint32_t i = 1; i < ds.ht[1]; i++)
		if (ds.symtab[i].st_shndx == SHN_UNDEF && strcmp(ds.strtab + ds.symtab[i].st_name, name) == 0)
			return true;
	return false;
}

void *goro__elf_lookup(const struct link_map *lm, const char *name)
{
	struct dynsyms ds;
	if (!dynsyms(lm, &ds))
		return NULL;
	const uint32_t *ht = ds.ht;
	const Elf64_Sym *symtab = ds.symtab;
	const char *strtab = ds.strtab;
	uint32_t nbuckets = ht[0], symoffset = ht[1], bloomsize = ht[2];
	const uint32_t *buckets = (const uint32_t *)((const Elf64_Addr *)(ht + 4) + bloomsize);
	const uint32_t *chain = buckets + nbuckets;
	uint32_t h = gnu_hash(name);
	uint32_t i = buckets[h % nbuckets];
	if (i < symoffset)
		return NULL;
	for (;; i++) {
		uint32_t c = chain[i - symoffset];
		const Elf64_Sym *s = &symtab[i];
		if ((c | 1) == (h | 1) && s->st_shndx != SHN_UNDEF && strcmp(strtab + s->st_name, name) == 0)
			return (void *)(lm->l_addr + s->st_value);
		if (c & 1)
			return NULL;
	}
}

const struct link_map *goro__map_of(const void *addr)
{
	Dl_info info;
	struct link_map *lm = NULL;
	if (!dladdr1(addr, &info, (void **)&lm, RTLD_DL_LINKMAP))
		return NULL;
	return lm;
}

const struct link_map *goro__map_once(const struct link_map *_Atomic *slot, const void *addr, const char *what)
{
	const struct link_map *lm = a_load_acq(slot);
	if (!lm) {
		lm = goro__map_of(addr);
		if (!lm)
			goro__throw("cannot find %s's link map (dladdr1)", what);
		a_store_rel(slot, lm);
	}
	return lm;
}

const struct link_map *goro__libc_map(void)
{
	static const struct link_map *_Atomic libc;
	return goro__map_once(&libc, (const void *)&dladdr1, "libc");
}

GORO_HIDDEN void *_Atomic goro__glibc_dlsym;

void goro__glibc_dl_init(void)
{
	if (a_load_acq(&goro__glibc_dlsym))
		return;
	void *f = goro__elf_lookup(goro__libc_map(), "dlsym");
	if (!f)
		goro__throw("cannot find glibc's dlsym in libc.so.6");
	a_store_rel(&goro__glibc_dlsym, f);
}

void *goro__real_dlsym(void *handle, const char *name)
{
	goro__glibc_dl_init();
	return ((void *(*)(void *, const char *))a_load_rlx(&goro__glibc_dlsym))(handle, name);
}

/* One entry: glibc's function next after libgoro (the caller of the real
 * dlsym here is libgoro, so RTLD_NEXT means "after goro"). */
#define GORO_REAL_RESOLVE(ret, name, params, args)                                        \
	do {                                                                              \
		void *f_ = goro__real_dlsym(RTLD_NEXT, #name);                            \
		if (!f_)                                                                  \
			goro__throw("cannot resolve the real %s: %s", #name, dlerror()); \
		*(void **)&goro__real.name = f_; /* one aligned store */                 \
	} while (0);

void goro__real_init(void)
{
	static _Atomic bool done;
	if (a_load_acq(&done))
		return;
	GORO_REAL_FUNCS(GORO_REAL_RESOLVE)
	a_store_rel(&done, true);
}
