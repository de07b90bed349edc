/* The netpoller: one epoll instance (Go: netpoll_epoll.go).
 *
 * A G that would block on a pollable fd records itself in the fd's
 * descriptor (rg for reading, wg for writing) and arms a one-shot epoll
 * registration for what its descriptor waits on; a readiness event takes
 * the waiting G(s) and readies them.  Arming at every wait (MOD, or ADD on
 * ENOENT) instead of registering once keeps no stale state when the
 * program closes an fd behind goro's back (fclose, libc-internal closes):
 * the kernel drops a closed file's registration and the next wait re-adds
 * it.
 *
 * Who waits in epoll: findrunnable polls without blocking when Gs wait on
 * I/O; the M that would otherwise sleep for the nearest timer blocks in
 * epoll_pwait2 until that deadline (sub-millisecond, unlike Go's
 * epoll_wait in milliseconds), woken early through an eventfd
 * (Go: netpollBreak); sysmon polls when nobody has for 10 ms. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>

#include "sched/real.h"
#include "sched/runtime.h"
#include "sched/sys.h"

#define PD_CHUNK 1024
#define PD_CHUNKS 1024 /* fds up to 1M */
#define BREAK_KEY ((uint64_t)-1)
#define SIG_KEY ((uint64_t)-2)
#define NEVENTS 128

struct polldesc {
	struct goro_mutex lock;
	struct g *rg, *wg;
};

static _Atomic int epfd = -1, breakfd = -1, sigfd = -1;
static _Atomic bool sig_disarmed;
static struct polldesc *_Atomic pdtab[PD_CHUNKS];
static struct goro_mutex pdtab_lock;
static _Atomic int32_t nwaiters;

void goro__netpoll_init(void)
{
	epfd = (int)goro__sys1(SYS_epoll_create1, EPOLL_CLOEXEC);
	breakfd = (int)goro__sys2(SYS_eventfd2, 0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (epfd < 0 || breakfd < 0)
		goro__throw("netpoll: cannot create epoll/eventfd");
	goro__fd_hide(&epfd);
	goro__fd_hide(&breakfd);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = BREAK_KEY };
	if (goro__sys4(SYS_epoll_ctl, epfd, EPOLL_CTL_ADD, breakfd, &ev) < 0)
		goro__throw("netpoll: cannot register the break eventfd");
}

bool goro__netpoll_waiters(void) { return a_load_rlx(&nwaiters) > 0; }

void goro__netpoll_sigarm(void)
{
	if (sigfd < 0)
		return;
	a_store_rlx(&sig_disarmed, false);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.u64 = SIG_KEY };
	/* ENOENT: goro__fd_evict moved it to a new number. */
	if (goro__sys4(SYS_epoll_ctl, epfd, EPOLL_CTL_MOD, sigfd, &ev) == -ENOENT)
		goro__sys4(SYS_epoll_ctl, epfd, EPOLL_CTL_ADD, sigfd, &ev);
}

/* Serialised by the caller (sched/signal.c's lock). */
void goro__netpoll_sigmask(const sigset_t *caught)
{
	if (epfd < 0)
		return;
	long r = goro__sys4(SYS_signalfd4, sigfd, caught, 8, SFD_NONBLOCK | SFD_CLOEXEC);
	if (r < 0)
		return; /* no watch: such signals wait for a G to run, as before */
	if (sigfd < 0) {
		/* Moved before it is registered: epoll keys a registration
		 * by file and fd number. */
		sigfd = (int)r;
		goro__fd_hide(&sigfd);
		struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.u64 = SIG_KEY };
		if (goro__sys4(SYS_epoll_ctl, epfd, EPOLL_CTL_ADD, sigfd, &ev) < 0)
			goro__fd_close_own(&sigfd);
		return;
	}
	goro__netpoll_sigarm();
}

/* sysmon: a watch left disarmed (no sleeping G could take the signal)
 * is armed again at its next look. */
void goro__netpoll_sigrearm(void)
{
	if (a_load_rlx(&sig_disarmed))
		goro__netpoll_sigarm();
}

static struct polldesc *pd_of(int fd)
{
	if (fd < 0 || fd >= PD_CHUNK * PD_CHUNKS)
		return NULL;
	struct polldesc *c = a_load_acq(&pdtab[fd / PD_CHUNK]);
	if (!c) {
		goro__lock(&pdtab_lock);
		c = a_load_rlx(&pdtab[fd / PD_CHUNK]);
		if (!c) {
			c = calloc(PD_CHUNK, sizeof *c);
			if (c)
				a_store_rel(&pdtab[fd / PD_CHUNK], c);
		}
		goro__unlock(&pdtab_lock);
		if (!c)
			return NULL;
	}
	return &c[fd % PD_CHUNK];
}

