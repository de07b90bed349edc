/* Declared blocking calls: GORO_BLOCKING (docs/ARCHITECTURE.md, "Declared
 * blocking calls").  Parsing and the wrappers are shim/blocking.c, the
 * libffcall closures shim/blocking_ffi.c, the GOT rewriting
 * shim/blocking_got.c, the built-in glibc entries shim/blocking_glibc.c. */
#ifndef GORO_SHIM_BLOCKING_H
#define GORO_SHIM_BLOCKING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The declarable types; BT_VOID only as a return type. */
enum blk_type { BT_VOID, BT_INT, BT_UINT, BT_LONG, BT_ULONG, BT_PTR, BT_DOUBLE, BT_FLOAT };

#define GORO_BLK_MAX 64      /* entries */
#define GORO_BLK_MAXARGS 12  /* arguments of one entry */
#define GORO_BLK_NAME 128    /* longest library or function name, with its NUL */

struct blk_entry {
	char text[GORO_BLK_NAME * 2 + 128]; /* the entry as written, for messages */
	char lib[GORO_BLK_NAME];             /* "" without a library */
	char name[GORO_BLK_NAME];
	uint8_t ret, nargs, args[GORO_BLK_MAXARGS];
	bool cancel;                         /* a trailing '!' */
	void *orig;                          /* the definition being wrapped */
	void *wrapper;                       /* the libffcall closure */
	int patched;                         /* GOT slots rewritten so far */
	bool warned;                         /* "matched nothing" said once */
};

extern __attribute__((visibility("hidden"))) struct blk_entry goro__blk[GORO_BLK_MAX];
extern __attribute__((visibility("hidden"))) int goro__nblk;
/* GORO_BLOCKING began with '-': the built-in glibc entries are plain calls. */
extern __attribute__((visibility("hidden"))) bool goro__blk_nodefaults;
/* GORO_DEBUG=blocking: one line per patched object and entry. */
extern __attribute__((visibility("hidden"))) bool goro__blk_debug;

/* Parse GORO_BLOCKING's value (refuses bad input: one line, exit 2). */
void goro__blocking_parse(const char *v);
/* Start-up: resolve every entry, make its closure, patch the loaded
 * objects' GOTs.  Refuses an unknown library or a missing function. */
void goro__blocking_install(void);
/* After a dlopen: patch the objects loaded since. */
void goro__blocking_dlopen(void);
/* The wrapper of a declared function, or NULL (dlsym, shim/dl.c). */
void *goro__blocking_wrapper(const char *name);

/* shim/blocking_ffi.c: load libffcall (refuses when it is missing) and make
 * e's closure. */
void goro__blk_ffi_closure(struct blk_entry *e);
/* shim/blocking_got.c: rewrite every GOT slot for the entries' symbols in
 * the objects not yet seen; with report, say what was patched and warn
 * about entries that matched nothing. */
void goro__blk_got_patch(bool report);

#endif
