/* echo_server - thread-per-connection TCP echo server and one client thread
 * per connection, over loopback.
 *
 *   echo_server [-c CONNECTIONS] [-k MESSAGES] [-s BYTES] [-P]
 *
 * An acceptor thread accepts CONNECTIONS (default 1000) connections on
 * 127.0.0.1 and starts one server thread per connection, which echoes what
 * it reads until EOF.  The main thread connects them (at most 1000 waiting
 * in the accept queue at a time, below net.core.somaxconn) and starts one
 * client thread per connection.  Once every client is connected and started,
 * each sends MESSAGES (default 100) messages of BYTES (default 64) bytes,
 * reading each echo before sending the next, then closes.  All threads use
 * the default stack size; RLIMIT_NOFILE is raised to fit 2 fds a connection.
 *
 * -P: two processes.  The clients run in a child forked before any thread
 * is created, so each process needs one fd per connection (for a hard
 * RLIMIT_NOFILE below 2 x CONNECTIONS, as 20,000 is for 10,000 connections
 * where raising it is not permitted).  The peak RSS is then the server's
 * plus the client process's.
 *
 * RESULT echo_<label>_msgs_per_s (echoed messages/s between the start signal
 * and the last client's end) and echo_<label>_maxrss_kb (peak RSS,
 * getrusage ru_maxrss, KiB), where <label> is "1k" for 1000 connections,
 * "10k" for 10000, else the number.
 */
#include "bench.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static long nconn = 1000, nmsg = 100, msgsize = 64;
static int lfd;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv_accepted = PTHREAD_COND_INITIALIZER; /* accepted grew */
static pthread_cond_t cv_ready = PTHREAD_COND_INITIALIZER;    /* ready grew */
static pthread_cond_t cv_start = PTHREAD_COND_INITIALIZER;    /* started set */
static pthread_cond_t cv_servers = PTHREAD_COND_INITIALIZER;  /* servers_live fell */
static long accepted, ready, servers_live;
static int started;
static long errors;
static int split = 0;     /* -P */
static int prog_pipe[2];  /* -P: acceptor -> client process, one byte per accept */
static long accepted_seen; /* -P, client process: bytes read from prog_pipe */

static void note_error(const char *what, int err)
{
    pthread_mutex_lock(&mu);
    if (errors++ < 5)
        fprintf(stderr, "echo_server: %s: %s\n", what, strerror(err));
    pthread_mutex_unlock(&mu);
}

static int read_full(int fd, char *buf, long len)
{
    long got = 0;
    while (got < len) {
        ssize_t r = read(fd, buf + got, (size_t)(len - got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r == 0 ? -2 : -1;
        got += r;
    }
    return 0;
}

static int write_full(int fd, const char *buf, long len)
{
    long put = 0;
    while (put < len) {
        ssize_t w = write(fd, buf + put, (size_t)(len - put));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        put += w;
    }
    return 0;
}

static void *server(void *arg)
{
    int fd = (int)(long)arg;
    char buf[4096];
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno != ECONNRESET)
            note_error("server read", errno);
        if (r <= 0)
            break;
        if (write_full(fd, buf, r) != 0) {
            note_error("server write", errno);
            break;
        }
    }
    close(fd);
    pthread_mutex_lock(&mu);
    if (--servers_live == 0)
        pthread_cond_signal(&cv_servers);
    pthread_mutex_unlock(&mu);
    return NULL;
}

static void *acceptor(void *arg)
{
    (void)arg;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    for (long i = 0; i < nconn; i++) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR) {
                i--;
                continue;
            }
            bench_die("accept", errno);
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pthread_mutex_lock(&mu);
        servers_live++;
        pthread_mutex_unlock(&mu);
        pthread_t t;
        int rc = pthread_create(&t, &at, server, (void *)(long)fd);
        if (rc != 0)
            bench_die("pthread_create (server)", rc);
        if (split) {
            char c = 'a';
            if (write(prog_pipe[1], &c, 1) != 1)
                bench_die("write (progress pipe)", errno);
        }
        pthread_mutex_lock(&mu);
        accepted++;
        pthread_cond_signal(&cv_accepted);
        pthread_mutex_unlock(&mu);
    }
    pthread_attr_destroy(&at);
    return NULL;
}

