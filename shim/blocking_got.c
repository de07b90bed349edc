/* Reaching a declared function: every importing object's GOT slot for it
 * (R_X86_64_JUMP_SLOT, R_X86_64_GLOB_DAT) is rewritten to the wrapper
 * (docs/ARCHITECTURE.md, "Declared blocking calls").  Objects are found with
 * dl_iterate_phdr, their relocations through PT_DYNAMIC; a slot inside
 * PT_GNU_RELRO (every slot under -z now) is made writable for the write and
 * read-only again after it.  A library's calls to its own function through
 * a local binding have no slot and cannot be reached. */
#include <elf.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sched/real.h"
#include "sched/runtime.h"
#include "sched/sys.h"
#include "shim/blocking.h"

/* One object's dynamic section.  ld.so relocates the d_ptr entries of a
 * writable dynamic section in place, not the vDSO's (docs/ARCHITECTURE.md,
 * "Declared blocking calls"; as sched/real.c dynptr). */
struct dynrel {
	const ElfW(Sym) *symtab;
	const char *strtab;
	const ElfW(Rela) *rela[2];
	size_t nrela[2];
	ElfW(Addr) relro, relro_end;
};

static bool dynrel_of(const struct dl_phdr_info *info, struct dynrel *d)
{
	const ElfW(Dyn) *dyn = NULL;
	memset(d, 0, sizeof *d);
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_DYNAMIC)
			dyn = (const ElfW(Dyn) *)(info->dlpi_addr + ph->p_vaddr);
		if (ph->p_type == PT_GNU_RELRO) {
			d->relro = info->dlpi_addr + ph->p_vaddr;
			d->relro_end = d->relro + ph->p_memsz;
		}
	}
	for (; dyn && dyn->d_tag != DT_NULL; dyn++) {
		ElfW(Addr) p = dyn->d_un.d_ptr < info->dlpi_addr ? dyn->d_un.d_ptr + info->dlpi_addr : dyn->d_un.d_ptr;
		switch (dyn->d_tag) {
		case DT_SYMTAB: d->symtab = (const ElfW(Sym) *)p; break;
		case DT_STRTAB: d->strtab = (const char *)p; break;
		case DT_JMPREL: d->rela[0] = (const ElfW(Rela) *)p; break;
		case DT_PLTRELSZ: d->nrela[0] = dyn->d_un.d_val / sizeof(ElfW(Rela)); break;
		case DT_RELA: d->rela[1] = (const ElfW(Rela) *)p; break;
		case DT_RELASZ: d->nrela[1] = dyn->d_un.d_val / sizeof(ElfW(Rela)); break;
		default: break;
		}
	}
	return d->symtab && d->strtab && (d->rela[0] || d->rela[1]);
}

/* Store the wrapper into one slot, through RELRO's protection if there. */
static void slot_write(const struct dynrel *d, void **slot, void *wrapper)
{
	ElfW(Addr) a = (ElfW(Addr))slot;
	if (a < d->relro || a >= d->relro_end) {
		__atomic_store_n(slot, wrapper, __ATOMIC_RELEASE);
		return;
	}
	long pg = sysconf(_SC_PAGESIZE);
	void *page = (void *)(a & ~(ElfW(Addr))(pg - 1));
	if (mprotect(page, (size_t)pg, PROT_READ | PROT_WRITE) != 0)
		goro__throw("GORO_BLOCKING: cannot make the GOT page %p writable", page);
	__atomic_store_n(slot, wrapper, __ATOMIC_RELEASE);
	if (mprotect(page, (size_t)pg, PROT_READ) != 0)
		goro__throw("GORO_BLOCKING: cannot make the GOT page %p read-only again", page);
}

/* Does a slot of this object that holds v still await lazy binding (v is
 * inside the object's own segments: its PLT), so that it is bound to e's
 * definition?  (Not dladdr: it takes dl_load_lock, which a dlopen holds
 * while it waits for the dl_load_write_lock this callback runs under.) */
static bool lazy_stub(const struct dl_phdr_info *info, const void *v)
{
	ElfW(Addr) a = (ElfW(Addr))v;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		ElfW(Addr) lo = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && a >= lo && a < lo + ph->p_memsz)
			return true;
	}
	return false;
}

/* Patch e's slots in one object; the number rewritten. */
static int patch_entry(const struct dl_phdr_info *info, const struct dynrel *d, const struct blk_entry *e)
{
	int n = 0;
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < d->nrela[k]; i++) {
			const ElfW(Rela) *r = &d->rela[k][i];
			uint32_t type = ELF64_R_TYPE(r->r_info), sym = ELF64_R_SYM(r->r_info);
			if ((type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) || sym == 0 ||
			    strcmp(d->strtab + d->symtab[sym].st_name, e->name) != 0)
				continue;
			void **slot = (void **)(info->dlpi_addr + r->r_offset);
			void *v = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
			if (v == e->wrapper || (v != e->orig && !(type == R_X86_64_JUMP_SLOT && lazy_stub(info, v))))
				continue;
			slot_write(d, slot, e->wrapper);
			n++;
		}
	}
	return n;
}

struct patch_arg {
	ElfW(Addr) self; /* libgoro's load base: never patched */
	bool report;
};

static int patch_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	const struct patch_arg *pa = arg;
	struct dynrel d;
	if (info->dlpi_addr == pa->self || !dynrel_of(info, &d))
		return 0;
	for (int i = 0; i < goro__nblk; i++) {
		struct blk_entry *e = &goro__blk[i];
		int n = patch_entry(info, &d, e);
		e->patched += n;
		if (n && pa->report)
			goro__errorf("goro: blocking: %s: %d GOT slot%s of %s\n", e->name, n, n == 1 ? "" : "s",
				     *info->dlpi_name ? info->dlpi_name : "the program");
	}
	return 0;
}

/* No lock of goro's: glibc runs dl_iterate_phdr's callbacks under its
 * dl_load_write_lock (G32), so two threads never open a RELRO page's write
 * window at once, and a dlopen nested in a constructor (the lock is
 * recursive) cannot deadlock against one. */
void goro__blk_got_patch(bool report)
{
	static const struct link_map *_Atomic self;
	struct patch_arg pa = { goro__map_once(&self, (const void *)&patch_object, "libgoro")->l_addr, report };
	dl_iterate_phdr(patch_object, &pa);
}
