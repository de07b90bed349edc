/* Prints what libearly.so's constructor saw (tests/progs/early_lib.c): it
 * ran before goro's constructor, so every call there reached goro before
 * goro started.  The same lines natively and under goro. */
#include <pthread.h>
#include <stdio.h>

extern char early_report[];

static void *thread(void *arg) { return arg; }

int main(void)
{
    fputs(early_report, stdout);
    pthread_t t;
    void *r = NULL;
    int ok = pthread_create(&t, NULL, thread, (void *)5) == 0 && pthread_join(t, &r) == 0 && r == (void *)5;
    printf("main: pthread_create + join: %s\n", ok ? "ok" : "FAILED");
    return 0;
}
