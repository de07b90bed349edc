/* Kernel threads after a burst of process-shared waits (issue 12, item
 * 14): NWAIT threads wait on a process-shared condvar (goro falls back to
 * glibc's wait, which holds a kernel thread each), main broadcasts, all
 * are joined; then FORKS fork()s, each child exiting at once.
 *
 * The output is the same natively and under goro; the bats test reads
 * goro's counters (GORO_STATS: ms_created, ms_exited) to check that the
 * idle kernel threads beyond a small reserve exited after the burst. */
#include <pthread.h>
#include <sys/wait.h>
#include "check.h"

#define NWAIT 200
#define FORKS 20

static pthread_mutex_t mu;
static pthread_cond_t cv;
static int waiting, go;

static void *waiter(void *arg)
{
    pthread_mutex_lock(&mu);
    waiting++;
    while (!go)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return NULL;
}

int main(void)
{
    check_pshared_init(&mu, &cv);
    pthread_t t[NWAIT];
    for (int i = 0; i < NWAIT; i++)
        CHECK_OK(pthread_create(&t[i], NULL, waiter, NULL));
    for (;;) {
        pthread_mutex_lock(&mu);
        int n = waiting;
        pthread_mutex_unlock(&mu);
        if (n == NWAIT)
            break;
        sched_yield();
    }
    pthread_mutex_lock(&mu);
    go = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < NWAIT; i++)
        CHECK_OK(pthread_join(t[i], NULL));
    printf("%d process-shared waiters woken and joined\n", NWAIT);
    for (int i = 0; i < FORKS; i++) {
        fflush(stdout);
        pid_t pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0)
            _exit(7);
        int st = 0;
        CHECK_EQ(pid, waitpid(pid, &st, 0), "waitpid");
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7, "child exit status");
    }
    printf("%d forks after the burst\n", FORKS);
    return 0;
}
