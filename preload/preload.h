/* The shared object's own layer: bootstrap, configuration from the
 * environment, and the debug-build endpoints (docs/ARCHITECTURE.md,
 * "Layers"). */
#ifndef GORO_PRELOAD_H
#define GORO_PRELOAD_H

/* Read every GORO_* variable and GOMAXPROCS into goro__cfg; a bad value is
 * one line on stderr and exit status 2. */
void goro__config_parse(void);

#ifdef GORO_DEBUG_BUILD
/* The HTTP listener of GORO_DEBUG_ADDR (preload/debug.c). */
void goro__debug_start(void);
#endif

#endif