static void *client(void *arg)
{
    int fd = (int)(long)arg;
    char *out = malloc((size_t)msgsize), *in = malloc((size_t)msgsize);
    if (!out || !in)
        bench_die("malloc", ENOMEM);
    memset(out, 'a' + fd % 26, (size_t)msgsize);
    pthread_mutex_lock(&mu);
    if (++ready == nconn)
        pthread_cond_signal(&cv_ready);
    while (!started)
        pthread_cond_wait(&cv_start, &mu);
    pthread_mutex_unlock(&mu);
    for (long i = 0; i < nmsg; i++) {
        out[0] = (char)i;
        if (write_full(fd, out, msgsize) != 0) {
            note_error("client write", errno);
            break;
        }
        int r = read_full(fd, in, msgsize);
        if (r != 0) {
            note_error(r == -2 ? "client read: early EOF" : "client read", r == -2 ? EPIPE : errno);
            break;
        }
        if (memcmp(in, out, (size_t)msgsize) != 0) {
            note_error("client: echo differs", EIO);
            break;
        }
    }
    close(fd);
    free(out);
    free(in);
    return NULL;
}

static double *msgs_per_s; /* shared with the client process under -P */

/* Wait until the acceptor has accepted at least k connections. */
static void wait_accepted(long k)
{
    if (split) {
        char buf[4096];
        while (accepted_seen < k) {
            ssize_t r = read(prog_pipe[0], buf, sizeof buf);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                fprintf(stderr, "echo_server: progress pipe: %s\n", r == 0 ? "EOF" : strerror(errno));
                _exit(1);
            }
            accepted_seen += r;
        }
        return;
    }
    pthread_mutex_lock(&mu);
    while (accepted < k)
        pthread_cond_wait(&cv_accepted, &mu);
    pthread_mutex_unlock(&mu);
}

/* Connect nconn clients, one thread each; time the echoing.  Returns the
 * exit status (0 or 1); sets *msgs_per_s. */
static int run_clients(const struct sockaddr_in *sa)
{
    pthread_t *cl = calloc((size_t)nconn, sizeof *cl);
    if (!cl)
        bench_die("calloc", ENOMEM);
    for (long i = 0; i < nconn; i++) {
        if (i >= 1000)
            wait_accepted(i - 999);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) {
            fprintf(stderr, "echo_server: socket (client #%ld): %s\n", i, strerror(errno));
            return 1;
        }
        if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) != 0) {
            fprintf(stderr, "echo_server: connect #%ld: %s\n", i, strerror(errno));
            return 1;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        /* Abortive close at the end: no TIME_WAIT, so back-to-back runs do
         * not run out of ephemeral ports. */
        struct linger lg = {1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        int rc = pthread_create(&cl[i], NULL, client, (void *)(long)fd);
        if (rc != 0) {
            fprintf(stderr, "echo_server: pthread_create (client #%ld): %s\n", i, strerror(rc));
            return 1;
        }
    }
    wait_accepted(nconn); /* every server thread exists */
    pthread_mutex_lock(&mu);
    while (ready < nconn)
        pthread_cond_wait(&cv_ready, &mu);
    long long t0 = bench_now_ns();
    started = 1;
    pthread_cond_broadcast(&cv_start);
    pthread_mutex_unlock(&mu);
    for (long i = 0; i < nconn; i++)
        pthread_join(cl[i], NULL);
    long long t1 = bench_now_ns();
    free(cl);
    double secs = (t1 - t0) / 1e9, msgs = (double)nconn * nmsg;
    *msgs_per_s = msgs / secs;
    pthread_mutex_lock(&mu);
    long errs = errors;
    pthread_mutex_unlock(&mu);
    printf("echo_server: %ld connections x %ld messages of %ld bytes: %.0f msgs/s (%.1f ms "
           "echoing); %ld client errors\n",
           nconn, nmsg, msgsize, *msgs_per_s, secs * 1e3, errs);
    fflush(stdout);
    return errs > 0;
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [-c CONNECTIONS] [-k MESSAGES] [-s BYTES] [-P]\n", prog);
    exit(2);
}

