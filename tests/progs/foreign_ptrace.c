/* A tracer thread among busy threads: the kernel takes ptrace requests
 * only from the kernel thread that attached, so under goro the G that
 * seizes must keep its M (shim/ptrace.c) while its waitpid hands the P to
 * the busy threads and the G could come back on another M.
 *
 * The child runs this program again, natively (LD_PRELOAD removed: a
 * tracee under goro has more kernel threads, sysmon and its Ms, which a
 * tracer that seizes one thread would leave in group-stop); it waits for
 * the seize (a pipe), then stops itself STOPS times.  The parent waits for
 * each stop and PTRACE_CONTs it (suppressing the SIGSTOP), then reaps it.
 * Two threads spin on sched_yield meanwhile. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define STOPS 20
#define BUSY 2

static atomic_int done;

static void *busy(void *arg)
{
    unsigned long n = 0;
    while (!atomic_load(&done)) {
        n++;
        sched_yield();
    }
    return n > 0 ? arg : NULL;
}

static int tracee(int fd)
{
    char c;
    if (read(fd, &c, 1) != 1)
        return 3;
    for (int i = 0; i < STOPS; i++)
        raise(SIGSTOP);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "tracee") == 0)
        return tracee(atoi(argv[2]));
    pthread_t t[BUSY];
    for (int i = 0; i < BUSY; i++)
        CHECK_OK(pthread_create(&t[i], NULL, busy, NULL));
    int go[2];
    CHECK(pipe(go) == 0, "pipe");
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        char fd[16];
        snprintf(fd, sizeof fd, "%d", go[0]);
        unsetenv("LD_PRELOAD");
        execl("/proc/self/exe", argv[0], "tracee", fd, (char *)NULL);
        _exit(4);
    }
    CHECK(ptrace(PTRACE_SEIZE, pid, NULL, NULL) == 0, "PTRACE_SEIZE");
    CHECK(write(go[1], "g", 1) == 1, "write");
    int stops = 0, st;
    for (;;) {
        pid_t w = waitpid(pid, &st, 0);
        CHECK(w == pid, "waitpid");
        if (!WIFSTOPPED(st))
            break;
        if (WSTOPSIG(st) == SIGSTOP)
            stops++;
        long r = ptrace(PTRACE_CONT, pid, NULL, NULL);
        if (r != 0)
            CHECK_FAIL("PTRACE_CONT after stop %d: %s", stops, strerror(errno));
    }
    atomic_store(&done, 1);
    for (int i = 0; i < BUSY; i++)
        CHECK_OK(pthread_join(t[i], NULL));
    printf("stops=%d exited=%d status=%d\n", stops, WIFEXITED(st), WEXITSTATUS(st));
    return 0;
}