void goro__netpoll_break(void)
{
	uint64_t one = 1;
	goro__sys3(SYS_write, breakfd, &one, sizeof one);
}

/* Requires pd->lock.  Arm a one-shot registration for the current
 * waiters; returns 0 or -errno. */
static long arm(int fd, struct polldesc *pd)
{
	struct epoll_event ev = { .events = EPOLLONESHOT | EPOLLRDHUP, .data.u64 = (uint64_t)fd };
	if (pd->rg)
		ev.events |= EPOLLIN;
	if (pd->wg)
		ev.events |= EPOLLOUT;
	long r = goro__sys4(SYS_epoll_ctl, epfd, EPOLL_CTL_MOD, fd, &ev);
	if (r == -ENOENT)
		r = goro__sys4(SYS_epoll_ctl, epfd, EPOLL_CTL_ADD, fd, &ev);
	return r;
}

static bool unlock_pd(struct g *gp, void *arg)
{
	goro__unlock(&((struct polldesc *)arg)->lock);
	return true;
}

int goro__netpoll_wait(int fd, enum goro_iomode mode, int64_t deadline, bool cancelable)
{
	struct g *gp = getg();
	struct polldesc *pd = pd_of(fd);
	/* A kernel-scheduled G blocks in the kernel, which wakes it as its
	 * priority says, not the netpoller's M (sched/proc.c, ksched). */
	if (!pd || gp->ksched)
		return GORO_POLL_FALLBACK;
	struct g **slot = mode == GORO_IO_READ ? &pd->rg : &pd->wg;
	goro__lock(&pd->lock);
	if (*slot) {
		/* Another G already waits for the same direction on this fd:
		 * let the caller block in the kernel instead. */
		goro__unlock(&pd->lock);
		return GORO_POLL_FALLBACK;
	}
	goro__park_begin(gp);
	*slot = gp;
	long r = arm(fd, pd);
	if (r < 0) {
		*slot = NULL;
		goro__unlock(&pd->lock);
		return r == -EPERM ? GORO_POLL_FALLBACK : (int)r; /* epoll_ctl refuses a regular file */
	}
	if (cancelable && goro__park_interruptible(gp, true)) {
		*slot = NULL;
		goro__unlock(&pd->lock);
		goro__sig_resume(gp);
		return -EINTR;
	}
	a_fetch_add(&nwaiters, 1);
	a_fetch_add_rlx(&goro__sched.nnetpollpark, 1);
	/* No break needed: an M blocked in epoll sees the new registration,
	 * and otherwise this M polls in findrunnable before it sleeps. */
	enum goro_wake w = goro__park_until(unlock_pd, pd, mode == GORO_IO_READ ? "IO wait (read)" : "IO wait (write)",
					    deadline);
	goro__park_done(gp);
	a_fetch_add(&nwaiters, -1);
	if (w != GORO_WAKE_EVENT) {
		goro__lock(&pd->lock);
		if (*slot == gp)
			*slot = NULL;
		else
			w = GORO_WAKE_EVENT; /* the event took us first */
		goro__unlock(&pd->lock);
	}
	goro__sig_resume(gp); /* off the descriptor: a handler may exit */
	if (w == GORO_WAKE_TIMEOUT)
		return -ETIMEDOUT;
	if (w == GORO_WAKE_INTERRUPTED)
		return -EINTR;
	return 0;
}

/* A close() of fd: wake its waiters so they retry and see EBADF instead
 * of waiting for a file that is gone. */
void goro__netpoll_close(int fd)
{
	if (fd < 0 || fd >= PD_CHUNK * PD_CHUNKS)
		return;
	struct polldesc *c = a_load_acq(&pdtab[fd / PD_CHUNK]);
	if (!c)
		return;
	struct polldesc *pd = &c[fd % PD_CHUNK];
	goro__lock(&pd->lock);
	struct g *r = pd->rg, *w = pd->wg;
	pd->rg = pd->wg = NULL;
	goro__unlock(&pd->lock);
	if (r)
		goro__wake(r);
	if (w)
		goro__wake(w);
}

