/* The closures of GORO_BLOCKING's entries, made with libffcall
 * (docs/ARCHITECTURE.md, "Declared blocking calls").  libffcall is
 * dlopen'ed only when the user declares entries: a process that does not
 * never maps it.  The callback receives the arguments as declared (vacall),
 * avcall calls the original with the same ones, and the P is handed off
 * around it exactly as around an interposed blocking system call. */
#include <avcall.h>
#include <callback.h>
#include <dlfcn.h>
#include <errno.h>

#include "sched/atomic.h"
#include "sched/real.h"
#include "sched/runtime.h"
#include "sched/sys.h"
#include "shim/blocking.h"
#include "shim/shim.h"

#define FFCALL_SONAME "libffcall.so.0"

/* libffcall's entry points, found with dlsym once it is loaded. */
static struct {
	__typeof__(alloc_callback) *alloc;
	__typeof__(callback_start) *cb_start;
	__typeof__(callback_arg_int) *cb_int;
	__typeof__(callback_arg_uint) *cb_uint;
	__typeof__(callback_arg_long) *cb_long;
	__typeof__(callback_arg_ulong) *cb_ulong;
	__typeof__(callback_arg_ptr) *cb_ptr;
	__typeof__(callback_arg_double) *cb_double;
	__typeof__(callback_arg_float) *cb_float;
	__typeof__(callback_return_void) *ret_void;
	__typeof__(callback_return_int) *ret_int;
	__typeof__(callback_return_uint) *ret_uint;
	__typeof__(callback_return_long) *ret_long;
	__typeof__(callback_return_ulong) *ret_ulong;
	__typeof__(callback_return_ptr) *ret_ptr;
	__typeof__(callback_return_double) *ret_double;
	__typeof__(callback_return_float) *ret_float;
	__typeof__(avcall_start) *avc_start;
	__typeof__(avcall_arg_int) *avc_int;
	__typeof__(avcall_arg_uint) *avc_uint;
	__typeof__(avcall_arg_long) *avc_long;
	__typeof__(avcall_arg_ulong) *avc_ulong;
	__typeof__(avcall_arg_ptr) *avc_ptr;
	__typeof__(avcall_arg_double) *avc_double;
	__typeof__(avcall_arg_float) *avc_float;
	__typeof__(avcall_call) *avc_call;
} ff;

union blk_val {
	int i;
	unsigned u;
	long l;
	unsigned long ul;
	void *p;
	double d;
	float f;
};

static void ffcall_load(void)
{
	static const struct { const char *name; size_t off; } syms[] = {
#define S(field, sym) { #sym, __builtin_offsetof(__typeof__(ff), field) }
		S(alloc, alloc_callback), S(cb_start, callback_start), S(cb_int, callback_arg_int),
		S(cb_uint, callback_arg_uint), S(cb_long, callback_arg_long), S(cb_ulong, callback_arg_ulong),
		S(cb_ptr, callback_arg_ptr), S(cb_double, callback_arg_double), S(cb_float, callback_arg_float),
		S(ret_void, callback_return_void), S(ret_int, callback_return_int),
		S(ret_uint, callback_return_uint), S(ret_long, callback_return_long),
		S(ret_ulong, callback_return_ulong), S(ret_ptr, callback_return_ptr),
		S(ret_double, callback_return_double), S(ret_float, callback_return_float),
		S(avc_start, avcall_start), S(avc_int, avcall_arg_int), S(avc_uint, avcall_arg_uint),
		S(avc_long, avcall_arg_long), S(avc_ulong, avcall_arg_ulong), S(avc_ptr, avcall_arg_ptr),
		S(avc_double, avcall_arg_double), S(avc_float, avcall_arg_float), S(avc_call, avcall_call),
#undef S
	};
	if (ff.alloc)
		return;
	void *h = goro__real.dlopen(FFCALL_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		goro__refuse("GORO_BLOCKING declares functions but libffcall cannot be loaded (%s: %s); "
			     "install it (Debian: apt-get install libffcall1b) or unset GORO_BLOCKING",
			     FFCALL_SONAME, dlerror());
	for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
		void *f = goro__real_dlsym(h, syms[i].name);
		if (!f)
			goro__refuse("GORO_BLOCKING: %s has no %s (libffcall 2.x is needed)", FFCALL_SONAME,
				     syms[i].name);
		*(void **)((char *)&ff + syms[i].off) = f;
	}
}

