/* Debug endpoints (make DEBUG=1 only): a small HTTP/1.0 server on
 * GORO_DEBUG_ADDR, a loopback address (127.0.0.1:PORT, localhost:PORT,
 * [::1]:PORT) or a unix socket path starting with '/'.
 *
 *   /debug/sched              schedtrace snapshot with every P and G
 *   /debug/goroutines         every G: id, name, state, wait reason, start
 *   /debug/vars               the counters as one JSON object
 *   /debug/trace?seconds=N    Chrome trace-event JSON of the next N s (1..60)
 *
 * The server runs on real kernel threads outside the scheduler: made with
 * glibc's own pthread_create, every signal the program could see blocked,
 * and nothing but raw system calls (sched/sys.h) and libc functions goro
 * does not interpose: goro's read, write, accept, close, ... assume a G.
 * getg() on these threads is debug_g, a G with no M, so the runtime locks
 * the reporters take never touch an M's lock count.
 *
 * A report is rendered into a memfd first and then sent: the reporters hold
 * runtime locks (allglock) while they write, and a client that does not read
 * must not stall the program.  It also gives every answer its status (a
 * trace that fails is not a 200) and a Content-Length.
 *
 * The whole file is compiled only with -DGORO_DEBUG_BUILD: the normal
 * libgoro.so has no listener, no symbol and no string of it. */
#ifdef GORO_DEBUG_BUILD

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sched/real.h"
#include "preload/preload.h"
#include "sched/runtime.h"
#include "sched/sys.h"

#define DEBUG_MAX_CONNS 16          /* connections served at once, then 503 */
#define DEBUG_HDR_MAX 8192          /* request line + headers */
#define DEBUG_IO_TIMEOUT_S 5        /* a whole connection: request, answer, drain */
#define DEBUG_TRACE_MAX_S 60
#define DEBUG_DRAIN_MAX (64L * 1024) /* unread request bytes drained before close */
#define DEBUG_ANSWER_NS (1000LL * 1000 * 1000) /* an error answered once the time is up */

/* The tracer (sched/trace.c) may be absent: then the endpoint answers 501. */


static struct g debug_g; /* getg() on the debug threads: no M, no P */
static _Atomic int listen_fd = -1; /* one of goro's own fds (goro__fd_hide) */
static _Atomic int nconns;
static char unix_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static int owner_pid;

/* ---- address ------------------------------------------------------------- */

union debug_addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	struct sockaddr_un un;
};

static __attribute__((noreturn)) void refuse_addr(const char *val, const char *why)
{
	goro__refuse("GORO_DEBUG_ADDR=\"%s\" is not valid: %s", val, why);
}

static const char accepted[] = "expected 127.0.0.1:PORT, localhost:PORT or [::1]:PORT (PORT 1-65535), "
			       "or a unix socket path starting with /";

/* Strict decimal port 1..65535; -1 if not. */
static int parse_port(const char *s)
{
	long v = 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 65535)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v >= 1 && v <= 65535 ? (int)v : -1;
}

/* Fills *a from val; exits with status 2 on anything but a loopback
 * address or an absolute unix socket path. */
