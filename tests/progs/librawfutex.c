/* A library that waits as libgomp, Go c-shared libraries and hand-written
 * assembly do: `syscall` instructions of its own, which no interposed
 * symbol sees (tests/omp.bats). */
#include <linux/futex.h>
#include <sys/syscall.h>

static long raw_futex(int *addr, int op, int val)
{
	long r;
	register long r10 __asm__("r10") = 0;
	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "0"((long)SYS_futex), "D"(addr), "S"((long)op), "d"((long)val), "r"(r10)
			 : "rcx", "r11", "memory");
	return r;
}

void raw_wait(int *addr, int val) { raw_futex(addr, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, val); }
void raw_wake(int *addr) { raw_futex(addr, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1 << 30); }
