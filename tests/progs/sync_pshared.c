/* Process-shared synchronisation between a parent and a forked child:
 *   - a PTHREAD_PROCESS_SHARED mutex + condvar in MAP_SHARED anonymous
 *     memory: parent and child each add 10,000 to a shared counter under
 *     the mutex; the child then signals "done" through the condvar, which
 *     the parent waits on; the total must be 20,000;
 *   - a process-shared unnamed semaphore (sem_init pshared=1) in the same
 *     memory, and two named semaphores (sem_open): 1,000 ping-pongs.
 * And a robust mutex whose owner thread ends holding it (robust() below).
 * The child leaves with _exit. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

#define ADDS 10000
#define PINGS 1000

struct shm {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    long counter;
    int child_done;
    sem_t ping, pong;
};

static int wait_child(pid_t pid)
{
    int st;
    pid_t r;
    while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
        ;
    CHECK_EQ(pid, r, "waitpid");
    if (!WIFEXITED(st))
        CHECK_FAIL("child did not exit normally (status %#x)", st);
    return WEXITSTATUS(st);
}

static void mutex_cond(struct shm *s)
{
    pthread_mutexattr_t ma;
    pthread_condattr_t ca;
    CHECK_OK(pthread_mutexattr_init(&ma));
    CHECK_OK(pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED));
    CHECK_OK(pthread_mutex_init(&s->mu, &ma));
    CHECK_OK(pthread_mutexattr_destroy(&ma));
    CHECK_OK(pthread_condattr_init(&ca));
    CHECK_OK(pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED));
    CHECK_OK(pthread_cond_init(&s->cv, &ca));
    CHECK_OK(pthread_condattr_destroy(&ca));

    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        for (int i = 0; i < ADDS; i++) {
            if (pthread_mutex_lock(&s->mu) != 0)
                _exit(2);
            s->counter++;
            if (pthread_mutex_unlock(&s->mu) != 0)
                _exit(3);
        }
        if (pthread_mutex_lock(&s->mu) != 0)
            _exit(4);
        s->child_done = 1;
        if (pthread_cond_signal(&s->cv) != 0)
            _exit(5);
        if (pthread_mutex_unlock(&s->mu) != 0)
            _exit(6);
        _exit(0);
    }
    for (int i = 0; i < ADDS; i++) {
        CHECK_OK(pthread_mutex_lock(&s->mu));
        s->counter++;
        CHECK_OK(pthread_mutex_unlock(&s->mu));
    }
    CHECK_OK(pthread_mutex_lock(&s->mu));
    while (!s->child_done)
        CHECK_OK(pthread_cond_wait(&s->cv, &s->mu));
    long total = s->counter;
    CHECK_OK(pthread_mutex_unlock(&s->mu));
    CHECK_EQ(0, wait_child(pid), "child exit status (mutex/cond)");
    CHECK_EQ(2L * ADDS, total, "shared counter");
    CHECK_OK(pthread_cond_destroy(&s->cv));
    CHECK_OK(pthread_mutex_destroy(&s->mu));
    printf("pshared mutex+cond: parent and child added %ld ok\n", total);
}

/* ping-pong on two semaphores: parent posts ping, child waits ping and
 * posts pong, parent waits pong */
static void pingpong(sem_t *ping, sem_t *pong, const char *name)
{
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        for (int i = 0; i < PINGS; i++) {
            while (sem_wait(ping) != 0)
                if (errno != EINTR)
                    _exit(2);
            if (sem_post(pong) != 0)
                _exit(3);
        }
        _exit(0);
    }
    for (int i = 0; i < PINGS; i++) {
        CHECK_EQ(0, sem_post(ping), "sem_post(ping)");
        int r;
        while ((r = sem_wait(pong)) != 0 && errno == EINTR)
            ;
        CHECK_EQ(0, r, "sem_wait(pong)");
    }
    CHECK_EQ(0, wait_child(pid), "child exit status (semaphores)");
    int v;
    CHECK_EQ(0, sem_getvalue(ping, &v), "sem_getvalue(ping)");
    CHECK_EQ(0, v, "ping value at the end");
    CHECK_EQ(0, sem_getvalue(pong, &v), "sem_getvalue(pong)");
    CHECK_EQ(0, v, "pong value at the end");
    printf("%s: %d ping-pongs between parent and child ok\n", name, PINGS);
}

