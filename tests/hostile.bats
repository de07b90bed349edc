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

@test "host_fork_signal: a fork child takes a process signal in its own thread, not a gone sleeper's" {
  compare_native_goro host_fork_signal
}

# ---- 2. goro's own file descriptors ---------------------------------------------

# Soft limit 1024 below the hard one: goro's fds go above the soft limit.
@test "host_fds: close 3..1024, close_range, closefrom, dup2 over every fd, then sleeps and pipe I/O (soft limit 1024)" {
  for mode in loop range closefrom dup2; do
    (ulimit -Sn 1024 && compare_native_goro host_fds "$mode")
  done
}

# Hard limit = soft limit: goro's fds sit just below it, and are moved away
# when the program dup2s over them.
@test "host_fds: the same with no room above the soft limit (ulimit -n 256)" {
  for mode in loop range closefrom dup2; do
    (ulimit -n 256 && compare_native_goro host_fds "$mode")
  done
}

@test "host_fd_limit: with soft RLIMIT_NOFILE 64 the program opens as many fds as natively" {
  (ulimit -Sn 64 && compare_native_goro host_fd_limit)
}

# ---- set*id in a fork child, initgroups (issue 11, nginx) ---------------------

@test "host_setxid_fork: setuid/setgid/initgroups in a threaded parent and in 20 fork children" {
  compare_native_goro host_setxid_fork
}

# ---- 3. cancellation at every cancellation point --------------------------------

@test "host_cancel: a thread blocked in open(FIFO), mq_receive, fgets, getchar, wait*, F_SETLKW, msgrcv, system is cancelled" {
  for point in fifo mq fgets getchar wait waitpid waitid setlkw msgrcv system; do
    compare_native_goro host_cancel "$point"
  done
}

# ---- 4. thread identity --------------------------------------------------------

@test "host_tid: gettid stable and unique; tgkill, affinity, policy and nice act on the thread a tid names" {
  compare_native_goro host_tid
}
