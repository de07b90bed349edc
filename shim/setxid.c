/* set*id and setgroups on every kernel thread: the broadcast is the
 * runtime's (sched/setxid.c); the first failure, on the calling thread, is
 * returned and nothing is changed elsewhere, as nptl. */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <unistd.h>

#include "sched/runtime.h"
#include "shim/shim.h"

static int xid_ret(long r) { return (int)goro__sys_ret(r); }

GORO_EXPORT int setuid(uid_t u) { return xid_ret(goro__setxid_broadcast(SYS_setuid, u, 0, 0)); }
GORO_EXPORT int setgid(gid_t g) { return xid_ret(goro__setxid_broadcast(SYS_setgid, g, 0, 0)); }
GORO_EXPORT int seteuid(uid_t u) { return xid_ret(goro__setxid_broadcast(SYS_setresuid, -1, u, -1)); }
GORO_EXPORT int setegid(gid_t g) { return xid_ret(goro__setxid_broadcast(SYS_setresgid, -1, g, -1)); }
GORO_EXPORT int setreuid(uid_t r, uid_t e) { return xid_ret(goro__setxid_broadcast(SYS_setreuid, r, e, 0)); }
GORO_EXPORT int setregid(gid_t r, gid_t e) { return xid_ret(goro__setxid_broadcast(SYS_setregid, r, e, 0)); }
GORO_EXPORT int setresuid(uid_t r, uid_t e, uid_t s) { return xid_ret(goro__setxid_broadcast(SYS_setresuid, r, e, s)); }
GORO_EXPORT int setresgid(gid_t r, gid_t e, gid_t s) { return xid_ret(goro__setxid_broadcast(SYS_setresgid, r, e, s)); }
GORO_EXPORT int setgroups(size_t n, const gid_t *list)
{
	return xid_ret(goro__setxid_broadcast(SYS_setgroups, (long)n, (long)list, 0));
}

/* initgroups reaches glibc's own setgroups inside libc (not through the
 * PLT), whose broadcast to every nptl thread cannot complete under goro
 * (docs/ARCHITECTURE.md, G16): do what it does (nss/initgroups.c: the
 * user's groups plus `group`, at most NGROUPS_MAX) with goro's setgroups. */
GORO_EXPORT int initgroups(const char *user, gid_t group)
{
	long max = sysconf(_SC_NGROUPS_MAX);
	int n = 64;
	gid_t *list = NULL;
	for (;;) {
		gid_t *nl = realloc(list, (size_t)n * sizeof *list);
		if (!nl) {
			free(list);
			errno = ENOMEM;
			return -1;
		}
		list = nl;
		int want = n;
		if (getgrouplist(user, group, list, &want) >= 0) {
			n = want;
			break;
		}
		n = want > n ? want : n * 2;
	}
	int r = setgroups((size_t)(max > 0 && n > max ? max : n), list);
	free(list);
	return r;
}