static socklen_t parse_addr(const char *val, union debug_addr *a)
{
	memset(a, 0, sizeof *a);
	if (val[0] == '/') {
		size_t n = strlen(val);
		if (n >= sizeof a->un.sun_path)
			refuse_addr(val, "a unix socket path must be shorter than 108 bytes");
		a->un.sun_family = AF_UNIX;
		memcpy(a->un.sun_path, val, n + 1);
		return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	}
	char host[64];
	const char *colon;
	if (val[0] == '[') {
		const char *rb = strchr(val, ']');
		if (!rb || rb[1] != ':' || (size_t)(rb - val - 1) >= sizeof host)
			refuse_addr(val, accepted);
		memcpy(host, val + 1, (size_t)(rb - val - 1));
		host[rb - val - 1] = 0;
		colon = rb + 1;
		if (inet_pton(AF_INET6, host, &a->in6.sin6_addr) != 1)
			refuse_addr(val, accepted);
		if (!IN6_IS_ADDR_LOOPBACK(&a->in6.sin6_addr))
			refuse_addr(val, "refusing to serve the debug endpoints on a non-loopback address; "
					 "use 127.0.0.1:PORT, [::1]:PORT or a unix socket path starting with /");
		a->in6.sin6_family = AF_INET6;
	} else {
		colon = strrchr(val, ':');
		if (!colon || (size_t)(colon - val) >= sizeof host)
			refuse_addr(val, accepted);
		memcpy(host, val, (size_t)(colon - val));
		host[colon - val] = 0;
		if (strcmp(host, "localhost") == 0)
			strcpy(host, "127.0.0.1");
		if (inet_pton(AF_INET, host, &a->in.sin_addr) != 1) {
			struct in6_addr a6;
			/* "::1:6060", "0.0.0.0", "" (all interfaces) and names */
			if (!host[0] || strcmp(host, "*") == 0 || inet_pton(AF_INET6, host, &a6) == 1)
				refuse_addr(val, "refusing to serve the debug endpoints on a non-loopback address; "
						 "use 127.0.0.1:PORT, [::1]:PORT or a unix socket path starting with /");
			refuse_addr(val, accepted);
		}
		if ((ntohl(a->in.sin_addr.s_addr) >> 24) != 127)
			refuse_addr(val, "refusing to serve the debug endpoints on a non-loopback address; "
					 "use 127.0.0.1:PORT, [::1]:PORT or a unix socket path starting with /");
		a->in.sin_family = AF_INET;
	}
	int port = parse_port(colon + 1);
	if (port < 0)
		refuse_addr(val, accepted);
	if (a->sa.sa_family == AF_INET6) {
		a->in6.sin6_port = htons((uint16_t)port);
		return sizeof a->in6;
	}
	a->in.sin_port = htons((uint16_t)port);
	return sizeof a->in;
}

