# Subject programs for the bats suites (tests/*.bats).  Included by the top
# Makefile, which defines PROGS and BUILD before including this file;
# `make progs` builds $(PROGS).
#
# Every program runs natively and under goro; the suites compare outputs.
# Libraries sit next to the programs in $(BUILD)/progs: linked ones are found
# through an $ORIGIN rpath, dlopen'ed ones by a path the program builds from
# /proc/self/exe.

PROGS_DIR    := $(BUILD)/progs
PROGS_CFLAGS := -O2 -g -pthread -Wall -Werror -D_GNU_SOURCE
PROGS_CXXFLAGS := -O2 -g -pthread -Wall -Werror
PROGS_HDRS   := tests/progs/check.h

# Plain C programs, one source file each.
PROGS_C := hello create_join keys once cancel detach thread_names stack_attr \
           exit_main exit_thread join_np thread_kill signal_sleep signal_io yield_pingpong c11_threads \
           stack_overflow switch_tls signal_handler_calls
PROGS_C += host_fork_soak host_fds host_fd_limit host_setxid_fork host_cancel host_tid host_fork_signal
PROGS_C += many_threads stack_burst
PROGS_C += sig_daemon sig_wait_kill sig_cancel_wait sig_alarm_parked sig_kill_mutex sig_exit_handler sig_main_pref sig_rate sig_altstack sig_handler_sleep sig_longjmp sig_handler_nest

PROGS_C += foreign_threads foreign_ptrace
PROGS_C += preempt_cond
PROGS_C += spin_wake
PROGS_C_BINS := $(PROGS_C:%=$(PROGS_DIR)/%)

PROGS += $(PROGS_C_BINS) \
         $(PROGS_DIR)/tls $(PROGS_DIR)/libtlsdep.so $(PROGS_DIR)/libtlsdl.so \
         $(PROGS_DIR)/libtlsie.so \
         $(PROGS_DIR)/cxx_exc

