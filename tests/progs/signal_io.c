/* A signal with a handler interrupts a blocked I/O wait as natively.
 *
 * A thread blocks in a call; once it is seen blocked (check_wait_blocked)
 * the main thread sends it SIGUSR1 with pthread_kill (again every 50 ms
 * until the call returns):
 * - read on a pipe, accept on a listening socket, sem_wait: -1/EINTR
 *   when the handler lacks SA_RESTART; with SA_RESTART they go on
 *   waiting (three signals later a byte is written / a post is made and
 *   the call returns it);
 * - poll, select, epoll_wait on a pipe with a 10 s timeout: -1/EINTR even
 *   with SA_RESTART.
 * The handler runs in the blocked thread.  A thread waiting in
 * pthread_cond_wait, pthread_join, pthread_mutex_lock, pthread_rwlock_wrlock
 * or pthread_barrier_wait runs the handler at once and goes on waiting
 * (cond_wait does not return until signalled).  Then process-directed:
 * SIGALRM from setitimer (no SA_RESTART, every 100 ms until the call
 * returns) ends the main thread's read on a pipe and its accept with
 * EINTR, its handler running in the main thread.  Nothing
 * timing-related is printed.
 * Last, the sigsuspend pattern: a thread blocks SIGUSR1, is sent it (it
 * stays pending), then sigsuspend with it unblocked takes it: -1/EINTR,
 * the handler in that thread. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "check.h"

static _Atomic pthread_t handler_self;
static atomic_int handler_runs;
static atomic_int ready, done;
static int pipefd[2], lsock, epfd;
static sem_t sem;

static void on_sig(int sig)
{
    (void)sig;
    atomic_store(&handler_self, pthread_self());
    atomic_fetch_add(&handler_runs, 1);
}

static void install(int sig, int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sig;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    CHECK_OK(sigaction(sig, &sa, NULL));
}

enum op { READ, ACCEPT, SEMWAIT, POLL, SELECT, EPOLL };
static const char *const names[] = { "read", "accept", "sem_wait", "poll", "select", "epoll_wait" };

/* Runs the call; returns its result with errno saved in *e. */
static int blocked_call(enum op o, int *e)
{
    char b;
    int r = 0;
    struct pollfd p = { pipefd[0], POLLIN, 0 };
    fd_set rs;
    struct timeval tv = { 10, 0 };
    struct epoll_event ev;
    switch (o) {
    case READ: r = (int)read(pipefd[0], &b, 1); break;
    case ACCEPT: r = accept(lsock, NULL, NULL); break;
    case SEMWAIT: r = sem_wait(&sem); break;
    case POLL: r = poll(&p, 1, 10000); break;
    case SELECT:
        FD_ZERO(&rs);
        FD_SET(pipefd[0], &rs);
        r = select(pipefd[0] + 1, &rs, NULL, NULL, &tv);
        break;
    case EPOLL: r = epoll_wait(epfd, &ev, 1, 10000); break;
    }
    *e = errno;
    return r;
}

struct job {
    enum op op;
    int r, e;
};

static void *blocker(void *arg)
{
    struct job *j = arg;
    atomic_store(&ready, 1);
    j->r = blocked_call(j->op, &j->e);
    atomic_store(&done, 1);
    return NULL;
}

/* restart: the handler has SA_RESTART; after three signals the wait is
 * satisfied instead (a byte, a post). */
