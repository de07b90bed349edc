/* A tracer thread among busy threads: the kernel takes ptrace requests
 * only from the kernel thread that attached (or, for PTRACE_TRACEME, the
 * one that forked the tracee), so under goro the tracing G must keep its M
 * (shim/ptrace.c) while its waitpid hands the P to the busy threads and the
 * G could come back on another M.
 *
 * Twice: first the child asks to be traced (PTRACE_TRACEME) and the parent
 * never attaches, then the parent seizes the child (PTRACE_SEIZE).  The
 * child runs this program again, natively (LD_PRELOAD removed: a tracee
 * under goro has more kernel threads, sysmon and its Ms, which a tracer
 * that seizes one thread would leave in group-stop); it waits for a go
 * (a pipe), then stops itself STOPS times.  The parent waits for each stop
 * and PTRACE_CONTs it (suppressing the SIGSTOP), then reaps it.  Two
 * threads spin on sched_yield meanwhile. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
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

static int tracee(int fd, bool traceme)
{
    char c;
    if (read(fd, &c, 1) != 1)
        return 3;
    if (traceme && ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0)
        return 5;
    for (int i = 0; i < STOPS; i++)
        raise(SIGSTOP);
    return 0;
}

static void trace_one(const char *self, bool seize)
{
    int go[2];
    CHECK(pipe(go) == 0, "pipe");
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        char fd[16];
        snprintf(fd, sizeof fd, "%d", go[0]);
        unsetenv("LD_PRELOAD");
        execl("/proc/self/exe", self, seize ? "seized" : "traceme", fd, (char *)NULL);
        _exit(4);
    }
    if (seize)
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
            CHECK_FAIL("%s: PTRACE_CONT after stop %d: %s", seize ? "seize" : "traceme", stops,
                       strerror(errno));
    }
    close(go[0]);
    close(go[1]);
    printf("%s: stops=%d exited=%d status=%d\n", seize ? "PTRACE_SEIZE" : "PTRACE_TRACEME", stops,
           WIFEXITED(st), WEXITSTATUS(st));
}

int main(int argc, char **argv)
{
    if (argc == 3)
        return tracee(atoi(argv[2]), strcmp(argv[1], "traceme") == 0);
    pthread_t t[BUSY];
    for (int i = 0; i < BUSY; i++)
        CHECK_OK(pthread_create(&t[i], NULL, busy, NULL));
    trace_one(argv[0], false); /* first: before it, nothing locked this G */
    trace_one(argv[0], true);
    atomic_store(&done, 1);
    for (int i = 0; i < BUSY; i++)
        CHECK_OK(pthread_join(t[i], NULL));
    return 0;
}