$(PROGS_C_BINS): $(PROGS_DIR)/%: tests/progs/%.c $(PROGS_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(PROGS_CFLAGS) $< -o $@

# TLS isolation: a linked library, a dlopen'ed global-dynamic one and a
# dlopen'ed initial-exec one (opened after threads exist).
$(PROGS_DIR)/libtlsdep.so: tests/progs/tlsdep.c
	@mkdir -p $(dir $@)
	$(CC) $(PROGS_CFLAGS) -fPIC -shared $< -o $@

$(PROGS_DIR)/libtlsdl.so: tests/progs/tlsdl.c
	@mkdir -p $(dir $@)
	$(CC) $(PROGS_CFLAGS) -fPIC -shared $< -o $@

$(PROGS_DIR)/libtlsie.so: tests/progs/tlsie.c
	@mkdir -p $(dir $@)
	$(CC) $(PROGS_CFLAGS) -fPIC -shared $< -o $@

$(PROGS_DIR)/tls: tests/progs/tls.c $(PROGS_HDRS) $(PROGS_DIR)/libtlsdep.so \
                  $(PROGS_DIR)/libtlsdl.so $(PROGS_DIR)/libtlsie.so
	$(CC) $(PROGS_CFLAGS) $< -o $@ -L$(PROGS_DIR) -ltlsdep \
	    -Wl,-rpath,'$$ORIGIN' -ldl

# C++: exceptions, thread_local, std::thread, forced unwinding.
$(PROGS_DIR)/cxx_exc: tests/progs/cxx_exc.cc $(PROGS_HDRS)
	@mkdir -p $(dir $@)
	$(CXX) $(PROGS_CXXFLAGS) $< -o $@

# Synchronisation suite (tests/sync.bats): plain C programs, one source each.
PROGS_SYNC := sync_mutex_stress sync_static_init sync_prodcons sync_rwlock \
              sync_barrier sync_spin sync_sleepers sync_cancel_cond \
              sync_pshared sync_c11
PROGS_SYNC_BINS := $(PROGS_SYNC:%=$(PROGS_DIR)/%)
PROGS += $(PROGS_SYNC_BINS)

$(PROGS_SYNC_BINS): $(PROGS_DIR)/%: tests/progs/%.c $(PROGS_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(PROGS_CFLAGS) $< -o $@

# I/O suite (tests/io.bats): plain C programs, one source each.  io_peer is
# the native helper at the other end of io_inherited's pipes.
PROGS_IO := io_pipe_block io_rawsyscall io_echo io_nonblock io_inherited \
            io_peer io_poll io_fork
PROGS_IO_BINS := $(PROGS_IO:%=$(PROGS_DIR)/%)
PROGS += $(PROGS_IO_BINS)

$(PROGS_IO_BINS): $(PROGS_DIR)/%: tests/progs/%.c $(PROGS_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(PROGS_CFLAGS) $< -o $@

# Debug endpoints (tests/debug.bats, tests/observe.bats): a long-running
# subject that stops at the end of its stdin.
PROGS += $(PROGS_DIR)/debug_subject

$(PROGS_DIR)/debug_subject: tests/progs/debug_subject.c $(PROGS_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(PROGS_CFLAGS) $< -o $@

# Thread affinity (GORO_LOCKED, goro_lock_os_thread): -rdynamic so that
# goro's dladdr sees the start routine's name.
PROGS += $(PROGS_DIR)/locked

$(PROGS_DIR)/locked: tests/progs/locked.c $(PROGS_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(PROGS_CFLAGS) -rdynamic $< -o $@ -ldl

# The deadlock report (-rdynamic: the report names start routines).
PROGS += $(PROGS_DIR)/deadlock

$(PROGS_DIR)/deadlock: tests/progs/deadlock.c $(PROGS_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(PROGS_CFLAGS) -rdynamic $< -o $@

PROGS += $(PROGS_DIR)/spin_flag

$(PROGS_DIR)/spin_flag: tests/progs/spin_flag.c $(PROGS_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(PROGS_CFLAGS) $< -o $@

PROGS += $(PROGS_DIR)/io_stdio_block

$(PROGS_DIR)/io_stdio_block: tests/progs/io_stdio_block.c $(PROGS_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(PROGS_CFLAGS) $< -o $@

PROGS += $(PROGS_DIR)/io_pollmany

$(PROGS_DIR)/io_pollmany: tests/progs/io_pollmany.c $(PROGS_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(PROGS_CFLAGS) $< -o $@

# Raw system calls of foreign code (tests/omp.bats): an OpenMP program, and
# a library that waits with its own `syscall` instructions.
PROGS_OMP_BINS := $(PROGS_DIR)/omp_mix $(PROGS_DIR)/rawfutex $(PROGS_DIR)/librawfutex.so
PROGS += $(PROGS_OMP_BINS)

$(PROGS_DIR)/omp_mix: tests/progs/omp_mix.c
	@mkdir -p $(dir $@)
	$(CC) $(PROGS_CFLAGS) -fopenmp $< -o $@

$(PROGS_DIR)/librawfutex.so: tests/progs/librawfutex.c
	@mkdir -p $(dir $@)
	$(CC) $(PROGS_CFLAGS) -fPIC -shared $< -o $@

$(PROGS_DIR)/rawfutex: tests/progs/rawfutex.c $(PROGS_DIR)/librawfutex.so
	$(CC) $(PROGS_CFLAGS) $< -o $@ -L$(PROGS_DIR) -lrawfutex -Wl,-rpath,'$$ORIGIN'

# Conformance with glibc (tests/conform.bats): plain C programs, one source each.
PROGS_CONF := conf_stale conf_destroy conf_fair conf_async_cancel conf_cpuclock conf_sched conf_idle_ms conf_pshared_cancel conf_rt_order
PROGS_CONF += conf_stale_gen
PROGS_CONF += conf_rt_wake
PROGS_CONF += conf_rt_preempt
PROGS_CONF += conf_rt_eperm
PROGS_CONF += conf_timerslack
PROGS_CONF_BINS := $(PROGS_CONF:%=$(PROGS_DIR)/%)
PROGS += $(PROGS_CONF_BINS)

$(PROGS_CONF_BINS): $(PROGS_DIR)/%: tests/progs/%.c $(PROGS_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(PROGS_CFLAGS) $< -o $@

# An OpenMP program (tests/apps.bats): libgomp's threads, barriers, tasks.
PROGS += $(PROGS_DIR)/omp_kernels

$(PROGS_DIR)/omp_kernels: tests/progs/omp_kernels.c $(PROGS_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(PROGS_CFLAGS) -fopenmp $< -o $@

# Start-up order (tests/early.bats): libearly.so's constructor runs before
# libgoro's (a DT_NEEDED dependency is initialised before LD_PRELOAD objects).
$(PROGS_DIR)/libearly.so: tests/progs/early_lib.c
	@mkdir -p $(dir $@)
	$(CC) $(PROGS_CFLAGS) -fPIC -shared $< -o $@

$(PROGS_DIR)/early_ctor: tests/progs/early_ctor.c $(PROGS_DIR)/libearly.so
	$(CC) $(PROGS_CFLAGS) $< -o $@ -L$(PROGS_DIR) -learly -Wl,-rpath,'$$ORIGIN'
PROGS += $(PROGS_DIR)/libearly.so $(PROGS_DIR)/early_ctor

# Declared blocking calls (tests/blocking.bats): the vendor library, linked;
# its dlopen'ed caller (-z now: its GOT lies in RELRO; the program binds
# lazily); the program using both.
PROGS += $(PROGS_DIR)/libvendor.so $(PROGS_DIR)/libvendplug.so $(PROGS_DIR)/blocking $(PROGS_DIR)/blocking_nss $(PROGS_DIR)/blocking_stdio

$(PROGS_DIR)/blocking_nss $(PROGS_DIR)/blocking_stdio: $(PROGS_DIR)/%: tests/progs/%.c $(PROGS_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(PROGS_CFLAGS) $< -o $@

$(PROGS_DIR)/libvendor.so: tests/progs/libvendor.c
	@mkdir -p $(dir $@)
	$(CC) $(PROGS_CFLAGS) -fPIC -shared $< -o $@

$(PROGS_DIR)/libvendplug.so: tests/progs/libvendplug.c $(PROGS_DIR)/libvendor.so
	$(CC) $(PROGS_CFLAGS) -fPIC -shared $< -o $@ -L$(PROGS_DIR) -lvendor -Wl,-rpath,'$$ORIGIN' -Wl,-z,now,-z,relro

$(PROGS_DIR)/blocking: tests/progs/blocking.c $(PROGS_HDRS) $(PROGS_DIR)/libvendor.so $(PROGS_DIR)/libvendplug.so
	$(CC) $(PROGS_CFLAGS) $< -o $@ -L$(PROGS_DIR) -lvendor -Wl,-rpath,'$$ORIGIN' -ldl
