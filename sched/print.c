/* Runtime messages: formatted into a stack buffer and written with one
 * raw write(2), usable from signal handlers and before stdio is set up. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>

#include "sched/runtime.h"
#include "sched/sys.h"

void goro__write_err(const char *s) { goro__write_fd(2, s); }

void goro__write_fd(int fd, const char *s)
{
	size_t n = strlen(s);
	while (n > 0) {
		long w = goro__sys3(SYS_write, fd, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

void goro__errorf(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	goro__write_err(buf);
}

void goro__fdprintf(int fd, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	goro__write_fd(fd, buf);
}

/* "goro: <prefix><message>\n" on stderr, one write. */
static void vline(const char *prefix, const char *fmt, va_list ap)
{
	char buf[1024];
	int n = snprintf(buf, sizeof buf, "goro: %s", prefix);
	(void)vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
	strncat(buf, "\n", sizeof buf - strlen(buf) - 1);
	goro__write_err(buf);
}

void goro__throw(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vline("fatal error: ", fmt, ap);
	va_end(ap);
	goro__sys2(SYS_kill, goro__sys0(SYS_getpid), SIGABRT);
	goro__sys1(SYS_exit_group, 134);
	__builtin_unreachable();
}

void goro__refuse(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vline("", fmt, ap);
	va_end(ap);
	goro__sys1(SYS_exit_group, 2);
	__builtin_unreachable();
}