int main(int argc, char **argv)
{
    int opt;
    while ((opt = getopt(argc, argv, "c:k:s:Ph")) != -1) {
        switch (opt) {
        case 'c': nconn = bench_parse_long("-c", optarg); break;
        case 'k': nmsg = bench_parse_long("-k", optarg); break;
        case 's': msgsize = bench_parse_long("-s", optarg); break;
        case 'P': split = 1; break;
        default: usage(argv[0]);
        }
    }
    if (optind != argc || msgsize > 4096)
        usage(argv[0]);
    char label[32];
    if (nconn % 1000 == 0)
        snprintf(label, sizeof label, "%ldk", nconn / 1000);
    else
        snprintf(label, sizeof label, "%ld", nconn);

    /* Two fds per connection (one with -P) plus slack. */
    struct rlimit rl;
    rlim_t want = (rlim_t)((split ? 1 : 2) * nconn + 100);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want) {
        struct rlimit nrl = {want, rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? want : rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &nrl) != 0) {
            fprintf(stderr, "echo_server: cannot raise RLIMIT_NOFILE to %lu (hard %lu): %s\n",
                    (unsigned long)want, (unsigned long)rl.rlim_max, strerror(errno));
            return 1;
        }
    }

    lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0)
        bench_die("socket", errno);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t slen = sizeof sa;
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 4096) != 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &slen) != 0)
        bench_die("bind/listen", errno);

    msgs_per_s = mmap(NULL, sizeof *msgs_per_s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                      -1, 0);
    if (msgs_per_s == MAP_FAILED)
        bench_die("mmap", errno);
    long long tsetup = bench_now_ns();
    pid_t child = -1;
    if (split) {
        if (pipe(prog_pipe) != 0)
            bench_die("pipe", errno);
        fflush(stdout);
        fflush(stderr);
        child = fork();
        if (child < 0)
            bench_die("fork", errno);
        if (child == 0) {
            close(lfd);
            close(prog_pipe[1]);
            _exit(run_clients(&sa));
        }
        close(prog_pipe[0]);
    }
    pthread_t ta;
    int rc = pthread_create(&ta, NULL, acceptor, NULL);
    if (rc != 0)
        bench_die("pthread_create (acceptor)", rc);
    int crc = 0;
    if (!split)
        crc = run_clients(&sa);
    pthread_join(ta, NULL);
    pthread_mutex_lock(&mu);
    while (servers_live > 0)
        pthread_cond_wait(&cv_servers, &mu);
    long errs = errors;
    pthread_mutex_unlock(&mu);
    long maxrss_children = 0;
    if (split) {
        int st;
        while (waitpid(child, &st, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "echo_server: client process failed (status 0x%x)\n", st);
            crc = 1;
        }
        struct rusage ruc;
        getrusage(RUSAGE_CHILDREN, &ruc);
        maxrss_children = ruc.ru_maxrss;
    }
    long long tend = bench_now_ns();

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    long maxrss = ru.ru_maxrss + maxrss_children;
    printf("echo_server: %ld connections, %s: %.1f ms with setup and teardown; maxrss %ld KiB",
           nconn, split ? "clients in a second process" : "one process", (tend - tsetup) / 1e6,
           maxrss);
    if (split)
        printf(" (server %ld + clients %ld)", ru.ru_maxrss, maxrss_children);
    printf("; %ld server errors\n", errs);
    if (errs > 0 || crc != 0)
        return 1;
    char name[64];
    snprintf(name, sizeof name, "echo_%s_msgs_per_s", label);
    bench_result(name, *msgs_per_s, "msgs/s");
    snprintf(name, sizeof name, "echo_%s_maxrss_kb", label);
    bench_result(name, (double)maxrss, "KiB");
    return 0;
}