/* Receive the declared arguments (vacall) and return type. */
static void receive(const struct blk_entry *e, va_alist al, union blk_val *a)
{
	static const int vtype[] = { [BT_VOID] = __VAvoid, [BT_INT] = __VAint, [BT_UINT] = __VAuint,
				     [BT_LONG] = __VAlong, [BT_ULONG] = __VAulong, [BT_PTR] = __VAvoidp,
				     [BT_DOUBLE] = __VAdouble, [BT_FLOAT] = __VAfloat };
	ff.cb_start(al, vtype[e->ret], __VA_START_FLAGS);
	for (int i = 0; i < e->nargs; i++) {
		switch (e->args[i]) {
		case BT_INT: a[i].i = ff.cb_int(al); break;
		case BT_UINT: a[i].u = ff.cb_uint(al); break;
		case BT_LONG: a[i].l = ff.cb_long(al); break;
		case BT_ULONG: a[i].ul = ff.cb_ulong(al); break;
		case BT_PTR: a[i].p = ff.cb_ptr(al); break;
		case BT_DOUBLE: a[i].d = ff.cb_double(al); break;
		default: a[i].f = ff.cb_float(al); break;
		}
	}
}

/* Set up the call of the original with the same arguments (avcall). */
static void prepare(const struct blk_entry *e, av_alist *av, const union blk_val *a, union blk_val *r)
{
	static const int atype[] = { [BT_VOID] = __AVvoid, [BT_INT] = __AVint, [BT_UINT] = __AVuint,
				     [BT_LONG] = __AVlong, [BT_ULONG] = __AVulong, [BT_PTR] = __AVvoidp,
				     [BT_DOUBLE] = __AVdouble, [BT_FLOAT] = __AVfloat };
	__avword *args = av->_av_alist_flexarray._av_m_args;
	ff.avc_start(av, args, args + __AV_ALIST_WORDS, e->orig, e->ret == BT_VOID ? NULL : r, atype[e->ret],
		     __AV_START_FLAGS);
	for (int i = 0; i < e->nargs; i++) {
		switch (e->args[i]) {
		case BT_INT: ff.avc_int(av, a[i].i); break;
		case BT_UINT: ff.avc_uint(av, a[i].u); break;
		case BT_LONG: ff.avc_long(av, a[i].l); break;
		case BT_ULONG: ff.avc_ulong(av, a[i].ul); break;
		case BT_PTR: ff.avc_ptr(av, a[i].p); break;
		case BT_DOUBLE: ff.avc_double(av, a[i].d); break;
		default: ff.avc_float(av, a[i].f); break;
		}
	}
}

static void give_back(const struct blk_entry *e, va_alist al, const union blk_val *r)
{
	switch (e->ret) {
	case BT_VOID: ff.ret_void(al); break;
	case BT_INT: ff.ret_int(al, r->i); break;
	case BT_UINT: ff.ret_uint(al, r->u); break;
	case BT_LONG: ff.ret_long(al, r->l); break;
	case BT_ULONG: ff.ret_ulong(al, r->ul); break;
	case BT_PTR: ff.ret_ptr(al, r->p); break;
	case BT_DOUBLE: ff.ret_double(al, r->d); break;
	default: ff.ret_float(al, r->f); break;
	}
}

/* The SysV x86-64 calling convention passes the first 6 integer-class
 * arguments in rdi..r9 and the first 8 floating ones in xmm0..xmm7, each
 * class in order, whatever the other class holds; a float travels in the
 * low 32 bits of its xmm register.  So a call through this one prototype
 * reaches any declared signature that fits in registers, without avcall's
 * generic list (docs/ARCHITECTURE.md, "Declared blocking calls"). */
#define REG_PARAMS long, long, long, long, long, long, double, double, double, double, double, double, double, double
#define REG_ARGS(i, d) (i)[0], (i)[1], (i)[2], (i)[3], (i)[4], (i)[5], (d)[0], (d)[1], (d)[2], (d)[3], (d)[4], (d)[5], (d)[6], (d)[7]
#define NREG_INT 6
#define NREG_FLT 8