static void run(enum op o, int restart)
{
    struct job j = { o, 0, 0 };
    pthread_t t;
    atomic_store(&ready, 0);
    atomic_store(&done, 0);
    atomic_store(&handler_runs, 0);
    atomic_store(&handler_self, (pthread_t)0);
    CHECK_OK(pthread_create(&t, NULL, blocker, &j));
    while (!atomic_load(&ready))
        usleep(1000);
    check_wait_blocked(); /* the first signal lands in the call */
    int sent = 0;
    while (!atomic_load(&done)) {
        usleep(50000);
        if (atomic_load(&done))
            break;
        if (restart && atomic_load(&handler_runs) >= 3) {
            if (o == READ)
                CHECK_EQ(1, (int)write(pipefd[1], "x", 1), "write a byte");
            else
                CHECK_OK(sem_post(&sem));
            break;
        }
        CHECK_OK(pthread_kill(t, SIGUSR1));
        sent++;
    }
    CHECK_OK(pthread_join(t, NULL));
    if (restart && (o == READ || o == SEMWAIT)) {
        if (j.r < 0)
            CHECK_FAIL("%s: expected it to go on waiting through SA_RESTART handlers and succeed, saw %d (%s)",
                       names[o], j.r, strerror(j.e));
    } else if (j.r != -1 || j.e != EINTR) {
        CHECK_FAIL("%s: expected -1/EINTR, saw %d (%s)", names[o], j.r, j.r < 0 ? strerror(j.e) : "-");
    }
    CHECK(sent > 0 && pthread_equal(atomic_load(&handler_self), t), "the handler ran in the blocked thread");
    printf("%s (%s): %s ok\n", names[o], restart ? "SA_RESTART" : "no SA_RESTART",
           restart && (o == READ || o == SEMWAIT) ? "restarted, then returned" : "EINTR");
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int pred, cond_returns;
static sem_t gate;

static void *cond_waiter(void *arg)
{
    (void)arg;
    CHECK_OK(pthread_mutex_lock(&mu));
    atomic_store(&ready, 1);
    while (!pred) {
        CHECK_OK(pthread_cond_wait(&cv, &mu));
        cond_returns++;
    }
    CHECK_OK(pthread_mutex_unlock(&mu));
    return NULL;
}

static void *gated(void *arg)
{
    (void)arg;
    while (sem_wait(&gate) != 0)
        ;
    return NULL;
}

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_barrier_t bar;
static int lock_kind;
static atomic_int locked;
static const char *const lock_names[] = { "pthread_mutex_lock", "pthread_rwlock_wrlock", "pthread_barrier_wait" };

static void *locker(void *arg)
{
    (void)arg;
    atomic_store(&ready, 1);
    if (lock_kind == 0) {
        CHECK_OK(pthread_mutex_lock(&held));
        atomic_store(&locked, 1);
        CHECK_OK(pthread_mutex_unlock(&held));
    } else if (lock_kind == 1) {
        CHECK_OK(pthread_rwlock_wrlock(&rw));
        atomic_store(&locked, 1);
        CHECK_OK(pthread_rwlock_unlock(&rw));
    } else {
        pthread_barrier_wait(&bar);
        atomic_store(&locked, 1);
    }
    return NULL;
}

static void *joiner(void *arg)
{
    pthread_t *t = arg;
    atomic_store(&ready, 1);
    CHECK_OK(pthread_join(*t, NULL));
    return NULL;
}

/* Signals t until its handler has run in it (30 s at most). */
static void signal_until_handled(pthread_t t, const char *what)
{
    for (int i = 0; i < 600 && !pthread_equal(atomic_load(&handler_self), t); i++) {
        CHECK_OK(pthread_kill(t, SIGUSR1));
        usleep(50000);
    }
    if (!pthread_equal(atomic_load(&handler_self), t))
        CHECK_FAIL("%s: the handler did not run in the waiting thread", what);
}

static void waits_go_on(void)
{
    pthread_t t, g, j;
    atomic_store(&ready, 0);
    atomic_store(&handler_self, (pthread_t)0);
    CHECK_OK(pthread_create(&t, NULL, cond_waiter, NULL));
    while (!atomic_load(&ready))
        usleep(1000);
    check_wait_blocked();
    signal_until_handled(t, "pthread_cond_wait");
    CHECK_OK(pthread_mutex_lock(&mu));
    pred = 1;
    CHECK_OK(pthread_cond_signal(&cv));
    CHECK_OK(pthread_mutex_unlock(&mu));
    CHECK_OK(pthread_join(t, NULL));
    CHECK_EQ(1, cond_returns, "pthread_cond_wait returns (once, when signalled)");
    printf("pthread_cond_wait: handler in the waiter, the wait goes on ok\n");

    CHECK_OK(sem_init(&gate, 0, 0));
    atomic_store(&ready, 0);
    atomic_store(&handler_self, (pthread_t)0);
    CHECK_OK(pthread_create(&g, NULL, gated, NULL));
    CHECK_OK(pthread_create(&j, NULL, joiner, &g));
    while (!atomic_load(&ready))
        usleep(1000);
    check_wait_blocked();
    signal_until_handled(j, "pthread_join");
    CHECK_OK(sem_post(&gate));
    CHECK_OK(pthread_join(j, NULL));
    printf("pthread_join: handler in the joiner, the join goes on ok\n");

    /* mutex, rwlock, barrier: held / not full while signalled */
    for (int k = 0; k < 3; k++) {
        pthread_t w;
        atomic_store(&ready, 0);
        atomic_store(&handler_self, (pthread_t)0);
        if (k == 0)
            CHECK_OK(pthread_mutex_lock(&held));
        else if (k == 1)
            CHECK_OK(pthread_rwlock_rdlock(&rw));
        lock_kind = k;
        CHECK_OK(pthread_create(&w, NULL, locker, NULL));
        while (!atomic_load(&ready))
            usleep(1000);
        check_wait_blocked();
        signal_until_handled(w, lock_names[k]);
        CHECK(!atomic_load(&locked), "the waiter is still waiting after its handler ran");
        if (k == 0)
            CHECK_OK(pthread_mutex_unlock(&held));
        else if (k == 1)
            CHECK_OK(pthread_rwlock_unlock(&rw));
        else
            pthread_barrier_wait(&bar);
        CHECK_OK(pthread_join(w, NULL));
        CHECK(atomic_load(&locked), "the waiter got through");
        atomic_store(&locked, 0);
        printf("%s: handler in the waiter, the wait goes on ok\n", lock_names[k]);
    }
}

/* The timer repeats every 100 ms until the call has returned: one that
 * fired before main got into the call (a loaded machine) does not leave
 * it blocked for good. */
static void main_interrupted(enum op o)
{
    struct itimerval it = { { 0, 100000 }, { 0, 100000 } }, off = { { 0, 0 }, { 0, 0 } };
    atomic_store(&handler_self, (pthread_t)0);
    CHECK_OK(setitimer(ITIMER_REAL, &it, NULL));
    int e, r = blocked_call(o, &e);
    CHECK_OK(setitimer(ITIMER_REAL, &off, NULL));
    CHECK(r == -1 && e == EINTR, "main thread's call ended by SIGALRM with -1/EINTR");
    CHECK(pthread_equal(atomic_load(&handler_self), pthread_self()), "SIGALRM handler in the main thread");
    printf("SIGALRM: ends the main thread's %s with EINTR ok\n", names[o]);
}

static void *suspender(void *arg)
{
    (void)arg;
    sigset_t b, old;
    sigemptyset(&b);
    sigaddset(&b, SIGUSR1);
    CHECK_OK(pthread_sigmask(SIG_BLOCK, &b, &old));
    atomic_store(&ready, 1);
    while (atomic_load(&ready) != 2)
        usleep(1000);
    CHECK(!pthread_equal(atomic_load(&handler_self), pthread_self()), "no handler while blocked");
    int r = sigsuspend(&old);
    CHECK(r == -1 && errno == EINTR, "sigsuspend: -1/EINTR");
    CHECK(pthread_equal(atomic_load(&handler_self), pthread_self()), "handler in the suspending thread");
    return NULL;
}

static void suspend_pattern(void)
{
    pthread_t t;
    atomic_store(&ready, 0);
    atomic_store(&handler_self, (pthread_t)0);
    CHECK_OK(pthread_create(&t, NULL, suspender, NULL));
    while (!atomic_load(&ready))
        usleep(1000);
    CHECK_OK(pthread_kill(t, SIGUSR1)); /* pending in t once this returns */
    atomic_store(&ready, 2);
    CHECK_OK(pthread_join(t, NULL));
    printf("sigsuspend takes a signal sent while blocked ok\n");
}

int main(void)
{
    CHECK_OK(pipe(pipefd));
    lsock = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(lsock >= 0, "socket");
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_OK(bind(lsock, (struct sockaddr *)&a, sizeof a));
    CHECK_OK(listen(lsock, 4));
    CHECK_OK(sem_init(&sem, 0, 0));
    epfd = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = pipefd[0] };
    CHECK_OK(epoll_ctl(epfd, EPOLL_CTL_ADD, pipefd[0], &ev));

    install(SIGUSR1, 0);
    for (int o = READ; o <= EPOLL; o++)
        run((enum op)o, 0);
    install(SIGUSR1, SA_RESTART);
    run(READ, 1); /* the restarted read took the byte: the pipe is empty again */
    run(SEMWAIT, 1);
    run(POLL, 1);
    run(EPOLL, 1);

    CHECK_OK(pthread_barrier_init(&bar, NULL, 2));
    waits_go_on();

    install(SIGALRM, 0);
    main_interrupted(READ);
    main_interrupted(ACCEPT);
    install(SIGUSR1, 0);
    suspend_pattern();
    return 0;
}