/* A robust mutex whose owner thread ends holding it: the next locker, and
 * one already blocked on it, get EOWNERDEAD; after
 * pthread_mutex_consistent it works again. */
static pthread_mutex_t rob;
static atomic_int holding;

static void *die_holding(void *arg)
{
    CHECK_OK(pthread_mutex_lock(&rob));
    atomic_store(&holding, 1);
    if (arg)
        check_wait_blocked(); /* the main thread blocks on it meanwhile */
    return NULL;
}

static void robust(void)
{
    pthread_mutexattr_t at;
    CHECK_OK(pthread_mutexattr_init(&at));
    CHECK_OK(pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST));
    CHECK_OK(pthread_mutex_init(&rob, &at));
    for (int blocked = 0; blocked < 2; blocked++) {
        pthread_t t;
        atomic_store(&holding, 0);
        CHECK_OK(pthread_create(&t, NULL, die_holding, blocked ? &rob : NULL));
        if (blocked)
            while (!atomic_load(&holding))
                usleep(1000);
        else
            CHECK_OK(pthread_join(t, NULL));
        CHECK_EQ(EOWNERDEAD, pthread_mutex_lock(&rob), "lock of a robust mutex whose owner ended");
        CHECK_OK(pthread_mutex_consistent(&rob));
        CHECK_OK(pthread_mutex_unlock(&rob));
        if (blocked)
            CHECK_OK(pthread_join(t, NULL));
        CHECK_OK(pthread_mutex_lock(&rob));
        CHECK_OK(pthread_mutex_unlock(&rob));
    }
    printf("robust mutex: EOWNERDEAD after the owner ended (locking later, and blocked), consistent ok\n");
}

int main(void)
{
    robust();
    struct shm *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(s != MAP_FAILED, "mmap MAP_SHARED|MAP_ANONYMOUS");
    memset(s, 0, sizeof *s);

    mutex_cond(s);

    CHECK_EQ(0, sem_init(&s->ping, 1, 0), "sem_init(ping, pshared=1)");
    CHECK_EQ(0, sem_init(&s->pong, 1, 0), "sem_init(pong, pshared=1)");
    pingpong(&s->ping, &s->pong, "pshared unnamed semaphores");
    CHECK_EQ(0, sem_destroy(&s->ping), "sem_destroy(ping)");
    CHECK_EQ(0, sem_destroy(&s->pong), "sem_destroy(pong)");

    char n1[64], n2[64];
    snprintf(n1, sizeof n1, "/goro_sync_pshared_ping_%d", (int)getpid());
    snprintf(n2, sizeof n2, "/goro_sync_pshared_pong_%d", (int)getpid());
    sem_t *ping = sem_open(n1, O_CREAT | O_EXCL, 0600, 0);
    CHECK(ping != SEM_FAILED, "sem_open(ping)");
    sem_t *pong = sem_open(n2, O_CREAT | O_EXCL, 0600, 0);
    CHECK(pong != SEM_FAILED, "sem_open(pong)");
    CHECK_EQ(0, sem_unlink(n1), "sem_unlink(ping)");
    CHECK_EQ(0, sem_unlink(n2), "sem_unlink(pong)");
    pingpong(ping, pong, "named semaphores");
    CHECK_EQ(0, sem_close(ping), "sem_close(ping)");
    CHECK_EQ(0, sem_close(pong), "sem_close(pong)");

    CHECK_EQ(0, munmap(s, sizeof *s), "munmap");
    return 0;
}
