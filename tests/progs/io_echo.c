/* Thread-per-connection echo server and 1,000 client threads.
 *
 * Each client connects, sends 4 KiB of pseudo-random data (seeded by its
 * index) in several write()s, shuts down its write side, reads everything
 * back and compares it with what it sent.  The server accepts exactly
 * NCLIENTS connections and runs one thread per connection that echoes with
 * recv()/send() until EOF.  Four rounds: loopback TCP and a unix socket,
 * first with the clients as threads of this process, then with the clients
 * in a child process (fork + exec of this binary with "client ...").
 *
 * Printed: total bytes and a combined checksum (sum over connections of the
 * FNV-1a hash of the stream), as seen by the server and by the clients. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include "check.h"

#define NCLIENTS 1000
#define MSG      4096

static const size_t chunks[] = { 1000, 1500, 96, 1500 };   /* sums to MSG */

static struct sockaddr_storage srv_addr;
static socklen_t srv_len;
static int srv_family;

static atomic_ullong cli_bytes, cli_sum, srv_bytes, srv_sum;

static uint64_t fnv_step(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}
#define FNV0 14695981039346656037ULL

static void fill(unsigned char *buf, unsigned idx)
{
    uint64_t x = 0x9e3779b97f4a7c15ULL * (idx + 1);
    for (int i = 0; i < MSG; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        buf[i] = (unsigned char)(x >> 24);
    }
}

/* ---- server ---------------------------------------------------------- */

static void *conn_thread(void *arg)
{
    int fd = (int)(intptr_t)arg;
    unsigned char buf[1536];
    uint64_t h = FNV0, total = 0;
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0)
            CHECK_FAIL("server recv(): expected data or EOF, saw -1 (%s)", strerror(errno));
        if (n == 0)
            break;
        h = fnv_step(h, buf, n);
        total += n;
        for (ssize_t off = 0; off < n; ) {
            ssize_t w = send(fd, buf + off, n - off, MSG_NOSIGNAL);
            if (w <= 0)
                CHECK_FAIL("server send(): expected > 0, saw %zd (%s)", w, strerror(errno));
            off += w;
        }
    }
    close(fd);
    atomic_fetch_add(&srv_bytes, total);
    atomic_fetch_add(&srv_sum, h);
    return NULL;
}

struct server { int lfd; pthread_t acceptor; };

static void *acceptor(void *arg)
{
    int lfd = *(int *)arg;
    static pthread_t conns[NCLIENTS];
    for (int i = 0; i < NCLIENTS; i++) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            CHECK_FAIL("accept(): expected fd, saw -1 (%s)", strerror(errno));
        CHECK_OK(pthread_create(&conns[i], NULL, conn_thread, (void *)(intptr_t)fd));
    }
    for (int i = 0; i < NCLIENTS; i++)
        CHECK_OK(pthread_join(conns[i], NULL));
    return NULL;
}

static char unix_dir[64];

static int make_listener(int family)
{
    int lfd = socket(family, SOCK_STREAM, 0);
    CHECK(lfd >= 0, "socket()");
    if (family == AF_INET) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        CHECK_EQ(0, bind(lfd, (struct sockaddr *)&a, sizeof a), "bind(127.0.0.1:0)");
    } else {
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        snprintf(a.sun_path, sizeof a.sun_path, "%s/sock", unix_dir);
        unlink(a.sun_path);
        CHECK_EQ(0, bind(lfd, (struct sockaddr *)&a, sizeof a), "bind(unix)");
    }
    CHECK_EQ(0, listen(lfd, 4096), "listen()");
    srv_len = sizeof srv_addr;
    CHECK_EQ(0, getsockname(lfd, (struct sockaddr *)&srv_addr, &srv_len), "getsockname()");
    srv_family = family;
    return lfd;
}

/* ---- clients --------------------------------------------------------- */

static void *client(void *arg)
{
    unsigned idx = (unsigned)(uintptr_t)arg;
    unsigned char out[MSG], in[MSG];
    fill(out, idx);
    int fd = socket(srv_family, SOCK_STREAM, 0);
    CHECK(fd >= 0, "client socket()");
    if (connect(fd, (struct sockaddr *)&srv_addr, srv_len) != 0)
        CHECK_FAIL("client %u connect(): expected 0, saw -1 (%s)", idx, strerror(errno));
    size_t off = 0;
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        for (size_t done = 0; done < chunks[c]; ) {
            ssize_t w = write(fd, out + off + done, chunks[c] - done);
            if (w <= 0)
                CHECK_FAIL("client %u write(): expected > 0, saw %zd (%s)", idx, w, strerror(errno));
            done += w;
        }
        off += chunks[c];
    }
    CHECK_EQ(MSG, off, "client bytes written");
    CHECK_EQ(0, shutdown(fd, SHUT_WR), "shutdown(SHUT_WR)");
    size_t got = 0;
    for (;;) {
        ssize_t n = read(fd, in + got, got < MSG ? MSG - got : 1);
        if (n < 0)
            CHECK_FAIL("client %u read(): expected data or EOF, saw -1 (%s)", idx, strerror(errno));
        if (n == 0)
            break;
        got += n;
        if (got > MSG)
            CHECK_FAIL("client %u: expected %d bytes echoed, saw more", idx, MSG);
    }
    close(fd);
    CHECK_EQ(MSG, got, "client bytes echoed");
    if (memcmp(in, out, MSG) != 0)
        CHECK_FAIL("client %u: echoed data differs from the data sent", idx);
    atomic_fetch_add(&cli_bytes, got);
    atomic_fetch_add(&cli_sum, fnv_step(FNV0, in, MSG));
    return NULL;
}

