#ifndef SANDBOX_INIT_H
#define SANDBOX_INIT_H
#include <signal.h>
#include <stddef.h>
#include "plan.h"
#include "reaper.h"
/* Signals the monitor and init pass on to the program. */
extern const int forwarded[];
extern const size_t n_forwarded;
/* What a joined member's init gets when its monitor is gone: it ends its processes. */
#define SIG_MONITOR_GONE (SIGRTMIN + 1)
extern struct reaper init_reaper;
/* --join with a private pid namespace, the first member: see hold_pid_namespace (-1: not asked). */
extern int pidns_go_fd, pidns_done_fd;
/* execvpe with the plan's environment; exit 127 when not found, 126 when not executable. */
__attribute__((noreturn)) void exec_program(const struct plan *plan);
__attribute__((noreturn)) void run_init(const struct plan *plan);
#endif
