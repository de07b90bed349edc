/* The execution tracer (GORO_TRACE=file; the debug build's
 * /debug/trace?seconds=N).
 *
 * Each M records into its own chunked buffer (sysmon into one of its own),
 * so recording takes no lock: the owner fills an event and then publishes
 * it with a release store of the chunk's count; a reader takes only
 * published events.  Chunks come from mmap (raw), never malloc.  Events
 * are never recorded from a signal handler.  With tracing off every
 * recording site is one predicted-not-taken branch on goro__tracing.
 *
 * Output: Chrome trace-event JSON (Perfetto, chrome://tracing): process
 * "Ps" with one track per P (a slice per G run), process "Ms" with one
 * track per M (a slice per P held), instant events for steals, hand-offs,
 * preemptions, timers and netpoll wake-ups; scripts/goro-trace summarises
 * it. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sched/runtime.h"
#include "sched/sys.h"

#define CHUNK_EVENTS 8192

struct tev {
	int64_t ts;
	uint64_t goid;
	uint64_t arg;
	const char *reason;
	int32_t p;
	int32_t m;
	uint8_t type;
};

struct tchunk {
	struct tchunk *next;
	_Atomic uint32_t n;
	struct tev ev[CHUNK_EVENTS];
};

struct tracebuf {
	struct tchunk *head, *tail;
	struct tracebuf *next; /* all buffers, for the reader */
};

GORO_HIDDEN _Atomic bool goro__tracing;
static struct tracebuf *_Atomic allbufs;
static struct tracebuf sysmon_buf;
static _Atomic bool capture_busy;
static int64_t trace_t0;

static const char *const evname[] = {
	[TEV_GCREATE] = "create", [TEV_GSTART] = "start", [TEV_GSTOP] = "stop",
	[TEV_GUNBLOCK] = "unblock", [TEV_SYSCALL] = "syscall", [TEV_HANDOFF] = "handoff",
	[TEV_STEAL] = "steal", [TEV_PREEMPT] = "preempt", [TEV_TIMER] = "timer",
	[TEV_NETPOLL] = "netpoll", [TEV_PSTART] = "pstart", [TEV_PSTOP] = "pstop",
};

static void buf_register(struct tracebuf *b)
{
	struct tracebuf *h = a_load_rlx(&allbufs);
	do
		b->next = h;
	while (!atomic_compare_exchange_weak_explicit(&allbufs, &h, b, memory_order_release,
						      memory_order_relaxed));
}