int goro__netpoll(int64_t ns)
{
	struct epoll_event evs[NEVENTS];
	long n;
	if (ns < 0) {
		n = goro__sys6(SYS_epoll_pwait, epfd, (long)evs, NEVENTS, -1, 0, 8);
	} else {
		struct timespec ts = { ns / 1000000000LL, ns % 1000000000LL };
		if (ns > 0) { /* the runtime's timed wait: the deadline itself (goro__signal_minit) */
			struct m *mp = getm();
			if (mp->timerslack != 1)
				goro__slack_set(mp, 1);
		}
		n = goro__sys6(SYS_epoll_pwait2, epfd, (long)evs, NEVENTS, (long)&ts, 0, 8);
		if (n == -ENOSYS) /* kernel < 5.11: millisecond timeout */
			n = goro__sys6(SYS_epoll_pwait, epfd, (long)evs, NEVENTS,
				       ns ? (ns + 999999) / 1000000 : 0, 0, 8);
	}
	bool sig = false;
	for (long i = 0; i < n; i++) {
		if (evs[i].data.u64 == BREAK_KEY) {
			/* Only a blocking wait takes the kick (Go: netpoll drains
			 * netpollBreak only when delay != 0): a non-blocking poll
			 * by sysmon or a spinning M that read it would leave the
			 * timer waiter asleep past a new, earlier timer. */
			if (ns != 0) {
				uint64_t v;
				goro__sys3(SYS_read, breakfd, &v, sizeof v);
			}
			continue;
		}
		if (evs[i].data.u64 == SIG_KEY) {
			sig = true; /* left pending for the kernel to deliver */
			continue;
		}
		int fd = (int)evs[i].data.u64;
		struct polldesc *pd = pd_of(fd);
		if (!pd)
			continue;
		uint32_t e = evs[i].events;
		struct g *r = NULL, *w = NULL;
		goro__lock(&pd->lock);
		if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
			r = pd->rg;
			pd->rg = NULL;
		}
		if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
			w = pd->wg;
			pd->wg = NULL;
		}
		if (pd->rg || pd->wg)
			arm(fd, pd); /* one-shot fired for one direction only */
		goro__unlock(&pd->lock);
		if (r)
			GORO_TRACE(TEV_NETPOLL, r, (uint64_t)fd, "read");
		if (w)
			GORO_TRACE(TEV_NETPOLL, w, (uint64_t)fd, "write");
		if (r)
			goro__wake(r);
		if (w)
			goro__wake(w);
	}
	if (sig) {
		a_store_rlx(&sig_disarmed, true);
		goro__sig_forward();
	}
	return (int)n;
}

/* In a fork child: the epoll instance is shared with the parent; make our
 * own, and forget the parent's waiters. */
void goro__netpoll_afterfork(void)
{
	goro__fd_close_own(&epfd);
	goro__fd_close_own(&breakfd);
	goro__fd_close_own(&sigfd);
	for (int i = 0; i < PD_CHUNKS; i++) {
		struct polldesc *c = a_load_rlx(&pdtab[i]);
		if (c)
			memset(c, 0, sizeof(struct polldesc) * PD_CHUNK);
	}
	a_store_rlx(&nwaiters, 0);
	goro__netpoll_init();
	goro__netpoll_sigmask(&goro__idle_sigmask);
}

/* ---- waiting on several fds (poll, select) ----------------------------- */

struct manylock {
	struct polldesc **pds;
	int n;
};

static bool unlock_many(struct g *gp, void *arg)
{
	struct manylock *ml = arg;
	for (int i = ml->n - 1; i >= 0; i--)
		goro__unlock(&ml->pds[i]->lock);
	return true;
}

/* Park until any of req[0..n) (sorted by fd) is ready.  The descriptors
 * are locked in fd order (two pollers cannot deadlock) and stay locked
 * until the G is parked, as in goro__netpoll_wait.  Returns as that. */
