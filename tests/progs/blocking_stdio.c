/* The built-in declared stdio calls (tests/blocking.bats): a G blocks in
 * fgets, getline and fread on pipes whose writer is another G that first
 * counts ROUNDS of work; fputs/fwrite/fflush feed them.  At GOMAXPROCS=1 the
 * writer runs only because the blocked reader's P was handed off. */
#include "check.h"

#define ROUNDS 100000

static int pfd[2];
static atomic_int waiting;
static atomic_long work;

static void *writer(void *arg)
{
	FILE *out = arg;
	while (!atomic_load(&waiting))
		sched_yield();
	for (int i = 0; i < ROUNDS; i++)
		atomic_fetch_add(&work, 1);
	CHECK(fputs("first line\n", out) >= 0, "fputs");
	CHECK(fwrite("second line\nthird", 1, 17, out) == 17, "fwrite");
	CHECK_OK(fflush(out));
	CHECK(fputs(" block\n", out) >= 0, "fputs");
	CHECK_OK(fclose(out));
	return NULL;
}

int main(void)
{
	CHECK(pipe(pfd) == 0, "pipe");
	FILE *in = fdopen(pfd[0], "r"), *out = fdopen(pfd[1], "w");
	CHECK(in && out, "fdopen");
	pthread_t t;
	CHECK_OK(pthread_create(&t, NULL, writer, out));
	atomic_store(&waiting, 1);
	char buf[64];
	CHECK(fgets(buf, sizeof buf, in) != NULL, "fgets");
	printf("fgets: %s", buf);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, in);
	printf("getline: %zd %s", n, line);
	size_t r = fread(buf, 1, sizeof buf, in);
	printf("fread: %zu %.*s", r, (int)r, buf);
	free(line);
	CHECK_OK(pthread_join(t, NULL));
	printf("work %ld\n", atomic_load(&work));
	fclose(in);
	return 0;
}
