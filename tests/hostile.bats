#!/usr/bin/env bats
# Hostile conditions (issue 13): fork while threads churn, the program
# closing goro's file descriptors, cancellation at every cancellation
# point, thread identity.  Each subject runs natively and under goro with
# GOMAXPROCS in $GORO_PROCS (default 1 2 4); stdout and exit status must
# be identical.

load helpers

# ---- 1. fork ------------------------------------------------------------------

@test "host_fork_soak: 200 forks while threads create threads and install handlers (GOMAXPROCS 2, 4)" {
  GORO_PROCS="2 4" compare_native_goro host_fork_soak
}