int goro__netpoll_wait_many(const struct goro_pollreq *req, int n, int64_t deadline, bool cancelable)
{
	struct g *gp = getg();
	if (n <= 0 || n > GORO_POLL_MANY || gp->ksched)
		return GORO_POLL_FALLBACK;
	struct polldesc *pds[GORO_POLL_MANY] = { 0 }, *locked[GORO_POLL_MANY] = { 0 };
	int nl = 0;
	for (int i = 0; i < n; i++) {
		pds[i] = pd_of(req[i].fd);
		if (!pds[i] || (i > 0 && req[i].fd < req[i - 1].fd))
			return GORO_POLL_FALLBACK;
	}
	for (int i = 0; i < n; i++)
		if (nl == 0 || locked[nl - 1] != pds[i]) {
			goro__lock(&pds[i]->lock);
			locked[nl++] = pds[i];
		}
	struct manylock ml = { locked, nl };
	goro__park_begin(gp);
	int set = 0;
	long err = 0;
	for (; set < n; set++) {
		struct g **slot = req[set].mode == GORO_IO_READ ? &pds[set]->rg : &pds[set]->wg;
		if (*slot) {
			err = GORO_POLL_FALLBACK; /* another G waits there: the caller blocks in the kernel */
			break;
		}
		*slot = gp;
		err = arm(req[set].fd, pds[set]);
		if (err < 0) {
			*slot = NULL;
			break;
		}
	}
	if (!err && cancelable && goro__park_interruptible(gp, true))
		err = -EINTR;
	if (err) {
		for (int i = 0; i < set; i++) {
			struct g **slot = req[i].mode == GORO_IO_READ ? &pds[i]->rg : &pds[i]->wg;
			if (*slot == gp)
				*slot = NULL;
		}
		unlock_many(gp, &ml);
		if (err == -EINTR)
			goro__sig_resume(gp);
		return err == -EINTR ? -EINTR : GORO_POLL_FALLBACK;
	}
	a_fetch_add(&nwaiters, 1);
	a_fetch_add_rlx(&goro__sched.nnetpollpark, 1);
	enum goro_wake w = goro__park_until(unlock_many, &ml, "IO wait (poll)", deadline);
	goro__park_done(gp);
	a_fetch_add(&nwaiters, -1);
	/* Take ourselves off every descriptor the event did not. */
	for (int i = 0; i < n; i++) {
		struct g **slot = req[i].mode == GORO_IO_READ ? &pds[i]->rg : &pds[i]->wg;
		goro__lock(&pds[i]->lock);
		if (*slot == gp)
			*slot = NULL;
		goro__unlock(&pds[i]->lock);
	}
	goro__sig_resume(gp); /* off the descriptors: a handler may exit */
	if (w == GORO_WAKE_TIMEOUT)
		return -ETIMEDOUT;
	if (w == GORO_WAKE_INTERRUPTED)
		return -EINTR;
	return 0;
}

/* ---- sockets this process made ----------------------------------------------
 * A socket made with socket(2) under goro is shared with no other process
 * until the next fork: only those may have their blocking mode flipped for
 * the length of a connect (shim/io.c). */
#define OWN_SOCKETS GORO_OWN_SOCKETS_MAX
static _Atomic uint8_t own_socket[OWN_SOCKETS];

void goro__own_socket_made(int fd)
{
	if (fd >= 0 && fd < OWN_SOCKETS)
		a_store_rlx(&own_socket[fd], 1);
}

bool goro__own_socket(int fd) { return fd >= 0 && fd < OWN_SOCKETS && a_load_rlx(&own_socket[fd]); }

void goro__fd_closed(int fd)
{
	if (fd >= 0 && fd < OWN_SOCKETS)
		a_store_rlx(&own_socket[fd], 0);
}

/* After fork() every socket is shared with the other process. */
void goro__own_sockets_forget(void)
{
	for (int i = 0; i < OWN_SOCKETS; i++)
		a_store_rlx(&own_socket[i], 0);
}

/* ---- goro's own fds ----------------------------------------------------------
 * The epoll instance, the break eventfd, the signalfd (and the debug
 * build's listener) live where the program does not look for fds: at or
 * above the soft RLIMIT_NOFILE when the hard limit leaves room (the soft
 * limit is raised for the length of one F_DUPFD_CLOEXEC and put back), so
 * they take none of the program's fds and a close loop up to the limit
 * misses them; else just below the soft limit.  The program's close,
 * close_range, closefrom, dup2 and dup3 never reach them (shim/file.c):
 * natively no fd is open there, so a close is EBADF, and a dup2 onto one
 * first moves goro's fd away (goro__fd_evict).  docs/ARCHITECTURE.md,
 * "goro's own file descriptors". */
#define OWN_FDS GORO_OWN_FDS_MAX /* epoll, eventfd, signalfd, debug listener */
#define OWN_FDS_ROOM 16      /* how far above (or below) the soft limit they go */
#define OWN_FDS_ABOVE_MAX 65536 /* higher soft limits: the fd table would grow too much */
#define OWN_FDS_FLOOR 1024   /* where they go then */