/* A socket file left by a process that died: nobody accepts on it. */
static bool stale_unix_socket(const union debug_addr *a, socklen_t len)
{
	struct stat st;
	if (goro__sys4(SYS_newfstatat, AT_FDCWD, a->un.sun_path, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !S_ISSOCK(st.st_mode))
		return false;
	long s = goro__sys3(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return false;
	long r = goro__sys3(SYS_connect, s, &a->sa, len);
	goro__sys1(SYS_close, s);
	return r == -ECONNREFUSED;
}

static void unlink_at_exit(void)
{
	if (unix_path[0] && goro__sys0(SYS_getpid) == owner_pid)
		goro__sys1(SYS_unlink, unix_path);
}

/* A forked child must not keep the parent's port or path: the parent's
 * listener thread is not in the child. */
static void atfork_child(void)
{
	goro__fd_close_own(&listen_fd);
}

/* ---- connections ------------------------------------------------------------ */

static void set_timeout_us(int fd, int opt, long us)
{
	struct timeval tv = { us / 1000000, us % 1000000 };
	goro__sys6(SYS_setsockopt, fd, SOL_SOCKET, opt, (long)&tv, sizeof tv, 0);
}

/* When this thread's connection must be done with (DEBUG_IO_TIMEOUT_S
 * after it started, plus a trace's capture time).  Every read and write of
 * the connection -- the request, the answer, the drain -- is bounded by
 * what is left of it, so a client that trickles bytes at any stage holds
 * its slot no longer than that. */
static __thread int64_t conn_deadline;

/* Bound the next read (SO_RCVTIMEO) or write (SO_SNDTIMEO) on fd by what is
 * left of the connection's time, and by max_us; false when none is left. */
static bool conn_timeout(int fd, int opt, int64_t max_us)
{
	int64_t left = (conn_deadline - goro__nanotime()) / 1000;
	if (left < 1)
		return false;
	set_timeout_us(fd, opt, (long)(left < max_us ? left : max_us));
	return true;
}

static bool send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		if (!conn_timeout(fd, SO_SNDTIMEO, INT64_MAX))
			return false;
		long w = goro__sys3(SYS_write, fd, p, n);
		if (w == -EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static void send_header(int fd, const char *status, const char *type, long long length)
{
	char h[256];
	int n = snprintf(h, sizeof h,
			 "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %lld\r\nConnection: close\r\n\r\n",
			 status, type, length);
	if (n > 0 && n < (int)sizeof h)
		(void)send_all(fd, h, (size_t)n);
}

static void send_error(int fd, const char *status, const char *msg)
{
	char body[256];
	int n = snprintf(body, sizeof body, "%s\n", msg);
	if (n < 0 || n >= (int)sizeof body)
		n = 0;
	send_header(fd, status, "text/plain", n);
	(void)send_all(fd, body, (size_t)n);
}

enum report { R_NONE, R_SCHED, R_GOROUTINES, R_VARS, R_TRACE, R_INDEX };

static const char index_text[] = "goro debug endpoints:\n"
				 "  /debug/sched              scheduler snapshot (schedtrace with every P and G)\n"
				 "  /debug/goroutines         every goroutine: id, name, state, wait reason, start routine\n"
				 "  /debug/vars               counters as JSON\n"
				 "  /debug/trace?seconds=N    Chrome trace-event JSON of the next N seconds (1-60)\n";

/* Renders the report into a memfd, then sends the header and the body. */
static void serve_report(int fd, enum report r, int seconds)
{
	if (r == R_INDEX) {
		send_header(fd, "200 OK", "text/plain", (long long)sizeof index_text - 1);
		(void)send_all(fd, index_text, sizeof index_text - 1);
		return;
	}
	int body = (int)goro__sys2(SYS_memfd_create, "goro-debug", MFD_CLOEXEC);
	if (body < 0) {
		char msg[128];
		(void)snprintf(msg, sizeof msg, "cannot buffer the report: memfd_create: %s", strerror(-body));
		send_error(fd, "500 Internal Server Error", msg);
		return;
	}
	const char *type = "text/plain";
	switch (r) {
	case R_SCHED:
		goro__schedtrace_fd(body, true);
		break;
	case R_GOROUTINES:
		goro__dump_gs_fd(body);
		break;
	case R_VARS:
		type = "application/json";
		goro__stats_json_fd(body);
		break;
	case R_TRACE: {
		type = "application/json";
		/* the capture's seconds are not the client's */
		conn_deadline += (int64_t)seconds * 1000000000LL;
		int e = goro__trace_capture(body, (int64_t)seconds * 1000000000LL);
		if (e == -EBUSY) {
			send_error(fd, "409 Conflict", "a trace is already being captured; try again when it is done");
			goro__sys1(SYS_close, body);
			return;
		}
		if (e < 0) {
			char msg[128];
			(void)snprintf(msg, sizeof msg, "trace capture failed: %s", strerror(-e));
			send_error(fd, "500 Internal Server Error", msg);
			goro__sys1(SYS_close, body);
			return;
		}
		break;
	}
	case R_INDEX:
	case R_NONE:
		break;
	}
	long size = goro__sys3(SYS_lseek, body, 0, SEEK_END);
	if (size < 0) {
		send_error(fd, "500 Internal Server Error", "cannot size the report");
		goro__sys1(SYS_close, body);
		return;
	}
	send_header(fd, "200 OK", type, size);
	off_t off = 0;
	while (off < size && conn_timeout(fd, SO_SNDTIMEO, INT64_MAX)) {
		long w = goro__sys4(SYS_sendfile, fd, body, &off, (size_t)(size - off));
		if (w == -EINTR)
			continue;
		if (w <= 0)
			break;
	}
	goro__sys1(SYS_close, body);
}

/* "seconds=N", N a whole number 1..60 (one or two digits, no sign); -1
 * if not. */
static int parse_seconds(const char *q, size_t n)
{
	if (n < 9 || memcmp(q, "seconds=", 8) != 0)
		return -1;
	q += 8;
	n -= 8;
	if (n == 0 || n > 2)
		return -1;
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (q[i] < '0' || q[i] > '9')
			return -1;
		v = v * 10 + (q[i] - '0');
	}
	return v >= 1 && v <= DEBUG_TRACE_MAX_S ? v : -1;
}

static bool path_is(const char *p, size_t n, const char *want)
{
	return strlen(want) == n && memcmp(p, want, n) == 0;
}

/* Read the request's header section ("GET <target> HTTP/1.x", headers
 * ignored) into buf (NUL-terminated) within the connection's time.
 * false: answered with an error, or the client left. */
static bool read_request(int fd, char *buf)
{
	size_t len = 0;
	buf[0] = 0;
	while (!strstr(buf, "\r\n\r\n") && !strstr(buf, "\n\n")) {
		if (len == DEBUG_HDR_MAX) {
			send_error(fd, "400 Bad Request", "request header section over 8 KiB");
			return false;
		}
		long r = -EAGAIN;
		if (conn_timeout(fd, SO_RCVTIMEO, INT64_MAX))
			r = goro__sys3(SYS_read, fd, buf + len, DEBUG_HDR_MAX - len);
		if (r == -EINTR)
			continue;
		if (r == -EAGAIN) {
			/* the answer gets a moment of its own */
			conn_deadline = goro__nanotime() + DEBUG_ANSWER_NS;
			send_error(fd, "408 Request Timeout", "no complete request within 5 seconds");
			return false;
		}
		if (r <= 0)
			return false; /* the client went away */
		if (memchr(buf + len, 0, (size_t)r)) {
			send_error(fd, "400 Bad Request", "NUL byte in the request");
			return false;
		}
		len += (size_t)r;
		buf[len] = 0;
	}
	return true;
}

/* "GET <target> HTTP/1.x": the target and its length through the out
 * parameters.  false: answered with 400 or 405. */
static bool parse_request_line(int fd, const char *buf, const char **target, size_t *tlen)
{
	size_t linelen = strcspn(buf, "\r\n");
	const char *sp1 = memchr(buf, ' ', linelen);
	const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', linelen - (size_t)(sp1 + 1 - buf)) : NULL;
	if (!sp1 || !sp2 || sp1 == buf || sp2 == sp1 + 1 || (size_t)(buf + linelen - (sp2 + 1)) != 8 ||
	    memcmp(sp2 + 1, "HTTP/1.", 7) != 0 || sp2[8] < '0' || sp2[8] > '9') {
		send_error(fd, "400 Bad Request", "expected: GET <path> HTTP/1.x");
		return false;
	}
	*target = sp1 + 1;
	*tlen = (size_t)(sp2 - *target);
	for (size_t i = 0; i < *tlen; i++)
		if ((unsigned char)(*target)[i] <= ' ' || (unsigned char)(*target)[i] >= 0x7f) {
			send_error(fd, "400 Bad Request", "bad character in the request target");
			return false;
		}
	for (const char *m = buf; m < sp1; m++)
		if (*m < 'A' || *m > 'Z') {
			send_error(fd, "400 Bad Request", "expected: GET <path> HTTP/1.x");
			return false;
		}
	if ((*target)[0] != '/') {
		send_error(fd, "400 Bad Request", "the request target must be a path starting with /");
		return false;
	}
	if (sp1 - buf != 3 || memcmp(buf, "GET", 3) != 0) {
		send_error(fd, "405 Method Not Allowed", "only GET is served");
		return false;
	}
	return true;
}

/* The report a path names; R_NONE when none (answered with 404). */
static enum report route(int fd, const char *path, size_t plen)
{
	static const struct { const char *path; enum report r; } routes[] = {
		{ "/debug/sched", R_SCHED }, { "/debug/goroutines", R_GOROUTINES }, { "/debug/vars", R_VARS },
		{ "/debug/trace", R_TRACE }, { "/debug", R_INDEX },	{ "/debug/", R_INDEX },
	};
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
		if (path_is(path, plen, routes[i].path))
			return routes[i].r;
	send_error(fd, "404 Not Found", "unknown path; see /debug/ for the endpoints");
	return R_NONE;
}

static void handle(int fd)
{
	char buf[DEBUG_HDR_MAX + 1];
	const char *target;
	size_t tlen;
	if (!read_request(fd, buf) || !parse_request_line(fd, buf, &target, &tlen))
		return;
	const char *q = memchr(target, '?', tlen);
	size_t plen = q ? (size_t)(q - target) : tlen;
	size_t qlen = q ? tlen - plen - 1 : 0;
	if (q)
		q++;
	enum report r = route(fd, target, plen);
	if (r == R_NONE)
		return;
	int seconds = 0;
	if (r == R_TRACE) {
		seconds = q ? parse_seconds(q, qlen) : -1;
		if (seconds < 0) {
			send_error(fd, "400 Bad Request", "expected /debug/trace?seconds=N with N a whole number from 1 to 60");
			return;
		}
	} else if (qlen > 0) {
		send_error(fd, "400 Bad Request", "this endpoint takes no query parameters");
		return;
	}
	serve_report(fd, r, seconds);
}

/* Half-close, then read what the client still sends (for at most a
 * second, within the connection's time), so closing with unread data
 * does not reset the connection under the answer. */
static void finish(int fd)
{
	goro__sys2(SYS_shutdown, fd, SHUT_WR);
	char sink[4096];
	long total = 0;
	while (total < DEBUG_DRAIN_MAX && conn_timeout(fd, SO_RCVTIMEO, 1000000)) {
		long r = goro__sys3(SYS_read, fd, sink, sizeof sink);
		if (r == -EINTR)
			continue;
		if (r <= 0)
			break;
		total += r;
	}
	goro__sys1(SYS_close, fd);
}

static void *serve_conn(void *arg)
{
	struct m self;
	goro__thread_as(&self, &debug_g);
	int fd = (int)(intptr_t)arg;
	conn_deadline = goro__nanotime() + DEBUG_IO_TIMEOUT_S * 1000000000LL;
	handle(fd);
	finish(fd);
	a_fetch_add(&nconns, -1);
	return NULL;
}

/* Every signal blocked but nptl's own (SIGCANCEL 32, SIGSETXID 33), which
 * glibc may send to any of its threads. */
static void block_signals(uint64_t *old)
{
	uint64_t all = ~((1ULL << (32 - 1)) | (1ULL << (33 - 1)));
	goro__sys4(SYS_rt_sigprocmask, SIG_SETMASK, &all, old, 8);
}

static bool spawn(void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	pthread_t t;
	goro__real.pthread_attr_init(&attr);
	goro__real.pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	goro__real.pthread_attr_setstacksize(&attr, 1UL << 20);
	/* The thread inherits the mask: no signal can land on it before it
	 * runs. */
	uint64_t old;
	block_signals(&old);
	int err = goro__real.pthread_create(&t, &attr, fn, arg);
	goro__sys4(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, 8);
	goro__real.pthread_attr_destroy(&attr);
	return err == 0;
}

static void *listener(void *arg)
{
	struct m self;
	goro__thread_as(&self, &debug_g);
	for (;;) {
		long c = goro__sys4(SYS_accept4, listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (c == -EMFILE || c == -ENFILE || c == -ENOBUFS || c == -ENOMEM) {
				struct timespec ts = { 0, 100L * 1000 * 1000 };
				goro__sys2(SYS_nanosleep, &ts, NULL);
			} else if (c == -EBADF || c == -EINVAL || c == -ENOTSOCK) {
				break; /* the socket is gone */
			}
			continue;
		}
		int fd = (int)c;
		/* (the listener's own answers: a 503 fits any socket buffer) */
		conn_deadline = goro__nanotime() + DEBUG_ANSWER_NS;
		if (a_fetch_add(&nconns, 1) >= DEBUG_MAX_CONNS) {
			a_fetch_add(&nconns, -1);
			send_error(fd, "503 Service Unavailable", "too many debug requests at once");
			goro__sys1(SYS_close, fd);
			continue;
		}
		if (!spawn(serve_conn, (void *)(intptr_t)fd)) {
			a_fetch_add(&nconns, -1);
			send_error(fd, "503 Service Unavailable", "cannot start a thread for the request");
			goro__sys1(SYS_close, fd);
		}
	}
	return arg;
}

/* From the constructor, after the scheduler is up: validate
 * GORO_DEBUG_ADDR, bind and listen (errors exit with status 2 before main),
 * then start the listener thread.  The variable is taken out of the
 * environment: child processes run under goro too (LD_PRELOAD is
 * inherited), and the address is this process's.  Never inlined:
 * tests/debug.bats finds the debug code in a build by this symbol. */
__attribute__((noinline)) void goro__debug_start(void)
{
	static char val[256];
	const char *env = getenv("GORO_DEBUG_ADDR");
	if (!env || !*env)
		return;
	if (strlen(env) >= sizeof val)
		refuse_addr("...", "longer than 255 bytes");
	strcpy(val, env);
	/* Children inherit LD_PRELOAD: they must not try the same address. */
	unsetenv("GORO_DEBUG_ADDR");
	union debug_addr a;
	socklen_t alen = parse_addr(val, &a);
	debug_g.goid = 0;
	strcpy(debug_g.name, "debug");

	long s = goro__sys3(SYS_socket, a.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		goro__errorf("goro: GORO_DEBUG_ADDR=\"%s\": cannot listen: socket: %s\n", val, strerror((int)-s));
	else {
		int one = 1;
		if (a.sa.sa_family != AF_UNIX)
			goro__sys6(SYS_setsockopt, s, SOL_SOCKET, SO_REUSEADDR, (long)&one, sizeof one, 0);
		long r = goro__sys3(SYS_bind, s, &a.sa, alen);
		if (r == -EADDRINUSE && a.sa.sa_family == AF_UNIX && stale_unix_socket(&a, alen)) {
			goro__sys1(SYS_unlink, a.un.sun_path);
			r = goro__sys3(SYS_bind, s, &a.sa, alen);
		}
		if (r == 0 && a.sa.sa_family == AF_UNIX) {
			/* what the endpoints show is the owner's business */
			goro__sys2(SYS_chmod, a.un.sun_path, 0600);
			memcpy(unix_path, a.un.sun_path, sizeof unix_path);
			owner_pid = (int)goro__sys0(SYS_getpid);
			if (atexit(unlink_at_exit) != 0)
				goro__write_err("goro: cannot register the removal of the debug socket\n");
		}
		if (r == 0)
			r = goro__sys2(SYS_listen, s, 64);
		if (r != 0) {
			goro__errorf("goro: GORO_DEBUG_ADDR=\"%s\": cannot listen: %s\n", val, strerror((int)-r));
			unlink_at_exit();
		} else {
			listen_fd = (int)s;
			goro__fd_hide(&listen_fd);
		}
	}
	if (listen_fd < 0)
		goro__sys1(SYS_exit_group, 2);
	if (pthread_atfork(NULL, NULL, atfork_child) != 0 || !spawn(listener, NULL)) {
		unlink_at_exit();
		goro__refuse("GORO_DEBUG_ADDR=\"%s\": cannot start the debug listener", val);
	}
}

#endif /* GORO_DEBUG_BUILD */
