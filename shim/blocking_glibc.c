/* The built-in declared blocking calls: glibc functions whose blocking is
 * invisible to the interposed surface, because glibc reaches the kernel
 * through its hidden aliases (name service lookups: /etc files, DNS over
 * its own sockets).  Interposed plainly, the signatures being fixed, and
 * run with the P handed off as an interposed blocking system call
 * (docs/ARCHITECTURE.md, "Declared blocking calls").  GORO_BLOCKING
 * starting with '-' makes them plain calls of glibc's.  Each counts in
 * declared_calls. */
#include <dlfcn.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <sys/socket.h>

#include "sched/atomic.h"
#include "sched/real.h"
#include "sched/runtime.h"
#include "shim/blocking.h"
#include "shim/shim.h"

/* glibc's definition behind goro's, found once. */
static void *next_of(void *_Atomic *slot, const char *name)
{
	void *f = a_load_acq(slot);
	if (!f) {
		f = goro__real_dlsym(RTLD_NEXT, name);
		if (!f)
			goro__throw("cannot find glibc's %s (dlsym RTLD_NEXT)", name);
		a_store_rel(slot, f);
	}
	return f;
}

/* Whether this call runs with the P handed off. */
static bool declared(void)
{
	if (goro__blk_nodefaults || !goro__started)
		return false;
	a_fetch_add_rlx(&goro__sched.ndeclared, 1);
	return true;
}

#define BLK_GLIBC(ret, name, params, args)                                        \
	GORO_EXPORT ret name params                                               \
	{                                                                         \
		static void *_Atomic next_;                                      \
		__typeof__(name) *f_ = (__typeof__(name) *)next_of(&next_, #name);\
		return declared() ? goro__blocking_real(f_ args) : f_ args;       \
	}

BLK_GLIBC(int, getaddrinfo,
	  (const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res),
	  (node, service, hints, res))
BLK_GLIBC(int, getnameinfo,
	  (const struct sockaddr *sa, socklen_t salen, char *host, socklen_t hostlen, char *serv,
	   socklen_t servlen, int flags),
	  (sa, salen, host, hostlen, serv, servlen, flags))
BLK_GLIBC(struct hostent *, gethostbyname, (const char *name), (name))
BLK_GLIBC(int, gethostbyname_r,
	  (const char *name, struct hostent *ret, char *buf, size_t buflen, struct hostent **result,
	   int *h_errnop),
	  (name, ret, buf, buflen, result, h_errnop))
BLK_GLIBC(struct passwd *, getpwnam, (const char *name), (name))
BLK_GLIBC(struct passwd *, getpwuid, (uid_t uid), (uid))
BLK_GLIBC(struct group *, getgrnam, (const char *name), (name))
BLK_GLIBC(struct group *, getgrgid, (gid_t gid), (gid))
BLK_GLIBC(int, getpwnam_r, (const char *name, struct passwd *pwd, char *buf, size_t len, struct passwd **res),
	  (name, pwd, buf, len, res))
BLK_GLIBC(int, getpwuid_r, (uid_t uid, struct passwd *pwd, char *buf, size_t len, struct passwd **res),
	  (uid, pwd, buf, len, res))
BLK_GLIBC(int, getgrnam_r, (const char *name, struct group *grp, char *buf, size_t len, struct group **res),
	  (name, grp, buf, len, res))
BLK_GLIBC(int, getgrgid_r, (gid_t gid, struct group *grp, char *buf, size_t len, struct group **res),
	  (gid, grp, buf, len, res))
