/* A "vendor" library whose calls block where goro cannot see them
 * (tests/blocking.bats): vendor_wait reads with its own `syscall`
 * instruction, vendor_spin busy-waits on a flag in user space, vendor_sum
 * takes mixed argument types and sets errno. */
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int vendor_wait(int fd, char *buf, int n);
void vendor_spin(volatile int *flag);
double vendor_sum(int a, long b, double c, char *s);

int vendor_wait(int fd, char *buf, int n)
{
	long r;
	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "0"((long)SYS_read), "D"((long)fd), "S"(buf), "d"((long)n)
			 : "rcx", "r11", "memory");
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return (int)r;
}

void vendor_spin(volatile int *flag)
{
	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE))
		__asm__ volatile("pause");
}

double vendor_sum(int a, long b, double c, char *s)
{
	errno = a;
	return (double)a + (double)b + c + (double)strlen(s);
}

/* Called by nobody: an entry for it matches no GOT slot. */
int vendor_unused(void);
int vendor_unused(void) { return 42; }

/* Arguments past the registers (7 integer-class: one goes on the stack)
 * and float in both directions. */
double vendor_many(int a, long b, long c, long d, long e, long f, long g, float h);
double vendor_many(int a, long b, long c, long d, long e, long f, long g, float h)
{
	errno = g > 0 ? 0 : 33;
	return a + 2.0 * b + 3.0 * c + 4.0 * d + 5.0 * e + 6.0 * f + 7.0 * g + h;
}

float vendor_half(float x, unsigned u);
float vendor_half(float x, unsigned u) { return x / 2 + (float)(u % 7); }

/* A declared call that itself calls an interposed one: goro's read parks
 * inside it (the G keeps its M, sched/time.c goro__park_until). */
int vendor_read(int fd, char *buf, int n);
int vendor_read(int fd, char *buf, int n) { return (int)read(fd, buf, (size_t)n); }
