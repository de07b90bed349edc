/* The dlopen'ed second library of tests/progs/blocking.c: it calls the
 * vendor library through its own GOT, which goro patches after dlopen. */
#include <errno.h>

int vendor_wait(int fd, char *buf, int n);
double vendor_sum(int a, long b, double c, char *s);

double plug_sum(int a, long b, double c, char *s);
int plug_wait(int fd, char *buf, int n);

double plug_sum(int a, long b, double c, char *s) { return vendor_sum(a, b, c, s); }
int plug_wait(int fd, char *buf, int n) { return vendor_wait(fd, buf, n); }