static void *raw_map(size_t size)
{
	long r = goro__sys6(SYS_mmap, 0, (long)size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return r < 0 && r > -4096 ? NULL : (void *)r;
}

void goro__trace_ev(int type, struct g *gp, uint64_t arg, const char *reason)
{
	struct g *cur = getg();
	/* This thread's M (getg()->m may already be the next M of a G this
	 * one just published); sysmon and the debug threads have none. */
	struct m *mp = goro__gsready ? getm() : NULL;
	if (mp && !mp->g0)
		mp = NULL;
	struct tracebuf *b;
	if (mp) {
		b = mp->tracebuf;
		if (!b) {
			b = raw_map(sizeof *b);
			if (!b)
				return;
			mp->tracebuf = b;
			buf_register(b);
		}
	} else if (cur == &goro__sysmon_g) {
		b = &sysmon_buf;
	} else {
		return;
	}
	struct tchunk *c = b->tail;
	if (!c || a_load_rlx(&c->n) == CHUNK_EVENTS) {
		struct tchunk *nc = raw_map(sizeof *c);
		if (!nc)
			return;
		if (c)
			a_store_rel((struct tchunk *_Atomic *)&c->next, nc);
		else
			a_store_rel((struct tchunk *_Atomic *)&b->head, nc);
		b->tail = nc;
		c = nc;
	}
	uint32_t n = a_load_rlx(&c->n);
	struct tev *e = &c->ev[n];
	e->ts = goro__nanotime();
	e->goid = gp ? gp->goid : 0;
	e->arg = arg;
	e->reason = reason;
	e->p = mp && mp->p ? mp->p->id : -1;
	e->m = mp ? (int32_t)mp->id : -1;
	e->type = (uint8_t)type;
	a_store_rel(&c->n, n + 1);
}

/* ---- output --------------------------------------------------------------- */

struct out {
	int fd;
	int err; /* the first write's -errno; then nothing more is written */
	size_t n;
	char buf[65536];
};

static void out_flush(struct out *o)
{
	size_t off = 0;
	while (off < o->n && !o->err) {
		long w = goro__sys3(SYS_write, o->fd, o->buf + off, o->n - off);
		if (w == -EINTR)
			continue;
		if (w <= 0)
			o->err = w < 0 ? (int)w : -EIO;
		else
			off += (size_t)w;
	}
	o->n = 0;
}

static void outf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void outf(struct out *o, const char *fmt, ...)
{
	if (o->err)
		return; /* nothing more will be written: no need to format it */
	if (o->n > sizeof o->buf - 1024)
		out_flush(o);
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(o->buf + o->n, sizeof o->buf - o->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		o->n += (size_t)k < sizeof o->buf - o->n ? (size_t)k : sizeof o->buf - o->n - 1;
}

static int cmp_ts(const void *a, const void *b)
{
	const struct tev *x = a, *y = b;
	return (x->ts > y->ts) - (x->ts < y->ts);
}

struct gname {
	uint64_t goid;
	uintptr_t start;
};

static const char *routine(uintptr_t fn, char *buf, size_t len)
{
	Dl_info di;
	if (!fn)
		return "main";
	if (dladdr((void *)fn, &di) && di.dli_sname)
		return di.dli_sname;
	(void)snprintf(buf, len, "%#lx", (unsigned long)fn);
	return buf;
}

static uintptr_t start_of(const struct gname *names, size_t n, uint64_t goid)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (names[mid].goid < goid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && names[lo].goid == goid ? names[lo].start : 0;
}

static int cmp_goid(const void *a, const void *b)
{
	const struct gname *x = a, *y = b;
	return (x->goid > y->goid) - (x->goid < y->goid);
}

#define US(ns) ((double)((ns) - trace_t0) / 1000.0)

/* Write the events with ts in [from, to] as Chrome JSON: 0, or the
 * -errno of the first write that failed (or -ENOMEM). */
/* The events of every buffer within [from, to], sorted by time, and the
 * start routine of every G created (from all of them). */
struct snapshot {
	struct tev *ev;
	size_t n;
	struct gname *names;
	size_t nn;
};

static int snapshot_take(struct snapshot *sn, int64_t from, int64_t to)
{
	size_t total = 0;
	for (struct tracebuf *b = a_load_acq(&allbufs); b; b = b->next)
		for (struct tchunk *c = a_load_acq((struct tchunk *_Atomic *)&b->head); c;
		     c = a_load_acq((struct tchunk *_Atomic *)&c->next))
			total += a_load_acq(&c->n);
	sn->ev = malloc((total + 1) * sizeof *sn->ev);
	sn->names = malloc((total + 1) * sizeof *sn->names);
	sn->n = sn->nn = 0;
	if (!sn->ev || !sn->names)
		return -ENOMEM;
	for (struct tracebuf *b = a_load_acq(&allbufs); b; b = b->next)
		for (struct tchunk *c = a_load_acq((struct tchunk *_Atomic *)&b->head); c && sn->n < total;
		     c = a_load_acq((struct tchunk *_Atomic *)&c->next)) {
			uint32_t k = a_load_acq(&c->n);
			for (uint32_t i = 0; i < k && sn->n < total; i++) {
				if (c->ev[i].type == TEV_GCREATE)
					sn->names[sn->nn++] = (struct gname){ c->ev[i].goid, (uintptr_t)c->ev[i].arg };
				if (c->ev[i].ts >= from && c->ev[i].ts <= to)
					sn->ev[sn->n++] = c->ev[i];
			}
		}
	qsort(sn->ev, sn->n, sizeof *sn->ev, cmp_ts);
	qsort(sn->names, sn->nn, sizeof *sn->names, cmp_goid);
	return 0;
}

/* The JSON writer's state: the slices still open, per P the running G,
 * per M the held P. */
struct jw {
	struct out *o;
	const struct snapshot *sn;
	int32_t np, nm;
	struct { uint64_t goid; int64_t ts; } *prun;
	struct { int32_t p; int64_t ts; } *mheld;
	char rb[32];
};

/* A G's slice on P p, from its start to ts, ended by `end`. */
static void write_gslice(struct jw *w, int32_t p, int64_t ts, const char *end)
{
	uint64_t goid = w->prun[p].goid;
	outf(w->o, ",\n{\"ph\":\"X\",\"pid\":1,\"tid\":%d,\"ts\":%.3f,\"dur\":%.3f,"
		   "\"name\":\"G%llu %s\",\"args\":{\"goid\":%llu,\"end\":\"%s\"}}",
	     p, US(w->prun[p].ts), (double)(ts - w->prun[p].ts) / 1000.0, (unsigned long long)goid,
	     routine(start_of(w->sn->names, w->sn->nn, goid), w->rb, sizeof w->rb), (unsigned long long)goid,
	     end);
	w->prun[p].goid = 0;
}

/* M m's slice holding its P, up to ts. */
static void write_mslice(struct jw *w, int32_t m, int64_t ts)
{
	outf(w->o, ",\n{\"ph\":\"X\",\"pid\":2,\"tid\":%d,\"ts\":%.3f,\"dur\":%.3f,\"name\":\"P%d\"}", m,
	     US(w->mheld[m].ts), (double)(ts - w->mheld[m].ts) / 1000.0, w->mheld[m].p);
	w->mheld[m].p = -1;
}

static void write_event(struct jw *w, const struct tev *e)
{
	bool pok = e->p >= 0 && e->p < w->np;
	bool mok = e->m >= 0 && e->m < w->nm;
	/* A G slice on its P ends at its stop, at the P's release, or when
	 * the next G starts there. */
	if (pok && w->prun[e->p].goid && (e->type == TEV_GSTART || e->type == TEV_GSTOP || e->type == TEV_PSTOP))
		write_gslice(w, e->p, e->ts,
			     e->type == TEV_GSTART ? "switch" : e->reason ? e->reason : evname[e->type]);
	switch (e->type) {
	case TEV_GSTART:
		if (pok) {
			w->prun[e->p].goid = e->goid;
			w->prun[e->p].ts = e->ts;
		}
		break;
	case TEV_GSTOP:
		break;
	case TEV_PSTART:
		if (mok) {
			w->mheld[e->m].p = (int32_t)e->arg;
			w->mheld[e->m].ts = e->ts;
		}
		break;
	case TEV_PSTOP:
		if (mok && w->mheld[e->m].p >= 0)
			write_mslice(w, e->m, e->ts);
		break;
	default:
		outf(w->o, ",\n{\"ph\":\"i\",\"s\":\"t\",\"pid\":%d,\"tid\":%d,\"ts\":%.3f,\"name\":\"%s\","
			   "\"args\":{\"goid\":%llu,\"arg\":%llu%s%s%s}}",
		     pok ? 1 : 2, pok ? e->p : (mok ? e->m : 999), US(e->ts), evname[e->type],
		     (unsigned long long)e->goid, (unsigned long long)e->arg, e->reason ? ",\"reason\":\"" : "",
		     e->reason ? e->reason : "", e->reason ? "\"" : "");
	}
}

static void write_tracks(struct jw *w, bool ps)
{
	if (ps) {
		outf(w->o, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
		outf(w->o, "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":1,\"args\":{\"name\":\"Ps\"}},\n");
		outf(w->o, "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":2,\"args\":{\"name\":\"Ms\"}}");
		for (int32_t i = 0; i < w->np; i++)
			outf(w->o, ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,\"tid\":%d,\"args\":{\"name\":\"P%d\"}}",
			     i, i);
		return;
	}
	for (int32_t i = 0; i < w->nm && i < 4096; i++)
		outf(w->o, ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":2,\"tid\":%d,\"args\":{\"name\":\"M%d\"}}", i,
		     i);
	outf(w->o, ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":2,\"tid\":999,\"args\":{\"name\":\"sysmon\"}}");
	outf(w->o, "\n]}\n");
}

static int write_json(int fd, int64_t from, int64_t to)
{
	struct snapshot sn;
	struct out *o = malloc(sizeof *o);
	struct jw w = { .o = o, .sn = &sn, .np = goro__gomaxprocs, .nm = (int32_t)goro__sched.mnext + 1 };
	w.prun = calloc((size_t)w.np, sizeof *w.prun);
	w.mheld = calloc((size_t)w.nm, sizeof *w.mheld);
	int err = snapshot_take(&sn, from, to);
	if (err == 0 && (!o || !w.prun || !w.mheld))
		err = -ENOMEM;
	if (err == 0) {
		trace_t0 = from;
		o->fd = fd;
		o->err = 0;
		o->n = 0;
		for (int32_t i = 0; i < w.nm; i++)
			w.mheld[i].p = -1;
		write_tracks(&w, true);
		for (size_t i = 0; i < sn.n; i++)
			write_event(&w, &sn.ev[i]);
		/* Close what is still open at the end of the window. */
		int64_t end = sn.n ? sn.ev[sn.n - 1].ts : from;
		for (int32_t p = 0; p < w.np; p++)
			if (w.prun[p].goid)
				write_gslice(&w, p, end, "running");
		for (int32_t i = 0; i < w.nm; i++)
			if (w.mheld[i].p >= 0)
				write_mslice(&w, i, end);
		write_tracks(&w, false);
		out_flush(o);
		err = o->err;
	}
	free(w.prun);
	free(w.mheld);
	free(sn.ev);
	free(sn.names);
	free(o);
	return err;
}

/* ---- GORO_TRACE=file: the whole run ----------------------------------------- */

/* The trace is written at exit, so a name that cannot be written is found
 * out before main (goro__trace_prepare; preload/config.c refuses it), and a
 * write that fails at exit (a full file system, RLIMIT_FSIZE) never leaves
 * a truncated file under the requested name: the JSON goes to a temporary
 * file in the same directory, renamed over the name only when every write
 * and the close succeeded, and removed otherwise.  A name that exists and
 * is not a regular file (/dev/null, a FIFO) is written in place: renaming
 * over it would replace the device or FIFO itself. */

static int64_t run_start;
static char trace_path[PATH_MAX]; /* absolute: the program may chdir before exit */
static size_t trace_dirlen;       /* trace_path[0, trace_dirlen) is its directory, '/' included */
static bool trace_inplace;

/* Creates a new temporary file beside trace_path (O_EXCL: never anyone
 * else's) and puts its name in name; the fd, or -errno. */
static int tmp_create(char *name, size_t len)
{
	long pid = goro__sys0(SYS_getpid);
	long fd = -EEXIST;
	for (int i = 0; i < 100 && fd == -EEXIST; i++) {
		(void)snprintf(name, len, "%.*s.goro-trace-%ld-%d.tmp", (int)trace_dirlen, trace_path, pid, i);
		fd = goro__sys4(SYS_openat, AT_FDCWD, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	}
	return (int)fd;
}

/* GORO_TRACE=v, checked before main: the absolute name the trace will be
 * written to, or NULL with what is accepted and why v is not in why. */
const char *goro__trace_prepare(const char *v, char *why, size_t whylen)
{
	static const char accepted[] = "a writable file path";
	size_t len = strlen(v), k = 0;
	if (!len) {
		(void)snprintf(why, whylen, "%s", accepted);
		return NULL;
	}
	if (v[0] != '/') {
		long r = goro__sys2(SYS_getcwd, trace_path, sizeof trace_path);
		if (r < 0) {
			(void)snprintf(why, whylen, "%s (the current directory: %s)", accepted, strerror((int)-r));
			return NULL;
		}
		k = strlen(trace_path);
		if (k > 1)
			trace_path[k++] = '/';
	}
	if (k + len >= sizeof trace_path) {
		(void)snprintf(why, whylen, "%s (%s)", accepted, strerror(ENAMETOOLONG));
		return NULL;
	}
	memcpy(trace_path + k, v, len + 1);
	if (v[len - 1] == '/') {
		(void)snprintf(why, whylen, "%s, not a directory", accepted);
		return NULL;
	}
	struct stat st;
	long r = goro__sys4(SYS_newfstatat, AT_FDCWD, trace_path, &st, 0);
	if (r == 0 && S_ISDIR(st.st_mode)) {
		(void)snprintf(why, whylen, "%s, not a directory", accepted);
		return NULL;
	}
	if (r == 0) {
		/* A symbolic link: the trace goes to the file it names, as
		 * open() would write it, so that name is kept (a rename over
		 * the link would replace the link). */
		char *real = realpath(trace_path, NULL);
		if (real && strlen(real) < sizeof trace_path)
			strcpy(trace_path, real);
		free(real);
		r = goro__sys3(SYS_faccessat, AT_FDCWD, trace_path, W_OK);
		if (r < 0) {
			(void)snprintf(why, whylen, "%s (%s)", accepted, strerror((int)-r));
			return NULL;
		}
		if (!S_ISREG(st.st_mode)) {
			trace_inplace = true;
			return trace_path;
		}
	} else if (r != -ENOENT || goro__sys4(SYS_newfstatat, AT_FDCWD, trace_path, &st,
					      AT_SYMLINK_NOFOLLOW) == 0) {
		(void)snprintf(why, whylen, "%s (%s)", accepted,
			       r == -ENOENT ? "a symbolic link to a missing file" : strerror((int)-r));
		return NULL;
	}
	trace_dirlen = (size_t)(strrchr(trace_path, '/') - trace_path) + 1;
	char tmp[PATH_MAX + 64];
	int fd = tmp_create(tmp, sizeof tmp);
	if (fd < 0) {
		(void)snprintf(why, whylen, "%s (cannot create a file in its directory: %s)", accepted,
			       strerror(-fd));
		return NULL;
	}
	goro__sys1(SYS_close, fd);
	goro__sys1(SYS_unlink, tmp);
	return trace_path;
}

/* The kernel's struct sigaction (rt_sigaction(2)). */
struct ksigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

static void trace_failed(const char *what, int err)
{
	goro__write_err("goro: GORO_TRACE=\"");
	goro__write_err(trace_path);
	goro__errorf("\": %s: %s; %s\n", what, strerror(-err),
		     trace_inplace ? "the trace is incomplete" : "no trace written");
}

static void write_at_exit(void)
{
	if (!goro__cfg.trace)
		return;
	a_store_rel(&goro__tracing, false);
	char tmp[PATH_MAX + 64];
	int fd = trace_inplace ? (int)goro__sys3(SYS_openat, AT_FDCWD, trace_path, O_WRONLY | O_TRUNC | O_CLOEXEC)
			       : tmp_create(tmp, sizeof tmp);
	if (fd < 0) {
		trace_failed(trace_inplace ? "cannot open it" : "cannot create a temporary file beside it", fd);
		return;
	}
	/* Under RLIMIT_FSIZE a write past the limit also raises SIGXFSZ,
	 * which would kill the program here, at exit, where it never wrote
	 * natively: ignored while the trace is written (a signal raised
	 * while ignored is discarded), then put back as it was. */
	struct ksigaction ign = { .handler = SIG_IGN }, old;
	bool restore = goro__sys4(SYS_rt_sigaction, SIGXFSZ, &ign, &old, sizeof old.mask) == 0;
	int e = write_json(fd, run_start, INT64_MAX);
	const char *what = e == -ENOMEM ? "cannot build it" : "write failed";
	long c = goro__sys1(SYS_close, fd);
	if (!e && c < 0) {
		e = (int)c;
		what = "close failed";
	}
	if (restore)
		goro__sys4(SYS_rt_sigaction, SIGXFSZ, &old, NULL, sizeof old.mask);
	if (!e && !trace_inplace) {
		long r = goro__sys2(SYS_rename, tmp, trace_path);
		if (r < 0) {
			e = (int)r;
			what = "rename failed";
		}
	}
	if (e) {
		if (!trace_inplace)
			goro__sys1(SYS_unlink, tmp);
		trace_failed(what, e);
	}
}

void goro__trace_init(void)
{
	buf_register(&sysmon_buf);
	if (!goro__cfg.trace)
		return;
	run_start = goro__nanotime();
	a_store_rel(&goro__tracing, true);
	/* M0 took P0 before the tracer started: open its slice. */
	goro__trace_ev(TEV_PSTART, NULL, 0, NULL);
	if (atexit(write_at_exit) != 0)
		goro__write_err("goro: cannot register the trace writer\n");
}

/* The debug endpoint: record for ns, then write JSON to fd.  Never inlined:
 * tests/debug.bats finds the tracer in a build by this symbol. */
__attribute__((noinline)) int goro__trace_capture(int fd, int64_t ns)
{
	bool f = false;
	if (!a_cas(&capture_busy, &f, true))
		return -EBUSY;
	bool was = a_load_acq(&goro__tracing);
	int64_t from = goro__nanotime();
	a_store_rel(&goro__tracing, true);
	struct timespec ts = { ns / 1000000000LL, ns % 1000000000LL };
	goro__sys2(SYS_nanosleep, &ts, NULL);
	int64_t to = goro__nanotime();
	if (!was)
		a_store_rel(&goro__tracing, false);
	int e = write_json(fd, from, to);
	a_store_rel(&capture_busy, false);
	return e;
}
