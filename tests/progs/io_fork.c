/* fork() from a busy multi-threaded program, and system() from 8 threads.
 *
 *  - 8 threads compute and sched_yield() in a loop; meanwhile main forks.
 *    The child (which has only the forking thread) creates 4 threads, joins
 *    them, prints a line and exits 0; the parent waits for it with waitpid()
 *    and checks the status.  Done 3 times.
 *  - 8 threads call system("exit 3") at once; each must get a status whose
 *    WEXITSTATUS is 3. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/wait.h>
#include "check.h"

#define NBUSY 8

static atomic_int stop, busy_running;
static uint64_t busy_out[NBUSY];

static void *busy(void *arg)
{
    uint64_t x = (uintptr_t)arg + 1;
    atomic_fetch_add(&busy_running, 1);
    while (!atomic_load(&stop)) {
        for (int i = 0; i < 20000; i++)
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        sched_yield();
    }
    busy_out[(uintptr_t)arg] = x;
    return NULL;
}

static atomic_int child_sum;
static void *child_thread(void *arg)
{
    atomic_fetch_add(&child_sum, (int)(intptr_t)arg);
    return NULL;
}

static int sys_status[8];
static void *sys_thread(void *arg)
{
    sys_status[(intptr_t)arg] = system("exit 3");
    return NULL;
}

int main(void)
{
    pthread_t b[NBUSY];
    for (uintptr_t i = 0; i < NBUSY; i++)
        CHECK_OK(pthread_create(&b[i], NULL, busy, (void *)i));
    /* they are all computing before the first fork */
    while (atomic_load(&busy_running) < NBUSY) {
        struct timespec ts = { 0, 1000 * 1000 };
        nanosleep(&ts, NULL);
    }

    for (int round = 0; round < 3; round++) {
        fflush(stdout);
        pid_t pid = fork();
        CHECK(pid >= 0, "fork()");
        if (pid == 0) {
            pthread_t t[4];
            for (intptr_t i = 0; i < 4; i++)
                if (pthread_create(&t[i], NULL, child_thread, (void *)(i + 1)) != 0) {
                    printf("FAIL child %d: pthread_create\n", round);
                    fflush(stdout);
                    _exit(1);
                }
            for (int i = 0; i < 4; i++)
                if (pthread_join(t[i], NULL) != 0) {
                    printf("FAIL child %d: pthread_join\n", round);
                    fflush(stdout);
                    _exit(1);
                }
            printf("child %d: 4 threads joined, sum %d\n", round, atomic_load(&child_sum));
            fflush(stdout);
            exit(0);
        }
        int st = -1;
        pid_t w = waitpid(pid, &st, 0);
        if (w != pid)
            CHECK_FAIL("waitpid(): expected %d, saw %d (%s)", (int)pid, (int)w, strerror(errno));
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            CHECK_FAIL("child %d: expected exit status 0, saw wait status 0x%x", round, st);
        printf("parent: child %d exited 0\n", round);
    }

    pthread_t s[8];
    for (intptr_t i = 0; i < 8; i++)
        CHECK_OK(pthread_create(&s[i], NULL, sys_thread, (void *)i));
    for (int i = 0; i < 8; i++)
        CHECK_OK(pthread_join(s[i], NULL));
    for (int i = 0; i < 8; i++) {
        if (sys_status[i] == -1 || !WIFEXITED(sys_status[i]) || WEXITSTATUS(sys_status[i]) != 3)
            CHECK_FAIL("system(\"exit 3\") in thread %d: expected exit status 3, saw status 0x%x",
                       i, sys_status[i]);
    }
    printf("system(\"exit 3\") from 8 threads: all returned exit status 3\n");

    atomic_store(&stop, 1);
    for (int i = 0; i < NBUSY; i++)
        CHECK_OK(pthread_join(b[i], NULL));
    return 0;
}