/* The registers of e's arguments; false when they do not all fit. */
static bool in_regs(const struct blk_entry *e, const union blk_val *a, long *i, double *d)
{
	int ni = 0, nd = 0;
	for (int k = 0; k < e->nargs; k++)
		nd += e->args[k] == BT_DOUBLE || e->args[k] == BT_FLOAT;
	if (nd > NREG_FLT || e->nargs - nd > NREG_INT)
		return false;
	nd = 0;
	for (int k = 0; k < e->nargs; k++) {
		union { double d; float f; } x = { 0 };
		switch (e->args[k]) {
		case BT_INT: i[ni++] = a[k].i; break;
		case BT_UINT: i[ni++] = (long)a[k].u; break;
		case BT_DOUBLE: d[nd++] = a[k].d; break;
		case BT_FLOAT: x.f = a[k].f; d[nd++] = x.d; break;
		default: i[ni++] = a[k].l; break; /* long, ulong, ptr: 8 bytes as received */
		}
	}
	return true;
}

/* Call the original: directly when its arguments fit in registers, else
 * through avcall. */
static void call_orig(const struct blk_entry *e, const union blk_val *a, union blk_val *r)
{
	long i[NREG_INT] = { 0 };
	double d[NREG_FLT] = { 0 };
	if (!in_regs(e, a, i, d)) {
		av_alist av;
		prepare(e, &av, a, r);
		ff.avc_call(&av);
		return;
	}
	void *f = e->orig;
	if (e->ret == BT_DOUBLE)
		r->d = ((double (*)(REG_PARAMS))f)(REG_ARGS(i, d));
	else if (e->ret == BT_FLOAT)
		r->f = ((float (*)(REG_PARAMS))f)(REG_ARGS(i, d));
	else
		r->l = ((long (*)(REG_PARAMS))f)(REG_ARGS(i, d)); /* an int result is r->i: rax's low half */
}

/* A call declared with '!' is a cancellation point: a cancel while it
 * waits in the kernel at a `syscall` of its own ends the G there, as one
 * in glibc's window does (GORO_CANCELSYS_DECL, sched/cancelsys.c).  on:
 * whether the G may be cancelled so.  A cancel that lands between the
 * look below and the library's `syscall` acts at the next cancellation
 * point (goro cannot look at the flag right before a foreign `syscall`). */
static bool decl_cancelable(struct g *gp, bool on)
{
	if (on && (gp->cancel_state != PTHREAD_CANCEL_ENABLE || gp->exiting))
		return false;
	a_store_rel(&gp->cancelsys, on ? GORO_CANCELSYS_DECL : 0);
	a_store_rel(&gp->cancelable, on);
	return on;
}

/* The closure's body: the original with the P handed off, as an
 * interposed blocking system call (shim/shim.h goro__blocking6).  errno is
 * the call's: goro__exitsyscall preserves it.  A cancellation point only
 * when declared with '!'. */
static void blk_call(void *data, va_alist al)
{
	const struct blk_entry *e = data;
	union blk_val a[GORO_BLK_MAXARGS], r = { 0 };
	receive(e, al, a);
	if (e->cancel)
		GORO_CANCEL_POINT();
	a_fetch_add_rlx(&goro__sched.ndeclared, 1);
	struct g *gp = getg();
	bool c = e->cancel && goro__started && decl_cancelable(gp, true);
	if (c) {
		atomic_thread_fence(memory_order_seq_cst); /* pairs with pthread_cancel's */
		if (goro__cancel_requested(gp)) { /* sent before the flag was seen */
			decl_cancelable(gp, false);
			GORO_CANCEL_POINT();
			c = false;
		}
	}
	goro__entersyscall();
	call_orig(e, a, &r);
	if (c)
		decl_cancelable(gp, false);
	goro__exitsyscall();
	int saved = errno;
	give_back(e, al, &r);
	errno = saved;
}

void goro__blk_ffi_closure(struct blk_entry *e)
{
	ffcall_load();
	e->wrapper = (void *)ff.alloc(blk_call, e);
	if (!e->wrapper)
		goro__refuse("GORO_BLOCKING: libffcall cannot allocate the closure of \"%s\"", e->text);
}