static _Atomic int *_Atomic ownfd[OWN_FDS];
static struct goro_mutex fd_lock; /* the soft limit's raise; the ownfd table */

/* A new number for goro's fd `fd`; requires fd_lock.  Above the soft limit
 * when the hard limit leaves room (the soft limit raised for one
 * F_DUPFD_CLOEXEC and put back); else as high as the limit allows, above
 * `past` first (an fd the program is taking: a loop over fds in rising
 * order leaves goro's at the top), then anywhere.  -errno when every fd
 * is taken. */
static long fd_place(int fd, int past)
{
	struct rlimit lim;
	if (goro__sys4(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &lim) < 0)
		return -EINVAL;
	if (lim.rlim_cur > OWN_FDS_ABOVE_MAX)
		return goro__sys3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, past > OWN_FDS_FLOOR ? past : OWN_FDS_FLOOR);
	if (lim.rlim_max - lim.rlim_cur >= OWN_FDS_ROOM) {
		struct rlimit up = { lim.rlim_cur + OWN_FDS_ROOM, lim.rlim_max };
		if (goro__sys4(SYS_prlimit64, 0, RLIMIT_NOFILE, &up, NULL) == 0) {
			long r = goro__sys3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, lim.rlim_cur);
			goro__sys4(SYS_prlimit64, 0, RLIMIT_NOFILE, &lim, NULL);
			if (r >= 0)
				return r;
		}
	}
	long high = lim.rlim_cur > OWN_FDS_ROOM + 3 ? (long)lim.rlim_cur - OWN_FDS_ROOM : 3;
	long r = goro__sys3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, past > high ? past : high);
	if (r < 0 && past > high)
		r = goro__sys3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, high);
	return r < 0 ? goro__sys3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 3) : r;
}

/* Move *slot to a new number (above `past` if it can); requires fd_lock.
 * It stays where it is when no number is free. */
static void fd_move(_Atomic int *slot, int past)
{
	int old = *slot;
	long r = fd_place(old, past);
	if (r < 0)
		return;
	*slot = (int)r;
	goro__sys1(SYS_close, old);
}

void goro__fd_hide(_Atomic int *slot)
{
	goro__lock(&fd_lock);
	fd_move(slot, 0);
	for (int i = 0; i < OWN_FDS; i++)
		if (!a_load_rlx(&ownfd[i]) || a_load_rlx(&ownfd[i]) == slot) {
			a_store_rel(&ownfd[i], slot);
			break;
		}
	goro__unlock(&fd_lock);
}

void goro__fd_close_own(_Atomic int *slot)
{
	goro__lock(&fd_lock);
	for (int i = 0; i < OWN_FDS; i++)
		if (a_load_rlx(&ownfd[i]) == slot)
			a_store_rel(&ownfd[i], NULL);
	if (*slot >= 0)
		goro__sys1(SYS_close, *slot);
	*slot = -1;
	goro__unlock(&fd_lock);
}

bool goro__fd_is_own(int fd)
{
	if (fd < 0)
		return false;
	for (int i = 0; i < OWN_FDS; i++) {
		_Atomic int *slot = a_load_acq(&ownfd[i]);
		if (slot && *slot == fd)
			return true;
	}
	return false;
}

void goro__fd_evict(int fd)
{
	goro__lock(&fd_lock);
	for (int i = 0; i < OWN_FDS; i++) {
		_Atomic int *slot = a_load_rlx(&ownfd[i]);
		if (slot && *slot == fd)
			fd_move(slot, fd + 1);
	}
	goro__unlock(&fd_lock);
}

/* The own fds of [first, last], in order; returns how many. */
int goro__fd_own_in(unsigned first, unsigned last, int out[GORO_OWN_FDS_MAX])
{
	int n = 0;
	for (int i = 0; i < OWN_FDS; i++) {
		_Atomic int *slot = a_load_acq(&ownfd[i]);
		int fd = slot ? *slot : -1;
		if (fd < 0 || (unsigned)fd < first || (unsigned)fd > last)
			continue;
		int k = n++;
		for (; k > 0 && out[k - 1] > fd; k--)
			out[k] = out[k - 1];
		out[k] = fd;
	}
	return n;
}

/* fork (sched/fork.c): goro's fds, then the descriptor table. */
void goro__netpoll_fork(enum goro_fork_phase ph)
{
	goro__fork_lock(&fd_lock, ph);
	goro__fork_lock(&pdtab_lock, ph);
}
