/* See stubs.h. */
#include <string.h>

#include "sched/sys.h"
#include "tests/unit/stubs.h"

GORO_HIDDEN int32_t goro__gomaxprocs = 1;
GORO_HIDDEN struct g goro__g1;
GORO_HIDDEN bool goro__started;
GORO_HIDDEN bool goro__gsready; /* unit tests: getg() is the TLS slot */
GORO_HIDDEN struct schedt goro__sched;
GORO_HIDDEN struct goro_mutex goro__allglock;
GORO_HIDDEN struct g *goro__allgs;

#ifdef GORO_STUBS_WITH_TLS
/* sched/asm_amd64.o (linked for goro__getfs) also refers to these; a unit
 * test never switches %fs or starts a G. */
GORO_HIDDEN uint8_t goro__fsgsbase;
void goro__gmain(struct g *gp)
{
	goro__throw("unit test: goro__gmain called");
}
GORO_HIDDEN uint64_t goro__xsave_size = 4096;
void goro__asyncpreempt2(uint64_t *regs)
{
	goro__throw("unit test: goro__asyncpreempt2 called");
}
#else
GORO_HIDDEN __thread struct g *goro__curg = &goro__g1;
#endif

/* The tests run on threads goro did not make: they are all G1 here. */
struct g *goro__getg_slow(void) { return &goro__g1; }

void stubs_init(int32_t procs)
{
	goro__gomaxprocs = procs;
	memset(&goro__g1, 0, sizeof goro__g1);
	goro__g1.goid = 1;
	goro__started = false;
	goro__allgs = NULL;
}
