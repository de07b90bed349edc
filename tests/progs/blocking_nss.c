/* The built-in declared calls (tests/blocking.bats): 100 threads resolve
 * "localhost" with getaddrinfo at once, then the user and group lookups.
 * Everything printed is the same natively and under goro. */
#include <arpa/inet.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>

#include "check.h"

#define NTHREADS 100

static char addr[NTHREADS][INET6_ADDRSTRLEN + 8];

static void *resolve(void *arg)
{
	long i = (long)arg;
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res = NULL;
	int r = getaddrinfo("localhost", "80", &hints, &res);
	if (r != 0) {
		snprintf(addr[i], sizeof addr[i], "error %d", r);
		return NULL;
	}
	const struct sockaddr_in *sin = (const struct sockaddr_in *)res->ai_addr;
	inet_ntop(AF_INET, &sin->sin_addr, addr[i], sizeof addr[i]);
	freeaddrinfo(res);
	return NULL;
}

static void names(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(80) };
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	char host[256], serv[32];
	int r = getnameinfo((struct sockaddr *)&sin, sizeof sin, host, sizeof host, serv, sizeof serv,
			    NI_NUMERICHOST | NI_NUMERICSERV);
	printf("getnameinfo: %d %s %s\n", r, host, serv);
	struct hostent *h = gethostbyname("localhost");
	printf("gethostbyname: %s\n", h ? h->h_name : "NULL");
	struct passwd *pw = getpwnam("root");
	printf("getpwnam root: uid %d\n", pw ? (int)pw->pw_uid : -1);
	pw = getpwuid(0);
	printf("getpwuid 0: %s\n", pw ? pw->pw_name : "NULL");
	struct group *gr = getgrnam("root");
	printf("getgrnam root: gid %d\n", gr ? (int)gr->gr_gid : -1);
	struct passwd pwb, *pres = NULL;
	char buf[4096];
	r = getpwnam_r("goro-no-such-user", &pwb, buf, sizeof buf, &pres);
	printf("getpwnam_r missing: %d %s\n", r, pres ? "found" : "NULL");
	struct group grb, *gres = NULL;
	r = getgrgid_r(0, &grb, buf, sizeof buf, &gres);
	printf("getgrgid_r 0: %d %s\n", r, gres ? gres->gr_name : "NULL");
}

int main(void)
{
	pthread_t t[NTHREADS];
	for (long i = 0; i < NTHREADS; i++)
		CHECK_OK(pthread_create(&t[i], NULL, resolve, (void *)i));
	for (int i = 0; i < NTHREADS; i++)
		CHECK_OK(pthread_join(t[i], NULL));
	int same = 0;
	for (int i = 0; i < NTHREADS; i++)
		same += strcmp(addr[i], addr[0]) == 0;
	printf("getaddrinfo localhost: %s (%d of %d threads)\n", addr[0], same, NTHREADS);
	names();
	return 0;
}
