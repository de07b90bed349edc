/* Cancellation at cancellation points that block in the kernel (issue 13,
 * item 3).  argv[1] names one: fifo (open of a FIFO with no writer), mq
 * (mq_receive), fgets and getchar (stdio's internal read), wait, waitpid,
 * waitid, setlkw (fcntl F_SETLKW on a lock a child holds), msgrcv, system
 * (whose command glibc's cleanup kills and reaps).  A
 * thread blocks there (its kernel thread asleep in the call: the
 * handshake), is cancelled, and must end as natively: its cleanup handler
 * runs and the joiner sees PTHREAD_CANCELED. */
#include <mqueue.h>
#include <sys/msg.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "check.h"

static const char *mode;
static char path[64];
static int arg;              /* a descriptor, queue, pid or msqid */
static FILE *file;
static char command[128];
static volatile long blocked_tid;
static volatile int cleaned;

static void cleanup(void *p)
{
	(void)p;
	cleaned = 1;
}

static void block_in_call(void)
{
	char buf[128];
	siginfo_t si;
	int st;
	if (strcmp(mode, "fifo") == 0) {
		open(path, O_RDONLY);
	} else if (strcmp(mode, "mq") == 0) {
		mq_receive(arg, buf, sizeof buf, NULL);
	} else if (strcmp(mode, "fgets") == 0) {
		fgets(buf, sizeof buf, file);
	} else if (strcmp(mode, "getchar") == 0) {
		getchar();
	} else if (strcmp(mode, "wait") == 0) {
		wait(&st);
	} else if (strcmp(mode, "waitpid") == 0) {
		waitpid(arg, &st, 0);
	} else if (strcmp(mode, "waitid") == 0) {
		waitid(P_PID, (id_t)arg, &si, WEXITED);
	} else if (strcmp(mode, "setlkw") == 0) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		fcntl(arg, F_SETLKW, &fl);
	} else if (strcmp(mode, "msgrcv") == 0) {
		struct { long type; char text[64]; } m;
		msgrcv(arg, &m, sizeof m.text, 0, 0);
	} else if (strcmp(mode, "system") == 0) {
		system(command);
	}
}

static void *blocker(void *p)
{
	pthread_cleanup_push(cleanup, NULL);
	blocked_tid = check_raw3(SYS_gettid, 0, 0, 0);
	block_in_call();
	printf("%s: the call returned\n", mode);
	pthread_cleanup_pop(0);
	return p;
}

/* A child that holds a write lock on path (setlkw) or just lives, until
 * its stdin pipe closes. */
static pid_t child(int *ctl)
{
	int p[2], ready[2];
	CHECK_EQ(0, pipe(p), "pipe");
	CHECK_EQ(0, pipe(ready), "pipe");
	pid_t pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		char c;
		close(p[1]);
		if (strcmp(mode, "setlkw") == 0) {
			struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
			if (fcntl(arg, F_SETLK, &fl) != 0)
				_exit(2);
		}
		if (write(ready[1], "r", 1) != 1)
			_exit(3);
		while (read(p[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(p[0]);
	close(ready[1]);
	char c;
	CHECK_EQ(1, read(ready[0], &c, 1), "child ready");
	close(ready[0]);
	*ctl = p[1];
	return pid;
}

/* What the call waits for. */
static void setup(int *ctl, pid_t *pid)
{
	int p[2];
	if (strcmp(mode, "fifo") == 0) {
		snprintf(path, sizeof path, "/tmp/goro-host-cancel-%d", (int)getpid());
		CHECK_EQ(0, mkfifo(path, 0600), "mkfifo");
	} else if (strcmp(mode, "mq") == 0) {
		snprintf(path, sizeof path, "/goro-host-cancel-%d", (int)getpid());
		struct mq_attr a = { .mq_maxmsg = 4, .mq_msgsize = 128 };
		arg = mq_open(path, O_CREAT | O_RDWR, 0600, &a);
		CHECK(arg >= 0, "mq_open");
	} else if (strcmp(mode, "fgets") == 0 || strcmp(mode, "getchar") == 0) {
		CHECK_EQ(0, pipe(p), "pipe");
		*ctl = p[1];
		if (mode[0] == 'g' && mode[1] == 'e')
			CHECK_EQ(0, dup2(p[0], 0), "dup2 stdin");
		else
			file = fdopen(p[0], "r");
	} else if (strncmp(mode, "wait", 4) == 0) {
		*pid = child(ctl);
		arg = *pid;
	} else if (strcmp(mode, "setlkw") == 0) {
		snprintf(path, sizeof path, "/tmp/goro-host-cancel-%d", (int)getpid());
		arg = open(path, O_RDWR | O_CREAT, 0600);
		CHECK(arg >= 0, "open the lock file");
		*pid = child(ctl);
	} else if (strcmp(mode, "msgrcv") == 0) {
		arg = msgget(IPC_PRIVATE, 0600);
		CHECK(arg >= 0, "msgget");
	} else if (strcmp(mode, "system") == 0) {
		/* The command says it started, then waits for input that never
		 * comes (ctl, the write end, is ours alone). */
		int started[2];
		CHECK_EQ(0, pipe(p), "pipe");
		CHECK_EQ(0, pipe(started), "pipe");
		CHECK_EQ(0, fcntl(p[1], F_SETFD, FD_CLOEXEC), "FD_CLOEXEC");
		CHECK_EQ(0, fcntl(started[0], F_SETFD, FD_CLOEXEC), "FD_CLOEXEC");
		snprintf(command, sizeof command, "echo started >&%d; read x <&%d", started[1], p[0]);
		*ctl = p[1];
		arg = started[0];
	} else {
		CHECK_FAIL("unknown cancellation point \"%s\"", mode);
	}
}

int main(int argc, char **argv)
{
	CHECK(argc == 2, "usage: host_cancel fifo|mq|fgets|getchar|wait|waitpid|waitid|setlkw|msgrcv|system");
	mode = argv[1];
	int ctl = -1;
	pid_t pid = -1;
	setup(&ctl, &pid);
	pthread_t t;
	void *res;
	CHECK_OK(pthread_create(&t, NULL, blocker, NULL));
	if (strcmp(mode, "system") == 0) {
		char c;
		CHECK_EQ(1, read(arg, &c, 1), "the command started");
	}
	/* The handshake: the blocker's kernel thread asleep in the call. */
	while (!blocked_tid || check_thread_state(blocked_tid) != 'S')
		sched_yield();
	CHECK_OK(pthread_cancel(t));
	CHECK_OK(pthread_join(t, &res));
	CHECK(res == PTHREAD_CANCELED, "the joiner sees PTHREAD_CANCELED");
	CHECK(cleaned, "the cleanup handler ran");
	printf("%s: cancelled, cleanup handler ran\n", mode);
	if (strcmp(mode, "system") == 0) {
		errno = 0;
		int r = waitpid(-1, NULL, WNOHANG);
		printf("system: the command was killed and reaped: %s\n", r < 0 && errno == ECHILD ? "yes" : "no");
	}
	if (ctl >= 0)
		close(ctl);
	if (pid > 0)
		CHECK_EQ(pid, waitpid(pid, NULL, 0), "reap the child");
	if (strcmp(mode, "mq") == 0)
		mq_unlink(path);
	else if (path[0])
		unlink(path);
	if (strcmp(mode, "msgrcv") == 0)
		msgctl(arg, IPC_RMID, NULL);
	return 0;
}