static void run_clients(void)
{
    static pthread_t t[NCLIENTS];
    for (uintptr_t i = 0; i < NCLIENTS; i++)
        CHECK_OK(pthread_create(&t[i], NULL, client, (void *)i));
    for (int i = 0; i < NCLIENTS; i++)
        CHECK_OK(pthread_join(t[i], NULL));
}

/* ---- rounds ---------------------------------------------------------- */

static void round_(const char *name, int family, int child)
{
    atomic_store(&cli_bytes, 0); atomic_store(&cli_sum, 0);
    atomic_store(&srv_bytes, 0); atomic_store(&srv_sum, 0);
    int lfd = make_listener(family);
    pthread_t acc;
    pid_t pid = -1;
    if (child) {
        /* the client process: this binary, "client inet PORT" or
         * "client unix PATH" */
        char a1[16], a2[128];
        snprintf(a1, sizeof a1, "%s", family == AF_INET ? "inet" : "unix");
        if (family == AF_INET)
            snprintf(a2, sizeof a2, "%d", ntohs(((struct sockaddr_in *)&srv_addr)->sin_port));
        else
            snprintf(a2, sizeof a2, "%s", ((struct sockaddr_un *)&srv_addr)->sun_path);
        fflush(stdout);
        pid = fork();
        CHECK(pid >= 0, "fork()");
        if (pid == 0) {
            close(lfd);
            execl("/proc/self/exe", "io_echo", "client", a1, a2, (char *)NULL);
            printf("FAIL: execl(/proc/self/exe): %s\n", strerror(errno));
            fflush(stdout);
            _exit(127);
        }
    }
    CHECK_OK(pthread_create(&acc, NULL, acceptor, &lfd));
    if (child) {
        int st;
        CHECK_EQ(pid, waitpid(pid, &st, 0), "waitpid()");
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            CHECK_FAIL("%s: client process: expected exit 0, saw status 0x%x", name, st);
    } else {
        run_clients();
    }
    CHECK_OK(pthread_join(acc, NULL));
    close(lfd);
    CHECK_EQ((unsigned long long)NCLIENTS * MSG, atomic_load(&srv_bytes), "server bytes");
    if (!child) {
        CHECK_EQ((unsigned long long)NCLIENTS * MSG, atomic_load(&cli_bytes), "client bytes");
        CHECK_EQ(atomic_load(&srv_sum), atomic_load(&cli_sum), "server vs client checksum");
    }
    printf("io_echo %s: %d connections, server echoed %llu bytes, checksum %016llx\n",
           name, NCLIENTS, (unsigned long long)atomic_load(&srv_bytes),
           (unsigned long long)atomic_load(&srv_sum));
    fflush(stdout);
}

static int client_main(char **argv)
{
    if (strcmp(argv[2], "inet") == 0) {
        struct sockaddr_in *a = (struct sockaddr_in *)&srv_addr;
        a->sin_family = AF_INET;
        a->sin_port = htons(atoi(argv[3]));
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        srv_len = sizeof *a;
        srv_family = AF_INET;
    } else {
        struct sockaddr_un *a = (struct sockaddr_un *)&srv_addr;
        a->sun_family = AF_UNIX;
        snprintf(a->sun_path, sizeof a->sun_path, "%s", argv[3]);
        srv_len = sizeof *a;
        srv_family = AF_UNIX;
    }
    run_clients();
    CHECK_EQ((unsigned long long)NCLIENTS * MSG, atomic_load(&cli_bytes), "client process bytes");
    printf("io_echo client process (%s): %llu bytes echoed, checksum %016llx\n", argv[2],
           (unsigned long long)atomic_load(&cli_bytes),
           (unsigned long long)atomic_load(&cli_sum));
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "client") == 0)
        return client_main(argv);
    const char *tmp = getenv("TMPDIR");
    snprintf(unix_dir, sizeof unix_dir, "%s/io_echo.XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
    CHECK(mkdtemp(unix_dir) != NULL, "mkdtemp()");
    round_("tcp", AF_INET, 0);
    round_("unix", AF_UNIX, 0);
    round_("tcp, clients in a child process", AF_INET, 1);
    round_("unix, clients in a child process", AF_UNIX, 1);
    char path[128];
    snprintf(path, sizeof path, "%s/sock", unix_dir);
    unlink(path);
    rmdir(unix_dir);
    return 0;
}
